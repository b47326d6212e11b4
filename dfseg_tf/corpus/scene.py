"""Render moving people from real photographs, with known manipulated regions.

Two real photographs ship with installed packages: scikit-image's astronaut and
matplotlib's Grace Hopper. Each "identity" is one of them flipped, tinted, scaled and
set on its own background, so a corpus has several people whose faces a real face
detector (MTCNN) finds. A person moves slowly (pan and zoom) from frame to frame.

A manipulation is an elliptical, feathered region of the face (whole face, mouth, eyes,
nose, lower face) whose pixels are replaced by an altered copy, in one of three styles
whose per-pixel differences look like real deepfakes' (measured on FaceForensics++ c23
pairs, see docs/METHOD.md "The miniature corpus"): ``swap``, the face of a donor identity
aligned on the five facial landmarks and colour-matched to the target, as face-swap
pipelines do; ``warp``, the person's own face moved by a smooth displacement of a few
pixels (an expression change, as Face2Face and NeuralTextures make); ``texture``, a
low-amplitude change of colour and fine texture. Each also keeps a small colour residual.
The planted truth is where the blend weight exceeds 0.5, as the official FF++ masks mark
the whole manipulated region, also where the change happens to be faint.
"""

import dataclasses
import functools

import cv2
import matplotlib
import numpy as np
import skimage.data
from matplotlib import image as mpl_image

from dfseg_tf.extraction.faces import FIVE_POINTS

REGIONS = ("whole", "mouth", "eyes", "nose", "lower")
STYLES = ("swap", "warp", "texture")
IDENTITIES_CACHED = 16

# Face box (x, y, width, height) and landmarks of each photograph, measured once with
# mtcnn 1.0's MTCNN().detect_faces; "left" is the left of the image, as in MTCNN.
_PHOTO_FACES = {
    "astronaut": {
        "box": (182, 64, 83, 107),
        "left_eye": (204, 100), "right_eye": (245, 102), "nose": (224, 126),
        "mouth_left": (202, 139), "mouth_right": (244, 140),
    },
    "grace_hopper": {
        "box": (178, 110, 173, 220),
        "left_eye": (220, 190), "right_eye": (308, 186), "nose": (268, 237),
        "mouth_left": (232, 277), "mouth_right": (304, 273),
    },
}
PHOTOS = tuple(_PHOTO_FACES)


@dataclasses.dataclass(frozen=True)
class Identity:
    """A photograph made into a distinct-looking person (all fields hashable)."""

    photo: str
    flip: bool
    tint: tuple[float, float, float]
    scale: float


@dataclasses.dataclass(frozen=True)
class Motion:
    """Where a person is: frame-relative, so one scene renders at any frame size.

    ``centre`` is the face centre as fractions of (width, height); ``face_height`` a
    fraction of the frame's shorter side; ``pan`` moves the centre by that fraction of
    the shorter side per frame; ``zoom`` grows the face by that fraction per frame.
    """

    centre: tuple[float, float]
    face_height: float
    pan: tuple[float, float]
    zoom: float


@dataclasses.dataclass(frozen=True)
class Person:
    identity: Identity
    motion: Motion


@dataclasses.dataclass(frozen=True)
class Scene:
    """A background and the people in front of it; ``people[0]`` is in front."""

    background: tuple[tuple[int, int, int], tuple[int, int, int]]
    texture_seed: int
    people: tuple[Person, ...]


@dataclasses.dataclass(frozen=True)
class Manipulation:
    """What a fake changes on ``people[0]``: a region, replaced by an altered copy.

    ``style`` is ``swap`` (needs a ``donor``; ``strength`` is how far the pixels move from
    the person's towards the colour-matched donor's, as a generated face lies between
    the two), ``warp`` (moved by ``warp`` times the face height at most) or ``texture``;
    every style adds ``colour_shift`` and a coarse texture of standard deviation
    ``texture`` (0-255 units) drawn from ``texture_seed``.
    """

    region: str
    donor: Identity | None
    colour_shift: tuple[float, float, float]
    texture_seed: int
    style: str = "texture"
    texture: float = 4.0
    warp: float = 0.0
    strength: float = 1.0

    def __post_init__(self):
        if self.region not in REGIONS:
            raise ValueError(f"region must be one of {REGIONS}, got {self.region!r}")
        if self.style not in STYLES:
            raise ValueError(f"style must be one of {STYLES}, got {self.style!r}")
        if (self.style == "swap") != (self.donor is not None):
            raise ValueError(f"a donor goes with style 'swap' and only with it, got style {self.style!r}")

    @property
    def kind(self) -> str:
        return "whole" if self.region == "whole" else "partial"


@dataclasses.dataclass(frozen=True)
class Face:
    """A prepared photograph: float RGB image, face box and landmarks in its pixels."""

    image: np.ndarray
    box: tuple[float, float, float, float]
    landmarks: dict[str, tuple[float, float]]

    @property
    def centre(self) -> tuple[float, float]:
        x, y, w, h = self.box
        return x + w / 2, y + h / 2


# ---------------------------------------------------------------- random choices


def random_identity(rng: np.random.Generator) -> Identity:
    return Identity(
        photo=PHOTOS[int(rng.integers(len(PHOTOS)))],
        flip=bool(rng.integers(2)),
        tint=tuple(float(t) for t in rng.uniform(0.8, 1.15, 3)),
        scale=float(rng.uniform(0.92, 1.08)),
    )


def random_motion(rng: np.random.Generator, *, centre=None, face_height=0.45) -> Motion:
    if centre is None:
        centre = (rng.uniform(0.4, 0.6), rng.uniform(0.42, 0.5))
    return Motion(
        centre=(float(centre[0]), float(centre[1])),
        face_height=float(face_height),
        pan=tuple(float(p) for p in rng.uniform(-0.003, 0.003, 2)),
        zoom=float(rng.uniform(-0.004, 0.004)),
    )


def random_scene(rng: np.random.Generator, *, n_people=1, face_height=0.45) -> Scene:
    """A scene with ``n_people`` (0: background only, 2: side by side, the left one bigger)."""
    if n_people == 1:
        people = (Person(random_identity(rng), random_motion(rng, face_height=face_height)),)
    else:
        layout = ((0.3, 0.45, face_height * 0.95), (0.74, 0.5, face_height * 0.75))[:n_people]
        people = tuple(
            Person(random_identity(rng), random_motion(rng, centre=(x, y), face_height=h))
            for x, y, h in layout
        )
    colours = rng.integers(30, 226, (2, 3))
    return Scene(
        background=tuple(tuple(int(c) for c in colour) for colour in colours),
        texture_seed=int(rng.integers(2**31)),
        people=people,
    )


# Amplitudes of each style, chosen so that the blurred distance between a fake and its
# original, inside the face, spreads like that of real FF++ c23 pairs (docs/METHOD.md).
COLOUR_RESIDUAL = (3.0, 10.0)  # length of the colour shift every style keeps
TEXTURE_STD = {"swap": (2.0, 4.0), "warp": (2.0, 4.0), "texture": (6.0, 11.0)}
WARP_OF_FACE_HEIGHT = (0.025, 0.05)  # largest displacement of a warp
SWAP_STRENGTH = (0.4, 0.7)


def random_manipulation(rng: np.random.Generator, region: str, *, donor: Identity | None = None,
                        style: str | None = None) -> Manipulation:
    """A change of real deepfakes' strength: a swap when a ``donor`` is given, else a warp
    or a texture change (drawn unless ``style`` says)."""
    if style is None:
        style = "swap" if donor is not None else str(rng.choice(["warp", "texture"]))
    direction = rng.normal(size=3)
    shift = direction / np.linalg.norm(direction) * rng.uniform(*COLOUR_RESIDUAL)
    return Manipulation(
        region=region,
        donor=donor,
        colour_shift=tuple(float(s) for s in shift),
        texture_seed=int(rng.integers(2**31)),
        style=style,
        texture=float(rng.uniform(*TEXTURE_STD[style])),
        warp=float(rng.uniform(*WARP_OF_FACE_HEIGHT)) if style == "warp" else 0.0,
        strength=float(rng.uniform(*SWAP_STRENGTH)) if style == "swap" else 1.0,
    )


# ---------------------------------------------------------------- rendering


def render(scene: Scene, *, width: int, height: int, n_frames: int,
           manipulation: Manipulation | None = None, first_frame: int = 0,
           offset: tuple[float, float] = (0.0, 0.0), times: tuple[int, ...] | None = None):
    """Yield ``(frame, changed)`` per frame: (H, W, 3) uint8 RGB and the (H, W) bool truth.

    ``first_frame`` starts the motion later and ``offset`` moves everything by that
    fraction of (width, height): together they make a fake that is not frame-aligned.
    ``times`` replaces ``first_frame`` and ``n_frames`` with the scene time of every frame
    (e.g. a clip that runs to its end and then backwards).
    """
    background = _background(scene.background, scene.texture_seed, width, height)
    layers = [_layer(person, manipulation if i == 0 else None) for i, person in enumerate(scene.people)]
    for t in times if times is not None else range(first_frame, first_frame + n_frames):
        frame = background.copy()
        changed = np.zeros((height, width), bool)
        for i in reversed(range(len(layers))):  # people[0] last, so in front
            photo, portrait_alpha, change_alpha = layers[i]
            matrix = _placement(scene.people[i], photo, t, width, height, offset)
            alpha = _warp(portrait_alpha, matrix, width, height)[..., None]
            frame = frame * (1 - alpha) + _warp(photo.image, matrix, width, height) * alpha
            if change_alpha is not None:
                changed = (_warp(change_alpha, matrix, width, height) * alpha[..., 0]) > 0.5
        yield np.clip(frame + 0.5, 0, 255).astype(np.uint8), changed


def face_box_in_frame(person: Person, t: int, *, width: int, height: int,
                      offset: tuple[float, float] = (0.0, 0.0)) -> tuple[int, int, int, int]:
    """The person's face box (x0, y0, x1, y1) in frame ``t``, clipped to the frame."""
    face = prepared_face(person.identity)
    matrix = _placement(person, face, t, width, height, offset)
    x, y, w, h = face.box
    corners = np.array([[x, y, 1.0], [x + w, y + h, 1.0]]) @ matrix.T
    (x0, y0), (x1, y1) = np.round(corners).astype(int)
    return max(x0, 0), max(y0, 0), min(x1, width), min(y1, height)


@functools.lru_cache(maxsize=IDENTITIES_CACHED)
def prepared_face(identity: Identity) -> Face:
    """The identity's photograph, flipped and tinted, with its landmarks moved along."""
    image = _photo_pixels(identity.photo).astype(np.float32)
    facts = _PHOTO_FACES[identity.photo]
    landmarks = {name: tuple(map(float, facts[name])) for name in FIVE_POINTS}
    x, y, w, h = map(float, facts["box"])
    if identity.flip:
        image = image[:, ::-1]
        last = image.shape[1] - 1
        landmarks = {name: (last - px, py) for name, (px, py) in landmarks.items()}
        landmarks["left_eye"], landmarks["right_eye"] = landmarks["right_eye"], landmarks["left_eye"]
        landmarks["mouth_left"], landmarks["mouth_right"] = landmarks["mouth_right"], landmarks["mouth_left"]
        x = last - (x + w)
    image = np.clip(image * np.asarray(identity.tint, np.float32), 0, 255)
    return Face(np.ascontiguousarray(image), (x, y, w, h), landmarks)


def region_alpha(face: Face, region: str, *, feather: float = 0.3) -> np.ndarray:
    """Feathered ellipse over a face region, in the photo's pixels; exactly 0.5 on the ellipse."""
    centre, axes = _region_ellipse(face, region)
    return _ellipse_alpha(face.image.shape[:2], centre, axes, feather)


def _region_ellipse(face: Face, region: str):
    _, _, w, h = face.box
    lm = {name: np.asarray(p) for name, p in face.landmarks.items()}
    mouth = (lm["mouth_left"] + lm["mouth_right"]) / 2
    eyes = (lm["left_eye"] + lm["right_eye"]) / 2
    ellipses = {
        "whole": (np.asarray(face.centre) + (0, 0.04 * h), (0.46 * w, 0.54 * h)),
        "mouth": (mouth, (0.32 * w, 0.13 * h)),
        "eyes": (eyes, (0.42 * w, 0.12 * h)),
        "nose": (lm["nose"], (0.14 * w, 0.17 * h)),
        "lower": ((lm["nose"] + mouth) / 2 + (0, 0.04 * h), (0.36 * w, 0.24 * h)),
    }
    return ellipses[region]


def _ellipse_alpha(shape, centre, axes, feather) -> np.ndarray:
    ys, xs = np.ogrid[: shape[0], : shape[1]]
    radius = np.sqrt(((xs - centre[0]) / axes[0]) ** 2 + ((ys - centre[1]) / axes[1]) ** 2)
    inside = np.clip((1 + feather - radius) / (2 * feather), 0, 1)
    return (inside * inside * (3 - 2 * inside)).astype(np.float32)  # smoothstep


def _layer(person: Person, manipulation: Manipulation | None):
    """What to paint for one person: the (possibly manipulated) photo and two alphas."""
    face = prepared_face(person.identity)
    _, _, w, h = face.box
    cx, cy = face.centre
    portrait = _ellipse_alpha(face.image.shape[:2], (cx, cy + 0.45 * h), (1.15 * w, 1.45 * h), 0.12)
    if manipulation is None:
        return face, portrait, None
    change = region_alpha(face, manipulation.region)
    altered = _altered_pixels(face, manipulation, change)
    blended = face.image * (1 - change[..., None]) + altered * change[..., None]
    return dataclasses.replace(face, image=blended.astype(np.float32)), portrait, change


def _altered_pixels(face: Face, manipulation: Manipulation, change: np.ndarray) -> np.ndarray:
    rng = np.random.default_rng(manipulation.texture_seed)
    if manipulation.style == "swap":
        donor = _colour_matched(_aligned_donor(face, manipulation.donor), face.image, change > 0.5)
        base = face.image + manipulation.strength * (donor - face.image)
    elif manipulation.style == "warp":
        base = _warped(face, manipulation.warp, rng)
    else:
        base = face.image
    height, width = face.image.shape[:2]
    coarse = rng.normal(0, manipulation.texture, (max(height // 8, 2), max(width // 8, 2), 3)).astype(np.float32)
    texture = cv2.resize(coarse, (width, height), interpolation=cv2.INTER_CUBIC)
    return np.clip(base + np.asarray(manipulation.colour_shift, np.float32) + texture, 0, 255)


def _colour_matched(donor: np.ndarray, target: np.ndarray, region: np.ndarray) -> np.ndarray:
    """The donor with each channel's mean and spread inside ``region`` moved to the target's
    (the colour correction of face-swap pipelines; what is left is the face's structure)."""
    if not region.any():
        return donor
    donor_mean, donor_std = donor[region].mean(axis=0), donor[region].std(axis=0) + 1e-3
    target_mean, target_std = target[region].mean(axis=0), target[region].std(axis=0)
    return (donor - donor_mean) * (target_std / donor_std) + target_mean


def _warped(face: Face, amplitude: float, rng: np.random.Generator) -> np.ndarray:
    """The face moved by a smooth random displacement of at most ``amplitude`` face heights."""
    height, width = face.image.shape[:2]
    coarse = rng.uniform(-1, 1, (2, 4, 4)).astype(np.float32)
    largest = amplitude * face.box[3]
    dx, dy = (cv2.resize(c, (width, height), interpolation=cv2.INTER_CUBIC) * largest for c in coarse)
    xs, ys = np.meshgrid(np.arange(width, dtype=np.float32), np.arange(height, dtype=np.float32))
    return cv2.remap(face.image, xs + dx, ys + dy, cv2.INTER_LINEAR, borderMode=cv2.BORDER_REFLECT)


def _aligned_donor(face: Face, donor: Identity) -> np.ndarray:
    """The donor's photo moved so its five landmarks land on this face's (a face swap)."""
    donor_face = prepared_face(donor)
    source = np.array([donor_face.landmarks[n] for n in FIVE_POINTS], np.float32)
    target = np.array([face.landmarks[n] for n in FIVE_POINTS], np.float32)
    matrix, _ = cv2.estimateAffinePartial2D(source, target, method=cv2.LMEDS)
    height, width = face.image.shape[:2]
    return cv2.warpAffine(donor_face.image, matrix, (width, height), flags=cv2.INTER_LINEAR,
                          borderMode=cv2.BORDER_REFLECT)


def _placement(person: Person, face: Face, t, width, height, offset) -> np.ndarray:
    """The 2x3 affine matrix taking photo pixels to frame pixels at frame ``t``."""
    motion = person.motion
    short = min(width, height)
    face_pixels = motion.face_height * person.identity.scale * short * (1 + motion.zoom * t)
    scale = face_pixels / face.box[3]
    centre_x = (motion.centre[0] + offset[0]) * width + motion.pan[0] * short * t
    centre_y = (motion.centre[1] + offset[1]) * height + motion.pan[1] * short * t
    fx, fy = face.centre
    return np.array([[scale, 0, centre_x - scale * fx], [0, scale, centre_y - scale * fy]], np.float64)


def _warp(image: np.ndarray, matrix, width, height) -> np.ndarray:
    return cv2.warpAffine(image, matrix, (width, height), flags=cv2.INTER_LINEAR,
                          borderMode=cv2.BORDER_CONSTANT, borderValue=0)


@functools.lru_cache(maxsize=4)
def _background(colours, texture_seed, width, height) -> np.ndarray:
    """A vertical gradient between two colours with soft blotches, as float RGB."""
    top, bottom = (np.asarray(c, np.float32) for c in colours)
    ramp = np.linspace(0, 1, height, dtype=np.float32)[:, None, None]
    gradient = np.broadcast_to(top * (1 - ramp) + bottom * ramp, (height, width, 3))
    coarse = np.random.default_rng(texture_seed).normal(0, 14, (6, 8, 3)).astype(np.float32)
    blotches = cv2.resize(coarse, (width, height), interpolation=cv2.INTER_CUBIC)
    background = np.clip(gradient + blotches, 0, 255)
    background.flags.writeable = False
    return background


@functools.cache
def _photo_pixels(photo: str) -> np.ndarray:
    if photo == "astronaut":
        return skimage.data.astronaut()
    path = f"{matplotlib.get_data_path()}/sample_data/grace_hopper.jpg"
    return np.asarray(mpl_image.imread(path))[..., :3]
