"""/debt-report end to end: real git, a real (SQLite) store, the real GitHub client.

As in tests/bot/review/test_pipeline.py, the pipelines run wired as in production (one
:class:`bot.services.Services`) with the App pointed at the simulated GitHub over real HTTP; what
the tests assert is what reached GitHub.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import git
import pytest

from bot import store
from bot.app import events
from bot.commands import handler as report
from bot.commands import render as commands
from bot.review import pipeline as review
from bot.services import Services
from tests.bot.review.test_pipeline import MODEL, diff_lines
from tests.conftest import commit_all, new_repo, write_files
from tests.fakes.github import BOT_LOGIN, FakeGitHub

PUBLIC_URL = "https://debtbot.example.com"
REPO = "acme/models"
INSTALLATION = 42
NUMBER = 7
COMMENTS = rf"/repos/{REPO}/issues/{NUMBER}/comments"
EDITS = rf"/repos/{REPO}/issues/comments/\d+"
REACTIONS = rf"/repos/{REPO}/issues/comments/\d+/reactions"
PERMISSION = rf"/repos/{REPO}/collaborators/[^/]+/permission"


@dataclass
class World:
    remote: git.Repo
    fake: FakeGitHub
    services: Services
    base_sha: str
    clock: list[datetime]

    def push(self, files: dict[str, str | None]) -> str:
        self.remote.git.checkout("feature")
        write_files(Path(self.remote.working_tree_dir), files)
        sha = commit_all(self.remote, "push")
        self.remote.git.update_ref(f"refs/pull/{NUMBER}/head", sha)
        self.remote.git.checkout("main")
        self.fake.push(REPO, NUMBER, sha)
        for path, lines in diff_lines(self.remote, self.base_sha, sha).items():
            self.fake.set_commentable_lines(REPO, NUMBER, path, lines)
        return sha

    def review(self) -> None:
        event = self.fake.pull_request_event(REPO, NUMBER, action="synchronize")
        review.handle_pull_request(event, self.services)

    def comment(self, body: str, author: str = "alice", action: str = "created") -> dict:
        """Someone comments; the delivery GitHub sends is handled at once."""
        comment = self.fake.add_issue_comment(REPO, NUMBER, body, author=author)
        self.handle(self.fake.issue_comment_event(REPO, NUMBER, comment, action))
        return comment

    def handle(self, event: dict[str, Any]) -> None:
        # The route the worker takes, with this world's dependencies.
        route = events.ROUTES["issue_comment", event["action"]]
        assert route.handler is events.answer_comment
        route.payload.model_validate(event)  # what the webhook checks
        report.handle_issue_comment(event, self.services)

    def later(self, minutes: float) -> None:
        self.clock[0] += timedelta(minutes=minutes)

    def ours(self) -> list[dict[str, Any]]:
        return [
            c for c in self.fake.issue_comments(REPO, NUMBER) if c["user"]["login"] == BOT_LOGIN
        ]

    def reactions(self, comment: dict) -> list[str]:
        return [r["content"] for r in self.fake.reactions(REPO, NUMBER, comment["id"])]

    def api_calls(self) -> list[tuple[str, str]]:
        return [(r.method, r.path) for r in self.fake.requests if not r.path.startswith("/app")]


@pytest.fixture
def world(tmp_path: Path, fake_github: FakeGitHub, database_url: str) -> World:
    root = tmp_path / "git" / f"{REPO}.git"
    remote = new_repo(root)
    (root / "pkg").mkdir()
    (root / "pkg" / "__init__.py").write_text("")
    (root / "pkg" / "old.py").write_text(
        "import yaml\n\n\ndef config():\n    return yaml.load(open('c.yml'))\n"
    )
    (root / "pkg" / "untouched.py").write_text(
        "import yaml\n\n\ndef load(path):\n    return yaml.load(open(path))\n"
    )
    base_sha = commit_all(remote, "main")
    remote.git.branch("feature")

    fake_github.add_repository(REPO, installation_id=INSTALLATION)
    fake_github.add_pull(REPO, NUMBER, base_sha, base_sha, author="alice")
    fake_github.set_role(REPO, "alice", "write")
    fake_github.set_role(REPO, "mia", "maintain")
    fake_github.set_role(REPO, "bob", "triage")

    engine = store.make_engine(database_url)
    store.create_schema(engine)
    clock = [datetime.now(UTC)]
    services = fake_github.services(
        store.make_session_factory(engine),
        tmp_path / "data",
        git_url=str(tmp_path / "git"),
        clock=lambda: clock[0],
        public_url=PUBLIC_URL,
        max_inline_comments=1,  # so that the review leaves a finding out
    )
    return World(remote, fake_github, services, base_sha, clock)


def test_a_permitted_report_compares_with_the_base_and_lists_what_the_review_left_out(world):
    world.push(
        {
            "pkg/model.py": MODEL,
            # Pays off the unsafe load that was on main.
            "pkg/old.py": (
                "import yaml\n\n\ndef config():\n    return yaml.safe_load(open('c.yml'))\n"
            ),
        }
    )
    world.review()

    asked = world.comment("/debt-report")

    assert world.reactions(asked) == ["eyes"]
    (posted,) = world.ours()
    body = posted["body"]
    assert body.startswith(commands.REPORT_MARKER)
    assert "the 2 Python files this pull request changes" in body
    assert "**2 findings** (1 error, 1 warning) · **2 added** · **1 paid off**" in body
    assert "### Paid off by this pull request (1)\n\n- `pkg/old.py:5`" in body
    added = body.split("### Added by this pull request (2)\n\n")[1].split("\n\n")[0]
    assert [line.split(" · ")[1].split("]")[0] for line in added.splitlines()] == [
        "[DEBT401",
        "[DEBT1101",
    ]
    assert f"({PUBLIC_URL}/rules/DEBT1101)" in body
    # One inline comment at most: the other finding was only listed in the review's summary.
    left = body.split("### Left out of the review (1)\n\n")[1].split("\n\n")[1]
    assert left.startswith("- `pkg/model.py:")
    # Debt on main in a file the pull request does not touch is not its business.
    assert "untouched.py" not in body
    (permission,) = world.fake.requests_to("GET", PERMISSION)
    assert permission.path.endswith("/alice/permission")


def test_running_it_again_updates_the_one_report_in_place(world):
    world.push({"pkg/model.py": MODEL})
    world.review()
    world.comment("/debt-report")
    (first,) = world.ours()
    first_body = first["body"]  # the fake edits its record in place

    world.push({"pkg/model.py": MODEL.replace("yaml.load(f)", "yaml.safe_load(f)")})
    world.later(minutes=2)
    world.comment("  /DEBT-REPORT", author="mia")

    (updated,) = world.ours()
    assert updated["id"] == first["id"]
    assert len(world.fake.requests_to("POST", COMMENTS)) == 1
    (edit,) = world.fake.requests_to("PATCH", EDITS)
    assert edit.path.endswith(f"/{first['id']}")
    assert "**1 finding** (1 warning) · **1 added** · **0 paid off**" in updated["body"]
    stamp = f"Updated {world.clock[0]:%Y-%m-%d %H:%M} UTC"
    assert stamp in updated["body"] and stamp not in first_body


def test_a_repeat_within_a_minute_gets_a_reaction_and_no_work(world):
    world.push({"pkg/model.py": MODEL})
    world.comment("/debt-report")
    before = world.api_calls()

    repeat = world.comment("/debt-report full")

    assert world.reactions(repeat) == ["eyes"]
    new_calls = world.api_calls()[len(before) :]
    assert [method for method, _ in new_calls] == ["POST", "GET"]  # the reaction, the listing
    assert len(world.ours()) == 1


def test_someone_who_cannot_push_is_refused_once_per_pull_request(world):
    world.push({"pkg/model.py": MODEL})

    first = world.comment("/debt-report", author="bob")
    world.later(minutes=5)
    second = world.comment("/debt-report full", author="bob")
    stranger = world.comment("/debt-report", author="carol")  # no role at all

    refusals = world.ours()
    assert [c["body"].splitlines()[0] for c in refusals] == [
        commands.render_refusal("bob"),
        commands.render_refusal("carol"),
    ]
    assert world.reactions(first) == world.reactions(second) == world.reactions(stranger) == []
    assert not any(commands.REPORT_MARKER in c["body"] for c in refusals)
    # bob's permission was asked once: the answer is cached for a while.
    asked = [r.path.split("/")[-2] for r in world.fake.requests_to("GET", PERMISSION)]
    assert asked == ["bob", "carol"]


def test_a_refusal_marker_written_by_someone_else_does_not_silence_the_refusal(world):
    world.fake.add_issue_comment(REPO, NUMBER, "<!-- debtbot:refused=bob -->", author="bob")

    world.comment("/debt-report", author="bob")

    assert len(world.ours()) == 1


@pytest.mark.parametrize(
    ("body", "author"),
    [
        ("/debt-report", "renovate[bot]"),
        ("/debt-report", BOT_LOGIN),
        ("> /debt-report\n\nwhy not?", "alice"),
        ("```\n/debt-report\n```", "alice"),
        ("looks good", "alice"),
    ],
)
def test_bots_and_comments_without_a_command_cost_no_request(world, body, author):
    world.comment(body, author=author)

    assert world.api_calls() == []
    assert world.fake.requests_to("POST", COMMENTS) == []


def test_comments_on_plain_issues_are_ignored(world):
    comment = world.fake.add_issue_comment(REPO, NUMBER, "/debt-report")
    event = world.fake.issue_comment_event(REPO, NUMBER, comment)
    del event["issue"]["pull_request"]

    world.handle(event)

    assert world.api_calls() == []


def test_an_edited_comment_that_becomes_a_command_is_answered(world):
    world.push({"pkg/model.py": MODEL})
    comment = world.fake.add_issue_comment(REPO, NUMBER, "typo", author="alice")
    comment["body"] = "/debt-report"

    world.handle(world.fake.issue_comment_event(REPO, NUMBER, comment, action="edited"))

    assert world.reactions(comment) == ["eyes"]
    assert commands.REPORT_MARKER in world.ours()[0]["body"]


def test_help_and_mistakes_are_answered_with_the_list_of_commands(world):
    world.comment("/debt help")
    [helped] = world.ours()
    assert "`/debt-report full`" in helped["body"]
    world.comment("/debt-report everything")
    world.comment("/debt help")

    [answer] = world.ours()  # one help comment, rewritten each time
    assert answer["id"] == helped["id"]
    assert "`/debt-report full`" in answer["body"]
    assert not any("debtbot:report" in c["body"] for c in world.ours())  # no report was made


def test_a_mistyped_command_is_told_what_was_wrong(world):
    world.comment("/debt-report everything")
    [corrected] = world.ours()
    assert corrected["body"].startswith("`everything` is neither `full` nor a principle")


def test_a_principle_report_keeps_to_that_principle_and_full_covers_the_repository(world):
    world.push({"pkg/model.py": MODEL})
    world.comment("/debt-report external-world")
    (one,) = world.ours()
    assert "**1 finding** (1 warning)" in one["body"]
    assert "DEBT401" not in one["body"] and "DEBT1101" in one["body"]

    world.later(minutes=2)
    world.comment("/debt-report full")

    (full,) = world.ours()
    assert "every Python file of the repository (4)" in full["body"]
    assert "pkg/untouched.py" in full["body"] and "pkg/old.py" in full["body"]


@pytest.mark.parametrize(
    ("who", "role", "answered"),
    [
        ("the owner", "admin", True),
        ("a maintainer", "maintain", True),
        ("a member or outside collaborator with write", "write", True),
        ("a triager", "triage", False),
        ("a read-only collaborator", "read", False),
        ("a contributor from a fork, with no role", None, False),
    ],
)
def test_who_may_ask_for_a_report(world, who, role, answered):
    login = "person"
    if role is not None:
        world.fake.set_role(REPO, login, role)

    comment = world.comment("/debt help", author=login)

    [reply] = world.ours()
    if answered:
        assert world.reactions(comment) == ["eyes"], who
        assert "`/debt-report full`" in reply["body"]
    else:
        assert world.reactions(comment) == [], who
        assert reply["body"].splitlines()[0] == commands.render_refusal(login)


def test_bots_and_this_app_are_never_answered_even_with_a_role(world):
    world.fake.set_role(REPO, "dependabot[bot]", "write")
    first = world.comment("/debt-report", author="dependabot[bot]")
    second = world.comment("/debt-report", author=BOT_LOGIN)  # a report of ours quoting it

    assert world.fake.requests_to("POST", COMMENTS) == []
    assert world.fake.requests_to("GET", PERMISSION) == []
    assert world.reactions(first) == world.reactions(second) == []
