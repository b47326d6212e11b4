"""The main job end to end at a tiny size: three layouts built, the models, the study's tables."""

import contextlib
import io
import json
import pathlib
import re

import pytest

from dfseg_tf.evaluation import scores, tables
from dfseg_tf.models.card import ModelCard
from experiments import reproduce

MODELS = reproduce.MODELS
UNETS = reproduce.UNETS
# One classifier is enough to test the job's wiring of a classifier (and of its own training
# set); efficientnet_b7's own run is tested in test_train_classifier. It costs minutes more here.
JOB_MODELS = ("unet", "unet_v1", "xception")
DUMMY_DATA = pathlib.Path(__file__).resolve().parents[1] / "datasets" / "dfdc_masks" / "dummy_data"


@pytest.fixture(scope="module")
def main_job(synthetic_records, tmp_path_factory):
    """The main command run once at a tiny size over the session's synthetic build (the
    DFDC role): its output folder, flags, DFDC name and what it printed."""
    output = tmp_path_factory.mktemp("reproduce")
    argv = [
        "--output-dir", str(output), "--data-dir", str(synthetic_records.data_dir),
        "--dfdc-config", synthetic_records.config, "--frames-per-video", "2", "--unet-epochs", "1",
        "--classifier-epochs", "1", "--classifier-input-size", "71", "--classifier-max-batches", "1",
        "--batch-size", "8", "--models", *JOB_MODELS,
    ]
    with contextlib.redirect_stdout(io.StringIO()) as printed:
        reproduce.main(argv)
    return output, argv, synthetic_records.name, printed.getvalue()


def test_main_job_prints_the_study_table_of_every_data_set(main_job):
    output, argv, dfdc_name, printed = main_job

    assert "Estimated time from here (per-frame costs measured on 2 CPU cores" in printed
    test_sets = [f"{dfdc_name}:test", "dfdc_masks/faceforensics_mini:test", "dfdc_masks/dfd_mini:test"]
    header = "| " + " | ".join(tables.STUDY_COLUMNS) + " |"
    for test_set in test_sets:
        table = printed[printed.index(f"The study's table on {test_set}\n"):].split("\n\n")[0]
        assert table.splitlines()[1] == header
        rows = table.splitlines()[3:]
        # one row per model at its searched t, plus the U-Nets at the study's t
        assert len(rows) == len(JOB_MODELS) + 2
        assert sum("| study |" in row for row in rows) == 2
        assert sum("| searched on " in row for row in rows) == len(JOB_MODELS)
    results = output / "results"
    frames = json.loads((results / "frames.json").read_text())
    assert {row["dataset"] for row in frames} == set(test_sets)
    assert {row["model"] for row in frames} == {f"{model}/best" for model in JOB_MODELS}
    trained_on = {row["model"]: row["trained_on"] for row in frames}
    assert trained_on["xception/best"] == "dfdc_masks/faceforensics_mini"
    assert trained_on["unet/best"] == trained_on["unet_v1/best"] == dfdc_name
    localisation = json.loads((results / "localisation.json").read_text())
    assert {row["model"] for row in localisation} == {"unet/best", "unet_v1/best"}
    assert len(localisation) == 2 * 2 * len(test_sets)  # two U-Nets, two t, three test sets
    assert all(0 <= row["pixel_roc_auc"] <= 1 for row in localisation)
    manipulations = json.loads((results / "manipulations.json").read_text())
    # only the FF++ miniature has several kinds of fake: one row per model, t and method
    assert {row["dataset"] for row in manipulations} == {"dfdc_masks/faceforensics_mini:test"}
    methods = {f"faceforensics/{method}" for method in ("Deepfakes", "Face2Face", "FaceShifter", "FaceSwap", "NeuralTextures")}
    assert {row["manipulation"] for row in manipulations} == methods
    assert len(manipulations) == len(methods) * (len(JOB_MODELS) + 2)
    mask_areas = json.loads((results / "mask_areas.json").read_text())
    assert {row["dataset"] for row in mask_areas} == set(test_sets)
    assert {row["mask_area"] for row in mask_areas} <= set(scores.mask_area_buckets())
    readme = (results / "README.md").read_text()
    assert "Best F1 in-domain" in readme and "## Training budgets" in readme
    assert "(a smaller budget than the U-Nets')" in readme
    assert len(list(results.glob("examples_*.png"))) == 2 * 2 * len(test_sets)
    timings = json.loads((output / "timings.json").read_text())
    assert {"build", "evaluate", "train unet", "threshold xception"} <= set(timings)
    assert all(value["wall_s"] >= 0 and value["cpu_s"] >= 0 for value in timings.values())


def test_main_job_reruns_without_retraining_and_keeps_the_searched_thresholds_and_timings(main_job, capsys):
    output, argv, dfdc_name, _ = main_job
    first_timings = json.loads((output / "timings.json").read_text())
    reproduce.main([*argv, "--unet-v1-epochs", "2"])  # another budget: the finished run is still reused
    printed = capsys.readouterr().out
    assert f"{output / 'unet_v1'}: already trained, reusing it (it trained 1 epochs where these settings ask for 2" in printed
    assert "- unet_v1: 1 epochs, Adam 0.001 (cosine), 256 px" in (output / "results" / "README.md").read_text()
    assert "Estimated time from here" in printed and "train xception: done (earlier run)" in printed
    for model in JOB_MODELS:
        card = ModelCard.load(output / model / "best.keras")
        trained_on = "dfdc_masks/faceforensics_mini" if model == "xception" else dfdc_name
        assert card.decision_threshold_source == f"{trained_on}:validation"
        assert f"{output / model}: already trained, reusing it" in printed
        assert "threshold already searched, keeping it" in printed
    config = json.loads((output / "unet" / "config.json").read_text())
    assert config["lr_schedule"] == "cosine" and config["precision"] in ("float32", "mixed_bfloat16")
    # the stages found done keep what they cost the first time; the evaluation ran again
    timings = json.loads((output / "timings.json").read_text())
    assert {name: timings[name] for name in first_timings if name != "evaluate"} == {
        name: value for name, value in first_timings.items() if name != "evaluate"}
    assert timings["evaluate"] != first_timings["evaluate"]


def test_real_data_needs_both_folders_and_is_estimated_first():
    with pytest.raises(SystemExit):
        reproduce.parse_flags(["--dfdc", str(DUMMY_DATA)])
    config = reproduce.parse_flags(["--dfdc", str(DUMMY_DATA), "--faceforensics", str(DUMMY_DATA)])
    assert config.settings == reproduce.STUDY
    data = reproduce.builds(config)
    assert [data[role].name for role in reproduce.ROLES] == [
        "dfdc_masks/dfdc", "dfdc_masks/faceforensics", "dfdc_masks/dfd"]
    frames = reproduce.listed_frames(config, data)
    assert frames["dfdc"]["train"] > 0 and set(frames) == set(reproduce.ROLES)
    estimate = reproduce.estimate(config, frames, policy="float32", build=True)
    assert estimate.startswith("Estimated time from here (per-frame costs measured on 2 CPU cores")
    stages = [line.split(":")[0].strip() for line in estimate.splitlines()[1:-2]]
    assert stages == ["build"] + [f"train {model}" for model in MODELS] + ["threshold searches and evaluation"]


def _minutes(estimate: str, stage: str) -> float:
    line = next(line for line in estimate.splitlines() if line.strip().startswith(stage + ":"))
    value, unit = re.search(r"([\d.]+) (min|h)\b", line).groups()
    return float(value) * (60 if unit == "h" else 1)


def test_the_estimate_follows_the_cpu_s_policy_and_the_classifiers_input_size(monkeypatch):
    frames = {role: {"train": 800, "validation": 200, "test": 300} for role in reproduce.ROLES}
    config = reproduce.parse_flags([])
    monkeypatch.setattr(reproduce, "gpus", lambda: [])
    monkeypatch.setattr(reproduce, "cpu_has_amx", lambda: True)
    on_bfloat16 = reproduce.estimate(config, frames, policy="mixed_bfloat16", build=False)
    monkeypatch.setattr(reproduce, "cpu_has_amx", lambda: False)
    on_avx512_bf16 = reproduce.estimate(config, frames, policy="mixed_bfloat16", build=False)
    on_float32 = reproduce.estimate(config, frames, policy="float32", build=False)
    assert "build" not in on_float32 and "no AMX or AVX512-BF16" in on_float32
    resumed = reproduce.estimate(config, frames, policy="float32", build=False, epochs_done={"unet": 8, "unet_v1": 9})
    assert "train unet: done (earlier run)" in resumed
    assert "train unet_v1: " in resumed and "(9 of 12 epochs done by an earlier run)" in resumed
    assert _minutes(resumed, "train unet_v1") == pytest.approx(_minutes(on_float32, "train unet_v1") / 4, abs=1)
    assert _minutes(resumed, "train xception") == _minutes(on_float32, "train xception")
    assert "no AMX" not in on_bfloat16 and "AVX512-BF16 but no AMX" in on_avx512_bf16
    for model in UNETS:  # AVX512-BF16 without AMX trains between float32 and AMX
        float32, avx512_bf16, amx = (_minutes(text, f"train {model}") for text in (on_float32, on_avx512_bf16, on_bfloat16))
        assert float32 > avx512_bf16 > amx and float32 > 3 * amx
    # the embedded default: 8 epochs of the 800 frames
    unet_seconds = 800 * 8 * reproduce.MEASURED_SECONDS[reproduce.FLOAT32]["train"]["unet"]
    assert _minutes(on_float32, "train unet") == pytest.approx(unet_seconds / 60, abs=3)  # shown to 0.1 h
    # a classifier: 8 batches of 16 frames, at 72 px instead of Xception's own 299
    assert reproduce._trained_frames(config, "xception", 800) == pytest.approx(128 * (72 / 299) ** 2)
    full_size = reproduce.parse_flags(["--classifier-input-size", "299", "--classifier-max-batches", "100"])
    assert reproduce._trained_frames(full_size, "xception", 800) == 800


def test_unet_epochs_set_both_u_nets_and_unet_v1_epochs_only_unet_v1():
    epochs = {flags: tuple(reproduce._epochs(reproduce.parse_flags(list(flags)), model) for model in UNETS)
              for flags in [(), ("--unet-epochs", "3"), ("--unet-epochs", "3", "--unet-v1-epochs", "5")]}
    assert epochs == {(): (8, 12), ("--unet-epochs", "3"): (3, 3), ("--unet-epochs", "3", "--unet-v1-epochs", "5"): (3, 5)}
    real = ["--dfdc", str(DUMMY_DATA), "--faceforensics", str(DUMMY_DATA)]
    assert [reproduce._epochs(reproduce.parse_flags(real), model) for model in UNETS] == [20, 20]


def test_timings_keep_a_reused_stage_s_figures_and_mark_a_resumed_training(tmp_path):
    path = tmp_path / "timings.json"
    timings = reproduce._Timings(path)
    with timings.stage("train unet") as stage:
        stage.resumed_at_epoch = 5  # went on with an interrupted run: the figures count epochs 6-8 only
    with timings.stage("evaluate"):
        pass
    first = json.loads(path.read_text())
    assert first["train unet"]["resumed_at_epoch"] == 5 and "resumed_at_epoch" not in first["evaluate"]

    rerun = reproduce._Timings(path)
    with rerun.stage("train unet") as stage:
        stage.reused = True
    with rerun.stage("threshold unet") as stage:
        stage.reused = True  # found done, but no earlier figure: its own is written
    written = json.loads(path.read_text())
    assert written["train unet"] == first["train unet"] and "threshold unet" in written
