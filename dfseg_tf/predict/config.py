"""How `dfseg predict` looks at each input; light to import, so ``--help`` can show the defaults."""

import dataclasses

from dfseg_tf.extraction.examples import ExtractionConfig
from dfseg_tf.method import FRAMES_PER_VIDEO

OVERLAY_MODES = ("video", "sheet", "none")


@dataclasses.dataclass(frozen=True)
class PredictConfig:
    """How `dfseg predict` looks at each input.

    Attributes:
      frames: frames sampled evenly per video (32, as extraction samples them).
      decision_threshold: the frame rule's decision threshold t; None takes the model card's,
        ``"study"`` the study's value for the model's architecture.
      overlay: ``video`` (H.264 of the annotated sampled frames), ``sheet`` (one PNG
        contact sheet) or ``none``.
      margin: square-box margin around each face; training's ``ExtractionConfig`` default.
      detect_side: frames are shrunk to this longer side for MTCNN, the detector asked
        where BlazeFace is unsure (boxes are mapped back to source pixels); smaller is
        faster but misses small faces.
    """

    frames: int = FRAMES_PER_VIDEO
    decision_threshold: float | str | None = None
    overlay: str = "video"
    margin: float = ExtractionConfig.margin
    detect_side: int = 640

    def __post_init__(self):
        if self.frames < 1:
            raise ValueError(f"frames must be at least 1, got {self.frames}")
        if self.overlay not in OVERLAY_MODES:
            raise ValueError(f"overlay must be one of {OVERLAY_MODES}, got {self.overlay!r}")
        if self.decision_threshold not in (None, "study") and not 0 <= self.decision_threshold <= 1:
            raise ValueError(f"decision_threshold must be in [0, 1], got {self.decision_threshold}")
        if self.detect_side < 32:
            raise ValueError(f"detect_side must be at least 32, got {self.detect_side}")
