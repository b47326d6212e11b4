"""Choosing the dtype policy and XLA from a flag and the devices present.

``auto`` means mixed precision on a GPU (bfloat16 where the GPU computes it natively,
compute capability 8.0 and newer; float16 otherwise); on a CPU, mixed_bfloat16 where the
CPU computes bfloat16 natively (AMX or AVX512-BF16, which oneDNN uses: measured 3.6x
the float32 speed for ``unet`` training, 2.1x for ``unet_v1`` with AMX, 2.0x and 4.0x
with AVX512-BF16 alone, see README) and float32 elsewhere (emulated bfloat16 is slower
than float32). Under ``mixed_float16`` Keras' ``compile`` wraps the optimizer in a
LossScaleOptimizer by itself; bfloat16 needs no loss scaling.
"""

import logging

import keras
import tensorflow as tf

from dfseg_tf.training.policy import auto_policy

logger = logging.getLogger(__name__)

AUTO = "auto"
POLICIES = ("float32", "mixed_float16", "mixed_bfloat16")
PRECISION_CHOICES = (AUTO, *POLICIES)
JIT_CHOICES = (AUTO, "true", "false")


def gpus() -> list:
    """The GPUs TensorFlow sees."""
    return tf.config.list_physical_devices("GPU")


def resolve_precision(flag=AUTO) -> str:
    """The dtype policy name that ``flag`` (one of PRECISION_CHOICES) means here."""
    if flag not in PRECISION_CHOICES:
        raise ValueError(f"precision={flag!r} is not one of {PRECISION_CHOICES}")
    if flag != AUTO:
        return flag
    return auto_policy([
        tf.config.experimental.get_device_details(gpu).get("compute_capability", (0, 0)) for gpu in gpus()
    ])


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
        return bool(gpus())
    return flag == "true"
