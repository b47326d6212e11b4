"""dfseg_tf.quiet: TensorFlow's routine lines silenced when they come, in a fresh process each."""

import pathlib
import subprocess
import sys

import pytest

REPO = pathlib.Path(__file__).resolve().parents[1]

# The first training step of a U-Net in small: the gradient of tf.tile (nearest UpSampling2D)
# over a batch of unknown size.
TILE_GRADIENT = """
import tensorflow as tf

@tf.function(input_signature=[tf.TensorSpec([None, 2, 2, 1])])
def tile_gradient(x):
    with tf.GradientTape() as tape:
        tape.watch(x)
        y = tf.reduce_sum(tf.tile(x, [1, 2, 2, 1]))
    return tape.gradient(y, x)

print(float(tf.reduce_sum(tile_gradient(tf.ones([3, 2, 2, 1])))))
"""
QUIET = "from dfseg_tf.quiet import import_tensorflow_quietly\nimport_tensorflow_quietly()\n"


def _python(script: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-c", script], cwd=REPO, capture_output=True, text=True, timeout=300)


def test_the_onednn_notice_of_the_first_training_step_is_spent_silently_at_import():
    plain = _python(TILE_GRADIENT)
    assert plain.returncode == 0, plain.stderr
    if "oneDNN supports DT_INT32" not in plain.stderr:
        pytest.skip("this TensorFlow prints no oneDNN notice for int32 (no oneDNN, or TF_ENABLE_ONEDNN_OPTS=0)")
    quiet = _python(QUIET + TILE_GRADIENT)
    assert quiet.returncode == 0, quiet.stderr
    assert quiet.stdout == plain.stdout == "48.0\n"  # every input pixel tiled 4 times, 3 x 4 pixels
    assert quiet.stderr == ""


def test_tensorflow_can_still_be_configured_after_the_quiet_import():
    """MultiWorkerMirroredStrategy configures collective ops after the import, which only
    works while TensorFlow's runtime has not started (as thread counts)."""
    result = _python(QUIET + "import tensorflow as tf\ntf.config.threading.set_inter_op_parallelism_threads(1)\n")
    assert result.returncode == 0, result.stderr
