"""A miniature DeepFakeDetection (DFD) c23: actors in scenes, and deepfakes of them."""

import dataclasses
import pathlib

import numpy as np

from dfseg_tf.corpus import scene as scenes
from dfseg_tf.corpus.planting import fake_plan, original_plan, write_plan
from dfseg_tf.corpus.spec import CorpusSpec
from dfseg_tf.corpus.truth import CorpusManifest

ORIGINALS_FOLDER = "original_sequences/actors/c23/videos"
FAKES_FOLDER = "manipulated_sequences/DeepFakeDetection/c23/videos"
SCENE_NAMES = ("exit_phone_room", "hugging_happy", "kitchen_pan", "podium_speech_happy",
               "walking_outside_cafe_disgusted")
NOT_ALIGNED_DELAY = 3  # frames
NOT_ALIGNED_OFFSET = (0.06, 0.03)  # of the frame width and height


def write_dfd_corpus(root, spec: CorpusSpec = CorpusSpec(), *, actors: int = 3,
                     scenes_per_actor: int = 2) -> CorpusManifest:
    """Write originals ``AA__scene`` and fakes ``AA_BB__scene__XXXXXXXX`` (actor AA's video
    with BB's face). Planted: a fake whose original was never shipped ("missing original")
    and one that is delayed and shifted against its original ("not aligned").
    """
    if actors < 2:
        raise ValueError(f"actors must be >= 2 (a fake needs a second face), got {actors}")
    root = pathlib.Path(root)
    rng = np.random.default_rng(spec.seed + 2)
    identities = [scenes.random_identity(rng) for _ in range(actors + 1)]  # the last one never filmed
    plans = []
    for actor in range(actors):
        for scene_name in SCENE_NAMES[:scenes_per_actor]:
            original = _original(actor, scene_name, identities[actor], spec, rng)
            plans.append(original)
            plans.append(_fake(original, (actor + 1) % actors, identities, rng))
    first = plans[0]
    plans.append(_fake(first, 1, identities, rng, first_frame=NOT_ALIGNED_DELAY,
                       offset=NOT_ALIGNED_OFFSET, fault="not aligned"))
    ghost = _original(actors, SCENE_NAMES[-1], identities[actors], spec, rng)
    plans.append(_fake(ghost, 0, identities, rng, fault="missing original"))
    manifest = CorpusManifest("dfd", root, tuple(write_plan(root, plan) for plan in plans))
    manifest.write()
    return manifest


def _original(actor, scene_name, identity, spec, rng):
    scene = scenes.random_scene(rng, face_height=spec.face_height)
    scene = dataclasses.replace(scene, people=(dataclasses.replace(scene.people[0], identity=identity),))
    name = f"{actor + 1:02d}__{scene_name}"
    return original_plan(f"actors/{name}", f"{ORIGINALS_FOLDER}/{name}.mp4", scene, spec,
                         fps=float(rng.choice(spec.frame_rates)))


def _fake(original, source_actor, identities, rng, **changes):
    target, scene_name = original.video_id.split("/")[1].split("__")
    code = "".join(rng.choice(list("ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"), 8))
    name = f"{target}_{source_actor + 1:02d}__{scene_name}__{code}"
    manipulation = scenes.random_manipulation(rng, "whole", donor=identities[source_actor])
    return fake_plan(original, f"DeepFakeDetection/{name}", f"{FAKES_FOLDER}/{name}.mp4", manipulation, **changes)
