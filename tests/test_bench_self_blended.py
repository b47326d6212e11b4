"""experiments.bench_self_blended end to end at the smallest size: every model scored on every set."""

import json
import math
import pathlib

from experiments import bench_self_blended


def test_three_models_per_seed_are_scored_on_every_other_layout_beside_the_reference_masks(tmp_path, capsys):
    output = tmp_path / "bench.json"
    bench_self_blended.main(["--work-dir", str(tmp_path / "work"), "--frames", "1", "--epochs", "1",
                             "--max-train-batches", "1", "--lr-schedule", "cosine", "--clip-norm", "1.0",
                             "--seeds", "0", "1", "--output", str(output)])
    results = json.loads(output.read_text())
    run_dirs = {seed: pathlib.Path(results["models"][seed]["both"]["model"]).parent for seed in ("0", "1")}
    assert run_dirs["0"] != run_dirs["1"]
    for seed, run_dir in run_dirs.items():
        run_config = json.loads((run_dir / "config.json").read_text())
        assert (run_config["lr_schedule"], run_config["clip_norm"], run_config["seed"]) == ("cosine", 1.0, int(seed))
    sets = {"synthetic (in domain)", "faceforensics_mini", "dfd_mini", "celebdf_mini"}
    assert {row["dataset"] for row in results["rows"]} == sets
    references = {"all-crop mask", "face-ellipse mask"}
    variants = {"dfdc", "self_blended", "both"}
    assert {row["model"] for row in results["rows"]} == references | variants
    assert sorted((row["model"], row["seed"], row["dataset"]) for row in results["rows"] if "seed" in row) == sorted(
        (model, seed, dataset) for model in variants for seed in (0, 1) for dataset in sets)
    assert results["models"]["1"]["both"]["trained_on"] == "+".join(
        results["datasets"][name] for name in ("synthetic", "self_blended"))
    for row in results["rows"]:
        assert 0 < row["fake_dice"] < 1 if row["model"] in references else 0 <= row["fake_dice"] <= 1
        assert row["frame_roc_auc"] is None or 0 <= row["frame_roc_auc"] <= 1 or math.isnan(row["frame_roc_auc"])
    assert {(entry["model"], entry["dataset"], tuple(entry["seeds"])) for entry in results["summary"]} == {
        (model, dataset, (0, 1)) for model in variants for dataset in sets}
    assert {(count["model"], count["dataset"]) for count in results["seeds_beating_baseline"]} == {
        (model, dataset) for model in ("self_blended", "both") for dataset in sets - {"synthetic (in domain)"}}
    printed = capsys.readouterr().out
    assert "seed 0, by training data" in printed and "seed 1, by training data" in printed
    assert "mean [min, max] over seeds 0, 1" in printed


def _row(model, seed, dataset, auc, dice):
    return {"model": model, "seed": seed, "dataset": dataset, "frame_roc_auc": auc, "fake_dice": dice}


def test_the_summary_gives_mean_and_range_over_seeds_and_leaves_the_reference_masks_out():
    rows = [
        {"model": "all-crop mask", "dataset": "dfd_mini", "frame_roc_auc": None, "fake_dice": 0.5},
        _row("dfdc", 0, "dfd_mini", 0.6, 0.2),
        _row("dfdc", 1, "dfd_mini", 0.9, 0.4),
        _row("dfdc", 2, "dfd_mini", 0.75, 0.9),
    ]
    assert bench_self_blended.summarise_seeds(rows) == [{
        "model": "dfdc", "dataset": "dfd_mini", "seeds": [0, 1, 2],
        "frame_roc_auc": {"mean": 0.75, "min": 0.6, "max": 0.9},
        "fake_dice": {"mean": 0.5, "min": 0.2, "max": 0.9},
    }]


def test_a_challenger_wins_a_seed_only_above_the_difference_mask_model_and_only_on_unseen_data():
    rows = [
        _row("dfdc", 0, "dfd_mini", 0.6, 0.2), _row("self_blended", 0, "dfd_mini", 0.7, 0.2),
        _row("both", 0, "dfd_mini", 0.6, 0.2),  # a tie is not a win
        _row("dfdc", 1, "dfd_mini", 0.8, 0.2), _row("self_blended", 1, "dfd_mini", 0.9, 0.2),
        _row("both", 1, "dfd_mini", 0.5, 0.2),
        _row("dfdc", 0, "synthetic (in domain)", 0.5, 0.2), _row("self_blended", 0, "synthetic (in domain)", 0.9, 0.2),
    ]
    assert bench_self_blended.seeds_beating_baseline(rows) == [
        {"model": "self_blended", "dataset": "dfd_mini", "seeds": 2, "wins": 2},
        {"model": "both", "dataset": "dfd_mini", "seeds": 2, "wins": 0},
    ]


def test_seed_still_names_one_seed():
    assert bench_self_blended.build_parser().parse_args(["--seed", "1"]).seeds == [1]


def test_the_data_sets_trained_on_read_the_corpus_size_they_are_named_after():
    configs = bench_self_blended.build_configs(frames=8, parts=40, with_ffpp=False)
    assert configs["synthetic"] == {"name": "bench_synthetic_p40_f8", "dataset": "synthetic", "corpus_parts": 40,
                                    "frames_per_video": 8}
    assert configs["self_blended"] == {"name": "bench_self_blended_p40_f8", "dataset": "self_blended",
                                       "reals_of": "synthetic", "corpus_parts": 40, "frames_per_video": 8}
    assert configs["dfd_mini"] == {"name": "bench_dfd_mini_f8", "dataset": "dfd", "frames_per_video": 8}
