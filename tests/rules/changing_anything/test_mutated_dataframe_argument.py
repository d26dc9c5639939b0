"""DEBT502 mutated_dataframe_argument: focused tests beyond the examples the rule carries."""

from __future__ import annotations

from tests.conftest import rule_findings

findings = rule_findings


def test_mutation_through_annotation_and_first_write_only() -> None:
    found = findings(
        "DEBT502",
        """
        from typing import Optional

        import pandas as pd

        def enrich(data: Optional[pd.DataFrame], rows: "pd.DataFrame") -> None:
            data["a"] = 1
            data["b"] = 2
            rows.at[0, "c"] = 3
        """,
    )
    assert [(f.line, f.message.split("`")[1]) for f in found] == [(6, "data"), (8, "rows")]


def test_mutation_checks_stop_at_rebinding() -> None:
    assert not findings(
        "DEBT502",
        """
        def prepare(df, X):
            for df in split(df):
                df["a"] = 1
            X = X.astype(float)
            X[:, 0] = 0
            with open_frame() as df:
                df["b"] = 2
        """,
    )


def test_mutation_forms() -> None:
    found = findings(
        "DEBT502",
        """
        def drop_col(df):
            del df["tmp"]

        def bump(X_train):
            X_train[:, 0] += 1

        def add(df):
            df.insert(0, "id", range(len(df)))

        def push(X, row):
            X.insert(row)
        """,
    )
    assert [f.line for f in found] == [2, 5, 8]


def test_mutation_skips_tests_and_nested_scopes() -> None:
    source = """
    def outer(df):
        def inner(rows):
            rows["a"] = 1
        return inner
    """
    assert not findings("DEBT502", source)
    assert not findings("DEBT502", "def f(df):\n    df['a'] = 1\n", path="tests/test_f.py")
