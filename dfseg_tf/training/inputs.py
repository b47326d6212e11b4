"""A training run's input: which examples each worker reads, batched per replica.

Under a multi-worker strategy each worker runs one input pipeline
(``tf.distribute.InputContext``): a TFDS split is sharded by record file (see
``dfseg_tf.data.pipeline.load_split``), an in-memory dataset by example. Batches are
per replica (``config.batch_size``); the strategy trains each step on one batch per
replica.

``config.dataset`` may name several built data sets joined by ``+`` (e.g.
``dfdc_masks/dfdc+dfdc_masks/self_blended``): their training splits are interleaved at
random with equal weights (``tf.data.Dataset.sample_from_datasets``, seeded; when one
runs out the others go on, so an epoch still sees every example once) and their
validation splits are read one after the other.
"""

import functools

import tensorflow as tf

from dfseg_tf.data.pipeline import load_split, shard_examples
from dfseg_tf.training.strategy import distributed_batches


DATASET_SEPARATOR = "+"


def dataset_names(dataset: str) -> list[str]:
    """``"a/x+b/y"`` -> ``["a/x", "b/y"]``: the data sets a run reads."""
    names = [name.strip() for name in dataset.split(DATASET_SEPARATOR)]
    if not all(names):
        raise ValueError(f"dataset {dataset!r}: an empty name between '{DATASET_SEPARATOR}' signs")
    return names


def _load(config, split_key, input_context=None) -> tf.data.Dataset:
    training = split_key == "train"
    splits = [
        load_split(
            name, config.train_split if training else config.validation_split, config.data_dir,
            shuffle_files=training, seed=config.seed if training else None, input_context=input_context,
        )
        for name in dataset_names(config.dataset)
    ]
    if len(splits) == 1:
        return splits[0]
    if not training:
        return functools.reduce(tf.data.Dataset.concatenate, splits)
    mixed = tf.data.Dataset.sample_from_datasets(splits, seed=config.seed)
    counts = [int(split.cardinality()) for split in splits]
    if min(counts) < 0:  # unknown: the epoch's length (and a cosine schedule) cannot be known
        return mixed
    # Every example of every split, once an epoch; tf.data does not count this itself, and the
    # learning-rate schedule needs the steps of an epoch.
    return mixed.apply(tf.data.experimental.assert_cardinality(sum(counts)))


def load_datasets(config, input_context=None) -> dict:
    """The train and validation splits of ``config.dataset`` as TFDS example dicts
    (this input pipeline's share of them when ``input_context`` is given)."""
    return {split_key: _load(config, split_key, input_context) for split_key in ("train", "validation")}


def fit_inputs(config, strategy, to_batches, datasets=None) -> tuple:
    """(train, validation) batches for ``model.fit`` under ``strategy``.

    Args:
      config: a RunConfig (dataset, splits, batch_size per replica, seed, limits).
      strategy: the run's tf.distribute strategy.
      to_batches: ``to_batches(examples, *, batch_size, training, seed, cache)`` ->
        batches of (input, target), e.g. a ``functools.partial`` of ``segmentation_batches``.
      datasets: ``{"train": ds, "validation": ds}`` of in-memory example dicts, shared
        out by example; None reads ``config.dataset``, shared out by record file.

    Each input pipeline's augmentation seed is ``config.seed`` plus its index, so
    workers do not flip their examples alike. ``config.cache`` caches a split unless a
    batch limit cuts its epochs short: such an epoch never reads the whole split, so
    tf.data would discard the unfinished cache every epoch (and warn that it did).
    """

    def batches_of(split_key, training, max_batches):
        def one_pipeline(input_context):
            if datasets is None:
                examples = _load(config, split_key, input_context)
            else:
                examples = shard_examples(datasets[split_key], input_context)
            batches = to_batches(
                examples,
                batch_size=config.batch_size,
                training=training,
                seed=config.seed + input_context.input_pipeline_id,
                cache=config.cache and not max_batches,
            )
            return batches.take(max_batches) if max_batches else batches

        return distributed_batches(strategy, one_pipeline)

    return (
        batches_of("train", True, config.max_train_batches),
        batches_of("validation", False, config.max_val_batches),
    )
