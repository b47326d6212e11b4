"""Face boxes: squaring and clipping, MTCNN on a real photograph, filling gaps, the disk cache."""

import json

import cv2
import numpy as np
import pytest
import skimage.data

from dfseg_tf.corpus import write_h264
from dfseg_tf.extraction.faces import (
    BoxCache,
    FaceDetector,
    batched,
    box_pixels,
    crop_face,
    fill_missing_boxes,
    square_box,
)
from dfseg_tf.extraction.report import VideoSkipped
from dfseg_tf.extraction.video import iter_frames

ASTRONAUT_FACE = (182, 64, 83, 107)  # x, y, w, h of the face in skimage's 512x512 astronaut


@pytest.fixture(scope="module")
def detector():
    return FaceDetector()


def test_square_box_is_centred_on_the_face_with_margin():
    # face 40 wide, 60 high, centre (120, 130); side = 60 * (1 + 2 * 0.25) = 90
    assert square_box((100, 100, 40, 60), 640, 480, 0.25) == (75, 85, 165, 175)


def test_square_box_is_shifted_inside_the_frame_and_stays_square():
    x0, y0, x1, y1 = square_box((5, 400, 60, 60), 640, 480, 0.5)  # side 120, overflows left and bottom
    assert (x0, y0, x1, y1) == (0, 360, 120, 480)


def test_square_box_larger_than_the_frame_shrinks_to_its_shorter_side():
    # portrait 240x320; face centre y = 250, so the 240-pixel box is pushed up to end at the bottom
    assert square_box((50, 100, 200, 300), 240, 320, 0.5) == (0, 80, 240, 320)


def test_detector_finds_the_astronaut_face_largest_first(detector):
    image = skimage.data.astronaut()
    faces = detector.detect(image)
    assert faces and faces[0].confidence > 0.95
    assert all(a.area >= b.area for a, b in zip(faces, faces[1:]))
    assert np.allclose(faces[0].box, ASTRONAUT_FACE, atol=4)
    assert detector.largest(np.zeros((240, 320, 3), np.uint8)) is None


def test_large_frames_are_shrunk_for_detection_and_boxes_scaled_back(detector):
    image = cv2.resize(skimage.data.astronaut(), (1536, 1536))  # 3x, above max_side
    face = detector.largest(image)
    assert _iou(face.box, np.asarray(ASTRONAUT_FACE) * 3) > 0.85


def _iou(a, b):
    """Intersection over union of two x, y, w, h boxes."""
    width = min(a[0] + a[2], b[0] + b[2]) - max(a[0], b[0])
    height = min(a[1] + a[3], b[1] + b[3]) - max(a[1], b[1])
    inter = max(width, 0) * max(height, 0)
    return inter / (a[2] * a[3] + b[2] * b[3] - inter)


def test_detector_counts_the_frames_it_sees(detector):
    before = detector.frames_detected
    detector.detect(np.zeros((64, 64, 3), np.uint8))
    assert detector.frames_detected == before + 1


def test_detect_many_finds_what_detect_finds_frame_by_frame(detector, tmp_path):
    """Decoded H.264 frames of a moving face and an empty frame (one size, one MTCNN call),
    with a photograph and a frame shrunk for detection (two more sizes) in between."""
    face = cv2.resize(skimage.data.astronaut(), (200, 200), interpolation=cv2.INTER_AREA)
    video_frames = []
    for t in range(6):
        frame = np.full((360, 480, 3), 90, np.uint8)
        if t != 3:  # the person has stepped out
            frame[40 + 5 * t : 240 + 5 * t, 30 + 20 * t : 230 + 20 * t] = face
        video_frames.append(frame)
    clip = write_h264(tmp_path / "clip.mp4", video_frames, fps=25.0)
    decoded = [frame for _, frame in iter_frames(clip, range(6))]
    frames = decoded[:2] + [skimage.data.astronaut(), cv2.resize(skimage.data.astronaut(), (1536, 1536))] + decoded[2:]

    before = detector.frames_detected
    together = detector.detect_many(frames)
    assert detector.frames_detected - before == len(frames)
    one_by_one = [detector.detect(frame) for frame in frames]
    assert [len(faces) for faces in together] == [len(faces) for faces in one_by_one]
    assert [bool(faces) for faces in together] == [True, True, True, True, True, False, True, True]
    for faces, expected in zip(together, one_by_one):
        for face, expected_face in zip(faces, expected):
            assert np.abs(np.subtract(face.box, expected_face.box)).max() <= 1
            assert face.confidence == pytest.approx(expected_face.confidence, abs=1e-3)
    assert detector.detect_many([]) == []


def test_min_face_size_in_shrunk_pixels_skips_faces_that_source_pixels_keep():
    frame = np.full((1200, 1200, 3), 90, np.uint8)
    frame[100:260, 100:260] = cv2.resize(skimage.data.astronaut(), (160, 160), interpolation=cv2.INTER_AREA)
    # the face is ~30 px wide; at max_side 400 it is ~10 px, under 20 but over 20 / 3
    source = FaceDetector(max_side=400, min_face_size=20)
    shrunk = FaceDetector(max_side=400, min_face_size=20, min_face_in_source_pixels=False)
    assert source.detect(frame) and not shrunk.detect(frame)


def test_crop_face_cuts_the_box_and_resizes_it_to_a_square():
    frame = np.arange(40 * 60 * 3, dtype=np.uint8).reshape(40, 60, 3)
    box = (10, 5, 30, 25)
    assert np.array_equal(box_pixels(frame, box), frame[5:25, 10:30])
    assert np.array_equal(crop_face(frame, box, 20), frame[5:25, 10:30])  # already the size: unchanged
    assert crop_face(frame, box, 8).shape == (8, 8, 3) and crop_face(frame, box, 64).dtype == np.uint8
    flat = np.full((40, 60, 3), 77, np.uint8)
    assert (crop_face(flat, box, 8) == 77).all() and (crop_face(flat, box, 64) == 77).all()


def test_batched_keeps_order_and_ends_with_the_rest():
    assert list(batched(range(7), 3)) == [[0, 1, 2], [3, 4, 5], [6]]
    assert list(batched([], 3)) == []


def test_frames_without_a_face_take_the_nearest_box():
    a, b = (0, 0, 10, 10), (5, 5, 15, 15)
    filled = fill_missing_boxes({0: a, 10: None, 20: None, 30: b}, [0, 10, 20, 30], "v.mp4")
    assert filled == {0: a, 10: a, 20: b, 30: b}


def test_no_face_in_any_frame_skips_the_video():
    with pytest.raises(VideoSkipped, match=r"^no face: v.mp4: no face in any of 2 sampled frames"):
        fill_missing_boxes({0: None, 5: None}, [0, 5], "v.mp4")


def test_box_cache_survives_a_new_process_and_writes_atomically(tmp_path):
    boxes = {0: (1, 2, 3, 4), 7: None}
    BoxCache(tmp_path).put("original/000", boxes)
    assert BoxCache(tmp_path).get("original/000") == boxes  # a fresh cache reads the file
    assert BoxCache(tmp_path).get("original/001") is None
    assert [p.name for p in tmp_path.iterdir()] == ["original%2F000.json"]  # no temporary file left
    assert json.loads((tmp_path / "original%2F000.json").read_text())["original_id"] == "original/000"


def test_box_cache_ignores_a_damaged_file(tmp_path):
    (tmp_path / "abc.json").write_text('{"boxes": {"0": [1, 2')
    assert BoxCache(tmp_path).get("abc") is None
