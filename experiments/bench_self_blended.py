"""What self-blended training buys: U-Nets trained on difference masks, self-blended fakes, or both,
scored on data sets none of them saw.

    python -m experiments.bench_self_blended --ffpp /data/FaceForensics++ --frames 4 --epochs 3

Three U-Nets are trained with ``experiments.train_unet`` on the miniature DFDC-shaped
corpus (``dfdc_masks/synthetic``, ``--corpus-parts`` DFDC parts), or with ``--train-ffpp``
on the train split of a real FaceForensics++ folder: (a) its difference masks, (b)
``self_blended`` made from its real videos alone, (c) both (``--dataset a+b``).
Each is scored on the miniature FaceForensics++, DFD and Celeb-DF corpora (every split), on a real
FaceForensics++ c23 folder in the official layout when ``--ffpp`` is given, and in
domain on the test split of what (a) trained on: frame ROC-AUC (the frame rule's score, so no
threshold is involved) and the mean per-image Dice of the map at 0.5 over fake frames,
against the data set's difference masks. Two masks that know nothing of the fake are the
references a model must beat to be localising anything: the whole crop, and the ellipse
of the face box the crop margin implies (an "all-face" mask). With several ``--seeds`` the
three models are trained once per seed, and the summary gives each cell's mean and range
over the seeds and, per data set not trained on, in how many seeds (b) and (c) beat (a)'s
frame ROC-AUC: one seed is one draw, and at this size the seed can decide. Every corpus,
build and run is kept under ``--work-dir`` and reused, so a rerun only does what is missing.
"""

import argparse
import functools
import json
import pathlib
import time

import cv2
import numpy as np
import tensorflow as tf
import tensorflow_datasets as tfds

from dfseg_tf.corpus import CorpusSpec, write_dfd_corpus, write_faceforensics_corpus
from dfseg_tf.corpus.celebdf import write_celebdf_corpus
from dfseg_tf.data import load_split
from dfseg_tf.evaluation import predictions, scores, tables
from dfseg_tf.extraction import ExtractionConfig
from dfseg_tf.extraction.self_blend import centred_face_box
from dfseg_tf.models.saved import load_model
from dfseg_tf.records.plan import MIN_SYNTHETIC_PARTS, SYNTHETIC_PARTS
from dfseg_tf.sources.faceforensics import COMPRESSIONS
from dfseg_tf.training.config import LR_SCHEDULES
from dfseg_tf.training.run_folder import RunFolder
from experiments import tfds_build, train_unet
from experiments.bench_output import write_and_print

MINIATURES = {"faceforensics": write_faceforensics_corpus, "dfd": write_dfd_corpus, "celebdf": write_celebdf_corpus}
TRAINED_ON = {"difference_masks": ("difference",), "self_blended": ("self_blended",),
              "both": ("difference", "self_blended")}
BASELINE = "difference_masks"  # (a): what self-blended training must beat on the data sets it was not trained on
IN_DOMAIN = " (in domain)"  # ends the name of the test split of what (a) trained on
VALIDATION_BATCHES_FROM_TRAIN = 4  # where the training folder has no validation split (e.g. splits/val.json is [])
DICE_THRESHOLD = 0.5
REFERENCE_MASKS = ("all-crop mask", "face-ellipse mask")


def build_configs(frames: int, parts: int, with_ffpp: bool, train_compression: str | None = None,
                  blend_frames: int | None = None) -> dict[str, dict]:
    """Short name -> the JSON ``--config`` of each data set the benchmark reads.

    The two trained on, ``difference`` and ``self_blended``, read the synthetic corpus of
    ``parts`` DFDC parts, or with ``train_compression`` a real FaceForensics++ folder at that
    quality; their names say which, so builds of different sources and sizes never take each
    other's records. ``self_blended`` samples ``blend_frames`` frames a video (None: ``frames``).
    """
    if train_compression is None:
        trained_on = {"difference": {"dataset": "synthetic", "corpus_parts": parts},
                      "self_blended": {"dataset": "self_blended", "reals_of": "synthetic", "corpus_parts": parts}}
    else:
        trained_on = {"difference": {"dataset": "faceforensics", "compression": train_compression},
                      "self_blended": {"dataset": "self_blended", "reals_of": "faceforensics",
                                       "compression": train_compression}}
    configs = {**trained_on, **{f"{layout}_mini": {"dataset": layout} for layout in MINIATURES}}
    if with_ffpp:
        configs["ffpp_real"] = {"dataset": "faceforensics"}
    frames_of = {short: frames for short in configs} | {"self_blended": blend_frames or frames}
    source = f"_p{parts}" if train_compression is None else f"_ffpp_{train_compression}"

    def name(short):
        return f"bench_{short}{source if short in trained_on else ''}_f{frames_of[short]}"

    return {short: {"name": name(short), "frames_per_video": frames_of[short], **config}
            for short, config in configs.items()}


def prepare_data(args) -> dict[str, str]:
    """Writes the miniature corpora and builds every data set once; short name -> TFDS name."""
    work = pathlib.Path(args.work_dir)
    manual_dirs = {f"{layout}_mini": _miniature(work / "corpora" / layout, write) for layout, write in MINIATURES.items()}
    if args.ffpp:
        manual_dirs["ffpp_real"] = pathlib.Path(args.ffpp)
    if args.train_ffpp:
        manual_dirs["difference"] = manual_dirs["self_blended"] = pathlib.Path(args.train_ffpp)
    configs = build_configs(args.frames, args.corpus_parts, bool(args.ffpp),
                            args.train_compression if args.train_ffpp else None, args.blend_frames)
    names = {}
    for short, config in configs.items():
        extra = ["--manual_dir", str(manual_dirs[short])] if short in manual_dirs else []
        tfds_build.build(json.dumps(config), work / "tfds", download_dir=work / "downloads", extra_args=extra,
                         capture=not args.verbose)
        names[short] = f"{tfds_build.BUILDER_NAME}/{config['name']}"
    return names


def _miniature(root: pathlib.Path, write) -> pathlib.Path:
    done = root / "WRITTEN"
    if not done.exists():
        write(root, CorpusSpec())
        done.write_text("written by experiments.bench_self_blended\n")
    return root


def train_models(args, names: dict[str, str], seed: int) -> dict[str, dict]:
    """Trains (or reuses) one U-Net per variant from ``seed``; variant -> {model path, seconds, trained_on}."""
    work = pathlib.Path(args.work_dir)
    validation_split, max_val_batches = validation_of(names["difference"], work / "tfds")
    source = (f"ffpp_{args.train_compression}_f{args.frames}_b{args.blend_frames or args.frames}" if args.train_ffpp
              else f"p{args.corpus_parts}_f{args.frames}")
    trained = {}
    for variant, datasets in TRAINED_ON.items():
        settings = (f"{args.model}_{source}_e{args.epochs}_lr{args.learning_rate:g}"
                    f"_{args.lr_schedule}_clip{args.clip_norm}_seed{seed}")
        run_dir = work / "runs" / f"{variant}_{settings}"
        config = train_unet.TrainConfig(
            model=args.model, dataset="+".join(names[short] for short in datasets), data_dir=str(work / "tfds"),
            output_dir=str(run_dir), epochs=args.epochs, batch_size=args.batch_size, precision=args.precision,
            learning_rate=args.learning_rate, lr_schedule=args.lr_schedule, clip_norm=args.clip_norm,
            seed=seed, max_train_batches=args.max_train_batches, verbose=2 if args.verbose else 0,
            validation_split=validation_split, max_val_batches=max_val_batches,
        )
        started = time.process_time()
        run_folder = RunFolder(run_dir)
        if not run_folder.finished:
            train_unet.run(config)
        results = json.loads(run_folder.results_path.read_text())
        trained[variant] = {
            "model": str(run_dir / "best.keras"), "trained_on": config.dataset,
            "cpu_seconds_this_call": round(time.process_time() - started, 1),
            "best_val_dice": results.get("best_val_dice"), "validated_on": validation_split,
        }
    return trained


def validation_of(name: str, data_dir) -> tuple[str, int | None]:
    """(split, batch limit) the models validate on: ``name``'s validation split, or where it has
    none (a FaceForensics++ folder whose ``splits/val.json`` is empty) the first few training batches."""
    splits = tfds.builder(name, data_dir=str(data_dir)).info.splits
    if "validation" in splits and splits["validation"].num_examples:
        return "validation", None
    return "train", VALIDATION_BATCHES_FROM_TRAIN


def evaluation_sets(names: dict[str, str], data_dir, source: str) -> dict[str, tuple[str, list[str]]]:
    """Short name -> (TFDS name, splits): every split of the data sets not trained on, and the test split
    of what (a) trained on, named after its ``source``."""
    sets = {source + IN_DOMAIN: (names["difference"], ["test"])}
    for short, name in names.items():
        if short not in ("difference", "self_blended"):
            splits = tfds.builder(name, data_dir=data_dir).info.splits
            sets[short] = (name, [split for split in ("train", "validation", "test") if split in splits])
    return sets


def face_ellipse(size: int, margin: float = ExtractionConfig.margin) -> np.ndarray:
    """A (size, size, 1) mask of the ellipse inscribed in the face box a crop of ``margin`` implies."""
    x, y, width, height = centred_face_box(size, margin)
    mask = np.zeros((size, size), np.uint8)
    cv2.ellipse(mask, (round(x + width / 2), round(y + height / 2)), (round(width / 2), round(height / 2)),
                0, 0, 360, 1, thickness=-1)
    return mask[..., None]


def reference_dices(dataset) -> dict[str, float]:
    """Mean fake-frame Dice of masks that know nothing of the fake: the whole crop, the face ellipse."""
    masks = [ex["mask"] for ex in tfds.as_numpy(dataset) if ex["label"] == scores.FAKE_LABEL]
    if not masks:
        return dict.fromkeys(REFERENCE_MASKS, float("nan"))
    references = {"all-crop mask": np.ones_like(masks[0]), "face-ellipse mask": face_ellipse(masks[0].shape[0])}
    return {name: float(np.mean([scores.dice_score(reference, mask) for mask in masks]))
            for name, reference in references.items()}


def evaluate(trained: dict[int, dict], sets: dict, data_dir, batch_size: int) -> list[dict]:
    """One row per seed, model and evaluation set, and one per reference mask and set."""
    models = {seed: {variant: load_model(run["model"]) for variant, run in runs.items()}
              for seed, runs in trained.items()}
    rows = []
    for set_name, (name, splits) in sets.items():
        dataset = functools.reduce(tf.data.Dataset.concatenate, [load_split(name, split, data_dir) for split in splits])
        rows += [{"model": reference, "dataset": set_name, "frame_roc_auc": None, "fake_dice": round(dice, 4)}
                 for reference, dice in reference_dices(dataset).items()]
        for seed, seed_models in models.items():
            for variant, (model, card) in seed_models.items():
                predicted = predictions.predict_frames(model, card, dataset, threshold=DICE_THRESHOLD,
                                                       batch_size=batch_size, examples=0)
                detection = scores.detection_scores(predicted.labels, predicted.scores, DICE_THRESHOLD)
                dice = scores.mean_dice(predicted.dices, predicted.labels)
                rows.append({
                    "model": variant, "seed": seed, "dataset": set_name,
                    "frame_roc_auc": round(detection["roc_auc"], 4), "fake_dice": round(dice["dice_fake"], 4),
                    "frames": dice["frames"], "fake_frames": dice["fake_frames"],
                })
    return rows


def summarise_seeds(rows: list[dict]) -> list[dict]:
    """Per model and data set, over the seeds: mean, min and max of frame ROC-AUC and of fake-frame Dice.

    Reference-mask rows (no seed) are left out: they do not depend on training.
    """
    cells = {}
    for row in rows:
        if "seed" in row:
            cells.setdefault((row["model"], row["dataset"]), []).append(row)
    summary = []
    for (model, dataset), cell_rows in cells.items():
        entry = {"model": model, "dataset": dataset, "seeds": sorted(row["seed"] for row in cell_rows)}
        for metric in ("frame_roc_auc", "fake_dice"):
            values = np.array([row[metric] for row in cell_rows], dtype=np.float64)
            entry[metric] = {"mean": round(float(values.mean()), 4), "min": float(values.min()),
                             "max": float(values.max())}
        summary.append(entry)
    return summary


def seeds_beating_baseline(rows: list[dict], baseline: str = BASELINE) -> list[dict]:
    """Per challenger model and data set not trained on: in how many seeds its frame ROC-AUC is above
    ``baseline``'s (a tie is not a win), of the seeds both were scored in."""
    auc = {(row["model"], row["seed"], row["dataset"]): row["frame_roc_auc"] for row in rows if "seed" in row}
    challengers = [model for model in TRAINED_ON if model != baseline]
    datasets = list(dict.fromkeys(dataset for _, _, dataset in auc if not dataset.endswith(IN_DOMAIN)))
    seeds = sorted({seed for _, seed, _ in auc})
    counts = []
    for model in challengers:
        for dataset in datasets:
            pairs = [(auc[model, seed, dataset], auc[baseline, seed, dataset]) for seed in seeds
                     if (model, seed, dataset) in auc and (baseline, seed, dataset) in auc]
            counts.append({"model": model, "dataset": dataset, "seeds": len(pairs),
                           "wins": sum(challenger > base for challenger, base in pairs)})
    return counts


def print_table(results: dict) -> None:
    rows = results["rows"]
    seeds = sorted({row["seed"] for row in rows if "seed" in row})
    for seed in seeds:
        cells = {(row["model"], row["dataset"]): _cell(row) for row in rows if row.get("seed", seed) == seed}
        _print_grid(f"frame ROC-AUC / fake-frame Dice at 0.5, seed {seed}, by training data (rows) and "
                    "evaluation data (columns)", cells)
    if len(seeds) > 1:
        cells = {(row["model"], row["dataset"]): _cell(row) for row in rows if "seed" not in row}
        cells.update({(entry["model"], entry["dataset"]): " / ".join(_mean_and_range(entry[metric])
                                                                     for metric in ("frame_roc_auc", "fake_dice"))
                      for entry in results["summary"]})
        _print_grid(f"mean [min, max] over seeds {', '.join(map(str, seeds))}: frame ROC-AUC / fake-frame Dice", cells)
        wins = {(count["model"], count["dataset"]): f"{count['wins']} of {count['seeds']}"
                for count in results["seeds_beating_baseline"]}
        _print_grid(f"seeds in which the row's frame ROC-AUC is above ({BASELINE})'s, on data not trained on", wins)


def _cell(row: dict) -> str:
    auc = "-" if row["frame_roc_auc"] is None else f"{row['frame_roc_auc']:.3f}"
    return f"{auc} / {row['fake_dice']:.3f}"


def _mean_and_range(statistics: dict) -> str:
    return f"{statistics['mean']:.3f} [{statistics['min']:.3f}, {statistics['max']:.3f}]"


def _print_grid(title: str, cells: dict[tuple[str, str], str]) -> None:
    """One row per model, one column per data set, in first-seen order (``n/a`` where a cell is missing)."""
    datasets = list(dict.fromkeys(dataset for _, dataset in cells))
    rows = {}
    for (model, dataset), cell in cells.items():
        rows.setdefault(model, {"trained on": model})[dataset] = cell
    print(f"{title}\n\n" + tables.markdown_table(rows.values(), ["trained on", *datasets]))


def run(args) -> dict:
    started = time.process_time()
    names = prepare_data(args)
    trained = {seed: train_models(args, names, seed) for seed in args.seeds}
    data_dir = str(pathlib.Path(args.work_dir) / "tfds")
    source = "ffpp_train" if args.train_ffpp else "synthetic"
    rows = evaluate(trained, evaluation_sets(names, data_dir, source), data_dir, args.batch_size)
    return {
        "settings": {key: value for key, value in vars(args).items() if key != "output"},
        "datasets": names, "models": {str(seed): runs for seed, runs in trained.items()}, "rows": rows,
        "summary": summarise_seeds(rows), "seeds_beating_baseline": seeds_beating_baseline(rows),
        "cpu_seconds": round(time.process_time() - started, 1),
    }


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m experiments.bench_self_blended", description=__doc__.split("\n\n")[0],
                                     formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    paths = parser.add_argument_group("paths")
    paths.add_argument("--work-dir", default="runs/bench_self_blended",
                       help="corpora, TFDS records and training runs, reused by a rerun")
    paths.add_argument("--ffpp", default=None,
                       help="a FaceForensics++ c23 folder in the official layout to evaluate on (None: skipped)")
    paths.add_argument("--train-ffpp", default=None,
                       help="train on a real FaceForensics++ folder in the official layout instead of the "
                            "miniature corpus: its splits/train.json pairs ((a) their difference masks, (b) "
                            "self-blends of their originals), in domain its splits/test.json pairs; where "
                            "splits/val.json is empty the models validate on their first "
                            f"{VALIDATION_BATCHES_FROM_TRAIN} training batches; one --work-dir per folder, "
                            "since the records are named after the settings, not the folder (None: the "
                            "miniature corpus)")
    paths.add_argument("--train-compression", default="c23", choices=COMPRESSIONS,
                       help="the quality folder --train-ffpp is read from")
    paths.add_argument("--output", default="results/bench_self_blended.json", help="JSON results file")
    size = parser.add_argument_group("run size")
    size.add_argument("--corpus-parts", type=int, default=SYNTHETIC_PARTS,
                      help=f"DFDC parts of the miniature DFDC-shaped corpus (a), (b) and (c) train on, at least "
                           f"{MIN_SYNTHETIC_PARTS} ({SYNTHETIC_PARTS}: the synthetic config's; the main job uses 40)")
    size.add_argument("--frames", type=int, default=4, help="frames sampled per video in every data set")
    size.add_argument("--blend-frames", type=int, default=None,
                      help="frames sampled per real video for self_blended, each giving a real and a blended "
                           "example (None: --frames)")
    size.add_argument("--epochs", type=int, default=3, help="training epochs of each U-Net")
    size.add_argument("--model", default="unet_v1", choices=("unet", "unet_v1"), help="U-Net configuration")
    size.add_argument("--batch-size", type=int, default=16, help="training and prediction batch")
    size.add_argument("--learning-rate", type=float, default=1e-4,
                      help="Adam learning rate (the study's; 5e-4 made unet_v1 collapse to empty maps at epoch 4), "
                           "the peak of a cosine schedule")
    size.add_argument("--lr-schedule", default="constant", choices=LR_SCHEDULES,
                      help="constant: --learning-rate throughout (the study's); cosine: train_unet's one-cycle "
                           "warm-up and cosine decay (the main job's, at 1e-3)")
    size.add_argument("--clip-norm", type=float, default=None,
                      help="clip each gradient to this L2 norm (None: no clipping; the main job clips at 1.0)")
    size.add_argument("--max-train-batches", type=int, default=None, help="batches per epoch (None: all)")
    size.add_argument("--precision", default="auto", help="dtype policy, as train_unet's --precision")
    size.add_argument("--seeds", "--seed", type=int, nargs="+", default=[0],
                      help="seeds of weights, shuffling and mixing: the three models are trained once per seed, "
                           "and several seeds add a summary (mean and range per cell, and the seeds in which (b) "
                           "and (c) beat (a) on the data sets not trained on)")
    size.add_argument("--verbose", action="store_true", help="show the builds' and fits' output")
    return parser


def main(argv=None) -> None:
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.corpus_parts < MIN_SYNTHETIC_PARTS:
        parser.error(f"--corpus-parts must be at least {MIN_SYNTHETIC_PARTS}")
    write_and_print(run(args), args.output, print_table)


if __name__ == "__main__":
    main()
