"""Library side of the ``dfdc_masks`` TFDS builder.

The builder module (``datasets/dfdc_masks``) stays a thin adapter; everything it does
lives here so that Beam workers import it from the installed ``dfseg_tf`` package:

- ``plan``: which data set, which videos, which split, which extraction settings;
- ``features``: the TFDS features of an example, declared once;
- ``examples``: a frame of a video -> one TFDS example and its integer key;
- ``local``: generation in one process (BoxCache on disk, resumable);
- ``beam``: generation with Apache Beam (faces detected once per original, joined);
- ``reports``: the skip report written beside the data set.
"""

from dfseg_tf.records.examples import example_key, tfds_example
from dfseg_tf.records.features import absent_official_mask, frame_features
from dfseg_tf.records.plan import (
    DATASETS,
    SYNTHETIC_CORPUS_FOLDER,
    SYNTHETIC_FRACTIONS,
    SYNTHETIC_PARTS,
    BuildPlan,
    box_cache_dir,
    entries_by_split,
    manual_dir,
    mark_synthetic_corpus_complete,
    prepare_corpus,
    prepare_synthetic_corpus,
    remove_stale_incomplete_dirs,
)
from dfseg_tf.records.reports import (
    EmptySplitError,
    forget_failed_build,
    merge_split_reports,
    report_failed_build,
    write_report,
)

__all__ = [
    "DATASETS",
    "SYNTHETIC_CORPUS_FOLDER",
    "SYNTHETIC_FRACTIONS",
    "SYNTHETIC_PARTS",
    "BuildPlan",
    "EmptySplitError",
    "absent_official_mask",
    "box_cache_dir",
    "entries_by_split",
    "example_key",
    "forget_failed_build",
    "frame_features",
    "manual_dir",
    "mark_synthetic_corpus_complete",
    "merge_split_reports",
    "prepare_corpus",
    "prepare_synthetic_corpus",
    "remove_stale_incomplete_dirs",
    "report_failed_build",
    "tfds_example",
    "write_report",
]
