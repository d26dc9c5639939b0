"""DEBT1008 global-seed-reset: where seeding the global generator resets it for everyone."""

from __future__ import annotations

from tests.conftest import rule_findings


def findings(source: str, path: str = "model.py"):
    return rule_findings("DEBT1008", source, path=path)


def test_sampler_iteration_and_constructor():
    found = findings(
        """
        import random
        import torch

        class Sampler:
            def __init__(self, seed=0):
                random.seed(seed)

            def __iter__(self):
                torch.manual_seed(self.epoch)
                yield from range(3)
        """
    )
    assert [f.line for f in found] == [6, 9]
    assert "`__iter__`" in found[1].message


def test_callback_reseeded_per_call_is_deliberate():
    source = """
        import torch

        def main(args, trainer):
            @trainer.on("episode")
            def reset():
                torch.manual_seed(args.seed + trainer.state.epoch)
        """
    assert findings(source) == []


def test_entry_points_factories_and_other_methods_are_left_alone():
    source = """
        import numpy as np
        import torch

        def build_model(cfg):
            torch.manual_seed(cfg.seed)
            return Net()

        class Env:
            def reset(self, seed=None):
                np.random.seed(seed)

            def seed(self, seed):
                def inner():
                    np.random.seed(seed)
                inner()
        """
    assert findings(source) == []
