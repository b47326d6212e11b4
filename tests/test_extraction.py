"""From listed videos to examples, on the miniature corpus: masks, reuse of boxes, every fault skipped."""

import collections
import dataclasses

import cv2
import numpy as np
import pytest

import skimage.data
from matplotlib import get_data_path
from matplotlib import image as mpl_image

from dfseg_tf.corpus import (
    CorpusSpec,
    load_planted_masks,
    write_dfd_corpus,
    write_dfdc_corpus,
    write_faceforensics_corpus,
    write_h264,
)
from dfseg_tf.extraction import (
    BoxCache,
    ExtractionConfig,
    SkipReport,
    VideoSkipped,
    extract_many,
    extract_video,
)
from dfseg_tf.extraction.detectors import default_detector
from dfseg_tf.extraction.video import probe, sample_frame_indices
from dfseg_tf.sources import VideoEntry, list_dfd, list_dfdc, list_dfdc_test_set, list_faceforensics

FRAMES = 4
CONFIG = ExtractionConfig(frames_per_video=FRAMES)
CORPUS_PARTS = 10  # write_dfdc_corpus's parts: split as a DFDC of 10 parts


@pytest.fixture(scope="module")
def detector():
    return default_detector()


@pytest.fixture(scope="module")
def dfdc(tmp_path_factory):
    return write_dfdc_corpus(tmp_path_factory.mktemp("dfdc"), CorpusSpec())


@pytest.fixture(scope="module")
def dfd(tmp_path_factory):
    return write_dfd_corpus(tmp_path_factory.mktemp("dfd"), CorpusSpec())


@pytest.fixture(scope="module")
def faceforensics(tmp_path_factory):
    return write_faceforensics_corpus(tmp_path_factory.mktemp("ff"), CorpusSpec(), pairs=1)


@pytest.fixture(scope="module")
def extracted(dfdc, dfd, detector):
    """Every DFDC and DFD training video through ``extract_many``, as a 10,000-video loop would."""
    entries = list_dfdc(dfdc.root, n_parts=CORPUS_PARTS) + list_dfd(dfd.root)
    report = SkipReport()
    examples = {entry.video_id: examples for entry, examples in extract_many(entries, CONFIG, detector=detector, report=report)}
    return entries, examples, report


def test_every_planted_fault_is_skipped_with_its_reason_and_the_rest_goes_on(extracted, dfdc, dfd):
    entries, examples, report = extracted
    planted = {**dfdc.faults(), **dfd.faults()}
    skipped = {s["video_id"]: s["reason"] for s in report.skipped}
    assert {video_id: reason.split(":")[0] for video_id, reason in skipped.items()} == planted
    assert set(report.reason_counts()) == {
        "unreadable", "missing file", "missing original", "size mismatch", "length mismatch", "not aligned", "no face",
    }
    assert all(str(entry.path) in skipped[entry.video_id] for entry in entries if entry.video_id in skipped)
    assert report.processed == len(examples) == len(entries) - len(planted)


def test_examples_have_the_contract_shapes(extracted):
    _, examples, _ = extracted
    for video_examples in examples.values():
        assert [e.frame_index for e in video_examples] == [0, 5, 10, 15]  # 4 of 16 frames
        for example in video_examples:
            assert example.image.shape == (256, 256, 3) and example.image.dtype == np.uint8
            assert example.mask.shape == (256, 256, 1) and example.mask.dtype == np.uint8
            assert set(np.unique(example.mask)) <= {0, 1}
            x0, y0, x1, y1 = example.box
            assert x1 - x0 == y1 - y0 > 0


def test_fake_masks_match_the_planted_manipulation(extracted, dfdc):
    """The planted truth is where a feathered change reaches half its amplitude; the mask threshold,
    set from the codec noise, is far lower, so the masks hold most of the planted region and the
    feather around it. The partial changes are as faint as real ones (docs/METHOD.md 7), and the
    faintest texture changes partly vanish under the codec (measured here: recall 0.85 partial,
    0.99 whole; IoU 0.69 and 0.76)."""
    entries, examples, _ = extracted
    ious, recalls = collections.defaultdict(list), collections.defaultdict(list)
    for entry in entries:
        if entry.is_fake and entry.video_id in examples and entry.source == "dfdc":
            planted = load_planted_masks(dfdc.root, entry.video_id)
            kind = dfdc.by_id(entry.video_id).kind
            ious[kind] += [_iou(_planted_crop(planted, e), e.mask[..., 0]) for e in examples[entry.video_id]]
            recalls[kind] += [_recall(_planted_crop(planted, e), e.mask[..., 0]) for e in examples[entry.video_id]]
    for kind, min_recall in (("partial", 0.8), ("whole", 0.95)):
        assert np.mean(recalls[kind]) >= min_recall, kind
        assert np.mean(ious[kind]) >= 0.5, kind
    assert np.mean(ious["none"]) == 1.0  # a fake whose face was never changed: empty mask, not noise


def test_real_videos_have_empty_masks_and_fakes_show_their_own_pixels(extracted, dfdc):
    entries, examples, _ = extracted
    by_id = {entry.video_id: entry for entry in entries}
    fake = next(e for e in dfdc.fakes("partial") if e.video_id in examples)
    fake_examples, real_examples = examples[fake.video_id], examples[fake.original_id]
    assert not any(e.mask.any() for e in real_examples)
    for fake_example, real_example in zip(fake_examples, real_examples):
        assert fake_example.box == real_example.box  # the original's box, cut from both
        changed = fake_example.mask[..., 0] == 1
        difference = np.abs(fake_example.image.astype(int) - real_example.image).sum(axis=-1)
        assert difference[changed].mean() > 5 * difference[~changed].mean()
    assert by_id[fake.video_id].original_path.name == f"{fake.original_id}.mp4"


def test_portrait_videos_and_differing_frame_rates_just_work(extracted, dfdc):
    entries, examples, _ = extracted
    listed = {entry.video_id for entry in entries}
    portrait = [v.video_id for v in dfdc.with_note("portrait") if not v.fault and v.video_id in listed]
    assert portrait and all(video_id in examples for video_id in portrait)
    assert len({v.fps for v in dfdc.videos if v.video_id in examples}) >= 3


def test_detection_runs_once_per_original_and_not_again_after_an_interruption(dfdc, detector, tmp_path):
    fakes_by_original = collections.defaultdict(list)
    for video in dfdc.fakes():
        if not video.fault:
            fakes_by_original[video.original_id].append(video.video_id)
    original_id, fake_ids = max(fakes_by_original.items(), key=lambda item: len(item[1]))
    assert len(fake_ids) == 3
    entries = [e for e in list_dfdc(dfdc.root, n_parts=CORPUS_PARTS) if e.video_id in fake_ids + [original_id]]

    before = detector.frames_detected
    for _ in zip(range(1), extract_many(entries, CONFIG, detector=detector, box_cache=BoxCache(tmp_path))):
        pass  # interrupted after the first video
    assert detector.frames_detected - before == FRAMES

    before = detector.frames_detected
    assert len(list(extract_many(entries, CONFIG, detector=detector, box_cache=BoxCache(tmp_path)))) == 4
    assert detector.frames_detected == before  # a new process finds the boxes on disk


def test_faceswap_fake_shorter_than_its_original_is_aligned_from_frame_0(faceforensics, detector):
    entries = {e.video_id: e for e in list_faceforensics(faceforensics.root)}
    faceswap = next(e for e in entries.values() if e.source == "faceforensics/FaceSwap")
    n_frames = faceforensics.by_id(faceswap.video_id).n_frames
    examples = extract_video(faceswap, CONFIG, detector=detector)
    assert [e.frame_index for e in examples] == [0, 4, 8, 12] and n_frames == 13
    planted = load_planted_masks(faceforensics.root, faceswap.video_id)
    assert np.mean([_recall(_planted_crop(planted, e), e.mask[..., 0]) for e in examples]) >= 0.95
    assert np.mean([_iou(_planted_crop(planted, e), e.mask[..., 0]) for e in examples]) >= 0.5

    strict = ExtractionConfig(frames_per_video=FRAMES, allow_shorter_fake=False)
    with pytest.raises(VideoSkipped, match=r"^length mismatch: .*000_001.mp4|^length mismatch: .*001_000.mp4"):
        extract_video(faceswap, strict, detector=detector)


def test_fake_without_an_original_is_cropped_on_its_own_face(dfdc, detector):
    fake = next(e for e in list_dfdc_test_set(dfdc.test_set_dir) if e.is_fake)
    examples = extract_video(fake, CONFIG, detector=detector)
    assert len(examples) == FRAMES and not any(e.mask.any() for e in examples)


def _two_faces_frame() -> np.ndarray:
    """480x360: the astronaut's face large on the left, Grace Hopper's smaller on the right."""
    frame = np.full((360, 480, 3), 120, np.uint8)
    astronaut = cv2.resize(skimage.data.astronaut()[30:200, 150:300], (240, 272), interpolation=cv2.INTER_AREA)
    frame[40:312, 20:260] = astronaut  # face about 133 x 171 px
    grace = np.asarray(mpl_image.imread(f"{get_data_path()}/sample_data/grace_hopper.jpg"))[60:380, 140:390, :3]
    frame[100:244, 320:432] = cv2.resize(grace, (112, 144), interpolation=cv2.INTER_AREA)  # face about 78 x 99 px
    return frame


GRACE_FACE_CENTRE = (378, 180)
BACKGROUND_PATCH = (slice(312, 352), slice(300, 340))  # away from both faces' boxes


def test_a_fake_is_cropped_on_the_face_it_changed_and_frames_whose_change_is_elsewhere_are_skipped(tmp_path, detector):
    """Two real faces; the fake changes the SMALLER one in frames 0-2, and a patch of
    background (no face) in frames 3-5: those cannot be labelled and are counted as skipped."""
    original = _two_faces_frame()
    changed_face = original.copy()
    cv2.ellipse(changed_face, GRACE_FACE_CENTRE, (28, 36), 0, 0, 360, (200, 60, 160), -1)
    changed_background = original.copy()
    changed_background[BACKGROUND_PATCH] = (40, 200, 40)
    write_h264(tmp_path / "original.mp4", [original] * 6)
    write_h264(tmp_path / "fake.mp4", [changed_face] * 3 + [changed_background] * 3)
    fake = VideoEntry("fake", tmp_path / "fake.mp4", "fake", "train", "dfdc", "original", tmp_path / "original.mp4")
    report = SkipReport()

    examples = extract_video(fake, ExtractionConfig(frames_per_video=6), detector=detector, report=report)

    assert [e.frame_index for e in examples] == [0, 1, 2]
    for example in examples:
        x0, y0, x1, y1 = example.box
        assert x0 <= GRACE_FACE_CENTRE[0] < x1 and y0 <= GRACE_FACE_CENTRE[1] < y1 and x1 - x0 < 200
        assert example.mask.mean() > 0.1  # the changed face, not an empty mask
    assert [(s["frame_index"], s["reason"].split(":")[0]) for s in report.skipped_frames] == [
        (3, "face not found"), (4, "face not found"), (5, "face not found"),
    ]
    assert "3 frames of used videos skipped (3 face not found)" in report.summary_line()
    real = extract_video(VideoEntry("original", tmp_path / "original.mp4", "real", "train", "dfdc", "original", None),
                         ExtractionConfig(frames_per_video=6), detector=detector)
    assert all(e.box[2] - e.box[0] > 200 for e in real)  # a real video is cropped on its main (larger) face


def test_a_face2face_fake_cropped_narrower_and_longer_than_its_original_is_put_back_in_its_place(tmp_path, detector):
    """FaceForensics++ Face2Face renders a centred window of its target 16-31 px narrower
    (854 -> 832) and runs past the target's end; here 480x360 -> 464x352, 6 frames -> 9.
    The fake's frames are compared in their place in the original's, over the original's 6."""
    original = _two_faces_frame()
    changed = original.copy()
    cv2.ellipse(changed, GRACE_FACE_CENTRE, (28, 36), 0, 0, 360, (200, 60, 160), -1)
    window = (slice(4, 356), slice(8, 472))  # 352 rows, 464 columns, centred
    official = np.zeros(original.shape, np.uint8)
    cv2.ellipse(official, GRACE_FACE_CENTRE, (28, 36), 0, 0, 360, (255, 255, 255), -1)
    write_h264(tmp_path / "000.mp4", [original] * 6)
    write_h264(tmp_path / "000_001.mp4", [changed[window]] * 9)
    write_h264(tmp_path / "mask.mp4", [official[window]] * 9)
    fake = VideoEntry("Face2Face/000_001", tmp_path / "000_001.mp4", "fake", "test", "faceforensics/Face2Face",
                      "000", tmp_path / "000.mp4", mask_path=tmp_path / "mask.mp4")

    examples = extract_video(fake, ExtractionConfig(frames_per_video=3), detector=detector)

    assert [e.frame_index for e in examples] == sample_frame_indices(6, 3) != sample_frame_indices(9, 3)
    truth = np.repeat(official[None, ..., 0] > 0, 6, axis=0)
    for example in examples:
        x0, y0, x1, y1 = example.box  # in the original's pixels, around the changed face
        assert x0 <= GRACE_FACE_CENTRE[0] < x1 and y0 <= GRACE_FACE_CENTRE[1] < y1 and x1 - x0 < 200
        planted = _planted_crop(truth, example)
        assert _iou(planted, example.mask[..., 0]) >= 0.7
        assert _iou(planted, example.official_mask[..., 0]) >= 0.9  # the mask video is put back too
    with pytest.raises(VideoSkipped, match=r"^size mismatch: .*000_001.mp4: 464x352, original .*000.mp4 is 480x360"):
        extract_video(fake, ExtractionConfig(frames_per_video=3, allow_cropped_fake=False), detector=detector)
    with pytest.raises(VideoSkipped, match=r"^length mismatch: .*000_001.mp4: 9 frames, original .*000.mp4 has 6"):
        extract_video(fake, ExtractionConfig(frames_per_video=3, allow_longer_fake=False), detector=detector)
    deepfake = dataclasses.replace(fake, source="faceforensics/Deepfakes")  # a face swap keeps the size
    with pytest.raises(VideoSkipped, match=r"^size mismatch"):
        extract_video(deepfake, ExtractionConfig(frames_per_video=3), detector=detector)


def test_the_miniature_writes_face2face_pipeline_fakes_as_faceforensics_ships_them_and_each_is_used(
        tmp_path, detector):
    """Put back in place, each fake's mask lies on its planted change. The masks are smaller than
    those of the same fakes uncropped: an 8-row shift puts the fake on another macroblock grid
    than its original, the codec noise of the pair rises and the noise-set mask threshold with
    it (docs/METHOD.md section 1), so the faint Face2Face edits keep only their strongest part."""
    corpus = write_faceforensics_corpus(tmp_path, CorpusSpec(), pairs=1, face2face_pipeline=True)
    entries = [e for e in list_faceforensics(corpus.root)
               if e.source in ("faceforensics/Face2Face", "faceforensics/NeuralTextures")]
    assert len(entries) == 4
    lengths = set()
    for entry in entries:
        fake, original = probe(entry.path), probe(entry.original_path)
        assert (fake.width % 32, fake.height % 32) == (0, 0) and 0 < (original.width - fake.width) + (
            original.height - fake.height) < 32
        lengths.add(np.sign(fake.n_frames - original.n_frames))
        examples = extract_video(entry, CONFIG, detector=detector)
        assert [e.frame_index for e in examples] == sample_frame_indices(min(fake.n_frames, original.n_frames), FRAMES)
        planted = load_planted_masks(corpus.root, entry.video_id)
        assert planted.shape[1:] == (original.height, original.width)  # the truth lies in the original's frame
        masks = [(e.mask[..., 0] == 1, _planted_crop(planted, e)) for e in examples]
        assert sum(mask.any() for mask, _ in masks) >= FRAMES - 1, entry.video_id
        assert min(_precision(truth, mask) for mask, truth in masks if mask.any()) >= 0.9, entry.video_id
    assert lengths == {-1, 1}  # one fake of each pair shorter than its original, one longer


def test_config_rejects_nonsense_and_says_which_sources_may_be_shorter():
    with pytest.raises(ValueError, match="frames_per_video must be at least 1, got 0"):
        ExtractionConfig(frames_per_video=0)
    assert ExtractionConfig().allows_shorter_fake("faceforensics/FaceSwap")
    assert not ExtractionConfig().allows_shorter_fake("dfdc")
    assert ExtractionConfig(allow_shorter_fake=True).allows_shorter_fake("dfdc")
    assert ExtractionConfig().allows_longer_fake("faceforensics/Face2Face")
    assert not ExtractionConfig().allows_longer_fake("faceforensics/FaceSwap")
    assert ExtractionConfig().allows_shorter_fake("faceforensics/NeuralTextures")
    assert ExtractionConfig().allows_cropped_fake("faceforensics/NeuralTextures")
    assert not ExtractionConfig().allows_cropped_fake("faceforensics/Deepfakes")


def _planted_crop(planted: np.ndarray, example) -> np.ndarray:
    x0, y0, x1, y1 = example.box
    crop = planted[example.frame_index, y0:y1, x0:x1].astype(np.uint8)
    return cv2.resize(crop, example.mask.shape[:2][::-1], interpolation=cv2.INTER_NEAREST)


def _recall(truth: np.ndarray, predicted: np.ndarray) -> float:
    """The share of the true region that the mask holds."""
    return float(np.logical_and(truth, predicted).sum() / max(np.count_nonzero(truth), 1))


def _precision(truth: np.ndarray, predicted: np.ndarray, tolerance: int = 3) -> float:
    """The share of the mask within ``tolerance`` pixels of the true region."""
    near_truth = cv2.dilate(truth.astype(np.uint8), np.ones((2 * tolerance + 1,) * 2, np.uint8))
    return float(np.logical_and(near_truth, predicted).sum() / max(np.count_nonzero(predicted), 1))


def _iou(truth: np.ndarray, predicted: np.ndarray) -> float:
    """Intersection over union; two empty masks agree perfectly."""
    union = np.logical_or(truth, predicted).sum()
    return 1.0 if union == 0 else float(np.logical_and(truth, predicted).sum() / union)
