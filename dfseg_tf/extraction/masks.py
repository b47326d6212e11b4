"""Binary manipulation masks from a fake face crop and the same crop of its original (METHOD.md 2)."""

import math

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
_BLUR_REACH = BLUR_KERNEL[0] // 2  # a blurred pixel depends on this many pixels on each side
_CHANNELS = 3
_SUM_OF_CHANNELS = np.ones((1, _CHANNELS), np.float32)
_MAX_16BIT_LABELS = 2**16 - 1


def blurred_distance(real: np.ndarray, fake: np.ndarray) -> np.ndarray:
    """Per-pixel Euclidean distance between the RGB vectors of the two images after a 5x5 Gaussian blur.

    The blur averages out compression noise, which differs between two separately
    encoded videos even where their content is the same.

    Returns:
      (H, W) float32.
    """
    _check_same_shape(real, fake)
    # The blur is linear, so blurring the difference once equals the difference of the two
    # blurred crops. Squaring and the root work in place: fresh multi-megabyte buffers cost
    # page faults that outweigh the arithmetic.
    difference = cv2.GaussianBlur(cv2.subtract(real, fake, dtype=cv2.CV_32F), BLUR_KERNEL, 0)
    cv2.multiply(difference, difference, dst=difference)
    squared = cv2.transform(difference, _SUM_OF_CHANNELS)
    return cv2.sqrt(squared, dst=squared)


def keep_large_components(binary: np.ndarray, min_pixels: int) -> np.ndarray:
    """Zero every 8-connected component of a {0,1} uint8 image smaller than ``min_pixels``.

    Labelling runs only on the bounding rectangle of the set pixels, with 16-bit labels
    when the rectangle cannot hold more components than 16 bits can number. Areas come from a
    histogram of the labels: OpenCV's labelling with statistics is several times slower
    than labelling alone, for statistics (boxes, centroids) this rule does not use.
    """
    x, y, width, height = cv2.boundingRect(binary)
    kept = np.zeros_like(binary)
    if width == 0:
        return kept
    window = binary[y : y + height, x : x + width]
    count, labels = cv2.connectedComponents(window, connectivity=8, ltype=_label_type(width, height))
    keep = _component_areas(labels, count) >= min_pixels
    keep[0] = False  # label 0 is the background
    if keep[1:].all():
        kept[y : y + height, x : x + width] = window
    else:
        kept[y : y + height, x : x + width] = np.take(keep.astype(np.uint8), labels)
    return kept


def _label_type(width: int, height: int) -> int:
    """16-bit labels (faster) when even OpenCV's parallel labelling, which numbers each stripe's
    labels from that stripe's first 2x2 block, cannot run past them: one label per block at most."""
    blocks = math.ceil(width / 2) * math.ceil(height / 2)
    return cv2.CV_16U if blocks < _MAX_16BIT_LABELS else cv2.CV_32S


def _component_areas(labels: np.ndarray, count: int) -> np.ndarray:
    """Pixels per label. OpenCV's histogram reads 16-bit labels about twice as fast as
    numpy's bincount, which serves the 32-bit ones calcHist cannot read."""
    if labels.dtype == np.uint16:
        return cv2.calcHist([labels], [0], None, [count], [0, count]).ravel()
    return np.bincount(labels.ravel(), minlength=count)


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

    The exact distance is computed only inside the rectangle where a cheap bound says it
    can exceed the threshold (see ``_possible_box``); outside it no pixel can, so the
    mask is the same as thresholding ``blurred_distance`` on the whole crop.

    Args:
      real_crop, fake_crop: (h, w, 3) uint8 crops cut with the same box.
      threshold: distance above which a pixel is manipulated.
      min_component_pixels: smaller components are compression noise.
      size: side of the output mask.
    """
    _check_same_shape(real_crop, fake_crop)
    manipulated = np.zeros(real_crop.shape[:2], np.uint8)
    box = _possible_box(real_crop, fake_crop, threshold, min_component_pixels)
    if box is not None:
        x0, y0, x1, y1 = box
        exceeds = _distance_exceeds(real_crop, fake_crop, box, threshold).view(np.uint8)
        manipulated[y0:y1, x0:x1] = keep_large_components(exceeds, min_component_pixels)
    return cv2.resize(manipulated, (size, size), interpolation=cv2.INTER_NEAREST)


def _possible_box(real: np.ndarray, fake: np.ndarray, threshold: float, min_pixels: int):
    """(x0, y0, x1, y1) around every pixel whose blurred distance may exceed ``threshold``,
    or None when fewer than ``min_pixels`` (and at least one) may, so no component survives.

    The bound is all uint8 and several times cheaper than the float distance (the distance
    itself stays in float: blurring 8-bit crops would round pixels across the threshold,
    about 1 pixel in 200 of a planted region). The blur of
    ``|real - fake|`` bounds the magnitude of the blurred difference channel by channel
    (triangle inequality), so distance <= sqrt(3) * max over channels of that blur;
    OpenCV's uint8 blur rounds it, off by at most 0.5, and the cutoff allows 1.
    """
    height, width = real.shape[:2]
    bound = cv2.GaussianBlur(cv2.absdiff(real, fake), BLUR_KERNEL, 0)
    cutoff = math.floor(threshold / math.sqrt(_CHANNELS) - 1)
    channels_side_by_side = bound.reshape(height, width * _CHANNELS)  # compare takes one channel
    cv2.compare(channels_side_by_side, cutoff, cv2.CMP_GT, dst=channels_side_by_side)  # in place: no new buffer
    # Grey weighs every channel positively: non-zero exactly where some channel passed.
    possible = cv2.cvtColor(bound, cv2.COLOR_RGB2GRAY)
    if cv2.countNonZero(possible) < max(min_pixels, 1):
        return None
    x, y, columns, rows = cv2.boundingRect(possible)
    return x, y, x + columns, y + rows


def _distance_exceeds(real: np.ndarray, fake: np.ndarray, box, threshold: float) -> np.ndarray:
    """``blurred_distance(real, fake) > threshold`` inside ``box``, as bool.

    The distance is computed on the box grown by the blur's reach (clipped to the crop),
    so every pixel of the box is blurred with the same neighbours, and the same border
    reflection at the crop's edges, as when the whole crop is blurred.
    """
    x0, y0, x1, y1 = box
    height, width = real.shape[:2]
    gx0, gy0 = max(x0 - _BLUR_REACH, 0), max(y0 - _BLUR_REACH, 0)
    gx1, gy1 = min(x1 + _BLUR_REACH, width), min(y1 + _BLUR_REACH, height)
    distance = blurred_distance(real[gy0:gy1, gx0:gx1], fake[gy0:gy1, gx0:gx1])
    return distance[y0 - gy0 : y1 - gy0, x0 - gx0 : x1 - gx0] > threshold


def _check_same_shape(real: np.ndarray, fake: np.ndarray) -> None:
    if real.shape != fake.shape:
        raise ValueError(f"crops must have the same shape, got {real.shape} and {fake.shape}")
