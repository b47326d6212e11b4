"""Learning-rate schedules, free of TensorFlow so that any Keras backend can train with them."""

import keras

# The one-cycle schedule's warm-up: this share of all steps, from a tenth of the peak up to it.
WARMUP_FRACTION = 0.1


def one_cycle_cosine(peak: float, total_steps: int) -> keras.optimizers.schedules.LearningRateSchedule:
    """Warm-up over the first tenth of ``total_steps`` from ``peak / 10`` to ``peak``, then
    cosine decay to 0 over the rest: a short run can use a high peak rate."""
    warmup = max(1, round(WARMUP_FRACTION * total_steps))
    return keras.optimizers.schedules.CosineDecay(
        initial_learning_rate=peak / 10, decay_steps=max(total_steps - warmup, 1),
        warmup_target=peak, warmup_steps=warmup,
    )
