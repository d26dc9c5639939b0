"""DEBT602 self_training_on_own_scores: focused tests beyond the examples the rule carries."""

from __future__ import annotations

from tests.conftest import rule_findings

findings = rule_findings


def test_self_training_with_attributes_keywords_and_while() -> None:
    found = findings(
        "DEBT602",
        """
        class Labeler:
            def run(self, X, y, pool):
                while len(pool):
                    self.model.fit(X=X, y=y)
                    proba = self.model.predict_proba(pool)
                    pick = proba.max(axis=1) > 0.9
                    X = concat(X, pool[pick])
                    y = concat(y, proba.argmax(axis=1)[pick])
                    pool = pool[~pick]
        """,
    )
    assert [f.line for f in found] == [4]
    assert "`self.model`" in found[0].message


def test_self_training_ignores_distillation_and_tests() -> None:
    source = """
    teacher.fit(X, y)
    student.fit(X_unlabeled, teacher.predict(X_unlabeled))
    """
    assert not findings("DEBT602", source)
    source = "m.fit(X, m.predict(X))\n"
    assert findings("DEBT602", source)
    assert not findings("DEBT602", source, path="tests/test_loop.py")
