"""Source readers: each lists a public data set's videos as ``VideoEntry`` records."""

from dfseg_tf.sources.celebdf import list_celebdf
from dfseg_tf.sources.dfd import list_dfd
from dfseg_tf.sources.dfdc import list_dfdc, list_dfdc_test_set
from dfseg_tf.sources.entry import FAKE, LABELS, REAL, SPLITS, TEST, TRAIN, VALIDATION, VideoEntry
from dfseg_tf.sources.faceforensics import COMPRESSIONS, METHODS, check_compression, list_faceforensics
from dfseg_tf.sources.splits import SourceLayoutError, SplitFractions, split_of_part

__all__ = [
    "COMPRESSIONS", "FAKE", "LABELS", "METHODS", "REAL", "SPLITS", "TEST", "TRAIN", "VALIDATION",
    "SourceLayoutError", "SplitFractions", "VideoEntry", "check_compression",
    "list_celebdf", "list_dfd", "list_dfdc", "list_dfdc_test_set", "list_faceforensics", "split_of_part",
]
