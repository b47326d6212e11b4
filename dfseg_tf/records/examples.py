"""One TFDS example per extracted frame, under an integer key."""

import numpy as np

from dfseg_tf.records.features import absent_official_mask
from dfseg_tf.sources.entry import VideoEntry

# A frame index takes the low bits of a key, the video's number the high ones. 2**20
# frames is over nine hours at 30 fps, far beyond any clip of DFDC, FF++ or DFD.
FRAME_BITS = 20


def example_key(video_number: int, frame_index: int) -> int:
    """The key of a frame: unique, deterministic, and an integer (Beam needs that).

    Args:
      video_number: position of the video in its split's listing sorted by video id.
      frame_index: index of the frame in the video.
    """
    if not 0 <= frame_index < 2**FRAME_BITS:
        raise ValueError(f"frame index {frame_index} does not fit in {FRAME_BITS} bits")
    return (video_number << FRAME_BITS) | frame_index


def tfds_example(entry: VideoEntry, frame) -> dict:
    """The feature dict of one ``FrameExample`` of ``entry`` (see the builder's features)."""
    if frame.official_mask is None:
        official = absent_official_mask(frame.mask.shape[0])
    else:
        official = {"official_mask": frame.official_mask, "has_official_mask": True}
    return {
        "image": frame.image,
        "mask": frame.mask,
        "label": entry.label,
        "video_id": entry.video_id,
        "original_id": entry.original_id,
        "frame_index": np.int32(frame.frame_index),
        "source": entry.source,
        "box": np.asarray(frame.box, dtype=np.int32),
        **official,
    }


def keyed_examples(video_number: int, entry: VideoEntry, frames) -> list[tuple[int, dict]]:
    """``(key, example)`` pairs for the frames extracted from one video."""
    return [(example_key(video_number, frame.frame_index), tfds_example(entry, frame)) for frame in frames]
