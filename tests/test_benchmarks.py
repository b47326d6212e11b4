"""Each benchmark runs end to end at a tiny size and writes figures that hang together.

The figures themselves are machine-dependent and are not asserted; what must hold on any
machine is asserted: every stage measured, positive rates, parameter counts, ratios that
are the quotients they claim to be, face crops that grow with the face.
"""

import json

import pytest

from dfseg_tf.training.precision import resolve_precision
from experiments import bench_build, bench_corpus, bench_masks, bench_precision, bench_predict, bench_train


def _run(main, argv, output) -> dict:
    main([*argv, "--output", str(output)])
    return json.loads(output.read_text())


def test_bench_masks_measures_quality_speed_and_cost_by_face_size(tmp_path):
    results = _run(bench_masks.main, [
        "--thresholds", "20,30", "--frames-per-video", "2",
        "--speed-width", "320", "--speed-height", "240", "--speed-frames", "16", "--speed-fakes", "1",
        "--speed-repeats", "1", "--speed-face-heights", "0.3,0.45",
    ], tmp_path / "masks.json")

    assert set(results["quality"]) == {"20.0", "30.0"}
    for row in results["quality"].values():
        assert set(row["mean_iou"]) == {"none", "partial", "whole"}
        assert all(0 <= iou <= 1 for iou in row["mean_iou"].values())
    by_height = results["mask_cost_by_face_height"]
    assert list(by_height) == ["0.3", "0.45"]
    assert by_height["0.3"]["crop_side_px"] < by_height["0.45"]["crop_side_px"]
    for row in by_height.values():
        for clock in ("cpu", "wall"):
            cost = row[clock]
            assert cost["mask_ms_per_pair"] > 0 and cost["pair_decode_ms"] > 0
            assert cost["mask_cost_vs_pair_decode"] == pytest.approx(cost["mask_ms_per_pair"] / cost["pair_decode_ms"])
        assert row["mask_target_met"] == (row["cpu"]["mask_cost_vs_pair_decode"] < 0.10)
    assert results["speed"]["example_ms_per_pair"] > 0
    memory = results["speed"]["memory"]
    assert memory["peak_rss_mib_many_videos"] < 1.2 * memory["peak_rss_mib_one_video"]


def test_bench_train_reports_speed_and_memory_of_a_real_fit_step(tmp_path):
    results = _run(bench_train.main, [
        "--models", "unet_v1", "--steps", "2", "--warmup-steps", "1", "--image-size", "64", "--batch-size", "2",
    ], tmp_path / "train.json")

    (row,) = results["results"]
    assert row["model"] == "unet_v1"
    assert row["parameters"] == 1_832_257
    assert row["policy"] == resolve_precision("auto")  # float32, or mixed_bfloat16 on a CPU with AMX
    assert row["images_per_second"] == pytest.approx(2 / row["seconds_per_step"])
    assert row["peak_memory_mb"] > 0


def test_bench_predict_times_each_stage_of_dfseg_predict(tmp_path):
    results = _run(bench_predict.main, [
        "--width", "320", "--height", "240", "--seconds", "1", "--frames", "4", "--repeats", "1",
        "--overlay", "none", "--workdir", str(tmp_path / "work"),
    ], tmp_path / "predict.json")

    assert results["frames_sampled"] == 4
    assert results["cold"]["command_seconds"] > results["cold"]["video_seconds"] > 0
    assert {"decode", "detect", "model"} <= set(results["cold"]["stage_seconds"])
    for run in results["warm"].values():
        assert run["faces_found"] == 4
        assert run["seconds"] > 0


def test_bench_build_fits_every_stage_and_projects_the_full_dfdc(tmp_path):
    results = _run(bench_build.main, [
        "--parts", "2", "4", "--frames-per-video", "2", "--skip-beam",
        "--hd-seconds", "1", "--hd-frames-per-video", "2", "--pipeline-images", "64",
    ], tmp_path / "build.json")

    synthetic = results["synthetic"]
    for stage in ("decode_and_detection", "extraction", "build_local"):
        runs = synthetic[stage]["runs"]
        assert [run["parts"] for run in runs] == [2, 4]
        assert runs[0]["videos"] < runs[1]["videos"]
    hours = results["projection"]["hours_on_workers"]
    assert hours["16"] < hours["1"]
    assert results["input_pipeline"]["images"] == 64
    assert results["input_pipeline"]["images_per_s"] > 0


def test_bench_precision_trains_the_same_run_under_each_policy(synthetic_records, tmp_path):
    results = _run(bench_precision.main, [
        "--data-dir", str(synthetic_records.data_dir), "--config", synthetic_records.config,
        "--model", "unet_v1", "--epochs", "1",
    ], tmp_path / "precision.json")

    assert [run["policy"] for run in results["runs"]] == ["float32", "mixed_bfloat16"]
    for run in results["runs"]:
        assert 0 <= run["best_val_dice"] <= 1 and run["train_images_per_second"] > 0
        assert run["wall_seconds"] > 0 and run["cpu_seconds"] > 0


def test_bench_corpus_measures_each_style_of_planted_fake(tmp_path):
    results = _run(bench_corpus.main, [
        "--parts", "3", "--frames", "2", "--width", "160", "--height", "120",
    ], tmp_path / "corpus.json")

    corpus = results["corpus"]
    assert "whole:swap" in corpus and any(style.startswith("partial:") for style in corpus)
    for row in corpus.values():
        quantiles = [row["planted"]["quantiles"][q] for q in ("50", "75", "90", "95", "99")]
        assert quantiles == sorted(quantiles)
        assert row["planted"]["quantiles"]["50"] > row["face_box"]["quantiles"]["50"]  # the region is the change
