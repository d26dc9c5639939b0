"""
What it does
------------
Flags a module-level function without a docstring whose whole body is
``return other(...)`` with its own parameters passed on unchanged and in order, and whose name
only repeats the name of what it calls, such as
``def load_checkpoint(path): return torch.load(path)`` or ``def train(cfg): return _train(cfg)``.

The callee must be something imported, a function of the same module or a builtin, and every
word of the callee's name must appear in the wrapper's name. The rule leaves alone:

- a wrapper whose name says something the callee's does not
  (``def logs_folder(root, run): return os.path.join(root, run)`` names a convention);
- a wrapper with a docstring, which makes it a deliberate part of an API, often the public face
  of a private or compiled function;
- a wrapper that fixes or reorders an argument, renames a keyword, gives a parameter a default,
  or takes no parameters;
- a decorated or ``async`` function, a method, a function under an ``if`` (a compatibility
  shim), dunder functions and tests;
- a wrapper that its own module never calls or passes on: it may be a hook that other code
  looks up by name (a function every configuration module must define, an entry point), which
  only the whole repository can tell.

Why is this bad?
----------------
The wrapper adds a name and nothing else. Every reader has to open it to find out that it does
nothing, the real function's documentation and signature are hidden behind it, and a
change of the wrapped function's parameters has to be mirrored by hand. Layers like this pile up
when code is written for a future that may never come; call the real function until the wrapper
has something of its own to do.

Example
-------
.. code-block:: python

    import torch


    def load_checkpoint(path):
        return torch.load(path)


    state = load_checkpoint("runs/best.pt")

Use instead
-----------
.. code-block:: python

    import torch

    state = torch.load("runs/best.pt")

References
----------
- pylint ``W0246`` (useless-parent-delegation), the same idea for methods that only call
  ``super()``
"""

from __future__ import annotations

import builtins
import re
from dataclasses import dataclass, field

import libcst as cst

from rules import Context, Example, Rule
from rules.names import is_reference

RULE = Rule(
    code="DEBT202",
    name="pass-through-wrapper",
    principle="over-abstraction",
    severity="info",
    message=(
        "Call `{callee}` directly instead of through `{name}`, which passes its arguments on "
        "unchanged."
    ),
    valid=(
        # Near miss: the wrapper fixes an argument.
        """
        import numpy as np


        def column_means(x):
            return np.mean(x, axis=0)


        centred = features - column_means(features)
        """,
        # Near miss: the wrapper renames the keywords it passes.
        """
        from sklearn.metrics import f1_score


        def macro_f1(truth, predicted):
            return f1_score(y_true=predicted, y_pred=truth)


        print(macro_f1(y_val, model.predict(x_val)))
        """,
        # Near miss: the wrapper adds a default.
        """
        import pandas as pd


        def load_events(path, sep="\\t"):
            return pd.read_csv(path, sep)


        events = load_events("events.tsv")
        """,
        # Near miss: a method delegating to its own object.
        """
        class Model:
            def predict(self, x):
                return self.pipeline.predict(x)

            def score(self, x, y):
                return accuracy_score(y, self.predict(x))
        """,
        # Near miss: reorders the arguments.
        """
        import torch


        def cat_along(dim, tensors):
            return torch.cat(tensors, dim)


        batch = cat_along(0, parts)
        """,
        # Near miss: delegates to a module-level object, not a function.
        """
        model = load_model()


        def predict(rows):
            return model.predict(rows)


        app.add_route("/predict", predict)
        """,
        # Near miss: the wrapper's name gives a path convention a meaning os.path.join lacks.
        """
        import os


        def get_logs_folder(work_dir, model_name):
            return os.path.join(work_dir, model_name)


        log_dir = get_logs_folder(work_dir, model_name)
        """,
        # Near miss: a documented public face for a compiled function.
        """
        from scipy.linalg import _interpolative as _id


        def idd_frmi(m):
            \"\"\"Initialize data for the fast transform of a vector of length m.\"\"\"
            return _id.idd_frmi(m)


        def idd_frm(n, w, x):
            n2, w = idd_frmi(n)
            return _id.idd_frm(n2, w, x)
        """,
        # Near miss: a hook every configuration module defines, looked up by name elsewhere
        # (config().get_avg_patient_predictions(...)); the module itself never calls it.
        Example(
            """
            import utils_heart


            def get_avg_patient_predictions(batch_predictions, batch_patient_ids, mean):
                return utils_heart.get_patient_average_cdf_predictions(
                    batch_predictions, batch_patient_ids, mean
                )
            """,
            path="configurations/gauss_roi_zoom.py",
        ),
    ),
    invalid=(
        Example(
            """
            import pandas as pd


            def read_csv_file(path):
                return pd.read_csv(path)


            train = read_csv_file("train.csv")
            test = read_csv_file("test.csv")
            """,
            line=4,
        ),
        Example(
            """
            import joblib


            def dump_model(model, path, *args, **kwargs):
                return joblib.dump(model, path, *args, **kwargs)


            def main():
                model = train()
                dump_model(model, "model.joblib", compress=3)
            """,
            line=4,
        ),
        Example(
            """
            def _train(cfg, *, seed):
                ...


            def train(cfg, *, seed):
                return _train(cfg, seed=seed)


            if __name__ == "__main__":
                train(load_config(), seed=0)
            """,
            line=5,
        ),
        Example(
            """
            def to_list(values):
                return list(values)


            df["tokens"] = df["text"].str.split().apply(to_list)
            """,
            line=1,
        ),
    ),
)

_WORD = re.compile(r"[A-Z]+(?![a-z])|[A-Z]?[a-z]+|\d+")
_BUILTINS = frozenset(name for name in dir(builtins) if name[0].islower())


@dataclass
class State:
    """The module-level functions, those that only pass their arguments on, and their uses."""

    functions: set[str] = field(default_factory=set)
    wrappers: list[tuple[cst.FunctionDef, cst.Call]] = field(default_factory=list)
    uses: dict[str, int] = field(default_factory=dict)
    # Only uses of module-level function names matter; counting every name costs a lot.
    function_names: set[str] = field(default_factory=set)


def _returned_call(node: cst.FunctionDef) -> cst.Call | None:
    if not isinstance(node.body, cst.IndentedBlock):
        statements = [node.body]
    else:
        statements = list(node.body.body)
    if len(statements) != 1:  # a docstring makes it a documented part of an API
        return None
    statement = statements[0]
    if not isinstance(statement, cst.SimpleStatementLine | cst.SimpleStatementSuite):
        return None
    if len(statement.body) != 1 or not isinstance(statement.body[0], cst.Return):
        return None
    value = statement.body[0].value
    return value if isinstance(value, cst.Call) else None


def _passes_through(params: cst.Parameters, call: cst.Call) -> bool:
    positional = [p.name.value for p in (*params.posonly_params, *params.params)]
    keyword_only = [p.name.value for p in params.kwonly_params]
    every = [*positional, *keyword_only]
    if not every and params.star_arg is None and params.star_kwarg is None:
        return False
    all_params = [*params.posonly_params, *params.params, *params.kwonly_params]
    if any(p.default is not None for p in all_params):
        return False
    star = params.star_arg.name.value if isinstance(params.star_arg, cst.Param) else None
    double = params.star_kwarg.name.value if params.star_kwarg is not None else None
    used: list[str] = []
    next_positional = 0
    for arg in call.args:
        if not isinstance(arg.value, cst.Name):
            return False
        value = arg.value.value
        if arg.star == "*":
            if value != star:
                return False
        elif arg.star == "**":
            if value != double:
                return False
        elif arg.keyword is not None:
            if arg.keyword.value != value or value not in every:
                return False
        else:
            if next_positional >= len(positional) or positional[next_positional] != value:
                return False
            next_positional += 1
        used.append(value)
    expected = [*every, *(n for n in (star, double) if n is not None)]
    return sorted(used) == sorted(expected)


def _words(name: str) -> set[str]:
    return {word.lower() for word in _WORD.findall(name)}


def visit_Module(node: cst.Module, ctx: Context[State]) -> None:
    ctx.state.function_names = {s.name.value for s in node.body if isinstance(s, cst.FunctionDef)}


def visit_FunctionDef(node: cst.FunctionDef, ctx: Context[State]) -> None:
    if len(ctx.ancestors) != 1:  # module level only
        return
    name = node.name.value
    ctx.state.functions.add(name)
    if ctx.is_test or node.decorators or node.asynchronous is not None:
        return
    if name.startswith("__") and name.endswith("__"):
        return
    call = _returned_call(node)
    if call is None or not _passes_through(node.params, call):
        return
    ctx.state.wrappers.append((node, call))


def visit_Name(node: cst.Name, ctx: Context[State]) -> None:
    if node.value not in ctx.state.function_names:
        return
    if not is_reference(node, ctx.parent()):
        return
    uses = ctx.state.uses
    uses[node.value] = uses.get(node.value, 0) + 1


def leave_Module(node: cst.Module, ctx: Context[State]) -> None:
    for function, call in ctx.state.wrappers:
        if not ctx.state.uses.get(function.name.value):
            continue  # not used here: maybe a hook that other code looks up by name
        callee = ctx.qualified_name(call.func)
        if callee is None:
            continue
        root = callee.split(".", 1)[0]
        written = ctx.code(call.func)
        imported = written.split(".", 1)[0] in ctx.aliases
        local = "." not in written and written in ctx.state.functions
        builtin = written in _BUILTINS and written not in ctx.state.functions
        if written == function.name.value or not (imported or local or builtin):
            continue
        if root == function.name.value:
            continue
        if not _words(written.rsplit(".", 1)[-1]) <= _words(function.name.value):
            continue  # the wrapper's name adds a meaning of its own
        ctx.report(function.name, callee=written, name=function.name.value)
