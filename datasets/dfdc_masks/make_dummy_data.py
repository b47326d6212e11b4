"""Writes dummy_data/ for the builder tests: tiny real H.264 corpora laid out like the real data.

    python datasets/dfdc_masks/make_dummy_data.py

- ``dfdc_train_part_K/`` (10 parts, one nested): the DFDC manual dir (config ``dfdc``),
  numbered K = 0, 5, ..., 45 so that, split by K as DFDC's 50 parts are, they give
  train 0/5/10/15, validation 20 and test 45;
- ``original_sequences/``, ``manipulated_sequences/``, ``splits/``: the FaceForensics++
  download root, which also holds DFD (configs ``faceforensics`` and ``dfd``), with the
  official-style mask videos of one method (``manipulated_sequences/Deepfakes/masks/videos/``,
  the planted masks) so the ``official_mask`` feature is exercised;
- ``dfdc_masks_synthetic/corpus/``: what config ``synthetic`` writes into the download dir
  (the tests point the download dir at dummy_data), marked complete so it is reused.

96x64 pixels, 8 frames, CRF 30 (the smallest at which every video behaves as planted):
the whole folder stays near 0.5 MB. The planted truth
(``_planted/``) and DFDC's separate test set are not read by the builder and are removed.
Rerun this after changing the corpus writers, then update SPLITS in the builder test.
"""

import pathlib
import shutil

import numpy as np

from dfseg_tf import records
from dfseg_tf.corpus import (
    DFDC_TEST_SET_FOLDER,
    TRUTH_FOLDER,
    CorpusSpec,
    load_planted_masks,
    write_dfd_corpus,
    write_dfdc_corpus,
    write_faceforensics_corpus,
)
from dfseg_tf.extraction import write_mask_video

DUMMY_DATA = pathlib.Path(__file__).resolve().parent / "dummy_data"
TINY = CorpusSpec(width=96, height=64, n_frames=8, face_height=0.5, crf=30)
DFDC_PART_STEP = 5  # ten dummy parts spread over DFDC's 50

OFFICIAL_MASK_METHOD = "Deepfakes"


def write_official_masks(manifest, method: str, crf: int) -> None:
    """The planted masks of ``method``'s fakes as mask videos where FaceForensics++ keeps its own."""
    for video in manifest.fakes():
        if video.video_id.startswith(f"{method}/") and video.fault is None:
            masks = load_planted_masks(manifest.root, video.video_id)
            path = manifest.root / "manipulated_sequences" / method / "masks" / "videos" / pathlib.Path(video.path).name
            write_mask_video(path, (mask.astype(np.uint8) * 255 for mask in masks), fps=video.fps, crf=crf)


def _drop_unread_files(root: pathlib.Path) -> None:
    for folder in (TRUTH_FOLDER, DFDC_TEST_SET_FOLDER):
        shutil.rmtree(root / folder, ignore_errors=True)


def _number_parts_as_in_dfdc(root: pathlib.Path) -> None:
    """Renames part i (and a nested copy of its folder) to part ``DFDC_PART_STEP * i``."""
    for index in reversed(range(records.SYNTHETIC_PARTS)):  # highest first: no name is taken twice
        old = root / f"dfdc_train_part_{index}"
        new = root / f"dfdc_train_part_{DFDC_PART_STEP * index}"
        if (old / old.name).is_dir():
            (old / old.name).rename(old / new.name)
        old.rename(new)


def main() -> None:
    shutil.rmtree(DUMMY_DATA, ignore_errors=True)
    write_dfdc_corpus(DUMMY_DATA, TINY, parts=records.SYNTHETIC_PARTS)
    _number_parts_as_in_dfdc(DUMMY_DATA)
    write_official_masks(write_faceforensics_corpus(DUMMY_DATA, TINY), OFFICIAL_MASK_METHOD, TINY.crf)
    write_dfd_corpus(DUMMY_DATA, TINY)
    synthetic = DUMMY_DATA / records.SYNTHETIC_CORPUS_FOLDER
    write_dfdc_corpus(synthetic, TINY, parts=records.SYNTHETIC_PARTS)
    records.mark_synthetic_corpus_complete(synthetic)
    _drop_unread_files(DUMMY_DATA)
    _drop_unread_files(synthetic)
    size = sum(path.stat().st_size for path in DUMMY_DATA.rglob("*") if path.is_file())
    print(f"wrote {DUMMY_DATA} ({size / 1e6:.2f} MB)")


if __name__ == "__main__":
    main()
