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

import keras

from dfseg_tf.data.classification import classification_batches
from dfseg_tf.models.classifiers import (
    ARCHITECTURES,
    CROP_SIZE,
    build_classifier,
    check_weights_file,
    classifier_card,
    default_input_size,
)
from dfseg_tf.training.callbacks import run_callbacks
from dfseg_tf.training.config import RunConfig, add_run_flags, config_from_flags
from dfseg_tf.training.inputs import fit_inputs, load_datasets
from dfseg_tf.training.precision import resolve_jit_compile
from dfseg_tf.training.runs import fit_run, run_or_exit, start_run

MONITOR = "val_auc"


@dataclasses.dataclass(frozen=True)
class ClassifierConfig(RunConfig):
    """Defaults of a classifier run. The study does not give the baselines' recipe:
    Adam at 2e-4 is FaceForensics++'s Xception setting; batch 16 as the U-Nets."""

    arch: str = "xception"
    input_size: int | None = None  # None: the architecture's own (299 or 380)
    weights: str | None = None  # None: backbone from scratch
    dropout_rate: float = 0.5
    epochs: int = 10
    learning_rate: float = 2e-4
    run_eagerly: bool = False

    @property
    def run_dir(self) -> str:
        return self.output_dir or f"runs/{self.arch}"

    @property
    def resolved_input_size(self) -> int:
        return self.input_size or default_input_size(self.arch)


def build_model(config: ClassifierConfig, *, crop_size=CROP_SIZE, replicas=1, steps_per_epoch=None) -> keras.Model:
    """The classifier of ``config.arch`` for ``crop_size`` crops, compiled with Adam (learning
    rate scaled to ``replicas``, scheduled by ``config.lr_schedule``), cross-entropy, AUC and accuracy."""
    model = build_classifier(
        config.arch,
        input_size=config.resolved_input_size,
        weights=config.weights,
        dropout_rate=config.dropout_rate,
        crop_size=crop_size,
    )
    model.compile(
        optimizer=keras.optimizers.Adam(config.optimizer_learning_rate(replicas, steps_per_epoch)),
        loss=keras.losses.BinaryCrossentropy(),
        metrics=[keras.metrics.AUC(name="auc"), keras.metrics.BinaryAccuracy(name="accuracy")],
        jit_compile=resolve_jit_compile(config.jit_compile),
        run_eagerly=config.run_eagerly,
    )
    return model


def run(config: ClassifierConfig, datasets=None, *, extra_callbacks=()) -> dict:
    """Trains one classifier, with the arguments, resuming and multi-worker behaviour of
    ``experiments.train_unet.run``.

    Returns:
      what ``dfseg_tf.training.runs.fit_run`` returns, with best_val_auc,
      architecture, input_size and weights ("scratch" or the path).
    """
    if config.weights is not None:
        check_weights_file(config.arch, config.weights)
    strategy, resolved = start_run(config, input_size=config.resolved_input_size)
    examples = datasets or load_datasets(config)  # fails here, with the build command, if data is missing
    crop_size = examples["train"].element_spec["image"].shape[0]
    train, validation = fit_inputs(config, strategy, classification_batches, datasets)
    replicas = strategy.num_replicas_in_sync
    steps_per_epoch = config.steps_per_epoch(int(examples["train"].cardinality()), replicas)
    with strategy.scope():
        model = build_model(resolved, crop_size=crop_size, replicas=replicas, steps_per_epoch=steps_per_epoch)

    card = classifier_card(config.arch, weights=config.weights, trained_on=config.dataset, crop_size=crop_size)
    results = fit_run(
        model, train, validation,
        resolved=resolved, strategy=strategy, card=card, monitor=MONITOR,
        callbacks_for=lambda run_folder: [*run_callbacks(run_folder, monitor=MONITOR), *extra_callbacks],
    )
    return {**results, "architecture": card.architecture, "input_size": resolved.input_size, "weights": card.weights}


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
                       help="side the backbone runs at; the model resizes the 256x256 face crop to it "
                            "(None: 299 for xception, 380 for efficientnet_b7)")
    model.add_argument("--weights", default=defaults.weights,
                       help="local Keras ImageNet weights file of the backbone without top, e.g. "
                            "xception_weights_tf_dim_ordering_tf_kernels_notop.h5 or "
                            "efficientnetb7_notop.h5 (None: backbone from scratch)")
    model.add_argument("--dropout-rate", type=float, default=defaults.dropout_rate,
                       help="dropout before the final unit")
    groups = add_run_flags(parser, defaults)
    groups["size"].add_argument(
        "--run-eagerly", action=argparse.BooleanOptionalAction, default=defaults.run_eagerly,
        help="run train steps eagerly (debugging; skips EfficientNet-B7's minute-long graph "
             "tracing on CPU for runs of a few steps)")
    return parser


def parse_flags(argv=None) -> ClassifierConfig:
    return config_from_flags(ClassifierConfig, build_parser().parse_args(argv))


def main(argv=None):
    results = run_or_exit(run, parse_flags(argv), "train_classifier")
    print(
        f"best model: {results['best_model']} ({results['architecture']} "
        f"{results['input_size']}px, weights {results['weights']}; "
        f"validation AUC {results['best_val_auc']})"
    )


if __name__ == "__main__":
    main()
