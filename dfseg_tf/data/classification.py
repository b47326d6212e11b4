"""tf.data input of the baseline classifiers: (face, label) batches from the TFDS examples.

The classifiers read the same ``dfdc_masks`` records as the segmentation models and
take the same input: ``image`` (256, 256, 3) uint8 as stored (each classifier resizes
and scales it inside), and ``label`` (0 real, 1 fake) as a float32 vector of one, the
shape of the classifier's output.
"""

import tensorflow as tf

from dfseg_tf.data.pipeline import SHUFFLE_BUFFER, pair_batches


def image_and_label(example):
    """One TFDS example dict -> (image uint8 (256, 256, 3) as stored, label (1,))."""
    label = tf.cast(example["label"], tf.float32)[tf.newaxis]
    return example["image"], label


def _flip(image, label, seeds):
    return tf.image.stateless_random_flip_left_right(image, seed=seeds[0]), label


def classification_batches(
    ds,
    *,
    batch_size,
    training,
    seed=None,
    cache=False,
    shuffle_buffer=SHUFFLE_BUFFER,
) -> tf.data.Dataset:
    """Batches of (image, label) from a TFDS dict dataset; training flips the faces
    horizontally with probability 1/2. The arguments are those of
    ``dfseg_tf.data.pipeline.segmentation_batches``."""
    return pair_batches(
        ds,
        image_and_label,
        _flip,
        seeds_per_example=1,
        batch_size=batch_size,
        training=training,
        seed=seed,
        cache=cache,
        shuffle_buffer=shuffle_buffer,
    )
