"""Grid search of the frame rule's threshold t on stored per-frame scores.

Because ``rules.frame_score(map) > t`` is exactly the frame rule at t, the sweep
needs one score per frame, not the maps: the maps are computed once.

The t kept is the one of highest balanced accuracy (the mean of the fake frames'
recall and the real frames' specificity) by default, not of highest F1: F1 counts no
true negatives, so on a split where fakes are the majority flagging every frame
already scores high (2p / (1 + p) for a fake share p: 0.8 at two thirds, the embedded
corpus's share), and the F1-best t flagged 92% of the real test frames there.
Balanced accuracy scores flagging everything at 0.5 whatever the fake share.
"""

import numpy as np

from dfseg_tf.evaluation import scores as scores_lib

GRID_START = 0.05
GRID_STOP = 0.99
GRID_STEP = 0.01
CRITERIA = ("balanced_accuracy", "f1")


def threshold_grid(start: float = GRID_START, stop: float = GRID_STOP, step: float = GRID_STEP) -> np.ndarray:
    """Thresholds from ``start`` to ``stop`` inclusive, rounded to the step's decimals."""
    if not 0 <= start <= stop <= 1 or step <= 0:
        raise ValueError(f"threshold grid needs 0 <= start <= stop <= 1 and step > 0, got {start}, {stop}, {step}")
    count = round((stop - start) / step) + 1
    return np.round(start + step * np.arange(count), 6)


def sweep(labels, frame_scores, grid) -> dict:
    """Frame precision, recall, F1, the share of real frames flagged and the balanced
    accuracy at every threshold of ``grid``: arrays aligned with it.

    One pass over the sorted scores (as ``sklearn.metrics.precision_recall_curve`` does),
    not one metric call per threshold: at t, the true and false positives are the fake and
    real scores above t. Undefined ratios are 0, as ``scores.precision_recall_f1`` has them.
    """
    labels = np.asarray(labels, dtype=np.int64)
    scores = np.asarray(frame_scores, dtype=np.float64)
    thresholds = np.asarray(grid, dtype=np.float64)
    fake_scores = np.sort(scores[labels == scores_lib.FAKE_LABEL])
    real_scores = np.sort(scores[labels != scores_lib.FAKE_LABEL])
    true_positives = len(fake_scores) - np.searchsorted(fake_scores, thresholds, side="right")
    false_positives = len(real_scores) - np.searchsorted(real_scores, thresholds, side="right")
    false_negatives = len(fake_scores) - true_positives
    recall = _ratio(true_positives, true_positives + false_negatives)
    real_flagged = _ratio(false_positives, len(real_scores))
    return {
        "threshold": thresholds,
        "precision": _ratio(true_positives, true_positives + false_positives),
        "recall": recall,
        "f1": _ratio(2 * true_positives, 2 * true_positives + false_positives + false_negatives),
        "real_flagged": real_flagged,
        "balanced_accuracy": (recall + 1 - real_flagged) / 2,
    }


def _ratio(numerator, denominator) -> np.ndarray:
    """numerator / denominator elementwise, 0 where the denominator is 0."""
    numerator, denominator = np.asarray(numerator, np.float64), np.asarray(denominator, np.float64)
    return np.divide(numerator, denominator, out=np.zeros_like(numerator), where=denominator > 0)


def best_threshold(curve: dict, criterion: str = "balanced_accuracy") -> float:
    """The threshold of highest ``criterion`` (one of :data:`CRITERIA`); ties go to the
    middle one of the tied thresholds.

    A tie usually is a plateau where the classes are separated; its middle leaves the
    most room on both sides.
    """
    if criterion not in CRITERIA:
        raise ValueError(f"unknown threshold criterion {criterion!r}; choose one of {', '.join(CRITERIA)}")
    values = curve[criterion]
    tied = np.flatnonzero(np.isclose(values, values.max(), rtol=0, atol=1e-12))
    return float(curve["threshold"][tied[len(tied) // 2]])


def edge_hint(chosen: float, grid) -> str | None:
    """What to try when ``chosen`` is the grid's highest or lowest t (the criterion may
    still rise beyond it: a model whose real frames score near 1 needs a t above 0.99),
    else None."""
    grid = np.asarray(grid, dtype=np.float64)
    if grid.size < 2:
        return None
    step = float(np.min(np.diff(grid)))
    if chosen == grid[-1] and chosen < 1:
        finer = step / 10
        return (f"t is the grid's highest value: the best t may lie above it; try --grid-start {chosen:g} "
                f"--grid-stop {min(1.0, chosen + 9 * finer):g} --grid-step {finer:g}")
    if chosen == grid[0] and chosen > 0:
        return f"t is the grid's lowest value: the best t may lie below it; try --grid-start 0 --grid-stop {chosen:g}"
    return None

