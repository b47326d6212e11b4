"""Masks on hand-made arrays: blur, distance, threshold, the 100-pixel rule, resizing."""

import functools
import math

import cv2
import numpy as np
import pytest
import scipy.ndimage
import skimage.measure

from dfseg_tf.extraction.mask_kernels import large_components_resized, pixels_over_threshold
from dfseg_tf.extraction.masks import (
    MIN_NOISE_SAMPLES,
    NO_NOISE_MASK_THRESHOLD,
    blurred_distance,
    fill_enclosed_holes,
    manipulation_mask,
    noise_samples,
    threshold_from_noise,
)


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
    mask = manipulation_mask(real, fake, mask_threshold=25.0, size=120)
    assert mask[41:79, 41:79].all()
    assert abs(int(mask.sum()) - 40 * 40) <= 4 * 40  # the square, give or take its edge pixels
    assert not mask[:35].any() and not mask[85:].any()
    assert not manipulation_mask(real, fake, mask_threshold=50.0, size=120).any()
    assert manipulation_mask(real, fake, mask_threshold=49.0, size=120)[60, 60] == 1


def _keep_large_components(binary: np.ndarray, min_pixels: int) -> np.ndarray:
    """The component rule alone: a square ``binary`` "resized" to its own size is unchanged."""
    side = binary.shape[0]
    return large_components_resized(binary, 0, 0, side, side, min_pixels, side)


def test_99_pixel_speck_is_removed_and_100_pixel_blob_kept():
    binary = np.zeros((60, 60), np.uint8)
    binary[5:14, 5:16] = 1  # 9 x 11 = 99 pixels
    binary[30:40, 30:40] = 1  # 10 x 10 = 100 pixels
    kept = _keep_large_components(binary, 100)
    assert kept[5:14, 5:16].sum() == 0
    assert kept[30:40, 30:40].all()
    assert kept.sum() == 100


def test_components_are_eight_connected():
    binary = np.zeros((40, 40), np.uint8)
    binary[0:10, 0:5] = 1  # 50 pixels
    binary[10:20, 5:10] = 1  # 50 pixels touching the first only at a corner
    assert _keep_large_components(binary, 100).sum() == 100


def test_component_rule_applies_at_source_resolution_in_manipulation_mask():
    real = np.full((200, 200, 3), 90, np.uint8)
    fake = real.copy()
    fake[20:26, 20:26] = 250  # blurred, about 8 x 8 = 64 source pixels: a speck
    fake[100:160, 100:160] = 250
    mask = manipulation_mask(real, fake, mask_threshold=30.0, size=200)
    assert not mask[10:40, 10:40].any()
    assert mask[110:150, 110:150].all()


def test_mask_stays_binary_after_resize():
    real = np.random.default_rng(0).integers(0, 256, (333, 333, 3), dtype=np.uint8)
    fake = real.copy()
    fake[:, :166] = 255 - fake[:, :166]
    mask = manipulation_mask(real, fake, mask_threshold=20.0)
    assert mask.shape == (256, 256) and mask.dtype == np.uint8
    assert set(np.unique(mask).tolist()) == {0, 1}
    assert mask[:, :120].mean() > 0.95 and mask[:, 140:].mean() < 0.05


def test_mismatched_crops_are_rejected():
    with pytest.raises(ValueError, match="same shape"):
        blurred_distance(np.zeros((10, 10, 3), np.uint8), np.zeros((10, 12, 3), np.uint8))
    with pytest.raises(ValueError, match="uint8"):
        manipulation_mask(np.zeros((10, 10, 3), np.int32), np.zeros((10, 10, 3), np.int32), mask_threshold=30.0)
    with pytest.raises(ValueError, match="empty"):
        manipulation_mask(np.zeros((10, 0, 3), np.uint8), np.zeros((10, 0, 3), np.uint8), mask_threshold=30.0)
    with pytest.raises(ValueError, match="same shape"):
        noise_samples(np.zeros((10, 10, 3), np.uint8), np.zeros((12, 10, 3), np.uint8), (0, 0, 5, 5))


# ---------------------------------------------------------------- the fast path against the method, step by step


def _reference_distance(real: np.ndarray, fake: np.ndarray) -> np.ndarray:
    """METHOD.md 2 in plain float64 numpy: blur both crops with the 5x5 Gaussian (OpenCV's: binomial
    taps, borders reflected without repeating the edge), then the Euclidean RGB distance."""
    taps = np.array([1, 4, 6, 4, 1]) / 16
    kernel = np.outer(taps, taps)

    def blur(image):
        padded = np.pad(image.astype(np.float64), ((2, 2), (2, 2), (0, 0)), mode="reflect")
        height, width = image.shape[:2]
        return sum(kernel[i, j] * padded[i : i + height, j : j + width] for i in range(5) for j in range(5))

    return np.sqrt(((blur(real) - blur(fake)) ** 2).sum(axis=-1))


def _reference_components(binary: np.ndarray, min_pixels: int) -> np.ndarray:
    """The component rule by scikit-image: 8-connected components of at least ``min_pixels``."""
    labels = skimage.measure.label(binary, connectivity=2)
    large = np.bincount(labels.ravel()) >= min_pixels
    large[0] = False  # the background
    return large[labels].astype(np.uint8)


def _reference_mask(real, fake, mask_threshold, min_pixels, size):
    distance = _reference_distance(real, fake)
    kept = _reference_components(distance > mask_threshold, min_pixels)
    near_threshold = (np.abs(distance - mask_threshold) < 1e-3).astype(np.uint8)  # float rounding may go either way
    resize = functools.partial(cv2.resize, dsize=(size, size), interpolation=cv2.INTER_NEAREST)
    return resize(kept), resize(near_threshold).astype(bool)


def _noisy_pair(rng, shape):
    """A textured crop and its 're-encoded' copy: small noise everywhere, like two H.264 encodings."""
    real = cv2.GaussianBlur(rng.integers(0, 256, (*shape, 3), dtype=np.uint8), (9, 9), 0)
    noise = rng.normal(0, 4, (*shape, 3))
    fake = np.clip(real + noise, 0, 255).astype(np.uint8)
    return real, fake


def _structured_pairs(mask_threshold):
    """Crops a person can picture: a grey shift just above the threshold (where the fast path's
    bound is tightest), a lone blob of a little over 100 pixels, a partial change, specks either side of 100 pixels, a change touching
    the crop's edges, an unchanged re-encode, a whole-face change, uniform random noise."""
    real = np.full((120, 120, 3), 100, np.uint8)
    fake = real.copy()
    fake[30:90, 30:90] += np.uint8(math.floor(mask_threshold / math.sqrt(3)) + 1)  # same in R, G and B
    yield "grey shift", real, fake
    fake = real.copy()
    fake[50:62, 50:62, 0] += np.uint8(2 * mask_threshold)  # in red only: about 144 pixels above the threshold
    yield "lone blob", real, fake
    rng = np.random.default_rng(7)
    real, fake = _noisy_pair(rng, (180, 200))
    fake[100:140, 60:130] = np.clip(fake[100:140, 60:130] + np.array([40, -35, 20]), 0, 255)  # a mouth
    fake[20:29, 20:31] = 255 - fake[20:29, 20:31]  # a 99-pixel speck
    fake[20:30, 150:160] = 255 - fake[20:30, 150:160]  # a 100-pixel blob
    yield "partial and specks", real, fake
    real, fake = _noisy_pair(rng, (150, 150))
    fake[:40, :] = np.clip(fake[:40, :].astype(int) + 50, 0, 255)  # along the top edge and both sides
    fake[120:, 140:] = 0  # a corner
    yield "edges", real, fake
    yield "unchanged", *_noisy_pair(rng, (160, 160))
    real, fake = _noisy_pair(rng, (160, 140))
    fake[10:150, 10:130] = rng.integers(0, 256, (140, 120, 3), dtype=np.uint8)
    yield "whole", real, fake
    yield "uniform noise", rng.integers(0, 256, (97, 131, 3), dtype=np.uint8), rng.integers(0, 256, (97, 131, 3), dtype=np.uint8)


def test_opencv_5x5_gaussian_is_the_binomial_kernel_of_the_reference():
    assert np.array_equal(cv2.getGaussianKernel(5, 0).ravel(), np.array([1, 4, 6, 4, 1]) / 16)


@pytest.mark.parametrize("mask_threshold", [5.0, 15.0, 30.0, 60.0])
def test_fast_mask_equals_the_plain_method_on_random_and_structured_crops(mask_threshold):
    checked_pixels = 0
    for name, real, fake in _structured_pairs(mask_threshold):
        size = max(real.shape[:2])  # no pixel of the source lost to the resize
        fast = manipulation_mask(real, fake, mask_threshold=mask_threshold, size=size)
        reference, near_threshold = _reference_mask(real, fake, mask_threshold, 100, size)
        differs = fast != reference
        assert not (differs & ~near_threshold).any(), f"{name}: {int(differs.sum())} pixels differ"
        checked_pixels += int(reference.sum())
    assert checked_pixels > 5_000  # the crops do exercise the rule, not only empty masks


# ---------------------------------------------------------------- each compiled pass against OpenCV


@pytest.mark.parametrize("shape", [(1, 1), (1, 6), (2, 2), (3, 7), (5, 5), (64, 65), (97, 131), (200, 129)])
def test_pixels_over_threshold_is_the_thresholded_opencv_distance(shape):
    rng = np.random.default_rng(sum(shape))
    frame_real = cv2.GaussianBlur(rng.integers(0, 256, (240, 260, 3), dtype=np.uint8), (7, 7), 0)
    frame_fake = np.clip(frame_real + rng.normal(0, 40, frame_real.shape), 0, 255).astype(np.uint8)
    frame_fake[100:150, 90:200] = 255 - frame_fake[100:150, 90:200]
    box = np.s_[7 : 7 + shape[0], 11 : 11 + shape[1]]  # views of the frames, as extraction passes them
    real, fake = frame_real[box], frame_fake[box]
    for mask_threshold in (5.0, 30.0, 60.0):
        distance = blurred_distance(real, fake)
        over, count, x0, y0, x1, y1 = pixels_over_threshold(
            real.reshape(shape[0], -1), fake.reshape(shape[0], -1), mask_threshold
        )
        expected = distance > mask_threshold
        differs = over.astype(bool) != expected
        assert not (differs & (np.abs(distance - mask_threshold) > 1e-3)).any()
        assert count == over.sum()
        if count:
            ys, xs = np.nonzero(over)
            assert (x0, y0, x1, y1) == (xs.min(), ys.min(), xs.max() + 1, ys.max() + 1)
        else:
            assert x1 <= x0 and y1 <= y0


def test_rows_the_bound_skips_hold_no_pixel_over_the_threshold():
    """A change just over the threshold in a band of rows of a tall crop, noise elsewhere: the
    bound skips the quiet rows and must not lose the changed band's pixels."""
    rng = np.random.default_rng(3)
    real, fake = _noisy_pair(rng, (300, 40))
    fake[200:240, 10:30] = np.clip(fake[200:240, 10:30].astype(int) + 18, 0, 255)  # 31 in distance
    distance = blurred_distance(real, fake)
    over, *_ = pixels_over_threshold(real.reshape(300, -1), fake.reshape(300, -1), 30.0)
    assert np.array_equal(over.astype(bool), distance > 30.0)
    assert over[200:240].sum() > 300 and not over[:150].any()


@pytest.mark.parametrize("source_shape", [(790, 790), (265, 301), (256, 256), (100, 37), (3, 500)])
def test_resize_picks_the_pixels_opencv_nearest_picks(source_shape):
    binary = np.random.default_rng(0).integers(0, 2, source_shape, dtype=np.uint8)
    height, width = source_shape
    for size in (256, 64, 1000):
        resized = large_components_resized(binary, 0, 0, width, height, 1, size)  # every component kept
        assert np.array_equal(resized, cv2.resize(binary, (size, size), interpolation=cv2.INTER_NEAREST))


@pytest.mark.parametrize("density", [0.2, 0.45, 0.6])
def test_components_match_scikit_image_labelling(density):
    """Random pixels make components of every shape, with many merges of labels in the scan."""
    rng = np.random.default_rng(int(density * 100))
    inside = np.zeros((150, 150), np.uint8)
    inside[30:150, 20:140] = rng.random((120, 120)) < density
    box = (20, 30, 140, 150)  # x0, y0, x1, y1 around every set pixel
    for min_pixels in (1, 5, 40):
        expected = _reference_components(inside, min_pixels)
        assert np.array_equal(large_components_resized(inside, *box, min_pixels, 150), expected)


@pytest.mark.parametrize("shape, box", [((120, 160), (40, 30, 100, 90)), ((64, 96), (20, 0, 84, 64)), ((4, 50), (0, 0, 1, 1))])
def test_noise_samples_are_the_opencv_distance_on_a_grid_outside_the_box(shape, box):
    """Exact at every grid point outside the box (shapes compared too); a 4-row frame has no point."""
    rng = np.random.default_rng(5)
    real, fake = _noisy_pair(rng, shape)
    fake[10:30, 10:50] = 255 - fake[10:30, 10:50]  # far above any noise (outside the frame in the 4-row one)
    distance = blurred_distance(real, fake)
    for samples in (50, 500, 10**6):
        step = max(1, math.isqrt(shape[0] * shape[1] // samples))
        ys, xs = np.mgrid[2 : shape[0] - 2 : step, 2 : shape[1] - 2 : step]
        x0, y0, x1, y1 = box
        outside = ~((ys >= y0) & (ys < y1) & (xs >= x0) & (xs < x1))
        got = noise_samples(real, fake, box, samples=samples)
        np.testing.assert_allclose(got, distance[ys[outside], xs[outside]], atol=1e-4)


def test_mask_threshold_is_the_noise_quantile_with_a_floor_and_a_fallback():
    noise = np.arange(1000, dtype=np.float32) / 10  # 0.0 ... 99.9
    assert threshold_from_noise(noise, quantile=0.99, floor=4.0) == pytest.approx(np.quantile(noise, 0.99))
    assert threshold_from_noise(noise / 100, quantile=0.99, floor=4.0) == 4.0  # quiet video: the floor
    assert threshold_from_noise(noise[:MIN_NOISE_SAMPLES - 1]) == NO_NOISE_MASK_THRESHOLD


def test_holes_enclosed_by_a_component_are_filled_and_open_bays_are_not():
    mask = np.zeros((40, 40), np.uint8)
    mask[5:25, 5:25] = 1
    mask[10:20, 10:20] = 0  # a hole
    mask[30:40, 30:38] = 1
    mask[33:40, 32:36] = 0  # a bay open to the border
    filled = fill_enclosed_holes(mask)
    assert filled[10:20, 10:20].all() and not filled[33:40, 32:36].any()
    ring = np.zeros((9, 9), np.uint8)
    ring[[1, 1, 2, 3, 4, 5, 5, 4, 3, 2], [3, 4, 5, 5, 5, 4, 3, 2, 1, 2]] = 1  # closed by diagonal steps only
    assert fill_enclosed_holes(ring)[3, 3] == 1  # 8-connected ring, 4-connected inside


@pytest.mark.parametrize("density", [0.3, 0.55, 0.7])
def test_hole_filling_matches_scipy(density):
    mask = (np.random.default_rng(int(density * 10)).random((120, 90)) < density).astype(np.uint8)
    assert np.array_equal(fill_enclosed_holes(mask), scipy.ndimage.binary_fill_holes(mask).astype(np.uint8))


def test_manipulation_mask_fills_the_inside_of_a_changed_ring_when_asked():
    real = np.full((120, 120, 3), 100, np.uint8)
    fake = real.copy()
    fake[20:100, 20:100] = 180
    fake[40:80, 40:80] = 100  # unchanged inside, as where a swapped face's colours match
    plain = manipulation_mask(real, fake, mask_threshold=20.0, size=120)
    filled = manipulation_mask(real, fake, mask_threshold=20.0, size=120, fill_holes=True)
    assert not plain[55:65, 55:65].any() and filled[40:80, 40:80].all()
    assert np.array_equal(filled[:18], plain[:18])
