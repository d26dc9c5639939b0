"""
What it does
------------
Flags a DataFrame or array that is grown inside a ``for`` or ``while`` loop by concatenating it
with a new piece and assigning the result back to the same name: ``df = pd.concat([df, part])``,
``df = df.append(row)``, ``X = np.append(X, row)``, ``X = np.concatenate([X, batch])`` and the
``np.vstack`` / ``np.hstack`` / ``np.column_stack`` variants.

``pandas``, ``numpy`` and ``polars`` are recognised through the file's imports. Left alone: loops
over a literal list, over a name bound once (before the loop, in the same function or at module
level) to a literal list of at most ten items, or over ``range`` of a small constant (written
out, or a name bound once to it, as in ``n_classes = 9``); a name the loop body binds
afresh before growing it (nothing carries over to the next iteration); a loop that reads what it
has gathered so far for anything but growing it (then one concatenation after the loop is not a
drop-in change); doubling such as ``df = pd.concat([df, df])``; test files. A loop that grows
several frames is reported once, on the first.

Why is this bad?
----------------
Neither a DataFrame nor an array can grow in place: every concatenation allocates a new object
and copies everything gathered so far. A loop of ``n`` iterations therefore copies on the order
of ``n * n / 2`` rows. It is fast on the ten-row sample used while writing the code and then
takes hours, or runs out of memory, on the real data. ``DataFrame.append`` was removed in
pandas 2.0 for this reason.

Example
-------
.. code-block:: python

    features = pd.DataFrame()
    for path in paths:
        part = pd.read_parquet(path)
        features = pd.concat([features, part], ignore_index=True)

Use instead
-----------
Collect the pieces in a list, which grows cheaply, and concatenate once:

.. code-block:: python

    parts = []
    for path in paths:
        parts.append(pd.read_parquet(path))
    features = pd.concat(parts, ignore_index=True)

References
----------
- pandas documentation of ``pandas.concat`` (its note on building frames row by row in a loop)
- pandas 2.0 release notes: removal of ``DataFrame.append``
- NumPy documentation of ``numpy.append`` (it returns a copy; the input is not changed)
"""

from __future__ import annotations

from dataclasses import dataclass, field

import libcst as cst

from rules import Context, Example, Rule
from rules.names import dotted, number_value

RULE = Rule(
    code="DEBT303",
    name="dataframe-growth-in-loop",
    principle="cutting-corners",
    severity="warning",
    message=(
        "Collect the pieces in a list and call `{fix}` once after the loop instead of "
        "re-copying `{name}` on every iteration."
    ),
    valid=(
        # Near miss: the loop appends to a list, the concatenation happens once.
        """
import pandas as pd
frames = []
for path in paths:
    frames.append(pd.read_csv(path))
train = pd.concat(frames, ignore_index=True)
""",
        # Near miss: concatenation inside a loop, but of two different frames.
        """
import pandas as pd
for fold, (left, right) in enumerate(pairs):
    merged = pd.concat([left, right], axis=1)
    merged.to_parquet(f"fold_{fold}.parquet")
""",
        # Near miss: the frame is rebuilt from scratch in each iteration.
        """
import pandas as pd
for path in paths:
    df = pd.read_csv(path)
    df = pd.concat([df, extra], axis=1)
    save(df)
""",
        # Near miss: a bounded loop over a short literal list.
        """
import numpy as np
for name in ["train", "valid"]:
    X = np.hstack([X, encoded[name]])
""",
        # Near miss: the loop runs over a name bound once to a two-item literal list.
        """
import pandas as pd
months = ["data/2021-03.parquet", "data/2021-04.parquet"]
trips = pd.DataFrame()
for month in months:
    trips = pd.concat([trips, pd.read_parquet(month)], ignore_index=True)
""",
        # Near miss: the loop reads what it has gathered so far (new boxes are compared with
        # the boxes already pasted), so one concatenation after the loop would change it.
        """
import numpy as np
for j in picked:
    box = make_box(labels[j])
    if (overlap(box, labels[:, 1:5]) < 0.3).all():
        labels = np.concatenate((labels, [[labels[j, 0], *box]]), 0)
""",
        # Near miss: oversampling by doubling; the copies add up to twice the final size.
        """
import pandas as pd
while scale > 1:
    negatives = pd.concat([negatives, negatives])
    scale -= 1
""",
        # Near miss: each new piece is computed from what was gathered so far.
        """
import numpy as np
for i in range(n_add):
    student_w = np.concatenate((student_w, add_noise(teacher_w[i], student_w)), axis=0)
""",
        # Near miss: one iteration per class, a count the code fixes.
        """
import numpy as np

def per_class(preds, labels):
    num_classes = 9
    stacked = np.zeros((0, 2))
    for c in range(0, num_classes):
        stacked = np.vstack([stacked, summarise(preds, labels, c)])
    return stacked
""",
        # Near miss: growth outside any loop.
        """
import numpy as np
X = np.vstack([X, extra_rows])
""",
        # Near miss: without an import, `np` is not known to be NumPy.
        """
for batch in loader:
    X = np.concatenate([X, batch])
""",
    ),
    invalid=(
        Example(
            """
import pandas as pd
features = pd.DataFrame()
for path in paths:
    part = pd.read_parquet(path)
    features = pd.concat([features, part], ignore_index=True)
""",
            line=5,
        ),
        Example(
            """
import numpy as np
preds = np.empty((0, 10))
for batch in loader:
    out = model(batch).numpy()
    preds = np.concatenate((preds, out), axis=0)
""",
            line=5,
        ),
        Example(
            """
results = pd.DataFrame()
while not done:
    row = step()
    results = results.append(row, ignore_index=True)
""",
            line=4,
        ),
        Example(
            """
import numpy as np
def collect(stream):
    y = np.array([])
    for value in stream:
        if value is not None:
            y = np.append(y, value)
    return y
""",
            line=6,
        ),
        # Conditional initialisation inside the loop is still growth.
        """
from numpy import vstack
emb = None
for batch in loader:
    if emb is None:
        emb = encode(batch)
    else:
        emb = vstack([emb, encode(batch)])
""",
    ),
)

# Qualified function -> (what to call once instead, whether the grown name is the first
# positional argument itself rather than an element of a list/tuple passed first).
_GROWERS = {
    "pandas.concat": ("pd.concat", False),
    "polars.concat": ("pl.concat", False),
    "numpy.concatenate": ("np.concatenate", False),
    "numpy.vstack": ("np.vstack", False),
    "numpy.row_stack": ("np.vstack", False),
    "numpy.hstack": ("np.hstack", False),
    "numpy.column_stack": ("np.column_stack", False),
    "numpy.dstack": ("np.dstack", False),
    "numpy.append": ("np.concatenate", True),
}
_TARGETS = (cst.Name, cst.Attribute, cst.Subscript)
_SCOPES = (cst.FunctionDef, cst.ClassDef, cst.Lambda)
_SMALL_RANGE = 10


@dataclass
class State:
    """What each function has bound its names to so far, and the loops already reported."""

    # id of the function (id(None) at module level) -> name -> every value bound to it, None
    # for a binding by a loop, an augmented assignment or unpacking
    bindings: dict[int, dict[str, list[cst.BaseExpression | None]]] = field(default_factory=dict)
    reported_loops: set[int] = field(default_factory=set)


def _first_argument(call: cst.Call) -> cst.BaseExpression | None:
    for arg in call.args:
        if arg.keyword is None and not arg.star:
            return arg.value
    return None


def _grown(call: cst.Call, target: str, ctx: Context) -> str | None:
    """What to call once instead, when ``call`` concatenates ``target`` with something."""
    name = ctx.call_name(call)
    if name not in _GROWERS:
        func = call.func
        if isinstance(func, cst.Attribute) and func.attr.value == "append":
            # df = df.append(...): DataFrame/Series/Index.append return a new, longer copy.
            return "pd.concat" if _text(func.value, ctx) == target else None
        return None
    fix, direct = _GROWERS[name]
    first = _first_argument(call)
    if first is None:
        return None
    if direct:
        return fix if _text(first, ctx) == target else None
    if not isinstance(first, cst.List | cst.Tuple) or len(first.elements) < 2:
        return None
    pieces = [_text(e.value, ctx) if isinstance(e, cst.Element) else None for e in first.elements]
    if target in pieces and any(piece != target for piece in pieces):
        return fix  # `pd.concat([X, X])` doubles X: copies add up to linear time, not quadratic
    return None


def _text(node: cst.CSTNode, ctx: Context) -> str | None:
    """The name, attribute chain or subscript an expression is, as comparable text."""
    if isinstance(node, cst.Name):
        return node.value
    if isinstance(node, cst.Attribute):
        return dotted(node) or "".join(ctx.code(node).split())
    if isinstance(node, cst.Subscript):
        return "".join(ctx.code(node).split())
    return None


def _innermost_loop(ctx: Context) -> tuple[cst.For | cst.While, cst.CSTNode] | None:
    """The loop whose body holds the current node, and the top statement of that body."""
    ancestors = ctx.ancestors
    for index in range(len(ancestors) - 1, -1, -1):
        node = ancestors[index]
        if isinstance(node, _SCOPES):
            return None
        if isinstance(node, cst.For | cst.While):
            if index + 1 >= len(ancestors) or ancestors[index + 1] is not node.body:
                return None  # in the loop's header or its ``else`` clause
            top = ancestors[index + 2] if index + 2 < len(ancestors) else node.body
            return node, top
    return None


def _short_literal(node: cst.BaseExpression | None) -> bool:
    return (
        isinstance(node, cst.List | cst.Tuple | cst.Set)
        and len(node.elements) <= _SMALL_RANGE
        and not any(isinstance(e, cst.StarredElement) for e in node.elements)
    )


def _remember(name: str, value: cst.BaseExpression | None, ctx: Context[State]) -> None:
    """Record a binding of ``name`` in the current scope (value None: not a literal list)."""
    scope = ctx.enclosing(cst.FunctionDef)
    bindings = ctx.state.bindings.setdefault(id(scope), {})
    bindings.setdefault(name, []).append(value)


def _literal_name(name: str, ctx: Context[State], small=_short_literal) -> bool:
    """``name`` was bound exactly once so far, to a small literal (a short list by default), in
    the loop's function (or at module level when the function neither binds it nor takes it as
    a parameter)."""
    bindings = ctx.state.bindings
    function = ctx.enclosing(cst.FunctionDef)
    values = bindings.get(id(function), {}).get(name)
    if values is None and function is not None:
        params = function.params
        every = [*params.posonly_params, *params.params, *params.kwonly_params]
        every += [p for p in (params.star_arg, params.star_kwarg) if isinstance(p, cst.Param)]
        if any(p.name.value == name for p in every):
            return False
        values = bindings.get(id(None), {}).get(name)
    return values is not None and len(values) == 1 and small(values[0])


def _small_number(node: cst.BaseExpression | None) -> bool:
    value = number_value(node) if node is not None else None
    return value is not None and value <= _SMALL_RANGE


def _bounded(loop: cst.For | cst.While, ctx: Context) -> bool:
    """A loop with a handful of iterations known from the code: no quadratic blow-up."""
    if not isinstance(loop, cst.For):
        return False
    iterated = loop.iter
    if isinstance(iterated, cst.List | cst.Tuple | cst.Set):
        return True
    if isinstance(iterated, cst.Name):
        return _literal_name(iterated.value, ctx)
    if (
        isinstance(iterated, cst.Call)
        and isinstance(iterated.func, cst.Name)
        and iterated.func.value == "range"
        and iterated.args
    ):
        stop = iterated.args[-1].value if len(iterated.args) < 3 else iterated.args[1].value
        if isinstance(stop, cst.Name):
            return _literal_name(stop.value, ctx, _small_number)  # num_classes = 9
        return _small_number(stop)
    return False


def _bound_names(node: cst.CSTNode, ctx: Context) -> set[str]:
    names: set[str] = set()
    pending = [node]
    while pending:
        current = pending.pop()
        if isinstance(current, cst.Tuple | cst.List):
            pending.extend(e.value for e in current.elements)
        elif isinstance(current, cst.StarredElement):
            pending.append(current.value)
        else:
            text = _text(current, ctx)
            if text is not None:
                names.add(text)
    return names


def _rebound_before(loop: cst.For | cst.While, top: cst.CSTNode, target: str, ctx: Context) -> bool:
    """Whether the loop target, or a plain statement of the loop body before ``top``, binds it."""
    if isinstance(loop, cst.For) and target in _bound_names(loop.target, ctx):
        return True
    body = loop.body
    statements = body.body if isinstance(body, cst.IndentedBlock) else (body,)
    for statement in statements:
        if statement is top:
            return False
        if not isinstance(statement, cst.SimpleStatementLine | cst.SimpleStatementSuite):
            continue
        for small in statement.body:
            if isinstance(small, cst.Assign):
                bound = [t.target for t in small.targets]
            elif isinstance(small, cst.AnnAssign) and small.value is not None:
                bound = [small.target]
            else:
                continue
            if any(target in _bound_names(t, ctx) for t in bound):
                return True
    return False


def _is_none_check(node: cst.Comparison, target: str, ctx: Context) -> bool:
    """``X is None`` / ``X is not None``: how a loop finds out it holds the first piece."""
    return (
        len(node.comparisons) == 1
        and isinstance(node.comparisons[0].operator, cst.Is | cst.IsNot)
        and _text(node.left, ctx) == target
        and isinstance(node.comparisons[0].comparator, cst.Name)
        and node.comparisons[0].comparator.value == "None"
    )


def _new_pieces(call: cst.Call, target: str, ctx: Context) -> list[cst.CSTNode]:
    """What a growth call adds, without the grown value itself (which it only copies)."""
    pieces: list[cst.CSTNode] = []
    skipped = False
    for arg in call.args:
        value = arg.value
        if not skipped and arg.keyword is None and _text(value, ctx) == target:
            skipped = True  # np.append(X, ...)
            continue
        if not skipped and arg.keyword is None and isinstance(value, cst.List | cst.Tuple):
            skipped = True
            pieces.extend(
                e.value
                for e in value.elements
                if not (isinstance(e, cst.Element) and _text(e.value, ctx) == target)
            )
            continue
        pieces.append(value)
    if isinstance(call.func, cst.Attribute) and _text(call.func.value, ctx) != target:
        pieces.append(call.func.value)
    return pieces


def _read_in_loop(loop: cst.For | cst.While, target: str, ctx: Context) -> bool:
    """Whether the loop body uses the growing value for anything but growing it.

    Then the loop needs the accumulated result as it goes (to compare new items against those
    already kept, say), and collecting the pieces for one final concatenation is not a drop-in
    change.
    """
    pending: list[cst.CSTNode] = [loop.body]
    while pending:
        node = pending.pop()
        if (
            isinstance(node, cst.Assign)
            and len(node.targets) == 1
            and _text(node.targets[0].target, ctx) == target
        ):
            value = node.value
            if isinstance(value, cst.Call) and _grown(value, target, ctx) is not None:
                pending.extend(_new_pieces(value, target, ctx))
            else:
                pending.append(value)  # the first piece: `X = part` under `if X is None`
            continue
        if isinstance(node, cst.Comparison) and _is_none_check(node, target, ctx):
            continue
        if isinstance(node, _TARGETS) and _text(node, ctx) == target:
            return True
        if isinstance(node, cst.Attribute | cst.Subscript):
            pending.append(node.value)  # `target.shape`, `target[0]`: look inside the chain
            if isinstance(node, cst.Subscript):
                pending.extend(node.slice)
            continue
        pending.extend(node.children)
    return False


def _remember_targets(target: cst.BaseExpression, value, ctx: Context) -> None:
    if isinstance(target, cst.Name):
        _remember(target.value, value, ctx)
    elif isinstance(target, cst.Tuple | cst.List):
        for element in target.elements:
            _remember_targets(element.value, None, ctx)
    elif isinstance(target, cst.StarredElement):
        _remember_targets(target.value, None, ctx)


def visit_AugAssign(node: cst.AugAssign, ctx: Context) -> None:
    _remember_targets(node.target, None, ctx)


def visit_AnnAssign(node: cst.AnnAssign, ctx: Context) -> None:
    if node.value is not None:
        _remember_targets(node.target, node.value, ctx)


def visit_For(node: cst.For, ctx: Context) -> None:
    _remember_targets(node.target, None, ctx)


def visit_Assign(node: cst.Assign, ctx: Context[State]) -> None:
    for assign_target in node.targets:
        _remember_targets(assign_target.target, node.value, ctx)
    call = node.value
    if not isinstance(call, cst.Call) or len(node.targets) != 1:
        return
    func = call.func
    is_append = isinstance(func, cst.Attribute) and func.attr.value == "append"
    if not is_append and ctx.call_name(call) not in _GROWERS:
        return
    if ctx.is_test:
        return
    target = _text(node.targets[0].target, ctx)
    if target is None:
        return
    fix = _grown(call, target, ctx)
    if fix is None:
        return
    found = _innermost_loop(ctx)
    if found is None:
        return
    loop, top = found
    reported = ctx.state.reported_loops
    if (
        id(loop) in reported  # one finding per loop, however many frames it grows
        or _bounded(loop, ctx)
        or _rebound_before(loop, top, target, ctx)
        or _read_in_loop(loop, target, ctx)
    ):
        return
    reported.add(id(loop))
    ctx.report(call, fix=fix, name=ctx.code(node.targets[0].target).strip())
