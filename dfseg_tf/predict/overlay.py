"""Pictures a person can check: each face boxed by its verdict, the predicted region tinted.

Frames are drawn at a display size (longer side at most ``DISPLAY_LONG_SIDE``) and
written either as a short H.264 video of the sampled frames or as one contact-sheet
PNG. An image input always gives a PNG.
"""

import math
import pathlib

import cv2
import numpy as np

from dfseg_tf.extraction.video import downscale
from dfseg_tf.extraction.video_writer import write_h264
from dfseg_tf.predict.report import FrameResult

DISPLAY_LONG_SIDE = 960
OVERLAY_FPS = 4.0  # 32 sampled frames play in 8 seconds
SHEET_TILE_WIDTH = 320
REGION_OPACITY = 0.5

FAKE_RGB = (235, 40, 40)
REAL_RGB = (40, 200, 60)
REGION_RGB = (255, 0, 255)
TEXT_RGB = (255, 255, 255)
_FONT = cv2.FONT_HERSHEY_SIMPLEX


def display_copy(frame: np.ndarray) -> tuple[np.ndarray, float]:
    """A copy of ``frame`` at display size to draw on, and the factor from source pixels to it."""
    picture, factor = downscale(frame, DISPLAY_LONG_SIDE)
    return picture.copy(), factor


def annotate(picture: np.ndarray, factor: float, result: FrameResult, maps, decision_threshold: float) -> np.ndarray:
    """Draws a frame's faces on its display copy (in place) and returns it.

    Args:
      picture: the frame's display copy, from ``display_copy``.
      factor: source pixels to ``picture`` pixels, from ``display_copy``.
      result: the frame's faces, boxes in source pixels.
      maps: one probability map per face (any size; None for a classifier's faces);
        pixels above ``decision_threshold`` are tinted.
      decision_threshold: the frame rule's decision threshold t.
    """
    for face, prob_map in zip(result.faces, maps, strict=True):
        x0, y0, x1, y1 = (round(v * factor) for v in face.box)
        if prob_map is not None and x1 > x0 and y1 > y0:
            _tint_region(picture[y0:y1, x0:x1], prob_map > decision_threshold)
        colour = FAKE_RGB if face.fake else REAL_RGB
        cv2.rectangle(picture, (x0, y0), (x1 - 1, y1 - 1), colour, 2)
        _label(picture, f"{'FAKE' if face.fake else 'real'} {face.score:.2f}", (x0 + 4, y1 - 6), colour)
    verdict = "no face" if result.fake is None else ("FAKE" if result.fake else "real")
    _label(picture, f"frame {result.frame_index}: {verdict}", (8, 22), TEXT_RGB)
    return picture


def write_overlay(path_without_suffix, pictures: list[np.ndarray], *, as_video: bool, title: str) -> pathlib.Path:
    """Writes ``.mp4`` (``as_video``, more than one picture) or a ``.png`` sheet; returns its path."""
    stem = pathlib.Path(path_without_suffix)
    if as_video and len(pictures) > 1:
        return write_h264(stem.with_name(stem.name + ".overlay.mp4"), map(_even_sized, pictures), fps=OVERLAY_FPS)
    sheet = pictures[0] if len(pictures) == 1 else contact_sheet(pictures, title)
    path = stem.with_name(stem.name + ".overlay.png")
    if not cv2.imwrite(str(path), cv2.cvtColor(sheet, cv2.COLOR_RGB2BGR)):
        raise OSError(f"{path}: could not write the PNG")
    return path


def contact_sheet(pictures: list[np.ndarray], title: str) -> np.ndarray:
    """The pictures as a near-square grid of equal tiles under a title bar."""
    tiles = [_tile(picture) for picture in pictures]
    tile_height = max(tile.shape[0] for tile in tiles)
    columns = math.ceil(math.sqrt(len(tiles)))
    rows = math.ceil(len(tiles) / columns)
    title_height = 36
    sheet = np.zeros((title_height + rows * tile_height, columns * SHEET_TILE_WIDTH, 3), np.uint8)
    for position, tile in enumerate(tiles):
        row, column = divmod(position, columns)
        top, left = title_height + row * tile_height, column * SHEET_TILE_WIDTH
        sheet[top : top + tile.shape[0], left : left + tile.shape[1]] = tile
    _label(sheet, title, (8, 25), TEXT_RGB)
    return sheet


def _tint_region(patch: np.ndarray, prob_above: np.ndarray) -> None:
    height, width = patch.shape[:2]
    region = cv2.resize(prob_above.astype(np.uint8), (width, height), interpolation=cv2.INTER_NEAREST) > 0
    tinted = (1 - REGION_OPACITY) * patch[region] + REGION_OPACITY * np.array(REGION_RGB)
    patch[region] = tinted.astype(np.uint8)


def _label(picture: np.ndarray, text: str, origin, colour) -> None:
    """Text with a dark outline, readable on any background."""
    cv2.putText(picture, text, origin, _FONT, 0.5, (0, 0, 0), 3, cv2.LINE_AA)
    cv2.putText(picture, text, origin, _FONT, 0.5, colour, 1, cv2.LINE_AA)


def _tile(picture: np.ndarray) -> np.ndarray:
    height, width = picture.shape[:2]
    size = (SHEET_TILE_WIDTH, max(1, round(height * SHEET_TILE_WIDTH / width)))
    return cv2.resize(picture, size, interpolation=cv2.INTER_AREA)


def _even_sized(picture: np.ndarray) -> np.ndarray:
    """H.264 (yuv420p) needs even sides: drop a last odd row or column."""
    height, width = picture.shape[:2]
    return picture[: height - height % 2, : width - width % 2]
