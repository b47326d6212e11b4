"""A model's card: the JSON file beside a saved ``.keras`` model.

Training writes it, ``experiments.search_threshold`` updates its decision threshold,
and evaluation and ``dfseg predict`` read it, so a model file carries everything needed
to apply the study's frame and video rules to it.
"""

import dataclasses
import json
import pathlib

from dfseg_tf.files import replace_atomically
from dfseg_tf.method import DEFAULT_DECISION_THRESHOLD

SEGMENTATION = "segmentation"
CLASSIFIER = "classifier"

# What every model takes since 0.2: the face crop exactly as the records store it, uint8 RGB
# of FACE_SIZE x FACE_SIZE; scaling (and resizing, for the classifiers) happens inside the model.
# Models of the earlier contract took float32 in [0, 1] scaled outside, and their cards lack it.
INPUT_CONTRACT = "uint8 RGB face crop, scaled inside the model"

# Keys of cards written before the decision threshold had its own name (issue 17), and the
# fields they load into; cards are written with the new keys only.
_OLD_KEYS = {"threshold": "decision_threshold", "threshold_source": "decision_threshold_source"}


@dataclasses.dataclass
class ModelCard:
    """What a saved model is and how to apply it.

    Attributes:
      kind: ``"segmentation"`` (outputs a per-pixel map) or ``"classifier"``
        (outputs one fake probability per face).
      architecture: ``unet``, ``unet_v1``, ``xception`` or ``efficientnet_b7``.
      input_size: side of the square uint8 face crop the model takes (the records' 256).
      input_contract: ``INPUT_CONTRACT`` for models that scale their own pixels; cards
        written before 0.2 lack it and load as empty, which ``load_model`` refuses.
      decision_threshold: the frame rule's decision threshold t (a probability; not
        the masks' ``mask_threshold``); 0.5 until a search on the validation split sets it.
      decision_threshold_source: where ``decision_threshold`` came from (``default`` or
        the validation split it was searched on).
      trained_on: the TFDS name the model was trained on, e.g. ``dfdc_masks/synthetic``.
      weights: ``scratch`` or the path of the local weights file the backbone started from.
    """

    kind: str
    architecture: str
    input_size: int
    decision_threshold: float = DEFAULT_DECISION_THRESHOLD
    decision_threshold_source: str = "default"
    trained_on: str = ""
    weights: str = "scratch"
    input_contract: str = INPUT_CONTRACT

    @staticmethod
    def path_for(model_path) -> pathlib.Path:
        model_path = pathlib.Path(model_path)
        return model_path.with_name(model_path.name + ".json")

    def save(self, model_path) -> pathlib.Path:
        """Writes the card beside ``model_path``, replacing any card there whole (never half)."""
        text = json.dumps(dataclasses.asdict(self), indent=2) + "\n"
        return replace_atomically(self.path_for(model_path), lambda partial: partial.write_text(text))

    @classmethod
    def load(cls, model_path) -> "ModelCard":
        """The card beside ``model_path``; one written with the old keys ``threshold`` and
        ``threshold_source`` loads into ``decision_threshold`` and ``decision_threshold_source``."""
        card_path = cls.path_for(model_path)
        if not card_path.exists():
            raise FileNotFoundError(
                f"{card_path}: model card missing; models saved by experiments.train_unet or "
                "experiments.train_classifier have one beside the .keras file"
            )
        fields = json.loads(card_path.read_text())
        for old, new in _OLD_KEYS.items():  # a card written before issue 17
            if old in fields:
                fields.setdefault(new, fields.pop(old))
        fields.setdefault("input_contract", "")  # a card of the contract before 0.2
        return cls(**fields)
