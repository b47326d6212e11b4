"""Which files a `dfseg predict` run looks at: the paths given, folders walked."""

import dataclasses
import pathlib

VIDEO = "video"
IMAGE = "image"

VIDEO_SUFFIXES = frozenset({".mp4", ".avi", ".mov", ".mkv", ".webm", ".m4v", ".mpg", ".mpeg"})
IMAGE_SUFFIXES = frozenset({".jpg", ".jpeg", ".png", ".bmp", ".webp", ".tif", ".tiff"})


@dataclasses.dataclass(frozen=True)
class InputItem:
    """One row of the summary: a file to predict on, or a path that gave nothing.

    Attributes:
      path: the file (or the folder or missing path that ``problem`` is about).
      kind: ``"video"`` or ``"image"``.
      problem: a one-line reason when there is nothing to predict on, else None.
    """

    path: pathlib.Path
    kind: str = VIDEO
    problem: str | None = None


def collect_inputs(paths, *, skip_folder=None) -> list[InputItem]:
    """The inputs of a run, in the order given; folders contribute their files sorted.

    A file named on the command line is always tried (an image by its suffix, else a
    video), so a misnamed or broken file is reported, not ignored. Folders are walked
    recursively and contribute only files with a video or image suffix; a folder with
    none, or a path that does not exist, becomes one item with a ``problem``.

    Args:
      paths: files and folders.
      skip_folder: files under it are left out of folder walks: the run's output
        folder, so a second run over ``.`` does not judge the first run's overlays.
    """
    skip_folder = None if skip_folder is None else pathlib.Path(skip_folder).resolve()
    items = []
    for path in map(pathlib.Path, paths):
        if path.is_dir():
            items.extend(_folder_items(path, skip_folder))
        elif path.exists():
            items.append(InputItem(path, _kind_of(path)))
        else:
            items.append(InputItem(path, _kind_of(path), f"missing file: {path} does not exist"))
    return items


def _folder_items(folder: pathlib.Path, skip_folder: pathlib.Path | None) -> list[InputItem]:
    files = sorted(
        p
        for p in folder.rglob("*")
        if p.is_file()
        and p.suffix.lower() in VIDEO_SUFFIXES | IMAGE_SUFFIXES
        and not (skip_folder and p.resolve().is_relative_to(skip_folder))
    )
    if not files:
        return [InputItem(folder, VIDEO, f"no input: {folder} holds no video or image files")]
    return [InputItem(p, _kind_of(p)) for p in files]


def _kind_of(path: pathlib.Path) -> str:
    return IMAGE if path.suffix.lower() in IMAGE_SUFFIXES else VIDEO
