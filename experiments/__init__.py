"""Runnable scripts: ``python -m experiments.<name> --help``.

Importing the package first imports TensorFlow with its native start-up lines
silenced, so every script's output starts with what the script says.
"""

from dfseg_tf.quiet import import_tensorflow_quietly

import_tensorflow_quietly()
