"""Training on two workers: MultiWorkerMirroredStrategy from TF_CONFIG over loopback,
each worker reading its own record files of a real TFDS dataset."""

import json
import os
import pathlib
import socket
import subprocess
import sys

import pytest
import tensorflow as tf
import tensorflow_datasets as tfds

from dfseg_tf.data import load_split, planted_square_dataset
from dfseg_tf.models.card import ModelCard
from dfseg_tf.training.strategy import scaled_learning_rate
from experiments.train_unet import TrainConfig

REPO = pathlib.Path(__file__).resolve().parents[1]
SIZE = 32
FILES_PER_SPLIT = 2
WORKER_TIMEOUT_S = 150


@pytest.fixture(scope="module")
def data_dir(tmp_path_factory, store_frames_dataset):
    """dfdc_masks features on tiny planted squares, each split written as two record files."""
    splits = {"train": (16, 0), "validation": (8, 1)}  # split -> (examples, seed)
    return store_frames_dataset(
        "two_file_masks/synthetic", tmp_path_factory.mktemp("tfds"),
        {split: planted_square_dataset(count, size=SIZE, seed=seed) for split, (count, seed) in splits.items()},
        size=SIZE, files_per_split=FILES_PER_SPLIT,
    )


def _video_ids(ds):
    return [example["video_id"].decode() for example in ds.as_numpy_iterator()]


def test_each_input_pipeline_reads_its_own_record_files(data_dir):
    info = tfds.builder("two_file_masks/synthetic", data_dir=data_dir).info
    assert info.splits["train"].num_shards == FILES_PER_SPLIT
    shares = [
        _video_ids(load_split("two_file_masks/synthetic", "train", data_dir,
                              input_context=tf.distribute.InputContext(2, index, 2)))
        for index in range(2)
    ]
    assert all(shares) and not set(shares[0]) & set(shares[1])
    assert sorted(shares[0] + shares[1]) == sorted(_video_ids(load_split("two_file_masks/synthetic", "train", data_dir)))
    # Files are whole: each pipeline holds exactly the examples of the files it was given.
    assert sorted(len(share) for share in shares) == sorted(info.splits["train"].shard_lengths)


def test_more_pipelines_than_files_share_out_examples(data_dir):
    shares = [
        _video_ids(load_split("two_file_masks/synthetic", "validation", data_dir,
                              input_context=tf.distribute.InputContext(3, index, 3)))
        for index in range(3)
    ]
    everything = _video_ids(load_split("two_file_masks/synthetic", "validation", data_dir))
    assert [len(share) for share in shares] == [3, 3, 2]
    assert sorted(sum(shares, [])) == sorted(everything)


def test_batch_and_learning_rate_scale_with_the_replicas():
    config = TrainConfig(batch_size=16, learning_rate=1e-4)
    assert config.scale(4)["global_batch_size"] == 64
    assert config.scale(4)["learning_rate"] == pytest.approx(2e-4)  # sqrt(4) x
    assert scaled_learning_rate(1e-4, 4, "linear") == pytest.approx(4e-4)
    assert scaled_learning_rate(1e-4, 4, "none") == 1e-4
    with pytest.raises(ValueError, match="lr_scaling='cubic'"):
        scaled_learning_rate(1e-4, 4, "cubic")


def _free_loopback_ports(count):
    probes = [socket.socket() for _ in range(count)]
    try:
        for probe in probes:
            probe.bind(("127.0.0.1", 0))
        return [probe.getsockname()[1] for probe in probes]
    finally:
        for probe in probes:
            probe.close()


def _start_workers(run_dir, data_dir, log_dir):
    cluster = {"worker": [f"127.0.0.1:{port}" for port in _free_loopback_ports(2)]}
    flags = [
        "--dataset", "two_file_masks/synthetic", "--data-dir", str(data_dir), "--output-dir", str(run_dir),
        "--model", "unet_v1", "--epochs", "1", "--batch-size", "2", "--max-train-batches", "2",
        "--summary-images", "2", "--verbose", "0",
    ]
    workers = []
    for index in range(2):
        env = {
            **os.environ,
            "TF_CONFIG": json.dumps({"cluster": cluster, "task": {"type": "worker", "index": index}}),
            "CUDA_VISIBLE_DEVICES": "",
            "TF_CPP_MIN_LOG_LEVEL": "2",
        }
        log = open(log_dir / f"worker{index}.log", "w")
        workers.append((subprocess.Popen(
            [sys.executable, "-m", "experiments.train_unet", *flags],
            cwd=REPO, env=env, stdout=log, stderr=subprocess.STDOUT,
        ), log))
    return workers


def _wait(workers, log_dir):
    """Exit codes of both workers; a hang past the timeout kills them and fails."""
    codes = []
    try:
        for process, _ in workers:
            codes.append(process.wait(timeout=WORKER_TIMEOUT_S))
    except subprocess.TimeoutExpired:
        pytest.fail(f"workers did not finish in {WORKER_TIMEOUT_S} s:\n" + _tails(log_dir))
    finally:
        for process, log in workers:
            if process.poll() is None:
                process.kill()
                process.wait()
            log.close()
    return codes


def _tails(log_dir):
    return "\n".join(f"--- {path.name}\n{path.read_text()[-3000:]}" for path in sorted(log_dir.glob("*.log")))


def test_two_workers_train_one_model_and_only_the_chief_writes_the_run_folder(data_dir, tmp_path):
    run_dir = tmp_path / "run"
    workers = _start_workers(run_dir, data_dir, tmp_path)

    assert _wait(workers, tmp_path) == [0, 0], _tails(tmp_path)

    results = json.loads((run_dir / "results.json").read_text())
    assert (results["num_workers"], results["num_replicas"], results["global_batch_size"]) == (2, 2, 4)
    assert results["learning_rate"] == pytest.approx(1e-4 * 2**0.5)
    assert results["epochs"] == [0] and results["best_model"] == str(run_dir / "best.keras")
    assert ModelCard.load(run_dir / "best.keras").architecture == "unet_v1"
    assert sorted(path.name for path in run_dir.iterdir()) == [
        "best.keras", "best.keras.json", "config.json", "history.csv", "logs", "results.json"
    ]
    # Worker 1 trained in step with the chief and wrote only to its scratch folder.
    assert f"run folder: {run_dir}" in (tmp_path / "worker1.log").read_text()
    assert "every pipeline reads all" not in _tails(tmp_path)
