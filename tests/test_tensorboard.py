"""A run's TensorBoard logs, read back through a real ``tensorboard`` server's HTTP API."""

import io
import json
import socket
import subprocess
import sys
import time
import urllib.parse
import urllib.request

import numpy as np
import pytest
from PIL import Image

from dfseg_tf.data import planted_square_dataset
from dfseg_tf.training.callbacks import IMAGE_SUMMARY_TAG
from experiments.train_unet import TrainConfig, run

SIZE = 32
EPOCHS = 2
SUMMARY_IMAGES = 3


def free_loopback_port():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def get(base, path, **query):
    url = f"{base}{path}" + (f"?{urllib.parse.urlencode(query)}" if query else "")
    with urllib.request.urlopen(url, timeout=10) as response:
        return response.read()


def get_json(base, path, **query):
    return json.loads(get(base, path, **query))


@pytest.fixture(scope="module")
def log_dir(tmp_path_factory):
    run_dir = tmp_path_factory.mktemp("tb") / "run"
    datasets = {
        "train": planted_square_dataset(16, size=SIZE, seed=1),
        "validation": planted_square_dataset(4, size=SIZE, seed=2),
    }
    config = TrainConfig(output_dir=str(run_dir), epochs=EPOCHS, batch_size=8,
                         summary_images=SUMMARY_IMAGES, verbose=0)
    run(config, datasets)
    return run_dir / "logs"


@pytest.fixture(scope="module")
def tensorboard(log_dir):
    port = free_loopback_port()
    server = subprocess.Popen(
        [sys.executable, "-m", "tensorboard.main", "--logdir", str(log_dir),
         "--host", "127.0.0.1", "--port", str(port), "--load_fast", "false"],
        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        _wait_for_runs(base, server, expected={"train", "validation", "images"})
        yield base
    finally:
        server.terminate()
        server.wait(timeout=30)


def _wait_for_runs(base, server, *, expected, timeout_s=90):
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if server.poll() is not None:
            pytest.fail(f"tensorboard exited with {server.returncode}: {server.stderr.read()[-2000:]}")
        try:
            if expected <= set(get_json(base, "/data/runs")):
                return
        except OSError:
            pass  # not listening yet
        time.sleep(0.5)
    pytest.fail(f"tensorboard at {base} did not list runs {sorted(expected)} within {timeout_s} s")


def test_scalars_hold_loss_dice_and_learning_rate_per_epoch(tensorboard):
    tags = get_json(tensorboard, "/data/plugin/scalars/tags")
    assert {"epoch_loss", "epoch_dice", "epoch_image_dice", "epoch_learning_rate"} <= set(tags["train"])
    assert {"epoch_loss", "epoch_dice", "epoch_image_dice"} <= set(tags["validation"])
    for run_name in ("train", "validation"):
        points = get_json(tensorboard, "/data/plugin/scalars/scalars", run=run_name, tag="epoch_loss")
        assert [step for _, step, _ in points] == list(range(EPOCHS))
    learning_rates = get_json(tensorboard, "/data/plugin/scalars/scalars", run="train", tag="epoch_learning_rate")
    assert [value for _, _, value in learning_rates] == pytest.approx([1e-4] * EPOCHS)


def test_every_epoch_has_a_grid_of_images_true_and_predicted_masks(tensorboard):
    tags = get_json(tensorboard, "/data/plugin/images/tags")
    assert IMAGE_SUMMARY_TAG in tags["images"]
    entries = get_json(tensorboard, "/data/plugin/images/images", run="images", tag=IMAGE_SUMMARY_TAG, sample=0)
    assert [entry["step"] for entry in entries] == list(range(EPOCHS))
    png = get(tensorboard, "/data/plugin/images/individualImage?" + entries[-1]["query"])
    grid = np.asarray(Image.open(io.BytesIO(png)))
    # A row per validation image: [image | true mask | predicted map].
    assert grid.shape[:2] == (SUMMARY_IMAGES * SIZE, 3 * SIZE)
    true_masks = grid[:, SIZE : 2 * SIZE]
    assert set(np.unique(true_masks)) <= {0, 255} and true_masks.max() == 255
