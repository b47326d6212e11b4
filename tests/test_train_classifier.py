import json
import math

import h5py
import keras
import numpy as np
import pytest

# The writer of the legacy .h5 weights format keras.applications distributes.
from keras.src.legacy.saving.legacy_h5_format import save_weights_to_hdf5_group

from dfseg_tf.data.classification import classification_batches
from dfseg_tf.data.toy import planted_square_dataset, planted_square_examples
from dfseg_tf.models.card import CLASSIFIER, ModelCard
from dfseg_tf.training.precision import resolve_precision
from experiments.train_classifier import ClassifierConfig, build_parser, main, run

DATASET_NAME = "dfdc_masks/synthetic"


def _tiny_datasets(train_count):
    # Validation holds one fake and one real face, so its AUC is defined.
    return {
        "train": planted_square_dataset(train_count, size=64, seed=0),
        "validation": planted_square_dataset(2, size=64, seed=1),
    }


def _assert_saved_classifier(results, *, architecture, input_size, weights):
    card = ModelCard.load(results["best_model"])
    # The card names the crop the model takes (the data's 64); the backbone runs at input_size.
    assert (card.kind, card.architecture, card.input_size) == (CLASSIFIER, architecture, 64)
    assert results["input_size"] == input_size
    assert (card.weights, card.trained_on, card.decision_threshold) == (weights, DATASET_NAME, 0.5)
    losses = results["history"]["loss"] + results["history"]["val_loss"]
    assert losses and all(loss is not None and math.isfinite(loss) for loss in losses)
    assert results["best_val_auc"] is not None


def test_batches_are_the_stored_uint8_faces_with_their_labels():
    examples = planted_square_examples(6, size=64)

    batches = list(classification_batches(planted_square_dataset(6, size=64), batch_size=4, training=False))

    images = np.concatenate([image for image, _ in batches])
    labels = np.concatenate([label for _, label in batches])
    assert [tuple(image.shape) for image, _ in batches] == [(4, 64, 64, 3), (2, 64, 64, 3)]
    assert images.dtype == np.uint8  # each classifier resizes and scales inside the model
    np.testing.assert_array_equal(images, examples["image"])
    np.testing.assert_array_equal(labels[:, 0], examples["label"])


def test_training_batches_flip_some_faces_horizontally_reproducibly_by_seed():
    examples = planted_square_examples(16, size=64)
    originals = examples["image"].astype(np.float32)

    def one_epoch(seed):
        ds = classification_batches(planted_square_dataset(16, size=64), batch_size=16, training=True, seed=seed)
        return next(iter(ds))

    images, labels = one_epoch(seed=3)
    again, _ = one_epoch(seed=3)

    np.testing.assert_array_equal(images, again)
    flipped = 0
    for image, label in zip(images.numpy().astype(np.float32), labels.numpy()[:, 0]):
        distances = np.abs(originals - image).max(axis=(1, 2, 3))
        mirrored = np.abs(originals[:, :, ::-1] - image).max(axis=(1, 2, 3))
        source = int(np.argmin(np.minimum(distances, mirrored)))
        assert min(distances[source], mirrored[source]) < 1e-5
        assert label == examples["label"][source]
        flipped += int(mirrored[source] < distances[source])
    assert 0 < flipped < 16


def test_xception_run_starts_from_a_weights_file_and_saves_a_model_with_its_card(tmp_path):
    donor = keras.applications.Xception(include_top=False, weights=None, input_shape=(71, 71, 3))
    weights = tmp_path / "xception_weights_tf_dim_ordering_tf_kernels_notop.h5"
    with h5py.File(weights, "w") as handle:
        save_weights_to_hdf5_group(handle, donor)
    config = ClassifierConfig(
        arch="xception",
        input_size=71,
        weights=str(weights),
        dataset=DATASET_NAME,
        output_dir=str(tmp_path / "run"),
        epochs=1,
        batch_size=2,
        max_train_batches=2,
        verbose=0,
    )

    results = run(config, datasets=_tiny_datasets(4))

    _assert_saved_classifier(results, architecture="xception", input_size=71, weights=str(weights))
    saved = keras.models.load_model(results["best_model"])
    assert saved.predict(np.zeros((1, 64, 64, 3), np.uint8), verbose=0).shape == (1, 1)
    written = json.loads((tmp_path / "run" / "config.json").read_text())
    assert (written["arch"], written["input_size"], written["precision"]) == ("xception", 71, resolve_precision("auto"))
    assert list((tmp_path / "run" / "logs").iterdir()), "no TensorBoard logs written"
    with pytest.raises(FileExistsError, match="already holds a finished run"):
        run(config, datasets=_tiny_datasets(4))


def test_efficientnet_b7_run_from_scratch_saves_a_model_with_its_card(tmp_path):
    config = ClassifierConfig(
        arch="efficientnet_b7",
        input_size=32,
        dataset=DATASET_NAME,
        output_dir=str(tmp_path / "run"),
        epochs=1,
        batch_size=2,
        max_train_batches=1,
        run_eagerly=True,
        verbose=0,
    )

    results = run(config, datasets=_tiny_datasets(2))

    _assert_saved_classifier(results, architecture="efficientnet_b7", input_size=32, weights="scratch")


def test_missing_weights_file_stops_the_script_at_once_with_one_line(tmp_path):
    missing = tmp_path / "efficientnetb7_notop.h5"
    run_dir = tmp_path / "run"

    with pytest.raises(SystemExit) as stopped:
        main(["--arch", "efficientnet_b7", "--weights", str(missing), "--output-dir", str(run_dir)])

    message = str(stopped.value.code)
    assert message.startswith(f"train_classifier: error: {missing}: weights file not found")
    assert "\n" not in message
    assert not run_dir.exists()


def test_every_flag_states_its_default_in_its_help():
    parser = build_parser()
    options = [action for action in parser._actions if action.option_strings != ["-h", "--help"]]

    help_text = " ".join(parser.format_help().split())

    assert {"arch", "input_size", "weights", "dataset", "run_eagerly"} <= {a.dest for a in options}
    assert help_text.count("(default:") == len(options)
    assert "299 for xception, 380 for efficientnet_b7" in help_text
