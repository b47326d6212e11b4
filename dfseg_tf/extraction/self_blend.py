"""Self-blended fakes: a real face blended with an altered copy of itself (Shiohara & Yamasaki, CVPR 2022).

The only evidence of the fake is what any face swap leaves: a blend boundary and a colour
or sharpness mismatch inside a face-shaped region. The region is known exactly, so the
mask needs no original and no difference threshold. Pure NumPy and OpenCV; every random
choice is drawn from the ``numpy.random.Generator`` the caller passes, so a blend is a
function of the image, its landmarks and the generator's seed.

Landmarks are MTCNN's five points, as an (5, 2) array of (x, y) in image pixels, in
``dfseg_tf.extraction.faces.FIVE_POINTS`` order.
"""

import dataclasses

import cv2
import numpy as np

# MTCNN's five points as fractions of its face box (x, y, width, height), averaged over
# the two photographs of dfseg_tf.corpus.scene (their landmarks were measured with MTCNN).
_POINTS_IN_FACE_BOX = np.array([[0.26, 0.35], [0.75, 0.36], [0.51, 0.58], [0.28, 0.73], [0.74, 0.73]], np.float32)
# MTCNN face boxes are about 0.8 as wide as tall on frontal faces (0.78 and 0.79 on those photographs).
_FACE_ASPECT = 0.8
_HULL_VERTICES = 24
_BLEND_RATIOS = (0.25, 0.5, 0.75, 1.0, 1.0, 1.0)  # SBI's: full blends most often


@dataclasses.dataclass(frozen=True)
class BlendSettings:
    """How far each random choice may go.

    Attributes:
      support_threshold: blend weights above it form the stored mask (the blend's support;
        below it a pixel is changed by less than a tenth of the altered copy's difference).
      axis_scale: the face ellipse's half-axes, as multiples of the eye distance (across)
        and of the eye-to-mouth distance (along), before jitter.
      deform: each hull vertex's radius is multiplied by a factor in ``1 +- deform``.
      blur_fraction: range of the Gaussian blur's sigma, as a fraction of the face width.
      hue_shift, saturation_scale, brightness_shift, contrast_scale: colour jitter ranges
        (hue in OpenCV's 0-180 units, brightness in 0-255 units).
      sharpen_or_blur_sigma: range of the sigma of the blur (or of the unsharp mask).
      scale_range: the altered copy's zoom about the face centre.
      shift_fraction: its largest shift, as a fraction of the image side.
    """

    support_threshold: float = 0.1
    axis_scale: tuple[float, float] = (1.05, 1.45)
    deform: float = 0.12
    blur_fraction: tuple[float, float] = (0.03, 0.10)
    hue_shift: float = 6.0
    saturation_scale: float = 0.15
    brightness_shift: float = 20.0
    contrast_scale: float = 0.15
    sharpen_or_blur_sigma: tuple[float, float] = (0.5, 1.5)
    scale_range: tuple[float, float] = (0.95, 1.05)
    shift_fraction: float = 0.03


def landmarks_from_box(face_xywh) -> np.ndarray:
    """Typical positions of the five points in a face box: the fallback where MTCNN gives none."""
    x, y, w, h = (float(v) for v in face_xywh)
    return (np.asarray([x, y], np.float32) + _POINTS_IN_FACE_BOX * np.asarray([w, h], np.float32)).astype(np.float32)


def centred_face_box(size: int, margin: float) -> tuple[float, float, float, float]:
    """The face box inside a square crop of ``size`` cut by ``square_box`` with ``margin``:
    centred, its longer (vertical) side ``size / (1 + 2 margin)``."""
    height = size / (1 + 2 * margin)
    width = height * _FACE_ASPECT
    return ((size - width) / 2, (size - height) / 2, width, height)


def face_region(shape, landmarks: np.ndarray, rng: np.random.Generator, settings: BlendSettings = BlendSettings()):
    """A soft face-shaped weight map in [0, 1], (H, W) float32.

    An ellipse placed on the five points (centred between eyes and mouth, tilted with the
    eye line, half-axes proportional to the eye distance and the eye-to-mouth distance,
    each jittered), drawn as a polygon whose vertices are moved in and out at random,
    filled, and blurred with a random sigma, so the boundary is soft and never the same.
    """
    points = np.asarray(landmarks, np.float32).reshape(5, 2)
    eyes, mouth = points[:2].mean(axis=0), points[3:].mean(axis=0)
    across = float(np.linalg.norm(points[1] - points[0]))
    along = float(np.linalg.norm(mouth - eyes))
    if across < 1 or along < 1:
        raise ValueError(f"landmarks too close together to place a face: {points.tolist()}")
    centre = (eyes + mouth) / 2 + (mouth - eyes) * rng.uniform(0.0, 0.3)
    half_axes = np.array([settings.axis_scale[0] * across, settings.axis_scale[1] * along]) * rng.uniform(0.85, 1.1, 2)
    tilt = np.arctan2(points[1, 1] - points[0, 1], points[1, 0] - points[0, 0])
    angles = np.linspace(0, 2 * np.pi, _HULL_VERTICES, endpoint=False)
    radii = 1 + rng.uniform(-settings.deform, settings.deform, _HULL_VERTICES)
    local = np.stack([np.cos(angles) * half_axes[0], np.sin(angles) * half_axes[1]], axis=1) * radii[:, None]
    rotation = np.array([[np.cos(tilt), -np.sin(tilt)], [np.sin(tilt), np.cos(tilt)]])
    polygon = local @ rotation.T + centre
    region = np.zeros(shape[:2], np.float32)
    cv2.fillPoly(region, [np.round(polygon).astype(np.int32)], 1.0)
    sigma = rng.uniform(*settings.blur_fraction) * 2 * half_axes[0]
    return cv2.GaussianBlur(region, (0, 0), sigmaX=max(sigma, 0.5))


def altered_copy(image: np.ndarray, rng: np.random.Generator, settings: BlendSettings = BlendSettings()) -> np.ndarray:
    """The image with its colour and sharpness jittered (float32, 0-255)."""
    hsv = cv2.cvtColor(image, cv2.COLOR_RGB2HSV).astype(np.float32)
    hsv[..., 0] = (hsv[..., 0] + rng.uniform(-settings.hue_shift, settings.hue_shift)) % 180
    hsv[..., 1] *= 1 + rng.uniform(-settings.saturation_scale, settings.saturation_scale)
    rgb = cv2.cvtColor(np.clip(hsv, 0, [180, 255, 255]).astype(np.uint8), cv2.COLOR_HSV2RGB).astype(np.float32)
    mean = rgb.mean()
    rgb = (rgb - mean) * (1 + rng.uniform(-settings.contrast_scale, settings.contrast_scale)) + mean
    rgb += rng.uniform(-settings.brightness_shift, settings.brightness_shift)
    blurred = cv2.GaussianBlur(rgb, (0, 0), sigmaX=rng.uniform(*settings.sharpen_or_blur_sigma))
    if rng.random() < 0.5:
        rgb = blurred
    else:  # unsharp mask
        rgb = rgb + (rgb - blurred) * rng.uniform(0.5, 1.5)
    return np.clip(rgb, 0, 255).astype(np.float32)


def shifted_copy(image: np.ndarray, centre, rng: np.random.Generator, settings: BlendSettings = BlendSettings()):
    """The image zoomed a little about ``centre`` and shifted a few pixels (float32)."""
    height, width = image.shape[:2]
    scale = rng.uniform(*settings.scale_range)
    shift = rng.uniform(-settings.shift_fraction, settings.shift_fraction, 2) * np.array([width, height])
    matrix = cv2.getRotationMatrix2D((float(centre[0]), float(centre[1])), 0.0, scale)
    matrix[:, 2] += shift
    return cv2.warpAffine(image, matrix, (width, height), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REFLECT)


def self_blend(
    image: np.ndarray, landmarks: np.ndarray, rng: np.random.Generator, settings: BlendSettings = BlendSettings()
) -> tuple[np.ndarray, np.ndarray]:
    """A self-blended fake of an RGB uint8 face image, and the support of its blend.

    The source is a colour/sharpness-jittered copy of the image and the target the image
    itself, or (at random, half the time) the other way round; the source is then zoomed
    and shifted a little and blended into the target inside ``face_region``, with a blend
    ratio drawn from (0.25, 0.5, 0.75, 1, 1, 1).

    Returns:
      (fake, mask): the (H, W, 3) uint8 fake, and the (H, W, 1) uint8 {0, 1} mask of the
      pixels whose blend weight exceeds ``settings.support_threshold``.
    """
    if image.ndim != 3 or image.shape[2] != 3 or image.dtype != np.uint8:
        raise ValueError(f"self_blend needs an (H, W, 3) uint8 image, got {image.shape} {image.dtype}")
    original = image.astype(np.float32)
    altered = altered_copy(image, rng, settings)
    source, target = (altered, original) if rng.random() < 0.5 else (original, altered)
    points = np.asarray(landmarks, np.float32).reshape(5, 2)
    source = shifted_copy(source, points.mean(axis=0), rng, settings)
    weight = face_region(image.shape, points, rng, settings) * rng.choice(_BLEND_RATIOS)
    blended = target + (source - target) * weight[..., None]
    fake = np.clip(np.round(blended), 0, 255).astype(np.uint8)
    mask = (weight > settings.support_threshold).astype(np.uint8)[..., None]
    return fake, mask
