"""The ``dfseg`` command: ``main`` only dispatches to one module per subcommand."""

import argparse
import sys

from dfseg_tf.predict import command as predict_command


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="dfseg", description="Deepfake localisation with U-Net segmentation.")
    subparsers = parser.add_subparsers(title="commands", metavar="COMMAND", required=True)
    predict_command.add_parser(subparsers)
    return parser


def main(argv=None) -> int:
    """Entry point of the ``dfseg`` console script; returns (and exits with) the status."""
    args = build_parser().parse_args(argv)
    return args.run(args)


if __name__ == "__main__":
    sys.exit(main())
