"""
What it does
------------
Flags calls that only make sense with a person sitting at a screen, made from a module of an
importable package (a folder holding an ``__init__.py``):

- ``matplotlib.pyplot.show()`` (and ``pylab.show()``), ``plotly.io.show(...)``,
  ``plotly.offline.iplot(...)``, and ``.show()`` on a figure or image the same function built
  with plotly, matplotlib or PIL (``fig = px.line(df)`` then ``fig.show()``);
- ``IPython.display.display(...)``;
- ``cv2.imshow(...)``;
- the built-in ``input(...)``.

Left alone: tests; files under a folder named in the ``exempt-folders`` option (default
``examples``, ``example``, ``notebooks``, ``notebook``, ``nbs``, ``scripts``, ``script``,
``tools``, ``demo``, ``demos``, ``tutorials``, ``tutorial``, ``docs``, ``doc``, ``benchmarks``),
or one word of whose name is (``util_scripts``); code that runs as a script: ``__main__.py``,
the ``if __name__ == "__main__":`` block, calls at module level, and modules that loop at their
top level; ``display(...)`` with ``raw=`` or ``metadata=``, which records data in a notebook
for a tool to read back rather than showing it to a person; a call whose
innermost ``if`` tests a parameter of the function as a flag (``if show: plt.show()``,
``if outpath is None``), or that sits under
any ``if`` testing a flag or a check named for showing (``if self.cfg.visualize``,
``if is_notebook()``, ``if sys.stdin.isatty()``); a call inside a function whose name says that
showing is its job (``show``, ``display``, ``view``, ``visualize``, ``preview``, ``prompt``,
``confirm``,
``_repr_html_``...); and ``input()`` in a command-line module (one importing ``argparse``,
``click``, ``typer``, ``fire`` or ``docopt``). Bare ``display(...)`` that is never imported is
rule DEBT101's business, and leftover ``breakpoint()`` / ``pdb.set_trace()`` calls are a
debugging leftover rather than this prototype habit (see ruff ``T100``).

Why is this bad?
----------------
Showing a plot, a table or an image, or asking a question on the terminal, is how work goes in a
notebook. Once the same code sits in the package that a training job, a batch scorer or a web
service imports, nobody is there to look: ``plt.show()`` blocks or silently does nothing
depending on the backend, ``input()`` hangs the job or fails on a closed stdin, ``cv2.imshow``
crashes on a headless server, and the figure the code built is thrown away instead of being
returned to the caller or saved with the run's artifacts. It is prototype code that has been
moved into the product without being made usable there.

Example
-------
.. code-block:: python

    # churn/evaluation.py
    import matplotlib.pyplot as plt


    def plot_roc(y_true, scores):
        fig, ax = plt.subplots()
        RocCurveDisplay.from_predictions(y_true, scores, ax=ax)
        plt.show()

Use instead
-----------
Return the figure and let the caller decide whether to show it, save it or log it:

.. code-block:: python

    def plot_roc(y_true, scores):
        fig, ax = plt.subplots()
        RocCurveDisplay.from_predictions(y_true, scores, ax=ax)
        return fig


    fig = plot_roc(y_valid, model.predict_proba(X_valid)[:, 1])
    mlflow.log_figure(fig, "roc.png")

References
----------
- Sculley et al., "Hidden Technical Debt in Machine Learning Systems" (prototypes as production)
- Matplotlib documentation, "Interactive figures" and the ``savefig`` method of ``Figure``
- ruff ``T201``/``T203`` (print and pprint left in code) and ``T100`` (debugger), close cousins
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

import libcst as cst

from rules import Context, Example, Rule

RULE = Rule(
    code="DEBT103",
    name="interactive-display",
    principle="separation-of-efforts",
    severity="warning",
    message=(
        "Replace `{call}` in package code with {alternative}, so that it runs without a person "
        "at a screen."
    ),
    options={
        "exempt-folders": [
            "examples",
            "example",
            "notebooks",
            "notebook",
            "nbs",
            "scripts",
            "script",
            "tools",
            "demo",
            "demos",
            "tutorials",
            "tutorial",
            "docs",
            "doc",
            "benchmarks",
        ]
    },
    valid=(
        # Near miss: the caller chooses with a parameter, as shap's plots do.
        Example(
            """
            import matplotlib.pyplot as plt


            def plot_importance(values, names, show=True):
                fig, ax = plt.subplots()
                ax.barh(names, values)
                if show:
                    plt.show()
                return fig
            """,
            path="churn/plots.py",
            files=("churn/__init__.py",),
        ),
        # Near miss: the same call in a script that is not part of a package.
        Example(
            """
            import matplotlib.pyplot as plt
            import pandas as pd

            history = pd.read_csv("runs/history.csv")
            history.plot(x="epoch", y=["loss", "val_loss"])
            plt.show()
            """,
            path="plot_history.py",
            files=("churn/__init__.py",),
        ),
        # Near miss: a manual check kept in the module's __main__ block.
        Example(
            """
            import cv2

            from .augment import random_crop


            if __name__ == "__main__":
                image = cv2.imread("sample.jpg")
                cv2.imshow("crop", random_crop(image))
                cv2.waitKey(0)
            """,
            path="vision/data/augment_check.py",
            files=("vision/__init__.py", "vision/data/__init__.py"),
        ),
        # Near miss: a method whose job is to show the results to a notebook user.
        Example(
            """
            from IPython.display import display


            class Leaderboard:
                def show(self):
                    display(self.table.style.highlight_max(axis=0))
            """,
            path="automl/leaderboard.py",
            files=("automl/__init__.py",),
        ),
        # Near miss: show() on an object that is not a figure built here.
        Example(
            """
            def report(results):
                results.show()
            """,
            path="detect/report.py",
            files=("detect/__init__.py",),
        ),
        # Near miss: a command-line tool of the package asking before it deletes anything.
        Example(
            """
            import argparse
            import shutil


            def main():
                parser = argparse.ArgumentParser()
                parser.add_argument("run_dir")
                args = parser.parse_args()
                if input(f"Delete {args.run_dir}? [y/N] ").lower() == "y":
                    shutil.rmtree(args.run_dir)
            """,
            path="trainer/cli/clean_runs.py",
            files=("trainer/__init__.py", "trainer/cli/__init__.py"),
        ),
        # Near miss: an example folder made importable.
        Example(
            """
            import plotly.express as px

            fig = px.scatter(df, x="age", y="income")
            fig.show()
            """,
            path="examples/explore.py",
            files=("examples/__init__.py",),
        ),
    ),
    invalid=(
        Example(
            """
            import matplotlib.pyplot as plt
            from sklearn.metrics import RocCurveDisplay


            def plot_roc(y_true, scores):
                fig, ax = plt.subplots()
                RocCurveDisplay.from_predictions(y_true, scores, ax=ax)
                plt.show()
            """,
            path="churn/evaluation.py",
            files=("churn/__init__.py",),
            line=8,
        ),
        Example(
            """
            import plotly.express as px


            def plot_forecast(frame):
                fig = px.line(frame, x="date", y=["actual", "forecast"])
                fig.update_layout(title="Forecast")
                fig.show()
            """,
            path="src/forecast/report.py",
            files=("src/forecast/__init__.py",),
            line=7,
        ),
        Example(
            """
            import os


            class HubLogger:
                def init_experiment(self):
                    if not self.repo_name:
                        self.repo_name = input("Repository name: ")
                    os.environ["MLFLOW_EXPERIMENT_NAME"] = self.repo_name
            """,
            path="pipeline/loggers.py",
            files=("pipeline/__init__.py",),
            line=7,
        ),
        Example(
            """
            from IPython.display import display


            def clean(df):
                df = df.dropna(subset=["customer_id"])
                display(df.describe())
                return df
            """,
            path="churn/features/cleaning.py",
            files=("churn/__init__.py", "churn/features/__init__.py"),
            line=6,
        ),
        Example(
            """
            import cv2


            def predict(model, image):
                boxes = model(image)
                for box in boxes:
                    cv2.rectangle(image, box[:2], box[2:], (0, 255, 0), 2)
                cv2.imshow("prediction", image)
                return boxes
            """,
            path="detector/inference.py",
            files=("detector/__init__.py",),
            line=8,
        ),
    ),
)

_ALTERNATIVES = {
    "figure": "returning the figure (or saving it to a file)",
    "display": "returning the object for the caller to display",
    "image": "returning the image (or writing it to a file or logger)",
    "input": "a parameter or a configuration value",
}
_CALLS = {
    "matplotlib.pyplot.show": "figure",
    "matplotlib.pylab.show": "figure",
    "pylab.show": "figure",
    "plotly.io.show": "figure",
    "plotly.offline.iplot": "figure",
    "IPython.display.display": "display",
    "IPython.core.display.display": "display",
    "IPython.core.display_functions.display": "display",
    "cv2.imshow": "image",
    "input": "input",
    "builtins.input": "input",
}
# Calls whose result has a .show() that opens a window or a browser tab.
_FIGURE_MAKERS = frozenset(
    {
        "matplotlib.pyplot.figure",
        "matplotlib.pyplot.subplots",
        "matplotlib.pyplot.gcf",
        "plotly.graph_objects.Figure",
        "plotly.graph_objs.Figure",
        "plotly.subplots.make_subplots",
        "plotly.tools.make_subplots",
    }
)
_IMAGE_MAKERS = frozenset({"PIL.Image.open", "PIL.Image.fromarray", "PIL.Image.new"})
_FIGURE_PREFIXES = ("plotly.express.", "plotly.figure_factory.create_")
# Names of functions whose job is to show something to a person.
_SHOWING_FUNCTION = re.compile(
    r"(^|_)(show\w*|display\w*|view\w*|visuali[sz]e\w*|preview|imshow|interactive\w*|"
    r"notebook|jupyter|ipython|colab|prompt|ask|confirm\w*|gui|repl)($|_)",
    re.IGNORECASE,
)
# Names of flags and checks in an ``if`` that make showing something a choice.
_SHOWING_FLAG = re.compile(
    r"(^|_)(show\w*|display\w*|view\w*|preview|imshow|interactive\w*|notebook|jupyter|"
    r"ipython|colab|prompt|ask|confirm\w*|visuali[sz]\w*|vis|plot|plots|gui|repl|verbose|"
    r"debug|isatty|tty)($|_)",
    re.IGNORECASE,
)
_CONSTANTS = frozenset({"None", "True", "False"})
_CLI_MODULES = frozenset({"argparse", "click", "typer", "fire", "docopt"})
_SPECIAL_METHODS = frozenset({"_repr_html_", "_ipython_display_", "_repr_png_", "_repr_svg_"})


@dataclass
class State:
    """Whether the file is judged or is a command-line tool; the figures each function binds."""

    skip: bool = False
    cli: bool = False
    # id of the function (0 at module level) -> name -> "figure" or "image"
    figures: dict[int, dict[str, str]] = field(default_factory=dict)


def visit_Module(node: cst.Module, ctx: Context[State]) -> None:
    # A module that loops at its top level runs as a script, whatever folder it sits in.
    ctx.state.skip = _skipped_file(ctx) or any(
        isinstance(statement, cst.For | cst.While) for statement in node.body
    )
    # A command-line module may ask its user a question; the module-level imports are known
    # before the walk starts.
    imported = {target.split(".", 1)[0] for target in ctx.aliases.values()}
    ctx.state.cli = bool(imported & _CLI_MODULES)


def _skipped_file(ctx: Context) -> bool:
    folder, _, name = ctx.path.rpartition("/")
    if not folder or ctx.is_test or name == "__main__.py":
        return True
    if f"{folder}/__init__.py" not in ctx.files:
        return True
    exempt = ctx.options["exempt-folders"]
    # Words of a folder's name count too: util_scripts and example-notebooks are exempt.
    return any(
        word in exempt for part in folder.split("/") for word in [part, *re.split(r"[_\-.]", part)]
    )


def visit_Assign(node: cst.Assign, ctx: Context[State]) -> None:
    if ctx.state.skip or not isinstance(node.value, cst.Call):
        return
    kind = _made_kind(node.value, ctx)
    if kind is None:
        return
    names = ctx.state.figures.setdefault(_scope_key(ctx), {})
    for target in node.targets:
        bound = target.target
        if isinstance(bound, cst.Tuple | cst.List) and bound.elements:
            bound = bound.elements[0].value  # fig, ax = plt.subplots()
        if isinstance(bound, cst.Name):
            names[bound.value] = kind


def visit_Call(node: cst.Call, ctx: Context[State]) -> None:
    if ctx.state.skip:
        return
    kind = _kind(node, ctx)
    if kind is None or (kind == "input" and ctx.state.cli) or _exempt(node, kind, ctx):
        return
    ctx.report(node, call=_shown_name(node, ctx), alternative=_ALTERNATIVES[kind])


def _kind(call: cst.Call, ctx: Context[State]) -> str | None:
    func = call.func
    if isinstance(func, cst.Attribute) and func.attr.value == "show":
        name = ctx.qualified_name(func)
        if name in _CALLS:
            return _CALLS[name]
        owner = _root_of_chain(func.value)
        if isinstance(owner, cst.Call):
            return _made_kind(owner, ctx)
        if isinstance(owner, cst.Name) and owner is func.value:
            return ctx.state.figures.get(_scope_key(ctx), {}).get(owner.value)
        return None
    if isinstance(func, cst.Name | cst.Attribute):
        return _CALLS.get(ctx.qualified_name(func) or "")
    return None


def _root_of_chain(node: cst.BaseExpression) -> cst.BaseExpression:
    """``px.line(df)`` for ``px.line(df).update_layout(...).update_xaxes(...)``."""
    while (
        isinstance(node, cst.Call)
        and isinstance(node.func, cst.Attribute)
        and node.func.attr.value.startswith("update")
        and isinstance(node.func.value, cst.Call)
    ):
        node = node.func.value
    return node


def _made_kind(call: cst.Call, ctx: Context) -> str | None:
    """``figure`` or ``image`` when ``call`` builds something whose ``.show()`` opens a window."""
    name = ctx.call_name(call) or ""
    if name in _IMAGE_MAKERS:
        return "image"
    if name in _FIGURE_MAKERS:
        return "figure"
    if name.startswith(_FIGURE_PREFIXES) and not name.startswith("plotly.express.data."):
        return "figure"
    return None


def _scope_key(ctx: Context) -> int:
    function = ctx.enclosing(cst.FunctionDef)
    return id(function) if function is not None else 0


def _shown_name(call: cst.Call, ctx: Context) -> str:
    func = ctx.code(call.func)
    if isinstance(call.func, cst.Attribute) and isinstance(call.func.value, cst.Call):
        func = f"...{call.func.attr.value}"
    return f"{func}()" if not call.args else f"{func}(...)"


def _exempt(call: cst.Call, kind: str, ctx: Context) -> bool:
    if _under_main_block(ctx) or ctx.enclosing(cst.FunctionDef) is None:
        return True  # code at module level runs as a script, not when a pipeline imports it
    if kind == "display" and any(
        arg.keyword is not None and arg.keyword.value in ("raw", "metadata") for arg in call.args
    ):
        return True  # a record written into the notebook for a tool to read back
    guards = []
    parameters: set[str] = set()
    child: cst.CSTNode = call
    for node in reversed(ctx.ancestors):
        if isinstance(node, cst.FunctionDef):
            name = node.name.value
            if name in _SPECIAL_METHODS or _SHOWING_FUNCTION.search(name):
                return True
            parameters |= _parameters(node)  # a closure's guard may test the outer parameters
        elif isinstance(node, cst.If | cst.IfExp) and node.test is not child:
            guards.append(node.test)
        child = node
    if kind == "input" and "input" in parameters:
        return True  # a parameter named input shadows the built-in
    # The innermost condition may hand the choice to the caller (``if show:``); any condition
    # may ask about the environment or a flag named for showing (``if is_notebook():``).
    if guards and _wanted(guards[0], parameters):
        return True
    return any(_wanted(test, set()) for test in guards[1:])


def _under_main_block(ctx: Context) -> bool:
    top = ctx.ancestors[1] if len(ctx.ancestors) > 1 else None
    return isinstance(top, cst.If) and _is_main_guard(top.test)


def _is_main_guard(test: cst.BaseExpression) -> bool:
    if not isinstance(test, cst.Comparison) or len(test.comparisons) != 1:
        return False
    sides = (test.left, test.comparisons[0].comparator)
    texts = {s.value if isinstance(s, cst.Name) else getattr(s, "value", "") for s in sides}
    return "__name__" in texts and bool(texts & {"'__main__'", '"__main__"'})


def _parameters(function: cst.FunctionDef) -> frozenset[str]:
    params = function.params
    every = [*params.posonly_params, *params.params, *params.kwonly_params]
    for star in (params.star_arg, params.star_kwarg):
        if isinstance(star, cst.Param):
            every.append(star)
    return frozenset(p.name.value for p in every) - {"self", "cls"}


def _wanted(test: cst.BaseExpression, parameters: set[str]) -> bool:
    """Whether an ``if`` test lets the caller or the environment decide to show."""
    if _caller_flag(test, parameters):
        return True
    return any(_SHOWING_FLAG.search(name) for name in _identifiers(test))


def _caller_flag(test: cst.BaseExpression, parameters: set[str]) -> bool:
    """``show``, ``not save``, ``outpath is None``, ``mode == "interactive"`` on a parameter.

    A condition on the data a parameter holds (``len(values.shape) == 2``) is not a choice
    the caller made about showing.
    """
    if isinstance(test, cst.Name):
        return test.value in parameters
    if isinstance(test, cst.UnaryOperation) and isinstance(test.operator, cst.Not):
        return _caller_flag(test.expression, parameters)
    if isinstance(test, cst.BooleanOperation):
        return _caller_flag(test.left, parameters) or _caller_flag(test.right, parameters)
    if isinstance(test, cst.Comparison) and isinstance(test.left, cst.Name):
        literals = cst.SimpleString | cst.Integer | cst.Name
        return test.left.value in parameters and all(
            isinstance(c.comparator, literals)
            and (not isinstance(c.comparator, cst.Name) or c.comparator.value in _CONSTANTS)
            for c in test.comparisons
        )
    return False


def _identifiers(node: cst.CSTNode) -> list[str]:
    found = []
    pending = [node]
    while pending:
        item = pending.pop()
        if isinstance(item, cst.Name):
            found.append(item.value)
        elif isinstance(item, cst.Attribute):
            found.append(item.attr.value)
            pending.append(item.value)
        elif isinstance(item, cst.SimpleString):
            value = item.evaluated_value
            if isinstance(value, str):
                found.append(value)
        else:
            pending.extend(item.children)
    return found
