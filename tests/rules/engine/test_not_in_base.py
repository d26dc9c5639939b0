"""What a change brought, against what its base already had."""

from __future__ import annotations

from rules.engine import not_in_base
from rules.finding import Finding


def finding(line: int, message: str, fingerprint: str, code: str = "DEBT1005") -> Finding:
    return Finding(
        code, "experimentation-paths", "train.py", line, line, 1, "warning", message, fingerprint
    )


SPLIT = "Pass `random_state` to `train_test_split(X, y, test_size=0.2)`."


def test_the_same_fingerprint_was_there_before() -> None:
    assert not_in_base([finding(9, SPLIT, "a")], [finding(3, SPLIT, "a")]) == []


def test_a_reformatted_line_says_the_same_thing_and_was_there_before() -> None:
    reformatted = SPLIT.replace("test_size=0.2", "test_size = 0.2")
    assert not_in_base([finding(3, reformatted, "b")], [finding(3, SPLIT, "a")]) == []


def test_a_second_occurrence_the_base_did_not_have_is_new() -> None:
    first, second = finding(3, SPLIT, "b"), finding(20, SPLIT, "c")
    assert not_in_base([second, first], [finding(3, SPLIT, "a")]) == [second]


def test_another_message_rule_or_file_is_new() -> None:
    other = finding(3, "Pass `random_state` to `KFold(5)`.", "d")
    rule = finding(3, SPLIT, "e", code="DEBT1003")
    assert not_in_base([other, rule], [finding(3, SPLIT, "a")]) == [other, rule]
