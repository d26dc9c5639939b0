"""
What it does
------------
Flags two ways of running a PyTorch model in the wrong mode:

1. **Inference without** ``eval()``: a model is called under ``torch.no_grad()`` or
   ``torch.inference_mode()`` (a ``with`` block or a decorator), and nothing before that in the
   same scope calls ``model.eval()`` (or ``model.train(False)``). Only models the file itself
   builds or loads are judged: the name is bound in that scope (at module level for a global; in
   any method of a plain class for ``self.model``) to an instance of an ``nn.Module`` subclass
   defined in the file, a ``torch.nn`` layer whose behaviour depends on the mode (dropout,
   normalisation, recurrent and transformer layers, containers), a ``torchvision.models`` or
   ``timm.create_model`` network, or the result of ``torch.load``, ``torch.jit.load`` or
   ``torch.hub.load``; or it receives ``load_state_dict(...)`` in that scope.
2. **Eval without going back to train**: the innermost loop that trains (calls ``backward()`` or
   steps an optimizer) also calls ``model.eval()``, but never ``model.train()``, for a model that
   is trained in the file (its ``train()``, ``zero_grad()`` or its parameters given to an
   optimizer appear somewhere in the file). From the first evaluation on, the rest of training
   runs in evaluation mode.

Deliberately not flagged: a model that is a parameter of the function (``def evaluate(model,
loader)``): whether the caller already switched it to evaluation mode is not visible here, so
the caller is where the comment belongs. Also not flagged: calls under ``no_grad`` in the loop
that runs the training steps (a target network, samples drawn for a progress image every few
hundred steps; an evaluation after the inner batch loop of an epoch loop is flagged), methods
of ``nn.Module`` and ``LightningModule`` subclasses and of classes with an imported base class
(Lightning switches the mode around ``validation_step`` and ``predict_step``; inside ``forward``
the mode is the parent's), ``torch.nn`` layers that behave the same in both modes
(``nn.Linear``, losses), models from Hugging Face ``from_pretrained`` (returned in evaluation
mode), and test files. For the toggling case, a loop that itself switches another model to
``train()`` (a GAN critic trained while the generator is frozen) is taken as deliberate.

Why is this bad?
----------------
``torch.no_grad()`` only stops the recording of gradients; it does not change how layers behave.
A module in training mode still drops activations at random in ``Dropout`` and normalises each
batch with its own statistics in ``BatchNorm``, updating the running averages as it goes. So
predictions are noisy, depend on the batch they are in, and every validation pass quietly
shifts the normalisation statistics the model will use later. The opposite mistake, leaving the
model in evaluation mode after a validation step inside the training loop, silently trains the
rest of the run without dropout and with frozen normalisation statistics.

Example
-------
.. code-block:: python

    model = Net()
    model.load_state_dict(torch.load("net.pt", weights_only=True))
    with torch.no_grad():
        predictions = model(batch)

    for step, (x, y) in enumerate(loader):
        loss_fn(model(x), y).backward()
        optimizer.step()
        optimizer.zero_grad()
        if step % 500 == 0:
            model.eval()
            validate(model)

Use instead
-----------
.. code-block:: python

    model = Net()
    model.load_state_dict(torch.load("net.pt", weights_only=True))
    model.eval()
    with torch.inference_mode():
        predictions = model(batch)

    for step, (x, y) in enumerate(loader):
        model.train()
        ...
        if step % 500 == 0:
            model.eval()
            validate(model)

References
----------
- Zhang et al., "Code Smells for Machine Learning Applications": training / evaluation mode
  improper toggling
- dslinter ``mode-toggling-pytorch`` (W5514); Amazon CodeGuru / Q detector
  ``pytorch-miss-call-to-eval``
- PyTorch documentation of ``torch.nn.Module.eval`` and the note "Locally disabling gradient
  computation" (``no_grad`` versus evaluation mode)
"""

from __future__ import annotations

from dataclasses import dataclass, field

import libcst as cst

from rules import Context, Example, Rule
from rules.ml.torch import is_backward, optimizer_stepped
from rules.names import bound_names, dotted, method_name

RULE = Rule(
    code="DEBT307",
    name="eval-mode-not-set",
    principle="cutting-corners",
    severity="warning",
    message="Call `{call}` {when}, or dropout and batch norm run in the wrong mode.",
    valid=(
        """
        import torch

        model = Net()
        model.load_state_dict(torch.load(path, weights_only=True))
        model.eval()
        with torch.no_grad():
            predictions = model(batch)
        """,
        # Near miss: the model is a parameter; the caller decides its mode.
        """
        import torch

        @torch.no_grad()
        def evaluate(model, loader):
            return sum(metric(model(x), y) for x, y in loader)
        """,
        # Near miss: Lightning switches modes itself around validation_step.
        """
        import torch
        import lightning as L

        class LitClassifier(L.LightningModule):
            def __init__(self):
                super().__init__()
                self.net = torchvision.models.resnet18(num_classes=10)

            def validation_step(self, batch, batch_idx):
                with torch.no_grad():
                    logits = self.net(batch[0])
        """,
        # Near miss: eval for validation, train again at the top of every epoch.
        """
        import torch

        model = Net()
        optimizer = torch.optim.Adam(model.parameters())
        for epoch in range(epochs):
            model.train()
            for x, y in train_loader:
                optimizer.zero_grad()
                loss_fn(model(x), y).backward()
                optimizer.step()
            model.eval()
            with torch.no_grad():
                val_loss = sum(loss_fn(model(x), y) for x, y in val_loader)
        """,
        # Near miss: a frozen teacher is put in eval mode in the loop and never trained.
        """
        import torch

        teacher = torchvision.models.resnet50(weights="DEFAULT")
        for x, _ in loader:
            teacher.eval()
            with torch.no_grad():
                target = teacher(x)
            loss = distill(student(x), target)
            loss.backward()
            optimizer.step()
            optimizer.zero_grad()
        """,
        # Near miss: a global model switched to eval inside the evaluation function.
        """
        import torch

        @torch.no_grad()
        def estimate_loss():
            model.eval()
            out = model(X, Y)
            model.train()
            return out

        model = GPT(config)
        """,
    ),
    invalid=(
        Example(
            """
            import torch

            model = Net()
            model.load_state_dict(torch.load("net.pt", weights_only=True))
            with torch.no_grad():
                predictions = model(images)
            """,
            line=6,
        ),
        Example(
            """
            import torch
            import torch.nn as nn

            class Net(nn.Module):
                def forward(self, x):
                    return self.fc(self.drop(x))

            class Predictor:
                def __init__(self, path):
                    self.model = Net()
                    self.model.load_state_dict(torch.load(path))

                @torch.inference_mode()
                def predict(self, x):
                    return self.model(x).argmax(-1)
            """,
            line=15,
        ),
        Example(
            """
            import torch

            net = Net()
            optimizer = torch.optim.SGD(net.parameters(), lr=0.001, momentum=0.9)
            for epoch in range(2):
                net.train()
                for i, (inputs, labels) in enumerate(trainloader):
                    optimizer.zero_grad()
                    loss = criterion(net(inputs), labels)
                    loss.backward()
                    optimizer.step()
                    if i % 2000 == 1999:
                        net.eval()
                        validate(net)
            """,
            line=13,
        ),
    ),
)

_NO_GRAD = frozenset(
    {"torch.no_grad", "torch.inference_mode", "torch.autograd.no_grad",
     "torch.autograd.grad_mode.no_grad", "torch.autograd.grad_mode.inference_mode"}
)  # fmt: skip
_LOADERS = frozenset({"torch.load", "torch.jit.load", "torch.hub.load", "timm.create_model"})
# torch.nn classes whose output depends on the mode, or that usually hold such layers.
_MODE_DEPENDENT_LAYERS = (
    "Dropout", "BatchNorm", "InstanceNorm", "Transformer", "Sequential", "ModuleList",
    "ModuleDict", "LSTM", "GRU", "RNN", "MultiheadAttention",
)  # fmt: skip
_PLAIN_BASES = frozenset({"object", "ABC", "Generic", "Protocol"})
_LIGHTNING_HOOKS = ("validation_step", "test_step", "predict_step", "on_validation", "on_test")


@dataclass
class State:
    """Models built, switched to eval or train, and used under ``no_grad``; training loops."""

    # Counts what is recorded, so that a use and a switch to eval can be put in order.
    order: int = 0
    # How many ``no_grad`` blocks and functions enclose the node, and which nodes they are.
    no_grad: int = 0
    no_grad_nodes: set[int] = field(default_factory=set)
    # id of a function -> its parameter names
    params: dict[int, set[str]] = field(default_factory=dict)
    # class name -> the last names of its bases
    classes: dict[str, list[str]] = field(default_factory=dict)
    # scope key -> the root names bound in it
    bound: dict[int, set[str]] = field(default_factory=dict)
    # ("class", id of the class) or ("scope", scope key) -> (name, the callee that built it,
    # or "load_state_dict")
    built: dict[tuple[str, int], list[tuple[str, str]]] = field(default_factory=dict)
    # (name, "eval" or "train", order, scope key, id of the class or 0)
    modes: list[tuple[str, str, int, int, int]] = field(default_factory=list)
    trained: set[str] = field(default_factory=set)
    training_loops: set[int] = field(default_factory=set)
    # (call, name used, order, ancestors, ids of the loops around)
    uses: list[tuple[cst.Call, str, int, list[cst.CSTNode], list[int]]] = field(
        default_factory=list
    )
    # id of a loop still being walked -> what it does (see _loop)
    loops: dict[int, dict] = field(default_factory=dict)
    # (call, model, ancestors): an eval() in a training loop that never switches back to train
    toggles: list[tuple[cst.Call, str, list[cst.CSTNode]]] = field(default_factory=list)


# --- what the walk records -------------------------------------------------------------------


def _counter(ctx: Context[State]) -> int:
    ctx.state.order += 1
    return ctx.state.order


def _function(ctx: Context) -> cst.FunctionDef | None:
    return ctx.enclosing(cst.FunctionDef)


def _scope_key(ctx: Context) -> int:
    function = _function(ctx)
    return 0 if function is None else id(function)


def _class_of(ctx: Context) -> cst.ClassDef | None:
    return ctx.enclosing(cst.ClassDef)


def _is_no_grad(expr: cst.BaseExpression, ctx: Context) -> bool:
    if isinstance(expr, cst.Call):
        name = ctx.call_name(expr)
        if name == "torch.set_grad_enabled":
            return bool(expr.args) and _is_false(expr.args[0].value)
        expr = expr.func
    return ctx.qualified_name(expr) in _NO_GRAD


def _is_false(node: cst.BaseExpression) -> bool:
    return isinstance(node, cst.Name) and node.value == "False"


def visit_With(node: cst.With, ctx: Context[State]) -> None:
    if any(_is_no_grad(item.item, ctx) for item in node.items):
        ctx.state.no_grad += 1
        ctx.state.no_grad_nodes.add(id(node))


def leave_With(node: cst.With, ctx: Context[State]) -> None:
    if id(node) in ctx.state.no_grad_nodes:
        ctx.state.no_grad -= 1


def visit_FunctionDef(node: cst.FunctionDef, ctx: Context[State]) -> None:
    params = node.params
    names = {p.name.value for p in (*params.posonly_params, *params.params, *params.kwonly_params)}
    names |= {
        p.name.value for p in (params.star_arg, params.star_kwarg) if isinstance(p, cst.Param)
    }
    ctx.state.params[id(node)] = names
    if any(_is_no_grad(d.decorator, ctx) for d in node.decorators):
        ctx.state.no_grad += 1
        ctx.state.no_grad_nodes.add(id(node))


def leave_FunctionDef(node: cst.FunctionDef, ctx: Context[State]) -> None:
    if id(node) in ctx.state.no_grad_nodes:
        ctx.state.no_grad -= 1


def visit_ClassDef(node: cst.ClassDef, ctx: Context[State]) -> None:
    bases = [dotted(b.value) or "" for b in node.bases]
    ctx.state.classes[node.name.value] = [b.rsplit(".", 1)[-1] for b in bases]


def _chain(value: cst.BaseExpression) -> tuple[cst.Call | None, list[str]]:
    """``Net().to(device).eval()`` -> (the ``Net()`` call, ["eval", "to"])."""
    methods: list[str] = []
    while isinstance(value, cst.Call):
        if isinstance(value.func, cst.Attribute):
            methods.append(value.func.attr.value)
            if isinstance(value.func.value, cst.Call):
                value = value.func.value
                continue
        return value, methods
    return None, methods


def _record_binding(
    target: cst.BaseExpression, value: cst.BaseExpression | None, ctx: Context[State]
) -> None:
    name = dotted(target)
    if name is None:
        return
    state = ctx.state
    scope = _scope_key(ctx)
    state.bound.setdefault(scope, set()).add(name.split(".", 1)[0])
    if value is None:
        return
    call, methods = _chain(value)
    if call is None:
        return
    order = _counter(ctx)
    if "eval" in methods:
        _record_mode(name, "eval", order, ctx)
    callee = ctx.call_name(call) or ""
    if callee.endswith(".eval"):
        return  # `model = model.eval()`: recorded as a mode above
    key = _evidence_key(name, ctx)
    state.built.setdefault(key, []).append((name, callee))


def _evidence_key(name: str, ctx: Context) -> tuple[str, int]:
    if name.startswith("self."):
        owner = _class_of(ctx)
        return ("class", 0 if owner is None else id(owner))
    return ("scope", _scope_key(ctx))


def visit_Assign(node: cst.Assign, ctx: Context) -> None:
    for target in node.targets:
        _record_binding(target.target, node.value, ctx)


def visit_AnnAssign(node: cst.AnnAssign, ctx: Context) -> None:
    _record_binding(node.target, node.value, ctx)


def visit_For(node: cst.For, ctx: Context[State]) -> None:
    for name in bound_names(node.target):
        ctx.state.bound.setdefault(_scope_key(ctx), set()).add(name)


def _record_mode(name: str, mode: str, order: int, ctx: Context[State]) -> None:
    owner = _class_of(ctx)
    ctx.state.modes.append((name, mode, order, _scope_key(ctx), 0 if owner is None else id(owner)))


def _mode_of(call: cst.Call, method: str) -> str | None:
    if method == "eval":
        return "eval" if not call.args else None
    if method == "train":
        if not call.args:
            return "train"
        first = call.args[0]
        if first.keyword is None or first.keyword.value == "mode":
            return "eval" if _is_false(first.value) else "train"
    return None


def visit_Call(node: cst.Call, ctx: Context[State]) -> None:
    method = method_name(node)
    state = ctx.state
    if method is not None:
        receiver = dotted(node.func.value)
        mode = _mode_of(node, method) if method in ("eval", "train") else None
        if mode is not None and receiver is None:
            receiver = dotted(_base_receiver(node.func.value))  # self.model.to(device).eval()
        if receiver is not None and mode is not None:
            _record_mode(receiver, mode, _counter(ctx), ctx)
            for loop in ctx.enclosing_loops():
                _loop(loop, ctx)[mode].append((receiver, node))
            if mode == "train":
                state.trained.add(receiver)
            return
        if receiver is not None and method == "load_state_dict":
            state.built.setdefault(_evidence_key(receiver, ctx), []).append(
                (receiver, "load_state_dict")
            )
        elif receiver is not None and method == "zero_grad":
            state.trained.add(receiver)
        elif method in ("parameters", "named_parameters") and receiver is not None:
            if any(
                "optim" in (dotted(getattr(n, "func", None)) or "").lower() for n in _calls(ctx)
            ):
                state.trained.add(receiver)
        elif is_backward(node) or (method == "step" and optimizer_stepped(node) is not None):
            loops = ctx.enclosing_loops()
            for loop in loops:
                _loop(loop, ctx)["training"] = True
            if loops:  # the loop that runs one training step per iteration
                state.training_loops.add(id(loops[0]))
    if not state.no_grad:
        return
    used = dotted(node.func)
    if method in ("forward", "generate") and isinstance(node.func, cst.Attribute):
        used = dotted(node.func.value)
    if used is None or used == "self" or used.split(".", 1)[0] in ctx.aliases:
        return
    if used.rsplit(".", 1)[-1][:1].isupper():
        return
    state.uses.append(
        (node, used, _counter(ctx), list(ctx.ancestors), [id(x) for x in ctx.enclosing_loops()])
    )


def _base_receiver(expr: cst.BaseExpression) -> cst.BaseExpression:
    while isinstance(expr, cst.Call) and isinstance(expr.func, cst.Attribute):
        expr = expr.func.value
    return expr


def _calls(ctx: Context):
    for node in reversed(ctx.ancestors):
        if isinstance(node, cst.Call):
            yield node
        elif isinstance(node, cst.BaseStatement):
            return


# --- the train/eval toggling inside training loops --------------------------------------------


def _loop(loop: cst.CSTNode, ctx: Context[State]) -> dict:
    loops = ctx.state.loops
    info = loops.get(id(loop))
    if info is None:
        info = loops[id(loop)] = {"eval": [], "train": [], "training": False, "inner": False}
    return info


def _same(a: str, b: str) -> bool:
    return a == b or a.startswith(b + ".") or b.startswith(a + ".")


def _leave_loop(node: cst.For | cst.While, ctx: Context[State]) -> None:
    info = ctx.state.loops.pop(id(node), None)
    if info is None or not info["training"] or not info["eval"]:
        return
    outer = ctx.enclosing_loops()
    if outer:
        _loop(outer[0], ctx)["inner"] = True
    if info["inner"]:
        return
    if info["train"] and not any(
        _same(receiver, other) for receiver, _ in info["eval"] for other, _ in info["train"]
    ):
        return  # switches one model to train and another to eval: on purpose (GAN critics)
    for receiver, call in info["eval"]:
        if not any(_same(receiver, other) for other, _ in info["train"]):
            ctx.state.toggles.append((call, receiver, list(ctx.ancestors)))
            return


def leave_For(node: cst.For, ctx: Context) -> None:
    _leave_loop(node, ctx)


def leave_While(node: cst.While, ctx: Context) -> None:
    _leave_loop(node, ctx)


# --- decisions at the end of the file ----------------------------------------------------------


def _module_classes(ctx: Context[State]) -> set[str]:
    classes = ctx.state.classes
    found = {name for name, bases in classes.items() if any(b.endswith("Module") for b in bases)}
    changed = True
    while changed:  # subclasses of the file's own modules
        changed = False
        for name, bases in classes.items():
            if name not in found and any(b in found for b in bases):
                found.add(name)
                changed = True
    return found


def _is_model_source(callee: str, modules: set[str]) -> bool:
    if callee == "load_state_dict" or callee in _LOADERS:
        return True
    last = callee.rsplit(".", 1)[-1]
    if callee in modules:
        return not last.lower().endswith(("loss", "criterion"))
    if callee.startswith("torch.nn."):
        return any(kind in last for kind in _MODE_DEPENDENT_LAYERS)
    return callee.startswith("torchvision.models.")


def _plain_class(
    name: str, ctx: Context[State], modules: set[str], seen: frozenset[str] = frozenset()
) -> bool:
    """A class of this file whose bases are all plain (``object``, ``ABC``, other plain classes)."""
    classes = ctx.state.classes
    if name in modules or name in seen or name not in classes:
        return False
    return all(
        base in _PLAIN_BASES or _plain_class(base, ctx, modules, seen | {name})
        for base in classes[name]
    )


def _built(name: str, key: tuple[str, int], ctx: Context[State], modules: set[str]) -> bool:
    return any(
        name == bound and _is_model_source(callee, modules)
        for bound, callee in ctx.state.built.get(key, ())
    )


def _enclosing_functions(ancestors: list[cst.CSTNode]) -> list[cst.FunctionDef]:
    return [n for n in ancestors if isinstance(n, cst.FunctionDef)]


def _in_module_class(ancestors: list[cst.CSTNode], modules: set[str]) -> bool:
    return any(isinstance(n, cst.ClassDef) and n.name.value in modules for n in ancestors)


def _unevaluated_use(use, ctx: Context[State], modules: set[str]) -> bool:
    _, name, order, ancestors, loops = use
    if loops and ctx.state.training_loops & set(loops):
        return False
    if _in_module_class(ancestors, modules):
        return False
    functions = _enclosing_functions(ancestors)
    if any(f.name.value.startswith(_LIGHTNING_HOOKS) for f in functions):
        return False
    modes = [m for m in ctx.state.modes if m[1] == "eval" and _same(m[0], name)]
    root = name.split(".", 1)[0]
    if root == "self":
        owner = next((n for n in reversed(ancestors) if isinstance(n, cst.ClassDef)), None)
        if owner is None or not _plain_class(owner.name.value, ctx, modules):
            return False  # an imported base class may well be an nn.Module
        if not _built(name, ("class", id(owner)), ctx, modules):
            return False
        return not any(m[4] == id(owner) for m in modes)
    params = ctx.state.params
    if any(root in params.get(id(f), ()) for f in functions):
        return False
    bound = ctx.state.bound
    local = next((f for f in reversed(functions) if root in bound.get(id(f), ())), None)
    if local is not None:
        if not _built(name, ("scope", id(local)), ctx, modules):
            return False
        return not any(m[3] == id(local) and m[2] < order for m in modes)
    if not _built(name, ("scope", 0), ctx, modules):
        return False
    if functions:
        return not modes  # a global: switched to eval anywhere in the file is enough
    return not any(m[2] < order or m[3] != 0 for m in modes)


def leave_Module(node: cst.Module, ctx: Context[State]) -> None:
    state = ctx.state
    if ctx.is_test or not (state.uses or state.toggles):
        return
    modules = _module_classes(ctx)
    reported: set[tuple[int, str]] = set()
    for use in state.uses:
        call, name, _, ancestors, _ = use
        scope = id(_enclosing_functions(ancestors)[-1]) if _enclosing_functions(ancestors) else 0
        if (scope, name) in reported or not _unevaluated_use(use, ctx, modules):
            continue
        reported.add((scope, name))
        when = "before running it under `torch.no_grad()`"
        ctx.report_from(call, ancestors, call=f"{name}.eval()", when=when)
    trained = state.trained
    for call, name, ancestors in state.toggles:
        if any(_same(name, other) for other in trained):
            when = f"in this training loop after `{name}.eval()`"
            ctx.report_from(call, ancestors, call=f"{name}.train()", when=when)
