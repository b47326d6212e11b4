"""dfseg_tf: localise deepfake manipulations with U-Net segmentation.

Data flows one way through the sub-packages:
``sources`` (video lists) -> ``extraction`` (aligned frames, faces, masks) ->
``datasets/dfdc_masks`` (TFDS records) -> ``data`` (tf.data) -> ``models`` /
``training`` -> ``evaluation`` (rules, metrics, tables, plots) and ``predict``.
"""

import os as _os

# TensorFlow prints several lines of C++ start-up noise on import; keep them out of
# the user's way unless they asked for them explicitly.
_os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

__version__ = "0.1.0"
