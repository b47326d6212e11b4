"""One input through the whole chain: frames, faces, one model call, rules, report, overlay."""

import contextlib
import dataclasses
import logging
import pathlib
import time

import numpy as np

from dfseg_tf.errors import first_line
from dfseg_tf.evaluation.decision import decision_thresholds
from dfseg_tf.evaluation.rules import classifier_is_fake, frame_is_fake, frame_score
from dfseg_tf.extraction.detectors import default_detector
from dfseg_tf.extraction.faces import DETECT_BATCH_FRAMES, Box, batched, square_box
from dfseg_tf.extraction.report import VideoSkipped
from dfseg_tf.predict import overlay
from dfseg_tf.predict.config import PredictConfig
from dfseg_tf.predict.frames import sampled_frames
from dfseg_tf.predict.inputs import InputItem
from dfseg_tf.predict.model import FaceModel
from dfseg_tf.predict.report import FAILED, OK, FaceResult, FrameResult, InputReport

logger = logging.getLogger(__name__)


@dataclasses.dataclass
class _SampledFrame:
    index: int
    boxes: list[Box]
    picture: np.ndarray | None  # display copy, kept only when an overlay is drawn
    factor: float = 1.0


class Predictor:
    """A loaded model and face detector, reused for every input of a run."""

    def __init__(self, face_model: FaceModel, config: PredictConfig, detector=None):
        self.face_model = face_model
        self.config = config
        self.detector = detector or default_detector(max_side=config.detect_side, min_face_in_source_pixels=False)
        self.decision_threshold = decision_thresholds(face_model.card, config.decision_threshold)[0][0]

    def predict(self, item: InputItem, output_stem: pathlib.Path) -> InputReport:
        """Predicts on one input and writes its overlay; bad input gives a ``failed`` report.

        Args:
          item: the input.
          output_stem: output path without suffix; the overlay gets
            ``.overlay.mp4`` / ``.overlay.png`` appended.
        """
        start = time.perf_counter()
        report = InputReport(
            str(item.path), item.kind, OK, model=str(self.face_model.path), decision_threshold=self.decision_threshold
        )
        try:
            if item.problem:
                raise VideoSkipped(item.problem)
            self._fill(report, item, output_stem, _Stopwatch(report.stage_seconds))
        except VideoSkipped as skipped:
            self._fail(report, str(skipped))
        except Exception as error:  # one input's surprise must not end the run over the others
            logger.debug("%s: unexpected error", item.path, exc_info=True)
            self._fail(report, f"error: {item.path}: {_one_line(error)}")
        report.seconds = time.perf_counter() - start
        return report

    @staticmethod
    def _fail(report: InputReport, reason: str) -> None:
        report.status, report.reason, report.frames, report.overlay = FAILED, reason, [], None
        logger.info("%s", reason)

    def _fill(self, report: InputReport, item: InputItem, output_stem: pathlib.Path, stopwatch) -> None:
        sampled, crops = self._sample_faces(item, stopwatch)
        if not crops:
            raise VideoSkipped(f"no face: {item.path}: no face in any of {len(sampled)} sampled frames")
        with stopwatch("model"):
            outputs = self.face_model.predict(np.stack(crops))  # one model call per input
        per_frame_outputs = np.split(outputs, np.cumsum([len(frame.boxes) for frame in sampled])[:-1])
        report.frames = [
            FrameResult(frame.index, tuple(self._face_result(box, out) for box, out in zip(frame.boxes, outs)))
            for frame, outs in zip(sampled, per_frame_outputs)
        ]
        if self.config.overlay == "none":
            return
        with stopwatch("overlay"):
            pictures = [
                overlay.annotate(frame.picture, frame.factor, result, self._maps(outs), self.decision_threshold)
                for frame, result, outs in zip(sampled, report.frames, per_frame_outputs)
            ]
            title = f"{item.path.name}: {report.verdict.upper()} ({report.fake_fraction:.0%} of frames fake)"
            path = overlay.write_overlay(output_stem, pictures, as_video=self.config.overlay == "video", title=title)
            report.overlay = str(path)

    def _sample_faces(self, item: InputItem, stopwatch) -> tuple[list[_SampledFrame], list[np.ndarray]]:
        """Every sampled frame's face boxes, and the crops of all faces in frame order.

        Frames are decoded and detected ``DETECT_BATCH_FRAMES`` at a time, so only that
        many full frames are held at once.
        """
        sampled, crops = [], []
        batches = batched(sampled_frames(item.path, item.kind, self.config.frames), DETECT_BATCH_FRAMES)
        while True:
            with stopwatch("decode"):
                batch = next(batches, None)
            if batch is None:
                return sampled, crops
            with stopwatch("detect"):
                boxes_per_frame = self.face_boxes([frame for _, frame in batch])
            for (index, frame), boxes in zip(batch, boxes_per_frame):
                crops.extend(self.face_model.prepare(frame, box) for box in boxes)
                picture, factor = overlay.display_copy(frame) if self.config.overlay != "none" else (None, 1.0)
                sampled.append(_SampledFrame(index, boxes, picture, factor))

    def face_boxes(self, frames: list[np.ndarray]) -> list[list[Box]]:
        """Per frame, the square crop box (source pixels) of every face, as training cuts them.

        The detector is extraction's cascade (BlazeFace, then MTCNN where BlazeFace is
        unsure). Its MTCNN sees frames shrunk to ``detect_side`` and skips faces under its
        minimum size there: MTCNN's cost grows with the frame's area, and a face too small
        to find at ``detect_side`` is too small to judge from a crop anyway.
        """
        return [
            [square_box(face.box, frame.shape[1], frame.shape[0], self.config.margin) for face in faces]
            for frame, faces in zip(frames, self.detector.detect_many(frames))
        ]

    def _face_result(self, box, output) -> FaceResult:
        if self.face_model.is_segmentation:
            return FaceResult(box, frame_score(output), frame_is_fake(output, self.decision_threshold))
        return FaceResult(box, float(output), classifier_is_fake(output, self.decision_threshold))

    def _maps(self, outputs) -> list:
        return list(outputs) if self.face_model.is_segmentation else [None] * len(outputs)


def _one_line(error: Exception) -> str:
    """An unexpected error's reason: its type, then its first line (for a bug report)."""
    return f"{type(error).__name__}: {first_line(error)}" if str(error).strip() else type(error).__name__


class _Stopwatch:
    """Adds the seconds spent in each ``with stopwatch(stage):`` block to ``totals[stage]``."""

    def __init__(self, totals: dict[str, float]):
        self.totals = totals

    @contextlib.contextmanager
    def __call__(self, stage: str):
        start = time.perf_counter()
        try:
            yield
        finally:
            self.totals[stage] = self.totals.get(stage, 0.0) + time.perf_counter() - start
