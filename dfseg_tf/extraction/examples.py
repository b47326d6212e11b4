"""From a video entry to training examples: aligned face crops and manipulation masks (METHOD.md 1-2)."""

import dataclasses
import logging
from collections.abc import Iterable, Iterator

import numpy as np

from dfseg_tf.extraction.detectors import default_detector
from dfseg_tf.extraction.faces import (
    Box,
    BoxCache,
    FrameFaces,
    box_pixels,
    candidate_boxes,
    centred_in,
    crop_face,
    main_face_boxes,
    manipulated_face,
    original_face_boxes,
    resize_face,
    strided_window,
)
from dfseg_tf.extraction.masks import (
    MASK_THRESHOLD_FLOOR,
    NOISE_QUANTILE,
    blurred_distance,
    manipulation_mask,
    noise_samples,
    threshold_from_noise,
)
from dfseg_tf.extraction.official_masks import official_mask_crops
from dfseg_tf.extraction.report import FrameSkipped, SkipReport, VideoSkipped
from dfseg_tf.extraction.video import VideoInfo, iter_frames, probe, sample_frame_indices
from dfseg_tf.method import COMPONENT_PIXELS, FACE_SIZE, FRAMES_PER_VIDEO
from dfseg_tf.sources.entry import VideoEntry

logger = logging.getLogger(__name__)

# A fake narrower or lower than its original by fewer pixels than this may be a centred
# crop of it (``allow_cropped_fake``): Face2Face and NeuralTextures round the width down to a
# multiple of 32.
MAX_CROP = 32

# The FaceForensics++ methods rendered by the Face2Face pipeline (NeuralTextures reuses its
# tracking and rendering): their fakes may be cropped, shorter or longer than the target.
_FACE2FACE_PIPELINE = ("faceforensics/Face2Face", "faceforensics/NeuralTextures")

# Every 4th pixel of each row and column is enough to see whether two frames show the
# same scene, at 1/16 of the cost of the full frame.
_ALIGNMENT_STRIDE = 4


@dataclasses.dataclass(frozen=True)
class ExtractionConfig:
    """How examples are cut from videos.

    Attributes:
      frames_per_video: frames sampled evenly per video (DeepfakeBench's 32).
      margin: added on each side of the face, as a fraction of its longer side.
      mask_threshold: blurred RGB distance above which a pixel of a fake is manipulated,
        the same for every frame of a video; ``None`` (the default) sets it per video
        from the pair's own codec noise: the ``mask_threshold_quantile`` of the distance
        away from the face box, at least ``mask_threshold_floor``
        (``masks.threshold_from_noise``, measured in docs/METHOD.md, section 2).
      mask_threshold_quantile, mask_threshold_floor: that rule's constants.
      fill_holes: whether background regions enclosed by a mask component are marked
        too (measured to agree better with the official FaceForensics++ masks).
      min_component_pixels: smaller mask components are compression noise (the study's
        ``COMPONENT_PIXELS``; a component of exactly that many is kept).
      size: side of the square crops and masks.
      allow_shorter_fake: whether a fake may have fewer frames than its original (it is
        then aligned from frame 0 and sampled over its own length): True or False for
        every source, or the ``VideoEntry.source`` values that may (by default
        FaceForensics++ FaceSwap, Face2Face and NeuralTextures, which end with the shorter
        of their two videos or with their source video).
      allow_longer_fake: the same for a fake with MORE frames than its original (aligned
        from frame 0, sampled over the original's length). FaceForensics++ Face2Face and
        NeuralTextures run for their source video's length and, past the target's last
        frame, replay the target backwards (measured on the FF++ c40 pairs of
        docs/METHOD.md, section 1).
      allow_cropped_fake: the same for a fake up to ``MAX_CROP - 1`` pixels narrower or
        lower than its original, cut from the middle of its frame. FaceForensics++
        Face2Face and NeuralTextures render at a width that is a multiple of 32 (854 ->
        832, 656 -> 640 px); the fake's frame is put back in its place in the original's
        (``centred_in``), so boxes, masks and the alignment check work in the original's
        pixels, and the original's pixels stand in for the strips the fake lacks.
      alignment_distance, alignment_bound: a fake is not pixel-aligned with its original
        when more than ``alignment_bound`` of the pixels OUTSIDE the face boxes (every 4th
        row and column) are more than ``alignment_distance`` apart after the blur; the
        same distance picks, among the faces found, the one that holds the change. The
        distance is fixed, not the mask threshold: that one comes from the same pixels'
        noise, so it would rise with a misalignment and hide it. At 30 the codec noise of
        the measured c23 pairs stays under 0.5% even on a very lossy one; aligned fakes
        of the planted corpus have 0 there (after H.264), a fake shifted by 3 frames has
        0.3 (the person outside the box moved; a static background does not differ,
        which is why a median would miss it).
    """

    frames_per_video: int = FRAMES_PER_VIDEO
    margin: float = 0.2
    mask_threshold: float | None = None
    mask_threshold_quantile: float = NOISE_QUANTILE
    mask_threshold_floor: float = MASK_THRESHOLD_FLOOR
    fill_holes: bool = True
    min_component_pixels: int = COMPONENT_PIXELS
    size: int = FACE_SIZE
    allow_shorter_fake: bool | tuple[str, ...] = _FACE2FACE_PIPELINE + ("faceforensics/FaceSwap",)
    allow_longer_fake: bool | tuple[str, ...] = _FACE2FACE_PIPELINE
    allow_cropped_fake: bool | tuple[str, ...] = _FACE2FACE_PIPELINE
    alignment_distance: float = 30.0
    alignment_bound: float = 0.05

    def __post_init__(self):
        if self.frames_per_video < 1:
            raise ValueError(f"frames_per_video must be at least 1, got {self.frames_per_video}")
        if self.margin < 0:
            raise ValueError(f"margin must be >= 0, got {self.margin}")
        if self.size < 1:
            raise ValueError(f"size must be at least 1, got {self.size}")
        if self.mask_threshold is not None and self.mask_threshold < 0:
            raise ValueError(f"mask_threshold must be >= 0 or None (from the noise), got {self.mask_threshold}")
        if not 0 < self.mask_threshold_quantile < 1:
            raise ValueError(f"mask_threshold_quantile must be in (0, 1), got {self.mask_threshold_quantile}")

    def allows_shorter_fake(self, source: str) -> bool:
        return _applies(self.allow_shorter_fake, source)

    def allows_longer_fake(self, source: str) -> bool:
        return _applies(self.allow_longer_fake, source)

    def allows_cropped_fake(self, source: str) -> bool:
        return _applies(self.allow_cropped_fake, source)


def _applies(setting: bool | tuple[str, ...], source: str) -> bool:
    """Whether an ``allow_*`` setting (every source, none, or the sources named) covers ``source``."""
    return setting if isinstance(setting, bool) else source in setting


@dataclasses.dataclass(frozen=True)
class FrameExample:
    """One sampled frame of a video, ready for the dataset.

    Attributes:
      frame_index: index of the frame in the video (and in its original).
      image: (size, size, 3) uint8 face crop of the entry's OWN video.
      mask: (size, size, 1) uint8 in {0, 1}; all zero for real videos.
      box: the crop box in source-frame pixels, found on the original (its main face;
        for a fake, the face that holds the difference).
      mask_threshold: the distance ``mask`` was cut at (None for real videos).
      official_mask: the data set's own mask, cut and resized like ``mask``, where it
        ships one (``official_masks``); None otherwise.
    """

    frame_index: int
    image: np.ndarray
    mask: np.ndarray
    box: Box
    mask_threshold: float | None = None
    official_mask: np.ndarray | None = None


def extract_video(
    entry: VideoEntry,
    config: ExtractionConfig,
    *,
    boxes: FrameFaces | None = None,
    box_cache: BoxCache | None = None,
    detector=None,
    report: SkipReport | None = None,
) -> list[FrameExample]:
    """Face crops and masks of the sampled frames of one video.

    A fake is compared with its original frame by frame (same indices, boxes found on
    the original), and cropped on the face that holds the difference; a frame whose
    difference lies outside every face found is skipped (``face not found``, counted in
    ``report``), never kept as a fake with an empty mask. Its pairs are cut as they are
    decoded and masked once all are in, at the one mask threshold of the video
    (``video_mask_threshold``), with the official mask beside each where the data set
    ships one. A real video, or a fake without an original (DFDC's separate test set,
    whose masks are unknown), is cropped on its main face, followed from frame to
    frame, and gets all-zero masks.

    Args:
      entry: the video.
      config: sampling, box and mask settings.
      boxes: faces of the original by frame index, if already known.
      box_cache: where faces of originals are looked up and stored.
      detector: the shared face detector; needed only when faces must be detected.
      report: where skipped frames are counted.

    Raises:
      VideoSkipped: ``"<kind>: <detail naming the file>"`` for every fault of the input,
        with kind one of: missing file, missing original, unreadable, size mismatch,
        length mismatch, not aligned, no face (also when no frame's changed face was found),
        or the entry's own ``skip_reason``.
    """
    reference = _reference_path(entry)
    info = probe(entry.path)
    n_frames, original_size = info.n_frames, None
    if reference != entry.path:
        original = probe(reference)
        _check_size(entry, info, original, config)
        n_frames, original_size = _aligned_length(entry, info, original, config), (original.width, original.height)
    indices = sample_frame_indices(n_frames, config.frames_per_video)
    if not indices:
        raise VideoSkipped(f"unreadable: {entry.path}: no frames")
    cache_key = entry.video_id if reference == entry.path else entry.original_id
    faces = _faces_for(reference, cache_key, indices, config, boxes, box_cache, detector)
    main = main_face_boxes(faces, indices, reference)
    if reference == entry.path:
        return [_example(i, frame, main[i], config) for i, frame in iter_frames(entry.path, indices)]
    cut = []
    for (i, fake), (_, real) in zip(iter_frames(entry.path, indices), iter_frames(reference, indices)):
        try:
            candidates = candidate_boxes(faces.get(i, []), main[i])
            cut.append(cut_pair(i, fake, real, candidates, config, entry))
        except FrameSkipped as skipped:
            logger.info("%s: %s", entry.video_id, skipped)
            if report is not None:
                report.add_skipped_frame(entry.video_id, i, str(skipped))
    if not cut:
        raise VideoSkipped(
            f"no face: {entry.path}: the changed face was found in none of {len(indices)} sampled frames"
        )
    return fake_examples(entry, info, cut, config, original_size=original_size)


def extract_many(
    entries: Iterable[VideoEntry],
    config: ExtractionConfig,
    *,
    detector=None,
    box_cache: BoxCache | None = None,
    report: SkipReport | None = None,
) -> Iterator[tuple[VideoEntry, list[FrameExample]]]:
    """``extract_video`` over many entries; a skipped video (or frame) is recorded in ``report`` and the loop goes on.

    One detector (``default_detector`` unless given) and one box cache serve all entries,
    so each original is detected once however many fakes it has (an in-memory cache is
    used when none is given).
    """
    detector = detector or default_detector()
    box_cache = box_cache or BoxCache()
    report = report if report is not None else SkipReport()
    for entry in entries:
        try:
            examples = extract_video(entry, config, box_cache=box_cache, detector=detector, report=report)
        except VideoSkipped as skip:
            logger.info("skipped %s: %s", entry.video_id, skip)
            report.add_skipped(entry.video_id, entry.path, str(skip))
            continue
        report.add_processed()
        yield entry, examples


def _reference_path(entry: VideoEntry):
    """The video whose faces give the boxes (its original for a fake), after checking files exist."""
    if entry.skip_reason:
        raise VideoSkipped(entry.skip_reason)
    if not entry.path.is_file():
        raise VideoSkipped(f"missing file: {entry.path}")
    if not entry.is_fake or entry.original_path is None:
        return entry.path
    if not entry.original_path.is_file():
        raise VideoSkipped(f"missing original: {entry.path}: original {entry.original_path} is absent")
    return entry.original_path


def _check_size(entry: VideoEntry, fake: VideoInfo, original: VideoInfo, config: ExtractionConfig) -> None:
    """A fake has its original's frame size, or is a centred crop of it where the source allows one."""
    narrower, lower = original.width - fake.width, original.height - fake.height
    cropped_allowed = 0 <= narrower < MAX_CROP and 0 <= lower < MAX_CROP and config.allows_cropped_fake(entry.source)
    if (narrower, lower) != (0, 0) and not cropped_allowed:
        raise VideoSkipped(
            f"size mismatch: {entry.path}: {fake.width}x{fake.height}, "
            f"original {entry.original_path} is {original.width}x{original.height}"
        )


def _aligned_length(entry: VideoEntry, fake: VideoInfo, original: VideoInfo, config: ExtractionConfig) -> int:
    """Frames the fake and its original share, after checking their lengths agree (or may differ)."""
    if fake.n_frames < original.n_frames:
        other_length_allowed = config.allows_shorter_fake(entry.source)
    else:
        other_length_allowed = config.allows_longer_fake(entry.source)
    if fake.n_frames != original.n_frames and not other_length_allowed:
        raise VideoSkipped(
            f"length mismatch: {entry.path}: {fake.n_frames} frames, "
            f"original {entry.original_path} has {original.n_frames}"
        )
    return min(fake.n_frames, original.n_frames)


def _faces_for(reference, cache_key, indices, config, faces, box_cache, detector) -> FrameFaces:
    """The faces of every index: given, cached, or detected now (only for frames not known yet)."""
    if faces is None and box_cache is not None:
        faces = box_cache.get(cache_key)
    faces = dict(faces or {})
    missing = [i for i in indices if i not in faces]
    if missing:
        if detector is None:
            logger.warning("creating a face detector for %s; pass one to reuse it", reference)
            detector = default_detector()
        faces.update(original_face_boxes(
            reference, detector, frames_per_video=config.frames_per_video, margin=config.margin, indices=missing
        ))
        if box_cache is not None:
            box_cache.put(cache_key, faces)
    return faces


def _example(index: int, frame: np.ndarray, box: Box, config: ExtractionConfig) -> FrameExample:
    mask = np.zeros((config.size, config.size, 1), np.uint8)
    return FrameExample(index, crop_face(frame, box, config.size), mask, box)


@dataclasses.dataclass(frozen=True)
class CutPair:
    """One sampled frame of a fake, cut and kept until its video's mask threshold is known.

    Attributes:
      index, box: the frame and its face box.
      real_crop, fake_crop: the box at source resolution (copies: the frames are let go); the
        example's image is ``fake_crop`` resized, made when the example is.
      noise: ``noise_samples`` of the pair (empty when the mask threshold is fixed).
    """

    index: int
    box: Box
    real_crop: np.ndarray
    fake_crop: np.ndarray
    noise: np.ndarray


def cut_pair(
    index: int, fake: np.ndarray, real: np.ndarray, candidates: list[Box], config: ExtractionConfig, entry: VideoEntry
) -> CutPair:
    """Checks one frame of a fake against its original's, picks the face that holds the
    difference and keeps what its example needs.

    Args:
      candidates: face boxes of the original's frame, the main face first
        (``candidate_boxes``).

    Raises:
      FrameSkipped: ``face not found: ...`` when the difference lies outside every candidate.
      VideoSkipped: ``size mismatch`` or ``not aligned``, faults of the whole video.
    """
    fake = centred_in(fake, real)  # a cropped fake (allow_cropped_fake, checked on the headers) in its place
    if fake.shape != real.shape:  # the headers agreed, the decoded frames do not
        raise VideoSkipped(f"size mismatch: {entry.path}: frame {index} is {fake.shape}, original's is {real.shape}")
    s = _ALIGNMENT_STRIDE
    differs = blurred_distance(real[::s, ::s], fake[::s, ::s]) > config.alignment_distance
    _check_aligned(differs, candidates, config, entry, index)
    box = manipulated_face(differs, s, candidates)
    if box is None:
        raise FrameSkipped(
            f"face not found: {entry.path}: frame {index} differs from its original outside every face found"
        )
    noise = noise_samples(real, fake, box) if config.mask_threshold is None else np.empty(0, np.float32)
    return CutPair(index, box, box_pixels(real, box).copy(), box_pixels(fake, box).copy(), noise)


def video_mask_threshold(pairs: list[CutPair], config: ExtractionConfig) -> float:
    """The fixed ``config.mask_threshold``, or the one set from the noise of all of the video's pairs."""
    if config.mask_threshold is not None:
        return config.mask_threshold
    noise = np.concatenate([pair.noise for pair in pairs]) if pairs else np.empty(0, np.float32)
    return threshold_from_noise(noise, quantile=config.mask_threshold_quantile, floor=config.mask_threshold_floor)


def pair_mask(pair: CutPair, mask_threshold: float, config: ExtractionConfig) -> np.ndarray:
    """The (size, size, 1) manipulation mask of one cut pair."""
    mask = manipulation_mask(
        pair.real_crop,
        pair.fake_crop,
        mask_threshold=mask_threshold,
        min_component_pixels=config.min_component_pixels,
        size=config.size,
        fill_holes=config.fill_holes,
    )
    return mask[..., None]


def fake_examples(
    entry: VideoEntry, info: VideoInfo, pairs: list[CutPair], config: ExtractionConfig, *, original_size=None
) -> list[FrameExample]:
    """The examples of a fake's cut pairs: every mask at the video's one mask threshold, and
    the official mask of each frame where the data set ships a mask video.

    Args:
      original_size: (width, height) of the original, whose pixels the boxes are in, where
        the fake is a centred crop of it (None: the same size as the fake).
    """
    mask_threshold = video_mask_threshold(pairs, config)
    official = {}
    if entry.mask_path is not None:
        boxes = {pair.index: pair.box for pair in pairs}
        official = official_mask_crops(entry.mask_path, boxes, config.size, frame_size=(info.width, info.height),
                                       original_size=original_size)
    return [
        FrameExample(pair.index, resize_face(pair.fake_crop, config.size), pair_mask(pair, mask_threshold, config),
                     pair.box, mask_threshold, official.get(pair.index))
        for pair in pairs
    ]


def _check_aligned(
    differs: np.ndarray, boxes: list[Box], config: ExtractionConfig, entry: VideoEntry, index: int
) -> None:
    """Outside the face boxes a fake is a re-encoded copy of its original; many differing pixels
    there mean the two videos are not pixel-aligned (delayed, shifted or another recording).
    ``differs`` is the thresholded distance over the whole frame, every ``_ALIGNMENT_STRIDE`` pixels."""
    outside = np.ones(differs.shape, bool)
    for box in boxes:
        outside[strided_window(box, _ALIGNMENT_STRIDE)] = False
    if not outside.any():
        return
    fraction = float(differs[outside].mean())
    if fraction > config.alignment_bound:
        raise VideoSkipped(
            f"not aligned: {entry.path}: frame {index} differs from original {entry.original_path} "
            f"outside the face boxes ({fraction:.0%} of pixels > {config.alignment_bound:.0%})"
        )
