"""DEBT306 gradients_not_cleared: focused tests beyond the examples the rule carries."""

from __future__ import annotations

from tests.conftest import rule_findings


def findings(code: str, source: str, path: str = "train.py", config=None, files=()):
    return rule_findings(code, source, path, config, files)


def test_gradients_reports_only_the_innermost_loop_once() -> None:
    source = """
    import torch

    optimizer = torch.optim.Adam(model.parameters())
    for epoch in range(3):
        for x, y in loader:
            loss_fn(model(x), y).backward()
            optimizer.step()
    """
    [finding] = findings("DEBT306", source)
    assert finding.line == 6
    assert "`optimizer.zero_grad()`" in finding.message


def test_gradients_optimizer_known_by_construction_not_name() -> None:
    source = """
    from torch.optim import AdamW

    adam = AdamW(params)
    for batch in loader:
        model(batch).loss.backward()
        adam.step()
    """
    [finding] = findings("DEBT306", source)
    assert "`adam.zero_grad()`" in finding.message


def test_gradients_cleared_by_method_helper_defined_later() -> None:
    source = """
    class Trainer:
        def fit(self):
            for batch in self.loader:
                self.model(batch).backward()
                self.optimizer.step()
                self._reset()

        def _reset(self):
            self.optimizer.zero_grad(set_to_none=True)
    """
    assert findings("DEBT306", source) == []


def test_gradients_model_zero_grad_and_grad_zero_count() -> None:
    source = """
    for batch in loader:
        model.zero_grad()
        model(batch).backward()
        optimizer.step()
    for batch in loader:
        model(batch).backward()
        optimizer.step()
        for p in model.parameters():
            p.grad.zero_()
    """
    assert findings("DEBT306", source) == []
