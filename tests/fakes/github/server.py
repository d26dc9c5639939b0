"""The simulated GitHub's HTTP side: a real server on 127.0.0.1 that answers the App's REST and
GraphQL requests from the state of state.py, as GitHub would (authentication, validation, 404s
and 422s, paging, rate-limit headers), with bodies from payloads.py; it records every request,
and fails or answers late when the test scripts it to.

Its web side (outside the API prefix, as on a GitHub Enterprise Server) takes a manifest posted
by a browser (``/settings/apps/new``, or an organisation's) and sends the browser back to the
manifest's redirect_url with a code, which ``POST /app-manifests/{code}/conversions`` trades for
the App's credentials: GitHub's manifest flow, minus the page where a person confirms. It also
serves repositories to git (the "dumb" HTTP protocol: plain files) once ``serve_git`` is told
where they are, to installation tokens of their installation only.

``FakeGitHub`` is the state with all this added; ``running_fake_github`` and the ``fake_github``
fixture start and stop one.
"""

from __future__ import annotations

import base64
import json
import math
import re
import secrets
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

import jwt
import pytest
from sqlalchemy.orm import Session, sessionmaker

from bot.github.client import GitHubApp
from bot.github.mirror import Mirrors
from bot.services import Services
from bot.settings import Settings
from tests.fakes.github import payloads
from tests.fakes.github.state import (
    BOT_LOGIN,
    FakePull,
    FakeRepository,
    GitHubState,
    now_text,
    public,
)

RATE_LIMIT = 5000
ANNOTATIONS_PER_REQUEST = 50
CHECK_RUN_CONCLUSIONS = {
    "action_required",
    "cancelled",
    "failure",
    "neutral",
    "success",
    "skipped",
    "stale",
    "timed_out",
}


@dataclass(frozen=True)
class RecordedRequest:
    """A request as the server received it, for tests to inspect."""

    method: str
    path: str  # relative to the API base (or "/graphql"), without the query string
    query: dict[str, list[str]]
    headers: dict[str, str]  # lower-case names
    json: Any
    at: float  # time.monotonic() when it arrived
    form: dict[str, str] | None = None  # a form's fields (x-www-form-urlencoded), first values


@dataclass
class ScriptedFailure:
    """The answer the test scripted for the next ``times`` matching requests."""

    method: str
    path: re.Pattern[str]
    status: int
    headers: dict[str, str]
    body: Any
    times: int


class _Reply(Exception):
    """Ends a request early with GitHub's answer (404, 422, ...)."""

    def __init__(self, status: int, body: Any, headers: dict[str, str] | None = None) -> None:
        super().__init__(status)
        self.status = status
        self.body = body
        self.headers = headers or {}


def _unprocessable(reason: str) -> _Reply:
    return _Reply(422, {"message": "Unprocessable Entity", "errors": [reason]})


def _not_found() -> _Reply:
    return _Reply(404, {"message": "Not Found"})


_Route = tuple[str, re.Pattern[str], Callable[..., tuple[int, Any]]]


class FakeGitHub(GitHubState):
    """The simulated GitHub: its state, served over HTTP, with failures the test scripts."""

    def __init__(self, prefix: str = "") -> None:
        super().__init__()
        self.prefix = prefix.rstrip("/")
        self.graphql_path = (self.prefix.removesuffix("/v3") or "") + "/graphql"
        self.requests: list[RecordedRequest] = []
        self.rate_limit_remaining = RATE_LIMIT
        self._failures: list[ScriptedFailure] = []
        self._pauses: list[tuple[str, re.Pattern[str], float]] = []
        self._server: ThreadingHTTPServer | None = None
        self._routes = self._route_table()
        self._web_routes = self._web_route_table()
        self.git_root: Path | None = None

    # -- scripting failures ------------------------------------------------------------------

    def fail(
        self,
        method: str,
        path: str,
        status: int,
        *,
        times: int = 1,
        headers: dict[str, str] | None = None,
        body: Any = None,
    ) -> None:
        """Answer the next ``times`` requests matching ``method`` and the regex ``path``
        (relative to the API base) with ``status`` instead of handling them."""
        with self.lock:
            self._failures.append(
                ScriptedFailure(
                    method=method.upper(),
                    path=re.compile(path),
                    status=status,
                    headers=headers or {},
                    body=body if body is not None else {"message": "Server Error"},
                    times=times,
                )
            )

    def answer_late(self, method: str, path: str, seconds: float) -> None:
        """Handle the next matching request, then wait ``seconds`` before answering: GitHub did
        the work, but a client with a shorter timeout never hears of it."""
        with self.lock:
            self._pauses.append((method.upper(), re.compile(path), seconds))

    def fail_with_rate_limit(self, method: str, path: str, reset_in: float, times: int = 1) -> None:
        """403 as GitHub answers when the primary rate limit is used up."""
        # An epoch second, as GitHub sends it: rounded up so the reset is never sooner than asked.
        reset = math.ceil(time.time() + reset_in)
        self.fail(
            method,
            path,
            403,
            times=times,
            headers={"x-ratelimit-remaining": "0", "x-ratelimit-reset": str(reset)},
            body={
                "message": "API rate limit exceeded for installation ID 1.",
                "documentation_url": "https://docs.github.com/rest/rate-limit",
            },
        )

    def fail_with_retry_after(
        self, method: str, path: str, retry_after: int, status: int = 429, times: int = 1
    ) -> None:
        """429 (or 403) with Retry-After, as for secondary rate limits."""
        self.fail(
            method,
            path,
            status,
            times=times,
            headers={"retry-after": str(retry_after)},
            body={"message": "You have exceeded a secondary rate limit. Please retry later."},
        )

    # -- inspecting --------------------------------------------------------------------------

    def requests_to(self, method: str, path: str) -> list[RecordedRequest]:
        """Recorded requests with this method whose relative path matches the regex ``path``."""
        pattern = re.compile(path)
        with self.lock:
            return [
                request
                for request in self.requests
                if request.method == method.upper() and pattern.fullmatch(request.path)
            ]

    # -- pointing the App at this server -----------------------------------------------------

    def github_app(self, **overrides: Any) -> GitHubApp:
        """The App pointed at this server, with waits short enough for tests."""
        fast: dict[str, Any] = {
            "app_id": self.app_id,
            "private_key": self.private_key,
            "api_url": self.url,
            "backoff_factor": 0.01,
            "secondary_rate_wait": 0.2,
            "seconds_between_requests": 0.0,
            "seconds_between_writes": 0.0,
            "timeout": 10,
        }
        return GitHubApp(**(fast | overrides))

    def settings(self, data_dir: Path, **overrides: Any) -> Settings:
        """The App's settings pointed at this server (no .env file or environment read)."""
        values: dict[str, Any] = {
            "github_app_id": self.app_id,
            "github_private_key": self.private_key,
            "github_webhook_secret": "test-webhook-secret",
            "github_api_url": self.url,
            "github_client_id": self.client_id,
            "github_client_secret": self.client_secret,
            "public_url": "https://debtbot.example.com",
            "data_dir": data_dir,
        }
        return Settings(_env_file=None, **(values | overrides))

    def services(
        self,
        sessions: sessionmaker[Session],
        data_dir: Path,
        git_url: str,
        clock: Callable[[], datetime] | None = None,
        **settings: Any,
    ) -> Services:
        """What the App's jobs use, pointed at this server, with git fetching from ``git_url``
        (a folder holding ``owner/name.git`` remotes) and the App's waits made short."""
        services = Services(
            settings=self.settings(data_dir, **settings),
            sessions=sessions,
            github=self.github_app(),
            mirrors=Mirrors(data_dir, git_url),
        )
        return services if clock is None else replace(services, clock=clock)

    def environment(self) -> dict[str, str]:
        """The App's settings as environment variables, pointed at this server."""
        return {
            "GITHUB_APP_ID": str(self.app_id),
            "GITHUB_PRIVATE_KEY": self.private_key,
            "GITHUB_API_URL": self.url,
        }

    def serve_git(self, root: Path) -> None:
        """Serve the bare repositories under ``root`` (``owner/name.git``) at
        ``{web_url}/owner/name.git``, as GitHub serves clones."""
        self.git_root = Path(root)

    @property
    def web_url(self) -> str:
        """GitHub's web side: the server's root (the API is under ``prefix`` on a GHES)."""
        return self.url.removesuffix(self.prefix)

    # -- webhook payloads --------------------------------------------------------------------

    def pull_request_event(self, full_name: str, number: int, action: str = "opened") -> dict:
        """A ``pull_request`` webhook payload for a pull request of this server."""
        with self.lock:
            return payloads.pull_request_event(self, full_name, number, action)

    def issue_comment_event(
        self, full_name: str, number: int, comment: dict[str, Any], action: str = "created"
    ) -> dict:
        """An ``issue_comment`` webhook payload for a comment on a pull request of this server."""
        with self.lock:
            return payloads.issue_comment_event(self, full_name, number, comment, action)

    def push_event(self, full_name: str, before: str, after: str, ref: str | None = None) -> dict:
        """A ``push`` webhook payload for a repository of this server."""
        with self.lock:
            return payloads.push_event(self, full_name, before, after, ref)

    def installation_event(self, installation_id: int, action: str = "created") -> dict:
        """An ``installation`` webhook payload, listing the installation's repositories as
        GitHub does when the App is installed."""
        with self.lock:
            return payloads.installation_event(self, installation_id, action)

    # -- serving -----------------------------------------------------------------------------

    def start(self) -> None:
        fake = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"
            # Headers and body in one write: split writes meet delayed ACKs, 40 ms a request.
            wbufsize = 1 << 16
            disable_nagle_algorithm = True

            def _serve(self) -> None:
                length = int(self.headers.get("content-length") or 0)
                raw = self.rfile.read(length) if length else b""
                headers = {name.lower(): value for name, value in self.headers.items()}
                status, reply_headers, body = fake.handle(self.command, self.path, headers, raw)
                if isinstance(body, bytes):  # a file served to git
                    payload, content_type = body, "application/octet-stream"
                else:
                    payload = b"" if body is None else json.dumps(body).encode()
                    content_type = "application/json; charset=utf-8"
                self.send_response(status)
                for name, value in reply_headers.items():
                    self.send_header(name, value)
                self.send_header("content-type", content_type)
                self.send_header("content-length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

            do_GET = do_POST = do_PATCH = do_PUT = do_DELETE = _serve

            def log_message(self, format: str, *args: Any) -> None:
                pass  # requests are recorded in fake.requests; stderr stays quiet

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        host, port = self._server.server_address[:2]
        self.url = f"http://{host}:{port}{self.prefix}"
        threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        ).start()

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()

    def handle(
        self, method: str, raw_path: str, headers: dict[str, str], raw_body: bytes
    ) -> tuple[int, dict[str, str], Any]:
        parts = urlsplit(raw_path)
        path = parts.path
        relative = "/graphql" if path == self.graphql_path else path.removeprefix(self.prefix)
        body, form = None, None
        if headers.get("content-type", "").startswith("application/x-www-form-urlencoded"):
            fields = parse_qs(raw_body.decode("utf-8", "replace"), keep_blank_values=True)
            form = {name: values[0] for name, values in fields.items()}
        else:
            try:
                body = json.loads(raw_body) if raw_body else None
            except ValueError:
                return 400, {}, {"message": "Problems parsing JSON"}
        request = RecordedRequest(
            method, relative, parse_qs(parts.query), headers, body, time.monotonic(), form
        )
        with self.lock:
            self.requests.append(request)
            self.rate_limit_remaining = max(self.rate_limit_remaining - 1, 0)
            status, extra, answer = self._answer(request, path)
            pause = self._pause_after(request)
        if pause:
            time.sleep(pause)  # done, but the answer comes too late for the client's timeout
        return status, self._rate_headers() | extra, answer

    def _pause_after(self, request: RecordedRequest) -> float:
        for index, (method, path, seconds) in enumerate(self._pauses):
            if method == request.method and path.fullmatch(request.path):
                del self._pauses[index]
                return seconds
        return 0.0

    def _answer(self, request: RecordedRequest, path: str) -> tuple[int, dict[str, str], Any]:
        failure = self._scripted_failure(request)
        if failure is not None:
            return failure.status, failure.headers, failure.body
        web = [(m, pattern.fullmatch(path), h) for m, pattern, h in self._web_routes]
        api = [(m, pattern.fullmatch(request.path), h) for m, pattern, h in self._routes]
        if not any(match for _, match, _ in web) and (
            path != self.graphql_path and not path.startswith(self.prefix + "/")
        ):
            return 404, {}, {"message": "Not Found"}
        try:
            for method, match, handler in [*web, *api]:
                if match and method == request.method:
                    status, answer, *extra = handler(request, *match.groups())
                    return status, (extra[0] if extra else {}), answer
            raise _not_found()
        except _Reply as reply:
            return reply.status, reply.headers, reply.body

    def _scripted_failure(self, request: RecordedRequest) -> ScriptedFailure | None:
        for failure in self._failures:
            if failure.method == request.method and failure.path.fullmatch(request.path):
                failure.times -= 1
                if failure.times <= 0:
                    self._failures.remove(failure)
                return failure
        return None

    def _rate_headers(self) -> dict[str, str]:
        return {
            "x-ratelimit-limit": str(RATE_LIMIT),
            "x-ratelimit-remaining": str(self.rate_limit_remaining),
            "x-ratelimit-used": str(RATE_LIMIT - self.rate_limit_remaining),
            "x-ratelimit-reset": str(int(time.time()) + 3600),
            "x-ratelimit-resource": "core",
            "x-github-request-id": f"FAKE:{len(self.requests)}",
        }

    def _route_table(self) -> list[_Route]:
        repo = r"/repos/([^/]+/[^/]+)"
        pull = repo + r"/pulls/(\d+)"
        routes: list[tuple[str, str, Callable[..., tuple[int, Any]]]] = [
            ("GET", r"/app", self._get_app),
            ("POST", r"/app/installations/(\d+)/access_tokens", self._create_token),
            ("GET", repo, self._get_repository),
            ("GET", pull, self._get_pull),
            ("GET", repo + r"/commits/([0-9a-f]{40})/pulls", self._pulls_of_commit),
            ("GET", pull + r"/comments", self._list_comments),
            ("POST", pull + r"/comments/(\d+)/replies", self._reply),
            ("GET", pull + r"/reviews", self._list_reviews),
            ("POST", pull + r"/reviews", self._create_review),
            ("DELETE", pull + r"/reviews/(\d+)", self._delete_review),
            ("GET", pull + r"/reviews/(\d+)/comments", self._list_review_comments),
            ("POST", repo + r"/check-runs", self._create_check_run),
            ("PATCH", repo + r"/check-runs/(\d+)", self._update_check_run),
            ("GET", repo + r"/check-runs/(\d+)", self._get_check_run),
            ("POST", r"/graphql", self._graphql),
            ("GET", repo + r"/collaborators/([^/]+)/permission", self._permission),
            ("GET", repo + r"/issues/(\d+)/comments", self._list_issue_comments),
            ("POST", repo + r"/issues/(\d+)/comments", self._create_issue_comment),
            ("GET", repo + r"/issues/comments/(\d+)", self._get_issue_comment),
            ("PATCH", repo + r"/issues/comments/(\d+)", self._update_issue_comment),
            ("POST", repo + r"/issues/comments/(\d+)/reactions", self._react),
            ("GET", repo + r"/contents/(.+)", self._get_contents),
            ("GET", repo + r"/issues", self._list_issues),
            ("POST", repo + r"/issues", self._create_issue),
            ("GET", r"/installation/repositories", self._installation_repositories),
            ("GET", r"/user", self._get_user),
            ("GET", r"/user/installations", self._user_installations),
            ("GET", r"/user/installations/(\d+)/repositories", self._user_repositories),
            ("GET", r"/user/memberships/orgs/([^/]+)", self._user_membership),
            ("POST", r"/app-manifests/([^/]+)/conversions", self._convert_manifest),
        ]
        return [(method, re.compile(path), handler) for method, path, handler in routes]

    def _web_route_table(self) -> list[_Route]:
        """Pages a browser or git reaches, by their full path (not under the API prefix)."""
        routes: list[tuple[str, str, Callable[..., tuple[int, Any]]]] = [
            ("POST", r"/settings/apps/new", self._new_app),
            ("POST", r"/organizations/([^/]+)/settings/apps/new", self._new_app),
            ("GET", r"/login/oauth/authorize", self._authorize),
            ("POST", r"/login/oauth/access_token", self._access_token),
            ("GET", r"/([^/]+/[^/]+)\.git/(.+)", self._git_file),
        ]
        return [(method, re.compile(path), handler) for method, path, handler in routes]

    # -- the manifest flow and git -------------------------------------------------------------

    def _new_app(self, request: RecordedRequest, organisation: str | None = None) -> tuple:
        """A browser posting the manifest form; GitHub would show it and ask to confirm first."""
        try:
            manifest = json.loads((request.form or {}).get("manifest") or "")
        except ValueError:
            manifest = None
        if not isinstance(manifest, dict):
            raise _unprocessable("manifest is missing or not JSON")
        lacking = [
            name
            for name, value in (
                ("name", manifest.get("name")),
                ("url", manifest.get("url")),
                ("hook_attributes.url", (manifest.get("hook_attributes") or {}).get("url")),
                ("redirect_url", manifest.get("redirect_url")),
            )
            if not isinstance(value, str) or not value
        ]
        if lacking:
            raise _unprocessable(f"manifest lacks {', '.join(lacking)}")
        code = secrets.token_hex(10)
        self.manifest_codes[code] = {"manifest": manifest, "organisation": organisation}
        answer = {"code": code, **{k: v[0] for k, v in request.query.items() if k == "state"}}
        target = manifest["redirect_url"]
        location = f"{target}{'&' if '?' in target else '?'}{urlencode(answer)}"
        return 302, None, {"location": location}

    def _convert_manifest(self, request: RecordedRequest, code: str) -> tuple:
        registration = self.manifest_codes.pop(code, None)
        if registration is None:
            raise _not_found()  # unknown, expired or used already: GitHub says no more
        self.webhook_secret = secrets.token_hex(20)
        self.registered_manifests.append(registration["manifest"])
        return 201, payloads.registered_app_json(
            self, registration["manifest"], registration["organisation"], self.web_url
        )

    def _git_file(self, request: RecordedRequest, full_name: str, path: str) -> tuple:
        repository = self.repositories.get(full_name)
        scheme, _, credential = request.headers.get("authorization", "").partition(" ")
        user, _, token = base64.b64decode(credential or "").decode(errors="replace").partition(":")
        issued = self.tokens.get(token) if scheme.lower() == "basic" else None
        if repository is None or self.git_root is None:
            raise _not_found()
        if issued is None or issued[0] != repository.installation_id or user != "x-access-token":
            raise _Reply(401, {"message": "Bad credentials"}, {"www-authenticate": "Basic"})
        root = (self.git_root / f"{full_name}.git").resolve()
        file = (root / path).resolve()
        if not file.is_relative_to(root) or not file.is_file():
            raise _not_found()
        return 200, file.read_bytes()

    # -- signing in with GitHub (the App's user authorization) ---------------------------------

    def _authorize(self, request: RecordedRequest) -> tuple:
        """The browser asks GitHub to sign its person in to the App; as if they approved."""
        query = {name: values[0] for name, values in request.query.items()}
        if query.get("client_id") != self.client_id:
            return 404, {"message": "Not Found"}
        redirect_uri = query.get("redirect_uri", "")
        registered = [u for m in self.registered_manifests for u in m.get("callback_urls", [])]
        if registered and redirect_uri not in registered:
            # GitHub's own answer to a redirect_uri the App did not register.
            error = {"error": "redirect_uri_mismatch", "state": query.get("state", "")}
            return 302, None, {"location": f"{registered[0]}?{urlencode(error)}"}
        if self.signed_in_as is None:
            return 401, {"message": "Sign in to GitHub first"}
        code = secrets.token_hex(10)
        self.oauth_codes[code] = (self.signed_in_as, redirect_uri)
        answer = urlencode({"code": code, "state": query.get("state", "")})
        return 302, None, {"location": f"{redirect_uri}?{answer}"}

    def _access_token(self, request: RecordedRequest) -> tuple:
        fields = request.form if request.form is not None else (request.json or {})
        if (fields.get("client_id"), fields.get("client_secret")) != (
            self.client_id,
            self.client_secret,
        ):
            return 200, {"error": "incorrect_client_credentials"}
        if fields.get("grant_type") == "refresh_token":
            login = self.refresh_tokens.pop(fields.get("refresh_token", ""), None)
            if login is None:
                return 200, {"error": "bad_refresh_token"}
        else:
            issued = self.oauth_codes.pop(fields.get("code", ""), None)
            if issued is None:
                return 200, {
                    "error": "bad_verification_code",
                    "error_description": "The code passed is incorrect or expired.",
                }
            login, redirect_uri = issued
            if fields.get("redirect_uri") not in (None, redirect_uri):
                return 200, {"error": "redirect_uri_mismatch"}
        token, refresh = f"ghu_fake{secrets.token_hex(8)}", f"ghr_fake{secrets.token_hex(8)}"
        self.user_tokens[token] = (login, datetime.now(UTC) + self.user_token_lifetime)
        self.refresh_tokens[refresh] = login
        return 200, {
            "access_token": token,
            "token_type": "bearer",
            "scope": "",
            "expires_in": int(self.user_token_lifetime.total_seconds()),
            "refresh_token": refresh,
            "refresh_token_expires_in": 15811200,
        }

    def _user_login(self, request: RecordedRequest) -> str:
        """The person whose unexpired user token authorizes the request."""
        _, _, credential = request.headers.get("authorization", "").partition(" ")
        if credential in self.tokens:
            raise _Reply(403, {"message": "Resource not accessible by integration"})
        issued = self.user_tokens.get(credential)
        if issued is None or issued[1] <= datetime.now(UTC):
            raise _Reply(401, {"message": "Bad credentials"})
        return issued[0]

    def _reachable(self, login: str, installation_id: int) -> list[FakeRepository]:
        return sorted(
            (
                r
                for r in self.repositories.values()
                if r.installation_id == installation_id and self.can_read(login, r)
            ),
            key=lambda r: r.full_name,
        )

    def _get_user(self, request: RecordedRequest) -> tuple:
        return 200, payloads.user_json(self.url, self._user_login(request))

    def _user_installations(self, request: RecordedRequest) -> tuple:
        login = self._user_login(request)
        reachable = [
            payloads.user_installation_json(self, installation_id, account)
            for installation_id, account in sorted(self.installations.items())
            if account.lower() == login.lower()
            or login in self.members.get(account.lower(), set())
            or self._reachable(login, installation_id)
        ]
        return self._wrapped_page(request, reachable, "installations")

    def _user_repositories(self, request: RecordedRequest, installation: str) -> tuple:
        login = self._user_login(request)
        installation_id = int(installation)
        account = self.installations.get(installation_id)
        repositories = self._reachable(login, installation_id) if account else []
        if account is None or (
            not repositories
            and account.lower() != login.lower()
            and login not in self.members.get(account.lower(), set())
        ):
            raise _not_found()
        items = [payloads.repository_json(self, r) for r in repositories]
        return self._wrapped_page(request, items, "repositories")

    def _user_membership(self, request: RecordedRequest, organisation: str) -> tuple:
        login = self._user_login(request)
        if login not in self.members.get(organisation.lower(), set()):
            raise _not_found()
        return 200, {
            "state": "active",
            "role": "member",
            "organization": payloads.user_json(self.url, organisation, "Organization"),
            "user": payloads.user_json(self.url, login),
        }

    def _wrapped_page(
        self, request: RecordedRequest, items: list[dict[str, Any]], key: str
    ) -> tuple:
        """A page of a list GitHub wraps in an object with its total count."""
        status, chunk, headers = self._page(request, items)
        return status, {"total_count": len(items), key: chunk}, headers

    # -- authentication ----------------------------------------------------------------------

    def _require_app(self, request: RecordedRequest) -> None:
        scheme, _, credential = request.headers.get("authorization", "").partition(" ")
        if scheme.lower() != "bearer":
            raise _Reply(401, {"message": "A JSON web token could not be decoded"})
        try:
            claims = jwt.decode(credential, self._public_key, algorithms=["RS256"])
        except jwt.PyJWTError as error:
            message = f"A JSON web token could not be verified: {error}"
            raise _Reply(401, {"message": message}) from error
        if str(claims.get("iss")) != str(self.app_id):
            raise _Reply(401, {"message": "The JWT's issuer is not this App"})

    def _token_installation(self, request: RecordedRequest) -> int:
        """The installation whose unexpired token authorizes the request."""
        _, _, credential = request.headers.get("authorization", "").partition(" ")
        issued = self.tokens.get(credential)
        if issued is None or issued[1] <= datetime.now(UTC):
            raise _Reply(401, {"message": "Bad credentials"})
        return issued[0]

    def _require_installation(self, request: RecordedRequest, full_name: str) -> FakeRepository:
        installation_id = self._token_installation(request)
        repository = self.repositories.get(full_name)
        if repository is None or repository.installation_id != installation_id:
            raise _not_found()  # GitHub hides what the installation cannot see
        return repository

    # -- REST handlers -----------------------------------------------------------------------

    def _get_app(self, request: RecordedRequest) -> tuple[int, Any]:
        self._require_app(request)
        return 200, payloads.app_json(self)

    def _create_token(self, request: RecordedRequest, installation: str) -> tuple[int, Any]:
        self._require_app(request)
        installation_id = int(installation)
        if installation_id not in self.installations:
            raise _not_found()
        token, expires_at = self._new_token(installation_id)
        return 201, payloads.token_json(token, expires_at)

    def _installation_repositories(self, request: RecordedRequest) -> tuple[int, Any]:
        installation_id = self._token_installation(request)
        visible = sorted(
            (r for r in self.repositories.values() if r.installation_id == installation_id),
            key=lambda r: r.full_name,
        )
        _, page, headers = self._page(request, [payloads.repository_json(self, r) for r in visible])
        body = {"total_count": len(visible), "repository_selection": "selected"}
        return 200, body | {"repositories": page}, headers

    def _get_repository(self, request: RecordedRequest, full_name: str) -> tuple[int, Any]:
        repository = self._require_installation(request, full_name)
        return 200, payloads.repository_json(self, repository)

    def _get_pull(self, request: RecordedRequest, full_name: str, number: str) -> tuple[int, Any]:
        repository = self._require_installation(request, full_name)
        pull = self._find_pull(repository, number)
        return 200, payloads.pull_json(self, repository, pull)

    def _pulls_of_commit(self, request: RecordedRequest, full_name: str, sha: str) -> tuple:
        repository = self._require_installation(request, full_name)
        # GitHub lists the pull requests that hold the commit, merged and closed ones too.
        pulls = [p for _, p in sorted(repository.pulls.items())]
        holding = [p for p in pulls if sha in {p.head_sha, *p.commits}]
        return self._page(request, [payloads.pull_json(self, repository, p) for p in holding])

    def _list_comments(self, request: RecordedRequest, full_name: str, number: str) -> tuple:
        repository = self._require_installation(request, full_name)
        pull = self._find_pull(repository, number)
        return self._page(request, pull.comments)

    def _list_reviews(self, request: RecordedRequest, full_name: str, number: str) -> tuple:
        repository = self._require_installation(request, full_name)
        pull = self._find_pull(repository, number)
        return self._page(request, pull.reviews)

    def _list_review_comments(
        self, request: RecordedRequest, full_name: str, number: str, review_id: str
    ) -> tuple:
        repository = self._require_installation(request, full_name)
        pull = self._find_pull(repository, number)
        review = self._find_review(pull, review_id)
        return self._page(request, review["_comments"])

    def _create_review(self, request: RecordedRequest, full_name: str, number: str) -> tuple:
        repository = self._require_installation(request, full_name)
        pull = self._find_pull(repository, number)
        body = request.json or {}
        commit_id = body.get("commit_id") or pull.head_sha
        if commit_id not in pull.commits:
            raise _unprocessable("The commit_id is not part of the pull request")
        event = body.get("event")
        if event not in (None, "COMMENT", "APPROVE", "REQUEST_CHANGES"):
            raise _unprocessable(f"Unknown review event {event!r}")
        specs = body.get("comments") or []
        if event in ("COMMENT", "REQUEST_CHANGES") and not body.get("body") and not specs:
            raise _unprocessable("A comment review needs a body or comments")
        if self.pending_reviews(pull.full_name, pull.number):
            # GitHub refuses a submitted review too while the author holds a pending one.
            raise _unprocessable("User can only have one pending review per pull request")
        for spec in specs:
            self._check_placement(pull, spec)
        state = {"COMMENT": "COMMENTED", "APPROVE": "APPROVED"}.get(event or "", "PENDING")
        if event == "REQUEST_CHANGES":
            state = "CHANGES_REQUESTED"
        review = self._new_review(pull, commit_id, body.get("body") or "", state, BOT_LOGIN)
        comments = [self._new_comment(pull, review, spec, BOT_LOGIN, None) for spec in specs]
        pull.reviews.append(review)
        if state != "PENDING":
            self._submit_comments(pull, comments)
        return 200, public(review)

    def _check_placement(self, pull: FakePull, spec: dict[str, Any]) -> None:
        lines = pull.commentable.get(spec.get("path", ""), set())
        line = spec.get("line")
        if not isinstance(line, int) or spec.get("side", "RIGHT") != "RIGHT":
            raise _unprocessable("Pull request review thread line must be part of the diff")
        start = spec.get("start_line", line)
        if not isinstance(start, int) or start > line:
            raise _unprocessable("start_line must precede the end line")
        if start == line and "start_line" in spec:
            raise _unprocessable("start_line must precede the end line")
        if not set(range(start, line + 1)) <= lines:
            raise _unprocessable("Pull request review thread line must be part of the diff")

    def _delete_review(
        self, request: RecordedRequest, full_name: str, number: str, review_id: str
    ) -> tuple:
        repository = self._require_installation(request, full_name)
        pull = self._find_pull(repository, number)
        review = self._find_review(pull, review_id)
        if review["state"] != "PENDING":
            raise _unprocessable("Can not delete a non-pending pull request review")
        pull.reviews.remove(review)
        return 200, public(review)

    def _reply(
        self, request: RecordedRequest, full_name: str, number: str, comment_id: str
    ) -> tuple:
        repository = self._require_installation(request, full_name)
        pull = self._find_pull(repository, number)
        target = next((c for c in pull.comments if c["id"] == int(comment_id)), None)
        text = (request.json or {}).get("body")
        if target is None:
            raise _not_found()
        if not text:
            raise _unprocessable("body is missing")
        if self.pending_reviews(pull.full_name, pull.number):
            raise _unprocessable("user_id can only have one pending review per pull request")
        root = target.get("in_reply_to_id") or target["id"]
        review = self._new_review(pull, pull.head_sha, "", "COMMENTED", BOT_LOGIN)
        pull.reviews.append(review)
        spec = {"path": target["path"], "line": target["line"], "body": text}
        reply = self._new_comment(pull, review, spec, BOT_LOGIN, root)
        self._submit_comments(pull, [reply])
        return 201, public(reply)

    def _create_check_run(self, request: RecordedRequest, full_name: str) -> tuple:
        repository = self._require_installation(request, full_name)
        body = request.json or {}
        if not body.get("name") or not body.get("head_sha"):
            raise _unprocessable("name and head_sha are required")
        run = self._new_check_run(repository, body)
        self._apply_check_run_update(run, body)
        self.check_runs[run["id"]] = run
        return 201, payloads.check_run_json(run)

    def _update_check_run(self, request: RecordedRequest, full_name: str, run_id: str) -> tuple:
        self._require_installation(request, full_name)
        run = self.check_runs.get(int(run_id))
        if run is None or run["_repository"] != full_name:
            raise _not_found()
        self._apply_check_run_update(run, request.json or {})
        return 200, payloads.check_run_json(run)

    def _get_check_run(self, request: RecordedRequest, full_name: str, run_id: str) -> tuple:
        self._require_installation(request, full_name)
        run = self.check_runs.get(int(run_id))
        if run is None or run["_repository"] != full_name:
            raise _not_found()
        return 200, payloads.check_run_json(run)

    def _apply_check_run_update(self, run: dict[str, Any], body: dict[str, Any]) -> None:
        output = body.get("output")
        annotations = (output or {}).get("annotations") or []
        if len(annotations) > ANNOTATIONS_PER_REQUEST:
            raise _unprocessable("Only 50 annotations are accepted per request")
        if output is not None and (not output.get("title") or not output.get("summary")):
            raise _unprocessable("output needs a title and a summary")
        for annotation in annotations:
            _check_annotation(annotation)
        conclusion = body.get("conclusion")
        if conclusion is not None and conclusion not in CHECK_RUN_CONCLUSIONS:
            raise _unprocessable(f"Unknown conclusion {conclusion!r}")
        if body.get("status") == "completed" and conclusion is None and not run["conclusion"]:
            raise _unprocessable("A completed check run needs a conclusion")
        if output is not None:
            run["_output"] = {"title": output["title"], "summary": output["summary"]}
        run["_annotations"].extend(annotations)
        run["status"] = body.get("status", run["status"])
        if conclusion is not None:
            run["conclusion"] = conclusion
            run["status"] = "completed"
            run["completed_at"] = body.get("completed_at") or now_text()

    # -- conversation comments and permissions ---------------------------------------------

    def _permission(self, request: RecordedRequest, full_name: str, login: str) -> tuple:
        self._require_installation(request, full_name)
        if login.startswith("ghost-"):
            raise _not_found()  # a login GitHub does not know
        role = self.roles.get((full_name, login))
        return 200, payloads.permission_json(self, login, role)

    def _list_issue_comments(self, request: RecordedRequest, full_name: str, number: str) -> tuple:
        repository = self._require_installation(request, full_name)
        return self._page(request, self._find_pull(repository, number).issue_comments)

    def _create_issue_comment(self, request: RecordedRequest, full_name: str, number: str) -> tuple:
        repository = self._require_installation(request, full_name)
        pull = self._find_pull(repository, number)
        body = _comment_text(request)
        comment = self._new_issue_comment(pull, body, BOT_LOGIN)
        pull.issue_comments.append(comment)
        return 201, public(comment)

    def _get_contents(self, request: RecordedRequest, full_name: str, path: str) -> tuple:
        repository = self._require_installation(request, full_name)
        text = repository.files.get(path)
        if text is None:
            raise _not_found()
        raw = text if isinstance(text, bytes) else text.encode()
        return 200, payloads.contents_json(self, repository, path, raw)

    def _list_issues(self, request: RecordedRequest, full_name: str) -> tuple:
        repository = self._require_installation(request, full_name)
        state = request.query.get("state", ["open"])[0]
        creator = request.query.get("creator", [None])[0]
        chosen = [
            issue
            for issue in reversed(repository.issues)  # GitHub lists the newest first
            if (state == "all" or issue["state"] == state)
            and (creator is None or issue["user"]["login"] == creator)
        ]
        return self._page(request, chosen)

    def _create_issue(self, request: RecordedRequest, full_name: str) -> tuple:
        repository = self._require_installation(request, full_name)
        fields = request.json or {}
        if not isinstance(fields.get("title"), str) or not fields["title"]:
            raise _unprocessable("title is missing")
        body = fields.get("body") or ""
        if len(body) >= COMMENT_LIMIT:
            raise _unprocessable("Body is too long (maximum is 65536 characters)")
        issue = self._new_issue(repository, fields["title"], body, BOT_LOGIN)
        repository.issues.append(issue)
        return 201, public(issue)

    def _get_issue_comment(
        self, request: RecordedRequest, full_name: str, comment_id: str
    ) -> tuple:
        repository = self._require_installation(request, full_name)
        return 200, public(self._issue_comment_in(repository, comment_id))

    def _update_issue_comment(
        self, request: RecordedRequest, full_name: str, comment_id: str
    ) -> tuple:
        repository = self._require_installation(request, full_name)
        comment = self._issue_comment_in(repository, comment_id)
        if comment["user"]["login"] != BOT_LOGIN:
            # GitHub would let the App's issues permission do this; the fake refuses, so that a
            # test notices when the App edits a comment it did not write.
            raise _Reply(403, {"message": "Resource not accessible by integration"})
        comment["body"] = _comment_text(request)
        comment["updated_at"] = now_text()
        return 200, public(comment)

    def _react(self, request: RecordedRequest, full_name: str, comment_id: str) -> tuple:
        repository = self._require_installation(request, full_name)
        comment = self._issue_comment_in(repository, comment_id)
        content = (request.json or {}).get("content")
        if content not in _REACTIONS:
            raise _unprocessable(f"Unknown reaction {content!r}")
        for reaction in comment["_reactions"]:
            if reaction["content"] == content and reaction["user"]["login"] == BOT_LOGIN:
                return 200, reaction  # GitHub answers 200 with the reaction already there
        reaction = self._new_reaction(comment_id, content, BOT_LOGIN)
        comment["_reactions"].append(reaction)
        return 201, reaction

    def _issue_comment_in(self, repository: FakeRepository, comment_id: str) -> dict[str, Any]:
        for pull in repository.pulls.values():
            for comment in pull.issue_comments:
                if comment["id"] == int(comment_id):
                    return comment
        raise _not_found()

    # -- GraphQL -----------------------------------------------------------------------------

    def _graphql(self, request: RecordedRequest) -> tuple[int, Any]:
        installation_id = self._token_installation(request)
        body = request.json or {}
        query = body.get("query") or ""
        variables = body.get("variables") or {}
        if "resolveReviewThread" in query:
            return 200, self._resolve_thread(variables.get("threadId"))
        if "reviewThreads" in query:
            return 200, self._review_threads(installation_id, query, variables)
        return 200, {"errors": [{"message": "This fake only knows review threads"}]}

    def _review_threads(
        self, installation_id: int, query: str, variables: dict[str, Any]
    ) -> dict[str, Any]:
        full_name = f"{variables.get('owner')}/{variables.get('name')}"
        repository = self.repositories.get(full_name)
        if repository is None or repository.installation_id != installation_id:
            return payloads.graphql_not_found(
                f"Could not resolve to a Repository named '{full_name}'"
            )
        pull = repository.pulls.get(int(variables.get("number") or 0))
        if pull is None:
            return payloads.graphql_not_found("Could not resolve to a PullRequest")
        page_size = _first(query, "reviewThreads")
        start = int(base64.b64decode(variables["after"])) if variables.get("after") else 0
        comment_count = _first(query, "comments")
        return payloads.review_threads_json(pull, start, page_size, comment_count)

    def _resolve_thread(self, thread_id: str | None) -> dict[str, Any]:
        for repository in self.repositories.values():
            for pull in repository.pulls.values():
                for thread in pull.threads:
                    if thread["id"] == thread_id:
                        thread["isResolved"] = True
                        return payloads.resolved_thread_json(thread["id"])
        return payloads.graphql_not_found(
            f"Could not resolve to a node with the global id of {thread_id}"
        )

    # -- paging and finding ------------------------------------------------------------------

    def _page(self, request: RecordedRequest, items: list[dict[str, Any]]) -> tuple:
        per_page = min(int(request.query.get("per_page", ["30"])[0]), 100)
        page = int(request.query.get("page", ["1"])[0])
        chunk = items[(page - 1) * per_page : page * per_page]
        last = max(1, -(-len(items) // per_page))
        links = []
        base = f"{self.url}{request.path}?per_page={per_page}&page="
        if page < last:
            links += [f'<{base}{page + 1}>; rel="next"', f'<{base}{last}>; rel="last"']
        if page > 1:
            links += [f'<{base}{page - 1}>; rel="prev"', f'<{base}1>; rel="first"']
        headers = {"link": ", ".join(links)} if links else {}
        return 200, [public(item) for item in chunk], headers

    def _find_pull(self, repository: FakeRepository, number: str) -> FakePull:
        pull = repository.pulls.get(int(number))
        if pull is None:
            raise _not_found()
        return pull

    def _find_review(self, pull: FakePull, review_id: str) -> dict[str, Any]:
        review = next((r for r in pull.reviews if r["id"] == int(review_id)), None)
        if review is None:
            raise _not_found()
        return review


_REACTIONS = {"+1", "-1", "laugh", "confused", "heart", "hooray", "rocket", "eyes"}
COMMENT_LIMIT = 65_536  # GitHub refuses a comment body this long or longer


def _comment_text(request: RecordedRequest) -> str:
    body = (request.json or {}).get("body")
    if not isinstance(body, str) or not body:
        raise _unprocessable("body is missing")
    if len(body) >= COMMENT_LIMIT:
        raise _unprocessable("Body is too long (maximum is 65536 characters)")
    return body


def _check_annotation(annotation: dict[str, Any]) -> None:
    required = ("path", "start_line", "end_line", "annotation_level", "message")
    missing = [key for key in required if annotation.get(key) in (None, "")]
    if missing:
        raise _unprocessable(f"annotation is missing {', '.join(missing)}")
    if annotation["annotation_level"] not in ("notice", "warning", "failure"):
        raise _unprocessable(f"Unknown annotation_level {annotation['annotation_level']!r}")
    if annotation["end_line"] < annotation["start_line"]:
        raise _unprocessable("end_line comes before start_line")


def _first(query: str, connection: str) -> int:
    """The ``first:`` argument a query gives a connection; GitHub requires one, up to 100."""
    match = re.search(rf"{connection}\(\s*first:\s*(\d+)", query)
    if match is None:
        raise _Reply(200, {"errors": [{"message": f"{connection} needs a first argument"}]})
    return min(int(match.group(1)), 100)


@contextmanager
def running_fake_github(prefix: str = "") -> Iterator[FakeGitHub]:
    """A started fake; ``prefix="/api/v3"`` lays it out like a GitHub Enterprise Server."""
    fake = FakeGitHub(prefix)
    fake.start()
    try:
        yield fake
    finally:
        fake.stop()


@pytest.fixture
def fake_github() -> Iterator[FakeGitHub]:
    with running_fake_github() as fake:
        yield fake
