"""Official FaceForensics++ / DFD mask videos: picked up by the readers, cut like the difference masks,
stored as the ``official_mask`` feature; on the builder's dummy data (Deepfakes has mask videos)."""

import dataclasses
import logging
import pathlib
import shutil

import numpy as np
import pytest

from dfseg_tf.records import frame_features, tfds_example
from dfseg_tf.extraction import ExtractionConfig, FaceDetector, extract_video
from dfseg_tf.extraction.official_masks import OFFICIAL_MASK_LEVEL, official_mask_crop, write_mask_video
from dfseg_tf.sources import list_dfd, list_faceforensics

DUMMY_DATA = pathlib.Path(__file__).resolve().parents[1] / "datasets" / "dfdc_masks" / "dummy_data"
CONFIG = ExtractionConfig(frames_per_video=4, size=64)


@pytest.fixture(scope="module")
def ffpp_entries():
    return {entry.video_id: entry for entry in list_faceforensics(DUMMY_DATA)}


@pytest.fixture(scope="module")
def detector():
    return FaceDetector()


def test_faceforensics_reader_picks_up_the_mask_videos_that_exist(ffpp_entries):
    with_masks = {video_id for video_id, entry in ffpp_entries.items() if entry.mask_path is not None}
    assert with_masks == {video_id for video_id in ffpp_entries if video_id.startswith("Deepfakes/")}
    assert len(with_masks) == 6
    entry = ffpp_entries["Deepfakes/000_004"]
    assert entry.mask_path == DUMMY_DATA / "manipulated_sequences/Deepfakes/masks/videos/000_004.mp4"


def test_dfd_reader_picks_up_a_mask_video_of_the_same_name(tmp_path):
    root = tmp_path / "ffpp"
    shutil.copytree(DUMMY_DATA / "original_sequences", root / "original_sequences")
    shutil.copytree(DUMMY_DATA / "manipulated_sequences/DeepFakeDetection", root / "manipulated_sequences/DeepFakeDetection")
    masks = root / "manipulated_sequences/DeepFakeDetection/masks/videos"
    masks.mkdir(parents=True)
    fake = sorted((root / "manipulated_sequences/DeepFakeDetection/c23/videos").glob("*.mp4"))[0]
    shutil.copy(DUMMY_DATA / "manipulated_sequences/Deepfakes/masks/videos/000_004.mp4", masks / fake.name)
    fakes = {entry.video_id: entry.mask_path for entry in list_dfd(root) if entry.is_fake}
    assert fakes.pop(f"DeepFakeDetection/{fake.stem}") == masks / fake.name
    assert set(fakes.values()) == {None}


def test_official_mask_frame_is_binarised_above_the_level_and_resized_with_nearest_neighbour():
    frame = np.zeros((40, 60, 3), np.uint8)
    frame[10:20, 10:30] = OFFICIAL_MASK_LEVEL + 9  # a dark shade of a rendered face: kept
    frame[25:35, 10:30] = OFFICIAL_MASK_LEVEL  # codec ringing on the black background: dropped
    crop = official_mask_crop(frame, (0, 0, 40, 40), 20)  # x0, y0, x1, y1: a 40-pixel square, halved
    assert crop.shape == (20, 20, 1) and crop.dtype == np.uint8
    assert crop[5:10, 5:15].all() and crop.sum() == 5 * 10


def test_official_masks_are_cut_with_the_fake_box_and_agree_with_the_difference_masks(ffpp_entries, detector):
    examples = extract_video(ffpp_entries["Deepfakes/000_004"], CONFIG, detector=detector)
    assert len(examples) == 4
    ious = []
    for example in examples:
        official = example.official_mask
        assert official.shape == (64, 64, 1) and set(np.unique(official)) <= {0, 1}
        mask, truth = example.mask.astype(bool), official.astype(bool)
        ious.append((mask & truth).sum() / (mask | truth).sum())
    assert np.mean(ious) > 0.5  # the mask videos hold the planted masks the fakes were made with
    stored = frame_features(size=64).encode_example(tfds_example(ffpp_entries["Deepfakes/000_004"], examples[0]))
    assert stored["has_official_mask"]


def test_fakes_without_a_mask_video_store_an_empty_official_mask(ffpp_entries, detector):
    entry = ffpp_entries["FaceSwap/000_004"]
    example = extract_video(entry, CONFIG, detector=detector)[0]
    assert example.official_mask is None
    features = tfds_example(entry, example)
    assert features["has_official_mask"] is False and not features["official_mask"].any()
    assert features["official_mask"].shape == (64, 64, 1)


def test_an_unusable_mask_video_is_left_out_with_a_warning_and_the_fake_kept(ffpp_entries, detector, tmp_path, caplog):
    entry = ffpp_entries["Deepfakes/000_004"]
    wrong_size = write_mask_video(tmp_path / "000_004.mp4", [np.zeros((32, 48), np.uint8)] * 8)
    truncated = tmp_path / "truncated.mp4"
    truncated.write_bytes(entry.mask_path.read_bytes()[:300])
    for mask_path in (wrong_size, truncated):
        with caplog.at_level(logging.WARNING, logger="dfseg_tf.extraction.official_masks"):
            examples = extract_video(dataclasses.replace(entry, mask_path=mask_path), CONFIG, detector=detector)
        assert len(examples) == 4 and all(example.official_mask is None for example in examples)
        assert "official mask left out: " in caplog.text and str(mask_path) in caplog.text
