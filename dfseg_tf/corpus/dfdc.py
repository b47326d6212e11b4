"""A miniature DFDC: ``dfdc_train_part_K`` folders with metadata.json, and a test set."""

import csv
import dataclasses
import json
import pathlib

import numpy as np

from dfseg_tf.corpus import scene as scenes
from dfseg_tf.corpus.planting import VideoPlan, fake_plan, original_plan, write_plan
from dfseg_tf.corpus.spec import CorpusSpec
from dfseg_tf.corpus.truth import CorpusManifest

TEST_SET_FOLDER = "dfdc_test_set"
PORTRAIT_PROBABILITY = 0.3
NESTED_PART = 3  # a training part, so readers must find it to list it


def write_dfdc_corpus(root, spec: CorpusSpec = CorpusSpec(), parts: int = 10) -> CorpusManifest:
    """Write ``parts`` DFDC training parts and a small separate test set under ``root``.

    Each part holds 1-2 originals with 1-3 fakes each. Planted on purpose (recorded in
    the manifest): fakes stored in another part than their original, part ``NESTED_PART``
    nested one level deeper (as some unzip tools do), REAL entries with and without an
    ``"original": null`` key, portrait videos, frame rates that differ, and the faults
    extraction must skip: a truncated fake, a listed but absent fake, a fake whose
    original exists nowhere, a fake of another size, a longer fake, a video with no
    face; plus a fake whose face was never changed and a two-person original.
    """
    root = pathlib.Path(root)
    planner = _Planner(spec, np.random.default_rng(spec.seed))
    part_plans = [planner.ordinary_part() for _ in range(parts)]
    _move_some_fakes_to_other_parts(part_plans)
    _plant_faults(part_plans, planner)
    videos = []
    for index, plans in enumerate(part_plans):
        videos.extend(_write_part(root, index, plans, nested=index == NESTED_PART % parts))
    videos.extend(_write_test_set(root / TEST_SET_FOLDER, planner))
    manifest = CorpusManifest("dfdc", root, tuple(videos), root / TEST_SET_FOLDER)
    manifest.write()
    return manifest


class _Planner:
    """Draws DFDC-like names, scenes, originals and fakes from one random generator."""

    def __init__(self, spec: CorpusSpec, rng: np.random.Generator):
        self.spec = spec
        self.rng = rng
        self._used_names: set[str] = set()

    def name(self) -> str:
        while True:
            name = "".join(self.rng.choice(list("abcdefghijklmnopqrstuvwxyz"), 10))
            if name not in self._used_names:
                self._used_names.add(name)
                return name

    def original(self, *, n_people: int = 1, notes=()) -> VideoPlan:
        scene = scenes.random_scene(self.rng, n_people=n_people, face_height=self.spec.face_height)
        portrait = n_people == 1 and self.rng.random() < PORTRAIT_PROBABILITY
        fps = float(self.rng.choice(self.spec.frame_rates))
        name = self.name()
        return original_plan(name, name, scene, self.spec, portrait=portrait, fps=fps, notes=notes)

    def fake(self, original: VideoPlan, *, region: str | None = "random", **changes) -> VideoPlan:
        if region == "random":
            region = scenes.REGIONS[int(self.rng.integers(len(scenes.REGIONS)))]
        manipulation = None
        if region is not None:
            swap = region == "whole" or self.rng.random() < 0.5
            donor = scenes.random_identity(self.rng) if swap else None
            manipulation = scenes.random_manipulation(self.rng, region, donor=donor)
        name = self.name()
        return fake_plan(original, name, name, manipulation, **changes)

    def ordinary_part(self) -> list[VideoPlan]:
        plans = []
        for _ in range(1 + int(self.rng.integers(2))):
            original = self.original()
            plans.append(original)
            plans.extend(self.fake(original) for _ in range(1 + int(self.rng.integers(3))))
        return plans


def _move_some_fakes_to_other_parts(part_plans: list[list[VideoPlan]]) -> None:
    """DFDC does not keep a fake beside its original: move the first fake of every third part."""
    n_parts = len(part_plans)
    for source in range(0, n_parts, 3):
        target = (source + 4) % n_parts
        fake = next((p for p in part_plans[source] if p.label == "fake"), None)
        if fake is None or target == source:
            continue
        part_plans[source].remove(fake)
        part_plans[target].append(dataclasses.replace(fake, notes=fake.notes + (f"original in part {source}",)))


def _plant_faults(part_plans: list[list[VideoPlan]], planner: _Planner) -> None:
    """Add the faults of real downloads, each to a named part (modulo the number of parts)."""
    spec = planner.spec

    def first_original(part):
        return next(p for p in part_plans[part % len(part_plans)] if p.label == "real")

    def add(part, plan):
        part_plans[part % len(part_plans)].append(plan)

    add(1, planner.fake(first_original(1), fault="unreadable"))
    add(1, planner.fake(first_original(1), fault="missing file"))
    ghost = planner.original()  # never written: its fake's original exists nowhere
    add(2, planner.fake(ghost, fault="missing original"))
    small = first_original(2)
    add(2, planner.fake(small, width=_even(small.width * 3 // 4), height=_even(small.height * 3 // 4),
                        fault="size mismatch"))
    add(3, planner.fake(first_original(3), n_frames=spec.n_frames + 4, fault="length mismatch"))
    add(3, planner.fake(first_original(3), region=None))
    empty = planner.original()
    add(4, dataclasses.replace(empty, scene=dataclasses.replace(empty.scene, people=()), fault="no face"))
    pair = planner.original(n_people=2, notes=("two people",))
    add(-1, pair)
    add(-1, planner.fake(pair, region="mouth", notes=("two people",)))


def _write_part(root: pathlib.Path, index: int, plans: list[VideoPlan], *, nested: bool):
    folder = pathlib.Path(f"dfdc_train_part_{index}")
    if nested:
        folder = folder / folder.name
    metadata = {}
    videos = []
    for plan in plans:
        placed = dataclasses.replace(plan, path=str(folder / f"{plan.video_id}.mp4"),
                                     notes=plan.notes + (("nested",) if nested else ()))
        videos.append(write_plan(root, placed))
        metadata[f"{plan.video_id}.mp4"] = _metadata_entry(placed, len(metadata))
    (root / folder).mkdir(parents=True, exist_ok=True)
    (root / folder / "metadata.json").write_text(json.dumps(metadata))
    return videos


def _metadata_entry(plan: VideoPlan, position: int) -> dict:
    if plan.label == "fake":
        return {"label": "FAKE", "split": "train", "original": f"{plan.original_id}.mp4"}
    entry = {"label": "REAL", "split": "train"}
    if position % 2:  # real DFDC has both forms
        entry["original"] = None
    return entry


def _write_test_set(folder: pathlib.Path, planner: _Planner):
    """Two real and two fake videos with labels.csv (1 = fake); their originals are not shipped."""
    plans = []
    for _ in range(2):
        original = planner.original(notes=("test set",))
        plans.append(original)
        plans.append(dataclasses.replace(planner.fake(original), original_id=""))
    videos, rows = [], []
    for plan in plans:
        placed = dataclasses.replace(plan, path=f"{folder.name}/{plan.video_id}.mp4")
        videos.append(write_plan(folder.parent, placed))
        rows.append((f"{plan.video_id}.mp4", int(plan.label == "fake")))
    with open(folder / "labels.csv", "w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["filename", "label"])
        writer.writerows(rows)
    return videos


def _even(n: int) -> int:
    return n - n % 2
