"""Source readers on a real written miniature corpus: counts, labels, splits, originals, errors."""

import collections
import json
import pathlib
import shutil

import pytest

from dfseg_tf.corpus import CorpusSpec, write_dfd_corpus, write_dfdc_corpus, write_faceforensics_corpus
from dfseg_tf.extraction import ExtractionConfig, VideoSkipped, extract_video
from dfseg_tf.sources import (
    FAKE,
    METHODS,
    REAL,
    TEST,
    TRAIN,
    VALIDATION,
    SourceLayoutError,
    SplitFractions,
    list_dfd,
    list_dfdc,
    list_dfdc_test_set,
    list_faceforensics,
    split_of_part,
)
from dfseg_tf.sources.dfd import original_name

SPEC = CorpusSpec(width=128, height=96, n_frames=8)  # readers never decode: keep it tiny
CORPUS_PARTS = 10  # write_dfdc_corpus's parts: a DFDC of 10 parts, split as the 50 of the real one


@pytest.fixture(scope="session")
def dfdc(tmp_path_factory):
    return write_dfdc_corpus(tmp_path_factory.mktemp("dfdc"), SPEC)


@pytest.fixture(scope="session")
def ffpp(tmp_path_factory):
    return write_faceforensics_corpus(tmp_path_factory.mktemp("ffpp"), SPEC)


@pytest.fixture(scope="session")
def dfd(tmp_path_factory):
    return write_dfd_corpus(tmp_path_factory.mktemp("dfd"), SPEC)


def _part_of(video):
    return int(video.path.split("/")[0].rsplit("_", 1)[1])


def _assert_no_identity_leak(entries):
    splits_of = collections.defaultdict(set)
    for entry in entries:
        splits_of[entry.original_id].add(entry.split)
    assert all(len(s) == 1 for s in splits_of.values()), {k: s for k, s in splits_of.items() if len(s) > 1}


# ------------------------------------------------------------------ splits


def test_split_of_part_follows_the_study_on_50_parts():
    splits = [split_of_part(k, 50, SplitFractions()) for k in range(50)]
    assert splits == [TRAIN] * 20 + [VALIDATION] * 5 + [None] * 20 + [TEST] * 5


def test_split_of_part_on_10_parts():
    assert [split_of_part(k, 10, SplitFractions()) for k in range(10)] == (
        [TRAIN] * 4 + [VALIDATION] + [None] * 4 + [TEST])


def test_split_fractions_reject_more_than_everything():
    with pytest.raises(ValueError, match="sum to at most 1"):
        SplitFractions(train=0.8, validation=0.2, test=0.1)


# ------------------------------------------------------------------ DFDC


def test_dfdc_lists_every_video_of_a_used_part_with_its_label(dfdc):
    entries = {e.video_id: e for e in list_dfdc(dfdc.root, n_parts=CORPUS_PARTS)}
    for video in dfdc.videos:
        if "test set" in video.notes:
            assert video.video_id not in entries
            continue
        original_part = _part_of(dfdc.by_id(video.original_id)) if video.original_id in {
            v.video_id for v in dfdc.videos} else _part_of(video)
        expected = split_of_part(original_part, CORPUS_PARTS, SplitFractions())
        if expected is None:
            assert video.video_id not in entries
        else:
            entry = entries.pop(video.video_id)
            assert (entry.label, entry.split, entry.original_id, entry.source) == (
                video.label, expected, video.original_id, "dfdc")
            assert entry.path == dfdc.root / video.path
    assert not entries


def test_dfdc_fake_takes_the_split_of_its_original_in_another_part(dfdc):
    entries = {e.video_id: e for e in list_dfdc(dfdc.root, n_parts=CORPUS_PARTS)}
    moved = {note: video for video in dfdc.videos for note in video.notes if note.startswith("original in part")}
    assert entries[moved["original in part 0"].video_id].split == TRAIN  # stored in the validation part 4
    assert entries[moved["original in part 3"].video_id].split == TRAIN  # stored in unused part 7
    assert entries[moved["original in part 9"].video_id].split == TEST  # stored in training part 3 (nested)
    assert moved["original in part 6"].video_id not in entries  # original in an unused part
    for video in moved.values():
        if video.video_id in entries:
            assert entries[video.video_id].original_path == dfdc.root / dfdc.by_id(video.original_id).path


@pytest.mark.parametrize("fractions", [SplitFractions(), SplitFractions(train=0.5, validation=0.2, test=0.3)])
def test_dfdc_no_original_in_two_splits(dfdc, fractions):
    entries = list_dfdc(dfdc.root, fractions=fractions, n_parts=CORPUS_PARTS)
    assert {e.split for e in entries} == {TRAIN, VALIDATION, TEST}
    _assert_no_identity_leak(entries)


def test_dfdc_lists_absent_files_and_absent_originals(dfdc):
    entries = {e.video_id: e for e in list_dfdc(dfdc.root, n_parts=CORPUS_PARTS)}
    faults = {fault: video_id for video_id, fault in dfdc.faults().items()}
    absent = entries[faults["missing file"]]
    assert absent.is_fake and not absent.path.exists() and absent.original_path.exists()
    orphan = entries[faults["missing original"]]
    assert orphan.path.exists() and not orphan.original_path.exists()
    assert orphan.original_path.name == f"{orphan.original_id}.mp4"


def test_dfdc_finds_the_nested_part(dfdc):
    nested = [v for v in dfdc.videos if "nested" in v.notes]
    listed = {e.video_id for e in list_dfdc(dfdc.root, n_parts=CORPUS_PARTS)}
    assert nested and all(v.video_id in listed for v in nested)


def test_dfdc_test_set(dfdc):
    entries = list_dfdc_test_set(dfdc.test_set_dir)
    expected = sorted((v.video_id, v.label) for v in dfdc.with_note("test set"))
    assert sorted((e.video_id, e.label) for e in entries) == expected
    assert {(e.split, e.original_path, e.source) for e in entries} == {(TEST, None, "dfdc/test_set")}
    assert all(e.path.is_file() for e in entries)


def _copy_part(dfdc, tmp_path, part=0):
    target = tmp_path / f"dfdc_train_part_{part}"
    shutil.copytree(dfdc.root / f"dfdc_train_part_{part}", target)
    return target / "metadata.json"


@pytest.mark.parametrize("content,message", [
    ("{not json", "not valid JSON"),
    ('["a.mp4"]', "expected an object"),
    ('{"a.mp4": {"label": "MAYBE"}}', "entry 'a.mp4' has label 'MAYBE'"),
    ('{"a.mp4": {"label": "FAKE", "original": null}}', "FAKE entry 'a.mp4' has no original"),
])
def test_dfdc_malformed_metadata_is_one_line_naming_the_file(dfdc, tmp_path, content, message):
    metadata = _copy_part(dfdc, tmp_path)
    metadata.write_text(content)
    with pytest.raises(SourceLayoutError, match=message) as error:
        list_dfdc(tmp_path)
    assert str(error.value).startswith(str(metadata)) and "\n" not in str(error.value)


def test_dfdc_missing_root_or_parts_says_what_was_expected(tmp_path):
    with pytest.raises(SourceLayoutError, match="does not exist; expected folders dfdc_train_part_0"):
        list_dfdc(tmp_path / "nowhere")
    (tmp_path / "something_else").mkdir()
    with pytest.raises(SourceLayoutError, match="no DFDC parts found; expected folders dfdc_train_part_0"):
        list_dfdc(tmp_path)
    with pytest.raises(SourceLayoutError, match="no labels.csv"):
        list_dfdc_test_set(tmp_path)


def _write_parts(root, parts, *, per_part=2):
    """Parts ``dfdc_train_part_K`` holding only metadata.json (readers never open the videos):
    ``per_part`` originals ``kN_i.mp4`` each, and a fake of each stored in the same part."""
    for k in parts:
        folder = root / f"dfdc_train_part_{k}"
        folder.mkdir(parents=True)
        metadata = {}
        for i in range(per_part):
            metadata[f"k{k}_{i}.mp4"] = {"label": "REAL"}
            metadata[f"k{k}_{i}_fake.mp4"] = {"label": "FAKE", "original": f"k{k}_{i}.mp4"}
        (folder / "metadata.json").write_text(json.dumps(metadata))


def _parts_by_split(entries):
    parts = collections.defaultdict(set)
    for entry in entries:
        parts[entry.split].add(int(entry.video_id[1:].split("_")[0]))
    return {split: sorted(numbers) for split, numbers in parts.items()}


def test_dfdc_split_follows_the_part_number_not_the_parts_found(tmp_path, caplog):
    _write_parts(tmp_path, [*range(20), *range(45, 50)])  # a download of the study's train and test parts
    entries = list_dfdc(tmp_path)
    assert _parts_by_split(entries) == {TRAIN: list(range(20)), TEST: list(range(45, 50))}
    assert len(entries) == 25 * 4
    _assert_no_identity_leak(entries)
    assert "validation parts 20-24 of 20-24 are absent" in caplog.text and "the validation split is empty" in caplog.text


def test_dfdc_partial_parts_keep_their_split_and_fractions_still_apply(tmp_path, caplog):
    _write_parts(tmp_path, [3, 21, 30, 47])
    assert _parts_by_split(list_dfdc(tmp_path)) == {TRAIN: [3], VALIDATION: [21], TEST: [47]}  # 30 unused
    assert "train parts 0-2, 4-19 of 0-19 are absent" in caplog.text and "the train split is partial" in caplog.text
    wider = SplitFractions(train=0.5, validation=0.2, test=0.3)  # train 0-24, validation 25-34, test 35-49
    assert _parts_by_split(list_dfdc(tmp_path, fractions=wider)) == {TRAIN: [3, 21], VALIDATION: [30], TEST: [47]}


def test_dfdc_part_number_beyond_the_data_set_is_an_error(tmp_path):
    _write_parts(tmp_path, [0, 50])
    with pytest.raises(SourceLayoutError, match=r"dfdc_train_part_50: part 50 is beyond the 50 parts \(0-49\)"):
        list_dfdc(tmp_path)


@pytest.mark.parametrize("name", ["../outside.mp4", "/tmp/outside.mp4", "sub/outside.mp4", ".."])
def test_dfdc_unsafe_file_names_are_skipped_with_a_reason_and_never_read(tmp_path, name):
    _write_parts(tmp_path / "dfdc", [0], per_part=1)
    metadata_path = tmp_path / "dfdc" / "dfdc_train_part_0" / "metadata.json"
    metadata = json.loads(metadata_path.read_text())
    metadata[name] = {"label": "REAL"}
    metadata["fake_of_unsafe.mp4"] = {"label": "FAKE", "original": name}
    metadata["k0_0_fake.mp4"] = {"label": "FAKE", "original": "k0_0.mp4"}
    metadata_path.write_text(json.dumps(metadata))
    (tmp_path / "outside.mp4").write_bytes(b"must never be read")
    entries = {e.video_id: e for e in list_dfdc(tmp_path / "dfdc")}
    reason = f"unsafe file name: {metadata_path}: {name!r} is not a plain file name inside its folder"
    unsafe = [entry for entry in entries.values() if entry.skip_reason]
    assert sorted(e.video_id for e in unsafe) == sorted([pathlib.PurePath(name).stem, "fake_of_unsafe"])
    for entry in unsafe:
        assert entry.skip_reason == reason
        for path in (entry.path, entry.original_path):  # both stay inside the DFDC root
            assert tmp_path / "dfdc" in path.parents and ".." not in path.parts
        assert entry.original_path.is_dir()  # the unsafe file is stood in for by its part folder
        with pytest.raises(VideoSkipped) as skipped:
            extract_video(entry, ExtractionConfig())
        assert str(skipped.value) == reason
    assert entries["k0_0_fake"].skip_reason is None


def test_dfdc_test_set_unsafe_file_name_is_skipped(tmp_path):
    (tmp_path / "labels.csv").write_text("filename,label\n../outside.mp4,1\n")
    (entry,) = list_dfdc_test_set(tmp_path)
    assert entry.skip_reason.startswith(f"unsafe file name: {tmp_path / 'labels.csv'}: '../outside.mp4'")
    assert entry.path == tmp_path


def test_dfdc_same_part_twice_is_an_error(dfdc, tmp_path):
    _copy_part(dfdc, tmp_path)
    shutil.copytree(tmp_path / "dfdc_train_part_0", tmp_path / "extra" / "dfdc_train_part_0")
    with pytest.raises(SourceLayoutError, match="part 0 found twice"):
        list_dfdc(tmp_path)


# ------------------------------------------------------------------ FaceForensics++


def test_faceforensics_official_splits(ffpp):
    entries = list_faceforensics(ffpp.root)
    assert len(entries) == len(ffpp.videos) == 6 + 6 * len(METHODS)
    by_id = {e.video_id: e for e in entries}
    for name, split in (("train", TRAIN), ("val", VALIDATION), ("test", TEST)):
        for a, b in json.loads((ffpp.root / f"splits/{name}.json").read_text()):
            ids = [f"original/{a}", f"original/{b}"] + [f"{m}/{t}_{s}" for m in METHODS for t, s in ((a, b), (b, a))]
            assert {by_id[i].split for i in ids} == {split}
    for entry in entries:
        video = ffpp.by_id(entry.video_id)
        assert (entry.label, entry.original_id) == (video.label, video.original_id)
        assert entry.original_path == ffpp.root / ffpp.by_id(video.original_id).path
    _assert_no_identity_leak(entries)


def test_faceforensics_without_split_files_is_all_test(ffpp, tmp_path):
    for folder in ("original_sequences", "manipulated_sequences"):
        (tmp_path / folder).symlink_to(ffpp.root / folder)
    entries = list_faceforensics(tmp_path, methods=("FaceSwap", "NeuralTextures"))
    assert {e.split for e in entries} == {TEST}
    assert collections.Counter(e.source for e in entries) == {
        "faceforensics/original": 6, "faceforensics/FaceSwap": 6, "faceforensics/NeuralTextures": 6}
    assert collections.Counter(e.label for e in entries) == {REAL: 6, FAKE: 12}


def test_faceforensics_layout_errors(ffpp, tmp_path):
    with pytest.raises(SourceLayoutError, match="no original_sequences/youtube/c23/videos; expected"):
        list_faceforensics(tmp_path)
    (tmp_path / "original_sequences").symlink_to(ffpp.root / "original_sequences")
    (tmp_path / "splits").mkdir()
    (tmp_path / "splits/train.json").write_text('[["000", "001"]]')
    with pytest.raises(SourceLayoutError, match="missing val.json, test.json"):
        list_faceforensics(tmp_path)
    (tmp_path / "splits/val.json").write_text('{"000": 1}')
    (tmp_path / "splits/test.json").write_text("[]")
    with pytest.raises(SourceLayoutError, match=r"val.json: expected a list of id pairs"):
        list_faceforensics(tmp_path)
    with pytest.raises(ValueError, match="unknown FaceForensics\\+\\+ methods \\['DeepFake'\\]"):
        list_faceforensics(ffpp.root, methods=("DeepFake",))


def _relinked_as(root: pathlib.Path, new_root: pathlib.Path, compression: str) -> pathlib.Path:
    """A copy of a c23 download's tree, every video folder renamed to ``compression``, its files linked."""
    for path in root.rglob("*.mp4"):
        parts = [compression if part == "c23" else part for part in path.relative_to(root).parts]
        target = new_root.joinpath(*parts)
        target.parent.mkdir(parents=True, exist_ok=True)
        target.symlink_to(path)
    if (root / "splits").is_dir():
        shutil.copytree(root / "splits", new_root / "splits")
    return new_root


def test_faceforensics_and_dfd_read_the_quality_folder_asked_for(ffpp, dfd, tmp_path):
    c40 = _relinked_as(ffpp.root, tmp_path / "ffpp", "c40")
    entries = list_faceforensics(c40, compression="c40")
    assert sorted(e.video_id for e in entries) == sorted(e.video_id for e in list_faceforensics(ffpp.root))
    assert all("/c40/videos/" in str(e.path) and "/c40/videos/" in str(e.original_path) for e in entries)
    with pytest.raises(SourceLayoutError, match="no original_sequences/youtube/c23/videos; expected FaceForensics"):
        list_faceforensics(c40)
    with pytest.raises(ValueError, match=r"compression must be one of \('c23', 'c40', 'raw'\), got 'c30'"):
        list_faceforensics(c40, compression="c30")

    dfd_raw = _relinked_as(dfd.root, tmp_path / "dfd", "raw")
    entries = list_dfd(dfd_raw, compression="raw")
    assert len(entries) == len(list_dfd(dfd.root)) and all("/raw/videos/" in str(e.path) for e in entries)
    with pytest.raises(SourceLayoutError, match="missing original_sequences/actors/c23/videos and"):
        list_dfd(dfd_raw)


# ------------------------------------------------------------------ DFD


def test_dfd_pairs_fakes_with_their_target_scene(dfd):
    entries = list_dfd(dfd.root)
    assert len(entries) == len(dfd.videos) == 14
    assert {e.split for e in entries} == {TEST} and {e.source for e in entries} == {"dfd"}
    for entry in entries:
        video = dfd.by_id(entry.video_id)
        assert (entry.label, entry.original_id) == (video.label, video.original_id)
        expected = dfd.root / "original_sequences/actors/c23/videos" / f"{video.original_id[len('actors/'):]}.mp4"
        assert entry.original_path == expected
        assert entry.original_path.exists() == (video.fault != "missing original")


def test_dfd_original_name_rule():
    assert original_name("01_02__exit_phone_room__YVGY8LOK") == "01__exit_phone_room"
    with pytest.raises(SourceLayoutError, match="01__exit_phone_room: DFD fake name"):
        original_name("01__exit_phone_room")


def test_dfd_missing_folders_are_named(tmp_path):
    with pytest.raises(SourceLayoutError, match="missing original_sequences/actors/c23/videos and manipulated"):
        list_dfd(tmp_path)
