"""DeepFakeDetection (DFD, c23 or c40/raw): actors' scenes and the deepfakes made of them (all test)."""

import pathlib
import re

from dfseg_tf.sources.entry import FAKE, REAL, TEST, VideoEntry
from dfseg_tf.sources.faceforensics import MASKS, check_compression, originals_folder, with_official_mask
from dfseg_tf.sources.splits import SourceLayoutError

SOURCE = "dfd"
# target_source__scene__id: the fake is the target's scene with the source's face.
_FAKE_NAME = re.compile(r"(?P<target>[^_]+)_(?P<source>[^_]+)__(?P<scene>.+)__(?P<code>[^_]+)")


def list_dfd(root, *, compression: str = "c23") -> list[VideoEntry]:
    """Originals ``actors/01__exit_phone_room`` and fakes
    ``DeepFakeDetection/01_02__exit_phone_room__YVGY8LOK``, whose original is
    ``01__exit_phone_room``. A fake whose original is absent is still listed, pointing at
    the expected file, so extraction skips it with "missing original". A fake's official
    mask video, ``manipulated_sequences/DeepFakeDetection/masks/videos/<same name>.mp4``,
    is picked up where it exists. ``compression`` names the quality folders read.
    """
    root = pathlib.Path(root)
    check_compression(compression)
    originals = originals_folder(compression, kind="actors")
    fakes = pathlib.Path("manipulated_sequences/DeepFakeDetection", compression, "videos")
    missing = [str(folder) for folder in (originals, fakes) if not (root / folder).is_dir()]
    if missing:
        raise SourceLayoutError(
            f"{root}: missing {' and '.join(missing)}; expected the DFD {compression} layout of FaceForensics++"
        )
    entries = [_entry(path, "actors", path.stem, path, REAL) for path in sorted((root / originals).glob("*.mp4"))]
    for path in sorted((root / fakes).glob("*.mp4")):
        original = original_name(path.stem)
        entry = _entry(path, "DeepFakeDetection", original, root / originals / f"{original}.mp4", FAKE)
        entries.append(with_official_mask(entry, root / fakes.parent.parent / MASKS))
    return entries


def original_name(fake_name: str) -> str:
    """``01_02__exit_phone_room__YVGY8LOK`` -> ``01__exit_phone_room`` (target actor, scene)."""
    match = _FAKE_NAME.fullmatch(fake_name)
    if not match:
        raise SourceLayoutError(f"{fake_name}: DFD fake name is not target_source__scene__id")
    return f"{match['target']}__{match['scene']}"


def _entry(path, folder, original, original_path, label) -> VideoEntry:
    return VideoEntry(
        video_id=f"{folder}/{path.stem}", path=path, label=label, split=TEST, source=SOURCE,
        original_id=f"actors/{original}", original_path=original_path,
    )
