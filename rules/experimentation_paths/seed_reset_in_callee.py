"""
What it does
------------
Flags a global random number generator seeded (``torch.manual_seed``,
``torch.cuda.manual_seed(_all)``, ``np.random.seed``, ``random.seed``, ``tf.random.set_seed``,
``seed_everything``, ``transformers.set_seed``...) inside code that runs many times or as a side
effect of building something:

- a function defined inside another function, with a seed that is the same on every call (a
  number or a setting): a callback handed to a library, which calls it once per module, batch
  or worker (``param_init_fn``, ``collate_fn``, ``worker_init_fn``). A seed combined with what
  changes between calls (``args.seed + trainer.state.epoch``) is a deliberate reseeding;
- a method that builds or serves objects: ``__init__``, ``__getitem__``, ``__iter__``,
  ``__next__``, ``__call__``, ``forward``;
- a worker initialiser (``worker_init_fn``, ``seed_worker``...) that seeds with a constant, so
  that every worker draws the same numbers.

Left alone: entry points and plain functions (``main``, ``train``, a model factory), functions
whose name says that seeding is their job (``set_seed``, ``seed_all``), module-level seeding,
and tests.

Why is this bad?
----------------
The global generator belongs to the whole process. Seeding it inside a constructor or a callback
silently resets the random stream of every caller each time that code runs: two models built in
a row get identical initial weights, every dataset item is augmented the same way, every data
loader worker draws the same crops, and the seed the experiment's configuration sets at the start
no longer decides anything after the first model is built. The effect is invisible in the code
that suffers it, and changing the order of construction changes the results.

Example
-------
.. code-block:: python

    class Augmented(Dataset):
        def __getitem__(self, index):
            np.random.seed(0)
            return self.transform(self.images[index])

Use instead
-----------
Seed once, at the entry point, and give components that need their own stream a generator of
their own:

.. code-block:: python

    class Augmented(Dataset):
        def __init__(self, images, seed):
            self.images, self.rng = images, np.random.default_rng(seed)

        def __getitem__(self, index):
            return self.transform(self.images[index], rng=self.rng)

References
----------
- NumPy NEP 19, "Random number generator policy": prefer ``default_rng`` to the global seed
- PyTorch documentation, "Reproducibility": ``worker_init_fn`` and ``torch.Generator``
"""

from __future__ import annotations

from dataclasses import dataclass, field

import libcst as cst

from rules import Context, Example, Rule
from rules.names import number_value

RULE = Rule(
    code="DEBT1008",
    name="global-seed-reset",
    principle="experimentation-paths",
    severity="warning",
    message="Seed once at the entry point and give `{function}` a generator of its own (`np.random.default_rng(seed)`, `torch.Generator`) instead of calling `{call}`, which resets the global random state for every caller each time it runs.",
    valid=(
        # The entry point seeds once.
        """
import torch

def main(seed):
    torch.manual_seed(seed)
    train()
""",
        # Near miss: a helper whose job is seeding.
        """
import numpy as np
import random

def seed_worker(worker_id):
    seed = torch.initial_seed() % 2**32
    np.random.seed(seed)
    random.seed(seed)
""",
        # Near miss: a worker initialiser that seeds from the worker's own seed.
        """
import numpy as np

def worker_init_fn(worker_id):
    np.random.seed(np.random.get_state()[1][0] + worker_id)
""",
        # Near miss: a test.
        Example(
            """
import torch

class TestModel:
    def setup_method(self):
        def build():
            torch.manual_seed(0)
        build()
""",
            path="tests/test_model.py",
        ),
    ),
    invalid=(
        Example(
            """
import torch

def main(model):
    def _param_init_fn(module):
        torch.manual_seed(0)
        module.to_empty(device="cuda")
    return FSDP(model, param_init_fn=_param_init_fn)
""",
            line=5,
        ),
        Example(
            """
import numpy as np
from torch.utils.data import Dataset

class Augmented(Dataset):
    def __getitem__(self, index):
        np.random.seed(0)
        return self.images[index]
""",
            line=6,
        ),
        Example(
            """
import random
import torch.nn as nn

class Encoder(nn.Module):
    def __init__(self, seed=42):
        super().__init__()
        random.seed(seed)
""",
            line=7,
        ),
        Example(
            """
import numpy as np

def worker_init_fn(worker_id):
    np.random.seed(1234)
""",
            line=4,
        ),
    ),
)

_SEEDERS = frozenset(
    {
        "torch.manual_seed", "torch.cuda.manual_seed", "torch.cuda.manual_seed_all",
        "torch.random.manual_seed", "numpy.random.seed", "random.seed",
        "tensorflow.random.set_seed", "tensorflow.set_random_seed",
        "tensorflow.keras.utils.set_random_seed", "keras.utils.set_random_seed",
        "pytorch_lightning.seed_everything", "lightning.seed_everything",
        "lightning.pytorch.seed_everything", "lightning_fabric.seed_everything",
        "transformers.set_seed", "accelerate.utils.set_seed", "mmengine.runner.set_random_seed",
    }
)  # fmt: skip
# Methods that run whenever an object is built, indexed, iterated or called.
_REPEATED_METHODS = frozenset(
    {"__init__", "__getitem__", "__iter__", "__next__", "__call__", "forward"}
)
_WORKER_INIT = ("worker_init", "init_worker", "seed_worker", "worker_seed")


@dataclass
class State:
    # (name, defined directly in a class) of each function around the node visited.
    functions: list[tuple[str, bool]] = field(default_factory=list)
    classes: int = 0


def visit_ClassDef(node: cst.ClassDef, ctx: Context[State]) -> None:
    ctx.state.classes += 1


def leave_ClassDef(node: cst.ClassDef, ctx: Context[State]) -> None:
    ctx.state.classes -= 1


def visit_FunctionDef(node: cst.FunctionDef, ctx: Context[State]) -> None:
    parent = ctx.parent(2)  # FunctionDef <- IndentedBlock <- ClassDef
    ctx.state.functions.append((node.name.value, isinstance(parent, cst.ClassDef)))


def leave_FunctionDef(node: cst.FunctionDef, ctx: Context[State]) -> None:
    ctx.state.functions.pop()


def visit_Call(node: cst.Call, ctx: Context[State]) -> None:
    functions = ctx.state.functions
    if not functions or ctx.is_test:
        return
    call = ctx.call_name(node)
    if call not in _SEEDERS:
        return
    if any("seed" in name.lower() and not name.startswith(_WORKER_INIT) for name, _ in functions):
        return  # a helper whose job is seeding
    name, in_class = functions[-1]
    outer = functions[:-1]
    callback = bool(outer) and not in_class and _fixed_seed(node)
    method = in_class and name in _REPEATED_METHODS
    worker = name.lower().startswith(_WORKER_INIT) and _constant_seed(node)
    if callback or method or worker:
        ctx.report(node, function=name, call=call.rsplit(".", 1)[-1] + "(...)")


def _seed(call: cst.Call) -> cst.BaseExpression | None:
    return next(
        (a.value for a in call.args if a.keyword is None or a.keyword.value == "seed"), None
    )


def _constant_seed(call: cst.Call) -> bool:
    seed = _seed(call)
    return seed is not None and number_value(seed) is not None


def _fixed_seed(call: cst.Call) -> bool:
    """A seed that is the same on every call: a number or a setting (``0``, ``cfg.seed``), not
    one combined with what changes between calls (``args.seed + trainer.state.epoch``)."""
    seed = _seed(call)
    return (
        seed is None or number_value(seed) is not None or isinstance(seed, cst.Name | cst.Attribute)
    )
