"""bench_long_training: a built data set exported with TensorFlow, then trained and scored
under the Keras jax backend with TensorFlow unimportable, as on the GPU machine."""

import json

import numpy as np
import pytest

from dfseg_tf.data.toy import planted_square_dataset
from experiments import bench_long_training

SIZE = 64  # the squares (a quarter of the side) pass the frame rule's 100-pixel component
DATASET = "long_training_toy/squares"
COUNTS = {"train": 48, "validation": 16, "test": 16}


@pytest.fixture(scope="module")
def exported(tmp_path_factory, store_frames_dataset):
    data_dir = store_frames_dataset(
        DATASET, tmp_path_factory.mktemp("tfds"),
        {split: planted_square_dataset(count, size=SIZE, seed=index, fake_fraction=0.5)
         for index, (split, count) in enumerate(COUNTS.items())}, size=SIZE,
    )
    folder = tmp_path_factory.mktemp("export")
    summary = bench_long_training.export(DATASET, data_dir, folder)
    return data_dir, folder, summary


def test_export_keeps_every_example_as_stored(exported):
    _, folder, summary = exported
    assert json.loads((folder / "export.json").read_text()) == summary
    for split, count in COUNTS.items():
        assert summary["splits"][split]["examples"] == count
        # PNG is lossless: OpenCV gives exactly TensorFlow's pixels
        assert summary["splits"][split]["opencv_against_tensorflow_decoding"] == {"max": 0, "mean": 0.0}
        loaded = bench_long_training.load_exported(folder, split)
        assert loaded.images.shape == (count, SIZE, SIZE, 3) and loaded.masks.shape == (count, SIZE, SIZE, 1)
        assert loaded.labels.sum() == count // 2
        fake = loaded.labels == 1
        assert (loaded.masks[fake].sum(axis=(1, 2, 3)) == (SIZE // 4) ** 2).all()
        assert loaded.masks[~fake].sum() == 0


def test_a_missing_export_is_one_line_naming_the_file(tmp_path):
    with pytest.raises(SystemExit) as exit_info:
        bench_long_training.main(["train", "--data", str(tmp_path), "--output", str(tmp_path / "out.json")])
    assert f"{tmp_path / 'train.npz'}: not found" in str(exit_info.value)


def test_training_without_tensorflow_learns_the_squares_and_writes_a_row_per_model(
        exported, run_under_jax_without_tensorflow, tmp_path):
    _, folder, _ = exported
    output = tmp_path / "long.json"
    finished = run_under_jax_without_tensorflow(
        "from experiments import bench_long_training\n"
        f"bench_long_training.main(['train', '--data', {str(folder)!r}, '--epochs', '8', '1', "
        f"'--precision', 'float32', '--output', {str(output)!r}])\n"
    )
    assert finished.returncode == 0, finished.stderr[-3000:]
    results = json.loads(output.read_text())
    assert results["backend"] == "jax" and results["policy"] == "float32"
    assert results["examples"] == COUNTS
    rows = results["rows"]
    assert [(row["model"], row["epochs"]) for row in rows] == [("unet", 1), ("unet", 8)]  # shortest first
    for row in rows:
        assert 1 <= row["best_epoch"] <= row["epochs"] and 0.05 <= row["threshold"] <= 0.99
        assert row["targets_met"] == (row["fake_dice"] >= 0.6 and row["frame_roc_auc"] >= 0.95
                                      and row["real_flagged"] < 0.1)
    longer = rows[1]
    assert longer["best_val_dice"] > rows[0]["best_val_dice"]
    assert longer["frame_roc_auc"] > 0.9 and longer["fake_dice_at_0.5"] > 0.5, longer
    assert "| unet | 8 | 0 |" in finished.stdout


def test_exporting_a_config_that_is_not_built_is_one_line_with_the_build_command(tmp_path):
    with pytest.raises(SystemExit) as exit_info:
        bench_long_training.main(["export", "--dataset", "dfdc_masks/synthetic_p40", "--data-dir", str(tmp_path),
                                  "--to", str(tmp_path / "export")])
    assert "dfdc_masks/synthetic_p40 is not built in" in str(exit_info.value)
    assert "tfds build dfdc_masks --config synthetic_p40" in str(exit_info.value)
    assert not (tmp_path / "export").exists()
