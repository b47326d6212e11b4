"""Keep TensorFlow's and Beam's routine lines out of the user's way in our commands.

Each function silences one known line that is no problem, at the moment it comes, so
that a real problem printed at any other moment stays visible. ``DFSEG_VERBOSE=1`` in
the environment keeps TensorFlow's native lines, for debugging an installation.
"""

import contextlib
import logging
import os
import sys
import tempfile

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
    where TensorFlow was imported before, as long as nothing has listed the devices or
    run an operation yet. The block also spends TensorFlow's once-a-process oneDNN
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

    The transpose runs in a graph and session of its own: an eager one would start
    TensorFlow's runtime, after which MultiWorkerMirroredStrategy can no longer configure
    its collective ops ("must be configured at program startup"), nor can thread counts be set.
    """
    graph = tensorflow.Graph()
    with graph.as_default(), tensorflow.device("/CPU:0"):
        transpose = tensorflow.transpose(tensorflow.zeros([1, 2], tensorflow.int32))
    with tensorflow.compat.v1.Session(graph=graph) as session:
        session.run(transpose)


class _DropMessagesStartingWith(logging.Filter):
    def __init__(self, start: str):
        super().__init__()
        self.start = start

    def filter(self, record: logging.LogRecord) -> bool:
        return not record.getMessage().startswith(self.start)


def import_apache_beam_quietly() -> None:
    """Imports Apache Beam without the warning it logs at import on every machine without
    Google Cloud's client libraries ("apitools not found, and bigquery client libraries are
    not available"): nothing here reads or writes BigQuery. Other warnings pass."""
    if "apache_beam" in sys.modules:
        return
    root = logging.getLogger()
    apitools = _DropMessagesStartingWith("apitools not found")
    root.addFilter(apitools)
    try:
        import apache_beam  # noqa: F401
    finally:
        root.removeFilter(apitools)


class CapturedOutput:
    """What a block wrote to stdout and stderr, once the block is over (``text``)."""

    text = ""


@contextlib.contextmanager
def captured_output(*, enabled: bool = True):
    """Collects everything written to stdout and stderr in the block, by Python and native
    code, and by child processes (Beam's workers), into one text instead of showing it.

    Yields a :class:`CapturedOutput` whose ``text`` is set when the block ends. Both
    file descriptors and ``sys.stdout``/``sys.stderr`` point at the same file, so the
    order of lines is kept.
    """
    captured = CapturedOutput()
    if not enabled:
        yield captured
        return
    with tempfile.TemporaryFile("w+", buffering=1, errors="replace") as sink:
        sys.stdout.flush()
        sys.stderr.flush()
        saved = os.dup(1), os.dup(2)
        os.dup2(sink.fileno(), 1)
        os.dup2(sink.fileno(), 2)
        try:
            with contextlib.redirect_stdout(sink), contextlib.redirect_stderr(sink):
                yield captured
        finally:
            sink.flush()
            for fd, original in zip((1, 2), saved):
                os.dup2(original, fd)
                os.close(original)
            sink.seek(0)
            captured.text = sink.read()
