"""PNG plots of the evaluation: threshold curve, precision-recall curves, example sheet.

Figures are drawn with ``matplotlib.figure.Figure`` (the Agg canvas), never
``pyplot``, so no display or global backend state is involved.
"""

import pathlib

import numpy as np
from matplotlib.figure import Figure


def plot_threshold_curve(curve: dict, chosen: float, path, *, title: str) -> pathlib.Path:
    """Balanced accuracy, F1, precision, recall and the share of real frames flagged
    against the threshold, with the chosen t marked."""
    figure = Figure(figsize=(6, 4), layout="constrained")
    axes = figure.add_subplot()
    for name in ("balanced_accuracy", "f1", "precision", "recall", "real_flagged"):
        axes.plot(curve["threshold"], curve[name], label=name.replace("_", " "))
    axes.axvline(chosen, color="black", linestyle="--", label=f"chosen t = {chosen:.2f}")
    axes.set(xlabel="threshold t", ylabel="frame score", ylim=(-0.02, 1.02), title=title)
    axes.legend(loc="lower left")
    return _save(figure, path)


def plot_pr_curves(curves: dict, path, *, title: str) -> pathlib.Path:
    """One precision-recall curve per model: ``curves`` maps a label to {precision, recall}."""
    figure = Figure(figsize=(5, 5), layout="constrained")
    axes = figure.add_subplot()
    for label, curve in curves.items():
        if len(curve["recall"]):
            axes.step(curve["recall"], curve["precision"], where="post", label=label)
        else:
            axes.plot([], [], label=f"{label} (one class only: no curve)")
    axes.set(xlabel="recall", ylabel="precision", xlim=(0, 1.02), ylim=(0, 1.02), title=title)
    axes.legend(loc="lower left", fontsize="small")
    return _save(figure, path)


def plot_example_sheet(best, worst, path, *, title: str) -> pathlib.Path:
    """Faces with their true mask and predicted map: best Dice rows, then worst.

    ``best`` and ``worst`` are lists of ``predictions.ExampleFrame``.
    """
    rows = [("best", example) for example in best] + [("worst", example) for example in worst]
    figure = Figure(figsize=(7.5, 2.5 * max(len(rows), 1)), layout="constrained")
    figure.suptitle(title)
    if not rows:
        figure.add_subplot().text(0.5, 0.5, "no examples", ha="center", va="center")
        return _save(figure, path)
    grid = figure.subplots(len(rows), 3, squeeze=False)
    for (rank, example), axes in zip(rows, grid):
        axes[0].imshow(example.image)
        axes[0].set_title(f"{rank}: {example.video_id} #{example.frame_index}", fontsize="small")
        axes[1].imshow(np.asarray(example.mask, dtype=np.float32), cmap="gray", vmin=0, vmax=1)
        axes[1].set_title("true mask", fontsize="small")
        axes[2].imshow(example.prob_map, cmap="viridis", vmin=0, vmax=1)
        axes[2].set_title(f"predicted map, Dice {example.dice:.3f}", fontsize="small")
        for axis in axes:
            axis.set_axis_off()
    return _save(figure, path)


def _save(figure: Figure, path) -> pathlib.Path:
    path = pathlib.Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    figure.savefig(path, dpi=80)
    return path
