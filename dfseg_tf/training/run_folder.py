"""Everything of one training run lives under one folder.

::

    <run>/config.json      resolved configuration (defaults, then flags)
    <run>/best.keras       best model by validation Dice, with best.keras.json (ModelCard)
    <run>/backup/          BackupAndRestore state: rerunning resumes an interrupted run
    <run>/logs/            TensorBoard: train/, validation/ scalars, images/ summaries
    <run>/history.csv      one row per finished epoch (appended across resumes)
    <run>/results.json     what run() returned
"""

import csv
import dataclasses
import json
import pathlib


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
