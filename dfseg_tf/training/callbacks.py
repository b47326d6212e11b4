"""Callbacks of a training run: backup, best checkpoint, logs, image summaries."""

import logging
import pathlib

import keras
import numpy as np
import tensorflow as tf

from dfseg_tf.files import replace_atomically
from dfseg_tf.training.run_folder import RunFolder

logger = logging.getLogger(__name__)

IMAGE_SUMMARY_TAG = "validation/image_true_predicted"


def _gray_to_rgb(maps):
    return np.repeat(np.clip(maps, 0.0, 1.0), 3, axis=-1)


def summary_grid(images, masks, predictions) -> np.ndarray:
    """One picture: a row per example of [image | true mask | predicted map], float [0, 1].

    ``images`` are the uint8 crops the model takes."""
    pixels = np.asarray(images, np.float32) / 255.0
    rows = np.concatenate([pixels, _gray_to_rgb(masks), _gray_to_rgb(predictions)], axis=2)
    return np.concatenate(list(rows), axis=0)


class ImageSummary(keras.callbacks.Callback):
    """Writes, at the end of every epoch, a grid of fixed validation examples with
    their true masks and the model's predicted maps to ``log_dir`` (TensorBoard)."""

    def __init__(self, images, masks, log_dir, *, tag=IMAGE_SUMMARY_TAG):
        super().__init__()
        self.images = np.asarray(images, np.uint8)
        self.masks = np.asarray(masks, np.float32)
        self.log_dir = str(log_dir)
        self.tag = tag
        self._writer = None

    def on_train_begin(self, logs=None):
        self._writer = tf.summary.create_file_writer(self.log_dir)

    def on_epoch_end(self, epoch, logs=None):
        # A direct call on this worker's copy of the model: predict() would spread
        # these few images over the strategy's replicas and workers.
        predictions = keras.ops.convert_to_numpy(self.model(self.images, training=False))
        predictions = predictions.astype(np.float32)
        grid = summary_grid(self.images, self.masks, predictions)
        with self._writer.as_default():
            tf.summary.image(self.tag, grid[np.newaxis], step=epoch)
        self._writer.flush()

    def on_train_end(self, logs=None):
        if self._writer is not None:
            self._writer.close()


class BestModelCheckpoint(keras.callbacks.Callback):
    """Saves the model to ``path`` at every epoch whose ``monitor`` beats the best so far.

    Keras' ModelCheckpoint rewrites the file in place, so a kill while it writes leaves
    a truncated best model; here the model is written beside it and renamed over it.

    Args:
      path: the ``.keras`` file.
      monitor: the logged value compared, e.g. ``val_dice``.
      mode: ``"max"`` (higher is better) or ``"min"``.
      best: the value to beat (a resumed run's best so far), None for the first epoch.
    """

    def __init__(self, path, *, monitor, mode="max", best=None):
        super().__init__()
        if mode not in ("max", "min"):
            raise ValueError(f"mode must be 'max' or 'min', got {mode!r}")
        self.path = pathlib.Path(path)
        self.monitor = monitor
        self.mode = mode
        self.best = best

    def on_epoch_end(self, epoch, logs=None):
        value = (logs or {}).get(self.monitor)
        if value is None:
            logger.warning("%s is not logged; %s not saved", self.monitor, self.path)
            return
        value = float(value)
        if self.best is not None and not (value > self.best if self.mode == "max" else value < self.best):
            return  # also when value is NaN
        self.best = value
        replace_atomically(self.path, self.model.save)


def run_callbacks(run: RunFolder, *, monitor, mode="max", extra=()):
    """The callbacks of every training run, in the order they must run.

    Best checkpoint by ``monitor``, history, TensorBoard, then ``extra``, then
    BackupAndRestore last: if the process dies after the epoch's writers, the epoch is
    redone rather than silently lost (``RunFolder.prepare_resume``, called before, drops
    its history row). BackupAndRestore keeps the last two backups, and the backup is
    left for ``RunFolder.write_results`` to remove, so a kill after the last epoch but
    before results.json resumes with nothing left to train.
    """
    return [
        keras.callbacks.TerminateOnNaN(),
        BestModelCheckpoint(run.best_model_path, monitor=monitor, mode=mode, best=run.best_logged(monitor, mode=mode)),
        keras.callbacks.CSVLogger(run.history_path, append=True),
        keras.callbacks.TensorBoard(run.log_dir, write_graph=False),
        *extra,
        keras.callbacks.BackupAndRestore(run.backup_dir, double_checkpoint=True, delete_checkpoint=False),
    ]


def segmentation_callbacks(run: RunFolder, *, summary_images, summary_masks, monitor="val_dice"):
    """:func:`run_callbacks` with the image grid of predicted maps for TensorBoard."""
    return run_callbacks(
        run,
        monitor=monitor,
        extra=[ImageSummary(summary_images, summary_masks, run.log_dir / "images")],
    )
