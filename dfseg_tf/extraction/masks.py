"""Binary manipulation masks from a fake face crop and the same crop of its original (METHOD.md 2)."""

import math

import cv2
import numpy as np

from dfseg_tf.method import COMPONENT_PIXELS, FACE_SIZE

# How the mask threshold (a blurred RGB distance, 0-255 units) is set when none is fixed:
# from the pair's own codec noise, the distance exceeded by only 0.5% of the pixels away
# from the face box, but at least 4. Chosen by measurement (docs/METHOD.md, section 2,
# "Mask threshold and holes"): on the official FF++/DFD example frames encoded at CRF 23
# it gives IoU with the official masks of 0.78 (Deepfakes), 0.62 (DFD), 0.44
# (NeuralTextures), and on the lossy NeuralTextures 004_982 pair it rises to about 29,
# where a fixed 5 flags 41% of the pixels away from the face. The floor guards flat
# backgrounds, whose noise is lower than a textured face's.
NOISE_QUANTILE = 0.995
MASK_THRESHOLD_FLOOR = 4.0
# Points of the grid sampled away from the face box, per frame: enough that the pooled
# samples of a video's frames pin the 99.5th percentile, few enough to cost a small part
# of decoding the frames (experiments/bench_masks.py).
NOISE_SAMPLES_PER_FRAME = 2048
# Below this many samples (a face box filling the frame) the noise is unknown and the
# threshold falls back to a fixed value above the rule's result on every measured c23
# pair but the very lossy one.
MIN_NOISE_SAMPLES = 256
NO_NOISE_MASK_THRESHOLD = 10.0

BLUR_KERNEL = (5, 5)
_CHANNELS = 3
_SUM_OF_CHANNELS = np.ones((1, _CHANNELS), np.float32)


def blurred_distance(real: np.ndarray, fake: np.ndarray) -> np.ndarray:
    """Per-pixel Euclidean distance between the RGB vectors of the two images after a 5x5 Gaussian blur.

    The blur averages out compression noise, which differs between two separately
    encoded videos even where their content is the same.

    Returns:
      (H, W) float32.
    """
    _check_crops(real, fake)
    # The blur is linear, so blurring the difference once equals the difference of the two
    # blurred crops. Squaring and the root work in place: fresh multi-megabyte buffers cost
    # page faults that outweigh the arithmetic.
    difference = cv2.GaussianBlur(cv2.subtract(real, fake, dtype=cv2.CV_32F), BLUR_KERNEL, 0)
    cv2.multiply(difference, difference, dst=difference)
    squared = cv2.transform(difference, _SUM_OF_CHANNELS)
    return cv2.sqrt(squared, dst=squared)


def manipulation_mask(
    real_crop: np.ndarray,
    fake_crop: np.ndarray,
    *,
    mask_threshold: float,
    min_component_pixels: int = COMPONENT_PIXELS,
    size: int = FACE_SIZE,
    fill_holes: bool = False,
) -> np.ndarray:
    """Where the fake crop differs from the real one: a (size, size) uint8 mask of {0, 1}.

    Steps (METHOD.md 2): blur both crops 5x5, Euclidean RGB distance, threshold, keep
    8-connected components of at least ``min_component_pixels``, resize with nearest
    neighbour so the mask stays binary; optionally fill the holes its components enclose.
    The result is that of ``blurred_distance(real, fake) > mask_threshold`` put through
    those steps; it is computed in two compiled passes
    (``mask_kernels``), which is what keeps it a small part of decoding the frames.

    The component rule runs BEFORE resizing, on the crop at source resolution: that is
    the study's order, and compression specks have a size in source pixels (codec
    blocks), whereas after resizing their size would depend on how large the face was
    in the video.

    Args:
      real_crop, fake_crop: (h, w, 3) uint8 crops cut with the same box (views of the
        frames are read without a copy).
      mask_threshold: distance above which a pixel is manipulated (see
        ``threshold_from_noise``).
      min_component_pixels: smaller components are compression noise.
      size: side of the output mask.
      fill_holes: also mark the background pixels a component encloses (``fill_holes``).
    """
    # Imported here, not with the module: Numba takes 0.4 s to import, which every user of
    # dfseg_tf.extraction (``dfseg predict`` among them) would pay without making a mask.
    from dfseg_tf.extraction import mask_kernels

    _check_crops(real_crop, fake_crop)
    over, count, x0, y0, x1, y1 = mask_kernels.pixels_over_threshold(
        _rows_of_values(real_crop), _rows_of_values(fake_crop), mask_threshold
    )
    if count < max(min_component_pixels, 1):  # no component can be large enough
        return np.zeros((size, size), np.uint8)
    mask = mask_kernels.large_components_resized(over, x0, y0, x1, y1, min_component_pixels, size)
    return fill_enclosed_holes(mask) if fill_holes else mask


def fill_enclosed_holes(mask: np.ndarray) -> np.ndarray:
    """``mask`` (h, w) {0, 1} with every background region that does not reach the border set to 1.

    Background regions are 4-connected, the complement of 8-connected components, so a
    ring closed only at a corner still encloses its inside. Where the colours of a swapped
    face happen to match the original's (cheeks, nose), the distance stays under the
    threshold inside a region that is manipulated all around: filling those holes agrees
    better with the official masks (docs/METHOD.md, section 2).
    """
    padded = np.zeros((mask.shape[0] + 2, mask.shape[1] + 2), np.uint8)  # a zero frame joins every
    padded[1:-1, 1:-1] = mask  # background region that touches the border
    cv2.floodFill(padded, None, (0, 0), 2, flags=4)
    return np.not_equal(padded[1:-1, 1:-1], 2).view(np.uint8)


def noise_samples(real_frame: np.ndarray, fake_frame: np.ndarray, box, *,
                  samples: int = NOISE_SAMPLES_PER_FRAME) -> np.ndarray:
    """The blurred real/fake distance at about ``samples`` points of a sparse grid over the
    whole frame, leaving out the face box: the codec noise of this pair of frames.

    Outside the box the fake is a re-encoded copy of its original, so what differs there is
    compression noise; the mask threshold must clear it (``threshold_from_noise``).

    Args:
      real_frame, fake_frame: (H, W, 3) uint8 frames of the pair.
      box: x0, y0, x1, y1 of the face box.

    Returns:
      float32 distances (fewer than ``samples`` by the box's share of the grid).
    """
    from dfseg_tf.extraction import mask_kernels  # see manipulation_mask

    _check_crops(real_frame, fake_frame)
    height, width = real_frame.shape[:2]
    step = max(1, math.isqrt(height * width // max(samples, 1)))
    return mask_kernels.blurred_distances_on_grid(
        _rows_of_values(real_frame), _rows_of_values(fake_frame), step, *map(int, box)
    )


def threshold_from_noise(samples: np.ndarray, *, quantile: float = NOISE_QUANTILE,
                         floor: float = MASK_THRESHOLD_FLOOR) -> float:
    """The mask threshold of a pair: the ``quantile`` of its noise samples, at least ``floor``.

    ``samples`` pools ``noise_samples`` over the sampled frames of one video, so every mask
    of the video is cut at the same level. With fewer than ``MIN_NOISE_SAMPLES`` (the face
    box fills the frame) it returns ``NO_NOISE_MASK_THRESHOLD``.
    """
    if len(samples) < MIN_NOISE_SAMPLES:
        return max(floor, NO_NOISE_MASK_THRESHOLD)
    return max(floor, float(np.quantile(samples, quantile)))


def _rows_of_values(crop: np.ndarray) -> np.ndarray:
    """(h, w, 3) as (h, 3w): a view when each row's pixels are contiguous, as in a crop of a frame."""
    height, width, channels = crop.shape
    return crop.reshape(height, width * channels)


def _check_crops(real: np.ndarray, fake: np.ndarray) -> None:
    if real.shape != fake.shape:
        raise ValueError(f"crops must have the same shape, got {real.shape} and {fake.shape}")
    if real.ndim != 3 or real.shape[2] != _CHANNELS or real.dtype != np.uint8 or fake.dtype != np.uint8:
        raise ValueError(f"crops must be (h, w, 3) uint8, got {real.shape} {real.dtype} and {fake.dtype}")
    if real.size == 0:
        raise ValueError(f"crops must not be empty, got {real.shape}")
