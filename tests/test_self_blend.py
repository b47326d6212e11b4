"""Self-blended fakes on real photographs (the corpus's astronaut and Grace Hopper, whose
MTCNN landmarks are known), and on a flat image where the blend can be read off exactly."""

import cv2
import numpy as np
import pytest

from dfseg_tf.corpus import scene
from dfseg_tf.extraction.faces import FIVE_POINTS
from dfseg_tf.extraction.self_blend import (
    BlendSettings,
    centred_face_box,
    face_region,
    landmarks_from_box,
    self_blend,
)

SIZE = 256
MARGIN = 0.2


def face_crop(photo: str):
    """A square crop around the photo's face (as ``square_box`` cuts it) and its landmarks there."""
    face = scene.prepared_face(scene.Identity(photo, flip=False, tint=(1.0, 1.0, 1.0), scale=1.0))
    x, y, w, h = face.box
    side = max(w, h) * (1 + 2 * MARGIN)
    x0, y0 = x + w / 2 - side / 2, y + h / 2 - side / 2
    matrix = np.array([[SIZE / side, 0, -x0 * SIZE / side], [0, SIZE / side, -y0 * SIZE / side]])
    crop = cv2.warpAffine(face.image.astype(np.uint8), matrix, (SIZE, SIZE), flags=cv2.INTER_AREA)
    points = np.array([face.landmarks[name] for name in FIVE_POINTS], np.float32)
    return crop, (points - [x0, y0]) * SIZE / side


@pytest.mark.parametrize("photo", scene.PHOTOS)
def test_fake_differs_inside_a_face_shaped_mask_that_covers_the_landmarks(photo):
    crop, points = face_crop(photo)
    fake, mask = self_blend(crop, points, np.random.default_rng(3))
    assert fake.shape == crop.shape and fake.dtype == np.uint8
    assert mask.shape == (SIZE, SIZE, 1) and set(np.unique(mask)) == {0, 1}
    x, y = np.round(points).astype(int).T
    assert mask[y, x, 0].all()  # eyes, nose and mouth are inside
    assert not mask[[0, 0, -1, -1], [0, -1, 0, -1], 0].any()  # the crop's corners are not
    assert 0.15 < mask.mean() < 0.6
    change = np.abs(fake.astype(int) - crop).sum(axis=2)
    assert change[mask[..., 0] == 1].mean() > 5


def test_same_seed_same_fake_other_seed_other_fake():
    crop, points = face_crop("astronaut")
    first = self_blend(crop, points, np.random.default_rng([7, 12]))
    again = self_blend(crop, points, np.random.default_rng([7, 12]))
    other = self_blend(crop, points, np.random.default_rng([7, 13]))
    assert all(np.array_equal(a, b) for a, b in zip(first, again))
    assert not np.array_equal(first[1], other[1])


def test_mask_is_the_support_of_the_blend():
    """On a flat grey image the altered copy is flat too (only brightness can change it),
    so the fake is target + weight x (source - target), and its change can be read off:
    every masked pixel changed by more than support_threshold of the full difference,
    every other one by at most that, and pixels well away from the mask not at all."""
    flat = np.full((SIZE, SIZE, 3), 128, np.uint8)
    points = landmarks_from_box(centred_face_box(SIZE, MARGIN))
    settings = BlendSettings(hue_shift=0, saturation_scale=0)
    checked = 0
    for seed in range(12):
        fake, mask = self_blend(flat, points, np.random.default_rng(seed), settings)
        change = np.abs(fake.astype(float) - fake[0, 0]).max(axis=2)  # a corner keeps the target
        largest = change.max()
        if largest < 10:  # the brightness draw was near zero: nothing to read
            continue
        checked += 1
        inside, outside = mask[..., 0] == 1, mask[..., 0] == 0
        # the blend ratio is at least 0.25, so the full difference is at most 4x the largest change
        assert change[inside].min() >= settings.support_threshold * largest - 1
        assert change[outside].max() <= settings.support_threshold * 4 * largest + 1
        far = cv2.dilate(mask, np.ones((61, 61), np.uint8)) == 0
        assert change[far].max() == 0
    assert checked >= 6


def test_region_follows_the_face_tilt():
    crop, points = face_crop("grace_hopper")
    upright = face_region(crop.shape, points, np.random.default_rng(0))
    turned_points = np.stack([points[:, 1], SIZE - 1 - points[:, 0]], axis=1)  # rotate the face 90 degrees
    turned = face_region(crop.shape, turned_points, np.random.default_rng(0))
    expected = np.rot90(upright, k=1)
    overlap = ((turned > 0.5) & (expected > 0.5)).sum() / ((turned > 0.5) | (expected > 0.5)).sum()
    assert overlap > 0.9


def test_refuses_a_grey_image_and_collapsed_landmarks():
    crop, points = face_crop("astronaut")
    with pytest.raises(ValueError, match="uint8"):
        self_blend(crop[..., 0], points, np.random.default_rng(0))
    with pytest.raises(ValueError, match="too close"):
        self_blend(crop, np.repeat(points[:1], 5, axis=0), np.random.default_rng(0))
