"""What `dfseg predict` writes: a JSON report per input and one summary CSV."""

import csv
import dataclasses
import json
import pathlib

from dfseg_tf.evaluation.rules import video_is_fake, video_score

OK = "ok"
FAILED = "failed"
FAKE = "fake"
REAL = "real"

Box = tuple[int, int, int, int]

SUMMARY_NAME = "summary.csv"
SUMMARY_COLUMNS = ("path", "status", "reason", "verdict", "fake_fraction", "seconds")


@dataclasses.dataclass(frozen=True)
class FaceResult:
    """One face of one frame.

    Attributes:
      box: the square crop (x0, y0, x1, y1) in source-frame pixels.
      score: the frame rule's continuous score for this face (``frame_score`` of the
        map for segmentation models, the probability for classifiers): fake iff
        ``score > decision_threshold``.
      fake: the frame rule applied to this face alone.
    """

    box: Box
    score: float
    fake: bool


@dataclasses.dataclass(frozen=True)
class FrameResult:
    """A sampled frame: fake iff any of its faces is fake; no verdict without a face."""

    frame_index: int
    faces: tuple[FaceResult, ...]

    @property
    def fake(self) -> bool | None:
        return any(face.fake for face in self.faces) if self.faces else None

    @property
    def score(self) -> float | None:
        return max(face.score for face in self.faces) if self.faces else None

    def to_dict(self) -> dict:
        return {
            "frame_index": self.frame_index,
            "fake": self.fake,
            "score": self.score,
            "faces": [dataclasses.asdict(face) | {"box": list(face.box)} for face in self.faces],
        }


@dataclasses.dataclass
class InputReport:
    """The outcome for one input; ``status`` is ``ok`` or ``failed`` (then ``reason`` says why)."""

    path: str
    kind: str
    status: str
    reason: str = ""
    seconds: float = 0.0
    frames: list[FrameResult] = dataclasses.field(default_factory=list)
    model: str = ""
    decision_threshold: float | None = None
    overlay: str | None = None
    stage_seconds: dict[str, float] = dataclasses.field(default_factory=dict)

    @property
    def judged_frames(self) -> list[FrameResult]:
        """Frames with at least one face: the only ones the video rule counts."""
        return [frame for frame in self.frames if frame.faces]

    @property
    def fake_fraction(self) -> float | None:
        judged = self.judged_frames
        return sum(frame.fake for frame in judged) / len(judged) if judged else None

    @property
    def verdict(self) -> str | None:
        judged = self.judged_frames
        if self.status != OK or not judged:
            return None
        return FAKE if video_is_fake([frame.fake for frame in judged]) else REAL

    @property
    def score(self) -> float | None:
        """The video rule as one number: the verdict is fake iff ``score > decision_threshold``."""
        judged = self.judged_frames
        return video_score([frame.score for frame in judged]) if self.status == OK and judged else None

    def to_dict(self) -> dict:
        return {
            "path": self.path,
            "kind": self.kind,
            "status": self.status,
            "reason": self.reason,
            "verdict": self.verdict,
            "score": self.score,
            "fake_fraction": self.fake_fraction,
            "frames_sampled": len(self.frames),
            "frames_with_face": len(self.judged_frames),
            "seconds": round(self.seconds, 3),
            "stage_seconds": {stage: round(seconds, 3) for stage, seconds in self.stage_seconds.items()},
            "model": self.model,
            "decision_threshold": self.decision_threshold,
            "overlay": self.overlay,
            "frames": [frame.to_dict() for frame in self.frames],
        }

    def summary_row(self) -> dict:
        row = self.to_dict()
        return {column: "" if row[column] is None else row[column] for column in SUMMARY_COLUMNS}

    def write_json(self, path) -> pathlib.Path:
        path = pathlib.Path(path)
        path.write_text(json.dumps(self.to_dict(), indent=2) + "\n")
        return path


def write_summary_csv(reports, path) -> pathlib.Path:
    """One row per input, in the order processed."""
    path = pathlib.Path(path)
    with path.open("w", newline="") as file:
        writer = csv.DictWriter(file, fieldnames=SUMMARY_COLUMNS)
        writer.writeheader()
        writer.writerows(report.summary_row() for report in reports)
    return path
