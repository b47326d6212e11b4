"""experiments.bench_self_blended end to end at the smallest size: every model scored on every set."""

import json
import math
import pathlib

from experiments import bench_self_blended


def test_three_models_are_scored_on_every_other_layout_beside_the_all_crop_mask(tmp_path):
    output = tmp_path / "bench.json"
    bench_self_blended.main(["--work-dir", str(tmp_path / "work"), "--frames", "1", "--epochs", "1",
                             "--max-train-batches", "1", "--lr-schedule", "cosine", "--clip-norm", "1.0",
                             "--output", str(output)])
    results = json.loads(output.read_text())
    run_config = json.loads((pathlib.Path(results["models"]["both"]["model"]).parent / "config.json").read_text())
    assert (run_config["lr_schedule"], run_config["clip_norm"]) == ("cosine", 1.0)
    sets = {"synthetic (in domain)", "faceforensics_mini", "dfd_mini", "celebdf_mini"}
    assert {row["dataset"] for row in results["rows"]} == sets
    references = {"all-crop mask", "face-ellipse mask"}
    assert {row["model"] for row in results["rows"]} == references | {"dfdc", "self_blended", "both"}
    assert results["models"]["both"]["trained_on"] == "+".join(
        results["datasets"][name] for name in ("synthetic", "self_blended"))
    for row in results["rows"]:
        assert 0 < row["fake_dice"] < 1 if row["model"] in references else 0 <= row["fake_dice"] <= 1
        assert row["frame_roc_auc"] is None or 0 <= row["frame_roc_auc"] <= 1 or math.isnan(row["frame_roc_auc"])


def test_the_data_sets_trained_on_read_the_corpus_size_they_are_named_after():
    configs = bench_self_blended.build_configs(frames=8, parts=40, with_ffpp=False)
    assert configs["synthetic"] == {"name": "bench_synthetic_p40_f8", "dataset": "synthetic", "corpus_parts": 40,
                                    "frames_per_video": 8}
    assert configs["self_blended"] == {"name": "bench_self_blended_p40_f8", "dataset": "self_blended",
                                       "reals_of": "synthetic", "corpus_parts": 40, "frames_per_video": 8}
    assert configs["dfd_mini"] == {"name": "bench_dfd_mini_f8", "dataset": "dfd", "frames_per_video": 8}
