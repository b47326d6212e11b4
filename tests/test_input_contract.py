"""Every model takes the stored uint8 face crop: training, evaluation and dfseg predict
feed it the same pixels, so a face gets the same prediction through all three."""

import numpy as np
import pytest
import skimage.data
import tensorflow as tf

from dfseg_tf.data.classification import classification_batches
from dfseg_tf.data.pipeline import segmentation_batches
from dfseg_tf.evaluation import rules
from dfseg_tf.evaluation.predictions import predict_frames
from dfseg_tf.extraction.faces import crop_face
from dfseg_tf.models.card import SEGMENTATION, ModelCard
from dfseg_tf.models.classifiers import build_classifier, classifier_card
from dfseg_tf.models.unet import build_unet
from dfseg_tf.predict.model import FaceModel

CROP = 64
FACE_BOX = (170, 20, 340, 190)  # x0, y0, x1, y1: the astronaut's face in skimage's picture


@pytest.fixture(scope="module")
def frame_and_example():
    frame = skimage.data.astronaut()
    crop = crop_face(frame, FACE_BOX, CROP)  # what the builder stores for this face
    example = {
        "image": crop[np.newaxis],
        "mask": np.zeros((1, CROP, CROP, 1), np.uint8),
        "label": np.array([1], np.int64),
        "video_id": np.array([b"astronaut"]),
        "frame_index": np.array([0], np.int32),
    }
    return frame, tf.data.Dataset.from_tensor_slices(example)


def _saved(model, card, tmp_path):
    path = tmp_path / f"{model.name}.keras"
    model.save(path)
    card.save(path)
    return FaceModel.load(path)


def test_a_unet_sees_the_same_face_through_training_evaluation_and_predict(frame_and_example, tmp_path):
    frame, dataset = frame_and_example
    model = build_unet("unet_v1", input_shape=(CROP, CROP, 3))
    saved = _saved(model, ModelCard(kind=SEGMENTATION, architecture="unet_v1", input_size=CROP), tmp_path)

    training_images, _ = next(iter(segmentation_batches(dataset, batch_size=1, training=False)))
    training_map = model.predict(training_images, verbose=0)[0, ..., 0]
    evaluated = predict_frames(saved.model, saved.card, dataset)
    predicted_map = saved.predict(saved.prepare(frame, FACE_BOX)[np.newaxis])[0]

    np.testing.assert_array_equal(training_images.numpy()[0], saved.prepare(frame, FACE_BOX))
    np.testing.assert_allclose(predicted_map, training_map, rtol=1e-6, atol=1e-7)
    assert evaluated.scores[0] == pytest.approx(rules.frame_score(training_map), abs=1e-6)


def test_a_classifier_sees_the_same_face_through_training_evaluation_and_predict(frame_and_example, tmp_path):
    frame, dataset = frame_and_example
    model = build_classifier("efficientnet_b7", input_size=32, crop_size=CROP)
    saved = _saved(model, classifier_card("efficientnet_b7", crop_size=CROP), tmp_path)

    training_images, _ = next(iter(classification_batches(dataset, batch_size=1, training=False)))
    training_probability = float(model.predict(training_images, verbose=0)[0, 0])
    evaluated = predict_frames(saved.model, saved.card, dataset)
    predicted = saved.predict(saved.prepare(frame, FACE_BOX)[np.newaxis])[0]

    assert predicted == pytest.approx(training_probability, abs=1e-6)
    assert evaluated.scores[0] == pytest.approx(training_probability, abs=1e-6)


def test_the_models_take_uint8_crops_and_scale_them_inside():
    unet = build_unet("unet_v1", input_shape=(CROP, CROP, 3))
    classifier = build_classifier("xception", input_size=71, crop_size=CROP)
    for model in (unet, classifier):
        assert model.input.dtype == "uint8" and tuple(model.input.shape[1:]) == (CROP, CROP, 3)
    assert unet.get_layer("to_unit_range").scale == pytest.approx(1 / 255)
