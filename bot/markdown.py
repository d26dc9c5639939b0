"""Small pieces of GitHub Markdown shared by reviews, reports and summaries."""

from __future__ import annotations

import re

from rules.principles import PRINCIPLES


def code_span(text: str) -> str:
    """``text`` as inline code, whatever backticks it holds."""
    longest = max((len(run) for run in re.findall(r"`+", text)), default=0)
    ticks = "`" * (longest + 1)
    padding = " " if longest else ""
    return f"{ticks}{padding}{text}{padding}{ticks}"


def code_block(text: str, language: str) -> str:
    # A fence longer than any run of backticks inside, so the content cannot close it early.
    longest = max((len(run) for run in re.findall(r"`+", text)), default=0)
    fence = "`" * max(3, longest + 1)
    return f"{fence}{language}\n{text.rstrip(chr(10))}\n{fence}"


def count(number: int, singular: str, plural: str | None = None) -> str:
    """``1 finding``, ``2 findings``; ``plural`` when adding an s will not do."""
    return f"{number} {singular if number == 1 else (plural or singular + 's')}"


def principle_order(slug: str) -> int:
    """Where a principle comes in lists: the order of the principles, unknown slugs last."""
    order = list(PRINCIPLES)
    return order.index(slug) if slug in order else len(order)
