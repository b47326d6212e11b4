"""The tf.data pipeline: dtypes, identical flips of image and mask, TFDS loading and its errors."""

import numpy as np
import pytest
import tensorflow as tf

from dfseg_tf.data import (
    DatasetNotBuiltError,
    load_split,
    planted_square_dataset,
    planted_square_examples,
    segmentation_batches,
    validation_examples,
)

SIZE = 32


def batches_as_arrays(ds):
    images, masks = zip(*ds.as_numpy_iterator())
    return np.concatenate(images), np.concatenate(masks)


def test_evaluation_batches_keep_order_and_pixels():
    raw = planted_square_examples(10, size=SIZE, seed=3)
    ds = segmentation_batches(planted_square_dataset(10, size=SIZE, seed=3), batch_size=4, training=False)
    assert [images.shape[0] for images, _ in ds.as_numpy_iterator()] == [4, 4, 2]
    images, masks = batches_as_arrays(ds)
    assert images.dtype == np.uint8 and masks.dtype == np.float32  # models scale their own pixels
    np.testing.assert_array_equal(images, raw["image"])
    np.testing.assert_array_equal(masks, raw["mask"])


def test_masks_of_255_become_one():
    ds = tf.data.Dataset.from_tensor_slices(
        {"image": np.zeros((1, 4, 4, 3), np.uint8), "mask": np.full((1, 4, 4, 1), 255, np.uint8)}
    )
    _, masks = batches_as_arrays(segmentation_batches(ds, batch_size=1, training=False))
    assert set(np.unique(masks)) == {1.0}


@pytest.mark.parametrize("vertical", [False, True])
def test_training_flips_image_and_mask_together(vertical):
    raw = planted_square_examples(16, size=SIZE, seed=5, fake_fraction=1.0)
    by_mask_sum = {}
    ds = segmentation_batches(
        planted_square_dataset(16, size=SIZE, seed=5, fake_fraction=1.0),
        batch_size=16, training=True, seed=11, vertical_flip=vertical,
    )
    seen_transforms = set()
    for _ in range(2):  # two epochs: new order and new flips
        images, masks = batches_as_arrays(ds)
        for image, mask in zip(images, masks):
            source = next(i for i in range(16) if np.array_equal(np.sort(image, axis=None),
                                                                   np.sort(raw["image"][i], axis=None)))
            transform = _which_flip(image, mask, raw["image"][source], raw["mask"][source])
            assert transform is not None, "image and mask were not transformed alike"
            seen_transforms.add(transform)
            by_mask_sum[source] = mask.sum()
    expected = {"none", "lr"} | ({"ud", "both"} if vertical else set())
    assert seen_transforms == expected
    assert len(by_mask_sum) == 16


def _which_flip(image, mask, source_image, source_mask):
    candidates = {
        "none": lambda a: a,
        "lr": lambda a: a[:, ::-1],
        "ud": lambda a: a[::-1],
        "both": lambda a: a[::-1, ::-1],
    }
    for name, flip in candidates.items():
        if np.allclose(image, flip(source_image), atol=1e-6) and np.array_equal(mask, flip(source_mask)):
            return name
    return None


def test_same_seed_same_batches():
    def first_epoch():
        ds = planted_square_dataset(12, size=SIZE, seed=1)
        return batches_as_arrays(segmentation_batches(ds, batch_size=5, training=True, seed=4))

    for first, second in zip(first_epoch(), first_epoch()):
        np.testing.assert_array_equal(first, second)


def test_validation_examples_prefer_fakes():
    ds = planted_square_dataset(10, size=SIZE, seed=2, fake_fraction=0.2)  # fakes are 0 and 1
    images, masks = validation_examples(ds, count=3)
    assert images.shape == (3, SIZE, SIZE, 3) and masks.shape == (3, SIZE, SIZE, 1)
    assert [bool(m.any()) for m in masks] == [True, True, False]


@pytest.fixture(scope="module")
def toy_data_dir(tmp_path_factory, store_frames_dataset):
    """A two-split data set with the dfdc_masks features, to load the real on-disk format."""
    splits = {"train": (6, 0), "validation": (2, 1)}  # split -> (examples, seed)
    return store_frames_dataset(
        "toy_masks/synthetic", tmp_path_factory.mktemp("tfds"),
        {split: planted_square_dataset(count, size=SIZE, seed=seed) for split, (count, seed) in splits.items()}, size=SIZE,
    )


def test_load_split_reads_a_built_dataset(toy_data_dir):
    ds = load_split("toy_masks/synthetic", "train", toy_data_dir)
    images, masks = batches_as_arrays(segmentation_batches(ds, batch_size=4, training=False))
    assert images.shape == (6, SIZE, SIZE, 3) and masks.shape == (6, SIZE, SIZE, 1)
    assert masks.sum() == 3 * (SIZE // 4) ** 2  # three fakes, each an 8x8 square


def test_load_split_names_the_missing_split(toy_data_dir):
    with pytest.raises(DatasetNotBuiltError, match=r"has no split 'test'; it has \['train', 'validation'\]"):
        load_split("toy_masks/synthetic", "test", toy_data_dir)


def test_load_split_says_how_to_build_a_missing_dataset(tmp_path):
    with pytest.raises(DatasetNotBuiltError) as error:
        load_split("dfdc_masks/synthetic", "train", tmp_path)
    assert f"tfds build dfdc_masks --config synthetic --data_dir {tmp_path}" in str(error.value)
