"""
What it does
------------
Flags ``next(iter(loader))`` in the body of a ``for`` or ``while`` loop when ``loader`` is the
same data loader or dataset on every pass: it is not the loop's own variable and the loop does
not assign it. The two-step form counts too: ``it = iter(loader)`` as a plain statement of the
loop body, followed by ``next(it)`` in the same body.

Only data is looked at: the iterable must be named like a loader or a dataset (``loader``,
``train_dl``, ``self.val_dataset``, ``dm.train_dataloader()``...). Left alone: a single
``next(iter(x))`` outside loops (a common way to peek at one batch); ``it = iter(x)`` made before
the loop with ``next(it)`` inside, the right pattern; an iterator made afresh in a
``StopIteration`` handler or under an ``if`` (restarting an exhausted one); the loop's header;
an outer loop whose body runs its own inner loop (an epoch loop that takes one fixed sample
for logging each epoch); test files, where any batch will usually do.

Why is this bad?
----------------
``iter(loader)`` starts the data from the beginning. Called on every pass, it hands back the
first batch every time: the model trains on one batch over and over, or the evaluation scores
the same few rows, and the loss curve still looks fine. With a shuffling ``DataLoader`` the
batches do change, but every call starts and tears down a new pool of worker processes, which
can cost more than the training step itself.

Example
-------
.. code-block:: python

    for step in range(num_steps):
        images, labels = next(iter(train_loader))
        loss = criterion(model(images), labels)

Use instead
-----------
Make the iterator once, before the loop, and restart it when it runs out (or loop over
``itertools.cycle``-like wrappers that do):

.. code-block:: python

    batches = iter(train_loader)
    for step in range(num_steps):
        try:
            images, labels = next(batches)
        except StopIteration:
            batches = iter(train_loader)
            images, labels = next(batches)
        loss = criterion(model(images), labels)

References
----------
- PyTorch documentation of ``torch.utils.data.DataLoader`` (an iterator per ``iter()`` call,
  workers started for each, ``persistent_workers``)
- Python documentation of the iterator protocol, ``iter()`` and ``next()``
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

import libcst as cst

from rules import Context, Example, Rule
from rules.ml.dataflow import assigned_names, block
from rules.names import dotted

RULE = Rule(
    code="DEBT316",
    name="fresh-iterator-in-loop",
    principle="cutting-corners",
    severity="warning",
    message=(
        "Create the iterator over `{data}` once before the loop (restarting it on "
        "`StopIteration`, or with `itertools.cycle`), since `iter()` on every pass starts "
        "again from its first batch."
    ),
    valid=(
        # Near miss: peeking at one batch, outside any loop.
        """
        images, labels = next(iter(train_loader))
        print(images.shape)
        """,
        # Near miss: the iterator is made once, before the loop.
        """
        batches = iter(train_loader)
        for step in range(num_steps):
            try:
                x, y = next(batches)
            except StopIteration:
                batches = iter(train_loader)
                x, y = next(batches)
            step_fn(x, y)
        """,
        # Near miss: a different loader on every pass, the loop's own variable.
        """
        for name, loader in loaders.items():
            example = next(iter(loader))
            log_shapes(name, example)
        """,
        # Near miss: the loop assigns the loader afresh.
        """
        while True:
            loader = make_loader(seed)
            batch = next(iter(loader))
            seed += 1
        """,
        # Near miss: an epoch loop that runs over the data itself and takes one fixed sample
        # to draw each epoch.
        """
        for epoch in range(epochs):
            for x, y in train_loader:
                train_step(x, y)
            sample = next(iter(val_loader))
            save_images(model(sample[0]), epoch)
        """,
        # Near miss: an exhausted iterator restarted under an `if`.
        """
        it = None
        for step in range(steps):
            if it is None or step % len(loader) == 0:
                it = iter(loader)
            x = next(it)
        """,
        # Near miss: not data; the first key of a mapping.
        """
        for row in rows:
            first = next(iter(columns))
            row[first] = 0
        """,
        # Tests often want some batch, and the same one is fine.
        Example(
            "for _ in range(3):\n    x, y = next(iter(loader))\n    check(x, y)\n",
            path="tests/test_sync.py",
        ),
        # Near miss: the header of the loop, evaluated once.
        """
        for x in next(iter(loader)):
            use(x)
        """,
    ),
    invalid=(
        Example(
            """
            for step in range(num_steps):
                images, labels = next(iter(train_loader))
                loss = criterion(model(images), labels)
            """,
            line=2,
        ),
        Example(
            """
            def train(self):
                while self.step < self.max_steps:
                    batch = next(iter(self.train_dataloader))
                    self.update(batch)
            """,
            line=3,
        ),
        Example(
            """
            for i in range(n_iter):
                data_iter = iter(dataset)
                x, y = next(data_iter)
                fit_step(x, y)
            """,
            line=2,
        ),
        """
        for loader in loaders:
            for step in range(steps):
                batch = next(iter(loader))
        """,
        """
        for _ in range(num_val_batches):
            batch = next(iter(dm.val_dataloader()))
            evaluate(batch)
        """,
    ),
)

# Names of data loaders and datasets, by their last part.
_DATA = re.compile(
    r"(^|_)(loader|dataloader|data_?loader|dl|dataset|data_?set|ds|datamodule|dm|batches|"
    r"stream|sampler)s?($|_)|loader$|dataset$",
    re.I,
)


@dataclass
class State:
    # Loops already reported, so that a loop is reported once.
    reported: set[int] = field(default_factory=set)


def _data_name(node: cst.BaseExpression) -> str | None:
    """``loader`` / ``self.train_dl`` / ``dm.train_dataloader()`` when it names data, else None."""
    target = node.func if isinstance(node, cst.Call) and not node.args else node
    text = dotted(target)
    if text is None:
        return None
    last = text.rsplit(".", 1)[-1]
    return text if _DATA.search(last) else None


def _body_loop(ctx: Context) -> tuple[cst.For | cst.While, int] | None:
    """The innermost loop whose body holds the node being visited, and that body's position in
    the ancestors; None in a header, an ``else`` clause, or outside loops of this function."""
    chain = ctx.ancestors
    for index in range(len(chain) - 1, -1, -1):
        node = chain[index]
        if isinstance(node, cst.FunctionDef | cst.Lambda | cst.ClassDef):
            return None
        if isinstance(node, cst.For | cst.While):
            if index + 1 < len(chain) and chain[index + 1] is node.body:
                return node, index + 1
            return None
    return None


def _conditional(ctx: Context, start: int) -> bool:
    """Whether the node sits under an ``if``, a ``try`` handler or a nested loop of the body."""
    return any(
        isinstance(n, cst.If | cst.IfExp | cst.ExceptHandler | cst.For | cst.While)
        for n in ctx.ancestors[start + 1 :]
    )


def _runs_own_loop(loop: cst.For | cst.While) -> bool:
    """Whether the loop body runs an inner loop (outside nested functions)."""
    pending: list[cst.CSTNode] = list(block(loop.body))
    while pending:
        node = pending.pop()
        if isinstance(node, cst.For | cst.While):
            return True
        if isinstance(node, cst.FunctionDef | cst.ClassDef | cst.Lambda):
            continue
        pending.extend(node.children)
    return False


def _varies(data: str, loop: cst.For | cst.While) -> bool:
    """Whether ``data`` is, or hangs off, the loop's variable or something the loop assigns."""
    root = data.split(".", 1)[0]
    if root != "self":
        return root in assigned_names(loop)
    assigned: set[str] = set()
    pending: list[cst.CSTNode] = [loop.body]
    while pending:
        node = pending.pop()
        if isinstance(node, cst.Assign):
            assigned.update(d for t in node.targets if (d := dotted(t.target)))
        pending.extend(node.children)
    return any(data == a or data.startswith(a + ".") for a in assigned)


def _iter_of(node: cst.BaseExpression, ctx: Context) -> cst.BaseExpression | None:
    if (
        isinstance(node, cst.Call)
        and ctx.call_name(node) == "iter"
        and len(node.args) == 1
        and node.args[0].keyword is None
        and not node.args[0].star
    ):
        return node.args[0].value
    return None


def _nexts(body: cst.BaseSuite, name: str) -> bool:
    """Whether the body calls ``next(name)`` outside nested loops and functions."""
    pending: list[cst.CSTNode] = list(block(body))
    while pending:
        node = pending.pop()
        if isinstance(node, cst.For | cst.While | cst.FunctionDef | cst.ClassDef | cst.Lambda):
            continue
        if (
            isinstance(node, cst.Call)
            and isinstance(node.func, cst.Name)
            and node.func.value == "next"
            and node.args
            and isinstance(node.args[0].value, cst.Name)
            and node.args[0].value.value == name
        ):
            return True
        pending.extend(node.children)
    return False


def _check(
    call: cst.CSTNode, data: cst.BaseExpression, ctx: Context[State], fresh: str | None
) -> None:
    """Report ``call`` when it makes an iterator over loop-invariant data on every pass;
    ``fresh`` is the name the iterator is bound to, for the two-step form."""
    if ctx.is_test:
        return
    found = _body_loop(ctx)
    if found is None:
        return
    loop, start = found
    name = _data_name(data)
    if name is None or id(loop) in ctx.state.reported:
        return
    if _conditional(ctx, start) or _runs_own_loop(loop) or _varies(name, loop):
        return
    if fresh is not None and not _nexts(loop.body, fresh):
        return
    ctx.state.reported.add(id(loop))
    ctx.report(call, data=ctx.code(data))


def visit_Call(node: cst.Call, ctx: Context[State]) -> None:
    if ctx.call_name(node) != "next" or not node.args:
        return
    data = _iter_of(node.args[0].value, ctx)
    if data is not None:
        _check(node, data, ctx, None)


def visit_Assign(node: cst.Assign, ctx: Context[State]) -> None:
    # it = iter(loader) as a statement of the loop body, then next(it) in the same body.
    data = _iter_of(node.value, ctx)
    if data is None or len(node.targets) != 1:
        return
    target = node.targets[0].target
    if isinstance(target, cst.Name):
        _check(node, data, ctx, target.value)
