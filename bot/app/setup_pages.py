"""The pages of setup mode: what registering the App will do, the form, the step that sends
the manifest to GitHub, and every way the registration can fail, each saying what to do next.

Plain HTML, no script: the manifest reaches GitHub through an ordinary form POST, as GitHub's
manifest flow expects. Everything shown is escaped; no page ever shows a credential.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from html import escape
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from fastapi.responses import HTMLResponse

from bot.webpage import page

START_AGAIN = '<p><a href="/">Start again</a>.</p>'
LOCAL_HOSTS = {"localhost", "127.0.0.1", "::1", "0.0.0.0"}


@dataclass(frozen=True)
class FormValues:
    """What the person chose on the setup page (as typed, for showing the form again)."""

    owner: str  # "user" or "organisation"
    organisation: str
    github_url: str
    name: str


def setup_page(
    values: FormValues, public_url: str, env_file: Path, errors: tuple[str, ...] = ()
) -> HTMLResponse:
    problems = "".join(f"<li>{escape(error)}</li>" for error in errors)
    user_checked = "" if values.owner == "organisation" else " checked"
    org_checked = " checked" if values.owner == "organisation" else ""
    body = (
        "<h1>Set up debtbot</h1>"
        "<p>debtbot is running, but it is not a GitHub App yet: it has no App id, private key "
        "or webhook secret. This page registers the App on GitHub and saves what GitHub hands "
        "back, so nothing needs to be copied or edited by hand.</p>"
        "<h2>What happens</h2><ol>"
        "<li>Choose below who will own the App, on which GitHub, and its name.</li>"
        "<li>The next page sends GitHub a description of the App: its name, this server's "
        "addresses, the events it listens to and the least permissions it needs. GitHub shows "
        "it to you and asks you to confirm.</li>"
        "<li>GitHub sends your browser back here with a one-time code. debtbot trades it for "
        "the App's id, private key and webhook secret and writes them to "
        f"<code>{escape(str(env_file))}</code>, readable by its owner alone. The App starts "
        "reviewing at once, with no restart.</li>"
        "<li>GitHub then asks which repositories the App may review.</li></ol>"
        f"{_reachability(public_url)}"
        + (f'<ul class="error">{problems}</ul>' if problems else "")
        + '<form method="post" action="/setup">'
        "<fieldset><legend>Who owns the App</legend>"
        f'<label><input type="radio" name="owner" value="user"{user_checked}> '
        "My personal account</label>"
        f'<label><input type="radio" name="owner" value="organisation"{org_checked}> '
        "An organisation (you must be one of its owners):</label>"
        '<input type="text" name="organisation" placeholder="organisation login" '
        f'value="{escape(values.organisation)}"></fieldset>'
        '<label for="github_url">GitHub: https://github.com, or the address of your GitHub '
        "Enterprise Server</label>"
        f'<input type="url" id="github_url" name="github_url" value="{escape(values.github_url)}">'
        '<label for="name">App name (unique on that GitHub; you can change it on the next '
        "pages)</label>"
        f'<input type="text" id="name" name="name" value="{escape(values.name)}" maxlength="34">'
        '<button type="submit">Continue</button></form>'
    )
    return page("Set up", body, status_code=400 if errors else 200)


def _reachability(public_url: str) -> str:
    where = (
        f"<p>GitHub will send webhooks to <code>{escape(public_url)}/webhook</code>.</p>"
        if public_url
        else ""
    )
    if (urlsplit(public_url).hostname or "") not in LOCAL_HOSTS:
        return where
    return where + (
        '<p class="error">GitHub cannot reach this computer at that address. Start a tunnel '
        "or webhook proxy (a smee.io channel with its client, cloudflared or ngrok) forwarding "
        "to this server, set <code>PUBLIC_URL</code> to its address, restart "
        "<code>debtbot serve</code> and open this page again. Or open this page through the "
        "tunnel's address.</p>"
    )


def confirm_page(
    action: str, manifest: dict[str, Any], account: str, github_url: str
) -> HTMLResponse:
    text = json.dumps(manifest, indent=2)
    body = (
        f"<h1>Register {escape(manifest['name'])}</h1>"
        f"<p>The button sends the description below to {escape(github_url)}, which registers "
        f"the App for {escape(account)} once you confirm there. This step works once, within "
        "the hour.</p>"
        f'<form method="post" action="{escape(action)}">'
        f'<input type="hidden" name="manifest" value="{escape(json.dumps(manifest))}">'
        '<button type="submit">Register GitHub App</button></form>'
        f"<details><summary>What is sent</summary><pre>{escape(text)}</pre></details>"
    )
    return page("Register the App", body)


def problem(title: str, text: str, status_code: int, retry: str | None = None) -> HTMLResponse:
    """A failed step: what went wrong and what to do, with a link to try the step again."""
    link = f'<p><a href="{escape(retry)}">Try again</a>.</p>' if retry else START_AGAIN
    return page(title, f"<h1>{escape(title)}</h1><p>{text}</p>{link}", status_code=status_code)


def unknown_state() -> HTMLResponse:
    return problem(
        "Registration link expired",
        "This link back from GitHub is unknown to debtbot: it has been used already, is more "
        "than an hour old, or debtbot restarted since it was made. Nothing was saved. If GitHub "
        "registered an App anyway, delete it in your GitHub settings (Developer settings, "
        "GitHub Apps) before registering again.",
        400,
    )


def already_registered() -> HTMLResponse:
    return problem(
        "Already registered",
        "debtbot has registered an App already (from another tab or link) and saved its "
        "credentials; this link was not used.",
        409,
    )


def code_rejected(status: int | None) -> HTMLResponse:
    return problem(
        "GitHub no longer accepts this code",
        f"GitHub refused the registration code ({status}): it has expired (codes last an hour) "
        "or has been used already. Nothing was saved. If GitHub shows the App in your settings "
        "(Developer settings, GitHub Apps), delete it, then register again.",
        400,
    )


def rate_limited(retry_at: datetime | None, now: datetime, retry: str) -> HTMLResponse:
    if retry_at is None:
        when = "in a few minutes"
    else:
        minutes = max(1, round((retry_at - now).total_seconds() / 60))
        when = f"after {retry_at:%H:%M} UTC (in about {minutes} minute{'s' * (minutes != 1)})"
    return problem(
        "GitHub's rate limit is used up",
        f"GitHub will not answer this address until its rate limit resets. Try again {when}: "
        "the code GitHub gave stays valid for an hour after the App was registered, and "
        "nothing is lost meanwhile.",
        503,
        retry,
    )


def unavailable(reason: str, retry: str) -> HTMLResponse:
    return problem(
        "GitHub is not answering",
        f"debtbot could not get the App's credentials from GitHub ({escape(reason)}). Try again "
        "in a moment: the code GitHub gave stays valid for an hour, and nothing is lost "
        "meanwhile.",
        502,
        retry,
    )


def refused(reason: str) -> HTMLResponse:
    return problem(
        "GitHub refused the registration",
        f"{escape(reason)}. Nothing was saved.",
        502,
    )


def incomplete(reason: str) -> HTMLResponse:
    return problem(
        "GitHub's answer was incomplete",
        f"GitHub accepted the code but its answer cannot be used ({escape(reason)}), so nothing "
        "was saved. The App may exist on GitHub now: delete it in your settings (Developer "
        "settings, GitHub Apps), then register again.",
        502,
    )


def cannot_save(env_file: Path, reason: str, retry: str) -> HTMLResponse:
    return problem(
        "The credentials could not be saved",
        f"GitHub registered the App, but writing <code>{escape(str(env_file))}</code> failed: "
        f"{escape(reason)}. debtbot keeps the credentials in memory until it stops: fix the "
        "folder's permissions or space, then try again.",
        500,
        retry,
    )


def cannot_start(env_file: Path, reason: str) -> HTMLResponse:
    return problem(
        "The App could not start",
        f"The App is registered and its credentials are in <code>{escape(str(env_file))}"
        f"</code>, but it could not start: {escape(reason)}. Fix this, then restart "
        "<code>debtbot serve</code>; it will start with the saved credentials.",
        500,
    )
