"""A small in-memory dataset in the ``dfdc_masks`` TFDS format with a planted square.

Fakes carry a square of shifted colour at a random place and its mask; real examples
have the same kind of noisy background and an all-zero mask. A U-Net learns it in a
few steps, so tests and ``experiments.bench_train`` can train without a built TFDS
dataset.
"""

import numpy as np
import tensorflow as tf


def planted_square_examples(count, *, size=64, seed=0, fake_fraction=0.5) -> dict:
    """Numpy arrays of ``count`` examples, keyed like the TFDS features."""
    rng = np.random.default_rng(seed)
    images = rng.integers(40, 120, size=(count, size, size, 3), dtype=np.uint8)
    masks = np.zeros((count, size, size, 1), np.uint8)
    labels = (np.arange(count) < round(count * fake_fraction)).astype(np.int64)
    side = max(size // 4, 2)
    for index in np.flatnonzero(labels):
        y0, x0 = rng.integers(0, size - side, size=2)
        masks[index, y0 : y0 + side, x0 : x0 + side] = 1
        images[index, y0 : y0 + side, x0 : x0 + side] += np.uint8(100)
    video_ids = np.array([f"toy/{index:04d}" for index in range(count)])
    return {
        "image": images,
        "mask": masks,
        "label": labels,
        "video_id": video_ids,
        "original_id": video_ids,
        "frame_index": np.zeros(count, np.int32),
        "source": np.array(["toy"] * count),
        "box": np.tile(np.array([0, 0, size, size], np.int32), (count, 1)),
        "official_mask": np.zeros_like(masks),
        "has_official_mask": np.zeros(count, bool),
    }


def planted_square_dataset(count, *, size=64, seed=0, fake_fraction=0.5) -> tf.data.Dataset:
    """:func:`planted_square_examples` as an unbatched dataset of TFDS-style dicts."""
    examples = planted_square_examples(count, size=size, seed=seed, fake_fraction=fake_fraction)
    return tf.data.Dataset.from_tensor_slices(examples)
