"""How fast dfdc_masks builds, and how fast its records feed training, on this machine.

    python -m experiments.bench_build

Measures, on the synthetic corpus (written once, not timed):
- decode + detection alone: every sampled frame of every video decoded once, MTCNN run
  once per original (the least work any build must do);
- the TFDS build without Beam, and with Beam (DirectRunner, multi_processing workers);
- the input pipeline reading the records back through tf.data: TFDS decode (JPEG, PNG),
  ``dfseg_tf.data.pipeline.segmentation_batches`` (float conversion, shuffle, flips,
  batch, prefetch).
Targets: a build within 2x of decode + detection; >= 500 images/s per CPU core.
Writes JSON and prints a table.
"""

import argparse
import json
import os
import pathlib
import sys
import tempfile
import time

import tensorflow_datasets as tfds
from apache_beam.options.pipeline_options import PipelineOptions

from dfseg_tf import build
from dfseg_tf.data.pipeline import segmentation_batches
from dfseg_tf.extraction import FaceDetector, VideoSkipped, iter_frames, original_face_boxes, probe, sample_frame_indices

DATASETS_DIR = pathlib.Path(__file__).resolve().parents[1] / "datasets"


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--work-dir", type=pathlib.Path, default=None,
                        help="where the corpus and the builds go (default: a new temporary folder)")
    parser.add_argument("--frames-per-video", type=int, default=8, help="frames sampled per video (default: 8)")
    parser.add_argument("--beam-workers", type=int, default=2, help="DirectRunner worker processes (default: 2)")
    parser.add_argument("--skip-beam", action="store_true", help="do not time the Beam build (default: time it)")
    parser.add_argument("--batch-size", type=int, default=16, help="input pipeline batch size (default: 16)")
    parser.add_argument("--pipeline-images", type=int, default=4096,
                        help="images read through the input pipeline (default: 4096)")
    parser.add_argument("--output", type=pathlib.Path, default=pathlib.Path("results/bench_build.json"),
                        help="JSON file of the figures (default: results/bench_build.json)")
    return parser.parse_args(argv)


def _builder_classes():
    """The builder module, imported once from datasets/ (as ``tfds build`` does)."""
    sys.path.insert(0, str(DATASETS_DIR))
    from dfdc_masks.dfdc_masks_dataset_builder import Builder, DfdcMasksConfig

    return Builder, DfdcMasksConfig


def time_decode_and_detection(entries, config) -> dict:
    """Each video's sampled frames decoded once; faces detected once per original."""
    detector = FaceDetector()
    start = time.perf_counter()
    frames = 0
    originals = set()
    for entry in entries:
        try:
            indices = sample_frame_indices(probe(entry.path).n_frames, config.frames_per_video)
            if entry.original_path is not None and entry.original_id not in originals:
                originals.add(entry.original_id)
                original_face_boxes(entry.original_path, config, detector)
            if entry.path != entry.original_path:
                frames += sum(1 for _ in iter_frames(entry.path, indices))
            else:
                frames += len(indices)  # decoded by the detection above
        except VideoSkipped:
            continue
    seconds = time.perf_counter() - start
    return {"seconds": seconds, "videos": len(entries), "frames": frames}


def time_build(builder_cls, config, data_dir, download_dir, beam_options=None) -> dict:
    builder = builder_cls(config=config, data_dir=str(data_dir))
    download_config = tfds.download.DownloadConfig(beam_options=beam_options)
    start = time.perf_counter()
    builder.download_and_prepare(download_dir=str(download_dir), download_config=download_config)
    seconds = time.perf_counter() - start
    report = json.loads((pathlib.Path(builder.data_dir) / "skip_report.json").read_text())
    videos = report["processed"] + report["skipped_count"]
    frames = sum(split.num_examples for split in builder.info.splits.values())
    return {"seconds": seconds, "videos": videos, "frames": frames}


def time_input_pipeline(name, data_dir, *, batch_size, images) -> dict:
    ds = tfds.load(name, split="train", data_dir=str(data_dir)).repeat()
    batches = iter(segmentation_batches(ds, batch_size=batch_size, training=True, seed=0))
    next(batches)  # warm-up: opens files, fills the prefetch buffer
    n_batches = max(1, images // batch_size)
    start = time.perf_counter()
    for _ in range(n_batches):
        next(batches)
    seconds = time.perf_counter() - start
    return {"seconds": seconds, "images": n_batches * batch_size}


def _rates(figures: dict) -> dict:
    figures = dict(figures)
    if "videos" in figures:
        figures["videos_per_s"] = figures["videos"] / figures["seconds"]
    if "frames" in figures:
        figures["frames_per_s"] = figures["frames"] / figures["seconds"]
    return figures


def run(args) -> dict:
    work = args.work_dir or pathlib.Path(tempfile.mkdtemp(prefix="bench_build_"))
    downloads = work / "downloads"
    corpus = build.prepare_synthetic_corpus(downloads / build.SYNTHETIC_CORPUS_FOLDER)
    builder_cls, config_cls = _builder_classes()
    name = f"synthetic_bench{args.frames_per_video}"
    config = config_cls(name=name, dataset="synthetic", frames_per_video=args.frames_per_video)
    plan = config.build_plan()
    entries = [e for videos in build.entries_by_split(plan.list_entries(corpus)).values() for e in videos]

    results = {"cpu_cores": os.cpu_count(), "frames_per_video": args.frames_per_video}
    results["decode_and_detection"] = _rates(time_decode_and_detection(entries, plan.extraction_config()))
    results["build_local"] = _rates(time_build(builder_cls, config, work / "local", downloads))
    if not args.skip_beam:
        options = (f"--runner=DirectRunner --direct_num_workers={args.beam_workers} "
                   "--direct_running_mode=multi_processing")
        beam_options = PipelineOptions(options.split())
        results["build_beam"] = _rates(time_build(builder_cls, config, work / "beam", downloads, beam_options))
    pipeline = time_input_pipeline(f"dfdc_masks/{name}", work / "local", batch_size=args.batch_size,
                                   images=args.pipeline_images)
    pipeline["images_per_s"] = pipeline["images"] / pipeline["seconds"]
    pipeline["images_per_s_per_core"] = pipeline["images_per_s"] / os.cpu_count()
    results["input_pipeline"] = pipeline
    baseline = results["decode_and_detection"]["seconds"]
    for key in ("build_local", "build_beam"):
        if key in results:
            results[key]["x_decode_and_detection"] = results[key]["seconds"] / baseline
    return results


def print_table(results: dict) -> None:
    print(f"{'stage':<22}{'seconds':>9}{'videos/s':>10}{'frames/s':>10}{'x decode+det':>14}")
    for key in ("decode_and_detection", "build_local", "build_beam"):
        if key not in results:
            continue
        row = results[key]
        ratio = f"{row.get('x_decode_and_detection', 1.0):.2f}"
        print(f"{key:<22}{row['seconds']:>9.1f}{row['videos_per_s']:>10.2f}{row['frames_per_s']:>10.1f}{ratio:>14}")
    pipeline = results["input_pipeline"]
    print(f"input pipeline: {pipeline['images_per_s']:.0f} images/s on {results['cpu_cores']} cores "
          f"= {pipeline['images_per_s_per_core']:.0f} images/s per core (target >= 500)")


def main(argv=None) -> None:
    args = parse_args(argv)
    results = run(args)
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(json.dumps(results, indent=2))
    print_table(results)
    print(f"wrote {args.output}")


if __name__ == "__main__":
    main()
