"""Training throughput and peak memory of the two U-Nets on the device present.

    python -m experiments.bench_train --precision auto --batch-size 16

Each model is measured in its own child process, so its peak memory is its own:
the high-water mark of host memory (RSS) on a CPU, TensorFlow's peak allocation on
GPU:0 otherwise. Training runs the real step (Adam, BCE - ln(Dice), Dice metrics)
on in-memory 256x256 planted-square examples through the training pipeline; the
first ``--warmup-steps`` steps (tracing, XLA compilation, autotuning) are not timed.
Results go to ``--output`` as JSON and are printed as a table.
"""

import argparse
import json
import os
import platform
import resource
import subprocess
import sys
import time

import keras
import tensorflow as tf

from dfseg_tf.data import planted_square_dataset, segmentation_batches
from dfseg_tf.training.precision import apply_precision, resolve_jit_compile
from experiments.train_unet import TrainConfig, build_model
from experiments.bench_output import write_and_print

ARCHITECTURES = ("unet", "unet_v1")


class StepClock(keras.callbacks.Callback):
    """Times the training steps after the first ``warmup_steps``."""

    def __init__(self, warmup_steps):
        super().__init__()
        self.warmup_steps = warmup_steps
        self.start = None
        self.end = None

    def on_train_batch_end(self, batch, logs=None):
        if batch + 1 == self.warmup_steps:
            self.start = time.perf_counter()

    def on_train_end(self, logs=None):
        self.end = time.perf_counter()


def _device_description():
    gpus = tf.config.list_physical_devices("GPU")
    if gpus:
        details = tf.config.experimental.get_device_details(gpus[0])
        return f"{len(gpus)} x {details.get('device_name', 'GPU')}"
    return f"CPU ({os.cpu_count()} logical cores, {platform.processor() or platform.machine()})"


def _peak_memory_mb():
    if tf.config.list_physical_devices("GPU"):
        return tf.config.experimental.get_memory_info("GPU:0")["peak"] / 2**20, "GPU:0 peak allocated"
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, "host peak RSS"


def measure(architecture, *, batch_size, steps, warmup_steps, image_size, precision, jit_compile) -> dict:
    """Images per second of training ``architecture`` (runs in the current process)."""
    policy = apply_precision(precision)
    examples = planted_square_dataset(4 * batch_size, size=image_size, seed=0)
    batches = segmentation_batches(examples, batch_size=batch_size, training=True, seed=0, cache=True)
    config = TrainConfig(model=architecture, batch_size=batch_size, jit_compile=jit_compile)
    model = build_model(config, (image_size, image_size, 3))
    clock = StepClock(warmup_steps)
    model.fit(batches.repeat(), epochs=1, steps_per_epoch=warmup_steps + steps,
              callbacks=[clock], verbose=0)
    seconds = clock.end - clock.start
    peak_mb, memory_kind = _peak_memory_mb()
    return {
        "model": architecture,
        "parameters": model.count_params(),
        "device": _device_description(),
        "policy": policy,
        "jit_compile": resolve_jit_compile(jit_compile),
        "batch_size": batch_size,
        "image_size": image_size,
        "timed_steps": steps,
        "seconds_per_step": seconds / steps,
        "images_per_second": steps * batch_size / seconds,
        "peak_memory_mb": peak_mb,
        "memory_kind": memory_kind,
    }


def _measure_in_child(architecture, flags) -> dict:
    command = [
        sys.executable, "-m", "experiments.bench_train", "--child", architecture,
        "--batch-size", str(flags.batch_size), "--steps", str(flags.steps),
        "--warmup-steps", str(flags.warmup_steps), "--image-size", str(flags.image_size),
        "--precision", flags.precision, "--jit-compile", flags.jit_compile,
    ]
    child = subprocess.run(command, capture_output=True, text=True)
    if child.returncode != 0:
        sys.exit(f"bench_train: error: measuring {architecture} failed:\n{child.stderr[-3000:]}")
    return json.loads(child.stdout.strip().splitlines()[-1])


def print_table(rows):
    header = f"{'model':8} {'params':>10} {'policy':>15} {'xla':>5} {'batch':>5} {'s/step':>8} {'img/s':>8} {'peak MiB':>9}  memory"
    print(f"device: {rows[0]['device']}")
    print(header)
    for row in rows:
        print(
            f"{row['model']:8} {row['parameters']:>10,} {row['policy']:>15} {str(row['jit_compile']):>5} "
            f"{row['batch_size']:>5} {row['seconds_per_step']:>8.3f} {row['images_per_second']:>8.1f} "
            f"{row['peak_memory_mb']:>9.0f}  {row['memory_kind']}"
        )


def parse_flags(argv=None):
    parser = argparse.ArgumentParser(
        prog="python -m experiments.bench_train",
        description=__doc__.split("\n\n")[0],
        formatter_class=argparse.ArgumentDefaultsHelpFormatter,
    )
    parser.add_argument("--models", nargs="+", default=list(ARCHITECTURES), choices=ARCHITECTURES,
                        help="models to measure")
    parser.add_argument("--batch-size", type=int, default=16, help="images per training step")
    parser.add_argument("--steps", type=int, default=10, help="timed training steps per model")
    parser.add_argument("--warmup-steps", type=int, default=3, help="untimed steps before timing")
    parser.add_argument("--image-size", type=int, default=256, help="side of the square training images")
    parser.add_argument("--precision", default="auto",
                        choices=("auto", "float32", "mixed_float16", "mixed_bfloat16"),
                        help="dtype policy; auto: mixed on GPU, float32 on CPU")
    parser.add_argument("--jit-compile", default="auto", choices=("auto", "true", "false"),
                        help="XLA compilation; auto: on with a GPU")
    parser.add_argument("--output", default="results/bench_train.json", help="JSON file of the results")
    parser.add_argument("--child", choices=ARCHITECTURES, default=None,
                        help="internal: measure this one model and print its JSON (default: None)")
    return parser.parse_args(argv)


def main(argv=None):
    flags = parse_flags(argv)
    settings = dict(batch_size=flags.batch_size, steps=flags.steps, warmup_steps=flags.warmup_steps,
                    image_size=flags.image_size, precision=flags.precision, jit_compile=flags.jit_compile)
    if flags.child:
        print(json.dumps(measure(flags.child, **settings)))
        return
    rows = [_measure_in_child(architecture, flags) for architecture in flags.models]
    write_and_print({"settings": settings, "results": rows}, flags.output, lambda results: print_table(results["results"]))


if __name__ == "__main__":
    main()
