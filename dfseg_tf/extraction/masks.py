"""Binary manipulation masks from a fake face crop and the same crop of its original (METHOD.md 2)."""

import cv2
import numpy as np

# Distance (in 0-255 RGB units, after the 5x5 Gaussian blur) above which a pixel counts
# as manipulated. The study does not give it. Measured with `python -m experiments.bench_masks`
# (miniature DFDC + FF++ + DFD, H.264 CRF 23, 8 frames per fake, mean IoU with the planted
# masks; partial / whole / unchanged fakes):
#   10: 0.69 / 0.70 / 0.88   20: 0.82 / 0.77 / 1.00   25: 0.86 / 0.79 / 1.00
#   30: 0.88 / 0.80 / 1.00   40: 0.83 / 0.81 / 1.00   50: 0.69 / 0.79 / 1.00
# 30 is best for partial manipulations (the hard case) and within 0.01 of the best for
# whole faces; from 15 up, compression noise alone never survives the 100-pixel rule
# (unchanged fakes give empty masks). The planted changes are strong (colour shift of
# about 60 plus texture): subtler real fakes may want a lower value (a flag).
DEFAULT_THRESHOLD = 30.0

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
    threshold: float = DEFAULT_THRESHOLD,
    min_component_pixels: int = 100,
    size: int = 256,
) -> np.ndarray:
    """Where the fake crop differs from the real one: a (size, size) uint8 mask of {0, 1}.

    Steps (METHOD.md 2): blur both crops 5x5, Euclidean RGB distance, threshold, keep
    8-connected components of at least ``min_component_pixels``, resize with nearest
    neighbour so the mask stays binary. The result is that of ``blurred_distance(real,
    fake) > threshold`` put through those steps; it is computed in two compiled passes
    (``mask_kernels``), which is what keeps it a small part of decoding the frames.

    The component rule runs BEFORE resizing, on the crop at source resolution: that is
    the study's order, and compression specks have a size in source pixels (codec
    blocks), whereas after resizing their size would depend on how large the face was
    in the video.

    Args:
      real_crop, fake_crop: (h, w, 3) uint8 crops cut with the same box (views of the
        frames are read without a copy).
      threshold: distance above which a pixel is manipulated.
      min_component_pixels: smaller components are compression noise.
      size: side of the output mask.
    """
    # Imported here, not with the module: Numba takes 0.4 s to import, which every user of
    # dfseg_tf.extraction (``dfseg predict`` among them) would pay without making a mask.
    from dfseg_tf.extraction import mask_kernels

    _check_crops(real_crop, fake_crop)
    over, count, x0, y0, x1, y1 = mask_kernels.pixels_over_threshold(
        _rows_of_values(real_crop), _rows_of_values(fake_crop), threshold
    )
    if count < max(min_component_pixels, 1):  # no component can be large enough
        return np.zeros((size, size), np.uint8)
    return mask_kernels.large_components_resized(over, x0, y0, x1, y1, min_component_pixels, size)


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
