"""Stream a saved model over ``dfdc_masks`` examples, keeping one score per frame.

Memory is flat in the number of frames: per frame only scalars are kept (video id,
label, frame score, Dice, mask area); maps are dropped after each batch, except a fixed number
of best and worst Dice examples for the picture sheet.
"""

import concurrent.futures
import dataclasses
import functools
import heapq
import itertools
import logging
import math
import os
from collections.abc import Callable, Sequence

import cv2
import keras
import numpy as np
import tensorflow as tf
from tqdm import tqdm

from dfseg_tf.data import load_split
from dfseg_tf.evaluation import rules
from dfseg_tf.evaluation import scores as scores_lib
from dfseg_tf.models.card import SEGMENTATION, ModelCard

DEFAULT_SPLIT = "test"
# The feature of the official masks (FaceForensics++, DFD) where a build stores them;
# all zero where a video has none.
OFFICIAL_MASK = "official_mask"
# Where a frame came from (data set and method, e.g. "faceforensics/FaceSwap"); frames of
# a dataset without the feature get UNKNOWN_SOURCE.
SOURCE = "source"
UNKNOWN_SOURCE = ""
# Not a stored feature: the share of a frame's crop its true mask covers.
MASK_AREA = "mask_area"

logger = logging.getLogger(__name__)


@dataclasses.dataclass(frozen=True)
class ExampleFrame:
    """One face kept for the picture sheet."""

    video_id: str
    frame_index: int
    image: np.ndarray  # (H, W, 3) uint8
    mask: np.ndarray  # (H, W) bool, the true mask
    prob_map: np.ndarray  # (H, W) float32, the model's map
    dice: float


@dataclasses.dataclass
class FramePredictions:
    """Per-frame results of one model on one split, aligned arrays.

    ``scores`` follow ``rules``: a frame is fake at t iff ``score > t``. ``dices``
    and ``ious`` are NaN for classifiers or when no threshold was given. ``best`` and
    ``worst`` hold the fake frames of highest and lowest Dice (real frames if none is
    fake). ``pixel_histograms`` maps a reference (``mask``, and ``official_mask`` where
    the data set has it) to the (2, bins) histogram of the fake frames' map values over
    its untouched and manipulated pixels (``scores.pixel_histograms``), with
    ``official_frames`` the number of fake frames that had an official mask. ``sources``
    holds each frame's ``source`` feature (data set and method, e.g.
    ``faceforensics/FaceSwap``), ``mask_areas`` the share of its crop that its true
    (difference) mask covers, 0 for a real frame.
    """

    video_ids: list[str]
    labels: np.ndarray
    scores: np.ndarray
    dices: np.ndarray
    best: list[ExampleFrame]
    worst: list[ExampleFrame]
    ious: np.ndarray = dataclasses.field(default_factory=lambda: np.zeros(0))
    pixel_histograms: dict = dataclasses.field(default_factory=dict)
    official_frames: int = 0
    sources: list[str] = dataclasses.field(default_factory=list)
    mask_areas: np.ndarray = dataclasses.field(default_factory=lambda: np.zeros(0))

    @property
    def frame_count(self) -> int:
        return len(self.video_ids)


def parse_dataset_spec(spec: str, *, default_split: str = DEFAULT_SPLIT) -> tuple[str, str]:
    """``"dfdc_masks/synthetic:validation"`` -> ``("dfdc_masks/synthetic", "validation")``."""
    name, _, split = spec.partition(":")
    if not name:
        raise ValueError(f"{spec!r}: expected NAME[:SPLIT], e.g. dfdc_masks/synthetic:test")
    return name, split or default_split


def first_videos(dataset: tf.data.Dataset, max_videos: int) -> tf.data.Dataset:
    """Restricts ``dataset`` to all frames of its first ``max_videos`` distinct videos.

    "First" is in the dataset's own order; the scan for ids stops as soon as
    ``max_videos`` ids are found, and frames of those videos later in the file are kept.
    """
    if max_videos < 1:
        raise ValueError(f"max_videos must be at least 1, got {max_videos}")
    chosen = {}  # a dict keeps the order of first appearance
    for video_id in dataset.map(lambda example: example["video_id"]).as_numpy_iterator():
        chosen.setdefault(video_id)
        if len(chosen) == max_videos:
            break
    allowed = tf.constant(list(chosen), dtype=tf.string)
    return dataset.filter(lambda example: tf.reduce_any(tf.equal(example["video_id"], allowed)))


def predict_frames(model: keras.Model, card: ModelCard, dataset: tf.data.Dataset, *, threshold: float | None = None,
                   **options) -> FramePredictions:
    """``predict_frames_at`` one threshold (or none)."""
    return predict_frames_at(model, card, dataset, [threshold], **options)[0]


def predict_frames_at(
    model: keras.Model,
    card: ModelCard,
    dataset: tf.data.Dataset,
    thresholds: Sequence[float | None],
    *,
    batch_size: int = 16,
    min_component_pixels: int = rules.MIN_COMPONENT_PIXELS,
    examples: int = 4,
    workers: int | None = None,
    on_batch: Callable[[int], None] | None = None,
) -> list[FramePredictions]:
    """Runs ``model`` once over every frame of ``dataset`` (dicts in the ``dfdc_masks``
    format) and scores the frames at each of ``thresholds``: one result per threshold.

    Args:
      card: the model's card; its ``kind`` says how to read the output.
      thresholds: decision thresholds t. At a t, each segmentation frame is also scored as
        localisation (Dice and IoU at t, the pixel histograms of fake frames) and the best
        and worst are kept; ``None`` skips all of that: the threshold search needs only
        the frame scores, which do not depend on t.
      examples: how many best and how many worst frames to keep.
      workers: threads scoring a batch's maps (OpenCV and numpy release the GIL);
        None: one per CPU. The maps' component search, not the model, is the
        cost on a GPU.
      on_batch: called with the number of frames after each batch (a progress bar).
    """
    batches = (
        dataset.map(_model_inputs, num_parallel_calls=tf.data.AUTOTUNE)
        .batch(batch_size)
        .prefetch(tf.data.AUTOTUNE)
    )
    thresholds = list(thresholds)
    collectors = [_Collector(examples) for _ in thresholds]
    score_map = functools.partial(_score_map, thresholds=thresholds, min_component_pixels=min_component_pixels)
    with concurrent.futures.ThreadPoolExecutor(workers or os.cpu_count()) as executor:
        for batch in batches.as_numpy_iterator():
            output = np.asarray(model.predict_on_batch(batch["image"]), dtype=np.float32)
            if card.kind == SEGMENTATION:
                _collect_segmentation(collectors, thresholds, batch, output, executor, score_map)
            else:
                _collect_classifier(collectors, batch, output)
            if on_batch is not None:
                on_batch(len(batch["label"]))
    video_ids = collectors[0].video_ids
    logger.info("predicted %d frames of %d videos", len(video_ids), len(set(video_ids)))
    return [collected.result() for collected in collectors]


def _model_inputs(example):
    """The fields evaluation keeps, and the share of the crop the mask covers (computed
    here, once a frame, in tf.data's parallel map); every model takes the stored uint8
    ``image`` as it is."""
    inputs = {
        "image": example["image"],
        "mask": example["mask"],
        MASK_AREA: tf.reduce_mean(tf.cast(example["mask"] > 0, tf.float32)),
        "label": example["label"],
        "video_id": example["video_id"],
        "frame_index": example["frame_index"],
    }
    for optional in (OFFICIAL_MASK, SOURCE):
        if optional in example:
            inputs[optional] = example[optional]
    return inputs


def _collect_segmentation(collectors, thresholds, batch, maps, executor, score_map):
    if maps.ndim != 4 or maps.shape[-1] != 1:
        raise ValueError(f"a segmentation model must output (batch, H, W, 1) maps, got {maps.shape}")
    masks = batch["mask"][..., 0] > 0
    official = batch[OFFICIAL_MASK][..., 0] > 0 if OFFICIAL_MASK in batch else [None] * len(masks)
    fake = batch["label"] == scores_lib.FAKE_LABEL
    scored = executor.map(score_map, maps[..., 0], masks, official, fake)
    for index, (prob_map, score, dices, ious, histograms) in enumerate(scored):
        for collected, threshold, dice, iou in zip(collectors, thresholds, dices, ious):
            collected.add(batch, index, score, dice, iou)
            if threshold is not None:  # localisation is scored at a threshold only
                collected.add_histograms(histograms)
            if not math.isnan(dice):
                collected.offer_example(batch, index, prob_map, masks[index], dice)


def _score_map(prob_map, mask, official_mask, is_fake, *, thresholds, min_component_pixels):
    """(map at the mask's size, frame score, Dice and IoU at each threshold (NaN for None),
    pixel histograms of a fake frame by reference) of one frame."""
    if prob_map.shape != mask.shape:
        prob_map = cv2.resize(prob_map, mask.shape[::-1], interpolation=cv2.INTER_LINEAR)
    score = rules.frame_score(prob_map, min_component_pixels=min_component_pixels)
    dices = [math.nan if t is None else scores_lib.thresholded_dice(prob_map, mask, t) for t in thresholds]
    ious = [math.nan if t is None else scores_lib.thresholded_iou(prob_map, mask, t) for t in thresholds]
    histograms = {}
    if is_fake and any(t is not None for t in thresholds):
        histograms["mask"] = scores_lib.pixel_histograms(prob_map, mask)
        if official_mask is not None and official_mask.any():
            histograms[OFFICIAL_MASK] = scores_lib.pixel_histograms(prob_map, official_mask)
    return prob_map, score, dices, ious, histograms


def _collect_classifier(collectors, batch, probabilities):
    if probabilities.ndim != 2 or probabilities.shape[-1] != 1:
        raise ValueError(f"a classifier must output (batch, 1) probabilities, got {probabilities.shape}")
    for index, probability in enumerate(probabilities[:, 0]):
        for collected in collectors:
            collected.add(batch, index, float(probability), math.nan, math.nan)


class _Collector:
    """Per-frame scalars, plus heaps of the best and worst Dice examples."""

    def __init__(self, examples: int):
        self.video_ids, self.sources, self.labels, self.scores, self.dices, self.ious = [], [], [], [], [], []
        self.mask_areas = []
        self.histograms = {}
        self.official_frames = 0
        self._examples = examples
        self._order = itertools.count()  # tie-breaker so heaps never compare arrays
        # Fake frames are preferred: real frames mostly score Dice 1 on empty masks.
        self._heaps = {True: ([], []), False: ([], [])}  # is_fake -> (best, worst)

    def add(self, batch, index, score, dice, iou):
        self.video_ids.append(batch["video_id"][index].decode())
        self.sources.append(batch[SOURCE][index].decode() if SOURCE in batch else UNKNOWN_SOURCE)
        self.labels.append(int(batch["label"][index]))
        self.mask_areas.append(float(batch[MASK_AREA][index]))
        self.scores.append(score)
        self.dices.append(dice)
        self.ious.append(iou)

    def add_histograms(self, histograms: dict):
        self.official_frames += OFFICIAL_MASK in histograms
        for reference, counts in histograms.items():
            self.histograms[reference] = self.histograms.get(reference, 0) + counts

    def offer_example(self, batch, index, prob_map, mask, dice):
        """Keeps the frame if it is among the best or worst so far (copies only then)."""
        order = -next(self._order)  # on equal Dice the earlier frame stays
        example = None
        best, worst = self._heaps[int(batch["label"][index]) == scores_lib.FAKE_LABEL]
        for heap, key in ((best, dice), (worst, -dice)):
            full = len(heap) >= self._examples
            if self._examples == 0 or (full and (key, order) <= heap[0][:2]):
                continue
            if example is None:
                example = ExampleFrame(
                    video_id=batch["video_id"][index].decode(),
                    frame_index=int(batch["frame_index"][index]),
                    image=batch["image"][index].copy(),
                    mask=mask.copy(),
                    prob_map=prob_map.astype(np.float32),
                    dice=dice,
                )
            if full:
                heapq.heapreplace(heap, (key, order, example))
            else:
                heapq.heappush(heap, (key, order, example))

    def result(self) -> FramePredictions:
        best, worst = self._heaps[True] if self._heaps[True][0] else self._heaps[False]
        return FramePredictions(
            video_ids=self.video_ids,
            labels=np.asarray(self.labels, dtype=np.int64),
            scores=np.asarray(self.scores, dtype=np.float64),
            dices=np.asarray(self.dices, dtype=np.float64),
            best=[entry[-1] for entry in sorted(best, key=lambda entry: -entry[0])],
            worst=[entry[-1] for entry in sorted(worst, key=lambda entry: -entry[0])],
            ious=np.asarray(self.ious, dtype=np.float64),
            pixel_histograms=self.histograms,
            official_frames=self.official_frames,
            sources=self.sources,
            mask_areas=np.asarray(self.mask_areas, dtype=np.float64),
        )


def load_frames(spec: str, data_dir, *, max_videos=None, default_split=DEFAULT_SPLIT, datasets=None):
    """(``name:split``, example dataset) for a ``NAME[:SPLIT]`` spec, restricted to ``max_videos``.

    ``datasets`` maps specs to ready datasets (tests, notebooks); others are loaded with TFDS.
    """
    name, split = parse_dataset_spec(spec, default_split=default_split)
    label = f"{name}:{split}"
    if datasets is not None and spec in datasets:
        dataset = datasets[spec]
    else:
        dataset = load_split(name, split, data_dir)
    if max_videos is not None:  # 0 is refused by first_videos, not read as "all"
        dataset = first_videos(dataset, max_videos)
    return label, dataset


def predict_with_progress(model, card, dataset, thresholds, *, description, **options) -> list[FramePredictions]:
    """``predict_frames_at`` under a tqdm bar counting frames."""
    total = int(dataset.cardinality())
    with tqdm(total=total if total >= 0 else None, desc=description, unit="frame") as bar:
        return predict_frames_at(model, card, dataset, thresholds, on_batch=bar.update, **options)
