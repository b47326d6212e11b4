"""The dfdc_masks TFDS builder: TFDS's own tests on dummy data, and real builds read back.

The builder is only ever run through ``tfds build`` in a subprocess (as users run it),
so this process reads the records with ``tfds.load`` without importing the builder.
"""

import json
import pathlib
import subprocess
import sys

import cv2
import numpy as np
import pytest
import tensorflow_datasets as tfds

from dfseg_tf.build import SYNTHETIC_CORPUS_FOLDER
from dfseg_tf.corpus import load_manifest, load_planted_kind, load_planted_masks

REPO = pathlib.Path(__file__).resolve().parents[1]
DATASETS_DIR = REPO / "datasets"
CONFIG_NAME = "synthetic_f4"  # conftest.synthetic_records: the synthetic config at 4 frames a video
BEAM_OPTIONS = "runner=DirectRunner,direct_num_workers=2,direct_running_mode=multi_processing"
MIN_FAKE_IOU = 0.5  # measured: 0.69-0.88 per frame on the synthetic corpus


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
    return json.loads((pathlib.Path(data_dir) / "dfdc_masks" / CONFIG_NAME / "1.0.0" / "skip_report.json").read_text())


def test_tfds_builder_test_case_passes_for_every_config_on_dummy_data():
    result = _run("pytest", "-v", "-p", "no:cacheprovider", "dfdc_masks/dfdc_masks_dataset_builder_test.py")
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


def test_real_masks_are_empty_and_fake_masks_match_the_planted_regions(built):
    checked_fakes = 0
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
            iou = (planted & mask).sum() / (planted | mask).sum()
            assert iou >= MIN_FAKE_IOU, f"{video_id} frame {example['frame_index']}: IoU {iou:.2f}"
            checked_fakes += 1
    assert checked_fakes > 50


def test_skip_report_lists_exactly_the_planted_faults_and_the_summary_is_printed(built):
    report = _report(built["local_dir"])
    skipped = {skip["video_id"]: skip["reason"].split(":")[0] for skip in report["skipped"]}
    assert skipped == load_manifest(built["corpus"], "dfdc").faults()
    summary = f"{report['processed']} videos used, {report['skipped_count']} skipped"
    assert f"dfdc_masks/{CONFIG_NAME}: {summary}" in built["local"].stdout


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
