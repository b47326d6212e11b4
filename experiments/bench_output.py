"""What every benchmark does last: write its figures as JSON, then print its table."""

import json
import pathlib


def write_json(results, output) -> None:
    """Writes ``results`` to ``output`` as JSON, parent folders made."""
    output = pathlib.Path(output)
    output.parent.mkdir(parents=True, exist_ok=True)
    output.write_text(json.dumps(results, indent=2) + "\n")


def write_and_print(results, output, print_table) -> None:
    """Writes ``results`` to ``output`` (:func:`write_json`), prints the table, says where."""
    write_json(results, output)
    print_table(results)
    print(f"\nwritten {output}")
