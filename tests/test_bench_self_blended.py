"""experiments.bench_self_blended end to end at the smallest size: every model scored on every set."""

import json
import math

from experiments import bench_self_blended


def test_three_models_are_scored_on_every_other_layout_beside_the_all_crop_mask(tmp_path):
    output = tmp_path / "bench.json"
    bench_self_blended.main(["--work-dir", str(tmp_path / "work"), "--frames", "1", "--epochs", "1",
                             "--max-train-batches", "1", "--output", str(output)])
    results = json.loads(output.read_text())
    sets = {"synthetic (in domain)", "faceforensics_mini", "dfd_mini", "celebdf_mini"}
    assert {row["dataset"] for row in results["rows"]} == sets
    references = {"all-crop mask", "face-ellipse mask"}
    assert {row["model"] for row in results["rows"]} == references | {"dfdc", "self_blended", "both"}
    assert results["models"]["both"]["trained_on"] == "+".join(
        results["datasets"][name] for name in ("synthetic", "self_blended"))
    for row in results["rows"]:
        assert 0 < row["fake_dice"] < 1 if row["model"] in references else 0 <= row["fake_dice"] <= 1
        assert row["frame_roc_auc"] is None or 0 <= row["frame_roc_auc"] <= 1 or math.isnan(row["frame_roc_auc"])
