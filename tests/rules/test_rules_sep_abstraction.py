"""Focused tests for the separation-of-efforts and over-abstraction rules (DEBT101-DEBT203)."""

from __future__ import annotations

import textwrap

from rules.engine.analyse import analyse_source
from rules.engine.config import default_config, parse_config
from rules.rule import rules_by_code


def findings(code: str, source: str, path: str = "example.py", files=None, options=None):
    rule = rules_by_code()[code]
    config = parse_config({"rules": {code: options}}) if options else default_config()
    text = textwrap.dedent(source).lstrip("\n")
    repository = {path} if files is None else {path, *files}
    result = analyse_source(path, text.encode(), config, [rule], repository)
    assert not result.skipped, result.skipped
    return result.findings


EXPORT = """
    #!/usr/bin/env python
    # coding: utf-8

    # In[1]:

    import pandas as pd

    # In[2]:

    df = pd.read_csv("train.csv")
    get_ipython().run_line_magic("matplotlib", "inline")
    display(df.head())
"""


def test_notebook_export_is_reported_once_at_the_first_marker() -> None:
    found = findings("DEBT101", EXPORT)
    assert [(f.line, f.code) for f in found] == [(4, "DEBT101")]
    assert "`# In[1]:`" in found[0].message


def test_notebook_export_exploration_folders_option() -> None:
    assert findings("DEBT101", EXPORT, path="notebooks/eda.py") == []
    assert findings("DEBT101", EXPORT, path="analysis/eda.py")
    options = {"exploration-folders": ["analysis"]}
    assert findings("DEBT101", EXPORT, path="analysis/eda.py", options=options) == []
    assert findings("DEBT101", EXPORT, path="notebooks/eda.py", options=options)


def test_notebook_export_skips_jupytext_scripts_and_tests() -> None:
    jupytext = "# ---\n# jupyter:\n#   jupytext:\n#     formats: ipynb,py:light\n# ---\n" + (
        textwrap.dedent(EXPORT)
    )
    assert findings("DEBT101", jupytext) == []
    assert findings("DEBT101", EXPORT, path="tests/test_export.py") == []


def test_notebook_export_display_bound_later_in_the_file() -> None:
    source = """
        def report(frame):
            display(frame.describe())


        def display(text):
            print(text)
    """
    assert findings("DEBT101", source) == []
    assert findings("DEBT101", "from IPython.display import *\ndisplay(df)\n") == []
    assert findings("DEBT101", "show, display = make_viewers()\ndisplay(df)\n") == []
    assert findings("DEBT101", "show = make_viewer()\ndisplay(df)\n")


NOTEBOOK = '{"cells": [], "metadata": {}, "nbformat": 4, "nbformat_minor": 5}\n'


def test_notebook_in_package_names_the_package() -> None:
    found = findings(
        "DEBT102",
        NOTEBOOK,
        path="src/churn/eda.ipynb",
        files=("src/churn/__init__.py",),
    )
    assert [f.line for f in found] == [1]
    assert "`churn`" in found[0].message


def test_notebook_in_package_needs_the_layout() -> None:
    assert findings("DEBT102", NOTEBOOK, path="churn/eda.ipynb", files=()) == []


def test_notebook_in_package_notebook_folders_option() -> None:
    files = ("examples/__init__.py",)
    assert findings("DEBT102", NOTEBOOK, path="examples/demo.ipynb", files=files) == []
    options = {"notebook-folders": ["docs"]}
    assert findings("DEBT102", NOTEBOOK, path="examples/demo.ipynb", files=files, options=options)


def test_class_as_function_needs_every_use_to_be_a_single_call() -> None:
    source = """
        class Exporter:
            def __init__(self, model):
                self.model = model

            def export(self, path):
                torch.onnx.export(self.model, sample, path)


        exporter = Exporter(model)
        exporter.export("model.onnx")
        {extra}
    """
    assert findings("DEBT201", source.format(extra=""))
    # The variable is used again: the object outlives the call.
    assert findings("DEBT201", source.format(extra="log(exporter)")) == []
    # The class is referenced in an annotation too.
    assert findings("DEBT201", source.format(extra="def f(e: Exporter): ...")) == []


def test_class_as_function_ignores_a_private_helper_method() -> None:
    source = """
        class Job:
            def __init__(self, cfg):
                self.cfg = cfg

            def run(self):
                return self._step()

            def _step(self):
                return self.cfg


        Job(cfg).run()
    """
    assert findings("DEBT201", source) == []


def test_pass_through_wrapper_needs_the_callee_name_in_its_own() -> None:
    template = """
        import torch


        def {name}(path):
            return torch.load(path)


        state = {name}("best.pt")
    """
    assert findings("DEBT202", template.format(name="load_checkpoint"))
    assert findings("DEBT202", template.format(name="restore_weights")) == []


def test_pass_through_wrapper_unused_in_its_module_is_a_possible_hook() -> None:
    source = """
        import torch


        def load_checkpoint(path):
            return torch.load(path)
    """
    assert findings("DEBT202", source) == []


def test_pass_through_wrapper_keyword_and_star_arguments() -> None:
    source = """
        from sklearn.metrics import f1_score


        def compute_f1_score(y_true, y_pred, *args, average, **kwargs):
            return f1_score(y_true, y_pred, *args, average=average, **kwargs)


        print(compute_f1_score(y, p, average="macro"))
    """
    assert findings("DEBT202", source)
    dropped = source.replace(", **kwargs)\n", ")\n", 1)
    assert findings("DEBT202", dropped) == []


ABSTRACT = """
    from abc import ABC, abstractmethod


    class Loader(ABC):
        @abstractmethod
        def load(self): ...


    class CsvLoader(Loader):
        def load(self):
            return pd.read_csv("x.csv")
"""


def test_single_implementation_include_importable_option() -> None:
    files = ("data/__init__.py",)
    assert findings("DEBT203", ABSTRACT, path="data/loaders.py", files=files) == []
    options = {"include-importable": True}
    found = findings("DEBT203", ABSTRACT, path="data/loaders.py", files=files, options=options)
    assert [f.line for f in found] == [4]
    exported = '__all__ = ["Loader"]\n' + textwrap.dedent(ABSTRACT)
    assert findings("DEBT203", exported, path="data/loaders.py", files=files, options=options) == []


def test_single_implementation_scripts_outside_packages_only() -> None:
    script = textwrap.dedent(ABSTRACT) + '\nif __name__ == "__main__":\n    CsvLoader().load()\n'
    assert findings("DEBT203", script, path="run.py", files=("run.py",))
    assert findings("DEBT203", script, path="data/run.py", files=("data/__init__.py",)) == []
    # Without the repository layout the file might be inside a package.
    result = analyse_source(
        "run.py", script.encode(), default_config(), [rules_by_code()["DEBT203"]], ()
    )
    assert result.findings == []


def test_single_implementation_plugin_modules_option() -> None:
    private = textwrap.dedent(ABSTRACT).replace("class Loader(", "class _Loader(")
    private = private.replace("CsvLoader(Loader)", "CsvLoader(_Loader)")
    assert findings("DEBT203", private, path="data/base.py") == []
    options = {"plugin-modules": ["interfaces"]}
    assert findings("DEBT203", private, path="data/base.py", options=options)
