"""Grid search of the frame rule's threshold t on stored per-frame scores.

Because ``rules.frame_score(map) > t`` is exactly the frame rule at t, the sweep
needs one score per frame, not the maps: the maps are computed once.
"""

import numpy as np

from dfseg_tf.evaluation import scores as scores_lib

GRID_START = 0.05
GRID_STOP = 0.99
GRID_STEP = 0.01


def threshold_grid(start: float = GRID_START, stop: float = GRID_STOP, step: float = GRID_STEP) -> np.ndarray:
    """Thresholds from ``start`` to ``stop`` inclusive, rounded to the step's decimals."""
    if not 0 <= start <= stop <= 1 or step <= 0:
        raise ValueError(f"threshold grid needs 0 <= start <= stop <= 1 and step > 0, got {start}, {stop}, {step}")
    count = round((stop - start) / step) + 1
    return np.round(start + step * np.arange(count), 6)


def sweep(labels, frame_scores, grid) -> dict:
    """Frame precision, recall and F1 at every threshold of ``grid``: arrays aligned with it."""
    curve = {"threshold": np.asarray(grid, dtype=np.float64), "precision": [], "recall": [], "f1": []}
    for threshold in curve["threshold"]:
        result = scores_lib.precision_recall_f1(labels, frame_scores, threshold)
        for name in ("precision", "recall", "f1"):
            curve[name].append(result[name])
    return {name: np.asarray(values, dtype=np.float64) for name, values in curve.items()}


def best_threshold(curve: dict) -> float:
    """The threshold of highest F1; ties go to the middle one of the tied thresholds.

    A tie usually is a plateau where the classes are separated; its middle leaves the
    most room on both sides.
    """
    f1 = curve["f1"]
    tied = np.flatnonzero(np.isclose(f1, f1.max(), rtol=0, atol=1e-12))
    return float(curve["threshold"][tied[len(tied) // 2]])
