"""Planted truth of a written corpus: a manifest and the per-frame masks of each fake.

Everything lives under ``<corpus root>/_planted/``, a folder no source reader looks at.
"""

import dataclasses
import json
import pathlib

import numpy as np

TRUTH_FOLDER = "_planted"
KINDS = ("partial", "whole", "none")


@dataclasses.dataclass(frozen=True)
class PlantedVideo:
    """One video a corpus writer planted, and what should happen to it.

    Attributes:
      video_id: the id the source reader gives it.
      path: file, relative to the corpus root (absent when ``fault`` is "missing file").
      label: "real" or "fake".
      original_id: video_id of its original ("" for the DFDC test set).
      kind: "partial", "whole" or "none" (real videos and unchanged fakes).
      region: the changed face region ("mouth", "whole", ...), or None.
      fault: reason kind extraction must skip it with ("unreadable", "no face", ...), or None.
      n_frames, width, height, fps: what was encoded.
      notes: other facts worth testing ("portrait", "two people", "original in part 3", ...).
      style: how the region was changed ("swap", "warp", "texture"), or None.
    """

    video_id: str
    path: str
    label: str
    original_id: str
    kind: str
    region: str | None
    fault: str | None
    n_frames: int
    width: int
    height: int
    fps: float
    notes: tuple[str, ...] = ()
    style: str | None = None


@dataclasses.dataclass(frozen=True)
class CorpusManifest:
    """What a corpus writer wrote: every planted video, and the DFDC test-set folder."""

    source: str
    root: pathlib.Path
    videos: tuple[PlantedVideo, ...]
    test_set_dir: pathlib.Path | None = None

    def by_id(self, video_id: str) -> PlantedVideo:
        for video in self.videos:
            if video.video_id == video_id:
                return video
        raise KeyError(f"{self.source} corpus at {self.root} has no video {video_id!r}")

    def faults(self) -> dict[str, str]:
        """video_id -> the reason kind extraction must skip it with."""
        return {v.video_id: v.fault for v in self.videos if v.fault}

    def fakes(self, kind: str | None = None) -> list[PlantedVideo]:
        return [v for v in self.videos if v.label == "fake" and kind in (None, v.kind)]

    def with_note(self, note: str) -> list[PlantedVideo]:
        return [v for v in self.videos if note in v.notes]

    def write(self) -> pathlib.Path:
        path = self.root / TRUTH_FOLDER / f"manifest_{self.source}.json"
        path.parent.mkdir(parents=True, exist_ok=True)
        record = {
            "source": self.source,
            "test_set_dir": str(self.test_set_dir.relative_to(self.root)) if self.test_set_dir else None,
            "videos": [dataclasses.asdict(v) for v in self.videos],
        }
        path.write_text(json.dumps(record, indent=1))
        return path


def load_manifest(root, source: str) -> CorpusManifest:
    """The manifest ``write_<source>_corpus(root)`` wrote ("dfdc", "faceforensics", "dfd")."""
    root = pathlib.Path(root)
    record = json.loads((root / TRUTH_FOLDER / f"manifest_{source}.json").read_text())
    videos = tuple(PlantedVideo(**{**v, "notes": tuple(v["notes"])}) for v in record["videos"])
    test_set = root / record["test_set_dir"] if record["test_set_dir"] else None
    return CorpusManifest(record["source"], root, videos, test_set)


def save_planted(root, video_id: str, *, kind: str, region: str | None, width: int,
                 packed_masks: list[np.ndarray], face_boxes: list[tuple[int, int, int, int]]) -> None:
    """Store one fake's truth; masks come bit-packed per frame (``np.packbits(mask, axis=-1)``)."""
    if kind not in KINDS:
        raise ValueError(f"kind must be one of {KINDS}, got {kind!r}")
    path = _truth_path(root, video_id)
    path.parent.mkdir(parents=True, exist_ok=True)
    np.savez_compressed(
        path, packed=np.stack(packed_masks), width=width, kind=kind, region=region or "",
        face_boxes=np.asarray(face_boxes, np.int32).reshape(-1, 4),
    )


def load_planted_masks(root, video_id: str) -> np.ndarray:
    """The fake's true changed pixels: (T, H, W) bool, full frame, one per encoded frame."""
    with _open_truth(root, video_id) as truth:
        return np.unpackbits(truth["packed"], axis=-1, count=int(truth["width"])).astype(bool)


def load_planted_kind(root, video_id: str) -> str:
    """"partial", "whole" or "none" (a fake whose face was never changed)."""
    with _open_truth(root, video_id) as truth:
        return str(truth["kind"])


def load_planted_face_boxes(root, video_id: str) -> np.ndarray:
    """(T, 4) int32 true box (x0, y0, x1, y1) of the manipulated person's face per frame."""
    with _open_truth(root, video_id) as truth:
        return truth["face_boxes"]


def _truth_path(root, video_id: str) -> pathlib.Path:
    return pathlib.Path(root) / TRUTH_FOLDER / f"{video_id}.npz"


def _open_truth(root, video_id: str):
    path = _truth_path(root, video_id)
    if not path.is_file():
        raise FileNotFoundError(f"{path}: no planted truth for {video_id!r} (only fakes a corpus writer made have one)")
    return np.load(path)
