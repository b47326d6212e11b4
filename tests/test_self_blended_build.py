"""The self_blended config: real crops kept, self-blended fakes beside them, the same with Beam."""

import json

import numpy as np
import pytest
import tensorflow_datasets as tfds

from dfseg_tf.records import BuildPlan
from dfseg_tf.records.examples import FRAME_BITS
from dfseg_tf.records.self_blended import SelfBlender
from dfseg_tf.corpus import CorpusSpec, write_dfd_corpus
from dfseg_tf.extraction import ExtractionConfig, FaceDetector, extract_video
from dfseg_tf.sources import list_dfd
from experiments import tfds_build

FRAMES = 2
CONFIG = json.dumps({"name": "self_blended_f2", "dataset": "self_blended", "reals_of": "synthetic",
                     "frames_per_video": FRAMES})


@pytest.fixture(scope="module")
def real_frames(tmp_path_factory):
    """The frames of one real DFD video of the miniature corpus, extracted as a build does."""
    corpus = write_dfd_corpus(tmp_path_factory.mktemp("dfd"), CorpusSpec(n_frames=8), actors=2, scenes_per_actor=1)
    entry = next(e for e in BuildPlan("self_blended", reals_of="dfd").list_entries(corpus.root))
    return entry, extract_video(entry, ExtractionConfig(frames_per_video=3), detector=FaceDetector())


def test_only_real_videos_are_listed_for_self_blending(tmp_path):
    corpus = write_dfd_corpus(tmp_path, CorpusSpec(width=128, height=96, n_frames=8), actors=2, scenes_per_actor=1)
    listed = BuildPlan("self_blended", reals_of="dfd").list_entries(corpus.root)
    assert {e.video_id for e in listed} == {e.video_id for e in list_dfd(corpus.root) if not e.is_fake}
    with pytest.raises(ValueError, match="reals_of must be one of"):
        BuildPlan("self_blended", reals_of="self_blended")


def test_each_frame_gives_itself_as_real_and_a_blended_fake_seeded_by_its_key(real_frames):
    entry, frames = real_frames
    examples = dict(SelfBlender(seed=5, margin=0.2).keyed_examples(3, entry, frames))
    assert len(examples) == 2 * len(frames)
    for frame in frames:
        real = examples[(6 << FRAME_BITS) | frame.frame_index]
        fake = examples[(7 << FRAME_BITS) | frame.frame_index]
        assert (real["label"], real["video_id"]) == ("real", entry.video_id)
        assert np.array_equal(real["image"], frame.image) and not real["mask"].any()
        assert (fake["label"], fake["video_id"], fake["original_id"]) == ("fake", "self_blended/" + entry.video_id,
                                                                          entry.video_id)
        assert fake["source"] == "self_blended/dfd" and np.array_equal(fake["box"], real["box"])
        inside = fake["mask"][..., 0] == 1
        assert 0.1 < inside.mean() < 0.7
        change = np.abs(fake["image"].astype(int) - frame.image).sum(axis=2)
        assert change[inside].mean() > 5
    again = dict(SelfBlender(seed=5, margin=0.2).keyed_examples(3, entry, frames))
    other = dict(SelfBlender(seed=6, margin=0.2).keyed_examples(3, entry, frames))
    assert all(np.array_equal(examples[k]["image"], again[k]["image"]) for k in examples)
    assert any(not np.array_equal(examples[k]["mask"], other[k]["mask"]) for k in examples)


def test_mtcnn_finds_the_five_points_in_the_corpus_crops(real_frames):
    _, frames = real_frames
    points = FaceDetector().five_points([frame.image for frame in frames] + [np.zeros_like(frames[0].image)])
    assert all(p is not None and p.shape == (5, 2) for p in points[:-1]) and points[-1] is None
    left_eye, right_eye, nose = points[0][:3]
    assert left_eye[0] < nose[0] < right_eye[0] and nose[1] > left_eye[1]


@pytest.fixture(scope="module")
def builds(tmp_path_factory):
    """A local and a Beam build of self_blended over the synthetic corpus's reals, one corpus."""
    root = tmp_path_factory.mktemp("self_blended")
    downloads = root / "downloads"
    tfds_build.build(CONFIG, root / "local", download_dir=downloads, capture=True)
    tfds_build.build(CONFIG, root / "beam", download_dir=downloads, capture=True,
                     extra_args=["--beam_pipeline_options=runner=DirectRunner"])
    return root / "local", root / "beam"


def _examples(data_dir, split):
    dataset = tfds.load(f"dfdc_masks/{json.loads(CONFIG)['name']}", data_dir=str(data_dir), split=split)
    return {(ex["video_id"].decode(), int(ex["frame_index"])): ex for ex in tfds.as_numpy(dataset)}


@pytest.mark.parametrize("split", ["train", "test"])
def test_local_and_beam_builds_write_the_same_reals_and_fakes(builds, split):
    local, beam = (_examples(data_dir, split) for data_dir in builds)
    assert local.keys() == beam.keys()
    fakes = [key for key in local if key[0].startswith("self_blended/")]
    assert len(fakes) * 2 == len(local) > 0
    for key, example in local.items():
        assert np.array_equal(example["image"], beam[key]["image"]) and np.array_equal(example["mask"], beam[key]["mask"])
        assert example["mask"].any() == (example["label"] == 1)
