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
import functools

import keras

from dfseg_tf.data import segmentation_batches, validation_examples
from dfseg_tf.models.card import SEGMENTATION, ModelCard
from dfseg_tf.models.unet import ARCHITECTURES, build_unet
from dfseg_tf.training.callbacks import segmentation_callbacks
from dfseg_tf.training.config import RunConfig, add_run_flags, config_from_flags
from dfseg_tf.training.inputs import fit_inputs, load_datasets
from dfseg_tf.training.losses import BceMinusLogDice
from dfseg_tf.training.metrics import DiceAtThreshold, MeanImageDice
from dfseg_tf.training.precision import resolve_jit_compile
from dfseg_tf.training.runs import fit_run, run_or_exit, start_run

MONITOR = "val_dice"


@dataclasses.dataclass(frozen=True)
class TrainConfig(RunConfig):
    """Defaults of a U-Net run. The study gives neither epochs nor learning rate:
    1e-4 and batch 16 are NVIDIA UNet_Industrial's defaults."""

    model: str = "unet"
    clip_norm: float | None = None  # None: no gradient clipping
    vertical_flip: bool = False
    summary_images: int = 4

    @property
    def run_dir(self) -> str:
        return self.output_dir or f"runs/{self.model}"


def build_model(config: TrainConfig, input_shape, *, replicas=1, steps_per_epoch=None) -> keras.Model:
    """The U-Net of ``config.model``, compiled with Adam (learning rate scaled to
    ``replicas``, scheduled by ``config.lr_schedule``), the study's loss and Dice."""
    model = build_unet(config.model, input_shape=input_shape)
    model.compile(
        optimizer=keras.optimizers.Adam(config.optimizer_learning_rate(replicas, steps_per_epoch),
                                        clipnorm=config.clip_norm),
        loss=BceMinusLogDice(),
        metrics=[DiceAtThreshold(), MeanImageDice()],
        jit_compile=resolve_jit_compile(config.jit_compile),
    )
    return model


def run(config: TrainConfig, datasets=None, *, extra_callbacks=()) -> dict:
    """Trains one model; resumes from ``<run>/backup`` if an earlier run was interrupted.

    Under a multi-worker strategy every worker calls this; the chief writes the run
    folder, the others a scratch folder (``worker_run_folder``).

    Args:
      config: the run's configuration.
      datasets: ``{"train": ds, "validation": ds}`` of unbatched TFDS example dicts;
        None loads ``config.dataset`` from ``config.data_dir``. The model card's
        ``trained_on`` is ``config.dataset`` either way.
      extra_callbacks: appended after the run's own callbacks.

    Returns:
      what ``dfseg_tf.training.runs.fit_run`` returns, with best_val_dice.
    """
    strategy, resolved = start_run(config)
    examples = datasets or load_datasets(config)
    input_shape = tuple(examples["train"].element_spec["image"].shape)
    to_batches = functools.partial(segmentation_batches, vertical_flip=config.vertical_flip)
    train, validation = fit_inputs(config, strategy, to_batches, datasets)
    summary_images, summary_masks = validation_examples(examples["validation"], config.summary_images)
    replicas = strategy.num_replicas_in_sync
    steps_per_epoch = config.steps_per_epoch(int(examples["train"].cardinality()), replicas)
    with strategy.scope():
        model = build_model(config, input_shape, replicas=replicas, steps_per_epoch=steps_per_epoch)

    def callbacks_for(run_folder):
        return [
            *segmentation_callbacks(
                run_folder, summary_images=summary_images, summary_masks=summary_masks, monitor=MONITOR
            ),
            *extra_callbacks,
        ]

    card = ModelCard(
        kind=SEGMENTATION, architecture=config.model, input_size=input_shape[0], trained_on=config.dataset
    )
    return fit_run(
        model, train, validation,
        resolved=resolved, strategy=strategy, card=card, monitor=MONITOR, callbacks_for=callbacks_for,
    )


def build_parser() -> argparse.ArgumentParser:
    """Flags over TrainConfig's defaults; every flag's help states its default."""
    defaults = TrainConfig()
    parser = argparse.ArgumentParser(
        prog="python -m experiments.train_unet",
        description=__doc__.split("\n\n")[0],
        formatter_class=argparse.ArgumentDefaultsHelpFormatter,
    )
    model = parser.add_argument_group("model")
    model.add_argument("--model", default=defaults.model, choices=sorted(ARCHITECTURES),
                       help="U-Net configuration (METHOD.md section 3)")
    groups = add_run_flags(parser, defaults)
    groups["training"].add_argument(
        "--clip-norm", type=float, default=defaults.clip_norm,
        help="clip each gradient to this L2 norm (None: no clipping); keeps a high peak learning rate stable")
    groups["training"].add_argument(
        "--vertical-flip", action=argparse.BooleanOptionalAction, default=defaults.vertical_flip,
        help="also flip training images vertically (horizontal flips are always on)")
    groups["size"].add_argument("--summary-images", type=int, default=defaults.summary_images,
                                help="validation images in the TensorBoard image grid")
    return parser


def parse_flags(argv=None) -> TrainConfig:
    return config_from_flags(TrainConfig, build_parser().parse_args(argv))


def main(argv=None):
    results = run_or_exit(run, parse_flags(argv), "train_unet")
    print(f"best model: {results['best_model']} (validation Dice {results['best_val_dice']})")


if __name__ == "__main__":
    main()
