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
_SUM_OF_CHANNELS = np.ones((1, 3), np.float32)


def blurred_distance(real: np.ndarray, fake: np.ndarray) -> np.ndarray:
    """Per-pixel Euclidean distance between the RGB vectors of the two images after a 5x5 Gaussian blur.

    The blur averages out compression noise, which differs between two separately
    encoded videos even where their content is the same.

    Returns:
      (H, W) float32.
    """
    if real.shape != fake.shape:
        raise ValueError(f"crops must have the same shape, got {real.shape} and {fake.shape}")
    # The blur is linear, so blurring the difference once equals the difference of the two
    # blurred crops; OpenCV's vectorised operations keep this well under the decode cost.
    difference = cv2.GaussianBlur(cv2.subtract(real, fake, dtype=cv2.CV_32F), BLUR_KERNEL, 0)
    squared = cv2.transform(cv2.multiply(difference, difference), _SUM_OF_CHANNELS)
    return cv2.sqrt(squared)


def keep_large_components(binary: np.ndarray, min_pixels: int) -> np.ndarray:
    """Zero every 8-connected component of a {0,1} uint8 image smaller than ``min_pixels``.

    Labelling runs only on the bounding rectangle of the set pixels, with 16-bit labels
    when there are too few set pixels to make 65,535 components (about 3x faster).
    """
    x, y, width, height = cv2.boundingRect(binary)
    kept = np.zeros_like(binary)
    if width == 0:
        return kept
    window = binary[y : y + height, x : x + width]
    label_type = cv2.CV_16U if np.count_nonzero(window) < 2**16 else cv2.CV_32S
    _, labels, stats, _ = cv2.connectedComponentsWithStats(window, connectivity=8, ltype=label_type)
    keep = stats[:, cv2.CC_STAT_AREA] >= min_pixels
    keep[0] = False  # label 0 is the background
    kept[y : y + height, x : x + width] = np.take(keep.astype(np.uint8), labels)
    return kept


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
    connected components of at least ``min_component_pixels``, resize with nearest
    neighbour so the mask stays binary.

    The component rule runs BEFORE resizing, on the crop at source resolution: that is
    the study's order, and compression specks have a size in source pixels (codec
    blocks), whereas after resizing their size would depend on how large the face was
    in the video.

    Args:
      real_crop, fake_crop: (h, w, 3) uint8 crops cut with the same box.
      threshold: distance above which a pixel is manipulated.
      min_component_pixels: smaller components are compression noise.
      size: side of the output mask.
    """
    manipulated = (blurred_distance(real_crop, fake_crop) > threshold).astype(np.uint8)
    manipulated = keep_large_components(manipulated, min_component_pixels)
    return cv2.resize(manipulated, (size, size), interpolation=cv2.INTER_NEAREST)
