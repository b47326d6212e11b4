"""The one record every source reader produces: a video and where its original is."""

import dataclasses
import pathlib

REAL = "real"
FAKE = "fake"
LABELS = (REAL, FAKE)

TRAIN = "train"
VALIDATION = "validation"
TEST = "test"
SPLITS = (TRAIN, VALIDATION, TEST)


@dataclasses.dataclass(frozen=True)
class VideoEntry:
    """A video of a data set, with its label, split and pixel-aligned original.

    Attributes:
      video_id: unique within the data set (used in example keys), e.g. ``abc`` for
        DFDC's ``abc.mp4`` or ``Deepfakes/000_003`` for FaceForensics++.
      path: the video file.
      label: ``"real"`` or ``"fake"``.
      split: ``"train"``, ``"validation"`` or ``"test"``.
      source: data set and method, e.g. ``dfdc``, ``faceforensics/FaceSwap``, ``dfd``.
      original_id: ``video_id`` of the pixel-aligned original; a real video is its
        own original. Fakes sharing an original always share a split (except in
        Celeb-DF, whose official test list need not keep them together; see ``sources.celebdf``).
      original_path: file of that original, or ``None`` when the data set has none
        (DFDC's separate test set).
      mask_path: the official mask video of a fake, where the data set ships one
        (FaceForensics++ and DFD ``masks/videos``); ``None`` otherwise.
      skip_reason: why the reader already knows the video cannot be used (an index file
        naming it outside its folder), or None; extraction then skips it with this
        reason without opening any file.
    """

    video_id: str
    path: pathlib.Path
    label: str
    split: str
    source: str
    original_id: str
    original_path: pathlib.Path | None
    mask_path: pathlib.Path | None = None
    skip_reason: str | None = None

    def __post_init__(self):
        if self.label not in LABELS:
            raise ValueError(f"{self.path}: label must be one of {LABELS}, got {self.label!r}")
        if self.split not in SPLITS:
            raise ValueError(f"{self.path}: split must be one of {SPLITS}, got {self.split!r}")

    @property
    def is_fake(self) -> bool:
        return self.label == FAKE
