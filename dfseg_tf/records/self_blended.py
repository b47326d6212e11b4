"""Examples of a ``self_blended`` build: each sampled real crop, and a self-blended fake of it.

The real videos are extracted as for any build (boxes from MTCNN, cached, skips
reported); each crop then gives two examples: itself, real with an empty mask, and a
fake blended from it (``dfseg_tf.extraction.self_blend``) whose mask is the blend's
support. The fake's random choices are seeded by ``(seed, its example key)``, so a
rebuild, local or on Beam, writes the same examples.
"""

import dataclasses

import numpy as np

from dfseg_tf.records.examples import example_key, tfds_example
from dfseg_tf.extraction.examples import FrameExample
from dfseg_tf.extraction.self_blend import BlendSettings, centred_face_box, landmarks_from_box, self_blend
from dfseg_tf.sources.entry import FAKE, VideoEntry

SOURCE_PREFIX = "self_blended/"


class SelfBlender:
    """Turns the extracted frames of a real video into real and self-blended examples.

    Picklable for Beam: the face detector that places the blend on the five landmarks is
    created on first use, in the worker.

    Args:
      seed: seed of every blend, together with the fake example's key.
      margin: the crop margin of the build (``ExtractionConfig.margin``): where MTCNN
        finds no face in a crop, the landmarks are placed in the face box it implies.
      settings: ranges of the blend's random choices.
    """

    def __init__(self, seed: int, margin: float, settings: BlendSettings = BlendSettings()):
        self.seed = seed
        self.margin = margin
        self.settings = settings
        self._detector = None

    def keyed_examples(self, video_number: int, entry: VideoEntry, frames) -> list[tuple[int, dict]]:
        """``(key, example)`` pairs: the real frame under an even video number, its fake under the next odd one."""
        fake_entry = self_blended_entry(entry)
        examples = []
        for frame, points in zip(frames, self.landmarks([frame.image for frame in frames])):
            fake_key = example_key(2 * video_number + 1, frame.frame_index)
            image, mask = self_blend(frame.image, points, np.random.default_rng([self.seed, fake_key]), self.settings)
            examples.append((example_key(2 * video_number, frame.frame_index), tfds_example(entry, frame)))
            examples.append((fake_key, tfds_example(fake_entry, FrameExample(frame.frame_index, image, mask, frame.box))))
        return examples

    def landmarks(self, crops) -> list[np.ndarray]:
        """The five points of each crop's face: MTCNN's, else the typical ones in the implied face box."""
        if not crops:
            return []
        if self._detector is None:
            from dfseg_tf.extraction.faces import FaceDetector  # imports TensorFlow

            self._detector = FaceDetector()
        fallback = landmarks_from_box(centred_face_box(crops[0].shape[0], self.margin))
        return [fallback if points is None else points for points in self._detector.five_points(crops)]


def self_blended_entry(entry: VideoEntry) -> VideoEntry:
    """The fake made of a real video: its own id and source, the real video as its original."""
    return dataclasses.replace(
        entry, video_id=SOURCE_PREFIX + entry.video_id, label=FAKE, source=SOURCE_PREFIX + entry.source,
        original_id=entry.video_id, original_path=entry.path,
    )
