"""Does mixed_bfloat16 training reach the Dice of float32? The same run under each policy.

    python -m experiments.bench_precision [--model unet] [--epochs 12] [--output results/bench_precision.json]

Builds (or reuses) the embedded ``dfdc_masks/synthetic`` records, then trains the same
U-Net from the same seed, on the same batches and learning-rate schedule, once per
``--policies`` entry, and writes per policy: best validation Dice, the Dice of the last
epoch, training images per second, and wall and CPU seconds. On a CPU with AMX or
AVX512-BF16 ``--precision auto`` picks mixed_bfloat16 (``dfseg_tf.training.precision``);
this is the check that it costs no accuracy.
"""

import argparse
import json
import pathlib
import tempfile
import time

from experiments import tfds_build, train_unet

POLICIES = ("float32", "mixed_bfloat16")


def measure(policy: str, *, model: str, epochs: int, learning_rate: float, data_dir, dataset: str, run_dir,
            max_train_batches: int | None = None) -> dict:
    """One training run under ``policy``; its Dice and cost."""
    config = train_unet.TrainConfig(
        model=model, dataset=dataset, data_dir=str(data_dir), output_dir=str(run_dir), epochs=epochs,
        learning_rate=learning_rate, lr_schedule="cosine", clip_norm=1.0, precision=policy, cache=True, verbose=0,
        max_train_batches=max_train_batches,
    )
    wall, cpu = time.perf_counter(), time.process_time()
    results = train_unet.run(config)
    wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    history = results["history"]
    images = _images_per_epoch(config, data_dir, dataset) * epochs
    return {
        "policy": results["policy"],
        "best_val_dice": results["best_val_dice"],
        "last_val_dice": history["val_dice"][-1],
        "train_images_per_second": images / wall,
        "wall_seconds": wall,
        "cpu_seconds": cpu,
    }


def _images_per_epoch(config: train_unet.TrainConfig, data_dir, dataset) -> int:
    """The training split's size (from the records' metadata: nothing is decoded), or
    fewer where ``max_train_batches`` stops the epoch early."""
    from dfseg_tf.data import load_split

    examples = int(load_split(dataset, "train", str(data_dir)).cardinality())
    return min(examples, config.steps_per_epoch(examples, replicas=1) * config.batch_size)


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(
        prog="python -m experiments.bench_precision", description=__doc__.split("\n\n")[0],
        formatter_class=argparse.ArgumentDefaultsHelpFormatter,
    )
    parser.add_argument("--output", default="results/bench_precision.json", help="JSON file with every figure")
    parser.add_argument("--data-dir", default=None,
                        help="TFDS data dir holding (or to build) the records; None: a temporary folder")
    parser.add_argument("--config", default="synthetic", help="dfdc_masks config to train on (built if missing)")
    parser.add_argument("--model", default="unet", choices=["unet", "unet_v1"], help="U-Net to train")
    parser.add_argument("--epochs", type=int, default=12, help="epochs of each run")
    parser.add_argument("--learning-rate", type=float, default=1e-3, help="peak of the one-cycle cosine schedule (gradients clipped to norm 1, as the main job)")
    parser.add_argument("--policies", default=",".join(POLICIES), help="comma-separated dtype policies to compare")
    parser.add_argument("--max-train-batches", type=int, default=None,
                        help="training batches per epoch (None: all); a quick check of the script, not of bf16")
    flags = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as scratch:
        data_dir = pathlib.Path(flags.data_dir or pathlib.Path(scratch) / "data")
        tfds_build.build(flags.config, data_dir, capture=True)
        dataset = f"{tfds_build.BUILDER_NAME}/{tfds_build.config_name(flags.config)}"
        runs = [
            measure(policy, model=flags.model, epochs=flags.epochs, learning_rate=flags.learning_rate,
                    data_dir=data_dir, dataset=dataset, run_dir=pathlib.Path(scratch) / policy,
                    max_train_batches=flags.max_train_batches)
            for policy in flags.policies.split(",")
        ]
    result = {"model": flags.model, "dataset": dataset, "epochs": flags.epochs,
              "max_train_batches": flags.max_train_batches, "runs": runs}
    output = pathlib.Path(flags.output)
    output.parent.mkdir(parents=True, exist_ok=True)
    output.write_text(json.dumps(result, indent=2) + "\n")
    for run in runs:
        print(f"{run['policy']:>15}: best validation Dice {run['best_val_dice']:.3f}, "
              f"{run['train_images_per_second']:.1f} img/s, {run['wall_seconds']:.0f} s wall, "
              f"{run['cpu_seconds']:.0f} s CPU")
    print(f"written {output}")


if __name__ == "__main__":
    main()
