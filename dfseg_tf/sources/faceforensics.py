"""FaceForensics++ (c23, or c40/raw): youtube originals, the five methods' fakes, the official splits."""

import dataclasses
import json
import logging
import pathlib
import re

from dfseg_tf.sources.entry import FAKE, REAL, TEST, TRAIN, VALIDATION, VideoEntry
from dfseg_tf.sources.splits import SourceLayoutError

METHODS = ("Deepfakes", "Face2Face", "FaceSwap", "NeuralTextures", "FaceShifter")
# The download script's qualities (-c): the study's c23, the lossier c40, raw (lossless).
COMPRESSIONS = ("c23", "c40", "raw")
MASKS = pathlib.Path("masks/videos")  # under manipulated_sequences/<method>/, same names as the fakes
SPLIT_FILES = {"train": TRAIN, "val": VALIDATION, "test": TEST}
_FAKE_NAME = re.compile(r"(\d+)_(\d+)")

log = logging.getLogger(__name__)


def list_faceforensics(root, *, methods=METHODS, compression: str = "c23") -> list[VideoEntry]:
    """Originals ``original/000`` and fakes ``<method>/000_003`` (target 000, whose video is
    the pixel-aligned original), each fake with its official mask video
    ``manipulated_sequences/<method>/masks/videos/000_003.mp4`` where that file exists.
    Splits come from ``root/splits/{train,val,test}.json`` (lists of id pairs ``[a, b]``:
    originals a and b, fakes a_b and b_a); without that folder every video is test. A
    method whose folder is absent is left out with a log line. ``compression`` (one of
    ``COMPRESSIONS``) names the quality folders read: ``.../c23/videos/``.
    """
    root = pathlib.Path(root)
    unknown = sorted(set(methods) - set(METHODS))
    if unknown:
        raise ValueError(f"unknown FaceForensics++ methods {unknown}; known: {METHODS}")
    check_compression(compression)
    originals = originals_folder(compression)
    originals_dir = root / originals
    if not originals_dir.is_dir():
        raise SourceLayoutError(
            f"{root}: no {originals}; expected FaceForensics++ {compression}: {originals}/000.mp4 and "
            f"manipulated_sequences/<method>/{compression}/videos/000_003.mp4"
        )
    split_of = _official_splits(root / "splits")
    entries = [_entry(path, "original", path.stem, path, split_of) for path in sorted(originals_dir.glob("*.mp4"))]
    for method in methods:
        entries.extend(_method_entries(root, method, originals_dir, split_of, compression))
    return [e for e in entries if e is not None]


def originals_folder(compression: str = "c23", kind: str = "youtube") -> pathlib.Path:
    """Where the download script puts the originals: ``original_sequences/<kind>/<compression>/videos``
    (``youtube`` for FaceForensics++, ``actors`` for DFD)."""
    return pathlib.Path("original_sequences", kind, compression, "videos")


def check_compression(compression: str) -> None:
    if compression not in COMPRESSIONS:
        raise ValueError(f"compression must be one of {COMPRESSIONS}, got {compression!r}")


def _method_entries(root, method, originals_dir, split_of, compression):
    videos = root / "manipulated_sequences" / method / compression / "videos"
    if not videos.is_dir():
        log.info("FaceForensics++: no %s, method %s left out", videos, method)
        return []
    entries = []
    for path in sorted(videos.glob("*.mp4")):
        match = _FAKE_NAME.fullmatch(path.stem)
        if not match:
            log.warning("FaceForensics++: %s is not named target_source.mp4, left out", path)
            continue
        target = match.group(1)
        entry = _entry(path, method, target, originals_dir / f"{target}.mp4", split_of)
        if entry is not None:
            entries.append(with_official_mask(entry, videos.parent.parent / MASKS))
    return entries


def with_official_mask(entry: VideoEntry, masks_dir: pathlib.Path) -> VideoEntry:
    """``entry`` with ``mask_path`` set when ``masks_dir`` holds a video of the same name."""
    mask_path = masks_dir / entry.path.name
    return dataclasses.replace(entry, mask_path=mask_path) if mask_path.is_file() else entry


def _entry(path, method, target, original_path, split_of):
    """The entry of one video, or None when the official splits do not list its original."""
    split = split_of(target)
    if split is None:
        log.warning("FaceForensics++: %s is in no official split, left out", path)
        return None
    return VideoEntry(
        video_id=f"{method}/{path.stem}", path=path, label=REAL if method == "original" else FAKE,
        split=split, source=f"faceforensics/{method}", original_id=f"original/{target}",
        original_path=original_path,
    )


def _official_splits(folder: pathlib.Path):
    """A function original id -> split; everything is test when there are no split files."""
    if not folder.is_dir():
        log.info("FaceForensics++: no %s, every video goes to the test split", folder)
        return lambda _: TEST
    missing = [f"{name}.json" for name in SPLIT_FILES if not (folder / f"{name}.json").is_file()]
    if missing:
        raise SourceLayoutError(f"{folder}: missing {', '.join(missing)}; expected train.json, val.json, test.json")
    splits = {}
    for name, split in SPLIT_FILES.items():
        for video_id in _ids_in(folder / f"{name}.json"):
            splits[video_id] = split
    return splits.get


def _ids_in(path: pathlib.Path) -> list[str]:
    try:
        pairs = json.loads(path.read_text())
    except (json.JSONDecodeError, UnicodeDecodeError) as error:
        raise SourceLayoutError(f"{path}: not valid JSON ({error})") from None
    if not isinstance(pairs, list) or not all(
        isinstance(p, list) and len(p) == 2 and all(isinstance(i, str) for i in p) for p in pairs
    ):
        raise SourceLayoutError(f"{path}: expected a list of id pairs like [[\"000\", \"003\"], ...]")
    return [video_id for pair in pairs for video_id in pair]
