"""
What it does
------------
Flags an abstract base class (one that inherits ``abc.ABC``, uses ``metaclass=abc.ABCMeta``, or
inherits ``typing.Protocol``) that has exactly one subclass in the same file, and that the file
uses for nothing else than that subclass's base and type annotations.

Only the defining file is read for now, so the rule fires only where other modules are unlikely
to hold more implementations: in a script (a module with an ``if __name__ == "__main__":``
block that is not inside a package: library modules often carry a demo ``__main__`` block) or
for a private class (``_BaseLoader``). Set the ``include-importable`` option to
``true`` to also report public classes of importable modules, for an application whose
abstractions are not meant to be implemented elsewhere.

To stay precise, the rule also leaves the class alone when:

- the one subclass is abstract itself or has subclasses of its own (a longer chain is another
  smell, not this one);
- the name is used in any other way: ``isinstance`` checks, ``Base.register(...)``,
  ``Base.__subclasses__()``, registries, arguments;
- the module lists the class in ``__all__``, which makes it a public extension point;
- the module's name is in the ``plugin-modules`` option (default ``base``, ``bases``,
  ``abstract``, ``abc``, ``interface``, ``interfaces``, ``protocol``, ``protocols``): such modules
  exist so that other modules can implement them;
- the file is a test.

Why is this bad?
----------------
An interface with one implementation is a guess about the future. Every reader pays for it now:
two classes to read instead of one, abstract methods to match against concrete ones, and
indirection to follow when debugging. If a second implementation ever comes, the right
abstraction is easier to draw from two real cases than from one.

Example
-------
.. code-block:: python

    from abc import ABC, abstractmethod


    class BaseFeatureStore(ABC):
        @abstractmethod
        def load(self, day): ...


    class ParquetFeatureStore(BaseFeatureStore):
        def load(self, day):
            return pd.read_parquet(f"features/{day}.parquet")

Use instead
-----------
.. code-block:: python

    class ParquetFeatureStore:
        def load(self, day):
            return pd.read_parquet(f"features/{day}.parquet")

References
----------
- pylint ``R0921``/``R0922`` (abstract-class-not-used, abstract-class-little-used), removed in
  pylint 1.4.3: reading one module, they flagged public extension points, which is why this
  rule only reports scripts and private classes unless told otherwise
- Python documentation of ``abc`` and ``typing.Protocol``
- Sandi Metz, "The Wrong Abstraction" (2016)
"""

from __future__ import annotations

from dataclasses import dataclass, field

import libcst as cst

from rules import Context, Example, Rule
from rules.names import is_reference, string_value

RULE = Rule(
    code="DEBT203",
    name="single-implementation-abstraction",
    principle="over-abstraction",
    severity="info",
    message=(
        "Fold abstract class `{name}` into `{impl}`, its only implementation, until a second "
        "one is needed."
    ),
    options={
        "include-importable": False,
        "plugin-modules": [
            "base",
            "bases",
            "abstract",
            "abc",
            "interface",
            "interfaces",
            "protocol",
            "protocols",
        ],
    },
    valid=(
        # Near miss: two implementations.
        """
        from abc import ABC, abstractmethod


        class Encoder(ABC):
            @abstractmethod
            def encode(self, frame): ...


        class OneHotEncoder(Encoder):
            def encode(self, frame):
                return pd.get_dummies(frame)


        class OrdinalEncoder(Encoder):
            def encode(self, frame):
                return frame.astype("category").cat.codes


        if __name__ == "__main__":
            print(OneHotEncoder().encode(load()))
        """,
        # Near miss: a public base in a library module; its other implementations live in
        # sibling modules that this file cannot see.
        Example(
            """
            from abc import ABC


            class DisplayComponent(ABC):
                def __init__(self, *, verbose=True):
                    self.verbose = verbose

                def close(self):
                    self.backend.clear_display()


            class MonitorDisplay(DisplayComponent):
                def display(self, rows):
                    self.backend.display(rows)
            """,
            path="pycaret/internal/display/display_component.py",
            files=("pycaret/__init__.py", "pycaret/internal/display/__init__.py"),
        ),
        # Near miss: a library module with a demo __main__ block is not a script.
        Example(
            """
            from abc import ABC, abstractmethod


            class Pager(ABC):
                @abstractmethod
                def show(self, content: str) -> None: ...


            class SystemPager(Pager):
                def show(self, content: str) -> None:
                    __import__("pydoc").pager(content)


            if __name__ == "__main__":
                SystemPager().show("demo")
            """,
            path="rich/pager.py",
            files=("rich/__init__.py", "rich/console.py"),
        ),
        # Near miss: the base is used for isinstance checks, an extension point.
        """
        import abc


        class _Metric(metaclass=abc.ABCMeta):
            @abc.abstractmethod
            def __call__(self, y, p): ...


        class Accuracy(_Metric):
            def __call__(self, y, p):
                return (y == p).mean()


        def evaluate(metrics, y, p):
            return {type(m).__name__: m(y, p) for m in metrics if isinstance(m, _Metric)}
        """,
        # Near miss: a module meant to be implemented by other modules.
        Example(
            """
            from abc import ABC, abstractmethod


            class _BaseTrainer(ABC):
                @abstractmethod
                def fit(self, data): ...


            class DummyTrainer(_BaseTrainer):
                def fit(self, data):
                    return None
            """,
            path="trainers/base.py",
        ),
        # Near miss: exported in __all__ as the public API.
        """
        from abc import ABC, abstractmethod

        __all__ = ["Callback", "PrintCallback"]


        class Callback(ABC):
            @abstractmethod
            def on_epoch_end(self, epoch, logs): ...


        class PrintCallback(Callback):
            def on_epoch_end(self, epoch, logs):
                print(epoch, logs)
        """,
        # Near miss: the one subclass is abstract itself and has its own implementations.
        """
        from abc import ABC, abstractmethod


        class Model(ABC):
            @abstractmethod
            def fit(self, x, y): ...


        class TorchModel(Model, ABC):
            @abstractmethod
            def build(self): ...


        class MLP(TorchModel):
            def build(self):
                return make_mlp()


        class CNN(TorchModel):
            def build(self):
                return make_cnn()


        if __name__ == "__main__":
            MLP().fit(x, y)
        """,
    ),
    invalid=(
        Example(
            """
            from abc import ABC, abstractmethod

            import pandas as pd


            class BaseFeatureStore(ABC):
                @abstractmethod
                def load(self, day) -> pd.DataFrame: ...


            class ParquetFeatureStore(BaseFeatureStore):
                def load(self, day) -> pd.DataFrame:
                    return pd.read_parquet(f"features/{day}.parquet")


            def build(store: BaseFeatureStore, day):
                return store.load(day)


            if __name__ == "__main__":
                build(ParquetFeatureStore(), "2024-01-01").to_csv("features.csv")
            """,
            path="scripts/build_features.py",
            files=("churn/__init__.py", "churn/features.py"),
            line=6,
        ),
        Example(
            """
            from typing import Protocol


            class _Predictor(Protocol):
                def predict(self, rows): ...


            class XGBPredictor(_Predictor):
                def __init__(self, booster):
                    self.booster = booster

                def predict(self, rows):
                    return self.booster.predict(rows)
            """,
            path="serving/predict.py",
            line=4,
        ),
        Example(
            """
            import abc

            import torch.nn as nn


            class BaseNet(nn.Module, metaclass=abc.ABCMeta):
                @abc.abstractmethod
                def forward(self, x): ...


            class ConvNet(BaseNet):
                def __init__(self):
                    super().__init__()
                    self.conv = nn.Conv2d(3, 16, 3)

                def forward(self, x):
                    return self.conv(x)


            if __name__ == "__main__":
                train(ConvNet())
            """,
            line=6,
        ),
    ),
)

_ABSTRACT_BASES = frozenset({"abc.ABC", "typing.Protocol", "typing_extensions.Protocol"})
_ABSTRACT_DECORATORS = frozenset(
    {"abc.abstractmethod", "abc.abstractproperty", "abc.abstractclassmethod"}
)


@dataclass
class State:
    """The file's abstract classes, every class with its bases, and the uses of class names."""

    skip: bool = False
    abstract: dict[str, cst.ClassDef] = field(default_factory=dict)
    # (ClassDef, names of its bases, is abstract)
    classes: list[tuple[cst.ClassDef, list[str], bool]] = field(default_factory=list)
    uses: dict[str, int] = field(default_factory=dict)
    # Never read: it keeps the names in type annotations out of ``uses`` (see the docstring).
    annotation_uses: dict[str, int] = field(default_factory=dict)
    annotation_depth: int = 0


def _base_expression(arg: cst.Arg) -> cst.BaseExpression:
    value = arg.value
    return value.value if isinstance(value, cst.Subscript) else value


def _is_abstract_class(node: cst.ClassDef, ctx: Context) -> bool:
    for arg in node.bases:
        if ctx.qualified_name(_base_expression(arg)) in _ABSTRACT_BASES:
            return True
    for arg in node.keywords:
        if (
            arg.keyword is not None
            and arg.keyword.value == "metaclass"
            and ctx.qualified_name(arg.value) == "abc.ABCMeta"
        ):
            return True
    return False


def _declares_abstract_methods(node: cst.ClassDef, ctx: Context) -> bool:
    if not isinstance(node.body, cst.IndentedBlock):
        return False
    for statement in node.body.body:
        if isinstance(statement, cst.FunctionDef):
            for decorator in statement.decorators:
                if ctx.qualified_name(decorator.decorator) in _ABSTRACT_DECORATORS:
                    return True
    return False


def _exported(module: cst.Module) -> set[str]:
    names: set[str] = set()
    for statement in module.body:
        if isinstance(statement, cst.SimpleStatementLine):
            for small in statement.body:
                names.update(_all_entries(small))
    return names


def _all_entries(small: cst.BaseSmallStatement) -> list[str]:
    """The strings listed by an ``__all__ = [...]`` (or ``+=``) statement; [] for others."""
    if isinstance(small, cst.Assign):
        targets = [t.target for t in small.targets]
    elif isinstance(small, cst.AugAssign | cst.AnnAssign):
        targets = [small.target]
    else:
        return []
    if not any(isinstance(t, cst.Name) and t.value == "__all__" for t in targets):
        return []
    if not isinstance(small.value, cst.List | cst.Tuple | cst.Set):
        return []
    values = (string_value(element.value) for element in small.value.elements)
    return [value for value in values if value is not None]


def _skipped_module(ctx: Context) -> bool:
    if ctx.is_test:
        return True
    stem = ctx.path.rsplit("/", 1)[-1].removesuffix(".py")
    return stem in ctx.options["plugin-modules"]


def visit_Module(node: cst.Module, ctx: Context[State]) -> None:
    ctx.state.skip = _skipped_module(ctx)


def visit_ClassDef(node: cst.ClassDef, ctx: Context[State]) -> None:
    if ctx.state.skip:
        return
    abstract = _is_abstract_class(node, ctx)
    if abstract and len(ctx.ancestors) == 1:
        ctx.state.abstract[node.name.value] = node
    bases = []
    for arg in node.bases:
        base = _base_expression(arg)
        if isinstance(base, cst.Name):
            bases.append(base.value)
    ctx.state.classes.append((node, bases, abstract or _declares_abstract_methods(node, ctx)))


def visit_Annotation(node: cst.Annotation, ctx: Context[State]) -> None:
    ctx.state.annotation_depth += 1


def leave_Annotation(node: cst.Annotation, ctx: Context[State]) -> None:
    ctx.state.annotation_depth -= 1


def visit_Name(node: cst.Name, ctx: Context[State]) -> None:
    first = node.value[0]
    if not (first.isupper() or first == "_") or ctx.state.skip:
        return  # only class-like names matter here
    if not is_reference(node, ctx.parent()):
        return
    table = ctx.state.annotation_uses if ctx.state.annotation_depth else ctx.state.uses
    table[node.value] = table.get(node.value, 0) + 1


def _in_package(ctx: Context) -> bool:
    """Whether the file's folder holds an ``__init__.py``; unknown layouts count as packages."""
    folder, _, _ = ctx.path.rpartition("/")
    return not ctx.files or f"{folder}/__init__.py".lstrip("/") in ctx.files


def _is_script(module: cst.Module) -> bool:
    for statement in module.body:
        if isinstance(statement, cst.If) and isinstance(statement.test, cst.Comparison):
            test = statement.test
            sides = [test.left, *(c.comparator for c in test.comparisons)]
            if any(isinstance(s, cst.Name) and s.value == "__name__" for s in sides) and any(
                string_value(s) == "__main__" for s in sides
            ):
                return True
    return False


def leave_Module(node: cst.Module, ctx: Context[State]) -> None:
    if ctx.state.skip or not ctx.state.abstract:
        return
    everywhere = ctx.options["include-importable"] or (_is_script(node) and not _in_package(ctx))
    exported = _exported(node)
    classes = ctx.state.classes
    for name, classdef in ctx.state.abstract.items():
        if name in exported or not (everywhere or name.startswith("_")):
            continue
        subclasses = [c for c in classes if name in c[1]]
        if len(subclasses) != 1:
            continue
        subclass, _, sub_abstract = subclasses[0]
        sub_name = subclass.name.value
        if sub_abstract or any(sub_name in c[1] for c in classes):
            continue
        base_uses = subclasses[0][1].count(name)
        if ctx.state.uses.get(name, 0) != base_uses:
            continue
        ctx.report(classdef.name, name=name, impl=sub_name)
