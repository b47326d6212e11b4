"""Which dtype policy ``--precision auto`` means on the devices present: the rule alone.

Free of TensorFlow, so the benchmark can apply the same rule under the JAX and torch
Keras backends (``experiments.bench_train``); ``precision`` applies it under TensorFlow.
"""

import pathlib

# GPUs of this compute capability and newer compute bfloat16 natively (Ampere).
FIRST_BFLOAT16_COMPUTE_CAPABILITY = (8, 0)
# /proc/cpuinfo flags of CPUs with bfloat16 arithmetic in hardware.
CPU_BFLOAT16_FLAGS = ("amx_bf16", "avx512_bf16")
_CPUINFO = pathlib.Path("/proc/cpuinfo")


def cpu_flags(cpuinfo=_CPUINFO) -> set[str]:
    """The feature flags of the CPU, from the ``flags`` lines of ``cpuinfo`` (Linux); empty
    where the file is absent (macOS, Windows)."""
    try:
        text = pathlib.Path(cpuinfo).read_text()
    except OSError:
        return set()
    flags = set()
    for line in text.splitlines():
        name, _, values = line.partition(":")
        if name.strip() == "flags":
            flags.update(values.split())
    return flags


def cpu_has_native_bfloat16(cpuinfo=_CPUINFO) -> bool:
    """Whether the CPU computes bfloat16 natively (AMX or AVX512-BF16); False where
    ``cpuinfo`` is absent (float32 is the safe choice)."""
    return any(flag in cpu_flags(cpuinfo) for flag in CPU_BFLOAT16_FLAGS)


def cpu_has_amx(cpuinfo=_CPUINFO) -> bool:
    """Whether the CPU has AMX's bfloat16 tiles, which train ``unet`` about three times as
    fast as AVX512-BF16 alone does (README, "Time on your CPU")."""
    return "amx_bf16" in cpu_flags(cpuinfo)


def auto_policy(gpu_capabilities) -> str:
    """The policy ``auto`` means given the compute capabilities of the GPUs present (none:
    the CPU's rule): mixed_bfloat16 where every device computes bfloat16 natively,
    mixed_float16 on older GPUs, float32 on a CPU without bfloat16 arithmetic."""
    if not gpu_capabilities:
        return "mixed_bfloat16" if cpu_has_native_bfloat16() else "float32"
    if min(gpu_capabilities) >= FIRST_BFLOAT16_COMPUTE_CAPABILITY:
        return "mixed_bfloat16"
    return "mixed_float16"
