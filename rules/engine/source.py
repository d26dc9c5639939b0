"""From a file's bytes to its text and libcst tree, refusing what would hang or crash the parser."""

from __future__ import annotations

import ast
import re
from collections.abc import Iterator
from contextlib import contextmanager

import libcst as cst

from rules.engine.config import Config
from rules.finding import Skipped


def decode(path: str, data: bytes, config: Config) -> tuple[str | None, Skipped | None]:
    if len(data) > config.max_file_size:
        return None, Skipped(path, f"larger than {config.max_file_size} bytes")
    if b"\x00" in data[:8192]:
        return None, Skipped(path, "binary file")
    try:
        return data.decode("utf-8-sig"), None
    except UnicodeDecodeError as exc:
        return None, Skipped(path, f"not UTF-8 text (byte {exc.start})")


_BRACKET = re.compile(r"[()\[\]{}]")
# CPython refuses more than 200 nested brackets; libcst's native parser crashes the whole
# process (not an exception) at around two thousand, so deeper files never reach it.
_MAX_NESTING = 200


def _too_deep(text: str) -> bool:
    depth = deepest = 0
    for match in _BRACKET.finditer(text):
        if match.group() in "([{":
            depth += 1
            deepest = max(deepest, depth)
        else:
            depth -= 1
    if deepest <= _MAX_NESTING:
        return False
    # Brackets inside strings can fool the count; Python's own parser settles it.
    try:
        compile(text, "<nesting check>", "exec", ast.PyCF_ONLY_AST)
    except (SyntaxError, RecursionError, MemoryError, ValueError):
        return True
    return False


# libcst's parse time grows with the square of a chain of binary operators (4,000 terms take
# 3 s, 20,000 more than ten minutes); generated code can hold such chains. Files with many
# operators get a look with Python's own (linear) parser first.
_OPERATORS = (" + ", " - ", " * ", " / ", " | ", " & ", " and ", " or ")
_OPERATOR_SCREEN = 1_500
_MAX_CHAIN = 1_000


def _too_long_chain(text: str) -> bool:
    if sum(text.count(op) for op in _OPERATORS) < _OPERATOR_SCREEN:
        return False
    try:
        tree = ast.parse(text)
    except (RecursionError, MemoryError):
        return True  # too deep even for CPython
    except (SyntaxError, ValueError):
        return False  # libcst will say what is wrong
    counted: set[int] = set()  # links of a chain already measured from its top
    for node in ast.walk(tree):
        if isinstance(node, ast.BoolOp) and len(node.values) > _MAX_CHAIN:
            return True
        if not isinstance(node, ast.BinOp) or id(node) in counted:
            continue
        length = 0
        while isinstance(node, ast.BinOp):
            counted.add(id(node))
            node, length = node.left, length + 1
        if length > _MAX_CHAIN:
            return True
    return False


@contextmanager
def _unvalidated() -> Iterator[None]:
    """libcst checks every node it builds against its own rules (that a name is not empty, that
    keywords have the spaces they need), a quarter of a parse's time. The parser builds nodes
    from source that Python's grammar accepts, which pass by construction, so the checks rest
    while it runs, as libcst's own notes suggest; nodes built anywhere else are checked."""
    checks = cst.CSTNode.__dict__.get("__post_init__")
    if checks is None:  # a libcst that validates some other way: leave it be
        yield
        return
    cst.CSTNode.__post_init__ = _trusted
    try:
        yield
    finally:
        cst.CSTNode.__post_init__ = checks


def _trusted(node: cst.CSTNode) -> None:
    pass


def parse(path: str, text: str) -> tuple[cst.Module | None, Skipped | None]:
    if _too_deep(text):
        return None, Skipped(path, "too deeply nested to analyse")
    if _too_long_chain(text):
        return None, Skipped(path, f"an expression chains more than {_MAX_CHAIN} operators")
    try:
        with _unvalidated():
            return cst.parse_module(text), None
    except cst.ParserSyntaxError as exc:
        line, column = exc.raw_line, exc.raw_column
        located = re.match(r"parser error: error at (\d+):(\d+): ", exc.message)
        if located:  # the native parser puts the true location in the message only
            line, column = int(located.group(1)), int(located.group(2))
        detail = exc.message[located.end() :] if located else exc.message
        where = f"line {line}, column {column + 1}"
        return None, Skipped(path, f"syntax error at {where}: {detail}")
    except RecursionError:
        return None, Skipped(path, "too deeply nested to analyse")
    except Exception as exc:  # the native parser reports some limits with other exceptions
        return None, Skipped(path, f"could not be parsed: {type(exc).__name__}: {exc}")


def read_source(
    path: str, data: bytes, config: Config
) -> tuple[str, cst.Module | None, Skipped | None]:
    text, unreadable = decode(path, data, config)
    if text is None or not path.endswith(".py"):
        return text or "", None, unreadable
    module, unparsable = parse(path, text)
    return text, module, unparsable
