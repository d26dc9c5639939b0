"""``page()``: the frame of every HTML page the App serves (its pages, setup, the dashboard)."""

from __future__ import annotations

import re
from html import escape

from fastapi.responses import HTMLResponse

INLINE_CODE = re.compile(r"``(.+?)``|`([^`]+)`")
STYLE = (
    "body{font-family:system-ui,sans-serif;max-width:46rem;margin:2rem auto;padding:0 1rem;"
    "line-height:1.5;color:#1f2328}pre{background:#f6f8fa;padding:.8rem;overflow-x:auto}"
    "code{background:#f6f8fa;padding:0 .2rem}table{border-collapse:collapse}"
    "td,th{padding:.2rem .6rem;text-align:left;vertical-align:top}"
    "label{display:block;margin:.6rem 0 .2rem}input[type=text],input[type=url]{width:100%;"
    "padding:.3rem;box-sizing:border-box}button{margin-top:1rem;padding:.4rem 1rem}"
    ".error{color:#b3261e}"
)


def page(
    title: str,
    body: str,
    status_code: int = 200,
    headers: dict[str, str] | None = None,
    head: str = "",
) -> HTMLResponse:
    """A whole HTML page around ``body``, which must already be escaped markup; ``head`` is
    markup for the head (styles and scripts of this server's own)."""
    html = (
        '<!doctype html>\n<html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{escape(title)} · debtbot</title><style>{STYLE}</style>{head}</head>"
        f'<body><nav><a href="/">debtbot</a> · <a href="/dashboard">Dashboard</a> · '
        '<a href="/rules">Rules</a> · '
        '<a href="/principles">Principles</a></nav>'
        f"{body}</body></html>\n"
    )
    return HTMLResponse(html, status_code=status_code, headers=headers)


def inline_code(text: str) -> str:
    """Escape text, then mark ``code`` spans."""
    parts, last = [], 0
    for match in INLINE_CODE.finditer(text):
        parts.append(escape(text[last : match.start()]))
        parts.append(f"<code>{escape(match.group(1) or match.group(2))}</code>")
        last = match.end()
    parts.append(escape(text[last:]))
    return "".join(parts)
