"""The features of a ``dfdc_masks`` example, declared once.

The builder declares them with the defaults; tests that write tiny data sets in the
same on-disk format use other sizes, or PNG images so hand-computed answers hold exactly.
"""

import numpy as np
import tensorflow_datasets as tfds

from dfseg_tf.method import FACE_SIZE


def frame_features(*, size: int = FACE_SIZE, image_encoding: str = "jpeg") -> tfds.features.FeaturesDict:
    """One sampled frame: the face crop, its 0/1 mask, labels, where it came from, and the
    data set's official 0/1 mask (cut and resized like ``mask``; all zero, with
    ``has_official_mask`` false, where the data set ships none)."""
    return tfds.features.FeaturesDict({
        "image": tfds.features.Image(shape=(size, size, 3), encoding_format=image_encoding),
        "mask": tfds.features.Image(shape=(size, size, 1), encoding_format="png"),
        "label": tfds.features.ClassLabel(names=["real", "fake"]),
        "video_id": tfds.features.Text(),
        "original_id": tfds.features.Text(),
        "frame_index": tfds.features.Scalar(dtype=np.int32),
        "source": tfds.features.Text(),
        "box": tfds.features.Tensor(shape=(4,), dtype=np.int32),
        "official_mask": tfds.features.Image(shape=(size, size, 1), encoding_format="png"),
        "has_official_mask": tfds.features.Scalar(dtype=np.bool_),
    })


def absent_official_mask(size: int = FACE_SIZE) -> dict:
    """The official-mask features of an example that has none."""
    return {"official_mask": np.zeros((size, size, 1), np.uint8), "has_official_mask": False}
