"""Turn a planned video into files: H.264 video, planted truth, and any planted fault."""

import dataclasses
import pathlib

import numpy as np

from dfseg_tf.corpus import scene as scenes
from dfseg_tf.corpus.spec import CorpusSpec
from dfseg_tf.corpus.truth import PlantedVideo, save_planted
from dfseg_tf.extraction.video_writer import write_h264

TRUNCATED_FRACTION = 0.5  # of the bytes kept: the moov atom is at the end, so nothing decodes


@dataclasses.dataclass(frozen=True)
class VideoPlan:
    """Everything needed to write one video and describe it in the manifest."""

    video_id: str
    path: str
    label: str
    original_id: str
    scene: scenes.Scene
    width: int
    height: int
    n_frames: int
    fps: float
    crf: int
    manipulation: scenes.Manipulation | None = None
    first_frame: int = 0
    offset: tuple[float, float] = (0.0, 0.0)
    fault: str | None = None
    notes: tuple[str, ...] = ()
    crop: tuple[int, int] = (0, 0)  # pixels cut from each side (x, y) of the rendered frame
    times: tuple[int, ...] | None = None  # scene time of each frame (None: from first_frame on)

    @property
    def kind(self) -> str:
        return self.manipulation.kind if self.manipulation else "none"

    @property
    def rendered_size(self) -> tuple[int, int]:
        """(width, height) of the scene rendered: the written frame plus what ``crop`` cuts away."""
        return self.width + 2 * self.crop[0], self.height + 2 * self.crop[1]


def original_plan(video_id: str, path: str, scene: scenes.Scene, spec: CorpusSpec, *,
                  portrait: bool = False, fps: float | None = None, notes: tuple[str, ...] = ()) -> VideoPlan:
    """A real video of the scene, landscape or portrait, at the spec's (or the given) rate."""
    width, height = (spec.height, spec.width) if portrait else (spec.width, spec.height)
    return VideoPlan(
        video_id=video_id, path=path, label="real", original_id=video_id, scene=scene,
        width=width, height=height, n_frames=spec.n_frames, fps=fps or spec.fps, crf=spec.crf,
        notes=notes + (("portrait",) if portrait else ()),
    )


def fake_plan(original: VideoPlan, video_id: str, path: str, manipulation: scenes.Manipulation | None,
              **changes) -> VideoPlan:
    """A fake of ``original``: the same scene, frames and size unless ``changes`` say otherwise.

    ``manipulation=None`` makes a fake whose face was never changed (it is encoded at a
    slightly different quality, so only compression noise differs).
    """
    if manipulation is None:
        changes.setdefault("crf", original.crf + 1)
    return dataclasses.replace(
        original, video_id=video_id, path=path, label="fake", original_id=original.video_id,
        manipulation=manipulation, **changes,
    )


def write_plan(root: pathlib.Path, plan: VideoPlan) -> PlantedVideo:
    """Write the video (unless its fault is that it is missing) and, for a fake, its truth."""
    if plan.fault != "missing file":
        _write_video(root, plan)
    return PlantedVideo(
        video_id=plan.video_id, path=plan.path, label=plan.label, original_id=plan.original_id,
        kind=plan.kind, region=plan.manipulation.region if plan.manipulation else None,
        fault=plan.fault, n_frames=plan.n_frames, width=plan.width, height=plan.height,
        fps=plan.fps, notes=plan.notes, style=plan.manipulation.style if plan.manipulation else None,
    )


def _write_video(root: pathlib.Path, plan: VideoPlan) -> None:
    """Render, cut ``plan.crop`` away and encode; a fake's truth stays in the rendered (the
    original's) frame, where the builder compares a cropped fake with its original."""
    packed_masks = []
    width, height = plan.rendered_size
    frames = scenes.render(
        plan.scene, width=width, height=height, n_frames=plan.n_frames,
        manipulation=plan.manipulation, first_frame=plan.first_frame, offset=plan.offset, times=plan.times,
    )
    cut_x, cut_y = plan.crop
    window = (slice(cut_y, height - cut_y), slice(cut_x, width - cut_x))

    def frames_keeping_masks():
        for frame, changed in frames:
            packed_masks.append(np.packbits(changed, axis=-1))
            yield frame[window]

    path = write_h264(root / plan.path, frames_keeping_masks(), fps=plan.fps, crf=plan.crf)
    if plan.label == "fake":
        save_planted(root, plan.video_id, kind=plan.kind,
                     region=plan.manipulation.region if plan.manipulation else None,
                     width=width, packed_masks=packed_masks, face_boxes=_face_boxes(plan))
    if plan.fault == "unreadable":
        path.write_bytes(path.read_bytes()[: int(path.stat().st_size * TRUNCATED_FRACTION)])


def _face_boxes(plan: VideoPlan):
    if not plan.scene.people:
        return []
    person = plan.scene.people[0]
    width, height = plan.rendered_size
    times = plan.times if plan.times is not None else range(plan.first_frame, plan.first_frame + plan.n_frames)
    return [scenes.face_box_in_frame(person, t, width=width, height=height, offset=plan.offset) for t in times]
