"""Our cheap spans must equal libcst's PositionProvider, node for node."""

from __future__ import annotations

import random

import libcst as cst
import pytest
from libcst.metadata import MetadataWrapper, PositionProvider

from rules.engine import positions
from tests import ROOT

RULES_DIR = ROOT / "rules"
OWN_CODE = [p for p in sorted(RULES_DIR.rglob("*.py")) if p.stat().st_size][:12]
DECORATED = '''
import functools


@functools.cache  # a comment
# between
@property
def f(
    a,
    b=(1,
       2),
):
    """Doc."""
    x = [i
         for i in a]; y = 2
    return x


class C(
    object
):
    async def g(self):
        if self:
            return [
                1,
            ]
'''


def expected(module: cst.Module, node: cst.CSTNode, table) -> tuple[int, int, int, int]:
    where = table[node]
    return (where.start.line, where.start.column + 1, where.end.line, where.end.column + 1)


@pytest.mark.parametrize("source", [DECORATED, *(p.read_text() for p in OWN_CODE)])
def test_spans_match_position_provider(source: str) -> None:
    module = cst.parse_module(source)
    table = MetadataWrapper(module, unsafe_skip_copy=True).resolve(PositionProvider)
    chooser = random.Random(7)
    requests = []
    pending: list[tuple[cst.CSTNode, tuple[cst.CSTNode, ...]]] = [(module, ())]
    while pending:
        node, ancestors = pending.pop()
        pending.extend((child, (*ancestors, node)) for child in node.children)
        if node in table and ancestors and chooser.random() < 0.2:
            # Mostly the real ancestors; sometimes a wrong guess, sometimes nothing known.
            wrong = (module, module.body[0])
            chain = chooser.choice([ancestors, ancestors, ancestors, wrong, None])
            requests.append((node, chain))
    assert requests
    got = positions.spans(module, source, requests)
    for node, _ in requests:
        span = got[id(node)]
        assert (span.line, span.column, span.end_line, span.end_column) == expected(
            module, node, table
        ), type(node).__name__
