"""The frames of one input: evenly sampled from a video, or the one frame of an image."""

import pathlib
from collections.abc import Iterator

import cv2
import numpy as np

from dfseg_tf.extraction.report import VideoSkipped
from dfseg_tf.extraction.video import iter_frames, probe, sample_frame_indices
from dfseg_tf.predict.inputs import IMAGE


def sampled_frames(path, kind: str, n_frames: int) -> Iterator[tuple[int, np.ndarray]]:
    """Yield ``(frame_index, frame)``, RGB uint8, decoding only what is needed.

    Raises:
      VideoSkipped: ``unreadable: ...`` for a file that cannot be decoded (a text file
        named .mp4, a truncated download), ``no frames: ...`` for a video without any.
    """
    if kind == IMAGE:
        yield 0, read_image(path)
        return
    indices = sample_frame_indices(probe(path).n_frames, n_frames)
    if not indices:
        raise VideoSkipped(f"no frames: {path}: the video has no frames")
    yield from iter_frames(path, indices)


def read_image(path) -> np.ndarray:
    """An image file as RGB uint8 (alpha dropped, grey expanded)."""
    image = cv2.imread(str(pathlib.Path(path)), cv2.IMREAD_COLOR)  # always 3-channel BGR
    if image is None:
        raise VideoSkipped(f"unreadable: {path}: not an image OpenCV can decode")
    return cv2.cvtColor(image, cv2.COLOR_BGR2RGB)

