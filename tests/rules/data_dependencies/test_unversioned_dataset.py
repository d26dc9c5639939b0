"""DEBT712 unversioned_dataset: focused tests beyond the examples the rule carries."""

from __future__ import annotations

import pytest

from tests.conftest import rule_findings


def findings(source: str, path: str = "src/train.py"):
    return rule_findings("DEBT712", source, path=path)


READ = """
    from azureml.core import Dataset

    def main(ws, name):
        dataset = Dataset.get_by_name(ws, name=name{extra})
        return dataset.to_pandas_dataframe()
    """


def test_712_latest_written_out_is_still_unversioned() -> None:
    assert len(findings(READ.format(extra=', version="latest"'))) == 1


def test_712_chained_read() -> None:
    source = """
        from azureml.core.dataset import Dataset

        df = Dataset.get_by_name(ws, "taxi").to_pandas_dataframe()
        """
    assert len(findings(source)) == 1


@pytest.mark.parametrize("path", ["src/batch_score.py", "tests/test_train.py", "docs/train.py"])
def test_712_scoring_tests_and_docs_left_alone(path: str) -> None:
    assert findings(READ.format(extra=""), path=path) == []


def test_712_local_dataset_class_is_not_azure() -> None:
    source = """
        from .data import Dataset

        df = Dataset.get_by_name(ws, "taxi").to_pandas_dataframe()
        """
    assert findings(source) == []


def test_712_mlflow_stage_and_number_left_alone_latest_flagged() -> None:
    source = """
        import mlflow

        a = mlflow.pyfunc.load_model(model_uri="models:/churn/Staging")
        b = mlflow.pyfunc.load_model("models:/churn/3")
        c = mlflow.sklearn.load_model("models:/churn/latest")
        """
    assert [f.line for f in findings(source)] == [5]
