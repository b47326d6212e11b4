"""Generation with Apache Beam: faces detected once per original, then joined to its videos.

Stage 1 reads each original once and computes the face box of every sampled frame;
stage 2 groups each original's boxes with all videos cut from it (the original itself
and its fakes, CoGroupByKey on ``original_id``) and extracts their frames. Every video
shares its original's split, so each split runs its own two stages. Everything that is
pickled to workers lives in this module, imported from the installed package.
"""

import apache_beam as beam

from dfseg_tf.build.examples import keyed_examples
from dfseg_tf.build.reports import write_report
from dfseg_tf.extraction import FaceDetector, extract_video, original_face_boxes
from dfseg_tf.extraction.report import SkipReport, VideoSkipped
from dfseg_tf.sources.entry import VideoEntry

_REPORT = "report"


def _original_of(numbered: tuple[int, VideoEntry]) -> tuple[str, str]:
    entry = numbered[1]
    return entry.original_id, str(entry.original_path or entry.path)


class _DetectOriginalBoxes(beam.DoFn):
    """(original_id, path) -> (original_id, boxes), or (original_id, the skip reason)."""

    def __init__(self, config):
        self._config = config

    def setup(self):
        self._detector = FaceDetector()  # once per worker: loading MTCNN takes seconds

    def process(self, original):
        original_id, path = original
        try:
            yield original_id, original_face_boxes(path, self._config, self._detector)
        except VideoSkipped as skipped:
            yield original_id, str(skipped)


class _ExtractVideos(beam.DoFn):
    """(original_id, {boxes, videos}) -> examples; one ``report`` record per video."""

    def __init__(self, config):
        self._config = config

    def setup(self):
        self._detector = None  # created on first need: most workers never need one here

    def process(self, grouped):
        _, joined = grouped
        (boxes,) = joined["boxes"]
        for number, entry in joined["videos"]:
            try:
                frames = self._extract(entry, boxes)
            except VideoSkipped as skipped:
                yield beam.pvalue.TaggedOutput(_REPORT, (entry.video_id, str(entry.path), str(skipped)))
                continue
            yield beam.pvalue.TaggedOutput(_REPORT, (entry.video_id, str(entry.path), None))
            yield from keyed_examples(number, entry, frames)

    def _extract(self, entry, boxes):
        if isinstance(boxes, str):
            # Stage 1 could not read the original (absent, unreadable). extract_video checks
            # and probes the files before it detects anything, so it names this video's own
            # reason ("missing file", "missing original", "unreadable") without detecting.
            boxes = None
        return extract_video(entry, self._config, boxes=boxes, detector=self._detector_for(entry))

    def _detector_for(self, entry):
        """A fake allowed to be shorter than its original is sampled over its own length, at
        frames stage 1 may not have detected; no other video needs a detector here."""
        if not (entry.is_fake and self._config.allows_shorter_fake(entry.source)):
            return None
        if self._detector is None:
            self._detector = FaceDetector()
        return self._detector


def _write_split_report(outcomes, report_path) -> None:
    report = SkipReport()
    for video_id, path, reason in sorted(outcomes, key=lambda outcome: outcome[0]):
        if reason is None:
            report.add_processed()
        else:
            report.add_skipped(video_id, path, reason)
    write_report(report, report_path)


@beam.ptransform_fn
def ExtractSplit(root, entries: list[VideoEntry], config, report_path):  # noqa: N802 (Beam naming)
    """PTransform: pipeline root -> ``(key, example)`` of one split; writes its skip report.

    Args:
      root: the pipeline (``PBegin``), given by TFDS.
      entries: the split's videos in key order (``entries_by_split``).
      config: the ``ExtractionConfig``.
      report_path: JSON file for this split's skip report (``str``, may be ``gs://``).
    """
    videos = root | "Videos" >> beam.Create(list(enumerate(entries)))
    boxes = (
        videos
        | "OriginalOf" >> beam.Map(_original_of)
        | "DistinctOriginals" >> beam.Distinct()
        | "ReshuffleOriginals" >> beam.Reshuffle()
        | "DetectFaces" >> beam.ParDo(_DetectOriginalBoxes(config))
    )
    by_original = videos | "KeyByOriginal" >> beam.Map(lambda numbered: (numbered[1].original_id, numbered))
    extracted = (
        {"boxes": boxes, "videos": by_original}
        | "JoinBoxes" >> beam.CoGroupByKey()
        | "Extract" >> beam.ParDo(_ExtractVideos(config)).with_outputs(_REPORT, main="examples")
    )
    _ = (
        extracted[_REPORT]
        | "CollectOutcomes" >> beam.combiners.ToList()
        | "WriteReport" >> beam.Map(_write_split_report, str(report_path))
    )
    return extracted.examples
