"""A whole `dfseg predict` run: every input, its files under one output folder, the summary."""

import pathlib
from collections.abc import Callable

from dfseg_tf.predict.inputs import InputItem
from dfseg_tf.predict.predictor import Predictor
from dfseg_tf.predict.report import SUMMARY_NAME, InputReport, write_summary_csv


def predict_all(
    items: list[InputItem],
    predictor: Predictor,
    output_dir: pathlib.Path,
    *,
    on_report: Callable[[InputReport], None] | None = None,
) -> list[InputReport]:
    """Predicts on every item; one bad input never stops the others.

    Writes ``<name>.json`` (and the overlay) per input and ``summary.csv``, rewritten
    after each input so an interrupted run keeps the rows it has.

    Args:
      items: from ``collect_inputs``.
      predictor: the loaded model and detector.
      output_dir: created if needed.
      on_report: called with each report as soon as it is written (progress output).

    Returns:
      The reports, in the order of ``items``.
    """
    output_dir.mkdir(parents=True, exist_ok=True)
    reports = []
    for item, stem in zip(items, output_stems(items, output_dir)):
        report = predictor.predict(item, stem)
        report.write_json(stem.with_name(stem.name + ".json"))
        reports.append(report)
        write_summary_csv(reports, output_dir / SUMMARY_NAME)
        if on_report is not None:
            on_report(report)
    return reports


def output_stems(items: list[InputItem], output_dir: pathlib.Path) -> list[pathlib.Path]:
    """``output_dir/<file name>`` per item, ``-2``, ``-3``... added when two inputs share a name."""
    stems, used = [], set()
    for item in items:
        name, copy = item.path.name or "input", 1
        while name in used:
            copy += 1
            name = f"{item.path.name}-{copy}"
        used.add(name)
        stems.append(output_dir / name)
    return stems
