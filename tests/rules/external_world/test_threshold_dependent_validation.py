"""DEBT1104 threshold_dependent_validation: focused tests beyond the examples the rule carries."""

from __future__ import annotations

from tests.conftest import rule_findings

findings = rule_findings


def test_reported_once_per_file_on_the_first_metric() -> None:
    source = """
    from sklearn.metrics import accuracy_score, recall_score

    pred = clf.predict(X_test)
    print(accuracy_score(y_test, pred))
    print(recall_score(y_test, pred))
    """
    assert [f.line for f in findings("DEBT1104", source)] == [4]


def test_xgboost_auc_eval_metric_counts_as_threshold_independent() -> None:
    source = """
    from sklearn.metrics import accuracy_score
    from xgboost import XGBClassifier

    clf = XGBClassifier(eval_metric="auc", n_estimators=200)
    print(accuracy_score(y_test, clf.predict(X_test)))
    """
    assert findings("DEBT1104", source) == []


def test_metric_not_from_sklearn_is_ignored() -> None:
    source = """
    from mylib.metrics import f1_score

    print(f1_score(y_test, model.predict(X_test)))
    """
    assert findings("DEBT1104", source) == []
