"""The study's baseline frame classifiers: Xception and EfficientNet-B7.

Xception follows FaceForensics++ (an ImageNet backbone with a new one-unit head on
299x299 faces); EfficientNet-B7 follows the DFDC winner (380x380 faces). Both are
``keras.applications`` backbones without their top, then global average pooling,
dropout, ``Dense(1)`` and a float32 sigmoid: the probability that the face is fake.

Every classifier takes the uint8 face crop the records store (256x256, what
``dfseg_tf.data`` yields and ``dfseg predict`` cuts), resizes it to its backbone's
size and does the backbone's own preprocessing inside the model, so training,
evaluation and prediction see the same pixels and a saved ``.keras`` file needs
nothing else to be applied.

ImageNet weights cannot be downloaded at run time. ``weights=PATH`` loads a local
copy of the weights file Keras distributes for the backbone without its top;
``weights=None`` trains the backbone from scratch.
"""

import dataclasses
import pathlib

import keras

from dfseg_tf.errors import first_line
from dfseg_tf.method import FACE_SIZE
from dfseg_tf.models.card import CLASSIFIER, ModelCard

# Side of the face crops the records store, which every model takes.
CROP_SIZE = FACE_SIZE

ARCHITECTURES = ("xception", "efficientnet_b7")

# ImageNet channel statistics EfficientNet's published weights were trained with.
_IMAGENET_MEAN_RGB = (0.485, 0.456, 0.406)
_IMAGENET_STDDEV_RGB = (0.229, 0.224, 0.225)


class WeightsFileError(ValueError):
    """A ``weights`` file is missing or does not hold the backbone's weights."""


@dataclasses.dataclass(frozen=True)
class _Backbone:
    constructor: object
    default_size: int
    min_size: int
    weights_file: str
    weights_url: str


_BACKBONES = {
    "xception": _Backbone(
        constructor=keras.applications.Xception,
        default_size=299,
        min_size=71,
        weights_file="xception_weights_tf_dim_ordering_tf_kernels_notop.h5",
        weights_url="https://storage.googleapis.com/tensorflow/keras-applications/xception/",
    ),
    "efficientnet_b7": _Backbone(
        constructor=keras.applications.EfficientNetB7,
        default_size=380,
        min_size=32,
        weights_file="efficientnetb7_notop.h5",
        weights_url="https://storage.googleapis.com/keras-applications/",
    ),
}


def default_input_size(architecture: str) -> int:
    """The side of the face crop ``architecture`` was published with (299 or 380)."""
    return _backbone_spec(architecture).default_size


def build_classifier(
    architecture: str = "xception",
    *,
    input_size: int | None = None,
    weights: str | pathlib.Path | None = None,
    dropout_rate: float = 0.5,
    crop_size: int = CROP_SIZE,
) -> keras.Model:
    """Builds a frame classifier: face in, probability of fake out.

    Args:
      architecture: ``"xception"`` or ``"efficientnet_b7"``.
      input_size: side the backbone runs at; defaults to the architecture's own
        (299 for Xception, 380 for EfficientNet-B7). Keras' minimum is 71 for
        Xception and 32 for EfficientNet-B7.
      weights: path of a local Keras weights file for the backbone without its
        top (as ``keras.applications`` distributes it), or ``None`` to start the
        backbone from scratch.
      dropout_rate: dropout before the final unit (0.5, as Keras' EfficientNet-B7 head).
      crop_size: side of the square uint8 face crop the model takes.

    Returns:
      A ``keras.Model`` mapping uint8 crops ``(batch, crop_size, crop_size, 3)`` to
      float32 probabilities ``(batch, 1)``; inside, an antialiased bilinear resize to
      ``input_size`` and the backbone's pixel scaling.

    Raises:
      ValueError: an unknown architecture or an input size below the minimum.
      WeightsFileError: ``weights`` is missing or is not this backbone's weights.
    """
    spec = _backbone_spec(architecture)
    input_size = spec.default_size if input_size is None else input_size
    if input_size < spec.min_size:
        raise ValueError(
            f"input_size={input_size} is below {architecture}'s minimum of {spec.min_size}"
        )
    image = keras.Input((crop_size, crop_size, 3), dtype="uint8", name="image")
    x = keras.layers.Resizing(input_size, input_size, antialias=True, name="resize_to_backbone")(image)
    backbone = spec.constructor(
        include_top=False, weights=None, input_shape=(input_size, input_size, 3)
    )
    if weights is not None:
        _load_backbone_weights(backbone, architecture, pathlib.Path(weights))
    if architecture == "xception":
        # keras.applications.xception.preprocess_input: pixels scaled to [-1, 1].
        x = keras.layers.Rescaling(2.0 / 255.0, offset=-1.0, name="to_minus_one_one")(x)
    else:
        # EfficientNet takes 0..255 and rescales and normalises inside the backbone.
        _set_imagenet_normalization(backbone)
    x = backbone(x)
    x = keras.layers.GlobalAveragePooling2D(name="avg_pool")(x)
    x = keras.layers.Dropout(dropout_rate, name="dropout")(x)
    logit = keras.layers.Dense(1, name="logit")(x)
    probability = keras.layers.Activation("sigmoid", dtype="float32", name="fake_probability")(
        logit
    )
    return keras.Model(image, probability, name=f"{architecture}_classifier")


def classifier_card(
    architecture: str,
    *,
    weights: str | pathlib.Path | None = None,
    trained_on: str = "",
    crop_size: int = CROP_SIZE,
) -> ModelCard:
    """The ``ModelCard`` for a classifier built with the same arguments.

    The card's ``input_size`` is the crop the model takes: the backbone's own size is
    inside the model. The frame rule for a classifier is ``p > threshold`` with the
    study's 0.5.
    """
    _backbone_spec(architecture)  # an unknown architecture fails here, as in build_classifier
    return ModelCard(
        kind=CLASSIFIER,
        architecture=architecture,
        input_size=crop_size,
        trained_on=trained_on,
        weights="scratch" if weights is None else str(weights),
    )


def _backbone_spec(architecture: str) -> _Backbone:
    if architecture not in _BACKBONES:
        raise ValueError(
            f"architecture={architecture!r} is not one of {', '.join(ARCHITECTURES)}"
        )
    return _BACKBONES[architecture]


def check_weights_file(architecture: str, path: str | pathlib.Path) -> None:
    """Raises WeightsFileError, saying what to download, when ``path`` is not a file.

    Scripts call it before any slow work so a wrong path fails at once.
    """
    spec = _backbone_spec(architecture)
    if not pathlib.Path(path).is_file():
        raise WeightsFileError(
            f"{path}: weights file not found; download {spec.weights_file} from "
            f"{spec.weights_url} and pass its path to --weights, or leave --weights out "
            "to train from scratch"
        )


def _load_backbone_weights(backbone: keras.Model, architecture: str, path: pathlib.Path) -> None:
    spec = _BACKBONES[architecture]
    check_weights_file(architecture, path)
    try:
        backbone.load_weights(path)
    except (ValueError, OSError, KeyError) as error:
        raise WeightsFileError(
            f"{path}: not {architecture} backbone weights without top "
            f"(expected {spec.weights_file}): {first_line(error)}"
        ) from error


def _set_imagenet_normalization(backbone: keras.Model) -> None:
    """Gives EfficientNet's stem ``Normalization`` layer the ImageNet statistics.

    ``keras.applications`` applies the correct statistics only when it downloads
    the weights itself; a weights file loaded by path (or no file) leaves the
    layer with the file's uncorrected variance (or none), so set them here.
    """
    normalization = next(
        layer for layer in backbone.layers if isinstance(layer, keras.layers.Normalization)
    )
    normalization.adapt_mean.assign(_IMAGENET_MEAN_RGB)
    normalization.adapt_variance.assign([s**2 for s in _IMAGENET_STDDEV_RGB])
    normalization.finalize_state()
