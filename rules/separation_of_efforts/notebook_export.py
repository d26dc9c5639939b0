"""
What it does
------------
Flags a Python module that is a notebook saved as a script: it still carries Jupyter's cell
markers (``# In[3]:``, ``# In[ ]:``), runs IPython magics through
``get_ipython().run_line_magic(...)`` or ``get_ipython().system(...)``, or calls ``display(...)``
without importing or defining ``display`` (that name only exists inside a notebook kernel).
The file is reported once, at its first marker.

Files inside a folder named in the ``exploration-folders`` option (default ``notebooks``,
``notebook``, ``nbs``) are left alone, and so are tests, jupytext-paired scripts and Databricks
notebook sources, which are notebooks kept as ``.py`` files on purpose. A ``display`` imported
(from ``IPython.display``, wherever the file lives) or defined in the file does not count, and
neither does ``get_ipython()`` used only to detect a notebook, nor a magic run inside a function
of a module that imports ``get_ipython`` on purpose (a helper for notebook users).

Why is this bad?
----------------
An exported notebook is a prototype, not a module. Its code runs top to bottom on global
variables, in an order that was only ever checked by hand, with no functions a caller can reuse
and nothing a test can import. Magics and ``display`` fail outside a kernel. Shipping it as it is
hands the work of making it usable to whoever has to deploy and debug it later, without the
context of the person who wrote it.

Example
-------
.. code-block:: python

    #!/usr/bin/env python
    # coding: utf-8

    # In[1]:

    import pandas as pd
    get_ipython().run_line_magic("matplotlib", "inline")
    df = pd.read_csv("train.csv")

    # In[2]:

    display(df.describe())

Use instead
-----------
Keep the exploration in the notebook, and move the code that must run in production into
functions with tests:

.. code-block:: python

    import pandas as pd


    def load_training_data(path: str) -> pd.DataFrame:
        return pd.read_csv(path)

References
----------
- Sculley et al., "Hidden Technical Debt in Machine Learning Systems" (prototypes as production)
- Jupyter ``nbconvert --to script``, which writes the ``# In[n]:`` markers
- IPython documentation of ``InteractiveShell.run_line_magic`` and ``IPython.display.display``
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

import libcst as cst

from rules import Context, Example, Rule

RULE = Rule(
    code="DEBT101",
    name="notebook-export",
    principle="separation-of-efforts",
    severity="warning",
    message=(
        "Turn this notebook export (`{marker}`) into functions with tests before shipping it "
        "as a module."
    ),
    options={"exploration-folders": ["notebooks", "notebook", "nbs"]},
    valid=(
        # Near miss: display is a function of the module itself.
        """
        import matplotlib.pyplot as plt


        def display(image, title):
            plt.imshow(image)
            plt.title(title)


        for image, label in batch:
            display(image, label)
        """,
        # Near miss: display imported from IPython, and get_ipython only detects a notebook.
        """
        def show(results):
            try:
                shell = get_ipython().__class__.__name__
            except NameError:
                shell = None
            if shell == "ZMQInteractiveShell":
                from IPython.display import display

                display(results.render())
            else:
                print(results)
        """,
        # Near miss: comments that start with "In".
        """
        # In[0] is the batch dimension, In[1] the channels.
        # In this step we normalise the inputs.
        x = (x - mean) / std
        """,
        # Near miss: an export kept in the notebooks folder, where exploration belongs.
        Example(
            """
            # In[1]:

            import pandas as pd
            df = pd.read_csv("train.csv")
            display(df.head())
            """,
            path="notebooks/explore_churn.py",
        ),
        # Near miss: a helper for notebook users, with get_ipython imported on purpose.
        """
        from IPython import get_ipython


        def enable_autoreload():
            shell = get_ipython()
            if shell is not None:
                get_ipython().run_line_magic("load_ext", "autoreload")
        """,
        # Near miss: a Databricks notebook source, a notebook kept as .py on purpose.
        """
        # Databricks notebook source
        df = spark.read.table("sales")

        # COMMAND ----------

        display(df.groupBy("region").count())
        """,
        # Near miss: a method called display.
        """
        class Report:
            def render(self):
                self.display(self.table)
        """,
    ),
    invalid=(
        Example(
            """
            #!/usr/bin/env python
            # coding: utf-8

            # In[1]:


            import pandas as pd
            from sklearn.ensemble import RandomForestClassifier


            # In[2]:


            df = pd.read_csv("data/train.csv")
            model = RandomForestClassifier().fit(df.drop(columns="y"), df["y"])
            """,
            path="churn/train_model.py",
            line=4,
        ),
        Example(
            """
            import numpy as np
            import pandas as pd
            get_ipython().run_line_magic('matplotlib', 'inline')
            df = pd.read_csv("sales.csv")
            """,
            line=3,
        ),
        Example(
            """
            import pandas as pd

            features = pd.read_parquet("features.parquet")
            display(features.describe())
            features.to_parquet("clean.parquet")
            """,
            line=4,
        ),
        Example(
            """
            get_ipython().system('pip install lightgbm')
            import lightgbm as lgb
            """,
            line=1,
        ),
        # get_ipython imported so that the export runs, but the magic still sits at module level.
        Example(
            """
            import numpy as np
            import matplotlib.pyplot as plt
            from IPython import get_ipython
            get_ipython().run_line_magic('matplotlib', 'inline')
            from sklearn.decomposition import PCA
            """,
            line=4,
        ),
    ),
)

_CELL_MARKER = re.compile(r"^#\s?In\[\s*\d*\s*\]:\s*$")
_MAGIC_METHODS = frozenset(
    {"run_line_magic", "run_cell_magic", "magic", "system", "getoutput", "run_cell"}
)
_SCAN_LINES = 200


@dataclass
class State:
    """The first IPython magic and ``display(...)`` call seen, and whether ``display`` is bound."""

    skip: bool = False
    magic: cst.Call | None = None
    display: list[cst.Call] = field(default_factory=list)
    bound: bool = False


def _first_cell_marker(ctx: Context) -> tuple[int, str] | None:
    if "In[" not in ctx.text:
        return None
    for number, line in enumerate(ctx.lines, start=1):
        if line.startswith("#") and _CELL_MARKER.match(line):
            return number, line.strip()
    return None


def _is_notebook_source(ctx: Context) -> bool:
    """A jupytext-paired script or a Databricks notebook: a notebook kept as .py on purpose."""
    if ctx.lines and ctx.lines[0].strip() == "# Databricks notebook source":
        return True
    return any("jupytext:" in line for line in ctx.lines[:_SCAN_LINES] if line.startswith("#"))


def _skipped_path(ctx: Context) -> bool:
    if ctx.is_test:
        return True
    folders = set(ctx.path.split("/")[:-1])
    return any(folder in folders for folder in ctx.options["exploration-folders"])


def visit_Module(node: cst.Module, ctx: Context[State]) -> None:
    ctx.state.skip = _skipped_path(ctx) or _is_notebook_source(ctx)


def visit_Call(node: cst.Call, ctx: Context[State]) -> None:
    if ctx.state.skip:
        return
    func = node.func
    if isinstance(func, cst.Name):
        if func.value == "display" and not ctx.state.display:
            ctx.state.display.append(node)
        return
    if (
        ctx.state.magic is None
        and isinstance(func, cst.Attribute)
        and func.attr.value in _MAGIC_METHODS
        and isinstance(func.value, cst.Call)
        and isinstance(func.value.func, cst.Name)
        and func.value.func.value == "get_ipython"
        and (
            ctx.qualified_name(func.value.func) == "get_ipython"
            or ctx.enclosing(cst.FunctionDef) is None
        )
    ):
        ctx.state.magic = node


def _binds_display(target: cst.CSTNode | None) -> bool:
    if isinstance(target, cst.Tuple | cst.List):
        return any(_binds_display(element.value) for element in target.elements)
    if isinstance(target, cst.StarredElement):
        return _binds_display(target.value)
    return isinstance(target, cst.Name) and target.value == "display"


def visit_FunctionDef(node: cst.FunctionDef, ctx: Context[State]) -> None:
    if node.name.value == "display":
        ctx.state.bound = True


def visit_ClassDef(node: cst.ClassDef, ctx: Context[State]) -> None:
    if node.name.value == "display":
        ctx.state.bound = True


def visit_Param(node: cst.Param, ctx: Context[State]) -> None:
    if node.name.value == "display":
        ctx.state.bound = True


def visit_AssignTarget(node: cst.AssignTarget, ctx: Context[State]) -> None:
    if _binds_display(node.target):
        ctx.state.bound = True


def visit_AnnAssign(node: cst.AnnAssign, ctx: Context[State]) -> None:
    if _binds_display(node.target):
        ctx.state.bound = True


def visit_For(node: cst.For, ctx: Context[State]) -> None:
    if _binds_display(node.target):
        ctx.state.bound = True


def visit_AsName(node: cst.AsName, ctx: Context[State]) -> None:
    if _binds_display(node.name):
        ctx.state.bound = True


def visit_CompFor(node: cst.CompFor, ctx: Context[State]) -> None:
    if _binds_display(node.target):
        ctx.state.bound = True


def visit_NamedExpr(node: cst.NamedExpr, ctx: Context[State]) -> None:
    if _binds_display(node.target):
        ctx.state.bound = True


def visit_ImportFrom(node: cst.ImportFrom, ctx: Context[State]) -> None:
    if isinstance(node.names, cst.ImportStar):
        ctx.state.bound = True  # display may come from the star import


def leave_Module(node: cst.Module, ctx: Context[State]) -> None:
    if ctx.state.skip:
        return
    marker = _first_cell_marker(ctx)
    if marker is not None:
        ctx.report_line(marker[0], marker=marker[1])
        return
    if ctx.state.magic is not None:
        call = ctx.state.magic
        ctx.report(call, marker=f"get_ipython().{call.func.attr.value}(...)")
        return
    calls = ctx.state.display
    if calls and not ctx.state.bound and ctx.qualified_name(calls[0].func) == "display":
        ctx.report(calls[0], marker="display(...)")
