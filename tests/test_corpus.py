"""The miniature corpus: real H.264 files, faithful layouts, planted truth and faults."""

import json
import re

import av
import cv2
import numpy as np
import pytest

from dfseg_tf.corpus import (
    CorpusSpec,
    load_manifest,
    load_planted_face_boxes,
    load_planted_kind,
    load_planted_masks,
    write_dfd_corpus,
    write_dfdc_corpus,
    write_faceforensics_corpus,
    write_h264,
)
from dfseg_tf.corpus.faceforensics import METHOD_REGIONS
from dfseg_tf.extraction.masks import blurred_distance

SPEC = CorpusSpec()


@pytest.fixture(scope="session")
def dfdc(tmp_path_factory):
    return write_dfdc_corpus(tmp_path_factory.mktemp("dfdc"), SPEC)


@pytest.fixture(scope="session")
def ffpp_and_dfd(tmp_path_factory):
    """FaceForensics++ and DFD share one download tree, as in the real data."""
    root = tmp_path_factory.mktemp("ffpp")
    return write_faceforensics_corpus(root, SPEC), write_dfd_corpus(root, SPEC)


@pytest.fixture(scope="session")
def manifests(dfdc, ffpp_and_dfd):
    return (dfdc, *ffpp_and_dfd)


def _decode(path):
    with av.open(str(path)) as container:
        return np.stack([f.to_ndarray(format="rgb24") for f in container.decode(video=0)])


def _distance(a, b):
    return np.linalg.norm(a.astype(np.float32) - b.astype(np.float32), axis=-1)


def _with_feather(masks):
    """The masks grown over the soft edge, where the blend weight is between 0 and 0.5."""
    ring = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (41, 41))
    return np.stack([cv2.dilate(m.astype(np.uint8), ring) > 0 for m in masks])


def _readable(manifest):
    return [v for v in manifest.videos if v.fault not in ("missing file", "unreadable")]


# ------------------------------------------------------------------ write_h264


def _gradient_frames(n, height=48, width=64):
    for i in range(n):
        frame = np.zeros((height, width, 3), np.uint8)
        frame[..., 0] = np.linspace(0, 255, width, dtype=np.uint8)[None, :]
        frame[..., 1] = (i * 15) % 256
        yield frame


def test_write_h264_writes_decodable_h264(tmp_path):
    path = write_h264(tmp_path / "sub" / "clip.mp4", _gradient_frames(6), fps=25.0)
    with av.open(str(path)) as container:
        stream = container.streams.video[0]
        assert stream.codec_context.name == "h264"
        assert (stream.width, stream.height) == (64, 48)
        assert stream.average_rate == 25
    decoded = _decode(path)
    assert len(decoded) == 6
    assert abs(int(decoded[3][..., 1].mean()) - 45) <= 3  # the content survives compression


@pytest.mark.parametrize("height,width", [(47, 64), (48, 63)])
def test_write_h264_rejects_odd_size_and_leaves_no_file(tmp_path, height, width):
    path = tmp_path / "odd.mp4"
    with pytest.raises(ValueError, match=r"odd.mp4: H.264 yuv420p needs even width and height"):
        write_h264(path, _gradient_frames(2, height, width))
    assert not path.exists()


def test_write_h264_rejects_frames_changing_size(tmp_path):
    frames = [np.zeros((48, 64, 3), np.uint8), np.zeros((32, 64, 3), np.uint8)]
    with pytest.raises(ValueError, match="frame 1 is 64x32, earlier frames were 64x48"):
        write_h264(tmp_path / "x.mp4", frames)


# ------------------------------------------------------------------ layouts


def test_dfdc_layout_matches_the_download(dfdc):
    root = dfdc.root
    tops = sorted(p.name for p in root.iterdir())
    assert tops == ["_planted", "dfdc_test_set"] + sorted(f"dfdc_train_part_{k}" for k in range(10))
    assert (root / "dfdc_train_part_3/dfdc_train_part_3/metadata.json").is_file()  # nested, as unzipped
    assert not (root / "dfdc_train_part_3/metadata.json").exists()
    null_originals = missing_keys = 0
    for metadata_path in root.glob("dfdc_train_part_*/**/metadata.json"):
        metadata = json.loads(metadata_path.read_text())
        for name, entry in metadata.items():
            assert re.fullmatch(r"[a-z]{10}\.mp4", name) and entry["split"] == "train"
            video = dfdc.by_id(name[:-4])
            assert entry["label"] == video.label.upper()
            assert (metadata_path.parent / name).is_file() == (video.fault != "missing file")
            if video.label == "fake":
                assert entry["original"] == f"{video.original_id}.mp4"
            else:
                null_originals += "original" in entry and entry["original"] is None
                missing_keys += "original" not in entry
    assert null_originals and missing_keys  # both forms of a REAL entry occur
    labels = (root / "dfdc_test_set/labels.csv").read_text().splitlines()
    assert labels[0] == "filename,label" and sorted(l[-1] for l in labels[1:]) == ["0", "0", "1", "1"]


def test_faceforensics_layout_matches_the_download(ffpp_and_dfd):
    ffpp, _ = ffpp_and_dfd
    root = ffpp.root
    ids = [f"{i:03d}" for i in range(6)]
    assert sorted(p.stem for p in (root / "original_sequences/youtube/c23/videos").glob("*.mp4")) == ids
    pairs = [pair for name in ("train", "val", "test") for pair in json.loads((root / f"splits/{name}.json").read_text())]
    assert sorted(i for pair in pairs for i in pair) == ids
    expected_fakes = sorted(f"{a}_{b}" for x, y in pairs for a, b in ((x, y), (y, x)))
    for method in METHOD_REGIONS:
        videos = root / f"manipulated_sequences/{method}/c23/videos"
        assert sorted(p.stem for p in videos.glob("*.mp4")) == expected_fakes


def test_dfd_layout_matches_the_download(ffpp_and_dfd):
    _, dfd = ffpp_and_dfd
    originals = list((dfd.root / "original_sequences/actors/c23/videos").glob("*.mp4"))
    fakes = list((dfd.root / "manipulated_sequences/DeepFakeDetection/c23/videos").glob("*.mp4"))
    assert len(originals) == 6 and all(re.fullmatch(r"\d\d__[a-z_]+", p.stem) for p in originals)
    assert len(fakes) == 8 and all(re.fullmatch(r"\d\d_\d\d__[a-z_]+__[A-Z0-9]{8}", p.stem) for p in fakes)


# ------------------------------------------------------------------ videos


def test_every_readable_video_is_h264_as_recorded(manifests):
    for manifest in manifests:
        for video in _readable(manifest):
            with av.open(str(manifest.root / video.path)) as container:
                stream = container.streams.video[0]
                assert stream.codec_context.name == "h264", video.video_id
                assert (stream.width, stream.height) == (video.width, video.height), video.video_id
                assert abs(float(stream.average_rate) - video.fps) < 0.01, video.video_id
                assert sum(1 for _ in container.decode(video=0)) == video.n_frames, video.video_id


def test_videos_vary_like_real_data(dfdc, ffpp_and_dfd):
    videos = [*dfdc.videos, *ffpp_and_dfd[0].videos]
    assert {v.fps for v in videos} >= {30.0, 29.97, 25.0}
    assert any(v.height > v.width for v in videos)  # portrait
    assert dfdc.with_note("two people")
    faceswap = [v for v in ffpp_and_dfd[0].fakes() if v.video_id.startswith("FaceSwap/")]
    assert all(v.n_frames < ffpp_and_dfd[0].by_id(v.original_id).n_frames for v in faceswap)


def test_mtcnn_finds_the_faces_and_the_planted_boxes_agree(dfdc):
    from mtcnn import MTCNN

    detector = MTCNN()
    portrait = next(v for v in dfdc.fakes("whole") if v.height > v.width and not v.fault)
    pair = dfdc.with_note("two people")[1]
    for fake, n_faces in ((portrait, 1), (pair, 2)):
        original = _decode(dfdc.root / dfdc.by_id(fake.original_id).path)[0]
        faces = detector.detect_faces(original)
        assert len(faces) == n_faces, fake.video_id
        x0, y0, x1, y1 = load_planted_face_boxes(dfdc.root, fake.video_id)[0]
        best = max(faces, key=lambda f: f["box"][2] * f["box"][3])
        bx, by, bw, bh = best["box"]
        overlap = max(0, min(x1, bx + bw) - max(x0, bx)) * max(0, min(y1, by + bh) - max(y0, by))
        assert overlap / ((x1 - x0) * (y1 - y0) + bw * bh - overlap) > 0.5, fake.video_id
        assert min(bw, bh) >= 60
    no_face = next(v for v in dfdc.videos if v.fault == "no face")
    assert detector.detect_faces(_decode(dfdc.root / no_face.path)[0]) == []


# ------------------------------------------------------------------ planted truth


def test_planted_masks_have_the_video_shape_and_the_right_extent(manifests):
    for manifest in manifests:
        for fake in manifest.fakes():
            if fake.fault == "missing file":
                continue
            masks = load_planted_masks(manifest.root, fake.video_id)
            boxes = load_planted_face_boxes(manifest.root, fake.video_id)
            assert masks.shape == (fake.n_frames, fake.height, fake.width) and masks.dtype == bool
            assert load_planted_kind(manifest.root, fake.video_id) == fake.kind
            if fake.kind == "none":
                assert not masks.any(), fake.video_id
                continue
            for mask, (x0, y0, x1, y1) in zip(masks, boxes):
                face_area = (x1 - x0) * (y1 - y0)
                inside_box = mask[y0:y1, x0:x1].sum()
                if fake.kind == "partial":  # a strict part of the face
                    assert 0 < mask.sum() == inside_box < 0.35 * face_area, fake.video_id
                else:
                    assert inside_box > 0.6 * face_area, fake.video_id


def test_planted_mask_is_where_the_decoded_fake_differs(manifests):
    """After H.264 on both sides, the change is large inside the mask and only noise outside."""
    for manifest in manifests:
        aligned = [f for f in manifest.fakes() if f.fault is None and f.original_id]
        for fake in aligned[:: max(len(aligned) // 6, 1)] + manifest.fakes("none"):
            fake_frames = _decode(manifest.root / fake.path)
            original = _decode(manifest.root / manifest.by_id(fake.original_id).path)[: len(fake_frames)]
            distance = _distance(fake_frames, original)
            masks = load_planted_masks(manifest.root, fake.video_id)
            if fake.kind == "none":  # encoded at another quality: only compression noise
                assert 0 < distance.mean() < 6, fake.video_id
            else:
                assert distance[~_with_feather(masks)].mean() < 2, fake.video_id
                assert 6 < distance[masks].mean() < 70, fake.video_id


def test_planted_changes_are_as_faint_as_real_deepfakes(dfdc):
    """Blurred distances inside the planted regions spread like real FF++ c23 pairs' (median
    6-12 inside the face box there, docs/METHOD.md): a large share stays under a threshold
    of 30, so a mask rule tuned on strong colour tints does not look good here."""
    inside = []
    for fake in dfdc.fakes():
        if fake.fault is None and fake.original_id and fake.kind != "none":
            fake_frames = _decode(dfdc.root / fake.path)[::4]
            original = _decode(dfdc.root / dfdc.by_id(fake.original_id).path)[::4]
            masks = load_planted_masks(dfdc.root, fake.video_id)[::4]
            inside += [blurred_distance(o, f)[m] for o, f, m in zip(original, fake_frames, masks)]
    inside = np.concatenate(inside)
    assert 8 < np.median(inside) < 35
    assert 0.3 < (inside < 30).mean() < 0.85
    assert (inside > 10).mean() > 0.6  # still well above compression noise (under 5 outside faces)


def test_planted_faults_are_present(dfdc, ffpp_and_dfd):
    dfd = ffpp_and_dfd[1]
    assert dfdc.faults() | dfd.faults() == {
        **{v.video_id: v.fault for v in dfdc.videos if v.fault},
        **{v.video_id: v.fault for v in dfd.videos if v.fault},
    }
    assert sorted(dfdc.faults().values()) == sorted(
        ["unreadable", "missing file", "missing original", "size mismatch", "length mismatch", "no face"])
    assert sorted(dfd.faults().values()) == ["missing original", "not aligned"]
    by_fault = {fault: dfdc.by_id(video_id) for video_id, fault in dfdc.faults().items()}
    with pytest.raises(av.error.InvalidDataError):
        _decode(dfdc.root / by_fault["unreadable"].path)
    assert not (dfdc.root / by_fault["missing file"].path).exists()
    ghost = by_fault["missing original"].original_id
    assert not list(dfdc.root.rglob(f"{ghost}.mp4")) and ghost not in {v.video_id for v in dfdc.videos}
    for fault, field in (("size mismatch", "width"), ("length mismatch", "n_frames")):
        fake = by_fault[fault]
        assert getattr(fake, field) != getattr(dfdc.by_id(fake.original_id), field)
    assert len(dfdc.fakes("none")) == 1
    unaligned = next(v for v in dfd.videos if v.fault == "not aligned")
    distance = _distance(_decode(dfd.root / unaligned.path), _decode(dfd.root / dfd.by_id(unaligned.original_id).path))
    assert distance[~_with_feather(load_planted_masks(dfd.root, unaligned.video_id))].mean() > 10
    missing = next(v for v in dfd.videos if v.fault == "missing original")
    assert not (dfd.root / "original_sequences/actors/c23/videos" / f"{missing.original_id[7:]}.mp4").exists()


def test_manifest_round_trips_through_json(dfdc):
    assert load_manifest(dfdc.root, "dfdc") == dfdc


def test_load_planted_masks_names_the_missing_file(dfdc):
    real = next(v for v in dfdc.videos if v.label == "real")
    with pytest.raises(FileNotFoundError, match=rf"{real.video_id}\.npz: no planted truth"):
        load_planted_masks(dfdc.root, real.video_id)


def test_same_seed_writes_the_same_corpus(tmp_path):
    spec = CorpusSpec(width=128, height=96, n_frames=8, seed=5)
    first = write_dfd_corpus(tmp_path / "a", spec, actors=2, scenes_per_actor=1)
    second = write_dfd_corpus(tmp_path / "b", spec, actors=2, scenes_per_actor=1)
    assert [dict(v.__dict__) for v in first.videos] == [dict(v.__dict__) for v in second.videos]
    for video in first.videos:
        assert (first.root / video.path).read_bytes() == (second.root / video.path).read_bytes()
    other = write_dfd_corpus(tmp_path / "c", CorpusSpec(width=128, height=96, n_frames=8, seed=6),
                             actors=2, scenes_per_actor=1)
    assert [v.video_id for v in other.videos] != [v.video_id for v in first.videos]


def test_rewriting_a_corpus_gives_the_same_bytes(tmp_path):
    """x264's macroblock tree encoded identical frames differently from one write to the next
    (a few of these 105 files each time), so a resumed build differed from a fresh one."""
    spec = CorpusSpec(width=96, height=64, n_frames=8, face_height=0.5, crf=30)
    written = [write_dfdc_corpus(tmp_path / name, spec) for name in "abc"]
    for video in _readable(written[0]):
        contents = {(manifest.root / video.path).read_bytes() for manifest in written}
        assert len(contents) == 1, video.path


@pytest.mark.parametrize("changes,message", [
    ({"width": 321}, "even"), ({"n_frames": 3}, "n_frames"), ({"face_height": 0.9}, "face_height"),
])
def test_corpus_spec_rejects_bad_values(changes, message):
    with pytest.raises(ValueError, match=message):
        CorpusSpec(**changes)
