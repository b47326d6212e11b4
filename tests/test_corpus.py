"""The miniature corpus: real H.264 files, faithful layouts, planted truth."""

import av
import numpy as np
import pytest

from dfseg_tf.corpus import write_h264


def _gradient_frames(n, height=48, width=64):
    for i in range(n):
        frame = np.zeros((height, width, 3), np.uint8)
        frame[..., 0] = np.linspace(0, 255, width, dtype=np.uint8)[None, :]
        frame[..., 1] = (i * 15) % 256
        yield frame


def test_write_h264_writes_decodable_h264(tmp_path):
    path = write_h264(tmp_path / "sub" / "clip.mp4", _gradient_frames(6), fps=25.0)
    with av.open(str(path)) as container:
        stream = container.streams.video[0]
        assert stream.codec_context.name == "h264"
        assert (stream.width, stream.height) == (64, 48)
        assert stream.average_rate == 25
        decoded = [f.to_ndarray(format="rgb24") for f in container.decode(video=0)]
    assert len(decoded) == 6
    assert abs(int(decoded[3][..., 1].mean()) - 45) <= 3  # the content survives compression


@pytest.mark.parametrize("height,width", [(47, 64), (48, 63)])
def test_write_h264_rejects_odd_size_and_leaves_no_file(tmp_path, height, width):
    path = tmp_path / "odd.mp4"
    with pytest.raises(ValueError, match=r"odd.mp4: H.264 yuv420p needs even width and height"):
        write_h264(path, _gradient_frames(2, height, width))
    assert not path.exists()


def test_write_h264_rejects_frames_changing_size(tmp_path):
    frames = [np.zeros((48, 64, 3), np.uint8), np.zeros((32, 64, 3), np.uint8)]
    with pytest.raises(ValueError, match="frame 1 is 64x32, earlier frames were 64x48"):
        write_h264(tmp_path / "x.mp4", frames)
