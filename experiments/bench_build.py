"""How fast dfdc_masks builds, how it scales with Beam workers, and what the full DFDC would take.

    python -m experiments.bench_build [--workers 1 2] [--parts 5 10]

Measures, on the synthetic corpus (320x240, 16-frame videos) at two corpus sizes
(``--parts``; corpora written once, not timed):
- decode + detection alone: every sampled frame of every video decoded once, the face
  detector (``default_detector``: BlazeFace, MTCNN where it is unsure) run once per
  original (the least work any build must do);
- extraction alone: ``extract_many`` in this process (detection once per original,
  crops, masks), without TFDS;
- the TFDS build without Beam, and with Beam on the DirectRunner in multi_processing mode
  with each ``--workers`` count.
Each is fitted as ``seconds = a + b * videos`` over the two sizes: ``a`` is the fixed
start-up (a Beam worker imports TensorFlow and loads the detector), ``b`` the cost of one more
video; CPU seconds (this process and the children it waited for) are fitted the same
way, but a Beam build's CPU seconds miss what its workers spent when the runner does not
wait for them: compare Beam builds by wall time.

Then a DFDC-sized pair at 1920x1080 (``--hd-seconds`` long, written once, not timed), at
``--hd-frames-per-video`` frames: CPU seconds of detection on the original, extraction of
the original with those boxes, and extraction of the fake (decodes fake and original,
masks). From these and the per-example cost of writing records with Beam, it projects
the full DFDC onto N workers (linear scaling assumed; see ``docs/scaling_build.md``).

Last, the input pipeline reading the records back through tf.data.
Targets: a build within 2x of decode + detection; >= 500 images/s per CPU core.
Writes JSON and prints tables. The machine may be shared: the load average is recorded.
"""

import argparse
import json
import os
import pathlib
import resource
import shutil
import tempfile
import time

import numpy as np
import tensorflow_datasets as tfds
from apache_beam.options.pipeline_options import PipelineOptions

from dfseg_tf import records
from dfseg_tf.corpus import CorpusSpec
from dfseg_tf.corpus import scene as scenes
from dfseg_tf.corpus.planting import fake_plan, original_plan, write_plan
from dfseg_tf.data.pipeline import segmentation_batches
from dfseg_tf.extraction import (
    ExtractionConfig,
    VideoSkipped,
    default_detector,
    extract_many,
    extract_video,
    iter_frames,
    original_face_boxes,
    probe,
    sample_frame_indices,
)
from dfseg_tf.method import FRAMES_PER_VIDEO
from dfseg_tf.sources.entry import FAKE, REAL, TRAIN, VideoEntry
from experiments import tfds_build
from experiments.bench_output import write_and_print

# The DFDC training set (Kaggle): 119,154 videos, 19,154 of them originals, mostly
# 10 s at 30 fps and 1920x1080 (or portrait 1080x1920).
DFDC_VIDEOS = 119_154
DFDC_ORIGINALS = 19_154
DFDC_FRAMES_PER_VIDEO = FRAMES_PER_VIDEO
PROJECTED_WORKERS = (1, 2, 16, 64, 256)


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    paths = parser.add_argument_group("paths")
    paths.add_argument("--work-dir", type=pathlib.Path, default=None,
                       help="where the corpora and the builds go; corpora there are reused "
                            "(default: a temporary folder, deleted afterwards)")
    paths.add_argument("--output", type=pathlib.Path, default=pathlib.Path("results/bench_build.json"),
                       help="JSON file of the figures (default: results/bench_build.json)")
    size = parser.add_argument_group("run size")
    size.add_argument("--parts", type=int, nargs=2, default=[5, 10],
                      help="the two synthetic corpus sizes, in DFDC parts, for the a + b*videos fit (default: 5 10)")
    size.add_argument("--frames-per-video", type=int, default=8,
                      help="frames sampled per synthetic video (default: 8)")
    size.add_argument("--workers", type=int, nargs="+", default=[1, 2],
                      help="DirectRunner worker process counts to time (default: 1 2)")
    size.add_argument("--skip-beam", action="store_true", help="do not time Beam builds (default: time them)")
    size.add_argument("--hd-seconds", type=float, default=10.0,
                      help="length of the 1920x1080 original and fake at 30 fps (default: 10)")
    size.add_argument("--hd-frames-per-video", type=int, default=DFDC_FRAMES_PER_VIDEO,
                      help=f"frames sampled from the 1080p pair (default: {DFDC_FRAMES_PER_VIDEO})")
    size.add_argument("--batch-size", type=int, default=16, help="input pipeline batch size (default: 16)")
    size.add_argument("--pipeline-images", type=int, default=4096,
                      help="images read through the input pipeline (default: 4096)")
    return parser.parse_args(argv)


class _Clock:
    """Wall and CPU seconds of a block: this process's threads and the children it waited for."""

    def __enter__(self):
        self._start = (time.perf_counter(), self._cpu())
        return self

    def __exit__(self, *exc_info):
        wall, cpu = self._start
        self.seconds = time.perf_counter() - wall
        self.cpu_seconds = self._cpu() - cpu

    @staticmethod
    def _cpu() -> float:
        children = resource.getrusage(resource.RUSAGE_CHILDREN)
        return time.process_time() + children.ru_utime + children.ru_stime

    def figures(self, **counts) -> dict:
        return {"seconds": self.seconds, "cpu_seconds": self.cpu_seconds, **counts}


def synthetic_corpus(work: pathlib.Path, parts: int) -> pathlib.Path:
    """The download dir holding a synthetic corpus of ``parts`` parts, where the builder looks for it."""
    downloads = work / f"parts{parts}" / "downloads"
    records.prepare_synthetic_corpus(downloads / records.SYNTHETIC_CORPUS_FOLDER, parts=parts)
    return downloads


def time_decode_and_detection(entries, config, detector) -> dict:
    """Each video's sampled frames decoded once; faces detected once per original."""
    frames = 0
    originals = set()
    with _Clock() as clock:
        for entry in entries:
            try:
                indices = sample_frame_indices(probe(entry.path).n_frames, config.frames_per_video)
                if entry.original_path is not None and entry.original_id not in originals:
                    originals.add(entry.original_id)
                    original_face_boxes(entry.original_path, detector, frames_per_video=config.frames_per_video,
                                        margin=config.margin)
                if entry.path != entry.original_path:
                    frames += sum(1 for _ in iter_frames(entry.path, indices))
                else:
                    frames += len(indices)  # decoded by the detection above
            except VideoSkipped:
                continue
    return clock.figures(videos=len(entries), frames=frames)


def time_extraction(entries, config, detector) -> dict:
    """What a build does to the videos, without TFDS: ``extract_many`` in this process."""
    with _Clock() as clock:
        frames = sum(len(examples) for _, examples in extract_many(entries, config, detector=detector))
    return clock.figures(videos=len(entries), frames=frames)


def time_build(builder_cls, config, data_dir, download_dir, beam_options=None) -> dict:
    shutil.rmtree(data_dir, ignore_errors=True)  # a finished build would not run again
    builder = builder_cls(config=config, data_dir=str(data_dir))
    download_config = tfds.download.DownloadConfig(beam_options=beam_options)
    with _Clock() as clock:
        builder.download_and_prepare(download_dir=str(download_dir), download_config=download_config)
    report = json.loads((pathlib.Path(builder.data_dir) / "skip_report.json").read_text())
    frames = sum(split.num_examples for split in builder.info.splits.values())
    return clock.figures(videos=report["processed"] + report["skipped_count"], frames=frames)


def beam_options(workers: int) -> PipelineOptions:
    return PipelineOptions([
        "--runner=DirectRunner", f"--direct_num_workers={workers}", "--direct_running_mode=multi_processing",
    ])


def fit_start_up_and_per_video(runs: list[dict]) -> dict:
    """``seconds = a + b * videos`` (and the same for CPU seconds) through the runs of two corpus sizes."""
    small, large = sorted(runs, key=lambda run: run["videos"])
    fitted = {}
    for measure in ("seconds", "cpu_seconds"):
        per_video = (large[measure] - small[measure]) / (large["videos"] - small["videos"])
        fitted[f"start_up_{measure}"] = small[measure] - per_video * small["videos"]
        fitted[f"per_video_{measure}"] = per_video
    fitted["per_video_frames"] = (large["frames"] - small["frames"]) / (large["videos"] - small["videos"])
    fitted["marginal_videos_per_s"] = 1 / fitted["per_video_seconds"]
    return fitted


def _rates(figures: dict) -> dict:
    return {**figures, "videos_per_s": figures["videos"] / figures["seconds"],
            "frames_per_s": figures["frames"] / figures["seconds"]}


def measure_synthetic(args, work: pathlib.Path) -> dict:
    """Every stage at both corpus sizes, each fitted as start-up + per-video cost."""
    builder_cls = tfds_build.builder_class()
    config = builder_cls.builder_config_cls(name=f"synthetic_bench{args.frames_per_video}", dataset="synthetic",
                                            frames_per_video=args.frames_per_video)
    plan = config.build_plan()
    detector = default_detector()  # loaded before the in-process stages' clocks start
    stages = ["decode_and_detection", "extraction", "build_local"]
    if not args.skip_beam:
        stages += [f"build_beam_{workers}_workers" for workers in args.workers]
    runs = {stage: [] for stage in stages}
    for parts in args.parts:
        downloads = synthetic_corpus(work, parts)
        corpus = downloads / records.SYNTHETIC_CORPUS_FOLDER
        entries = [e for videos in records.entries_by_split(plan.list_entries(corpus)).values() for e in videos]
        extraction = plan.extraction_config()
        runs["decode_and_detection"].append(time_decode_and_detection(entries, extraction, detector))
        runs["extraction"].append(time_extraction(entries, extraction, detector))
        runs["build_local"].append(time_build(builder_cls, config, work / f"parts{parts}" / "local", downloads))
        for workers in [] if args.skip_beam else args.workers:
            data_dir = work / f"parts{parts}" / f"beam{workers}"
            runs[f"build_beam_{workers}_workers"].append(
                time_build(builder_cls, config, data_dir, downloads, beam_options(workers)))
    return {
        stage: {"runs": [dict(_rates(run), parts=parts) for run, parts in zip(stage_runs, args.parts)],
                **fit_start_up_and_per_video(stage_runs)}
        for stage, stage_runs in runs.items()
    } | {"name": config.name}


def write_hd_pair(folder: pathlib.Path, seconds: float) -> tuple[VideoEntry, VideoEntry]:
    """A 1920x1080 original and a fake of it (mouth changed), each ``seconds`` long at 30 fps."""
    spec = CorpusSpec(width=1920, height=1080, n_frames=round(seconds * 30), fps=30.0)
    rng = np.random.default_rng(0)
    original = original_plan("hd_original", "hd_original.mp4", scenes.random_scene(rng), spec)
    fake = fake_plan(original, "hd_fake", "hd_fake.mp4", scenes.random_manipulation(rng, "mouth"))
    done = folder / "PAIR_COMPLETE"
    if not done.exists():
        for plan in (original, fake):
            write_plan(folder, plan)
        done.write_text(f"{spec}\n")
    original_path = folder / original.path
    entry = {"split": TRAIN, "source": "dfdc", "original_id": original.video_id, "original_path": original_path}
    return (VideoEntry(original.video_id, original_path, REAL, **entry),
            VideoEntry(fake.video_id, folder / fake.path, FAKE, **entry))


def measure_hd_pair(args, work: pathlib.Path) -> dict:
    """CPU seconds of each per-video step of a build on a DFDC-sized 1080p original and fake."""
    original, fake = write_hd_pair(work / "hd_pair", args.hd_seconds)
    config = ExtractionConfig(frames_per_video=args.hd_frames_per_video)
    detector = default_detector()
    _, first_frame = next(iter_frames(original.path, [0]))
    detector.detect_many([first_frame])  # warm-up: the interpreter's first call allocates its buffers
    detector.fallback.detect_many([first_frame])  # and MTCNN, loaded once per worker, traces its graphs
    detector.frames_to_fallback = 0  # the warm-up is not the original's detection
    with _Clock() as detection:
        boxes = original_face_boxes(original.path, detector, frames_per_video=config.frames_per_video,
                                    margin=config.margin)
    with _Clock() as original_extraction:
        extract_video(original, config, boxes=boxes)
    with _Clock() as fake_extraction:
        examples = extract_video(fake, config, boxes=boxes)
    info = probe(original.path)
    return {
        "width": info.width, "height": info.height, "n_frames": info.n_frames,
        "megabytes": {"original": original.path.stat().st_size / 2**20, "fake": fake.path.stat().st_size / 2**20},
        "frames_per_video": len(examples),
        "detect_original": detection.figures(frames_to_mtcnn=detector.frames_to_fallback),
        "extract_original": original_extraction.figures(),
        "extract_fake": fake_extraction.figures(),
    }


def project_dfdc(synthetic: dict, hd: dict) -> dict:
    """CPU hours of a build of the full DFDC, and hours on N workers with linear scaling.

    Per original: detection and its own extraction at 1080p; per fake: its extraction
    (both videos decoded, masks). Per example, what writing records adds beyond
    extraction (JPEG and PNG encoding, serialising, shuffling), from the synthetic fits
    of the local build and of extraction alone, both in this process, where CPU time is
    counted whole (a Beam worker's is not always: the runner may not wait for it); it
    does not depend on the source resolution (crops are 256x256).
    """
    write_cpu_per_example = (
        (synthetic["build_local"]["per_video_cpu_seconds"] - synthetic["extraction"]["per_video_cpu_seconds"])
        / synthetic["build_local"]["per_video_frames"]
    )
    write_per_video = max(0.0, write_cpu_per_example) * hd["frames_per_video"]
    per_original = hd["detect_original"]["cpu_seconds"] + hd["extract_original"]["cpu_seconds"] + write_per_video
    per_fake = hd["extract_fake"]["cpu_seconds"] + write_per_video
    fakes = DFDC_VIDEOS - DFDC_ORIGINALS
    cpu_hours = (DFDC_ORIGINALS * per_original + fakes * per_fake) / 3600
    start_up_hours = max(row["start_up_seconds"] for row in synthetic.values() if isinstance(row, dict)) / 3600
    return {
        "videos": DFDC_VIDEOS,
        "originals": DFDC_ORIGINALS,
        "frames_per_video": hd["frames_per_video"],
        "write_cpu_seconds_per_example": write_cpu_per_example,
        "cpu_seconds_per_original": per_original,
        "cpu_seconds_per_fake": per_fake,
        "detection_share": DFDC_ORIGINALS * hd["detect_original"]["cpu_seconds"] / (cpu_hours * 3600),
        "cpu_hours": cpu_hours,
        "hours_on_workers": {str(n): cpu_hours / n + start_up_hours for n in PROJECTED_WORKERS},
    }


def time_input_pipeline(name, data_dir, *, batch_size, images) -> dict:
    ds = tfds.load(name, split="train", data_dir=str(data_dir)).repeat()
    batches = iter(segmentation_batches(ds, batch_size=batch_size, training=True, seed=0))
    next(batches)  # warm-up: opens files, fills the prefetch buffer
    n_batches = max(1, images // batch_size)
    start = time.perf_counter()
    for _ in range(n_batches):
        next(batches)
    seconds = time.perf_counter() - start
    images_per_s = n_batches * batch_size / seconds
    return {"seconds": seconds, "images": n_batches * batch_size, "images_per_s": images_per_s,
            "images_per_s_per_core": images_per_s / os.cpu_count()}


def run(args) -> dict:
    if args.work_dir is not None:
        return _run_in(args, args.work_dir)
    with tempfile.TemporaryDirectory(prefix="bench_build_") as temporary:
        return _run_in(args, pathlib.Path(temporary))


def _run_in(args, work: pathlib.Path) -> dict:
    results = {"cpu_cores": os.cpu_count(), "load_average_start": os.getloadavg()[0],
               "frames_per_video": args.frames_per_video, "parts": args.parts}
    synthetic = measure_synthetic(args, work)
    results["synthetic"] = synthetic
    results["hd_pair"] = measure_hd_pair(args, work)
    results["projection"] = project_dfdc(synthetic, results["hd_pair"])
    largest_local = work / f"parts{max(args.parts)}" / "local"
    results["input_pipeline"] = time_input_pipeline(f"dfdc_masks/{synthetic['name']}", largest_local,
                                                    batch_size=args.batch_size, images=args.pipeline_images)
    results["load_average_end"] = os.getloadavg()[0]
    return results


def print_table(results: dict) -> None:
    synthetic = results["synthetic"]
    baseline = synthetic["decode_and_detection"]["per_video_seconds"]
    print(f"synthetic corpus 320x240, {results['frames_per_video']} frames a video, parts {results['parts']} "
          f"(load average {results['load_average_start']:.1f} -> {results['load_average_end']:.1f} "
          f"on {results['cpu_cores']} cores)")
    print(f"{'stage':<26}{'videos':>14}{'videos/s':>16}{'frames/s':>16}{'start-up s':>12}"
          f"{'s/video':>9}{'CPU s/video':>13}{'x dec+det':>11}")
    for stage, row in synthetic.items():
        if not isinstance(row, dict):
            continue
        runs = row["runs"]
        videos = " / ".join(str(run["videos"]) for run in runs)
        videos_per_s = " / ".join(f"{run['videos_per_s']:.2f}" for run in runs)
        frames_per_s = " / ".join(f"{run['frames_per_s']:.1f}" for run in runs)
        print(f"{stage:<26}{videos:>14}{videos_per_s:>16}{frames_per_s:>16}{row['start_up_seconds']:>12.1f}"
              f"{row['per_video_seconds']:>9.2f}{row['per_video_cpu_seconds']:>13.2f}"
              f"{row['per_video_seconds'] / baseline:>11.2f}")
    hd = results["hd_pair"]
    print(f"\n{hd['width']}x{hd['height']}, {hd['n_frames']} frames, {hd['frames_per_video']} sampled, CPU seconds: "
          + ", ".join(f"{step} {hd[step]['cpu_seconds']:.2f}" for step in
                      ("detect_original", "extract_original", "extract_fake")))
    projection = results["projection"]
    print(f"full DFDC ({projection['videos']:,} videos, {projection['originals']:,} originals): "
          f"{projection['cpu_hours']:.0f} CPU hours "
          f"(detection {projection['detection_share']:.0%})")
    for workers, hours in projection["hours_on_workers"].items():
        print(f"  {workers:>4} workers: {hours:8.1f} h")
    pipeline = results["input_pipeline"]
    print(f"input pipeline: {pipeline['images_per_s']:.0f} images/s on {results['cpu_cores']} cores "
          f"= {pipeline['images_per_s_per_core']:.0f} images/s per core (target >= 500)")


def main(argv=None) -> None:
    args = parse_args(argv)
    write_and_print(run(args), args.output, print_table)


if __name__ == "__main__":
    main()
