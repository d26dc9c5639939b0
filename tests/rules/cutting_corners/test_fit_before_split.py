"""DEBT309 fit_before_split: focused tests beyond the examples the rule carries."""

from __future__ import annotations

from tests.conftest import rule_findings

findings = rule_findings


def test_one_finding_per_fit_even_with_two_splits() -> None:
    source = """
    from sklearn.model_selection import train_test_split, cross_val_score
    from sklearn.preprocessing import StandardScaler

    X = StandardScaler().fit_transform(X)
    X_train, X_test, y_train, y_test = train_test_split(X, y, random_state=0)
    scores = cross_val_score(model, X, y)
    """
    assert [f.line for f in findings("DEBT309", source)] == [4]


def test_fit_in_one_function_and_split_in_another_is_not_linked() -> None:
    source = """
    from sklearn.model_selection import train_test_split
    from sklearn.preprocessing import StandardScaler

    def scale(X):
        return StandardScaler().fit_transform(X)

    def split(X, y):
        return train_test_split(X, y, random_state=0)
    """
    assert findings("DEBT309", source) == []


def test_supervised_category_encoder_fitted_before_split() -> None:
    source = """
    import category_encoders as ce
    from sklearn.model_selection import train_test_split

    enc = ce.TargetEncoder(cols=["city"])
    df = enc.fit_transform(df, df["label"])
    train, test = train_test_split(df, random_state=0)
    """
    assert [f.line for f in findings("DEBT309", source)] == [5]


def test_leakage_in_test_files_is_not_reported() -> None:
    source = """
    from sklearn.model_selection import train_test_split
    from sklearn.preprocessing import StandardScaler

    def test_split():
        X = StandardScaler().fit_transform(load())
        train_test_split(X, random_state=0)
    """
    assert findings("DEBT309", source, path="tests/test_split.py") == []


def test_fitting_on_a_train_test_concatenation_bound_to_a_name() -> None:
    source = """
    import numpy as np
    from sklearn.preprocessing import StandardScaler

    both = np.vstack((X_train, X_valid))
    both = StandardScaler().fit_transform(both)
    """
    found = findings("DEBT309", source)
    assert [f.line for f in found] == [5]
    assert "training and test sets together" in found[0].message
