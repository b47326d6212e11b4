"""Generation in one process: video by video, faces cached on disk so a rerun resumes."""

import logging
from collections.abc import Callable, Iterable, Iterator

from dfseg_tf.records.examples import keyed_examples
from dfseg_tf.records.reports import write_report
from dfseg_tf.extraction import BoxCache, ExtractionConfig, SkipReport, extract_many
from dfseg_tf.extraction.detectors import default_detector
from dfseg_tf.sources.entry import VideoEntry

logger = logging.getLogger(__name__)


def generate_split(
    entries: list[VideoEntry],
    config: ExtractionConfig,
    *,
    box_cache_dir,
    report_path,
    blender=None,
    progress: Callable[[list[VideoEntry]], Iterable[VideoEntry]] = iter,
) -> Iterator[tuple[int, dict]]:
    """Yields ``(key, example)`` for every frame of every usable video of one split.

    Only one video's frames are in memory at a time. The boxes of each original are
    detected once and kept in a ``BoxCache`` at ``box_cache_dir`` (inside the data dir),
    so an interrupted build does not detect again. Videos that cannot be used are
    skipped with a reason; the split's ``SkipReport`` is written to ``report_path``
    when the split is done.

    Args:
      entries: the split's videos, in key order (``entries_by_split``).
      config: the extraction settings.
      box_cache_dir: folder of the box cache (one per ``ExtractionConfig``).
      report_path: JSON file for this split's skip report.
      blender: a ``SelfBlender`` for a ``self_blended`` build (each frame gives a real
        and a fake example), or None.
      progress: wraps the entries as they are extracted, one by one (the builder passes a
        tqdm bar, whose total is then the split's number of videos, skipped ones included).
    """
    numbers = {entry.video_id: number for number, entry in enumerate(entries)}
    report = SkipReport()
    extracted = extract_many(
        progress(entries), config, detector=default_detector(), box_cache=BoxCache(box_cache_dir), report=report
    )
    to_examples = blender.keyed_examples if blender else keyed_examples
    for entry, frames in extracted:
        yield from to_examples(numbers[entry.video_id], entry, frames)
    write_report(report, report_path)
    logger.info("%s", report.summary_line())
