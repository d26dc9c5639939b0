"""What a file's module binds at top level and which imports it runs (rules/engine/modules.py)."""

from __future__ import annotations

import textwrap

from rules.engine.facts import FileFacts
from rules.engine.modules import Import, module_facts


def facts_of(code: str):
    return module_facts(textwrap.dedent(code))


def test_top_level_bindings_in_every_branch():
    found = facts_of(
        """
        import os, numpy.linalg, pandas as pd
        from .io import read as load
        try:
            from fast import kernel
        except ImportError:
            kernel = None
        if True:
            THRESHOLD: float = 0.5
        else:
            def fallback(): ...
        A, (B, *C) = 1, (2, 3)
        for index in range(3):
            pass
        with open("f") as handle:
            pass
        class Model:
            inner = 1
        def train():
            global LAST_RUN
            local = 1
        __all__ = ["exported"]
        """
    )
    assert not found.dynamic
    assert found.defines >= {
        "os", "numpy", "pd", "load", "kernel", "THRESHOLD", "fallback", "A", "B", "C",
        "index", "handle", "Model", "train", "LAST_RUN", "exported",
    }  # fmt: skip
    assert not found.defines & {"inner", "local", "read", "linalg"}


def test_imports_with_lines_levels_and_names():
    found = facts_of(
        """
        import churn.features
        from . import helpers
        from ..io import (
            read,
            write as save,
        )

        def run():
            from churn.models import fit
        """
    )
    assert found.imports == (
        Import(2, 0, "churn.features"),
        Import(3, 1, "", "helpers"),
        Import(4, 2, "io", "read"),
        Import(4, 2, "io", "write"),
        Import(10, 0, "churn.models", "fit"),
    )


def test_optional_type_checking_and_expected_failures_are_not_run_imports():
    found = facts_of(
        """
        from typing import TYPE_CHECKING
        if TYPE_CHECKING:
            from churn.types import Frame
        try:
            import churn.gpu
        except (ModuleNotFoundError, OSError):
            pass
        if _module_available("churn.demo"):
            from churn import demo
        def test_removed():
            with pytest.raises(ImportError):
                from churn.features import old_name
        """
    )
    assert [i.module for i in found.imports] == ["typing"]


def test_modules_that_get_names_at_run_time_are_dynamic():
    assert facts_of("from churn.base import *\n").dynamic
    assert facts_of("def __getattr__(name):\n    return name\n").dynamic
    assert facts_of("globals()['fit'] = 1\n").dynamic
    assert facts_of("import sys\nsys.modules[__name__] = object()\n").dynamic
    assert facts_of("print 'python 2'\n").dynamic
    assert facts_of("import sys\nsys.modules['churn.old'] = sys.modules[__name__]\n").dynamic
    assert facts_of("exec(open('defs.py').read())\n").dynamic
    assert not facts_of("def fit():\n    pass\n").dynamic
    reads = (
        "import sys\ndef colab():\n    exec(code, {})\n    return 'google.colab' in sys.modules\n"
    )
    assert not facts_of(reads).dynamic


def test_path_edits_and_names_set_from_outside():
    assert facts_of("import sys\nsys.path.insert(0, '..')\n").path_hack
    assert not facts_of("import os\nos.path.join('a')\n").path_hack
    shim = facts_of(
        """
        import churn.features
        churn.features.add_tenure = churn.features.add_tenure_years
        for old in ("OldScaler",):
            setattr(churn.scaling, old, churn.scaling.Scaler)
        def f(self):
            self.ignored = 1
        """
    )
    assert {"add_tenure", "OldScaler"} <= shim.injects
    assert "ignored" not in shim.injects


def test_module_facts_survive_the_json_round_trip():
    facts = FileFacts("churn/features.py", module=facts_of("from .io import read\nX = 1\n"))
    again = FileFacts.from_json(facts.to_json())
    assert again.module == facts.module
    assert FileFacts.from_json(
        '{"path": "a.py", "functions": [], "classes": [], "names": [], "strings": []}'
    ).module.dynamic  # older facts know nothing
