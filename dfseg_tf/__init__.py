"""dfseg_tf: localise deepfake manipulations with U-Net segmentation.

Data flows one way through the sub-packages:
``sources`` (video lists) -> ``extraction`` (aligned frames, faces, masks) ->
``records`` (TFDS examples; ``datasets/dfdc_masks`` is its thin builder) -> ``data``
(tf.data) -> ``models`` / ``training`` -> ``evaluation`` (rules, metrics, tables,
plots) and ``predict``. ``corpus`` writes the miniature data sets the tests and
the ``synthetic`` config build from.
"""

import os as _os

# TensorFlow prints several lines of C++ start-up noise on import; keep them out of
# the user's way unless they asked for them explicitly.
_os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

__version__ = "0.2.0"
