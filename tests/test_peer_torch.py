"""The PyTorch peer of experiments.bench_train is the project's U-Net and loss, not a lookalike."""

import keras
import numpy as np
import pytest

from dfseg_tf.models.unet import build_unet
from dfseg_tf.training.losses import bce_minus_log_dice

torch = pytest.importorskip(
    "torch", reason="PyTorch is not installed (the [bench] extra brings it): no peer to compare with"
)
peer_torch = pytest.importorskip("experiments.peer_torch")


def _copy_keras_weights(keras_model, peer):
    """Keras conv kernels (kh, kw, in, out) -> PyTorch (out, in, kh, kw), layer by layer."""
    keras_convs = [layer for layer in keras_model.layers if isinstance(layer, keras.layers.Conv2D)]
    peer_convs = [module for module in peer.modules() if isinstance(module, torch.nn.Conv2d)]
    assert len(keras_convs) == len(peer_convs)
    with torch.no_grad():
        for layer, module in zip(keras_convs, peer_convs):
            kernel, bias = (keras.ops.convert_to_numpy(weight) for weight in (layer.kernel, layer.bias))
            module.weight.copy_(torch.from_numpy(kernel.transpose(3, 2, 0, 1)))
            module.bias.copy_(torch.from_numpy(bias))


@pytest.mark.parametrize("architecture", ["unet", "unet_v1"])
def test_peer_has_the_parameters_shape_and_outputs_of_the_project_model(architecture):
    project = build_unet(architecture, input_shape=(32, 32, 3))
    peer = peer_torch.TinyUNet(architecture)
    assert sum(parameter.numel() for parameter in peer.parameters()) == project.count_params()

    images = np.random.default_rng(0).integers(0, 256, (2, 32, 32, 3), dtype=np.uint8)  # the input contract
    expected = keras.ops.convert_to_numpy(project(images))
    _copy_keras_weights(project, peer)
    with torch.no_grad():
        logits = peer(torch.from_numpy(images).permute(0, 3, 1, 2))
    assert logits.shape == (2, 1, 32, 32)  # NCHW of the project's (2, 32, 32, 1)
    probabilities = torch.sigmoid(logits).permute(0, 2, 3, 1).numpy()
    np.testing.assert_allclose(probabilities, expected, atol=1e-5)


def test_peer_loss_from_logits_equals_the_project_loss_on_probabilities():
    rng = np.random.default_rng(1)
    logits = rng.normal(scale=3.0, size=(2, 8, 8, 1)).astype(np.float32)
    masks = (rng.random((2, 8, 8, 1)) > 0.7).astype(np.float32)
    probabilities = 1 / (1 + np.exp(-logits))
    expected = float(keras.ops.convert_to_numpy(bce_minus_log_dice(masks, probabilities)))
    peer_loss = peer_torch.bce_minus_log_dice(torch.from_numpy(logits), torch.from_numpy(masks))
    assert float(peer_loss) == pytest.approx(expected, rel=1e-5)
