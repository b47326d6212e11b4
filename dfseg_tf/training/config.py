"""The settings every training script shares, and their command-line flags.

A script's config is a frozen dataclass that inherits :class:`RunConfig` and adds
its own fields (redeclaring a field changes its default); its parser is
``argparse`` with :func:`add_run_flags` for the shared flags, and
:func:`config_from_flags` turns the parsed flags into the config. Configuration
comes from, in order, each overriding the one before: the dataclass defaults, then
the flags.
"""

import argparse
import dataclasses
import math
import sys

from dfseg_tf.method import NVIDIA_LEARNING_RATE
from dfseg_tf.training.precision import JIT_CHOICES, PRECISION_CHOICES
from dfseg_tf.training.schedules import one_cycle_cosine
from dfseg_tf.training.strategy import LR_SCALING_RULES, scaled_learning_rate, worker_count

VERBOSE_CHOICES = ("auto", "0", "1", "2")
LR_SCHEDULES = ("constant", "cosine")


@dataclasses.dataclass(frozen=True)
class RunConfig:
    """Defaults shared by every training run (see ``dfseg_tf.training.strategy`` for
    how batch and learning rate scale with replicas)."""

    dataset: str = "dfdc_masks/synthetic"
    data_dir: str | None = None  # None: the TFDS default data dir
    train_split: str = "train"
    validation_split: str = "validation"
    output_dir: str | None = None  # None: runs/<architecture>
    epochs: int = 20
    batch_size: int = 16  # per replica
    learning_rate: float = NVIDIA_LEARNING_RATE  # for one replica; the peak of a schedule
    lr_scaling: str = "sqrt"
    lr_schedule: str = "constant"
    seed: int = 0
    precision: str = "auto"
    jit_compile: str = "auto"
    cache: bool = False
    max_train_batches: int | None = None
    max_val_batches: int | None = None
    verbose: str | int = "auto"  # Keras' progress bar: "auto", 0, 1 or 2

    def learning_rate_for(self, replicas: int) -> float:
        """The optimizer's learning rate when training on ``replicas`` replicas."""
        return scaled_learning_rate(self.learning_rate, replicas, self.lr_scaling)

    def optimizer_learning_rate(self, replicas: int, steps_per_epoch: int | None):
        """The optimizer's learning rate: the scaled value, or with ``lr_schedule="cosine"``
        ``schedules.one_cycle_cosine`` over all ``epochs``. Constant when the steps per
        epoch are unknown (an input of unknown length)."""
        peak = self.learning_rate_for(replicas)
        if self.lr_schedule == "constant" or not steps_per_epoch:
            return peak
        return one_cycle_cosine(peak, steps_per_epoch * self.epochs)

    def steps_per_epoch(self, train_examples: int, replicas: int) -> int | None:
        """Batches per training epoch for ``train_examples`` examples (None if unknown, < 0)."""
        if train_examples < 0:
            return None
        steps = math.ceil(train_examples / (self.batch_size * replicas))
        return min(steps, self.max_train_batches) if self.max_train_batches else steps

    def scale(self, replicas: int) -> dict:
        """How this run is spread: workers, replicas, global batch and learning rate."""
        return {
            "num_workers": worker_count(),
            "num_replicas": replicas,
            "global_batch_size": self.batch_size * replicas,
            "learning_rate": self.learning_rate_for(replicas),
        }


def optional_int(text):
    """A flag value for "at most N": 0, none or an empty string mean no limit."""
    return None if text.lower() in ("", "none", "0") else int(text)


def add_run_flags(parser: argparse.ArgumentParser, defaults: RunConfig) -> dict:
    """Adds the flags of :class:`RunConfig`'s fields, with ``defaults``' values.

    Returns the argument groups ``{"data", "training", "size"}`` so a script adds its
    own flags to the group they belong in.
    """
    data = parser.add_argument_group("data and paths")
    data.add_argument("--dataset", default=defaults.dataset,
                      help="TFDS name/config to train on; several joined by '+' "
                           "(dfdc_masks/dfdc+dfdc_masks/self_blended) are interleaved with equal weights")
    data.add_argument("--data-dir", default=defaults.data_dir,
                      help="TFDS data dir holding the built dataset (None: TFDS default, ~/tensorflow_datasets)")
    data.add_argument("--train-split", default=defaults.train_split, help="split to train on")
    data.add_argument("--validation-split", default=defaults.validation_split,
                      help="split for the validation metrics and the best checkpoint")
    data.add_argument("--output-dir", default=defaults.output_dir,
                      help="run folder for config, checkpoints, backup and logs (None: runs/<architecture>)")

    training = parser.add_argument_group("training")
    training.add_argument("--epochs", type=int, default=defaults.epochs, help="epochs to train")
    training.add_argument("--batch-size", type=int, default=defaults.batch_size,
                          help="images per batch on each replica (GPU); a step trains on this times the replicas")
    training.add_argument("--learning-rate", type=float, default=defaults.learning_rate,
                          help="Adam learning rate for one replica, scaled by --lr-scaling")
    training.add_argument("--lr-schedule", default=defaults.lr_schedule, choices=LR_SCHEDULES,
                          help="constant: --learning-rate throughout; cosine: warm up over the first tenth "
                               "of the steps to --learning-rate, then cosine decay to 0 at the last epoch")
    training.add_argument("--lr-scaling", default=defaults.lr_scaling, choices=LR_SCALING_RULES,
                          help="learning rate on N replicas: sqrt: times sqrt(N) (Adam's rule), "
                               "linear: times N, none: unchanged")
    training.add_argument("--seed", type=int, default=defaults.seed, help="seed of weights, shuffling and flips")
    training.add_argument("--precision", default=defaults.precision, choices=PRECISION_CHOICES,
                          help="dtype policy; auto: mixed_bfloat16 (or mixed_float16 before Ampere) on GPU; on CPU "
                               "mixed_bfloat16 where it has AMX or AVX512-BF16, else float32")
    training.add_argument("--jit-compile", default=defaults.jit_compile, choices=JIT_CHOICES,
                          help="XLA compilation; auto: on with a GPU, off on CPU")
    training.add_argument("--cache", action=argparse.BooleanOptionalAction, default=defaults.cache,
                          help="cache the decoded model inputs in memory (small datasets only)")

    size = parser.add_argument_group("run size and debugging")
    size.add_argument("--max-train-batches", type=optional_int, default=defaults.max_train_batches,
                      help="train on at most this many batches per epoch (0 or None: all)")
    size.add_argument("--max-val-batches", type=optional_int, default=defaults.max_val_batches,
                      help="validate on at most this many batches (0 or None: all)")
    size.add_argument("--verbose", default=defaults.verbose, choices=VERBOSE_CHOICES,
                      help="Keras progress output: 0 silent, 1 progress bar, 2 one line per epoch; "
                           "auto: the bar on a terminal, one line per epoch in a log file")
    return {"data": data, "training": training, "size": size}


def resolve_verbose(flag: str | int, stream=None) -> int:
    """Keras' ``verbose`` for ``fit``: a flag's 0, 1 or 2 as given; ``"auto"`` is the
    progress bar (1) on a terminal and one line an epoch (2) elsewhere.

    Keras' own "auto" is always the bar, which redraws itself with carriage returns
    after every step: in a log file (nohup, CI, a cluster's job output) that makes
    lines of a hundred kilobytes that hide the epoch summaries.
    """
    if flag != "auto":
        return int(flag)
    stream = sys.stdout if stream is None else stream
    return 1 if stream.isatty() else 2


def config_from_flags(config_class, flags: argparse.Namespace):
    """``config_class`` (a RunConfig dataclass) from parsed flags named like its fields."""
    values = vars(flags)
    if values["verbose"] != "auto":
        values = {**values, "verbose": int(values["verbose"])}
    return config_class(**values)
