"""Callbacks of a training run: backup, best checkpoint, logs, image summaries."""

import keras
import numpy as np
import tensorflow as tf

from dfseg_tf.training.run_folder import RunFolder

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


def run_callbacks(run: RunFolder, *, monitor, mode="max", extra=()):
    """The callbacks of every training run, in the order they must run.

    Best checkpoint by ``monitor``, history, TensorBoard, then ``extra``, then
    BackupAndRestore last: if the process dies after the epoch's writers, the epoch is
    redone (a duplicate history row) rather than silently lost.
    """
    return [
        keras.callbacks.TerminateOnNaN(),
        keras.callbacks.ModelCheckpoint(
            run.best_model_path,
            monitor=monitor,
            mode=mode,
            save_best_only=True,
            initial_value_threshold=run.best_logged(monitor, mode=mode),
        ),
        keras.callbacks.CSVLogger(run.history_path, append=True),
        keras.callbacks.TensorBoard(run.log_dir, write_graph=False),
        *extra,
        keras.callbacks.BackupAndRestore(run.backup_dir),
    ]


def segmentation_callbacks(run: RunFolder, *, summary_images, summary_masks, monitor="val_dice"):
    """:func:`run_callbacks` with the image grid of predicted maps for TensorBoard."""
    return run_callbacks(
        run,
        monitor=monitor,
        extra=[ImageSummary(summary_images, summary_masks, run.log_dir / "images")],
    )
