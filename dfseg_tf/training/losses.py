"""The study's segmentation loss: binary cross-entropy minus ln(soft Dice).

The soft Dice is batch-global: its sums run over every pixel of every image in the
batch, with a smoothing of 1 in numerator and denominator. A batch of real faces
(all-zero masks) therefore has a defined loss: an all-zero prediction gives Dice
(0 + 1) / (0 + 0 + 1) = 1 and ln(Dice) = 0.

The loss is computed in float32 whatever the dtype policy. The cross-entropy is
Keras' own (``keras.losses.binary_crossentropy``): it clips probabilities to
[1e-7, 1 - 1e-7] before the logarithms, except under the TensorFlow backend on a
Keras sigmoid's output, where it takes the logits behind it and computes the exact
``sigmoid_cross_entropy_with_logits`` (a confident wrong pixel then costs its full
logit, not a capped 16.1). The Dice needs no clipping: the
smoothing keeps it defined.
"""

import keras
from keras import ops

SMOOTHING = 1.0


def soft_dice(y_true, y_pred, *, smoothing=SMOOTHING):
    """(2 * sum(y * p) + s) / (sum(y) + sum(p) + s) over the whole batch, float32."""
    y_true = ops.cast(y_true, "float32")
    y_pred = ops.cast(y_pred, "float32")
    intersection = ops.sum(y_true * y_pred)
    return (2.0 * intersection + smoothing) / (ops.sum(y_true) + ops.sum(y_pred) + smoothing)


def bce_minus_log_dice(y_true, y_pred, *, smoothing=SMOOTHING):
    """Mean pixel binary cross-entropy minus ln(batch-global soft Dice): a scalar."""
    y_pred = ops.cast(y_pred, "float32")
    bce = ops.mean(keras.losses.binary_crossentropy(y_true, y_pred))
    return bce - ops.log(soft_dice(y_true, y_pred, smoothing=smoothing))


@keras.saving.register_keras_serializable(package="dfseg_tf")
class BceMinusLogDice(keras.losses.Loss):
    """Keras loss wrapper of :func:`bce_minus_log_dice` (one value per batch).

    Under a distribution strategy each replica computes the Dice over its own part
    of the batch.
    """

    def __init__(self, smoothing=SMOOTHING, name="bce_minus_log_dice", dtype="float32", **kwargs):
        super().__init__(name=name, dtype=dtype, **kwargs)
        self.smoothing = smoothing

    def call(self, y_true, y_pred):
        return bce_minus_log_dice(y_true, y_pred, smoothing=self.smoothing)

    def get_config(self):
        return {**super().get_config(), "smoothing": self.smoothing}
