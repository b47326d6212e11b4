"""Generation with Apache Beam: faces detected once per original, then joined to its videos.

Stage 1 reads each original once and computes the face box of every sampled frame;
stage 2 groups each original's boxes with all videos cut from it (the original itself
and its fakes, CoGroupByKey on ``original_id``) and extracts their frames. Every video
shares its original's split, so each split runs its own two stages. Everything that is
pickled to workers lives in this module, imported from the installed package.

Both stages also count the frames they put through the face detector, per original, and each split
logs one line of those counts when it is done (``detection_summary``): the check that
detection ran once per original however many workers there were. The counts travel as
data, not as Beam metrics, so a bundle the runner retries is not counted twice.
"""

import collections
import logging

import apache_beam as beam

from dfseg_tf.records.examples import keyed_examples
from dfseg_tf.records.reports import write_report
from dfseg_tf.extraction import extract_video, original_face_boxes
from dfseg_tf.extraction.detectors import default_detector
from dfseg_tf.extraction.report import SkipReport, VideoSkipped
from dfseg_tf.sources.entry import VideoEntry

logger = logging.getLogger(__name__)

_REPORT = "report"
_DETECTIONS = "detections"
BOXES_STAGE = "boxes"
EXTRACT_STAGE = "extract"


def _original_of(numbered: tuple[int, VideoEntry]) -> tuple[str, str]:
    entry = numbered[1]
    return entry.original_id, str(entry.original_path or entry.path)


class _DetectOriginalBoxes(beam.DoFn):
    """(original_id, path) -> (original_id, faces per frame), or (original_id, the skip reason).

    Also a ``detections`` record ``(BOXES_STAGE, original_id, frames detected)`` for
    every original whose frames went through the face detector.
    """

    def __init__(self, config):
        self._config = config

    def setup(self):
        self._detector = default_detector()  # once per worker: loading a detector takes seconds

    def process(self, original):
        original_id, path = original
        frames_before = self._detector.frames_detected
        try:
            config = self._config
            yield original_id, original_face_boxes(
                path, self._detector, frames_per_video=config.frames_per_video, margin=config.margin
            )
        except VideoSkipped as skipped:
            yield original_id, str(skipped)
        yield from _detection_record(BOXES_STAGE, original_id, self._detector.frames_detected - frames_before)


class _ExtractVideos(beam.DoFn):
    """(original_id, {boxes, videos}) -> examples; one ``report`` record per video (with the
    frames it skipped), and a ``detections`` record ``(EXTRACT_STAGE, original_id, frames)``
    if a video needed a detector."""

    def __init__(self, config, blender=None):
        self._config = config
        self._to_examples = blender.keyed_examples if blender else keyed_examples

    def setup(self):
        self._detector = None  # created on first need: most workers never need one here

    def process(self, grouped):
        _, joined = grouped
        # None when every video of this original has a skip reason (stage 1 never saw it).
        boxes = next(iter(joined["boxes"]), None)
        for number, entry in joined["videos"]:
            frames_before = self._frames_detected()
            frame_report = SkipReport()
            try:
                frames = self._extract(entry, boxes, frame_report)
            except VideoSkipped as skipped:
                yield beam.pvalue.TaggedOutput(_REPORT, (entry.video_id, str(entry.path), str(skipped), []))
            else:
                outcome = (entry.video_id, str(entry.path), None, frame_report.skipped_frames)
                yield beam.pvalue.TaggedOutput(_REPORT, outcome)
                yield from self._to_examples(number, entry, frames)
            yield from _detection_record(EXTRACT_STAGE, entry.original_id, self._frames_detected() - frames_before)

    def _frames_detected(self) -> int:
        return 0 if self._detector is None else self._detector.frames_detected

    def _extract(self, entry, boxes, report):
        if isinstance(boxes, str):
            # Stage 1 could not read the original (absent, unreadable). extract_video checks
            # and probes the files before it detects anything, so it names this video's own
            # reason ("missing file", "missing original", "unreadable") without detecting.
            boxes = None
        return extract_video(entry, self._config, boxes=boxes, detector=self._detector_for(entry), report=report)

    def _detector_for(self, entry):
        """A fake allowed to be shorter than its original is sampled over its own length, at
        frames stage 1 may not have detected; no other video needs a detector here."""
        if not (entry.is_fake and self._config.allows_shorter_fake(entry.source)):
            return None
        if self._detector is None:
            self._detector = default_detector()
        return self._detector


def _detection_record(stage: str, original_id: str, frames: int):
    """The ``detections`` output of a stage that put ``frames`` frames of an original through the face detector."""
    if frames:
        yield beam.pvalue.TaggedOutput(_DETECTIONS, (stage, original_id, frames))


def detection_summary(records) -> dict[str, dict[str, int]]:
    """Per stage: originals detected, frames detected, and originals detected more than once.

    Args:
      records: ``(stage, original_id, frames)``, one per time a stage ran the face detector on an original.
    """
    summary = {}
    for stage in (BOXES_STAGE, EXTRACT_STAGE):
        runs = collections.Counter(original_id for record_stage, original_id, _ in records if record_stage == stage)
        summary[stage] = {
            "originals": len(runs),
            "frames": sum(frames for record_stage, _, frames in records if record_stage == stage),
            "repeated": sum(1 for n in runs.values() if n > 1),
        }
    return summary


def _log_detections(records, split: str) -> None:
    counts = detection_summary(records)
    boxes, extract = counts[BOXES_STAGE], counts[EXTRACT_STAGE]
    logger.info(
        "dfdc_masks %s: faces detected on %d originals (%d frames) in the boxes stage, %d of them more than "
        "once; %d frames of %d originals detected in the extract stage",
        split, boxes["originals"], boxes["frames"], boxes["repeated"], extract["frames"], extract["originals"],
    )


def _write_split_report(outcomes, report_path) -> None:
    report = SkipReport()
    for video_id, path, reason, skipped_frames in sorted(outcomes, key=lambda outcome: outcome[0]):
        if reason is None:
            report.add_processed()
        else:
            report.add_skipped(video_id, path, reason)
        report.skipped_frames.extend(skipped_frames)
    write_report(report, report_path)


@beam.ptransform_fn
def ExtractSplit(root, entries: list[VideoEntry], config, report_path, blender=None):  # noqa: N802 (Beam naming)
    """PTransform: pipeline root -> ``(key, example)`` of one split; writes its skip report
    and logs how many originals and frames each stage put through the face detector.

    Args:
      root: the pipeline (``PBegin``), given by TFDS.
      entries: the split's videos in key order (``entries_by_split``).
      config: the ``ExtractionConfig``.
      report_path: JSON file for this split's skip report (``str``, may be ``gs://``).
      blender: a ``SelfBlender`` for a ``self_blended`` build, or None.
    """
    videos = root | "Videos" >> beam.Create(list(enumerate(entries)))
    boxes = (
        videos
        | "Readable" >> beam.Filter(lambda numbered: numbered[1].skip_reason is None)
        | "OriginalOf" >> beam.Map(_original_of)
        | "DistinctOriginals" >> beam.Distinct()
        | "ReshuffleOriginals" >> beam.Reshuffle()
        | "DetectFaces" >> beam.ParDo(_DetectOriginalBoxes(config)).with_outputs(_DETECTIONS, main="boxes")
    )
    by_original = videos | "KeyByOriginal" >> beam.Map(lambda numbered: (numbered[1].original_id, numbered))
    extracted = (
        {"boxes": boxes.boxes, "videos": by_original}
        | "JoinBoxes" >> beam.CoGroupByKey()
        | "Extract" >> beam.ParDo(_ExtractVideos(config, blender)).with_outputs(_REPORT, _DETECTIONS, main="examples")
    )
    _ = (
        extracted[_REPORT]
        | "CollectOutcomes" >> beam.combiners.ToList()
        | "WriteReport" >> beam.Map(_write_split_report, str(report_path))
    )
    _ = (
        (boxes[_DETECTIONS], extracted[_DETECTIONS])
        | "AllDetections" >> beam.Flatten()
        | "CollectDetections" >> beam.combiners.ToList()
        | "LogDetections" >> beam.Map(_log_detections, entries[0].split)
    )
    return extracted.examples
