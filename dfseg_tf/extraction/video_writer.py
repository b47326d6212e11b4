"""Write real H.264 files the way the public data sets ship them.

Used by the miniature corpus (test videos) and by `dfseg predict` (overlay videos); it
lives beside the reader so that predict does not load the corpus generator to write one.
"""

import fractions
import pathlib
from collections.abc import Iterable

import av
import numpy as np


def write_h264(path, frames: Iterable[np.ndarray], *, fps: float = 30.0, crf: int = 23) -> pathlib.Path:
    """Encode RGB frames to an H.264 mp4 (libx264, yuv420p), one frame at a time.

    CRF 23 matches FaceForensics++ "c23". The frames are streamed to the encoder, so a
    long 1080p video never sits in memory. yuv420p halves the chroma resolution, which
    is why width and height must both be even.

    Args:
      path: the .mp4 file to write (parent folders are created).
      frames: iterable of (H, W, 3) uint8 RGB arrays, all of the same size.
      fps: frame rate stored in the file.
      crf: x264 constant rate factor (lower is better quality).

    Returns:
      The path written.
    """
    path = pathlib.Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        _encode(path, frames, fractions.Fraction(fps).limit_denominator(1001), crf)
    except BaseException:
        path.unlink(missing_ok=True)  # never leave a half-written video behind
        raise
    return path


def _encode(path, frames, rate, crf) -> None:
    with av.open(str(path), mode="w") as container:
        stream = None
        for index, frame in enumerate(frames):
            frame = _checked_frame(path, index, frame, stream)
            if stream is None:
                stream = _open_stream(container, rate, crf, width=frame.shape[1], height=frame.shape[0])
            for packet in stream.encode(av.VideoFrame.from_ndarray(frame, format="rgb24")):
                container.mux(packet)
        if stream is None:
            raise ValueError(f"{path}: no frames to write")
        for packet in stream.encode():
            container.mux(packet)


def _open_stream(container, rate, crf, *, width, height):
    stream = container.add_stream("libx264", rate=rate)
    stream.width = width
    stream.height = height
    stream.pix_fmt = "yuv420p"
    # x264's macroblock tree (mbtree) made the same frames encode differently from one
    # write to the next (measured: 2-11 of the 105 tiny corpus files per rewrite, decoded
    # pixels off by up to 71); without it a corpus is a function of its seed.
    stream.options = {"crf": str(crf), "preset": "veryfast", "x264-params": "mbtree=0"}
    return stream


def _checked_frame(path, index, frame, stream) -> np.ndarray:
    frame = np.asarray(frame)
    if frame.dtype != np.uint8 or frame.ndim != 3 or frame.shape[2] != 3:
        raise ValueError(f"{path}: frame {index} must be (H, W, 3) uint8 RGB, got {frame.shape} {frame.dtype}")
    height, width = frame.shape[:2]
    if height % 2 or width % 2:
        raise ValueError(
            f"{path}: H.264 yuv420p needs even width and height, frame {index} is {width}x{height}"
        )
    if stream is not None and (width, height) != (stream.width, stream.height):
        raise ValueError(
            f"{path}: frame {index} is {width}x{height}, earlier frames were {stream.width}x{stream.height}"
        )
    return np.ascontiguousarray(frame)
