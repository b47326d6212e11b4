"""`dfseg predict` on real H.264 videos and images, real faces (MTCNN) and real saved Keras models."""

import csv
import json
import math
import pathlib
import subprocess
import sys

import av
import cv2
import keras
import matplotlib.cbook
import numpy as np
import pytest
import skimage.data

from dfseg_tf.cli import main
from dfseg_tf.corpus import write_h264
from dfseg_tf.extraction import ExtractionConfig, default_detector, extract_video, iter_frames
from dfseg_tf.models.card import CLASSIFIER, SEGMENTATION, ModelCard
from dfseg_tf.models.unet import build_unet
from dfseg_tf.predict.config import PredictConfig
from dfseg_tf.predict.inputs import IMAGE, VIDEO, collect_inputs
from dfseg_tf.predict.model import FaceModel
from dfseg_tf.predict.predictor import Predictor
from dfseg_tf.predict.runner import output_stems
from dfseg_tf.sources.entry import REAL, TRAIN, VideoEntry

N_FRAMES = "4"
CONSTANT_MAP_VALUE = 0.5  # sigmoid(0): what the constant segmentation model outputs everywhere
CLASSIFIER_P = 0.7


# ---------------------------------------------------------------- fixtures: models


def _save(model: keras.Model, card: ModelCard, path: pathlib.Path) -> pathlib.Path:
    model.save(path)
    card.save(path)
    return path


def _constant_output_model(input_size: int, *, per_pixel: bool, probability: float) -> keras.Model:
    """A model whose every output is ``probability``: its verdicts are known in advance."""
    inputs = keras.Input((input_size, input_size, 3))
    bias = keras.initializers.Constant(math.log(probability / (1 - probability)))
    if per_pixel:
        x = inputs
        layer = keras.layers.Conv2D(1, 1, kernel_initializer="zeros", bias_initializer=bias, activation="sigmoid")
    else:
        x = keras.layers.GlobalAveragePooling2D()(inputs)
        layer = keras.layers.Dense(1, kernel_initializer="zeros", bias_initializer=bias, activation="sigmoid")
    return keras.Model(inputs, layer(x))


@pytest.fixture(scope="module")
def models(tmp_path_factory):
    root = tmp_path_factory.mktemp("models")
    return {
        # Card decision threshold 0.4 < 0.5 everywhere: every face is fake unless --decision-threshold (or its alias --threshold) overrides it.
        "constant": _save(
            _constant_output_model(64, per_pixel=True, probability=CONSTANT_MAP_VALUE),
            ModelCard(kind=SEGMENTATION, architecture="constant", input_size=64, decision_threshold=0.4),
            root / "constant.keras",
        ),
        "classifier": _save(
            _constant_output_model(64, per_pixel=False, probability=CLASSIFIER_P),
            ModelCard(kind=CLASSIFIER, architecture="constant", input_size=64, decision_threshold=0.5),
            root / "classifier.keras",
        ),
        "unet": _save(
            build_unet("unet", input_shape=(256, 256, 3)),
            ModelCard(kind=SEGMENTATION, architecture="unet", input_size=256),
            root / "unet.keras",
        ),
    }


# ---------------------------------------------------------------- fixtures: media


def _astronaut(size: int) -> np.ndarray:
    return cv2.resize(skimage.data.astronaut(), (size, size), interpolation=cv2.INTER_AREA)


def _grace_hopper(size: int) -> np.ndarray:
    path = matplotlib.cbook.get_sample_data("grace_hopper.jpg", asfileobj=False)
    image = cv2.cvtColor(cv2.imread(str(path)), cv2.COLOR_BGR2RGB)
    return cv2.resize(image[:512], (size, size), interpolation=cv2.INTER_AREA)


def _moving_astronaut_frames(n: int, width=384, height=288, size=220):
    face = _astronaut(size)
    for t in range(n):
        frame = np.full((height, width, 3), 90, np.uint8)
        x, y = 40 + 3 * t, 30 + t
        frame[y : y + size, x : x + size] = face
        yield frame


def _write_rgb_image(path: pathlib.Path, image: np.ndarray) -> pathlib.Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    assert cv2.imwrite(str(path), cv2.cvtColor(image, cv2.COLOR_RGB2BGR))
    return path


@pytest.fixture(scope="module")
def media(tmp_path_factory):
    root = tmp_path_factory.mktemp("media")
    video = write_h264(root / "clip.mp4", _moving_astronaut_frames(12), fps=25.0)
    truncated = root / "truncated.mp4"
    truncated.write_bytes(video.read_bytes()[: video.stat().st_size // 2])
    not_a_video = root / "notes.mp4"
    not_a_video.write_text("this is a text file, not a video\n")
    empty = root / "empty"
    empty.mkdir()
    return {
        "video": video,
        "two_faces": _write_rgb_image(root / "two_faces.jpg", np.concatenate([_astronaut(256), _grace_hopper(256)], 1)),
        "no_face": _write_rgb_image(root / "coffee.png", skimage.data.coffee()),
        "truncated": truncated,
        "not_a_video": not_a_video,
        "empty": empty,
    }


def _predict(*args) -> int:
    return main(["predict", "--frames", N_FRAMES, *map(str, args)])


def _report(output: pathlib.Path, input_path: pathlib.Path) -> dict:
    return json.loads((output / f"{input_path.name}.json").read_text())


def _summary(output: pathlib.Path) -> list[dict]:
    with (output / "summary.csv").open() as file:
        return list(csv.DictReader(file))


def _decoded_frames(path) -> list[np.ndarray]:
    with av.open(str(path)) as container:
        assert container.streams.video[0].codec_context.name == "h264"
        return [frame.to_ndarray(format="rgb24") for frame in container.decode(video=0)]


# ---------------------------------------------------------------- whole runs


def test_video_report_summary_and_overlay(tmp_path, models, media):
    assert _predict(media["video"], "--model", models["constant"], "--output", tmp_path) == 0

    report = _report(tmp_path, media["video"])
    assert (report["status"], report["verdict"], report["fake_fraction"]) == ("ok", "fake", 1.0)
    assert report["decision_threshold"] == 0.4  # from the model card
    assert report["score"] == pytest.approx(CONSTANT_MAP_VALUE)  # above 0.4: fake
    assert [frame["frame_index"] for frame in report["frames"]] == [0, 3, 7, 11]  # evenly spaced over 12
    for frame in report["frames"]:
        (face,) = frame["faces"]
        x0, y0, x1, y1 = face["box"]
        assert x1 - x0 == y1 - y0 > 60 and 0 <= x0 and 0 <= y0 and x1 <= 384 and y1 <= 288  # square, inside
        assert face["score"] == pytest.approx(CONSTANT_MAP_VALUE) and face["fake"] and frame["fake"]
    assert report["seconds"] > 0 and set(report["stage_seconds"]) == {"decode", "detect", "model", "overlay"}
    # The astronaut moves right by 3 px a frame: so do the boxes.
    first, last = report["frames"][0]["faces"][0]["box"], report["frames"][-1]["faces"][0]["box"]
    assert last[0] - first[0] == pytest.approx(33, abs=8)

    (row,) = _summary(tmp_path)
    assert row["path"] == str(media["video"]) and row["status"] == "ok" and row["verdict"] == "fake"
    assert float(row["fake_fraction"]) == 1.0 and float(row["seconds"]) > 0 and row["reason"] == ""

    overlay = _decoded_frames(report["overlay"])
    assert len(overlay) == 4 and overlay[0].shape == (288, 384, 3)
    x0, y0, x1, y1 = report["frames"][0]["faces"][0]["box"]
    inside = overlay[0][y0 + 10 : y1 - 20, x0 + 10 : x1 - 10].reshape(-1, 3).astype(int)
    red, green, blue = np.median(inside, axis=0)
    assert red > green + 60 and blue > green + 60  # the predicted region is tinted magenta


def test_frames_without_a_face_are_reported_but_not_counted(tmp_path, models):
    frames = list(_moving_astronaut_frames(12))
    for frame in frames[6:]:
        frame[:] = 90  # the person has left
    video = write_h264(tmp_path / "leaves.mp4", frames)
    assert _predict(video, "--model", models["constant"], "--output", tmp_path, "--overlay", "none") == 0
    report = _report(tmp_path, video)
    assert [len(frame["faces"]) for frame in report["frames"]] == [1, 1, 0, 0]
    assert [frame["fake"] for frame in report["frames"]] == [True, True, None, None]
    assert (report["frames_with_face"], report["fake_fraction"], report["verdict"]) == (2, 1.0, "fake")


def test_threshold_flag_overrides_the_card(tmp_path, models, media):
    assert _predict(media["video"], "--model", models["constant"], "--output", tmp_path, "--threshold", "0.6") == 0
    report = _report(tmp_path, media["video"])
    assert (report["verdict"], report["fake_fraction"], report["decision_threshold"]) == ("real", 0.0, 0.6)
    assert all(not face["fake"] for frame in report["frames"] for face in frame["faces"])
    assert report["score"] == pytest.approx(CONSTANT_MAP_VALUE)  # the same maps, now below 0.6


def test_decision_threshold_study_takes_the_study_value(tmp_path, models, media):
    study_unet = tmp_path / "unet.keras"
    study_unet.write_bytes(pathlib.Path(models["constant"]).read_bytes())
    card = ModelCard.load(models["constant"])
    card.architecture = "unet"
    card.save(study_unet)
    assert _predict(media["video"], "--model", str(study_unet), "--output", tmp_path / "out",
                    "--decision-threshold", "study") == 0
    assert _report(tmp_path / "out", media["video"])["decision_threshold"] == 0.95  # the study's Unet t
    with pytest.raises(SystemExit):
        _predict(media["video"], "--model", str(study_unet), "--output", tmp_path / "bad", "--threshold", "half")


def test_image_with_two_faces_judges_every_face(tmp_path, models, media):
    image = media["two_faces"]
    assert _predict(image, "--model", models["constant"], "--output", tmp_path, "--overlay", "sheet") == 0
    report = _report(tmp_path, image)
    (frame,) = report["frames"]
    boxes = sorted(face["box"] for face in frame["faces"])
    assert len(boxes) == 2
    assert boxes[0][2] <= 256 <= boxes[1][0]  # one face on each photograph
    assert report["verdict"] == "fake" and report["kind"] == "image"
    picture = cv2.imread(report["overlay"])
    assert report["overlay"].endswith(".png") and picture.shape == (256, 512, 3)


def test_classifier_gives_one_probability_per_face(tmp_path, models, media):
    assert _predict(media["two_faces"], "--model", models["classifier"], "--output", tmp_path) == 0
    (frame,) = _report(tmp_path, media["two_faces"])["frames"]
    assert [face["score"] for face in frame["faces"]] == pytest.approx([CLASSIFIER_P] * 2)
    assert all(face["fake"] for face in frame["faces"])  # 0.7 > the card's 0.5


def test_the_studys_unet_runs_on_a_video_with_a_contact_sheet(tmp_path, models, media):
    assert _predict(media["video"], "--model", models["unet"], "--output", tmp_path, "--overlay", "sheet") == 0
    report = _report(tmp_path, media["video"])
    assert report["model"] == str(models["unet"]) and len(report["frames"]) == 4
    assert report["verdict"] in ("fake", "real")
    scores = [face["score"] for frame in report["frames"] for face in frame["faces"]]
    assert len(scores) == 4 and all(-1 <= score <= 1 for score in scores)
    sheet = cv2.imread(report["overlay"])
    assert sheet is not None and sheet.shape[1] == 2 * 320  # 4 tiles: a 2 x 2 grid


def test_bad_inputs_fail_with_a_reason_and_the_rest_still_runs(tmp_path, models, media):
    inputs = [media[name] for name in ("not_a_video", "truncated", "no_face", "empty", "two_faces")]
    missing = tmp_path / "absent.mp4"
    output = tmp_path / "out"
    assert _predict(*inputs, missing, "--model", models["constant"], "--output", output) == 1

    rows = {row["path"]: row for row in _summary(output)}
    assert len(rows) == 6
    reasons = {name: rows[str(media[name])]["reason"] for name in ("not_a_video", "truncated", "no_face", "empty")}
    assert reasons["not_a_video"].startswith(f"unreadable: {media['not_a_video']}")
    assert reasons["truncated"].startswith(f"unreadable: {media['truncated']}")
    assert reasons["no_face"] == f"no face: {media['no_face']}: no face in any of 1 sampled frames"
    assert reasons["empty"].startswith(f"no input: {media['empty']}")
    assert rows[str(missing)]["reason"].startswith("missing file")
    assert all("\n" not in reason for reason in reasons.values())
    assert rows[str(media["two_faces"])]["status"] == "ok"
    assert sum(row["status"] == "failed" for row in rows.values()) == 5

    failed = _report(output, media["truncated"])
    assert (failed["status"], failed["verdict"], failed["frames"], failed["overlay"]) == ("failed", None, [], None)
    assert not list(output.glob("truncated.mp4.overlay.*"))


def test_folders_are_walked_for_videos_and_images(tmp_path, models, media):
    folder = tmp_path / "inbox"
    (folder / "nested").mkdir(parents=True)
    (folder / "nested" / "clip.mp4").write_bytes(media["video"].read_bytes())
    (folder / "face.jpg").write_bytes(media["two_faces"].read_bytes())
    (folder / "readme.txt").write_text("not an input\n")
    output = tmp_path / "out"
    assert _predict(folder, "--model", models["constant"], "--output", output, "--overlay", "none") == 0
    rows = _summary(output)
    assert [pathlib.Path(row["path"]).name for row in rows] == ["face.jpg", "clip.mp4"]
    assert all(row["status"] == "ok" for row in rows)
    assert not list(output.glob("*.overlay.*"))


def test_a_second_run_does_not_judge_the_first_runs_outputs(tmp_path, models, media):
    folder = tmp_path / "inbox"
    folder.mkdir()
    (folder / "clip.mp4").write_bytes(media["video"].read_bytes())
    output = folder / "predictions"  # inside the folder being walked
    for _ in range(2):
        assert _predict(folder, "--model", models["constant"], "--output", output) == 0
        assert [row["path"] for row in _summary(output)] == [str(folder / "clip.mp4")]
    assert (output / "clip.mp4.overlay.mp4").is_file()


def test_an_unexpected_error_fails_that_input_only_with_one_line(tmp_path, models, media):
    (tmp_path / "clip.mp4.overlay.mp4").mkdir()  # the overlay cannot be written there
    assert _predict(media["video"], media["two_faces"], "--model", models["constant"], "--output", tmp_path) == 1
    video_row, image_row = _summary(tmp_path)
    assert video_row["status"] == "failed" and video_row["reason"].startswith(f"error: {media['video']}: ")
    assert "\n" not in video_row["reason"] and image_row["status"] == "ok"


def test_usage_errors_exit_2(tmp_path, models, media, capsys):
    assert _predict(media["video"], "--model", tmp_path / "absent.keras", "--output", tmp_path) == 2
    assert "absent.keras: model file not found" in capsys.readouterr().err
    with pytest.raises(SystemExit) as exit_info:  # argparse's own usage error, before any work
        _predict(media["video"], "--model", models["constant"], "--threshold", "1.5")
    assert exit_info.value.code == 2
    assert "threshold must be in [0, 1], got 1.5" in capsys.readouterr().err
    with pytest.raises(SystemExit) as exit_info:
        main(["predict", str(media["video"])])  # --model missing
    assert exit_info.value.code == 2


def test_an_output_that_is_a_file_is_a_usage_error_before_the_model_loads(tmp_path, models, media, capsys):
    existing = tmp_path / "predictions"
    existing.write_text("a file, not a folder")
    assert _predict(media["video"], "--model", models["constant"], "--output", existing) == 2
    assert capsys.readouterr().err == f"dfseg predict: error: --output {existing}: exists and is not a folder\n"
    # Checked first: an absent model would otherwise be the error reported.
    assert _predict(media["video"], "--model", tmp_path / "absent.keras", "--output", existing) == 2
    assert "exists and is not a folder" in capsys.readouterr().err
    assert existing.read_text() == "a file, not a folder"


def test_help_explains_every_flag(capsys):
    with pytest.raises(SystemExit) as exit_info:
        main(["predict", "--help"])
    assert exit_info.value.code == 0
    text = capsys.readouterr().out
    flags = ("--model", "--output", "--frames", "--threshold", "--margin", "--detect-side", "--overlay", "--verbose")
    assert all(flag in text for flag in flags)
    assert text.count("(default") >= 7


def test_console_script_keeps_tensorflow_start_up_quiet(tmp_path, models, media):
    script = pathlib.Path(sys.executable).with_name("dfseg")
    result = subprocess.run(
        [script, "predict", media["two_faces"], "--model", models["constant"], "--output", tmp_path,
         "--overlay", "none"],
        capture_output=True, text=True, timeout=120,
    )
    assert result.returncode == 0, result.stderr
    assert result.stderr == ""
    assert f"{media['two_faces']}: FAKE" in result.stdout


# ---------------------------------------------------------------- pieces


def test_predict_cuts_faces_exactly_as_training_examples_are_cut(models, media):
    """Same detector, box rule and margin (both configs' defaults), same resize: a model
    sees at prediction the crops it learnt from."""
    video = media["video"]
    entry = VideoEntry("clip", video, REAL, TRAIN, "dfdc", "clip", video)
    examples = extract_video(entry, ExtractionConfig(frames_per_video=int(N_FRAMES)), detector=default_detector())
    predictor = Predictor(FaceModel.load(models["unet"]), PredictConfig(frames=int(N_FRAMES)))
    frames = [frame for _, frame in iter_frames(video, [example.frame_index for example in examples])]
    assert len(frames) == len(examples) == 4
    for example, frame, boxes in zip(examples, frames, predictor.face_boxes(frames)):
        assert boxes == [example.box]
        assert np.array_equal(predictor.face_model.prepare(frame, example.box), example.image)


def test_collect_inputs_kinds_and_problems(tmp_path, media):
    items = collect_inputs([media["video"], media["two_faces"], tmp_path / "gone.png", media["empty"]])
    assert [item.kind for item in items] == [VIDEO, IMAGE, IMAGE, VIDEO]
    assert [item.problem is None for item in items] == [True, True, False, False]


def test_output_names_stay_distinct_when_inputs_share_a_name(tmp_path):
    items = collect_inputs([tmp_path / "a" / "clip.mp4", tmp_path / "b" / "clip.mp4", tmp_path / "clip.png"])
    assert [stem.name for stem in output_stems(items, tmp_path)] == ["clip.mp4", "clip.mp4-2", "clip.png"]
