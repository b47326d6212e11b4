"""Everything of one training run lives under one folder.

::

    <run>/config.json      resolved configuration (defaults, then flags)
    <run>/best.keras       best model by validation Dice, with best.keras.json (ModelCard)
    <run>/backup/          BackupAndRestore state: rerunning resumes an interrupted run
    <run>/logs/            TensorBoard: train/, validation/ scalars, images/ summaries
    <run>/history.csv      one row per finished epoch (appended across resumes)
    <run>/results.json     what run() returned

Under MultiWorkerMirroredStrategy only the chief writes here; every other worker
writes the same files to a scratch folder of its own (:func:`worker_run_folder`),
as Keras' multi-worker guide does, so no two processes write one file.
"""

import contextlib
import csv
import dataclasses
import json
import logging
import math
import pathlib
import shutil
import tempfile

logger = logging.getLogger(__name__)


@dataclasses.dataclass(frozen=True)
class RunFolder:
    root: pathlib.Path

    def __post_init__(self):
        object.__setattr__(self, "root", pathlib.Path(self.root))

    @property
    def config_path(self) -> pathlib.Path:
        return self.root / "config.json"

    @property
    def best_model_path(self) -> pathlib.Path:
        return self.root / "best.keras"

    @property
    def backup_dir(self) -> pathlib.Path:
        return self.root / "backup"

    @property
    def log_dir(self) -> pathlib.Path:
        return self.root / "logs"

    @property
    def history_path(self) -> pathlib.Path:
        return self.root / "history.csv"

    @property
    def results_path(self) -> pathlib.Path:
        return self.root / "results.json"

    def create(self) -> "RunFolder":
        self.root.mkdir(parents=True, exist_ok=True)
        return self

    def check_not_finished(self):
        """Raises FileExistsError if a finished run (results, no backup) is already here."""
        if self.results_path.exists() and not self.backup_dir.exists():
            raise FileExistsError(
                f"{self.root} already holds a finished run ({self.results_path.name}); "
                "choose another --output-dir"
            )

    def save_best_card(self, card) -> str | None:
        """Saves ``card`` beside best.keras; None (and a warning) if no epoch finished."""
        if not self.best_model_path.exists():
            logger.warning("%s: no epoch finished, no best model saved", self.root)
            return None
        card.save(self.best_model_path)
        return str(self.best_model_path)

    def write_config(self, config) -> pathlib.Path:
        """Writes a dataclass config as JSON."""
        return _write_json(self.config_path, dataclasses.asdict(config))

    def write_results(self, results: dict) -> pathlib.Path:
        return _write_json(self.results_path, results)

    def best_logged(self, metric, *, mode="max") -> float | None:
        """The best ``metric`` in history.csv so far (None before the first epoch).

        A resumed run starts its best-checkpoint comparison from this value, so it
        does not overwrite best.keras with a worse model.
        """
        if not self.history_path.exists():
            return None
        with self.history_path.open(newline="") as handle:
            values = [float(row[metric]) for row in csv.DictReader(handle) if row.get(metric)]
        if not values:
            return None
        return max(values) if mode == "max" else min(values)


def _write_json(path, payload) -> pathlib.Path:
    path.write_text(json.dumps(payload, indent=2, sort_keys=True) + "\n")
    return path


def history_results(history) -> dict:
    """``epochs`` and ``history`` of a Keras History as JSON-friendly values (NaN as None)."""
    return {
        "epochs": list(history.epoch),
        "history": {
            name: [None if math.isnan(float(value)) else float(value) for value in values]
            for name, values in history.history.items()
        },
    }


@contextlib.contextmanager
def worker_run_folder(root, *, chief: bool):
    """The RunFolder this process writes: ``root`` on the chief, a scratch copy elsewhere.

    A non-chief worker starts from the chief's backup when there is one (the run
    folder must then be on storage every worker sees), so a resumed multi-worker
    run restarts every worker at the same epoch. The scratch folder is deleted on exit.
    """
    run = RunFolder(root)
    if chief:
        yield run
        return
    with tempfile.TemporaryDirectory(prefix="dfseg-worker-") as scratch:
        worker = RunFolder(scratch)
        if run.backup_dir.is_dir():
            shutil.copytree(run.backup_dir, worker.backup_dir)
        yield worker
