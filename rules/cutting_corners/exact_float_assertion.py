"""
What it does
------------
Flags, in test files, an assertion that a computed value equals a float literal bit for bit:
``assert loss.item() == 0.6931``, ``self.assertEqual(auc, 0.8731)``,
``assert metrics["mfu"] == 0.2`` where ``metrics = throughput.compute()``.

Only literals that binary floating point cannot hold exactly are considered (``0.1``, ``0.6931``,
not ``0.5``, ``0.25`` or ``2.0``, which a deterministic computation can hit exactly), and only
when the other side computes something: a call, arithmetic, or a name bound from one in the same
function. A value read back as it was stored (``cfg.lr == 0.001``, ``manager.threshold == 0.13``,
``logged["loss"] == 0.1``) is a round trip and exact; so is a value already rounded with
``round(x, 4)``. Comparisons inside ``pytest.approx``/``math.isclose`` are not equalities.

Why is this bad?
----------------
Floating-point results depend on the order of operations, the BLAS, the device, the library
version and the number of threads. A metric that equals ``0.6931`` on the author's laptop is
``0.6930999999999999`` on CI or after a NumPy upgrade, and the test fails for no reason; or it
is made to pass by pasting the new digits, which then pins the implementation rather than the
behaviour. Either way the test stops telling a regression from noise.

Example
-------
.. code-block:: python

    def test_log_loss():
        loss = log_loss(labels, probabilities)
        assert loss == 0.6931

Use instead
-----------
.. code-block:: python

    import pytest

    def test_log_loss():
        loss = log_loss(labels, probabilities)
        assert loss == pytest.approx(0.6931, abs=1e-4)
    # or math.isclose(loss, 0.6931, rel_tol=1e-6), np.testing.assert_allclose(...),
    # self.assertAlmostEqual(loss, 0.6931, places=4)

References
----------
- pytest documentation of ``pytest.approx``.
- Python documentation, "Floating Point Arithmetic: Issues and Limitations".
- Goldberg, "What Every Computer Scientist Should Know About Floating-Point Arithmetic" (1991).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from fractions import Fraction

import libcst as cst

from rules import Context, Example, Rule

RULE = Rule(
    code="DEBT313",
    name="exact-float-in-test",
    principle="cutting-corners",
    severity="warning",
    message="Compare `{value}` with `{fix}` rather than `==`, since a computed float can differ "
    "from the literal in its last bits.",
    valid=(
        Example(
            "import pytest\n\n\ndef test_loss():\n    loss = log_loss(labels, probabilities)\n"
            "    assert loss == pytest.approx(0.6931, abs=1e-4)\n",
            path="tests/test_loss.py",
        ),
        # Near misses: a round trip of a stored setting, an exactly representable value, a
        # rounded value, an integer count.
        Example(
            "def test_config():\n    cfg = load_config('train.yaml')\n    assert cfg.lr == 0.001\n",
            path="tests/test_config.py",
        ),
        Example(
            "def test_accuracy():\n    assert accuracy([1, 0], [1, 1]) == 0.5\n",
            path="tests/test_metrics.py",
        ),
        Example(
            "def test_mean():\n    assert round(mean_error(frame), 4) == 0.6931\n",
            path="tests/test_metrics.py",
        ),
        Example(
            "def test_count():\n    assert len(dataset(split=0.2)) == 20\n",
            path="tests/test_data.py",
        ),
        # Near miss: the literal is also an input of the test, passed through as it was.
        Example(
            "def test_decollate():\n    batch = {'loss': 0.85, 'image': image}\n"
            "    out = decollate(batch)\n    assert out[1]['loss'] == 0.85\n",
            path="tests/test_batch.py",
        ),
        # Near miss: an attribute of an object built from settings.
        Example(
            "def test_study():\n    study = create_study()\n    assert study.best_value == 0.8\n",
            path="tests/test_study.py",
        ),
        # Near miss: not a test file.
        Example("assert loss.item() == 0.6931\n", path="train.py"),
    ),
    invalid=(
        Example(
            "def test_loss():\n    loss = log_loss(labels, probabilities)\n"
            "    assert loss == 0.6931\n",
            path="tests/test_loss.py",
            line=3,
        ),
        Example(
            "import unittest\n\n\nclass TestMetrics(unittest.TestCase):\n"
            "    def test_auc(self):\n        self.assertEqual(roc_auc(labels, scores), 0.8731)\n",
            path="tests/test_metrics.py",
            line=6,
        ),
        Example(
            "def test_mfu():\n    assert throughput.compute()['device/mfu'] == 0.2\n",
            path="metrics_test.py",
            line=2,
        ),
    ),
)

# Words of calls that hand back what was stored, or build an object from settings, rather
# than compute a result: what is read from them is a round trip (``yaml.safe_load(f)["lr"]``,
# ``trial.suggest_float("x")`` with fixed params, ``create_study().best_value``).
_ACCESSOR_WORDS = frozenset(
    {
        "get", "getattr", "pop", "load", "read", "parse", "fetch", "lookup", "from", "dict",
        "suggest", "create", "make", "build", "new", "init", "setup", "copy", "clone",
        "deepcopy", "sanitize", "collate", "decollate", "config", "params", "hparams",
    }
)  # fmt: skip
# Calls that round or compare with a tolerance: the rounded value is the double nearest the
# decimal, as the literal is, and approx() already allows for the last bits.
_ROUNDING = frozenset({"round", "around", "format", "approx", "isclose", "allclose"})
# Conversions that keep whatever their argument is: computed if the argument is.
_CONVERSIONS = frozenset({"float", "item", "tolist", "numpy", "cpu", "detach", "abs"})
_EQUALITY_CALLS = frozenset({"assertEqual", "assertEquals", "assert_equal"})


@dataclass
class State:
    # id of a function -> name -> the value last bound to it there (by a plain assignment).
    bindings: dict[int, dict[str, cst.BaseExpression]] = field(default_factory=dict)


def visit_Assign(node: cst.Assign, ctx: Context[State]) -> None:
    if not ctx.is_test:
        return
    function = ctx.enclosing(cst.FunctionDef)
    if function is None:
        return
    for target in node.targets:
        if isinstance(target.target, cst.Name):
            scope = ctx.state.bindings.setdefault(id(function), {})
            scope[target.target.value] = node.value


def visit_Assert(node: cst.Assert, ctx: Context[State]) -> None:
    if not ctx.is_test:
        return
    for test in _conjuncts(node.test):
        if not isinstance(test, cst.Comparison) or len(test.comparisons) != 1:
            continue
        target = test.comparisons[0]
        if isinstance(target.operator, cst.Equal):
            _check_pair(test, test.left, target.comparator, "pytest.approx", ctx)


def visit_Call(node: cst.Call, ctx: Context[State]) -> None:
    if not ctx.is_test or not isinstance(node.func, cst.Attribute | cst.Name):
        return
    name = node.func.attr.value if isinstance(node.func, cst.Attribute) else node.func.value
    if name not in _EQUALITY_CALLS:
        return
    positional = [a.value for a in node.args if a.keyword is None and a.star == ""]
    if len(positional) < 2:
        return
    fix = "self.assertAlmostEqual" if name.startswith("assert") else "np.testing.assert_allclose"
    _check_pair(node, positional[0], positional[1], fix, ctx)


def _short(value: cst.BaseExpression, ctx: Context) -> str:
    """The value's code on one line; a long call shown by what it calls."""
    text = " ".join(ctx.code(value).split())
    if len(text) > 60 and isinstance(value, cst.Call):
        return " ".join(ctx.code(value.func).split()) + "(...)"
    return text


def _conjuncts(test: cst.BaseExpression) -> list[cst.BaseExpression]:
    if isinstance(test, cst.BooleanOperation) and isinstance(test.operator, cst.And):
        return [*_conjuncts(test.left), *_conjuncts(test.right)]
    return [test]


def _check_pair(
    node: cst.CSTNode,
    left: cst.BaseExpression,
    right: cst.BaseExpression,
    fix: str,
    ctx: Context[State],
) -> None:
    for literal, value in ((right, left), (left, right)):
        number = _inexact_literal(literal)
        if number is None or not _computed(value, ctx, depth=0):
            continue
        if not _given_as_input(number, ctx):
            shown = ctx.code(literal).strip()
            suggestion = f"{fix}({shown})" if fix == "pytest.approx" else fix
            ctx.report(node, value=_short(value, ctx), fix=suggestion)
            return


def _given_as_input(number: float, ctx: Context) -> bool:
    """Whether the test also writes the literal as an input (``{"loss": 0.85}``, a
    parametrisation, ``Backoff(min_delay=0.1)``): then the value is passed through, not computed."""
    function = ctx.enclosing(cst.FunctionDef)
    if function is None:
        return False
    pending: list[cst.CSTNode] = [function]
    while pending:
        node = pending.pop()
        if isinstance(node, cst.Assert) or _is_equality_call(node):
            continue  # another expectation, not an input
        if isinstance(node, cst.Float):
            if _float(node.value) == number:
                return True
            continue
        pending.extend(node.children)
    return False


def _is_equality_call(node: cst.CSTNode) -> bool:
    if not isinstance(node, cst.Call):
        return False
    func = node.func
    name = func.attr.value if isinstance(func, cst.Attribute) else getattr(func, "value", None)
    return name in _EQUALITY_CALLS


def _float(text: str) -> float | None:
    try:
        return float(text.replace("_", ""))
    except ValueError:
        return None


def _inexact_literal(node: cst.BaseExpression) -> float | None:
    """The value of a float literal that no double holds exactly (``0.1``), else None."""
    if isinstance(node, cst.UnaryOperation) and isinstance(node.operator, cst.Minus):
        node = node.expression
    if not isinstance(node, cst.Float):
        return None
    text = node.value.replace("_", "")
    try:
        value = float(text)
        exact = Fraction(text) == Fraction(value)
    except (ValueError, OverflowError):
        return None
    return None if exact else value


def _computed(node: cst.BaseExpression, ctx: Context[State], depth: int) -> bool:
    """Whether ``node`` is worked out by code rather than read back as it was stored."""
    if depth > 3:
        return False
    if isinstance(node, cst.BinaryOperation):
        return True
    if isinstance(node, cst.Attribute | cst.Subscript):
        return _computed(node.value, ctx, depth + 1)
    if isinstance(node, cst.Name):
        value = _binding(node.value, ctx)
        return value is not None and _computed(value, ctx, depth + 1)
    if isinstance(node, cst.Call):
        return _call_computes(node, ctx, depth)
    return False


def _call_computes(node: cst.Call, ctx: Context[State], depth: int) -> bool:
    func = node.func
    if isinstance(func, cst.Call):
        return True  # an instance called: Metric()(preds, target)
    if isinstance(func, cst.Attribute):
        name = func.attr.value
        receiver: cst.BaseExpression | None = func.value
    elif isinstance(func, cst.Name):
        name, receiver = func.value, None
    else:
        return False
    words = set(name.lower().split("_"))
    if name in _ROUNDING or words & _ACCESSOR_WORDS or name[:1].isupper():
        return False  # rounded, read back, or built from the literal it is compared with
    if name in _CONVERSIONS:
        inner = node.args[0].value if receiver is None and node.args else receiver
        return inner is not None and _computed(inner, ctx, depth + 1)
    return True


def _binding(name: str, ctx: Context[State]) -> cst.BaseExpression | None:
    function = ctx.enclosing(cst.FunctionDef)
    if function is None:
        return None
    return ctx.state.bindings.get(id(function), {}).get(name)
