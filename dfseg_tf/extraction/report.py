"""Skipped videos and frames: one line of reason each, counted, written next to the output."""

import collections
import dataclasses
import json
import pathlib


class VideoSkipped(Exception):
    """Raised by extraction code for a video that cannot be used; the message is the reason."""


class FrameSkipped(Exception):
    """Raised by extraction code for one frame that cannot be used (the rest of its video can)."""


@dataclasses.dataclass
class SkipReport:
    """Collects the videos a long job skipped, so one bad file is never fatal."""

    processed: int = 0
    skipped: list[dict] = dataclasses.field(default_factory=list)
    skipped_frames: list[dict] = dataclasses.field(default_factory=list)

    def add_processed(self) -> None:
        self.processed += 1

    def add_skipped(self, video_id: str, path, reason: str) -> None:
        self.skipped.append({"video_id": video_id, "path": str(path), "reason": reason})

    def add_skipped_frame(self, video_id: str, frame_index: int, reason: str) -> None:
        """One frame of a used video left out (its video still counts as processed)."""
        self.skipped_frames.append({"video_id": video_id, "frame_index": frame_index, "reason": reason})

    def merge(self, other: "SkipReport") -> None:
        self.processed += other.processed
        self.skipped.extend(other.skipped)
        self.skipped_frames.extend(other.skipped_frames)

    def reason_counts(self) -> dict[str, int]:
        """Skips counted by the reason's kind (the text before the first colon)."""
        return _kinds(self.skipped)

    def summary_line(self) -> str:
        kinds = ", ".join(f"{n} {kind}" for kind, n in sorted(self.reason_counts().items()))
        line = f"{self.processed} videos used, {len(self.skipped)} skipped"
        line = f"{line} ({kinds})" if kinds else line
        if self.skipped_frames:
            frame_kinds = ", ".join(f"{n} {kind}" for kind, n in sorted(_kinds(self.skipped_frames).items()))
            line += f"; {len(self.skipped_frames)} frames of used videos skipped ({frame_kinds})"
        return line

    def to_dict(self) -> dict:
        return {
            "processed": self.processed,
            "skipped_count": len(self.skipped),
            "skipped_by_reason": self.reason_counts(),
            "skipped": self.skipped,
            "skipped_frames_count": len(self.skipped_frames),
            "skipped_frames_by_reason": _kinds(self.skipped_frames),
            "skipped_frames": self.skipped_frames,
        }

    def write_json(self, path) -> None:
        pathlib.Path(path).write_text(json.dumps(self.to_dict(), indent=2))


def _kinds(skips: list[dict]) -> dict[str, int]:
    return dict(collections.Counter(skip["reason"].split(":")[0] for skip in skips))
