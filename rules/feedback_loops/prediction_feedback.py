"""
What it does
------------
Flags a call that writes a model's predictions (``to_csv``, ``to_parquet``, ``to_sql``,
``np.save``, ``json.dump``, ``joblib.dump``, ``f.write`` on a file opened for writing ...) to a
location that the same file also reads as training input: the result of the read (``read_csv``,
``read_parquet``, ``read_sql``, ``np.load``, ``json.load`` ...) flows into a ``fit`` call.

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
import re

import libcst as cst

from rules import Context, Example, Rule
from rules.names import bound_names, dotted, keyword, method_name, string_value

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
    ),
)

_PREDICT = frozenset(
    {
        "predict", "predict_proba", "predict_log_proba", "decision_function", "score_samples",
        "predict_on_batch",
    }
)  # fmt: skip
_FIT_METHODS = frozenset({"fit", "partial_fit"})
_FIT_FUNCTIONS = frozenset({"lightgbm.train", "xgboost.train", "catboost.train"})
_READERS = frozenset(
    {
        "pandas.read_csv", "pandas.read_parquet", "pandas.read_json", "pandas.read_excel",
        "pandas.read_feather", "pandas.read_pickle", "pandas.read_table", "pandas.read_hdf",
        "pandas.read_orc", "pandas.read_sql", "pandas.read_sql_query", "pandas.read_sql_table",
        "polars.read_csv", "polars.read_parquet", "polars.read_json", "polars.read_ndjson",
        "polars.scan_csv", "polars.scan_parquet", "polars.read_database",
        "numpy.load", "numpy.loadtxt", "numpy.genfromtxt", "numpy.fromfile",
        "json.load", "pickle.load", "joblib.load", "csv.reader", "csv.DictReader",
    }
)  # fmt: skip
_WRITE_METHODS = frozenset(
    {
        "to_csv", "to_parquet", "to_json", "to_excel", "to_feather", "to_pickle", "to_hdf",
        "to_orc", "to_sql", "write_csv", "write_parquet", "write_json", "write_ndjson",
        "write_database", "tofile",
    }
)  # fmt: skip
_WRITE_CALLS = frozenset({"write", "writelines", "writerow", "writerows", "execute", "executemany"})
# Functions writing data: qualified name -> (index of the data argument, index of the target).
_WRITE_FUNCTIONS = {
    "numpy.save": (1, 0),
    "numpy.savetxt": (1, 0),
    "numpy.savez": (1, 0),
    "numpy.savez_compressed": (1, 0),
    "json.dump": (0, 1),
    "pickle.dump": (0, 1),
    "joblib.dump": (0, 1),
}
_LOCATION_KEYWORDS = (
    "path_or_buf", "path", "filepath_or_buffer", "excel_writer", "fname", "file", "io",
    "source", "filename", "name", "table_name", "sql", "table",
)  # fmt: skip
_SQL_TABLE = re.compile(r"\b(?:from|join)\s+([A-Za-z_][\w.]*)", re.IGNORECASE)
_SQL_WRITE = re.compile(r"\b(?:insert\s+into|update|merge\s+into)\s+([A-Za-z_][\w.]*)", re.I)
_PATH_CALLS = frozenset({"pathlib.Path", "pathlib.PurePath", "str", "os.fspath"})


# -- cheap pre-check during the walk -------------------------------------------------------------


def visit_Call(node: cst.Call, ctx: Context) -> None:
    method = method_name(node)
    if method in _PREDICT:
        kind = "predict"
    elif method in _FIT_METHODS:
        kind = "fit"
    elif method in _WRITE_METHODS or method in _WRITE_CALLS:
        kind = "write"
    else:
        name = ctx.call_name(node)
        if name in _READERS or name == "open":
            kind = "read" if name != "open" else "open"
        elif name in _WRITE_FUNCTIONS:
            kind = "write"
        elif name in _FIT_FUNCTIONS:
            kind = "fit"
        else:
            return
    ctx.state.setdefault("seen", set()).add(kind)


def leave_Module(node: cst.Module, ctx: Context) -> None:
    seen = ctx.state.get("seen", set())
    if ctx.is_test or not {"predict", "fit", "write"} <= seen or not seen & {"read", "open"}:
        return
    analysis = {
        "consts": _module_constants(node, ctx),
        "functions": _functions(node),
        "returns": {},  # function name -> labels its return value carries
        "fit_params": {},  # function name -> {parameter: models fitted on it}
        "training": {},  # location read into a fit -> models fitted on it (None: unknown)
        "writes": {},  # id(call) -> (call, location, models whose predictions are written)
    }
    scopes = [(None, node.body), *((f, _block(f.body)) for f in analysis["functions"].values())]
    for _ in range(3):  # later rounds see what the file's own functions return and fit
        for function, body in scopes:
            _run_scope(function, body, analysis, ctx)
    for call, location, predictors in analysis["writes"].values():
        fitted = analysis["training"].get(location)
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
            pending.extend(_block(current.body))
        elif isinstance(current, cst.ClassDef | cst.If | cst.Try):
            pending.extend(_block(current.body))
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


def _module_constants(module: cst.Module, ctx: Context) -> dict[str, str]:
    counts: dict[str, int] = {}
    values: dict[str, cst.BaseExpression] = {}
    for statement in module.body:
        if isinstance(statement, cst.SimpleStatementLine):
            for name, value in _name_assignments(statement):
                counts[name] = counts.get(name, 0) + 1
                values[name] = value
        elif isinstance(statement, cst.For | cst.With):
            counts.update(dict.fromkeys(_assigned_names(statement), 2))
    consts: dict[str, str] = {}
    state = {"locs": {}, "handles": {}, "local": set(), "params": set(), "consts": consts}
    for name, value in values.items():
        if counts[name] == 1:
            consts[name] = _location(value, state, ctx) or "{" + name + "}"
    return consts


def _assigned_names(node: cst.CSTNode) -> set[str]:
    names: set[str] = set()
    pending = [node]
    while pending:
        current = pending.pop()
        nested = isinstance(current, cst.FunctionDef | cst.ClassDef | cst.Lambda)
        if nested and current is not node:
            continue
        targets: list[cst.CSTNode] = []
        if isinstance(current, cst.Assign):
            targets = [t.target for t in current.targets]
        elif isinstance(current, cst.AnnAssign | cst.AugAssign | cst.For | cst.NamedExpr):
            targets = [current.target]
        elif isinstance(current, cst.WithItem) and current.asname is not None:
            targets = [current.asname.name]
        for target in targets:
            names.update(bound_names(target))
        pending.extend(current.children)
    return names


def _run_scope(function: cst.FunctionDef | None, body, analysis: dict, ctx: Context) -> None:
    params = _params(function) if function is not None else []
    state = {
        "function": function.name.value if function is not None else None,
        "taint": {p: frozenset({("param", p)}) for p in params},
        "locs": {},
        "handles": {},
        "params": set(params),
        "local": _assigned_names(function) if function is not None else set(),
        "consts": analysis["consts"],
        "analysis": analysis,
    }
    _statements(body, state, ctx)


# -- statement-order data flow -------------------------------------------------------------------


def _block(suite: cst.BaseSuite) -> tuple[cst.BaseStatement, ...]:
    if isinstance(suite, cst.IndentedBlock):
        return tuple(suite.body)
    return (suite,)


def _statements(statements, state: dict, ctx: Context) -> None:
    for statement in statements:
        _statement(statement, state, ctx)


def _statement(statement: cst.CSTNode, state: dict, ctx: Context) -> None:
    if isinstance(statement, cst.SimpleStatementLine | cst.SimpleStatementSuite):
        for small in statement.body:
            _small(small, state, ctx)
    elif isinstance(statement, cst.If):
        _check_calls(statement.test, state, ctx)
        _statements(_block(statement.body), state, ctx)
        if statement.orelse is not None:
            _statement(statement.orelse, state, ctx)
    elif isinstance(statement, cst.Else | cst.Finally | cst.ExceptHandler | cst.ExceptStarHandler):
        _statements(_block(statement.body), state, ctx)
    elif isinstance(statement, cst.For):
        _check_calls(statement.iter, state, ctx)
        for _ in range(2):
            _assign(
                statement.target, statement.iter, _labels(statement.iter, state, ctx), state, ctx
            )
            _statements(_block(statement.body), state, ctx)
        if statement.orelse is not None:
            _statement(statement.orelse, state, ctx)
    elif isinstance(statement, cst.While):
        for _ in range(2):
            _check_calls(statement.test, state, ctx)
            _statements(_block(statement.body), state, ctx)
    elif isinstance(statement, cst.With):
        for item in statement.items:
            _check_calls(item.item, state, ctx)
            if item.asname is not None:
                labels = _labels(item.item, state, ctx)
                _assign(item.asname.name, item.item, labels, state, ctx)
        _statements(_block(statement.body), state, ctx)
    elif isinstance(statement, cst.Try | cst.TryStar):
        _statements(_block(statement.body), state, ctx)
        for part in (*statement.handlers, statement.orelse, statement.finalbody):
            if part is not None:
                _statement(part, state, ctx)


def _small(small: cst.CSTNode, state: dict, ctx: Context) -> None:
    if isinstance(small, cst.Assign | cst.AnnAssign | cst.AugAssign):
        if small.value is None:
            return
        _check_calls(small.value, state, ctx)
        labels = _labels(small.value, state, ctx)
        targets = (
            [t.target for t in small.targets] if isinstance(small, cst.Assign) else [small.target]
        )
        for target in targets:
            if isinstance(small, cst.AugAssign):
                labels = labels | _labels(target, state, ctx)
            _assign(target, small.value, labels, state, ctx)
    elif isinstance(small, cst.Return):
        if small.value is not None:
            _check_calls(small.value, state, ctx)
            name = state["function"]
            if name is not None:
                returns = state["analysis"]["returns"]
                carried = {lab for lab in _labels(small.value, state, ctx) if lab[0] == "read"}
                returns[name] = returns.get(name, frozenset()) | carried
    elif isinstance(small, cst.Expr):
        _check_calls(small.value, state, ctx)
        call = small.value
        if isinstance(call, cst.Call) and isinstance(call.func, cst.Attribute):
            key = dotted(call.func.value)
            if key is not None and method_name(call) in {"append", "extend", "insert", "update"}:
                labels = set().union(*(_labels(a.value, state, ctx) for a in call.args))
                state["taint"][key] = state["taint"].get(key, frozenset()) | labels
    else:
        _check_calls(small, state, ctx)


def _assign(
    target: cst.CSTNode, value: cst.CSTNode, labels: set, state: dict, ctx: Context
) -> None:
    if isinstance(target, cst.Subscript | cst.Attribute) and not dotted(target):
        # `df["pred"] = ...`, `df.loc[...] = ...`: the frame now carries the value.
        base = target.value
        while isinstance(base, cst.Subscript | cst.Attribute) and dotted(base) is None:
            base = base.value
        if isinstance(base, cst.Attribute) and base.attr.value in {"loc", "iloc", "at", "iat"}:
            base = base.value
        key = dotted(base)
        if key is not None and labels:
            state["taint"][key] = state["taint"].get(key, frozenset()) | labels
        return
    if isinstance(target, cst.Tuple | cst.List):
        for element in target.elements:
            _assign(element.value, value, labels, state, ctx)
        return
    if isinstance(target, cst.StarredElement):
        _assign(target.value, value, labels, state, ctx)
        return
    key = dotted(target)
    if key is None:
        return
    state["taint"][key] = frozenset(labels)
    state["locs"].pop(key, None)
    state["handles"].pop(key, None)
    if isinstance(target, cst.Name):
        handle = _handle(value, state, ctx)
        if handle is not None:
            state["handles"][key] = handle
            return
        location = _location(value, state, ctx)
        if location is not None:
            state["locs"][key] = location


# -- calls: fits, writes, reads -------------------------------------------------------------------


def _calls(node: cst.CSTNode) -> list[cst.Call]:
    found, pending = [], [node]
    while pending:
        current = pending.pop()
        if isinstance(current, cst.Lambda | cst.FunctionDef | cst.ClassDef):
            continue
        if isinstance(current, cst.Call):
            found.append(current)
        pending.extend(current.children)
    return found


def _argument(call: cst.Call, index: int, names: tuple[str, ...] = ()) -> cst.BaseExpression | None:
    positional = [a for a in call.args if a.keyword is None and not a.star]
    if index < len(positional):
        return positional[index].value
    for name in names:
        arg = keyword(call, name)
        if arg is not None:
            return arg.value
    return None


def _check_calls(node: cst.CSTNode, state: dict, ctx: Context) -> None:
    analysis = state["analysis"]
    for call in _calls(node):
        method = method_name(call)
        name = ctx.call_name(call)
        if method in _FIT_METHODS or name in _FIT_FUNCTIONS:
            labels = set().union(*(_labels(a.value, state, ctx) for a in call.args))
            model = dotted(call.func.value) if method in _FIT_METHODS else None
            _training(labels, state, {model})
        elif isinstance(call.func, cst.Name | cst.Attribute) and _own_function(call, state):
            _call_into_fit(call, state, ctx)
        if method in _WRITE_METHODS:
            data = _labels(call.func.value, state, ctx)
            target = _argument(call, 0, _LOCATION_KEYWORDS)
            location = None
            if target is not None:
                if method in {"to_sql", "write_database"}:
                    table = string_value(target)
                    location = f"table:{table}" if table else _location(target, state, ctx)
                else:
                    location = _location(target, state, ctx)
            _write(call, data, location, analysis)
        elif name in _WRITE_FUNCTIONS:
            data_index, target_index = _WRITE_FUNCTIONS[name]
            data_arg = _argument(call, data_index)
            target = _argument(call, target_index, _LOCATION_KEYWORDS)
            if data_arg is not None and target is not None:
                data = _labels(data_arg, state, ctx)
                _write(call, data, _location(target, state, ctx), analysis)
        elif method in _WRITE_CALLS - {"execute", "executemany"} and call.args:
            key = dotted(call.func.value)
            handle = state["handles"].get(key) if key else None
            if handle is None and isinstance(call.func.value, cst.Call):
                handle = _handle(call.func.value, state, ctx)  # open(path, "w").write(...)
            if handle is not None and handle[1]:
                data = set().union(*(_labels(a.value, state, ctx) for a in call.args))
                _write(call, data, handle[0], analysis)
        elif method in {"execute", "executemany"} and call.args:
            sql = string_value(call.args[0].value) or ""
            match = _SQL_WRITE.search(sql)
            if match:
                data = set().union(*(_labels(a.value, state, ctx) for a in call.args[1:]))
                _write(call, data, f"table:{match.group(1).lower()}", analysis)


def _write(call: cst.Call, data: set, location: str | None, analysis: dict) -> None:
    predictors = {label[1] for label in data if label[0] == "pred"}
    if location is not None and predictors:
        analysis["writes"][id(call)] = (call, location, predictors)


def _training(labels: set, state: dict, models: set) -> None:
    analysis = state["analysis"]
    for label in labels:
        if label[0] == "read":
            analysis["training"].setdefault(label[1], set()).update(models)
        elif label[0] == "param" and state["function"] is not None:
            fitted = analysis["fit_params"].setdefault(state["function"], {})
            fitted.setdefault(label[1], set()).update(models)


def _own_function(call: cst.Call, state: dict) -> cst.FunctionDef | None:
    func = call.func
    if isinstance(func, cst.Name):
        name = func.value
    elif isinstance(func, cst.Attribute) and dotted(func.value) in {"self", "cls"}:
        name = func.attr.value
    else:
        return None
    return state["analysis"]["functions"].get(name)


def _call_into_fit(call: cst.Call, state: dict, ctx: Context) -> None:
    function = _own_function(call, state)
    fitted = state["analysis"]["fit_params"].get(function.name.value) if function else None
    if not fitted:
        return
    params = [p for p in _params(function) if p not in {"self", "cls"}]
    positional = [a for a in call.args if a.keyword is None and not a.star]
    for index, arg in enumerate(positional):
        if index < len(params) and params[index] in fitted:
            _training(_labels(arg.value, state, ctx), state, fitted[params[index]])
    for arg in call.args:
        if arg.keyword is not None and arg.keyword.value in fitted:
            _training(_labels(arg.value, state, ctx), state, fitted[arg.keyword.value])


def _read_labels(call: cst.Call, name: str, state: dict, ctx: Context) -> set:
    target = _argument(call, 0, _LOCATION_KEYWORDS)
    if target is None:
        return set()
    if name in {"pandas.read_sql", "pandas.read_sql_query", "polars.read_database"}:
        text = string_value(target)
        if text is not None:
            return {("read", f"table:{t.lower()}") for t in _SQL_TABLE.findall(text)}
    if name == "pandas.read_sql_table":
        text = string_value(target)
        if text is not None:
            return {("read", f"table:{text.lower()}")}
    location = _location(target, state, ctx)
    return {("read", location)} if location is not None else set()


def _labels(expr: cst.CSTNode, state: dict, ctx: Context) -> set:
    if isinstance(expr, cst.Name | cst.Attribute):
        key = dotted(expr)
        if key is not None:
            labels = set(state["taint"].get(key, ()))
            if isinstance(expr, cst.Attribute):
                labels |= _labels(expr.value, state, ctx)
            handle = state["handles"].get(key)
            if handle is not None and not handle[1]:
                labels.add(("read", handle[0]))  # iterating or reading an open file
            return labels
    if isinstance(expr, cst.Call):
        labels: set = set()
        method = method_name(expr)
        name = ctx.call_name(expr)
        if method in _PREDICT:
            labels.add(("pred", dotted(expr.func.value)))
        elif name in _READERS:
            labels |= _read_labels(expr, name, state, ctx)
        elif isinstance(expr.func, cst.Attribute):
            labels |= _labels(expr.func.value, state, ctx)  # `df.dropna()`, `f.read()`
        function = _own_function(expr, state)
        if function is not None:
            labels |= state["analysis"]["returns"].get(function.name.value, frozenset())
        for arg in expr.args:
            labels |= _labels(arg.value, state, ctx)
        return labels
    if isinstance(expr, cst.Lambda):
        return set()
    labels = set()
    for child in expr.children:
        labels |= _labels(child, state, ctx)
    return labels


# -- locations ------------------------------------------------------------------------------------


def _handle(value: cst.CSTNode, state: dict, ctx: Context) -> tuple[str, bool] | None:
    """(location, opened for writing) for `open(path, mode)` or `csv.writer(f)`."""
    if not isinstance(value, cst.Call):
        return None
    name = ctx.call_name(value)
    if name in {"open", "io.open", "gzip.open", "bz2.open"}:
        target = _argument(value, 0, ("file", "filename"))
        mode = _argument(value, 1, ("mode",))
        location = _location(target, state, ctx) if target is not None else None
        if location is None:
            return None
        text = string_value(mode) if mode is not None else "r"
        return location, any(c in (text or "") for c in "wax+")
    if name in {"csv.writer", "csv.DictWriter"} and value.args:
        key = dotted(value.args[0].value)
        return state["handles"].get(key) if key else None
    if method_name(value) == "open" and isinstance(value.func, cst.Attribute):
        location = _location(value.func.value, state, ctx)  # Path(...).open("w")
        mode = _argument(value, 0, ("mode",))
        text = string_value(mode) if mode is not None else "r"
        return (location, any(c in (text or "") for c in "wax+")) if location else None
    return None


def _normal(path: str) -> str:
    if path.startswith("table:"):
        return path
    return posixpath.normpath(path.replace("\\", "/"))


def _location(expr: cst.CSTNode, state: dict, ctx: Context) -> str | None:
    text = string_value(expr)
    if text is not None:
        return _normal(text) if text else None
    if isinstance(expr, cst.Name):
        name = expr.value
        if name in state["handles"]:
            return state["handles"][name][0]
        if name in state["locs"]:
            return state["locs"][name]
        if name in state["params"] or name in state["local"]:
            return None
        if name in state["consts"]:
            return state["consts"][name]
        if name in ctx.aliases:
            return "{" + (ctx.qualified_name(expr) or name) + "}"
        return None
    if isinstance(expr, cst.Attribute):
        key = ctx.qualified_name(expr)  # `config.TRAIN_PATH`, `self.train_path`, `cfg.data.train`
        return "{" + key + "}" if key is not None else None
    if isinstance(expr, cst.Call):
        name = ctx.call_name(expr)
        if name in _PATH_CALLS and len(expr.args) == 1:
            return _location(expr.args[0].value, state, ctx)
        if name in {"os.path.join", "posixpath.join"} or (
            name is not None and name.endswith("Path") and len(expr.args) > 1
        ):
            parts = [_location(a.value, state, ctx) for a in expr.args]
            return _normal(posixpath.join(*parts)) if parts and None not in parts else None
        handle = _handle(expr, state, ctx)
        return handle[0] if handle else None
    if isinstance(expr, cst.BinaryOperation) and isinstance(expr.operator, cst.Divide | cst.Add):
        left = _location(expr.left, state, ctx)
        right = _location(expr.right, state, ctx)
        if left is None or right is None:
            return None
        if isinstance(expr.operator, cst.Divide):
            return _normal(posixpath.join(left, right))
        return _normal(left + right)
    if isinstance(expr, cst.FormattedString):
        pieces = []
        for part in expr.parts:
            if isinstance(part, cst.FormattedStringText):
                pieces.append(part.value)
            else:
                inner = _location(part.expression, state, ctx)
                if inner is None or part.format_spec or part.conversion:
                    return None
                pieces.append(inner)
        return _normal("".join(pieces))
    return None
