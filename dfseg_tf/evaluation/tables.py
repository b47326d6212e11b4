"""The study's tables (Markdown, CSV, JSON) and the checks of its findings.

A row is a plain dict; the column tuples below fix each table's order. The study's
own columns (precision, recall, F1) come first after the model and data set.
"""

import csv
import dataclasses
import json
import math
import pathlib

from dfseg_tf.evaluation import decision
from dfseg_tf.models.card import CLASSIFIER, SEGMENTATION

_IDENTITY = ("model", "kind", "dataset")
_STUDY = ("precision", "recall", "f1")
_THRESHOLD = ("decision_threshold", "decision_threshold_source")
_ORIGIN = _THRESHOLD + ("trained_on", "weights")
FRAME_COLUMNS = _IDENTITY + _STUDY + ("real_flagged", "roc_auc", "average_precision", "frames", "fake_frames") + _ORIGIN
VIDEO_COLUMNS = _IDENTITY + _STUDY + ("real_flagged", "roc_auc", "average_precision", "videos", "fake_videos") + _ORIGIN
LOCALISATION_COLUMNS = _IDENTITY + (
    "iou_fake", "dice_fake", "dice_all", "pixel_roc_auc", "pixel_ap", "official_pixel_roc_auc", "official_pixel_ap",
    "frames", "fake_frames", "official_frames",
) + _THRESHOLD
# A group of fakes (scores.per_manipulation, scores.per_mask_area) against all real frames.
_FAKE_GROUP = ("recall", "roc_auc", "dice_fake", "fake_frames", "real_frames")
# Beyond the study: each kind of fake of a data set that has several (FF++'s methods).
MANIPULATION_COLUMNS = _IDENTITY + ("manipulation",) + _FAKE_GROUP + _THRESHOLD
# Beyond the study: fakes by the share of the crop their true mask covers (small edits).
MASK_AREA_COLUMNS = _IDENTITY + ("mask_area",) + _FAKE_GROUP + _THRESHOLD
# The study's table: one row per model (and t), frame and video precision, recall and F1.
STUDY_COLUMNS = ("model", "kind") + tuple(f"frame_{name}" for name in _STUDY) + tuple(
    f"video_{name}" for name in _STUDY) + _ORIGIN

MISSING = "n/a"
# In-domain frame ROC-AUC below which a model is read as not having learned: its wins and
# losses in the study's comparisons then say nothing about the study's question.
CHANCE_ROC_AUC = 0.6


def markdown_table(rows, columns) -> str:
    """A GitHub Markdown table; floats with 3 decimals, NaN or absent as ``n/a``."""
    lines = [
        "| " + " | ".join(columns) + " |",
        "|" + "|".join("---" for _ in columns) + "|",
    ]
    for row in rows:
        lines.append("| " + " | ".join(_formatted(row.get(column)) for column in columns) + " |")
    return "\n".join(lines) + "\n"


def write_table(rows, columns, directory, name) -> list[pathlib.Path]:
    """Writes ``name.md``, ``name.csv`` and ``name.json`` into ``directory``; returns their paths.

    CSV and JSON keep full precision; NaN is an empty CSV cell and JSON ``null``.
    """
    directory = pathlib.Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    markdown_path = directory / f"{name}.md"
    markdown_path.write_text(markdown_table(rows, columns))
    csv_path = directory / f"{name}.csv"
    with csv_path.open("w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(columns)
        for row in rows:
            writer.writerow(["" if _is_missing(row.get(column)) else row.get(column) for column in columns])
    json_path = directory / f"{name}.json"
    records = [{column: None if _is_missing(row.get(column)) else row.get(column) for column in columns} for row in rows]
    json_path.write_text(json.dumps(records, indent=2) + "\n")
    return [markdown_path, csv_path, json_path]


@dataclasses.dataclass(frozen=True)
class Check:
    """One of the study's comparisons, answered from the rows.

    ``holds`` is True or False when the rows can test the study's finding, ``None``
    when they cannot (e.g. no classifier was evaluated).
    """

    question: str
    answer: str
    study_finding: str
    holds: bool | None


def is_in_domain(row) -> bool:
    """The row's data set (split aside) is the one the model was trained on."""
    return row["dataset"].partition(":")[0] == row.get("trained_on", "")


def study_checks(rows) -> list[Check]:
    """The study's three comparisons on one table (frames or videos).

    1. Best F1 in-domain (study: a classifier).
    2. Smallest F1 drop from in-domain to the mean of the other data sets (study: a
       segmentation model).
    3. Best recall, averaged over a model's data sets (study: a segmentation model).
    """
    return [_best_in_domain(rows), _smallest_drop(rows), _best_recall(rows)]


def study_tables(frame_rows, video_rows) -> dict:
    """{data set: rows of STUDY_COLUMNS}: the study's table per data set, one row per
    model and decision threshold, frame and video scores side by side."""
    by_key = {}
    for level, rows in (("frame", frame_rows), ("video", video_rows)):
        for row in rows:
            key = (row["dataset"], row["model"], row.get("decision_threshold_source"))
            merged = by_key.setdefault(key, {column: row.get(column) for column in ("dataset", "kind", "model", *_ORIGIN)})
            merged.update({f"{level}_{name}": row[name] for name in _STUDY})
    tables = {}
    for (dataset, _, _), row in by_key.items():
        tables.setdefault(dataset, []).append(row)
    return tables


def models_at_chance(frame_rows) -> dict[str, float]:
    """{model: in-domain frame ROC-AUC} of the models below :data:`CHANCE_ROC_AUC` on the
    data set they were trained on (the best of their in-domain rows; rows without an
    AUC are not judged)."""
    best = {}
    for row in frame_rows:
        auc = row.get("roc_auc")
        if is_in_domain(row) and isinstance(auc, (int, float)) and not math.isnan(auc):
            best[row["model"]] = max(auc, best.get(row["model"], auc))
    return {model: auc for model, auc in best.items() if auc < CHANCE_ROC_AUC}


def rows_for_checks(rows) -> list:
    """The rows the study's comparisons use: each model at its own t (searched or default),
    not the extra rows at the study's t."""
    return [row for row in rows if row.get("decision_threshold_source") != decision.STUDY] or list(rows)


def results_readme(frame_rows, video_rows, localisation_rows) -> str:
    """The results folder's README.md: the study's checks, its table per data set, then the
    detailed tables."""
    sections = ["# Results", "", "Computed by `python -m experiments.evaluate`; tables also as CSV and JSON.", ""]
    for level, rows in (("Frames", frame_rows), ("Videos", video_rows)):
        sections += [f"## The study's comparisons: {level.lower()}", ""]
        sections += ["| question | here | study's finding | holds |", "|---|---|---|---|"]
        for check in study_checks(rows_for_checks(rows)):
            holds = MISSING if check.holds is None else ("yes" if check.holds else "no")
            sections.append(f"| {check.question} | {check.answer} | {check.study_finding} | {holds} |")
        sections.append("")
    at_chance = models_at_chance(frame_rows)
    if at_chance:
        listed = ", ".join(f"{model} ({auc:.2f})" for model, auc in at_chance.items())
        sections += [f"**At chance on the data set they were trained on** (frame ROC-AUC below "
                     f"{CHANCE_ROC_AUC}): {listed}. These models have not learned, so the comparisons "
                     "above that they win or lose say nothing about the study's finding.", ""]
    for dataset, rows in study_tables(frame_rows, video_rows).items():
        sections += [f"## The study's table: {dataset}", "", markdown_table(rows, STUDY_COLUMNS)]
    for title, rows, columns in (
        ("Frame table", frame_rows, FRAME_COLUMNS),
        ("Video table", video_rows, VIDEO_COLUMNS),
        ("Localisation (segmentation models)", localisation_rows, LOCALISATION_COLUMNS),
    ):
        sections += [f"## {title}", "", markdown_table(rows, columns)]
    return "\n".join(sections)


def _best_in_domain(rows) -> Check:
    in_domain = {}
    for row in rows:
        if is_in_domain(row) and row["f1"] > in_domain.get(row["model"], (-1.0,))[0]:
            in_domain[row["model"]] = (row["f1"], row)
    return _winner(
        "Best F1 in-domain", "a classifier", CLASSIFIER, in_domain, max,
        lambda value, row: f"F1 {value:.3f} on {row['dataset']}",
        none="no model was evaluated on the data set it was trained on",
    )


def _smallest_drop(rows) -> Check:
    drops = {}
    for model, model_rows in _by_model(rows).items():
        inside = [row["f1"] for row in model_rows if is_in_domain(row)]
        outside = [row["f1"] for row in model_rows if not is_in_domain(row)]
        if inside and outside:
            drops[model] = (_mean(inside) - _mean(outside), model_rows[0])
    return _winner(
        "Generalises best (smallest F1 drop from in-domain to the other data sets)",
        "a segmentation model", SEGMENTATION, drops, min,
        lambda value, row: f"drop {value:.3f}",
        none="no model was evaluated both in and out of its training domain",
    )


def _best_recall(rows) -> Check:
    recalls = {
        model: (_mean([row["recall"] for row in model_rows]), model_rows[0])
        for model, model_rows in _by_model(rows).items()
    }
    return _winner(
        "Best recall (mean over data sets)", "a segmentation model", SEGMENTATION, recalls, max,
        lambda value, row: f"recall {value:.3f}",
        none="no rows",
    )


def _winner(question, finding, expected_kind, scored, pick, describe, *, none) -> Check:
    """The model ``pick`` (max or min) chooses from ``scored`` (model -> (value, a row)).

    The finding holds iff the winner is of ``expected_kind``; it cannot be tested
    (None) when fewer than two kinds competed.
    """
    if not scored:
        return Check(question, none, finding, None)
    model = pick(scored, key=lambda name: scored[name][0])
    value, row = scored[model]
    answer = f"{model} ({row['kind']}): {describe(value, row)}"
    kinds = {entry_row["kind"] for _, entry_row in scored.values()}
    holds = row["kind"] == expected_kind if len(kinds) > 1 else None
    return Check(question, answer, finding, holds)


def _mean(values) -> float:
    return sum(values) / len(values)


def _by_model(rows) -> dict:
    grouped = {}
    for row in rows:
        grouped.setdefault(row["model"], []).append(row)
    return grouped


def _is_missing(value) -> bool:
    return value is None or (isinstance(value, float) and math.isnan(value))


def _formatted(value) -> str:
    if _is_missing(value):
        return MISSING
    if isinstance(value, float):
        return f"{value:.3f}"
    return str(value)
