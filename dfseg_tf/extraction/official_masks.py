"""The official masks of FaceForensics++ and DFD, cut like the difference masks.

FaceForensics++ ships, for some methods, a mask video beside the fakes
(``manipulated_sequences/<method>/masks/videos/<name>.mp4``), frame-aligned with the fake:
white (or, for the rendering methods, a shaded face) where the face was replaced, black
elsewhere. Cut with the fake's face box, binarised and resized like the difference mask,
it is a second ground truth to score localisation against.
"""

import logging

import cv2
import numpy as np

from dfseg_tf.extraction.faces import Box, box_pixels, centred_in
from dfseg_tf.extraction.report import VideoSkipped
from dfseg_tf.extraction.video import iter_frames, probe
from dfseg_tf.extraction.video_writer import write_h264

logger = logging.getLogger(__name__)

# Grey level above which a mask pixel is manipulated. The official masks are binary for
# the face swaps but shaded renderings of the face for NeuralTextures (levels from 25 up in
# the example frame, which a mid-grey cut would halve); 16 keeps all of it and stays above
# the ringing that lossy coding leaves on the black background.
OFFICIAL_MASK_LEVEL = 16


def official_mask_crops(
    mask_path, boxes: dict[int, Box], size: int, *, frame_size, original_size=None
) -> dict[int, np.ndarray]:
    """The official mask of each frame in ``boxes``, as a (size, size, 1) uint8 {0, 1} crop.

    The mask is auxiliary: a video that cannot be used (unreadable, another frame size,
    fewer frames) gives no masks and one warning, and the fake is still extracted.

    Args:
      mask_path: the official mask video.
      boxes: frame index -> the face box the fake is cut with.
      size: side of the output masks.
      frame_size: (width, height) of the fake.
      original_size: (width, height) of the original, whose pixels the boxes are in, where
        the fake (and so its mask) is a centred crop of it; None: the fake's size.
    """
    try:
        info = probe(mask_path)
        if (info.width, info.height) != tuple(frame_size):
            raise VideoSkipped(f"size mismatch: {mask_path}: {info.width}x{info.height}, the fake is "
                               f"{frame_size[0]}x{frame_size[1]}")
        width, height = original_size or frame_size
        canvas = np.zeros((height, width, 3), np.uint8)
        return {
            index: official_mask_crop(centred_in(frame, canvas), boxes[index], size)
            for index, frame in iter_frames(mask_path, boxes)
        }
    except VideoSkipped as problem:
        logger.warning("official mask left out: %s", problem)
        return {}


def official_mask_crop(mask_frame: np.ndarray, box: Box, size: int) -> np.ndarray:
    """One official mask frame (H, W, 3) cut with ``box``, binarised, resized with nearest neighbour."""
    crop = box_pixels(mask_frame, box).max(axis=2) > OFFICIAL_MASK_LEVEL
    return cv2.resize(crop.astype(np.uint8), (size, size), interpolation=cv2.INTER_NEAREST)[..., None]


def write_mask_video(path, masks, *, fps: float = 30.0, crf: int = 23):
    """Writes grey (H, W) uint8 masks (255 = manipulated) as an H.264 mask video laid out like
    the official ones; for the miniature corpora and the benchmark's example-frame clips."""
    return write_h264(path, (np.repeat(mask[..., None], 3, axis=2) for mask in masks), fps=fps, crf=crf)
