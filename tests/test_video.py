"""Probing, sampling and streaming decode of real H.264 files."""

import av
import numpy as np
import pytest

from dfseg_tf.corpus import write_h264
from dfseg_tf.extraction.report import VideoSkipped
from dfseg_tf.extraction.video import iter_frames, probe, sample_frame_indices


def _numbered_frames(n, height=48, width=64):
    """Frame i is flat grey at level 10 * i, so a decoded frame tells its index."""
    for i in range(n):
        yield np.full((height, width, 3), 10 * i, np.uint8)


@pytest.fixture(scope="module")
def clip(tmp_path_factory):
    return write_h264(tmp_path_factory.mktemp("video") / "clip.mp4", _numbered_frames(20), fps=25.0)


def _frame_level(frame):
    return round(float(frame.mean()) / 10)


def test_sample_frame_indices_are_evenly_spaced_and_include_both_ends():
    assert sample_frame_indices(10, 4) == [0, 3, 6, 9]
    indices = sample_frame_indices(300, 32)
    assert len(indices) == 32 and indices[0] == 0 and indices[-1] == 299
    assert all(0 < b - a <= 10 for a, b in zip(indices, indices[1:]))


def test_sample_frame_indices_takes_all_frames_of_a_short_video():
    assert sample_frame_indices(5, 32) == [0, 1, 2, 3, 4]
    assert sample_frame_indices(0, 32) == []
    assert sample_frame_indices(7, 1) == [0]
    with pytest.raises(ValueError, match="at least 1, got 0"):
        sample_frame_indices(10, 0)


def test_probe_reads_size_length_and_rate(clip):
    info = probe(clip)
    assert (info.width, info.height, info.n_frames, info.fps) == (64, 48, 20, 25.0)


def test_probe_counts_frames_when_the_container_does_not_say(clip, tmp_path):
    mkv = tmp_path / "clip.mkv"
    with av.open(str(clip)) as source, av.open(str(mkv), "w", format="matroska") as target:
        stream = target.add_stream_from_template(source.streams.video[0])
        for packet in source.demux(source.streams.video[0]):
            if packet.dts is not None:
                packet.stream = stream
                target.mux(packet)
    with av.open(str(mkv)) as container:
        assert container.streams.video[0].frames == 0  # the header is silent
    assert probe(mkv).n_frames == 20


def test_iter_frames_yields_only_requested_frames_in_order(clip):
    decoded = list(iter_frames(clip, [12, 3, 3, 0, 19]))
    assert [index for index, _ in decoded] == [0, 3, 12, 19]
    assert all(_frame_level(frame) == index for index, frame in decoded)
    assert all(frame.shape == (48, 64, 3) and frame.dtype == np.uint8 for _, frame in decoded)
    assert list(iter_frames(clip, [])) == []


def test_frame_beyond_the_end_is_unreadable(clip):
    with pytest.raises(VideoSkipped, match=r"^unreadable: .*clip.mp4: ends after 20 frames, frame 25"):
        list(iter_frames(clip, [2, 25]))


@pytest.mark.parametrize("keep", [0.5, 0.0])
def test_truncated_or_empty_file_is_unreadable(clip, tmp_path, keep):
    data = clip.read_bytes()
    broken = tmp_path / "broken.mp4"
    broken.write_bytes(data[: int(len(data) * keep)])
    with pytest.raises(VideoSkipped, match=r"^unreadable: .*broken.mp4: "):
        probe(broken)
    with pytest.raises(VideoSkipped, match=r"^unreadable: .*broken.mp4: "):
        list(iter_frames(broken, [0]))


def test_file_that_is_not_a_video_is_unreadable(tmp_path):
    text = tmp_path / "notes.mp4"
    text.write_text("not a video\n" * 50)
    with pytest.raises(VideoSkipped, match="^unreadable: .*notes.mp4"):
        probe(text)
