"""DEBT1103 default_hyperparameters: focused tests beyond the examples the rule carries."""

from __future__ import annotations

from tests.conftest import rule_findings

findings = rule_findings


def test_files_that_tune_hyperparameters_are_skipped() -> None:
    source = """
    import optuna
    from sklearn.ensemble import RandomForestClassifier

    model = RandomForestClassifier()
    model.set_params(**study.best_params)
    """
    assert findings("DEBT1103", source) == []


def test_each_default_estimator_is_reported() -> None:
    source = """
    from sklearn.svm import SVC
    from lightgbm import LGBMClassifier

    models = [SVC(), LGBMClassifier(), SVC(C=10)]
    """
    assert [f.message.split("`")[1] for f in findings("DEBT1103", source)] == [
        "SVC()",
        "LGBMClassifier()",
    ]
