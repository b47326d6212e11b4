"""The tf.distribute strategy for the devices present, and how batch and learning rate scale.

- ``TF_CONFIG`` set with more than one task (a multi-worker cluster):
  MultiWorkerMirroredStrategy, one process per machine, each machine's GPUs (or its
  CPU) as replicas;
- more than one visible GPU: MirroredStrategy over all of them;
- otherwise the default strategy (one GPU or the CPU).

Create the strategy first thing in a process (MultiWorkerMirroredStrategy must
configure TensorFlow's runtime before any op runs), then build and compile the model
inside ``strategy.scope()``.

Batch and learning rate: ``--batch-size`` is the batch of ONE replica, so the global
batch of a step is ``batch_size * num_replicas_in_sync`` (16 per GPU as the study,
whatever the number of GPUs). The learning rate given is the one for a single replica
and is scaled by :func:`scaled_learning_rate`: ``sqrt`` (the default) multiplies it
by sqrt(replicas), the square-root rule for Adam (Malladi et al., "On the SDEs and
Scaling Rules for Adaptive Gradient Algorithms", NeurIPS 2022); ``linear`` multiplies
it by the number of replicas (Goyal et al., 2017, the rule for SGD); ``none`` keeps it.

Two workers on two machines (run the same command on each, with its own index; the
run folder should be on storage both see, so a resumed run restarts both at the same
epoch)::

    TF_CONFIG='{"cluster": {"worker": ["host-a:12345", "host-b:12345"]},
                "task": {"type": "worker", "index": 0}}' \\
        python -m experiments.train_unet --output-dir /shared/runs/unet
    # on host-b the same with "index": 1

Worker 0 is the chief: it alone writes the run folder; the others write to scratch
folders they delete (``dfseg_tf.training.run_folder.worker_run_folder``).
"""

import json
import logging
import math
import os

import tensorflow as tf

logger = logging.getLogger(__name__)

LR_SCALING_RULES = ("sqrt", "linear", "none")


def _cluster() -> dict:
    tf_config = os.environ.get("TF_CONFIG")
    if not tf_config:
        return {}
    try:
        return json.loads(tf_config).get("cluster", {})
    except json.JSONDecodeError as error:
        raise ValueError(f"TF_CONFIG is not valid JSON: {error}") from None


class _MultiWorkerStrategy(tf.distribute.MultiWorkerMirroredStrategy):
    """MultiWorkerMirroredStrategy whose ``reduce`` accepts what Keras 3's ``fit`` gives
    it (keras-team/keras#20585): a nested (inputs, targets) batch, reduced part by
    part as MirroredStrategy does (the uint8 face crops as int32: collective ops take no
    uint8), and scalar metric values with ``axis=0``, reduced over the replicas alone (a
    scalar has no axis 0)."""

    def reduce(self, reduce_op, value, axis):
        def reduce_part(part):
            local = self.experimental_local_results(part)[0]
            if local.dtype == tf.uint8:  # the face crops: collectives take no uint8
                part = self.run(lambda crops: tf.cast(crops, tf.int32), args=(part,))
            axis_of_part = axis if local.shape.rank else None
            return super(_MultiWorkerStrategy, self).reduce(reduce_op, part, axis_of_part)

        return tf.nest.map_structure(reduce_part, value)


def worker_count() -> int:
    """Processes in the TF_CONFIG cluster (workers and chief); 1 without TF_CONFIG."""
    cluster = _cluster()
    return max(1, len(cluster.get("worker", [])) + len(cluster.get("chief", [])))


def distribution_strategy() -> tf.distribute.Strategy:
    """The strategy chosen by the rules in this module's docstring."""
    if worker_count() > 1:
        strategy = _MultiWorkerStrategy()
    elif len(tf.config.list_physical_devices("GPU")) > 1:
        strategy = tf.distribute.MirroredStrategy()
    else:
        strategy = tf.distribute.get_strategy()
    logger.info(
        "distribution strategy %s with %d replica(s) on %d worker(s)",
        type(strategy).__name__,
        strategy.num_replicas_in_sync,
        worker_count(),
    )
    return strategy


def is_chief(strategy: tf.distribute.Strategy) -> bool:
    """Whether this process writes the run's files: the chief task, else worker 0."""
    resolver = getattr(strategy, "cluster_resolver", None)
    if resolver is None or not resolver.task_type:
        return True
    if resolver.task_type == "chief":
        return True
    has_chief = "chief" in resolver.cluster_spec().as_dict()
    return resolver.task_type == "worker" and resolver.task_id == 0 and not has_chief


def scaled_learning_rate(learning_rate: float, replicas: int, rule: str = "sqrt") -> float:
    """``learning_rate`` (for one replica) scaled to ``replicas`` by ``rule``."""
    factors = {"sqrt": math.sqrt(replicas), "linear": float(replicas), "none": 1.0}
    if rule not in factors:
        raise ValueError(f"lr_scaling={rule!r} is not one of {LR_SCALING_RULES}")
    return learning_rate * factors[rule]


def distributed_batches(strategy: tf.distribute.Strategy, make_batches):
    """This worker's input for ``model.fit`` under ``strategy``.

    ``make_batches(input_context)`` returns a dataset of per-replica batches read by
    input pipeline ``input_context.input_pipeline_id`` of
    ``input_context.num_input_pipelines`` (one per worker). With one replica the
    dataset itself is returned; otherwise ``distribute_datasets_from_function``
    hands each replica its own batches, so each step trains on
    ``per-replica batch * num_replicas_in_sync`` examples.
    """
    if strategy.num_replicas_in_sync == 1 and worker_count() == 1:
        return make_batches(tf.distribute.InputContext())
    return strategy.distribute_datasets_from_function(make_batches)
