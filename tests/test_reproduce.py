"""The main job end to end on real synthetic records: build, train, search, evaluate."""

import json

import pytest

from dfseg_tf.models.card import ModelCard
from experiments import evaluate, reproduce, train_classifier, train_unet

MODELS = ("unet", "unet_v1")


@pytest.fixture(scope="module")
def main_job(synthetic_records, tmp_path_factory):
    """One run of the main command (one epoch a model) over the session's synthetic build."""
    output = tmp_path_factory.mktemp("reproduce")
    argv = [
        "--output-dir", str(output), "--data-dir", str(synthetic_records.data_dir),
        "--config", synthetic_records.config, "--epochs", "1",
    ]
    return output, argv


def test_main_job_writes_every_result_and_ends_with_the_frame_and_video_tables(main_job, capsys):
    output, argv = main_job
    reproduce.main(argv)
    printed = capsys.readouterr().out

    tables = printed[printed.rindex("\nFrames\n"):]
    assert "Videos" in tables
    for model in MODELS:
        assert f"{model}/best" in tables
    results = output / "results"
    for name in ("frames", "videos", "dice"):
        for suffix in ("md", "csv", "json"):
            assert (results / f"{name}.{suffix}").stat().st_size > 0
    assert len(list(results.glob("pr_*.png"))) == 2
    assert len(list(results.glob("examples_*.png"))) == len(MODELS)
    assert "Best F1 in-domain" in (results / "README.md").read_text()
    frames = json.loads((results / "frames.json").read_text())
    assert {row["model"] for row in frames} == {f"{model}/best" for model in MODELS}


def test_main_job_stores_the_validation_threshold_and_reruns_without_retraining(main_job, capsys):
    output, argv = main_job
    reproduce.main(argv)  # the module's first test may not have run alone: this run resumes or starts
    reproduce.main(argv)
    printed = capsys.readouterr().out
    for model in MODELS:
        card = ModelCard.load(output / model / "best.keras")
        assert card.threshold_source.endswith(":validation")
        assert 0.05 <= card.threshold <= 0.99
        assert f"{output / model}: already trained, reusing it" in printed


def test_a_short_unet_fit_on_the_synthetic_records_lowers_the_loss(synthetic_records, tmp_path):
    result = train_unet.run(train_unet.TrainConfig(
        model="unet_v1", dataset=synthetic_records.name, data_dir=str(synthetic_records.data_dir),
        output_dir=str(tmp_path / "run"), epochs=3, learning_rate=1e-3, verbose=0,
    ))
    losses = result["history"]["loss"]
    assert losses[-1] < losses[0], losses


def test_the_baseline_classifiers_join_the_u_nets_in_one_table(main_job, synthetic_records, tmp_path):
    output, argv = main_job
    reproduce.main(argv)  # trains the U-Nets unless an earlier test of this module did
    classifiers = []
    for arch, input_size, batch_size in (("xception", 71, 4), ("efficientnet_b7", 32, 2)):
        trained = train_classifier.run(train_classifier.ClassifierConfig(
            arch=arch, input_size=input_size, dataset=synthetic_records.name,
            data_dir=str(synthetic_records.data_dir), output_dir=str(tmp_path / arch), epochs=1,
            batch_size=batch_size, max_train_batches=1, max_val_batches=1,
            run_eagerly=arch == "efficientnet_b7", verbose=0,
        ))
        classifiers.append(trained["best_model"])
    unets = [str(output / model / "best.keras") for model in MODELS]

    result = evaluate.run(evaluate.EvaluateConfig(
        models=(*unets, *classifiers), datasets=(f"{synthetic_records.name}:test",),
        data_dir=str(synthetic_records.data_dir), results=str(tmp_path / "results"), max_videos=4,
    ))

    for level in ("frames", "videos"):
        rows = {row["model"]: row for row in result[level]}
        assert len(rows) == 4
        assert [row["kind"] for row in rows.values()].count("classifier") == 2
        assert all(row["weights"] == "scratch" for row in rows.values())
    assert len(result["dice"]) == 2  # Dice exists only for the segmentation models
    assert "xception" in (tmp_path / "results" / "frames.md").read_text()
