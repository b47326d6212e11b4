"""dfdc_masks: face crops and manipulation masks from DFDC, FaceForensics++ c23, DFD or a synthetic corpus.

A thin adapter: listing, extraction, keys and Beam stages live in ``dfseg_tf.records``
(imported from the installed package, so Beam workers find it too). The description
is README.md and the citations CITATIONS.bib, both beside this file.
"""

import dataclasses
import functools

import tensorflow_datasets as tfds
import tqdm

from dfseg_tf import records
from dfseg_tf.method import FRAMES_PER_VIDEO
from dfseg_tf.records import beam as beam_generation
from dfseg_tf.records import local as local_generation
from dfseg_tf.records.reports import split_report_path


@dataclasses.dataclass
class DfdcMasksConfig(tfds.core.BuilderConfig):
    """A data set and how its frames are sampled and split.

    Every field can be set from ``tfds build`` with the JSON form of ``--config``, e.g.
    ``--config '{"name": "synthetic_f8", "dataset": "synthetic", "frames_per_video": 8}'``
    (a custom config needs its own name; ``dataset`` defaults to the name).

    Attributes:
      dataset: ``synthetic``, ``dfdc``, ``faceforensics``, ``dfd``, ``celebdf`` or ``self_blended``.
      frames_per_video: frames sampled evenly from each video.
      train_fraction, validation_fraction, test_fraction: split fractions by part
        (``dfdc``, ``synthetic``); ``None`` keeps the data set's default.
      margin, fill_holes: extraction overrides; ``None`` keeps ``ExtractionConfig``'s.
      mask_threshold: a fixed mask threshold (blurred RGB distance); ``None`` sets it
        per video from the pair's own codec noise.
      reals_of, seed: for ``self_blended``, the layout whose real videos are blended
        (any other dataset name) and the seed of the blends.
      corpus_parts: for ``synthetic``, the DFDC parts of the corpus written at build time.
      compression: for ``faceforensics`` and ``dfd``, the download's quality folder
        (``c23``, ``c40`` or ``raw``).
    """

    dataset: str = ""
    frames_per_video: int = FRAMES_PER_VIDEO
    train_fraction: float | None = None
    validation_fraction: float | None = None
    test_fraction: float | None = None
    margin: float | None = None
    mask_threshold: float | None = None
    fill_holes: bool | None = None
    reals_of: str = "dfdc"
    seed: int = 0
    corpus_parts: int = records.SYNTHETIC_PARTS
    compression: str = "c23"

    def build_plan(self) -> records.BuildPlan:
        fractions = {"train": self.train_fraction, "validation": self.validation_fraction, "test": self.test_fraction}
        return records.BuildPlan.from_options(
            self.dataset or self.name,
            frames_per_video=self.frames_per_video,
            fractions=fractions,
            margin=self.margin,
            mask_threshold=self.mask_threshold,
            fill_holes=self.fill_holes,
            reals_of=self.reals_of,
            seed=self.seed,
            corpus_parts=self.corpus_parts,
            compression=self.compression,
        )


class Builder(tfds.core.GeneratorBasedBuilder):
    """DatasetBuilder for dfdc_masks."""

    VERSION = tfds.core.Version("1.1.0")
    _use_beam = False  # set from the DownloadConfig by _download_and_prepare
    RELEASE_NOTES = {
        "1.0.0": "Initial release.",
        "1.1.0": "Mask threshold set per video from the pair's codec noise (fixed 30 before), holes "
                 "enclosed by a mask filled; features official_mask and has_official_mask (FaceForensics++ "
                 "and DFD masks/videos); config fields mask_threshold (was threshold) and fill_holes. Faces "
                 "found by BlazeFace then MTCNN; a real video cropped on its main face tracked across frames, "
                 "a fake on the face that holds the difference; frames whose change is outside every face skipped. "
                 "New configs self_blended (fakes blended from real videos, exact masks) and celebdf.",
    }
    BUILDER_CONFIGS = [
        DfdcMasksConfig(
            name="synthetic",
            frames_per_video=8,
            description="Miniature DFDC-shaped corpus written at build time (no download); 8 frames a video.",
        ),
        DfdcMasksConfig(name="dfdc", description="DFDC training set by part: train 0-19, validation 20-24, test 45-49."),
        DfdcMasksConfig(name="faceforensics", description="FaceForensics++ c23, five methods, official splits."),
        DfdcMasksConfig(name="dfd", description="DeepFakeDetection (DFD) c23, all test."),
        DfdcMasksConfig(name="celebdf", description="Celeb-DF v2: official test list as test, the rest train."),
        DfdcMasksConfig(
            name="self_blended",
            description="DFDC's real videos, each crop kept and blended with an altered copy of itself "
            "(exact masks, no fakes needed); set reals_of for another layout.",
        ),
    ]
    MANUAL_DOWNLOAD_INSTRUCTIONS = """
    Not needed for `synthetic`. For the others pass --manual_dir pointing at:
    - dfdc: the folder holding the unzipped `dfdc_train_part_K/` folders (each with its
      `metadata.json` and mp4 files), directly or one level deeper. Kaggle:
      https://www.kaggle.com/c/deepfake-detection-challenge/data
    - faceforensics and dfd: the FaceForensics++ download root (c23; c40 or raw with the
      config field `compression`), holding `original_sequences/{youtube,actors}/c23/videos/`,
      `manipulated_sequences/<method>/c23/videos/`, optionally the official masks
      `manipulated_sequences/<method>/masks/videos/` and, for the official split,
      `splits/{train,val,test}.json`. https://github.com/ondyari/FaceForensics
    - celebdf: the Celeb-DF v2 folder holding `Celeb-real/`, `Celeb-synthesis/`,
      `YouTube-real/` and `List_of_testing_videos.txt`.
      https://github.com/yuezunli/celeb-deepfakeforensics
    - self_blended: the folder of its `reals_of` layout (default dfdc, as above).
    """

    def _info(self) -> tfds.core.DatasetInfo:
        return self.dataset_info_from_configs(
            features=records.frame_features(),
            supervised_keys=("image", "mask"),
            homepage="https://ai.meta.com/datasets/dfdc/",
        )

    def _download_and_prepare(self, dl_manager, download_config):
        """Picks Beam when the build was given Beam options, and reports the skipped videos at
        the end (with Beam they are only known once the pipeline has run), also when it fails.

        Both need this protected method. TFDS 4.9.10 builds a split with Beam when
        ``_generate_examples`` returns a PTransform (``SplitBuilder.submit_split_generation``),
        but hands the ``DownloadConfig`` that holds the Beam options to ``download_and_prepare``
        and to this method only: ``_split_generators`` gets a ``DownloadManager``, which is
        made without them (``DatasetBuilder._make_download_manager``). And when a build fails,
        TFDS deletes the incomplete version folder with the per-split reports on the way out
        of ``download_and_prepare``; here they still exist.
        """
        self._use_beam = bool(download_config.beam_runner or download_config.beam_options)
        try:
            super()._download_and_prepare(dl_manager, download_config)
        except Exception:
            records.report_failed_build(self.data_dir)  # raises EmptySplitError for a split with no usable video
            raise
        records.forget_failed_build(self.data_dir)
        records.remove_stale_incomplete_dirs(self.data_dir, self.version)
        report = records.merge_split_reports(self.data_dir)
        print(f"{self.name}/{self.builder_config.name}: {report.summary_line()} (details: skip_report.json beside the records)")

    def _split_generators(self, dl_manager: tfds.download.DownloadManager):
        plan = self.builder_config.build_plan()
        if plan.layout == "synthetic":
            root = records.prepare_synthetic_corpus(dl_manager.download_dir / plan.synthetic_corpus_folder,
                                                    parts=plan.corpus_parts)
        else:
            root = records.manual_dir(dl_manager, plan.layout)
        config = plan.extraction_config()
        blender = plan.self_blender(config)
        return {
            split: self._generate_examples(entries, config, split, blender)
            for split, entries in records.entries_by_split(plan.list_entries(root)).items()
        }

    def _generate_examples(self, entries, config, split, blender=None):
        report_path = split_report_path(self.data_dir, split)
        if self._use_beam:
            return beam_generation.ExtractSplit(entries, config, str(report_path), blender)
        box_cache_dir = records.box_cache_dir(self.data_dir_root, self.builder_config.name, config)
        return local_generation.generate_split(
            entries, config, box_cache_dir=box_cache_dir, report_path=report_path, blender=blender,
            progress=functools.partial(tqdm.tqdm, desc=f"{self.name}/{self.builder_config.name} {split}",
                                       unit=" videos"),
        )
