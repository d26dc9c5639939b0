"""DEBT201 class_as_function: focused tests beyond the examples the rule carries."""

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
