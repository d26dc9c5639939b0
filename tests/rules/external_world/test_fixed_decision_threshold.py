"""DEBT1101 fixed_decision_threshold: focused tests beyond the examples the rule carries."""

from __future__ import annotations

import pytest

from tests.conftest import rule_findings

findings = rule_findings


@pytest.mark.parametrize(
    "source",
    [
        "labels = (probs > 0.50).astype(int)\n",  # the neutral cut
        "keep = prob > 0.01\n",  # a noise floor
        "if model.score(X, y) > 0.8:\n    deploy()\n",  # a metric
        "if preds.shape[0] > 0.3:\n    pass\n",  # not a score
        "if self.score_thresh > 0.05:\n    pass\n",  # a setting
        "mask = torch.rand(n) < 0.15\n",  # randomness
    ],
)
def test_fixed_threshold_quiet(source: str) -> None:
    assert findings("DEBT1101", source) == []


def test_fixed_threshold_one_finding_per_statement() -> None:
    source = 'risk = "high" if prob > 0.7 else "medium" if prob > 0.3 else "low"\n'
    [finding] = findings("DEBT1101", source)
    assert "`0.7` on `prob`" in finding.message


def test_fixed_threshold_literal_on_the_left() -> None:
    [finding] = findings("DEBT1101", "if 0.8 <= torch.softmax(out, -1).max():\n    accept()\n")
    assert "`0.8`" in finding.message
