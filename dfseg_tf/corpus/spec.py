"""How big a miniature corpus is: small by default, 1080p for benchmarks."""

import dataclasses


@dataclasses.dataclass(frozen=True)
class CorpusSpec:
    """Size and randomness of a written corpus.

    Attributes:
      width, height: landscape frame size (portrait videos swap them); even numbers.
      n_frames: frames of an ordinary video (faults and FaceSwap fakes differ from it).
      fps: the usual frame rate; some videos use 25 or 29.97 instead, as real data does.
      seed: everything written is a function of the spec, so of this seed.
      crf: x264 quality of every video (23 = FaceForensics++ "c23").
      face_height: face height as a fraction of the frame's shorter side.
    """

    width: int = 320
    height: int = 240
    n_frames: int = 16
    fps: float = 30.0
    seed: int = 0
    crf: int = 23
    face_height: float = 0.45

    def __post_init__(self):
        if self.width % 2 or self.height % 2 or min(self.width, self.height) < 64:
            raise ValueError(f"CorpusSpec: width and height must be even and >= 64, got {self.width}x{self.height}")
        if self.n_frames < 8:
            raise ValueError(f"CorpusSpec: n_frames must be >= 8, got {self.n_frames}")
        if not 0.1 <= self.face_height <= 0.7:
            raise ValueError(f"CorpusSpec: face_height must be in [0.1, 0.7], got {self.face_height}")

    @property
    def frame_rates(self) -> tuple[float, ...]:
        """The rates videos are drawn from: the spec's, NTSC's variant of it, and 5/6 of it."""
        return (self.fps, round(self.fps * 1000 / 1001, 3), round(self.fps * 5 / 6, 3))
