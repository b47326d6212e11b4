"""Faces: MTCNN detection, square crop boxes, the main face of a video, the face a fake changed,
and a disk cache of the boxes.

Faces are detected on the ORIGINAL video only, once per original, and the same boxes are
cut from every fake of it (METHOD.md 2), as the DFDC winner did: a fake's face may be
distorted enough to move or lose the detection, the original's cannot be. Every face of a
frame is kept: a real video is cropped on its main face, followed from frame to frame
(``main_face_track``), and a fake on the face whose box holds the real/fake difference
(``manipulated_face``), which need not be the largest (DFD's several people, insets).
The detector itself is chosen in ``dfseg_tf.extraction.detectors``.
"""

import collections
import dataclasses
import itertools
import json
import logging
import math
import os
import pathlib
import tempfile
import urllib.parse
from collections.abc import Iterable, Iterator, Sequence

import cv2
import numpy as np

from dfseg_tf.extraction.report import VideoSkipped
from dfseg_tf.extraction.video import downscale, iter_frames, probe, sample_frame_indices

logger = logging.getLogger(__name__)

Box = tuple[int, int, int, int]
"""x0, y0, x1, y1 in source-frame pixels (x1, y1 exclusive): ``frame[y0:y1, x0:x1]``."""

# The order of MTCNN's five landmarks wherever they are passed around as a (5, 2) array.
FIVE_POINTS = ("left_eye", "right_eye", "nose", "mouth_left", "mouth_right")

FrameFaces = dict[int, list[Box]]
"""Frame index -> the square crop box of every face found in that frame, largest first."""


@dataclasses.dataclass(frozen=True)
class Face:
    """One detected face: ``box`` is x, y, width, height in frame pixels."""

    box: tuple[int, int, int, int]
    confidence: float

    @property
    def area(self) -> int:
        return self.box[2] * self.box[3]


DETECT_BATCH_FRAMES = 8
"""Frames given to MTCNN at once by the streaming callers. Batches cut the CPU time of
detection: warm, 32 frames of 1080p at 640 px took 2.7 CPU s one by one, 1.5 in batches
of 8, 1.4 in one batch of 32; and 8 full 1080p frames (50 MB) are few enough to hold
while a video streams."""


class FaceDetector:
    """MTCNN (weights shipped in the ``mtcnn`` wheel), created once and reused for every frame.

    Frames whose longer side exceeds ``max_side`` are shrunk before detection and the boxes
    scaled back: faces in 1080p videos are hundreds of pixels wide, so halving the frame
    loses nothing and makes MTCNN's image pyramid about three times cheaper.

    Args:
      min_confidence: faces below it are dropped.
      max_side: longer side of the frame MTCNN sees.
      min_face_size: the smallest face MTCNN looks for, in pixels of the source frame
        (``min_face_in_source_pixels``, the default: shrinking loses no face) or of the
        shrunk frame (otherwise: smaller faces are skipped and MTCNN's image pyramid
        starts smaller, so a smaller ``max_side`` is faster; ``dfseg predict`` does this).

    Attributes:
      frames_detected: how many frames went through the network (to check reuse).
    """

    def __init__(
        self,
        *,
        min_confidence: float = 0.9,
        max_side: int = 960,
        min_face_size: int = 20,
        min_face_in_source_pixels: bool = True,
    ):
        from mtcnn import MTCNN  # imports TensorFlow: only paid by code that detects

        self._mtcnn = MTCNN(stages="face_and_landmarks_detection")
        self.min_confidence = min_confidence
        self.max_side = max_side
        self.min_face_size = min_face_size
        self.min_face_in_source_pixels = min_face_in_source_pixels
        self.frames_detected = 0

    def detect(self, frame: np.ndarray) -> list[Face]:
        """All faces of an RGB uint8 frame with confidence >= ``min_confidence``, largest first."""
        return self.detect_many([frame])[0]

    def detect_many(self, frames: Sequence[np.ndarray]) -> list[list[Face]]:
        """``detect`` of every frame, with the frames of one size in one MTCNN call.

        MTCNN takes one minimum face size per call and pads frames of differing sizes to
        the largest, so frames are grouped by size; the results are those of ``detect``
        frame by frame. Every frame is held (shrunk) at once: stream long videos in
        batches of ``DETECT_BATCH_FRAMES``.
        """
        faces: list[list[Face] | None] = [None] * len(frames)
        positions_by_shape = collections.defaultdict(list)
        for position, frame in enumerate(frames):
            positions_by_shape[frame.shape].append(position)
        for positions in positions_by_shape.values():
            found = self._detect_same_size([frames[position] for position in positions])
            for position, frame_faces in zip(positions, found):
                faces[position] = frame_faces
        return faces

    def _detect_same_size(self, frames: list[np.ndarray]) -> list[list[Face]]:
        shrunk = [downscale(frame, self.max_side) for frame in frames]
        scale = shrunk[0][1]
        min_face_size = self.min_face_size * scale if self.min_face_in_source_pixels else self.min_face_size
        self.frames_detected += len(frames)
        detections = self._mtcnn.detect_faces(
            [np.ascontiguousarray(small) for small, _ in shrunk], min_face_size=max(1, round(min_face_size))
        )
        return [self._faces(frame_detections, scale) for frame_detections in detections]

    def _confident(self, detections: list[dict]) -> list[dict]:
        """MTCNN's detections of one image at ``min_confidence`` or above."""
        return [d for d in detections if d["confidence"] >= self.min_confidence]

    def _faces(self, detections: list[dict], scale: float) -> list[Face]:
        faces = [
            Face(box=tuple(round(v / scale) for v in d["box"]), confidence=float(d["confidence"]))
            for d in self._confident(detections)
        ]
        return sorted(faces, key=lambda face: face.area, reverse=True)

    def five_points(self, images: list[np.ndarray]) -> list[np.ndarray | None]:
        """MTCNN's five landmarks of the largest confident face of each image (face crops,
        searched whole), as (5, 2) float32 in ``FIVE_POINTS`` order, or None where none is found."""
        self.frames_detected += len(images)
        detections = self._mtcnn.detect_faces(
            [np.ascontiguousarray(image) for image in images], min_face_size=self.min_face_size
        )
        points = []
        for found in detections:
            largest = max(self._confident(found), key=lambda d: d["box"][2] * d["box"][3], default=None)
            points.append(None if largest is None else
                          np.array([largest["keypoints"][name] for name in FIVE_POINTS], np.float32))
        return points


def batched(items: Iterable, size: int) -> Iterator[list]:
    """Consecutive lists of ``size`` items (the last may be shorter): Python 3.12's ``itertools.batched``."""
    iterator = iter(items)
    while batch := list(itertools.islice(iterator, size)):
        yield batch


def square_box(face_xywh, frame_w: int, frame_h: int, margin: float) -> Box:
    """A square box centred on the face, ``margin`` x the face's longer side added on each side.

    Clipping keeps the box SQUARE: a box that overflows the frame is shifted back inside
    (so the face is no longer centred, but the crop is not distorted when resized to a
    square); only a box larger than the frame's shorter side is shrunk to that side.
    """
    x, y, w, h = face_xywh
    side = min(round(max(w, h) * (1 + 2 * margin)), frame_w, frame_h)
    side = max(side, 1)
    x0 = _clip(round(x + w / 2 - side / 2), 0, frame_w - side)
    y0 = _clip(round(y + h / 2 - side / 2), 0, frame_h - side)
    return (x0, y0, x0 + side, y0 + side)


def _clip(value: int, low: int, high: int) -> int:
    return int(min(max(value, low), high))


def box_pixels(frame: np.ndarray, box: Box) -> np.ndarray:
    """The pixels of ``box`` at full resolution (a view into ``frame``, not a copy)."""
    x0, y0, x1, y1 = box
    return frame[y0:y1, x0:x1]


def centred_in(inner: np.ndarray, outer: np.ndarray) -> np.ndarray:
    """A copy of ``outer`` with ``inner`` pasted in its middle; ``inner`` itself when the two
    are the same size (or it does not fit).

    A fake cut from the middle of its original's frame (FaceForensics++ Face2Face and
    NeuralTextures) is put back in its place this way, so the original's face boxes fit it.
    """
    (outer_height, outer_width), (height, width) = outer.shape[:2], inner.shape[:2]
    if (height, width) == (outer_height, outer_width) or height > outer_height or width > outer_width:
        return inner
    y, x = (outer_height - height) // 2, (outer_width - width) // 2
    placed = outer.copy()
    placed[y:y + height, x:x + width] = inner
    return placed


def crop_face(frame: np.ndarray, box: Box, size: int) -> np.ndarray:
    """The (size, size, 3) uint8 face crop of ``box``: what models are trained on and shown.

    Training examples and ``dfseg predict`` both cut here, so a model sees at prediction
    the crops it learnt from. Shrinking averages areas (no aliasing); enlarging is bilinear.
    """
    return resize_face(box_pixels(frame, box), size)


def resize_face(crop: np.ndarray, size: int) -> np.ndarray:
    """A square face crop at source resolution -> (size, size, 3), as ``crop_face`` makes it."""
    interpolation = cv2.INTER_AREA if crop.shape[0] > size else cv2.INTER_LINEAR
    return cv2.resize(crop, (size, size), interpolation=interpolation)


def original_face_boxes(
    original_path, detector, *, frames_per_video: int, margin: float, indices=None
) -> FrameFaces:
    """Stage 1 of extraction: the square box of every face in each sampled frame of an original.

    Args:
      original_path: the original (or real) video.
      detector: the shared detector (``dfseg_tf.extraction.detectors``).
      frames_per_video: frames sampled evenly when ``indices`` is not given.
      margin: added on each side of a face, as a fraction of its longer side.
      indices: frames to detect on.

    Returns:
      frame index -> boxes, largest first; an empty list where no face was found.
    """
    info = probe(original_path)
    if indices is None:
        indices = sample_frame_indices(info.n_frames, frames_per_video)
    boxes = {}
    for batch in batched(iter_frames(original_path, indices), DETECT_BATCH_FRAMES):
        batch_indices, frames = zip(*batch)
        for index, faces in zip(batch_indices, detector.detect_many(frames)):
            boxes[index] = [square_box(face.box, info.width, info.height, margin) for face in faces]
    logger.debug("%s: faces in %d of %d frames", original_path, sum(bool(b) for b in boxes.values()), len(boxes))
    return boxes


def main_face_track(faces: FrameFaces) -> dict[int, Box | None]:
    """The box of a video's main face in each frame: the face followed through most frames.

    Faces are linked frame to frame, in index order, to the track whose last box is
    nearest (its centre within half that box's side); a face near no track starts one.
    The main track is the longest, then the one with the larger boxes, so a person who
    fills the frame for a moment does not displace the presenter, and an inset picture
    larger than the presenter in a few frames is not taken instead of them.

    Returns:
      frame index -> the main face's box, or None in frames where it was not found.
    """
    tracks: list[list[tuple[int, Box]]] = []
    for index in sorted(faces):
        for box in faces[index]:
            track = _nearest_track(tracks, index, box)
            if track is None:
                tracks.append([(index, box)])
            else:
                track.append((index, box))
    if not tracks:
        return {index: None for index in faces}
    main = dict(max(tracks, key=lambda track: (len(track), sum(_side(box) for _, box in track))))
    return {index: main.get(index) for index in faces}


def _nearest_track(tracks, index: int, box: Box):
    """The track, not yet extended in frame ``index``, whose last box's centre is nearest ``box``'s, if near enough."""
    best, best_distance = None, math.inf
    for track in tracks:
        last_index, last = track[-1]
        distance = math.dist(_centre(last), _centre(box))
        if last_index < index and distance <= _side(last) / 2 and distance < best_distance:
            best, best_distance = track, distance
    return best


def strided_window(box: Box, stride: int) -> tuple[slice, slice]:
    """The rows and columns of a map sampled every ``stride`` pixels that ``box`` touches."""
    x0, y0, x1, y1 = box
    return slice(y0 // stride, math.ceil(y1 / stride)), slice(x0 // stride, math.ceil(x1 / stride))


def _centre(box: Box) -> tuple[float, float]:
    return (box[0] + box[2]) / 2, (box[1] + box[3]) / 2


def _side(box: Box) -> int:
    return box[2] - box[0]


def candidate_boxes(faces: list[Box], main: Box) -> list[Box]:
    """The boxes a fake's changed face may be in: the main face's first, then the frame's other faces."""
    return [main, *(box for box in faces if box != main)]


MISSED_FACE_MIN_PIXELS = 400
"""A changed region away from every face box at least this large (frame pixels) is a face the
detector missed: 20 x 20, the smallest face the detectors look for."""


def manipulated_face(differs: np.ndarray, stride: int, candidates: list[Box]) -> Box | None:
    """The candidate box that holds the real/fake difference, or None when the difference lies elsewhere.

    Args:
      differs: where the blurred real/fake distance exceeds the mask threshold, over the
        whole frame sampled every ``stride`` pixels.
      stride: the sampling step of ``differs``.
      candidates: face boxes of the original's frame (``candidate_boxes``: main face first).

    Returns:
      The box with the most differing pixels (the first, the main face, where none
      differs: a fake whose face was never changed), or None when the frame's changed
      face was not found: a connected group of differing pixels that touches no
      candidate box is larger than ``MISSED_FACE_MIN_PIXELS`` and than the difference
      inside the chosen box. Groups touching a box are that face's change spilling over
      its edge; smaller ones are codec noise (on the lossy NeuralTextures 004_982, strips
      of up to 180 px away from the face at the default mask threshold).
    """
    windows = [strided_window(box, stride) for box in candidates]
    counts = [int(np.count_nonzero(differs[window])) for window in windows]
    best = int(np.argmax(counts))
    n_labels, labels, stats, _ = cv2.connectedComponentsWithStats(differs.astype(np.uint8), connectivity=8)
    touching = np.zeros(n_labels, bool)
    for rows, columns in windows:  # grown by one sample: a group along the box's edge touches it
        grown = labels[max(rows.start - 1, 0) : rows.stop + 1, max(columns.start - 1, 0) : columns.stop + 1]
        touching[np.unique(grown)] = True
    areas = stats[:, cv2.CC_STAT_AREA] * stride**2
    elsewhere = areas[1:][~touching[1:]]
    if elsewhere.size and elsewhere.max() >= max(MISSED_FACE_MIN_PIXELS, counts[best] * stride**2):
        return None
    return candidates[best]


def main_face_boxes(faces: FrameFaces, indices, path) -> dict[int, Box]:
    """The crop box of every sampled frame of a video with one person: its main face's
    (``main_face_track``), frames without it taking the nearest frame's (``fill_missing_boxes``)."""
    return fill_missing_boxes(main_face_track(faces), indices, path)


def fill_missing_boxes(boxes: dict[int, Box | None], indices, path) -> dict[int, Box]:
    """A box for every index: frames without a face take the box of the nearest frame with one.

    Raises:
      VideoSkipped: ``no face: <path>: ...`` when no frame has a face.
    """
    found = sorted(index for index, box in boxes.items() if box is not None)
    if not found:
        raise VideoSkipped(f"no face: {path}: no face in any of {len(boxes)} sampled frames")
    found_array = np.asarray(found)
    filled = {}
    for index in indices:
        nearest = found[int(np.argmin(np.abs(found_array - index)))]
        filled[index] = boxes[index] if boxes.get(index) is not None else boxes[nearest]
    return filled


class BoxCache:
    """Faces per original, kept in memory and, when ``directory`` is given, as one JSON file each.

    Files are written atomically (temporary file, then rename), so an interrupted build
    leaves either a complete file or none, and a rerun does not detect that original
    again. The cached boxes depend on the margin and frames per video: use one directory
    per ``ExtractionConfig``. Each file states its ``FORMAT``; a file of another format
    (version 1 kept only the largest face of each frame) is ignored, so its original is
    detected again rather than misread.
    """

    FORMAT = 2

    def __init__(self, directory=None):
        self.directory = None if directory is None else pathlib.Path(directory)
        if self.directory is not None:
            self.directory.mkdir(parents=True, exist_ok=True)
        self._memory: dict[str, FrameFaces] = {}

    def get(self, original_id: str) -> FrameFaces | None:
        if original_id not in self._memory and self.directory is not None:
            loaded = self._read(self._file(original_id))
            if loaded is not None:
                self._memory[original_id] = loaded
        return self._memory.get(original_id)

    def put(self, original_id: str, faces: FrameFaces) -> None:
        self._memory[original_id] = dict(faces)
        if self.directory is not None:
            payload = {
                "format": self.FORMAT,
                "original_id": original_id,
                "faces": {str(i): [list(box) for box in boxes] for i, boxes in sorted(faces.items())},
            }
            self._write_atomically(self._file(original_id), json.dumps(payload))

    def _file(self, original_id: str) -> pathlib.Path:
        return self.directory / (urllib.parse.quote(original_id, safe="") + ".json")

    @classmethod
    def _read(cls, path: pathlib.Path) -> FrameFaces | None:
        try:
            payload = json.loads(path.read_text())
        except FileNotFoundError:
            return None
        except (OSError, ValueError) as error:
            logger.warning("%s: ignoring unreadable box cache file (%s)", path, error)
            return None
        if not isinstance(payload, dict) or payload.get("format") != cls.FORMAT:
            logger.warning("%s: box cache file of another format, detecting its faces again", path)
            return None
        return {int(i): [tuple(box) for box in boxes] for i, boxes in payload["faces"].items()}

    @staticmethod
    def _write_atomically(path: pathlib.Path, text: str) -> None:
        with tempfile.NamedTemporaryFile("w", dir=path.parent, suffix=".tmp", delete=False) as tmp:
            tmp.write(text)
        os.replace(tmp.name, path)
