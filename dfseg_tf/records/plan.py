"""What a dfdc_masks build reads: the data set's videos, their splits, the extraction settings."""

import dataclasses
import functools
import logging
import pathlib
import shutil
from collections.abc import Callable

from etils import epath

from dfseg_tf import sources
from dfseg_tf.corpus import write_dfdc_corpus
from dfseg_tf.errors import first_line
from dfseg_tf.extraction import ExtractionConfig
from dfseg_tf.method import FRAMES_PER_VIDEO
from dfseg_tf.records.self_blended import SelfBlender
from dfseg_tf.sources.entry import SPLITS, VideoEntry
from dfseg_tf.sources.splits import SplitFractions

logger = logging.getLogger(__name__)

DATASETS = ("synthetic", "dfdc", "faceforensics", "dfd", "celebdf", "self_blended")
# Layouts whose real videos a self_blended build blends (any data set with videos on disk).
LAYOUTS = tuple(dataset for dataset in DATASETS if dataset != "self_blended")

# The synthetic corpus is a DFDC-shaped corpus of 10 parts. 60/20/20 gives parts 0-5 to
# train, 6-7 to validation and 8-9 to test: every part is used and every split holds
# originals and fakes (the study's 40/10/10 would leave parts 5-8 idle). The corpus
# plants its faults in parts 1-4 (train) and its two-person video in part 9 (test).
# A larger corpus (``corpus_parts``) keeps the same fractions, so the same share of parts per split.
SYNTHETIC_PARTS = 10
MIN_SYNTHETIC_PARTS = 5  # one part for each of validation and test at 60/20/20
SYNTHETIC_FRACTIONS = SplitFractions(train=0.6, validation=0.2, test=0.2)

# Under the download dir. Two levels deep, so that a DFDC manual dir which is also the
# download dir (the builder tests' dummy_data) never lists the synthetic parts as its own.
SYNTHETIC_CORPUS_FOLDER = "dfdc_masks_synthetic/corpus"
_CORPUS_DONE = "CORPUS_COMPLETE"


@dataclasses.dataclass(frozen=True)
class BuildPlan:
    """The settings of one build, taken from the TFDS builder config.

    Attributes:
      dataset: one of ``DATASETS``.
      frames_per_video: frames sampled evenly from each video.
      fractions: split fractions by part (``dfdc`` and ``synthetic``; FaceForensics++
        uses its official split files and DFD is all test).
      margin, mask_threshold, fill_holes: extraction overrides; ``None`` keeps
        ``ExtractionConfig``'s default (for ``mask_threshold``: set from each pair's noise).
      reals_of: for ``self_blended``, the layout (one of ``LAYOUTS``) whose real videos are blended.
      seed: for ``self_blended``, the seed of every blend (with the example's key).
      corpus_parts: for ``synthetic``, the DFDC parts of the miniature corpus written at build
        time (each holds 1-2 originals with 1-3 fakes each).
      compression: for ``faceforensics`` and ``dfd`` (also as ``reals_of``), the download's
        quality folder read: ``c23`` (the study's), ``c40`` or ``raw``.
    """

    dataset: str
    frames_per_video: int = FRAMES_PER_VIDEO
    fractions: SplitFractions = SplitFractions()
    margin: float | None = None
    mask_threshold: float | None = None
    fill_holes: bool | None = None
    reals_of: str = "dfdc"
    seed: int = 0
    corpus_parts: int = SYNTHETIC_PARTS
    compression: str = "c23"

    def __post_init__(self):
        if self.dataset not in DATASETS:
            raise ValueError(f"dataset must be one of {DATASETS}, got {self.dataset!r}")
        if self.corpus_parts < MIN_SYNTHETIC_PARTS:
            raise ValueError(f"corpus_parts must be at least {MIN_SYNTHETIC_PARTS}, got {self.corpus_parts}")
        if self.reals_of not in LAYOUTS:
            raise ValueError(f"reals_of must be one of {LAYOUTS}, got {self.reals_of!r}")
        sources.check_compression(self.compression)
        self.extraction_config()  # its own checks of frames_per_video and the overrides, raised early

    @classmethod
    def from_options(cls, dataset: str, *, fractions: dict[str, float | None] | None = None, **options) -> "BuildPlan":
        """A plan whose split fractions start from the data set's default, then the ``fractions``
        that are set (``None`` keeps the default)."""
        plan = cls(dataset, **options)
        default = SYNTHETIC_FRACTIONS if plan.layout == "synthetic" else SplitFractions()
        return dataclasses.replace(plan, fractions=dataclasses.replace(default, **_set_only(fractions or {})))

    def extraction_config(self) -> ExtractionConfig:
        """The ``ExtractionConfig`` of this build; unset fields keep its defaults."""
        overrides = {"margin": self.margin, "mask_threshold": self.mask_threshold, "fill_holes": self.fill_holes}
        return ExtractionConfig(frames_per_video=self.frames_per_video, **_set_only(overrides))

    @property
    def layout(self) -> str:
        """The data set whose folders are read: ``reals_of`` for ``self_blended``, else ``dataset``."""
        return self.reals_of if self.self_blended else self.dataset

    @property
    def self_blended(self) -> bool:
        return self.dataset == "self_blended"

    def self_blender(self, config: ExtractionConfig):
        """The ``SelfBlender`` of a ``self_blended`` build, or None for the others."""
        return SelfBlender(self.seed, config.margin) if self.self_blended else None

    @property
    def synthetic_corpus_folder(self) -> str:
        """Where under the download dir the synthetic corpus of ``corpus_parts`` parts is written
        (one folder per size, so configs of different sizes never take each other's corpus)."""
        if self.corpus_parts == SYNTHETIC_PARTS:
            return SYNTHETIC_CORPUS_FOLDER
        return f"{SYNTHETIC_CORPUS_FOLDER}_{self.corpus_parts}_parts"

    def list_entries(self, root) -> list[VideoEntry]:
        """Every video of the data set under ``root`` (only the real ones for ``self_blended``);
        raises ``SourceLayoutError`` early."""
        if self.layout == "synthetic":
            entries = sources.list_dfdc(root, fractions=self.fractions, n_parts=self.corpus_parts)
            entries = [dataclasses.replace(entry, source="synthetic") for entry in entries]
        elif self.layout == "dfdc":
            entries = sources.list_dfdc(root, fractions=self.fractions)
        elif self.layout == "faceforensics":
            entries = sources.list_faceforensics(root, compression=self.compression)
        elif self.layout == "celebdf":
            entries = sources.list_celebdf(root)
        else:
            entries = sources.list_dfd(root, compression=self.compression)
        if self.self_blended:
            entries = [entry for entry in entries if not entry.is_fake]
        return entries


def entries_by_split(entries: list[VideoEntry]) -> dict[str, list[VideoEntry]]:
    """The non-empty splits, in train/validation/test order, each sorted by video id."""
    by_split = {split: sorted((e for e in entries if e.split == split), key=lambda e: e.video_id) for split in SPLITS}
    return {split: videos for split, videos in by_split.items() if videos}


def prepare_corpus(root, write: Callable[[pathlib.Path], object]) -> pathlib.Path:
    """Writes a miniature corpus under ``root`` once, with ``write(root)``, and reuses it afterwards.

    The marker is written last, so a corpus interrupted half-way is removed and written again.
    """
    root = pathlib.Path(root)
    if not (root / _CORPUS_DONE).exists():
        logger.info("Writing a miniature corpus to %s", root)
        shutil.rmtree(root, ignore_errors=True)
        write(root)
        mark_synthetic_corpus_complete(root)
    return root


def prepare_synthetic_corpus(root, parts: int = SYNTHETIC_PARTS) -> pathlib.Path:
    """``prepare_corpus`` of the miniature DFDC-shaped corpus of ``parts`` parts."""
    return prepare_corpus(root, functools.partial(write_dfdc_corpus, parts=parts))


def mark_synthetic_corpus_complete(root) -> None:
    (pathlib.Path(root) / _CORPUS_DONE).write_text("every file of this miniature corpus is written\n")


# What each data set's --manual_dir holds (the builder's MANUAL_DOWNLOAD_INSTRUCTIONS in full).
MANUAL_LAYOUTS = {
    "dfdc": "the unzipped dfdc_train_part_K/ folders of the DFDC training set, each with metadata.json and "
    "its mp4 files",
    "faceforensics": "the FaceForensics++ c23 download: original_sequences/youtube/c23/videos/ and "
    "manipulated_sequences/<method>/c23/videos/ (c40 or raw with the config field compression)",
    "dfd": "the FaceForensics++ c23 download with DFD: original_sequences/actors/c23/videos/ and "
    "manipulated_sequences/DeepFakeDetection/c23/videos/ (c40 or raw with the config field compression)",
    "celebdf": "the Celeb-DF v2 folder: Celeb-real/, Celeb-synthesis/, YouTube-real/ and "
    "List_of_testing_videos.txt",
}


def manual_dir(dl_manager, layout: str) -> epath.Path:
    """``dl_manager.manual_dir``, or one line naming the folder and what the ``layout``
    (``BuildPlan.layout``: a ``self_blended`` build reads another layout's folder) should hold.

    Raises:
      SourceLayoutError: the folder is missing or empty (TFDS raises an AssertionError
        followed by the builder's whole download instructions).
    """
    try:
        return dl_manager.manual_dir
    except AssertionError as error:
        missing = first_line(error).split(" Create it")[0]  # "Manual directory X does not exist or is empty."
        raise sources.SourceLayoutError(f"{missing} --manual_dir must hold {MANUAL_LAYOUTS[layout]}") from None


def remove_stale_incomplete_dirs(data_dir, version) -> list[epath.Path]:
    """Removes the ``incomplete.*_<version>`` folders interrupted builds left beside
    ``data_dir`` (TFDS leaves them; its rerun starts a new one). ``data_dir`` is the
    folder of the build running now, which is kept: two builds of one config at once
    are not supported."""
    data_dir = epath.Path(data_dir)
    stale = [path for path in data_dir.parent.glob(f"incomplete.*_{version}") if path.name != data_dir.name]
    for path in stale:
        logger.info("Removing %s, left by an interrupted build", path)
        path.rmtree()
    return stale


def box_cache_dir(data_dir_root, config_name: str, config: ExtractionConfig) -> epath.Path:
    """Where a local build keeps the face boxes of originals.

    Under the data dir but outside the version folder (TFDS writes that under a
    temporary name and replaces it), one folder per config and box settings, so an
    interrupted build resumes without detecting again.
    """
    settings = f"{config.frames_per_video}frames-margin{config.margin:g}"
    return epath.Path(data_dir_root) / "downloads" / "dfdc_masks_boxes" / f"{config_name}-{settings}"


def _set_only(options: dict) -> dict:
    """The options that are set: ``None`` means "keep the default" in every config field here."""
    return {name: value for name, value in options.items() if value is not None}
