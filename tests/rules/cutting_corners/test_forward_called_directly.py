"""DEBT308 forward_called_directly: focused tests beyond the examples the rule carries."""

from __future__ import annotations

from tests.conftest import rule_findings


def findings(code: str, source: str, path: str = "train.py", config=None, files=()):
    return rule_findings(code, source, path, config, files)


def test_forward_no_replacement_with_two_calls_on_a_line() -> None:
    source = """
    import torch

    y = head.forward(body.forward(x))
    """
    found = findings("DEBT308", source)
    assert [f.line for f in found] == [3, 3]
    assert all(f.replacement is None for f in found)


def test_forward_skipped_in_tests_and_without_arguments() -> None:
    source = """
    import torch

    out = model.forward(x)
    """
    assert findings("DEBT308", source, path="tests/test_model.py") == []
    assert findings("DEBT308", "import torch\ny = net.forward()\n") == []


def test_forward_label_for_module_built_in_place() -> None:
    source = """
    import torch

    out = ROIAlign((7, 7), 1.0, 0, aligned=True).forward(masks, rois)
    """
    [finding] = findings("DEBT308", source)
    assert "`ROIAlign(...)(...)`" in finding.message
    assert finding.replacement == "out = ROIAlign((7, 7), 1.0, 0, aligned=True)(masks, rois)"
