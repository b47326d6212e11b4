"""The dfdc_masks TFDS builder: TFDS's own tests on dummy data, and real builds read back.

The builder runs through ``tfds build`` in a subprocess (as users run it) or through
``experiments.tfds_build`` (TFDS's Python API, as ``tfds build`` calls it), which loads it
without registering it, so this process reads the records with ``tfds.load`` from their
dataset_info.json.
"""

import json
import pathlib
import shutil
import signal
import subprocess
import sys
import time

import cv2
import numpy as np
import pytest
import tensorflow_datasets as tfds

from dfseg_tf.records import SYNTHETIC_CORPUS_FOLDER, EmptySplitError
from dfseg_tf.corpus import load_manifest, load_planted_kind, load_planted_masks
from dfseg_tf.sources import SourceLayoutError
from experiments import tfds_build

VERSION = "1.1.0"  # the builder's VERSION: the folder the records are written to

REPO = pathlib.Path(__file__).resolve().parents[1]
DATASETS_DIR = REPO / "datasets"
CONFIG_NAME = "synthetic_f4"  # conftest.synthetic_records: the synthetic config at 4 frames a video
BEAM_OPTIONS = "runner=DirectRunner,direct_num_workers=2,direct_running_mode=multi_processing"
# Fake frames against the planted region (the half-amplitude contour of a feathered change).
# The corpus's fakes are as faint as real deepfakes' (docs/METHOD.md 7), and the faintest
# partial changes (low-amplitude texture) partly vanish under the codec, as NeuralTextures'
# do, so bounds hold over the frames, not per frame (measured on synthetic_f4 with the
# noise-set mask threshold: median recall 0.93, mean IoU 0.67 over 124 fake frames).
MIN_MEDIAN_FAKE_RECALL = 0.85
MIN_MEAN_FAKE_IOU = 0.5


def _run(*args, cwd=DATASETS_DIR) -> subprocess.CompletedProcess:
    result = subprocess.run([sys.executable, "-m", *args], cwd=cwd, capture_output=True, text=True, timeout=900)
    result.output = result.stdout + result.stderr  # tfds logs on stderr, the builder prints on stdout
    return result


def _tfds_build(*args, cwd=DATASETS_DIR) -> subprocess.CompletedProcess:
    return _run("tensorflow_datasets.scripts.cli.main", "build", *args, cwd=cwd)


@pytest.fixture(scope="module")
def built(synthetic_records, tmp_path_factory):
    """The session's local build of the small synthetic config, and a Beam build sharing its corpus."""
    beam_dir = tmp_path_factory.mktemp("beam")
    beam = _tfds_build(
        "datasets/dfdc_masks", "--config", synthetic_records.config, "--data_dir", str(beam_dir),
        "--download_dir", str(synthetic_records.download_dir), f"--beam_pipeline_options={BEAM_OPTIONS}", cwd=REPO,
    )
    assert beam.returncode == 0, beam.output[-4000:]
    return {
        "local_dir": synthetic_records.data_dir,
        "beam_dir": beam_dir,
        "corpus": synthetic_records.download_dir / SYNTHETIC_CORPUS_FOLDER,
        "local": synthetic_records.build,
        "beam": beam,
    }


def _load(data_dir, split):
    return tfds.as_numpy(tfds.load(f"dfdc_masks/{CONFIG_NAME}", data_dir=str(data_dir), split=split))


def _splits(data_dir) -> dict:
    return tfds.builder(f"dfdc_masks/{CONFIG_NAME}", data_dir=str(data_dir)).info.splits


def _report(data_dir) -> dict:
    return json.loads((pathlib.Path(data_dir) / "dfdc_masks" / CONFIG_NAME / VERSION / "skip_report.json").read_text())


def test_tfds_builder_test_case_passes_for_every_config_on_dummy_data():
    # -n 0: without setup.cfg's pytest-xdist workers, -v prints "Class::test PASSED" lines
    result = _run("pytest", "-v", "-n", "0", "-p", "no:cacheprovider", "dfdc_masks/dfdc_masks_dataset_builder_test.py")
    assert result.returncode == 0, result.output[-4000:]
    for test_class in ("SyntheticTest", "DfdcTest", "FaceForensicsTest", "DfdTest", "SelfBlendedTest"):
        assert f"{test_class}::test_download_and_prepare_as_dataset PASSED" in result.output


def test_examples_have_the_contract_features(built):
    splits = _splits(built["local_dir"])
    assert set(splits) == {"train", "validation", "test"}
    example = next(iter(_load(built["local_dir"], "train")))
    assert example["image"].shape == (256, 256, 3) and example["image"].dtype == np.uint8
    assert example["mask"].shape == (256, 256, 1) and example["mask"].dtype == np.uint8
    assert example["box"].shape == (4,) and example["box"].dtype == np.int32
    assert example["frame_index"].dtype == np.int32
    assert example["source"] == b"synthetic"
    assert set(np.unique(example["mask"])) <= {0, 1}
    assert example["official_mask"].shape == (256, 256, 1) and not example["official_mask"].any()
    assert not example["has_official_mask"]  # the synthetic DFDC-shaped corpus ships no mask videos


def test_real_masks_are_empty_and_fake_masks_match_the_planted_regions(built):
    ious, recalls = [], []
    for split in ("train", "validation", "test"):
        for example in _load(built["local_dir"], split):
            mask = example["mask"][..., 0].astype(bool)
            if example["label"] == 0:
                assert not mask.any(), example["video_id"]
                continue
            video_id = example["video_id"].decode()
            x0, y0, x1, y1 = example["box"]
            planted = load_planted_masks(built["corpus"], video_id)[example["frame_index"]][y0:y1, x0:x1]
            planted = cv2.resize(planted.astype(np.uint8), (256, 256), interpolation=cv2.INTER_NEAREST).astype(bool)
            if load_planted_kind(built["corpus"], video_id) == "none":
                assert not mask.any(), f"{video_id} was never changed"
                continue
            ious.append((planted & mask).sum() / (planted | mask).sum())
            recalls.append((planted & mask).sum() / planted.sum())
    assert len(ious) > 50 and np.mean(ious) >= MIN_MEAN_FAKE_IOU
    assert np.median(recalls) >= MIN_MEDIAN_FAKE_RECALL


def test_skip_report_lists_exactly_the_planted_faults_and_the_summary_is_printed(built):
    report = _report(built["local_dir"])
    skipped = {skip["video_id"]: skip["reason"].split(":")[0] for skip in report["skipped"]}
    assert skipped == load_manifest(built["corpus"], "dfdc").faults()
    summary = f"{report['processed']} videos used, {report['skipped_count']} skipped"
    assert f"dfdc_masks/{CONFIG_NAME}: {summary}" in built["local"].output


def test_no_original_has_frames_in_two_splits(built):
    split_of_original = {}
    for split in ("train", "validation", "test"):
        for example in _load(built["local_dir"], split):
            original = example["original_id"].decode()
            assert split_of_original.setdefault(original, split) == split, original


def test_local_build_caches_the_boxes_of_every_original_in_the_data_dir(built):
    cache = built["local_dir"] / "downloads" / "dfdc_masks_boxes" / f"{CONFIG_NAME}-4frames-margin0.2"
    cached = {json.loads(path.read_text())["original_id"] for path in cache.glob("*.json")}
    originals = {ex["original_id"].decode() for split in ("train", "validation", "test") for ex in _load(built["local_dir"], split)}
    assert originals <= cached


def test_beam_build_writes_the_same_examples_and_report_as_the_local_build(built):
    def summary(data_dir):
        return {
            split: sorted(
                (ex["video_id"], int(ex["frame_index"]), tuple(ex["box"]), int(ex["mask"].sum()))
                for ex in _load(data_dir, split)
            )
            for split in ("train", "validation", "test")
        }

    assert summary(built["beam_dir"]) == summary(built["local_dir"])
    assert _report(built["beam_dir"]) == _report(built["local_dir"])
    assert "videos used" in built["beam"].stdout


def test_a_manual_dir_without_dfdc_parts_fails_early_naming_what_is_missing(tmp_path):
    (tmp_path / "notes.txt").write_text("not a DFDC download")
    result = _tfds_build("dfdc_masks", "--config", "dfdc", "--manual_dir", str(tmp_path), "--data_dir", str(tmp_path / "data"))
    assert result.returncode != 0
    assert f"{tmp_path}: no DFDC parts found; expected" in result.output


# A partial DFDC download: the dummy data's part 0 (train) and part 45 (test), no validation.
PARTIAL_DFDC = json.dumps({"name": "dfdc_partial", "dataset": "dfdc", "validation_fraction": 0, "frames_per_video": 2})
DUMMY_DATA = DATASETS_DIR / "dfdc_masks" / "dummy_data"


def _partial_dfdc(root, *, garbage_test_part=False) -> pathlib.Path:
    for part in (0, 45):
        shutil.copytree(DUMMY_DATA / f"dfdc_train_part_{part}", root / f"dfdc_train_part_{part}")
    if garbage_test_part:
        for video in (root / "dfdc_train_part_45").glob("*.mp4"):
            video.write_bytes(b"garbage, not a video")
    return root


def _build_error(config, data_dir, *extra_args) -> str:
    """The message of the input-data error a build through experiments.tfds_build must raise."""
    with pytest.raises((SourceLayoutError, EmptySplitError)) as failure:
        tfds_build.build(config, data_dir, extra_args=extra_args, capture=True)
    return str(failure.value)


def test_a_split_without_a_usable_video_fails_naming_it_and_keeps_the_skip_report(tmp_path):
    manual_dir = _partial_dfdc(tmp_path / "dfdc", garbage_test_part=True)
    error = _build_error(PARTIAL_DFDC, tmp_path / "data", "--manual_dir", str(manual_dir))
    saved = tmp_path / "data" / "dfdc_masks" / "dfdc_partial" / "skip_report.failed.json"
    assert error == f'split "test" has no usable video: 0 videos used, 8 skipped (8 unreadable); skip report: {saved}'
    report = json.loads(saved.read_text())
    # train: part 0's 6 videos, one of whose original is in part 30 (absent); test: part 45's 8
    assert report["processed"] == 5 and report["skipped_by_reason"] == {"missing original": 1, "unreadable": 8}


def test_a_missing_manual_dir_fails_in_one_line_naming_it_and_what_it_must_hold(tmp_path):
    command = _run("experiments.tfds_build", "build", "dfdc_masks", "--config", "dfdc", "--manual_dir",
                   str(tmp_path / "absent"), "--data_dir", str(tmp_path / "data"), cwd=REPO)
    assert command.returncode == 1
    assert command.stderr == (
        f"tfds build dfdc_masks: error: Manual directory {tmp_path / 'absent'} does not exist or is empty. "
        "--manual_dir must hold the unzipped dfdc_train_part_K/ folders of the DFDC training set, each with "
        "metadata.json and its mp4 files\n"
    )
    # self_blended reads another layout's folder (dfdc by default); celebdf has a layout of its own.
    for config, holds in (("self_blended", "the unzipped dfdc_train_part_K/"), ("celebdf", "the Celeb-DF v2 folder")):
        assert f"--manual_dir must hold {holds}" in _build_error(config, tmp_path / "data", "--manual_dir",
                                                                  str(tmp_path / "absent"))
    metadata = tmp_path / "bad" / "dfdc_train_part_0" / "metadata.json"
    metadata.parent.mkdir(parents=True)
    metadata.write_text("{not json")
    error = _build_error("dfdc", tmp_path / "data", "--manual_dir", str(tmp_path / "bad"))
    assert error.startswith(f"{metadata}: not valid JSON (")
    # TFDS's own command line prints its traceback, but ends with the same line.
    (tmp_path / "empty").mkdir()
    result = _tfds_build(
        "dfdc_masks", "--config", "dfd", "--manual_dir", str(tmp_path / "empty"), "--data_dir", str(tmp_path / "data")
    )
    assert result.returncode != 0
    assert result.output.strip().splitlines()[-1].endswith(
        f"Manual directory {tmp_path / 'empty'} does not exist or is empty. --manual_dir must hold the FaceForensics++ "
        "c23 download with DFD: original_sequences/actors/c23/videos/ and manipulated_sequences/DeepFakeDetection/c23/videos/"
        " (c40 or raw with the config field compression)"
    )


def test_a_build_killed_and_run_again_leaves_only_the_finished_version(tmp_path):
    manual_dir = _partial_dfdc(tmp_path / "dfdc")
    config_dir = tmp_path / "data" / "dfdc_masks" / "dfdc_partial"
    command = [sys.executable, "-m", "experiments.tfds_build", "build", "dfdc_masks", "--config", PARTIAL_DFDC,
               "--data_dir", str(tmp_path / "data"), "--manual_dir", str(manual_dir)]
    with subprocess.Popen(command, cwd=REPO, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL) as killed:
        deadline = time.monotonic() + 600
        while not list(config_dir.glob("incomplete.*")) and killed.poll() is None and time.monotonic() < deadline:
            time.sleep(0.1)
        killed.send_signal(signal.SIGKILL)
    assert killed.returncode == -signal.SIGKILL and list(config_dir.glob("incomplete.*"))

    tfds_build.build(PARTIAL_DFDC, tmp_path / "data", extra_args=["--manual_dir", str(manual_dir)], capture=True)

    assert sorted(path.name for path in config_dir.iterdir()) == [VERSION]
    splits = tfds.builder("dfdc_masks/dfdc_partial", data_dir=str(tmp_path / "data")).info.splits
    assert set(splits) == {"train", "test"}  # parts 0 and 45: the study's split, validation absent
