"""
What it does
------------
Flags a call that writes a model's predictions (``to_csv``, ``to_parquet``, ``to_sql``,
``np.save``, ``json.dump``, ``joblib.dump``, ``torch.save``, ``f.write`` on a file opened for
writing ...) to a location that the same file also reads as training input: the result of the
read (``read_csv``, ``read_parquet``, ``read_sql``, ``np.load``, ``json.load``, ``torch.load``
...) flows into a ``fit`` call. A model saving itself (``save_pretrained``, ``save_model``) writes
no predictions and is not a finding.

A location is a string literal, a path built from literals (``os.path.join``, ``Path(...) / ...``,
f-strings), a module-level constant, or a dotted name such as ``config.TRAIN_PATH``; for SQL the
table names after ``FROM``/``JOIN`` are compared with the table given to ``to_sql`` or
``INSERT INTO``. Values are followed through assignments in statement order, within a function or
at module level, and through calls to the file's own functions (a loader that returns what it
read, a ``train(df)`` that fits on its argument). Predictions written to any other location, and
data other than predictions written back, are not findings. Neither is stacking through a file:
when the model fitted on the location and the model whose predictions are written are both known
by name and differ (``base.predict`` written, ``meta.fit`` read back), another model learns from
the predictions on purpose. Test files are skipped.

Why is this bad?
----------------
The next training run learns from the model's own output as if it were observed data. Errors are
reinforced instead of corrected, the score distribution narrows, and metrics measured on that
data look better while the model gets worse. Because the loop goes through storage it is
invisible in the code that trains the model, and it is hard to undo once predictions and real
labels are mixed in the same file or table.

Example
-------
.. code-block:: python

    TRAIN = "data/labelled.parquet"

    train = pd.read_parquet(TRAIN)
    model.fit(train[FEATURES], train["label"])

    new = pd.read_parquet("data/incoming.parquet")
    new["label"] = model.predict(new[FEATURES])
    pd.concat([train, new]).to_parquet(TRAIN)

Use instead
-----------
Keep predictions in their own location, marked as predictions, and let only observed labels
reach the training set:

.. code-block:: python

    new["predicted_label"] = model.predict(new[FEATURES])
    new["model_version"] = MODEL_VERSION
    new.to_parquet("predictions/incoming_scored.parquet")

References
----------
- Sculley et al., "Hidden Technical Debt in Machine Learning Systems": hidden feedback loops
- Google, "Rules of Machine Learning", rule 36 (feedback loops with positional features)
- No equivalent rule in ruff, pylint or dslinter
"""

from __future__ import annotations

import posixpath
from dataclasses import dataclass, field

import libcst as cst

from rules import Context, Example, Rule
from rules.ml.data_calls import (
    HANDLE_WRAPPERS,
    PATH_JOINS,
    SAME_PATH,
    Access,
    access,
    moves_data,
    normal_location,
    opened,
    reads_data,
    table_written,
    tables_read,
    writes_data,
)
from rules.ml.dataflow import StatementWalk, assigned_names, block, calls
from rules.ml.estimators import FIT_FUNCTIONS, FIT_METHODS, PREDICT_METHODS
from rules.names import dotted, method_name, string_value

RULE = Rule(
    code="DEBT601",
    name="prediction-feedback",
    principle="feedback-loops",
    severity="warning",
    message="Write predictions to their own location, not to `{location}`, which this file also reads to fit a model.",
    valid=(
        # Near miss: predictions go to a submission file, training reads another file.
        """
import pandas as pd

train = pd.read_csv("data/train.csv")
test = pd.read_csv("data/test.csv")
model.fit(train[FEATURES], train["target"])
test["target"] = model.predict(test[FEATURES])
test[["id", "target"]].to_csv("submission.csv", index=False)
""",
        # Near miss: cleaned training data (not predictions) written back.
        """
import pandas as pd

df = pd.read_csv("data/train.csv")
df = df.dropna()
df.to_csv("data/train.csv", index=False)
model.fit(df[FEATURES], df["target"])
""",
        # Near miss: the file written is read, but only to score it, never to fit.
        """
import pandas as pd

def score(model):
    batch = pd.read_parquet("data/batch.parquet")
    batch["score"] = model.predict_proba(batch[FEATURES])[:, 1]
    batch.to_parquet("data/batch.parquet")
""",
        # Near miss: the model itself is saved where training loads it again, to resume.
        """
import torch

model = torch.load("checkpoints/model.pt")
model.fit(X, y)
preds = model.predict(X_new)
model.save_pretrained("checkpoints/model.pt")
""",
        # Near miss: stacking, a meta-model is trained on the base model's saved predictions.
        """
import numpy as np

oof = base.predict_proba(X_valid)[:, 1]
np.save("oof/base.npy", oof)
meta.fit(np.load("oof/base.npy").reshape(-1, 1), y_valid)
""",
    ),
    invalid=(
        Example(
            """
import pandas as pd

TRAIN = "data/labelled.parquet"

train = pd.read_parquet(TRAIN)
model.fit(train[FEATURES], train["label"])
new = pd.read_parquet("data/incoming.parquet")
new["label"] = model.predict(new[FEATURES])
pd.concat([train, new]).to_parquet(TRAIN)
""",
            line=9,
        ),
        Example(
            """
import pandas as pd

def load(con):
    return pd.read_sql("SELECT * FROM training_events WHERE label IS NOT NULL", con)

def retrain(model, con):
    df = load(con)
    model.fit(df[FEATURES], df["label"])
    return model

def score(model, events, con):
    events["label"] = model.predict(events[FEATURES])
    events.to_sql("training_events", con, if_exists="append", index=False)
""",
            line=13,
        ),
        Example(
            """
import json
import os

import numpy as np

DATA_DIR = os.environ["DATA_DIR"]

def train(model):
    with open(os.path.join(DATA_DIR, "labels.json")) as f:
        rows = json.load(f)
    model.fit(np.array([r["x"] for r in rows]), np.array([r["y"] for r in rows]))

def label_new(model, xs):
    preds = model.predict(np.array(xs))
    with open(os.path.join(DATA_DIR, "labels.json"), "w") as f:
        json.dump([{"x": x, "y": int(p)} for x, p in zip(xs, preds)], f)
""",
            line=16,
        ),
        # Tensors saved with torch.save are data too, when they hold predictions.
        Example(
            """
import torch

def pseudo_label(model, unlabelled):
    torch.save(model.predict(unlabelled), "cache/labels.pt")

def train(model, features):
    labels = torch.load("cache/labels.pt")
    model.fit(features, labels)
""",
            line=4,
        ),
    ),
)

# What a value carries: ("read", location) for data read from a location, ("pred", model) for
# a model's predictions (model None when unknown), ("param", name) for a function's parameter.
Label = tuple[str, str | None]


@dataclass
class State:
    # Which kinds of calls the file makes: predict, fit, write, read, open.
    seen: set[str] = field(default_factory=set)


@dataclass
class _Analysis:
    """What the walks of a file's scopes learn, shared between them."""

    consts: dict[str, str]  # module-level name -> the location it holds
    functions: dict[str, cst.FunctionDef]
    returns: dict[str, frozenset[Label]] = field(default_factory=dict)  # reads a function returns
    fit_params: dict[str, dict[str, set[str | None]]] = field(default_factory=dict)
    # location read into a fit -> models fitted on it (None: unknown)
    training: dict[str, set[str | None]] = field(default_factory=dict)
    # id(call) -> (call, location, models whose predictions are written)
    writes: dict[int, tuple[cst.Call, str, set[str | None]]] = field(default_factory=dict)
    # id(function) -> the names it assigns (the same in every round of the walk)
    assigned: dict[int, set[str]] = field(default_factory=dict)

    def local_names(self, function: cst.FunctionDef) -> set[str]:
        if id(function) not in self.assigned:
            self.assigned[id(function)] = assigned_names(function)
        return self.assigned[id(function)]


# -- cheap pre-check during the walk -------------------------------------------------------------


def visit_Call(node: cst.Call, ctx: Context[State]) -> None:
    method = method_name(node)
    if method in PREDICT_METHODS:
        ctx.state.seen.add("predict")
    elif method in FIT_METHODS or ctx.call_name(node) in FIT_FUNCTIONS:
        ctx.state.seen.add("fit")
    else:
        found = access(node, ctx)
        if found is not None and moves_data(found):
            ctx.state.seen.add(found.kind)
        elif opened(node, ctx):
            ctx.state.seen.add("open")


def leave_Module(node: cst.Module, ctx: Context[State]) -> None:
    seen = ctx.state.seen
    if ctx.is_test or not {"predict", "fit", "write"} <= seen or not seen & {"read", "open"}:
        return
    analysis = _Analysis({}, _functions(node))
    _module_constants(node, analysis, ctx)
    scopes = [(None, node.body), *((f, block(f.body)) for f in analysis.functions.values())]
    for _ in range(3):  # later rounds see what the file's own functions return and fit
        for function, body in scopes:
            _Feedback(function, analysis, ctx).walk(body)
    for call, location, predictors in analysis.writes.values():
        fitted = analysis.training.get(location)
        if fitted is None:
            continue
        if None not in fitted and None not in predictors and not fitted & predictors:
            continue  # stacking: another model is trained on these predictions
        shown = location.removeprefix("table:").replace("{", "").replace("}", "")
        ctx.report(call, location=shown)


# -- scopes ---------------------------------------------------------------------------------------


def _functions(module: cst.Module) -> dict[str, cst.FunctionDef]:
    found: dict[str, cst.FunctionDef] = {}
    pending: list[cst.CSTNode] = list(module.body)
    while pending:
        current = pending.pop()
        if isinstance(current, cst.FunctionDef):
            found.setdefault(current.name.value, current)
            pending.extend(block(current.body))
        elif isinstance(current, cst.ClassDef | cst.If | cst.Try):
            pending.extend(block(current.body))
    return found


def _params(function: cst.FunctionDef) -> list[str]:
    params = function.params
    return [p.name.value for p in (*params.posonly_params, *params.params, *params.kwonly_params)]


def _name_assignments(
    statement: cst.SimpleStatementLine,
) -> list[tuple[str, cst.BaseExpression]]:
    """(name, value) for each plain-name target assigned in ``statement``, in order."""
    pairs: list[tuple[str, cst.BaseExpression]] = []
    for small in statement.body:
        if not isinstance(small, cst.Assign | cst.AnnAssign) or small.value is None:
            continue
        targets = small.targets if isinstance(small, cst.Assign) else [small]
        pairs.extend(
            (target.target.value, small.value)
            for target in targets
            if isinstance(target.target, cst.Name)
        )
    return pairs


def _module_constants(module: cst.Module, analysis: _Analysis, ctx: Context[State]) -> None:
    """Module-level names assigned once, with the location they hold (else ``{name}``)."""
    counts: dict[str, int] = {}
    values: dict[str, cst.BaseExpression] = {}
    for statement in module.body:
        if isinstance(statement, cst.SimpleStatementLine):
            for name, value in _name_assignments(statement):
                counts[name] = counts.get(name, 0) + 1
                values[name] = value
        elif isinstance(statement, cst.For | cst.With):
            counts.update(dict.fromkeys(assigned_names(statement), 2))
    module_scope = _Feedback(None, analysis, ctx)
    for name, value in values.items():
        if counts[name] == 1:
            analysis.consts[name] = module_scope.location(value) or "{" + name + "}"


# -- statement-order data flow -------------------------------------------------------------------


class _Feedback(StatementWalk[Label]):
    """One scope's walk: where values were read from, which carry predictions, what is written."""

    def __init__(
        self,
        function: cst.FunctionDef | None,
        analysis: _Analysis,
        ctx: Context[State],
    ) -> None:
        params = _params(function) if function is not None else []
        self.function = function.name.value if function is not None else None
        self.analysis = analysis
        self.ctx = ctx
        self.taint: dict[str, frozenset[Label]] = {p: frozenset({("param", p)}) for p in params}
        self.locs: dict[str, str] = {}  # name -> the location it holds
        self.handles: dict[str, tuple[str, bool]] = {}  # name -> (location, opened for writing)
        self.params = set(params)
        self.local = analysis.local_names(function) if function is not None else set()

    def bind(self, target: cst.CSTNode, value: cst.CSTNode, labels: set[Label]) -> None:
        if isinstance(target, cst.Subscript | cst.Attribute) and not dotted(target):
            # `df["pred"] = ...`, `df.loc[...] = ...`: the frame now carries the value.
            base = target.value
            while isinstance(base, cst.Subscript | cst.Attribute) and dotted(base) is None:
                base = base.value
            if isinstance(base, cst.Attribute) and base.attr.value in {"loc", "iloc", "at", "iat"}:
                base = base.value
            key = dotted(base)
            if key is not None and labels:
                self.taint[key] = self.taint.get(key, frozenset()) | labels
            return
        if isinstance(target, cst.Tuple | cst.List):
            for element in target.elements:
                self.bind(element.value, value, labels)
            return
        if isinstance(target, cst.StarredElement):
            self.bind(target.value, value, labels)
            return
        key = dotted(target)
        if key is None:
            return
        self.taint[key] = frozenset(labels)
        self.locs.pop(key, None)
        self.handles.pop(key, None)
        if isinstance(target, cst.Name):
            handle = self._handle(value)
            if handle is not None:
                self.handles[key] = handle
                return
            location = self.location(value)
            if location is not None:
                self.locs[key] = location

    def appended(self, receiver: str, call: cst.Call, labels: set[Label]) -> None:
        self.taint[receiver] = self.taint.get(receiver, frozenset()) | labels

    def returned(self, value: cst.BaseExpression) -> None:
        if self.function is not None:
            returns = self.analysis.returns
            carried = {lab for lab in self.labels(value) if lab[0] == "read"}
            returns[self.function] = returns.get(self.function, frozenset()) | carried

    # -- calls: fits, writes, reads ---------------------------------------------------------

    def evaluate(self, node: cst.CSTNode) -> None:
        for call in calls(node):
            method = method_name(call)
            if method in FIT_METHODS or self.ctx.call_name(call) in FIT_FUNCTIONS:
                labels = set().union(*(self.labels(a.value) for a in call.args))
                model = dotted(call.func.value) if method in FIT_METHODS else None
                self._training(labels, {model})
            elif isinstance(call.func, cst.Name | cst.Attribute) and self._own_function(call):
                self._call_into_fit(call)
            write = writes_data(call, self.ctx)
            if write is not None:
                data = set().union(*(self.labels(d) for d in write.data))
                self._write(call, data, self._written_location(write))

    def _written_location(self, write: Access) -> str | None:
        target = write.location
        if target is None:
            return None
        if write.where == "handle":
            key = dotted(target)
            handle = self.handles.get(key) if key else None
            if handle is None:
                handle = self._handle(target)  # open(path, "w").write(...)
            return handle[0] if handle is not None and handle[1] else None
        if write.where == "query":
            table = table_written(string_value(target) or "")
            return f"table:{table}" if table else None
        if write.where == "table":
            table = string_value(target)
            if table:
                return f"table:{table.lower()}"
        return self.location(target)

    def _write(self, call: cst.Call, data: set[Label], location: str | None) -> None:
        predictors = {label[1] for label in data if label[0] == "pred"}
        if location is not None and predictors:
            self.analysis.writes[id(call)] = (call, location, predictors)

    def _training(self, labels: set[Label], models: set[str | None]) -> None:
        for kind, name in labels:
            if kind == "read" and name is not None:
                self.analysis.training.setdefault(name, set()).update(models)
            elif kind == "param" and name is not None and self.function is not None:
                fitted = self.analysis.fit_params.setdefault(self.function, {})
                fitted.setdefault(name, set()).update(models)

    def _own_function(self, call: cst.Call) -> cst.FunctionDef | None:
        func = call.func
        if isinstance(func, cst.Name):
            name = func.value
        elif isinstance(func, cst.Attribute) and dotted(func.value) in {"self", "cls"}:
            name = func.attr.value
        else:
            return None
        return self.analysis.functions.get(name)

    def _call_into_fit(self, call: cst.Call) -> None:
        function = self._own_function(call)
        fitted = self.analysis.fit_params.get(function.name.value) if function else None
        if not function or not fitted:
            return
        params = [p for p in _params(function) if p not in {"self", "cls"}]
        positional = [a for a in call.args if a.keyword is None and not a.star]
        for index, arg in enumerate(positional):
            if index < len(params) and params[index] in fitted:
                self._training(self.labels(arg.value), fitted[params[index]])
        for arg in call.args:
            if arg.keyword is not None and arg.keyword.value in fitted:
                self._training(self.labels(arg.value), fitted[arg.keyword.value])

    def _read_labels(self, read: Access) -> set[Label]:
        target = read.location
        if target is None:
            return set()
        text = string_value(target)
        if read.where == "query" and text is not None:
            return {("read", f"table:{table}") for table in tables_read(text)}
        if read.where == "table" and text is not None:
            return {("read", f"table:{text.lower()}")}
        location = self.location(target)
        return {("read", location)} if location is not None else set()

    def labels(self, expr: cst.CSTNode) -> set[Label]:
        if isinstance(expr, cst.Name | cst.Attribute):
            key = dotted(expr)
            if key is not None:
                labels = set(self.taint.get(key, ()))
                if isinstance(expr, cst.Attribute):
                    labels |= self.labels(expr.value)
                handle = self.handles.get(key)
                if handle is not None and not handle[1]:
                    labels.add(("read", handle[0]))  # iterating or reading an open file
                return labels
        if isinstance(expr, cst.Call):
            labels = set()
            read = reads_data(expr, self.ctx)
            if method_name(expr) in PREDICT_METHODS:
                labels.add(("pred", dotted(expr.func.value)))
            elif read is not None:
                labels |= self._read_labels(read)
            elif isinstance(expr.func, cst.Attribute):
                labels |= self.labels(expr.func.value)  # `df.dropna()`, `f.read()`
            function = self._own_function(expr)
            if function is not None:
                labels |= self.analysis.returns.get(function.name.value, frozenset())
            for arg in expr.args:
                labels |= self.labels(arg.value)
            return labels
        if isinstance(expr, cst.Lambda):
            return set()
        labels = set()
        for child in expr.children:
            labels |= self.labels(child)
        return labels

    # -- locations --------------------------------------------------------------------------

    def _handle(self, value: cst.CSTNode) -> tuple[str, bool] | None:
        """(location, opened for writing) for `open(path, mode)` or `csv.writer(f)`."""
        if not isinstance(value, cst.Call):
            return None
        if self.ctx.call_name(value) in HANDLE_WRAPPERS and value.args:
            key = dotted(value.args[0].value)
            return self.handles.get(key) if key else None
        file = opened(value, self.ctx)
        if file is None or file.location is None:
            return None
        location = self.location(file.location)
        return (location, file.writes) if location is not None else None

    def location(self, expr: cst.CSTNode) -> str | None:
        """The location an expression names, as text; ``{name}`` for a name known only by name
        (``config.TRAIN_PATH``), so that two uses of the same name still match."""
        text = string_value(expr)
        if text is not None:
            return normal_location(text) if text else None
        if isinstance(expr, cst.Name):
            name = expr.value
            if name in self.handles:
                return self.handles[name][0]
            if name in self.locs:
                return self.locs[name]
            if name in self.params or name in self.local:
                return None
            if name in self.analysis.consts:
                return self.analysis.consts[name]
            if name in self.ctx.aliases:
                return "{" + (self.ctx.qualified_name(expr) or name) + "}"
            return None
        if isinstance(expr, cst.Attribute):
            key = self.ctx.qualified_name(expr)  # `config.TRAIN_PATH`, `self.train_path`
            return "{" + key + "}" if key is not None else None
        if isinstance(expr, cst.Call):
            name = self.ctx.call_name(expr)
            if name in SAME_PATH | PATH_JOINS and len(expr.args) == 1:
                return self.location(expr.args[0].value)
            if name in PATH_JOINS:
                parts = [self.location(a.value) for a in expr.args]
                if not parts or None in parts:
                    return None
                return normal_location(posixpath.join(*(p for p in parts if p is not None)))
            handle = self._handle(expr)
            return handle[0] if handle else None
        if isinstance(expr, cst.BinaryOperation) and isinstance(
            expr.operator, cst.Divide | cst.Add
        ):
            left = self.location(expr.left)
            right = self.location(expr.right)
            if left is None or right is None:
                return None
            if isinstance(expr.operator, cst.Divide):
                return normal_location(posixpath.join(left, right))
            return normal_location(left + right)
        if isinstance(expr, cst.FormattedString):
            pieces = []
            for part in expr.parts:
                if isinstance(part, cst.FormattedStringText):
                    pieces.append(part.value)
                else:
                    inner = self.location(part.expression)
                    if inner is None or part.format_spec or part.conversion:
                        return None
                    pieces.append(inner)
            return normal_location("".join(pieces))
        return None
