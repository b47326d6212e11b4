"""A faithful miniature of DFDC, FaceForensics++ c23 and DFD: real H.264, real faces, known masks.

Each ``write_*_corpus(root, spec)`` lays videos out exactly as the public download does,
plants the faults real downloads have, and returns a ``CorpusManifest``; the true
changed pixels of every fake are kept under ``root/_planted`` (see ``load_planted_masks``).
"""

from dfseg_tf.corpus.dfd import write_dfd_corpus
from dfseg_tf.corpus.dfdc import TEST_SET_FOLDER as DFDC_TEST_SET_FOLDER
from dfseg_tf.corpus.dfdc import write_dfdc_corpus
from dfseg_tf.corpus.faceforensics import write_faceforensics_corpus
from dfseg_tf.corpus.spec import CorpusSpec
from dfseg_tf.corpus.truth import (
    TRUTH_FOLDER,
    CorpusManifest,
    PlantedVideo,
    load_manifest,
    load_planted_face_boxes,
    load_planted_kind,
    load_planted_masks,
)
from dfseg_tf.extraction.video_writer import write_h264

__all__ = [
    "CorpusManifest",
    "CorpusSpec",
    "DFDC_TEST_SET_FOLDER",
    "PlantedVideo",
    "TRUTH_FOLDER",
    "load_manifest",
    "load_planted_face_boxes",
    "load_planted_kind",
    "load_planted_masks",
    "write_dfd_corpus",
    "write_dfdc_corpus",
    "write_faceforensics_corpus",
    "write_h264",
]
