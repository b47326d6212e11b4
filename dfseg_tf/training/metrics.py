"""Dice scores of thresholded maps, as pure functions and as Keras metrics.

Two different averages, both over binary maps ``prediction > threshold`` against
masks ``truth > 0``, the rule ``dfseg_tf.evaluation`` scores with:

- batch-global Dice (:class:`DiceAtThreshold`): one Dice over all pixels seen,
  2|P and T| / (|P| + |T|); defined as 1 when both are empty. It is what the
  training loss optimises, thresholded.
- per-image Dice (:func:`per_image_dice`, :class:`MeanImageDice`): one Dice per
  image, averaged over images; an empty prediction on an empty mask scores 1
  (NVIDIA's convention, METHOD.md section 5), a non-empty prediction on an empty mask
  scores 0. This is the Dice the evaluation reports.
"""

import keras
from keras import ops

DEFAULT_THRESHOLD = 0.5


def _binary(values, threshold):
    return ops.cast(ops.cast(values, "float32") > threshold, "float32")


def per_image_dice(y_true, y_pred, *, threshold=DEFAULT_THRESHOLD):
    """Dice of each image of a batch (N, H, W[, C]) -> (N,), empty-on-empty = 1."""
    truth = _binary(y_true, 0.0)
    predicted = _binary(y_pred, threshold)
    axes = tuple(range(1, len(truth.shape)))
    intersection = ops.sum(truth * predicted, axis=axes)
    total = ops.sum(truth, axis=axes) + ops.sum(predicted, axis=axes)
    return ops.where(total > 0, 2.0 * intersection / ops.maximum(total, 1.0), 1.0)


def mean_image_dice_score(y_true, y_pred, *, threshold=DEFAULT_THRESHOLD):
    """Per-image Dice averaged over the images of the batch."""
    return ops.mean(per_image_dice(y_true, y_pred, threshold=threshold))


@keras.saving.register_keras_serializable(package="dfseg_tf")
class DiceAtThreshold(keras.metrics.Metric):
    """Batch-global Dice of ``y_pred > threshold``, accumulated over batches."""

    def __init__(self, threshold=DEFAULT_THRESHOLD, name="dice", dtype="float32", **kwargs):
        super().__init__(name=name, dtype=dtype, **kwargs)
        self.threshold = threshold
        self.intersection = self.add_variable(shape=(), initializer="zeros", name="intersection")
        self.total = self.add_variable(shape=(), initializer="zeros", name="total")

    def update_state(self, y_true, y_pred, sample_weight=None):
        truth = _binary(y_true, 0.0)
        predicted = _binary(y_pred, self.threshold)
        self.intersection.assign_add(ops.sum(truth * predicted))
        self.total.assign_add(ops.sum(truth) + ops.sum(predicted))

    def result(self):
        return ops.where(
            self.total > 0, 2.0 * self.intersection / ops.maximum(self.total, 1.0), 1.0
        )

    def get_config(self):
        return {**super().get_config(), "threshold": self.threshold}


@keras.saving.register_keras_serializable(package="dfseg_tf")
class MeanImageDice(keras.metrics.Metric):
    """Per-image Dice of ``y_pred > threshold`` averaged over all images seen."""

    def __init__(self, threshold=DEFAULT_THRESHOLD, name="image_dice", dtype="float32", **kwargs):
        super().__init__(name=name, dtype=dtype, **kwargs)
        self.threshold = threshold
        self.score_sum = self.add_variable(shape=(), initializer="zeros", name="score_sum")
        self.images = self.add_variable(shape=(), initializer="zeros", name="images")

    def update_state(self, y_true, y_pred, sample_weight=None):
        scores = per_image_dice(y_true, y_pred, threshold=self.threshold)
        self.score_sum.assign_add(ops.sum(scores))
        self.images.assign_add(ops.cast(ops.shape(scores)[0], "float32"))

    def result(self):
        return self.score_sum / ops.maximum(self.images, 1.0)

    def get_config(self):
        return {**super().get_config(), "threshold": self.threshold}
