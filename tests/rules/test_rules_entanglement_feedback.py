"""Focused tests for the changing-anything (DEBT50x) and feedback-loops (DEBT60x) rules."""

from __future__ import annotations

from tests.conftest import rule_findings

findings = rule_findings


# -- DEBT501 pandas-inplace ----------------------------------------------------------------------


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


# -- DEBT502 mutated-dataframe-argument ----------------------------------------------------------


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


# -- DEBT503 global-state ------------------------------------------------------------------------


def test_global_early_return_is_lazy_initialisation() -> None:
    assert not findings(
        "DEBT503",
        """
        _encoder = None

        def encoder():
            global _encoder
            if _encoder is not None:
                return _encoder
            _encoder = load_encoder()
            return _encoder
        """,
    )


def test_global_reports_only_rebound_names() -> None:
    found = findings(
        "DEBT503",
        """
        def configure(cfg):
            global CONFIG, LOGGER
            LOGGER.info("configuring")
            CONFIG = cfg

        def nested():
            def inner():
                global counter
                counter += 1
            return inner
        """,
    )
    assert [f.line for f in found] == [2, 8]
    assert "`CONFIG`" in found[0].message and "LOGGER" not in found[0].message


# -- DEBT601 prediction-feedback -----------------------------------------------------------------


def test_feedback_through_paths_built_from_constants() -> None:
    found = findings(
        "DEBT601",
        """
        from pathlib import Path

        import pandas as pd

        DATA = Path("data")

        def train(model):
            df = pd.read_parquet(DATA / "train.parquet")
            model.fit(df[FEATURES], df["y"])

        def score(model, batch):
            batch["y"] = model.predict(batch[FEATURES])
            batch.to_parquet(f"{DATA}/train.parquet")
        """,
    )
    assert [f.line for f in found] == [13]
    assert "`data/train.parquet`" in found[0].message


def test_feedback_through_own_training_function() -> None:
    found = findings(
        "DEBT601",
        """
        import csv

        import pandas as pd

        LABELS = "labels.csv"

        def train(model, frame):
            model.fit(frame[["x"]], frame["y"])

        def main(model, rows):
            train(model, pd.read_csv(LABELS))
            preds = model.predict(rows)
            with open(LABELS, "a") as f:
                writer = csv.writer(f)
                writer.writerows(zip(rows, preds))
        """,
    )
    assert [f.line for f in found] == [15]


def test_feedback_needs_predictions_and_same_location() -> None:
    assert not findings(
        "DEBT601",
        """
        import numpy as np

        X = np.load("features.npy")
        model.fit(X, y)
        np.save("features.npy", X * 2)
        np.save("predictions.npy", model.predict(X))
        """,
    )


# -- DEBT602 self-training-on-own-scores ---------------------------------------------------------


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
