"""Read videos frame by frame without ever holding a whole video in memory."""

import dataclasses
from collections.abc import Iterable, Iterator

import av
import cv2
import numpy as np

from dfseg_tf.extraction.report import VideoSkipped


@dataclasses.dataclass(frozen=True)
class VideoInfo:
    """What a container says about its first video stream (frame size as decoded)."""

    width: int
    height: int
    n_frames: int
    fps: float


def probe(path) -> VideoInfo:
    """Size, frame count and frame rate of a video.

    The frame count comes from the stream header; when the container does not state it
    (0, as in some .avi/.webm files) the packets are counted, which reads the file but
    decodes nothing.

    Raises:
      VideoSkipped: ``unreadable: <path>: <why>`` when the file cannot be opened or has
        no video stream.
    """
    try:
        with av.open(str(path)) as container:
            stream = _video_stream(container, path)
            n_frames = stream.frames or _count_packets(container, stream)
            rate = stream.average_rate or stream.guessed_rate or 0
            return VideoInfo(
                width=stream.codec_context.width,
                height=stream.codec_context.height,
                n_frames=int(n_frames),
                fps=float(rate),
            )
    except av.FFmpegError as error:
        raise VideoSkipped(f"unreadable: {path}: {_why(error)}") from None


def sample_frame_indices(n_frames: int, n: int) -> list[int]:
    """``n`` frame indices evenly spaced from the first to the last frame, both included.

    This is DeepfakeBench's convention (``np.linspace(0, n_frames - 1, n)`` truncated to
    integers). A video with fewer than ``n`` frames gives all of its frames.
    """
    if n < 1:
        raise ValueError(f"the number of frames to sample must be at least 1, got {n}")
    if n_frames <= 0:
        return []
    n = min(n, n_frames)
    return np.linspace(0, n_frames - 1, n, dtype=np.int64).tolist()


def iter_frames(path, indices: Iterable[int], *, threads: int = 0) -> Iterator[tuple[int, np.ndarray]]:
    """Yield ``(index, frame)`` for the requested frame indices, in increasing order.

    Frames are decoded one after the other (H.264 frames depend on earlier ones, so
    none can be skipped), but only requested frames are converted to RGB, and decoding
    stops after the last requested one. At most one frame is held at a time.

    Args:
      path: the video file.
      indices: frame indices counted from 0 in presentation order; duplicates are
        yielded once.
      threads: decoder threads; 0 lets FFmpeg use one per core.

    Yields:
      ``(index, frame)`` with ``frame`` an (H, W, 3) uint8 RGB array.

    Raises:
      VideoSkipped: ``unreadable: <path>: <why>`` when the file cannot be opened or
        decoded, or ends before the last requested frame (a truncated download).
    """
    wanted = sorted(set(indices))
    if not wanted:
        return
    try:
        with av.open(str(path)) as container:
            stream = _video_stream(container, path)
            stream.thread_type = "AUTO"
            stream.codec_context.thread_count = threads
            yield from _requested_frames(container.decode(stream), wanted, path)
    except av.FFmpegError as error:
        raise VideoSkipped(f"unreadable: {path}: {_why(error)}") from None


def downscale(frame: np.ndarray, long_side: int) -> tuple[np.ndarray, float]:
    """``frame`` shrunk so its longer side is at most ``long_side``, and the factor used.

    A frame already small enough is returned as it is, with factor 1. Multiply a
    coordinate in ``frame`` by the factor to find it in the smaller frame.
    """
    height, width = frame.shape[:2]
    factor = long_side / max(height, width)
    if factor >= 1:
        return frame, 1.0
    size = (max(1, round(width * factor)), max(1, round(height * factor)))
    return cv2.resize(frame, size, interpolation=cv2.INTER_AREA), factor


def _requested_frames(frames, wanted: list[int], path) -> Iterator[tuple[int, np.ndarray]]:
    position = 0
    n_decoded = 0
    for frame in frames:
        if n_decoded == wanted[position]:
            yield n_decoded, frame.to_ndarray(format="rgb24")
            position += 1
            if position == len(wanted):
                return
        n_decoded += 1
    raise VideoSkipped(
        f"unreadable: {path}: ends after {n_decoded} frames, frame {wanted[position]} was requested"
    )


def _video_stream(container, path):
    if not container.streams.video:
        raise VideoSkipped(f"unreadable: {path}: no video stream")
    return container.streams.video[0]


def _count_packets(container, stream) -> int:
    return sum(1 for packet in container.demux(stream) if packet.size)


def _why(error: av.FFmpegError) -> str:
    """FFmpeg's own words without the path, which the caller puts in front."""
    return getattr(error, "strerror", None) or str(error)
