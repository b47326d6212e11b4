"""Train a baseline frame classifier (Xception or EfficientNet-B7) on the ``dfdc_masks`` faces.

    python -m experiments.train_classifier --arch xception --dataset dfdc_masks/faceforensics \
        --weights xception_weights_tf_dim_ordering_tf_kernels_notop.h5 --output-dir runs/xception

The classifiers read the same TFDS records and splits as the U-Nets: each face is
resized to the architecture's input size (299 Xception, 380 EfficientNet-B7) and
labelled real (0) or fake (1). Without ``--weights`` the backbone trains from scratch
(ImageNet weights cannot be downloaded here); the model card says which.

Configuration comes from, in order, each overriding the one before: the defaults of
``ClassifierConfig``, then the command-line flags. The resolved configuration is
written to ``<run>/config.json``. Everything of a run is under ``--output-dir`` (see
``dfseg_tf.training.run_folder``), the best model by validation AUC is
``<run>/best.keras``; rerunning the same command after an interruption resumes from
the last finished epoch.
"""

import argparse
import dataclasses
import logging
import sys

import keras

from dfseg_tf.data import DatasetNotBuiltError, load_split
from dfseg_tf.data.classification import classification_batches
from dfseg_tf.models.classifiers import (
    ARCHITECTURES,
    WeightsFileError,
    build_classifier,
    check_weights_file,
    classifier_card,
    default_input_size,
)
from dfseg_tf.training.precision import (
    JIT_CHOICES,
    PRECISION_CHOICES,
    apply_precision,
    resolve_jit_compile,
)
from dfseg_tf.training.run_folder import RunFolder
from dfseg_tf.training.strategy import distribution_strategy

# Generic run helpers that live in train_unet until dfseg_tf.training hosts them.
from experiments.train_unet import _check_not_finished, _optional_int, _plain

logger = logging.getLogger(__name__)

MONITOR = "val_auc"


@dataclasses.dataclass(frozen=True)
class ClassifierConfig:
    """Defaults of a classifier run. The study does not give the baselines' recipe:
    Adam at 2e-4 is FaceForensics++'s Xception setting; batch 16 as the U-Nets."""

    arch: str = "xception"
    input_size: int | None = None  # None: the architecture's own (299 or 380)
    weights: str | None = None  # None: backbone from scratch
    dropout_rate: float = 0.5
    dataset: str = "dfdc_masks/synthetic"
    data_dir: str | None = None  # None: the TFDS default data dir
    train_split: str = "train"
    validation_split: str = "validation"
    output_dir: str | None = None  # None: runs/<arch>
    epochs: int = 10
    batch_size: int = 16
    learning_rate: float = 2e-4
    seed: int = 0
    precision: str = "auto"
    jit_compile: str = "auto"
    cache: bool = False
    max_train_batches: int | None = None
    max_val_batches: int | None = None
    run_eagerly: bool = False
    verbose: str | int = "auto"  # Keras' progress bar: "auto", 0, 1 or 2

    @property
    def run_dir(self) -> str:
        return self.output_dir or f"runs/{self.arch}"

    @property
    def resolved_input_size(self) -> int:
        return self.input_size or default_input_size(self.arch)


def build_model(config: ClassifierConfig) -> keras.Model:
    """The classifier of ``config.arch``, compiled with Adam, cross-entropy, AUC and accuracy."""
    model = build_classifier(
        config.arch,
        input_size=config.resolved_input_size,
        weights=config.weights,
        dropout_rate=config.dropout_rate,
    )
    model.compile(
        optimizer=keras.optimizers.Adam(config.learning_rate),
        loss=keras.losses.BinaryCrossentropy(),
        metrics=[keras.metrics.AUC(name="auc"), keras.metrics.BinaryAccuracy(name="accuracy")],
        jit_compile=resolve_jit_compile(config.jit_compile),
        run_eagerly=config.run_eagerly,
    )
    return model


def load_datasets(config: ClassifierConfig) -> dict:
    """The train and validation splits of ``config.dataset`` as TFDS example dicts."""
    return {
        "train": load_split(config.dataset, config.train_split, config.data_dir, shuffle_files=True),
        "validation": load_split(config.dataset, config.validation_split, config.data_dir),
    }


def _batches(config, datasets):
    common = dict(
        input_size=config.resolved_input_size, batch_size=config.batch_size, cache=config.cache
    )
    train = classification_batches(datasets["train"], training=True, seed=config.seed, **common)
    validation = classification_batches(datasets["validation"], training=False, **common)
    if config.max_train_batches:
        train = train.take(config.max_train_batches)
    if config.max_val_batches:
        validation = validation.take(config.max_val_batches)
    return train, validation


def _callbacks(run_folder: RunFolder):
    """Best checkpoint by validation AUC, history, TensorBoard, then BackupAndRestore last
    (see ``dfseg_tf.training.callbacks.segmentation_callbacks`` for why last)."""
    return [
        keras.callbacks.TerminateOnNaN(),
        keras.callbacks.ModelCheckpoint(
            run_folder.best_model_path,
            monitor=MONITOR,
            mode="max",
            save_best_only=True,
            initial_value_threshold=run_folder.best_logged(MONITOR),
        ),
        keras.callbacks.CSVLogger(run_folder.history_path, append=True),
        keras.callbacks.TensorBoard(run_folder.log_dir, write_graph=False),
        keras.callbacks.BackupAndRestore(run_folder.backup_dir),
    ]


def run(config: ClassifierConfig, datasets=None, *, extra_callbacks=()) -> dict:
    """Trains one classifier; resumes from ``<run>/backup`` if an earlier run was interrupted.

    Args:
      config: the run's configuration.
      datasets: ``{"train": ds, "validation": ds}`` of unbatched TFDS example dicts;
        None loads ``config.dataset`` from ``config.data_dir``. The model card's
        ``trained_on`` is ``config.dataset`` either way.
      extra_callbacks: appended after the run's own callbacks.

    Returns:
      run_dir, best_model (path or None when no epoch finished), architecture,
      input_size, weights ("scratch" or the path), policy, jit_compile, epochs
      (indices of the epochs this call trained), history and best_val_auc.
    """
    if config.weights is not None:
        check_weights_file(config.arch, config.weights)
    keras.utils.set_random_seed(config.seed)
    policy = apply_precision(config.precision)
    run_folder = RunFolder(config.run_dir)
    _check_not_finished(run_folder)
    run_folder.create()
    resolved = dataclasses.replace(
        config,
        input_size=config.resolved_input_size,
        output_dir=str(run_folder.root),
        precision=policy,
        jit_compile=str(resolve_jit_compile(config.jit_compile)).lower(),
    )
    run_folder.write_config(resolved)

    datasets = datasets or load_datasets(config)
    train, validation = _batches(resolved, datasets)
    with distribution_strategy().scope():
        model = build_model(resolved)
    history = model.fit(
        train,
        validation_data=validation,
        epochs=config.epochs,
        callbacks=[*_callbacks(run_folder), *extra_callbacks],
        verbose=config.verbose,
    )

    card = classifier_card(
        config.arch,
        input_size=resolved.input_size,
        weights=config.weights,
        trained_on=config.dataset,
    )
    best_model = None
    if run_folder.best_model_path.exists():
        best_model = str(run_folder.best_model_path)
        card.save(best_model)
    else:
        logger.warning("%s: no epoch finished, no best model saved", run_folder.root)
    results = {
        "run_dir": str(run_folder.root),
        "best_model": best_model,
        "architecture": card.architecture,
        "input_size": card.input_size,
        "weights": card.weights,
        "policy": policy,
        "jit_compile": resolved.jit_compile == "true",
        "epochs": list(history.epoch),
        "history": {name: _plain(values) for name, values in history.history.items()},
        "best_val_auc": run_folder.best_logged(MONITOR),
    }
    run_folder.write_results(results)
    return results


def build_parser() -> argparse.ArgumentParser:
    """Flags over ClassifierConfig's defaults; every flag's help states its default."""
    defaults = ClassifierConfig()
    parser = argparse.ArgumentParser(
        prog="python -m experiments.train_classifier",
        description=__doc__.split("\n\n")[0],
        formatter_class=argparse.ArgumentDefaultsHelpFormatter,
    )
    model = parser.add_argument_group("model")
    model.add_argument("--arch", default=defaults.arch, choices=ARCHITECTURES,
                       help="classifier backbone (METHOD.md section 5, baselines)")
    model.add_argument("--input-size", type=int, default=defaults.input_size,
                       help="side of the face crop (None: 299 for xception, 380 for efficientnet_b7)")
    model.add_argument("--weights", default=defaults.weights,
                       help="local Keras ImageNet weights file of the backbone without top, e.g. "
                            "xception_weights_tf_dim_ordering_tf_kernels_notop.h5 or "
                            "efficientnetb7_notop.h5 (None: backbone from scratch)")
    model.add_argument("--dropout-rate", type=float, default=defaults.dropout_rate,
                       help="dropout before the final unit")

    paths = parser.add_argument_group("data and paths")
    paths.add_argument("--dataset", default=defaults.dataset, help="TFDS name/config to train on")
    paths.add_argument("--data-dir", default=defaults.data_dir,
                       help="TFDS data dir holding the built dataset (None: TFDS default, ~/tensorflow_datasets)")
    paths.add_argument("--train-split", default=defaults.train_split, help="split to train on")
    paths.add_argument("--validation-split", default=defaults.validation_split,
                       help="split for validation AUC and the best checkpoint")
    paths.add_argument("--output-dir", default=defaults.output_dir,
                       help="run folder for config, checkpoints, backup and logs (None: runs/<arch>)")

    training = parser.add_argument_group("training")
    training.add_argument("--epochs", type=int, default=defaults.epochs, help="epochs to train")
    training.add_argument("--batch-size", type=int, default=defaults.batch_size, help="images per batch")
    training.add_argument("--learning-rate", type=float, default=defaults.learning_rate, help="Adam learning rate")
    training.add_argument("--seed", type=int, default=defaults.seed, help="seed of weights, shuffling and flips")
    training.add_argument("--precision", default=defaults.precision, choices=PRECISION_CHOICES,
                          help="dtype policy; auto: mixed_bfloat16 (or mixed_float16 before Ampere) on GPU, float32 on CPU")
    training.add_argument("--jit-compile", default=defaults.jit_compile, choices=JIT_CHOICES,
                          help="XLA compilation; auto: on with a GPU, off on CPU")
    training.add_argument("--cache", action=argparse.BooleanOptionalAction, default=defaults.cache,
                          help="cache resized examples in memory (small datasets only)")

    size = parser.add_argument_group("run size and debugging")
    size.add_argument("--max-train-batches", type=_optional_int, default=defaults.max_train_batches,
                      help="train on at most this many batches per epoch (0 or None: all)")
    size.add_argument("--max-val-batches", type=_optional_int, default=defaults.max_val_batches,
                      help="validate on at most this many batches (0 or None: all)")
    size.add_argument("--run-eagerly", action=argparse.BooleanOptionalAction, default=defaults.run_eagerly,
                      help="run train steps eagerly (debugging; skips EfficientNet-B7's minute-long graph "
                           "tracing on CPU for runs of a few steps)")
    size.add_argument("--verbose", default=defaults.verbose, choices=("auto", "0", "1", "2"),
                      help="Keras progress output: auto, 0 silent, 1 progress bar, 2 one line per epoch")
    return parser


def parse_flags(argv=None) -> ClassifierConfig:
    values = {name.replace("-", "_"): value for name, value in vars(build_parser().parse_args(argv)).items()}
    if values["verbose"] != "auto":
        values["verbose"] = int(values["verbose"])
    return ClassifierConfig(**values)


def main(argv=None):
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    config = parse_flags(argv)
    try:
        results = run(config)
    except (DatasetNotBuiltError, FileExistsError, WeightsFileError) as error:
        sys.exit(f"error: {error}")
    print(f"run folder: {results['run_dir']}")
    print(
        f"best model: {results['best_model']} ({results['architecture']} "
        f"{results['input_size']}px, weights {results['weights']}; "
        f"validation AUC {results['best_val_auc']})"
    )


if __name__ == "__main__":
    main()
