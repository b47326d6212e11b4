"""A faithful miniature of DFDC, FaceForensics++ c23 and DFD: real H.264, real faces, known masks."""

from dfseg_tf.corpus.video import write_h264

__all__ = ["write_h264"]
