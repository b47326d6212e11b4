"""Aligned face crops and manipulation masks from videos (METHOD.md 1-2).

Importing this package does not import TensorFlow; creating a detector does
(``default_detector()``: BlazeFace, then MTCNN where it is unsure).
"""

from dfseg_tf.extraction.detectors import default_detector
from dfseg_tf.extraction.examples import ExtractionConfig, FrameExample, extract_many, extract_video
from dfseg_tf.extraction.faces import (
    DETECT_BATCH_FRAMES,
    Box,
    BoxCache,
    Face,
    FaceDetector,
    FrameFaces,
    box_pixels,
    crop_face,
    original_face_boxes,
    square_box,
)
from dfseg_tf.extraction.masks import blurred_distance, manipulation_mask, noise_samples, threshold_from_noise
from dfseg_tf.extraction.official_masks import official_mask_crops, write_mask_video
from dfseg_tf.extraction.report import SkipReport, VideoSkipped
from dfseg_tf.extraction.video import VideoInfo, downscale, iter_frames, probe, sample_frame_indices

__all__ = [
    "DETECT_BATCH_FRAMES",
    "Box",
    "BoxCache",
    "ExtractionConfig",
    "Face",
    "FaceDetector",
    "FrameExample",
    "FrameFaces",
    "SkipReport",
    "VideoInfo",
    "VideoSkipped",
    "blurred_distance",
    "box_pixels",
    "crop_face",
    "default_detector",
    "downscale",
    "extract_many",
    "extract_video",
    "iter_frames",
    "manipulation_mask",
    "noise_samples",
    "official_mask_crops",
    "original_face_boxes",
    "probe",
    "sample_frame_indices",
    "square_box",
    "threshold_from_noise",
    "write_mask_video",
]
