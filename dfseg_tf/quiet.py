"""Keep TensorFlow's routine lines out of the user's way in our commands.

Each function silences one known line that is no problem, at the moment it comes, so
that a real problem printed at any other moment stays visible. ``DFSEG_VERBOSE=1`` in
the environment keeps TensorFlow's native lines, for debugging an installation.
"""

import contextlib
import os
import sys

_tensorflow_started = False


def verbose() -> bool:
    """True when ``DFSEG_VERBOSE`` is set (and not 0): TensorFlow's native lines are kept."""
    return os.environ.get("DFSEG_VERBOSE", "") not in ("", "0")


@contextlib.contextmanager
def native_stderr_silenced(*, enabled: bool = True):
    """Sends file descriptor 2 to /dev/null for the duration of the block.

    TensorFlow's C++ side prints start-up lines (oneDNN, CUDA, CPU features) before its
    log level applies, so TF_CPP_MIN_LOG_LEVEL alone does not hide them. Python
    exceptions raised inside still propagate and are printed after stderr is restored.
    """
    if not enabled:
        yield
        return
    sys.stderr.flush()
    saved = os.dup(2)
    try:
        with open(os.devnull, "w") as devnull:
            os.dup2(devnull.fileno(), 2)
        yield
    finally:
        sys.stderr.flush()
        os.dup2(saved, 2)
        os.close(saved)


def import_tensorflow_quietly() -> None:
    """Imports TensorFlow and starts its devices with their native lines silenced (once a process).

    Listing the GPUs inside the silenced block moves CUDA's initialisation (and, on a
    machine without a GPU, its "failed call to cuInit" line) there too; this also works
    where TensorFlow was imported before (``tfds build`` imports it first), as long as no
    operation has run yet. The block also spends TensorFlow's once-a-process oneDNN
    notice: see :func:`_spend_onednn_dtype_notice`.
    """
    global _tensorflow_started
    if _tensorflow_started:
        return
    with native_stderr_silenced(enabled=not verbose()):
        import tensorflow

        tensorflow.config.list_physical_devices("GPU")
        _spend_onednn_dtype_notice(tensorflow)
    _tensorflow_started = True


def _spend_onednn_dtype_notice(tensorflow) -> None:
    """Runs one int32 transpose on the CPU so that TensorFlow prints its oneDNN notice here.

    TensorFlow's oneDNN build prints, at error level and once a process (``absl::call_once``
    in ``DataTypeUnsupportedWarning``), "oneDNN supports DT_INT32 only on platforms with
    AVX-512. Falling back to the default Eigen-based implementation" the first time it meets
    a Transpose (and some other ops) of a type oneDNN does not take, whatever the CPU: it
    printed on this AVX-512 machine. Training meets it in the first step, where the
    gradient of ``tf.tile`` (Keras' nearest ``UpSampling2D`` in the U-Nets) transposes the
    int32 shape vectors ``[multiples, input_shape]``. The op then runs on Eigen, as in
    TensorFlow builds without oneDNN; nothing is wrong. Silenced here, it no longer prints
    later in the process, while every other error line still does.
    """
    with tensorflow.device("/CPU:0"):
        tensorflow.transpose(tensorflow.zeros([1, 2], tensorflow.int32))
