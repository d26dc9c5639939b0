"""
What it does
------------
Flags a Jupyter notebook (``.ipynb``) that sits inside an importable Python package, that is
a folder holding an ``__init__.py``. Notebooks at the repository root, in folders that are not
packages and under test folders are left alone, and so are notebooks under a top-level folder
named in the ``notebook-folders`` option (default ``notebooks``, ``notebook``, ``nbs``,
``examples``, ``example``, ``tutorials``, ``tutorial``, ``docs``, ``doc``, ``demo``, ``demos``),
even when that folder holds an ``__init__.py`` so that its notebooks can share helpers: nothing
there is installed with the product.

Why is this bad?
----------------
A package is the code that gets installed, imported and deployed. A notebook inside it mixes
exploration with the product: it is shipped with the wheel or the image, it cannot be imported
or tested, its outputs and hidden state go stale without anyone noticing, and it tempts the next
person to copy cells into the package instead of writing functions for them. Keeping notebooks
beside the package makes the line between prototype and production visible.

Example
-------
.. code-block:: text

    churn/
        __init__.py
        features.py
        explore_features.ipynb   <- inside the package

Use instead
-----------
.. code-block:: text

    churn/
        __init__.py
        features.py
    notebooks/
        explore_features.ipynb   <- imports churn.features

References
----------
- Sculley et al., "Hidden Technical Debt in Machine Learning Systems" (prototypes as production)
- Cookiecutter Data Science project layout (a top-level ``notebooks`` folder)
- Python Packaging User Guide, package discovery (``__init__.py`` folders are packaged)
"""

from __future__ import annotations

from rules import Context, Example, Rule

RULE = Rule(
    code="DEBT102",
    name="notebook-in-package",
    principle="separation-of-efforts",
    severity="warning",
    message=(
        "Move this notebook out of the `{package}` package and put the code it needs into "
        "tested modules."
    ),
    files=("*.ipynb",),
    needs_text=False,
    options={
        "notebook-folders": [
            "notebooks",
            "notebook",
            "nbs",
            "examples",
            "example",
            "tutorials",
            "tutorial",
            "docs",
            "doc",
            "demo",
            "demos",
        ]
    },
    valid=(
        # Near miss: a notebooks folder beside the package, without an __init__.py.
        Example(
            '{"cells": [], "metadata": {}, "nbformat": 4, "nbformat_minor": 5}\n',
            path="notebooks/explore.ipynb",
            files=("churn/__init__.py", "churn/features.py"),
        ),
        # Near miss: a notebook at the root of a repository that has a stray __init__.py.
        Example(
            '{"cells": [], "metadata": {}, "nbformat": 4, "nbformat_minor": 5}\n',
            path="tutorial.ipynb",
            files=("__init__.py", "models/__init__.py"),
        ),
        # Near miss: a top-level examples folder made importable so its notebooks share helpers.
        Example(
            '{"cells": [], "metadata": {}, "nbformat": 4, "nbformat_minor": 5}\n',
            path="examples/04-RNN-examples.ipynb",
            files=("examples/__init__.py", "examples/utils.py", "darts/__init__.py"),
        ),
        # Near miss: a notebook run by the tests.
        Example(
            '{"cells": [], "metadata": {}, "nbformat": 4, "nbformat_minor": 5}\n',
            path="tests/notebooks/smoke.ipynb",
            files=("tests/__init__.py", "tests/notebooks/__init__.py"),
        ),
    ),
    invalid=(
        Example(
            '{"cells": [], "metadata": {}, "nbformat": 4, "nbformat_minor": 5}\n',
            path="pkg/explore.ipynb",
            files=("pkg/__init__.py", "pkg/model.py"),
            line=1,
        ),
        Example(
            """
            {
             "cells": [
              {"cell_type": "code", "metadata": {}, "outputs": [],
               "source": ["from churn.features import build\\n", "build(df)"]}
             ],
             "metadata": {},
             "nbformat": 4,
             "nbformat_minor": 5
            }
            """,
            path="src/churn/features/try_encoders.ipynb",
            files=("src/churn/__init__.py", "src/churn/features/__init__.py"),
            line=1,
        ),
    ),
)


def check(ctx: Context) -> None:
    folder, _, _ = ctx.path.rpartition("/")
    if not folder or ctx.is_test:
        return
    if folder.split("/", 1)[0] in ctx.options["notebook-folders"]:
        return
    if f"{folder}/__init__.py" in ctx.files:
        ctx.report_line(1, snippet=ctx.path, package=folder.replace("/", ".").removeprefix("src."))
