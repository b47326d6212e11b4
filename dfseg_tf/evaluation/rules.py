"""The study's frame and video rules, and the continuous scores that agree with them.

Frame rule (segmentation): a frame is fake iff the map thresholded at ``t``
(pixels with ``p > t``) has a connected component of MORE THAN
``min_component_pixels`` pixels (8-connectivity). Frame rule (classifier): a frame
is fake iff its probability ``p > t`` (0.5 in the study). Video rule: a video is
fake iff more than half of its sampled frames are fake.

Each rule has a score that reproduces it exactly: ``frame_score(map) > t`` iff
``frame_is_fake(map, t)``, and ``video_score(scores) > t`` iff the video rule fires
on the flags ``scores > t``. So ROC curves, precision-recall curves and the
threshold search can all work on one scalar per frame (or per video), with no
second pass over the maps.
"""

import cv2
import numpy as np

from dfseg_tf.method import COMPONENT_PIXELS, DEFAULT_DECISION_THRESHOLD

MIN_COMPONENT_PIXELS = COMPONENT_PIXELS  # a component must have MORE pixels than this

# Score of a map with no large enough component at any threshold: below every
# probability threshold, and finite so scikit-learn's curves accept it.
NEVER_FAKE_SCORE = -1.0


def frame_is_fake(prob_map, threshold: float, *, min_component_pixels: int = MIN_COMPONENT_PIXELS) -> bool:
    """True iff ``prob_map > threshold`` has a component of more than ``min_component_pixels``.

    Args:
      prob_map: (H, W) or (H, W, 1) per-pixel probabilities of "manipulated".
      threshold: the frame rule's t.
      min_component_pixels: a component must be strictly larger than this (100 in the study).
    """
    probabilities = _as_probability_map(prob_map)
    return largest_component_pixels(probabilities > threshold) > min_component_pixels


def frame_score(prob_map, *, min_component_pixels: int = MIN_COMPONENT_PIXELS) -> float:
    """The frame rule as a continuous score: fake at t iff ``frame_score(prob_map) > t``.

    The score is the largest pixel value v such that ``prob_map >= v`` has a component
    of more than ``min_component_pixels`` pixels; for any t just below v the
    thresholded map is exactly ``prob_map >= v``, and above v the rule stops firing
    (components only shrink as t rises). Found by binary search over the sorted
    pixel values, at most about 16 labelings of a 256x256 map; one when the
    ``min_component_pixels + 1`` highest pixels already form a component.

    Policy: a map with no such component at any threshold (fewer than
    ``min_component_pixels + 1`` pixels in all) scores ``NEVER_FAKE_SCORE`` (-1,
    below every threshold in [0, 1]).
    """
    probabilities = _as_probability_map(prob_map)
    if probabilities.size <= min_component_pixels:
        return NEVER_FAKE_SCORE
    values = np.sort(probabilities, axis=None)

    def fires_at_or_above(index):
        return largest_component_pixels(probabilities >= values[index]) > min_component_pixels

    # Above the (min_component_pixels + 1)-th highest value too few pixels remain;
    # at the lowest value the whole map is one component, which fires.
    low, high = 0, probabilities.size - min_component_pixels - 1
    if fires_at_or_above(high):
        return float(values[high])
    # Invariant: the rule fires at values[low] and not at values[high].
    while high - low > 1:
        middle = (low + high) // 2
        if fires_at_or_above(middle):
            low = middle
        else:
            high = middle
    return float(values[low])


def largest_component_pixels(binary_map) -> int:
    """Pixel count of the largest 8-connected component of a boolean map (0 if none)."""
    binary = np.ascontiguousarray(binary_map, dtype=np.uint8)
    count, _, stats, _ = cv2.connectedComponentsWithStats(binary, connectivity=8)
    if count <= 1:  # label 0 is the background
        return 0
    return int(stats[1:, cv2.CC_STAT_AREA].max())


def classifier_is_fake(probability: float, threshold: float = DEFAULT_DECISION_THRESHOLD) -> bool:
    """The classifiers' frame rule: fake iff ``p > threshold``; the score is ``p`` itself."""
    return float(probability) > threshold


def video_is_fake(frame_flags) -> bool:
    """True iff MORE than half of the frames are fake (exactly half is real).

    Raises:
      ValueError: no frames; a video without frames has no verdict.
    """
    flags = np.asarray(frame_flags, dtype=bool).ravel()
    if flags.size == 0:
        raise ValueError("video_is_fake: a video with no frames has no verdict")
    return int(flags.sum()) > flags.size / 2


def video_score(frame_scores) -> float:
    """The video rule as a continuous score: ``video_score(s) > t`` iff ``video_is_fake(s > t)``.

    With n frames the rule needs at least ``k = n // 2 + 1`` frames above t, so the
    score is the k-th largest frame score: the median for odd n, the LOWER of the two
    middle scores for even n (the usual median, their mean, would call a video with
    exactly half its frames fake).

    Raises:
      ValueError: no frames.
    """
    scores = np.sort(np.asarray(frame_scores, dtype=np.float64).ravel())
    if scores.size == 0:
        raise ValueError("video_score: a video with no frames has no score")
    needed = scores.size // 2 + 1
    return float(scores[scores.size - needed])


def _as_probability_map(prob_map) -> np.ndarray:
    """(H, W) float64, so comparisons with a Python float threshold are exact."""
    probabilities = np.asarray(prob_map, dtype=np.float64)
    if probabilities.ndim == 3 and probabilities.shape[-1] == 1:
        probabilities = probabilities[..., 0]
    if probabilities.ndim != 2:
        raise ValueError(f"expected an (H, W) or (H, W, 1) map, got shape {probabilities.shape}")
    return probabilities
