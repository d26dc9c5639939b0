"""DEBT501 pandas_inplace: focused tests beyond the examples the rule carries."""

from __future__ import annotations

from tests.conftest import rule_findings

findings = rule_findings


def test_inplace_replacement_keeps_indentation_and_comment() -> None:
    found = findings(
        "DEBT501",
        """
        def clean(df):
        \tif df is not None:
        \t\tdf.dropna(subset=["a"], inplace=True)  # rows without label
        \treturn df
        """,
    )
    assert [f.line for f in found] == [3]
    assert found[0].replacement == '\t\tdf = df.dropna(subset=["a"])  # rows without label'


def test_inplace_no_replacement_when_unsafe() -> None:
    found = findings(
        "DEBT501",
        """
        import pandas as pd

        pd.eval("c = df.a + df.b", target=df, inplace=True)
        df.rename(
            columns={"a": "b"}, inplace=True
        )
        df.sort_values("ts", inplace=True); n = len(df)
        x = df.fillna(0, inplace=True)
        df.loc[mask, "a"].fillna(0, inplace=True)
        """,
    )
    assert [f.line for f in found] == [3, 4, 7, 8, 9]
    assert all(f.replacement is None for f in found)


def test_inplace_ignores_other_libraries() -> None:
    assert not findings(
        "DEBT501",
        """
        import pyvista as pv

        mesh = pv.read("part.stl")
        mesh.clip(normal="x", inplace=True)
        """,
    )
    assert not findings(
        "DEBT501",
        """
        import torch

        torch.nn.functional.dropout(x, inplace=True)
        torch.clip(x, 0, 1)
        """,
    )


def test_inplace_replacement_for_names_bound_in_the_function() -> None:
    found = findings(
        "DEBT501",
        """
        def load(path):
            frame = read(path)
            frame.reset_index(drop=True, inplace=True)
            return frame
        """,
    )
    assert found[0].replacement == "    frame = frame.reset_index(drop=True)"
