"""A saved model and its card, applied to all the face crops of one input at once."""

import dataclasses
import pathlib

import keras
import numpy as np

from dfseg_tf.extraction.faces import crop_face
from dfseg_tf.models.card import CLASSIFIER, SEGMENTATION, ModelCard

# Faces per forward pass; bounds memory for inputs with many faces, and on CPU a
# batch of this size runs faster than one batch of all 32 frames' faces.
BATCH_SIZE = 16


class ModelLoadError(ValueError):
    """The model file or its card cannot be used; the message is one line naming the file."""


@dataclasses.dataclass
class FaceModel:
    """A loaded ``.keras`` model and the card saying what it outputs and its threshold."""

    model: keras.Model
    card: ModelCard
    path: pathlib.Path

    @classmethod
    def load(cls, path) -> "FaceModel":
        path = pathlib.Path(path)
        if not path.is_file():
            raise ModelLoadError(f"{path}: model file not found")
        try:
            card = ModelCard.load(path)
        except (FileNotFoundError, TypeError, ValueError) as error:
            raise ModelLoadError(f"{path}: unusable model card: {error}") from None
        if card.kind not in (SEGMENTATION, CLASSIFIER):
            raise ModelLoadError(
                f"{path}: model card kind {card.kind!r} is neither {SEGMENTATION!r} nor {CLASSIFIER!r}"
            )
        try:
            model = keras.saving.load_model(path, compile=False)
        except Exception as error:  # Keras raises many types for a bad file
            raise ModelLoadError(f"{path}: cannot load the model: {str(error).splitlines()[0]}") from None
        # Keras would XLA-compile predict ("auto"), once per batch shape: seconds on CPU for
        # every new number of faces, more than the whole forward pass it saves.
        model.jit_compile = False
        return cls(model, card, path)

    @property
    def is_segmentation(self) -> bool:
        return self.card.kind == SEGMENTATION

    def prepare(self, frame: np.ndarray, box) -> np.ndarray:
        """The face in ``box`` (source pixels) as the model's input: card.input_size, uint8 RGB,
        cut exactly as training examples are (``crop_face``)."""
        return crop_face(frame, box, self.card.input_size)

    def predict(self, crops: np.ndarray) -> np.ndarray:
        """Runs the model once over a batch of prepared crops.

        Args:
          crops: (N, S, S, 3) uint8 RGB, S = ``card.input_size``.

        Returns:
          (N, S, S) probability maps for a segmentation model, (N,) fake
          probabilities for a classifier.
        """
        images = crops.astype(np.float32) / 255.0  # every model takes [0, 1], like dfseg_tf.data
        outputs = self.model.predict(images, batch_size=BATCH_SIZE, verbose=0)
        outputs = np.asarray(outputs, dtype=np.float32)
        return outputs[..., 0] if self.is_segmentation else outputs.reshape(len(crops))
