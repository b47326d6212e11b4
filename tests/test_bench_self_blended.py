"""experiments.bench_self_blended end to end at the smallest size: every model scored on every set."""

import json
import math
import pathlib

from dfseg_tf.corpus import CorpusSpec, write_faceforensics_corpus
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
    variants = {"difference_masks", "self_blended", "both"}
    assert {row["model"] for row in results["rows"]} == references | variants
    assert sorted((row["model"], row["seed"], row["dataset"]) for row in results["rows"] if "seed" in row) == sorted(
        (model, seed, dataset) for model in variants for seed in (0, 1) for dataset in sets)
    assert results["models"]["1"]["both"]["trained_on"] == "+".join(
        results["datasets"][name] for name in ("difference", "self_blended"))
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
        _row("difference_masks", 0, "dfd_mini", 0.6, 0.2),
        _row("difference_masks", 1, "dfd_mini", 0.9, 0.4),
        _row("difference_masks", 2, "dfd_mini", 0.75, 0.9),
    ]
    assert bench_self_blended.summarise_seeds(rows) == [{
        "model": "difference_masks", "dataset": "dfd_mini", "seeds": [0, 1, 2],
        "frame_roc_auc": {"mean": 0.75, "min": 0.6, "max": 0.9},
        "fake_dice": {"mean": 0.5, "min": 0.2, "max": 0.9},
    }]


def test_a_challenger_wins_a_seed_only_above_the_difference_mask_model_and_only_on_unseen_data():
    rows = [
        _row("difference_masks", 0, "dfd_mini", 0.6, 0.2), _row("self_blended", 0, "dfd_mini", 0.7, 0.2),
        _row("both", 0, "dfd_mini", 0.6, 0.2),  # a tie is not a win
        _row("difference_masks", 1, "dfd_mini", 0.8, 0.2), _row("self_blended", 1, "dfd_mini", 0.9, 0.2),
        _row("both", 1, "dfd_mini", 0.5, 0.2),
        _row("difference_masks", 0, "synthetic (in domain)", 0.5, 0.2), _row("self_blended", 0, "synthetic (in domain)", 0.9, 0.2),
    ]
    assert bench_self_blended.seeds_beating_baseline(rows) == [
        {"model": "self_blended", "dataset": "dfd_mini", "seeds": 2, "wins": 2},
        {"model": "both", "dataset": "dfd_mini", "seeds": 2, "wins": 0},
    ]


def test_seed_still_names_one_seed():
    assert bench_self_blended.build_parser().parse_args(["--seed", "1"]).seeds == [1]


def test_the_data_sets_trained_on_read_the_corpus_size_they_are_named_after():
    configs = bench_self_blended.build_configs(frames=8, parts=40, with_ffpp=False)
    assert configs["difference"] == {"name": "bench_difference_p40_f8", "dataset": "synthetic", "corpus_parts": 40,
                                    "frames_per_video": 8}
    assert configs["self_blended"] == {"name": "bench_self_blended_p40_f8", "dataset": "self_blended",
                                       "reals_of": "synthetic", "corpus_parts": 40, "frames_per_video": 8}
    assert configs["dfd_mini"] == {"name": "bench_dfd_mini_f8", "dataset": "dfd", "frames_per_video": 8}


def test_the_data_sets_trained_on_can_be_a_real_faceforensics_folder_at_its_quality():
    configs = bench_self_blended.build_configs(frames=16, parts=40, with_ffpp=True, train_compression="c40",
                                               blend_frames=32)
    assert configs["difference"] == {"name": "bench_difference_ffpp_c40_f16", "dataset": "faceforensics",
                                     "compression": "c40", "frames_per_video": 16}
    assert configs["self_blended"] == {"name": "bench_self_blended_ffpp_c40_f32", "dataset": "self_blended",
                                       "reals_of": "faceforensics", "compression": "c40", "frames_per_video": 32}
    assert configs["ffpp_real"] == {"name": "bench_ffpp_real_f16", "dataset": "faceforensics", "frames_per_video": 16}


def test_trained_on_a_faceforensics_folder_without_validation_pairs_the_models_validate_on_training_batches(
        tmp_path):
    folder = tmp_path / "ffpp"
    write_faceforensics_corpus(folder, CorpusSpec())
    splits = folder / "splits"
    pairs = [json.loads((splits / f"{name}.json").read_text()) for name in ("train", "val", "test")]
    (splits / "val.json").write_text("[]")
    (splits / "test.json").write_text(json.dumps(pairs[1] + pairs[2]))
    output = tmp_path / "bench.json"
    bench_self_blended.main(["--work-dir", str(tmp_path / "work"), "--train-ffpp", str(folder), "--frames", "1",
                             "--blend-frames", "2", "--epochs", "1", "--max-train-batches", "1",
                             "--output", str(output)])
    results = json.loads(output.read_text())
    assert results["datasets"]["self_blended"] == "dfdc_masks/bench_self_blended_ffpp_c23_f2"
    models = results["models"]["0"]
    assert {run["validated_on"] for run in models.values()} == {"train"}
    run_config = json.loads((pathlib.Path(models["both"]["model"]).parent / "config.json").read_text())
    assert (run_config["validation_split"], run_config["max_val_batches"]) == (
        "train", bench_self_blended.VALIDATION_BATCHES_FROM_TRAIN)
    in_domain = [row for row in results["rows"] if row["dataset"] == "ffpp_train (in domain)" and "seed" in row]
    assert {row["model"] for row in in_domain} == set(bench_self_blended.TRAINED_ON)
    test_videos = 2 * len(pairs[1] + pairs[2]) * (1 + 5)  # each pair's two originals and ten fakes, a frame each
    assert {row["frames"] for row in in_domain} == {test_videos}
    assert "synthetic (in domain)" not in {row["dataset"] for row in results["rows"]}
