"""Training and inference speed and peak memory of the two U-Nets, on any Keras backend.

    python -m experiments.bench_train --precision auto --batch-size 16
    python -m experiments.bench_train --backend jax --peer torch     # the GPU run

Each measurement runs in a child process of its own, so that its peak memory is its own
and ``KERAS_BACKEND`` is set before Keras is imported: one child per Keras backend and
model, and with ``--peer torch`` one per variant of the same network written in plain
PyTorch (``experiments.peer_torch``: eager float32, and compiled with bfloat16 autocast
and channels_last) and model, all on the same batch and image size in the same run.

Training is the project's real step (Adam, BCE - ln(Dice), the two Dice metrics,
compiled as ``experiments.train_unet`` compiles it) through ``fit``, fed by the tf.data
training pipeline where TensorFlow is installed and by in-memory batches where it is
not (a JAX or PyTorch machine). Inference is ``predict_on_batch``, probabilities back
in host memory (the peer likewise). The first ``--warmup-steps`` steps of each (tracing,
XLA or torch.compile compilation) are not timed. Peak memory: the device's peak
allocation on a GPU, the process's peak RSS on a CPU. Results go to ``--output`` as JSON
and are printed as a table, with the ratios project / peer of images per second.
"""

import argparse
import importlib.util
import json
import os
import platform
import resource
import subprocess
import sys
import time

import numpy as np

from dfseg_tf.method import NVIDIA_LEARNING_RATE
from dfseg_tf.training.policy import auto_policy
from experiments.bench_output import write_json

ARCHITECTURES = ("unet", "unet_v1")
BACKENDS = ("tensorflow", "jax", "torch")
PEER_VARIANTS = ("eager", "compiled")
PRECISIONS = ("auto", "float32", "mixed_float16", "mixed_bfloat16")
DEFAULT_BATCH = {"cpu": 16, "gpu": 32}  # the study's batch; the batch of the GPU reference figures
DEFAULT_STEPS = {"cpu": 10, "gpu": 100}


def tensorflow_installed() -> bool:
    return importlib.util.find_spec("tensorflow") is not None


def default_backend() -> str:
    return "tensorflow" if tensorflow_installed() else "jax"


# --- the device, as the backend in use sees it -------------------------------------------


def gpu(backend):
    """(name, compute capability) of the first GPU ``backend`` sees, or None on a CPU."""
    if backend == "tensorflow":
        import tensorflow as tf

        gpus = tf.config.list_physical_devices("GPU")
        if not gpus:
            return None
        details = tf.config.experimental.get_device_details(gpus[0])
        return details.get("device_name", "GPU"), tuple(details.get("compute_capability", (0, 0)))
    if backend == "jax":
        import jax

        device = jax.devices()[0]
        if device.platform != "gpu":
            return None
        return device.device_kind, tuple(int(part) for part in device.compute_capability.split("."))
    import torch

    if not torch.cuda.is_available():
        return None
    return torch.cuda.get_device_name(0), tuple(torch.cuda.get_device_capability(0))


def device_description(found_gpu) -> str:
    if found_gpu:
        return found_gpu[0]
    return f"CPU ({os.cpu_count()} logical cores, {platform.processor() or platform.machine()})"


def peak_memory(backend, found_gpu):
    """(MiB, what was measured): the GPU's peak allocation, else the host's peak RSS."""
    if not found_gpu:
        return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, "host peak RSS"
    if backend == "tensorflow":
        import tensorflow as tf

        peak = tf.config.experimental.get_memory_info("GPU:0")["peak"]
    elif backend == "jax":
        import jax

        peak = jax.devices()[0].memory_stats()["peak_bytes_in_use"]
    else:
        import torch

        peak = torch.cuda.max_memory_allocated()
    return peak / 2**20, "GPU peak allocated"


def resolve_policy(precision, backend, found_gpu) -> str:
    """The dtype policy ``precision`` means: under TensorFlow the project's own
    (``dfseg_tf.training.precision``); elsewhere the same rule (``dfseg_tf.training.policy``,
    free of TensorFlow) on the device the backend sees."""
    if backend == "tensorflow":
        from dfseg_tf.training.precision import resolve_precision

        return resolve_precision(precision)
    if precision != "auto":
        return precision
    return auto_policy([found_gpu[1]] if found_gpu else [])


# --- the measurements ----------------------------------------------------------------------


def in_memory_batches(batch_size, image_size, *, count=4, seed=0):
    """``count`` (images, masks) batches in host memory: noisy uint8 face-sized crops (the
    models' input), half of them with a brighter square where the mask is 1."""
    rng = np.random.default_rng(seed)
    shape = (count * batch_size, image_size, image_size)
    images = rng.integers(40, 120, size=(*shape, 3), dtype=np.uint8)
    masks = np.zeros((*shape, 1), np.float32)
    side = image_size // 4
    for index in range(0, len(images), 2):
        top, left = rng.integers(0, image_size - side, size=2)
        masks[index, top : top + side, left : left + side] = 1.0
        images[index, top : top + side, left : left + side] += 100
    return [(images[start : start + batch_size], masks[start : start + batch_size])
            for start in range(0, len(images), batch_size)]


def _cycle(batches):
    while True:
        yield from batches


def training_input(batches, *, batch_size, image_size):
    """(what ``fit`` reads, its description): the project's tf.data training pipeline
    (decoding, flips, batching, prefetch) where TensorFlow is installed, else ``batches``
    over and over."""
    if not tensorflow_installed():
        return _cycle(batches), "in-memory batches"
    from dfseg_tf.data import planted_square_dataset, segmentation_batches

    examples = planted_square_dataset(len(batches) * batch_size, size=image_size, seed=0)
    pipeline = segmentation_batches(examples, batch_size=batch_size, training=True, seed=0, cache=True)
    return pipeline.repeat(), "tf.data pipeline"


def clock():
    """(wall seconds, this process's CPU seconds over all its threads): on a shared
    machine the CPU time is the steadier of the two."""
    return np.array([time.perf_counter(), time.process_time()])


def time_steps(step, batches, *, warmup_steps, steps, wait):
    """(wall, CPU) seconds per call of ``step(images, masks)`` after ``warmup_steps``
    untimed calls; ``wait()`` blocks until the device has finished what was queued."""
    for index in range(warmup_steps):
        step(*batches[index % len(batches)])
    wait()
    start = clock()
    for index in range(steps):
        step(*batches[index % len(batches)])
    wait()
    return (clock() - start) / steps


def _jit_compile(flag, backend):
    """The project's XLA rule under TensorFlow (on with a GPU); elsewhere Keras' own
    "auto": jax.jit under JAX, eager under PyTorch."""
    if backend == "tensorflow":
        from dfseg_tf.training.precision import resolve_jit_compile

        return resolve_jit_compile(flag)
    return {"auto": "auto", "true": True, "false": False}[flag]


COMPILE_NAMES = {
    "tensorflow": ("tf.function graph", "XLA"),
    "jax": ("eager", "XLA (jax.jit)"),
    "torch": ("eager", "torch.compile"),
}


def compiled_unet(architecture, image_size, *, jit_compile, steps_per_execution=1):
    """The U-Net compiled as ``experiments.train_unet.build_model`` compiles it (which
    runs one step per execution)."""
    import keras

    from dfseg_tf.models.unet import build_unet
    from dfseg_tf.training.losses import BceMinusLogDice
    from dfseg_tf.training.metrics import DiceAtThreshold, MeanImageDice

    model = build_unet(architecture, input_shape=(image_size, image_size, 3))
    model.compile(
        optimizer=keras.optimizers.Adam(NVIDIA_LEARNING_RATE),
        loss=BceMinusLogDice(),
        metrics=[DiceAtThreshold(), MeanImageDice()],
        jit_compile=jit_compile,
        steps_per_execution=steps_per_execution,
    )
    return model


def measure_project(architecture, *, backend, batch_size, steps, warmup_steps, image_size, precision, jit_compile,
                    steps_per_execution):
    """The project's model under the Keras backend this process was started with."""
    import keras

    found_gpu = gpu(backend)
    batch_size = batch_size or DEFAULT_BATCH["gpu" if found_gpu else "cpu"]
    steps = steps or DEFAULT_STEPS["gpu" if found_gpu else "cpu"]
    policy = resolve_policy(precision, backend, found_gpu)
    keras.config.set_dtype_policy(policy)
    model = compiled_unet(architecture, image_size, jit_compile=_jit_compile(jit_compile, backend),
                          steps_per_execution=steps_per_execution)
    batches = in_memory_batches(batch_size, image_size)
    train_input, input_kind = training_input(batches, batch_size=batch_size, image_size=image_size)

    def wait():
        keras.ops.convert_to_numpy(model.trainable_weights[-1])  # ready once the last step has run

    def fit(step_count):
        model.fit(train_input, epochs=1, steps_per_epoch=step_count, verbose=0)

    fit(warmup_steps)  # tracing and compilation, untimed
    wait()
    start = clock()
    fit(steps)
    wait()
    train_seconds = (clock() - start) / steps
    infer_seconds = time_steps(lambda images, masks: model.predict_on_batch(images), batches,
                               warmup_steps=warmup_steps, steps=steps, wait=lambda: None)
    return _row(
        f"keras/{backend}", architecture, backend, found_gpu,
        parameters=model.count_params(), policy=policy,
        compile=COMPILE_NAMES[backend][bool(model.jit_compile)], steps_per_execution=steps_per_execution,
        input=input_kind,
        batch_size=batch_size, image_size=image_size, steps=steps,
        train_seconds=train_seconds, infer_seconds=infer_seconds,
    )


def measure_peer(architecture, *, variant, batch_size, steps, warmup_steps, image_size, **_project_only):
    """The same network in plain PyTorch (``experiments.peer_torch``), one variant."""
    from experiments import peer_torch

    found_gpu = gpu("torch")
    batch_size = batch_size or DEFAULT_BATCH["gpu" if found_gpu else "cpu"]
    steps = steps or DEFAULT_STEPS["gpu" if found_gpu else "cpu"]
    peer = peer_torch.Peer(architecture, peer_torch.VARIANTS[variant])
    batches = [tuple(peer.host_tensor(array) for array in batch)
               for batch in in_memory_batches(batch_size, image_size)]
    timing = {"warmup_steps": warmup_steps, "steps": steps, "wait": peer.synchronize}
    train_seconds = time_steps(peer.train_step, batches, **timing)
    infer_seconds = time_steps(lambda images, masks: peer.predict(images), batches, **timing)
    return _row(
        f"torch/{variant}", architecture, "torch", found_gpu,
        parameters=peer.parameters, policy=peer.variant.policy,
        compile="torch.compile" if peer.variant.compiled else "eager",
        input=f"in-memory batches, {'channels_last' if peer.variant.channels_last else 'NCHW'}",
        batch_size=batch_size, image_size=image_size, steps=steps,
        train_seconds=train_seconds, infer_seconds=infer_seconds,
    )


def _row(runner, architecture, backend, found_gpu, *, batch_size, steps, train_seconds, infer_seconds, **details):
    peak_mb, memory_kind = peak_memory(backend, found_gpu)
    return {
        "runner": runner,
        "model": architecture,
        "device": device_description(found_gpu),
        **details,
        "batch_size": batch_size,
        "timed_steps": steps,
        "seconds_per_step": train_seconds[0],
        "images_per_second": batch_size / train_seconds[0],
        "cpu_seconds_per_step": train_seconds[1],
        "inference_seconds_per_step": infer_seconds[0],
        "inference_images_per_second": batch_size / infer_seconds[0],
        "inference_cpu_seconds_per_step": infer_seconds[1],
        "peak_memory_mb": peak_mb,
        "memory_kind": memory_kind,
    }


# --- the parent: one child per measurement -------------------------------------------------


def _measure_in_child(runner, architecture, flags) -> dict:
    backend = runner.removeprefix("keras/") if runner.startswith("keras/") else "torch"
    command = [sys.executable, "-m", "experiments.bench_train", "--child", runner, architecture,
               *_shared_flags(flags)]
    child = subprocess.run(command, capture_output=True, text=True, check=False,
                           env={**os.environ, "KERAS_BACKEND": backend})
    if child.returncode != 0:
        sys.exit(f"bench_train: error: measuring {architecture} with {runner} failed:\n{child.stderr[-3000:]}")
    return json.loads(child.stdout.strip().splitlines()[-1])


def _shared_flags(flags):
    shared = ["--warmup-steps", str(flags.warmup_steps), "--image-size", str(flags.image_size),
              "--precision", flags.precision, "--jit-compile", flags.jit_compile,
              "--steps-per-execution", str(flags.steps_per_execution)]
    for name in ("batch_size", "steps"):
        if getattr(flags, name) is not None:
            shared += [f"--{name.replace('_', '-')}", str(getattr(flags, name))]
    return shared


def ratios(rows) -> list:
    """Project / peer images per second, for every project row and peer row of one model."""
    projects = [row for row in rows if row["runner"].startswith("keras/")]
    peers = [row for row in rows if not row["runner"].startswith("keras/")]
    return [
        {
            "model": project["model"], "project": project["runner"], "peer": peer["runner"],
            "training": project["images_per_second"] / peer["images_per_second"],
            "inference": project["inference_images_per_second"] / peer["inference_images_per_second"],
            # the same in CPU time, the steadier figure on a shared CPU
            "training_cpu": peer["cpu_seconds_per_step"] / project["cpu_seconds_per_step"],
            "inference_cpu": peer["inference_cpu_seconds_per_step"] / project["inference_cpu_seconds_per_step"],
        }
        for project in projects for peer in peers if peer["model"] == project["model"]
    ]


def print_table(results):
    rows = results["results"]
    print(f"device: {rows[0]['device']}")
    print(f"{'runner':17} {'model':8} {'params':>10} {'policy':>16} {'compile':>17} {'batch':>5} "
          f"{'train img/s':>11} {'infer img/s':>11} {'peak MiB':>9}  input")
    for row in rows:
        print(f"{row['runner']:17} {row['model']:8} {row['parameters']:>10,} {row['policy']:>16} "
              f"{row['compile']:>17} {row['batch_size']:>5} {row['images_per_second']:>11.1f} "
              f"{row['inference_images_per_second']:>11.1f} {row['peak_memory_mb']:>9.0f}  {row['input']}")
    for ratio in results["ratios"]:
        print(f"{ratio['model']}: {ratio['project']} / {ratio['peer']}: "
              f"training {ratio['training']:.2f}x, inference {ratio['inference']:.2f}x "
              f"(in CPU time {ratio['training_cpu']:.2f}x, {ratio['inference_cpu']:.2f}x)")


def parse_flags(argv=None):
    parser = argparse.ArgumentParser(
        prog="python -m experiments.bench_train",
        description=__doc__.split("\n\n")[0],
        formatter_class=argparse.ArgumentDefaultsHelpFormatter,
    )
    parser.add_argument("--models", nargs="+", default=list(ARCHITECTURES), choices=ARCHITECTURES,
                        help="models to measure")
    parser.add_argument("--backend", nargs="+", default=[default_backend()], choices=BACKENDS,
                        help="Keras backends to run the project's models under; the default is "
                             "tensorflow where it is installed, else jax")
    parser.add_argument("--peer", choices=("torch",), default=None,
                        help="also time the same network written in plain PyTorch")
    parser.add_argument("--peer-variants", nargs="+", default=list(PEER_VARIANTS), choices=PEER_VARIANTS,
                        help="eager: float32, NCHW; compiled: torch.compile, bfloat16 autocast, channels_last")
    parser.add_argument("--batch-size", type=int, default=None,
                        help="images per step; None: 16 (the study's) on a CPU, 32 on a GPU")
    parser.add_argument("--steps", type=int, default=None,
                        help="timed steps per measurement; None: 10 on a CPU, 100 on a GPU")
    parser.add_argument("--warmup-steps", type=int, default=3, help="untimed steps before timing")
    parser.add_argument("--image-size", type=int, default=256, help="side of the square images")
    parser.add_argument("--precision", default="auto", choices=PRECISIONS,
                        help="dtype policy of the project's models; auto: the project's rule (mixed on a GPU; "
                             "mixed_bfloat16 on a CPU with AMX or AVX512-BF16, else float32)")
    parser.add_argument("--jit-compile", default="auto", choices=("auto", "true", "false"),
                        help="compilation of the project's step; auto: under tensorflow XLA with a GPU "
                             "only, under jax always XLA, under torch eager")
    parser.add_argument("--steps-per-execution", type=int, default=1,
                        help="training steps Keras runs per call of the compiled step (the project trains "
                             "with 1; more hides per-step Python overhead on a fast GPU; keep --steps and "
                             "--warmup-steps multiples of it)")
    parser.add_argument("--output", default="results/bench_train.json", help="JSON file of the results")
    parser.add_argument("--child", nargs=2, metavar=("RUNNER", "MODEL"), default=None,
                        help="internal: measure one model with one runner (keras/BACKEND or "
                             "torch/VARIANT) in this process and print its JSON")
    return parser.parse_args(argv)


def measure_child(runner, architecture, flags) -> dict:
    settings = {name: getattr(flags, name)
                for name in ("batch_size", "steps", "warmup_steps", "image_size", "precision", "jit_compile",
                             "steps_per_execution")}
    kind, name = runner.split("/")
    if kind == "keras":
        return measure_project(architecture, backend=name, **settings)
    return measure_peer(architecture, variant=name, **settings)


def main(argv=None):
    flags = parse_flags(argv)
    if flags.child:
        print(json.dumps(measure_child(*flags.child, flags)))
        return
    runners = [f"keras/{backend}" for backend in flags.backend]
    if flags.peer:
        runners += [f"torch/{variant}" for variant in flags.peer_variants]
    settings = {name: value for name, value in vars(flags).items() if name not in ("child", "output")}
    rows = []
    for architecture in flags.models:
        for runner in runners:
            rows.append(_measure_in_child(runner, architecture, flags))
            print(f"measured {runner} {architecture}: {rows[-1]['images_per_second']:.1f} training images/s",
                  flush=True)
            # written after every child, so a run cut short (a lent GPU's minutes) keeps its rows
            results = {"settings": settings, "results": rows, "ratios": ratios(rows)}
            write_json(results, flags.output)
    print_table(results)
    print(f"\nwritten {flags.output}")


if __name__ == "__main__":
    main()
