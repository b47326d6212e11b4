"""Celeb-DF v2: celebrities' YouTube videos and the deepfakes made of them.

Layout of the download: ``Celeb-real/id0_0000.mp4`` (celebrity 0's video 0000),
``Celeb-synthesis/id0_id16_0000.mp4`` (that video with celebrity 16's face, so its
pixel-aligned original is ``Celeb-real/id0_0000.mp4``), ``YouTube-real/00000.mp4``
(other real videos, with no fakes) and ``List_of_testing_videos.txt``, the official test
set, one ``<label> <folder>/<file>.mp4`` a line.

The label of that list is 1 for a REAL video and 0 for a FAKE one (the opposite of
DFDC's ``labels.csv``): every ``Celeb-synthesis`` line carries 0, and the authors of
Self-Blended Images read it as ``fake = 1 - label`` (mapooon/SelfBlendedImages,
``src/inference/datasets.py``, ``init_cdf``). The reader checks each line's label
against its folder and refuses a list that disagrees.
"""

import pathlib
import re

from dfseg_tf.sources.entry import FAKE, REAL, TEST, TRAIN, VideoEntry
from dfseg_tf.sources.splits import SourceLayoutError

SOURCE = "celebdf"
CELEB_REAL = "Celeb-real"
CELEB_SYNTHESIS = "Celeb-synthesis"
YOUTUBE_REAL = "YouTube-real"
TEST_LIST = "List_of_testing_videos.txt"
LIST_LABELS = {"1": REAL, "0": FAKE}  # the official list's convention: 1 = real
_FAKE_NAME = re.compile(r"(?P<target>id\d+)_(?P<source>id\d+)_(?P<number>\d+)")


def list_celebdf(root) -> list[VideoEntry]:
    """Every video of Celeb-DF v2 under ``root``: the official test list is the test split,
    the rest is train (Celeb-DF has no validation split).

    A fake's split is its own line's, not its original's: nothing in the official list keeps
    a fake with its original, so the two may sit in different splits.
    A listed video that is absent is still listed, so extraction skips it with a reason.
    """
    root = pathlib.Path(root)
    missing = [name for name in (CELEB_REAL, CELEB_SYNTHESIS, YOUTUBE_REAL) if not (root / name).is_dir()]
    if not (root / TEST_LIST).is_file():
        missing.append(TEST_LIST)
    if missing:
        raise SourceLayoutError(
            f"{root}: missing {', '.join(missing)}; expected Celeb-DF v2: {CELEB_REAL}/, {CELEB_SYNTHESIS}/, "
            f"{YOUTUBE_REAL}/ and {TEST_LIST}"
        )
    test_videos = read_test_list(root / TEST_LIST)
    on_disk = {f"{folder}/{path.stem}" for folder in (CELEB_REAL, CELEB_SYNTHESIS, YOUTUBE_REAL)
               for path in (root / folder).glob("*.mp4")}
    return [_entry(root, video_id, TEST if video_id in test_videos else TRAIN)
            for video_id in sorted(on_disk | set(test_videos))]


def read_test_list(path) -> dict[str, str]:
    """``{"Celeb-real/id0_0000": "real", ...}`` from the official list, after checking
    that each line's label agrees with its folder (1 = real, 0 = fake)."""
    path = pathlib.Path(path)
    videos = {}
    for number, line in enumerate(path.read_text().splitlines(), start=1):
        if not line.strip():
            continue
        fields = line.split()
        if len(fields) != 2 or fields[0] not in LIST_LABELS or not fields[1].endswith(".mp4"):
            raise SourceLayoutError(f"{path}:{number}: expected '<1 or 0> <folder>/<name>.mp4', got {line!r}")
        label, name = LIST_LABELS[fields[0]], fields[1]
        folder = name.split("/")[0]
        expected = FAKE if folder == CELEB_SYNTHESIS else REAL
        if folder not in (CELEB_REAL, CELEB_SYNTHESIS, YOUTUBE_REAL) or label != expected:
            raise SourceLayoutError(
                f"{path}:{number}: {name} labelled {fields[0]} ({label}); the list's convention is "
                f"1 = real ({CELEB_REAL}, {YOUTUBE_REAL}) and 0 = fake ({CELEB_SYNTHESIS})"
            )
        videos[name.removesuffix(".mp4")] = label
    return videos


def original_name(fake_name: str) -> str:
    """``id0_id16_0000`` -> ``id0_0000``: the target celebrity's video."""
    match = _FAKE_NAME.fullmatch(fake_name)
    if not match:
        raise SourceLayoutError(f"{fake_name}: Celeb-DF fake name is not idTARGET_idSOURCE_NNNN")
    return f"{match['target']}_{match['number']}"


def _entry(root: pathlib.Path, video_id: str, split: str) -> VideoEntry:
    folder, name = video_id.split("/")
    path = root / f"{video_id}.mp4"
    if folder != CELEB_SYNTHESIS:
        return VideoEntry(video_id=video_id, path=path, label=REAL, split=split, source=SOURCE,
                          original_id=video_id, original_path=path)
    original_id = f"{CELEB_REAL}/{original_name(name)}"
    return VideoEntry(video_id=video_id, path=path, label=FAKE, split=split, source=SOURCE,
                      original_id=original_id, original_path=root / f"{original_id}.mp4")
