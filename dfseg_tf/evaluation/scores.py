"""Dice and the detection scores of the study's tables (fake = positive class).

Policies for undefined cases, stated once:
- Dice of an empty prediction on an empty mask is 1 (as NVIDIA's UNet_Industrial).
- Dice averaged over fake frames only is NaN when there are no fake frames.
- Precision, recall and F1 use scikit-learn's ``zero_division=0.0``: precision is 0
  when nothing is called fake, recall is 0 when nothing is fake.
- ROC-AUC and average precision are NaN when only one class is present; the share of
  real items called fake (``real_flagged``, the false-positive rate) is NaN with no real item.
- IoU of an empty prediction on an empty mask is 1, as Dice.

Pixel-level ROC-AUC and average precision are computed from histograms of the maps'
probabilities (``PIXEL_BINS`` equal bins on [0, 1]) over manipulated and untouched
pixels, so memory stays flat in the number of frames; ties within a bin count half,
as scikit-learn counts tied scores.
"""

import math

import numpy as np
from sklearn import metrics

from dfseg_tf.evaluation import rules

FAKE_LABEL = 1  # ClassLabel(names=["real", "fake"])


def dice_score(predicted, true) -> float:
    """Dice of two binary maps, 2|P & T| / (|P| + |T|); 1 when both are empty."""
    predicted = np.asarray(predicted, dtype=bool)
    true = np.asarray(true, dtype=bool)
    if predicted.shape != true.shape:
        raise ValueError(f"dice_score: shapes differ, {predicted.shape} vs {true.shape}")
    total = int(predicted.sum()) + int(true.sum())
    if total == 0:
        return 1.0
    return 2.0 * int(np.logical_and(predicted, true).sum()) / total


def iou_score(predicted, true) -> float:
    """Intersection over union of two binary maps; 1 when both are empty."""
    predicted = np.asarray(predicted, dtype=bool)
    true = np.asarray(true, dtype=bool)
    if predicted.shape != true.shape:
        raise ValueError(f"iou_score: shapes differ, {predicted.shape} vs {true.shape}")
    union = int(np.logical_or(predicted, true).sum())
    if union == 0:
        return 1.0
    return int(np.logical_and(predicted, true).sum()) / union


PIXEL_BINS = 1000


def pixel_histograms(prob_map, mask, *, bins: int = PIXEL_BINS) -> np.ndarray:
    """(2, bins) counts of the map's probabilities over untouched (row 0) and manipulated
    (row 1) pixels of ``mask``; add them up over frames for :func:`binned_roc_auc`."""
    indices = np.clip((np.asarray(prob_map, np.float64) * bins).astype(np.int64), 0, bins - 1).ravel()
    manipulated = (np.asarray(mask) > 0).ravel()
    return np.stack([
        np.bincount(indices[~manipulated], minlength=bins), np.bincount(indices[manipulated], minlength=bins)
    ])


def _binned_rates(histograms):
    """(true positives, false positives) counted from the highest bin down, with totals."""
    negatives, positives = (np.asarray(h, np.float64)[::-1] for h in histograms)
    return np.cumsum(positives), np.cumsum(negatives), positives.sum(), negatives.sum()


def binned_roc_auc(histograms) -> float:
    """Pixel ROC-AUC from :func:`pixel_histograms` (NaN without both kinds of pixel)."""
    true_pos, false_pos, positives, negatives = _binned_rates(histograms)
    if positives == 0 or negatives == 0:
        return math.nan
    tpr = np.concatenate([[0.0], true_pos / positives])
    fpr = np.concatenate([[0.0], false_pos / negatives])
    return float(np.sum(np.diff(fpr) * (tpr[1:] + tpr[:-1]) / 2))


def binned_average_precision(histograms) -> float:
    """Pixel average precision (scikit-learn's step sum) from :func:`pixel_histograms`."""
    true_pos, false_pos, positives, negatives = _binned_rates(histograms)
    if positives == 0 or negatives == 0:
        return math.nan
    called = true_pos + false_pos
    precision = np.divide(true_pos, called, out=np.ones_like(true_pos), where=called > 0)
    recall = np.concatenate([[0.0], true_pos / positives])
    return float(np.sum(np.diff(recall) * precision))


def thresholded_dice(prob_map, mask, threshold: float) -> float:
    """Per-image Dice of the map thresholded at ``threshold`` (``p > t``) against the mask.

    The raw thresholded map is scored, before the frame rule's component filter:
    the Dice measures localisation, the rule measures detection.
    """
    return dice_score(np.asarray(prob_map) > threshold, np.asarray(mask) > 0)


def thresholded_iou(prob_map, mask, threshold: float) -> float:
    """Per-image IoU of ``prob_map > threshold`` against the mask (raw map, as the Dice)."""
    return iou_score(np.asarray(prob_map) > threshold, np.asarray(mask) > 0)


def mean_dice(dices, labels) -> dict:
    """Mean per-image Dice over all frames and over fake frames only (NaN if none)."""
    dices = np.asarray(dices, dtype=np.float64)
    fake = np.asarray(labels) == FAKE_LABEL
    return {
        "dice_all": float(dices.mean()) if dices.size else math.nan,
        "dice_fake": float(dices[fake].mean()) if fake.any() else math.nan,
        "frames": int(dices.size),
        "fake_frames": int(fake.sum()),
    }


def precision_recall_f1(labels, scores, threshold: float) -> dict:
    """Precision, recall and F1 of the rule ``score > threshold`` (fake = positive)."""
    predicted = (np.asarray(scores, dtype=np.float64) > threshold).astype(np.int64)
    precision, recall, f1, _ = metrics.precision_recall_fscore_support(
        np.asarray(labels, dtype=np.int64),
        predicted,
        average="binary",
        pos_label=FAKE_LABEL,
        labels=[0, FAKE_LABEL],
        zero_division=0.0,
    )
    return {"precision": float(precision), "recall": float(recall), "f1": float(f1)}


def real_flagged(labels, scores, threshold: float) -> float:
    """The share of real items (label 0) the rule ``score > threshold`` calls fake: the
    false-positive rate, which shows a model that flags every frame at a glance."""
    labels = np.asarray(labels, dtype=np.int64)
    real_scores = np.asarray(scores, dtype=np.float64)[labels != FAKE_LABEL]
    return float(np.mean(real_scores > threshold)) if real_scores.size else math.nan


def detection_scores(labels, scores, threshold: float) -> dict:
    """``precision_recall_f1`` plus the share of reals flagged, ROC-AUC, average precision
    and the counts.

    Args:
      labels: 1 for fake, 0 for real.
      scores: continuous scores where the rule is ``score > threshold``
        (``rules.frame_score``, ``rules.video_score`` or a classifier's p).
    """
    labels = np.asarray(labels, dtype=np.int64)
    scores = np.asarray(scores, dtype=np.float64)
    both_classes = np.unique(labels).size == 2
    return {
        **precision_recall_f1(labels, scores, threshold),
        "real_flagged": real_flagged(labels, scores, threshold),
        "roc_auc": float(metrics.roc_auc_score(labels, scores)) if both_classes else math.nan,
        "average_precision": (
            float(metrics.average_precision_score(labels, scores)) if both_classes else math.nan
        ),
        "count": int(labels.size),
        "fake_count": int((labels == FAKE_LABEL).sum()),
    }


def per_manipulation(labels, scores, sources, threshold: float, dices=None) -> list[dict]:
    """How well each kind of fake is found: one row per source of fake frames.

    FaceForensics++ and DeepfakeBench report detectors per manipulation method: a model
    can find Deepfakes and miss NeuralTextures. Each source's fake frames are scored
    against ALL real frames of the split, whatever the reals' source.

    Args:
      labels: 1 for fake, 0 for real.
      scores: continuous scores where the rule is ``score > threshold``.
      sources: where each frame came from (e.g. ``faceforensics/FaceSwap``).
      dices: per-frame Dice at ``threshold``, or None (classifiers).

    Returns:
      Rows sorted by source: ``manipulation`` (the source), ``recall`` at ``threshold``,
      ``roc_auc`` of its fakes against the reals (NaN without reals), ``dice_fake`` (mean
      over its fakes; NaN without ``dices``), ``fake_frames`` and ``real_frames``.
    """
    fake_sources = {source for source, label in zip(sources, labels) if label == FAKE_LABEL}
    return _per_group("manipulation", sorted(fake_sources), sources, labels, scores, threshold, dices)


# The buckets of ``per_mask_area``: shares of the face crop that the true mask covers.
MASK_AREA_EDGES = (0.05, 0.10, 0.20)
NO_MASK = "none"


def mask_area_buckets(edges=MASK_AREA_EDGES) -> list[str]:
    """The buckets' names, smallest first: ``none``, ``< 5%``, ``5-10%``, ..., ``>= 20%``."""
    percents = [f"{100 * edge:g}" for edge in edges]
    middle = [f"{low}-{high}%" for low, high in zip(percents, percents[1:])]
    return [NO_MASK, f"< {percents[0]}%", *middle, f">= {percents[-1]}%"]


def mask_area_bucket(area: float, edges=MASK_AREA_EDGES) -> str:
    """The bucket of a frame whose true mask covers ``area`` (0 to 1) of its crop; a
    frame on an edge goes up (0.05 is ``5-10%``)."""
    if area <= 0:
        return NO_MASK
    return mask_area_buckets(edges)[1 + int(np.searchsorted(edges, area, side="right"))]


def per_mask_area(labels, scores, mask_areas, threshold: float, dices=None, *, edges=MASK_AREA_EDGES) -> list[dict]:
    """How well fakes are found by the size of what was changed: one row per bucket of
    the share of the crop their true mask covers (``mask_area_buckets``).

    A small edit (the eyes, a mouth) gives the map little to find and the frame rule
    needs a component of more than 100 pixels; a face swap covers most of the crop.
    Each bucket's fake frames are scored against ALL real frames of the split.

    Args:
      labels: 1 for fake, 0 for real.
      scores: continuous scores where the rule is ``score > threshold``.
      mask_areas: per frame, the share (0 to 1) of the crop its true mask covers.
      dices: per-frame Dice at ``threshold``, or None (classifiers).

    Returns:
      Rows for the buckets that hold fake frames, smallest first, with the columns of
      ``per_manipulation`` and ``mask_area`` (the bucket) in place of ``manipulation``.
    """
    buckets = [mask_area_bucket(area, edges) for area in mask_areas]
    held = {bucket for bucket, label in zip(buckets, labels) if label == FAKE_LABEL}
    order = [bucket for bucket in mask_area_buckets(edges) if bucket in held]
    return _per_group("mask_area", order, buckets, labels, scores, threshold, dices)


def _per_group(key: str, groups: list, frame_groups, labels, scores, threshold: float, dices) -> list[dict]:
    """One row per group in ``groups``: its fake frames' recall at ``threshold``, ROC-AUC
    against all real frames and mean Dice (see ``per_manipulation``)."""
    labels = np.asarray(labels, dtype=np.int64)
    scores = np.asarray(scores, dtype=np.float64)
    frame_groups = np.asarray(frame_groups, dtype=object)
    dices = np.full(labels.shape, math.nan) if dices is None else np.asarray(dices, dtype=np.float64)
    real = labels != FAKE_LABEL
    rows = []
    for group in groups:
        fake = ~real & (frame_groups == group)
        both = real | fake
        rows.append({
            key: group,
            "recall": float(np.mean(scores[fake] > threshold)),
            "roc_auc": float(metrics.roc_auc_score(labels[both], scores[both])) if real.any() else math.nan,
            "dice_fake": float(dices[fake].mean()),
            "fake_frames": int(fake.sum()),
            "real_frames": int(real.sum()),
        })
    return rows


def per_video(video_ids, labels, frame_scores) -> tuple[list, np.ndarray, np.ndarray]:
    """Groups frames by video: (video ids sorted, video labels, ``rules.video_score`` each).

    Raises:
      ValueError: a video whose frames disagree on the label.
    """
    grouped = {}
    for video_id, label, score in zip(video_ids, labels, frame_scores):
        grouped.setdefault(video_id, ([], []))
        grouped[video_id][0].append(int(label))
        grouped[video_id][1].append(float(score))
    ids = sorted(grouped)
    video_labels, video_scores = [], []
    for video_id in ids:
        frame_labels, scores = grouped[video_id]
        if len(set(frame_labels)) != 1:
            raise ValueError(f"video {video_id!r}: its frames have different labels {sorted(set(frame_labels))}")
        video_labels.append(frame_labels[0])
        video_scores.append(rules.video_score(scores))
    return ids, np.asarray(video_labels, dtype=np.int64), np.asarray(video_scores, dtype=np.float64)


def precision_recall_points(labels, scores) -> dict:
    """The precision-recall curve for a plot (empty when only one class is present)."""
    labels = np.asarray(labels, dtype=np.int64)
    if np.unique(labels).size < 2:
        return {"precision": np.array([]), "recall": np.array([])}
    precision, recall, _ = metrics.precision_recall_curve(labels, np.asarray(scores, dtype=np.float64))
    return {"precision": precision, "recall": recall}
