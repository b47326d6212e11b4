"""Keep TensorFlow's native start-up lines out of the user's way in our commands."""

import contextlib
import os
import sys


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
    """Imports TensorFlow (once) with its native start-up lines silenced.

    Listing the GPUs inside the silenced block moves CUDA's initialisation (and, on a
    machine without a GPU, its "failed call to cuInit" line) there too.
    ``DFSEG_VERBOSE=1`` in the environment keeps all of them, for debugging an installation.
    """
    if "tensorflow" in sys.modules:
        return
    with native_stderr_silenced(enabled=os.environ.get("DFSEG_VERBOSE", "") in ("", "0")):
        import tensorflow

        tensorflow.config.list_physical_devices("GPU")
