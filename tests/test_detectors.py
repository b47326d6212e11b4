"""BlazeFace's anchors, decoding and NMS by hand; BlazeFace and the cascade on real photographs."""

import cv2
import numpy as np
import pytest
import skimage.data

from dfseg_tf.extraction import blazeface
from dfseg_tf.extraction.blazeface import FULL_RANGE, SHORT_RANGE, BlazeFaceNetwork, decode, weighted_nms
from dfseg_tf.extraction.detectors import BlazeFaceDetector, BoxCalibration, CascadeDetector, calibration_from_pairs
from dfseg_tf.extraction.faces import Face, FaceDetector, square_box

ASTRONAUT_FACE = (182, 64, 83, 107)  # MTCNN's x, y, w, h of the face in skimage's 512x512 astronaut


def test_anchor_grids_follow_mediapipes_configuration():
    full = FULL_RANGE.anchor_centres()
    assert full.shape == (48 * 48, 2)
    assert np.allclose(full[:2], [[0.5 / 48, 0.5 / 48], [1.5 / 48, 0.5 / 48]])  # row by row, x first
    short = SHORT_RANGE.anchor_centres()
    assert short.shape == (16 * 16 * 2 + 8 * 8 * 6, 2)  # 896: two anchors per 16x16 cell, six per 8x8 cell
    assert np.allclose(short[0], short[1]) and np.allclose(short[512:518], [[0.5 / 8, 0.5 / 8]] * 6)


def test_decoding_offsets_boxes_from_the_anchor_centre_in_input_pixels():
    raw = np.zeros((1, 16), np.float32)
    raw[0, :4] = [10, -20, 40, 30]  # centre moved by (10, -20), 40 wide, 30 high
    boxes, scores = decode(raw, np.array([[0.0]]), np.array([[0.5, 0.5]]), 192)
    assert np.allclose(boxes, [[86, 61, 126, 91]]) and np.allclose(scores, [0.5])
    _, clipped = decode(raw, np.array([[-1e6]]), np.array([[0.5, 0.5]]), 192)
    assert 0 < clipped[0] < 1e-40  # the logit is clipped at -100, as MediaPipe does


def test_weighted_nms_merges_overlapping_boxes_by_score_and_keeps_the_others():
    boxes = np.array([[0, 0, 10, 10], [2, 0, 12, 10], [50, 50, 60, 60]], np.float32)
    faces = weighted_nms(boxes, np.array([0.9, 0.3, 0.8]))
    assert [score for _, score in faces] == pytest.approx([0.9, 0.8])
    assert np.allclose(faces[0][0], [0.5, 0, 10.5, 10])  # (0.9 * 0 + 0.3 * 2) / 1.2 = 0.5
    assert np.allclose(faces[1][0], [50, 50, 60, 60])


def test_a_missing_model_file_is_named_in_one_line(tmp_path):
    with pytest.raises(FileNotFoundError, match=r"^BlazeFace model .*nowhere.tflite: no such file$"):
        blazeface.model_path(FULL_RANGE, tmp_path / "nowhere.tflite")


def test_the_model_is_found_in_the_installed_wheel_without_importing_its_code():
    path = blazeface.model_path(FULL_RANGE)
    assert path.name == "face_detection_full_range.tflite" and path.parent.name == "data"


@pytest.mark.parametrize("spec", [FULL_RANGE, SHORT_RANGE])
def test_blazeface_finds_the_astronaut_where_mtcnn_does(spec):
    faces = BlazeFaceNetwork(spec).detect(skimage.data.astronaut())
    assert len(faces) == 1 and faces[0][1] > 0.8
    x0, y0, x1, y1 = faces[0][0]
    centre_x, centre_y = ASTRONAUT_FACE[0] + ASTRONAUT_FACE[2] / 2, ASTRONAUT_FACE[1] + ASTRONAUT_FACE[3] / 2
    assert abs((x0 + x1) / 2 - centre_x) < 10 and abs((y0 + y1) / 2 - centre_y) < 15


def test_calibrated_boxes_give_mtcnns_crop_on_a_1080p_frame():
    """The astronaut enlarged into a 1080p frame (a face of about 250 x 320 px, as DFDC's)."""
    frame = np.full((1080, 1920, 3), 100, np.uint8)
    frame[100:1060, 700:1660] = cv2.resize(skimage.data.astronaut()[:480, :480], (960, 960))
    mtcnn = FaceDetector().detect(frame)[0]
    blaze = BlazeFaceDetector().detect_many([frame])[0][0]
    assert _iou(square_box(blaze.box, 1920, 1080, 0.2), square_box(mtcnn.box, 1920, 1080, 0.2)) > 0.85
    uncalibrated = BlazeFaceDetector(calibration=BoxCalibration()).detect_many([frame])[0][0]
    assert _iou(square_box(uncalibrated.box, 1920, 1080, 0.2), square_box(mtcnn.box, 1920, 1080, 0.2)) < _iou(
        square_box(blaze.box, 1920, 1080, 0.2), square_box(mtcnn.box, 1920, 1080, 0.2)
    )


def test_calibration_is_fitted_back_from_the_boxes_it_explains():
    truth = BoxCalibration(scale=1.1, shift_x=0.02, shift_y=-0.07)
    raw = [(100, 100, 200, 200), (400, 50, 560, 210)]
    pairs = [(Face(BoxCalibration(1.0).apply(*box), 0.9), truth.apply(*box)) for box in raw]
    fitted = calibration_from_pairs(pairs, BoxCalibration(1.0))
    assert fitted["scale"] == pytest.approx(1.1, abs=0.01) and fitted["shift_y"] == pytest.approx(-0.07, abs=0.01)


def test_the_cascade_asks_mtcnn_only_where_blazeface_is_unsure():
    cascade = CascadeDetector()
    blank = np.full((240, 320, 3), 90, np.uint8)
    faces = cascade.detect_many([skimage.data.astronaut(), blank])
    assert len(faces[0]) == 1 and faces[1] == []
    assert cascade.frames_detected == 2 and cascade.frames_to_fallback == 1  # only the blank frame
    assert cascade.fallback.frames_detected == 1


def _iou(a, b):
    width = max(0, min(a[2], b[2]) - max(a[0], b[0]))
    height = max(0, min(a[3], b[3]) - max(a[1], b[1]))
    inter = width * height
    return inter / ((a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1]) - inter)
