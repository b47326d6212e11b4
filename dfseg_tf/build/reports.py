"""The skip report of a build: one JSON per split while generating, one merged file at the end.

Paths go through ``etils.epath`` so the report can sit beside a data set on GCS too.
"""

import json
import logging

from etils import epath

from dfseg_tf.extraction.report import SkipReport

logger = logging.getLogger(__name__)

REPORT_NAME = "skip_report.json"
_SPLIT_REPORT_GLOB = "skip_report-*.json"


def split_report_path(data_dir, split: str) -> epath.Path:
    """Where the generation of ``split`` leaves its part of the report."""
    return epath.Path(data_dir) / f"skip_report-{split}.json"


def write_report(report: SkipReport, path) -> None:
    epath.Path(path).write_text(json.dumps(report.to_dict(), indent=2))


def read_report(path) -> SkipReport:
    data = json.loads(epath.Path(path).read_text())
    return SkipReport(
        processed=data["processed"], skipped=list(data["skipped"]), skipped_frames=list(data.get("skipped_frames", []))
    )


def merge_split_reports(data_dir) -> SkipReport:
    """Merges the per-split reports in ``data_dir`` into ``skip_report.json`` and returns it.

    The per-split files are removed, so the version folder holds one report.
    """
    data_dir = epath.Path(data_dir)
    merged = SkipReport()
    for part in sorted(data_dir.glob(_SPLIT_REPORT_GLOB)):
        merged.merge(read_report(part))
        part.unlink()
    merged.skipped.sort(key=lambda skip: skip["video_id"])
    write_report(merged, data_dir / REPORT_NAME)
    logger.info("Skip report: %s", merged.summary_line())
    return merged
