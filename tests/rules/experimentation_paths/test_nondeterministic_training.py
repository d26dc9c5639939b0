"""DEBT1006 nondeterministic_training: focused tests beyond the examples the rule carries."""

from __future__ import annotations

from tests.conftest import rule_findings


def findings(code: str, source: str, path: str = "train.py", config=None, files=()):
    return rule_findings(code, source, path, config, files)


TRAIN_LOOP = """
for x, y in loader:
    optimizer.zero_grad()
    loss_fn(model(x), y).backward()
    optimizer.step()
"""


def test_nondeterministic_benchmark_wins_over_deterministic() -> None:
    source = (
        "import torch\n"
        "torch.manual_seed(0)\n"
        "torch.backends.cudnn.deterministic = True\n"
        "torch.backends.cudnn.benchmark = True\n" + TRAIN_LOOP
    )
    [finding] = findings("DEBT1006", source)
    assert finding.line == 2
    assert finding.message.startswith("Set `torch.backends.cudnn.benchmark = False`")


def test_nondeterministic_cudnn_alias_and_use_deterministic() -> None:
    aliased = (
        "import torch\nfrom torch.backends import cudnn\n"
        "torch.manual_seed(0)\ncudnn.deterministic = True\n" + TRAIN_LOOP
    )
    assert findings("DEBT1006", aliased) == []
    disabled = "import torch\ntorch.manual_seed(0)\ncudnn_off = False\n" + TRAIN_LOOP
    assert len(findings("DEBT1006", disabled)) == 1


def test_nondeterministic_needs_torch_for_torch_advice() -> None:
    source = """
    import jax
    from transformers import set_seed

    set_seed(0)
    state = state.apply_gradients(grads=grads)
    optimizer.step()
    """
    assert findings("DEBT1006", source) == []


def test_nondeterministic_skips_benchmarks_and_tests() -> None:
    source = "import torch\ntorch.manual_seed(0)\n" + TRAIN_LOOP
    assert len(findings("DEBT1006", source)) == 1
    assert findings("DEBT1006", source, path="bench.py") == []
    assert findings("DEBT1006", source, path="tests/test_train.py") == []


def test_nondeterministic_reports_inside_the_seeding_function() -> None:
    source = """
    import torch

    def set_seed(seed):
        torch.manual_seed(seed)

    def main():
        set_seed(0)
        for x, y in loader:
            optimizer.zero_grad()
            loss_fn(model(x), y).backward()
            optimizer.step()
    """
    [finding] = findings("DEBT1006", source)
    assert finding.line == 4
