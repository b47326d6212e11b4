"""Evaluate saved models on ``dfdc_masks`` splits: the study's frame, video and Dice tables.

    python -m experiments.evaluate --models runs/unet/best.keras runs/xception/best.keras \
        --datasets dfdc_masks/dfdc dfdc_masks/faceforensics dfdc_masks/dfd --results results

Each model is applied with the rules of its card (``dfseg_tf.models.card``): a
segmentation model's frame is fake iff its map thresholded at the card's t has a
component of more than 100 pixels, a classifier's iff p > t; a video is fake iff more
than half of its frames are. ``--threshold`` overrides every card's t.

Writes into ``--results``: frames / videos / dice tables as .md, .csv and .json,
precision-recall curves per data set (pr_frames_*.png, pr_videos_*.png), a sheet of
best and worst Dice faces per segmentation model and data set (examples_*.png), the
resolved configuration (config.json) and README.md with the study's comparisons.
"""

import argparse
import contextlib
import dataclasses
import json
import logging
import pathlib
import shutil
import sys
import tempfile

from tqdm import tqdm

from dfseg_tf.data import DatasetNotBuiltError, load_split
from dfseg_tf.evaluation import plots, predictions, scores, tables
from dfseg_tf.models.card import SEGMENTATION
from dfseg_tf.models.saved import load_model

@dataclasses.dataclass(frozen=True)
class EvaluateConfig:
    """Defaults of an evaluation; the flags override them."""

    models: tuple[str, ...] = ()
    datasets: tuple[str, ...] = ("dfdc_masks/synthetic",)
    data_dir: str | None = None  # None: the TFDS default data dir
    results: str = "results"
    max_videos: int | None = None
    threshold: float | None = None  # None: each model card's threshold
    batch_size: int = 16
    examples: int = 4


def load_frames(spec: str, data_dir, *, max_videos=None, default_split=predictions.DEFAULT_SPLIT, datasets=None):
    """(``name:split``, example dataset) for a ``NAME[:SPLIT]`` spec, restricted to ``max_videos``.

    ``datasets`` maps specs to ready datasets (tests, notebooks); others are loaded with TFDS.
    """
    name, split = predictions.parse_dataset_spec(spec, default_split=default_split)
    label = f"{name}:{split}"
    if datasets is not None and spec in datasets:
        dataset = datasets[spec]
    else:
        dataset = load_split(name, split, data_dir)
    if max_videos:
        dataset = predictions.first_videos(dataset, max_videos)
    return label, dataset


def predict_with_progress(model, card, dataset, *, description, **options) -> predictions.FramePredictions:
    """``predictions.predict_frames`` under a tqdm bar counting frames."""
    total = int(dataset.cardinality())
    with tqdm(total=total if total >= 0 else None, desc=description, unit="frame") as bar:
        return predictions.predict_frames(model, card, dataset, on_batch=bar.update, **options)


def run(config: EvaluateConfig, datasets=None) -> dict:
    """Evaluates every model on every data set and writes the results folder.

    Everything is written into a hidden folder beside ``config.results`` and moved into
    it at the end: a failed evaluation leaves no results folder behind, a killed one at
    most a hidden ``.<name>.incomplete-*`` folder (see ``_published``).

    Returns:
      {"frames": rows, "videos": rows, "dice": rows, "files": [paths written]}.

    Raises:
      ValueError: ``max_videos`` is below 1, a data set has no frames, or a model is unusable.
    """
    if config.max_videos is not None and config.max_videos < 1:
        raise ValueError(f"max_videos must be at least 1 (or None for all videos), got {config.max_videos}")
    results = pathlib.Path(config.results)
    with _published(results) as written:
        rows, files = _evaluate_into(written, config, datasets)
    return {**rows, "files": [str(results / path.relative_to(written)) for path in files]}


def _evaluate_into(results: pathlib.Path, config: EvaluateConfig, datasets) -> tuple[dict, list[pathlib.Path]]:
    """The rows of every table and the files written into ``results``."""
    (results / "config.json").write_text(json.dumps(dataclasses.asdict(config), indent=2) + "\n")
    files = [results / "config.json"]
    rows = {"frames": [], "videos": [], "dice": []}
    pr_curves = {}  # (level, dataset) -> {model name: curve}
    for model_path, model_name in zip(config.models, _model_names(config.models)):
        model, card = load_model(model_path)
        threshold = card.threshold if config.threshold is None else config.threshold
        for spec in config.datasets:
            dataset_name, dataset = load_frames(spec, config.data_dir, max_videos=config.max_videos, datasets=datasets)
            predicted = predict_with_progress(
                model, card, dataset,
                description=f"{model_name} on {dataset_name}",
                threshold=threshold, batch_size=config.batch_size, examples=config.examples,
            )
            if predicted.frame_count == 0:
                raise ValueError(f"{dataset_name}: no frames to evaluate")
            identity = {"model": model_name, "kind": card.kind, "dataset": dataset_name}
            origin = {"threshold": threshold, "trained_on": card.trained_on, "weights": card.weights}
            for level, (row, curve) in _detection_rows(predicted, threshold).items():
                rows[level].append({**identity, **row, **origin})
                pr_curves.setdefault((level, dataset_name), {})[model_name] = curve
            if card.kind == SEGMENTATION:
                rows["dice"].append(
                    {**identity, **scores.mean_dice(predicted.dices, predicted.labels), "threshold": threshold}
                )
                files.append(plots.plot_example_sheet(
                    predicted.best, predicted.worst,
                    results / f"examples_{_slug(model_name)}_{_slug(dataset_name)}.png",
                    title=f"{model_name} on {dataset_name}: best and worst Dice (t = {threshold:.2f})",
                ))
    files += _write_results(results, rows, pr_curves)
    return rows, files


@contextlib.contextmanager
def _published(results: pathlib.Path):
    """A fresh hidden folder beside ``results`` to write into; its files move into ``results``
    when the block succeeds (replacing same-named files), and it is deleted either way."""
    results.parent.mkdir(parents=True, exist_ok=True)
    staging = pathlib.Path(tempfile.mkdtemp(prefix=f".{results.name}.incomplete-", dir=results.parent))
    try:
        yield staging
        results.mkdir(exist_ok=True)
        for path in staging.iterdir():
            path.replace(results / path.name)
    finally:
        shutil.rmtree(staging, ignore_errors=True)


def _write_results(results: pathlib.Path, rows: dict, pr_curves: dict) -> list[pathlib.Path]:
    """The tables, the precision-recall plots and README.md."""
    files = []
    for (level, dataset_name), curves in pr_curves.items():
        files.append(plots.plot_pr_curves(
            curves, results / f"pr_{level}_{_slug(dataset_name)}.png", title=f"{level}: {dataset_name}"
        ))
    for name, columns in (("frames", tables.FRAME_COLUMNS), ("videos", tables.VIDEO_COLUMNS), ("dice", tables.DICE_COLUMNS)):
        files += tables.write_table(rows[name], columns, results, name)
    readme = results / "README.md"
    readme.write_text(tables.results_readme(rows["frames"], rows["videos"], rows["dice"]))
    return files + [readme]


def _detection_rows(predicted: predictions.FramePredictions, threshold: float) -> dict:
    """{"frames": (row, precision-recall curve), "videos": (row, curve)} of one model on one split."""
    _, video_labels, video_scores = scores.per_video(predicted.video_ids, predicted.labels, predicted.scores)
    levels = {}
    for level, labels, level_scores in (
        ("frames", predicted.labels, predicted.scores),
        ("videos", video_labels, video_scores),
    ):
        result = scores.detection_scores(labels, level_scores, threshold)
        row = {**_without_counts(result), level: result["count"], f"fake_{level}": result["fake_count"]}
        levels[level] = (row, scores.precision_recall_points(labels, level_scores))
    return levels


def _without_counts(result: dict) -> dict:
    return {key: value for key, value in result.items() if key not in ("count", "fake_count")}


def _model_names(model_paths) -> list[str]:
    """File stems; the parent folder is prefixed where two models share a stem."""
    paths = [pathlib.Path(path) for path in model_paths]
    stems = [path.stem for path in paths]
    return [
        f"{path.parent.name}/{path.stem}" if stems.count(path.stem) > 1 else path.stem for path in paths
    ]


def _at_least_one(text: str) -> int:
    """argparse type of a count that must be 1 or more (0 would silently mean "all")."""
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, got {value}")
    return value


def _slug(text: str) -> str:
    return "".join(character if character.isalnum() or character in "-_." else "_" for character in text)


def parse_flags(argv=None) -> EvaluateConfig:
    """Flags over EvaluateConfig's defaults; every flag's help states its default."""
    defaults = EvaluateConfig()
    parser = argparse.ArgumentParser(
        prog="python -m experiments.evaluate",
        description=__doc__.split("\n\n")[0],
        formatter_class=argparse.ArgumentDefaultsHelpFormatter,
    )
    paths = parser.add_argument_group("models, data and paths")
    paths.add_argument("--models", nargs="+", required=True,
                       help="saved .keras models, each with its card (.keras.json) beside it")
    paths.add_argument("--datasets", nargs="+", default=list(defaults.datasets),
                       help="TFDS NAME[:SPLIT] to evaluate on; the split defaults to test")
    paths.add_argument("--data-dir", default=defaults.data_dir,
                       help="TFDS data dir holding the built datasets (None: TFDS default, ~/tensorflow_datasets)")
    paths.add_argument("--results", default=defaults.results, help="folder for tables, plots and README.md")
    rules_group = parser.add_argument_group("rules")
    rules_group.add_argument("--threshold", type=float, default=defaults.threshold,
                             help="frame threshold t for EVERY model (None: each model card's threshold)")
    size = parser.add_argument_group("run size")
    size.add_argument("--max-videos", type=_at_least_one, default=defaults.max_videos,
                      help="evaluate only the first N videos of each split (None: all)")
    size.add_argument("--batch-size", type=int, default=defaults.batch_size, help="frames per model call")
    size.add_argument("--examples", type=int, default=defaults.examples,
                      help="best and worst Dice faces each on the example sheet")
    flags = parser.parse_args(argv)
    values = {name.replace("-", "_"): value for name, value in vars(flags).items()}
    values["models"] = tuple(values["models"])
    values["datasets"] = tuple(values["datasets"])
    return EvaluateConfig(**values)


def main(argv=None) -> None:
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    config = parse_flags(argv)
    try:
        result = run(config)
    except (ValueError, FileNotFoundError, DatasetNotBuiltError) as error:
        sys.exit(f"evaluate: error: {error}")
    print_tables(result)
    print(f"Results in {config.results} (README.md has the study's comparisons)")


def print_tables(result: dict) -> None:
    """Prints the frame and video tables of ``run``'s result."""
    print("\nFrames\n" + tables.markdown_table(result["frames"], tables.FRAME_COLUMNS))
    print("Videos\n" + tables.markdown_table(result["videos"], tables.VIDEO_COLUMNS))


if __name__ == "__main__":
    main()
