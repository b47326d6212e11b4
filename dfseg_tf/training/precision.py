"""Choosing the dtype policy and XLA from a flag and the devices present.

``auto`` means mixed precision on a GPU (bfloat16 where the GPU computes it natively,
compute capability 8.0 and newer; float16 otherwise) and float32 on a CPU. Under
``mixed_float16`` Keras' ``compile`` wraps the optimizer in a LossScaleOptimizer by
itself; bfloat16 needs no loss scaling.
"""

import logging

import keras
import tensorflow as tf

logger = logging.getLogger(__name__)

AUTO = "auto"
POLICIES = ("float32", "mixed_float16", "mixed_bfloat16")
PRECISION_CHOICES = (AUTO, *POLICIES)
JIT_CHOICES = (AUTO, "true", "false")

_FIRST_BFLOAT16_COMPUTE_CAPABILITY = (8, 0)


def _gpus():
    return tf.config.list_physical_devices("GPU")


def resolve_precision(flag=AUTO) -> str:
    """The dtype policy name that ``flag`` (one of PRECISION_CHOICES) means here."""
    if flag not in PRECISION_CHOICES:
        raise ValueError(f"precision={flag!r} is not one of {PRECISION_CHOICES}")
    if flag != AUTO:
        return flag
    gpus = _gpus()
    if not gpus:
        return "float32"
    capabilities = [
        tf.config.experimental.get_device_details(gpu).get("compute_capability", (0, 0))
        for gpu in gpus
    ]
    if min(capabilities) >= _FIRST_BFLOAT16_COMPUTE_CAPABILITY:
        return "mixed_bfloat16"
    return "mixed_float16"


def apply_precision(flag=AUTO) -> str:
    """Sets the global Keras dtype policy from ``flag``; call before building models."""
    policy = resolve_precision(flag)
    keras.config.set_dtype_policy(policy)
    logger.info("dtype policy %s (precision flag %s)", policy, flag)
    return policy


def resolve_jit_compile(flag=AUTO) -> bool:
    """XLA compilation: ``auto`` means on with a GPU, off on a CPU."""
    flag = str(flag).lower()
    if flag not in JIT_CHOICES:
        raise ValueError(f"jit_compile={flag!r} is not one of {JIT_CHOICES}")
    if flag == AUTO:
        return bool(_gpus())
    return flag == "true"
