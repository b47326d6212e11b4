"""tf.data input of the baseline classifiers: (face, label) batches from the TFDS examples.

The classifiers read the same ``dfdc_masks`` records as the segmentation models:
``image`` (256, 256, 3) uint8 resized to the classifier's input size, as float32 in
[0, 1], and ``label`` (0 real, 1 fake) as a float32 vector of one, the shape of the
classifier's output.
"""

import tensorflow as tf

from dfseg_tf.data.pipeline import SHUFFLE_BUFFER, pair_batches


def face_pixels(image, *, input_size):
    """uint8 face (H, W, 3) -> float32 (input_size, input_size, 3) in [0, 1].

    Antialiased bilinear resize; training and evaluation both call this, so a
    classifier sees its faces resized the same way in both.
    """
    pixels = tf.image.convert_image_dtype(image, tf.float32)
    return tf.image.resize(pixels, (input_size, input_size), antialias=True)


def image_and_label(example, *, input_size):
    """One TFDS example dict -> (image float32 (input_size, input_size, 3) in [0, 1], label (1,))."""
    label = tf.cast(example["label"], tf.float32)[tf.newaxis]
    return face_pixels(example["image"], input_size=input_size), label


def _flip(image, label, seeds):
    return tf.image.stateless_random_flip_left_right(image, seed=seeds[0]), label


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
    """Batches of (image, label) from a TFDS dict dataset, faces resized to
    ``input_size``; training flips them horizontally with probability 1/2. The other
    arguments are those of ``dfseg_tf.data.pipeline.segmentation_batches``."""
    return pair_batches(
        ds,
        lambda example: image_and_label(example, input_size=input_size),
        _flip,
        seeds_per_example=1,
        batch_size=batch_size,
        training=training,
        seed=seed,
        cache=cache,
        shuffle_buffer=shuffle_buffer,
    )
