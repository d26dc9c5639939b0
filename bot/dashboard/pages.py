"""The dashboard's pages: the accounts a person may see, an account's repositories ranked by
debt and by its growth, and a repository's debt (trend, principles, rules, hotspots, the pull
requests that added or paid off most, every open finding linked to its code and its rule).

Server-rendered HTML; charts are drawn by plotly.js served from this server (charts.py).
Whatever the person may not see is answered exactly as what does not exist: 404.
"""

from __future__ import annotations

from datetime import datetime
from html import escape
from typing import Annotated
from urllib.parse import quote

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse
from starlette.concurrency import run_in_threadpool

from bot.dashboard import charts, reading
from bot.dashboard.auth import PageViewer, require_account, require_repository
from bot.ledger.figures import GROWTH_WEEKS, AccountFigures, RepositoryFigures
from bot.settings import Settings
from bot.webpage import inline_code, page

router = APIRouter()
FINDINGS_SHOWN = 300
TOP_PULLS = 10

STYLE = (
    "<style>body{max-width:72rem}.chart{width:100%;min-height:120px}"
    ".wide{overflow-x:auto}.grid{display:grid;gap:1rem;grid-template-columns:1fr}"
    "@media (min-width:60rem){.grid{grid-template-columns:1fr 1fr}}"
    "table{width:100%}th{border-bottom:1px solid #d0d7de}td.n,th.n{text-align:right}"
    "td{border-bottom:1px solid #eaeef2;overflow-wrap:anywhere}"
    "td a[href^='/rules/']{white-space:nowrap}"
    ".up{color:#cf222e}.down{color:#1a7f37}.muted{color:#59636e}"
    "header.dash{display:flex;flex-wrap:wrap;gap:.5rem 1rem;align-items:baseline;"
    "justify-content:space-between}header.dash form{margin:0}header.dash button{margin:0}"
    "</style>"
)


# Scripts only from this server (the charts' data blocks are inert JSON); plotly.js writes
# inline styles. No framing, no referrer: the pages name private repositories.
SECURITY_HEADERS = {
    "content-security-policy": (
        "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; "
        "img-src 'self' data:; object-src 'none'; base-uri 'none'; frame-ancestors 'none'; "
        "form-action 'self'"
    ),
    "referrer-policy": "no-referrer",
    "x-content-type-options": "nosniff",
    "cache-control": "private, no-store",
}


def _settings(request: Request) -> Settings:
    return request.app.state.settings


AppSettings = Annotated[Settings, Depends(_settings)]


def _frame(title: str, viewer_login: str, body: str, charts_used: bool = True) -> HTMLResponse:
    header = (
        f'<header class="dash"><p><a href="/dashboard">Dashboard</a></p>'
        f'<form method="post" action="/dashboard/logout"><span class="muted">'
        f"Signed in as {escape(viewer_login)}</span> <button>Sign out</button></form></header>"
    )
    head = STYLE + (charts.scripts() if charts_used else "")
    return page(title, header + body, head=head, headers=SECURITY_HEADERS)


@router.get("/dashboard", response_class=HTMLResponse)
async def dashboard_home(request: Request, viewer: PageViewer) -> HTMLResponse:
    sessions = request.app.state.session_factory
    accounts, repositories = await run_in_threadpool(reading.visible, sessions, viewer)
    items = "".join(
        f'<li><a href="/dashboard/accounts/{quote(a)}">{escape(a)}</a></li>' for a in accounts
    )
    lone = "".join(
        f'<li><a href="/dashboard/repos/{quote(r)}">{escape(r)}</a></li>' for r in repositories
    )
    body = "<h1>Debt ledger</h1>"
    if not accounts and not repositories:
        body += (
            "<p>No account you belong to has installed debtbot, and no repository you can "
            "read is analysed by it.</p>"
        )
    if accounts:
        body += f"<h2>Accounts</h2><ul>{items}</ul>"
    if repositories:
        body += f"<h2>Repositories you can read elsewhere</h2><ul>{lone}</ul>"
    return _frame("Dashboard", viewer.login, body, charts_used=False)


@router.get("/dashboard/accounts/{account}", response_class=HTMLResponse)
async def account_page(request: Request, account: str, viewer: PageViewer) -> HTMLResponse:
    require_account(viewer, account)
    sessions = request.app.state.session_factory
    figures = await run_in_threadpool(reading.account, sessions, account, viewer)
    return _frame(figures.account, viewer.login, account_body(figures))


@router.get("/dashboard/repos/{owner}/{name}", response_class=HTMLResponse)
async def repository_page(
    request: Request, owner: str, name: str, viewer: PageViewer, settings: AppSettings
) -> HTMLResponse:
    full_name = f"{owner}/{name}"
    require_repository(viewer, full_name)
    sessions = request.app.state.session_factory
    figures = await run_in_threadpool(reading.repository, sessions, full_name)
    if figures is None:
        body = (
            f"<h1>{escape(full_name)}</h1><p>debtbot has not finished analysing this "
            "repository's default branch yet. The first analysis runs when the App is "
            "installed, and the ledger follows every push to the default branch.</p>"
        )
        return _frame(full_name, viewer.login, body, charts_used=False)
    return _frame(full_name, viewer.login, repository_body(figures, settings.github_url))


def account_body(figures: AccountFigures) -> str:
    name = escape(figures.account)
    if not figures.repositories:
        return (
            f"<h1>{name}</h1><p>No repository of {name} that you can read has been analysed "
            "yet.</p>"
        )
    by_debt = _repository_table(figures.repositories)
    by_growth = _repository_table(figures.by_growth)
    return (
        f"<h1>{name}</h1>"
        f"<p><strong>{figures.total}</strong> open findings in "
        f"{len(figures.repositories)} repositories. "
        f'<a href="/dashboard/api/accounts/{quote(figures.account)}">JSON</a></p>'
        '<div class="grid"><section><h2>Debt per principle, last 26 weeks</h2>'
        f"{charts.embed('trend', charts.trend(figures.weeks), 'Open findings per week')}"
        "</section><section><h2>Added and paid off per week</h2>"
        f"{charts.embed('flow', charts.flow(figures.weeks), 'Findings added and paid off')}"
        "</section></div>"
        f'<div class="grid"><section><h2>Most debt</h2><div class="wide">{by_debt}</div>'
        f"</section><section><h2>Fastest growing ({GROWTH_WEEKS} weeks)</h2>"
        f'<div class="wide">{by_growth}</div></section></div>'
    )


def _repository_table(repositories: tuple[RepositoryFigures, ...]) -> str:
    rows = "".join(
        f'<tr><td><a href="/dashboard/repos/{quote(r.full_name)}">{escape(r.full_name)}</a></td>'
        f'<td class="n">{r.total}</td><td class="n">{_growth(r.growth)}</td></tr>'
        for r in repositories
    )
    return (
        '<table><thead><tr><th>Repository</th><th class="n">Open</th>'
        f'<th class="n">Growth</th></tr></thead><tbody>{rows}</tbody></table>'
    )


def _growth(change: int) -> str:
    if change > 0:
        return f'<span class="up">+{change}</span>'
    if change < 0:
        return f'<span class="down">{change}</span>'
    return "0"


def repository_body(figures: RepositoryFigures, github_url: str) -> str:
    name = escape(figures.full_name)
    blob = f"{github_url.rstrip('/')}/{quote(figures.full_name)}/blob/{figures.sha}"
    return (
        f"<h1>{name}</h1>"
        f"<p><strong>{figures.total}</strong> open findings{_severities(figures)} at "
        f'<a href="{escape(blob.replace("/blob/", "/tree/", 1))}"><code>{figures.sha[:12]}'
        f"</code></a>, analysed {_when(figures.analysed_at)}; {_growth(figures.growth)} in "
        f"{GROWTH_WEEKS} weeks. "
        f'<a href="/dashboard/api/repos/{quote(figures.full_name)}">JSON</a></p>'
        '<div class="grid"><section><h2>Debt per principle, last 26 weeks</h2>'
        f"{charts.embed('trend', charts.trend(figures.weeks), 'Open findings per week')}"
        "</section><section><h2>Added and paid off per week</h2>"
        f"{charts.embed('flow', charts.flow(figures.weeks), 'Findings added and paid off')}"
        "</section></div>"
        '<div class="grid"><section><h2>Principles</h2>'
        f"{charts.embed('principles', charts.principles(figures.by_principle), 'Principles')}"
        f'</section><section><h2>Rules</h2><div class="wide">{_rules_table(figures)}</div>'
        "</section></div>"
        "<section><h2>Hotspots</h2>"
        f"{charts.embed('hotspots', charts.hotspots(figures.hotspots), 'Files by findings')}"
        f'<div class="wide">{_hotspot_table(figures)}</div></section>'
        f"{_pulls_section(figures)}"
        f"<section><h2>Open findings</h2>{_findings_table(figures, blob)}</section>"
    )


def _severities(figures: RepositoryFigures) -> str:
    if not figures.by_severity:
        return ""
    parts = ", ".join(f"{count} {escape(level)}" for level, count in figures.by_severity.items())
    return f" ({parts})"


def _added_by(figures: RepositoryFigures, fingerprint: str, blob: str) -> str:
    number = figures.added_by.get(fingerprint)
    if number is None:  # there before the ledger began, or pushed without a pull request
        return ""
    repository = blob.rpartition("/blob/")[0]
    return f'<a href="{escape(repository)}/pull/{number}">#{number}</a>'


def _when(moment: datetime) -> str:
    return f"{moment:%Y-%m-%d %H:%M} UTC"


def _rules_table(figures: RepositoryFigures) -> str:
    rows = "".join(
        f'<tr><td><a href="/rules/{quote(code)}">{escape(code)}</a></td>'
        f'<td class="n">{count}</td></tr>'
        for code, count in figures.by_rule.items()
    )
    return f'<table><thead><tr><th>Rule</th><th class="n">Open</th></tr></thead>{rows}</table>'


def _hotspot_table(figures: RepositoryFigures) -> str:
    rows = "".join(
        f"<tr><td><code>{escape(spot.path)}</code></td><td class='n'>{spot.findings}</td></tr>"
        for spot in figures.hotspots[:20]
    )
    return f'<table><thead><tr><th>File</th><th class="n">Open</th></tr></thead>{rows}</table>'


def _pulls_section(figures: RepositoryFigures) -> str:
    added = sorted((p for p in figures.pulls if p.added), key=lambda p: (-p.added, p.number))
    paid = sorted((p for p in figures.pulls if p.paid_off), key=lambda p: (-p.paid_off, p.number))

    def table(pulls, count) -> str:
        if not pulls:
            return '<p class="muted">None yet.</p>'
        rows = "".join(
            f"<tr><td>#{p.number} {escape(p.title)}</td><td class='n'>{count(p)}</td></tr>"
            for p in pulls[:TOP_PULLS]
        )
        head = '<thead><tr><th>Pull request</th><th class="n">Findings</th></tr></thead>'
        return f"<table>{head}{rows}</table>"

    return (
        '<div class="grid"><section><h2>Pull requests that added most</h2>'
        f"{table(added, lambda p: p.added)}</section>"
        "<section><h2>Pull requests that paid off most</h2>"
        f"{table(paid, lambda p: p.paid_off)}</section></div>"
    )


def _findings_table(figures: RepositoryFigures, blob: str) -> str:
    if not figures.findings:
        return "<p>None: the default branch holds no debt debtbot can see.</p>"
    rows = "".join(
        "<tr>"
        f'<td><a href="{escape(blob)}/{quote(f.path)}#L{f.line}-L{f.end_line}">'
        f"<code>{escape(f.path)}:{f.line}</code></a></td>"
        f'<td><a href="/rules/{quote(f.code)}">{escape(f.code)}</a></td>'
        f"<td>{inline_code(f.message)}</td><td>{_added_by(figures, f.fingerprint, blob)}</td>"
        "</tr>"
        for f in figures.findings[:FINDINGS_SHOWN]
    )
    more = len(figures.findings) - FINDINGS_SHOWN
    note = (
        f'<p class="muted">{more} more in the <a href="/dashboard/api/repos/'
        f'{quote(figures.full_name)}">JSON</a> and in <code>debtbot ledger --repo '
        f"{escape(figures.full_name)}</code>.</p>"
        if more > 0
        else ""
    )
    return (
        '<div class="wide"><table><thead><tr><th>Where</th><th>Rule</th><th>What</th>'
        "<th>Added by</th></tr>"
        f"</thead><tbody>{rows}</tbody></table></div>{note}"
    )
