"""DEBT707 io_at_import: focused tests beyond the examples the rule carries."""

from __future__ import annotations

import pytest

from tests.conftest import rule_findings

PACKAGE = ("pipeline/__init__.py",)


def import_findings(source: str, path: str = "pipeline/features.py", files=PACKAGE):
    return rule_findings("DEBT707", source, path=path, files=(path, *files))


@pytest.mark.parametrize(
    "statement",
    [
        'MODEL = torch.load("model.pt")',
        'TABLE = pd.read_parquet("data/lookup.parquet")',
        'ENCODER = joblib.load("encoder.joblib")',
        'LABELS = pickle.load(open("labels.pkl", "rb"))',
        'nltk.download("stopwords")',
        'PAGE = urllib.request.urlopen("https://example.org").read()',
        'RESPONSE = httpx.get("https://example.org/labels.json")',
        'DATA = load_dataset("imdb")',
        "HOUSING = fetch_california_housing()",
        'TOKENIZER = AutoTokenizer.from_pretrained("gpt2")',
    ],
)
def test_707_reads_and_downloads_at_module_level(statement: str) -> None:
    source = f"""
        import pickle
        import urllib.request

        import httpx
        import joblib
        import nltk
        import pandas as pd
        import torch
        from datasets import load_dataset
        from sklearn.datasets import fetch_california_housing
        from transformers import AutoTokenizer

        {statement}
        """
    assert len(import_findings(source)) == 1


def test_707_one_finding_per_statement_and_in_order() -> None:
    source = """
        import json

        with open("labels.json") as handle:
            LABELS = json.load(handle)
        SIZES = json.load(open("sizes.json"))
        """
    assert [f.line for f in import_findings(source)] == [3, 5]


def test_707_inside_functions_classes_and_main_guards_is_fine() -> None:
    source = """
        import joblib

        class Model:
            weights = None

            def load(self):
                self.weights = joblib.load("weights.joblib")

        handler = lambda: joblib.load("other.joblib")
        """
    assert import_findings(source) == []


@pytest.mark.parametrize(
    ("path", "files"),
    [
        ("features.py", ()),  # no package
        ("pipeline/features.py", ()),  # a folder without __init__.py
        ("scripts/features.py", ("scripts/__init__.py",)),
        ("util_scripts/features.py", ("util_scripts/__init__.py",)),
        ("pipeline/__main__.py", PACKAGE),
        ("tests/test_features.py", ("tests/__init__.py",)),
        ("docs/conf.py", ("docs/__init__.py",)),
    ],
)
def test_707_scripts_and_loose_files_are_left_alone(path: str, files: tuple[str, ...]) -> None:
    source = 'import pandas as pd\n\nTABLE = pd.read_csv("data/table.csv")\n'
    assert import_findings(source, path=path, files=files) == []


@pytest.mark.parametrize(
    "tail",
    [
        "args = parser.parse_args()",
        "main()",
        "print(sys.argv)",
        "validator = CrossValidator(TABLE, folds=5)",
    ],
)
def test_707_module_that_runs_as_a_script(tail: str) -> None:
    source = f"""
        import argparse
        import sys

        import pandas as pd

        parser = argparse.ArgumentParser()
        TABLE = pd.read_csv("data/table.csv")

        def main():
            pass

        {tail}
        """
    assert import_findings(source) == []


def test_707_package_data_beside_the_module_is_fine_but_a_model_is_not() -> None:
    source = """
        import json
        import os
        from pathlib import Path

        import joblib

        HERE = Path(__file__).parent
        CONFIG_PATH = os.path.join(os.path.dirname(__file__), "config.json")

        with open(CONFIG_PATH) as handle:
            CONFIG = json.load(handle)
        VOCAB = json.load(open(HERE / "vocab.json"))
        MODEL = joblib.load(HERE / "model.joblib")
        """
    assert [f.line for f in import_findings(source)] == [13]


def test_707_the_module_own_loader_called_at_import() -> None:
    source = """
        import yaml

        def load_config(path="config.yaml"):
            with open(path) as handle:
                return yaml.safe_load(handle)

        def bundled():
            with open(Path(__file__).parent / "defaults.yaml") as handle:
                return yaml.safe_load(handle)

        CONFIG = load_config()
        DEFAULTS = bundled()
        """
    found = import_findings(source)
    assert [f.line for f in found] == [11]
    assert "`load_config()`" in found[0].message


def test_707_app_frameworks_run_top_to_bottom() -> None:
    source = 'import gradio as gr\nimport joblib\n\nmodel = joblib.load("model.joblib")\n'
    assert import_findings(source, path="pipeline/ui.py") == []


def test_707_download_when_missing_runs_once_per_machine() -> None:
    source = """
        import os

        import nltk

        try:
            nltk.data.find("corpora/stopwords")
        except LookupError:
            nltk.download("stopwords")
        if not os.path.exists("glove.txt"):
            urllib.request.urlretrieve("https://example.org/glove.txt", "glove.txt")
        """
    assert import_findings(source) == []


def test_707_machine_probe_and_documented_script() -> None:
    probe = """
        from pathlib import Path

        def is_docker():
            with open("/proc/self/cgroup") as file:
                return any("docker" in line for line in file)

        IN_DOCKER = is_docker()
        """
    assert import_findings(probe) == []
    script = '# Usage: $ python utils/aws/resume.py\nimport torch\n\nckpt = torch.load("last.pt")\n'
    assert import_findings(script) == []
    patched = 'import sys\nimport torch\n\nsys.path.append("..")\nckpt = torch.load("last.pt")\n'
    assert import_findings(patched) == []


@pytest.mark.parametrize(
    "statement",
    [
        'wandb.init(project="churn")',
        'mlflow.set_experiment("churn")',
        "TRACKER = Client().active_stack.experiment_tracker",
        'SECRET = Client().get_secret("openai")',
        "BUCKET = storage.Client().bucket('data')",
        "ROLE = sagemaker.get_execution_role()",
        "ray.init()",
        "CONNECTION = psycopg2.connect(DSN)",
    ],
)
def test_707_services_reached_at_module_level(statement: str) -> None:
    source = f"""
        import mlflow
        import psycopg2
        import ray
        import sagemaker
        import wandb
        from google.cloud import storage
        from zenml.client import Client

        {statement}
        """
    assert len(import_findings(source)) == 1


def test_707_lazy_clients_and_scripts_that_start_their_work_are_left_alone() -> None:
    lazy = """
        import boto3
        from mlflow.tracking import MlflowClient
        from zenml.client import Client

        S3 = boto3.client("s3")
        TRACKING = MlflowClient()
        CLIENT = Client()
        """
    assert import_findings(lazy) == []
    script = """
        from clearml import Task

        task = Task.init(project_name="hpo")
        optimizer = make_optimizer(task)
        optimizer.start_locally()
        """
    assert import_findings(script) == []
