"""Which decision threshold t a model is applied at, and where it came from.

t is the frame rule's probability threshold (METHOD.md 5), distinct from the mask
threshold of extraction (``mask_threshold``). A model's card holds its t as
``decision_threshold``: the default 0.5 until ``experiments.search_threshold`` sets it
from a validation split. The study's own values are available by name (``study``).
Light on purpose: ``dfseg predict`` imports it.
"""

from dfseg_tf.method import DEFAULT_DECISION_THRESHOLD, STUDY_DECISION_THRESHOLDS
from dfseg_tf.models.card import ModelCard

STUDY = "study"
# The study's classifiers call a frame fake iff p > 0.5.
CLASSIFIER_DECISION_THRESHOLD = DEFAULT_DECISION_THRESHOLD


def parse_decision_threshold(text):
    """A ``--decision-threshold`` value: ``study`` or a float in [0, 1]; None stays None."""
    if text is None or text == STUDY:
        return text
    try:
        value = float(text)
    except ValueError:
        raise ValueError(f"decision threshold must be 'study' or a number in [0, 1], got {text!r}") from None
    if not 0 <= value <= 1:
        raise ValueError(f"decision threshold must be in [0, 1], got {value}")
    return value


def study_decision_threshold(card: ModelCard) -> float:
    """The study's t for the card's architecture (0.5, the classifiers' rule, for others)."""
    return STUDY_DECISION_THRESHOLDS.get(card.architecture, CLASSIFIER_DECISION_THRESHOLD)


def card_decision_threshold_source(card: ModelCard) -> str:
    """Where the card's t came from, as a table cell: ``searched on <split>`` or ``default``."""
    source = card.decision_threshold_source
    return "default" if source == "default" else f"searched on {source}"


def decision_thresholds(card: ModelCard, choice=None, *, study_rows: bool = False) -> list[tuple[float, str]]:
    """The (t, where t came from) pairs a model is evaluated at.

    Args:
      choice: None for the card's t, ``study`` for the study's value, or a number
        (``flag``) for every model.
      study_rows: also the study's t, for the models the study gives one for
        (the U-Nets), when it is not already the choice.
    """
    if choice is None:
        pairs = [(card.decision_threshold, card_decision_threshold_source(card))]
    elif choice == STUDY:
        pairs = [(study_decision_threshold(card), STUDY)]
    else:
        pairs = [(float(choice), "flag")]
    if study_rows and card.architecture in STUDY_DECISION_THRESHOLDS and choice != STUDY:
        pairs.append((STUDY_DECISION_THRESHOLDS[card.architecture], STUDY))
    return pairs
