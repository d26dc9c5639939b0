"""The dashboard's sign-in and access calls at the HTTP boundary (httpx, mocked by respx), with
GitHub's own answers: a token, 200 with an error for a bad code, 401, rate limits, 404, 422,
5xx and no answer at all."""

from __future__ import annotations

import asyncio
import time

import httpx
import pytest
import respx

from bot.github import oauth
from bot.github.errors import (
    GitHubError,
    IncompleteAnswer,
    NotFound,
    RateLimited,
    Unavailable,
    Unprocessable,
)

WEB = "https://github.example"
API = "https://api.github.example"
TOKEN_URL = f"{WEB}/login/oauth/access_token"


def run(coroutine):
    return asyncio.run(coroutine)


def exchange():
    return run(oauth.exchange_code(WEB, "Iv1.id", "secret", "the-code", "https://d.example/cb"))


def test_the_authorize_url_carries_client_state_and_callback() -> None:
    url = oauth.authorize_url(WEB + "/", "Iv1.id", "https://d.example/dashboard/callback", "s t")
    assert url == (
        f"{WEB}/login/oauth/authorize?client_id=Iv1.id"
        "&redirect_uri=https%3A%2F%2Fd.example%2Fdashboard%2Fcallback&state=s+t"
    )


@respx.mock
def test_a_code_is_traded_for_an_expiring_token_and_its_refresh_token() -> None:
    route = respx.post(TOKEN_URL).respond(
        200,
        json={
            "access_token": "ghu_abc",
            "expires_in": 28800,
            "refresh_token": "ghr_def",
            "refresh_token_expires_in": 15811200,
            "token_type": "bearer",
            "scope": "",
        },
    )
    token = exchange()
    assert token.access_token == "ghu_abc" and token.refresh_token == "ghr_def"
    assert token.expires_at is not None
    assert abs(token.expires_at.timestamp() - (time.time() + 28800)) < 60
    sent = route.calls.last.request
    assert sent.headers["accept"] == "application/json"
    form = dict(httpx.QueryParams(sent.content.decode()))
    assert form == {
        "client_id": "Iv1.id",
        "client_secret": "secret",
        "code": "the-code",
        "redirect_uri": "https://d.example/cb",
    }
    assert "ghu_abc" not in repr(token) and "ghr_def" not in repr(token)


@respx.mock
def test_a_bad_code_is_a_200_with_an_error_and_a_refused_sign_in() -> None:
    respx.post(TOKEN_URL).respond(
        200,
        json={
            "error": "bad_verification_code",
            "error_description": "The code passed is incorrect or expired.",
        },
    )
    with pytest.raises(oauth.SignInError, match="incorrect or expired"):
        exchange()


@respx.mock
def test_a_refresh_sends_the_refresh_grant() -> None:
    route = respx.post(TOKEN_URL).respond(200, json={"access_token": "ghu_new"})
    token = run(oauth.refresh(WEB, "Iv1.id", "secret", "ghr_old"))
    assert token.access_token == "ghu_new" and token.expires_at is None
    form = dict(httpx.QueryParams(route.calls.last.request.content.decode()))
    assert form["grant_type"] == "refresh_token" and form["refresh_token"] == "ghr_old"


@pytest.mark.parametrize(
    ("status", "headers", "error"),
    [
        (403, {"x-ratelimit-remaining": "0", "x-ratelimit-reset": str(int(time.time()) + 60)},
         RateLimited),
        (404, {}, NotFound),
        (422, {}, Unprocessable),
        (500, {}, Unavailable),
        (503, {}, Unavailable),
        (401, {}, GitHubError),
    ],
)  # fmt: skip
@respx.mock
def test_the_token_endpoints_refusals_become_our_errors(status, headers, error) -> None:
    respx.post(TOKEN_URL).respond(status, headers=headers, json={"message": "no"})
    with pytest.raises(error):
        exchange()


@respx.mock
def test_no_answer_and_no_json_are_clear_errors() -> None:
    respx.post(TOKEN_URL).mock(side_effect=httpx.ConnectTimeout("slow"))
    with pytest.raises(Unavailable, match="did not answer"):
        exchange()
    respx.post(TOKEN_URL).respond(200, text="<html>")
    with pytest.raises(IncompleteAnswer):
        exchange()
    respx.post(TOKEN_URL).respond(200, json={"token_type": "bearer"})
    with pytest.raises(IncompleteAnswer, match="access_token"):
        exchange()


def installation(installation_id: int, login: str, kind: str) -> dict:
    return {"id": installation_id, "account": {"login": login, "type": kind}}


@respx.mock
def test_access_reads_every_page_and_each_membership() -> None:
    respx.get(f"{API}/user").respond(200, json={"login": "Alice", "id": 7})
    # respx takes the first route that matches: the second page's, more precise, goes first.
    respx.get(f"{API}/user/installations", params={"page": "2"}).respond(
        200, json={"total_count": 2, "installations": [installation(2, "Alice", "User")]}
    )
    respx.get(f"{API}/user/installations", params={"per_page": "100"}).respond(
        200,
        json={"total_count": 2, "installations": [installation(1, "Octo-Org", "Organization")]},
        headers={"link": f'<{API}/user/installations?per_page=100&page=2>; rel="next"'},
    )
    respx.get(f"{API}/user/installations/1/repositories").respond(
        200, json={"total_count": 1, "repositories": [{"full_name": "Octo-Org/Models"}]}
    )
    respx.get(f"{API}/user/installations/2/repositories").respond(
        200, json={"total_count": 1, "repositories": [{"full_name": "Alice/notes"}]}
    )
    membership = respx.get(f"{API}/user/memberships/orgs/Octo-Org").respond(
        200, json={"state": "active", "role": "member"}
    )
    access = run(oauth.user_access(API, "ghu_abc"))
    assert access.login == "Alice" and access.user_id == 7
    assert [i.account for i in access.installations] == ["Octo-Org", "Alice"]
    assert access.repositories == {"octo-org/models", "alice/notes"}
    assert access.member_of == {"octo-org"}
    assert membership.calls.last.request.headers["authorization"] == "Bearer ghu_abc"


@respx.mock
def test_a_pending_or_missing_membership_is_not_membership() -> None:
    respx.get(f"{API}/user").respond(200, json={"login": "bob", "id": 8})
    respx.get(f"{API}/user/installations").respond(
        200,
        json={
            "total_count": 2,
            "installations": [
                installation(1, "octo-org", "Organization"),
                installation(3, "other-org", "Organization"),
            ],
        },
    )
    respx.get(url__regex=rf"{API}/user/installations/\d+/repositories.*").respond(
        200, json={"total_count": 0, "repositories": []}
    )
    respx.get(f"{API}/user/memberships/orgs/octo-org").respond(404, json={"message": "Not Found"})
    respx.get(f"{API}/user/memberships/orgs/other-org").respond(
        200, json={"state": "pending", "role": "member"}
    )
    assert run(oauth.user_access(API, "ghu_b")).member_of == frozenset()


@respx.mock
def test_a_token_github_no_longer_takes_is_revoked_not_a_failure() -> None:
    respx.get(f"{API}/user").respond(401, json={"message": "Bad credentials"})
    with pytest.raises(oauth.TokenRevoked):
        run(oauth.user_access(API, "ghu_old"))


@pytest.mark.parametrize(
    ("status", "headers", "error"),
    [
        (403, {"x-ratelimit-remaining": "0", "x-ratelimit-reset": "1900000000"}, RateLimited),
        (429, {"retry-after": "30"}, RateLimited),
        (502, {}, Unavailable),
    ],
)
@respx.mock
def test_access_fails_loudly_when_github_cannot_answer(status, headers, error) -> None:
    respx.get(f"{API}/user").respond(200, json={"login": "alice", "id": 7})
    respx.get(f"{API}/user/installations").respond(status, headers=headers, json={"message": "x"})
    with pytest.raises(error):
        run(oauth.user_access(API, "ghu_abc"))


@respx.mock
def test_an_answer_without_the_list_is_incomplete() -> None:
    respx.get(f"{API}/user").respond(200, json={"login": "alice", "id": 7})
    respx.get(f"{API}/user/installations").respond(200, json={"message": "odd"})
    with pytest.raises(IncompleteAnswer, match="installations"):
        run(oauth.user_access(API, "ghu_abc"))


@respx.mock
def test_a_link_that_leads_back_is_not_followed_forever() -> None:
    respx.get(f"{API}/user").respond(200, json={"login": "alice", "id": 7})
    respx.get(f"{API}/user/installations").respond(
        200,
        json={"total_count": 1, "installations": []},
        headers={"link": f'<{API}/user/installations?per_page=100>; rel="next"'},
    )
    with pytest.raises(IncompleteAnswer, match="same page"):
        run(oauth.user_access(API, "ghu_abc"))
