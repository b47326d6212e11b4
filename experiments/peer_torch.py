"""The study's U-Nets written in plain PyTorch: the peer ``experiments.bench_train`` times.

The network is the one ``dfseg_tf.models.unet`` builds, layer for layer (same filters,
nearest x2 upsampling then conv2x2 'same', He-uniform kernels, zero biases, no
normalisation), in PyTorch's NCHW layout; it returns logits, and ``sigmoid`` gives the
project's probabilities. The loss is the project's BCE - ln(Dice) (batch-global soft
Dice, smoothing 1) written the way a PyTorch user would: the cross-entropy from the
logits, all of it in float32.

Two ways of running it, as a PyTorch user would tune it:

- ``eager``: float32, default (NCHW) memory layout, no compilation;
- ``compiled``: ``torch.compile``, bfloat16 autocast and channels_last memory layout.

Both train with fused Adam at the project's learning rate, 1e-4; the network has no
dropout or normalisation, so train and eval modes are the same.
"""

import dataclasses

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from dfseg_tf.method import NVIDIA_LEARNING_RATE
from dfseg_tf.models.unet import ARCHITECTURES
from dfseg_tf.training.losses import SMOOTHING



@dataclasses.dataclass(frozen=True)
class PeerVariant:
    """How the peer runs: compiled or not, autocast dtype, memory layout."""

    compiled: bool
    autocast_dtype: torch.dtype | None
    channels_last: bool

    @property
    def policy(self) -> str:
        return "float32" if self.autocast_dtype is None else f"autocast {str(self.autocast_dtype).removeprefix('torch.')}"


VARIANTS = {
    "eager": PeerVariant(compiled=False, autocast_dtype=None, channels_last=False),
    "compiled": PeerVariant(compiled=True, autocast_dtype=torch.bfloat16, channels_last=True),
}


def _conv(in_channels, out_channels, kernel_size, padding="same"):
    conv = nn.Conv2d(in_channels, out_channels, kernel_size, padding=padding)
    nn.init.kaiming_uniform_(conv.weight, nonlinearity="relu")  # He-uniform: sqrt(6 / fan_in)
    nn.init.zeros_(conv.bias)
    return conv


def conv_block(in_channels, filters, second_filters=None):
    """Two conv3x3 + ReLU; the second has ``second_filters`` (default ``filters``)."""
    return nn.Sequential(
        _conv(in_channels, filters, 3), nn.ReLU(),
        _conv(filters, second_filters or filters, 3), nn.ReLU(),
    )


def upsample_conv(in_channels, filters):
    """Nearest-neighbour x2 upsampling, then conv2x2 ('same': one zero row and column
    after the image, as Keras pads) + ReLU."""
    return nn.Sequential(
        nn.Upsample(scale_factor=2, mode="nearest"), nn.ZeroPad2d((0, 1, 0, 1)),
        _conv(in_channels, filters, 2, padding=0), nn.ReLU(),
    )


class TinyUNet(nn.Module):
    """``unet`` or ``unet_v1`` of METHOD.md section 3: uint8 (N, 3, H, W) -> logits (N, 1, H, W)."""

    def __init__(self, architecture="unet"):
        super().__init__()
        spec = ARCHITECTURES[architecture]
        self.input_block = conv_block(3, spec.input_filters)
        self.down_blocks = nn.ModuleList()
        channels = spec.input_filters
        for filters in spec.down_filters:
            self.down_blocks.append(conv_block(channels, filters))
            channels = filters
        bottleneck = spec.bottleneck_filters
        self.bottleneck = nn.Sequential(conv_block(channels, bottleneck), upsample_conv(bottleneck, bottleneck // 2))
        channels = bottleneck // 2
        self.up_blocks = nn.ModuleList()
        for filters in reversed(spec.down_filters):  # input: concat[x, skip of `filters` channels]
            self.up_blocks.append(nn.Sequential(
                conv_block(channels + filters, filters, second_filters=filters // 2),
                upsample_conv(filters // 2, filters // 2),
            ))
            channels = filters // 2
        self.output_block = conv_block(channels + spec.input_filters, spec.output_filters)
        self.logits = _conv(spec.output_filters, 1, 1)

    def forward(self, images):
        """uint8 crops, scaled to [0, 1] here as the project's models do inside them."""
        input_skip = self.input_block(images.float() * (1.0 / 255.0))
        x = F.max_pool2d(input_skip, 2)
        skips = []
        for block in self.down_blocks:
            skip = block(x)
            skips.append(skip)
            x = F.max_pool2d(skip, 2)
        x = self.bottleneck(x)
        for block, skip in zip(self.up_blocks, reversed(skips)):
            x = block(torch.cat([x, skip], dim=1))
        return self.logits(self.output_block(torch.cat([x, input_skip], dim=1)))


def bce_minus_log_dice(logits, masks, *, smoothing=SMOOTHING):
    """The project's loss from logits, in float32: mean BCE - ln(batch-global soft Dice)."""
    logits = logits.float()
    probabilities = torch.sigmoid(logits)
    dice = (2 * (masks * probabilities).sum() + smoothing) / (masks.sum() + probabilities.sum() + smoothing)
    return F.binary_cross_entropy_with_logits(logits, masks) - torch.log(dice)


def device() -> torch.device:
    return torch.device("cuda" if torch.cuda.is_available() else "cpu")


class Peer:
    """One model of one variant on the device, with its training and inference steps."""

    def __init__(self, architecture, variant: PeerVariant):
        self.target = device()
        self.variant = variant
        self.memory_format = torch.channels_last if variant.channels_last else torch.contiguous_format
        self.model = TinyUNet(architecture).to(self.target, memory_format=self.memory_format)
        self.optimizer = torch.optim.Adam(self.model.parameters(), lr=NVIDIA_LEARNING_RATE, fused=True)
        self.forward = torch.compile(self.model) if variant.compiled else self.model

    @property
    def parameters(self) -> int:
        return sum(parameter.numel() for parameter in self.model.parameters())

    def synchronize(self):
        """Waits for the device's queued work (timing must not stop before it ends)."""
        if self.target.type == "cuda":
            torch.cuda.synchronize()

    def _autocast(self):
        dtype = self.variant.autocast_dtype
        return torch.autocast(self.target.type, dtype=dtype or torch.float32, enabled=dtype is not None)

    def host_tensor(self, array):
        """A host NHWC numpy batch -> a host NCHW tensor in the variant's memory layout,
        pinned where there is a GPU, so that each step's copy to the device is one DMA."""
        tensor = torch.from_numpy(array).permute(0, 3, 1, 2).contiguous(memory_format=self.memory_format)
        return tensor.pin_memory() if self.target.type == "cuda" else tensor

    def _to_device(self, tensor):
        return tensor.to(self.target, non_blocking=True)

    def train_step(self, images, masks):
        """One Adam step on host tensors (from :meth:`host_tensor`)."""
        with self._autocast():
            logits = self.forward(self._to_device(images))
        loss = bce_minus_log_dice(logits, self._to_device(masks))
        self.optimizer.zero_grad(set_to_none=True)
        loss.backward()
        self.optimizer.step()
        return loss

    @torch.inference_mode()
    def predict(self, images) -> np.ndarray:
        """Probabilities of a host tensor's images back on the host, (N, H, W, 1) float32,
        as Keras' ``predict_on_batch`` returns them."""
        with self._autocast():
            logits = self.forward(self._to_device(images))
        return torch.sigmoid(logits.float()).permute(0, 2, 3, 1).cpu().numpy()
