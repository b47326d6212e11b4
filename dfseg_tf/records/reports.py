"""The skip report of a build: one JSON per split while generating, one merged file at the end.

A build that fails still leaves its report: TFDS deletes the incomplete version folder,
per-split reports included, so :func:`report_failed_build` merges them into
``skip_report.failed.json`` in the config folder first (a later successful build
removes it). Paths go through ``etils.epath`` so the report can sit beside a data set
on GCS too.
"""

import json
import logging

from etils import epath

from dfseg_tf.extraction.report import SkipReport

logger = logging.getLogger(__name__)

REPORT_NAME = "skip_report.json"
FAILED_REPORT_NAME = "skip_report.failed.json"
_SPLIT_REPORT_PREFIX = "skip_report-"


class EmptySplitError(ValueError):
    """A split of the build has no usable video; the message names it and its skip counts."""


def split_report_path(data_dir, split: str) -> epath.Path:
    """Where the generation of ``split`` leaves its part of the report."""
    return epath.Path(data_dir) / f"{_SPLIT_REPORT_PREFIX}{split}.json"


def _split_reports(data_dir) -> dict[str, epath.Path]:
    """{split: its report file} of the splits generated so far."""
    paths = sorted(epath.Path(data_dir).glob(f"{_SPLIT_REPORT_PREFIX}*.json"))
    return {path.name.removeprefix(_SPLIT_REPORT_PREFIX).removesuffix(".json"): path for path in paths}


def write_report(report: SkipReport, path) -> None:
    epath.Path(path).write_text(json.dumps(report.to_dict(), indent=2))


def read_report(path) -> SkipReport:
    data = json.loads(epath.Path(path).read_text())
    return SkipReport(
        processed=data["processed"], skipped=list(data["skipped"]), skipped_frames=list(data.get("skipped_frames", []))
    )


def merge_split_reports(data_dir, target=None) -> SkipReport:
    """Merges the per-split reports in ``data_dir`` into ``target`` (default
    ``data_dir/skip_report.json``) and returns the merged report.

    The per-split files are removed, so the version folder holds one report.
    """
    data_dir = epath.Path(data_dir)
    merged = SkipReport()
    for part in _split_reports(data_dir).values():
        merged.merge(read_report(part))
        part.unlink()
    merged.skipped.sort(key=lambda skip: skip["video_id"])
    write_report(merged, target or data_dir / REPORT_NAME)
    logger.info("Skip report: %s", merged.summary_line())
    return merged


def report_failed_build(data_dir) -> None:
    """Saves the report of a build that failed beside its version folder (``data_dir`` is the
    incomplete folder TFDS is about to delete), and explains an empty split.

    Raises:
      EmptySplitError: a generated split used no video (TFDS's own error for it is
        "No examples were yielded"); the message names the split, its skip counts and
        the saved report.
    """
    data_dir = epath.Path(data_dir)
    by_split = {split: read_report(path) for split, path in _split_reports(data_dir).items()}
    if not by_split:
        return
    saved = data_dir.parent / FAILED_REPORT_NAME
    merge_split_reports(data_dir, saved)
    for split, report in by_split.items():
        if report.processed == 0:
            raise EmptySplitError(f'split "{split}" has no usable video: {report.summary_line()}; skip report: {saved}')


def forget_failed_build(version_dir) -> None:
    """Removes the report a failed build left beside ``version_dir``."""
    (epath.Path(version_dir).parent / FAILED_REPORT_NAME).unlink(missing_ok=True)
