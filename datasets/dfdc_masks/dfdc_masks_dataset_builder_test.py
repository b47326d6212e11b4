"""TFDS's own builder test, one class per config, on dummy_data (see make_dummy_data.py).

Run from pytest through tests/test_builder.py, or directly from ``datasets/`` (TFDS
finds README.md and CITATIONS.bib through the package ``dfdc_masks``):
    cd datasets && python -m pytest dfdc_masks/dfdc_masks_dataset_builder_test.py
SPLITS are exact: 8 frames per video (the dummy videos have 8), minus the videos the
corpus writers planted as faults (see skip_report.json of a build).
"""

import tensorflow_datasets as tfds

from dfdc_masks import dfdc_masks_dataset_builder


class _DfdcMasks:
    """What every config's test shares (a mixin, so pytest does not run it on its own)."""

    DATASET_CLASS = dfdc_masks_dataset_builder.Builder
    SKIP_CHECKSUMS = True  # nothing is downloaded


class SyntheticTest(_DfdcMasks, tfds.testing.DatasetBuilderTestCase):
    """Reuses the corpus in dummy_data/dfdc_masks_synthetic (the tests' download dir)."""

    BUILDER_CONFIG_NAMES_TO_TEST = ["synthetic"]
    SPLITS = {"train": 200, "validation": 88, "test": 88}  # parts 0-5 / 6-7 / 8-9


class DfdcTest(_DfdcMasks, tfds.testing.DatasetBuilderTestCase):
    BUILDER_CONFIG_NAMES_TO_TEST = ["dfdc"]
    SPLITS = {"train": 160, "validation": 24, "test": 72}  # parts 0, 5, 10, 15 / 20 / 45 of DFDC's 50


class FaceForensicsTest(_DfdcMasks, tfds.testing.DatasetBuilderTestCase):
    BUILDER_CONFIG_NAMES_TO_TEST = ["faceforensics"]
    SPLITS = {"train": 90, "validation": 90, "test": 90}  # one id pair each, five methods


class DfdTest(_DfdcMasks, tfds.testing.DatasetBuilderTestCase):
    BUILDER_CONFIG_NAMES_TO_TEST = ["dfd"]
    SPLITS = {"test": 96}


class SelfBlendedTest(_DfdcMasks, tfds.testing.DatasetBuilderTestCase):
    """The DFDC dummy data's real videos, each frame twice: itself and a self-blended fake."""

    BUILDER_CONFIG_NAMES_TO_TEST = ["self_blended"]
    SPLITS = {"train": 96, "validation": 16, "test": 48}  # 6 / 1 / 3 usable reals, x 8 frames x 2


if __name__ == "__main__":
    tfds.testing.test_main()
