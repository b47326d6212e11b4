"""A saved model and its card, applied to all the face crops of one input at once."""

import dataclasses
import pathlib

import keras
import numpy as np

from dfseg_tf.extraction.faces import crop_face
from dfseg_tf.models.card import SEGMENTATION, ModelCard
from dfseg_tf.models.saved import load_model

# Faces per forward pass; bounds memory for inputs with many faces, and on CPU a
# batch of this size runs faster than one batch of all 32 frames' faces.
BATCH_SIZE = 16


@dataclasses.dataclass
class FaceModel:
    """A loaded ``.keras`` model and the card saying what it outputs and its decision threshold."""

    model: keras.Model
    card: ModelCard
    path: pathlib.Path

    @classmethod
    def load(cls, path) -> "FaceModel":
        model, card = load_model(path)  # ModelLoadError: one line naming the file
        # Keras would XLA-compile predict ("auto"), once per batch shape: seconds on CPU for
        # every new number of faces, more than the whole forward pass it saves.
        model.jit_compile = False
        return cls(model, card, pathlib.Path(path))

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
        outputs = self.model.predict(crops, batch_size=BATCH_SIZE, verbose=0)
        outputs = np.asarray(outputs, dtype=np.float32)
        return outputs[..., 0] if self.is_segmentation else outputs.reshape(len(crops))
