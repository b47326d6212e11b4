"""tf.data input pipelines over the ``dfdc_masks`` TFDS examples."""

from dfseg_tf.data.pipeline import (
    DatasetNotBuiltError,
    built_builder,
    image_and_mask,
    load_split,
    segmentation_batches,
    validation_examples,
)
from dfseg_tf.data.toy import planted_square_dataset, planted_square_examples

__all__ = [
    "DatasetNotBuiltError",
    "built_builder",
    "image_and_mask",
    "load_split",
    "planted_square_dataset",
    "planted_square_examples",
    "segmentation_batches",
    "validation_examples",
]
