"""The tf.distribute strategy for the devices present.

- ``TF_CONFIG`` set (a multi-worker cluster): MultiWorkerMirroredStrategy;
- more than one visible GPU: MirroredStrategy over all of them;
- otherwise the default strategy (one GPU or the CPU).
Build and compile the model inside ``strategy.scope()``.
"""

import json
import logging
import os

import tensorflow as tf

logger = logging.getLogger(__name__)


def _cluster_workers():
    tf_config = os.environ.get("TF_CONFIG")
    if not tf_config:
        return 0
    try:
        cluster = json.loads(tf_config).get("cluster", {})
    except json.JSONDecodeError as error:
        raise ValueError(f"TF_CONFIG is not valid JSON: {error}") from None
    return len(cluster.get("worker", [])) + len(cluster.get("chief", []))


def distribution_strategy() -> tf.distribute.Strategy:
    """The strategy chosen by the rules in this module's docstring."""
    if _cluster_workers() > 1:
        strategy = tf.distribute.MultiWorkerMirroredStrategy()
    elif len(tf.config.list_physical_devices("GPU")) > 1:
        strategy = tf.distribute.MirroredStrategy()
    else:
        strategy = tf.distribute.get_strategy()
    logger.info(
        "distribution strategy %s with %d replica(s)",
        type(strategy).__name__,
        strategy.num_replicas_in_sync,
    )
    return strategy
