"""`dfseg predict`: is this video fake, and where? The command-line front of ``dfseg_tf.predict``.

Heavy imports (TensorFlow, Keras, MTCNN) happen inside ``run``, so ``--help`` is instant.
"""

import argparse
import logging
import pathlib
import sys

from dfseg_tf.evaluation.decision import parse_decision_threshold
from dfseg_tf.predict.config import OVERLAY_MODES, PredictConfig
from dfseg_tf.predict.inputs import collect_inputs
from dfseg_tf.predict.report import OK, SUMMARY_NAME
from dfseg_tf.quiet import native_stderr_silenced

EXIT_OK = 0
EXIT_SOME_FAILED = 1
EXIT_USAGE = 2

DEFAULT_OUTPUT = "dfseg_predictions"
_DEFAULTS = PredictConfig()

DESCRIPTION = """\
Flags faked faces in videos and images with a saved dfseg model.

For each input, frames are sampled evenly, every face in a frame is found (BlazeFace,
then MTCNN where BlazeFace finds none or is unsure) and
cut out as a square box with margin (as training did), and all face crops go through
the model in one call. A segmentation model's map makes a face fake iff it has a
connected region of more than 100 pixels above the decision threshold t; a classifier's
face is fake iff p > t. A frame is fake iff any face in it is fake; a video is fake iff
more than half of the frames with a face are fake.

Writes, under --output: <name>.json per input (verdict, video score, fake-frame
fraction, per-frame scores and boxes per face, seconds), <name>.overlay.mp4 or .png
(faces boxed red=fake / green=real, predicted manipulated region tinted magenta) and
summary.csv (one row per input). Exit status: 0 all inputs ok, 1 some inputs failed (the reason is in the
summary), 2 usage error (bad flag, unusable model)."""


def add_parser(subparsers) -> argparse.ArgumentParser:
    """Registers ``predict`` on the ``dfseg`` command's subparsers."""
    parser = subparsers.add_parser(
        "predict",
        help="flag fake faces in videos and images",
        description=DESCRIPTION,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    paths = parser.add_argument_group("paths")
    paths.add_argument(
        "inputs", nargs="+", metavar="INPUT",
        help="video (.mp4 .avi .mov .mkv .webm ...) or image (.jpg .png ...) files, or folders "
        "searched recursively for them",
    )
    paths.add_argument(
        "--model", required=True, metavar="MODEL.keras",
        help="saved model; its card MODEL.keras.json beside it gives kind, input size and decision threshold (required)",
    )
    paths.add_argument(
        "--output", default=DEFAULT_OUTPUT, metavar="DIR",
        help=f"folder for reports, overlays and summary.csv, created if needed (default: {DEFAULT_OUTPUT})",
    )
    rules = parser.add_argument_group("sampling and rules")
    rules.add_argument(
        "--frames", type=int, default=_DEFAULTS.frames,
        help=f"frames sampled evenly per video; an image is one frame (default: {_DEFAULTS.frames})",
    )
    rules.add_argument(
        "--decision-threshold", "--threshold", dest="decision_threshold", type=_decision_threshold, default=None,
        help="decision threshold t of the frame rule: a number in [0, 1], or 'study' for the study's value "
        "(Unet 0.95, Unet_v1 0.5, classifiers 0.5) (default: the model card's t)",
    )
    rules.add_argument(
        "--margin", type=float, default=_DEFAULTS.margin,
        help="margin added on each side of a face box, as a fraction of the face's longer side "
        f"(default: {_DEFAULTS.margin}, as extraction for training)",
    )
    rules.add_argument(
        "--detect-side", type=int, default=_DEFAULTS.detect_side,
        help="frames are shrunk to this longer side for MTCNN, the detector asked where BlazeFace "
        "(which sees a 192 px copy) finds no face or is unsure; boxes are mapped back to full "
        f"resolution (default: {_DEFAULTS.detect_side})",
    )
    output = parser.add_argument_group("output")
    output.add_argument(
        "--overlay", choices=OVERLAY_MODES, default=_DEFAULTS.overlay,
        help="video: H.264 of the annotated sampled frames; sheet: one PNG contact sheet; none: "
        f"reports only. Images always get a PNG (default: {_DEFAULTS.overlay})",
    )
    debug = parser.add_argument_group("debug")
    debug.add_argument(
        "--verbose", action="store_true",
        help="log each step, with tracebacks of unexpected errors, and keep TensorFlow's start-up "
        "messages (default: off)",
    )
    parser.set_defaults(run=run)
    return parser


def run(args: argparse.Namespace) -> int:
    """Runs ``dfseg predict``; returns the exit status."""
    _configure_logging(args.verbose)
    output_dir = pathlib.Path(args.output)
    if output_dir.exists() and not output_dir.is_dir():  # checked before the model is loaded
        return _usage_error(f"--output {output_dir}: exists and is not a folder")
    try:
        config = PredictConfig(
            frames=args.frames, decision_threshold=args.decision_threshold, overlay=args.overlay,
            margin=args.margin, detect_side=args.detect_side,
        )
        with native_stderr_silenced(enabled=not args.verbose):
            predictor = _load_predictor(args.model, config)
    except ValueError as error:  # a bad flag value, or an unusable model (ModelLoadError)
        return _usage_error(error)
    from dfseg_tf.predict.runner import predict_all

    items = collect_inputs(args.inputs, skip_folder=output_dir)
    reports = predict_all(items, predictor, output_dir, on_report=_print_line)
    failed = sum(report.status != OK for report in reports)
    print(f"{len(reports) - failed} of {len(reports)} inputs ok; summary: {output_dir / SUMMARY_NAME}")
    return EXIT_SOME_FAILED if failed else EXIT_OK


def _load_predictor(model_path, config: PredictConfig):
    from dfseg_tf.predict.model import FaceModel  # imports TensorFlow
    from dfseg_tf.predict.predictor import Predictor

    return Predictor(FaceModel.load(model_path), config)


def _configure_logging(verbose: bool) -> None:
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    logging.getLogger("dfseg_tf").setLevel(logging.DEBUG if verbose else logging.WARNING)
    # TensorFlow's Python side warns about tracing and deprecations a user cannot act on.
    logging.getLogger("tensorflow").setLevel(logging.INFO if verbose else logging.ERROR)


def _usage_error(error) -> int:
    print(f"dfseg predict: error: {error}", file=sys.stderr)
    return EXIT_USAGE


def _print_line(report) -> None:
    if report.status == OK:
        print(f"{report.path}: {report.verdict.upper()} ({report.fake_fraction:.0%} of frames with a face fake, "
              f"{report.seconds:.1f} s)")
    else:
        print(f"{report.path}: FAILED: {report.reason}")


def _decision_threshold(text):
    try:
        return parse_decision_threshold(text)
    except ValueError as error:
        raise argparse.ArgumentTypeError(str(error)) from None
