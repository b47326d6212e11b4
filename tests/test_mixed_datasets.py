"""Training on several built data sets at once: ``--dataset a/x+b/y``."""

import numpy as np
import pytest

from dfseg_tf.data import planted_square_dataset
from dfseg_tf.models.card import ModelCard
from dfseg_tf.training.inputs import dataset_names, load_datasets
from experiments.train_unet import TrainConfig, parse_flags, run

SIZE = 32


@pytest.fixture(scope="module")
def data_dir(tmp_path_factory, store_frames_dataset):
    """Two data sets: every training example of ``first/x`` fake, none of ``second/y``'s."""
    root = tmp_path_factory.mktemp("tfds")
    store_frames_dataset("first/x", root, {
        "train": planted_square_dataset(8, size=SIZE, seed=1, fake_fraction=1.0), "validation": planted_square_dataset(4, size=SIZE, seed=2),
    }, size=SIZE)
    store_frames_dataset("second/y", root, {
        "train": planted_square_dataset(8, size=SIZE, seed=3, fake_fraction=0.0),
        "validation": planted_square_dataset(2, size=SIZE, seed=4),
    }, size=SIZE)
    return str(root)


def test_names_joined_by_plus_are_read_together_train_interleaved_validation_in_turn(data_dir):
    config = TrainConfig(dataset="first/x+second/y", data_dir=data_dir, seed=0)
    loaded = load_datasets(config)
    train = [int(example["mask"].numpy().any()) for example in loaded["train"]]
    assert len(train) == 16 and sum(train) == 8  # every example of both, once
    assert int(loaded["train"].cardinality()) == 16  # an epoch's steps are known: schedules need them
    assert 2 <= sum(train[:8]) <= 6  # both data sets from the start, not one after the other
    validation = list(loaded["validation"])
    assert len(validation) == 6


def test_a_mixed_run_trains_and_records_both_names(data_dir, tmp_path):
    config = parse_flags(["--dataset", "first/x+second/y", "--data-dir", data_dir, "--epochs", "1",
                          "--batch-size", "4", "--output-dir", str(tmp_path / "run"), "--verbose", "0"])
    results = run(config)
    assert np.isfinite(results["history"]["loss"][0])
    assert results["epochs"] == [0]
    assert ModelCard.load(results["best_model"]).trained_on == "first/x+second/y"


def test_an_empty_name_is_refused():
    assert dataset_names("a/x + b/y") == ["a/x", "b/y"]
    with pytest.raises(ValueError, match="empty name"):
        dataset_names("a/x++b/y")
