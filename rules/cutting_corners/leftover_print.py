"""
What it does
------------
Flags a ``print`` that looks left over from a debugging session, in two places where nobody
prints on purpose:

* in a test (a ``test_*`` function, a method of a ``Test*`` class, or a function defined in one),
  unless the test reads what is written to standard output (``capsys``/``capfd`` and their
  ``.out``, ``redirect_stdout``, ``StringIO``), and unless the file prints in several of its tests
  (then printing is its habit);
* inside a function of a library module (not a script, not a notebook export, not an example or
  a command line) when the print only inspects a value: a bare variable or attribute, ``x.shape``,
  ``len(x)``, ``type(x)``, ``x.dtype``, ``f"{x=}"``, a short label followed by such a value
  (``print("loss:", loss)``), or a marker such as ``"here"`` or ``"debug"`` - and the file has no
  other kind of print (a file that prints messages prints by habit).

Left alone: prints with ``file=``, ``end=``, ``sep=`` or ``flush=`` (chosen output), prints under
a ``verbose``/``debug``/rank condition, in an ``except`` handler, in a function whose name says it
shows or reports something (``print_*``, ``show``, ``summary``, ``__repr__``, ``main``...), in
scripts (a ``__main__`` guard, ``argparse``/``click``/``typer``/``fire``, ``sys.argv``, code run
at the top level), in ``scripts/``, ``examples/``, ``notebooks/``, ``tutorials/``, ``docs/`` and
``benchmarks/`` folders, and anything that reads as a message rather than an inspection.

Why is this bad?
----------------
A print added to look at a tensor's shape or a variable's value answers a question once and then
stays: every run of the pipeline step, every training job and every test run writes it again, in
output nobody reads and that cannot be switched off or sent elsewhere. It hides the messages that
matter, and it tells the reader that the code around it was never quite finished.

Example
-------
.. code-block:: python

    def split(dataset, cutoff):
        reference = dataset[dataset["date"] < cutoff]
        print(reference.shape)
        return reference, dataset[dataset["date"] >= cutoff]

Use instead
-----------
Delete the print, or, when the value is worth knowing on every run, log it through the module's
logger so that it can be filtered:

.. code-block:: python

    logger = logging.getLogger(__name__)

    def split(dataset, cutoff):
        reference = dataset[dataset["date"] < cutoff]
        logger.debug("reference rows: %d", len(reference))
        return reference, dataset[dataset["date"] >= cutoff]

References
----------
- flake8-print ``T201`` and ruff ``T201`` (print found)
- Python documentation, "Logging HOWTO": when to use ``print`` and when ``logging``
- pytest documentation, "How to capture stdout/stderr output"
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

import libcst as cst

from rules import Context, Example, Rule

RULE = Rule(
    code="DEBT317",
    name="leftover-print",
    principle="cutting-corners",
    severity="info",
    message=(
        "Remove the debugging `{call}`, or log the value through a logger if it is worth keeping, "
        "since a stray print writes on every run where nobody reads it and cannot be switched off."
    ),
    valid=(
        # Near miss: a script prints on purpose.
        """
        import argparse

        def report(df):
            print(df.shape)

        if __name__ == "__main__":
            report(load(argparse.ArgumentParser().parse_args().path))
        """,
        # Near miss: a module that prints messages by habit; a bare variable is its output too.
        """
        def evaluate(model, X, y):
            print("Evaluating the model on the hold-out set")
            scores = model.score(X, y)
            print(scores)
            return scores
        """,
        # Near misses: output chosen on purpose.
        """
        import sys

        def fit(model, X, y, verbose=False):
            if verbose:
                print(X.shape)
            print(len(X), file=sys.stderr)
            return model.fit(X, y)

        def show_batch(batch):
            print(batch)
        """,
        # Near miss: a test that checks what is printed.
        Example(
            """
            def test_summary(capsys):
                model = build()
                print(model)
                assert "Linear" in capsys.readouterr().out
            """,
            path="tests/test_model.py",
        ),
        # Near miss: a test suite that prints in every test.
        Example(
            """
            def test_a():
                print("a")
                assert a() == 1

            def test_b():
                print("b")
                assert b() == 2

            def test_c():
                print("c")
                assert c() == 3
            """,
            path="tests/test_letters.py",
        ),
        # Near miss: a message, not an inspection.
        """
        def load(path):
            print(f"Loading the weights from {path}, this can take a minute")
            return torch.load(path)
        """,
    ),
    invalid=(
        Example(
            """
            import pandas as pd

            def split(dataset: pd.DataFrame, cutoff: str):
                reference = dataset[dataset["date"] < cutoff]
                print(reference.shape[0])
                return reference
            """,
            line=5,
        ),
        Example(
            """
            import logging

            logger = logging.getLogger(__name__)

            class Encoder(nn.Module):
                def forward(self, x):
                    h = self.conv(x)
                    print("h:", h.shape)
                    logger.debug("encoded")
                    return self.head(h)
            """,
            line=8,
        ),
        """
        def collate(items):
            batch = torch.stack(items)
            print(f"{batch.dtype=}")
            return batch
        """,
        Example(
            """
            def test_progress_bar(capsys):
                engine = Engine(step)

                def show(_):
                    print("iteration: ", engine.state.iteration)

                engine.add_event_handler(Events.ITERATION_COMPLETED, show)
                engine.run(range(2))
                err = capsys.readouterr().err
                assert "2/2" in err
            """,
            path="tests/test_pbar.py",
            line=5,
        ),
        Example(
            """
            class TestLoader:
                def test_len(self):
                    loader = make_loader()
                    print(len(loader))
                    assert len(loader) == 4
            """,
            path="tests/test_loader.py",
        ),
    ),
)

# Folders and files whose code prints on purpose.
_PRINTING_PATH = re.compile(
    r"(^|/)(scripts?|examples?|notebooks?|tutorials?|demos?|docs?|benchmarks?|bin|tools|cli"
    r"|recipes|exercises|homework|solutions?)/|(^|/)(setup|__main__|main|cli|manage|conftest)\.py$"
    r"|(^|/)(demo|example|run|cli|app)_[^/]*\.py$",
    re.IGNORECASE,
)
# What makes a file a script or a command line.
_SCRIPT = re.compile(
    r"__name__\s*==|\bsys\.argv\b|^\s*(import|from)\s+(argparse|click|typer|fire|docopt|absl)\b"
    r"|^# In\[|^# %%|get_ipython\(",
    re.MULTILINE,
)
_COMMAND_LINE = re.compile(
    r"\bsys\.argv\b|^\s*(import|from)\s+(argparse|click|typer|fire|docopt|absl)\b", re.MULTILINE
)
# Tests that read what is printed.
_READS_OUTPUT = re.compile(
    r"\.out\b|\bout\s*[,=)]|stdout|StringIO|redirect_std|capture_output|capfd|doctest"
)
# Functions whose job is to show something.
_SHOWING_FUNCTION = re.compile(
    r"print|show|display|report|summar|describe|dump|pretty|visuali|plot|render|inspect|info"
    r"|status|verbose|debug|^main$|^cli$|^run$|repr__|str__|^log|_log|banner|usage|help|welcome",
    re.IGNORECASE,
)
_SHOWING_CLASS = re.compile(r"Printer|Logger|Reporter|Progress|Callback|Display|Monitor")
# Conditions under which printing is asked for.
_ON_REQUEST = re.compile(
    r"verbose|debug|rank|main_process|is_master|master|local_rank|print|show|display|log"
    r"|quiet|silent",
    re.IGNORECASE,
)
# Top-level calls a library module makes to set itself up (not signs of a script).
_SETUP_CALL = re.compile(
    r"(^|\.)(basicConfig|filterwarnings|simplefilter|setLevel|addHandler|register\w*|use|seed"
    r"|manual_seed|load_dotenv|disable\w*|set\w*|update|append|extend|insert|config\w*|patch\w*"
    r"|getLogger|install|init\w*|add_\w+)$"
)
# Names of what is printed as output, not inspected.
_OUTPUT_NAME = re.compile(
    r"^(report|summary|msg|message|text|line|lines|banner|usage|help|table|s|out|output|log|info"
    r"|string|header|title|sep|separator|status|progress|desc|description|stats|metrics"
    r"|results?|scores?|str_\w*|\w*_(str|msg|message|text|report|summary|table|line|banner|info))$",
    re.IGNORECASE,
)
_INSPECTING_CALL = frozenset({"len", "type", "id", "dir", "vars", "repr", "isinstance", "hasattr"})
_INSPECTING_METHOD = frozenset(
    {
        "size",
        "dim",
        "keys",
        "head",
        "tail",
        "item",
        "sum",
        "mean",
        "min",
        "max",
        "std",
        "unique",
        "nunique",
        "isnull",
        "isna",
        "get_shape",
        "numel",
        "tolist",
        "numpy",
        "cpu",
        "count",
        "value_counts",
    }
)
_MARKER = re.compile(r"^\W*(here|debug\w*|hello|test|ok|check|x+|a+|h+|1|2|3|\d+)\W*$", re.I)


@dataclass
class State:
    # Every print call, with its ancestors.
    prints: list[tuple[cst.Call, list[cst.CSTNode]]] = field(default_factory=list)
    # A statement at the top level that runs code: the module is a script.
    runs_at_top: bool = False


def visit_Call(node: cst.Call, ctx: Context[State]) -> None:
    is_print = isinstance(node.func, cst.Name) and node.func.value == "print"
    if is_print and ctx.call_name(node) == "print":
        ctx.state.prints.append((node, list(ctx.ancestors)))


def visit_Module(node: cst.Module, ctx: Context[State]) -> None:
    for statement in node.body:
        if isinstance(statement, cst.For | cst.While | cst.With):
            ctx.state.runs_at_top = True
        elif isinstance(statement, cst.SimpleStatementLine):
            for small in statement.body:
                if isinstance(small, cst.Expr) and isinstance(small.value, cst.Call):
                    name = ctx.code(small.value.func)
                    if not _SETUP_CALL.search(name):
                        ctx.state.runs_at_top = True


def _label(text: str) -> bool:
    """A label before a value, one word long: ``"loss:"``, ``"x.shape ="``, ``"n_rows"``.
    Two words or more (``"Vocab size:"``) read as a message meant for the user."""
    return len(text.split()) <= 1


def _value(node: cst.BaseExpression) -> bool:
    """An expression that only looks at a value."""
    if isinstance(node, cst.Name):
        return not _OUTPUT_NAME.match(node.value) and node.value not in ("None", "True", "False")
    if isinstance(node, cst.Attribute):
        return isinstance(node.value, cst.Name | cst.Attribute | cst.Subscript | cst.Call) and (
            _value(node.value) or node.attr.value in ("shape", "dtype", "device", "columns")
        )
    if isinstance(node, cst.Subscript):
        return _value(node.value)
    if isinstance(node, cst.Call):
        func = node.func
        if isinstance(func, cst.Name):
            return func.value in _INSPECTING_CALL
        if isinstance(func, cst.Attribute) and func.attr.value in _INSPECTING_METHOD:
            return isinstance(func.value, cst.Name | cst.Attribute | cst.Subscript)
    return False


def _fstring_inspects(node: cst.FormattedString) -> bool:
    texts, values, self_documenting = [], [], False
    for part in node.parts:
        if isinstance(part, cst.FormattedStringText):
            texts.append(part.value)
        elif isinstance(part, cst.FormattedStringExpression):
            if part.equal is not None:
                self_documenting = True
            values.append(part.expression)
    if self_documenting:
        return True
    return bool(values) and all(map(_value, values)) and _label(" ".join(texts))


def _inspects(call: cst.Call) -> bool:
    """Whether the print only inspects values, as one does while debugging."""
    args = call.args
    if not args or any(a.keyword is not None or a.star for a in args):
        return False
    looked_at = False
    for arg in args:
        value = arg.value
        if isinstance(value, cst.SimpleString):
            text = value.evaluated_value
            if not isinstance(text, str):
                return False
            if _MARKER.match(text) and len(args) == 1:
                looked_at = True
            elif not _label(text):
                return False
        elif isinstance(value, cst.FormattedString):
            if not _fstring_inspects(value):
                return False
            looked_at = True
        elif _value(value):
            looked_at = True
        else:
            return False
    return looked_at


def _chosen(call: cst.Call) -> bool:
    """A print with arguments that choose where or how it writes."""
    return any(
        a.keyword is not None and a.keyword.value in ("file", "end", "sep", "flush")
        for a in call.args
    )


def _placement(ancestors: list[cst.CSTNode], ctx: Context) -> tuple[list[cst.FunctionDef], bool]:
    """The functions around the print (outermost first), and whether it is asked for (in a
    test, a helper's name does not ask for it: it is named after what the debugging did)."""
    functions: list[cst.FunctionDef] = []
    for index, node in enumerate(ancestors):
        inner = ancestors[index + 1] if index + 1 < len(ancestors) else None
        if isinstance(node, cst.FunctionDef):
            functions.append(node)
            if not ctx.is_test and _SHOWING_FUNCTION.search(node.name.value):
                return functions, True
        elif _asks(node, inner, ctx):
            return functions, True
    return functions, False


def _asks(node: cst.CSTNode, inner: cst.CSTNode | None, ctx: Context) -> bool:
    """An except handler, a class made to show things, or a branch taken on request."""
    if isinstance(node, cst.ExceptHandler):
        return True
    if isinstance(node, cst.ClassDef):
        return bool(_SHOWING_CLASS.search(node.name.value))
    if isinstance(node, cst.If | cst.IfExp | cst.While):
        return inner is not node.test and bool(_ON_REQUEST.search(ctx.code(node.test)))
    return False


def _in_test(ancestors: list[cst.CSTNode], functions: list[cst.FunctionDef]) -> bool:
    if not functions:
        return False
    if functions[0].name.value.startswith("test_"):
        return True
    return any(
        isinstance(node, cst.ClassDef) and node.name.value.startswith("Test") for node in ancestors
    )


def leave_Module(node: cst.Module, ctx: Context[State]) -> None:
    prints = ctx.state.prints
    if not prints or ctx.path.endswith("conftest.py"):
        return
    if ctx.is_test:
        _check_test(ctx)
    elif not _PRINTING_PATH.search(ctx.path):
        _check_library(ctx)


def _check_test(ctx: Context[State]) -> None:
    if _COMMAND_LINE.search(ctx.text):
        return  # a script named test_*, run by hand: it prints its results
    in_tests = []
    for call, ancestors in ctx.state.prints:
        functions, asked = _placement(ancestors, ctx)
        if _in_test(ancestors, functions):
            in_tests.append((call, ancestors, functions, asked))
    # Several tests print: the file's habit (progress messages, results shown on purpose).
    if len({id(functions[0]) for _, _, functions, _ in in_tests}) > 2:
        return
    for call, ancestors, functions, asked in in_tests:
        if asked or _chosen(call) or _READS_OUTPUT.search(ctx.code(functions[0])):
            continue
        ctx.report_from(call, ancestors, call=_shown(call, ctx))


def _check_library(ctx: Context[State]) -> None:
    if ctx.state.runs_at_top or _SCRIPT.search(ctx.text):
        return
    prints = ctx.state.prints
    # A module that prints anything but inspections prints by habit; many prints are a routine.
    if len(prints) > 3 or not all(_inspects(call) for call, _ in prints):
        return
    for call, ancestors in prints:
        functions, asked = _placement(ancestors, ctx)
        if functions and not asked:
            ctx.report_from(call, ancestors, call=_shown(call, ctx))


def _shown(call: cst.Call, ctx: Context) -> str:
    text = " ".join(ctx.code(call).split())
    if "{" in text or "}" in text:  # an f-string: name what it prints (messages have no braces)
        shown = []
        for arg in call.args:
            if isinstance(arg.value, cst.FormattedString):
                shown.extend(
                    ctx.code(part.expression)
                    for part in arg.value.parts
                    if isinstance(part, cst.FormattedStringExpression)
                )
            else:
                shown.append(ctx.code(arg.value))
        text = "print(" + ", ".join(" ".join(s.split()) for s in shown) + ")"
        text = text.replace("{", "(").replace("}", ")")
    return text if len(text) <= 60 else text[:57] + "..."
