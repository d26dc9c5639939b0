"""DEBT102 notebook_in_package: focused tests beyond the examples the rule carries."""

from __future__ import annotations

import textwrap

from rules.catalogue import rules_by_code
from rules.engine.analyse import analyse_source
from rules.engine.config import default_config, parse_config


def findings(code: str, source: str, path: str = "example.py", files=None, options=None):
    rule = rules_by_code()[code]
    config = parse_config({"rules": {code: options}}) if options else default_config()
    text = textwrap.dedent(source).lstrip("\n")
    repository = {path} if files is None else {path, *files}
    result = analyse_source(path, text.encode(), config, [rule], repository)
    assert not result.skipped, result.skipped
    return result.findings


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
