"""tf.data input of the baseline classifiers: (face, label) batches from the TFDS examples.

The classifiers read the same ``dfdc_masks`` records as the segmentation models:
``image`` (256, 256, 3) uint8 resized to the classifier's input size, as float32 in
[0, 1], and ``label`` (0 real, 1 fake) as a float32 vector of one, the shape of the
classifier's output.
"""

import tensorflow as tf

from dfseg_tf.data.pipeline import SHUFFLE_BUFFER


def image_and_label(example, *, input_size):
    """One TFDS example dict -> (image float32 (input_size, input_size, 3) in [0, 1], label (1,))."""
    image = tf.image.convert_image_dtype(example["image"], tf.float32)
    image = tf.image.resize(image, (input_size, input_size), antialias=True)
    label = tf.cast(example["label"], tf.float32)[tf.newaxis]
    return image, label


def classification_batches(
    ds,
    *,
    input_size,
    batch_size,
    training,
    seed=None,
    cache=False,
    shuffle_buffer=SHUFFLE_BUFFER,
) -> tf.data.Dataset:
    """Batches of (image, label) from a TFDS dict dataset.

    Args:
      ds: unbatched dataset of TFDS example dicts.
      input_size: side the faces are resized to (the classifier's input size).
      batch_size: images per batch (the last batch may be smaller).
      training: shuffle and flip horizontally with probability 1/2 when True; keep
        order and pixels when False.
      seed: makes shuffling and flips reproducible; each epoch still sees a new order
        and new flips.
      cache: cache the resized examples in memory after the first epoch (only for
        datasets that fit in memory).
      shuffle_buffer: examples in the shuffle buffer.
    """
    ds = ds.map(
        lambda example: image_and_label(example, input_size=input_size),
        num_parallel_calls=tf.data.AUTOTUNE,
    )
    if cache:
        ds = ds.cache()
    if training:
        ds = ds.shuffle(shuffle_buffer, seed=seed, reshuffle_each_iteration=True)
        # One [2]-shaped stateless seed per example, new ones every epoch.
        seeds = tf.data.Dataset.random(seed=seed, rerandomize_each_iteration=True).batch(2)
        ds = tf.data.Dataset.zip(ds, seeds).map(
            lambda pair, flip_seed: (
                tf.image.stateless_random_flip_left_right(pair[0], seed=flip_seed),
                pair[1],
            ),
            num_parallel_calls=tf.data.AUTOTUNE,
        )
    return ds.batch(batch_size).prefetch(tf.data.AUTOTUNE)
