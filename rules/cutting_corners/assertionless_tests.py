"""
What it does
------------
Flags a test function (``test_*`` in a test file) that checks nothing: no ``assert``, no
``pytest.raises``/``pytest.warns``/``pytest.approx``, no ``self.assert*`` of unittest, no
``np.testing``/``pd.testing``/``torch.testing`` helper, no mock ``assert_called*``, no ``raise``,
and no call of a helper that checks, whether by its name (``assert_*``, ``check_*``,
``verify_*``, ``expect_*``, ``*_and_compare``) or because it is defined in the same file and
checks something itself.

Only the tests that leave a trace of meaning to look at a result are flagged: one that keeps a
result in a variable it never reads, prints it for a human to look at, drops the value of a call
made for its value (``get_*``, ``compute*``, ``predict*``, ``evaluate*``...), or has a body of
``pass`` alone with no comment. A test that only drives code for its side effects
(``trainer.fit(model)``) is a smoke test, a deliberate "it does not crash" check, and is left
alone, as is one whose name, docstring or comments say so ("runs", "works", "does not raise").
So are tests marked ``skip``/``xfail``, benchmarks, methods of classes pytest does not collect
(a ``test_step`` hook), and tests that call a helper the rule cannot see into (imported from the
test suite's own modules, or with ``test`` in its name).

Why is this bad?
----------------
A test that asserts nothing passes whatever the code returns: the metric may be NaN, the
predictions all zeros, the frame empty. It shows up green in CI and in coverage, so it hides
the absence of a real test, and the next change that breaks the result goes unnoticed. A
``print`` in a test is a check done once by eye, never again.

Example
-------
.. code-block:: python

    def test_predict():
        model = train(make_frame())
        predictions = model.predict(make_frame())
        print(predictions)

Use instead
-----------
.. code-block:: python

    def test_predict():
        model = train(make_frame())
        predictions = model.predict(make_frame())
        assert predictions.shape == (10,)
        assert set(predictions) <= {0, 1}

References
----------
- Breck et al., "The ML Test Score: A Rubric for ML Production Readiness" (2017).
- The "assertion roulette" and "empty test" test smells (van Deursen et al., "Refactoring
  Test Code", 2001; tsDetect).
- pytest documentation: "Asserting with the assert statement".
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

import libcst as cst

from rules import Context, Example, Rule

RULE = Rule(
    code="DEBT312",
    name="test-without-assertion",
    principle="cutting-corners",
    severity="warning",
    message="Assert what `{name}` expects of its result; as written it passes whatever the code "
    "returns.",
    valid=(
        Example(
            "def test_predict():\n    predictions = model.predict(frame)\n"
            "    assert predictions.shape == (10,)\n",
            path="tests/test_model.py",
        ),
        # Near misses: the check is in a helper of the same file, or named as one.
        Example(
            "def _same(a, b):\n    assert a == b\n\n\ndef test_round_trip():\n"
            "    loaded = load(save(frame))\n    _same(loaded, frame)\n",
            path="tests/test_io.py",
        ),
        Example(
            "import numpy as np\n\n\ndef test_scale():\n    scaled = scale(values)\n"
            "    np.testing.assert_allclose(scaled.mean(), 0.0, atol=1e-6)\n",
            path="tests/test_scale.py",
        ),
        Example(
            "import unittest\n\n\nclass TestModel(unittest.TestCase):\n"
            "    def test_fit(self):\n        model = fit(frame)\n"
            "        self.assertIsNotNone(model.coef_)\n",
            path="tests/test_fit.py",
        ),
        Example(
            "import pytest\n\n\ndef test_rejects_empty():\n    with pytest.raises(ValueError):\n"
            "        fit(empty_frame)\n",
            path="tests/test_fit.py",
        ),
        Example(
            "def test_logs(mocker):\n    log = mocker.patch('train.log_metric')\n"
            "    result = train(frame)\n    log.assert_called_once()\n",
            path="tests/test_train.py",
        ),
        # Near miss: a smoke test that only drives training for its side effects.
        Example(
            "def test_fit_runs(tmp_path):\n    trainer = Trainer(max_epochs=1)\n"
            "    trainer.fit(model)\n",
            path="tests/test_trainer.py",
        ),
        # Near miss: skipped, and not a test file.
        Example(
            "import pytest\n\n\n@pytest.mark.skip(reason='slow')\ndef test_predict():\n"
            "    predictions = model.predict(frame)\n",
            path="tests/test_model.py",
        ),
        Example("def test_predict():\n    predictions = model.predict(frame)\n", path="train.py"),
        # Near miss: the test says that not raising is the point.
        Example(
            "def test_predict_on_empty_frame():\n    # none of this raises\n"
            "    predictions = model.predict(empty_frame)\n",
            path="tests/test_model.py",
        ),
        # Near miss: a LightningModule hook, not a test pytest collects.
        Example(
            "class Classifier(LightningModule):\n    def test_step(self, batch, batch_idx):\n"
            "        loss = self.loss(batch)\n",
            path="tests/test_module.py",
        ),
        # Near miss: an empty override whose comment says why.
        Example(
            "class TestSmallModel(ModelTests):\n    def test_training(self):\n"
            "        pass  # the small model has no trainable head\n",
            path="tests/test_small.py",
        ),
    ),
    invalid=(
        Example(
            "def test_predict():\n    model = train(make_frame())\n"
            "    predictions = model.predict(make_frame())\n    print(predictions)\n",
            path="tests/test_model.py",
            line=1,
        ),
        Example(
            "class TestMetrics:\n    def test_auc(self):\n        auc = roc_auc(labels, scores)\n",
            path="tests/test_metrics.py",
            line=2,
        ),
        Example(
            "def _build(frame):\n    return frame.dropna()\n\n\ndef test_build():\n"
            "    features = _build(load())\n",
            path="model_test.py",
            line=5,
        ),
        Example(
            "def test_evaluate(trials):\n    evaluator = RegretEvaluator()\n"
            "    evaluator.evaluate(trials)\n",
            path="tests/test_evaluator.py",
            line=1,
        ),
        Example(
            "class TestDataset:\n    def test_len(self):\n        pass\n", path="tests/test_data.py"
        ),
    ),
)

# Calls whose name says they check something: assert_allclose, self.assertEqual,
# mock.assert_called_once, check_output, verify_schema, create_and_check_model...
_CHECK_WORDS = ("assert", "check", "verify", "expect", "compare", "validate", "ensure", "fail")
_CHECK_CALLS = frozenset(
    {"pytest.raises", "pytest.warns", "pytest.deprecated_call", "pytest.fail", "pytest.approx"}
)
# Fixtures that make a test a benchmark or a check by themselves.
_CHECKING_FIXTURES = frozenset({"benchmark", "snapshot", "data_regression", "num_regression"})
# Functions whose result is all there is to them: calling one and dropping the value checks
# nothing. Anything else called as a statement may be run for its effect (a smoke test).
# Functions called for the value they return: dropping it means nothing was looked at.
_RESULT_PREFIXES = (
    "get_", "compute", "calc", "predict", "score", "evaluate", "estimate", "find_", "count",
    "summar", "infer", "forecast", "rank", "recommend",
)  # fmt: skip
_OUTPUT_CALLS = frozenset({"print", "pprint.pprint", "pprint", "display"})


# What a smoke test says of itself: "does not raise", "just checking that this works".
_SMOKE = re.compile(
    r"smoke|\bruns?\b|\bworks?\b|\bwork(ing)?\b|rais|crash|\berrors?\b|exception|\bfail|succe",
    re.IGNORECASE,
)
_COMMENT = re.compile(r"#[^\n]*")


@dataclass
class Function:
    name: str
    node: cst.FunctionDef
    ancestors: list[cst.CSTNode]
    is_test: bool
    checks: bool = False
    # Names of what it calls or passes on (functions and classes of this file may check).
    calls: set[str] = field(default_factory=set)
    # Calls of helpers it cannot see into: imported from the test suite, or with "test" in
    # their names; (name, qualified name) resolved at the end of the file.
    unknown: list[tuple[str, str]] = field(default_factory=list)


@dataclass
class State:
    active: bool = False
    stack: list[Function] = field(default_factory=list)
    functions: list[Function] = field(default_factory=list)
    # Class name -> its methods, and what the classes of the file are called.
    methods: dict[str, list[Function]] = field(default_factory=dict)
    classes: list[str] = field(default_factory=list)


def visit_Module(node: cst.Module, ctx: Context[State]) -> None:
    ctx.state.active = ctx.is_test and not ctx.path.endswith("conftest.py")


def visit_ClassDef(node: cst.ClassDef, ctx: Context[State]) -> None:
    if ctx.state.active:
        ctx.state.classes.append(node.name.value)


def leave_ClassDef(node: cst.ClassDef, ctx: Context[State]) -> None:
    if ctx.state.active:
        ctx.state.classes.pop()


def visit_FunctionDef(node: cst.FunctionDef, ctx: Context[State]) -> None:
    state = ctx.state
    if not state.active:
        return
    name = node.name.value
    outer = ctx.enclosing(cst.FunctionDef, cst.ClassDef)
    is_test = name.startswith("test") and (
        outer is None
        or (
            isinstance(outer, cst.ClassDef)
            and _is_test_class(outer, ctx)
            and ctx.enclosing(cst.FunctionDef) is None  # pytest collects no class in a function
        )
    )
    if is_test and (_exempt_by_decorator(node, ctx) or _exempt_by_params(node)):
        is_test = False
    function = Function(name, node, list(ctx.ancestors), is_test)
    state.stack.append(function)
    state.functions.append(function)
    if isinstance(outer, cst.ClassDef) and state.classes:
        state.methods.setdefault(state.classes[-1], []).append(function)


def leave_FunctionDef(node: cst.FunctionDef, ctx: Context[State]) -> None:
    if ctx.state.active:
        ctx.state.stack.pop()


def _is_test_class(node: cst.ClassDef, ctx: Context) -> bool:
    """A class whose ``test*`` methods are collected: ``Test*`` (pytest) or a ``TestCase``."""
    if node.name.value.startswith("Test"):
        return True
    return any((ctx.qualified_name(base.value) or "").endswith("TestCase") for base in node.bases)


def _exempt_by_decorator(node: cst.FunctionDef, ctx: Context) -> bool:
    for decorator in node.decorators:
        expr = decorator.decorator
        if isinstance(expr, cst.Call):
            expr = expr.func
        name = ctx.qualified_name(expr) or ""
        last = name.rsplit(".", 1)[-1].lower()
        if "skip" in last or "xfail" in last or last in ("expectedfailure", "fixture"):
            return True
        if "benchmark" in name:
            return True
    return False


def _exempt_by_params(node: cst.FunctionDef) -> bool:
    params = node.params
    return any(
        p.name.value in _CHECKING_FIXTURES
        for p in (*params.posonly_params, *params.params, *params.kwonly_params)
    )


def _mark(ctx: Context[State], attribute: str) -> None:
    for function in ctx.state.stack:
        setattr(function, attribute, True)


def visit_Assert(node: cst.Assert, ctx: Context[State]) -> None:
    if ctx.state.active and ctx.state.stack:
        _mark(ctx, "checks")


def visit_Raise(node: cst.Raise, ctx: Context[State]) -> None:
    if ctx.state.active and ctx.state.stack:
        _mark(ctx, "checks")


def _last_name(func: cst.BaseExpression) -> str | None:
    if isinstance(func, cst.Name):
        return func.value
    if isinstance(func, cst.Attribute):
        return func.attr.value
    return None


def _says_check(name: str) -> bool:
    lowered = name.lower().lstrip("_")
    if lowered.startswith(_CHECK_WORDS):
        return True
    return any(word in _CHECK_WORDS for word in lowered.split("_"))


def visit_Call(node: cst.Call, ctx: Context[State]) -> None:
    state = ctx.state
    if not state.active or not state.stack:
        return
    qualified = ctx.call_name(node) or ""
    last = _last_name(node.func)
    if qualified in _CHECK_CALLS or (last is not None and _says_check(last)):
        _mark(ctx, "checks")
        return
    for arg in node.args:
        if arg.keyword is not None and arg.keyword.value == "check":
            _mark(ctx, "checks")  # subprocess.run(..., check=True): the exit status is checked
        value = arg.value
        if isinstance(value, cst.Name | cst.Attribute):
            callee = _last_name(value)
            if callee is not None:
                for function in state.stack:
                    function.calls.add(callee)
    if last is None:
        return
    for function in state.stack:
        function.calls.add(last)
        function.unknown.append((last, qualified))


def leave_Module(node: cst.Module, ctx: Context[State]) -> None:
    state = ctx.state
    if not state.active:
        return
    checking = _checking_names(state)
    for function in state.functions:
        if not function.is_test or function.checks:
            continue
        if function.calls & checking or _calls_unseen_helper(function, state, ctx):
            continue
        placeholder = _is_unexplained_placeholder(function.node.body)
        if not placeholder and (not _looks_at_result(function, ctx) or _says_smoke(function, ctx)):
            continue
        ctx.report_from(function.node, function.ancestors, name=function.name)


def _checking_names(state: State) -> set[str]:
    """Names of the functions and classes of the file that check something, however deep."""
    by_name: dict[str, list[Function]] = {}
    for function in state.functions:
        by_name.setdefault(function.name, []).append(function)
    for owner, methods in state.methods.items():
        by_name.setdefault(owner, []).extend(methods)
    checking = {name for name, fs in by_name.items() if any(f.checks for f in fs)}
    changed = True
    while changed:
        changed = False
        for name, functions in by_name.items():
            if name not in checking and any(f.calls & checking for f in functions):
                checking.add(name)
                changed = True
    return checking


def _calls_unseen_helper(function: Function, state: State, ctx: Context) -> bool:
    defined = {f.name for f in state.functions} | set(state.methods)
    for name, qualified in function.unknown:
        if name in defined:
            continue
        if "test" in name.lower():
            return True
        root = qualified.split(".", 1)[0]
        if name[:1].islower() and (qualified.startswith(".") or "test" in root):
            return True
    return False


def _says_smoke(function: Function, ctx: Context) -> bool:
    """Whether the test's name, docstring or comments say that not failing is the point."""
    node = function.node
    words = [function.name.replace("_", " ")]
    docstring = node.get_docstring()
    if docstring:
        words.append(docstring)
    words.extend(_COMMENT.findall(ctx.code(node)))
    return bool(_SMOKE.search("\n".join(words)))


def _looks_at_result(function: Function, ctx: Context) -> bool:
    """Whether the test meant to look at a result: printed it, dropped the value of a call made
    for its value, or kept one in a name it never reads.

    Worked out only for the few tests that check nothing, in one walk of their body, so that
    the rest of the code pays nothing for it.
    """
    bound: set[str] = set()
    read: set[str] = set()
    targets: set[int] = set()
    pending: list[cst.CSTNode] = [function.node.body]
    while pending:
        node = pending.pop()
        if isinstance(node, cst.Assign) and isinstance(node.value, cst.Call | cst.Await):
            bound.update(_assigned_names(node, targets))
        elif isinstance(node, cst.Expr) and isinstance(node.value, cst.Call):
            last = _last_name(node.value.func)
            if last is not None and last.lower().startswith(_RESULT_PREFIXES):
                return True  # a value computed and dropped on the floor
        elif isinstance(node, cst.Call):
            if ctx.call_name(node) in _OUTPUT_CALLS and any(_is_value(a.value) for a in node.args):
                return True
        elif isinstance(node, cst.Name):
            if id(node) not in targets:
                read.add(node.value)
            continue
        elif isinstance(node, cst.Attribute):
            pending.append(node.value)  # the attribute's own name is no read
            continue
        pending.extend(reversed(node.children))
    return bool(bound - read)


def _assigned_names(node: cst.Assign, targets: set[int]) -> list[str]:
    """What ``a, b = f()`` binds, but ``_``: a value bound to ``_`` is dropped on purpose."""
    names = []
    for target in node.targets:
        names.extend(n for n in _target_names(target.target, targets) if not n.startswith("_"))
    return names


def _target_names(target: cst.BaseExpression, targets: set[int]) -> list[str]:
    """The names an assignment binds, remembered so that they are not taken for reads."""
    if isinstance(target, cst.Name):
        targets.add(id(target))
        return [target.value]
    if isinstance(target, cst.Tuple | cst.List):
        return [n for element in target.elements for n in _target_names(element.value, targets)]
    if isinstance(target, cst.StarredElement):
        return _target_names(target.value, targets)
    return []


def _is_value(node: cst.BaseExpression) -> bool:
    """A printed value, rather than a message (``print(f"Found {n} devices")`` is a log line)."""
    return isinstance(node, cst.Name | cst.Attribute | cst.Subscript | cst.Call)


def _is_unexplained_placeholder(body: cst.BaseSuite) -> bool:
    """A body of ``pass`` or ``...`` alone; a docstring or comment there explains it (a smoke
    test whose fixture does the work says so)."""
    if not isinstance(body, cst.IndentedBlock) or _has_comment(body.header):
        return False
    for statement in body.body:
        if not isinstance(statement, cst.SimpleStatementLine):
            return False
        if any(line.comment is not None for line in statement.leading_lines):
            return False
        if _has_comment(statement.trailing_whitespace):
            return False
        for small in statement.body:
            if isinstance(small, cst.Pass):
                continue
            if isinstance(small, cst.Expr) and isinstance(small.value, cst.Ellipsis):
                continue
            return False
    return bool(body.body)


def _has_comment(whitespace: cst.TrailingWhitespace) -> bool:
    return whitespace.comment is not None
