"""What the simulated GitHub keeps: the App's registration, installations, repositories with
their files, issues and pull requests (reviews, review comments and threads, the conversation
with its reactions), tokens, check runs and roles; and the helpers tests use to arrange and
inspect it. No HTTP here: server.py answers requests from this state.

Reviews, comments and issues are kept as dicts in the shape GitHub's API shows them, with our
bookkeeping under keys that start with an underscore (see ``public``).
"""

from __future__ import annotations

import functools
import itertools
import secrets
import threading
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

APP_ID = 4242
# Each simulated GitHub registers its own App id: github.py caches clients and tokens per
# App, and a later server on a reused port must not be handed an earlier server's token.
_APP_IDS = itertools.count(APP_ID)
APP_SLUG = "debtbot"
BOT_LOGIN = f"{APP_SLUG}[bot]"

# The collaborator permission API reports maintain as write and triage as read.
LEGACY_PERMISSION = {
    "admin": "admin",
    "maintain": "write",
    "write": "write",
    "triage": "read",
    "read": "read",
}


@functools.cache
def app_private_key() -> str:
    """One RSA key per test session: generating one takes a noticeable fraction of a second."""
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    return key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.TraditionalOpenSSL,
        serialization.NoEncryption(),
    ).decode()


def _public_key(private_pem: str) -> Any:
    return serialization.load_pem_private_key(private_pem.encode(), password=None).public_key()


@dataclass
class FakePull:
    full_name: str
    number: int
    head_sha: str
    base_sha: str
    base_ref: str
    head_ref: str
    draft: bool
    author: str
    author_type: str
    state: str = "open"
    title: str = ""
    merged_at: str | None = None  # when merged, as GitHub writes times
    commentable: dict[str, set[int]] = field(default_factory=dict)
    commits: set[str] = field(default_factory=set)
    reviews: list[dict[str, Any]] = field(default_factory=list)
    comments: list[dict[str, Any]] = field(default_factory=list)  # submitted ones only
    threads: list[dict[str, Any]] = field(default_factory=list)
    # The conversation: issue comments, each with its reactions under "_reactions".
    issue_comments: list[dict[str, Any]] = field(default_factory=list)


@dataclass
class FakeRepository:
    full_name: str
    id: int
    installation_id: int
    clone_url: str
    default_branch: str
    pulls: dict[int, FakePull] = field(default_factory=dict)
    # path -> text (or bytes, for a file that is not UTF-8), on the default branch
    files: dict[str, str | bytes] = field(default_factory=dict)
    issues: list[dict[str, Any]] = field(default_factory=list)  # plain issues, oldest first
    # Private: only people with a role on it (set_role) can read it. Otherwise every member of
    # the owning organisation can, as with an organisation's base permission "read".
    private: bool = False


class GitHubState:
    """State of the simulated GitHub, and the helpers tests use to arrange and inspect it."""

    def __init__(self) -> None:
        self.app_id = next(_APP_IDS)
        self.app_slug = APP_SLUG
        self.bot_login = BOT_LOGIN
        self.private_key = app_private_key()
        self._public_key = _public_key(self.private_key)
        self.url = ""  # the API base, set when a server listens: records carry URLs under it
        self.token_lifetime = timedelta(hours=1)
        self.repositories: dict[str, FakeRepository] = {}
        self.installations: dict[int, str] = {}
        self.tokens: dict[str, tuple[int, datetime]] = {}
        self.check_runs: dict[int, dict[str, Any]] = {}
        # (repository, login) -> role: admin, maintain, write, triage or read; others have none.
        self.roles: dict[tuple[str, str], str] = {}
        self._ids = itertools.count(1001)
        # The manifest flow: codes handed to browsers, not yet traded for credentials, with the
        # manifest and organisation each was for; what was registered, and the webhook secret
        # issued with it.
        self.manifest_codes: dict[str, dict[str, Any]] = {}
        self.registered_manifests: list[dict[str, Any]] = []
        self.webhook_secret: str | None = None
        # The App's OAuth client and the people who sign in with it: who the browser is signed
        # in to GitHub as, organisation members, codes handed out, user and refresh tokens.
        self.client_id = "Iv23lifake" + str(self.app_id)
        self.client_secret = secrets.token_hex(20)
        self.signed_in_as: str | None = None
        self.user_accounts: set[str] = set()  # installation accounts that are users
        self.members: dict[str, set[str]] = {}
        self.oauth_codes: dict[str, tuple[str, str]] = {}
        self.user_tokens: dict[str, tuple[str, datetime]] = {}
        self.refresh_tokens: dict[str, str] = {}
        self.user_token_lifetime = timedelta(hours=8)
        # Held by whoever reads or changes the state: tests, and the server's request threads.
        self.lock = threading.RLock()

    # -- arranging ---------------------------------------------------------------------------

    def add_installation(
        self,
        installation_id: int = 1,
        account: str = "octo-org",
        account_type: str = "Organization",
    ) -> int:
        """The App installed on an organisation, or on a user's own account (``"User"``)."""
        with self.lock:
            self.installations[installation_id] = account
            if account_type == "User":
                self.user_accounts.add(account)
        return installation_id

    def add_repository(
        self,
        full_name: str,
        installation_id: int = 1,
        clone_url: str | None = None,
        default_branch: str = "main",
        private: bool = False,
    ) -> FakeRepository:
        with self.lock:
            if installation_id not in self.installations:
                self.add_installation(installation_id, full_name.partition("/")[0])
            repository = FakeRepository(
                full_name=full_name,
                id=next(self._ids),
                installation_id=installation_id,
                clone_url=clone_url or f"https://github.example/{full_name}.git",
                default_branch=default_branch,
                private=private,
            )
            self.repositories[full_name] = repository
            return repository

    def add_pull(
        self,
        full_name: str,
        number: int,
        head_sha: str = "a" * 40,
        base_sha: str = "b" * 40,
        *,
        base_ref: str = "main",
        head_ref: str = "feature",
        draft: bool = False,
        author: str = "octocat",
        author_type: str = "User",
        commentable: dict[str, Iterable[int]] | None = None,
    ) -> FakePull:
        """A pull request; ``commentable`` is path -> the lines of the diff GitHub accepts."""
        with self.lock:
            if full_name not in self.repositories:
                self.add_repository(full_name)
            pull = FakePull(
                full_name=full_name,
                number=number,
                head_sha=head_sha,
                base_sha=base_sha,
                base_ref=base_ref,
                head_ref=head_ref,
                draft=draft,
                author=author,
                author_type=author_type,
                commits={head_sha},
            )
            for path, lines in (commentable or {}).items():
                pull.commentable[path] = set(lines)
            self.repositories[full_name].pulls[number] = pull
            return pull

    def merge_pull(self, full_name: str, number: int, merge_sha: str) -> None:
        """Merge the pull request: it is closed, and GitHub lists it for its merge commit."""
        with self.lock:
            pull = self._pull_of(full_name, number)
            pull.state = "closed"
            pull.merged_at = now_text()
            pull.commits.add(merge_sha)

    def add_member(self, organisation: str, login: str) -> None:
        """``login`` is an active member of the organisation."""
        with self.lock:
            self.members.setdefault(organisation.lower(), set()).add(login)

    def sign_in_as(self, login: str | None) -> None:
        """Who the browser is signed in to GitHub as: the person who approves a sign-in."""
        with self.lock:
            self.signed_in_as = login

    def revoke_user_tokens(self, login: str) -> None:
        """The person revoked the App's authorization: their tokens stop working."""
        with self.lock:
            for table in (self.user_tokens,):
                for token, (owner, _) in list(table.items()):
                    if owner == login:
                        del table[token]
            for token, owner in list(self.refresh_tokens.items()):
                if owner == login:
                    del self.refresh_tokens[token]

    def can_read(self, login: str, repository: FakeRepository) -> bool:
        if (repository.full_name, login) in self.roles:
            return True
        owner = repository.full_name.partition("/")[0]
        if owner.lower() == login.lower():
            return True
        return not repository.private and login in self.members.get(owner.lower(), set())

    def set_commentable_lines(
        self, full_name: str, number: int, path: str, lines: Iterable[int]
    ) -> None:
        with self.lock:
            self._pull_of(full_name, number).commentable[path] = set(lines)

    def push(self, full_name: str, number: int, head_sha: str) -> None:
        """A new head commit on the pull request."""
        with self.lock:
            pull = self._pull_of(full_name, number)
            pull.head_sha = head_sha
            pull.commits.add(head_sha)

    def add_review_comment(
        self,
        full_name: str,
        number: int,
        path: str,
        line: int,
        body: str,
        *,
        author: str | None = None,
        in_reply_to: int | None = None,
    ) -> dict[str, Any]:
        """A review comment already on the pull request (by the App unless ``author`` says)."""
        with self.lock:
            pull = self._pull_of(full_name, number)
            review = self._new_review(pull, pull.head_sha, "", "COMMENTED", author or BOT_LOGIN)
            pull.reviews.append(review)
            spec = {"path": path, "line": line, "body": body}
            comment = self._new_comment(pull, review, spec, author or BOT_LOGIN, in_reply_to)
            self._submit_comments(pull, [comment])
            return comment

    def remove_repository_from_installation(self, full_name: str) -> None:
        """What an organisation owner does in the App's settings: the installation no longer
        sees the repository (and, as here, no webhook need have told the App)."""
        with self.lock:
            self.repositories[full_name].installation_id = 0

    def add_file(self, full_name: str, path: str, text: str | bytes) -> None:
        """A file on the repository's default branch (the repository is created if new)."""
        with self.lock:
            if full_name not in self.repositories:
                self.add_repository(full_name)
            self.repositories[full_name].files[path] = text

    def add_issue(
        self, full_name: str, title: str, body: str, author: str = BOT_LOGIN
    ) -> dict[str, Any]:
        """An issue already in the repository (opened by the App unless ``author`` says)."""
        with self.lock:
            repository = self.repositories[full_name]
            issue = self._new_issue(repository, title, body, author)
            repository.issues.append(issue)
            return public(issue)

    def set_role(self, full_name: str, login: str, role: str) -> None:
        """What ``login`` may do in the repository: admin, maintain, write, triage or read."""
        if role not in LEGACY_PERMISSION:
            raise ValueError(f"GitHub has no repository role {role!r}")
        with self.lock:
            self.roles[(full_name, login)] = role

    def add_issue_comment(
        self, full_name: str, number: int, body: str, author: str = "octocat"
    ) -> dict[str, Any]:
        """A comment in the pull request's conversation (a bot when ``author`` ends in [bot])."""
        with self.lock:
            pull = self._pull_of(full_name, number)
            comment = self._new_issue_comment(pull, body, author)
            pull.issue_comments.append(comment)
            return comment

    # -- inspecting --------------------------------------------------------------------------

    def issues(self, full_name: str) -> list[dict[str, Any]]:
        """The repository's plain issues (not pull requests), oldest first."""
        with self.lock:
            return [public(issue) for issue in self.repositories[full_name].issues]

    def pull(self, full_name: str, number: int) -> FakePull:
        return self._pull_of(full_name, number)

    def submitted_reviews(self, full_name: str, number: int) -> list[dict[str, Any]]:
        with self.lock:
            reviews = self._pull_of(full_name, number).reviews
            return [review for review in reviews if review["state"] != "PENDING"]

    def pending_reviews(self, full_name: str, number: int) -> list[dict[str, Any]]:
        with self.lock:
            reviews = self._pull_of(full_name, number).reviews
            return [review for review in reviews if review["state"] == "PENDING"]

    def issue_comments(self, full_name: str, number: int) -> list[dict[str, Any]]:
        with self.lock:
            return list(self._pull_of(full_name, number).issue_comments)

    def reactions(self, full_name: str, number: int, comment_id: int) -> list[dict[str, Any]]:
        with self.lock:
            comment = self._issue_comment_of(self._pull_of(full_name, number), comment_id)
            return list(comment["_reactions"])

    # -- making records ----------------------------------------------------------------------

    def _new_issue(
        self, repository: FakeRepository, title: str, body: str, author: str
    ) -> dict[str, Any]:
        # Issues and pull requests share one sequence of numbers.
        number = 1 + max([0, *repository.pulls, *(i["number"] for i in repository.issues)])
        issue_id = next(self._ids)
        api = f"{self.url}/repos/{repository.full_name}"
        return {
            "id": issue_id,
            "node_id": f"I_fake{issue_id}",
            "number": number,
            "title": title,
            "body": body,
            "state": "open",
            "locked": False,
            "labels": [],
            "assignees": [],
            "comments": 0,
            "user": user_json(self.url, author, "Bot" if author.endswith("[bot]") else "User"),
            "author_association": "NONE",
            "url": f"{api}/issues/{number}",
            "comments_url": f"{api}/issues/{number}/comments",
            "html_url": f"https://github.example/{repository.full_name}/issues/{number}",
            "created_at": now_text(),
            "updated_at": now_text(),
        }

    def _new_issue_comment(self, pull: FakePull, body: str, author: str) -> dict[str, Any]:
        comment_id = next(self._ids)
        api = f"{self.url}/repos/{pull.full_name}"
        return {
            "id": comment_id,
            "node_id": f"IC_fake{comment_id}",
            "url": f"{api}/issues/comments/{comment_id}",
            "html_url": f"https://github.example/{pull.full_name}/pull/{pull.number}"
            f"#issuecomment-{comment_id}",
            "issue_url": f"{api}/issues/{pull.number}",
            "body": body,
            "user": user_json(self.url, author, "Bot" if author.endswith("[bot]") else "User"),
            "author_association": "NONE",
            "created_at": now_text(),
            "updated_at": now_text(),
            "_reactions": [],
        }

    def _new_review(
        self, pull: FakePull, commit_id: str, body: str, state: str, author: str
    ) -> dict[str, Any]:
        review_id = next(self._ids)
        pull_url = f"{self.url}/repos/{pull.full_name}/pulls/{pull.number}"
        return {
            "id": review_id,
            "node_id": f"PRR_fake{review_id}",
            "user": user_json(self.url, author, "Bot" if author.endswith("[bot]") else "User"),
            "body": body,
            "state": state,
            "commit_id": commit_id,
            "author_association": "NONE",
            "submitted_at": None if state == "PENDING" else now_text(),
            "html_url": f"https://github.example/{pull.full_name}/pull/{pull.number}"
            f"#pullrequestreview-{review_id}",
            "pull_request_url": pull_url,
            "_comments": [],
        }

    def _new_comment(
        self,
        pull: FakePull,
        review: dict[str, Any],
        spec: dict[str, Any],
        author: str,
        in_reply_to: int | None,
    ) -> dict[str, Any]:
        comment_id = next(self._ids)
        pull_url = f"{self.url}/repos/{pull.full_name}/pulls/{pull.number}"
        comment = {
            "id": comment_id,
            "node_id": f"PRRC_fake{comment_id}",
            "pull_request_review_id": review["id"],
            "url": f"{self.url}/repos/{pull.full_name}/pulls/comments/{comment_id}",
            "path": spec["path"],
            "line": spec["line"],
            "original_line": spec["line"],
            "start_line": spec.get("start_line"),
            "original_start_line": spec.get("start_line"),
            "side": spec.get("side", "RIGHT"),
            "start_side": spec.get("start_side"),
            "commit_id": review["commit_id"],
            "original_commit_id": review["commit_id"],
            "diff_hunk": "@@ -1,1 +1,1 @@",
            "body": spec["body"],
            "user": user_json(self.url, author, "Bot" if author.endswith("[bot]") else "User"),
            "author_association": "NONE",
            "created_at": now_text(),
            "updated_at": now_text(),
            "html_url": f"https://github.example/{pull.full_name}/pull/{pull.number}"
            f"#discussion_r{comment_id}",
            "pull_request_url": pull_url,
        }
        if in_reply_to is not None:
            comment["in_reply_to_id"] = in_reply_to
        review["_comments"].append(comment)
        return comment

    def _new_reaction(self, comment_id: str, content: str, author: str) -> dict[str, Any]:
        return {
            "id": next(self._ids),
            "node_id": f"REA_fake{comment_id}",
            "content": content,
            "user": user_json(self.url, author, "Bot"),
            "created_at": now_text(),
        }

    def _new_check_run(self, repository: FakeRepository, fields: dict[str, Any]) -> dict[str, Any]:
        """A queued check run, as the App's request (``fields``) creates it: no output yet."""
        full_name = repository.full_name
        run_id = next(self._ids)
        return {
            "id": run_id,
            "node_id": f"CR_fake{run_id}",
            "name": fields["name"],
            "head_sha": fields["head_sha"],
            "status": "queued",
            "conclusion": None,
            "started_at": now_text(),
            "completed_at": None,
            "url": f"{self.url}/repos/{full_name}/check-runs/{run_id}",
            "html_url": f"https://github.example/{full_name}/runs/{run_id}",
            "details_url": fields.get("details_url"),
            "external_id": fields.get("external_id", ""),
            "app": {"id": self.app_id, "slug": self.app_slug, "name": "debtbot"},
            "pull_requests": [],
            "_repository": full_name,
            "_annotations": [],
            "_output": {"title": None, "summary": None},
        }

    def _new_token(self, installation_id: int) -> tuple[str, datetime]:
        """An installation token, kept until it expires ``token_lifetime`` from now."""
        token = f"ghs_fake{next(self._ids)}"
        expires_at = datetime.now(UTC) + self.token_lifetime
        self.tokens[token] = (installation_id, expires_at)
        return token, expires_at

    def _submit_comments(self, pull: FakePull, comments: list[dict[str, Any]]) -> None:
        for comment in comments:
            pull.comments.append(comment)
            root = comment.get("in_reply_to_id")
            thread = next((t for t in pull.threads if root in t["comment_ids"]), None)
            if thread is None:
                pull.threads.append(
                    {
                        "id": f"PRRT_fake{comment['id']}",
                        "isResolved": False,
                        "comment_ids": [comment["id"]],
                    }
                )
            else:
                thread["comment_ids"].append(comment["id"])

    # -- finding -----------------------------------------------------------------------------

    def _pull_of(self, full_name: str, number: int) -> FakePull:
        return self.repositories[full_name].pulls[number]

    def _issue_comment_of(self, pull: FakePull, comment_id: int) -> dict[str, Any]:
        comment = next((c for c in pull.issue_comments if c["id"] == comment_id), None)
        if comment is None:
            raise KeyError(comment_id)
        return comment


def public(item: dict[str, Any]) -> dict[str, Any]:
    """What GitHub shows: our bookkeeping keys start with an underscore."""
    return {key: value for key, value in item.items() if not key.startswith("_")}


def user_json(api_url: str, login: str, kind: str = "User") -> dict[str, Any]:
    """A user as GitHub's records embed one (``kind`` is User, Bot or Organization)."""
    user_id = 90000 + sum(map(ord, login))
    return {
        "login": login,
        "id": user_id,
        "node_id": f"U_fake{user_id}",
        "type": kind,
        "site_admin": False,
        "url": f"{api_url}/users/{login}",
        "html_url": f"https://github.example/{login}",
        "avatar_url": f"https://avatars.github.example/u/{user_id}",
    }


def now_text() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
