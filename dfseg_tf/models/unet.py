"""The study's two U-Nets, after NVIDIA's UNet_Industrial ``tinyUNet``.

Both networks map a uint8 RGB face crop of shape (H, W, 3), as the records store it,
to a per-pixel probability (H, W, 1) that the pixel was manipulated; the first layer
scales the pixels to [0, 1], so every caller feeds the same crop. H and W must be divisible by
2 ** (number of pooling steps): 16 for ``unet``, 32 for ``unet_v1``. Unlike NVIDIA's
model, inputs are not padded to 512 inside the network.

Every stage uses conv3x3 + ReLU pairs; upsampling is nearest-neighbour x2 followed by
a conv2x2 ('same') + ReLU; there is no batch normalisation and no dropout; kernels are
He-uniform and biases start at zero. The last convolution gives logits, followed by
a sigmoid that is always float32 so mixed-precision models output float32 maps.
"""

import dataclasses

import keras


@dataclasses.dataclass(frozen=True)
class UNetSpec:
    """The filter counts of one U-Net configuration.

    Attributes:
      input_filters: filters of the input block (and of the output block's convs
        unless ``output_filters`` says otherwise).
      down_filters: filters of each down block, top to bottom.
      bottleneck_filters: filters of the bottleneck's two convolutions.
      output_filters: filters of the output block's two convolutions.
    """

    input_filters: int
    down_filters: tuple[int, ...]
    bottleneck_filters: int
    output_filters: int

    @property
    def n_pools(self) -> int:
        return 1 + len(self.down_filters)


ARCHITECTURES = {
    # 5 steps (input block + 3 down blocks + bottleneck): exactly NVIDIA's tinyUNet.
    "unet": UNetSpec(32, (32, 64, 128), 256, 32),
    # 6 steps, starting from 16 features.
    "unet_v1": UNetSpec(16, (16, 32, 64, 128), 256, 16),
}


def _conv(filters, kernel_size, *, name, activation="relu"):
    return keras.layers.Conv2D(
        filters,
        kernel_size,
        padding="same",
        activation=activation,
        kernel_initializer="he_uniform",
        bias_initializer="zeros",
        name=name,
    )


def apply_conv_block(x, filters, *, name, second_filters=None):
    """Two conv3x3 + ReLU; the second has ``second_filters`` (default ``filters``)."""
    x = _conv(filters, 3, name=f"{name}_conv1")(x)
    return _conv(second_filters or filters, 3, name=f"{name}_conv2")(x)


def apply_upsample_conv(x, filters, *, name):
    """Nearest-neighbour x2 upsampling, then conv2x2 ('same') + ReLU."""
    x = keras.layers.UpSampling2D(2, interpolation="nearest", name=f"{name}_upsample")(x)
    return _conv(filters, 2, name=f"{name}_upconv")(x)


def apply_down_block(x, filters, *, name):
    """Conv block, then 2x2 max pooling. Returns ``(pooled, skip)``."""
    skip = apply_conv_block(x, filters, name=name)
    pooled = keras.layers.MaxPooling2D(2, name=f"{name}_pool")(skip)
    return pooled, skip


def apply_bottleneck(x, filters, *, name):
    """Conv block at the lowest resolution, then upsampling to ``filters // 2``."""
    x = apply_conv_block(x, filters, name=name)
    return apply_upsample_conv(x, filters // 2, name=name)


def apply_up_block(x, skip, filters, *, name):
    """concat[x, skip] -> conv3x3(filters) -> conv3x3(filters/2) -> upsample-conv(filters/2)."""
    x = keras.layers.Concatenate(name=f"{name}_concat")([x, skip])
    x = apply_conv_block(x, filters, second_filters=filters // 2, name=name)
    return apply_upsample_conv(x, filters // 2, name=name)


def apply_output_block(x, skip, filters, *, name):
    """concat[x, skip] -> two conv3x3(filters) -> conv1x1 logits -> float32 sigmoid."""
    x = keras.layers.Concatenate(name=f"{name}_concat")([x, skip])
    x = apply_conv_block(x, filters, name=name)
    logits = _conv(1, 1, activation=None, name=f"{name}_logits")(x)
    return keras.layers.Activation("sigmoid", dtype="float32", name=f"{name}_sigmoid")(logits)


def build_unet(architecture="unet", input_shape=(256, 256, 3)) -> keras.Model:
    """Builds ``unet`` or ``unet_v1`` (METHOD.md section 3) for ``input_shape``.

    On (256, 256, 3) ``unet`` has 1,850,881 parameters and ``unet_v1`` 1,832,257.
    The layers follow the global dtype policy (``keras.config.set_dtype_policy``);
    the output is float32 whatever the policy.
    """
    if architecture not in ARCHITECTURES:
        raise ValueError(
            f"architecture={architecture!r} is not one of {sorted(ARCHITECTURES)}"
        )
    spec = ARCHITECTURES[architecture]
    _check_input_shape(input_shape, spec)

    inputs = keras.Input(shape=input_shape, dtype="uint8", name="image")
    x = keras.layers.Rescaling(1.0 / 255.0, name="to_unit_range")(inputs)
    x, input_skip = apply_down_block(x, spec.input_filters, name="input_block")
    skips = []
    for index, filters in enumerate(spec.down_filters, start=1):
        x, skip = apply_down_block(x, filters, name=f"down{index}")
        skips.append(skip)
    x = apply_bottleneck(x, spec.bottleneck_filters, name="bottleneck")
    for index, (filters, skip) in reversed(list(enumerate(zip(spec.down_filters, skips), start=1))):
        x = apply_up_block(x, skip, filters, name=f"up{index}")
    outputs = apply_output_block(x, input_skip, spec.output_filters, name="output_block")
    return keras.Model(inputs, outputs, name=architecture)


def _check_input_shape(input_shape, spec):
    if len(input_shape) != 3 or input_shape[-1] != 3:
        raise ValueError(f"input_shape={input_shape!r} must be (height, width, 3)")
    multiple = 2**spec.n_pools
    if any(side is None or side % multiple for side in input_shape[:2]):
        raise ValueError(
            f"input_shape={input_shape!r}: height and width must be multiples of {multiple} "
            f"({spec.n_pools} poolings)"
        )
