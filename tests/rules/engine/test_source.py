"""Parsing trusts libcst's parser, and only its parser."""

from __future__ import annotations

import libcst as cst
import pytest

from rules.engine.source import parse

SOURCE = '''\
import numpy as np


@cache
async def f(x: int = 1, *args, y=not True, **kw) -> "int":
    """Doc."""
    async with open(x) as h, lock:
        return [a for a in h if a is not None and a not in (1, 2)] or {**kw}


class C(Base, metaclass=M):
    z: list[int] = lambda q, *, r=0: q @ r
'''


def test_a_tree_parsed_without_checks_is_the_tree_libcst_checks() -> None:
    module, skipped = parse("m.py", SOURCE)
    assert skipped is None and module is not None
    assert module.code == SOURCE
    assert module.deep_equals(cst.parse_module(SOURCE))


def test_nodes_built_after_a_parse_are_checked_again() -> None:
    parse("m.py", SOURCE)
    with pytest.raises(cst.CSTValidationError):
        cst.Name("")


def test_code_python_refuses_is_still_refused() -> None:
    module, skipped = parse("m.py", "def f(:\n    pass\n")
    assert module is None and skipped is not None
    assert skipped.reason.startswith("syntax error at line ")
    with pytest.raises(cst.CSTValidationError):
        cst.Name("")
