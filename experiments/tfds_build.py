"""Build a ``dfdc_masks`` config with ``tfds build``, exactly as a user runs it.

A thin wrapper over TFDS's own command line (run from ``datasets/`` so that TFDS finds
the builder by its folder, with TensorFlow's start-up lines silenced), used by
``experiments.reproduce`` and the tests. A config
already built in ``--data-dir`` is not built again (TFDS's own rule).
"""

import json
import logging
import os
import pathlib
import subprocess
import sys

REPO = pathlib.Path(__file__).resolve().parents[1]
DATASETS_DIR = REPO / "datasets"
BUILDER_NAME = "dfdc_masks"


def small_synthetic_config(frames_per_video: int) -> str:
    """The synthetic config at fewer frames a video, in the JSON form ``tfds build --config`` takes."""
    return json.dumps(
        {"name": f"synthetic_f{frames_per_video}", "dataset": "synthetic", "frames_per_video": frames_per_video}
    )


def config_name(config: str) -> str:
    """``synthetic`` -> ``synthetic``; a JSON config -> its ``name``."""
    return json.loads(config)["name"] if config.lstrip().startswith("{") else config


def build(config: str, data_dir, *, download_dir=None, extra_args=(), capture=False) -> subprocess.CompletedProcess:
    """Runs ``tfds build dfdc_masks --config CONFIG --data_dir DATA_DIR`` in ``datasets/``.

    Unless ``capture``, TFDS's output streams to the terminal as it comes, except the
    repr of the whole DatasetInfo that ``tfds build`` prints last (it is in the built
    dataset_info.json too). With ``capture``, the result's ``stdout`` holds both streams.

    Raises:
      RuntimeError: the build failed; the message holds the end of TFDS's output.
    """
    command = [
        sys.executable, "-m", "experiments.tfds_build", "build", BUILDER_NAME,
        "--config", config, "--data_dir", str(pathlib.Path(data_dir).resolve()),
    ]
    if download_dir is not None:
        command += ["--download_dir", str(pathlib.Path(download_dir).resolve())]
    command += list(extra_args)
    stderr = subprocess.STDOUT if capture else None  # one pipe: two could fill and block each other
    with subprocess.Popen(command, cwd=DATASETS_DIR, env=tfds_env(), stdout=subprocess.PIPE, stderr=stderr, text=True) as process:
        stdout = "".join(_echo_until_dataset_info(process.stdout, echo=not capture))
        result = subprocess.CompletedProcess(command, process.wait(), stdout)
    if result.returncode != 0:
        tail = result.stdout[-4000:]
        raise RuntimeError(f"tfds build {BUILDER_NAME} --config {config_name(config)} failed\n{tail}")
    return result


def tfds_env() -> dict[str, str]:
    """The environment of a ``tfds build`` run from ``datasets/``: this repository importable."""
    return {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [str(REPO), os.environ.get("PYTHONPATH")]))}


def _echo_until_dataset_info(lines, *, echo: bool):
    """Yields every line; prints them while ``echo``, up to the DatasetInfo repr."""
    for line in lines:
        if line.startswith("tfds.core.DatasetInfo("):
            echo = False
        if echo:
            print(line, end="", flush=True)
        yield line


def launch_tfds_cli() -> None:
    """TFDS's own command line; a fault of the input data (``SourceLayoutError``, an empty
    split) ends it with one line ``tfds build dfdc_masks: error: ...`` and status 1 instead
    of TFDS's traceback, whose last line is the same message."""
    logging.disable(logging.WARNING)  # apache_beam warns at import about GCP clients we do not use
    from tensorflow_datasets.scripts.cli import main as tfds_main

    from dfseg_tf.records import EmptySplitError
    from dfseg_tf.sources import SourceLayoutError

    logging.disable(logging.NOTSET)
    try:
        tfds_main.launch_cli()
    except (SourceLayoutError, EmptySplitError) as error:
        sys.exit(f"tfds build {BUILDER_NAME}: error: {error}")


if __name__ == "__main__":
    # ``python -m experiments.tfds_build build ...`` is TFDS's own command line, started
    # after ``experiments`` imported TensorFlow with its native start-up lines silenced.
    launch_tfds_cli()
