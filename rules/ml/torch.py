"""PyTorch training loops: optimizers, their steps, and backward passes."""

from __future__ import annotations

import re
from collections.abc import Collection

import libcst as cst

from rules.names import dotted, method_name

# The last name of an optimizer: optimizer, opt, optim, optimizer_G, d_optimizer, optD, opts[0].
_OPTIMIZER_NAME = re.compile(
    r"optimi[sz]er|(^|_)(opt|optim)s?(_|\d|$)|^opt[A-Z0-9]|^optim[A-Z]", re.IGNORECASE
)
_OPTIMIZER_NAME_CASED = re.compile(r"^opt[A-Z0-9]|^optim[A-Z]")
BACKWARD = frozenset({"backward", "manual_backward"})


def _last_name(node: cst.BaseExpression) -> str | None:
    while isinstance(node, cst.Subscript | cst.Call):
        node = node.value if isinstance(node, cst.Subscript) else node.func
    text = dotted(node)
    return None if text is None else text.rsplit(".", 1)[-1]


def looks_like_optimizer(node: cst.BaseExpression, known: Collection[str] = ()) -> bool:
    """Whether an expression is an optimizer: one of ``known`` (names the file bound to an
    optimizer it built), or named like one."""
    text = dotted(node)
    if text is not None and text in known:
        return True
    name = _last_name(node)
    if name is None or "scheduler" in name.lower():
        return False
    return bool(_OPTIMIZER_NAME.search(name) or _OPTIMIZER_NAME_CASED.search(name))


def optimizer_stepped(call: cst.Call, known: Collection[str] = ()) -> cst.BaseExpression | None:
    """The optimizer a ``.step(...)`` call steps, or None when it is not an optimizer step."""
    if not isinstance(call.func, cst.Attribute):
        return None
    receiver = call.func.value
    if looks_like_optimizer(receiver, known):
        return receiver
    name = (_last_name(receiver) or "").lower()
    if "scaler" in name and call.args and looks_like_optimizer(call.args[0].value, known):
        return call.args[0].value  # torch.cuda.amp.GradScaler.step(optimizer)
    return None


def is_backward(call: cst.Call) -> bool:
    return method_name(call) in BACKWARD
