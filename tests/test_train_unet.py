"""experiments.train_unet: a real short fit, resuming after a hard kill, flags."""

import csv
import dataclasses
import json
import os
import pathlib
import subprocess
import sys

import keras
import numpy as np
import pytest
import tensorflow as tf

from dfseg_tf.data import planted_square_dataset
from dfseg_tf.models.card import ModelCard
from dfseg_tf.training.callbacks import BestModelCheckpoint
from dfseg_tf.training.policy import cpu_has_amx, cpu_has_native_bfloat16
from dfseg_tf.training.precision import apply_precision, resolve_precision
from dfseg_tf.training.run_folder import RunFolder
from dfseg_tf.training.strategy import distribution_strategy
from experiments import train_unet
from experiments.train_unet import TrainConfig, build_model, run

REPO = pathlib.Path(__file__).resolve().parents[1]
SIZE = 64


def tiny_datasets():
    return {
        "train": planted_square_dataset(32, size=SIZE, seed=1),
        "validation": planted_square_dataset(8, size=SIZE, seed=2),
    }


def tiny_config(tmp_path, **overrides):
    values = dict(output_dir=str(tmp_path / "run"), epochs=3, batch_size=8, learning_rate=1e-3, verbose=0)
    return TrainConfig(**{**values, **overrides})


def history_epochs(run_dir):
    with (pathlib.Path(run_dir) / "history.csv").open(newline="") as handle:
        return [int(row["epoch"]) for row in csv.DictReader(handle)]


def test_short_fit_lowers_the_loss_and_keeps_the_best_model_in_the_run_folder(tmp_path):
    results = run(tiny_config(tmp_path), tiny_datasets())

    losses = results["history"]["loss"]
    assert results["epochs"] == [0, 1, 2]
    assert losses[-1] < losses[0] - 0.3, losses
    assert results["best_val_dice"] == max(results["history"]["val_dice"])

    model = keras.models.load_model(results["best_model"])
    assert model.name == "unet"
    assert model.predict(np.zeros((1, SIZE, SIZE, 3), np.float32), verbose=0).shape == (1, SIZE, SIZE, 1)
    card = ModelCard.load(results["best_model"])
    assert (card.kind, card.architecture, card.input_size, card.decision_threshold, card.trained_on) == (
        "segmentation", "unet", SIZE, 0.5, "dfdc_masks/synthetic"
    )
    written = json.loads((tmp_path / "run" / "config.json").read_text())
    assert written["precision"] == resolve_precision("auto") and written["jit_compile"] == "false"
    assert written["learning_rate"] == 1e-3
    assert json.loads((tmp_path / "run" / "results.json").read_text())["epochs"] == [0, 1, 2]
    with pytest.raises(FileExistsError, match="already holds a finished run"):
        run(tiny_config(tmp_path), tiny_datasets())


KILLED_RUN = """
import json, os, signal, sys
import keras
from dfseg_tf.data import planted_square_dataset
from experiments.train_unet import TrainConfig, run

class KillAfterEpoch(keras.callbacks.Callback):
    def on_epoch_end(self, epoch, logs=None):
        if epoch == int(sys.argv[2]):
            os.kill(os.getpid(), signal.SIGKILL)

datasets = {"train": planted_square_dataset(32, size=64, seed=1),
            "validation": planted_square_dataset(8, size=64, seed=2)}
run(TrainConfig(**json.loads(sys.argv[1])), datasets, extra_callbacks=[KillAfterEpoch()])
"""


def killed_run(config, *, after_epoch=1):
    """Runs ``config`` in a subprocess SIGKILLed at the end of ``after_epoch`` (after its backup)."""
    killed = subprocess.run(
        [sys.executable, "-c", KILLED_RUN, json.dumps(dataclasses.asdict(config)), str(after_epoch)],
        cwd=REPO, capture_output=True, text=True, timeout=300,
    )
    assert killed.returncode == -9, killed.stderr[-2000:]
    assert history_epochs(config.output_dir) == list(range(after_epoch + 1))


def test_a_killed_run_resumes_from_its_backup(tmp_path):
    config = tiny_config(tmp_path, epochs=4, max_train_batches=2)
    killed_run(config)
    assert RunFolder(config.output_dir).backed_up_epochs == 2  # what a resumed job's estimate leaves out

    results = run(config, tiny_datasets())

    assert results["epochs"] == [2, 3]  # continued, not restarted from epoch 0
    assert history_epochs(config.output_dir) == [0, 1, 2, 3]
    assert not (tmp_path / "run" / "backup").exists()  # removed once the run finished
    assert ModelCard.load(results["best_model"]).architecture == "unet"


def test_a_truncated_backup_resumes_from_the_previous_one_without_repeating_epochs(tmp_path, caplog):
    config = tiny_config(tmp_path, epochs=4, max_train_batches=2)
    killed_run(config, after_epoch=2)
    backup = tmp_path / "run" / "backup"
    os.truncate(backup / "latest.weights.h5", 96)  # as a kill while the backup was written leaves it

    results = run(config, tiny_datasets())

    assert results["epochs"] == [2, 3]  # the previous backup was taken after epoch 1
    assert history_epochs(config.output_dir) == [0, 1, 2, 3]  # epoch 2's first row was dropped
    assert f"{backup}: latest.weights.h5 unreadable" in caplog.text
    assert "resuming from the previous backup, at epoch 2" in caplog.text
    assert not backup.exists()


def test_an_unreadable_only_backup_starts_the_run_over_with_one_warning(tmp_path, caplog):
    config = tiny_config(tmp_path, epochs=3, max_train_batches=2)
    killed_run(config, after_epoch=0)  # one backup only: there is no previous one
    backup = tmp_path / "run" / "backup"
    os.truncate(backup / "latest.weights.h5", 96)

    results = run(config, tiny_datasets())

    assert results["epochs"] == [0, 1, 2]
    assert history_epochs(config.output_dir) == [0, 1, 2]
    warnings = [record.getMessage() for record in caplog.records if record.levelname == "WARNING"]
    (warning,) = [message for message in warnings if "backup" in message]
    assert warning.startswith(f"{backup}: latest.weights.h5 unreadable")
    assert warning.endswith("and no readable previous backup; starting the run over from epoch 0")


def test_a_kill_while_the_best_model_is_written_leaves_the_previous_best_whole(tmp_path, monkeypatch):
    model = build_model(TrainConfig(model="unet_v1"), (SIZE, SIZE, 3))
    path = tmp_path / "best.keras"
    checkpoint = BestModelCheckpoint(path, monitor="val_dice")
    checkpoint.set_model(model)
    checkpoint.on_epoch_end(0, {"val_dice": 0.5})
    saved = path.read_bytes()

    def killed_while_saving(filepath, **kwargs):
        pathlib.Path(filepath).write_bytes(saved[: len(saved) // 3])
        raise KeyboardInterrupt  # the process stops here

    monkeypatch.setattr(model, "save", killed_while_saving)
    with pytest.raises(KeyboardInterrupt):
        checkpoint.on_epoch_end(1, {"val_dice": 0.7})
    assert path.read_bytes() == saved
    assert keras.models.load_model(path, compile=False).name == "unet_v1"
    checkpoint.on_epoch_end(2, {"val_dice": 0.6})  # below the best: nothing written
    assert path.read_bytes() == saved


def test_flags_override_defaults_and_help_states_them(capsys):
    config = train_unet.parse_flags(
        ["--model", "unet_v1", "--max-train-batches", "2", "--vertical-flip", "--precision", "mixed_bfloat16"]
    )
    assert config == dataclasses.replace(
        TrainConfig(), model="unet_v1", max_train_batches=2, vertical_flip=True, precision="mixed_bfloat16"
    )
    with pytest.raises(SystemExit):
        train_unet.parse_flags(["--help"])
    help_text = " ".join(capsys.readouterr().out.split())
    for field in dataclasses.fields(TrainConfig):
        assert f"--{field.name.replace('_', '-')}" in help_text
    assert help_text.count("(default:") == len(dataclasses.fields(TrainConfig))


def test_main_says_how_to_build_a_missing_dataset(tmp_path):
    with pytest.raises(SystemExit) as exit_info:
        train_unet.main(["--data-dir", str(tmp_path / "tfds"), "--output-dir", str(tmp_path / "run")])
    message = str(exit_info.value.code)
    assert message.startswith("train_unet: error: dfdc_masks/synthetic is not built")
    assert "tfds build dfdc_masks --config synthetic" in message
    assert not (tmp_path / "run").exists()


def test_a_mixed_float16_step_scales_the_loss_and_stays_finite():
    apply_precision("mixed_float16")
    try:
        model = build_model(TrainConfig(model="unet_v1"), (32, 32, 3))
    finally:
        keras.config.set_dtype_policy("float32")
    assert isinstance(model.optimizer, keras.optimizers.LossScaleOptimizer)
    images = np.random.default_rng(0).integers(0, 256, (4, 32, 32, 3), dtype=np.uint8)
    all_real = np.zeros((4, 32, 32, 1), np.float32)
    logs = model.train_on_batch(images, all_real, return_dict=True)
    assert np.isfinite(logs["loss"]) and logs["loss"] > 0


def test_auto_precision_and_strategy_follow_the_devices(monkeypatch):
    has_gpu = bool(tf.config.list_physical_devices("GPU"))
    assert resolve_precision("auto").startswith("mixed_") == (has_gpu or cpu_has_native_bfloat16())
    assert resolve_precision("mixed_bfloat16") == "mixed_bfloat16"
    with pytest.raises(ValueError, match="precision='half'"):
        resolve_precision("half")
    monkeypatch.delenv("TF_CONFIG", raising=False)
    assert distribution_strategy().num_replicas_in_sync == max(1, len(tf.config.list_physical_devices("GPU")))
    monkeypatch.setenv("TF_CONFIG", "{not json")
    with pytest.raises(ValueError, match="TF_CONFIG is not valid JSON"):
        distribution_strategy()


def test_main_reports_a_bad_tf_config_in_one_line(tmp_path, monkeypatch):
    monkeypatch.setenv("TF_CONFIG", "{not json")
    with pytest.raises(SystemExit) as exit_info:
        train_unet.main(["--data-dir", str(tmp_path / "tfds"), "--output-dir", str(tmp_path / "run")])
    assert str(exit_info.value.code).startswith("train_unet: error: TF_CONFIG is not valid JSON: ")


@pytest.mark.parametrize("flags,native,amx", [
    ("fpu sse2 avx2 avx512f", False, False),
    ("fpu avx512f avx512_bf16", True, False),
    ("fpu amx_tile amx_bf16", True, True),
])
def test_cpu_bfloat16_is_read_from_the_cpu_flags(tmp_path, flags, native, amx):
    cpuinfo = tmp_path / "cpuinfo"
    cpuinfo.write_text(f"processor\t: 0\nmodel name\t: Some CPU amx_bf16\nflags\t\t: {flags}\n\n")
    assert cpu_has_native_bfloat16(cpuinfo) is native
    assert cpu_has_amx(cpuinfo) is amx
    assert cpu_has_native_bfloat16(tmp_path / "absent") is False
    assert cpu_has_amx(tmp_path / "absent") is False


def test_a_short_unet_fit_on_the_synthetic_records_lowers_the_loss(synthetic_records, tmp_path):
    result = run(TrainConfig(
        model="unet_v1", dataset=synthetic_records.name, data_dir=str(synthetic_records.data_dir),
        output_dir=str(tmp_path / "run"), epochs=3, learning_rate=1e-3, verbose=0,
    ))
    losses = result["history"]["loss"]
    assert losses[-1] < losses[0], losses
