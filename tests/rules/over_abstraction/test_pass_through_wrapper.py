"""DEBT202 pass_through_wrapper: focused tests beyond the examples the rule carries."""

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
