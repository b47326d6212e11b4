"""Face boxes: squaring and clipping, MTCNN on a real photograph, filling gaps, the disk cache,
the main face of a video and the face a fake changed."""

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
    candidate_boxes,
    fill_missing_boxes,
    main_face_track,
    manipulated_face,
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
    assert detector.detect(np.zeros((240, 320, 3), np.uint8)) == []


def test_large_frames_are_shrunk_for_detection_and_boxes_scaled_back(detector):
    image = cv2.resize(skimage.data.astronaut(), (1536, 1536))  # 3x, above max_side
    face = detector.detect(image)[0]
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
    faces = {0: [(1, 2, 3, 4), (5, 6, 7, 8)], 7: []}
    BoxCache(tmp_path).put("original/000", faces)
    assert BoxCache(tmp_path).get("original/000") == faces  # a fresh cache reads the file
    assert BoxCache(tmp_path).get("original/001") is None
    assert [p.name for p in tmp_path.iterdir()] == ["original%2F000.json"]  # no temporary file left
    payload = json.loads((tmp_path / "original%2F000.json").read_text())
    assert payload["original_id"] == "original/000" and payload["format"] == BoxCache.FORMAT


def test_box_cache_ignores_a_damaged_file(tmp_path):
    (tmp_path / "abc.json").write_text('{"boxes": {"0": [1, 2')
    assert BoxCache(tmp_path).get("abc") is None


def test_box_cache_does_not_misread_a_file_of_the_first_format(tmp_path):
    """Format 1 kept one box (or null) per frame; read as format 2 it would be a list of four faces."""
    (tmp_path / "abc.json").write_text(json.dumps({"original_id": "abc", "boxes": {"0": [1, 2, 3, 4], "5": None}}))
    assert BoxCache(tmp_path).get("abc") is None


PRESENTER = [(100 + 3 * t, 50, 300 + 3 * t, 250) for t in range(6)]  # 200 px, moving right
INSET = (600, 40, 900, 340)  # 300 px: larger, but in two frames only


def test_main_face_is_followed_not_the_largest_of_each_frame():
    faces = {t * 10: [INSET, PRESENTER[t]] if t in (2, 3) else [PRESENTER[t]] for t in range(6)}
    faces[40] = []  # the presenter is missed in one frame
    track = main_face_track(faces)
    assert track == {0: PRESENTER[0], 10: PRESENTER[1], 20: PRESENTER[2], 30: PRESENTER[3], 40: None, 50: PRESENTER[5]}


def test_main_face_of_two_equally_present_faces_is_the_larger():
    small, large = (0, 0, 50, 50), (200, 0, 300, 100)
    assert set(main_face_track({0: [small, large], 1: [large, small]}).values()) == {large}
    assert main_face_track({0: [], 1: []}) == {0: None, 1: None}


def test_candidates_put_the_main_face_first_once():
    a, b = (0, 0, 10, 10), (20, 0, 30, 10)
    assert candidate_boxes([b, a], a) == [a, b]
    assert candidate_boxes([], a) == [a]


def _differs(*regions, shape=(100, 160)):
    """A strided 'differs' map (stride 4, so a 400x640 frame) with the given x0, y0, x1, y1 frame regions set."""
    differs = np.zeros(shape, bool)
    for x0, y0, x1, y1 in regions:
        differs[y0 // 4 : y1 // 4, x0 // 4 : x1 // 4] = True
    return differs


MAIN, OTHER = (0, 0, 200, 200), (400, 100, 560, 260)


def test_the_face_holding_the_difference_is_chosen_not_the_main_one():
    assert manipulated_face(_differs((440, 140, 500, 200)), 4, [MAIN, OTHER]) == OTHER
    assert manipulated_face(_differs((40, 40, 100, 100)), 4, [MAIN, OTHER]) == MAIN


def test_a_fake_without_any_difference_keeps_the_main_face():
    assert manipulated_face(_differs(), 4, [MAIN, OTHER]) == MAIN


def test_a_difference_outside_every_face_means_the_changed_face_was_not_found():
    assert manipulated_face(_differs((240, 300, 280, 340)), 4, [MAIN, OTHER]) is None
    # larger than what differs inside the main face: that face is not the one changed
    assert manipulated_face(_differs((240, 300, 280, 340), (40, 40, 60, 60)), 4, [MAIN, OTHER]) is None


def test_codec_noise_and_a_change_spilling_over_the_box_do_not_hide_the_changed_face():
    noise = (240, 300, 256, 316)  # 256 px, under a 20 x 20 face
    assert manipulated_face(_differs(noise), 4, [MAIN, OTHER]) == MAIN
    spilling = (440, 200, 500, 300)  # from inside OTHER across its bottom edge (y = 260)
    assert manipulated_face(_differs(spilling), 4, [MAIN, OTHER]) == OTHER
    # a change elsewhere smaller than the chosen face's own is noise beside a found face
    assert manipulated_face(_differs((240, 300, 280, 340), (420, 120, 540, 240)), 4, [MAIN, OTHER]) == OTHER
