"""Fixtures shared across test modules."""

import dataclasses
import pathlib
import subprocess

import pytest

from experiments import tfds_build

SYNTHETIC_FRAMES = 4


@dataclasses.dataclass(frozen=True)
class SyntheticRecords:
    """A real ``tfds build`` of the synthetic config at 4 frames a video."""

    config: str  # the JSON --config given to tfds build
    name: str  # e.g. dfdc_masks/synthetic_f4, for tfds.load
    data_dir: pathlib.Path
    download_dir: pathlib.Path  # holds the written corpus and the face-box cache
    build: subprocess.CompletedProcess  # the build's captured output


@pytest.fixture(scope="session")
def synthetic_records(tmp_path_factory) -> SyntheticRecords:
    """Built once per test session; the builder's own tests and the end-to-end runs read it."""
    root = tmp_path_factory.mktemp("synthetic_records")
    config = tfds_build.small_synthetic_config(SYNTHETIC_FRAMES)
    result = tfds_build.build(config, root / "data", download_dir=root / "downloads", capture=True)
    return SyntheticRecords(
        config=config,
        name=f"{tfds_build.BUILDER_NAME}/{tfds_build.config_name(config)}",
        data_dir=root / "data",
        download_dir=root / "downloads",
        build=result,
    )
