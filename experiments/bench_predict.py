"""How fast is `dfseg predict` on a DFDC-sized clip? Target: a 10 s 1080p clip in under 10 s, 32 frames, CPU.

Writes the clip with ``write_h264`` (scikit-image's astronaut moving slowly over a
textured background, a face about 200 px wide as in DFDC) and, unless ``--model`` is
given, an untrained U-Net (speed does not depend on the weights). Then measures:

- cold: the ``dfseg predict`` console script in a fresh process, as a user runs it:
  wall time of the whole command (TensorFlow start, model load, detector, the clip) and
  the seconds its report gives for the clip;
- warm: ``Predictor.predict`` on the clip ``--repeats`` times in this process for each
  ``--detect-sides`` value, median seconds per stage (decode, detect, model, overlay) and
  median CPU seconds of a run. The detector is the cascade (BlazeFace, then MTCNN where
  BlazeFace is unsure); the detect side only shrinks MTCNN's frames, so the frames MTCNN
  looked at in a warm run are reported too (``frames_to_mtcnn``, the mean over the repeats).

The machine is shared, so the load average at the start and end is recorded too.

    python -m experiments.bench_predict [--output results/bench_predict.json]
"""

import argparse
import json
import os
import pathlib
import resource
import statistics
import subprocess
import sys
import tempfile
import time

import cv2
import numpy as np
import skimage.data

from dfseg_tf.extraction.video_writer import write_h264
from dfseg_tf.method import FRAMES_PER_VIDEO
from dfseg_tf.models.card import SEGMENTATION, ModelCard
from dfseg_tf.predict.config import PredictConfig
from dfseg_tf.predict.inputs import collect_inputs
from experiments.bench_output import write_and_print

STAGES = ("decode", "detect", "model", "overlay")


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    paths = parser.add_argument_group("paths")
    paths.add_argument("--output", type=pathlib.Path, default=pathlib.Path("results/bench_predict.json"),
                       help="JSON file with every figure (default: results/bench_predict.json)")
    paths.add_argument("--workdir", type=pathlib.Path, default=None,
                       help="where the clip, model and predictions go (default: a temporary folder, deleted)")
    paths.add_argument("--model", type=pathlib.Path, default=None,
                       help="a saved model with its card (default: an untrained U-Net 'unet' on 256x256 input)")
    clip = parser.add_argument_group("clip")
    clip.add_argument("--width", type=int, default=1920, help="frame width (default: 1920)")
    clip.add_argument("--height", type=int, default=1080, help="frame height (default: 1080)")
    clip.add_argument("--seconds", type=float, default=10.0, help="clip length in seconds (default: 10)")
    clip.add_argument("--fps", type=float, default=30.0, help="frame rate (default: 30)")
    run = parser.add_argument_group("run")
    run.add_argument("--frames", type=int, default=FRAMES_PER_VIDEO,
                     help=f"frames sampled per video (default: {FRAMES_PER_VIDEO})")
    run.add_argument("--detect-sides", type=lambda s: [int(v) for v in s.split(",")], default=[480, 640, 960],
                     help="comma-separated --detect-side values for the warm runs (default: 480,640,960)")
    run.add_argument("--overlay", choices=("video", "sheet", "none"), default="video",
                     help="overlay written for each run (default: video)")
    run.add_argument("--repeats", type=int, default=3, help="warm runs per detect side (default: 3)")
    return parser.parse_args(argv)


def write_clip(path: pathlib.Path, width: int, height: int, n_frames: int, fps: float) -> pathlib.Path:
    person_side = min(height, width) * 3 // 4
    person = cv2.resize(skimage.data.astronaut(), (person_side, person_side), interpolation=cv2.INTER_AREA)
    rng = np.random.default_rng(0)
    background = cv2.resize(rng.integers(40, 200, (height // 40, width // 40, 3), dtype=np.uint8), (width, height))

    def frames():
        for t in range(n_frames):
            frame = background.copy()
            x = round((width - person_side) * (0.2 + 0.4 * t / max(n_frames - 1, 1)))  # slow pan
            y = (height - person_side) // 2
            frame[y : y + person_side, x : x + person_side] = person
            yield frame

    return write_h264(path, frames(), fps=fps)


def write_untrained_unet(path: pathlib.Path) -> pathlib.Path:
    from dfseg_tf.models.unet import build_unet

    build_unet("unet", input_shape=(256, 256, 3)).save(path)
    ModelCard(kind=SEGMENTATION, architecture="unet", input_size=256).save(path)
    return path


def measure_cold(clip, model, workdir: pathlib.Path, args) -> dict:
    """The console script in a fresh process: what a user waits for."""
    output = workdir / "cold"
    command = [pathlib.Path(sys.executable).with_name("dfseg"), "predict", clip, "--model", model,
               "--output", output, "--frames", str(args.frames), "--overlay", args.overlay]
    cpu_before, start = _children_cpu_seconds(), time.perf_counter()
    subprocess.run(list(map(str, command)), check=True, capture_output=True)
    wall, cpu = time.perf_counter() - start, _children_cpu_seconds() - cpu_before
    report = json.loads((output / f"{clip.name}.json").read_text())
    return {
        "command_seconds": wall,
        "command_cpu_seconds": cpu,  # less sensitive than wall time to other users of the machine
        "video_seconds": report["seconds"],
        "stage_seconds": report["stage_seconds"],
    }


def _children_cpu_seconds() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def measure_warm(clip, model, workdir: pathlib.Path, args) -> dict:
    """Per detect side: median seconds per stage over ``repeats`` runs after a first (tracing) run."""
    from dfseg_tf.predict.model import FaceModel
    from dfseg_tf.predict.predictor import Predictor

    face_model = FaceModel.load(model)
    (item,) = collect_inputs([clip])
    results = {}
    for side in args.detect_sides:
        predictor = Predictor(face_model, PredictConfig(frames=args.frames, overlay=args.overlay, detect_side=side))
        first, _ = _predict_with_cpu_seconds(predictor, item, workdir / f"warm_{side}")
        to_mtcnn_before = predictor.detector.frames_to_fallback  # the counter runs over every run
        timed = [_predict_with_cpu_seconds(predictor, item, workdir / f"warm_{side}") for _ in range(args.repeats)]
        runs = [run for run, _ in timed]
        results[side] = {
            "first_seconds": first.seconds,
            "seconds": statistics.median(run.seconds for run in runs),
            "cpu_seconds": statistics.median(cpu for _, cpu in timed),  # steadier than wall time on a shared machine
            "faces_found": sum(len(frame.faces) for frame in runs[-1].frames),
            "frames_to_mtcnn": (predictor.detector.frames_to_fallback - to_mtcnn_before) / args.repeats,
            "stage_seconds": {s: statistics.median(run.stage_seconds.get(s, 0.0) for run in runs) for s in STAGES},
        }
    return results


def _predict_with_cpu_seconds(predictor, item, stem):
    """The report and the CPU seconds of this process (all its threads) spent on it."""
    cpu_before = time.process_time()
    report = predictor.predict(item, stem)
    return report, time.process_time() - cpu_before


def run(args) -> dict:
    load_start = os.getloadavg()[0]
    with tempfile.TemporaryDirectory() as temporary:
        workdir = args.workdir or pathlib.Path(temporary)
        workdir.mkdir(parents=True, exist_ok=True)
        n_frames = round(args.seconds * args.fps)
        clip = write_clip(workdir / f"clip_{args.width}x{args.height}.mp4", args.width, args.height, n_frames, args.fps)
        model = args.model or write_untrained_unet(workdir / "unet.keras")
        cold = measure_cold(clip, model, workdir, args)
        warm = measure_warm(clip, model, workdir, args)
    return {
        "clip": {"width": args.width, "height": args.height, "frames": n_frames, "fps": args.fps},
        "frames_sampled": args.frames,
        "overlay": args.overlay,
        "model": str(args.model or "untrained unet (256x256)"),
        "cpu_count": os.cpu_count(),
        "load_average_start_end": [load_start, os.getloadavg()[0]],
        "target_seconds": 10.0,
        "cold": cold,
        "warm": warm,
        "default_detect_side": PredictConfig().detect_side,
    }


def print_table(results: dict) -> None:
    clip = results["clip"]
    print(f"\n{clip['width']}x{clip['height']}, {clip['frames']} frames, {results['frames_sampled']} sampled, "
          f"{results['cpu_count']} CPUs, load average {results['load_average_start_end'][0]:.1f} -> "
          f"{results['load_average_start_end'][1]:.1f}")
    cold = results["cold"]
    print(f"cold `dfseg predict` (default detect side {results['default_detect_side']}): "
          f"{cold['command_seconds']:.1f} s for the command ({cold['command_cpu_seconds']:.1f} CPU s), "
          f"{cold['video_seconds']:.1f} s for the clip")
    print("\ndetect side  first s  median s  median CPU s  " + "  ".join(f"{s:>8}" for s in STAGES)
          + "  faces  frames to MTCNN")
    for side, row in results["warm"].items():
        stages = "  ".join(f"{row['stage_seconds'][s]:8.2f}" for s in STAGES)
        print(f"{side:11d}  {row['first_seconds']:7.2f}  {row['seconds']:8.2f}  {row['cpu_seconds']:12.2f}  {stages}  "
              f"{row['faces_found']:5d}  {row['frames_to_mtcnn']:15.1f}")


def main(argv=None):
    args = parse_args(argv)
    write_and_print(run(args), args.output, print_table)


if __name__ == "__main__":
    main()
