"""
What it does
------------
Flags a call to a module's ``forward`` method, such as ``model.forward(x)`` or
``self.encoder.forward(x)``, in a file that imports PyTorch.

Not flagged: ``forward()`` without arguments (OpenCV's ``cv2.dnn`` networks), objects built by
another imported library in the file (``net = cv2.dnn.readNet(...)``), ``super().forward(x)``
and ``Base.forward(self, x)`` in a subclass (they extend the parent's computation from inside
the module's own ``forward``), ``self.forward(...)`` (a module calling its own computation from
another of its methods, as Lightning's ``training_step`` often does), ``forward`` through an
RRef's proxy (``rref.rpc_async().forward(x)``) and in files using ``RemoteModule`` (both are
PyTorch RPC's own way to run a module elsewhere), files that do not import ``torch``, and test
files. When the call is the only call to ``forward`` on a single-line
statement, the finding suggests the same line calling the module itself.

Why is this bad?
----------------
Calling a module, ``model(x)``, runs ``nn.Module.__call__``, which runs the forward pre-hooks, then
``forward``, then the forward and backward hooks. ``model.forward(x)`` returns the same tensor
but silently skips all of them. Those hooks are not only for debugging: fully sharded data
parallel (``fully_shard``), pruning, weight and spectral normalisation, eager-mode quantisation
observers and many profiling and monitoring tools are built on them. Code that works today
breaks, without an error, the day one of those is switched on.

Example
-------
.. code-block:: python

    features = self.backbone.forward(images)
    logits = model.forward(features)

Use instead
-----------
.. code-block:: python

    features = self.backbone(images)
    logits = model(features)

References
----------
- Zhang et al., "Code Smells for Machine Learning Applications": PyTorch call method misused
- dslinter ``forward-pytorch``; flake8-no-module-forward-call ``NMF001``
- PyTorch documentation of ``torch.nn.Module.forward`` (call the module instance instead)
"""

from __future__ import annotations

from dataclasses import dataclass, field

import libcst as cst

from rules import Context, Example, Rule
from rules.names import dotted, method_name

RULE = Rule(
    code="DEBT308",
    name="forward-called-directly",
    principle="cutting-corners",
    severity="warning",
    # Off by default since the blind judgement of held-out repositories (benchmarks/precision.md,
    # issue 11): a rule must be right at least 80% of the time on code it was not tuned on.
    default_enabled=False,
    disabled_because="1 of 2 findings judged right on held-out repositories (issue 11), below 80%",
    message=(
        "Call the module itself, `{module}(...)`, instead of `{module}.forward(...)`, "
        "which skips its hooks."
    ),
    valid=(
        """
        import torch.nn as nn

        class Classifier(nn.Module):
            def forward(self, x):
                return self.head(self.backbone(x))

        logits = model(images)
        """,
        # Near misses: a subclass extending its parent's forward, and a module's own forward.
        """
        import torch
        from torch import nn

        class Scaled(nn.Linear):
            def forward(self, x):
                return super().forward(x) * self.scale

        class Legacy(nn.Conv2d):
            def forward(self, x):
                return nn.Conv2d.forward(self, x).relu()

        class LitModel(LightningModule):
            def training_step(self, batch, batch_idx):
                return self.forward(batch["x"]).mean()
        """,
        # Near miss: an OpenCV network in a PyTorch file.
        """
        import cv2
        import torch

        net = cv2.dnn.readNetFromONNX("yolov5s.onnx")
        net.setInput(blob)
        y = net.forward()
        boxes = net.forward(output_names)
        """,
        # Near miss: no PyTorch in this file, `forward` is some other library's method.
        """
        from kafka_tools import Relay

        relay = Relay(topic)
        relay.forward(message)
        """,
        # Near misses: PyTorch RPC runs a module where it lives through `forward` by name.
        """
        import torch
        from torch.distributed.nn import RemoteModule

        class HybridModel(torch.nn.Module):
            def forward(self, indices, offsets):
                return self.fc(self.remote_emb_module.forward(indices, offsets))
        """,
        """
        import torch
        from torch.distributed.rpc import RRef

        class Pipeline(torch.nn.Module):
            def forward(self, x):
                y_rref = self.p1_rref.remote().forward(RRef(x))
                return self.p2_rref.rpc_async().forward(y_rref)
        """,
    ),
    invalid=(
        Example(
            """
            import torch

            model = torch.hub.load("pytorch/vision", "resnet18")
            with torch.no_grad():
                logits = model.forward(images)
            """,
            line=5,
            replacement="    logits = model(images)",
        ),
        Example(
            """
            import torch.nn as nn

            class Captioner(nn.Module):
                def forward(self, images, tokens):
                    features = self.encoder.forward(images)  # (B, D)
                    return self.decoder(features, tokens)
            """,
            line=5,
            replacement="        features = self.encoder(images)  # (B, D)",
        ),
        Example(
            """
            import torch

            out = net.module.forward(
                batch,
                return_attention=True,
            )
            """,
            line=3,
        ),
    ),
)

_TORCH_ROOTS = frozenset({"torch", "pytorch_lightning", "lightning", "torchvision", "timm"})


@dataclass
class State:
    """Names bound to other libraries' objects, and what the file imports (once asked)."""

    # Decided when a ``.forward(...)`` call first asks, from the imports seen by then.
    torch: bool | None = None
    remote: bool | None = None
    foreign: set[str] = field(default_factory=set)


def _imports_torch(ctx: Context[State]) -> bool:
    if ctx.state.torch is None:
        ctx.state.torch = any(
            target.split(".", 1)[0] in _TORCH_ROOTS for target in ctx.aliases.values()
        )
    return ctx.state.torch


# RRef methods that return a proxy running the owner's methods remotely: the proxy cannot be
# called, so ``forward`` is named.
_RREF_PROXIES = frozenset({"remote", "rpc_async", "rpc_sync"})
_REMOTE_MODULE = frozenset(
    {"torch.distributed.nn.RemoteModule", "torch.distributed.nn.api.remote_module.RemoteModule"}
)


def _uses_remote_modules(ctx: Context[State]) -> bool:
    """A file working with ``RemoteModule``s, whose documented call is ``.forward(...)``."""
    if ctx.state.remote is None:
        ctx.state.remote = any(target in _REMOTE_MODULE for target in ctx.aliases.values())
    return ctx.state.remote


def _is_class_reference(node: cst.BaseExpression) -> bool:
    """``nn.Conv2d`` or ``Base`` in ``Base.forward(self, x)``: a class, named in CapWords."""
    text = dotted(node)
    return text is not None and text.rsplit(".", 1)[-1][:1].isupper()


def visit_Assign(node: cst.Assign, ctx: Context[State]) -> None:
    """Remember names bound to objects of other libraries (``net = cv2.dnn.readNet(...)``)."""
    if not isinstance(node.value, cst.Call):
        return
    root = (ctx.call_name(node.value) or "").split(".", 1)[0]
    if root in ctx.aliases and root not in _TORCH_ROOTS:
        for target in node.targets:
            text = dotted(target.target)
            if text is not None:
                ctx.state.foreign.add(text)


def visit_Call(node: cst.Call, ctx: Context[State]) -> None:
    if method_name(node) != "forward" or ctx.is_test or not _imports_torch(ctx):
        return
    if not node.args:
        return  # a module's forward takes its input; OpenCV's ``net.forward()`` does not
    receiver = node.func.value
    if dotted(receiver) in ctx.state.foreign or _uses_remote_modules(ctx):
        return
    if isinstance(receiver, cst.Call) and method_name(receiver) in _RREF_PROXIES:
        return  # ``rref.rpc_async().forward(x)`` runs the module's method where it lives
    if isinstance(receiver, cst.Call) and ctx.qualified_name(receiver.func) == "super":
        return
    if isinstance(receiver, cst.Name) and receiver.value == "self":
        return
    if _is_class_reference(receiver):
        return
    module = _label(receiver, ctx)
    ctx.report(node, module=module, replacement=_replacement(node, ctx))


def _label(receiver: cst.BaseExpression, ctx: Context) -> str:
    """``model``, ``self.encoder``, or ``ROIAlign(...)`` for a module built in place."""
    text = dotted(receiver)
    if text is not None:
        return text
    if isinstance(receiver, cst.Call) and dotted(receiver.func) is not None:
        return f"{dotted(receiver.func)}(...)"
    code = " ".join(ctx.code(receiver).split())
    return code if len(code) <= 40 else "module"


def _replacement(call: cst.Call, ctx: Context) -> str | None:
    """The statement's single line with ``x.forward(...)`` turned into ``x(...)``."""
    line = next(
        (n for n in reversed(ctx.ancestors) if isinstance(n, cst.SimpleStatementLine)), None
    )
    if line is None or not isinstance(call.func, cst.Attribute):
        return None
    bare = line.with_changes(leading_lines=())
    if "\n" in ctx.code(bare).rstrip("\n") or ctx.code(bare).count(".forward") != 1:
        return None
    fixed = bare.deep_replace(call, call.with_changes(func=call.func.value))
    text = ctx.module.code_for_node(fixed).rstrip("\r\n")
    return ctx.indentation() + text
