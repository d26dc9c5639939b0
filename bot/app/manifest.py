"""The App's manifest (app.yml, in Probot's format) filled in for this server, and where on
GitHub it is sent: the two halves of the registration that need no network."""

from __future__ import annotations

from importlib.resources import files
from typing import Any
from urllib.parse import quote, urlencode

import yaml

from bot.settings import GITHUB_COM, GITHUB_COM_API

MANIFEST = "app.yml"
WEBHOOK_PATH = "/webhook"
CALLBACK_PATH = "/setup/callback"
SIGN_IN_CALLBACK_PATH = "/dashboard/callback"


def app_manifest(public_url: str, name: str) -> dict[str, Any]:
    """app.yml with the App's name and this server's addresses in place of the placeholders."""
    manifest = yaml.safe_load((files("bot.app") / MANIFEST).read_text(encoding="utf-8"))
    manifest["name"] = name
    manifest["url"] = public_url
    manifest["hook_attributes"]["url"] = public_url + WEBHOOK_PATH
    manifest["redirect_url"] = public_url + CALLBACK_PATH
    manifest["callback_urls"] = [public_url + SIGN_IN_CALLBACK_PATH]
    return manifest


def registration_url(github_url: str, organisation: str | None, state: str) -> str:
    """GitHub's page that takes a manifest: for the person's own account, or an organisation."""
    if organisation:
        page = f"{github_url}/organizations/{quote(organisation, safe='')}/settings/apps/new"
    else:
        page = f"{github_url}/settings/apps/new"
    return f"{page}?{urlencode({'state': state})}"


def api_url_for(github_url: str, configured_github_url: str, configured_api_url: str | None) -> str:
    """The REST API of the GitHub at ``github_url``: GITHUB_API_URL when it was set for that same
    GitHub, else api.github.com for github.com and {server}/api/v3 for an Enterprise Server."""
    if configured_api_url and github_url == configured_github_url:
        return configured_api_url
    if github_url == GITHUB_COM:
        return GITHUB_COM_API
    return f"{github_url}/api/v3"
