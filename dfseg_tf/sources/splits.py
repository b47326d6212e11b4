"""Which split a DFDC part belongs to, and the error for a data set laid out wrongly."""

import dataclasses

from dfseg_tf.sources.entry import TEST, TRAIN, VALIDATION


class SourceLayoutError(ValueError):
    """A data set's folders or index files are not as the public download lays them out."""


@dataclasses.dataclass(frozen=True)
class SplitFractions:
    """Fractions of the DFDC parts: train the first ones, validation the next, test the last.

    The study trained on the first 40% of the 50 parts (0-19) and tested on the last 10%
    (45-49); validation (20-24) is ours, for the threshold search. Parts in between are
    unused.
    """

    train: float = 0.4
    validation: float = 0.1
    test: float = 0.1

    def __post_init__(self):
        values = dataclasses.astuple(self)
        if any(not 0 <= v <= 1 for v in values) or sum(values) > 1 + 1e-9:
            raise ValueError(f"split fractions must be in [0, 1] and sum to at most 1, got {self}")


def split_of_part(part_index: int, n_parts: int, fractions: SplitFractions) -> str | None:
    """The split of the part at ``part_index`` (0-based) of ``n_parts``, or None if unused.

    Counts round half up, so 10 parts give train 0-3, validation 4, test 9.
    """
    if not 0 <= part_index < n_parts:
        raise ValueError(f"part_index must be in [0, {n_parts}), got {part_index}")
    n_train, n_validation, n_test = (_count(f, n_parts) for f in dataclasses.astuple(fractions))
    if part_index < n_train:
        return TRAIN
    if part_index < n_train + n_validation:
        return VALIDATION
    if part_index >= max(n_parts - n_test, n_train + n_validation):
        return TEST
    return None


def _count(fraction: float, n_parts: int) -> int:
    return int(fraction * n_parts + 0.5 + 1e-9)
