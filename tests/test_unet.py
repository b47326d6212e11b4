"""The two U-Nets: exact parameter counts, shapes, layer properties, backend independence."""

import ast
import pathlib

import keras
import numpy as np
import pytest

from dfseg_tf.models.unet import build_unet

REPO = pathlib.Path(__file__).resolve().parents[1]
BACKEND_FREE_MODULES = [
    "dfseg_tf/models/unet.py",
    "dfseg_tf/training/losses.py",
    "dfseg_tf/training/metrics.py",
]


@pytest.mark.parametrize(
    "architecture, parameters", [("unet", 1_850_881), ("unet_v1", 1_832_257)]
)
def test_parameter_count_and_output_on_256(architecture, parameters):
    model = build_unet(architecture, input_shape=(256, 256, 3))
    assert model.count_params() == parameters
    assert model.output_shape == (None, 256, 256, 1)


@pytest.mark.parametrize("architecture", ["unet", "unet_v1"])
def test_small_input_gives_probabilities_of_the_same_size(architecture):
    model = build_unet(architecture, input_shape=(64, 64, 3))
    crops = np.random.default_rng(0).integers(0, 256, (2, 64, 64, 3), dtype=np.uint8)
    output = keras.ops.convert_to_numpy(model(crops))
    assert output.shape == (2, 64, 64, 1)
    assert output.dtype == np.float32
    assert np.all((output > 0) & (output < 1))


def test_layers_are_named_he_uniform_zero_bias_without_normalisation():
    model = build_unet("unet", input_shape=(64, 64, 3))
    names = [layer.name for layer in model.layers]
    assert len(set(names)) == len(names)
    assert {"input_block_conv1", "down3_pool", "bottleneck_upconv", "up1_concat",
            "output_block_logits", "output_block_sigmoid"} <= set(names)
    assert not any(isinstance(layer, (keras.layers.BatchNormalization, keras.layers.Dropout))
                   for layer in model.layers)
    convs = [layer for layer in model.layers if isinstance(layer, keras.layers.Conv2D)]
    assert len(convs) == 2 + 2 * 3 + 3 + 3 * 3 + 3
    for conv in convs:
        assert type(conv.kernel_initializer).__name__ == "HeUniform", conv.name
        assert not np.any(keras.ops.convert_to_numpy(conv.bias)), conv.name


def test_output_is_float32_under_mixed_precision():
    keras.config.set_dtype_policy("mixed_float16")
    try:
        model = build_unet("unet_v1", input_shape=(64, 64, 3))
    finally:
        keras.config.set_dtype_policy("float32")
    assert model.get_layer("output_block_logits").compute_dtype == "float16"
    assert model.output.dtype == "float32"


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"architecture": "unet_v2"}, "architecture='unet_v2'"),
        ({"input_shape": (100, 100, 3)}, "multiples of 16"),
        ({"architecture": "unet_v1", "input_shape": (48, 48, 3)}, "multiples of 32"),
        ({"input_shape": (64, 64, 1)}, "(height, width, 3)"),
    ],
)
def test_bad_arguments_are_echoed(kwargs, message):
    with pytest.raises(ValueError, match=message.replace("(", r"\(").replace(")", r"\)")):
        build_unet(**kwargs)


@pytest.mark.parametrize("path", BACKEND_FREE_MODULES)
def test_model_loss_and_metric_code_does_not_import_tensorflow(path):
    tree = ast.parse((REPO / path).read_text())
    imported = {alias.name.split(".")[0] for node in ast.walk(tree)
                if isinstance(node, ast.Import) for alias in node.names}
    imported |= {node.module.split(".")[0] for node in ast.walk(tree)
                 if isinstance(node, ast.ImportFrom) and node.module}
    assert "tensorflow" not in imported
    assert "keras" in imported


# Run with TensorFlow unimportable: the model, loss and metric modules (and all they
# import) must load and train where it is not installed, as on a JAX or PyTorch machine.
ONE_STEP = """
import numpy as np, keras
import dfseg_tf.models
from dfseg_tf.models.unet import build_unet
from dfseg_tf.training.losses import BceMinusLogDice
from dfseg_tf.training.metrics import DiceAtThreshold, MeanImageDice
assert keras.backend.backend() == "jax"
model = build_unet("unet", input_shape=(32, 32, 3))
model.compile(optimizer="adam", loss=BceMinusLogDice(), metrics=[DiceAtThreshold(), MeanImageDice()])
images = np.random.default_rng(0).integers(0, 256, (4, 32, 32, 3), dtype=np.uint8)
masks = (images[..., :1] > 127).astype("float32")
logs = model.train_on_batch(images, masks, return_dict=True)
assert np.isfinite(logs["loss"]), logs
print("trained one step on", keras.backend.backend())
"""


def test_trains_one_step_under_jax_without_tensorflow(run_under_jax_without_tensorflow):
    result = run_under_jax_without_tensorflow(ONE_STEP)
    assert result.returncode == 0, result.stderr[-2000:]
    assert "trained one step on jax" in result.stdout
