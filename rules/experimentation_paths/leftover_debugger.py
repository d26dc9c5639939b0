"""
What it does
------------
Flags a call that stops the program in an interactive debugger or shell: ``breakpoint()``,
``pdb.set_trace()`` and the ``ipdb``, ``pudb`` and IPython versions of it, ``IPython.embed()``,
``code.interact()``, ``torch.distributed.breakpoint()``, a debugger class made on the spot
(``ForkedPdb().set_trace()``, ``pdb.Pdb().set_trace()``), remote debuggers that wait for a
connection (``remote_pdb``, ``pudb.remote``, ``web_pdb``), and a post-mortem debugger
(``pdb.post_mortem()``, ``pdb.pm()``). The module is recognised through the file's imports,
whatever name it is imported under, so ``import ipdb as dbg; dbg.set_trace()`` counts.

Left alone, because a person asked for the stop: a call under an ``if`` (or a conditional
expression) whose condition is a debugging switch or a terminal check (``if args.debug:``,
``if cfg.pdb:``, ``if os.environ.get("PDB"):``, ``if sys.stdin.isatty():``); a call inside a
function that exists to debug (its name says ``debug``, ``pdb``, ``breakpoint``, ``shell``,
``repl``, ``console`` or ``interact``) or that the file installs as a signal handler or as
``sys.excepthook``. Commented-out lines are not code and are not looked at. Test files are
checked too: a stop left in a test makes the CI run fail or wait.

Why is this bad?
----------------
A debugger stop is a note to oneself from a debugging session. In a training job, a scheduled
pipeline step or a serving process nobody is at the keyboard: with no terminal the debugger
reads end-of-file and kills the job with ``BdbQuit``, in a detached ``tmux`` session or behind a
pipe it waits forever while holding its GPUs, and in distributed training the other ranks then
block in their next collective until they time out.

Example
-------
.. code-block:: python

    for step, batch in enumerate(loader):
        loss = model(batch)
        if torch.isnan(loss):
            import pdb; pdb.set_trace()
        loss.backward()

Use instead
-----------
Delete the stop, and turn what it was for into a check that fails loudly or logs. When an
interactive stop is useful, put it behind an explicit option that is off by default:

.. code-block:: python

    for step, batch in enumerate(loader):
        loss = model(batch)
        if torch.isnan(loss):
            raise FloatingPointError(f"loss is NaN at step {step}")
        loss.backward()

    # or, on request only
    if args.debug:
        breakpoint()

References
----------
- Python documentation of ``pdb``, ``breakpoint()`` and the ``PYTHONBREAKPOINT`` variable
- flake8-debugger ``T100``; ruff ``T100`` (debugger)
- PyTorch documentation of ``torch.distributed.breakpoint``
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

import libcst as cst

from rules import Context, Example, Rule
from rules.names import dotted

RULE = Rule(
    code="DEBT1007",
    name="leftover-debugger",
    principle="experimentation-paths",
    severity="error",
    # On again after held-out set 1 (2 of 3 right): its one miss was a stop the base already had
    # on a line the change only annotated, which no review reports any more (rules.engine
    # not_in_base). Measured again on held-out set 2 (benchmarks/precision.md).
    message=(
        "Remove the `{call}` debugger stop, or put it behind an explicit debug option, since a "
        "job that runs with nobody at a terminal dies or waits forever here."
    ),
    valid=(
        # Near misses: stops behind a debug option or a terminal check.
        """
        if args.debug:
            breakpoint()
        if cfg.pdb and rank == 0:
            import pdb; pdb.set_trace()
        """,
        """
        import os
        import ipdb
        stop = ipdb.set_trace() if os.environ.get("DEBUG_STOP") else None
        """,
        # Near miss: a post-mortem on request, in the handler of a failed run.
        """
        try:
            trainer.fit(model, data)
        except Exception:
            if opt.debug:
                import pdb as debugger
                debugger.post_mortem()
            raise
        """,
        # Near miss: the classic exception hook, which opens a debugger only at a terminal.
        """
        import pdb
        import sys

        def info(kind, value, tb):
            if hasattr(sys, "ps1") or not sys.stderr.isatty():
                sys.__excepthook__(kind, value, tb)
            else:
                pdb.post_mortem(tb)

        sys.excepthook = info
        """,
        # Near miss: a handler for a signal the user sends on purpose to look inside.
        """
        import signal
        import pudb

        def divein(*args):
            pudb.set_trace()

        signal.signal(signal.SIGUSR2, divein)
        """,
        # Near miss: a command whose whole point is an interactive shell.
        """
        import code

        def shell(namespace):
            code.interact(local=namespace)
        """,
        # Near misses: other things called set_trace or breakpoint; an import alone.
        """
        import pdb
        tracer.set_trace(span)
        if accelerator.check_breakpoint():
            break
        # breakpoint()
        # import pdb; pdb.set_trace()
        """,
    ),
    invalid=(
        Example(
            """
            for step, batch in enumerate(loader):
                loss = model(batch)
                if torch.isnan(loss):
                    import pdb; pdb.set_trace()
                loss.backward()
            """,
            line=4,
        ),
        Example("def predict(x):\n    breakpoint()\n    return model(x)\n", line=2),
        Example(
            """
            import ipdb as dbg

            def collate(items):
                dbg.set_trace()
                return items
            """,
            line=4,
        ),
        """
        from IPython.core.debugger import set_trace
        set_trace()
        """,
        """
        from IPython import embed
        features = build(df)
        embed()
        """,
        """
        import torch.distributed as dist
        dist.breakpoint(rank=0)
        """,
        """
        import code
        code.interact(local=locals())
        """,
        # The recipe for stopping inside a worker process.
        """
        from utils.debugging import ForkedPdb

        def training_step(self, batch, batch_idx):
            ForkedPdb().set_trace()
            return self.model(batch)
        """,
        # A post-mortem on every failure turns a crashed job into a hung one.
        """
        import pdb
        try:
            main()
        except Exception:
            pdb.post_mortem()
        """,
        # A stop left in a test stops the CI run.
        Example(
            "def test_shapes():\n    breakpoint()\n    assert f().shape == (2,)\n",
            path="tests/test_shapes.py",
        ),
    ),
)

# Calls that stop and wait for a person, by qualified name.
_STOPS = frozenset(
    {
        "breakpoint",
        "pdb.set_trace",
        "pdb.post_mortem",
        "pdb.pm",
        "ipdb.set_trace",
        "ipdb.post_mortem",
        "ipdb.pm",
        "ipdb.sset_trace",
        "pudb.set_trace",
        "pudb.post_mortem",
        "pudb.pm",
        "pudb.remote.set_trace",
        "remote_pdb.set_trace",
        "web_pdb.set_trace",
        "IPython.embed",
        "IPython.terminal.embed.embed",
        "IPython.core.debugger.set_trace",
        "code.interact",
        "torch.distributed.breakpoint",
    }
)
# A condition that asks for the stop: a debug option, or a check for a terminal.
_ON_REQUEST = re.compile(r"debug|pdb|breakpoint|interactive|isatty|\bps1\b|set_trace", re.I)
# A function whose job is to debug or to give a prompt.
_DEBUG_FUNCTION = re.compile(
    r"debug|pdb|breakpoint|breaker|shell|repl|console|interact|set_trace", re.I
)


@dataclass
class State:
    # Stops found so far, with the ancestors they were seen under, decided at the end of the file.
    stops: list[tuple[cst.Call, list[cst.CSTNode]]] = field(default_factory=list)
    # Functions the file installs as signal handlers or exception hooks.
    handlers: set[str] = field(default_factory=set)


def _asks_for_it(test: cst.BaseExpression, ctx: Context) -> bool:
    text = ctx.code(test).replace("__debug__", "")
    return bool(_ON_REQUEST.search(text))


def _on_request(ctx: Context) -> bool:
    """Whether the stop sits behind a debug switch, or in a function made for debugging."""
    chain = ctx.ancestors
    for index, node in enumerate(chain):
        inner = chain[index + 1] if index + 1 < len(chain) else None
        if isinstance(node, cst.If | cst.IfExp | cst.While):
            # Only the branch taken when the condition holds: not the test itself.
            if inner is not node.test and _asks_for_it(node.test, ctx):
                return True
        elif isinstance(node, cst.FunctionDef) and _DEBUG_FUNCTION.search(node.name.value):
            return True
    return False


def _debugger_instance(node: cst.Call, ctx: Context) -> bool:
    """``ForkedPdb().set_trace()``, ``pdb.Pdb().set_trace()``: a debugger class made on the spot
    (the usual recipe for stopping inside worker processes)."""
    func = node.func
    if not (isinstance(func, cst.Attribute) and func.attr.value == "set_trace"):
        return False
    made = func.value
    return isinstance(made, cst.Call) and (ctx.call_name(made) or "").endswith("Pdb")


def visit_Call(node: cst.Call, ctx: Context[State]) -> None:
    name = ctx.call_name(node)
    if name in _STOPS or _debugger_instance(node, ctx):
        if not _on_request(ctx):
            ctx.state.stops.append((node, list(ctx.ancestors)))
        return
    # signal.signal(SIGUSR1, handler): the handler runs only when someone sends the signal.
    if name == "signal.signal" and len(node.args) >= 2:
        handler = dotted(node.args[1].value)
        if handler:
            ctx.state.handlers.add(handler.rsplit(".", 1)[-1])


def visit_Assign(node: cst.Assign, ctx: Context[State]) -> None:
    # sys.excepthook = hook: the hook runs on a crash, usually with its own terminal check.
    if any(ctx.qualified_name(t.target) == "sys.excepthook" for t in node.targets):
        hook = dotted(node.value)
        if hook:
            ctx.state.handlers.add(hook.rsplit(".", 1)[-1])


def leave_Module(node: cst.Module, ctx: Context[State]) -> None:
    for call, ancestors in ctx.state.stops:
        functions = [a.name.value for a in ancestors if isinstance(a, cst.FunctionDef)]
        if any(f in ctx.state.handlers for f in functions):
            continue
        ctx.report_from(call, ancestors, call=f"{ctx.code(call.func)}()")
