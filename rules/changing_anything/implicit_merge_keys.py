"""
What it does
------------
Flags a pandas ``merge`` that does not say which columns to join on: ``pd.merge(a, b)``,
``a.merge(b)`` or ``a.merge(b, how="left")`` without any of ``on``, ``left_on``/``right_on``,
``left_index`` or ``right_index``. pandas then joins on every column name the two frames happen
to share.

Only the join keys are required. ``how`` has a documented, stable default (``"inner"``) and
``validate`` is a useful extra check, so neither is reported on its own: the finding is about
the one default that depends on the data rather than on the code. Not reported: a cross join
(``how="cross"`` takes no keys), calls that forward ``**kwargs``, ``DataFrame.join`` (it joins
on the index unless told otherwise, so its keys never depend on column names), and
``merge`` methods of imported objects (``OmegaConf.merge``). A method call ``x.merge(y)`` is
only reported in files that import pandas.

Why is this bad?
----------------
The join keys become a property of the data instead of the code. When an upstream step adds a
column that the other frame also has (a ``date``, an ``updated_at``, a second ``id``), the
merge silently starts joining on it too: rows stop matching, an inner join drops them, a left
join fills the features with NaN, and the model's input changes without any diff in the
feature code. Naming the keys also tells the reader what the grain of the result is; adding
``validate="one_to_one"`` or ``"many_to_one"`` makes pandas raise when duplicated keys would
multiply rows.

Example
-------
.. code-block:: python

    features = users.merge(orders_per_user)

Use instead
-----------
.. code-block:: python

    features = users.merge(
        orders_per_user, on="user_id", how="left", validate="one_to_one"
    )

References
----------
- SonarQube ``S6735``: the ``how``, ``on`` and ``validate`` parameters of pandas merges should
  be specified (stricter: it also requires ``how`` and ``validate``)
- Zhang et al., "Code Smells for Machine Learning Applications": Merge API Parameter Not
  Explicitly Set; dslinter ``merge-parameter-pandas``
- pandas documentation of ``pandas.merge`` (``on=None`` uses the intersection of the columns)
"""

from __future__ import annotations

from dataclasses import dataclass

import libcst as cst

from rules import Context, Example, Rule
from rules.names import dotted, keyword, string_value

RULE = Rule(
    code="DEBT504",
    name="implicit-merge-keys",
    principle="changing-anything",
    severity="warning",
    message="Name the join keys of `{call}` with `on=` (or `left_on=`/`right_on=`) instead of joining on whatever columns the frames happen to share.",
    valid=(
        """
import pandas as pd

features = users.merge(orders, on="user_id", how="left", validate="one_to_one")
labels = pd.merge(features, targets, left_on="user_id", right_on="customer_id")
""",
        # Near miss: index joins and cross joins have no implicit column keys.
        """
import pandas as pd

wide = pd.merge(left, right, left_index=True, right_index=True)
grid = params.merge(seeds, how="cross")
joined = users.join(stats)
""",
        # Near miss: another library's merge.
        """
from omegaconf import OmegaConf
import pandas as pd

cfg = OmegaConf.merge(base_cfg, cli_cfg)
""",
        # Near miss: a wrapper forwarding the caller's options.
        """
import pandas as pd

def combine(a, b, **kwargs):
    return a.merge(b, **kwargs)
""",
        # Near miss: no pandas in the file; `merge` of some other object.
        "merged = left_tree.merge(right_tree)",
    ),
    invalid=(
        Example(
            """
import pandas as pd

train = pd.read_csv("train.csv")
train = train.merge(pd.read_csv("stores.csv"), how="left")
""",
            line=4,
        ),
        Example(
            """
import pandas as pd

def build(users, orders):
    return pd.merge(users, orders)
""",
            line=4,
        ),
        "from pandas import merge\ndf = merge(left=a, right=b, how='inner', validate='1:1')",
    ),
)

_KEYS = ("on", "left_on", "right_on", "left_index", "right_index")
_PANDAS_MERGES = frozenset(
    {"pandas.merge", "modin.pandas.merge", "dask.dataframe.merge", "geopandas.merge"}
)


_PANDAS_LIKE = frozenset({"pandas", "modin", "dask", "geopandas"})


@dataclass
class State:
    """Whether the file imports pandas or a library like it."""

    # Decided when a ``.merge(...)`` method call first asks, from the imports seen by then.
    pandas: bool | None = None


def _uses_pandas(ctx: Context[State]) -> bool:
    if ctx.state.pandas is None:
        roots = {t.lstrip(".").split(".", 1)[0] for t in ctx.aliases.values()}
        ctx.state.pandas = bool(roots & _PANDAS_LIKE)
    return ctx.state.pandas


def visit_Call(node: cst.Call, ctx: Context) -> None:
    func = node.func
    if isinstance(func, cst.Attribute):
        if func.attr.value != "merge":
            return
    elif not (isinstance(func, cst.Name) and func.value == "merge"):
        return
    name = ctx.call_name(node)
    if name in _PANDAS_MERGES:
        frames = 2  # pd.merge(left, right)
    elif isinstance(func, cst.Attribute) and _uses_pandas(ctx):
        receiver = func.value
        root = receiver
        while isinstance(root, cst.Attribute | cst.Subscript | cst.Call):
            root = root.func if isinstance(root, cst.Call) else root.value
        if isinstance(root, cst.Name) and root.value in ctx.aliases:
            package = ctx.aliases[root.value].lstrip(".").split(".", 1)[0]
            if dotted(receiver) is not None or package not in _PANDAS_LIKE:
                return  # a module or class (OmegaConf.merge), or another library's object
        frames = 1  # left.merge(right)
    else:
        return
    if any(arg.star for arg in node.args):
        return
    if any(keyword(node, key) is not None for key in _KEYS):
        return
    positional = [a for a in node.args if a.keyword is None]
    given = len(positional) + sum(keyword(node, k) is not None for k in ("left", "right"))
    if given < frames:
        return  # not a merge of two frames
    if len(positional) > frames + 1:
        return  # keys passed by position (pre-2.0 pandas allowed on= as third argument)
    how = keyword(node, "how")
    if how is None and len(positional) == frames + 1:
        how = positional[-1]
    if how is not None and string_value(how.value) == "cross":
        return
    shown = dotted(func) or "merge"
    ctx.report(node, call=f"{shown}()")
