"""A saved ``.keras`` model with its card, or a one-line error naming the file.

Evaluation, the threshold search and ``dfseg predict`` all load models through
``load_model``, so a bad file reads the same whichever of them meets it.
"""

import pathlib
import zipfile

import keras

from dfseg_tf.errors import first_line
from dfseg_tf.models.card import CLASSIFIER, INPUT_CONTRACT, SEGMENTATION, ModelCard


class ModelLoadError(ValueError):
    """The model file or its card cannot be used; the message is one line naming the file."""


def load_model(model_path) -> tuple[keras.Model, ModelCard]:
    """The model at ``model_path`` (loaded without its training state) and its card.

    Raises:
      ModelLoadError: the model file is missing, not a complete ``.keras`` archive
        (truncated, say by a kill while it was written) or not a Keras model, or its card
        is missing, not JSON, has unknown fields or an unknown kind, or says the model
        takes pixels scaled outside it (the contract before 0.2).
    """
    model_path = pathlib.Path(model_path)
    if not model_path.is_file():
        raise ModelLoadError(f"{model_path}: model file not found")
    card = _load_card(model_path)
    if not zipfile.is_zipfile(model_path):  # Keras would call it "File not found"
        raise ModelLoadError(
            f"{model_path}: not a readable Keras model: not a complete .keras zip archive "
            f"({model_path.stat().st_size} bytes; truncated, or not written by Keras)"
        )
    try:
        model = keras.saving.load_model(model_path, compile=False)
    except Exception as error:  # Keras raises many types for a bad file (zip, config, weights)
        raise ModelLoadError(f"{model_path}: not a loadable Keras model: {first_line(error)}") from None
    return model, card


def _load_card(model_path: pathlib.Path) -> ModelCard:
    card_path = ModelCard.path_for(model_path)
    try:
        card = ModelCard.load(model_path)
    except FileNotFoundError as error:  # its message names the card and says where cards come from
        raise ModelLoadError(str(error)) from None
    except (TypeError, ValueError) as error:  # not JSON, or fields ModelCard does not have
        raise ModelLoadError(f"{card_path}: unusable model card: {first_line(error)}") from None
    if card.kind not in (SEGMENTATION, CLASSIFIER):
        raise ModelLoadError(
            f"{card_path}: model card kind {card.kind!r} is neither {SEGMENTATION!r} nor {CLASSIFIER!r}"
        )
    if card.input_contract != INPUT_CONTRACT:
        raise ModelLoadError(
            f"{model_path}: saved by dfseg_tf < 0.2, whose models took pixels scaled to [0, 1] "
            "outside the model; retrain it with this version (models now take the uint8 face crop)"
        )
    return card
