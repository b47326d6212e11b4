"""tf.data input pipeline from the ``dfdc_masks`` TFDS examples to (image, mask) batches.

Each TFDS example is a dict (see ``datasets/dfdc_masks``): ``image`` (256, 256, 3)
uint8, ``mask`` (256, 256, 1) uint8 in {0, 1}, and bookkeeping fields. The models
take ``image`` as float32 in [0, 1] and ``mask`` as float32 in {0, 1}.

Reading: TFDS interleaves the record files and decodes the JPEG/PNG images in
parallel (both AUTOTUNE, set in :func:`load_split`); under a multi-worker strategy
each worker reads its own record files. Then the conversions run in parallel
(AUTOTUNE), optionally cached, shuffled and flipped, batched and prefetched.
"""

import logging

import numpy as np
import tensorflow as tf
import tensorflow_datasets as tfds

SHUFFLE_BUFFER = 1024
# How many validation examples validation_examples() looks through to find fakes.
_EXAMPLE_SCAN_LIMIT = 1024

logger = logging.getLogger(__name__)


class DatasetNotBuiltError(RuntimeError):
    """The requested TFDS dataset or split is not on disk."""


def built_builder(name, data_dir=None, *, splits=()) -> tfds.core.DatasetBuilder:
    """The TFDS builder of ``name`` (e.g. ``dfdc_masks/synthetic``), checked to be built
    under ``data_dir`` (``None``: the TFDS default directory) with every one of ``splits``.

    Raises DatasetNotBuiltError, with the ``tfds build`` command that builds it, when
    the dataset is not there or lacks one of the splits.
    """
    builder_name, _, config = name.partition("/")
    try:
        builder = tfds.builder(name, data_dir=data_dir)
    except tfds.core.DatasetNotFoundError:
        builder = None
    if builder is None or not builder.is_prepared():
        where = data_dir or "the default TFDS data dir (~/tensorflow_datasets)"
        build_command = f"cd datasets && tfds build {builder_name}"
        if config:
            build_command += f" --config {config}"
        if data_dir:
            build_command += f" --data_dir {data_dir}"
        raise DatasetNotBuiltError(
            f"{name} is not built in {where}; build it first: {build_command}"
        )
    for split in splits:
        if split not in builder.info.splits:
            raise DatasetNotBuiltError(
                f"{name} in {builder.data_dir} has no split {split!r}; "
                f"it has {sorted(builder.info.splits)}"
            )
    return builder


def load_split(
    name, split, data_dir=None, *, shuffle_files=False, seed=None, input_context=None
) -> tf.data.Dataset:
    """The built TFDS split ``split`` of ``name`` (e.g. ``dfdc_masks/synthetic``) as dicts.

    ``shuffle_files`` shuffles the order of the record files (seeded by ``seed``);
    the builder's code need not be importable, TFDS reads the dataset_info.json.
    ``input_context`` (a ``tf.distribute.InputContext``) shards the split among
    input pipelines: each reads its own record files, or, when the split has fewer
    files than pipelines, every N-th example of all of them (with a warning).

    Raises DatasetNotBuiltError as :func:`built_builder` does.
    """
    builder = built_builder(name, data_dir, splits=(split,))
    pipelines = input_context.num_input_pipelines if input_context else 1
    by_file = pipelines > 1 and builder.info.splits[split].num_shards >= pipelines
    read_config = tfds.ReadConfig(
        shuffle_seed=seed,
        input_context=input_context if by_file else None,
        num_parallel_calls_for_interleave_files=tf.data.AUTOTUNE,
        num_parallel_calls_for_decode=tf.data.AUTOTUNE,
    )
    ds = builder.as_dataset(split=split, shuffle_files=shuffle_files, read_config=read_config)
    if pipelines > 1 and not by_file:
        logger.warning(
            "%s split %s has %d record file(s) for %d input pipelines: every pipeline "
            "reads all and keeps every %d-th example",
            name, split, builder.info.splits[split].num_shards, pipelines, pipelines,
        )
        ds = shard_examples(ds, input_context)
    return ds


def shard_examples(ds, input_context=None) -> tf.data.Dataset:
    """Every N-th example of ``ds`` for input pipeline ``input_context.input_pipeline_id``.

    For datasets not read from record files (in memory, or too few files to give
    each pipeline its own); None or a single pipeline keeps ``ds`` as it is.
    """
    if input_context is None or input_context.num_input_pipelines == 1:
        return ds
    return ds.shard(input_context.num_input_pipelines, input_context.input_pipeline_id)


def image_and_mask(example):
    """One TFDS example dict -> (image uint8 as stored, mask float32 in {0, 1}).

    The image stays the uint8 crop every model takes (it scales its own pixels), a
    quarter of the memory of floats in a cache. Any non-zero mask value counts as
    manipulated, so 0/255 masks also work.
    """
    mask = tf.cast(example["mask"] > 0, tf.float32)
    return example["image"], mask


def _flip_together(image, mask, seeds, *, vertical):
    """Flips image and mask with the same random decision (two stateless seeds)."""
    stacked = tf.concat([image, tf.cast(mask, image.dtype)], axis=-1)
    stacked = tf.image.stateless_random_flip_left_right(stacked, seed=seeds[0])
    if vertical:
        stacked = tf.image.stateless_random_flip_up_down(stacked, seed=seeds[1])
    return stacked[..., :-1], tf.cast(stacked[..., -1:], mask.dtype)


def pair_batches(
    ds, to_pair, augment, *, seeds_per_example, batch_size, training, seed, cache, shuffle_buffer
) -> tf.data.Dataset:
    """The batching every model's input shares: example dicts -> batches of pairs.

    ``to_pair(example)`` converts one TFDS example dict into a pair; when training,
    pairs are shuffled and ``augment(first, second, seeds)`` gets
    ``seeds_per_example`` stateless [2]-shaped seeds, new ones every epoch. The
    other arguments are those of :func:`segmentation_batches`.
    """
    ds = ds.map(to_pair, num_parallel_calls=tf.data.AUTOTUNE)
    if cache:
        ds = ds.cache()
    if training:
        ds = ds.shuffle(shuffle_buffer, seed=seed, reshuffle_each_iteration=True)
        seeds = tf.data.Dataset.random(seed=seed, rerandomize_each_iteration=True)
        seeds = seeds.batch(2 * seeds_per_example)
        ds = tf.data.Dataset.zip(ds, seeds).map(
            lambda pair, values: augment(*pair, tf.reshape(values, (seeds_per_example, 2))),
            num_parallel_calls=tf.data.AUTOTUNE,
        )
    return ds.batch(batch_size).prefetch(tf.data.AUTOTUNE)


def segmentation_batches(
    ds,
    *,
    batch_size,
    training,
    seed=None,
    cache=False,
    vertical_flip=False,
    shuffle_buffer=SHUFFLE_BUFFER,
) -> tf.data.Dataset:
    """Batches of (image, mask) from a TFDS dict dataset.

    Args:
      ds: unbatched dataset of TFDS example dicts.
      batch_size: images per batch (the last batch may be smaller).
      training: shuffle and flip (a horizontal flip with probability 1/2, the same for
        image and mask) when True; keep order and pixels when False.
      seed: makes shuffling and flips reproducible; each epoch still sees a new order
        and new flips.
      cache: cache the decoded examples in memory after the first epoch (only for
        datasets that fit in memory).
      vertical_flip: also flip vertically with probability 1/2 when training.
      shuffle_buffer: examples in the shuffle buffer.
    """
    return pair_batches(
        ds,
        image_and_mask,
        lambda image, mask, seeds: _flip_together(image, mask, seeds, vertical=vertical_flip),
        seeds_per_example=2,
        batch_size=batch_size,
        training=training,
        seed=seed,
        cache=cache,
        shuffle_buffer=shuffle_buffer,
    )


def validation_examples(ds, count=4) -> tuple[np.ndarray, np.ndarray]:
    """A fixed handful of (images, masks) from ``ds`` for image summaries.

    Takes fakes (non-empty masks) first, in dataset order, so the summaries show
    something to localise; fills up with real faces when there are too few fakes.
    Returns uint8 images (n, H, W, 3) and float32 masks (n, H, W, 1), n <= count.
    """
    head = ds.take(_EXAMPLE_SCAN_LIMIT).map(image_and_mask)
    fakes = head.filter(lambda image, mask: tf.reduce_any(mask > 0)).take(count)
    reals = head.filter(lambda image, mask: tf.reduce_all(mask == 0)).take(count)
    pairs = list(fakes.concatenate(reals).take(count).as_numpy_iterator())
    if not pairs:
        raise ValueError("validation_examples: the dataset is empty")
    images, masks = zip(*pairs)
    return np.stack(images), np.stack(masks)
