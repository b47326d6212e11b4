import h5py
import keras
import numpy as np
import pytest

# The writer of the legacy .h5 weights format keras.applications distributes.
from keras.src.legacy.saving.legacy_h5_format import save_weights_to_hdf5_group

from dfseg_tf.models.card import CLASSIFIER
from dfseg_tf.models.classifiers import (
    WeightsFileError,
    build_classifier,
    classifier_card,
    default_input_size,
)

XCEPTION_MIN_SIZE = 71
# keras.applications' documented sizes without top (22,910,480 and 66,658,687 with the
# ImageNet top), plus our head: Dense(1) on 2048 or 2560 pooled features.
XCEPTION_PARAMS = 20_861_480 + 2048 + 1
EFFICIENTNET_B7_PARAMS = 64_097_687 + 2560 + 1


CROP = 40  # a small stand-in for the records' 256x256 crops


def random_crops(count, size=CROP):
    return np.random.default_rng(0).integers(0, 256, (count, size, size, 3), dtype=np.uint8)


@pytest.fixture(scope="module")
def efficientnet_b7():
    return build_classifier("efficientnet_b7", input_size=32, crop_size=CROP)


def _write_keras_h5_weights(model, path):
    with h5py.File(path, "w") as handle:
        save_weights_to_hdf5_group(handle, model)


def test_default_input_sizes_are_the_published_ones():
    assert default_input_size("xception") == 299
    assert default_input_size("efficientnet_b7") == 380


def test_xception_maps_a_batch_of_faces_to_one_probability_each():
    model = build_classifier("xception", input_size=XCEPTION_MIN_SIZE, crop_size=CROP)

    probabilities = model.predict(random_crops(2), verbose=0)

    assert model.count_params() == XCEPTION_PARAMS
    assert probabilities.shape == (2, 1)
    assert np.all((probabilities > 0) & (probabilities < 1))


def test_xception_scales_pixels_to_minus_one_one():
    model = build_classifier("xception", input_size=XCEPTION_MIN_SIZE, crop_size=CROP)
    scaled = model.get_layer("to_minus_one_one")(np.array([0.0, 127.5, 255.0], np.float32))
    np.testing.assert_allclose(keras.ops.convert_to_numpy(scaled), [-1.0, 0.0, 1.0], atol=1e-6)


def test_the_crop_is_resized_to_the_backbone_inside_the_model():
    model = build_classifier("xception", input_size=XCEPTION_MIN_SIZE, crop_size=CROP)
    assert model.input.shape[1:] == (CROP, CROP, 3)
    assert model.get_layer("resize_to_backbone").output.shape[1:] == (XCEPTION_MIN_SIZE, XCEPTION_MIN_SIZE, 3)


def test_efficientnet_b7_maps_a_batch_of_faces_to_one_probability_each(efficientnet_b7):
    probabilities = efficientnet_b7.predict(random_crops(2), verbose=0)

    assert efficientnet_b7.count_params() == EFFICIENTNET_B7_PARAMS
    assert probabilities.shape == (2, 1)


def test_efficientnet_b7_normalises_pixels_with_imagenet_statistics(efficientnet_b7):
    mean, stddev = np.array([0.485, 0.456, 0.406]), np.array([0.229, 0.224, 0.225])
    pixels = 255.0 * np.stack([np.full((32, 32, 3), mean), np.full((32, 32, 3), mean + stddev)])
    backbone = efficientnet_b7.get_layer("efficientnetb7")
    backbone_rescaling, normalization = backbone.layers[1], backbone.layers[2]

    normalised = normalization(backbone_rescaling(pixels.astype(np.float32)))

    normalised = keras.ops.convert_to_numpy(normalised)
    np.testing.assert_allclose(normalised[0], 0.0, atol=1e-5)
    np.testing.assert_allclose(normalised[1], 1.0, atol=1e-5)


def test_output_is_float32_under_mixed_precision():
    keras.config.set_dtype_policy("mixed_float16")
    try:
        model = build_classifier("xception", input_size=XCEPTION_MIN_SIZE)
    finally:
        keras.config.set_dtype_policy("float32")
    assert model.get_layer("logit").compute_dtype == "float16"
    assert model.output.dtype == "float32"


def test_weights_file_as_keras_distributes_it_is_loaded_into_the_backbone(tmp_path):
    # Weights of an independently initialised backbone stand in for ImageNet's.
    donor = keras.applications.Xception(include_top=False, weights=None, input_shape=(71, 71, 3))
    weights_path = tmp_path / "xception_weights_tf_dim_ordering_tf_kernels_notop.h5"
    _write_keras_h5_weights(donor, weights_path)

    model = build_classifier("xception", input_size=XCEPTION_MIN_SIZE, weights=weights_path)

    loaded = model.get_layer("xception").get_weights()
    assert len(loaded) == len(donor.get_weights())
    for expected, actual in zip(donor.get_weights(), loaded):
        np.testing.assert_array_equal(actual, expected)


def test_missing_weights_file_says_what_to_download_and_where_to_pass_it(tmp_path):
    missing = tmp_path / "absent.h5"

    with pytest.raises(WeightsFileError) as raised:
        build_classifier("xception", input_size=XCEPTION_MIN_SIZE, weights=missing)

    message = str(raised.value)
    assert "\n" not in message
    assert str(missing) in message
    assert "xception_weights_tf_dim_ordering_tf_kernels_notop.h5" in message
    assert "--weights" in message


def test_weights_of_another_model_are_refused_naming_the_file(tmp_path):
    other = keras.Sequential([keras.Input((4,)), keras.layers.Dense(2)])
    weights_path = tmp_path / "other.h5"
    _write_keras_h5_weights(other, weights_path)

    with pytest.raises(WeightsFileError, match="other.h5: not xception backbone weights"):
        build_classifier("xception", input_size=XCEPTION_MIN_SIZE, weights=weights_path)


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"architecture": "resnet50"}, "architecture='resnet50'"),
        ({"architecture": "xception", "input_size": 64}, "input_size=64 .* minimum of 71"),
    ],
)
def test_bad_arguments_are_refused_echoing_the_value(kwargs, message):
    with pytest.raises(ValueError, match=message):
        build_classifier(**kwargs)


def test_card_records_kind_architecture_crop_size_and_weights():
    scratch = classifier_card("efficientnet_b7", trained_on="dfdc_masks/dfdc")
    pretrained = classifier_card("xception", weights="/w/x.h5")

    # Every model takes the records' 256x256 crop; the backbone's 380 is inside the model.
    assert (scratch.kind, scratch.architecture, scratch.input_size) == (CLASSIFIER, "efficientnet_b7", 256)
    assert (scratch.weights, scratch.trained_on, scratch.decision_threshold) == ("scratch", "dfdc_masks/dfdc", 0.5)
    assert (pretrained.input_size, pretrained.weights) == (256, "/w/x.h5")
