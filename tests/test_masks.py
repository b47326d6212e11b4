"""Masks on hand-made arrays: blur, distance, threshold, the 100-pixel rule, resizing."""

import numpy as np
import pytest

from dfseg_tf.extraction.masks import blurred_distance, keep_large_components, manipulation_mask


def _pair(shape=(120, 120), square=(40, 80), shift=(30, 40, 0)):
    """A flat grey crop and a copy whose central square is shifted by ``shift`` in RGB."""
    real = np.full((*shape, 3), 100, np.uint8)
    fake = real.copy()
    low, high = square
    fake[low:high, low:high] += np.asarray(shift, np.uint8)
    return real, fake


def test_blurred_distance_is_euclidean_rgb_distance_after_blur():
    real, fake = _pair()
    distance = blurred_distance(real, fake)
    assert distance.dtype == np.float32 and distance.shape == (120, 120)
    assert distance[60, 60] == pytest.approx(50.0)  # sqrt(30^2 + 40^2), far from the edges
    assert distance[5, 5] == 0.0
    assert 0 < distance[60, 40] < 50  # the 5x5 blur softens the edge
    assert distance[60, 37] == 0.0  # ...over two pixels only


def test_threshold_is_strict_and_recovers_the_changed_square():
    real, fake = _pair()
    mask = manipulation_mask(real, fake, threshold=25.0, size=120)
    assert mask[41:79, 41:79].all()
    assert abs(int(mask.sum()) - 40 * 40) <= 4 * 40  # the square, give or take its edge pixels
    assert not mask[:35].any() and not mask[85:].any()
    assert not manipulation_mask(real, fake, threshold=50.0, size=120).any()
    assert manipulation_mask(real, fake, threshold=49.0, size=120)[60, 60] == 1


def test_99_pixel_speck_is_removed_and_100_pixel_blob_kept():
    binary = np.zeros((60, 60), np.uint8)
    binary[5:14, 5:16] = 1  # 9 x 11 = 99 pixels
    binary[30:40, 30:40] = 1  # 10 x 10 = 100 pixels
    kept = keep_large_components(binary, 100)
    assert kept[5:14, 5:16].sum() == 0
    assert kept[30:40, 30:40].all()
    assert kept.sum() == 100


def test_components_are_eight_connected():
    binary = np.zeros((40, 40), np.uint8)
    binary[0:10, 0:5] = 1  # 50 pixels
    binary[10:20, 5:10] = 1  # 50 pixels touching the first only at a corner
    assert keep_large_components(binary, 100).sum() == 100


def test_component_rule_applies_at_source_resolution_in_manipulation_mask():
    real = np.full((200, 200, 3), 90, np.uint8)
    fake = real.copy()
    fake[20:26, 20:26] = 250  # blurred, about 8 x 8 = 64 source pixels: a speck
    fake[100:160, 100:160] = 250
    mask = manipulation_mask(real, fake, threshold=30.0, size=200)
    assert not mask[10:40, 10:40].any()
    assert mask[110:150, 110:150].all()


def test_mask_stays_binary_after_resize():
    real = np.random.default_rng(0).integers(0, 256, (333, 333, 3), dtype=np.uint8)
    fake = real.copy()
    fake[:, :166] = 255 - fake[:, :166]
    mask = manipulation_mask(real, fake, threshold=20.0)
    assert mask.shape == (256, 256) and mask.dtype == np.uint8
    assert set(np.unique(mask).tolist()) == {0, 1}
    assert mask[:, :120].mean() > 0.95 and mask[:, 140:].mean() < 0.05


def test_mismatched_crops_are_rejected():
    with pytest.raises(ValueError, match="same shape"):
        blurred_distance(np.zeros((10, 10, 3), np.uint8), np.zeros((10, 12, 3), np.uint8))
