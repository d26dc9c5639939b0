"""
What it does
------------
Flags a module of a package that reads or downloads data or a model when it is imported: a call
at module level (outside every function and class, and outside
``if __name__ == "__main__":``) that

- reads a file of data or a model (``pd.read_csv``, ``np.load``, ``torch.load``,
  ``joblib.load``, ``pickle.load``, ``from_pretrained``, ``load_dataset``, ``load_model``...) or
  opens a file for reading (``open("config.yaml")``);
- fetches something over the network (``requests.get``, ``httpx.post``,
  ``urllib.request.urlopen``, ``torch.hub.load``, ``hf_hub_download``, ``nltk.download``,
  scikit-learn's ``fetch_*``...);
- reaches a service: starts a run or looks up an experiment on a tracking server
  (``mlflow.set_experiment``, ``wandb.init``, ``neptune.init_run``, ZenML's
  ``Client().active_stack``), resolves cloud credentials or an account (``storage.Client()``,
  ``bigquery.Client()``, ``sagemaker.Session()``, ``get_execution_role()``,
  ``Workspace.from_config()``), starts a cluster (``ray.init()``) or opens a database
  connection (``psycopg2.connect``). Clients that connect only when used (``boto3.client``,
  ``MlflowClient()``, ``create_engine``) are left alone.

Only modules that others import are judged: a file inside a package (its folder has an
``__init__.py``) that is no script. Scripts are left alone: files with a
``if __name__ == "__main__":`` guard, files that parse the command line, call their ``main()``
(or start their work, ``optimizer.start()``, ``trainer.fit(model)``),
patch ``sys.path`` or hand the data they read to more work at module level, files whose header
says how to run them (``# Usage: python resume.py``), ``__main__.py``, files under
``scripts/``, ``examples/``, ``notebooks/``, ``tutorials/`` or ``docs/``, tests,
``conftest.py``, ``setup.py``, ``hubconf.py``, and Streamlit or Gradio apps, which run from top
to bottom by design. Also left alone: a download in the fallback of a presence check
(``except LookupError: nltk.download(...)``, ``if not path.exists(): ...``), which runs once per
machine, and a probe of the machine (``open("/proc/self/cgroup")``), which is no data. One
finding per statement; a call of one of the module's own functions that reads
(``CONFIG = load_config()``) counts as the read.

Reading a small configuration file at import counts when its path is relative to the working
directory (``open("config.yaml")``): the import then succeeds only when the process starts from
the folder that holds it. A file shipped beside the module and found through ``__file__`` or
``importlib.resources`` is package data, the same wherever the process starts, and opening it is
left alone; loading data or a model that way is still flagged.

Why is this bad?
----------------
Importing a module should be cheap and have no side effects. A module that loads a model,
downloads a dataset or calls a server when imported makes every importer pay for it: the test suite, a CLI's
``--help``, a worker that only needs one helper function, a documentation build. Worse, the
import fails when the file, the network or the credentials are missing, with a traceback pointing at an ``import``
line far from the cause, and the data read is fixed once per process, so a long-running service
never sees a new version and tests cannot substitute their own.

Example
-------
.. code-block:: python

    # churn/features.py
    import joblib
    import pandas as pd

    ENCODER = joblib.load("artifacts/encoder.joblib")
    REGIONS = pd.read_csv("data/regions.csv")
    mlflow.set_experiment("churn")

Use instead
-----------
Load on first use, or in the function that needs it, and pass the location in; start runs and
build clients in the entry point that needs them:

.. code-block:: python

    from functools import cache

    @cache
    def encoder(path="artifacts/encoder.joblib"):
        return joblib.load(path)

References
----------
- Python documentation: the import system (a module's code runs once, at import)
- pylint and Google Python Style Guide advice on module-level side effects ("main" guards)
- Sculley et al., "Hidden Technical Debt in Machine Learning Systems": glue code, pipeline jungles
"""

from __future__ import annotations

import posixpath
import re
from dataclasses import dataclass, field

import libcst as cst

from rules import Context, Example, Rule
from rules.ml.data_calls import (
    USED_AT_ONCE,
    contacts_service,
    downloads,
    loads_model,
    opened,
    opened_by,
    reads_data,
)
from rules.names import bound_names, string_value

RULE = Rule(
    code="DEBT707",
    name="io-at-import",
    principle="data-dependencies",
    severity="warning",
    message="Move `{call}` into the code that needs the {what} (a function, or a cached loader) so that importing this module does not {does}.",
    valid=(
        # Near miss: read inside a function, on first use.
        Example(
            """
import joblib
from functools import cache

@cache
def encoder():
    return joblib.load("artifacts/encoder.joblib")
""",
            path="churn/features.py",
            files=("churn/__init__.py",),
        ),
        # Near miss: a script, guarded by its main block.
        Example(
            """
import pandas as pd

def main():
    pass

if __name__ == "__main__":
    frame = pd.read_csv("data/train.csv")
    main()
""",
            path="churn/prepare.py",
            files=("churn/__init__.py",),
        ),
        # Near miss: a loose file, not part of a package.
        Example(
            """
import pandas as pd

frame = pd.read_csv("data/train.csv")
""",
            path="analysis.py",
        ),
        # Near miss: a client that connects only when it is used.
        Example(
            """
import boto3
from zenml.client import Client

s3 = boto3.client("s3")
client = Client()
""",
            path="pipeline/storage.py",
            files=("pipeline/__init__.py",),
        ),
        # Near miss: the run is started by the entry point, under its main guard.
        Example(
            """
import wandb

def train(config):
    pass

if __name__ == "__main__":
    wandb.init(project="churn")
    train({})
""",
            path="churn/train.py",
            files=("churn/__init__.py",),
        ),
        # Near miss: a Streamlit app runs from top to bottom.
        Example(
            """
import streamlit as st
import joblib

model = joblib.load("model.joblib")
st.write(model.predict([[1, 2]]))
""",
            path="app/dashboard.py",
            files=("app/__init__.py",),
        ),
    ),
    invalid=(
        Example(
            """
import joblib
import pandas as pd

ENCODER = joblib.load("artifacts/encoder.joblib")
REGIONS = pd.read_csv("data/regions.csv")
""",
            path="churn/features.py",
            files=("churn/__init__.py",),
            line=4,
        ),
        Example(
            """
import requests

LABELS = requests.get("https://example.org/labels.json").json()
""",
            path="serving/labels.py",
            files=("serving/__init__.py",),
            line=3,
        ),
        Example(
            """
import yaml

with open("config.yaml") as handle:
    CONFIG = yaml.safe_load(handle)
""",
            path="pipeline/settings.py",
            files=("pipeline/__init__.py",),
            line=3,
        ),
        Example(
            """
from transformers import AutoTokenizer

tokenizer = AutoTokenizer.from_pretrained("bert-base-uncased")

def encode(text):
    return tokenizer(text)
""",
            path="nlp/__init__.py",
            line=3,
        ),
        Example(
            """
from zenml.client import Client
from zenml import step

experiment_tracker = Client().active_stack.experiment_tracker

@step(experiment_tracker=experiment_tracker.name)
def trainer(data):
    pass
""",
            path="steps/trainer.py",
            files=("steps/__init__.py",),
            line=4,
        ),
        Example(
            """
import mlflow
from google.cloud import storage

mlflow.set_experiment("churn")
bucket = storage.Client().bucket("churn-data")
""",
            path="churn/tracking.py",
            files=("churn/__init__.py",),
            line=4,
        ),
    ),
)


@dataclass
class State:
    nested: int = 0  # depth of functions, classes and main guards around the node visited
    script: bool = False  # the module runs as a script (a main guard, argv, a UI app)
    # Import-time reads: (call, what, does, ancestors), one per module-level statement.
    found: list[tuple[cst.Call, str, str, list[cst.CSTNode]]] = field(default_factory=list)
    statements: set[int] = field(default_factory=set)
    functions: dict[str, cst.FunctionDef] = field(default_factory=dict)  # module level
    # Module-level calls of the module's own functions: (call, name, ancestors).
    helpers: list[tuple[cst.Call, str, list[cst.CSTNode]]] = field(default_factory=list)
    # Module-level names whose value is anchored to the package folder (``__file__``).
    anchored: set[str] = field(default_factory=set)
    loaded: set[str] = field(default_factory=set)  # names bound to data read at import
    # What a finding shows of a call: the whole chain (``Client().active_stack.name``).
    shown: dict[int, cst.BaseExpression] = field(default_factory=dict)


_SCRIPT_DIRS = frozenset(
    {
        "scripts", "script", "examples", "example", "notebooks", "notebook", "tutorials",
        "tutorial", "docs", "doc", "demo", "demos", "bin", "tools",
    }
)  # fmt: skip
_SCRIPT_FILES = frozenset(
    {"__main__.py", "setup.py", "conftest.py", "hubconf.py", "noxfile.py", "manage.py"}
)
# Frameworks that run a module from top to bottom as an app.
_APP_FRAMEWORKS = frozenset({"streamlit", "gradio", "panel", "dash"})
_PARSE = frozenset({"parse_args", "parse_known_args"})
_SYS_PATH = frozenset({"sys.path.append", "sys.path.insert", "sys.path.extend"})
# A header that says how to run the file: ``# Usage: $ python utils/aws/resume.py``.
_USAGE = re.compile(r"\busage:?\s*\$?\s*python[0-9.]*\s", re.IGNORECASE)
# Functions a script calls at module level to do its work.
_ENTRY_FUNCTIONS = frozenset({"main", "run", "cli", "app"})
# Methods a script calls, as statements of its own at module level, to do its work
# (``optimizer.start_locally()``, ``trainer.fit(model)``).
_WORK_METHODS = frozenset(
    {"start", "start_locally", "wait", "run", "fit", "train", "optimize", "launch", "execute"}
)
# Builtins that only reshape what they are given: passing loaded data to them is no more work.
_RESHAPING = frozenset(
    {"set", "frozenset", "list", "tuple", "dict", "sorted", "len", "str", "int", "float"}
)
# What places a file beside the module rather than in the working directory.
_ANCHORS = ("__file__", "importlib.resources", "pkg_resources", "importlib_resources")
_WORD = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
# Files that describe the machine (``/proc/self/cgroup``), not data.
_SYSTEM_FILE = re.compile(r"^/(proc|sys|etc|dev)/")
# Checks whether something is already there, before fetching it.
_PRESENCE = re.compile(r"\b(exists|isfile|isdir|is_file|is_dir|find)\(")
_SHORTEN = re.compile(r"\s+")
# (what is reached, what the import does) for each kind of service call of ``rules.ml``.
_SERVICES = {
    "tracking": ("tracking server", "contact the tracking server"),
    "platform": ("platform's server", "query the platform's server"),
    "cloud": ("cloud service", "call the cloud"),
    "cluster": ("cluster", "start a cluster"),
    "database": ("database connection", "connect to a database"),
}


def _scope_in(ctx: Context[State]) -> None:
    ctx.state.nested += 1


def _scope_out(ctx: Context[State]) -> None:
    ctx.state.nested -= 1


def visit_FunctionDef(node: cst.FunctionDef, ctx: Context[State]) -> None:
    if not ctx.state.nested:
        ctx.state.functions[node.name.value] = node
    _scope_in(ctx)


def leave_FunctionDef(node: cst.FunctionDef, ctx: Context[State]) -> None:
    _scope_out(ctx)


def visit_ClassDef(node: cst.ClassDef, ctx: Context[State]) -> None:
    _scope_in(ctx)


def leave_ClassDef(node: cst.ClassDef, ctx: Context[State]) -> None:
    _scope_out(ctx)


def visit_Lambda(node: cst.Lambda, ctx: Context[State]) -> None:
    _scope_in(ctx)


def leave_Lambda(node: cst.Lambda, ctx: Context[State]) -> None:
    _scope_out(ctx)


def _main_guard(node: cst.If) -> bool:
    test = node.test
    if not isinstance(test, cst.Comparison):
        return False
    parts = [test.left, *(c.comparator for c in test.comparisons)]
    names = {p.value for p in parts if isinstance(p, cst.Name)}
    return "__name__" in names and any(string_value(p) == "__main__" for p in parts)


def visit_If(node: cst.If, ctx: Context[State]) -> None:
    if _main_guard(node):
        ctx.state.script = True
        _scope_in(ctx)


def leave_If(node: cst.If, ctx: Context[State]) -> None:
    if _main_guard(node):
        _scope_out(ctx)


def visit_Attribute(node: cst.Attribute, ctx: Context[State]) -> None:
    if node.attr.value == "argv" and ctx.qualified_name(node) == "sys.argv":
        ctx.state.script = True


def _what(
    call: cst.Call, ctx: Context[State], parent: cst.CSTNode | None = None
) -> tuple[str, str] | None:
    """(what is read, what the import does) for an import-time read or download, else None.

    A file opened beside the module (its location built from ``__file__`` or found through
    ``importlib.resources``) is package data, the same wherever the process starts: reading a
    small configuration or vocabulary that way is left alone. Data and models are not.
    """
    if downloads(call, ctx):
        if _fetched_when_missing(ctx):
            return None
        return "downloaded files", "go to the network"
    service = contacts_service(call, ctx)
    if service is not None:
        parent = ctx.parent() if parent is None else parent
        if ctx.call_name(call) in USED_AT_ONCE and not _used_at_once(call, parent):
            return None
        return _SERVICES[service]
    found = loads_model(call, ctx)
    if found is not None:
        return "model", "load a model"
    found = reads_data(call, ctx)
    if found is not None and not _anchored_handle(found.location, ctx):
        return "data", "read files"
    file = opened(call, ctx)
    if file is not None and not file.writes and not _anchored(file.location, ctx):
        location = string_value(file.location) if file.location is not None else None
        if location is not None and _SYSTEM_FILE.match(location):
            return None  # a probe of the machine (``/proc/self/cgroup``), not data
        return "file", "read files"
    return None


def _used_at_once(call: cst.Call, parent: cst.CSTNode | None) -> bool:
    """Whether something is asked of the object a call builds in the same expression
    (``Client().active_stack``)."""
    return isinstance(parent, cst.Attribute) and parent.value is call


def _fetched_when_missing(ctx: Context[State]) -> bool:
    """A download in the fallback of a presence check (``except LookupError:`` after
    ``nltk.data.find``, ``if not path.exists():``): it runs once per machine, not per import."""
    for node in ctx.ancestors:
        if isinstance(node, cst.ExceptHandler):
            return True
        if isinstance(node, cst.If) and _PRESENCE.search(ctx.code(node.test)):
            return True
    return False


def _anchored(expr: cst.BaseExpression | None, ctx: Context[State]) -> bool:
    """Whether a location is built from the module's own folder."""
    if expr is None:
        return False
    code = ctx.code(expr)
    if any(anchor in code for anchor in _ANCHORS):
        return True
    return any(name in ctx.state.anchored for name in _WORD.findall(code))


def _anchored_handle(expr: cst.BaseExpression | None, ctx: Context[State]) -> bool:
    """A reader given a file object opened beside the module (``json.load(handle)``)."""
    if not isinstance(expr, cst.Name | cst.Call):
        return False
    file = opened_by(expr, ctx, ctx.ancestors)
    return file is not None and _anchored(file.location, ctx)


def visit_Assign(node: cst.Assign, ctx: Context[State]) -> None:
    if ctx.state.nested:
        return
    if _anchored(node.value, ctx):
        for target in node.targets:
            ctx.state.anchored.update(bound_names(target.target))


def visit_Call(node: cst.Call, ctx: Context[State]) -> None:
    state = ctx.state
    if state.nested:
        return
    func = node.func
    if isinstance(func, cst.Attribute) and (
        func.attr.value in _PARSE or ctx.call_name(node) in _SYS_PATH
    ):
        # The command line parsed, or the import path patched to reach the project's other
        # modules: a script run from a checkout, without a guard.
        state.script = True
        return
    if (
        isinstance(func, cst.Attribute)
        and func.attr.value in _WORK_METHODS
        and isinstance(ctx.parent(), cst.Expr)
    ):
        state.script = True  # the module does its work when run: a script without a guard
        return
    if isinstance(func, cst.Name) and func.value in state.functions:
        if func.value in _ENTRY_FUNCTIONS and isinstance(ctx.parent(), cst.Expr):
            state.script = True  # main() called at module level: a script without a guard
        else:
            state.helpers.append((node, func.value, list(ctx.ancestors)))
        return
    if state.loaded and _passes_loaded(node, state):
        # Data read is handed on to more work at module level (a validator, a grid search):
        # the module is a script run for its effect, whatever its folder. (A model handed to
        # the app that serves it is still a module's setup.)
        state.script = True
        return
    found = _what(node, ctx)
    if found is not None:
        _found(node, found, list(ctx.ancestors), state)
        state.shown[id(node)] = _chain(node, ctx.ancestors)
        statement = ctx.ancestors[1] if len(ctx.ancestors) > 1 else None
        if found[0] == "data" and isinstance(statement, cst.SimpleStatementLine):
            for small in statement.body:
                if isinstance(small, cst.Assign):
                    for target in small.targets:
                        state.loaded.update(bound_names(target.target))


def _passes_loaded(call: cst.Call, state: State) -> bool:
    if isinstance(call.func, cst.Name) and call.func.value in _RESHAPING:
        return False
    return any(isinstance(a.value, cst.Name) and a.value.value in state.loaded for a in call.args)


def _found(
    call: cst.Call, found: tuple[str, str], ancestors: list[cst.CSTNode], state: State
) -> None:
    statement = ancestors[1] if len(ancestors) > 1 else call
    if id(statement) not in state.statements:
        state.statements.add(id(statement))
        state.found.append((call, *found, ancestors))


def _reads_in(function: cst.FunctionDef, ctx: Context[State]) -> tuple[str, str] | None:
    """What a module-level function of the file reads or downloads, when it does."""
    code = ctx.code(function)
    if any(anchor in code for anchor in _ANCHORS) or any(
        name in ctx.state.anchored for name in _WORD.findall(code)
    ):
        return None
    pending: list[tuple[cst.CSTNode, cst.CSTNode]] = [(function.body, function)]
    while pending:
        node, parent = pending.pop()
        if isinstance(node, cst.FunctionDef | cst.ClassDef | cst.Lambda):
            continue
        if isinstance(node, cst.Call):
            found = _what(node, ctx, parent)
            if found is not None:
                return found
        pending.extend((child, node) for child in node.children)
    return None


def _in_package(ctx: Context[State]) -> bool:
    folder = posixpath.dirname(ctx.path)
    return posixpath.join(folder, "__init__.py") in ctx.files if folder else False


def _script_path(path: str) -> bool:
    parts = path.lower().split("/")
    return parts[-1] in _SCRIPT_FILES or any(
        part in _SCRIPT_DIRS or "script" in part for part in parts[:-1]
    )


def _app(ctx: Context[State]) -> bool:
    return any(name.split(".", 1)[0] in _APP_FRAMEWORKS for name in ctx.aliases.values())


def _chain(call: cst.Call, ancestors: list[cst.CSTNode]) -> cst.BaseExpression:
    """The attribute and call chain a call starts (``Client().active_stack.experiment_tracker``)."""
    node: cst.BaseExpression = call
    for parent in reversed(ancestors):
        if (isinstance(parent, cst.Attribute) and parent.value is node) or (
            isinstance(parent, cst.Call) and parent.func is node
        ):
            node = parent
        else:
            break
    return node


def _shown(call: cst.BaseExpression, ctx: Context[State]) -> str:
    text = _SHORTEN.sub(" ", ctx.code(call)).replace("( ", "(").replace(" )", ")")
    return text if len(text) <= 60 else text[:57] + "..."


def leave_Module(node: cst.Module, ctx: Context[State]) -> None:
    state = ctx.state
    if not (state.found or state.helpers) or state.script or ctx.is_test:
        return
    if not _in_package(ctx) or _script_path(ctx.path) or _app(ctx):
        return
    if _USAGE.search(ctx.text, 0, 2000):
        return
    for call, name, ancestors in state.helpers:
        found = _reads_in(state.functions[name], ctx)
        if found is not None:
            _found(call, found, ancestors, state)
    for call, what, does, ancestors in sorted(state.found, key=lambda f: _start(f[3], f[0])):
        shown = _shown(state.shown.get(id(call), call), ctx)
        ctx.report_from(call, ancestors, call=shown, what=what, does=does)


def _start(ancestors: list[cst.CSTNode], call: cst.Call) -> int:
    """The order of a module-level statement in the module."""
    statement = ancestors[1] if len(ancestors) > 1 else call
    module = ancestors[0] if ancestors else None
    if isinstance(module, cst.Module):
        for index, node in enumerate(module.body):
            if node is statement:
                return index
    return 0
