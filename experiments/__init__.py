"""Runnable scripts: ``python -m experiments.<name> --help``.

Importing the package first imports TensorFlow with its native start-up lines
silenced, so every script's output starts with what the script says. Where TensorFlow
is not installed (a JAX or PyTorch machine, which ``experiments.bench_train`` supports)
there is nothing to silence.
"""

import importlib.util

from dfseg_tf.quiet import import_tensorflow_quietly

if importlib.util.find_spec("tensorflow") is not None:
    import_tensorflow_quietly()
