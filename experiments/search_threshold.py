"""Choose a model's decision threshold t by grid search on a VALIDATION split; store it in its card.

    python -m experiments.search_threshold --model runs/unet/best.keras --dataset dfdc_masks/synthetic

The model runs once over the split; each frame keeps its rule score
(``dfseg_tf.evaluation.rules``: fake at t iff score > t), and t is swept from 0.05
to 0.99 in steps of 0.01 on those scores, keeping the t of highest frame balanced
accuracy (``--criterion f1``: highest F1; ties: the middle of the tied ones; why not
F1 by default: ``dfseg_tf.evaluation.threshold``). The test split is refused: the
study searches on validation, never on test.

Writes into ``--output``: threshold_curve.png (balanced accuracy, F1, precision,
recall and real frames flagged against t), threshold_curve.csv (the same columns and
``threshold``, the t axis), threshold_search.json (the chosen ``decision_threshold``,
the criterion, and the card's previous threshold); and sets
``decision_threshold`` and ``decision_threshold_source`` in the model's card, which
``experiments.evaluate`` and ``dfseg predict`` then use.
"""

import argparse
import csv
import dataclasses
import json
import logging
import pathlib
import sys

from dfseg_tf.data import DatasetNotBuiltError
from dfseg_tf.evaluation import plots, predictions, threshold
from dfseg_tf.models.saved import load_model
from dfseg_tf.sources.entry import TEST, VALIDATION

@dataclasses.dataclass(frozen=True)
class SearchConfig:
    """Defaults of a threshold search; the flags override them."""

    model: str = ""
    dataset: str = "dfdc_masks/synthetic"
    split: str = VALIDATION
    data_dir: str | None = None  # None: the TFDS default data dir
    output: str | None = None  # None: <model stem>_threshold beside the model
    max_videos: int | None = None
    batch_size: int = 16
    grid_start: float = threshold.GRID_START
    grid_stop: float = threshold.GRID_STOP
    grid_step: float = threshold.GRID_STEP
    criterion: str = threshold.CRITERIA[0]

    @property
    def output_dir(self) -> pathlib.Path:
        model = pathlib.Path(self.model)
        return pathlib.Path(self.output) if self.output else model.with_name(f"{model.stem}_threshold")


def run(config: SearchConfig, datasets=None) -> dict:
    """Searches t, writes the curve files and updates the model card.

    Args:
      datasets: optional {spec: dataset} used instead of loading ``config.dataset`` with TFDS.

    Returns:
      The JSON record written to threshold_search.json.
    """
    name, split = predictions.parse_dataset_spec(config.dataset, default_split=config.split)
    if split == TEST:
        raise ValueError(
            f"{name}:{split}: refusing to search the threshold on the test split; "
            f"use the {VALIDATION} split (the study never tunes on test)"
        )
    model, card = load_model(config.model)
    dataset_name, dataset = predictions.load_frames(
        config.dataset, config.data_dir, max_videos=config.max_videos, default_split=config.split, datasets=datasets
    )
    (predicted,) = predictions.predict_with_progress(
        model, card, dataset, [None], description=f"scoring {dataset_name}", batch_size=config.batch_size
    )
    if predicted.frame_count == 0:
        raise ValueError(f"{dataset_name}: no frames to search the threshold on")
    grid = threshold.threshold_grid(config.grid_start, config.grid_stop, config.grid_step)
    curve = threshold.sweep(predicted.labels, predicted.scores, grid)
    chosen = threshold.best_threshold(curve, config.criterion)
    at_chosen = int(abs(curve["threshold"] - chosen).argmin())

    output = config.output_dir
    output.mkdir(parents=True, exist_ok=True)
    _write_curve_csv(curve, output / "threshold_curve.csv")
    plots.plot_threshold_curve(
        curve, chosen, output / "threshold_curve.png", title=f"{pathlib.Path(config.model).name} on {dataset_name}"
    )
    record = {
        "model": str(config.model),
        "dataset": dataset_name,
        "decision_threshold": chosen,
        "criterion": config.criterion,
        **{name: float(curve[name][at_chosen]) for name in _CURVE_COLUMNS[1:]},
        "frames": predicted.frame_count,
        "videos": len(set(predicted.video_ids)),
        "grid": {"start": config.grid_start, "stop": config.grid_stop, "step": config.grid_step},
        "grid_edge_hint": threshold.edge_hint(chosen, grid),
        "previous_decision_threshold": card.decision_threshold,
        "previous_decision_threshold_source": card.decision_threshold_source,
    }
    (output / "threshold_search.json").write_text(json.dumps(record, indent=2) + "\n")
    card.decision_threshold = chosen
    card.decision_threshold_source = dataset_name
    card.save(config.model)
    return record


_CURVE_COLUMNS = ("threshold", "precision", "recall", "f1", "real_flagged", "balanced_accuracy")


def _write_curve_csv(curve: dict, path: pathlib.Path) -> None:
    with path.open("w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(_CURVE_COLUMNS)
        writer.writerows(zip(*(curve[name].tolist() for name in _CURVE_COLUMNS)))


def parse_flags(argv=None) -> SearchConfig:
    """Flags over SearchConfig's defaults; every flag's help states its default."""
    defaults = SearchConfig()
    parser = argparse.ArgumentParser(
        prog="python -m experiments.search_threshold",
        description=__doc__.split("\n\n")[0],
        formatter_class=argparse.ArgumentDefaultsHelpFormatter,
    )
    paths = parser.add_argument_group("model, data and paths")
    paths.add_argument("--model", required=True, help="saved .keras model; its card (.keras.json) is updated")
    paths.add_argument("--dataset", default=defaults.dataset, help="TFDS name (NAME[:SPLIT] also accepted)")
    paths.add_argument("--split", default=defaults.split, help="split to search on; test is refused")
    paths.add_argument("--data-dir", default=defaults.data_dir,
                       help="TFDS data dir holding the built dataset (None: TFDS default, ~/tensorflow_datasets)")
    paths.add_argument("--output", default=defaults.output,
                       help="folder for the curve files (None: <model stem>_threshold beside the model)")
    grid = parser.add_argument_group("grid")
    grid.add_argument("--grid-start", type=float, default=defaults.grid_start, help="lowest t tried")
    grid.add_argument("--grid-stop", type=float, default=defaults.grid_stop, help="highest t tried")
    grid.add_argument("--grid-step", type=float, default=defaults.grid_step, help="step between thresholds")
    grid.add_argument("--criterion", choices=threshold.CRITERIA, default=defaults.criterion,
                      help="what the kept t maximises: balanced_accuracy (mean of the fake frames' recall and "
                           "the real frames' specificity: flagging every frame scores 0.5 whatever the fake "
                           "share) or f1 (counts no true negatives: favours flagging everything where fakes "
                           "are the majority)")
    size = parser.add_argument_group("run size")
    size.add_argument("--max-videos", type=int, default=defaults.max_videos,
                      help="search on the first N videos of the split only (None: all)")
    size.add_argument("--batch-size", type=int, default=defaults.batch_size, help="frames per model call")
    flags = parser.parse_args(argv)
    return SearchConfig(**{name.replace("-", "_"): value for name, value in vars(flags).items()})


def main(argv=None) -> None:
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    config = parse_flags(argv)
    try:
        record = run(config)
    except (ValueError, FileNotFoundError, DatasetNotBuiltError) as error:
        sys.exit(f"search_threshold: error: {error}")
    print(
        f"t = {record['decision_threshold']:g} (highest {record['criterion']}) on {record['dataset']} "
        f"({record['frames']} frames, {record['videos']} videos): balanced accuracy "
        f"{record['balanced_accuracy']:.3f}, F1 {record['f1']:.3f}, precision {record['precision']:.3f}, "
        f"recall {record['recall']:.3f}, real frames flagged {record['real_flagged']:.3f}"
    )
    if record["grid_edge_hint"]:
        print(record["grid_edge_hint"])
    print(f"card updated: {config.model}.json; curve in {config.output_dir}")


if __name__ == "__main__":
    main()
