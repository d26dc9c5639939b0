"""
What it does
------------
Flags an ``except`` clause that catches everything (bare ``except:``, ``Exception`` or
``BaseException``) and then does nothing: its body is only ``pass``, ``...`` or ``continue``.

Test files are skipped: a test that ignores every failure of one step on purpose, to assert
something else (which commands were issued, what was logged), is not a pipeline running on bad
data. A comment next to the ``pass`` does not silence the rule in other code: it says why the
author did not care, but the broad clause still hides failures nobody anticipated.

Why is this bad?
----------------
A pipeline that swallows every error keeps running on bad data. A missing file, a schema change
upstream or a typo in a column name all look the same as success, and the model is trained or
scored on whatever happened to be left. The failure shows up weeks later as a drop in a metric,
far away from its cause.

Example
-------
.. code-block:: python

    for path in paths:
        try:
            frames.append(pd.read_parquet(path))
        except Exception:
            pass

Use instead
-----------
Catch the specific error you expect and say what happened, or let it fail:

.. code-block:: python

    for path in paths:
        try:
            frames.append(pd.read_parquet(path))
        except FileNotFoundError:
            log.warning("partition %s missing, skipped", path)

References
----------
- ruff ``S110`` (try-except-pass) and ``BLE001`` (blind except)
- pylint ``W0718`` (broad-exception-caught)
"""

from __future__ import annotations

import libcst as cst

from rules import Context, Example, Rule

RULE = Rule(
    code="DEBT301",
    name="swallowed-exception",
    principle="cutting-corners",
    severity="warning",
    message="Catch the specific error you expect and handle or log it instead of `{caught}: pass`.",
    valid=(
        # Near miss: broad, but the error is logged.
        """
try:
    run()
except Exception:
    log.exception("run failed")
""",
        # Near miss: does nothing, but only for the error it expects.
        """
try:
    import ujson as json
except ImportError:
    pass
""",
        """
try:
    run()
except Exception:
    cleanup()
    raise
""",
        # Near miss: a test ignores the failure of a mocked step on purpose, to check the calls.
        Example(
            """
def test_export_never_uses_a_shell(mock_run):
    try:
        export_onnx("weights.pt")
    except Exception:
        pass  # only the recorded subprocess calls matter here
    assert all(not call.kwargs.get("shell") for call in mock_run.call_args_list)
""",
            path="tests/test_export.py",
        ),
    ),
    invalid=(
        """
try:
    run()
except:
    pass
""",
        # A comment says why, but the broad clause still hides every other failure.
        Example(
            """
for column in columns:
    try:
        df[column] = df[column].astype(float)
    except Exception:
        pass  # some columns are categorical
""",
            line=4,
        ),
        """
for path in paths:
    try:
        load(path)
    except Exception:
        continue
""",
        """
try:
    run()
except (ValueError, BaseException) as error:
    ...
""",
    ),
)

_BROAD = frozenset({"Exception", "BaseException", "builtins.Exception", "builtins.BaseException"})


def _is_broad(handler: cst.ExceptHandler, ctx: Context) -> bool:
    if handler.type is None:
        return True
    caught = handler.type.elements if isinstance(handler.type, cst.Tuple) else [handler.type]
    for item in caught:
        expr = item.value if isinstance(item, cst.Element) else item
        if ctx.qualified_name(expr) in _BROAD:
            return True
    return False


def _does_nothing(handler: cst.ExceptHandler) -> bool:
    body = handler.body
    statements = list(body.body) if isinstance(body, cst.IndentedBlock) else [body]
    for statement in statements:
        if not isinstance(statement, cst.SimpleStatementLine | cst.SimpleStatementSuite):
            return False
        for small in statement.body:
            if isinstance(small, cst.Pass | cst.Continue):
                continue
            if isinstance(small, cst.Expr) and isinstance(small.value, cst.Ellipsis):
                continue
            return False
    return True


def visit_ExceptHandler(node: cst.ExceptHandler, ctx: Context) -> None:
    if ctx.is_test:
        return
    if _is_broad(node, ctx) and _does_nothing(node):
        caught = "except" if node.type is None else f"except {ctx.code(node.type)}"
        ctx.report(node, caught=caught)
