"""
What it does
------------
Flags an ``if`` (or a conditional expression) whose whole condition is a flag named after an
experiment or a throw-away variant: ``if USE_NEW_MODEL:``, ``if not args.experimental:``,
``if cfg.use_v2:``, ``if ENABLE_HACK:``, ``if try_new_loss:``, ``if args.ablation:``. The flag
may be a name, an attribute, a string key (``cfg["use_v2"]``) or ``cfg.get("use_v2")``, and may
be negated.

The name must say "experiment" on its own: a marker word (``experimental``, ``hack``,
``ablation``, ``wip``, ``tmp_fix``), a verb with a version (``use_v2``), ``try_new_*``, or
``use_new``/``use_old``/``new_`` with a part of the pipeline (``use_new_loss``, ``new_model``).
Ordinary switches (``use_amp``, ``resume``, ``use_new_session``, a bare ``v2`` version check) are
not flagged, nor names of data (``experimental_data``), nor a flag whose own value the branch
uses (``if new_model: new_model.eval()``), nor test files.

Why is this bad?
----------------
A flag like this keeps two versions of the pipeline alive in production code. Every later
change has to be made, and tested, on both branches, and nobody remembers which branch produced
the model that is deployed. Experiments that were decided long ago stay in the code as dead paths
that still look live, and the number of combinations grows with each new flag.

Example
-------
.. code-block:: python

    if cfg.use_new_loss:
        loss = focal_loss(logits, labels)
    else:
        loss = cross_entropy(logits, labels)

Use instead
-----------
Decide the experiment, keep the winner and delete the other branch. If both must stay, make the
choice an explicit, documented, tested option (``loss: Literal["focal", "ce"]``) rather than an
"experimental" switch:

.. code-block:: python

    loss = focal_loss(logits, labels)

References
----------
- Sculley et al., "Hidden Technical Debt in Machine Learning Systems" (2015), experimental
  code paths
- Martin Fowler, "Feature Toggles" (toggle debt: remove release and experiment toggles)
"""

from __future__ import annotations

import re

import libcst as cst

from rules import Context, Example, Rule
from rules.names import dotted, string_value

RULE = Rule(
    code="DEBT1001",
    name="experiment-flag",
    principle="experimentation-paths",
    severity="warning",
    # Off by default since the blind judgement of held-out repositories (benchmarks/precision.md,
    # issue 11): a rule must be right at least 80% of the time on code it was not tuned on.
    default_enabled=False,
    disabled_because="0 of 1 finding judged right on held-out repositories (issue 11), below 80%",
    message=(
        "Settle the experiment behind `{flag}` and delete the losing branch instead of keeping "
        "both code paths in production code."
    ),
    valid=(
        # Near misses: ordinary feature switches and state, not experiment flags.
        """
        if use_amp:
            scaler.scale(loss).backward()
        if args.resume:
            model.load_state_dict(torch.load(args.resume))
        if self.training:
            x = self.dropout(x)
        """,
        # Near miss: `new_`/`experiment` naming data or objects, not a variant switch.
        """
        experiment = mlflow.get_experiment_by_name(name)
        if not experiment:
            mlflow.create_experiment(name)
        if is_new_user:
            features = cold_start_features(user)
        if new_rows:
            table.append(new_rows)
        if use_new_session:
            session = client.open_session()
        if use_tmp_dir:
            out = tempfile.mkdtemp()
        """,
        # Near miss: "experimental" naming measured data, used as a value in the branch.
        """
        meta["experimental"] = str(args.experimental.resolve()) if args.experimental else None
        if cfg.experimental_data:
            frames.append(load(cfg.experimental_data))
        """,
        # Near miss: `temp`/`tmp` are a temperature and a temporary result here; a bare `v2`
        # is a library version check or an architecture variant.
        """
        v2 = check_version(A.__version__, "2.0.0")
        crop = A.RandomResizedCrop(size=(s, s)) if v2 else A.RandomResizedCrop(s, s)
        if temp:
            logits = logits / temp
        tmp = cache.get(key)
        if tmp:
            return tmp
        """,
        # Test files are allowed to exercise both branches.
        Example(
            "if USE_NEW_MODEL:\n    model = build_v2()\n",
            path="tests/test_model.py",
        ),
    ),
    invalid=(
        Example(
            """
            USE_NEW_MODEL = False

            if USE_NEW_MODEL:
                model = TransformerRanker()
            else:
                model = GBDTRanker()
            """,
            line=3,
        ),
        Example(
            """
            def forward(self, x):
                h = self.encoder(x)
                if not self.cfg.experimental:
                    return self.head(h)
                return self.new_head(h)
            """,
            line=3,
        ),
        Example("lr = 3e-4 if args.use_v2 else 1e-3\n", line=1),
        Example(
            """
            if cfg["enable_hack"]:
                df = df[df.store_id != 17]
            """,
            line=1,
        ),
        """
        if args.ablation:
            features = features.drop(columns=["price"])
        """,
    ),
)

# Words that name an experiment or a throw-away variant by themselves.
_MARKERS = frozenset({"experimental", "hack", "hacky", "ablation", "ablate", "wip", "quickfix"})
# ``use_new_<thing>`` / ``new_<thing>`` / ``use_v2`` where the thing is a piece of the pipeline.
_VARIANTS = frozenset({"new", "old", "alt", "alternative"})
_VERBS = frozenset({"use", "enable", "try", "with", "apply"})
_COMPONENTS = frozenset(
    {
        "model", "loss", "impl", "implementation", "arch", "architecture", "pipeline", "method",
        "approach", "algo", "algorithm", "head", "backbone", "encoder", "decoder", "optimizer",
        "scheduler", "sampler", "preprocessing", "logic", "features", "featurizer", "tokenizer",
        "network", "net", "trainer", "training", "augmentation", "augmentations", "metric",
        "ranker", "ranking", "split", "splitter", "labels", "labeling", "postprocessing",
    }
)  # fmt: skip
# Flags whose last word names data rather than a switch: ``experimental_data`` is measured data.
_DATA_WORDS = frozenset(
    {"data", "df", "path", "file", "files", "dir", "values", "results", "result", "structure",
     "structures", "dataset", "measurements", "samples", "rows", "ids", "id", "name", "list"}
)  # fmt: skip
_VERSION = re.compile(r"^v\d+$")
_CAMEL = re.compile(r"(?<=[a-z0-9])(?=[A-Z])")


def _tokens(name: str) -> list[str]:
    return [t for t in _CAMEL.sub("_", name).lower().split("_") if t]


def is_experiment_flag(name: str) -> bool:
    """Whether a flag's name says it switches an experiment or a throw-away variant on."""
    tokens = _tokens(name)
    if not tokens or tokens[-1] in _DATA_WORDS:
        return False
    for index, token in enumerate(tokens):
        if token in _MARKERS:
            return True
        following = tokens[index + 1] if index + 1 < len(tokens) else ""
        after = tokens[index + 2] if index + 2 < len(tokens) else ""
        if token in _VERBS and _VERSION.match(following):
            return True  # use_v2
        if token == "try" and following in (*_VARIANTS, "experimental"):
            return True  # try_new_anything
        if token in _VERBS and following in _VARIANTS and (not after or after in _COMPONENTS):
            return True  # use_new, use_new_loss
        if token in _VARIANTS and following in _COMPONENTS and index == 0:
            return True  # new_model
        if token in ("tmp", "temp", "quick") and following in ("fix", "hack", "patch"):
            return True
    return False


def _flag_name(node: cst.BaseExpression) -> str | None:
    """The name of the flag the condition reads, if the condition is only a flag."""
    while isinstance(node, cst.UnaryOperation) and isinstance(node.operator, cst.Not):
        node = node.expression
    if isinstance(node, cst.Name):
        return node.value
    if isinstance(node, cst.Attribute):
        return node.attr.value
    if isinstance(node, cst.Subscript) and len(node.slice) == 1:
        index = node.slice[0].slice
        if isinstance(index, cst.Index):
            return string_value(index.value)
        return None
    if (
        isinstance(node, cst.Call)
        and isinstance(node.func, cst.Attribute)
        and node.func.attr.value == "get"
        and node.args
        and node.args[0].keyword is None
    ):
        return string_value(node.args[0].value)
    return None


def _used_as_value(flag: str, body: cst.CSTNode) -> bool:
    """Whether the branch uses the flag's own value: ``if new_model: new_model.eval()``."""
    found = False

    class _Finder(cst.CSTVisitor):
        def on_visit(self, node: cst.CSTNode) -> bool:
            nonlocal found
            if found:
                return False
            if isinstance(node, cst.Name | cst.Attribute) and dotted(node) == flag:
                found = True
                return False
            return True

    body.visit(_Finder())
    return found


def _check(test: cst.BaseExpression, body: cst.CSTNode, ctx: Context) -> None:
    name = _flag_name(test)
    if name is None or not is_experiment_flag(name) or ctx.is_test:
        return
    flag = test
    while isinstance(flag, cst.UnaryOperation):
        flag = flag.expression
    text = dotted(flag)
    if text is not None and _used_as_value(text, body):
        return
    ctx.report(test, flag=text or ctx.code(flag))


def visit_If(node: cst.If, ctx: Context) -> None:
    _check(node.test, node.body, ctx)


def visit_IfExp(node: cst.IfExp, ctx: Context) -> None:
    _check(node.test, node.body, ctx)
