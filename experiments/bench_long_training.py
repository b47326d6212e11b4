"""How far the study's U-Nets get with more training than the main job's 15 minutes hold.

The main job trains ``unet`` 8 epochs on two CPU cores, and the issue's targets on its
test split (fake-frame Dice >= 0.6, frame ROC-AUC >= 0.95, under 10% of real frames
flagged) are not reached in that time (README: What the main job measures). This
benchmark trains the same U-Net with the same recipe (Adam, one-cycle cosine, gradients
clipped to norm 1, batch 16, horizontal flips, the epoch of best validation Dice kept)
for longer budgets, and scores each model as the job does: t searched on the validation
split by balanced accuracy, then the test split's frame ROC-AUC, real frames flagged and
fake-frame Dice. Long budgets want a GPU, and a GPU machine may have no TensorFlow (the
one lent to this project has JAX and PyTorch), so the work is split in two:

    # here, with TensorFlow: a built config's examples as stored (JPEG faces, PNG masks)
    python -m experiments.bench_long_training export --dataset dfdc_masks/synthetic_p40 \\
        --data-dir runs/reproduce/tensorflow_datasets --to runs/long_training/synthetic_p40
    # anywhere Keras 3 runs (KERAS_BACKEND=jax on the GPU machine), no TensorFlow needed
    python -m experiments.bench_long_training train --data runs/long_training/synthetic_p40 \\
        --epochs 8 32 128 --seeds 0 --output results/bench_long_training.json

``train`` decodes the stored bytes with OpenCV (``export`` says in ``export.json`` how
far that is from TensorFlow's decoding, which the job's models see) and writes the JSON
after every model, so a run cut short keeps what it finished.
"""

import argparse
import dataclasses
import json
import math
import pathlib
import sys
import time

import cv2
import keras
import numpy as np

from dfseg_tf.evaluation import rules, scores, threshold
from dfseg_tf.models.unet import build_unet
from dfseg_tf.training.losses import BceMinusLogDice
from dfseg_tf.training.metrics import DiceAtThreshold, MeanImageDice
from dfseg_tf.training.schedules import one_cycle_cosine
from experiments.bench_output import write_json
from experiments.bench_train import device_description, gpu, resolve_policy

PROG = "python -m experiments.bench_long_training"
SPLITS = ("train", "validation", "test")
# The main job's recipe for the U-Nets (experiments/reproduce.py, EMBEDDED).
LEARNING_RATE = 1e-3
CLIP_NORM = 1.0
BATCH_SIZE = 16
TARGETS = {"fake_dice": 0.6, "frame_roc_auc": 0.95, "real_flagged": 0.10}
DECODE_CHECK_EXAMPLES = 32


# --- export (TensorFlow) -------------------------------------------------------------------


def export(dataset: str, data_dir: str | None, to: pathlib.Path) -> dict:
    """Writes ``<to>/<split>.npz`` for every split of the built ``dataset``: the image and
    mask bytes as the records store them, labels and video ids. Returns a summary, also
    written to ``<to>/export.json``."""
    import tensorflow_datasets as tfds

    from dfseg_tf.data import built_builder

    builder = built_builder(dataset, data_dir, splits=SPLITS)  # a clear error when it, or a split, is not built
    to.mkdir(parents=True, exist_ok=True)
    summary = {"dataset": dataset, "splits": {}}
    for split in SPLITS:
        raw = builder.as_dataset(split=split, decoders={"image": tfds.decode.SkipDecoding(),
                                                        "mask": tfds.decode.SkipDecoding()})
        examples = list(tfds.as_numpy(raw))
        np.savez(to / f"{split}.npz", **_packed(examples))
        summary["splits"][split] = {"examples": len(examples),
                                    "fake": int(sum(example["label"] for example in examples)),
                                    "opencv_against_tensorflow_decoding": _decode_difference(examples)}
    write_json(summary, to / "export.json")
    return summary


def _packed(examples: list[dict]) -> dict:
    """Variable-length encoded images as one byte array with offsets (no pickled objects)."""
    packed = {"label": np.array([example["label"] for example in examples], np.int64),
              "video_id": np.array([example["video_id"].decode() for example in examples])}
    for key in ("image", "mask"):
        blobs = [np.frombuffer(example[key], np.uint8) for example in examples]
        packed[f"{key}_bytes"] = np.concatenate(blobs) if blobs else np.zeros(0, np.uint8)
        packed[f"{key}_offsets"] = np.cumsum([0] + [len(blob) for blob in blobs])
    return packed


def _decode_difference(examples: list[dict]) -> dict:
    """How far OpenCV's decoding of the first examples' faces is from the one the job's
    models see: TensorFlow decodes JPEG with the fast integer IDCT by default, OpenCV with
    the accurate one, so pixels differ by a level or two (JPEG's own error is larger)."""
    import tensorflow as tf

    differences = np.stack([
        np.abs(tf.io.decode_image(example["image"], channels=3).numpy().astype(int)
               - _decode_face(np.frombuffer(example["image"], np.uint8)).astype(int))
        for example in examples[:DECODE_CHECK_EXAMPLES]])
    return {"max": int(differences.max()), "mean": round(float(differences.mean()), 3)}


# --- loading and training (any Keras backend) ----------------------------------------------


@dataclasses.dataclass
class Split:
    images: np.ndarray  # (N, H, W, 3) uint8, RGB
    masks: np.ndarray  # (N, H, W, 1) float32 in {0, 1}
    labels: np.ndarray  # (N,) 1 fake, 0 real


def _decode_face(blob: np.ndarray) -> np.ndarray:
    return cv2.cvtColor(cv2.imdecode(blob, cv2.IMREAD_COLOR), cv2.COLOR_BGR2RGB)


def _unpacked(packed, key: str) -> list[np.ndarray]:
    data, offsets = packed[f"{key}_bytes"], packed[f"{key}_offsets"]
    return [data[start:end] for start, end in zip(offsets[:-1], offsets[1:])]


def load_exported(folder: pathlib.Path, split: str) -> Split:
    path = folder / f"{split}.npz"
    if not path.exists():
        raise FileNotFoundError(f"{path}: not found; write it first with `{PROG} export --to {folder} ...`")
    with np.load(path) as packed:
        images = np.stack([_decode_face(blob) for blob in _unpacked(packed, "image")])
        masks = np.stack([cv2.imdecode(blob, cv2.IMREAD_GRAYSCALE) for blob in _unpacked(packed, "mask")])
        return Split(images, (masks[..., None] > 0).astype(np.float32), packed["label"])


class FlippedBatches(keras.utils.PyDataset):
    """Training batches of a split: each epoch a new order and a horizontal flip of half
    the pairs, as ``segmentation_batches`` gives the job's training."""

    def __init__(self, split: Split, *, batch_size: int, seed: int):
        super().__init__()
        self.split, self.batch_size, self.seed = split, batch_size, seed
        self.epoch = 0
        self._reorder()

    def _reorder(self):
        rng = np.random.default_rng([self.seed, self.epoch])
        self.order = rng.permutation(len(self.split.labels))
        self.flips = rng.random(len(self.split.labels)) < 0.5

    def __len__(self):
        return math.ceil(len(self.split.labels) / self.batch_size)

    def __getitem__(self, index):
        batch = slice(index * self.batch_size, (index + 1) * self.batch_size)
        chosen, flip = self.order[batch], self.flips[batch, None, None, None]
        images, masks = self.split.images[chosen], self.split.masks[chosen]
        return np.where(flip, images[:, :, ::-1], images), np.where(flip, masks[:, :, ::-1], masks)

    def on_epoch_end(self):
        self.epoch += 1
        self._reorder()


class BestWeights(keras.callbacks.Callback):
    """Keeps the weights of the epoch of best validation Dice, as the job's checkpoint does."""

    def __init__(self):
        super().__init__()
        self.dice, self.epoch, self.weights = -1.0, None, None

    def on_epoch_end(self, epoch, logs=None):
        if logs["val_dice"] > self.dice:
            self.dice, self.epoch, self.weights = float(logs["val_dice"]), epoch + 1, self.model.get_weights()


def train_one(model_name: str, data: dict[str, Split], *, epochs: int, seed: int, policy: str) -> tuple:
    """Trains one U-Net with the main job's recipe; returns (model, best validation Dice,
    its epoch, training seconds)."""
    keras.utils.set_random_seed(seed)
    keras.config.set_dtype_policy(policy)
    train = FlippedBatches(data["train"], batch_size=BATCH_SIZE, seed=seed)
    model = build_unet(model_name, input_shape=data["train"].images.shape[1:])
    model.compile(optimizer=keras.optimizers.Adam(one_cycle_cosine(LEARNING_RATE, len(train) * epochs),
                                                  clipnorm=CLIP_NORM),
                  loss=BceMinusLogDice(), metrics=[DiceAtThreshold(), MeanImageDice()])
    best = BestWeights()
    started = time.perf_counter()
    validation = data["validation"]
    model.fit(train, epochs=epochs, validation_data=(validation.images, validation.masks),
              validation_batch_size=BATCH_SIZE, callbacks=[best], verbose=0)
    seconds = time.perf_counter() - started
    model.set_weights(best.weights)
    return model, best.dice, best.epoch, seconds


def score(model, data: dict[str, Split]) -> dict:
    """t searched on validation by balanced accuracy, then the test split's figures."""
    maps = {split: model.predict(data[split].images, batch_size=32, verbose=0) for split in ("validation", "test")}
    frame_scores = {split: np.array([rules.frame_score(prob_map) for prob_map in maps[split]])
                    for split in maps}
    curve = threshold.sweep(data["validation"].labels, frame_scores["validation"], threshold.threshold_grid())
    chosen = threshold.best_threshold(curve)
    test = data["test"]
    detection = scores.detection_scores(test.labels, frame_scores["test"], chosen)

    def fake_dice(at):
        dices = [scores.thresholded_dice(prob_map, mask, at) for prob_map, mask in zip(maps["test"], test.masks)]
        return scores.mean_dice(dices, test.labels)["dice_fake"]

    return {"threshold": chosen, "frame_roc_auc": detection["roc_auc"], "recall": detection["recall"],
            "real_flagged": detection["real_flagged"], "fake_dice": fake_dice(chosen), "fake_dice_at_0.5": fake_dice(0.5)}


def run_train(folder: pathlib.Path, *, models, epochs, seeds, precision, backend, output: pathlib.Path) -> dict:
    found_gpu = gpu(backend)
    policy = resolve_policy(precision, backend, found_gpu)
    data = {split: load_exported(folder, split) for split in SPLITS}
    results = {"data": str(folder), "backend": backend, "device": device_description(found_gpu), "policy": policy,
               "recipe": {"learning_rate": LEARNING_RATE, "schedule": "one-cycle cosine", "clip_norm": CLIP_NORM,
                          "batch_size": BATCH_SIZE},
               "examples": {split: int(len(data[split].labels)) for split in SPLITS},
               "targets": TARGETS, "rows": []}
    for model_name in models:
        for budget in sorted(epochs):
            for seed in seeds:
                model, best_dice, best_epoch, seconds = train_one(model_name, data, epochs=budget, seed=seed,
                                                                  policy=policy)
                row = {"model": model_name, "epochs": budget, "seed": seed, "best_val_dice": best_dice,
                       "best_epoch": best_epoch, "train_seconds": round(seconds, 1),
                       "images_per_second": round(budget * len(data["train"].labels) / seconds, 1),
                       **score(model, data)}
                row["targets_met"] = _targets_met(row)
                results["rows"].append(row)
                write_json(results, output)
                print(_row_line(row), flush=True)
    return results


def _targets_met(row: dict) -> bool:
    return (row["fake_dice"] >= TARGETS["fake_dice"] and row["frame_roc_auc"] >= TARGETS["frame_roc_auc"]
            and row["real_flagged"] < TARGETS["real_flagged"])


def _row_line(row: dict) -> str:
    return (f"| {row['model']} | {row['epochs']} | {row['seed']} | {row['best_val_dice']:.3f} ({row['best_epoch']}) "
            f"| {row['threshold']:.2f} | {row['frame_roc_auc']:.3f} | {row['real_flagged']:.3f} | {row['recall']:.3f} "
            f"| {row['fake_dice']:.3f} / {row['fake_dice_at_0.5']:.3f} | {row['train_seconds']:.0f} "
            f"| {'yes' if row['targets_met'] else 'no'} |")


TABLE_HEADER = ("| model | epochs | seed | best validation Dice (epoch) | t | frame ROC-AUC | real flagged | recall "
                "| fake-frame Dice at t / 0.5 | training s | targets met |\n|---|---|---|---|---|---|---|---|---|---|---|")


def parse_flags(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog=PROG, description=__doc__.split("\n\n")[0],
                                     formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    commands = parser.add_subparsers(dest="command", required=True)
    export_flags = commands.add_parser("export", help="write a built config's splits as .npz (needs TensorFlow)",
                                       formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    export_flags.add_argument("--dataset", default="dfdc_masks/synthetic_p40", help="built TFDS config to export")
    export_flags.add_argument("--data-dir", default=None, help="TFDS data dir holding it (None: the TFDS default)")
    export_flags.add_argument("--to", required=True, type=pathlib.Path, help="folder for <split>.npz and export.json")
    train_flags = commands.add_parser("train", help="train and score U-Nets on an export (any Keras backend)",
                                      formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    train_flags.add_argument("--data", required=True, type=pathlib.Path, help="folder written by export")
    train_flags.add_argument("--models", nargs="+", default=["unet"], choices=["unet", "unet_v1"],
                             help="U-Nets to train")
    train_flags.add_argument("--epochs", nargs="+", type=int, default=[8, 32, 128],
                             help="training budgets, each a one-cycle schedule of its own (8: the main job's)")
    train_flags.add_argument("--seeds", nargs="+", type=int, default=[0], help="seeds of each budget")
    train_flags.add_argument("--precision", default="auto",
                             help="dtype policy; auto: mixed_bfloat16 on a GPU or CPU that does bfloat16 natively")
    train_flags.add_argument("--output", type=pathlib.Path, default=pathlib.Path("results/bench_long_training.json"),
                             help="JSON of the settings and one row per model, rewritten after each")
    return parser.parse_args(argv)


def main(argv=None) -> None:
    flags = parse_flags(argv)
    try:
        if flags.command == "export":
            print(json.dumps(export(flags.dataset, flags.data_dir, flags.to), indent=2))
            return
        print(TABLE_HEADER, flush=True)
        run_train(flags.data, models=flags.models, epochs=flags.epochs, seeds=flags.seeds, precision=flags.precision,
                  backend=keras.backend.backend(), output=flags.output)
        print(f"\nwritten {flags.output}")
    except (FileNotFoundError, ValueError, RuntimeError) as error:  # RuntimeError: a config not built
        sys.exit(f"bench_long_training: error: {error}")


if __name__ == "__main__":
    main()
