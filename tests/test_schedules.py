"""The one-cycle schedule the main job trains the U-Nets with, against hand-computed rates."""

import math

import keras
import pytest

from dfseg_tf.training.schedules import one_cycle_cosine


def rate(schedule, step):
    return float(keras.ops.convert_to_numpy(schedule(step)))


def test_warms_up_from_a_tenth_of_the_peak_then_decays_to_zero_by_a_cosine():
    schedule = one_cycle_cosine(1e-3, total_steps=100)  # warm-up: the first 10 steps
    assert rate(schedule, 0) == pytest.approx(1e-4)
    assert rate(schedule, 5) == pytest.approx(1e-4 + 0.5 * (1e-3 - 1e-4))  # linear warm-up
    assert rate(schedule, 10) == pytest.approx(1e-3)
    # 45 of the 90 decay steps: half-way down the cosine, 1e-3 * (1 + cos(pi / 2)) / 2
    assert rate(schedule, 55) == pytest.approx(1e-3 * (1 + math.cos(math.pi / 2)) / 2)
    assert rate(schedule, 100) == pytest.approx(0, abs=1e-12)


def test_a_run_of_one_step_still_has_a_schedule():
    schedule = one_cycle_cosine(2e-3, total_steps=1)
    assert rate(schedule, 0) == pytest.approx(2e-4) and rate(schedule, 1) == pytest.approx(2e-3)
