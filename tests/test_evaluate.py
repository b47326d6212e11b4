"""End to end: search_threshold then evaluate, on a tiny TFDS dataset and hand-set Keras models.

The data: 64x64 noisy faces (every channel in [40, 120)); a fake's manipulated
region is 100 levels brighter. Four videos:
  real/0 (3 frames), real/1 (4 frames): all-zero masks;
  fake/0 (3 frames): mask 16x16, but only its top 16x8 half brightened;
  fake/1 (4 frames): two frames with a brightened 16x16 square and its mask, two
  frames never changed (empty mask, like DFDC fakes whose face was kept).
Their sources: the reals "toy/original", fake/0 "toy/half", fake/1 "toy/square".
The models: a 1x1 convolution with weights set so p = sigmoid(50 (mean RGB - 0.51)):
background p <= 0.11, brightened pixels p >= 0.87. The classifier takes the map's max.

Hand-computed answers, for any t between 0.11 and 0.87:
  frames: 5 of the 7 fake frames fire, no real one: precision 1, recall 5/7, F1 5/6;
  videos: fake/1 has exactly half its frames fake -> real: precision 1, recall 1/2, F1 2/3;
  Dice: fake/0 frames 2*128/(128+256) = 2/3, all others 1:
        fake frames (3*2/3 + 4)/7 = 6/7, all frames (2 + 11)/14 = 13/14;
  IoU over fake frames: fake/0 128/256 = 1/2, the others 1: (3/2 + 4)/7 = 11/14;
  pixel ROC-AUC over fake frames: 896 of the 1280 mask pixels are bright and outrank every
        other pixel; the 384 dark ones are drawn like the untouched pixels (half wins):
        896/1280 + 384/1280 / 2 = 0.85;
  by manipulation: toy/half recall 1, frame ROC-AUC 1 against the 7 reals, Dice 2/3;
        toy/square recall 1/2, Dice 1, ROC-AUC 1/2 (its two fired frames outrank every
        real) plus half the share of its two unchanged frames, whose noise maps rank
        among the reals'.
  by mask area: a 16x16 mask covers 256/4096 = 6.25% of the crop: the 5 fake frames with
        a mask are "5-10%", recall 1, ROC-AUC 1, Dice (3 * 2/3 + 2)/5 = 4/5; fake/1's two
        unchanged frames are "none", recall 0, Dice 1 (nothing drawn on an empty mask).
"""

import csv
import json

import keras
import numpy as np
import pytest
import tensorflow as tf
import tensorflow_datasets as tfds

from dfseg_tf.records import absent_official_mask
from dfseg_tf.evaluation import predictions
from dfseg_tf.models.card import CLASSIFIER, SEGMENTATION, ModelCard
from experiments import evaluate, search_threshold

SIZE = 64
DATASET = "evaluation_toy/synthetic"
SOURCES = {"real/0": "toy/original", "real/1": "toy/original", "fake/0": "toy/half", "fake/1": "toy/square"}
VIDEOS = {  # video id -> (label, per frame: (brightened rows, mask rows) of the 16-wide square)
    "real/0": (0, [None] * 3),
    "real/1": (0, [None] * 4),
    "fake/0": (1, [(8, 16)] * 3),
    "fake/1": (1, [(16, 16), None, (16, 16), None]),
}


def _examples(seed):
    rng = np.random.default_rng(seed)
    for video_id, (label, frames) in VIDEOS.items():
        for frame_index, region in enumerate(frames):
            image = rng.integers(40, 120, size=(SIZE, SIZE, 3), dtype=np.uint8)
            mask = np.zeros((SIZE, SIZE, 1), np.uint8)
            if region is not None:
                bright_rows, mask_rows = region
                image[20 : 20 + bright_rows, 24:40] += np.uint8(100)
                mask[20 : 20 + mask_rows, 24:40] = 1
            yield f"{video_id}/{frame_index}", {
                "image": image,
                "mask": mask,
                "label": label,
                "video_id": video_id,
                "original_id": video_id.replace("fake", "real"),
                "frame_index": frame_index,
                "source": SOURCES[video_id],
                "box": np.array([0, 0, SIZE, SIZE], np.int32),
                **absent_official_mask(SIZE),
            }


@pytest.fixture(scope="module")
def data_dir(tmp_path_factory, store_frames_dataset):
    """The toy frames as a real TFDS dataset on disk (lossless PNG), splits validation and test."""
    return store_frames_dataset(
        DATASET, tmp_path_factory.mktemp("tfds"),
        {"validation": _examples(seed=1), "test": _examples(seed=2)}, size=SIZE,
    )


def _brightness_model(kind):
    image = keras.Input((SIZE, SIZE, 3), dtype="uint8")
    brightness = keras.layers.Conv2D(1, 1, activation="sigmoid", name="brightness")
    output = brightness(keras.layers.Rescaling(1 / 255)(image))  # the models' input contract
    if kind == CLASSIFIER:
        output = keras.layers.GlobalMaxPooling2D()(output)
    model = keras.Model(image, output)
    brightness.set_weights([np.full((1, 1, 3, 1), 50 / 3, np.float32), np.array([-0.51 * 50], np.float32)])
    return model


@pytest.fixture
def models(tmp_path):
    """{kind: path} of the two saved models, each with its card."""
    paths = {}
    for kind, name in ((SEGMENTATION, "bright_unet"), (CLASSIFIER, "bright_classifier")):
        path = tmp_path / "models" / f"{name}.keras"
        path.parent.mkdir(exist_ok=True)
        _brightness_model(kind).save(path)
        ModelCard(kind=kind, architecture=name, input_size=SIZE, trained_on=DATASET).save(path)
        paths[kind] = str(path)
    return paths


def test_search_threshold_writes_the_curve_and_updates_the_card(models, data_dir, tmp_path):
    config = search_threshold.SearchConfig(model=models[SEGMENTATION], dataset=DATASET, data_dir=data_dir)
    record = search_threshold.run(config)
    assert 0.11 < record["decision_threshold"] < 0.87
    assert record["f1"] == pytest.approx(5 / 6)
    assert (record["criterion"], record["real_flagged"]) == ("balanced_accuracy", 0.0)
    assert record["balanced_accuracy"] == pytest.approx((5 / 7 + 1) / 2)
    assert (record["frames"], record["videos"], record["dataset"]) == (14, 4, f"{DATASET}:validation")
    card = ModelCard.load(models[SEGMENTATION])
    assert (card.decision_threshold, card.decision_threshold_source) == (record["decision_threshold"], f"{DATASET}:validation")
    output = tmp_path / "models" / "bright_unet_threshold"
    assert (output / "threshold_curve.png").stat().st_size > 0
    searched = json.loads((output / "threshold_search.json").read_text())
    assert searched["decision_threshold"] == record["decision_threshold"]
    assert (searched["previous_decision_threshold"], searched["previous_decision_threshold_source"]) == (0.5, "default")
    with (output / "threshold_curve.csv").open() as handle:
        curve = list(csv.DictReader(handle))
    assert (len(curve), curve[0]["threshold"], curve[-1]["threshold"]) == (95, "0.05", "0.99")
    assert set(curve[0]) == {"threshold", "precision", "recall", "f1", "real_flagged", "balanced_accuracy"}


def test_search_threshold_refuses_the_test_split(models, data_dir, capsys):
    with pytest.raises(SystemExit, match="refusing to search the threshold on the test split"):
        search_threshold.main(["--model", models[SEGMENTATION], "--dataset", DATASET,
                               "--split", "test", "--data-dir", data_dir])
    assert ModelCard.load(models[SEGMENTATION]).decision_threshold_source == "default"


def test_evaluate_writes_tables_plots_and_readme(models, data_dir, tmp_path, capsys):
    results = tmp_path / "results"
    ModelCard(kind=SEGMENTATION, architecture="bright_unet", input_size=SIZE, decision_threshold=0.4,
              decision_threshold_source="by hand", trained_on=DATASET).save(models[SEGMENTATION])
    evaluate.main(["--models", models[SEGMENTATION], models[CLASSIFIER], "--datasets", DATASET,
                   f"{DATASET}:validation", "--data-dir", data_dir, "--results", str(results)])

    frames = json.loads((results / "frames.json").read_text())
    assert [(row["model"], row["dataset"]) for row in frames] == [
        ("bright_unet", f"{DATASET}:test"), ("bright_unet", f"{DATASET}:validation"),
        ("bright_classifier", f"{DATASET}:test"), ("bright_classifier", f"{DATASET}:validation"),
    ]
    assert [row["decision_threshold"] for row in frames] == [0.4, 0.4, 0.5, 0.5]  # each card's own
    assert [row["decision_threshold_source"] for row in frames] == ["searched on by hand"] * 2 + ["default"] * 2
    for row in frames:
        assert (row["precision"], row["recall"]) == (1.0, pytest.approx(5 / 7))
        assert (row["frames"], row["fake_frames"], row["weights"]) == (14, 7, "scratch")
    videos = json.loads((results / "videos.json").read_text())
    for row in videos:
        assert (row["precision"], row["recall"], row["f1"]) == (1.0, 0.5, pytest.approx(2 / 3))
        assert (row["videos"], row["fake_videos"]) == (4, 2)
    localisation = json.loads((results / "localisation.json").read_text())
    assert [row["model"] for row in localisation] == ["bright_unet", "bright_unet"]
    row = localisation[0]
    assert row["dice_fake"] == pytest.approx(6 / 7) and row["dice_all"] == pytest.approx(13 / 14)
    assert row["iou_fake"] == pytest.approx(11 / 14)
    assert row["pixel_roc_auc"] == pytest.approx(0.85, abs=0.01)
    assert 0.7 < row["pixel_ap"] < 0.75  # precision 1 up to recall 0.7, then near 0
    assert row["official_pixel_roc_auc"] is None and row["official_frames"] == 0  # no official masks here
    manipulations = json.loads((results / "manipulations.json").read_text())
    assert [(row["model"], row["dataset"], row["manipulation"]) for row in manipulations[:2]] == [
        ("bright_unet", f"{DATASET}:test", "toy/half"), ("bright_unet", f"{DATASET}:test", "toy/square")]
    assert len(manipulations) == 8  # 2 models x 2 splits x 2 kinds of fake
    for half, square in zip(manipulations[::2], manipulations[1::2]):
        assert (half["recall"], half["roc_auc"], half["fake_frames"], half["real_frames"]) == (1.0, 1.0, 3, 7)
        assert (square["recall"], square["fake_frames"]) == (0.5, 4) and 0.5 <= square["roc_auc"] <= 1.0
    assert (manipulations[0]["dice_fake"], manipulations[1]["dice_fake"]) == (pytest.approx(2 / 3), 1.0)
    assert manipulations[-1]["dice_fake"] is None  # a classifier draws no map
    mask_areas = json.loads((results / "mask_areas.json").read_text())
    assert len(mask_areas) == 8  # 2 models x 2 splits x 2 buckets holding fakes
    for unchanged, small in zip(mask_areas[::2], mask_areas[1::2]):
        assert (unchanged["mask_area"], unchanged["recall"], unchanged["fake_frames"]) == ("none", 0.0, 2)
        assert (small["mask_area"], small["recall"], small["roc_auc"], small["fake_frames"]) == ("5-10%", 1.0, 1.0, 5)
    assert (mask_areas[0]["dice_fake"], mask_areas[1]["dice_fake"]) == (1.0, pytest.approx(4 / 5))

    written = sorted(path.name for path in results.iterdir())
    assert written == sorted([
        "README.md", "config.json",
        *(f"{table}.{ext}" for table in ("frames", "videos", "localisation", "manipulations", "mask_areas")
          for ext in ("md", "csv", "json")),
        *(f"pr_{level}_evaluation_toy_synthetic_{split}.png" for level in ("frames", "videos")
          for split in ("test", "validation")),
        "examples_bright_unet_evaluation_toy_synthetic_test.png",
        "examples_bright_unet_evaluation_toy_synthetic_validation.png",
    ])
    readme = (results / "README.md").read_text()
    assert "| Best recall (mean over data sets) | bright_unet (segmentation): recall 0.714 |" in readme
    assert "## The study's table: evaluation_toy/synthetic:validation" in readme
    printed = capsys.readouterr().out
    assert ("The study's table on evaluation_toy/synthetic:test\n| model | kind | frame_precision | frame_recall | "
            "frame_f1 | video_precision | video_recall | video_f1 | decision_threshold | decision_threshold_source |") in printed
    assert ("| bright_classifier | classifier | 1.000 | 0.714 | 0.833 | 1.000 | 0.500 | 0.667 | 0.500 | default |"
            in printed)
    assert "By manipulation method\n| model | kind | dataset | manipulation | recall | roc_auc |" in printed
    assert ("By the share of the face crop the difference mask covers\n| model | kind | dataset | mask_area | recall |"
            in printed)


def test_study_thresholds_sit_beside_the_searched_ones(models, data_dir, tmp_path):
    ModelCard(kind=SEGMENTATION, architecture="unet", input_size=SIZE, decision_threshold=0.4,
              decision_threshold_source=f"{DATASET}:validation", trained_on=DATASET).save(models[SEGMENTATION])
    result = evaluate.run(evaluate.EvaluateConfig(
        models=(models[SEGMENTATION], models[CLASSIFIER]), datasets=(DATASET,), data_dir=data_dir,
        results=str(tmp_path / "results"), study_rows=True,
    ))
    assert [(row["model"], row["decision_threshold"], row["decision_threshold_source"]) for row in result["frames"]] == [
        ("bright_unet", 0.4, f"searched on {DATASET}:validation"), ("bright_unet", 0.95, "study"),
        ("bright_classifier", 0.5, "default"),  # the study gives no other t for classifiers
    ]
    assert [row["decision_threshold_source"] for row in result["localisation"]] == [
        f"searched on {DATASET}:validation", "study"]
    flagged = evaluate.parse_flags(["--models", "m.keras", "--decision-threshold", "study"])
    assert flagged.decision_threshold == "study"
    with pytest.raises(SystemExit):
        evaluate.parse_flags(["--models", "m.keras", "--decision-threshold", "1.5"])


def test_evaluate_max_videos_and_threshold_override(models, data_dir, tmp_path):
    config = evaluate.EvaluateConfig(
        models=(models[SEGMENTATION],), datasets=(DATASET,), data_dir=data_dir,
        results=str(tmp_path / "results"), max_videos=2, decision_threshold=0.95,
    )
    result = evaluate.run(config)
    (frames,), (videos,) = result["frames"], result["videos"]
    assert (frames["decision_threshold"], frames["decision_threshold_source"]) == (0.95, "flag")
    assert videos["videos"] == 2
    assert frames["frames"] == sum(len(VIDEOS[video_id][1]) for video_id in _first_two_video_ids(data_dir))


def _first_two_video_ids(data_dir):
    dataset = tfds.load(DATASET, split="test", data_dir=data_dir, shuffle_files=False)
    seen = []
    for video_id in dataset.map(lambda example: example["video_id"]).as_numpy_iterator():
        if video_id.decode() not in seen:
            seen.append(video_id.decode())
    return seen[:2]


def test_missing_dataset_is_a_one_line_error(models, tmp_path):
    with pytest.raises(SystemExit, match=r"^evaluate: error: evaluation_toy/dfd is not built"):
        evaluate.main(["--models", models[SEGMENTATION], "--datasets", "evaluation_toy/dfd",
                       "--data-dir", str(tmp_path), "--results", str(tmp_path / "results")])


def test_a_broken_model_file_is_a_one_line_error(models, data_dir, tmp_path):
    broken = tmp_path / "broken.keras"
    broken.write_bytes(b"not a zip file")
    ModelCard.load(models[SEGMENTATION]).save(broken)
    with pytest.raises(SystemExit, match=r"^evaluate: error: .*broken.keras: not a readable Keras model"):
        evaluate.main(["--models", str(broken), "--datasets", DATASET, "--data-dir", data_dir,
                       "--results", str(tmp_path / "results")])
    assert not (tmp_path / "results").exists() and not list(tmp_path.glob(".results*"))


def test_a_failed_evaluation_leaves_no_half_written_results_folder(models, tmp_path):
    with pytest.raises(SystemExit, match="is not built"):
        evaluate.main(["--models", models[SEGMENTATION], "--datasets", "evaluation_toy/dfd",
                       "--data-dir", str(tmp_path / "tfds"), "--results", str(tmp_path / "results")])
    assert not (tmp_path / "results").exists() and not list(tmp_path.glob(".results*"))


def test_max_videos_below_one_is_a_usage_error(models, capsys):
    with pytest.raises(SystemExit) as exit_info:
        evaluate.parse_flags(["--models", models[SEGMENTATION], "--max-videos", "0"])
    assert exit_info.value.code == 2
    assert "argument --max-videos: must be at least 1, got 0" in capsys.readouterr().err
    with pytest.raises(ValueError, match="max_videos must be at least 1"):
        evaluate.run(evaluate.EvaluateConfig(models=(models[SEGMENTATION],), max_videos=0))


def test_predictions_keep_a_fixed_number_of_best_and_worst_examples():
    dataset = tf.data.Dataset.from_generator(
        lambda: (example for _, example in _examples(seed=3)),
        output_signature={
            "image": tf.TensorSpec((SIZE, SIZE, 3), tf.uint8), "mask": tf.TensorSpec((SIZE, SIZE, 1), tf.uint8),
            "label": tf.TensorSpec((), tf.int64), "video_id": tf.TensorSpec((), tf.string),
            "original_id": tf.TensorSpec((), tf.string), "frame_index": tf.TensorSpec((), tf.int32),
            "source": tf.TensorSpec((), tf.string), "box": tf.TensorSpec((4,), tf.int32),
            "official_mask": tf.TensorSpec((SIZE, SIZE, 1), tf.uint8), "has_official_mask": tf.TensorSpec((), tf.bool),
        },
    )
    card = ModelCard(kind=SEGMENTATION, architecture="bright", input_size=SIZE)
    predicted = predictions.predict_frames(
        _brightness_model(SEGMENTATION), card, dataset, threshold=0.5, batch_size=4, examples=2
    )
    assert predicted.frame_count == 14
    # Fake frames only: Dice 1 for fake/1's frames, 2/3 for fake/0's.
    assert [example.dice for example in predicted.best] == [1.0, 1.0]
    assert [example.dice for example in predicted.worst] == [pytest.approx(2 / 3)] * 2
    assert {example.video_id for example in predicted.worst} == {"fake/0"}
    restricted = predictions.first_videos(dataset, 3)
    assert len(list(restricted)) == 3 + 4 + 3  # the first three videos, all their frames
    # One pass of the model for several t gives what a pass per t gives.
    model = _brightness_model(SEGMENTATION)
    at_each_t = predictions.predict_frames_at(model, card, dataset, [0.5, None, 0.9], batch_size=4, examples=2)
    for t, together in zip([0.5, None, 0.9], at_each_t):
        alone = predictions.predict_frames(model, card, dataset, threshold=t, batch_size=4, examples=2)
        np.testing.assert_array_equal(together.scores, alone.scores)
        np.testing.assert_array_equal(together.dices, alone.dices)
        assert together.pixel_histograms.keys() == alone.pixel_histograms.keys()
        assert [e.dice for e in together.worst] == [e.dice for e in alone.worst]


def test_a_classifier_card_on_a_map_model_is_refused():
    card = ModelCard(kind=CLASSIFIER, architecture="bright", input_size=SIZE)
    dataset = tf.data.Dataset.from_tensor_slices({
        "image": np.zeros((1, SIZE, SIZE, 3), np.uint8), "mask": np.zeros((1, SIZE, SIZE, 1), np.uint8),
        "label": [0], "video_id": ["v"], "frame_index": [0],
    })
    with pytest.raises(ValueError, match=r"classifier must output \(batch, 1\)"):
        predictions.predict_frames(_brightness_model(SEGMENTATION), card, dataset)
