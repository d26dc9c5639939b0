"""Focused tests for DEBT305, DEBT504, DEBT309, DEBT1103 and DEBT1104 beyond their examples."""

from __future__ import annotations

from tests.conftest import rule_findings

findings = rule_findings


# DEBT305 chained-indexing-assignment


def test_chained_assignment_on_an_attribute_frame_set_in_another_method() -> None:
    source = """
    import pandas as pd

    class Loader:
        def __init__(self, path):
            self.df = pd.read_csv(path)

        def clean(self):
            self.df["age"][0] = 30
    """
    found = findings("DEBT305", source)
    assert [f.line for f in found] == [8]
    assert found[0].replacement is None  # `df["age"][0]` is not always `df.loc[0, "age"]`


def test_rebinding_a_frame_name_to_a_dict_clears_it() -> None:
    source = """
    import pandas as pd

    data = pd.read_csv("x.csv")
    data = {"a": {"b": 1}}
    data["a"]["b"] = 2
    """
    assert findings("DEBT305", source) == []


def test_optional_frame_annotation_counts_as_evidence() -> None:
    source = """
    from typing import Optional
    import pandas as pd

    def fix(df: Optional[pd.DataFrame]):
        df["a"]["x"] = 1
    """
    assert [f.line for f in findings("DEBT305", source)] == [5]


def test_augmented_chained_assignment_has_no_suggestion() -> None:
    source = """
    import pandas as pd

    df = pd.read_csv("x.csv")
    df["clicks"][df["clicks"] > 100] += 1
    """
    found = findings("DEBT305", source)
    assert [f.line for f in found] == [4]
    assert found[0].replacement is None


def test_masked_chain_without_pandas_in_the_file_is_left_alone() -> None:
    source = """
    import numpy as np

    X[X[:, 0] > 0][:, 1] = 0
    """
    assert findings("DEBT305", source) == []


# DEBT504 implicit-merge-keys


def test_keys_given_by_position_are_explicit() -> None:
    source = """
    import pandas as pd

    out = pd.merge(a, b, "left", "user_id")
    out2 = a.merge(b, "left", "user_id")
    """
    assert findings("DEBT504", source) == []


def test_cross_join_given_by_position_needs_no_keys() -> None:
    source = """
    import pandas as pd

    grid = pd.merge(a, b, "cross")
    """
    assert findings("DEBT504", source) == []


def test_merge_on_a_chained_receiver_is_reported() -> None:
    source = """
    import pandas as pd

    out = pd.read_csv("a.csv").merge(pd.read_csv("b.csv"), how="left")
    """
    found = findings("DEBT504", source)
    assert [f.line for f in found] == [3]
    assert "`merge()`" in found[0].message


# DEBT309 fit-before-split


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


# DEBT1103 default-hyperparameters


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


# DEBT1104 threshold-dependent-validation


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
