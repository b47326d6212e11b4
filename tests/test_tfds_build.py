"""``python -m experiments.tfds_build``: the console of a real build shows progress, the
summary and real problems only (issue 17: no cuInit, apitools or DatasetInfo dump, and
progress bars that end at their totals)."""

import re
import subprocess
import sys

import pytest

from dfseg_tf.records import SYNTHETIC_CORPUS_FOLDER, BuildPlan, entries_by_split
from experiments import tfds_build

FRAMES = 2
CONFIG = tfds_build.small_synthetic_config(FRAMES)
NAME = f"dfdc_masks/synthetic_f{FRAMES}"
# Every line the build may show, and nothing else.
ALLOWED_LINES = {
    "TFDS's first line": re.compile(rf"Downloading and preparing dataset .* to .*/{NAME}/[\d.]+\.\.\."),
    "a split's progress bar": re.compile(rf"{NAME} (train|validation|test): +\d+%\|.*\| \d+/\d+ \[.*\]"),
    "the builder's summary": re.compile(rf"{NAME}: \d+ videos used, \d+ skipped .*\(details: skip_report\.json .*\)"),
    "TFDS's last line": re.compile(rf"Dataset dfdc_masks downloaded and prepared to .*/{NAME}/[\d.]+\. .*"),
}
NOISE = ("cuInit", "apitools", "tfds.core.DatasetInfo(", "XNNPACK", "oneDNN", "Using custom data configuration",
         "has no dataset_info.json", "INFO")


@pytest.fixture(scope="module")
def console(synthetic_records, tmp_path_factory) -> str:
    """Everything the command printed (both streams) building over the session's synthetic corpus."""
    command = [sys.executable, "-m", "experiments.tfds_build", "build", "dfdc_masks", "--config", CONFIG,
               "--data_dir", str(tmp_path_factory.mktemp("console") / "data"),
               "--download_dir", str(synthetic_records.download_dir)]
    result = subprocess.run(command, cwd=tfds_build.DATASETS_DIR.parent, capture_output=True, text=True, timeout=900)
    assert result.returncode == 0, result.stderr[-4000:]
    return result.stdout + result.stderr


def _lines(console: str) -> list[str]:
    """The console's lines as a terminal shows them one after the other (a bar redraws after a carriage return)."""
    return [line.strip() for line in re.split(r"[\r\n]", console) if line.strip()]


def test_every_line_is_progress_the_summary_or_where_the_records_go(console):
    for noise in NOISE:
        assert noise not in console
    for line in _lines(console):
        assert any(pattern.fullmatch(line) for pattern in ALLOWED_LINES.values()), line
    for what, pattern in ALLOWED_LINES.items():
        assert any(pattern.fullmatch(line) for line in _lines(console)), f"no {what}"


def test_each_split_bar_ends_at_the_number_of_videos_in_the_split(console, synthetic_records):
    corpus = synthetic_records.download_dir / SYNTHETIC_CORPUS_FOLDER
    entries = entries_by_split(BuildPlan.from_options("synthetic", frames_per_video=FRAMES).list_entries(corpus))
    for split, videos in entries.items():
        last = [line for line in _lines(console) if line.startswith(f"{NAME} {split}:")][-1]
        assert " 100%|" in last and f"| {len(videos)}/{len(videos)} [" in last, last
