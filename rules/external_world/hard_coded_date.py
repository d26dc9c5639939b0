"""
What it does
------------
Flags a literal calendar date used to cut data:

- a date string compared with something: ``df[df["ts"] >= "2023-01-01"]``;
- a date built from literals inside a comparison: ``datetime(2023, 1, 1)``, ``date(...)``,
  ``pd.Timestamp("2023-01-01")``, ``pd.to_datetime("2023-01-01")``, ``np.datetime64(...)``;
- literal dates passed to ``.between(...)`` or ``.truncate(before=..., after=...)``;
- slices with literal dates: ``df.loc["2020-01-01":"2020-06-30"]``;
- a date inside a query or SQL condition: ``df.query("date > '2020-01-01'")``,
  ``pd.read_sql("... WHERE day >= '2021-06-01'", con)``;
- a variable or module constant set once to a literal date that then selects data: compared,
  passed to ``.between``, ``.truncate`` or a slice in the same file
  (``initial_date = "2022-01-01"`` ... ``df[df.day > initial_date]``), or whose name, or the
  keyword it is passed to, says it marks the edge of recent data (``LAST_DATA_DATE``,
  ``cutoff_date``, ``new_data_split_date=...``, ``inference_start``).

Only the literal (or the assignment) is reported. Dates in docstrings, log messages, class
bodies (a configuration's defaults), names that say the date is a version, a release or an
example, variables assigned more than once (a default later overridden), and plain keyword
arguments (such as Airflow's ``start_date=datetime(2023, 1, 1)``) are not flagged, nor are
``datetime.now() - timedelta(days=30)`` windows, the Unix epoch and other sentinels
(``1970-01-01``, ``1900-01-01``), or test files.

Why is this bad?
----------------
A date written into the code freezes the world as it was when the code was written. The
training window stops moving, the "recent" validation period grows old, a filter that removed a
known bad period keeps removing data that is now fine, and nobody notices because the job still
succeeds. Months later the model is trained and evaluated on a slice of history that no longer
matches production, and the date hides in a condition deep inside a pipeline step.

Example
-------
.. code-block:: python

    train = events[events["event_time"] < "2023-01-01"]
    valid = events[events["event_time"].between("2023-01-01", "2023-03-31")]

Use instead
-----------
Derive the window from the run date, or read it from versioned configuration that is logged
with the model:

.. code-block:: python

    cutoff = run_date - pd.Timedelta(days=cfg.validation_days)
    train = events[events["event_time"] < cutoff]
    valid = events[events["event_time"] >= cutoff]

References
----------
- Sculley et al., "Hidden Technical Debt in Machine Learning Systems", changes in the external
  world
- ruff ``PLR2004`` (magic-value-comparison) is the general form; ruff ``DTZ001`` flags naive
  ``datetime(...)`` calls for a different reason
- pandas documentation, "Time series / date functionality" (partial string indexing)
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

import libcst as cst

from rules import Context, Example, Rule
from rules.names import keyword, method_name, number_value, string_value

RULE = Rule(
    code="DEBT1102",
    name="hard-coded-date",
    principle="external-world",
    severity="warning",
    message="Take the cut-off date `{date}` from configuration or derive it from the run date, so the data window moves with time.",
    valid=(
        # Near miss: dates in a docstring and in a log message.
        '''
def load(start):
    """Load events, e.g. ``load("2023-01-01")``."""
    log.info("backfill since 2023-01-01 done")
    return read_events(start)
''',
        # Near miss: a rolling window computed from the run date.
        """
from datetime import datetime, timedelta
recent = events[events["ts"] >= datetime.now() - timedelta(days=30)]
""",
        # Near miss: Airflow needs a fixed start date; it is not a data cut-off.
        """
from datetime import datetime
dag = DAG("retrain", start_date=datetime(2023, 1, 1), schedule="@weekly")
""",
        # Near miss: the epoch is a sentinel, not a cut-off.
        """
from datetime import datetime
valid = df[df["ts"] > datetime(1970, 1, 1)]
""",
        # Near miss: a date that names a release, and a configuration class's default.
        """
RELEASE_DATE = "2023-05-01"
if RELEASE_DATE < today:
    pass

class Settings(BaseModel):
    cutoff_date: str = "2023-01-01"
""",
        # Near miss: a date compared with the clock checks the machine, not the data.
        """
import datetime
RECENT_DATE = datetime.date(2020, 7, 1)
is_time_off = datetime.date.today() < RECENT_DATE
""",
        # Near miss: a variable that holds a default, overridden from the command line.
        """
start = "2020-01-01"
if args.start:
    start = args.start
recent = df[df.day >= start]
""",
        # Near miss: tests may pin dates.
        Example(
            'def test_split():\n    assert (train["ts"] < "2023-01-01").all()\n',
            path="tests/test_split.py",
        ),
    ),
    invalid=(
        Example(
            """
train = events[events["event_time"] < "2023-01-01"]
""",
            line=1,
        ),
        Example(
            """
import pandas as pd
recent = df[df.index >= pd.Timestamp("2021-06-01")]
""",
            line=2,
        ),
        """
from datetime import datetime
if row.created_at > datetime(2022, 3, 1):
    row.label = relabel(row)
""",
        """
valid = events[events["event_time"].between("2023-01-01", "2023-03-31")]
""",
        """
history = prices.loc["2015-01-01":"2019-12-31"]
""",
        Example(
            """
orders = orders.query(
    "order_date >= '2022-01-01' and status == 'paid'"
)
""",
            line=2,
        ),
        # A date kept in a variable that then cuts the data.
        Example(
            """
def coming_week(games):
    initial_date = "2022-01-01"
    next_week = "2022-01-08"
    return games[(games.day > initial_date) & (games.day < next_week)]
""",
            line=2,
        ),
        # A constant whose name says it is the edge of the newest data.
        Example(
            """
LAST_DATA_DATE = "2022-04-10"

def run():
    training_pipeline(split=SplitConfig(new_data_split_date=LAST_DATA_DATE)).run()
""",
            line=1,
        ),
    ),
)

_DATE = re.compile(
    r"(?:19|20)\d\d(?:-(?:0[1-9]|1[0-2])(?:-(?:0[1-9]|[12]\d|3[01]))?|/(?:0[1-9]|1[0-2])/(?:0[1-9]|[12]\d|3[01]))"
    r"(?:[ T]\d\d:\d\d(?::\d\d(?:\.\d+)?)?)?(?:Z|[+-]\d\d:?\d\d)?"
)
_SENTINELS = ("1970-01-01", "1900-01-01", "1970/01/01", "1900/01/01")
# A quoted date after a comparison operator or BETWEEN, or before an operator, inside a query
# or SQL string.
_QUOTED = r"""["'`]((?:19|20)\d\d[-/]\d\d(?:[-/]\d\d)?[^"'`]*)["'`]"""
_CONDITION = re.compile(
    rf"(?:[<>]=?|==|!=|(?<![<>!=])=|\bbetween\b)\s*(?:(?:timestamp|date|datetime)\s*)?{_QUOTED}"
    rf"|{_QUOTED}\s*(?:[<>]=?|==|!=)",
    re.IGNORECASE,
)
_CONSTRUCTORS = frozenset(
    {
        "datetime.datetime", "datetime.date", "pandas.Timestamp", "pandas.to_datetime",
        "numpy.datetime64", "datetime.datetime.fromisoformat", "datetime.date.fromisoformat",
        "datetime.datetime.strptime", "pendulum.datetime", "pendulum.parse",
        "dateutil.parser.parse",
    }
)  # fmt: skip
_QUERY_METHODS = frozenset(
    {"query", "read_sql", "read_sql_query", "sql", "execute", "read_gbq", "filter", "where"}
)
# Names (of variables, constants and keywords) that say a date marks the edge of recent data.
_EDGE_NAME = re.compile(
    r"cut_?off|last_data|data_date|new_data|latest|recent|current|today|as_of|inference|"
    r"predict|serving|coming|next_week",
    re.IGNORECASE,
)
# Names that say the date is something else than a data edge.
_OTHER_NAME = re.compile(
    r"version|release|copyright|created|updated|modified|publish|deprecat|format|example|"
    r"birth|expir|licen|sample|fixture|dummy|fake|mock|default",
    re.IGNORECASE,
)
_COMPARISONS = (
    cst.LessThan, cst.LessThanEqual, cst.GreaterThan, cst.GreaterThanEqual, cst.Equal,
    cst.NotEqual,
)  # fmt: skip


@dataclass
class State:
    """Whether the file is left alone, and the dates already reported in each function."""

    # Worked out on first use; None until then.
    skip_file: bool | None = None
    # (id of the enclosing function, or of None at module level; the day, without the time).
    seen: set[tuple[int, str]] = field(default_factory=set)
    # Names bound to a literal date, by (id of the enclosing function or None, name): the
    # value, the date and the ancestors to report from.
    dated: dict[tuple[int, str], tuple[cst.CSTNode, str, list[cst.CSTNode]]] = field(
        default_factory=dict
    )
    # How many times each (scope, name) is bound, whatever the value.
    bound: dict[tuple[int, str], int] = field(default_factory=dict)
    # Names that select data: (id of the enclosing function or None, name).
    selecting: set[tuple[int, str]] = field(default_factory=set)
    # Names compared with the clock (``today() < RECENT_DATE``): a sanity check, not a cut.
    clock: set[str] = field(default_factory=set)


def _date_string(node: cst.CSTNode) -> str | None:
    value = string_value(node)
    if value is None:
        return None
    value = value.strip()
    if not _DATE.fullmatch(value) or value.startswith(_SENTINELS):
        return None
    return value


def _constructed_date(node: cst.CSTNode, ctx: Context) -> str | None:
    """The date a constructor call with literal arguments builds, as text; else None."""
    if not isinstance(node, cst.Call) or not node.args:
        return None
    if ctx.call_name(node) not in _CONSTRUCTORS:
        return None
    positional = [a.value for a in node.args if a.keyword is None and a.star == ""]
    if not positional:
        return None
    text = _date_string(positional[0])
    if text is not None:
        return text
    numbers = [number_value(v) for v in positional[:3]]
    if len(numbers) < 3 or not all(isinstance(v, cst.Integer) for v in positional[:3]):
        return None
    year, month, day = (int(n or 0) for n in numbers)
    if not (1990 <= year <= 2100 and 1 <= month <= 12 and 1 <= day <= 31):
        return None
    return f"{year:04d}-{month:02d}-{day:02d}"


def _literal_date(node: cst.CSTNode, ctx: Context) -> str | None:
    return _date_string(node) or _constructed_date(node, ctx)


def _skipped(ctx: Context[State]) -> bool:
    if ctx.state.skip_file is None:
        ctx.state.skip_file = ctx.is_test
    return ctx.state.skip_file


def _report(node: cst.CSTNode, date: str, ctx: Context[State]) -> None:
    """Report each date once per function: a split date reused on three lines is one decision."""
    scope = ctx.enclosing(cst.FunctionDef)
    seen = ctx.state.seen
    if (id(scope), date[:10]) in seen:
        return
    seen.add((id(scope), date[:10]))
    ctx.report(node, date=date)


def _scope(ctx: Context[State]) -> int:
    scope = ctx.enclosing(cst.FunctionDef)
    return id(scope) if scope is not None else 0


def _selects(node: cst.CSTNode, ctx: Context[State]) -> None:
    """A name used to select data: remember it, in its function and at module level."""
    if isinstance(node, cst.Name):
        ctx.state.selecting.add((_scope(ctx), node.value))
        ctx.state.selecting.add((0, node.value))


def _bind(target: cst.BaseExpression, value: cst.BaseExpression | None, ctx: Context[State]):
    if not isinstance(target, cst.Name):
        return
    if ctx.enclosing(cst.ClassDef) is not None:
        return  # a class body: a configuration's fields and their defaults
    key = (_scope(ctx), target.value)
    state = ctx.state
    state.bound[key] = state.bound.get(key, 0) + 1
    if value is None or state.bound[key] > 1:
        return
    date = _literal_date(value, ctx)
    if date is not None:
        state.dated[key] = (value, date, list(ctx.ancestors))


def visit_Assign(node: cst.Assign, ctx: Context[State]) -> None:
    for target in node.targets:
        _bind(target.target, node.value if len(node.targets) == 1 else None, ctx)


def visit_AnnAssign(node: cst.AnnAssign, ctx: Context[State]) -> None:
    _bind(node.target, node.value, ctx)


def visit_AugAssign(node: cst.AugAssign, ctx: Context[State]) -> None:
    _bind(node.target, None, ctx)


def visit_For(node: cst.For, ctx: Context[State]) -> None:
    _bind(node.target, None, ctx)


def leave_Module(node: cst.Module, ctx: Context[State]) -> None:
    state = ctx.state
    if not state.dated or _skipped(ctx):
        return
    for key, (value, date, ancestors) in state.dated.items():
        scope, name = key
        if state.bound.get(key, 0) > 1 or _OTHER_NAME.search(name) or name in state.clock:
            continue
        if key in state.selecting or _EDGE_NAME.search(name):
            if (scope, date[:10]) in state.seen:
                continue
            state.seen.add((scope, date[:10]))
            ctx.report_from(value, ancestors, date=date)


def visit_Arg(node: cst.Arg, ctx: Context[State]) -> None:
    keyword_name = node.keyword.value if node.keyword is not None else None
    if keyword_name is None or not _EDGE_NAME.search(keyword_name):
        return
    if _OTHER_NAME.search(keyword_name):
        return
    _selects(node.value, ctx)
    date = _literal_date(node.value, ctx)
    if date is not None and not _skipped(ctx):
        _report(node.value, date, ctx)


_CLOCK = frozenset({"today", "now", "utcnow", "time", "time_ns"})


def _reads_clock(node: cst.CSTNode) -> bool:
    return (
        isinstance(node, cst.Call)
        and isinstance(node.func, cst.Attribute)
        and node.func.attr.value in _CLOCK
    )


def visit_Comparison(node: cst.Comparison, ctx: Context[State]) -> None:
    operands = [node.left] + [c.comparator for c in node.comparisons]
    if not any(isinstance(c.operator, _COMPARISONS) for c in node.comparisons):
        return
    if any(_reads_clock(operand) for operand in operands):
        # The date is compared with the clock: a check of the machine's time or of a
        # deadline, not a cut of the data.
        ctx.state.clock.update(o.value for o in operands if isinstance(o, cst.Name))
        return
    for operand in operands:
        _selects(operand, ctx)
        if not isinstance(operand, cst.SimpleString | cst.ConcatenatedString | cst.Call):
            continue
        date = _literal_date(operand, ctx)
        if date is not None and not _skipped(ctx):
            _report(operand, date, ctx)


def visit_Call(node: cst.Call, ctx: Context[State]) -> None:
    name = method_name(node)
    if name == "between":
        candidates = [a.value for a in node.args[:2]]
    elif name == "truncate":
        candidates = [a.value for k in ("before", "after") if (a := keyword(node, k)) is not None]
    elif name in _QUERY_METHODS:
        _check_query(node, ctx)
        return
    else:
        return
    for candidate in candidates:
        _selects(candidate, ctx)
    for candidate in candidates:
        date = _literal_date(candidate, ctx)
        if date is not None and not _skipped(ctx):
            _report(candidate, date, ctx)
            return


def _check_query(node: cst.Call, ctx: Context[State]) -> None:
    if not node.args:
        return
    text_node = node.args[0].value
    text = string_value(text_node)
    if text is None:
        return
    match = _CONDITION.search(text)
    if match is None:
        return
    date = (match.group(1) or match.group(2) or "").strip()
    if date.startswith(_SENTINELS) or _skipped(ctx):
        return
    _report(text_node, date, ctx)


def visit_Slice(node: cst.Slice, ctx: Context[State]) -> None:
    for bound in (node.lower, node.upper):
        if bound is not None:
            _selects(bound, ctx)
    for bound in (node.lower, node.upper):
        if bound is not None and _date_string(bound) is not None and not _skipped(ctx):
            _report(bound, _date_string(bound) or "", ctx)
            return
