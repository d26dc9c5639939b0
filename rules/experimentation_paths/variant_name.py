"""
What it does
------------
Flags a function, class, method or module-level constant whose name marks it as a copy of
another definition in the same file: ``train`` and ``train_v2``, ``preprocess`` and
``preprocess_old``, ``Model`` and ``ModelNew``, ``loss_old`` and ``loss_new``, ``LR`` and
``LR_BAK``. Recognised markers are the suffixes ``_v<N>``, ``_old``, ``_new``, ``_tmp``,
``_backup``, ``_bak``, ``_copy``, ``_fixed``, ``_wip``, ``_experimental``, ``_draft`` (``V2``,
``Old``, ``New``... in class names) and the prefixes ``old_``, ``new_``, ``tmp_``. ``_temp`` and
``_final`` are left out: ``softmax_temp`` takes a temperature and ``train_final`` is usually a
stage, not a copy.

A marked name alone is not enough: the same scope (the module, or one class) must also define
the unmarked name, or, when there is none, the same stem with another marker, of the same kind
(function, class or constant). Pairs kept on purpose are left alone: one calls or subclasses the
other (a legacy wrapper), both are decorated (registered models, API endpoints), a docstring says
the old one is deprecated or kept for compatibility, or the file uses both and they are
``_v<N>`` versions (blocks chosen by configuration), values (an old and a new result set side by
side) or functions taking different parameters (different jobs despite the name). Versioned architecture names (``mobilenet_v2``,
``ResNetV2``) are not markers. Module-level variables are only considered with ``_v<N>``,
``_old``, ``_backup`` and ``_bak``, and not when computed from the unmarked name
(``df_old = df.copy()``). Test files are skipped.

Why is this bad?
----------------
Two versions of the same step living side by side is an experiment that was never closed.
Readers cannot tell which one the pipeline really uses, fixes get applied to one copy and not the
other, and the losing version stays around as dead code that still looks maintained.

Example
-------
.. code-block:: python

    def build_features(df): ...

    def build_features_v2(df): ...

Use instead
-----------
Keep the version the pipeline uses under the plain name and delete the other one; version control
keeps the old code:

.. code-block:: python

    def build_features(df): ...

References
----------
- Sculley et al., "Hidden Technical Debt in Machine Learning Systems" (2015), experimental
  code paths and dead code
- pylint ``R0801`` (duplicate-code) covers the copied bodies, not the names
"""

from __future__ import annotations

import re

import libcst as cst

from rules import Context, Example, Rule

RULE = Rule(
    code="DEBT1002",
    name="variant-name",
    principle="experimentation-paths",
    severity="info",
    message="Keep one of `{name}` and `{other}` and delete the other instead of keeping both variants.",
    valid=(
        # Near miss: a suffix alone, with no original beside it.
        """
        def convert_old_checkpoint(path):
            return upgrade(torch.load(path))

        def load_data_v2(path):
            return pd.read_parquet(path)
        """,
        # Near miss: architecture names of a model zoo, and versioned API endpoints.
        """
        class MobileNet(nn.Module): ...

        class MobileNetV2(nn.Module): ...

        def mobilenet_v2(pretrained=False): ...

        def mobilenet_v3(pretrained=False): ...

        @app.post("/v1/predict")
        def predict_v1(req): ...

        @app.post("/v2/predict")
        def predict_v2(req): ...
        """,
        # Near miss: data derived from data in a script, and dunder methods.
        """
        df = pd.read_csv("sales.csv")
        df_new = df[df.amount > 0]
        df_old = df.copy()

        class Singleton:
            def __new__(cls): ...

            def new(self): ...
        """,
        # Near miss: a legacy wrapper over the new version, a deprecated class that says so,
        # and block versions that the file picks between by configuration.
        """
        def create_optimizer(args, model):
            return create_optimizer_v2(model, **optimizer_kwargs(args))

        def create_optimizer_v2(model, opt="adamw", lr=1e-3): ...

        class ModelEma:
            \"\"\"Deprecated: does not work with scripted models.\"\"\"

        class ModelEmaV2(nn.Module): ...

        class GhostModule(nn.Module): ...

        class GhostModuleV2(nn.Module): ...

        def make_block(version, chs):
            return GhostModuleV2(chs) if version == 2 else GhostModule(chs)
        """,
        # Near miss: different kinds (a variable and a factory function).
        """
        config = load_config()

        def new_config():
            return Config()
        """,
        # Near misses: both in use, as results compared, and as functions of different jobs.
        """
promo_mean_old = old_pipeline(frame).promo.mean()
promo_mean = new_pipeline(frame).promo.mean()
print(f"promo mean: {promo_mean_old:.3f} -> {promo_mean:.3f}")
""",
        """
def handle_block_names(blocks, prefix):
    return [prefix + b.name for b in blocks]

def handle_block_names_old(block):
    return block.name.lower()

names = handle_block_names(blocks, "layer.") + [handle_block_names_old(b) for b in extra]
""",
    ),
    invalid=(
        Example(
            """
            def build_features(df):
                return df.assign(ratio=df.a / df.b)

            def build_features_v2(df):
                return df.assign(ratio=df.a / (df.b + 1))
            """,
            line=4,
        ),
        Example(
            """
            class Ranker(nn.Module):
                def forward(self, x):
                    return self.head(self.body(x))

                def forward_old(self, x):
                    return self.head(x)
            """,
            line=5,
        ),
        Example(
            """
            class TextClassifier(nn.Module): ...


            class TextClassifierNew(nn.Module): ...
            """,
            line=4,
        ),
        Example(
            """
            def loss_old(logits, y):
                return F.cross_entropy(logits, y)

            def loss_new(logits, y):
                return focal_loss(logits, y)
            """,
            line=1,
        ),
        Example(
            """
            def preprocess_v1(text):
                return [w for w in text.split() if w not in SLANG]

            def preprocess_v2(text):
                return [w for w in text.lower().split() if w.isalpha() and w not in SLANG]

            tokens = [preprocess_v2(t) for t in corpus]
            """,
            line=1,
        ),
        Example(
            """
            FEATURES = ["age", "income", "tenure"]
            FEATURES_OLD = ["age", "income"]
            """,
            line=2,
        ),
    ),
)

_SUFFIX = re.compile(
    r"^(?P<stem>[A-Za-z0-9_]*?[A-Za-z0-9])_(?P<marker>v\d+|old|new|tmp|backup|bak|copy"
    r"|fixed|wip|experimental|draft)$",
    re.IGNORECASE,
)
_CAMEL_SUFFIX = re.compile(
    r"^(?P<stem>[A-Z][A-Za-z0-9]*?[a-z0-9])(?P<marker>V\d+|Old|New|Tmp|Backup|Bak|Copy"
    r"|Fixed|Wip|Experimental|Draft)$"
)
_PREFIX = re.compile(r"^(?P<marker>old|new|tmp)_(?P<stem>[A-Za-z0-9][A-Za-z0-9_]*)$", re.I)
_CAMEL_PREFIX = re.compile(r"^(?P<marker>Old|New|Tmp)(?P<stem>[A-Z][A-Za-z0-9]*)$")
_VARIABLE_MARKERS = re.compile(r"^(v\d+|old|backup|bak)$", re.IGNORECASE)
_VERSION = re.compile(r"^v\d+$", re.IGNORECASE)
# Families whose versions are different architectures, not copies.
_ARCHITECTURES = re.compile(
    r"(mobilenet|resnet|resnext|inception|efficientnet|yolo|vit|bert|gpt|t5|convnext|regnet|"
    r"deit|swin|densenet|vgg|squeezenet|shufflenet|mnasnet|ghostnet|xception|nasnet|levit|"
    r"darknet|csp|rexnet|hrnet|mixnet|fbnet|repvgg|mobilevit|coat|maxvit|beit|clip|sam|"
    r"wav2vec|whisper|llama|mistral|mobileone|fastvit|eva|dino|detr|rtdetr|unet|gan|xlnet|"
    r"roberta|deberta|electra|albert|bart|pegasus|nfnet|dla|dpn|tnt|pit|cait|twins|poolformer|"
    r"hiera|edgenext|tinynet|lcnet|hgnet|focalnet|davit|gcvit|pvt|efficientformer|ssd|rcnn)"
    r"([a-z]?\d+[a-z]?\d*)?$"
)
_WORD = re.compile(r"(?<=[a-z0-9])(?=[A-Z])|_")


def _is_architecture(stem: str) -> bool:
    """``mobilenet``, ``ResNet``, ``resnet50``, ``hrnet_w18_small``: a model family's name."""
    words = [w.lower() for w in _WORD.split(stem) if w]
    candidates = [*words, stem.lower().replace("_", "")]
    return any(_ARCHITECTURES.match(c) for c in candidates)


_KINDS = ("function", "class", "variable")


def _split(name: str, kind: str) -> tuple[str, str] | None:
    """(stem, marker) of a marked name, else None."""
    if name.startswith("__"):
        return None
    patterns = (_SUFFIX, _PREFIX)
    if kind == "class":
        patterns = (_CAMEL_SUFFIX, _CAMEL_PREFIX, _SUFFIX, _PREFIX)
    for pattern in patterns:
        match = pattern.match(name)
        if match is None:
            continue
        stem, marker = match.group("stem"), match.group("marker").lower()
        if kind == "variable" and (pattern is _PREFIX or not _VARIABLE_MARKERS.match(marker)):
            return None
        if _VERSION.match(marker) and _is_architecture(stem):
            return None
        return stem, marker
    return None


_COMPAT = re.compile(r"(?i)deprecat|legacy|backwards?[- ]compat|compatibility")


class _Definition:
    __slots__ = ("kind", "name", "name_node", "node", "value")

    def __init__(self, kind: str, name_node: cst.Name, node: cst.CSTNode, value=None) -> None:
        self.kind = kind
        self.name = name_node.value
        self.name_node = name_node
        self.node = node  # the def, the class, or the assigned value
        self.value = value


def _variables(statement: cst.SimpleStatementLine) -> list[_Definition]:
    """Each plain name assigned in ``statement``."""
    found = []
    for small in statement.body:
        targets: list[cst.BaseExpression] = []
        if isinstance(small, cst.Assign):
            targets = [t.target for t in small.targets]
        elif isinstance(small, cst.AnnAssign) and small.value is not None:
            targets = [small.target]
        found.extend(
            _Definition("variable", target, small.value, small.value)
            for target in targets
            if isinstance(target, cst.Name)
        )
    return found


def _definitions(body, in_class: bool) -> list[_Definition]:
    """Each function, class and (at module level) assigned name directly in ``body``."""
    found = []
    for statement in body:
        if isinstance(statement, cst.FunctionDef):
            found.append(_Definition("function", statement.name, statement))
        elif isinstance(statement, cst.ClassDef):
            found.append(_Definition("class", statement.name, statement))
        elif not in_class and isinstance(statement, cst.SimpleStatementLine):
            found.extend(_variables(statement))
    return found


def _mentions(definition: _Definition, name: str, ctx: Context) -> bool:
    return re.search(rf"\b{re.escape(name)}\b", ctx.code(definition.node)) is not None


def _docstring(definition: _Definition) -> str:
    if isinstance(definition.node, cst.FunctionDef | cst.ClassDef):
        return definition.node.get_docstring() or ""
    return ""


def _decorated(definition: _Definition) -> bool:
    return isinstance(definition.node, cst.FunctionDef | cst.ClassDef) and bool(
        definition.node.decorators
    )


def _used_elsewhere(name: str, ctx: Context) -> bool:
    return len(re.findall(rf"\b{re.escape(name)}\b", ctx.text)) > 1


def _deliberate(first: _Definition, second: _Definition, versioned: bool, ctx: Context) -> bool:
    """Whether two variants are kept on purpose rather than left over from an experiment."""
    if _mentions(first, second.name, ctx) or _mentions(second, first.name, ctx):
        return True  # a wrapper, a dispatcher, a subclass, or data derived from data
    if _decorated(first) and _decorated(second):
        return True  # both registered: models of a zoo, API endpoints, CLI commands
    if _COMPAT.search(_docstring(first)) or _COMPAT.search(_docstring(second)):
        return True  # kept for compatibility, and says so
    if not (_used_elsewhere(first.name, ctx) and _used_elsewhere(second.name, ctx)):
        return False
    # Both in use: versions are alternatives chosen by configuration; values are results set
    # side by side (an old and a new benchmark); functions taking different parameters do
    # different jobs despite the name.
    return versioned or first.kind == "variable" or _parameters(first) != _parameters(second)


def _parameters(definition: _Definition) -> tuple[str, ...] | None:
    if not isinstance(definition.node, cst.FunctionDef):
        return None
    params = definition.node.params
    every = [*params.posonly_params, *params.params, *params.kwonly_params]
    return tuple(p.name.value for p in every)


def _candidates(
    name: str,
    stem: str,
    marker: str,
    variants: list[tuple[str, str, str]],
    names: dict[str, _Definition],
) -> list[tuple[str, bool]]:
    """(other, versioned) pairs ``name`` may be a variant of: its stem, else its siblings."""
    if stem in names:
        return [(stem, bool(_VERSION.match(marker)))]
    return [
        (sibling, bool(_VERSION.match(marker) or _VERSION.match(sibling_marker)))
        for sibling, _, sibling_marker in variants
        if sibling != name and sibling_marker != marker
    ]


def _report_first_accidental(
    name: str,
    candidates: list[tuple[str, bool]],
    names: dict[str, _Definition],
    reported: set[frozenset[str]],
    ctx: Context,
) -> None:
    """Report ``name`` against the first candidate it is not deliberately kept beside."""
    for other, versioned in candidates:
        pair = frozenset((name, other))
        if pair in reported:
            return
        if _deliberate(names[name], names[other], versioned, ctx):
            continue
        reported.add(pair)
        ctx.report(names[name].name_node, name=name, other=other)
        return


def _check_scope(definitions: list[_Definition], ctx: Context) -> None:
    for kind in _KINDS:
        names: dict[str, _Definition] = {}
        for definition in definitions:
            if definition.kind == kind:
                names.setdefault(definition.name, definition)
        stems: dict[str, list[tuple[str, str, str]]] = {}
        for name in names:
            split = _split(name, kind)
            if split is not None:
                stem, marker = split
                stems.setdefault(stem.lower(), []).append((name, stem, marker))
        reported: set[frozenset[str]] = set()
        for variants in stems.values():
            for name, stem, marker in variants:
                candidates = _candidates(name, stem, marker, variants, names)
                _report_first_accidental(name, candidates, names, reported, ctx)


def visit_Module(node: cst.Module, ctx: Context) -> None:
    if ctx.is_test:
        return
    _check_scope(_definitions(node.body, in_class=False), ctx)
    for statement in node.body:
        if isinstance(statement, cst.ClassDef) and isinstance(statement.body, cst.IndentedBlock):
            _check_scope(_definitions(statement.body.body, in_class=True), ctx)
