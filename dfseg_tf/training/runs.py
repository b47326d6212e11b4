"""The start and the end every training script's ``run()`` shares.

:func:`start_run` comes first in ``run()``: it creates the strategy (before any
TensorFlow op, as MultiWorkerMirroredStrategy needs), seeds, sets the dtype policy
and refuses a finished run folder. :func:`fit_run` fits the compiled model while
this worker writes its run folder (the chief the real one, other workers a scratch
copy) and returns the results every run reports.
"""

import dataclasses
import logging
import sys

import keras
import tensorflow as tf

from dfseg_tf.data import DatasetNotBuiltError
from dfseg_tf.training.config import resolve_verbose
from dfseg_tf.training.precision import apply_precision, resolve_jit_compile
from dfseg_tf.training.run_folder import RunFolder, history_results, worker_run_folder
from dfseg_tf.training.strategy import distribution_strategy, is_chief


def start_run(config, **resolved_fields) -> tuple[tf.distribute.Strategy, object]:
    """(strategy, resolved config) of a run about to start.

    The resolved config is ``config`` with the run folder, dtype policy, XLA choice
    and progress output made explicit, and ``resolved_fields`` replaced; it is what
    config.json holds.
    Raises FileExistsError if ``config.run_dir`` holds a finished run.
    """
    strategy = distribution_strategy()
    keras.utils.set_random_seed(config.seed)
    policy = apply_precision(config.precision)
    run_folder = RunFolder(config.run_dir)
    run_folder.check_not_finished()
    resolved = dataclasses.replace(
        config,
        output_dir=str(run_folder.root),
        precision=policy,
        jit_compile=str(resolve_jit_compile(config.jit_compile)).lower(),
        verbose=resolve_verbose(config.verbose),
        **resolved_fields,
    )
    return strategy, resolved


def fit_run(model, train, validation, *, resolved, strategy, card, monitor, callbacks_for) -> dict:
    """Fits ``model`` and records the run; resumes from the backup of an interrupted run.

    Args:
      resolved: the resolved config (from :func:`start_run`).
      card: the ModelCard saved beside best.keras.
      monitor: the validation metric best.keras is chosen by (higher is better).
      callbacks_for: ``callbacks_for(run_folder)`` -> the callbacks, writing to the
        RunFolder this worker writes.

    Returns:
      run_dir, best_model (path or None when no epoch finished), policy, jit_compile,
      num_workers, num_replicas, global_batch_size, learning_rate (scaled), epochs
      (indices of the epochs this call trained; they start after the last finished
      one when resuming), history and ``best_<monitor>``.
    """
    run_folder = RunFolder(resolved.output_dir)
    with worker_run_folder(run_folder.root, chief=is_chief(strategy)) as written:
        written.create()
        written.write_config(resolved)
        written.prepare_resume()
        history = model.fit(
            train,
            validation_data=validation,
            epochs=resolved.epochs,
            shuffle=False,  # the input pipelines shuffle the training examples themselves
            callbacks=callbacks_for(written),
            verbose=resolved.verbose,
        )
        saved = written.save_best_card(card)
        results = {
            "run_dir": str(run_folder.root),
            # Every worker took the same checkpoint decisions; the chief's file is the one kept.
            "best_model": str(run_folder.best_model_path) if saved else None,
            "policy": resolved.precision,
            "jit_compile": resolved.jit_compile == "true",
            **resolved.scale(strategy.num_replicas_in_sync),
            **history_results(history),
            f"best_{monitor}": written.best_logged(monitor),
        }
        written.write_results(results)
    return results


def run_or_exit(run, config, script: str) -> dict:
    """A training script's ``run(config)``, with logging set up and expected failures in one
    line, ``"<script>: error: <reason>"``.

    Expected: the data set is not built, the run folder holds a finished run, or a
    ValueError of the library's (bad TF_CONFIG, missing weights file, empty split).
    """
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    try:
        results = run(config)
    except (DatasetNotBuiltError, FileExistsError, ValueError) as error:
        sys.exit(f"{script}: error: {error}")
    print(f"run folder: {results['run_dir']}")
    return results
