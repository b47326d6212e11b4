"""Build a ``dfdc_masks`` config in this process through TFDS's Python API, quietly.

    python -m experiments.tfds_build build dfdc_masks --config synthetic --data_dir ~/tensorflow_datasets

takes the ``tfds build`` flags this builder uses (``--config``, a name or the JSON fields
of a new config; ``--data_dir``, ``--download_dir``, ``--manual_dir``,
``--beam_pipeline_options``) and runs the same build: the builder class is loaded from
``datasets/dfdc_masks`` as ``tfds build`` loads it, then ``download_and_prepare`` gets a
``tfds.download.DownloadConfig``. It prints TFDS's first and last line (where the records
go), one progress bar per split that ends at the split's number of videos, the builder's
one-line summary of used and skipped videos, and warnings and errors; not TensorFlow's
start-up lines, TFDS's INFO log and its own progress bars (which stop short of their
totals), nor the whole DatasetInfo that ``tfds build`` prints last (it is in the built
dataset_info.json). A fault of the input data ends it with one line
``tfds build dfdc_masks: error: ...``. ``experiments.reproduce``, the benchmarks and the
tests call :func:`build`. A config already built in the data dir is not built again
(TFDS's rule).
"""

import argparse
import contextlib
import dataclasses
import json
import logging
import pathlib
import sys

import tensorflow_datasets as tfds
from etils import epath

from dfseg_tf import quiet
from dfseg_tf.records import EmptySplitError
from dfseg_tf.sources import SourceLayoutError

DATASETS_DIR = pathlib.Path(__file__).resolve().parents[1] / "datasets"
BUILDER_NAME = "dfdc_masks"


@dataclasses.dataclass(frozen=True)
class Built:
    """A config built (or found built): its name for ``tfds.load``, what the build
    printed when it was captured (else empty), and whether it was found built."""

    name: str
    output: str
    found_built: bool = False


def small_synthetic_config(frames_per_video: int) -> str:
    """The synthetic config at fewer frames a video, in the JSON form ``tfds build --config`` takes."""
    return json.dumps(
        {"name": f"synthetic_f{frames_per_video}", "dataset": "synthetic", "frames_per_video": frames_per_video}
    )


def config_name(config: str) -> str:
    """``synthetic`` -> ``synthetic``; a JSON config -> its ``name``."""
    return json.loads(config)["name"] if _is_json(config) else config


def _is_json(config: str) -> bool:
    return config.lstrip().startswith("{")


def builder_class() -> type[tfds.core.GeneratorBasedBuilder]:
    """The builder of ``datasets/dfdc_masks``, imported as ``tfds build`` imports it: as
    module ``dfdc_masks.dfdc_masks_dataset_builder``, without registering it, so that
    ``tfds.load`` of a built config still reads the config from its dataset_info.json."""
    quiet.import_apache_beam_quietly()  # before the builder module imports it
    with tfds.core.utils.add_sys_path(DATASETS_DIR):
        return tfds.core.community.builder_cls_from_module(f"{BUILDER_NAME}.{BUILDER_NAME}_dataset_builder")


def builder_config(config: str):
    """``--config`` as ``tfds build`` reads it: a config name, or a new config from JSON fields."""
    return builder_class().builder_config_cls(**json.loads(config)) if _is_json(config) else config


def download_config(*, manual_dir=None, beam_pipeline_options: str | None = None) -> tfds.download.DownloadConfig:
    """The ``DownloadConfig`` that ``tfds build`` makes of these flags; Beam options make a Beam build."""
    beam_options = None
    if beam_pipeline_options:
        from apache_beam.options.pipeline_options import PipelineOptions

        beam_options = PipelineOptions(flags=[f"--{option}" for option in beam_pipeline_options.split(",")])
    return tfds.download.DownloadConfig(manual_dir=manual_dir, beam_options=beam_options)


def build(config: str, data_dir, *, download_dir=None, extra_args=(), capture=False) -> Built:
    """Builds as ``tfds build dfdc_masks --config CONFIG --data_dir DATA_DIR [EXTRA_ARGS]`` does.

    Args:
      config: a config name, or the JSON form of a new config (``small_synthetic_config``).
      data_dir: the TFDS data dir to build into.
      download_dir: TFDS's download dir (the synthetic corpus is written there); default
        ``<data_dir>/downloads``.
      extra_args: further ``tfds build`` flags, of ``--manual_dir DIR`` and
        ``--beam_pipeline_options OPTIONS``.
      capture: return the build's output (with that of Beam's worker processes) in
        ``Built.output`` instead of showing it.

    Raises:
      SourceLayoutError: ``--manual_dir`` is absent or does not hold the config's layout.
      EmptySplitError: a split has no usable video.
      ValueError: ``extra_args`` holds another flag.
    """
    flags = _parse_extra_args(extra_args)
    with quiet.captured_output(enabled=capture) as output, _tfds_quieted():
        builder = builder_class()(config=builder_config(config), data_dir=str(data_dir))
        found_built = builder.is_prepared()
        builder.download_and_prepare(download_dir=download_dir, download_config=download_config(
            manual_dir=flags.manual_dir, beam_pipeline_options=flags.beam_pipeline_options))
    return Built(f"{BUILDER_NAME}/{builder.builder_config.name}", output.text, found_built)


class _RoutineTfdsWarnings(logging.Filter):
    """Drops the two warnings TFDS 4.9.10 logs before every first build of a config of
    ours, neither a problem: a config given as JSON is "custom" (the user asked for it),
    and the version folder about to be written "has no dataset_info.json" (it does not
    exist yet; a folder that exists without it is still reported)."""

    def filter(self, record: logging.LogRecord) -> bool:
        if record.msg == "Using custom data configuration: %s":
            return False
        if record.msg == "Variant folder %s has no %s":
            return epath.Path(record.args[0]).exists()
        return True


@contextlib.contextmanager
def _tfds_quieted():
    """TFDS's progress bars off and its routine warnings dropped, for the block.

    TFDS's bars are redrawn at most once a second and erased when done (``leave=False``),
    so a log keeps them wherever they were last drawn (a synthetic_f2 build's train split:
    49 of its 50 examples generated, 0 of 50 shuffled) and a terminal not at all. The
    builder draws its own, one per split, to the split's number of videos. Afterwards
    TFDS's bars are on again, as by default.
    """
    tfds_logger = logging.getLogger("absl")  # TFDS logs through absl.logging
    routine = _RoutineTfdsWarnings()
    tfds_logger.addFilter(routine)
    tfds.disable_progress_bar()
    try:
        yield
    finally:
        tfds.enable_progress_bar()
        tfds_logger.removeFilter(routine)


def _extra_flags() -> argparse.ArgumentParser:
    """The ``tfds build`` flags that ``build`` takes in ``extra_args``."""
    parser = argparse.ArgumentParser(add_help=False, exit_on_error=False)
    parser.add_argument("--manual_dir", help="folder of the manual download (every config but synthetic)")
    parser.add_argument("--beam_pipeline_options",
                        help="comma-separated Apache Beam options, e.g. runner=DirectRunner,direct_num_workers=2 "
                             "(default: build in this process, without Beam)")
    return parser


def _parse_extra_args(extra_args) -> argparse.Namespace:
    flags, unknown = _extra_flags().parse_known_args(list(extra_args))
    if unknown:
        raise ValueError(f"tfds_build.build takes --manual_dir and --beam_pipeline_options, not {unknown}")
    return flags


def parse_flags(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m experiments.tfds_build", parents=[_extra_flags()],
        description=f"Build a {BUILDER_NAME} config with TFDS's Python API, as tfds build does.",
    )
    parser.add_argument("command", choices=["build"], help="what tfds build does (the only command)")
    parser.add_argument("dataset", choices=[BUILDER_NAME], help="the builder (the only one)")
    parser.add_argument("--config", required=True, help="config name, or a JSON object of config fields")
    parser.add_argument("--data_dir", default=str(tfds.core.constants.get_default_data_dir()),
                        help="TFDS data dir (default: TFDS's, ~/tensorflow_datasets or $TFDS_DATA_DIR)")
    parser.add_argument("--download_dir", help="download dir (default: DATA_DIR/downloads)")
    return parser.parse_args(argv)


def main(argv=None) -> None:
    """A fault of the input data (``SourceLayoutError``, an empty split) ends the command
    with one line ``tfds build dfdc_masks: error: ...`` and status 1, without traceback."""
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    flags = parse_flags(argv)
    extra_args = [f"--{name}={value}" for name in ("manual_dir", "beam_pipeline_options")
                  if (value := getattr(flags, name)) is not None]
    try:
        build(flags.config, flags.data_dir, download_dir=flags.download_dir, extra_args=extra_args)
    except (SourceLayoutError, EmptySplitError) as error:
        sys.exit(f"tfds build {BUILDER_NAME}: error: {error}")


if __name__ == "__main__":
    main()
