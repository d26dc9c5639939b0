"""
What it does
------------
Flags comparisons with NaN using ``==`` or ``!=``, such as ``x == np.nan`` or
``df["age"] != float("nan")``.

Why is this bad?
----------------
NaN is not equal to anything, itself included. ``x == np.nan`` is always false and
``x != np.nan`` always true, so the check silently does nothing and missing values flow on into
features and training data.

Example
-------
.. code-block:: python

    missing = df[df["income"] == np.nan]

Use instead
-----------
.. code-block:: python

    missing = df[df["income"].isna()]
    # or, for scalars and arrays
    if np.isnan(value): ...

References
----------
- Zhang et al., "Code Smells for Machine Learning Applications": NaN equivalence comparison misused
- dslinter ``nan-numpy``; ruff ``PD`` and ``PLW0177`` (nan-comparison)
- NumPy documentation of ``numpy.isnan``
"""

from __future__ import annotations

import libcst as cst

from rules import Context, Example, Rule
from rules.names import string_value

RULE = Rule(
    code="DEBT302",
    name="nan-equality",
    principle="cutting-corners",
    severity="error",
    message="Use `{fix}` instead of comparing with NaN by `{operator}`, which is never true.",
    valid=(
        "missing = df[df['income'].isna()]",
        # Near miss: identity with a sentinel, not NaN.
        "if value == np.inf:\n    clip()",
        "import math\nif math.isnan(x):\n    pass",
    ),
    invalid=(
        Example("import numpy as np\nmissing = df[df['income'] == np.nan]", line=2),
        "import math\nif x != math.nan:\n    pass",
        Example("if score == float('nan'):\n    pass", line=1),
        "from numpy import nan\nok = values != nan",
    ),
)

_NAN_NAMES = frozenset({"numpy.nan", "numpy.NaN", "numpy.NAN", "math.nan", "pandas.NA"})


def _is_nan(node: cst.BaseExpression, ctx: Context) -> bool:
    if ctx.qualified_name(node) in _NAN_NAMES:
        return True
    return (
        isinstance(node, cst.Call)
        and ctx.qualified_name(node.func) == "float"
        and len(node.args) == 1
        and (string_value(node.args[0].value) or "").strip().lower() == "nan"
    )


def visit_Comparison(node: cst.Comparison, ctx: Context) -> None:
    left = node.left
    for target in node.comparisons:
        operator = target.operator
        if isinstance(operator, cst.Equal | cst.NotEqual):
            if _is_nan(target.comparator, ctx):
                other = left
            elif _is_nan(left, ctx):
                other = target.comparator
            else:
                left = target.comparator
                continue
            equal = isinstance(operator, cst.Equal)
            check = "isna" if equal else "notna"
            ctx.report(node, operator="==" if equal else "!=", fix=f"pd.{check}({ctx.code(other)})")
            return
        left = target.comparator
