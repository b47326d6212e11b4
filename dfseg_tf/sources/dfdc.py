"""DFDC: the ``dfdc_train_part_K`` folders of the full training set, and the separate test set."""

import csv
import dataclasses
import json
import logging
import pathlib
import re

from dfseg_tf.sources.entry import FAKE, REAL, TEST, VideoEntry
from dfseg_tf.sources.splits import SourceLayoutError, SplitFractions, split_of_part

SOURCE = "dfdc"
TEST_SET_SOURCE = "dfdc/test_set"
_PART_FOLDER = re.compile(r"dfdc_train_part_(\d+)")
_EXPECTED = "folders dfdc_train_part_0, dfdc_train_part_1, ... each holding *.mp4 and metadata.json"

log = logging.getLogger(__name__)


@dataclasses.dataclass(frozen=True)
class _Listed:
    """One metadata.json entry: the file, its label, its original's file name, its part."""

    path: pathlib.Path
    label: str
    original: str | None
    part: int


def list_dfdc(root, *, fractions: SplitFractions = SplitFractions()) -> list[VideoEntry]:
    """Every video of the DFDC parts under ``root`` that falls in a split.

    Parts are ``root/dfdc_train_part_K/metadata.json`` or one level deeper (as some unzip
    tools leave them). They are ordered by K and split by position: the first
    ``fractions.train`` of them train, and so on (see ``split_of_part``). File names are
    indexed across all parts, and a fake takes the split of its ORIGINAL's part, so all
    fakes of one person share a split. A fake whose original is listed nowhere keeps its
    own part's split and points at the absent file, as do entries whose file is absent:
    extraction skips those with a reason.
    """
    parts = _find_parts(pathlib.Path(root))
    index = _index_names(parts)
    entries = []
    for name, listed in sorted(index.items()):
        split, original_path = _split_and_original(listed, index, len(parts), fractions)
        if split is None:
            continue
        original_name = name if listed.label == REAL else listed.original
        entries.append(VideoEntry(
            video_id=pathlib.Path(name).stem, path=listed.path, label=listed.label, split=split,
            source=SOURCE, original_id=pathlib.Path(original_name).stem, original_path=original_path,
        ))
    log.info("DFDC: %d parts, %d videos in splits", len(parts), len(entries))
    return entries


def list_dfdc_test_set(root) -> list[VideoEntry]:
    """The separate DFDC test set: ``root/labels.csv`` (``filename,label``, 1 = fake) and its
    videos (beside it or in sub-folders). No originals ship with it, so ``original_path`` is None.
    """
    root = pathlib.Path(root)
    labels_path = root / "labels.csv"
    if not labels_path.is_file():
        raise SourceLayoutError(f"{root}: no labels.csv; expected the DFDC test set: labels.csv (filename,label) and its *.mp4")
    found = {path.name: path for path in sorted(root.rglob("*.mp4"))}
    entries = []
    for filename, label in _read_labels(labels_path):
        entries.append(VideoEntry(
            video_id=pathlib.Path(filename).stem, path=found.get(filename, root / filename),
            label=FAKE if label else REAL, split=TEST, source=TEST_SET_SOURCE,
            original_id=pathlib.Path(filename).stem, original_path=None,
        ))
    return sorted(entries, key=lambda e: e.video_id)


def _find_parts(root: pathlib.Path) -> list[tuple[int, pathlib.Path]]:
    """(K, metadata.json) of every part, sorted by K."""
    if not root.is_dir():
        raise SourceLayoutError(f"{root}: DFDC root does not exist; expected {_EXPECTED}")
    found: dict[int, pathlib.Path] = {}
    for metadata in sorted([*root.glob("*/metadata.json"), *root.glob("*/*/metadata.json")]):
        match = _PART_FOLDER.fullmatch(metadata.parent.name)
        if not match:
            continue
        part = int(match.group(1))
        if part in found:
            raise SourceLayoutError(f"{root}: DFDC part {part} found twice: {found[part].parent} and {metadata.parent}")
        found[part] = metadata
    if not found:
        raise SourceLayoutError(f"{root}: no DFDC parts found; expected {_EXPECTED}")
    return sorted(found.items())


def _index_names(parts) -> dict[str, _Listed]:
    """File name -> its metadata entry, across all parts (names are unique in DFDC)."""
    index: dict[str, _Listed] = {}
    for position, (_, metadata_path) in enumerate(parts):
        for name, label, original in _read_metadata(metadata_path):
            if name in index:
                raise SourceLayoutError(f"{metadata_path}: {name} is also listed in {index[name].path.parent}")
            index[name] = _Listed(metadata_path.parent / name, label, original, position)
    return index


def _read_metadata(path: pathlib.Path):
    """(name, label, original name or None) per entry; a one-line error for anything malformed."""
    try:
        metadata = json.loads(path.read_text())
    except (json.JSONDecodeError, UnicodeDecodeError) as error:
        raise SourceLayoutError(f"{path}: not valid JSON ({error})") from None
    if not isinstance(metadata, dict):
        raise SourceLayoutError(f"{path}: expected an object of file name -> entry, got {type(metadata).__name__}")
    for name, entry in metadata.items():
        label = entry.get("label") if isinstance(entry, dict) else None
        if label not in ("REAL", "FAKE"):
            raise SourceLayoutError(f"{path}: entry {name!r} has label {label!r}, expected 'REAL' or 'FAKE'")
        original = entry.get("original")
        if label == "FAKE" and not isinstance(original, str):
            raise SourceLayoutError(f"{path}: FAKE entry {name!r} has no original file name")
        yield name, label.lower(), original if label == "FAKE" else None


def _split_and_original(listed: _Listed, index, n_parts, fractions):
    """A real video is its own original; a fake follows its original's part when it is listed."""
    if listed.label == REAL:
        return split_of_part(listed.part, n_parts, fractions), listed.path
    original = index.get(listed.original)
    if original is None:
        return split_of_part(listed.part, n_parts, fractions), listed.path.parent / listed.original
    return split_of_part(original.part, n_parts, fractions), original.path


def _read_labels(path: pathlib.Path):
    with open(path, newline="") as handle:
        reader = csv.DictReader(handle)
        if reader.fieldnames is None or not {"filename", "label"} <= set(reader.fieldnames):
            raise SourceLayoutError(f"{path}: expected a header 'filename,label', got {reader.fieldnames}")
        for line, row in enumerate(reader, start=2):
            if row["label"] not in ("0", "1"):
                raise SourceLayoutError(f"{path}: line {line}: label must be 0 or 1, got {row['label']!r}")
            yield row["filename"], row["label"] == "1"
