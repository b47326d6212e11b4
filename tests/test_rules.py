"""The study's frame and video rules on maps small enough to count by hand."""

import numpy as np
import pytest

from dfseg_tf.evaluation import rules


def _map_with_block(rows, cols, value=0.9, *, size=30, background=0.0):
    prob_map = np.full((size, size), background, dtype=np.float32)
    prob_map[2 : 2 + rows, 2 : 2 + cols] = value
    return prob_map


def test_a_component_of_exactly_100_pixels_is_not_enough():
    assert not rules.frame_is_fake(_map_with_block(10, 10), 0.5)  # 100 pixels
    assert rules.frame_is_fake(_map_with_block(10, 11), 0.5)  # 110 pixels


def test_the_largest_component_counts_not_the_total():
    prob_map = np.zeros((30, 30), dtype=np.float32)
    prob_map[0:6, 0:10] = 0.9  # 60 pixels
    prob_map[20:26, 0:10] = 0.9  # 60 more, not touching
    assert rules.largest_component_pixels(prob_map > 0.5) == 60
    assert not rules.frame_is_fake(prob_map, 0.5)


def test_diagonal_neighbours_join_a_component():
    prob_map = _map_with_block(10, 10)  # rows and columns 2..11
    prob_map[12, 12] = 0.9  # touches the block's corner only
    assert rules.largest_component_pixels(prob_map > 0.5) == 101
    assert rules.frame_is_fake(prob_map, 0.5)


def test_pixels_equal_to_the_threshold_are_not_above_it():
    prob_map = _map_with_block(10, 11, value=0.5)
    assert not rules.frame_is_fake(prob_map, 0.5)
    assert rules.frame_is_fake(prob_map, 0.49)


def test_min_component_pixels_is_an_option():
    prob_map = _map_with_block(5, 5)  # 25 pixels
    assert rules.frame_is_fake(prob_map, 0.5, min_component_pixels=24)
    assert not rules.frame_is_fake(prob_map, 0.5, min_component_pixels=25)


def test_frame_score_is_the_highest_threshold_at_which_the_rule_fires():
    prob_map = _map_with_block(10, 11, value=0.7, background=0.1)  # 110 pixels at 0.7
    prob_map[3:8, 3:8] = 0.9  # 25 of them at 0.9: too few on their own
    assert rules.frame_score(prob_map) == pytest.approx(0.7)
    assert rules.frame_is_fake(prob_map, 0.69)
    assert not rules.frame_is_fake(prob_map, 0.7)


def test_frame_score_of_an_empty_prediction_is_its_flat_value():
    empty = np.zeros((30, 30), dtype=np.float32)
    assert rules.frame_score(empty) == 0.0
    assert not rules.frame_is_fake(empty, 0.05)


def test_a_map_too_small_for_any_component_never_fires():
    tiny = np.ones((10, 10), dtype=np.float32)  # 100 pixels in all
    assert rules.frame_score(tiny) == rules.NEVER_FAKE_SCORE
    assert not rules.frame_is_fake(tiny, 0.0)


def test_frame_score_agrees_with_the_rule_on_random_maps():
    generator = np.random.default_rng(0)
    for _ in range(5):
        noise = generator.random((64, 64)).astype(np.float32)
        # Smooth the noise so blobs of every size appear at some threshold.
        smooth = np.cumsum(np.cumsum(noise, axis=0), axis=1)
        smooth = (smooth[8:, 8:] - smooth[:-8, 8:] - smooth[8:, :-8] + smooth[:-8, :-8]) / 64
        smooth = (smooth - smooth.min()) / (smooth.max() - smooth.min())
        score = rules.frame_score(smooth)
        for threshold in np.linspace(0.0, 1.0, 41):
            assert rules.frame_is_fake(smooth, threshold) == (score > threshold)


def test_maps_with_a_channel_axis_are_accepted_and_other_shapes_refused():
    assert rules.frame_is_fake(_map_with_block(10, 11)[..., None], 0.5)
    with pytest.raises(ValueError, match=r"\(H, W\)"):
        rules.frame_score(np.zeros((2, 30, 30)))


def test_classifier_rule_is_strictly_above_the_threshold():
    assert not rules.classifier_is_fake(0.5)
    assert rules.classifier_is_fake(0.51)
    assert rules.classifier_is_fake(0.3, threshold=0.2)


@pytest.mark.parametrize(
    "flags, expected",
    [
        ([True], True),
        ([False], False),
        ([True, True, False], True),
        ([True, True, False, False], False),  # exactly half: real
        ([True, True, True, False], True),
    ],
)
def test_video_is_fake_needs_more_than_half(flags, expected):
    assert rules.video_is_fake(flags) is expected


def test_a_video_without_frames_has_no_verdict():
    with pytest.raises(ValueError, match="no frames"):
        rules.video_is_fake([])
    with pytest.raises(ValueError, match="no frames"):
        rules.video_score([])


def test_video_score_is_the_median_or_the_lower_middle():
    assert rules.video_score([0.2, 0.9, 0.6]) == 0.6
    assert rules.video_score([0.9, 0.1, 0.7, 0.4]) == 0.4


def test_video_score_agrees_with_the_video_rule():
    frame_scores = np.array([0.9, 0.1, 0.7, 0.4])
    score = rules.video_score(frame_scores)
    for threshold in (0.05, 0.3, 0.4, 0.5, 0.8, 0.95):
        assert rules.video_is_fake(frame_scores > threshold) == (score > threshold)
