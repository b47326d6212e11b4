"""Evaluate saved models on ``dfdc_masks`` splits: the study's frame, video and Dice tables.

    python -m experiments.evaluate --models runs/unet/best.keras runs/xception/best.keras \
        --datasets dfdc_masks/dfdc dfdc_masks/faceforensics dfdc_masks/dfd --results results

Each model is applied with the rules of its card (``dfseg_tf.models.card``): a
segmentation model's frame is fake iff its map thresholded at the decision threshold t
has a component of more than 100 pixels, a classifier's iff p > t; a video is fake iff
more than half of its frames are. t is the card's (searched on validation by
``experiments.search_threshold``, else the default 0.5); ``--decision-threshold study``
takes the study's values (Unet 0.95, Unet_v1 0.5, classifiers 0.5), a number sets it for
every model, and ``--study-rows`` adds the U-Nets' rows at the study's t beside the
card's. Every row says where its t came from (``decision_threshold_source``).

Writes into ``--results``: frames / videos / localisation tables as .md, .csv and .json
(localisation: per segmentation model, mean IoU and Dice of the thresholded map over
fake frames, pixel ROC-AUC and AP of the map against the difference masks and, where the
data set has them, the official masks), where a data set's fakes come from several
methods (FaceForensics++) a manipulations table (recall, ROC-AUC against all real
frames and fake-frame Dice per method), the same scores by the share of the face crop
the fakes' difference masks cover (mask_areas: none, < 5%, 5-10%, 10-20%, >= 20%),
precision-recall curves per data set
(pr_frames_*.png, pr_videos_*.png), a sheet of best and worst Dice faces per
segmentation model and data set (examples_*.png), the resolved configuration
(config.json) and README.md with the study's comparisons.
"""

import argparse
import contextlib
import dataclasses
import json
import logging
import math
import pathlib
import shutil
import sys
import tempfile

from dfseg_tf.data import DatasetNotBuiltError
from dfseg_tf.evaluation import plots, predictions, scores, tables
from dfseg_tf.evaluation import decision
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
    decision_threshold: float | str | None = None  # None: each card's t; "study"; or a number for all
    study_rows: bool = False  # also the U-Nets' rows at the study's t
    batch_size: int = 16
    examples: int = 4


def run(config: EvaluateConfig, datasets=None) -> dict:
    """Evaluates every model on every data set and writes the results folder.

    Everything is written into a hidden folder beside ``config.results`` and moved into
    it at the end: a failed evaluation leaves no results folder behind, a killed one at
    most a hidden ``.<name>.incomplete-*`` folder (see ``_published``).

    Returns:
      {"frames": rows, "videos": rows, "localisation": rows, "manipulations": rows,
      "mask_areas": rows, "files": [paths written]}.

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
    rows = {"frames": [], "videos": [], "localisation": [], "manipulations": [], "mask_areas": []}
    pr_curves = {}  # (level, dataset) -> {row name: curve}
    for model_path, model_name in zip(config.models, _model_names(config.models)):
        model, card = load_model(model_path)
        pairs = decision.decision_thresholds(card, config.decision_threshold, study_rows=config.study_rows)
        for spec in config.datasets:
            dataset_name, dataset = predictions.load_frames(spec, config.data_dir, max_videos=config.max_videos, datasets=datasets)
            at_each_t = predictions.predict_with_progress(  # the model runs once for all its t
                model, card, dataset, [decision_threshold for decision_threshold, _ in pairs],
                description=f"{model_name} on {dataset_name}", batch_size=config.batch_size, examples=config.examples,
            )
            for (decision_threshold, source), predicted in zip(pairs, at_each_t):
                name = model_name if len(pairs) == 1 else f"{model_name} (t {source})"
                if predicted.frame_count == 0:
                    raise ValueError(f"{dataset_name}: no frames to evaluate")
                identity = {"model": model_name, "kind": card.kind, "dataset": dataset_name}
                origin = {"decision_threshold": decision_threshold, "decision_threshold_source": source,
                          "trained_on": card.trained_on, "weights": card.weights}
                for level, (row, curve) in _detection_rows(predicted, decision_threshold).items():
                    rows[level].append({**identity, **row, **origin})
                    pr_curves.setdefault((level, dataset_name), {})[name] = curve
                rows["manipulations"] += [
                    {**identity, **row, **origin} for row in _manipulation_rows(predicted, decision_threshold)
                ]
                rows["mask_areas"] += [{**identity, **row, **origin} for row in scores.per_mask_area(
                    predicted.labels, predicted.scores, predicted.mask_areas, decision_threshold, predicted.dices)]
                if card.kind == SEGMENTATION:
                    rows["localisation"].append({**identity, **localisation_scores(predicted), **origin})
                    files.append(plots.plot_example_sheet(
                        predicted.best, predicted.worst,
                        results / f"examples_{_slug(name)}_{_slug(dataset_name)}.png",
                        title=f"{model_name} on {dataset_name}: best and worst Dice (t = {decision_threshold:.2f}, {source})",
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
    for name, columns in (
        ("frames", tables.FRAME_COLUMNS), ("videos", tables.VIDEO_COLUMNS), ("localisation", tables.LOCALISATION_COLUMNS)
    ):
        files += tables.write_table(rows[name], columns, results, name)
    for name, columns in (("manipulations", tables.MANIPULATION_COLUMNS), ("mask_areas", tables.MASK_AREA_COLUMNS)):
        if rows[name]:
            files += tables.write_table(rows[name], columns, results, name)
    readme = results / "README.md"
    readme.write_text(tables.results_readme(rows["frames"], rows["videos"], rows["localisation"]))
    return files + [readme]


def localisation_scores(predicted: predictions.FramePredictions) -> dict:
    """Localisation of one segmentation model on one split: IoU and Dice at t over fake
    frames (Dice also over all frames), pixel ROC-AUC and AP of the maps of fake frames
    against the difference masks and, where there are any, the official masks."""
    fake = predicted.labels == scores.FAKE_LABEL
    result = {
        "iou_fake": float(predicted.ious[fake].mean()) if fake.any() else math.nan,
        **scores.mean_dice(predicted.dices, predicted.labels),
        "official_frames": predicted.official_frames,
    }
    for reference, prefix in (("mask", "pixel"), (predictions.OFFICIAL_MASK, "official_pixel")):
        histograms = predicted.pixel_histograms.get(reference)
        result[f"{prefix}_roc_auc"] = math.nan if histograms is None else scores.binned_roc_auc(histograms)
        result[f"{prefix}_ap"] = math.nan if histograms is None else scores.binned_average_precision(histograms)
    return result


def _manipulation_rows(predicted: predictions.FramePredictions, threshold: float) -> list[dict]:
    """``scores.per_manipulation`` where the split's fakes come from two sources or more;
    none otherwise (the frames row already says it all)."""
    rows = scores.per_manipulation(predicted.labels, predicted.scores, predicted.sources, threshold, predicted.dices)
    return rows if len(rows) > 1 else []


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
    rules_group.add_argument("--decision-threshold", "--threshold", dest="decision_threshold",
                             default=defaults.decision_threshold,
                             help="decision threshold t: 'study' (Unet 0.95, Unet_v1 0.5, classifiers 0.5) or a "
                                  "number for EVERY model (None: each model card's t, searched on validation)")
    rules_group.add_argument("--study-rows", action=argparse.BooleanOptionalAction, default=defaults.study_rows,
                             help="also evaluate the U-Nets at the study's t, in rows beside the card's t")
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
    try:
        values["decision_threshold"] = decision.parse_decision_threshold(values["decision_threshold"])
    except ValueError as error:
        parser.error(str(error))
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
    """Prints the study's table per data set, then the localisation, manipulation and
    mask-area tables of ``run``'s result."""
    for dataset, rows in tables.study_tables(result["frames"], result["videos"]).items():
        print(f"\nThe study's table on {dataset}\n" + tables.markdown_table(rows, tables.STUDY_COLUMNS))
    if result["localisation"]:
        print("Localisation\n" + tables.markdown_table(result["localisation"], tables.LOCALISATION_COLUMNS))
    if result["manipulations"]:
        print("By manipulation method\n" + tables.markdown_table(result["manipulations"], tables.MANIPULATION_COLUMNS))
    if result["mask_areas"]:
        print("By the share of the face crop the difference mask covers\n"
              + tables.markdown_table(result["mask_areas"], tables.MASK_AREA_COLUMNS))


if __name__ == "__main__":
    main()
