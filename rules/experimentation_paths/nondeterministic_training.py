"""
What it does
------------
Off by default: select it by its code (``select = ["DEBT", "DEBT1006"]``).

Flags the seeding call of a training script that seeds its random numbers, which shows the
author wants runs to be reproducible, but leaves the framework free to pick nondeterministic
kernels:

- PyTorch: ``torch.manual_seed``, ``torch.cuda.manual_seed(_all)``, Lightning's
  ``seed_everything``, ``transformers.set_seed`` or ``accelerate.utils.set_seed``, with neither
  ``torch.use_deterministic_algorithms(...)`` nor ``torch.backends.cudnn.deterministic = ...``
  nor ``Trainer(deterministic=...)`` anywhere in the file; or with
  ``torch.backends.cudnn.benchmark = True``, which lets cuDNN choose its algorithms by timing
  them, so the choice (and the result) can change from run to run;
- TensorFlow: ``tf.random.set_seed`` or ``tf.keras.utils.set_random_seed`` without
  ``tf.config.experimental.enable_op_determinism()``.

A file counts as a training script when it steps an optimizer (``optimizer.step()``,
``scaler.step(optimizer)``), builds a Lightning ``Trainer``, or, importing TensorFlow, calls
``fit`` or ``apply_gradients``; a model file that only calls ``backward()`` in a custom autograd
function does not count, and neither do benchmark and profiling scripts (``bench*.py``,
``profil*.py``), where speed is the point. Any call that passes a ``deterministic=`` keyword, a
call to a helper whose name says it sets determinism (``set_deterministic_pytorch(args)``), or
an assignment of ``cudnn.deterministic`` from a setting, is taken as a decision and not flagged.
A script that turns on TF32 matmuls (``allow_tf32 = True``, ``set_float32_matmul_precision``)
has chosen speed over exact reruns on purpose, and is not flagged either. A script that does
not seed at all is left to other rules, and so are test files.

Why is this bad?
----------------
Seeding fixes the initial weights and the data order, but on a GPU several common operations
(scatter-add, index-add, some convolution and pooling backward passes, cuBLAS reductions) add up
floating point numbers in an order that changes between runs. Two runs of the same commit with
the same seed then end with different weights and different metrics, so a change cannot be told
apart from noise and a reported number cannot be reproduced. The seed gives a false sense that
it can.

Determinism costs speed, so a common choice is to switch it on for development and debugging
runs and off for large production trainings. Make that a visible setting rather than an
omission.

Example
-------
.. code-block:: python

    torch.manual_seed(cfg.seed)
    torch.backends.cudnn.benchmark = True
    for x, y in loader:
        ...
        loss.backward()

Use instead
-----------
.. code-block:: python

    torch.manual_seed(cfg.seed)
    torch.use_deterministic_algorithms(cfg.deterministic)
    torch.backends.cudnn.benchmark = not cfg.deterministic

    # Lightning
    seed_everything(cfg.seed, workers=True)
    trainer = Trainer(deterministic=True)

    # TensorFlow
    tf.keras.utils.set_random_seed(cfg.seed)
    tf.config.experimental.enable_op_determinism()

References
----------
- Zhang et al., "Code Smells for Machine Learning Applications": deterministic algorithm option
  not used
- dslinter ``deterministic-pytorch`` (W5551)
- PyTorch notes "Reproducibility" (``torch.use_deterministic_algorithms``, cuDNN benchmark);
  Lightning ``Trainer(deterministic=...)``; TensorFlow ``enable_op_determinism``
"""

from __future__ import annotations

from dataclasses import dataclass

import libcst as cst

from rules import Context, Example, Rule
from rules.ml.torch import optimizer_stepped
from rules.names import dotted, keyword, method_name

RULE = Rule(
    code="DEBT1006",
    name="nondeterministic-training",
    principle="experimentation-paths",
    severity="info",
    message="{fix}, or `{seed}` alone does not make this training reproducible.",
    default_enabled=False,
    disabled_because="0 of 1 finding right on replayed commits; reproducibility is often traded for speed on purpose",
    valid=(
        # Near miss: the script trades exactness for speed on purpose (TF32 matmuls), so the
        # seed is there to vary sampling per worker, not to promise identical runs.
        """
        import torch

        torch.manual_seed(1337 + seed_offset)
        torch.backends.cuda.matmul.allow_tf32 = True
        for it in range(max_iters):
            loss = model(X, Y)
            loss.backward()
            optimizer.step()
            optimizer.zero_grad(set_to_none=True)
        """,
        """
        import torch

        torch.manual_seed(0)
        torch.use_deterministic_algorithms(True)
        for x, y in loader:
            optimizer.zero_grad()
            loss_fn(model(x), y).backward()
            optimizer.step()
        """,
        # Near miss: no seeding at all (the unseeded-randomness rules' business).
        """
        import torch

        torch.backends.cudnn.benchmark = True
        for x, y in loader:
            optimizer.zero_grad()
            loss_fn(model(x), y).backward()
            optimizer.step()
        """,
        # Near miss: seeded and deterministic through Lightning's Trainer, set from config.
        """
        import lightning as L

        L.seed_everything(cfg.seed, workers=True)
        trainer = L.Trainer(max_epochs=10, deterministic=cfg.deterministic)
        trainer.fit(model, datamodule=dm)
        """,
        # Near miss: seeds, but it only samples from a trained model.
        """
        import torch

        torch.manual_seed(1337)
        model.eval()
        with torch.no_grad():
            y = model.generate(x, max_new_tokens=500)
        """,
        # Near miss: cudnn.deterministic assigned from a setting is a decision.
        """
        import torch
        import torch.backends.cudnn as cudnn

        def main(args):
            torch.manual_seed(args.seed)
            cudnn.deterministic = args.deterministic
            for x, y in loader:
                optimizer.zero_grad()
                criterion(model(x), y).backward()
                optimizer.step()
        """,
        # Near miss: determinism is delegated to a helper that says so.
        """
        import torch
        from espnet.utils.deterministic_utils import set_deterministic_pytorch

        set_deterministic_pytorch(args)
        torch.cuda.manual_seed(args.seed)
        for batch in loader:
            model(batch).backward()
            optimizer.step()
            optimizer.zero_grad()
        """,
        # Near miss: a model file that reseeds to replay dropout in a custom backward pass.
        """
        import torch

        class ReversibleFunction(torch.autograd.Function):
            @staticmethod
            def backward(ctx, grad):
                torch.manual_seed(ctx.seed)
                output = ctx.layer(ctx.saved)
                output.backward(grad)
                return ctx.saved.grad
        """,
    ),
    invalid=(
        Example(
            """
            import torch

            torch.manual_seed(1337)
            for it in range(max_iters):
                loss = model(X, Y)
                loss.backward()
                optimizer.step()
                optimizer.zero_grad(set_to_none=True)
            """,
            line=3,
        ),
        Example(
            """
            import torch

            def main(args):
                torch.manual_seed(args.seed)
                torch.cuda.manual_seed_all(args.seed)
                torch.backends.cudnn.deterministic = True
                torch.backends.cudnn.benchmark = True
                train(model, loader)

            def train(model, loader):
                for x, y in loader:
                    optimizer.zero_grad()
                    criterion(model(x), y).backward()
                    optimizer.step()
            """,
            line=4,
        ),
        Example(
            """
            from pytorch_lightning import Trainer, seed_everything

            seed_everything(42)
            trainer = Trainer(max_epochs=3, accelerator="gpu")
            trainer.fit(model, train_loader, val_loader)
            """,
            line=3,
        ),
        Example(
            """
            import tensorflow as tf

            tf.random.set_seed(7)
            model.compile(optimizer="adam", loss="mse")
            model.fit(x_train, y_train, epochs=5)
            """,
            line=3,
        ),
    ),
)

_TORCH_SEEDS = frozenset(
    {
        "torch.manual_seed", "torch.cuda.manual_seed", "torch.cuda.manual_seed_all",
        "torch.random.manual_seed", "pytorch_lightning.seed_everything",
        "pytorch_lightning.utilities.seed.seed_everything", "lightning.seed_everything",
        "lightning.pytorch.seed_everything", "lightning.fabric.seed_everything",
        "lightning_fabric.utilities.seed.seed_everything",
        "lightning.fabric.utilities.seed.seed_everything",
        "transformers.set_seed", "transformers.trainer_utils.set_seed", "accelerate.utils.set_seed",
    }
)  # fmt: skip
_TF_SEEDS = frozenset(
    {"tensorflow.random.set_seed", "tensorflow.keras.utils.set_random_seed",
     "keras.utils.set_random_seed", "tensorflow.compat.v1.set_random_seed"}
)  # fmt: skip
_TRAINERS = frozenset(
    {"pytorch_lightning.Trainer", "lightning.Trainer", "lightning.pytorch.Trainer"}
)
_DETERMINISTIC_CALLS = frozenset(
    {"torch.use_deterministic_algorithms", "tensorflow.config.experimental.enable_op_determinism",
     "transformers.enable_full_determinism", "transformers.trainer_utils.enable_full_determinism"}
)  # fmt: skip
_TORCH_ROOTS = ("torch", "lightning", "pytorch_lightning", "lightning_fabric")
_CUDNN = frozenset({"torch.backends.cudnn", "cudnn"})


@dataclass
class State:
    """The file's first seeding call, and what it does that makes runs (non)deterministic."""

    # The call, its ancestors (it is reported after the walk) and whether it seeds TensorFlow.
    seed: tuple[cst.Call, list[cst.CSTNode], bool] | None = None
    training: bool = False
    deterministic: bool = False
    benchmark: bool = False
    speed_over_exactness: bool = False
    lightning: bool = False


def visit_Call(node: cst.Call, ctx: Context[State]) -> None:
    if keyword(node, "deterministic") is not None:
        ctx.state.deterministic = True
    method = method_name(node)
    if method == "step":
        if optimizer_stepped(node) is not None:
            ctx.state.training = True
        return
    if method in ("apply_gradients", "fit"):
        if _imports(ctx, ("tensorflow", "keras")):
            ctx.state.training = True
        return
    name = ctx.call_name(node)
    if name is None:
        return
    if name.endswith("set_float32_matmul_precision"):
        ctx.state.speed_over_exactness = True
    if "determinis" in name.rsplit(".", 1)[-1].lower():
        ctx.state.deterministic = True  # set_deterministic_pytorch(args), make_deterministic(), ...
    if name in _TORCH_SEEDS or name in _TF_SEEDS:
        if ctx.state.seed is None:
            ctx.state.seed = (node, list(ctx.ancestors), name in _TF_SEEDS)
    elif name in _DETERMINISTIC_CALLS:
        ctx.state.deterministic = True
    elif name in _TRAINERS:
        ctx.state.training = True
        ctx.state.lightning = True


def _imports(ctx: Context, roots: tuple[str, ...]) -> bool:
    return any(t.split(".", 1)[0] in roots for t in ctx.aliases.values())


def visit_Assign(node: cst.Assign, ctx: Context[State]) -> None:
    for target in node.targets:
        text = ctx.qualified_name(target.target) or dotted(target.target) or ""
        owner, _, attribute = text.rpartition(".")
        if attribute == "allow_tf32" and _is_true(node.value):
            ctx.state.speed_over_exactness = True  # TF32 matmuls: exact reruns are not the goal
            continue
        if owner not in _CUDNN and not owner.endswith("backends.cudnn"):
            continue
        if attribute == "deterministic" and not _is_false(node.value):
            ctx.state.deterministic = True
        elif attribute == "benchmark" and _is_true(node.value):
            ctx.state.benchmark = True


def _is_true(node: cst.BaseExpression) -> bool:
    return isinstance(node, cst.Name) and node.value == "True"


def _is_false(node: cst.BaseExpression) -> bool:
    return isinstance(node, cst.Name) and node.value == "False"


def leave_Module(node: cst.Module, ctx: Context[State]) -> None:
    state = ctx.state
    if ctx.is_test or state.seed is None or not state.training:
        return
    if ctx.path.rsplit("/", 1)[-1].startswith(("bench", "profil")):
        return  # measures speed, where determinism is not wanted
    call, ancestors, tensorflow = state.seed
    if not _imports(ctx, ("tensorflow", "keras") if tensorflow else _TORCH_ROOTS):
        return  # e.g. transformers.set_seed in a JAX script
    benchmark = state.benchmark
    if state.deterministic and not benchmark:
        return
    if state.speed_over_exactness and not benchmark:
        return
    if benchmark:
        fix = "Set `torch.backends.cudnn.benchmark = False`"
    elif tensorflow:
        fix = "Call `tf.config.experimental.enable_op_determinism()`"
    elif state.lightning:
        fix = "Pass `deterministic=True` to `Trainer`"
    else:
        fix = "Call `torch.use_deterministic_algorithms(True)`"
    seed = ctx.code(call.func).strip() + "(...)"
    ctx.report_from(call, ancestors, fix=fix, seed=seed)
