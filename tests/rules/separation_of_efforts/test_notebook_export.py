"""DEBT101 notebook_export: focused tests beyond the examples the rule carries."""

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
