"""A miniature FaceForensics++ c23: youtube originals, five methods' fakes, official splits."""

import dataclasses
import json
import pathlib

import numpy as np

from dfseg_tf.corpus import scene as scenes
from dfseg_tf.corpus.planting import fake_plan, original_plan, write_plan
from dfseg_tf.corpus.spec import CorpusSpec
from dfseg_tf.corpus.truth import CorpusManifest

ORIGINALS_FOLDER = "original_sequences/youtube/c23/videos"
# method -> changed region; the swap methods paste the source identity's face.
METHOD_REGIONS = {
    "Deepfakes": "whole",
    "Face2Face": "lower",
    "FaceSwap": "whole",
    "NeuralTextures": "mouth",
    "FaceShifter": "whole",
}
SWAP_METHODS = ("Deepfakes", "FaceSwap", "FaceShifter")
FACESWAP_MISSING_FRAMES = 3
# Face2Face's pipeline (NeuralTextures reuses it) writes frames whose sides are multiples of this,
# centre-cropped from the target's, and as many as the source video has (docs/METHOD.md section 1).
FACE2FACE_PIPELINE = ("Face2Face", "NeuralTextures")
FACE2FACE_SIDE_MULTIPLE = 32
LONGER_ORIGINAL_FRAMES = 2  # with face2face_pipeline, the second original of a pair runs this much longer
SPLIT_FILES = ("train", "val", "test")


def write_faceforensics_corpus(root, spec: CorpusSpec = CorpusSpec(), *, pairs: int = 3,
                               with_splits: bool = True, face2face_pipeline: bool = False) -> CorpusManifest:
    """Write ``2 * pairs`` originals, the fakes ``T_S`` and ``S_T`` of every pair for all five
    methods, and ``splits/{train,val,test}.json`` (pair 0 train, pair 1 val, the rest test).

    Frame rates vary, one original is portrait, and FaceSwap fakes are shorter than their
    original (as in the real data, which aligns them from frame 0). With
    ``face2face_pipeline`` the Face2Face and NeuralTextures fakes are written as FaceForensics++
    ships them: a centred window of the target whose sides are multiples of 32, as long as the
    source video (the target replayed backwards past its end); the second original of each
    pair is then ``LONGER_ORIGINAL_FRAMES`` longer, so every pair has a shorter and a longer fake.
    """
    if pairs < 1:
        raise ValueError(f"pairs must be >= 1, got {pairs}")
    root = pathlib.Path(root)
    rng = np.random.default_rng(spec.seed + 1)
    ids = [f"{i:03d}" for i in range(2 * pairs)]
    order = rng.permutation(len(ids))
    id_pairs = [[ids[order[2 * p]], ids[order[2 * p + 1]]] for p in range(pairs)]
    originals = {}
    for position, video_id in enumerate(ids):
        scene = scenes.random_scene(rng, face_height=spec.face_height)
        originals[video_id] = original_plan(
            f"original/{video_id}", f"{ORIGINALS_FOLDER}/{video_id}.mp4", scene, spec,
            portrait=position == 1, fps=float(rng.choice(spec.frame_rates)),
        )
    if face2face_pipeline:
        for _, longer in id_pairs:
            originals[longer] = dataclasses.replace(originals[longer],
                                                    n_frames=spec.n_frames + LONGER_ORIGINAL_FRAMES)
    plans = list(originals.values())
    for method, region in METHOD_REGIONS.items():
        for a, b in id_pairs:
            for target, source in ((a, b), (b, a)):
                donor = originals[source].scene.people[0].identity if method in SWAP_METHODS else None
                manipulation = scenes.random_manipulation(rng, region, donor=donor)
                changes = {}
                if method == "FaceSwap":
                    changes = {"n_frames": originals[target].n_frames - FACESWAP_MISSING_FRAMES,
                               "notes": originals[target].notes + ("shorter than original",)}
                elif face2face_pipeline and method in FACE2FACE_PIPELINE:
                    changes = _face2face_pipeline_changes(originals[target], originals[source])
                plans.append(fake_plan(
                    originals[target], f"{method}/{target}_{source}",
                    f"manipulated_sequences/{method}/c23/videos/{target}_{source}.mp4", manipulation, **changes,
                ))
    videos = tuple(write_plan(root, plan) for plan in plans)
    if with_splits:
        _write_splits(root, id_pairs)
    manifest = CorpusManifest("faceforensics", root, videos)
    manifest.write()
    return manifest


def _face2face_pipeline_changes(target, source) -> dict:
    """The size, window and frame times of a Face2Face-pipeline fake of ``target`` driven by ``source``."""
    width, height = (side // FACE2FACE_SIDE_MULTIPLE * FACE2FACE_SIDE_MULTIPLE for side in (target.width, target.height))
    n_frames = source.n_frames
    past_the_end = n_frames - target.n_frames
    times = tuple(range(min(n_frames, target.n_frames))) + tuple(
        range(target.n_frames - 2, target.n_frames - 2 - past_the_end, -1))
    notes = (f"cropped to {width}x{height}",
             "longer than original" if past_the_end > 0 else "shorter than original" if past_the_end < 0 else "")
    return {"width": width, "height": height, "crop": ((target.width - width) // 2, (target.height - height) // 2),
            "n_frames": n_frames, "times": times, "notes": target.notes + tuple(note for note in notes if note)}


def _write_splits(root: pathlib.Path, id_pairs: list[list[str]]) -> None:
    folder = root / "splits"
    folder.mkdir(parents=True, exist_ok=True)
    chunks = {"train": id_pairs[:1], "val": id_pairs[1:2], "test": id_pairs[2:]}
    for name in SPLIT_FILES:
        (folder / f"{name}.json").write_text(json.dumps(chunks[name]))
