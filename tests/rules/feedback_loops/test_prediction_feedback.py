"""DEBT601 prediction_feedback: focused tests beyond the examples the rule carries."""

from __future__ import annotations

from tests.conftest import rule_findings

findings = rule_findings


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
