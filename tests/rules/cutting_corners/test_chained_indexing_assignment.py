"""DEBT305 chained_indexing_assignment: focused tests beyond the examples the rule carries."""

from __future__ import annotations

from tests.conftest import rule_findings

findings = rule_findings


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
