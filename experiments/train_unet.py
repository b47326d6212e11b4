"""Train a U-Net (``unet`` or ``unet_v1``) on the ``dfdc_masks`` face crops and masks.

    python -m experiments.train_unet --model unet --dataset dfdc_masks/synthetic \
        --epochs 20 --output-dir runs/unet

Configuration comes from, in order, each overriding the one before: the defaults of
``TrainConfig``, then the command-line flags. The resolved configuration is written
to ``<run>/config.json``. Everything of a run is under ``--output-dir`` (see
``dfseg_tf.training.run_folder``); rerunning the same command after an interruption
resumes from the last finished epoch.
"""

import argparse
import dataclasses
import logging
import math
import sys

import keras

from dfseg_tf.data import (
    DatasetNotBuiltError,
    load_split,
    segmentation_batches,
    validation_examples,
)
from dfseg_tf.models.card import SEGMENTATION, ModelCard
from dfseg_tf.models.unet import ARCHITECTURES, build_unet
from dfseg_tf.training.callbacks import segmentation_callbacks
from dfseg_tf.training.losses import BceMinusLogDice
from dfseg_tf.training.metrics import DiceAtThreshold, MeanImageDice
from dfseg_tf.training.precision import (
    JIT_CHOICES,
    PRECISION_CHOICES,
    apply_precision,
    resolve_jit_compile,
)
from dfseg_tf.training.run_folder import RunFolder
from dfseg_tf.training.strategy import distribution_strategy

logger = logging.getLogger(__name__)

MONITOR = "val_dice"


@dataclasses.dataclass(frozen=True)
class TrainConfig:
    """Defaults of a training run. The study gives neither epochs nor learning rate:
    1e-4 and batch 16 are NVIDIA UNet_Industrial's defaults."""

    model: str = "unet"
    dataset: str = "dfdc_masks/synthetic"
    data_dir: str | None = None  # None: the TFDS default data dir
    train_split: str = "train"
    validation_split: str = "validation"
    output_dir: str | None = None  # None: runs/<model>
    epochs: int = 20
    batch_size: int = 16
    learning_rate: float = 1e-4
    seed: int = 0
    precision: str = "auto"
    jit_compile: str = "auto"
    vertical_flip: bool = False
    cache: bool = False
    max_train_batches: int | None = None
    max_val_batches: int | None = None
    summary_images: int = 4
    verbose: str | int = "auto"  # Keras' progress bar: "auto", 0, 1 or 2

    @property
    def run_dir(self) -> str:
        return self.output_dir or f"runs/{self.model}"


def build_model(config: TrainConfig, input_shape) -> keras.Model:
    """The U-Net of ``config.model``, compiled with Adam, the study's loss and Dice."""
    model = build_unet(config.model, input_shape=input_shape)
    model.compile(
        optimizer=keras.optimizers.Adam(config.learning_rate),
        loss=BceMinusLogDice(),
        metrics=[DiceAtThreshold(), MeanImageDice()],
        jit_compile=resolve_jit_compile(config.jit_compile),
    )
    return model


def load_datasets(config: TrainConfig) -> dict:
    """The train and validation splits of ``config.dataset`` as TFDS example dicts."""
    return {
        "train": load_split(
            config.dataset, config.train_split, config.data_dir, shuffle_files=True, seed=config.seed
        ),
        "validation": load_split(config.dataset, config.validation_split, config.data_dir),
    }


def _batches(config, datasets):
    train = segmentation_batches(
        datasets["train"],
        batch_size=config.batch_size,
        training=True,
        seed=config.seed,
        cache=config.cache,
        vertical_flip=config.vertical_flip,
    )
    validation = segmentation_batches(
        datasets["validation"], batch_size=config.batch_size, training=False, cache=config.cache
    )
    if config.max_train_batches:
        train = train.take(config.max_train_batches)
    if config.max_val_batches:
        validation = validation.take(config.max_val_batches)
    return train, validation


def _check_not_finished(run: RunFolder):
    if run.results_path.exists() and not run.backup_dir.exists():
        raise FileExistsError(
            f"{run.root} already holds a finished run ({run.results_path.name}); "
            "choose another --output-dir"
        )


def _plain(values):
    """History values as JSON-friendly floats (NaN as None)."""
    return [None if math.isnan(float(value)) else float(value) for value in values]


def run(config: TrainConfig, datasets=None, *, extra_callbacks=()) -> dict:
    """Trains one model; resumes from ``<run>/backup`` if an earlier run was interrupted.

    Args:
      config: the run's configuration.
      datasets: ``{"train": ds, "validation": ds}`` of unbatched TFDS example dicts;
        None loads ``config.dataset`` from ``config.data_dir``. The model card's
        ``trained_on`` is ``config.dataset`` either way.
      extra_callbacks: appended after the run's own callbacks.

    Returns:
      run_dir, best_model (path or None when no epoch finished), policy,
      jit_compile, epochs (indices of the epochs this call trained; they start
      after the last finished one when resuming), history and best_val_dice.
    """
    keras.utils.set_random_seed(config.seed)
    policy = apply_precision(config.precision)
    datasets = datasets or load_datasets(config)
    run_folder = RunFolder(config.run_dir)
    _check_not_finished(run_folder)
    run_folder.create()
    resolved = dataclasses.replace(
        config,
        output_dir=str(run_folder.root),
        precision=policy,
        jit_compile=str(resolve_jit_compile(config.jit_compile)).lower(),
    )
    run_folder.write_config(resolved)

    input_shape = tuple(datasets["train"].element_spec["image"].shape)
    train, validation = _batches(config, datasets)
    summary_images, summary_masks = validation_examples(datasets["validation"], config.summary_images)

    with distribution_strategy().scope():
        model = build_model(config, input_shape)
    history = model.fit(
        train,
        validation_data=validation,
        epochs=config.epochs,
        shuffle=False,  # segmentation_batches already shuffles the training examples
        callbacks=[
            *segmentation_callbacks(
                run_folder, summary_images=summary_images, summary_masks=summary_masks, monitor=MONITOR
            ),
            *extra_callbacks,
        ],
        verbose=config.verbose,
    )

    best_model = None
    if run_folder.best_model_path.exists():
        best_model = str(run_folder.best_model_path)
        ModelCard(
            kind=SEGMENTATION,
            architecture=config.model,
            input_size=input_shape[0],
            trained_on=config.dataset,
        ).save(best_model)
    else:
        logger.warning("%s: no epoch finished, no best model saved", run_folder.root)
    results = {
        "run_dir": str(run_folder.root),
        "best_model": best_model,
        "policy": policy,
        "jit_compile": resolved.jit_compile == "true",
        "epochs": list(history.epoch),
        "history": {name: _plain(values) for name, values in history.history.items()},
        "best_val_dice": run_folder.best_logged(MONITOR),
    }
    run_folder.write_results(results)
    return results


def _optional_int(text):
    return None if text.lower() in ("", "none", "0") else int(text)


def parse_flags(argv=None) -> TrainConfig:
    """Flags over TrainConfig's defaults; every flag's help states its default."""
    defaults = TrainConfig()
    parser = argparse.ArgumentParser(
        prog="python -m experiments.train_unet",
        description=__doc__.split("\n\n")[0],
        formatter_class=argparse.ArgumentDefaultsHelpFormatter,
    )
    paths = parser.add_argument_group("data and paths")
    paths.add_argument("--dataset", default=defaults.dataset, help="TFDS name/config to train on")
    paths.add_argument("--data-dir", default=defaults.data_dir,
                       help="TFDS data dir holding the built dataset (None: TFDS default, ~/tensorflow_datasets)")
    paths.add_argument("--train-split", default=defaults.train_split, help="split to train on")
    paths.add_argument("--validation-split", default=defaults.validation_split,
                       help="split for validation Dice and the best checkpoint")
    paths.add_argument("--output-dir", default=defaults.output_dir,
                       help="run folder for config, checkpoints, backup and logs (None: runs/<model>)")

    training = parser.add_argument_group("model and training")
    training.add_argument("--model", default=defaults.model, choices=sorted(ARCHITECTURES),
                          help="U-Net configuration (METHOD.md section 3)")
    training.add_argument("--epochs", type=int, default=defaults.epochs, help="epochs to train")
    training.add_argument("--batch-size", type=int, default=defaults.batch_size, help="images per batch")
    training.add_argument("--learning-rate", type=float, default=defaults.learning_rate, help="Adam learning rate")
    training.add_argument("--seed", type=int, default=defaults.seed, help="seed of weights, shuffling and flips")
    training.add_argument("--precision", default=defaults.precision, choices=PRECISION_CHOICES,
                          help="dtype policy; auto: mixed_bfloat16 (or mixed_float16 before Ampere) on GPU, float32 on CPU")
    training.add_argument("--jit-compile", default=defaults.jit_compile, choices=JIT_CHOICES,
                          help="XLA compilation; auto: on with a GPU, off on CPU")
    training.add_argument("--vertical-flip", action=argparse.BooleanOptionalAction, default=defaults.vertical_flip,
                          help="also flip training images vertically (horizontal flips are always on)")
    training.add_argument("--cache", action=argparse.BooleanOptionalAction, default=defaults.cache,
                          help="cache decoded examples in memory (small datasets only)")

    size = parser.add_argument_group("run size and debugging")
    size.add_argument("--max-train-batches", type=_optional_int, default=defaults.max_train_batches,
                      help="train on at most this many batches per epoch (0 or None: all)")
    size.add_argument("--max-val-batches", type=_optional_int, default=defaults.max_val_batches,
                      help="validate on at most this many batches (0 or None: all)")
    size.add_argument("--summary-images", type=int, default=defaults.summary_images,
                      help="validation images in the TensorBoard image grid")
    size.add_argument("--verbose", default=defaults.verbose, choices=("auto", "0", "1", "2"),
                      help="Keras progress output: auto, 0 silent, 1 progress bar, 2 one line per epoch")
    flags = parser.parse_args(argv)
    values = {name.replace("-", "_"): value for name, value in vars(flags).items()}
    if values["verbose"] != "auto":
        values["verbose"] = int(values["verbose"])
    return TrainConfig(**values)


def main(argv=None):
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    config = parse_flags(argv)
    try:
        results = run(config)
    except (DatasetNotBuiltError, FileExistsError) as error:
        sys.exit(f"error: {error}")
    print(f"run folder: {results['run_dir']}")
    print(f"best model: {results['best_model']} (validation Dice {results['best_val_dice']})")


if __name__ == "__main__":
    main()
