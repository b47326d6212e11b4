"""BCE - ln(Dice) and the Dice metrics on arrays small enough to check by hand."""

import math

import keras
import numpy as np
import pytest

from dfseg_tf.evaluation.scores import thresholded_dice
from dfseg_tf.training.losses import BceMinusLogDice, bce_minus_log_dice, soft_dice
from dfseg_tf.training.metrics import (
    DiceAtThreshold,
    MeanImageDice,
    mean_image_dice_score,
    per_image_dice,
)


def as_batch(*images):
    """2-D lists -> (N, H, W, 1) float32."""
    return np.array(images, np.float32)[..., np.newaxis]


def value(tensor):
    return float(keras.ops.convert_to_numpy(tensor))


TRUTH = as_batch([[1, 0], [0, 0]])
PREDICTION = as_batch([[0.8, 0.2], [0.1, 0.1]])


def test_loss_of_one_image_by_hand():
    bce = -(math.log(0.8) + math.log(0.8) + math.log(0.9) + math.log(0.9)) / 4
    dice = (2 * 0.8 + 1) / (1 + 1.2 + 1)
    assert value(soft_dice(TRUTH, PREDICTION)) == pytest.approx(dice)
    assert value(bce_minus_log_dice(TRUTH, PREDICTION)) == pytest.approx(bce - math.log(dice), rel=1e-6)


def test_all_real_batch_is_defined():
    truth = as_batch([[0, 0], [0, 0]], [[0, 0], [0, 0]])
    # p = 0.5 everywhere: BCE = ln 2; Dice = (0 + 1) / (0 + 8 * 0.5 + 1) = 1/5.
    halves = np.full_like(truth, 0.5)
    assert value(bce_minus_log_dice(truth, halves)) == pytest.approx(math.log(2) + math.log(5), rel=1e-6)
    # A perfect all-zero prediction costs (almost) nothing: Dice = 1/1, BCE = -ln(1 - 1e-7).
    assert value(bce_minus_log_dice(truth, np.zeros_like(truth))) == pytest.approx(0.0, abs=1e-5)


def test_dice_is_batch_global_not_a_mean_over_images():
    truth = as_batch([[1, 1], [0, 0]], [[0, 0], [0, 0]])
    prediction = as_batch([[1, 1], [0, 0]], [[1, 0], [0, 0]])
    # Over the batch: (2 * 2 + 1) / (2 + 3 + 1) = 5/6; per image it would be mean(5/5, 1/2).
    assert value(soft_dice(truth, prediction)) == pytest.approx(5 / 6)


def test_float16_saturated_predictions_give_a_finite_float32_loss():
    truth = as_batch([[1, 0], [0, 1]])
    prediction = keras.ops.cast(as_batch([[0, 1], [1, 0]]), "float16")
    loss = bce_minus_log_dice(truth, prediction)
    assert keras.backend.standardize_dtype(loss.dtype) == "float32"
    # The cross-entropy clips to [1e-7, 1 - 1e-7], where 1 - 1e-7 rounds to float32 `upper`:
    # BCE = mean(-ln(1e-7), -ln(1 - upper)); the Dice is unclipped: (0 + 1) / (2 + 2 + 1).
    upper = float(np.float32(1 - 1e-7))
    bce = (-math.log(1e-7) - math.log(1 - upper)) / 2
    expected = bce - math.log(1 / 5)
    assert value(loss) == pytest.approx(expected, rel=1e-4)


@pytest.mark.skipif(keras.backend.backend() != "tensorflow", reason="the logits shortcut is TensorFlow's")
def test_a_confident_wrong_pixel_costs_its_whole_logit_behind_a_keras_sigmoid():
    # One pixel, truth 0, logit 100: exact BCE = ln(1 + e^100) = 100 (not the clipped 16.1);
    # Dice = (0 + 1) / (0 + 1 + 1), so the loss is 100 + ln 2.
    sigmoid_output = keras.activations.sigmoid(keras.ops.convert_to_tensor(as_batch([[100.0]])))
    loss = bce_minus_log_dice(as_batch([[0.0]]), sigmoid_output)
    assert value(loss) == pytest.approx(100 + math.log(2), rel=1e-6)


def test_keras_loss_class_matches_the_function_and_serialises():
    loss = BceMinusLogDice()
    assert value(loss(TRUTH, PREDICTION)) == pytest.approx(value(bce_minus_log_dice(TRUTH, PREDICTION)))
    restored = keras.losses.deserialize(keras.losses.serialize(BceMinusLogDice(smoothing=2.0)))
    assert isinstance(restored, BceMinusLogDice) and restored.smoothing == 2.0


def test_per_image_dice_policy_for_empty_masks():
    truth = as_batch([[0, 0], [0, 0]], [[0, 0], [0, 0]], [[1, 1], [0, 0]], [[1, 0], [0, 0]])
    prediction = as_batch([[0.2, 0], [0, 0]], [[0.9, 0], [0, 0]], [[0.7, 0.4], [0.6, 0]], [[0, 0], [0, 0]])
    # empty on empty = 1; a false positive on an empty mask = 0; 2*1/(2+2) = 0.5; a miss = 0.
    scores = keras.ops.convert_to_numpy(per_image_dice(truth, prediction))
    np.testing.assert_allclose(scores, [1.0, 0.0, 0.5, 0.0])
    assert value(mean_image_dice_score(truth, prediction)) == pytest.approx(0.375)
    assert value(mean_image_dice_score(truth, prediction, threshold=0.65)) == pytest.approx(
        (1 + 0 + 2 * 1 / 3 + 0) / 4
    )


def test_metrics_accumulate_over_batches_and_reset():
    dice, image_dice = DiceAtThreshold(), MeanImageDice()
    batches = [
        (as_batch([[1, 1], [0, 0]]), as_batch([[0.9, 0.1], [0, 0]])),
        (as_batch([[0, 0], [0, 0]], [[1, 0], [0, 0]]), as_batch([[0, 0], [0, 0]], [[0.6, 0.7], [0, 0]])),
    ]
    for truth, prediction in batches:
        dice.update_state(truth, prediction)
        image_dice.update_state(truth, prediction)
    # Global: intersection 1 + 1, |T| + |P| = (2 + 1) + (0 + 0) + (1 + 2) -> 4 / 6.
    assert value(dice.result()) == pytest.approx(4 / 6)
    # Per image: 2/3, 1 (empty on empty), 2/3 -> mean 7/9.
    assert value(image_dice.result()) == pytest.approx(7 / 9)
    dice.reset_state()
    assert value(dice.result()) == 1.0  # nothing seen: empty on empty


def test_training_dice_thresholds_like_the_evaluation():
    # A pixel exactly at t is not predicted by either; masks count any non-zero pixel.
    truth = as_batch([[1, 1], [0, 0]], [[255, 0], [0, 0]])
    prediction = as_batch([[0.5, 0.9], [0, 0]], [[0.5, 0.5], [0, 0]])
    scores = keras.ops.convert_to_numpy(per_image_dice(truth, prediction, threshold=0.5))
    expected = [thresholded_dice(p[..., 0], t[..., 0], 0.5) for p, t in zip(prediction, truth)]
    np.testing.assert_allclose(scores, expected)
    np.testing.assert_allclose(scores, [2 / 3, 0.0])
