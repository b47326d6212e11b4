"""Every way a saved model or its card can be unusable is one line naming the file."""

import json
import os
import pathlib
import zipfile

import keras
import pytest

from dfseg_tf.models.card import INPUT_CONTRACT, SEGMENTATION, ModelCard
from dfseg_tf.models.saved import ModelLoadError, load_model


@pytest.fixture
def model_path(tmp_path):
    path = tmp_path / "m.keras"
    path.write_bytes(b"not a zip file")
    return path


def _one_line_error(path) -> str:
    with pytest.raises(ModelLoadError) as error:
        load_model(path)
    message = str(error.value)
    assert "\n" not in message
    return message


def test_missing_model_file(tmp_path):
    assert _one_line_error(tmp_path / "absent.keras") == f"{tmp_path / 'absent.keras'}: model file not found"


def test_missing_card(model_path):
    assert _one_line_error(model_path).startswith(f"{model_path}.json: model card missing")


@pytest.mark.parametrize("card_text", ["{not json", json.dumps({"kind": SEGMENTATION, "colour": "red"})])
def test_unreadable_card(model_path, card_text):
    ModelCard.path_for(model_path).write_text(card_text)
    assert _one_line_error(model_path).startswith(f"{model_path}.json: unusable model card: ")


def test_unknown_kind(model_path):
    ModelCard(kind="detector", architecture="unet", input_size=64).save(model_path)
    assert _one_line_error(model_path).startswith(f"{model_path}.json: model card kind 'detector' is neither")


def test_a_file_that_is_no_keras_archive_is_not_a_readable_model(model_path):
    ModelCard(kind=SEGMENTATION, architecture="unet", input_size=64).save(model_path)
    assert _one_line_error(model_path).startswith(f"{model_path}: not a readable Keras model: ")


def test_a_truncated_model_is_not_a_readable_model_rather_than_not_found(tmp_path):
    path = tmp_path / "cut.keras"
    keras.Sequential([keras.Input((4,)), keras.layers.Dense(2)]).save(path)
    ModelCard(kind=SEGMENTATION, architecture="unet", input_size=4).save(path)
    os.truncate(path, path.stat().st_size // 2)  # as a kill while best.keras was written left it
    message = _one_line_error(path)
    assert message.startswith(f"{path}: not a readable Keras model: not a complete .keras zip archive")
    assert "not found" not in message


def test_a_valid_archive_that_keras_cannot_load_names_the_reason(model_path):
    with zipfile.ZipFile(model_path, "w") as archive:
        archive.writestr("config.json", "{not json")
    ModelCard(kind=SEGMENTATION, architecture="unet", input_size=64).save(model_path)
    assert _one_line_error(model_path).startswith(f"{model_path}: not a loadable Keras model: ")


def test_a_model_of_the_contract_before_0_2_is_refused_with_what_to_do(model_path):
    # Cards written before 0.2 have no input_contract: their models took [0, 1] floats.
    fields = {"kind": SEGMENTATION, "architecture": "unet", "input_size": 256, "threshold": 0.5,
              "threshold_source": "default", "trained_on": "", "weights": "scratch"}
    ModelCard.path_for(model_path).write_text(json.dumps(fields))
    message = _one_line_error(model_path)
    assert message.startswith(f"{model_path}: saved by dfseg_tf < 0.2") and "retrain" in message


def test_a_card_save_killed_half_way_leaves_the_previous_card(tmp_path, monkeypatch):
    path = tmp_path / "m.keras"
    ModelCard(kind=SEGMENTATION, architecture="unet", input_size=64, decision_threshold=0.3).save(path)
    write_text = pathlib.Path.write_text

    def killed_half_way(self, text, *args, **kwargs):
        write_text(self, text[: len(text) // 2], *args, **kwargs)
        raise KeyboardInterrupt  # the process stops here

    monkeypatch.setattr(pathlib.Path, "write_text", killed_half_way)
    with pytest.raises(KeyboardInterrupt):
        ModelCard(kind=SEGMENTATION, architecture="unet", input_size=64, decision_threshold=0.7).save(path)
    monkeypatch.undo()
    assert ModelCard.load(path).decision_threshold == 0.3


def test_a_card_with_the_keys_before_decision_threshold_still_loads(tmp_path):
    # Cards written before issue 17 name the decision threshold t "threshold".
    path = tmp_path / "m.keras"
    old = {"kind": SEGMENTATION, "architecture": "unet", "input_size": 256, "threshold": 0.72,
           "threshold_source": "dfdc_masks/dfdc:validation", "trained_on": "dfdc_masks/dfdc",
           "weights": "scratch", "input_contract": INPUT_CONTRACT}
    ModelCard.path_for(path).write_text(json.dumps(old))
    card = ModelCard.load(path)
    assert (card.decision_threshold, card.decision_threshold_source) == (0.72, "dfdc_masks/dfdc:validation")
    card.save(path)  # written again, with the new keys only
    written = json.loads(ModelCard.path_for(path).read_text())
    assert (written["decision_threshold"], written["decision_threshold_source"]) == (0.72, "dfdc_masks/dfdc:validation")
    assert not {"threshold", "threshold_source"} & set(written)
