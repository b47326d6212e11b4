"""Writing a file so that a kill at any moment leaves either its old or its new version."""

import os
import pathlib


def replace_atomically(path, write) -> pathlib.Path:
    """Calls ``write(partial)`` for a hidden file beside ``path``, then renames it to ``path``.

    A kill while writing leaves the previous ``path`` whole (and a stray hidden
    ``.<name>.partial<suffix>``, overwritten next time): the rename is atomic on one file system.
    """
    path = pathlib.Path(path)
    partial = path.with_name(f".{path.stem}.partial{path.suffix}")
    write(partial)
    os.replace(partial, path)
    return path
