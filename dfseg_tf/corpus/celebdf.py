"""A miniature Celeb-DF v2: celebrities' videos, deepfakes of them, other YouTube videos, the test list."""

import dataclasses
import pathlib

import numpy as np

from dfseg_tf.corpus import scene as scenes
from dfseg_tf.corpus.dfd import NOT_ALIGNED_DELAY, NOT_ALIGNED_OFFSET
from dfseg_tf.corpus.planting import fake_plan, original_plan, write_plan
from dfseg_tf.corpus.spec import CorpusSpec
from dfseg_tf.corpus.truth import CorpusManifest

CELEB_REAL = "Celeb-real"
CELEB_SYNTHESIS = "Celeb-synthesis"
YOUTUBE_REAL = "YouTube-real"
TEST_LIST = "List_of_testing_videos.txt"


def write_celebdf_corpus(root, spec: CorpusSpec = CorpusSpec(), *, celebrities: int = 3,
                         videos_per_celebrity: int = 2, youtube_videos: int = 2) -> CorpusManifest:
    """Write ``Celeb-real/idA_NNNN.mp4``, a fake ``Celeb-synthesis/idA_idB_NNNN.mp4`` of each
    (celebrity A's video with B's face), ``YouTube-real/NNNNN.mp4``, and the official-style
    ``List_of_testing_videos.txt`` (``1`` = real, ``0`` = fake) naming the last video of each
    celebrity, its fake and the last YouTube video. Planted: a second fake of the first video
    that is delayed and shifted against it ("not aligned").
    """
    if celebrities < 3:
        raise ValueError(f"celebrities must be >= 3 (the first video has fakes by two others), got {celebrities}")
    root = pathlib.Path(root)
    rng = np.random.default_rng(spec.seed + 3)
    identities = [scenes.random_identity(rng) for _ in range(celebrities)]
    plans, listed = [], []
    for celebrity in range(celebrities):
        for number in range(videos_per_celebrity):
            original = _video(f"{CELEB_REAL}/id{celebrity}_{number:04d}", identities[celebrity], spec, rng)
            fake = _fake(original, (celebrity + 1) % celebrities, identities, rng)
            plans += [original, fake]
            if number == videos_per_celebrity - 1:
                listed += [original, fake]
    plans.append(_fake(plans[0], 2, identities, rng, first_frame=NOT_ALIGNED_DELAY,
                       offset=NOT_ALIGNED_OFFSET, fault="not aligned"))
    plans += [_video(f"{YOUTUBE_REAL}/{number:05d}", scenes.random_identity(rng), spec, rng)
              for number in range(youtube_videos)]
    listed.append(plans[-1])
    videos = tuple(write_plan(root, plan) for plan in plans)
    (root / TEST_LIST).write_text("".join(f"{int(plan.label == 'real')} {plan.path}\n" for plan in listed))
    manifest = CorpusManifest("celebdf", root, videos)
    manifest.write()
    return manifest


def _video(video_id, identity, spec, rng):
    scene = scenes.random_scene(rng, face_height=spec.face_height)
    scene = dataclasses.replace(scene, people=(dataclasses.replace(scene.people[0], identity=identity),))
    return original_plan(video_id, f"{video_id}.mp4", scene, spec, fps=float(rng.choice(spec.frame_rates)))


def _fake(original, source_celebrity, identities, rng, **changes):
    target, number = original.video_id.split("/")[1].split("_")
    name = f"{target}_id{source_celebrity}_{number}"
    manipulation = scenes.random_manipulation(rng, "whole", donor=identities[source_celebrity])
    return fake_plan(original, f"{CELEB_SYNTHESIS}/{name}", f"{CELEB_SYNTHESIS}/{name}.mp4", manipulation, **changes)
