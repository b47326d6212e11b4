"""What model.fit is given: dfseg_tf.training.inputs.fit_inputs (batched and limited) and
the progress output dfseg_tf.training.config.resolve_verbose picks."""

import functools
import os

import tensorflow as tf

from dfseg_tf.data import planted_square_dataset
from dfseg_tf.data.pipeline import segmentation_batches
from dfseg_tf.training.config import RunConfig, resolve_verbose
from dfseg_tf.training.inputs import fit_inputs


def test_a_split_whose_epochs_a_batch_limit_cuts_short_is_not_cached(capfd):
    config = RunConfig(cache=True, max_train_batches=2, batch_size=4)
    datasets = {"train": planted_square_dataset(32, size=16, seed=1),
                "validation": planted_square_dataset(8, size=16, seed=2)}
    to_batches = functools.partial(segmentation_batches, shuffle_buffer=4)  # 2 batches read 8 + 4 of 32
    train, validation = fit_inputs(config, tf.distribute.get_strategy(), to_batches, datasets)
    for _ in range(2):  # two epochs
        assert sum(1 for _ in train) == 2
        assert sum(1 for _ in validation) == 2  # all of it: 8 examples in batches of 4
    # a cache of the training split would be left unfinished each epoch; tf.data discards it and warns
    assert "did not fully read the dataset being cached" not in capfd.readouterr().err


def test_auto_progress_is_a_bar_on_a_terminal_and_a_line_an_epoch_in_a_log(tmp_path):
    leader, follower = os.openpty()
    with os.fdopen(follower, "w") as terminal, (tmp_path / "log.txt").open("w") as log_file:
        assert resolve_verbose("auto", terminal) == 1
        assert resolve_verbose("auto", log_file) == 2
        assert resolve_verbose("0", terminal) == 0 and resolve_verbose(1, log_file) == 1
    os.close(leader)
