"""How good and how fast are the extracted masks, on the miniature corpora and on real data?

Quality: writes the miniature DFDC, FaceForensics++ and DFD corpora (real H.264, CRF 23)
to a temporary folder, extracts every fake at each mask threshold of a list ("noise": set
from each pair's codec noise, the default; or fixed values), and compares the masks with
the planted masks cut with the same box and resized to the same size: mean IoU per kind of
manipulation ("partial", "whole"; for "none", fakes whose face was never changed, the IoU
is 1 exactly when the mask is empty).

Real data (``--real DIR``, repeatable): a FaceForensics++/DFD download root (c23 layout,
official ``masks/videos`` used where present), or FaceForensics' official example-frames
folder (``ex_original.png``, ``ex_deepfakes.png`` and ``_mask.png`` ...), whose pairs are
first encoded as short H.264 CRF 23 clips laid out like the download, with the official
mask images as mask videos; or a folder holding such folders. Every fake goes through the
builder's extraction, and per method and mask-threshold rule it reports: the fraction of
empty masks, the mean mask area, the mask threshold, the pixels flagged OUTSIDE the face
box (the mask rule applied to the whole frame: distance over the threshold, components of
100 pixels), the videos skipped, and the IoU with the official masks where there are some.
The data is read where it lies; only the clips are written, under ``--workdir``.

Speed: on one original and its fakes at 1080p, frames per second of decoding, face
detection (extraction's detector, and MTCNN alone), mask extraction and the whole pair pipeline, and peak memory after one video
and after several (it must stay flat: frames are streamed). The target: a pair's mask costs
under 10% of decoding its two frames (the fake's and the original's), in CPU time, reported
as ``mask_cost_vs_pair_decode`` with the same ratio in wall time beside it (see ``MASK_CLOCKS``).
The mask's cost grows with the face crop's area while decoding does not, so the ratio is
measured for several face sizes (``--speed-face-heights``), from a face a seventh of the
frame's height to the close-up of the main speed videos. On a shared machine each timing
is the fastest of ``--speed-repeats`` runs.

    python -m experiments.bench_masks [--output results/bench_masks.json]
    python -m experiments.bench_masks --real /data/real --skip-quality --skip-speed
"""

import argparse
import collections
import dataclasses
import functools
import math
import pathlib
import resource
import sys
import tempfile
import time
import tracemalloc

import cv2
import numpy as np

from dfseg_tf.corpus import (
    CorpusSpec,
    load_planted_masks,
    write_dfd_corpus,
    write_dfdc_corpus,
    write_faceforensics_corpus,
)
from dfseg_tf.corpus import scene as scenes
from dfseg_tf.corpus.planting import fake_plan, original_plan, write_plan
from dfseg_tf.extraction import (
    BoxCache,
    ExtractionConfig,
    FaceDetector,
    SkipReport,
    blurred_distance,
    default_detector,
    extract_many,
    extract_video,
    iter_frames,
    manipulation_mask,
    noise_samples,
    probe,
    sample_frame_indices,
)
from dfseg_tf.extraction.examples import cut_pair, pair_mask
from dfseg_tf.extraction.faces import centred_in, main_face_boxes
from dfseg_tf.extraction.official_masks import write_mask_video
from dfseg_tf.extraction.video_writer import write_h264
from dfseg_tf.sources import VideoEntry, list_dfd, list_dfdc, list_faceforensics
from experiments.bench_output import write_and_print

CORPORA = {
    "dfdc": (write_dfdc_corpus, list_dfdc),
    "faceforensics": (write_faceforensics_corpus, list_faceforensics),
    "dfd": (write_dfd_corpus, list_dfd),
}


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    paths = parser.add_argument_group("paths")
    paths.add_argument("--output", type=pathlib.Path, default=pathlib.Path("results/bench_masks.json"),
                       help="JSON file with every figure (default: results/bench_masks.json)")
    paths.add_argument("--workdir", type=pathlib.Path, default=None,
                       help="where the corpora are written (default: a temporary folder, deleted afterwards)")
    rule = parser.add_argument_group("mask threshold rules (quality and real data)")
    rule.add_argument("--mask-thresholds", type=_mask_thresholds, default=_mask_thresholds("noise,5,10,20,30"),
                      help="comma-separated mask thresholds to try: 'noise' (set from each pair's codec noise, "
                           "the default rule) or fixed distances (default: noise,5,10,20,30)")
    rule.add_argument("--mask-threshold-quantile", type=float, default=ExtractionConfig.mask_threshold_quantile,
                      help="the noise rule's quantile of the distance away from the face "
                           f"(default: {ExtractionConfig.mask_threshold_quantile})")
    rule.add_argument("--mask-threshold-floor", type=float, default=ExtractionConfig.mask_threshold_floor,
                      help=f"the noise rule's floor (default: {ExtractionConfig.mask_threshold_floor})")
    quality = parser.add_argument_group("quality on the miniature corpora")
    quality.add_argument("--frames-per-video", type=int, default=8,
                         help="frames sampled per video for the quality part (default: 8)")
    quality.add_argument("--seed", type=int, default=0, help="corpus seed (default: 0)")
    speed = parser.add_argument_group("speed")
    speed.add_argument("--speed-width", type=int, default=1920, help="frame width of the speed videos (default: 1920)")
    speed.add_argument("--speed-height", type=int, default=1080, help="frame height of the speed videos (default: 1080)")
    speed.add_argument("--speed-frames", type=int, default=64, help="frames of each speed video (default: 64)")
    speed.add_argument("--speed-fakes", type=int, default=3, help="fakes of the speed original (default: 3)")
    speed.add_argument("--speed-repeats", type=int, default=5,
                       help="runs of each timed step; the fastest counts, as other work shares the CPU (default: 5)")
    speed.add_argument("--speed-face-heights", type=_fractions, default=[0.15, 0.25, 0.35, 0.45],
                       help="face heights, as fractions of the frame's shorter side, at which the mask's cost "
                            "is compared with decoding; the largest is the main speed videos' "
                            "(default: 0.15,0.25,0.35,0.45)")
    speed.add_argument("--skip-speed", action="store_true", help="leave out the speed part (default: off)")
    quality.add_argument("--skip-quality", action="store_true",
                         help="leave out the miniature corpora's quality (default: off)")
    real = parser.add_argument_group("real data")
    real.add_argument("--real", type=pathlib.Path, action="append", default=[],
                      help="a FaceForensics++/DFD root, an official example-frames folder, or a folder holding "
                           "them; repeatable (default: none)")
    real.add_argument("--real-frames-per-video", type=int, default=8,
                      help="frames sampled per real video (default: 8)")
    real.add_argument("--fill-holes", choices=("on", "off", "both"), default="on",
                      help="fill the holes enclosed by a mask component: on, off, or both to compare "
                           "(default: on, as the builder)")
    return parser.parse_args(argv)


def _mask_thresholds(text: str) -> list:
    """'noise,5,10' -> [None, 5.0, 10.0]: None is the noise rule (``ExtractionConfig``'s default)."""
    try:
        return [None if token.strip() == "noise" else float(token) for token in text.split(",")]
    except ValueError:
        raise argparse.ArgumentTypeError(f"mask thresholds are 'noise' or numbers, got {text}") from None


def rule_name(mask_threshold, fill_holes: bool = True) -> str:
    """How a mask-threshold rule is named in the results: 'noise', '30.0', '30.0 unfilled'."""
    name = "noise" if mask_threshold is None else str(float(mask_threshold))
    return name if fill_holes else f"{name} unfilled"


def _fractions(text: str) -> list[float]:
    values = sorted(float(value) for value in text.split(","))
    if not all(0.1 <= value <= 0.7 for value in values):
        raise argparse.ArgumentTypeError(f"face heights must be in [0.1, 0.7], got {text}")
    return values


# ---------------------------------------------------------------- quality


def measure_quality(workdir: pathlib.Path, thresholds, base: ExtractionConfig, seed: int, detector) -> dict:
    """Mean IoU per kind of manipulation for each mask threshold, over the fakes of all three corpora."""
    fakes = []
    for name, (write_corpus, list_videos) in CORPORA.items():
        manifest = write_corpus(workdir / name, CorpusSpec(seed=seed))
        kinds = {video.video_id: video.kind for video in manifest.fakes()}
        fakes += [(entry, manifest.root, kinds[entry.video_id]) for entry in list_videos(manifest.root) if entry.is_fake]
    box_cache = BoxCache()  # the boxes do not depend on the threshold: detect once
    by_threshold = {}
    for mask_threshold in thresholds:
        config = dataclasses.replace(base, mask_threshold=mask_threshold)
        name = rule_name(mask_threshold)
        by_threshold[name] = _mean_iou_per_kind(fakes, config, detector, box_cache)
        means = by_threshold[name]["mean_iou"]
        print(f"mask threshold {name:>6}: " + ", ".join(f"{kind} {iou:.3f}" for kind, iou in means.items()), flush=True)
    return by_threshold


def _mean_iou_per_kind(fakes, config, detector, box_cache) -> dict:
    roots = {entry.video_id: (root, kind) for entry, root, kind in fakes}
    ious, thresholds = collections.defaultdict(list), collections.defaultdict(list)
    report = SkipReport()
    for entry, examples in extract_many([f[0] for f in fakes], config, detector=detector, box_cache=box_cache,
                                        report=report):
        root, kind = roots[entry.video_id]
        planted = load_planted_masks(root, entry.video_id)
        ious[kind] += [_iou(_planted_crop(planted, example), example.mask[..., 0]) for example in examples]
        thresholds[kind] += [example.mask_threshold for example in examples]
    return {
        "mean_iou": {kind: float(np.mean(values)) for kind, values in sorted(ious.items())},
        "mean_mask_threshold": {kind: float(np.mean(values)) for kind, values in sorted(thresholds.items())},
        "frames": {kind: len(values) for kind, values in sorted(ious.items())},
        "skipped": report.reason_counts(),
    }


def _planted_crop(planted: np.ndarray, example) -> np.ndarray:
    x0, y0, x1, y1 = example.box
    crop = planted[example.frame_index, y0:y1, x0:x1].astype(np.uint8)
    return cv2.resize(crop, example.mask.shape[1::-1], interpolation=cv2.INTER_NEAREST)


def _iou(truth: np.ndarray, predicted: np.ndarray) -> float:
    union = np.logical_or(truth, predicted).sum()
    return 1.0 if union == 0 else float(np.logical_and(truth, predicted).sum() / union)


# ---------------------------------------------------------------- speed


def write_speed_videos(folder: pathlib.Path, args, face_height: float, fakes: int) -> list[VideoEntry]:
    """One original and ``fakes`` partial fakes of it, at the speed size: the original first."""
    spec = CorpusSpec(width=args.speed_width, height=args.speed_height, n_frames=args.speed_frames, seed=args.seed,
                      face_height=face_height)
    rng = np.random.default_rng(spec.seed)
    original = original_plan("original", "original.mp4", scenes.random_scene(rng, face_height=face_height), spec)
    plans = [original] + [
        fake_plan(original, f"fake{i}", f"fake{i}.mp4", scenes.random_manipulation(rng, "mouth"))
        for i in range(fakes)
    ]
    for plan in plans:
        write_plan(folder, plan)
    return [
        VideoEntry(plan.video_id, folder / plan.path, plan.label, "test", "speed", "original", folder / original.path)
        for plan in plans
    ]


# The target: a pair's mask under 10% of decoding the pair's two frames.
MASK_TARGET_VS_PAIR_DECODE = 0.10

# How the mask's cost and decoding's are timed. "cpu" is the target's measure: the mask runs
# in the calling thread alone (compiled, single-threaded), so the thread's CPU time is its
# whole cost, while the decoder spreads its work over its own threads, which the process's
# CPU time counts. The wall clock says what a user waits, but the decoder's look-ahead
# threads keep running while the mask is timed, so it charges part of their work to the mask.
MASK_CLOCKS = {"cpu": time.thread_time, "wall": time.perf_counter}
DECODE_CLOCKS = {"cpu": time.process_time, "wall": time.perf_counter}
WALL = {"wall": time.perf_counter}


def measure_speed(entries: list[VideoEntry], detector, repeats: int, box_cache: BoxCache) -> dict:
    """Speed figures on ``entries`` (original first). ``box_cache``, empty, ends with the original's boxes."""
    original, fakes = entries[0], entries[1:]
    config = ExtractionConfig()
    info = probe(original.path)
    indices = sample_frame_indices(info.n_frames, config.frames_per_video)
    all_frames = range(info.n_frames)

    decode_all = _fastest(lambda: sum(1 for _ in iter_frames(original.path, all_frames)), repeats, WALL)["wall"]
    decode_sampled = _fastest(lambda: sum(1 for _ in iter_frames(original.path, indices)), repeats, WALL)["wall"]
    detect_frames = [frame for _, frame in iter_frames(original.path, indices[:8])]
    mtcnn = FaceDetector()
    detect_fps = {}
    for name, one_detector in (("detect_fps", detector), ("detect_fps_mtcnn", mtcnn)):
        one_detector.detect_many(detect_frames[:1])  # warm-up: graphs traced, interpreter allocated
        detect_fps[name] = len(detect_frames) / _seconds(functools.partial(one_detector.detect_many, detect_frames))

    pipeline_cold = _seconds(lambda: extract_video(fakes[0], config, detector=detector, box_cache=box_cache))
    examples = []
    pipeline_warm = _seconds(lambda: examples.extend(extract_video(fakes[0], config, detector=detector,
                                                                   box_cache=box_cache)))
    boxes = main_face_boxes(box_cache.get(original.video_id), indices, original.path)
    example_step = _example_step(boxes, config, fakes[0], examples[0].mask_threshold)
    example_seconds = _fastest_per_pair(example_step, fakes[0], original, indices, repeats, WALL)["wall"]

    n = len(indices)
    pair_decode = 2 * decode_all / info.n_frames  # the fake's frame and the original's
    return {
        "video": f"{info.width}x{info.height}, {info.n_frames} frames, {n} sampled",
        "decode_fps_all_frames": info.n_frames / decode_all,
        "decode_fps_sampled": n / decode_sampled,
        **detect_fps,
        "example_fps": n / example_seconds,
        "example_ms_per_pair": 1e3 * example_seconds / n,
        "example_cost_vs_pair_decode": (example_seconds / n) / pair_decode,
        "pair_pipeline_fps_with_detection": n / pipeline_cold,
        "pair_pipeline_fps_boxes_cached": n / pipeline_warm,
        "memory": _memory(fakes, config, detector, box_cache),
    }


def mask_cost(original, fake, boxes, config, repeats: int, mask_threshold: float) -> dict:
    """A pair's mask (at ``mask_threshold``) and its noise estimate against decoding the pair's
    two frames, in CPU time and in wall time, with the face crop's mean side."""
    info = probe(original.path)
    indices = sample_frame_indices(info.n_frames, config.frames_per_video)
    decode_all = _fastest(lambda: sum(1 for _ in iter_frames(original.path, range(info.n_frames))), repeats,
                          DECODE_CLOCKS)
    mask_all = _fastest_per_pair(_mask_step(boxes, config, mask_threshold), fake, original, indices, repeats,
                                 MASK_CLOCKS)
    noise_all = _fastest_per_pair(_noise_step(boxes), fake, original, indices, repeats, MASK_CLOCKS)
    result = {"crop_side_px": float(np.mean([boxes[i][2] - boxes[i][0] for i in indices])),
              "mask_threshold": mask_threshold}
    for name in MASK_CLOCKS:
        pair_decode = 2 * decode_all[name] / info.n_frames  # the fake's frame and the original's
        mask_per_pair, noise_per_pair = mask_all[name] / len(indices), noise_all[name] / len(indices)
        result[name] = {
            "mask_ms_per_pair": 1e3 * mask_per_pair,
            "noise_ms_per_pair": 1e3 * noise_per_pair,
            "pair_decode_ms": 1e3 * pair_decode,
            "mask_cost_vs_pair_decode": mask_per_pair / pair_decode,
            "noise_cost_vs_pair_decode": noise_per_pair / pair_decode,
        }
    ratio = result["cpu"]["mask_cost_vs_pair_decode"]
    result.update(mask_target_vs_pair_decode=MASK_TARGET_VS_PAIR_DECODE,
                  mask_target_met=bool(ratio < MASK_TARGET_VS_PAIR_DECODE))
    return result


def mask_cost_by_face_height(speed_videos: dict, box_caches: dict, detector, repeats: int) -> dict:
    """``mask_cost`` of the original and first fake of each face height's speed videos."""
    config = ExtractionConfig()
    by_height = {}
    for face_height, (original, fake, *_) in speed_videos.items():
        box_cache = box_caches[face_height]
        examples = extract_video(fake, config, detector=detector, box_cache=box_cache)  # detects unless cached
        indices = sample_frame_indices(probe(original.path).n_frames, config.frames_per_video)
        boxes = main_face_boxes(box_cache.get(original.video_id), indices, original.path)
        by_height[face_height] = mask_cost(original, fake, boxes, config, repeats, examples[0].mask_threshold)
        costs = by_height[face_height]
        print(f"face height {face_height}: mask {costs['cpu']['mask_cost_vs_pair_decode']:.3f} of the pair's "
              f"decoding in CPU time, {costs['wall']['mask_cost_vs_pair_decode']:.3f} in wall time; noise estimate "
              f"{costs['cpu']['noise_cost_vs_pair_decode']:.3f}", flush=True)
    return by_height


def _example_step(boxes, config, fake, mask_threshold):
    """One pair's share of extraction: alignment check, face choice, noise estimate, crops, crop resize, mask."""

    def example(i, fake_frame, real_frame):
        pair_mask(cut_pair(i, fake_frame, real_frame, [boxes[i]], config, fake), mask_threshold, config)

    return example


def _mask_step(boxes, config, mask_threshold):
    """``manipulation_mask`` alone on one pair; the crops are views of the frames, as in extraction."""

    def mask(i, fake_frame, real_frame):
        x0, y0, x1, y1 = boxes[i]
        manipulation_mask(real_frame[y0:y1, x0:x1], fake_frame[y0:y1, x0:x1], mask_threshold=mask_threshold,
                          fill_holes=config.fill_holes)

    return mask


def _noise_step(boxes):
    """``noise_samples`` alone on one pair: the codec noise the mask threshold is set from."""

    def noise(i, fake_frame, real_frame):
        noise_samples(real_frame, fake_frame, boxes[i])

    return noise


def _fastest_per_pair(step, fake, original, indices, repeats: int, clocks: dict) -> dict:
    """Seconds of ``step(index, fake_frame, real_frame)`` on each of ``clocks``, summed over
    the pairs, each pair counting its fastest of ``repeats`` decoding passes. Every call meets
    frames just decoded, as extraction does (their pixels not yet in the CPU caches: a second
    call on the same frames runs about a third faster)."""
    fastest = {name: [math.inf] * len(indices) for name in clocks}
    for _ in range(repeats):
        pairs = zip(iter_frames(fake.path, indices), iter_frames(original.path, indices))
        for k, ((i, fake_frame), (_, real_frame)) in enumerate(pairs):
            for name, seconds in _seconds_on(clocks, functools.partial(step, i, fake_frame, real_frame)).items():
                fastest[name][k] = min(fastest[name][k], seconds)
    return {name: sum(per_pair) for name, per_pair in fastest.items()}


def _memory(fakes, config, detector, box_cache) -> dict:
    """Peak memory while extracting one video and while extracting several: flat when frames
    are streamed. Each peak is that step's own: the process's earlier peak (writing the 1080p
    videos, detecting faces) is forgotten first where Linux allows it."""
    tracemalloc.start()
    per_step = _forget_peak_rss()
    _consume(extract_many(fakes[:1], config, detector=detector, box_cache=box_cache))
    python_peak_one, rss_one = tracemalloc.get_traced_memory()[1], _peak_rss_mib()
    tracemalloc.reset_peak()
    _forget_peak_rss()
    many = fakes * 3
    _consume(extract_many(many, config, detector=detector, box_cache=box_cache))
    python_peak_many, rss_many = tracemalloc.get_traced_memory()[1], _peak_rss_mib()
    tracemalloc.stop()
    return {
        "videos_many": len(many),
        "tracemalloc_peak_mib_one_video": python_peak_one / 2**20,
        "tracemalloc_peak_mib_many_videos": python_peak_many / 2**20,
        "peak_rss_mib_one_video": rss_one,
        "peak_rss_mib_many_videos": rss_many,
        "peak_rss_per_step": per_step,
    }


def _consume(results) -> None:
    """Go through the results dropping each video's examples, as a writer of records would."""
    for _ in results:
        pass


def _forget_peak_rss() -> bool:
    """Restart the kernel's count of this process's peak resident memory (Linux 4.0+);
    False where that is not allowed, and peaks are then the whole process's."""
    try:
        pathlib.Path("/proc/self/clear_refs").write_text("5")
    except OSError:
        return False
    return True


def _peak_rss_mib() -> float:
    """Peak resident memory since the last ``_forget_peak_rss`` (or since the process started)."""
    status = pathlib.Path("/proc/self/status")
    if status.exists():
        for line in status.read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024  # kB
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak / 2**20 if sys.platform == "darwin" else peak / 1024  # macOS counts bytes, others KiB


def _seconds(function) -> float:
    return _seconds_on(WALL, function)["wall"]


def _seconds_on(clocks: dict, function) -> dict:
    """Seconds one call of ``function`` takes on each of ``clocks`` (name: clock)."""
    starts = {name: clock() for name, clock in clocks.items()}
    function()
    return {name: clock() - starts[name] for name, clock in clocks.items()}


def _fastest(function, repeats: int, clocks: dict) -> dict:
    """Seconds of the fastest of ``repeats`` runs on each of ``clocks``: the least disturbed by
    other work on the machine."""
    runs = [_seconds_on(clocks, function) for _ in range(repeats)]
    return {name: min(run[name] for run in runs) for name in clocks}


# ---------------------------------------------------------------- real data

# FaceForensics' example frames (its repository's images/ folder): fake -> original, and how
# each pair is laid out as a download (a DFD name must read target_source__scene__id).
OFFICIAL_FRAME_PAIRS = {
    "ex_deepfakes": ("ex_original", "original_sequences/youtube/c23/videos/000.mp4",
                     "manipulated_sequences/Deepfakes/{folder}/000_001.mp4"),
    "ex_neuraltextures": ("ex_original", "original_sequences/youtube/c23/videos/000.mp4",
                          "manipulated_sequences/NeuralTextures/{folder}/000_001.mp4"),
    "ex_deepfakedetection": ("ex_original_actors", "original_sequences/actors/c23/videos/01__example.mp4",
                             "manipulated_sequences/DeepFakeDetection/{folder}/01_02__example__OFFICIAL.mp4"),
}
CLIP_FRAMES = 8
CLIP_CRF = 23  # as FaceForensics++ c23
MASK_CLIP_CRF = 0  # lossless: the official mask image itself


def official_frame_clips(folder: pathlib.Path, root: pathlib.Path) -> pathlib.Path:
    """The example frames in ``folder`` as short CRF 23 clips under ``root``, laid out like the
    FaceForensics++ download, each fake with its official mask image as its mask video."""
    for fake, (original, original_path, fake_path) in OFFICIAL_FRAME_PAIRS.items():
        if not (folder / f"{fake}.png").is_file():
            continue
        clips = {original_path: _rgb(folder / f"{original}.png"), fake_path.format(folder="c23/videos"):
                 _rgb(folder / f"{fake}.png")}
        for path, image in clips.items():
            if not (root / path).is_file():
                write_h264(root / path, [image] * CLIP_FRAMES, crf=CLIP_CRF)
        mask = cv2.imread(str(folder / f"{fake}_mask.png"), cv2.IMREAD_GRAYSCALE)
        write_mask_video(root / fake_path.format(folder="masks/videos"), [mask] * CLIP_FRAMES, crf=MASK_CLIP_CRF)
    return root


def _rgb(path: pathlib.Path) -> np.ndarray:
    image = cv2.imread(str(path), cv2.IMREAD_COLOR)
    if image is None:
        raise SystemExit(f"bench_masks: {path}: not a readable image")
    return cv2.cvtColor(image, cv2.COLOR_BGR2RGB)


def real_roots(folders, workdir: pathlib.Path) -> dict[str, pathlib.Path]:
    """Name -> FaceForensics++-style root for each ``--real`` folder (or each such folder inside it)."""
    roots = {}
    for folder in folders:
        candidates = [folder] if _real_kind(folder) else sorted(p for p in folder.iterdir() if _real_kind(p))
        if not candidates:
            raise SystemExit(f"bench_masks: {folder}: neither a FaceForensics++ root (original_sequences/) nor "
                             "an example-frames folder (ex_original.png), nor a folder holding one")
        for candidate in candidates:
            if _real_kind(candidate) == "frames":
                roots[candidate.name] = official_frame_clips(candidate, workdir / "clips" / candidate.name)
            else:
                roots[candidate.name] = candidate
    return roots


def _real_kind(folder: pathlib.Path) -> str | None:
    if (folder / "ex_original.png").is_file():
        return "frames"
    return "download" if (folder / "original_sequences").is_dir() else None


def real_fakes(root: pathlib.Path) -> list[VideoEntry]:
    """The fakes of the FaceForensics++ and DFD layouts found under ``root``."""
    entries = []
    if (root / "original_sequences/youtube").is_dir():
        entries += list_faceforensics(root)
    if (root / "original_sequences/actors").is_dir():
        entries += list_dfd(root)
    return [entry for entry in entries if entry.is_fake]


def measure_real(roots: dict, thresholds, fill_options, base: ExtractionConfig, detector) -> dict:
    """Per root, mask-threshold rule and method: the figures named in the module docstring."""
    results = {}
    for name, root in roots.items():
        fakes, box_cache = real_fakes(root), BoxCache()
        results[name] = {}
        for mask_threshold in thresholds:
            for fill_holes in fill_options:
                config = dataclasses.replace(base, mask_threshold=mask_threshold, fill_holes=fill_holes)
                rule = rule_name(mask_threshold, fill_holes)
                results[name][rule] = _real_figures(fakes, config, detector, box_cache)
                print(f"{name} {rule}: " + "; ".join(f"{method} IoU {row['iou_vs_official']}, outside "
                                                     f"{row['outside_flagged']:.4f}"
                                                     for method, row in results[name][rule].items()), flush=True)
    return results


def _real_figures(fakes, config, detector, box_cache) -> dict:
    report = SkipReport()
    frames = collections.defaultdict(list)
    for entry, examples in extract_many(fakes, config, detector=detector, box_cache=box_cache, report=report):
        method = entry.video_id.split("/")[0]
        outside = _flagged_outside(entry, examples, config)
        for example, (flagged, over) in zip(examples, outside):
            official = None if example.official_mask is None else _iou(example.official_mask, example.mask)
            frames[method].append((example.mask.mean(), example.mask_threshold, flagged, over, official))
    figures = {}
    for method, rows in sorted(frames.items()):
        area, threshold, flagged, over, official = zip(*rows)
        scored = [iou for iou in official if iou is not None]
        figures[method] = {
            "videos": sum(1 for entry in fakes if entry.video_id.startswith(f"{method}/")),
            "frames": len(rows),
            "empty_mask_fraction": float(np.mean(np.asarray(area) == 0)),
            "mean_mask_area": float(np.mean(area)),
            "mean_mask_threshold": float(np.mean(threshold)),
            "outside_flagged": float(np.mean(flagged)),
            "outside_over_threshold": float(np.mean(over)),
            "iou_vs_official": float(np.mean(scored)) if scored else None,
            "frames_with_official_mask": len(scored),
        }
    for skipped in report.skipped:
        figures.setdefault(skipped["video_id"].split("/")[0], {}).setdefault("skipped", []).append(skipped["reason"])
    return figures


def _flagged_outside(entry, examples, config) -> list[tuple[float, float]]:
    """Per example, the fraction of the frame's pixels outside the face box that the mask rule
    flags (distance over the threshold, in a component of enough pixels), and the fraction
    merely over the threshold."""
    indices = [example.frame_index for example in examples]
    pairs = zip(iter_frames(entry.path, indices), iter_frames(entry.original_path, indices))
    fractions = []
    for example, ((_, fake), (_, real)) in zip(examples, pairs):
        over = (blurred_distance(real, centred_in(fake, real)) > example.mask_threshold).astype(np.uint8)
        count, labels, stats, _ = cv2.connectedComponentsWithStats(over, connectivity=8)
        kept = (stats[:, cv2.CC_STAT_AREA] >= config.min_component_pixels).astype(np.uint8)
        kept[0] = 0
        flagged = kept[labels].astype(bool)
        outside = np.ones(over.shape, bool)
        x0, y0, x1, y1 = example.box
        outside[y0:y1, x0:x1] = False
        fractions.append((float(flagged[outside].mean()), float(over[outside].mean())))
    return fractions


# ---------------------------------------------------------------- main


def print_tables(results: dict) -> None:
    if "quality" in results:
        _print_quality(results)
    if "speed" in results:
        _print_speed(results["speed"])
        _print_mask_cost_by_face_height(results["mask_cost_by_face_height"])
    if "real" in results:
        _print_real(results["real"])


def _print_quality(results: dict) -> None:
    quality = results["quality"]
    kinds = sorted({kind for row in quality.values() for kind in row["mean_iou"]})
    print("\nmean IoU of extracted vs planted masks (H.264 CRF 23)")
    print("mask threshold  " + "  ".join(f"{kind:>8}" for kind in kinds))
    for rule, row in quality.items():
        print(f"{rule:>14}  " + "  ".join(f"{row['mean_iou'][kind]:8.3f}" for kind in kinds))


def _print_real(real: dict) -> None:
    print("\nreal data: per method, mask rule; outside = pixels flagged outside the face box")
    print(f"{'data':16} {'rule':>14} {'method':18} {'frames':>6} {'empty':>6} {'area':>6} {'T':>6} {'outside':>8} "
          f"{'IoU official':>12}  skipped")
    for name, rules in real.items():
        for rule, methods in rules.items():
            for method, row in methods.items():
                if "frames" not in row:  # every video of the method skipped
                    print(f"{name:16} {rule:>14} {method:18} {'':>6} {'':>6} {'':>6} {'':>6} {'':>8} {'':>12}  "
                          f"{row['skipped']}")
                    continue
                iou = "-" if row["iou_vs_official"] is None else f"{row['iou_vs_official']:.3f}"
                print(f"{name:16} {rule:>14} {method:18} {row['frames']:6d} {row['empty_mask_fraction']:6.2f} "
                      f"{row['mean_mask_area']:6.3f} {row['mean_mask_threshold']:6.1f} {row['outside_flagged']:8.2%} "
                      f"{iou:>12}  {row.get('skipped', '')}")


def _print_speed(speed: dict) -> None:
    print(f"\nspeed on {speed['video']}")
    for key, value in speed.items():
        if isinstance(value, float):
            print(f"  {key:36s} {value:10.3f}")
    for key, value in speed["memory"].items():
        print(f"  {key:36s} {value:10.1f}" if isinstance(value, float) else f"  {key:36s} {value!s:>10}")


def _print_mask_cost_by_face_height(by_height: dict) -> None:
    print("\nmask of a pair vs decoding its two frames, by face size "
          f"(target < {MASK_TARGET_VS_PAIR_DECODE:.2f} in CPU time)")
    print("                            ---------- CPU time ----------   --------- wall time ----------")
    print("face height  crop side px   mask ms  pair decode ms  ratio   mask ms  pair decode ms  ratio  target")
    for face_height, row in by_height.items():
        cells = "".join(f"  {row[clock]['mask_ms_per_pair']:8.3f}  {row[clock]['pair_decode_ms']:14.2f}  "
                        f"{row[clock]['mask_cost_vs_pair_decode']:5.3f}" for clock in ("cpu", "wall"))
        verdict = "met" if row["mask_target_met"] else "NOT met"
        print(f"{face_height:11.2f}  {row['crop_side_px']:12.0f}{cells}  {verdict}")


def run(args) -> dict:
    detector = default_detector()
    results = {}
    with tempfile.TemporaryDirectory() as temporary:
        workdir = args.workdir or pathlib.Path(temporary)
        rule = {"mask_threshold_quantile": args.mask_threshold_quantile,
                "mask_threshold_floor": args.mask_threshold_floor}
        if not args.skip_quality:
            base = ExtractionConfig(frames_per_video=args.frames_per_video, **rule)
            results["quality"] = measure_quality(workdir / "quality", args.mask_thresholds, base, args.seed, detector)
        if not args.skip_speed:
            heights, largest = args.speed_face_heights, max(args.speed_face_heights)
            speed_videos = {
                height: write_speed_videos(workdir / f"speed_{height}", args, height,
                                           fakes=args.speed_fakes if height == largest else 1)
                for height in heights
            }
            box_caches = {height: BoxCache() for height in heights}  # the largest's filled by measure_speed
            results["speed"] = measure_speed(speed_videos[largest], detector, args.speed_repeats, box_caches[largest])
            results["mask_cost_by_face_height"] = mask_cost_by_face_height(
                speed_videos, box_caches, detector, args.speed_repeats)
        if args.real:
            fill_options = {"on": [True], "off": [False], "both": [True, False]}[args.fill_holes]
            base = ExtractionConfig(frames_per_video=args.real_frames_per_video, **rule)
            results["real"] = measure_real(real_roots(args.real, workdir / "real"), args.mask_thresholds, fill_options,
                                           base, detector)
        results["noise_rule"] = rule
    return results


def main(argv=None):
    args = parse_args(argv)
    write_and_print(run(args), args.output, print_tables)


if __name__ == "__main__":
    main()
