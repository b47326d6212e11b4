"""BuildPlan: the synthetic corpus size (parts written, listed and split with the same fractions)
and the FaceForensics++ quality folder it reads."""

import collections

import pytest

from dfseg_tf.corpus import CorpusSpec, write_dfdc_corpus, write_faceforensics_corpus
from dfseg_tf.records import SYNTHETIC_CORPUS_FOLDER, BuildPlan, prepare_synthetic_corpus
from dfseg_tf.sources import SourceLayoutError

TINY = CorpusSpec(width=96, height=64, n_frames=8, face_height=0.5, crf=30)
PARTS = 15


@pytest.fixture(scope="module")
def corpus_of_15_parts(tmp_path_factory):
    root = tmp_path_factory.mktemp("synthetic15")
    write_dfdc_corpus(root, TINY, parts=PARTS)
    return root


def _parts_by_split(entries) -> dict[str, set[int]]:
    parts = collections.defaultdict(set)
    for entry in entries:
        if entry.is_fake is False:  # an original's part decides its fakes' split
            parts[entry.split].add(int(entry.path.parent.name.rsplit("_", 1)[-1]))
    return dict(parts)


def test_a_larger_corpus_keeps_the_60_20_20_split_by_part(corpus_of_15_parts):
    entries = BuildPlan.from_options("synthetic", corpus_parts=PARTS).list_entries(corpus_of_15_parts)
    assert _parts_by_split(entries) == {"train": set(range(9)), "validation": {9, 10, 11}, "test": {12, 13, 14}}


def test_a_plan_of_fewer_parts_than_the_corpus_holds_says_so(corpus_of_15_parts):
    with pytest.raises(SourceLayoutError, match="beyond the 10 parts"):
        BuildPlan.from_options("synthetic").list_entries(corpus_of_15_parts)


def test_each_corpus_size_has_its_own_folder_and_the_default_keeps_the_old_one():
    assert BuildPlan("synthetic").synthetic_corpus_folder == SYNTHETIC_CORPUS_FOLDER
    assert BuildPlan("synthetic", corpus_parts=40).synthetic_corpus_folder == f"{SYNTHETIC_CORPUS_FOLDER}_40_parts"


def test_prepare_writes_the_parts_asked_for(tmp_path):
    root = prepare_synthetic_corpus(tmp_path / "corpus", parts=6)
    assert sorted(p.name for p in root.glob("dfdc_train_part_*")) == [f"dfdc_train_part_{k}" for k in range(6)]


def test_too_few_parts_for_three_splits_is_refused():
    with pytest.raises(ValueError, match="corpus_parts must be at least 5"):
        BuildPlan("synthetic", corpus_parts=4)


def test_a_faceforensics_plan_reads_the_compression_folder_it_names(tmp_path):
    corpus = write_faceforensics_corpus(tmp_path, TINY, pairs=1)
    for folder in sorted(tmp_path.glob("*/*/c23")):
        folder.rename(folder.with_name("c40"))
    entries = BuildPlan.from_options("faceforensics", compression="c40").list_entries(tmp_path)
    assert len(entries) == len(corpus.videos) and all("/c40/videos/" in str(e.path) for e in entries)
    reals = BuildPlan.from_options("self_blended", reals_of="faceforensics", compression="c40").list_entries(tmp_path)
    assert reals and all(e.label == "real" and "/c40/videos/" in str(e.path) for e in reals)
    with pytest.raises(SourceLayoutError, match="no original_sequences/youtube/c23/videos"):
        BuildPlan.from_options("faceforensics").list_entries(tmp_path)
    with pytest.raises(ValueError, match="compression must be one of"):
        BuildPlan("faceforensics", compression="C40")
