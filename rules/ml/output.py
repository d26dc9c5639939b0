"""Calls that send text where people read it: the console, the log, a warning, a web page.

A training job's stdout and its log end up in the same places: the scheduler's log viewer, CI
output, a shared experiment tracker. Rules that ask "is this shown to people?" or "does this
report an error?" ask it here.

Loggers are rarely imported under a name that says what they are: most projects build them once
(``logger = logging.getLogger(__name__)``) and import them from a utility module
(``from .utils import eval_logger``). So besides the loggers a file binds from a known factory,
a receiver whose own name says it is a logger (``logger``, ``LOG``, ``self.log``) counts.
"""

from __future__ import annotations

import re
from typing import Protocol

import libcst as cst

from rules.names import dotted, keyword


class Names(Protocol):
    """How a file's names resolve through its imports; a rule's ``ctx`` is one."""

    def qualified_name(self, node: cst.CSTNode) -> str | None: ...


# Logging levels as methods, on the ``logging`` module or on any logger.
LOG_LEVELS = frozenset(
    {"debug", "info", "warning", "warn", "error", "exception", "critical", "fatal", "log"}
)
# The levels that say something went wrong.
ERROR_LEVELS = frozenset({"error", "exception", "critical", "fatal"})

# Qualified names of functions that show their arguments.
PRINTERS = frozenset(
    {
        "print",
        "builtins.print",
        "pprint.pprint",
        "pprint.pp",
        "warnings.warn",
        "click.echo",
        "click.secho",
        "typer.echo",
        "typer.secho",
        "rich.print",
        "tqdm.tqdm.write",
        "tqdm.write",
        "tqdm.auto.tqdm.write",
        "sys.stdout.write",
        "sys.stderr.write",
        "streamlit.write",
        "streamlit.text",
        "streamlit.markdown",
        "streamlit.code",
        "streamlit.info",
        "streamlit.success",
        "streamlit.warning",
        "streamlit.error",
        "streamlit.json",
        "streamlit.caption",
    }
)
# Factories whose result is a logger.
LOGGER_FACTORIES = frozenset(
    {
        "logging.getLogger",
        "logging.get_logger",
        "structlog.get_logger",
        "structlog.getLogger",
        "accelerate.logging.get_logger",
        "transformers.utils.logging.get_logger",
        "absl.logging",
    }
)
KNOWN_LOGGERS = frozenset({"logging", "loguru.logger", "absl.logging"})

# A receiver spelled like a logger: ``logger``, ``LOG``, ``_log``, ``eval_logger``, ``self.logger``.
_LOGGER_NAME = re.compile(r"(^|_)(log|logger)$", re.IGNORECASE)
# A project's own printing helper: ``print_rank_0``, ``rank0_print``, ``master_print``.
_PRINT_HELPER = re.compile(r"^print_\w+$|^\w+_print$")


def is_logger(receiver: cst.BaseExpression, qualified: str | None, bound: set[str]) -> bool:
    """Whether ``receiver`` (``logger`` in ``logger.info``) is a logger; ``bound`` holds the
    names the file assigned from a logger factory."""
    if qualified in KNOWN_LOGGERS:
        return True
    text = dotted(receiver)
    if text is None:
        return False
    if text in bound:
        return True
    return bool(_LOGGER_NAME.search(text.rsplit(".", 1)[-1]))


def is_logger_factory(qualified: str | None) -> bool:
    return qualified in LOGGER_FACTORIES or (qualified or "").endswith(
        (".getLogger", ".get_logger")
    )


def log_level(call: cst.Call, qualified: str | None, loggers: set[str]) -> str | None:
    """``"error"`` for ``logger.error(...)``; None when the call is not a logging call."""
    func = call.func
    if not isinstance(func, cst.Attribute) or func.attr.value not in LOG_LEVELS:
        return None
    receiver_name = qualified.rsplit(".", 1)[0] if qualified else None
    if is_logger(func.value, receiver_name, loggers):
        return func.attr.value
    return None


def is_printer(call: cst.Call, qualified: str | None, *, helpers: bool = False) -> bool:
    """A call that writes its arguments to the console or a page (not a logging call); with
    ``helpers``, also a project's own ``print_rank_0``-style function."""
    if qualified in PRINTERS:
        return True
    # A helper is a plain function, often imported from the project (``megatron.print_rank_0``),
    # never a method: ``trainer.print_summary()`` prints something else than its arguments.
    return bool(
        helpers
        and qualified is not None
        and not isinstance(call.func, cst.Attribute)
        and _PRINT_HELPER.match(qualified.rsplit(".", 1)[-1])
    )


def writes_to_stderr(call: cst.Call, qualified: str | None, ctx: Names) -> bool:
    """``print(..., file=sys.stderr)`` or ``sys.stderr.write(...)``."""
    if qualified == "sys.stderr.write":
        return True
    target = keyword(call, "file")
    return target is not None and ctx.qualified_name(target.value) == "sys.stderr"


def shown_arguments(call: cst.Call) -> list[cst.BaseExpression]:
    """The arguments of an output call that end up in the text (not ``file=``, ``end=``, ...)."""
    shown = []
    for arg in call.args:
        if arg.keyword is None or arg.keyword.value in {"msg", "message", "body"}:
            shown.append(arg.value)
    return shown
