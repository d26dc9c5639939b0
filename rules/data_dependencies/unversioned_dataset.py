"""
What it does
------------
Flags code that reads a dataset or a model from a platform's registry by its name alone, so that
it gets whichever version was registered last:

- Azure ML (SDK v1) ``Dataset.get_by_name(ws, name)`` without ``version=`` (or with
  ``version="latest"``), when the same file reads the data it gets (``to_pandas_dataframe()``,
  ``download()``, ``mount()``, ``to_path()``...);
- Azure ML (SDK v2) ``Input(path="azureml:name@latest")``;
- MLflow model URIs that ask for the newest version:
  ``mlflow.pyfunc.load_model("models:/churn/latest")`` (f-strings too), in any ``mlflow`` loader.

A stage or an alias (``models:/churn/Production``, ``models:/churn@champion``) is a decision
someone took in the registry and is left alone, as are a dataset a pipeline builder only wires
into a step (nothing in the file reads it), batch scoring and serving scripts (``score.py``,
``batch_inference.py``: the newest data is what they are for), tests, documentation and
examples.

Hugging Face Hub datasets and models fetched without ``revision=`` are DEBT705's.

Why is this bad?
----------------
Registering a new version of a dataset or model is routine, and nobody expects it to change the
behaviour of code that has not changed. Code that asks for the newest version does change: the
next training run trains on other rows, an evaluation compares against another model, and the
metrics of two runs of the same commit stop being comparable. Unless the version is also logged,
nobody can say afterwards which data a model was trained on.

Example
-------
.. code-block:: python

    dataset = Dataset.get_by_name(ws, name=args.dataset_name)
    df = dataset.to_pandas_dataframe()

Use instead
-----------
Take the version from the pipeline's parameters (and log it with the run), so that moving to new
data is a visible change:

.. code-block:: python

    dataset = Dataset.get_by_name(ws, name=args.dataset_name, version=args.dataset_version)
    run.log("dataset_version", dataset.version)

References
----------
- Azure Machine Learning documentation: versioning and tracking datasets
- MLflow documentation: the model registry (model URIs, versions, aliases)
- Sculley et al., "Hidden Technical Debt in Machine Learning Systems": unstable data dependencies
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

import libcst as cst

from rules import Context, Example, Rule
from rules.names import dotted, keyword, string_value

RULE = Rule(
    code="DEBT712",
    name="unversioned-dataset",
    principle="data-dependencies",
    severity="warning",
    # Off by default: every finding it made while tuning came from one repository
    # (dstoolkit-mlops-base), too little to know how it behaves elsewhere.
    default_enabled=False,
    disabled_because="measured on one repository only (4 findings in dstoolkit-mlops-base)",
    message="Name the version of {what} `{name}` that this code reads, instead of whichever was registered last.",
    valid=(
        # Near miss: the version is given.
        """
from azureml.core import Dataset

def main(ws, name, version):
    df = Dataset.get_by_name(ws, name=name, version=version).to_pandas_dataframe()
""",
        # Near miss: a pipeline builder only wires the dataset into a step.
        """
from azureml.core import Dataset

def build(ws, name):
    raw = Dataset.get_by_name(ws, name=name)
    return [raw.as_named_input("raw_data")]
""",
        # Near misses: a stage and an alias chosen in the registry, and a numbered version.
        """
import mlflow

model = mlflow.pyfunc.load_model("models:/churn/Production")
champion = mlflow.sklearn.load_model("models:/churn@champion")
pinned = mlflow.pyfunc.load_model("models:/churn/7")
""",
    ),
    invalid=(
        Example(
            """
from azureml.core import Dataset, Run

def main(dataset_name):
    ws = Run.get_context().experiment.workspace
    dataset = Dataset.get_by_name(ws, name=dataset_name)
    df = dataset.to_pandas_dataframe()
    return df
""",
            line=5,
        ),
        Example(
            """
import mlflow

def load(name):
    return mlflow.pyfunc.load_model(f"models:/{name}/latest")
""",
            line=4,
        ),
        Example(
            """
from azure.ai.ml import Input

training_data = Input(type="uri_folder", path="azureml:taxi-data@latest")
""",
            line=3,
        ),
    ),
)

_GET_BY_NAME = frozenset(
    {"azureml.core.Dataset.get_by_name", "azureml.core.dataset.Dataset.get_by_name"}
)
# What reads a dataset's rows or files.
_READS = frozenset(
    {
        "to_pandas_dataframe", "to_spark_dataframe", "to_dask_dataframe", "download", "mount",
        "as_mount", "as_download", "to_path", "to_csv_files", "to_parquet_files", "take",
        "take_sample", "random_split", "to_numpy",
    }
)  # fmt: skip
_LATEST_URI = re.compile(r"^models:/[^/@]+/latest$", re.IGNORECASE)
_AZURE_LATEST = re.compile(r"^azureml:(?P<name>[^:@/]+)@latest$", re.IGNORECASE)
# Scripts that score or serve: reading the newest registered data is their purpose.
_SCORING = re.compile(r"score|scoring|predict|inference|infer|serve|serving")
_EXCLUDED_DIRS = frozenset(
    {"docs", "doc", "examples", "example", "tutorials", "tutorial", "notebooks", "samples"}
)


@dataclass
class State:
    # Datasets fetched by name: bound name -> (call, ancestors).
    fetched: dict[str, tuple[cst.Call, list[cst.CSTNode]]] = field(default_factory=dict)
    read: list[tuple[cst.Call, list[cst.CSTNode]]] = field(default_factory=list)


def _unversioned(call: cst.Call) -> bool:
    if any(a.star == "**" for a in call.args):
        return False
    version = keyword(call, "version")
    if version is None:
        positional = [a for a in call.args if a.keyword is None and not a.star]
        version = positional[2] if len(positional) > 2 else None
    if version is None:
        return True
    return (string_value(version.value) or "").lower() == "latest"


def _dataset_name(call: cst.Call, ctx: Context[State]) -> str:
    name = keyword(call, "name")
    if name is None:
        positional = [a for a in call.args if a.keyword is None and not a.star]
        name = positional[1] if len(positional) > 1 else None
    if name is None:
        return "the dataset"
    text = string_value(name.value)
    return text if text is not None else ctx.code(name.value)


def _uri_text(node: cst.BaseExpression) -> str | None:
    text = string_value(node)
    if text is None and isinstance(node, cst.FormattedString):
        text = "".join(
            part.value
            if isinstance(part, cst.FormattedStringText)
            else "<" + _placeholder(part) + ">"
            for part in node.parts
        )
    return text


def _placeholder(part: cst.CSTNode) -> str:
    expression = getattr(part, "expression", None)
    return (dotted(expression) or "name") if expression is not None else "name"


def visit_Assign(node: cst.Assign, ctx: Context[State]) -> None:
    value = node.value
    if not (isinstance(value, cst.Call) and (ctx.call_name(value) or "") in _GET_BY_NAME):
        return
    for target in node.targets:
        if isinstance(target.target, cst.Name):
            ctx.state.fetched[target.target.value] = (value, list(ctx.ancestors))


def visit_Call(node: cst.Call, ctx: Context[State]) -> None:
    func = node.func
    if isinstance(func, cst.Attribute) and func.attr.value in _READS:
        owner = func.value
        if isinstance(owner, cst.Call) and (ctx.call_name(owner) or "") in _GET_BY_NAME:
            ctx.state.read.append((owner, list(ctx.ancestors)))
        elif isinstance(owner, cst.Name) and owner.value in ctx.state.fetched:
            ctx.state.read.append(ctx.state.fetched[owner.value])
        return
    qualified = ctx.call_name(node) or ""
    if not qualified.startswith(("mlflow.", "azure.ai.ml.")) or _excluded(ctx):
        return
    if qualified.startswith("mlflow.") and (
        qualified.endswith(("load_model", "spark_udf")) or qualified.endswith("download_artifacts")
    ):
        uri = keyword(node, "model_uri") or keyword(node, "artifact_uri")
        if uri is None and node.args and node.args[0].keyword is None:
            uri = node.args[0]
        text = _uri_text(uri.value) if uri is not None else None
        match = _LATEST_URI.match(text or "")
        if match is not None:
            ctx.report(node, what="the registered model", name=text)
        return
    if qualified in ("azure.ai.ml.Input", "azure.ai.ml.entities.Data"):
        path = keyword(node, "path")
        text = string_value(path.value) if path is not None else None
        match = _AZURE_LATEST.match(text or "")
        if match is not None:
            ctx.report(node, what="the data asset", name=match.group("name"))


def _excluded(ctx: Context[State]) -> bool:
    parts = ctx.path.lower().split("/")[:-1]
    return ctx.is_test or any(part in _EXCLUDED_DIRS for part in parts)


def leave_Module(node: cst.Module, ctx: Context[State]) -> None:
    if not ctx.state.read or _excluded(ctx):
        return
    if _SCORING.search(ctx.path.rsplit("/", 1)[-1].lower()):
        return  # batch scoring is meant to read the newest data
    seen: set[int] = set()
    for call, ancestors in ctx.state.read:
        if id(call) in seen or not _unversioned(call):
            continue
        seen.add(id(call))
        ctx.report_from(call, ancestors, what="the dataset", name=_dataset_name(call, ctx))
