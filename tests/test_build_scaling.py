"""dfdc_masks with Beam on several workers: faces still detected once per original.

A real build of the synthetic corpus at 2 frames a video (``experiments.tfds_build``),
on the DirectRunner with 2 worker processes; each split logs how many originals and
frames each Beam stage put through MTCNN, and those counts are checked against the
originals the corpus really holds.
"""

import json
import re

import pytest

from dfseg_tf.records import SYNTHETIC_CORPUS_FOLDER, BuildPlan, entries_by_split
from dfseg_tf.records.beam import detection_summary

from experiments import tfds_build

FRAMES = 2
CONFIG = json.dumps({"name": "synthetic_f2", "dataset": "synthetic", "frames_per_video": FRAMES})
BEAM_OPTIONS = "runner=DirectRunner,direct_num_workers=2,direct_running_mode=multi_processing"
DETECTION_LINE = re.compile(
    r"dfdc_masks (\w+): faces detected on (\d+) originals \((\d+) frames\) in the boxes stage, (\d+) of them more "
    r"than once; (\d+) frames of (\d+) originals detected in the extract stage"
)


@pytest.fixture(scope="module")
def beam_build(tmp_path_factory):
    """The build's whole output (workers log on stderr) and the corpus it wrote."""
    root = tmp_path_factory.mktemp("beam_scaling")
    result = tfds_build.build(
        CONFIG, root / "data", download_dir=root / "downloads", capture=True,
        extra_args=[f"--beam_pipeline_options={BEAM_OPTIONS}"],
    )
    return result.output, root / "downloads" / SYNTHETIC_CORPUS_FOLDER  # the workers' too, with capture


def _existing_originals_by_split(corpus) -> dict[str, set[str]]:
    """The originals each split's videos are cut from, where the original's file exists."""
    entries = BuildPlan.from_options("synthetic", frames_per_video=FRAMES).list_entries(corpus)
    return {
        split: {e.original_id for e in videos if (e.original_path or e.path).is_file()}
        for split, videos in entries_by_split(entries).items()
    }


def test_each_original_is_detected_once_across_two_workers_and_never_in_the_extract_stage(beam_build):
    output, corpus = beam_build
    logged = {match[0]: [int(n) for n in match[1:]] for match in DETECTION_LINE.findall(output)}
    originals = _existing_originals_by_split(corpus)
    assert set(logged) == set(originals) == {"train", "validation", "test"}, output[-4000:]
    for split, expected in originals.items():
        n_originals, n_frames, repeated, extract_frames, extract_originals = logged[split]
        assert n_originals == len(expected), split
        assert n_frames == FRAMES * len(expected), split
        assert (repeated, extract_frames, extract_originals) == (0, 0, 0), split


def test_detection_summary_counts_repeats_and_stages_separately():
    records = [("boxes", "a", 2), ("boxes", "b", 2), ("boxes", "a", 2), ("extract", "b", 1)]
    assert detection_summary(records) == {
        "boxes": {"originals": 2, "frames": 6, "repeated": 1},
        "extract": {"originals": 1, "frames": 1, "repeated": 0},
    }
