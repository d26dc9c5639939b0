"""
What it does
------------
Flags a PyTorch training loop (``for`` or ``while``) that calls ``backward()`` and then steps an
optimizer, but never clears the gradients inside that loop: no ``optimizer.zero_grad()``, no
``model.zero_grad()``, no ``param.grad = None`` and no ``param.grad.zero_()``.

An optimizer is recognised by its construction in the file (``torch.optim.AdamW(...)`` however
it was imported) or by its name (``optimizer``, ``opt``, ``optim``, ``optimizer_G``,
``d_optimizer``, ...); ``scaler.step(optimizer)`` of automatic mixed precision counts as a step,
``accelerator.backward(loss)`` and Lightning's ``self.manual_backward(loss)`` count as a
backward pass; ``torch.distributed.autograd.backward``, whose gradients live in a context made
afresh for each iteration, does not. Only the innermost loop that both back-propagates and steps is judged, so
gradient accumulation over an inner loop of micro-batches is not flagged, and neither is the
usual accumulation written as ``if (i + 1) % k == 0:`` with the step and ``zero_grad()`` inside
that ``if``. Calls inside functions defined in the loop (an L-BFGS ``closure``) do not count,
but a call in the loop to a function of the same file that clears the gradients
(``reset_grad()``, ``self._zero_grads()``) does.

Why is this bad?
----------------
``backward()`` adds the new gradients to whatever is stored in ``.grad``. If nothing resets them,
every step applies the sum of all the gradients since the loop started: the effective learning
rate grows with each iteration, training diverges or oscillates, and the loss curve gives no hint
of why. It is also the kind of bug that survives a quick smoke test, because the first step is
correct.

Example
-------
.. code-block:: python

    optimizer = torch.optim.AdamW(model.parameters(), lr=3e-4)
    optimizer.zero_grad()
    for images, labels in loader:
        loss = criterion(model(images), labels)
        loss.backward()
        optimizer.step()

Use instead
-----------
Reset the gradients once per optimizer step, before the next ``backward()``:

.. code-block:: python

    for images, labels in loader:
        optimizer.zero_grad(set_to_none=True)
        loss = criterion(model(images), labels)
        loss.backward()
        optimizer.step()

References
----------
- Zhang et al., "Code Smells for Machine Learning Applications": gradients not cleared before
  backward propagation
- dslinter ``gradient-clear-pytorch`` (W5517)
- PyTorch documentation of ``torch.optim.Optimizer.zero_grad`` and the "Optimizing Model
  Parameters" tutorial
"""

from __future__ import annotations

from dataclasses import dataclass, field

import libcst as cst

from rules import Context, Example, Rule
from rules.ml.torch import BACKWARD, optimizer_stepped
from rules.names import dotted, method_name

RULE = Rule(
    code="DEBT306",
    name="gradients-not-cleared",
    principle="cutting-corners",
    severity="error",
    message=(
        "Call `{optimizer}.zero_grad()` in this loop, or each `backward()` adds to the gradients "
        "of all previous steps."
    ),
    valid=(
        """
        import torch

        optimizer = torch.optim.SGD(model.parameters(), lr=0.1)
        for x, y in loader:
            optimizer.zero_grad()
            loss = loss_fn(model(x), y)
            loss.backward()
            optimizer.step()
        """,
        # Near miss: gradient accumulation on purpose, zero_grad next to the delayed step.
        """
        import torch

        for i, (x, y) in enumerate(loader):
            loss = loss_fn(model(x), y) / accumulate
            scaler.scale(loss).backward()
            if (i + 1) % accumulate == 0:
                scaler.step(optimizer)
                scaler.update()
                optimizer.zero_grad(set_to_none=True)
        """,
        # Near miss: micro-batches accumulated in an inner loop, the outer loop clears.
        """
        for step in range(max_steps):
            for micro in range(grad_accum_steps):
                loss = model(*get_batch("train"))[1]
                loss.backward()
            optimizer.step()
            for p in model.parameters():
                p.grad = None
        """,
        # Near miss: L-BFGS clears the gradients inside its closure.
        """
        for epoch in range(epochs):
            def closure():
                optimizer.zero_grad()
                loss = loss_fn(model(x), y)
                loss.backward()
                return loss
            optimizer.step(closure)
        """,
        # Near miss: the gradients are cleared by a helper of the same file.
        """
        import torch

        for images, _ in data_loader:
            d_loss = criterion(D(images), real) + criterion(D(G(z)), fake)
            reset_grad()
            d_loss.backward()
            d_optimizer.step()

        def reset_grad():
            d_optimizer.zero_grad()
            g_optimizer.zero_grad()
        """,
        # Near miss: distributed autograd keeps each iteration's gradients in its own context.
        """
        import torch.distributed.autograd as dist_autograd
        for indices, offsets, target in batches:
            with dist_autograd.context() as context_id:
                loss = criterion(model(indices, offsets), target)
                dist_autograd.backward(context_id, [loss])
                opt.step(context_id)
        """,
        # Near miss: a scheduler or an environment steps, not an optimizer.
        """
        for batch in loader:
            loss = model(batch).mean()
            loss.backward()
            scheduler.step()
            obs = env.step(action)
        """,
    ),
    invalid=(
        Example(
            """
            import torch

            model = Net()
            optimizer = torch.optim.AdamW(model.parameters(), lr=3e-4)
            for epoch in range(10):
                for images, labels in train_loader:
                    loss = criterion(model(images), labels)
                    loss.backward()
                    optimizer.step()
            """,
            line=8,
        ),
        Example(
            """
            from torch import optim

            sgd = optim.SGD(net.parameters(), lr=0.01)
            for epoch in range(epochs):
                sgd.zero_grad()  # once per epoch only
                for batch in loader:
                    out = net(batch.x)
                    F.mse_loss(out, batch.y).backward()
                    sgd.step()
            """,
            line=8,
        ),
        Example(
            """
            while step < max_steps:
                loss = compute_loss(model, next(batches))
                accelerator.backward(loss)
                self.optimizer.step()
                step += 1
            """,
            line=3,
        ),
    ),
)

_INTERESTING = frozenset({"backward", "manual_backward", "step", "zero_grad", "zero_"})


@dataclass
class State:
    """Optimizers built, what each loop does, and the functions that clear gradients."""

    optimizers: set[str] = field(default_factory=set)
    # id of a loop still being walked -> what it does (see _info)
    loops: dict[int, dict] = field(default_factory=dict)
    # How many loops enclose the node.
    depth: int = 0
    # Names of the functions that clear gradients, for loops that call them as helpers.
    clearing: set[str] = field(default_factory=set)
    # Loops that back-propagate and step without clearing, judged at the end of the file.
    suspects: list[dict] = field(default_factory=list)


def visit_Assign(node: cst.Assign, ctx: Context[State]) -> None:
    value = node.value
    if not isinstance(value, cst.Call):
        return
    name = ctx.call_name(value) or ""
    if name.startswith("torch.optim.") and ".lr_scheduler" not in name:
        for target in node.targets:
            text = dotted(target.target)
            if text is not None:
                ctx.state.optimizers.add(text)


def _info(loop: cst.CSTNode, ctx: Context[State]) -> dict:
    loops = ctx.state.loops
    info = loops.get(id(loop))
    if info is None:
        info = loops[id(loop)] = {
            "backward": None,
            "step": None,
            "clear": False,
            "inner": False,
            "calls": set(),
        }
    return info


def visit_Call(node: cst.Call, ctx: Context[State]) -> None:
    method = method_name(node)
    if method not in _INTERESTING:
        if ctx.state.depth and _helper_name(node) is not None:
            for loop in ctx.enclosing_loops():
                _info(loop, ctx)["calls"].add(_helper_name(node))
        return
    if method == "zero_grad" or (method == "zero_" and _is_grad(node.func.value)):
        _cleared(ctx)
        return
    loops = ctx.enclosing_loops()
    if method in BACKWARD:
        if ctx.call_name(node) == "torch.distributed.autograd.backward":
            return  # gradients live in the call's own autograd context, new each iteration
        for loop in loops:
            info = _info(loop, ctx)
            if info["backward"] is None:
                info["backward"] = node
    elif method == "step":
        optimizer = optimizer_stepped(node, ctx.state.optimizers)
        if optimizer is not None:
            for loop in loops:
                info = _info(loop, ctx)
                if info["step"] is None:
                    info["step"] = optimizer


def _helper_name(call: cst.Call) -> str | None:
    """``reset_grad`` for ``reset_grad()`` or ``self.reset_grad()``: a function of this file."""
    func = call.func
    if isinstance(func, cst.Name):
        return func.value
    if isinstance(func, cst.Attribute) and isinstance(func.value, cst.Name):
        return func.attr.value if func.value.value == "self" else None
    return None


def _cleared(ctx: Context[State]) -> None:
    """Gradients are reset here: mark the loops around, and the function as a clearing helper."""
    for loop in ctx.enclosing_loops():
        _info(loop, ctx)["clear"] = True
    function = ctx.enclosing(cst.FunctionDef)
    if function is not None:
        ctx.state.clearing.add(function.name.value)


def _is_grad(node: cst.BaseExpression) -> bool:
    """``p.grad`` or ``p.grad.data`` (for ``p.grad.zero_()``)."""
    text = dotted(node) or ""
    return text.endswith(".grad") or text.endswith(".grad.data")


def visit_AssignTarget(node: cst.AssignTarget, ctx: Context) -> None:
    target = node.target
    if isinstance(target, cst.Attribute) and target.attr.value == "grad":
        _cleared(ctx)


def visit_For(node: cst.For, ctx: Context[State]) -> None:
    ctx.state.depth += 1


def visit_While(node: cst.While, ctx: Context[State]) -> None:
    ctx.state.depth += 1


def _leave_loop(node: cst.For | cst.While, ctx: Context[State]) -> None:
    ctx.state.depth -= 1
    info = ctx.state.loops.pop(id(node), None)
    if info is None or info["backward"] is None or info["step"] is None:
        return
    outer = ctx.enclosing_loops()
    if outer:
        _info(outer[0], ctx)["inner"] = True
    if info["inner"] or info["clear"]:
        return  # an inner loop back-propagates and steps: it is the one judged
    info["ancestors"] = list(ctx.ancestors)
    ctx.state.suspects.append(info)


def leave_For(node: cst.For, ctx: Context) -> None:
    _leave_loop(node, ctx)


def leave_While(node: cst.While, ctx: Context) -> None:
    _leave_loop(node, ctx)


def leave_Module(node: cst.Module, ctx: Context[State]) -> None:
    """Judge the loops once every helper of the file is known (``reset_grad()`` defined later)."""
    clearing = ctx.state.clearing
    for info in ctx.state.suspects:
        if info["calls"] & clearing:
            continue
        ctx.report_from(
            info["backward"], info["ancestors"], optimizer=ctx.code(info["step"]).strip()
        )
