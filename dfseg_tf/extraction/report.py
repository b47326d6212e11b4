"""Skipped videos: one line of reason each, counted, written next to the output."""

import collections
import dataclasses
import json
import pathlib


class VideoSkipped(Exception):
    """Raised by extraction code for a video that cannot be used; the message is the reason."""


@dataclasses.dataclass
class SkipReport:
    """Collects the videos a long job skipped, so one bad file is never fatal."""

    processed: int = 0
    skipped: list[dict] = dataclasses.field(default_factory=list)

    def add_processed(self) -> None:
        self.processed += 1

    def add_skipped(self, video_id: str, path, reason: str) -> None:
        self.skipped.append({"video_id": video_id, "path": str(path), "reason": reason})

    def merge(self, other: "SkipReport") -> None:
        self.processed += other.processed
        self.skipped.extend(other.skipped)

    def reason_counts(self) -> dict[str, int]:
        """Skips counted by the reason's kind (the text before the first colon)."""
        return dict(collections.Counter(s["reason"].split(":")[0] for s in self.skipped))

    def summary_line(self) -> str:
        kinds = ", ".join(f"{n} {kind}" for kind, n in sorted(self.reason_counts().items()))
        line = f"{self.processed} videos used, {len(self.skipped)} skipped"
        return f"{line} ({kinds})" if kinds else line

    def to_dict(self) -> dict:
        return {
            "processed": self.processed,
            "skipped_count": len(self.skipped),
            "skipped_by_reason": self.reason_counts(),
            "skipped": self.skipped,
        }

    def write_json(self, path) -> None:
        pathlib.Path(path).write_text(json.dumps(self.to_dict(), indent=2))
