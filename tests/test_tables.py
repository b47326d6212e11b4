"""Tables written from given rows, and the study's checks computed from them."""

import csv
import json
import math

from dfseg_tf.evaluation import tables

SYNTHETIC = "dfdc_masks/synthetic"
FFPP = "dfdc_masks/faceforensics"


def _row(model, kind, dataset, f1, recall, trained_on):
    return {
        "model": model,
        "kind": kind,
        "dataset": dataset,
        "precision": 0.5,
        "recall": recall,
        "f1": f1,
        "roc_auc": math.nan,
        "frames": 10,
        "trained_on": trained_on,
    }


# The study's pattern: the classifier wins in-domain but drops; the U-Net holds and recalls more.
STUDY_ROWS = [
    _row("xception", "classifier", f"{SYNTHETIC}:test", f1=0.95, recall=0.60, trained_on=SYNTHETIC),
    _row("xception", "classifier", f"{FFPP}:test", f1=0.55, recall=0.40, trained_on=SYNTHETIC),
    _row("unet", "segmentation", f"{SYNTHETIC}:test", f1=0.85, recall=0.90, trained_on=SYNTHETIC),
    _row("unet", "segmentation", f"{FFPP}:test", f1=0.80, recall=0.85, trained_on=SYNTHETIC),
]


def test_markdown_table_formats_floats_and_missing_values():
    text = tables.markdown_table(STUDY_ROWS[:1], ("model", "f1", "roc_auc", "frames", "weights"))
    assert text.splitlines() == [
        "| model | f1 | roc_auc | frames | weights |",
        "|---|---|---|---|---|",
        "| xception | 0.950 | n/a | 10 | n/a |",
    ]


def test_write_table_writes_markdown_csv_and_json(tmp_path):
    columns = ("model", "dataset", "f1", "roc_auc")
    paths = tables.write_table(STUDY_ROWS, columns, tmp_path / "out", "frames")
    assert [path.name for path in paths] == ["frames.md", "frames.csv", "frames.json"]
    with (tmp_path / "out" / "frames.csv").open() as handle:
        records = list(csv.DictReader(handle))
    assert [record["model"] for record in records] == ["xception", "xception", "unet", "unet"]
    assert records[2]["f1"] == "0.85" and records[2]["roc_auc"] == ""
    loaded = json.loads((tmp_path / "out" / "frames.json").read_text())
    assert loaded[1] == {"model": "xception", "dataset": f"{FFPP}:test", "f1": 0.55, "roc_auc": None}
    assert (tmp_path / "out" / "frames.md").read_text().count("\n") == 2 + len(STUDY_ROWS)


def test_in_domain_ignores_the_split():
    assert tables.is_in_domain(STUDY_ROWS[0])
    assert not tables.is_in_domain(STUDY_ROWS[1])


def test_study_checks_on_rows_that_follow_the_study():
    best, drop, recall = tables.study_checks(STUDY_ROWS)
    assert best.answer.startswith("xception (classifier): F1 0.950") and best.holds is True
    # Drops: xception 0.95 - 0.55 = 0.40, unet 0.85 - 0.80 = 0.05.
    assert drop.answer == "unet (segmentation): drop 0.050" and drop.holds is True
    # Mean recalls: xception 0.50, unet 0.875.
    assert recall.answer == "unet (segmentation): recall 0.875" and recall.holds is True


def test_study_checks_say_when_a_finding_fails():
    rows = [dict(row) for row in STUDY_ROWS]
    rows[2]["f1"] = 0.99  # the U-Net now wins in-domain...
    rows[3]["f1"] = 0.40  # ...and drops 0.59, more than the classifier's 0.40
    best, drop, _ = tables.study_checks(rows)
    assert best.answer.startswith("unet") and best.holds is False
    assert drop.answer == "xception (classifier): drop 0.400" and drop.holds is False


def test_study_checks_cannot_test_findings_with_one_kind_or_no_in_domain_row():
    unet_only = [row for row in STUDY_ROWS if row["model"] == "unet"]
    assert [check.holds for check in tables.study_checks(unet_only)] == [None, None, None]
    off_domain = [dict(row, trained_on="dfdc_masks/dfdc") for row in STUDY_ROWS]
    best, drop, recall = tables.study_checks(off_domain)
    assert best.holds is None and "no model was evaluated on" in best.answer
    assert drop.holds is None
    assert recall.holds is True


def test_results_readme_holds_checks_and_tables():
    text = tables.results_readme(STUDY_ROWS, STUDY_ROWS, [])
    assert "| Best F1 in-domain | xception (classifier): F1 0.950 on dfdc_masks/synthetic:test | a classifier | yes |" in text
    assert text.count("## The study's comparisons") == 2
    assert "## Frame table" in text and "## Localisation (segmentation models)" in text
    assert text.count("## The study's table: ") == 2


def test_the_study_table_puts_frame_and_video_scores_of_a_model_and_t_on_one_row():
    frames = [dict(row, decision_threshold_source="default") for row in STUDY_ROWS]
    videos = [dict(row, f1=row["f1"] / 2, decision_threshold_source="default") for row in STUDY_ROWS]
    at_study_t = dict(STUDY_ROWS[2], f1=0.1, decision_threshold_source="study")
    frames.append(at_study_t)
    videos.append(at_study_t)
    by_dataset = tables.study_tables(frames, videos)
    assert list(by_dataset) == [f"{SYNTHETIC}:test", f"{FFPP}:test"]
    rows = by_dataset[f"{SYNTHETIC}:test"]
    assert [(row["model"], row["decision_threshold_source"]) for row in rows] == [
        ("xception", "default"), ("unet", "default"), ("unet", "study")]
    assert (rows[1]["frame_f1"], rows[1]["video_f1"], rows[1]["frame_recall"]) == (0.85, 0.425, 0.90)
    assert set(tables.STUDY_COLUMNS) <= set(rows[0]) | {"decision_threshold", "weights"}
    # the comparisons use each model at its own t, not the extra rows at the study's
    assert at_study_t not in tables.rows_for_checks(frames) and len(tables.rows_for_checks(frames)) == 4


def test_results_readme_names_the_models_at_chance_in_domain():
    rows = [dict(row, roc_auc=auc) for row, auc in zip(STUDY_ROWS, (0.52, 0.9, 0.8, 0.45))]
    # xception: 0.52 in-domain (its 0.9 out of domain does not count); unet: 0.8 in-domain
    assert tables.models_at_chance(rows) == {"xception": 0.52}
    text = tables.results_readme(rows, rows, [])
    assert "**At chance on the data set they were trained on** (frame ROC-AUC below 0.6): xception (0.52)." in text
    assert "At chance" not in tables.results_readme(STUDY_ROWS, STUDY_ROWS, [])  # no AUC: not judged
