"""The JSON the simulated GitHub sends, built from its state: webhook payloads, and the bodies
of API answers for what state.py keeps as dataclasses or with bookkeeping of its own.

Plain functions of the state; the caller holds ``state.lock`` while they read it.
"""

from __future__ import annotations

import base64
from datetime import datetime
from typing import Any

from tests.fakes.github.state import (
    LEGACY_PERMISSION,
    FakePull,
    FakeRepository,
    GitHubState,
    now_text,
    public,
    user_json,
)

# -- webhooks ---------------------------------------------------------------------------------


def pull_request_event(state: GitHubState, full_name: str, number: int, action: str) -> dict:
    repository = state.repositories[full_name]
    pull = state.pull(full_name, number)
    return {
        "action": action,
        "number": number,
        "pull_request": pull_json(state, repository, pull),
        "repository": repository_json(state, repository),
        "installation": {
            "id": repository.installation_id,
            "node_id": f"MDIzOkludGVncmF0aW9uSW5zdGFsbGF0aW9u{repository.installation_id}",
        },
        "sender": user_json(state.url, pull.author, pull.author_type),
    }


def issue_comment_event(
    state: GitHubState, full_name: str, number: int, comment: dict[str, Any], action: str
) -> dict:
    repository = state.repositories[full_name]
    pull = state.pull(full_name, number)
    pull_body = pull_json(state, repository, pull)
    return {
        "action": action,
        "issue": {
            "number": number,
            "title": pull_body["title"],
            "state": pull.state,
            "user": pull_body["user"],
            "html_url": pull_body["html_url"],
            # Only pull requests carry this key: it is how a handler tells them apart.
            "pull_request": {"url": pull_body["url"], "html_url": pull_body["html_url"]},
        },
        "comment": public(comment),
        "repository": repository_json(state, repository),
        "installation": {"id": repository.installation_id},
        "sender": comment["user"],
    }


def user_installation_json(state: GitHubState, installation_id: int, account: str) -> dict:
    users = {login.lower() for login in state.user_accounts}
    kind = "User" if account.lower() in users else "Organization"
    return {
        "id": installation_id,
        "account": user_json(state.url, account, kind),
        "app_id": state.app_id,
        "app_slug": state.app_slug,
        "target_type": kind,
        "repository_selection": "selected",
        "permissions": {"contents": "read", "pull_requests": "write"},
    }


def push_event(
    state: GitHubState, full_name: str, before: str, after: str, ref: str | None = None
) -> dict:
    """A ``push`` delivery, as GitHub sends it (branch pushes carry no action)."""
    repository = state.repositories[full_name]
    body = repository_json(state, repository)
    return {
        "ref": ref or f"refs/heads/{repository.default_branch}",
        "before": before,
        "after": after,
        "created": before == "0" * 40,
        "deleted": after == "0" * 40,
        "forced": False,
        "base_ref": None,
        "compare": f"https://github.example/{full_name}/compare/{before[:12]}...{after[:12]}",
        "commits": [],
        "head_commit": None,
        "repository": body | {"master_branch": repository.default_branch, "pushed_at": 0},
        "pusher": {"name": "octocat", "email": "octocat@example.com"},
        "installation": {"id": repository.installation_id, "node_id": "MDIzOkluc3RhbGxhdGlvbjE="},
        "sender": user_json(state.url, "octocat"),
    }


def installation_event(state: GitHubState, installation_id: int, action: str) -> dict:
    account = state.installations[installation_id]
    repositories = sorted(
        (r for r in state.repositories.values() if r.installation_id == installation_id),
        key=lambda r: r.full_name,
    )
    return {
        "action": action,
        "installation": {
            "id": installation_id,
            "account": user_json(state.url, account, "Organization"),
            "repository_selection": "selected",
            "app_id": state.app_id,
            "app_slug": state.app_slug,
            "target_type": "Organization",
            "permissions": {"contents": "read", "issues": "write"},
            "events": ["pull_request", "issue_comment"],
        },
        "repositories": [
            {
                "id": r.id,
                "node_id": f"R_fake{r.id}",
                "name": r.full_name.partition("/")[2],
                "full_name": r.full_name,
                "private": True,
            }
            for r in repositories
        ],
        "sender": user_json(state.url, "octocat"),
    }


# -- REST bodies ------------------------------------------------------------------------------


def app_json(state: GitHubState) -> dict[str, Any]:
    return {
        "id": state.app_id,
        "slug": state.app_slug,
        "node_id": "MDM6QXBwNDI0Mg==",
        "name": "debtbot",
        "description": "Reviews pull requests for machine-learning technical debt",
        "owner": user_json(state.url, "octo-org", "Organization"),
        "external_url": "https://debtbot.example",
        "html_url": f"https://github.example/apps/{state.app_slug}",
        "created_at": "2024-01-01T00:00:00Z",
        "updated_at": "2024-01-01T00:00:00Z",
        "permissions": {"checks": "write", "contents": "read", "pull_requests": "write"},
        "events": ["pull_request"],
    }


def registered_app_json(
    state: GitHubState, manifest: dict[str, Any], organisation: str | None, web_url: str
) -> dict[str, Any]:
    """The answer to a manifest conversion: the App as GET /app shows it, plus its secrets.
    The simulated GitHub has one App: its id, slug and key, whatever the manifest's name."""
    owner = user_json(state.url, organisation, "Organization") if organisation else None
    return app_json(state) | {
        "name": manifest["name"],
        "description": manifest.get("description") or "",
        "external_url": manifest["url"],
        "html_url": f"{web_url}/apps/{state.app_slug}",
        "owner": owner or user_json(state.url, "octocat", "User"),
        "permissions": manifest.get("default_permissions") or {},
        "events": manifest.get("default_events") or [],
        "client_id": state.client_id,
        "client_secret": state.client_secret,
        "webhook_secret": state.webhook_secret,
        "pem": state.private_key,
    }


def token_json(token: str, expires_at: datetime) -> dict[str, Any]:
    return {
        "token": token,
        "expires_at": expires_at.strftime("%Y-%m-%dT%H:%M:%SZ"),
        "permissions": {"checks": "write", "contents": "read", "pull_requests": "write"},
        "repository_selection": "selected",
    }


def repository_json(state: GitHubState, repository: FakeRepository) -> dict[str, Any]:
    owner, _, name = repository.full_name.partition("/")
    return {
        "id": repository.id,
        "node_id": f"R_fake{repository.id}",
        "name": name,
        "full_name": repository.full_name,
        "private": repository.private,
        "owner": user_json(state.url, owner, "Organization"),
        "html_url": f"https://github.example/{repository.full_name}",
        "url": f"{state.url}/repos/{repository.full_name}",
        "clone_url": repository.clone_url,
        "default_branch": repository.default_branch,
        "fork": False,
    }


def pull_json(state: GitHubState, repository: FakeRepository, pull: FakePull) -> dict[str, Any]:
    api = f"{state.url}/repos/{repository.full_name}"
    repository_body = repository_json(state, repository)
    return {
        "url": f"{api}/pulls/{pull.number}",
        "id": repository.id * 1000 + pull.number,
        "node_id": f"PR_fake{repository.id}_{pull.number}",
        "html_url": f"https://github.example/{repository.full_name}/pull/{pull.number}",
        "number": pull.number,
        "state": pull.state,
        "locked": False,
        "title": pull.title or f"Pull request {pull.number}",
        "body": "",
        "draft": pull.draft,
        "user": user_json(state.url, pull.author, pull.author_type),
        "created_at": "2024-01-01T00:00:00Z",
        "updated_at": now_text(),
        "merged": pull.merged_at is not None,
        "merged_at": pull.merged_at,
        "head": {
            "label": f"{repository.full_name.partition('/')[0]}:{pull.head_ref}",
            "ref": pull.head_ref,
            "sha": pull.head_sha,
            "repo": repository_body,
            "user": user_json(state.url, pull.author, pull.author_type),
        },
        "base": {
            "label": f"{repository.full_name.partition('/')[0]}:{pull.base_ref}",
            "ref": pull.base_ref,
            "sha": pull.base_sha,
            "repo": repository_body,
            "user": repository_body["owner"],
        },
        "comments_url": f"{api}/issues/{pull.number}/comments",
        "review_comments_url": f"{api}/pulls/{pull.number}/comments",
    }


def check_run_json(run: dict[str, Any]) -> dict[str, Any]:
    return public(run) | {
        "output": run["_output"]
        | {
            "text": None,
            "annotations_count": len(run["_annotations"]),
            "annotations_url": f"{run['url']}/annotations",
        }
    }


def permission_json(state: GitHubState, login: str, role: str | None) -> dict[str, Any]:
    return {
        "permission": LEGACY_PERMISSION.get(role, "none"),
        "role_name": role or "none",
        "user": user_json(state.url, login),
    }


def contents_json(
    state: GitHubState, repository: FakeRepository, path: str, raw: bytes
) -> dict[str, Any]:
    full_name = repository.full_name
    encoded = base64.b64encode(raw).decode()
    # GitHub wraps the base64 text at 60 characters.
    wrapped = "\n".join(encoded[i : i + 60] for i in range(0, len(encoded), 60)) + "\n"
    sha = f"{sum(raw) % 10**6:040d}"
    api = f"{state.url}/repos/{full_name}"
    web = f"https://github.example/{full_name}/blob/{repository.default_branch}/{path}"
    return {
        "type": "file",
        "encoding": "base64",
        "size": len(raw),
        "name": path.rpartition("/")[2],
        "path": path,
        "content": wrapped,
        "sha": sha,
        "url": f"{api}/contents/{path}",
        "git_url": f"{api}/git/blobs/{sha}",
        "html_url": web,
        "download_url": f"https://raw.github.example/{full_name}/HEAD/{path}",
        "_links": {"self": f"{api}/contents/{path}", "git": f"{api}/git/blobs/{sha}"},
    }


# -- GraphQL bodies ---------------------------------------------------------------------------


def review_threads_json(
    pull: FakePull, start: int, page_size: int, comment_count: int
) -> dict[str, Any]:
    """A page of the pull request's review threads, from thread ``start``, each with its first
    ``comment_count`` comments; the cursor is the base64 of the next start."""
    page = pull.threads[start : start + page_size]
    end = start + len(page)
    by_id = {comment["id"]: comment for comment in pull.comments}
    nodes = [
        {
            "id": thread["id"],
            "isResolved": thread["isResolved"],
            "comments": {
                "nodes": [
                    {"id": by_id[comment_id]["node_id"], "databaseId": comment_id}
                    for comment_id in thread["comment_ids"][:comment_count]
                ]
            },
        }
        for thread in page
    ]
    return {
        "data": {
            "repository": {
                "pullRequest": {
                    "reviewThreads": {
                        "pageInfo": {
                            "hasNextPage": end < len(pull.threads),
                            "endCursor": base64.b64encode(str(end).encode()).decode(),
                        },
                        "nodes": nodes,
                    }
                }
            }
        }
    }


def resolved_thread_json(thread_id: str) -> dict[str, Any]:
    return {"data": {"resolveReviewThread": {"thread": {"id": thread_id, "isResolved": True}}}}


def graphql_not_found(message: str) -> dict[str, Any]:
    return {"data": None, "errors": [{"type": "NOT_FOUND", "message": message}]}
