"""Each benchmark runs end to end at a tiny size and writes figures that hang together.

The figures themselves are machine-dependent and are not asserted; what must hold on any
machine is asserted: every stage measured, positive rates, parameter counts, ratios that
are the quotients they claim to be, face crops that grow with the face.
"""

import importlib.util
import json
import pathlib
import shutil

import cv2
import pytest

from dfseg_tf.corpus import CorpusSpec, write_faceforensics_corpus
from dfseg_tf.extraction import iter_frames
from dfseg_tf.sources import list_faceforensics
from dfseg_tf.training.policy import auto_policy
from dfseg_tf.training.precision import resolve_precision
from experiments import (
    bench_build,
    bench_corpus,
    bench_detectors,
    bench_masks,
    bench_precision,
    bench_predict,
    bench_train,
)

DUMMY_DATA = pathlib.Path(__file__).resolve().parents[1] / "datasets" / "dfdc_masks" / "dummy_data"


def _run(main, argv, output) -> dict:
    main([*argv, "--output", str(output)])
    return json.loads(output.read_text())


def test_bench_masks_measures_quality_speed_and_cost_by_face_size(tmp_path):
    results = _run(bench_masks.main, [
        "--mask-thresholds", "noise,30", "--frames-per-video", "2",
        "--speed-width", "320", "--speed-height", "240", "--speed-frames", "16", "--speed-fakes", "1",
        "--speed-repeats", "1", "--speed-face-heights", "0.3,0.45",
    ], tmp_path / "masks.json")

    assert set(results["quality"]) == {"noise", "30.0"}
    for row in results["quality"].values():
        assert set(row["mean_iou"]) == {"none", "partial", "whole"}
        assert all(0 <= iou <= 1 for iou in row["mean_iou"].values())
    assert set(results["quality"]["30.0"]["mean_mask_threshold"].values()) == {30.0}
    by_height = results["mask_cost_by_face_height"]
    assert list(by_height) == ["0.3", "0.45"]
    assert by_height["0.3"]["crop_side_px"] < by_height["0.45"]["crop_side_px"]
    for row in by_height.values():
        for clock in ("cpu", "wall"):
            cost = row[clock]
            assert cost["mask_ms_per_pair"] > 0 and cost["pair_decode_ms"] > 0
            assert cost["mask_cost_vs_pair_decode"] == pytest.approx(cost["mask_ms_per_pair"] / cost["pair_decode_ms"])
            assert cost["noise_cost_vs_pair_decode"] == pytest.approx(cost["noise_ms_per_pair"] / cost["pair_decode_ms"])
        assert row["mask_target_met"] == (row["cpu"]["mask_cost_vs_pair_decode"] < 0.10)
    assert results["speed"]["example_ms_per_pair"] > 0
    memory = results["speed"]["memory"]
    assert memory["peak_rss_mib_many_videos"] < 1.2 * memory["peak_rss_mib_one_video"]


def _official_style_folders(tmp_path) -> pathlib.Path:
    """From the builder's dummy data: a FaceForensics++ root with Deepfakes and its mask videos,
    and an example-frames folder made of one frame of a pair and of its mask video."""
    real = tmp_path / "real"
    for folder in ("original_sequences/youtube", "manipulated_sequences/Deepfakes"):
        shutil.copytree(DUMMY_DATA / folder, real / "ffpp" / folder)
    frames = real / "official_frames"
    frames.mkdir()
    for name, video in {"ex_original": "original_sequences/youtube/c23/videos/000.mp4",
                        "ex_deepfakes": "manipulated_sequences/Deepfakes/c23/videos/000_004.mp4",
                        "ex_deepfakes_mask": "manipulated_sequences/Deepfakes/masks/videos/000_004.mp4"}.items():
        (_, frame), = iter_frames(DUMMY_DATA / video, [0])
        cv2.imwrite(str(frames / f"{name}.png"), cv2.cvtColor(frame, cv2.COLOR_RGB2BGR))
    return real


def test_bench_masks_reports_real_data_per_method_and_rule(tmp_path):
    results = _run(bench_masks.main, [
        "--real", str(_official_style_folders(tmp_path)), "--skip-quality", "--skip-speed",
        "--mask-thresholds", "noise,30", "--fill-holes", "both", "--real-frames-per-video", "2",
        "--workdir", str(tmp_path / "work"),
    ], tmp_path / "masks.json")

    assert set(results["real"]) == {"ffpp", "official_frames"}
    for rules in results["real"].values():
        assert set(rules) == {"noise", "noise unfilled", "30.0", "30.0 unfilled"}
        for methods in rules.values():
            assert set(methods) == {"Deepfakes"}
            row = methods["Deepfakes"]
            assert row["frames"] == row["frames_with_official_mask"] == 2 * row["videos"]
            assert 0 <= row["iou_vs_official"] <= 1 and 0 <= row["empty_mask_fraction"] <= 1
            assert 0 <= row["outside_flagged"] <= row["outside_over_threshold"] <= 1
        assert rules["30.0"]["Deepfakes"]["mean_mask_threshold"] == 30.0
    assert results["real"]["ffpp"]["noise"]["Deepfakes"]["videos"] == 6
    assert (tmp_path / "work/real/clips/official_frames/manipulated_sequences/Deepfakes/masks/videos/000_001.mp4").is_file()


def test_bench_train_reports_speed_and_memory_of_a_real_fit_step(tmp_path):
    results = _run(bench_train.main, [
        "--models", "unet_v1", "--steps", "2", "--warmup-steps", "1", "--image-size", "64", "--batch-size", "2",
    ], tmp_path / "train.json")

    (row,) = results["results"]
    assert (row["runner"], row["model"], row["input"]) == ("keras/tensorflow", "unet_v1", "tf.data pipeline")
    assert row["parameters"] == 1_832_257
    assert row["policy"] == resolve_precision("auto")  # float32, or mixed_bfloat16 on a CPU with AMX
    assert row["images_per_second"] == pytest.approx(2 / row["seconds_per_step"])
    assert row["inference_images_per_second"] == pytest.approx(2 / row["inference_seconds_per_step"])
    assert row["cpu_seconds_per_step"] > 0 and row["peak_memory_mb"] > 0
    assert results["ratios"] == []


def test_bench_train_keeps_the_rows_it_measured_when_a_later_child_fails(tmp_path):
    output = tmp_path / "train.json"
    # 48 px: unet (4 poolings) takes it, unet_v1 (5 poolings) refuses it in its own child
    with pytest.raises(SystemExit, match="measuring unet_v1 with keras/tensorflow failed"):
        bench_train.main(["--models", "unet", "unet_v1", "--backend", "tensorflow", "--steps", "1",
                          "--warmup-steps", "1", "--image-size", "48", "--batch-size", "2", "--output", str(output)])
    written = json.loads(output.read_text())
    assert [(row["runner"], row["model"]) for row in written["results"]] == [("keras/tensorflow", "unet")]
    assert written["results"][0]["images_per_second"] > 0 and written["ratios"] == []


# The GPU machine has JAX and PyTorch but no TensorFlow: the benchmark's measurement under
# jax must import and run with TensorFlow made unimportable.
JAX_CHILD = """
from experiments import bench_train
bench_train.main(["--child", "keras/jax", "unet_v1", "--steps", "2", "--warmup-steps", "1",
                  "--image-size", "32", "--batch-size", "2"])
"""


def test_bench_train_measures_under_jax_without_tensorflow(run_under_jax_without_tensorflow):
    child = run_under_jax_without_tensorflow(JAX_CHILD)
    assert child.returncode == 0, child.stderr[-2000:]
    row = json.loads(child.stdout.strip().splitlines()[-1])
    assert (row["runner"], row["input"], row["compile"]) == ("keras/jax", "in-memory batches", "XLA (jax.jit)")
    # --precision auto: the project's rule off TensorFlow too (mixed_bfloat16 on a CPU with AMX)
    assert row["parameters"] == 1_832_257 and row["policy"] == auto_policy([])
    assert row["images_per_second"] > 0 and row["inference_images_per_second"] > 0


def test_bench_train_times_the_pytorch_peer_and_divides_by_it(tmp_path):
    if importlib.util.find_spec("torch") is None:
        pytest.skip("PyTorch is not installed (the [bench] extra brings it): no peer to time")
    results = _run(bench_train.main, [
        "--models", "unet_v1", "--steps", "2", "--warmup-steps", "1", "--image-size", "32", "--batch-size", "2",
        "--peer", "torch", "--peer-variants", "eager",
    ], tmp_path / "train.json")

    project, peer = results["results"]
    assert peer["runner"] == "torch/eager" and peer["parameters"] == project["parameters"] == 1_832_257
    (ratio,) = results["ratios"]
    assert ratio["training"] == pytest.approx(project["images_per_second"] / peer["images_per_second"])
    assert ratio["inference"] == pytest.approx(
        project["inference_images_per_second"] / peer["inference_images_per_second"])
    assert ratio["training_cpu"] == pytest.approx(peer["cpu_seconds_per_step"] / project["cpu_seconds_per_step"])


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


def test_bench_detectors_compares_detectors_on_real_layout_frames_and_the_corpus(tmp_path):
    """The miniature FaceForensics++ corpus stands in for the real FF++ folder (same layout)."""
    ff = write_faceforensics_corpus(tmp_path / "ff", CorpusSpec(), pairs=1)
    results = _run(bench_detectors.main, [
        "--real", str(ff.root), "--corpora", "dfd", "--frames", "2", "--pair-frames", "2",
        "--detectors", "mtcnn_960,blazeface_full,cascade", "--workdir", str(tmp_path / "corpora"),
    ], tmp_path / "detectors.json")

    assert set(results["detectors"]) == {"mtcnn_960", "blazeface_full", "cascade"}
    for name, per_set in results["detectors"].items():
        for set_name in ("real_1080p", "corpus"):
            row = per_set[set_name]
            assert row["found"] + row["missed"] == row["frames"] > 0
            assert 0 < row["crop_iou_min"] <= row["crop_iou_mean"] <= 1
        assert per_set["real_1080p"]["cpu_seconds_per_frame"] > 0
    assert results["detectors"]["mtcnn_960"]["real_1080p"]["crop_iou_mean"] == 1.0  # the reference itself
    assert "scale" in results["detectors"]["blazeface_full"]["fitted_calibration"]["corpus"]
    n_fakes = sum(entry.is_fake for entry in list_faceforensics(ff.root))
    assert len(results["real_pairs_extraction"]) == 2 * n_fakes  # each fake with MTCNN and with the cascade


def test_bench_precision_trains_the_same_run_under_each_policy(synthetic_records, tmp_path):
    results = _run(bench_precision.main, [
        "--data-dir", str(synthetic_records.data_dir), "--config", synthetic_records.config,
        "--model", "unet_v1", "--epochs", "1", "--max-train-batches", "2",
    ], tmp_path / "precision.json")

    assert [run["policy"] for run in results["runs"]] == ["float32", "mixed_bfloat16"]
    assert results["max_train_batches"] == 2
    for run in results["runs"]:
        assert 0 <= run["best_val_dice"] <= 1 and run["train_images_per_second"] > 0
        assert run["wall_seconds"] > 0 and run["cpu_seconds"] > 0
        assert run["train_images_per_second"] * run["wall_seconds"] == pytest.approx(2 * 16)  # 2 batches of 16


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
