"""How faint are the planted fakes? The blurred fake/original distance inside the face, against real pairs.

    python -m experiments.bench_corpus [--real /data/FaceForensics++] [--output results/bench_corpus.json]

Writes the miniature DFDC-shaped corpus (H.264 CRF 23) to a temporary folder and, for
every aligned fake, measures the 5x5-blurred RGB distance between fake and original
frames (``extraction.masks.blurred_distance``) inside the planted face box and inside
the planted region, per style of manipulation (swap, warp, texture; whole face or part).
With ``--real`` the same distance is measured on real FaceForensics++ c23 pairs (every
fake of the official layout whose original is there, at most ``--max-pairs``), inside
the face box MTCNN finds on the original frame. docs/METHOD.md section 7 tables the result.
"""

import argparse
import collections
import pathlib
import tempfile

import numpy as np

from dfseg_tf.corpus import CorpusSpec, load_planted_face_boxes, load_planted_masks, write_dfdc_corpus
from dfseg_tf.extraction.masks import blurred_distance
from dfseg_tf.extraction.video import iter_frames, probe, sample_frame_indices
from experiments.bench_output import write_and_print

QUANTILES = (50, 75, 90, 95, 99)
SHARE_ABOVE = (5, 10, 20, 30, 50)


def summary(distances: np.ndarray) -> dict:
    """Quantiles, mean and the share above a few thresholds of a set of distances."""
    return {
        "quantiles": dict(zip(map(str, QUANTILES), np.percentile(distances, QUANTILES).round(1).tolist())),
        "mean": round(float(distances.mean()), 1),
        "share_above": {str(t): round(float((distances > t).mean()), 3) for t in SHARE_ABOVE},
    }


def _frames(path, indices):
    return dict(iter_frames(path, indices))


def measure_corpus(root: pathlib.Path, spec: CorpusSpec, parts: int, frames: int) -> dict:
    """{style: {"face_box": summary, "planted": summary}} over the corpus's aligned fakes."""
    manifest = write_dfdc_corpus(root, spec, parts=parts)
    in_box, in_region = collections.defaultdict(list), collections.defaultdict(list)
    for fake in manifest.fakes():
        if fake.fault or not fake.original_id or fake.style is None:
            continue
        style = f"{fake.kind}:{fake.style}"
        indices = sample_frame_indices(fake.n_frames, frames)
        fake_frames = _frames(root / fake.path, indices)
        original = _frames(root / manifest.by_id(fake.original_id).path, indices)
        boxes = load_planted_face_boxes(root, fake.video_id)
        masks = load_planted_masks(root, fake.video_id)
        for index in indices:
            distance = blurred_distance(original[index], fake_frames[index])
            x0, y0, x1, y1 = boxes[index]
            in_box[style].append(distance[y0:y1, x0:x1].ravel())
            in_region[style].append(distance[masks[index]])
    return {
        style: {"face_box": summary(np.concatenate(in_box[style])), "planted": summary(np.concatenate(in_region[style]))}
        for style in sorted(in_box)
    }


def measure_real(root: pathlib.Path, frames: int, max_pairs: int) -> dict:
    """{method/fake id: face-box summary} over real FF++ pairs found under ``root``."""
    from mtcnn import MTCNN

    detector = MTCNN()
    results = {}
    fakes = sorted(root.glob("manipulated_sequences/*/c23/videos/*.mp4"))
    for fake in fakes:
        original = root / "original_sequences/youtube/c23/videos" / f"{fake.stem.split('_')[0]}.mp4"
        if not original.exists() or len(results) >= max_pairs:
            continue
        indices = sample_frame_indices(min(probe(fake).n_frames, probe(original).n_frames), frames)
        fake_frames, original_frames = _frames(fake, indices), _frames(original, indices)
        inside = []
        for index in indices:
            faces = detector.detect_faces(original_frames[index])
            if not faces:
                continue
            x, y, w, h = max(faces, key=lambda face: face["box"][2] * face["box"][3])["box"]
            distance = blurred_distance(original_frames[index], fake_frames[index])
            inside.append(distance[max(y, 0):y + h, max(x, 0):x + w].ravel())
        if inside:
            results[f"{fake.parts[-4]}/{fake.stem}"] = summary(np.concatenate(inside))
    return results


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(
        prog="python -m experiments.bench_corpus", description=__doc__.split("\n\n")[0],
        formatter_class=argparse.ArgumentDefaultsHelpFormatter,
    )
    parser.add_argument("--output", default="results/bench_corpus.json", help="JSON file with every figure")
    parser.add_argument("--real", default=None, help="a FaceForensics++ c23 download root to compare with")
    parser.add_argument("--parts", type=int, default=10, help="parts of the miniature DFDC corpus")
    parser.add_argument("--frames", type=int, default=8, help="frames measured per video")
    parser.add_argument("--max-pairs", type=int, default=10, help="real pairs measured at most")
    parser.add_argument("--width", type=int, default=CorpusSpec.width, help="corpus frame width")
    parser.add_argument("--height", type=int, default=CorpusSpec.height, help="corpus frame height")
    flags = parser.parse_args(argv)
    spec = CorpusSpec(width=flags.width, height=flags.height)
    with tempfile.TemporaryDirectory() as scratch:
        result = {"corpus": measure_corpus(pathlib.Path(scratch), spec, flags.parts, flags.frames)}
    if flags.real:
        result["real"] = measure_real(pathlib.Path(flags.real), flags.frames, flags.max_pairs)
    write_and_print(result, flags.output, print_table)


def print_table(result: dict) -> None:
    for group, rows in result.items():
        for name, row in rows.items():
            box = row.get("face_box", row)
            print(f"{group:>6} {name:<40} face box: median {box['quantiles']['50']:5.1f}, "
                  f"90% {box['quantiles']['90']:5.1f}, share > 30 {box['share_above']['30']:.2f}")


if __name__ == "__main__":
    main()
