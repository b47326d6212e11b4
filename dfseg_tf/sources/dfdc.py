"""DFDC: the ``dfdc_train_part_K`` folders of the full training set, and the separate test set."""

import csv
import dataclasses
import json
import logging
import pathlib
import re

from dfseg_tf.sources.entry import FAKE, REAL, SPLITS, TEST, VideoEntry
from dfseg_tf.sources.splits import SourceLayoutError, SplitFractions, split_of_part

SOURCE = "dfdc"
TEST_SET_SOURCE = "dfdc/test_set"
DFDC_PARTS = 50  # dfdc_train_part_0 ... dfdc_train_part_49
_PART_FOLDER = re.compile(r"dfdc_train_part_(\d+)")
_EXPECTED = "folders dfdc_train_part_0, dfdc_train_part_1, ... each holding *.mp4 and metadata.json"

log = logging.getLogger(__name__)


@dataclasses.dataclass(frozen=True)
class _Listed:
    """One metadata.json entry: its file name, label, original's file name, part K and listing."""

    name: str
    label: str
    original: str | None
    part: int
    listing: pathlib.Path  # the metadata.json that lists it

    @property
    def skip_reason(self) -> str | None:
        return _unsafe_name(self.name, self.listing)

    @property
    def path(self) -> pathlib.Path:
        """The file; for an unsafe name, which is never joined to a folder, its part folder."""
        return self.listing.parent if self.skip_reason else self.listing.parent / self.name


def list_dfdc(root, *, fractions: SplitFractions = SplitFractions(), n_parts: int = DFDC_PARTS) -> list[VideoEntry]:
    """Every video of the DFDC parts under ``root`` that falls in a split.

    Parts are ``root/dfdc_train_part_K/metadata.json`` or one level deeper (as some unzip
    tools leave them). A part's split follows its number K among the ``n_parts`` parts
    of the whole set (see ``split_of_part``), not its position among the parts found:
    with the default fractions train is 0-19, validation 20-24 and test 45-49 however
    many parts were downloaded, and the split's parts that are absent are named in a
    warning. File names are indexed across all parts, and a fake takes the split of its
    ORIGINAL's part, so all fakes of one person share a split. A fake whose original is
    listed nowhere keeps its own part's split and points at the absent file, as do
    entries whose file is absent: extraction skips those with a reason. A name that is
    not a plain file name (``../x.mp4``, ``/abs/x.mp4``) is never joined to a folder:
    its entry carries an ``unsafe file name`` skip reason instead.

    Raises:
      SourceLayoutError: no parts, a part twice, a part number of ``n_parts`` or more, or
        a malformed metadata.json.
    """
    parts = _find_parts(pathlib.Path(root), n_parts)
    _warn_absent_parts(pathlib.Path(root), [part for part, _ in parts], n_parts, fractions)
    index = _index_names(parts)
    entries = []
    for name, listed in sorted(index.items()):
        split, original_path, skip_reason = _split_and_original(listed, index, n_parts, fractions)
        if split is None:
            continue
        original_name = name if listed.label == REAL else listed.original
        entries.append(VideoEntry(
            video_id=pathlib.Path(name).stem, path=listed.path, label=listed.label, split=split,
            source=SOURCE, original_id=pathlib.Path(original_name).stem, original_path=original_path,
            skip_reason=skip_reason,
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
        skip_reason = _unsafe_name(filename, labels_path)
        entries.append(VideoEntry(
            video_id=pathlib.Path(filename).stem, path=root if skip_reason else found.get(filename, root / filename),
            label=FAKE if label else REAL, split=TEST, source=TEST_SET_SOURCE,
            original_id=pathlib.Path(filename).stem, original_path=None, skip_reason=skip_reason,
        ))
    return sorted(entries, key=lambda e: e.video_id)


def _find_parts(root: pathlib.Path, n_parts: int) -> list[tuple[int, pathlib.Path]]:
    """(K, metadata.json) of every part, sorted by K."""
    if not root.is_dir():
        raise SourceLayoutError(f"{root}: DFDC root does not exist; expected {_EXPECTED}")
    found: dict[int, pathlib.Path] = {}
    for metadata in sorted([*root.glob("*/metadata.json"), *root.glob("*/*/metadata.json")]):
        match = _PART_FOLDER.fullmatch(metadata.parent.name)
        if not match:
            continue
        part = int(match.group(1))
        if part >= n_parts:
            raise SourceLayoutError(
                f"{metadata.parent}: part {part} is beyond the {n_parts} parts (0-{n_parts - 1}) of this data set"
            )
        if part in found:
            raise SourceLayoutError(f"{root}: DFDC part {part} found twice: {found[part].parent} and {metadata.parent}")
        found[part] = metadata
    if not found:
        raise SourceLayoutError(f"{root}: no DFDC parts found; expected {_EXPECTED}")
    return sorted(found.items())


def _warn_absent_parts(root: pathlib.Path, present: list[int], n_parts: int, fractions: SplitFractions) -> None:
    """One warning per split some of whose parts are not under ``root`` (a partial download)."""
    for split in SPLITS:
        parts = [k for k in range(n_parts) if split_of_part(k, n_parts, fractions) == split]
        absent = [k for k in parts if k not in present]
        if absent:
            log.warning(
                "DFDC: %s parts %s of %s are absent under %s: the %s split is %s", split, _ranges(absent),
                _ranges(parts), root, split, "empty" if absent == parts else "partial",
            )


def _ranges(numbers: list[int]) -> str:
    """[0, 1, 2, 5, 7, 8] -> "0-2, 5, 7-8"."""
    runs = []
    for number in numbers:
        if runs and number == runs[-1][1] + 1:
            runs[-1][1] = number
        else:
            runs.append([number, number])
    return ", ".join(f"{a}-{b}" if a != b else f"{a}" for a, b in runs)


def _index_names(parts) -> dict[str, _Listed]:
    """File name -> its metadata entry, across all parts (names are unique in DFDC)."""
    index: dict[str, _Listed] = {}
    for part, metadata_path in parts:
        for name, label, original in _read_metadata(metadata_path):
            if name in index:
                raise SourceLayoutError(f"{metadata_path}: {name} is also listed in {index[name].listing}")
            index[name] = _Listed(name, label, original, part, metadata_path)
    return index


def _unsafe_name(name: str, listing: pathlib.Path) -> str | None:
    """The skip reason of a listed name that is not a plain file name (it would be read
    outside its folder: ``../x.mp4``, ``/data/x.mp4``, ``sub/x.mp4``), else None."""
    if name not in ("", ".", "..") and pathlib.PurePath(name).name == name:
        return None
    return f"unsafe file name: {listing}: {name!r} is not a plain file name inside its folder"


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
    """(split, original's file, skip reason) of an entry. A real video is its own original;
    a fake follows its original's part when it is listed, else keeps its own and points at
    the absent file. An unsafe name, its own or its original's, is the skip reason."""
    if listed.label == REAL:
        return split_of_part(listed.part, n_parts, fractions), listed.path, listed.skip_reason
    original = index.get(listed.original) or _Listed(listed.original, REAL, None, listed.part, listed.listing)
    return split_of_part(original.part, n_parts, fractions), original.path, listed.skip_reason or original.skip_reason


def _read_labels(path: pathlib.Path):
    with open(path, newline="") as handle:
        reader = csv.DictReader(handle)
        if reader.fieldnames is None or not {"filename", "label"} <= set(reader.fieldnames):
            raise SourceLayoutError(f"{path}: expected a header 'filename,label', got {reader.fieldnames}")
        for line, row in enumerate(reader, start=2):
            if row["label"] not in ("0", "1"):
                raise SourceLayoutError(f"{path}: line {line}: label must be 0 or 1, got {row['label']!r}")
            yield row["filename"], row["label"] == "1"
