"""DEBT203 single_implementation_abstraction: focused tests beyond the examples the rule carries."""

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
