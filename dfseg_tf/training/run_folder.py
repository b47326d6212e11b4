"""Everything of one training run lives under one folder.

::

    <run>/config.json      resolved configuration (defaults, then flags)
    <run>/best.keras       best model by validation Dice, with best.keras.json (ModelCard)
    <run>/backup/          BackupAndRestore state, the last two epochs: rerunning resumes an
                           interrupted run (removed once results.json is written)
    <run>/logs/            TensorBoard: train/, validation/ scalars, images/ summaries
    <run>/history.csv      one row per finished epoch (appended across resumes)
    <run>/results.json     what run() returned

A kill at any moment loses at most the epoch under way: best.keras, config.json and
results.json are written to a temporary file and renamed; BackupAndRestore keeps the
last two backups, and :meth:`RunFolder.prepare_resume` falls back to the older one
when the newer is unreadable (or starts over, in one warning line, when neither is)
and cuts history.csv back to the epochs the resumed run will not redo.

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

import h5py

from dfseg_tf.errors import first_line
from dfseg_tf.files import replace_atomically

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

    @property
    def finished(self) -> bool:
        """Whether a run finished here: results.json is written last, once every epoch is done."""
        return self.results_path.exists()

    @property
    def backed_up_epochs(self) -> int:
        """Epochs an interrupted run here finished and a rerun will not train again (0 if none).

        Read from the backup's metadata alone, for estimates; :meth:`prepare_resume` also
        checks the weights and may fall back one epoch.
        """
        epoch, problem = _read_backup_metadata(self.backup_dir / _BACKUP_METADATA)
        return 0 if problem else epoch

    def create(self) -> "RunFolder":
        self.root.mkdir(parents=True, exist_ok=True)
        return self

    def check_not_finished(self):
        """Raises FileExistsError if a finished run (results.json, written last) is already here."""
        if self.finished:
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
        """Writes results.json, which marks the run finished, then removes the backup."""
        path = _write_json(self.results_path, results)
        shutil.rmtree(self.backup_dir, ignore_errors=True)
        return path

    def prepare_resume(self) -> int:
        """The epoch a rerun resumes at (0 for a fresh run), after making the backup and the
        history agree with it.

        The newest readable backup is kept: ``backup/latest.*`` or else the previous one
        (``*.bkp``, copied over it, as ``BackupAndRestore(double_checkpoint=True)`` would
        only for some faults). When neither is readable (a kill while the first backup
        was written, a truncated copy) the backup is removed and the run starts over,
        with one warning line. history.csv then keeps only the epochs before the resumed
        one, so an epoch done again is never listed twice.
        """
        epoch = _restore_point(self.backup_dir)
        _keep_history_before(self.history_path, epoch)
        return epoch

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
    text = json.dumps(payload, indent=2, sort_keys=True) + "\n"
    return replace_atomically(path, lambda partial: partial.write_text(text))


# BackupAndRestore's files (keras.callbacks.BackupAndRestore, double_checkpoint=True).
_BACKUP_WEIGHTS = "latest.weights.h5"
_BACKUP_METADATA = "training_metadata.json"
_PREVIOUS = ".bkp"


def _restore_point(backup_dir: pathlib.Path) -> int:
    """The epoch the readable backup in ``backup_dir`` resumes at, made the latest; 0 if none."""
    if not backup_dir.is_dir():
        return 0
    latest = (backup_dir / _BACKUP_WEIGHTS, backup_dir / _BACKUP_METADATA)
    previous = tuple(path.with_name(path.name + _PREVIOUS) for path in latest)
    epoch, problem = _read_backup(*latest)
    if problem is None:
        return epoch
    older_epoch, older_problem = _read_backup(*previous)
    if older_problem is None:
        logger.warning("%s: %s; resuming from the previous backup, at epoch %d", backup_dir, problem, older_epoch)
        for source, target in zip(previous, latest):
            replace_atomically(target, lambda partial, source=source: shutil.copyfile(source, partial))
        return older_epoch
    logger.warning("%s: %s, and no readable previous backup; starting the run over from epoch 0", backup_dir, problem)
    shutil.rmtree(backup_dir)
    return 0


def _read_backup(weights: pathlib.Path, metadata: pathlib.Path) -> tuple[int, str | None]:
    """(epoch to resume at, None) for a readable backup, else (0, what is wrong)."""
    epoch, problem = _read_backup_metadata(metadata)
    if problem:
        return 0, problem
    try:
        with h5py.File(weights, "r") as store:
            store.visititems(_read_dataset)  # reads every array: a truncated file fails here
    except (OSError, KeyError, ValueError, RuntimeError) as error:
        return 0, f"{weights.name} unreadable ({first_line(error)})"
    return epoch, None


def _read_backup_metadata(metadata: pathlib.Path) -> tuple[int, str | None]:
    """(epoch to resume at, None), else (0, what is wrong with ``metadata``)."""
    try:
        epoch = json.loads(metadata.read_text())["epoch"]
    except (OSError, ValueError, KeyError, TypeError) as error:
        return 0, f"{metadata.name} unreadable ({first_line(error)})"
    if not isinstance(epoch, int) or epoch < 0:
        return 0, f"{metadata.name} holds no epoch number"
    return epoch, None


def _read_dataset(_, item) -> None:
    if isinstance(item, h5py.Dataset):
        item[()]


def _keep_history_before(history_path: pathlib.Path, epoch: int) -> None:
    """Drops the history.csv rows of epoch ``epoch`` and later (they will be trained again)."""
    if not history_path.exists():
        return
    with history_path.open(newline="") as handle:
        reader = csv.DictReader(handle)
        fields, rows = reader.fieldnames, list(reader)
    kept = [row for row in rows if row.get("epoch", "").isdigit() and int(row["epoch"]) < epoch]
    if len(kept) == len(rows):
        return
    removed = len(rows) - len(kept)
    logger.info("%s: %d rows from epoch %d on removed; those epochs are trained again", history_path, removed, epoch)

    def write(partial):
        with partial.open("w", newline="") as handle:
            writer = csv.DictWriter(handle, fields)
            writer.writeheader()
            writer.writerows(kept)

    replace_atomically(history_path, write)


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
