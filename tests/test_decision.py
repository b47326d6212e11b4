"""Which decision threshold t a model is applied at, and the table cell saying where it came from."""

import pytest

from dfseg_tf.evaluation import decision
from dfseg_tf.models.card import CLASSIFIER, SEGMENTATION, ModelCard


def _card(architecture, **fields):
    kind = SEGMENTATION if architecture.startswith("unet") else CLASSIFIER
    return ModelCard(kind=kind, architecture=architecture, input_size=256, **fields)


def test_the_card_t_names_the_split_it_was_searched_on():
    searched = _card("unet", decision_threshold=0.7, decision_threshold_source="dfdc_masks/dfdc:validation")
    assert decision.decision_thresholds(searched) == [(0.7, "searched on dfdc_masks/dfdc:validation")]
    assert decision.decision_thresholds(_card("xception")) == [(0.5, "default")]


def test_the_study_values_by_name_and_beside_the_card():
    assert decision.decision_thresholds(_card("unet"), "study") == [(0.95, "study")]
    assert decision.decision_thresholds(_card("unet_v1"), "study") == [(0.5, "study")]
    assert decision.decision_thresholds(_card("efficientnet_b7"), "study") == [(0.5, "study")]
    assert decision.decision_thresholds(_card("unet", decision_threshold=0.3), study_rows=True) == [
        (0.3, "default"), (0.95, "study")]
    assert decision.decision_thresholds(_card("xception"), study_rows=True) == [(0.5, "default")]
    assert decision.decision_thresholds(_card("unet"), 0.2, study_rows=True) == [(0.2, "flag"), (0.95, "study")]


@pytest.mark.parametrize("text,expected", [("study", "study"), ("0.25", 0.25), (None, None)])
def test_parse_decision_threshold(text, expected):
    assert decision.parse_decision_threshold(text) == expected


@pytest.mark.parametrize("text", ["1.5", "high"])
def test_a_bad_decision_threshold_names_the_value(text):
    with pytest.raises(ValueError, match=repr(text) if text == "high" else "1.5"):
        decision.parse_decision_threshold(text)
