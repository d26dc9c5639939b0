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


def test_a_copy_whose_other_lines_moved_in_a_reformat_was_there_before() -> None:
    copy = "Move this block and its copy in `b.py` (lines {}) into one function both call."
    before = finding(30, copy.format("12-40"), "f", code="DEBT804")
    after = finding(33, copy.format("14-45"), "g", code="DEBT804")
    assert not_in_base([after], [before]) == []
    elsewhere = finding(33, copy.replace("b.py", "c.py").format("14-45"), "h", code="DEBT804")
    assert not_in_base([elsewhere], [before]) == [elsewhere]
