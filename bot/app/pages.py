"""``/rules``, ``/rules/{code}`` and ``/principles/{slug}``: the pages review comments link to.

Plain HTML built from the rules' docstrings and rules/principles.py. Every piece of text is
escaped before any markup is added, so a docstring can never inject markup into the page.
"""

from __future__ import annotations

from html import escape

from fastapi import APIRouter
from fastapi.responses import HTMLResponse

from bot.webpage import inline_code, page
from rules.catalogue import DOC_HEADINGS, all_rules, doc_section
from rules.principles import ARTICLE_URL, PAPER_URL, PRINCIPLES, Principle
from rules.rule import Rule

router = APIRouter()

SOURCES = {
    "article": ("the article", ARTICLE_URL),
    "paper": (
        "Sculley et al., Machine Learning: The High Interest Credit Card of Technical Debt",
        PAPER_URL,
    ),
}


def rst_to_html(text: str) -> str:
    """The small reST subset of rule docstrings: paragraphs, ``- `` lists, code blocks."""
    blocks: list[str] = []
    paragraph: list[str] = []
    items: list[str] = []
    code: list[str] | None = None

    def flush() -> None:
        if paragraph:
            blocks.append(f"<p>{inline_code(' '.join(paragraph))}</p>")
            paragraph.clear()
        if items:
            blocks.append("<ul>" + "".join(f"<li>{inline_code(i)}</li>" for i in items) + "</ul>")
            items.clear()

    for line in [*text.splitlines(), ""]:
        if code is not None:
            if not line.strip() or line.startswith("    "):
                code.append(line[4:])
                continue
            blocks.append(f"<pre><code>{escape(chr(10).join(code).strip(chr(10)))}</code></pre>")
            code = None
        stripped = line.strip()
        if stripped.startswith(".. code-block::"):
            flush()
            code = []
        elif not stripped:
            flush()
        elif stripped.startswith("- "):
            if paragraph:
                flush()
            items.append(stripped[2:])
        elif items and line.startswith("  "):
            items[-1] += " " + stripped  # a list item wrapped onto the next line
        else:
            paragraph.append(stripped)
    if code is not None:
        blocks.append(f"<pre><code>{escape(chr(10).join(code).strip(chr(10)))}</code></pre>")
    return "\n".join(blocks)


def _rule_link(rule: Rule) -> str:
    return f'<a href="/rules/{escape(rule.code)}">{escape(rule.code)} {escape(rule.name)}</a>'


def _principle_link(slug: str) -> str:
    principle = PRINCIPLES.get(slug)
    title = principle.title if principle else slug
    return f'<a href="/principles/{escape(slug)}">{escape(title)}</a>'


def _find_rule(code_or_name: str) -> Rule | None:
    wanted = code_or_name.strip().lower()
    return next(
        (rule for rule in all_rules() if wanted in (rule.code.lower(), rule.name.lower())), None
    )


def _not_found(what: str) -> HTMLResponse:
    return page("Not found", f"<h1>Not found</h1><p>{escape(what)}</p>", status_code=404)


@router.get("/rules", response_class=HTMLResponse)
def rules_page() -> HTMLResponse:
    rows = "".join(
        f"<tr><td>{_rule_link(rule)}</td><td>{_principle_link(rule.principle)}</td>"
        f"<td>{escape(rule.severity)}</td>"
        f"<td>{'' if rule.default_enabled else 'off by default'}</td></tr>"
        for rule in all_rules()
    )
    body = (
        "<h1>Rules</h1><p>Every rule debtbot knows, the principle it comes from, its default "
        "severity, and whether it runs unless selected by its code.</p><table><tr><th>Rule</th>"
        f"<th>Principle</th><th>Severity</th><th>Runs</th></tr>{rows}</table>"
    )
    return page("Rules", body)


@router.get("/rules/{code}", response_class=HTMLResponse)
def rule_page(code: str) -> HTMLResponse:
    rule = _find_rule(code)
    if rule is None:
        return _not_found(f"There is no rule {code}. See the list of rules.")
    sections = "".join(
        f"<h2>{escape(heading)}</h2>{rst_to_html(doc_section(rule, heading))}"
        for heading in DOC_HEADINGS
        if doc_section(rule, heading)
    )
    body = (
        f"<h1>{escape(rule.code)} {escape(rule.name)}</h1>"
        f"<p>Principle: {_principle_link(rule.principle)} · default severity: "
        f"{escape(rule.severity)}"
        f"{'' if rule.default_enabled else ' · off by default: runs when selected by its code'}"
        f"</p>{sections}"
        f"<h2>Silencing it</h2><p>Add <code># debt: ignore[{escape(rule.code)}]</code> to the "
        f"line, or turn the rule off for a repository in <code>[tool.debtbot]</code> of its "
        f"<code>pyproject.toml</code>: <code>ignore = [&quot;{escape(rule.code)}&quot;]</code>."
        f"</p>"
    )
    return page(f"{rule.code} {rule.name}", body)


@router.get("/principles", response_class=HTMLResponse)
def principles_page() -> HTMLResponse:
    items = "".join(
        f"<li>{_principle_link(slug)}: {escape(principle.summary)}</li>"
        for slug, principle in PRINCIPLES.items()
    )
    body = (
        "<h1>Principles</h1><p>Every finding is filed under one of these sources of technical "
        f"debt in machine-learning code.</p><ul>{items}</ul>"
    )
    return page("Principles", body)


@router.get("/principles/{slug}", response_class=HTMLResponse)
def principle_page(slug: str) -> HTMLResponse:
    principle: Principle | None = PRINCIPLES.get(slug)
    if principle is None:
        return _not_found(f"There is no principle {slug}.")
    source, url = SOURCES[principle.source]
    rules = [rule for rule in all_rules() if rule.principle == slug]
    listed = "".join(f"<li>{_rule_link(rule)}</li>" for rule in rules) or "<li>none yet</li>"
    body = (
        f"<h1>{escape(principle.title)}</h1><p>{escape(principle.summary)}</p>"
        f"<h2>What to do</h2><p>{escape(principle.remedy)}</p>"
        f'<p>Where it comes from: <a href="{escape(url)}">{escape(source)}</a>.</p>'
        f'<p>Further reading: <a href="{escape(ARTICLE_URL)}">The strenuous journey from a useful '
        "to a usable data science model</a>, and "
        f'<a href="{escape(PAPER_URL)}">Sculley et al., Machine Learning: The High Interest '
        "Credit Card of Technical Debt (SE4ML workshop, NIPS 2014)</a>.</p>"
        f"<h2>Rules under this principle</h2><ul>{listed}</ul>"
    )
    return page(principle.title, body)
