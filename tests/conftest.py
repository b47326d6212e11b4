"""Fixtures shared across test modules."""

import dataclasses
import importlib.util
import os
import pathlib
import subprocess
import sys

from dfseg_tf.quiet import import_tensorflow_quietly

# Before Keras brings TensorFlow in: its native start-up lines would otherwise reach the
# console from every pytest-xdist process, whose start pytest's capture does not cover.
import_tensorflow_quietly()

import keras  # noqa: E402
import pytest  # noqa: E402
import tensorflow_datasets as tfds  # noqa: E402

from dfseg_tf.records import frame_features  # noqa: E402
from experiments import tfds_build  # noqa: E402

SYNTHETIC_FRAMES = 4


@pytest.fixture(autouse=True)
def float32_policy_after_each_test():
    """Training runs set the process-wide dtype policy (``--precision auto``: mixed_bfloat16
    on a CPU with AMX): each test starts from Keras' float32, whatever the one before trained."""
    yield
    keras.config.set_dtype_policy("float32")


@dataclasses.dataclass(frozen=True)
class SyntheticRecords:
    """A real build of the synthetic config at 4 frames a video, as ``tfds build`` builds it."""

    config: str  # the JSON --config given to tfds build
    name: str  # e.g. dfdc_masks/synthetic_f4, for tfds.load
    data_dir: pathlib.Path
    download_dir: pathlib.Path  # holds the written corpus and the face-box cache
    build: tfds_build.Built  # with the build's captured output


@pytest.fixture(scope="session")
def synthetic_records(tmp_path_factory) -> SyntheticRecords:
    """Built once per test session; the builder's own tests and the end-to-end runs read it."""
    root = tmp_path_factory.mktemp("synthetic_records")
    config = tfds_build.small_synthetic_config(SYNTHETIC_FRAMES)
    result = tfds_build.build(config, root / "data", download_dir=root / "downloads", capture=True)
    return SyntheticRecords(
        config=config,
        name=result.name,
        data_dir=root / "data",
        download_dir=root / "downloads",
        build=result,
    )


@pytest.fixture(scope="session")
def store_frames_dataset():
    """``store(name, data_dir, split_examples, *, size, files_per_split=1) -> data_dir``: see below."""
    return _store_frames_dataset


def _store_frames_dataset(name: str, data_dir, split_examples, *, size: int, files_per_split: int = 1) -> str:
    """Writes ``{split: examples}`` as a real TFDS data set named ``name`` ("x/config").

    ``examples``: a list of example dicts or a tf.data.Dataset of them.

    The features are dfdc_masks' at ``size`` pixels, with PNG images so that the pixel
    values tests compute by hand survive the round trip. Returns the data dir.
    """
    dataset, config = name.split("/")
    tfds.dataset_builders.store_as_tfds_dataset(
        name=dataset, version="1.0.0", config=config, data_dir=data_dir,
        features=frame_features(size=size, image_encoding="png"),
        split_datasets=split_examples,
        download_config=tfds.download.DownloadConfig(num_shards=files_per_split),
    )
    return str(data_dir)


# Hides TensorFlow from the path search itself, so that everything sees it as a machine
# without it does: `import tensorflow` fails, find_spec("tensorflow") is None.
_WITHOUT_TENSORFLOW = """
import importlib.machinery, sys
class _PathFinderWithoutTensorFlow(importlib.machinery.PathFinder):
    @classmethod
    def find_spec(cls, name, path=None, target=None):
        if name.split(".")[0] == "tensorflow":
            return None
        return super().find_spec(name, path, target)
sys.meta_path[sys.meta_path.index(importlib.machinery.PathFinder)] = _PathFinderWithoutTensorFlow
"""


@pytest.fixture
def run_under_jax_without_tensorflow():
    """Runs a Python script in a child under the Keras jax backend (CPU) with TensorFlow
    unimportable, as on a JAX or PyTorch machine; returns the finished process. Skips where
    jax is not installed."""
    if importlib.util.find_spec("jax") is None:
        pytest.skip("jax is not installed (the [test] extra brings its CPU wheel): no second Keras backend")

    def run(script: str) -> subprocess.CompletedProcess:
        return subprocess.run(
            [sys.executable, "-c", _WITHOUT_TENSORFLOW + script],
            env={**os.environ, "KERAS_BACKEND": "jax", "JAX_PLATFORMS": "cpu"},
            capture_output=True, text=True, timeout=600, check=False, cwd=pathlib.Path(__file__).resolve().parents[1],
        )

    return run
