"""The main job: the study end to end, on the embedded miniature corpus or on real downloads.

    python -m experiments.reproduce                                   # embedded corpus
    python -m experiments.reproduce --dfdc DIR --faceforensics DIR    # real data

1. builds the data sets in their three layouts: DFDC (train, validation, test), and
   FaceForensics++ and DFD (cross-data-set test). Embedded: the miniature corpus is
   written at build time (``dfdc_masks/synthetic_p40``, DFDC-shaped) and into
   ``<output>/corpus/faceforensics`` (FF++ and DFD share one tree, as downloaded);
2. trains ``unet``, ``unet_v1`` and ``efficientnet_b7`` on DFDC and ``xception`` on
   FaceForensics++ (the study's roles), TensorBoard logs under each run folder;
3. searches each model's decision threshold t on the validation split it trained on;
4. evaluates every model on every test set, the U-Nets also at the study's t, and
   prints per data set the study's table, then the localisation table.

Everything lands under ``--output-dir``. Rerunning the command resumes: a built data
set is not rebuilt, a finished training run is not retrained, an interrupted one
continues from its backup, a searched threshold is kept. On the embedded corpus the
defaults are sized for two CPU cores (README gives the measured time and figures);
the baselines train on a smaller budget there (fewer epochs, smaller crops), which
their lines in the results README state. On real data the study's settings apply (32
frames a video, the classifiers' own input sizes). The time the job will take on this
machine is printed before training (on real data, before the build), from per-frame costs
measured on two kinds of 2-core CPU: with bfloat16 units, and without (README: Time on
your CPU).
"""

import argparse
import contextlib
import dataclasses
import json
import logging
import os
import pathlib
import sys
import time
import types

import tensorflow_datasets as tfds

from dfseg_tf import records, sources
from dfseg_tf.corpus import CorpusSpec, write_dfd_corpus, write_faceforensics_corpus
from dfseg_tf.method import FRAMES_PER_VIDEO, NVIDIA_LEARNING_RATE
from dfseg_tf.models.card import ModelCard
from dfseg_tf.models.classifiers import default_input_size
from dfseg_tf.training.policy import cpu_has_amx
from dfseg_tf.training.precision import gpus, resolve_precision
from dfseg_tf.training.run_folder import RunFolder
from experiments import evaluate, search_threshold, tfds_build, train_classifier, train_unet

PROG = "python -m experiments.reproduce"
UNETS = ("unet", "unet_v1")
CLASSIFIERS = ("xception", "efficientnet_b7")
MODELS = UNETS + CLASSIFIERS
# The study's roles: which data set each model trains on.
TRAINED_ON = {"unet": "dfdc", "unet_v1": "dfdc", "xception": "faceforensics", "efficientnet_b7": "dfdc"}
ROLES = ("dfdc", "faceforensics", "dfd")


@dataclasses.dataclass(frozen=True)
class Settings:
    """How big the job is: one set for the embedded corpus, one for real data.

    Attributes:
      frames_per_video: of the FaceForensics++ and DFD builds; the embedded DFDC one,
        ``EMBEDDED_DFDC_CONFIG``, takes the embedded value too.
      unet_epochs, unet_v1_epochs, classifier_epochs: epochs of each model.
      learning_rate, lr_schedule, clip_norm: the U-Nets' Adam peak rate, schedule and
        gradient clipping (classifiers keep train_classifier's 2e-4, constant).
      classifier_input_size: None keeps each architecture's own (299, 380).
      classifier_max_batches: training batches per classifier epoch (None: all).
    """

    frames_per_video: int
    unet_epochs: int
    unet_v1_epochs: int
    classifier_epochs: int
    learning_rate: float
    lr_schedule: str
    clip_norm: float | None
    classifier_input_size: int | None
    classifier_max_batches: int | None


# Chosen to fit the job's time on 2 CPU cores; what the models reach with it is in README.
# unet_v1's epoch costs half of unet's, and at 8 epochs it had not learned enough (seeds 0-2 on
# the AMX machine: test frame ROC-AUC 0.62 to 0.84, seed 0 flagging 66% of the real test frames);
# 12 epochs gave 0.80 to 0.86 from the same seeds for 85 s more there (README).
EMBEDDED = Settings(frames_per_video=8, unet_epochs=8, unet_v1_epochs=12, classifier_epochs=1, learning_rate=1e-3,
                    lr_schedule="cosine", clip_norm=1.0, classifier_input_size=72, classifier_max_batches=8)
# The embedded DFDC role: the miniature DFDC-shaped corpus at 40 parts (the ``synthetic``
# config's 10 give the U-Nets too few faces to learn from, see README), at the embedded frames a video.
EMBEDDED_DFDC_PARTS = 40
EMBEDDED_DFDC_CONFIG = json.dumps({"name": f"synthetic_p{EMBEDDED_DFDC_PARTS}", "dataset": "synthetic",
                                   "corpus_parts": EMBEDDED_DFDC_PARTS,
                                   "frames_per_video": EMBEDDED.frames_per_video})
# The study's settings (METHOD.md): NVIDIA's 1e-4, 32 frames a video, full-size classifiers.
STUDY = Settings(frames_per_video=FRAMES_PER_VIDEO, unet_epochs=20, unet_v1_epochs=20, classifier_epochs=10,
                 learning_rate=NVIDIA_LEARNING_RATE, lr_schedule="constant", clip_norm=None, classifier_input_size=None, classifier_max_batches=None)

# The kinds of 2-core CPU the job's costs were measured on, by how they train.
AMX, AVX512_BF16, FLOAT32 = "amx", "avx512_bf16", "float32"

# What the estimate adds on a CPU slower than the AMX machine.
SLOWER_THAN_AMX = {
    FLOAT32: "This CPU has no AMX or AVX512-BF16, so training runs in float32, several times slower than where it has",
    AVX512_BF16: "This CPU has AVX512-BF16 but no AMX: mixed_bfloat16 trains unet about three times slower than with AMX",
}

# Seconds on 2 CPU cores, for the time the job prints before it trains (README, "Time on
# your CPU"), under the policy ``--precision auto`` picks on the CPU. Per frame: ``build``, one
# frame of a real video (decode, detect, mask, encode); per model, ``train``, one training
# epoch of one frame (the U-Nets' with their validation), and ``inference`` on one frame
# (threshold search and evaluation), the classifiers' at their own input size (a smaller one
# costs less by its pixels). Per run, what a classifier costs beyond its frames: ``train_run``
# (building, tracing and saving it) and ``load_run`` (loading it for a search or an
# evaluation). Measured with the embedded job.
MEASURED_SECONDS = {
    # AMX and AVX512-BF16 (mixed_bfloat16), where the job's 13 minutes were measured (the
    # U-Nets' training from timings.json of a clean clone's job there, 2026-12-04);
    # inference was not timed per model there: these give its searches and evaluation (93 s).
    # A GPU's estimate uses these too, and says how much faster it trains.
    AMX: {
        "build": 0.25,
        "train": {"unet": 0.04, "unet_v1": 0.022, "xception": 0.08, "efficientnet_b7": 0.5},
        "inference": {"unet": 0.04, "unet_v1": 0.025, "xception": 0.08, "efficientnet_b7": 0.5},
        "train_run": {"xception": 25, "efficientnet_b7": 130},
        "load_run": {"xception": 3, "efficientnet_b7": 10},
    },
    # AVX512-BF16 without AMX (mixed_bfloat16), a 2-core AMD EPYC: the U-Nets, the
    # classifiers' runs and the loads from the embedded main job of a clean clone there
    # (timings.json; the U-Nets' inference from their threshold searches, loading included),
    # the classifiers' seconds a frame from train_on_batch / predict_on_batch at full size.
    AVX512_BF16: {
        "build": 0.25,
        "train": {"unet": 0.143, "unet_v1": 0.041, "xception": 0.31, "efficientnet_b7": 1.8},
        "inference": {"unet": 0.047, "unet_v1": 0.027, "xception": 0.076, "efficientnet_b7": 0.3},
        "train_run": {"xception": 31, "efficientnet_b7": 165},
        "load_run": {"xception": 3, "efficientnet_b7": 24},
    },
    # AVX2 only (float32), a 2-core AMD EPYC: the U-Nets, the classifiers' runs and the loads
    # from the embedded main job of a clean clone there (timings.json; a U-Net's seconds a
    # frame include each epoch's validation), the classifiers' seconds a frame from
    # bench_train at full size. The build does not depend on bfloat16: its 0.25 is the other
    # machine's; here real FF++ c23 frames (smaller than DFDC's 1080p) took 0.1.
    FLOAT32: {
        "build": 0.25,
        "train": {"unet": 0.48, "unet_v1": 0.2, "xception": 0.99, "efficientnet_b7": 5.1},
        "inference": {"unet": 0.14, "unet_v1": 0.05, "xception": 0.22, "efficientnet_b7": 1.0},
        "train_run": {"xception": 25, "efficientnet_b7": 140},
        "load_run": {"xception": 3, "efficientnet_b7": 15},
    },
}


@dataclasses.dataclass(frozen=True)
class ReproduceConfig:
    """Defaults of the main job; the flags override them, then ``settings`` fills what is None."""

    output_dir: str = "runs/reproduce"
    dfdc: str | None = None  # a real DFDC download; None: the embedded corpus
    faceforensics: str | None = None  # a real FaceForensics++ download (holds DFD too)
    dfdc_config: str = EMBEDDED_DFDC_CONFIG  # embedded: the dfdc_masks config of the DFDC role
    models: tuple[str, ...] = MODELS
    frames_per_video: int | None = None
    unet_epochs: int | None = None
    unet_v1_epochs: int | None = None
    classifier_epochs: int | None = None
    learning_rate: float | None = None
    classifier_input_size: int | None = None
    classifier_max_batches: int | None = None
    batch_size: int = 16
    precision: str = "auto"
    seed: int = 0
    max_videos: int | None = None
    data_dir: str | None = None  # None: <output_dir>/tensorflow_datasets

    def __post_init__(self):
        if (self.dfdc is None) != (self.faceforensics is None):
            raise ValueError("give both --dfdc and --faceforensics (real data), or neither (embedded corpus)")
        unknown = set(self.models) - set(MODELS)
        if unknown:
            raise ValueError(f"unknown models {sorted(unknown)}; choose from {MODELS}")

    @property
    def real(self) -> bool:
        return self.dfdc is not None

    @property
    def settings(self) -> Settings:
        chosen = STUDY if self.real else EMBEDDED
        # --unet-epochs sets both U-Nets; --unet-v1-epochs then sets unet_v1's alone.
        overrides = {"unet_epochs": self.unet_epochs, "unet_v1_epochs": self.unet_v1_epochs or self.unet_epochs,
                     "classifier_epochs": self.classifier_epochs,
                     "learning_rate": self.learning_rate, "frames_per_video": self.frames_per_video,
                     "classifier_input_size": self.classifier_input_size,
                     "classifier_max_batches": self.classifier_max_batches}
        return dataclasses.replace(chosen, **{k: v for k, v in overrides.items() if v is not None})

    @property
    def tfds_data_dir(self) -> pathlib.Path:
        return pathlib.Path(self.data_dir or pathlib.Path(self.output_dir) / "tensorflow_datasets")


@dataclasses.dataclass(frozen=True)
class Build:
    """One ``tfds build``: the config argument, its TFDS name and its manual dir."""

    config: str
    manual_dir: str | None

    @property
    def name(self) -> str:
        return f"{tfds_build.BUILDER_NAME}/{tfds_build.config_name(self.config)}"


def builds(config: ReproduceConfig) -> dict[str, Build]:
    """The build of each role (dfdc, faceforensics, dfd)."""
    if config.real:
        return {"dfdc": Build("dfdc", config.dfdc), "faceforensics": Build("faceforensics", config.faceforensics),
                "dfd": Build("dfd", config.faceforensics)}
    corpus = str(pathlib.Path(config.output_dir) / "corpus" / "faceforensics")
    frames = config.settings.frames_per_video

    def mini(dataset):
        return json.dumps({"name": f"{dataset}_mini", "dataset": dataset, "frames_per_video": frames})

    return {"dfdc": Build(config.dfdc_config, None), "faceforensics": Build(mini("faceforensics"), corpus),
            "dfd": Build(mini("dfd"), corpus)}


def run(config: ReproduceConfig) -> dict:
    """Runs the stages; returns the evaluation's rows and files, with ``timings`` (seconds)."""
    output = pathlib.Path(config.output_dir)
    timings = _Timings(output / "timings.json")
    data = builds(config)
    policy = resolve_precision(config.precision)
    epochs_done = _epochs_done(config)
    with timings.stage("build") as stage:
        if config.real:
            print(estimate(config, listed_frames(config, data), policy=policy, build=True, epochs_done=epochs_done))
        else:
            _stage(1, "writing the miniature FaceForensics++ and DFD corpus")
            write_embedded_corpus(pathlib.Path(data["faceforensics"].manual_dir))
        found_built = []
        for role in ROLES:
            _stage(1, f"building {data[role].name} ({role} layout) into {config.tfds_data_dir}")
            extra = ["--manual_dir", str(pathlib.Path(data[role].manual_dir).resolve())] if data[role].manual_dir else []
            found_built.append(tfds_build.build(data[role].config, config.tfds_data_dir, extra_args=extra).found_built)
        stage.reused = all(found_built)
    if not config.real:
        print(estimate(config, built_frames(config, data), policy=policy, build=False, epochs_done=epochs_done))
    model_paths = []
    for model in config.models:
        training_set = data[TRAINED_ON[model]].name
        with timings.stage(f"train {model}") as stage:
            _stage(2, f"training {model} on {training_set}")
            stage.resumed_at_epoch = epochs_done[model]
            best_model, stage.reused = _train(config, model, training_set, output / model)
            model_paths.append(best_model)
        with timings.stage(f"threshold {model}") as stage:
            _stage(3, f"searching the decision threshold of {model} on {training_set}:validation")
            stage.reused = _search_threshold(config, best_model, training_set)
    with timings.stage("evaluate"):
        _stage(4, "evaluating every model on every test set")
        result = evaluate.run(evaluate.EvaluateConfig(
            models=tuple(model_paths), datasets=tuple(f"{data[role].name}:test" for role in ROLES),
            data_dir=str(config.tfds_data_dir), results=str(output / "results"), max_videos=config.max_videos,
            study_rows=True,
        ))
    _note_budgets(output / "results" / "README.md", output, config)
    return {**result, "timings": timings.seconds}


def write_embedded_corpus(root: pathlib.Path) -> None:
    """The miniature FaceForensics++ (four id pairs: one train, one validation, two test)
    and DFD, written once into one download tree (``records.prepare_corpus``: an
    interrupted write is redone)."""
    records.prepare_corpus(root, _write_faceforensics_and_dfd)


def _write_faceforensics_and_dfd(root: pathlib.Path) -> None:
    spec = CorpusSpec()
    write_faceforensics_corpus(root, spec, pairs=4)
    write_dfd_corpus(root, spec)


def listed_frames(config: ReproduceConfig, data: dict[str, Build]) -> dict[str, dict[str, int]]:
    """Frames of each role's splits, from the videos a real download holds."""
    listed = {
        "dfdc": sources.list_dfdc(data["dfdc"].manual_dir),
        "faceforensics": sources.list_faceforensics(data["faceforensics"].manual_dir),
        "dfd": sources.list_dfd(data["dfd"].manual_dir),
    }
    return {role: {split: sum(entry.split == split for entry in entries) * config.settings.frames_per_video
                   for split in sources.SPLITS}
            for role, entries in listed.items()}


def built_frames(config: ReproduceConfig, data: dict[str, Build]) -> dict[str, dict[str, int]]:
    """Frames of each role's splits, from the built data sets."""
    frames = {}
    for role in ROLES:
        splits = tfds.builder(data[role].name, data_dir=config.tfds_data_dir).info.splits
        frames[role] = {split: splits[split].num_examples if split in splits else 0 for split in sources.SPLITS}
    return frames


def estimate(config: ReproduceConfig, frames: dict[str, dict[str, int]], *, policy: str, build: bool,
             epochs_done: dict[str, int] | None = None) -> str:
    """The time the job's remaining stages will take here, from the frames of each role's
    splits and the per-frame costs measured on 2 CPU cores under ``policy``.

    Args:
      frames: ``{role: {split: frames}}``.
      policy: the dtype policy training runs under (``--precision`` resolved here).
      build: whether the builds are still to come (real data: estimated before them).
      epochs_done: per model, the epochs an earlier run trained (a resumed job); all of
        them where that run finished.
    """
    on_gpu = bool(gpus())
    kind = measured_kind(policy, on_gpu=on_gpu)
    costs = MEASURED_SECONDS[kind]
    seconds, remarks = {}, {}
    if build:
        all_frames = sum(sum(splits.values()) for splits in frames.values())
        seconds["build"] = costs["build"] * all_frames / max(1, (os.cpu_count() or 2) / 2)
    for model in config.models:
        epochs = _epochs(config, model)
        done = min(epochs, (epochs_done or {}).get(model, 0))
        if done == epochs:
            seconds[f"train {model}"] = None  # done by an earlier run
            continue
        if done:
            remarks[f"train {model}"] = f" ({done} of {epochs} epochs done by an earlier run)"
        trained_frames = _trained_frames(config, model, frames[TRAINED_ON[model]][sources.TRAIN])
        seconds[f"train {model}"] = (costs["train"][model] * trained_frames * (epochs - done) / epochs
                                     + costs["train_run"].get(model, 0))
    test_frames = sum(splits[sources.TEST] for splits in frames.values())
    seconds["threshold searches and evaluation"] = sum(
        costs["inference"][model] * _input_pixels(config, model)
        * (frames[TRAINED_ON[model]][sources.VALIDATION] + test_frames)
        + 2 * costs["load_run"].get(model, 0)  # loaded for its search, then for the evaluation
        for model in config.models)
    device = "a GPU trains 10-50x faster than this" if on_gpu else f"{policy} on this CPU"
    lines = [f"Estimated time from here (per-frame costs measured on 2 CPU cores, {device}): "
             f"{_duration(sum(value for value in seconds.values() if value is not None))} in all"]
    lines += [f"  {stage}: " + ("done (earlier run)" if value is None else _duration(value))
              + remarks.get(stage, "") for stage, value in seconds.items()]
    lines.append("  frames: " + ", ".join(f"{role} {sum(splits.values())}" for role, splits in frames.items()))
    if kind in SLOWER_THAN_AMX and not on_gpu:
        lines.append(f"  {SLOWER_THAN_AMX[kind]} (README: Time on your CPU); --unet-epochs shortens the U-Nets' part.")
    return "\n".join(lines)


def measured_kind(policy: str, *, on_gpu: bool) -> str:
    """Which of MEASURED_SECONDS' machines trains as this one does under ``policy``."""
    if policy == "float32":
        return FLOAT32
    return AMX if on_gpu or cpu_has_amx() else AVX512_BF16


def _trained_frames(config: ReproduceConfig, model: str, train_frames: int) -> float:
    """Frames a model trains on over all its epochs, counted at its own input size."""
    settings = config.settings
    if model in UNETS:
        return train_frames * _epochs(config, model)
    if settings.classifier_max_batches:
        train_frames = min(train_frames, settings.classifier_max_batches * config.batch_size)
    return train_frames * _epochs(config, model) * _input_pixels(config, model)


def _epochs(config: ReproduceConfig, model: str) -> int:
    settings = config.settings
    return {"unet": settings.unet_epochs, "unet_v1": settings.unet_v1_epochs}.get(model, settings.classifier_epochs)


def _input_pixels(config: ReproduceConfig, model: str) -> float:
    """A frame's pixels at the model's input size, as a share of those at its own size."""
    if model in UNETS:
        return 1.0
    own_size = default_input_size(model)
    return ((config.settings.classifier_input_size or own_size) / own_size) ** 2


def _duration(seconds: float) -> str:
    if seconds < 60:
        return "under 1 min"
    return f"{seconds / 3600:.1f} h" if seconds >= 5400 else f"{seconds / 60:.0f} min"


def _epochs_done(config: ReproduceConfig) -> dict[str, int]:
    """Per model, the epochs earlier runs trained in its run folder (all of them once finished)."""
    output = pathlib.Path(config.output_dir)
    folders = {model: RunFolder(output / model) for model in config.models}
    return {model: _epochs(config, model) if folder.finished else folder.backed_up_epochs
            for model, folder in folders.items()}


def _train(config: ReproduceConfig, model: str, training_set: str, run_dir: pathlib.Path) -> tuple[str, bool]:
    """Trains one model, or finds a run that already finished; returns the run's best
    model and whether it was found finished."""
    run_folder = RunFolder(run_dir)
    found_finished = run_folder.finished
    if found_finished:
        trained, wanted = _run_config(run_dir)["epochs"], _epochs(config, model)
        mismatch = "" if trained == wanted else (
            f" (it trained {trained} epochs where these settings ask for {wanted}; remove the folder to train anew)")
        print(f"{run_dir}: already trained, reusing it{mismatch}")
    else:
        settings = config.settings
        shared = dict(dataset=training_set, data_dir=str(config.tfds_data_dir), output_dir=str(run_dir),
                      batch_size=config.batch_size, seed=config.seed, precision=config.precision, cache=True)
        if model in UNETS:
            train_unet.run(train_unet.TrainConfig(
                model=model, epochs=_epochs(config, model), learning_rate=settings.learning_rate,
                lr_schedule=settings.lr_schedule, clip_norm=settings.clip_norm, **shared,
            ))
        else:
            train_classifier.run(train_classifier.ClassifierConfig(
                arch=model, epochs=settings.classifier_epochs, input_size=settings.classifier_input_size,
                max_train_batches=settings.classifier_max_batches, **shared,
            ))
    best_model = json.loads(run_folder.results_path.read_text())["best_model"]
    if best_model is None:
        raise RuntimeError(f"{run_dir}: training finished no epoch, so there is no model to evaluate")
    return best_model, found_finished


def _search_threshold(config: ReproduceConfig, model_path: str, training_set: str) -> bool:
    """Searches t on the validation split, unless the card already holds a searched t (the
    card is written last, so a search killed before it is run again); returns whether the
    card already held one."""
    if ModelCard.load(model_path).decision_threshold_source != "default":
        print(f"{model_path}: decision threshold already searched, keeping it")
        return True
    search_threshold.run(search_threshold.SearchConfig(
        model=model_path, dataset=f"{training_set}:validation", data_dir=str(config.tfds_data_dir),
        max_videos=config.max_videos,
    ))
    return False


def _run_config(run_dir: pathlib.Path) -> dict:
    """The config.json of a model's run folder: what that run was trained with."""
    return json.loads(RunFolder(run_dir).config_path.read_text())


def _note_budgets(readme: pathlib.Path, output: pathlib.Path, config: ReproduceConfig) -> None:
    """States in the results README how long each model trained, so that the baselines'
    smaller budget is read with their rows. Read from each run's config.json: a rerun
    reuses a finished run even where the flags now ask for another budget."""
    lines = ["", "## Training budgets", ""]
    for model in config.models:
        run = _run_config(output / model)
        if model in UNETS:
            lines.append(f"- {model}: {run['epochs']} epochs, Adam {run['learning_rate']:g} "
                         f"({run['lr_schedule']}), 256 px")
        else:
            size = run["input_size"] or "its own"
            batches = run["max_train_batches"] or "all"
            lines.append(f"- {model}: {run['epochs']} epochs of {batches} batches, Adam {run['learning_rate']:g}, "
                         f"{size} px input" + ("" if config.real else " (a smaller budget than the U-Nets')"))
    readme.write_text(readme.read_text() + "\n".join(lines) + "\n")


class _Timings:
    """The wall and CPU seconds of each stage, in ``timings.json``, rewritten as each stage
    ends. A stage that only found an earlier run's result keeps that run's figures, so a
    resumed or repeated job still says what each stage cost when it did its work. A
    training stage that went on with an interrupted run says at which epoch
    (``resumed_at_epoch``): its figures count only the epochs from there."""

    def __init__(self, path: pathlib.Path):
        self.path = path
        self.seconds = json.loads(path.read_text()) if path.exists() else {}

    @contextlib.contextmanager
    def stage(self, name: str):
        """Times the block; the block sets ``reused = True`` on what it yields when it found
        its stage done, and ``resumed_at_epoch`` when it went on with an interrupted run."""
        stage = types.SimpleNamespace(reused=False, resumed_at_epoch=0)
        wall, cpu = time.perf_counter(), _cpu_seconds()
        yield stage
        if stage.reused and name in self.seconds:
            return
        self.seconds[name] = {"wall_s": round(time.perf_counter() - wall, 1), "cpu_s": round(_cpu_seconds() - cpu, 1)}
        if stage.resumed_at_epoch:
            self.seconds[name]["resumed_at_epoch"] = stage.resumed_at_epoch
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self.path.write_text(json.dumps(self.seconds, indent=2) + "\n")


def _cpu_seconds() -> float:
    """CPU time of this process and its finished children (the tfds builds)."""
    times = os.times()
    return times.user + times.system + times.children_user + times.children_system


def _stage(number: int, text: str) -> None:
    print(f"\n== [{number}/4] {text}", flush=True)


def parse_flags(argv=None) -> ReproduceConfig:
    defaults = ReproduceConfig()
    parser = argparse.ArgumentParser(
        prog=PROG, description=__doc__.split("\n\n")[0], formatter_class=argparse.ArgumentDefaultsHelpFormatter
    )
    paths = parser.add_argument_group("data and paths")
    paths.add_argument("--output-dir", default=defaults.output_dir, help="folder for the data sets, runs and results")
    paths.add_argument("--dfdc", default=defaults.dfdc,
                       help="real DFDC download (the dfdc_train_part_K folders); None: the embedded corpus")
    paths.add_argument("--faceforensics", default=defaults.faceforensics,
                       help="real FaceForensics++ c23 download root, with DFD inside; None: the embedded corpus")
    paths.add_argument("--dfdc-config", default=defaults.dfdc_config,
                       help="embedded corpus: the dfdc_masks config of the DFDC role, a registered one "
                       "(synthetic: its 10-part corpus, a quick look) or the JSON form tfds build takes, whose "
                       "corpus_parts sets the corpus size")
    paths.add_argument("--data-dir", default=defaults.data_dir,
                       help="TFDS data dir to build into or reuse; None means <output-dir>/tensorflow_datasets")
    training = parser.add_argument_group("training (None: embedded or study settings, see Settings)")
    training.add_argument("--frames-per-video", type=int, default=defaults.frames_per_video,
                          help=f"embedded corpus: frames a video of the FaceForensics++ and DFD builds (None: "
                               f"{EMBEDDED.frames_per_video}); real data uses the configs' {STUDY.frames_per_video}")
    training.add_argument("--models", nargs="+", default=list(defaults.models), choices=MODELS,
                          help="models to train and compare")
    training.add_argument("--unet-epochs", type=int, default=defaults.unet_epochs,
                          help=f"epochs of both U-Nets (None: {EMBEDDED.unet_epochs} for unet and "
                               f"{EMBEDDED.unet_v1_epochs} for unet_v1 embedded, {STUDY.unet_epochs} real)")
    training.add_argument("--unet-v1-epochs", type=int, default=defaults.unet_v1_epochs,
                          help=f"epochs of unet_v1 alone, over --unet-epochs (None: --unet-epochs if given, else "
                               f"{EMBEDDED.unet_v1_epochs} embedded, {STUDY.unet_v1_epochs} real)")
    training.add_argument("--classifier-epochs", type=int, default=defaults.classifier_epochs,
                          help=f"classifier epochs (None: {EMBEDDED.classifier_epochs} embedded, "
                               f"{STUDY.classifier_epochs} real)")
    training.add_argument("--learning-rate", type=float, default=defaults.learning_rate,
                          help=f"U-Nets' Adam peak rate (None: {EMBEDDED.learning_rate:g} one-cycle cosine "
                               f"embedded, {STUDY.learning_rate:g} constant real)")
    training.add_argument("--classifier-input-size", type=int, default=defaults.classifier_input_size,
                          help=f"classifiers' face crop side (None: {EMBEDDED.classifier_input_size} embedded, "
                               "each architecture's own real)")
    training.add_argument("--classifier-max-batches", type=int, default=defaults.classifier_max_batches,
                          help=f"classifiers' training batches per epoch (None: {EMBEDDED.classifier_max_batches} "
                               "embedded, all real)")
    training.add_argument("--batch-size", type=int, default=defaults.batch_size, help="training batch size")
    training.add_argument("--precision", default=defaults.precision,
                          help="dtype policy; auto: mixed_bfloat16 on a GPU or a CPU with AMX/AVX512-BF16, "
                               "else float32 (the run's config.json says which)")
    training.add_argument("--seed", type=int, default=defaults.seed, help="random seed of training")
    size = parser.add_argument_group("run size")
    size.add_argument("--max-videos", type=int, default=defaults.max_videos,
                      help="search and evaluate on the first N videos of each split only (a quick look)")
    args = parser.parse_args(argv)
    try:
        return dataclasses.replace(defaults, **{**vars(args), "models": tuple(args.models)})
    except ValueError as error:
        parser.error(str(error))


def main(argv=None) -> None:
    logging.basicConfig(level=logging.WARNING)
    config = parse_flags(argv)
    started = time.perf_counter()
    try:
        result = run(config)
    except (RuntimeError, ValueError, FileNotFoundError, sources.SourceLayoutError) as error:
        sys.exit(f"reproduce: error: {error}")
    evaluate.print_tables(result)
    minutes = (time.perf_counter() - started) / 60
    print(f"Done in {minutes:.1f} min. Results, plots and README with the study's comparisons: "
          f"{pathlib.Path(config.output_dir) / 'results'}")


if __name__ == "__main__":
    main()
