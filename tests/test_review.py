"""The review pipeline on real git repositories and a real (SQLite) store.

GitHub is an in-memory stand-in that keeps the comments it was given and records every call;
the HTTP-level behaviour of github.py is tested against the simulated GitHub in test_github.py.
"""

from __future__ import annotations

import itertools
import textwrap
from dataclasses import dataclass, field, replace
from functools import partial
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import git
import pytest

from bot import comments, review, store
from bot.domain import CheckRunOutput, InlineComment, PostedComment, PullInfo, ReviewResult
from bot.events import PayloadError
from tests.conftest import commit_all

PUBLIC_URL = "https://debtbot.example.com"
NUMBER = 7

MODEL = """\
import yaml


def load(path):
    with open(path) as f:
        return yaml.load(f)


def decide(proba):
    return proba > 0.73
"""


@dataclass
class FakeGitHub:
    """Keeps what a GitHub would: the pull request, our comments; records every call."""

    pull: PullInfo
    comments: list[PostedComment] = field(default_factory=list)
    calls: list[tuple[str, Any]] = field(default_factory=list)
    ids: itertools.count = field(default_factory=lambda: itertools.count(1000))

    def installation_client(self, installation_id: int) -> str:
        return f"client-{installation_id}"

    def installation_token(self, installation_id: int) -> str:
        return "ghs_not_a_real_token"

    def get_pull(self, client: str, full_name: str, number: int) -> PullInfo:
        self.calls.append(("get_pull", number))
        return self.pull

    def list_review_comments(self, client: str, full_name: str, number: int):
        self.calls.append(("list_review_comments", number))
        return list(self.comments)

    def create_review(
        self, client: str, full_name: str, number: int, sha: str, body: str, inline
    ) -> ReviewResult:
        self.calls.append(("create_review", (sha, body, tuple(inline))))
        for comment in inline:
            self.comments.append(self._comment(comment.path, comment.line, comment.body))
        return ReviewResult(review_id=next(self.ids), posted=tuple(inline), refused=())

    def reply_to_comment(self, client: str, full_name: str, number: int, comment_id: int, body):
        self.calls.append(("reply_to_comment", (comment_id, body)))
        parent = next(c for c in self.comments if c.id == comment_id)
        reply = replace(self._comment(parent.path, parent.line, body), in_reply_to_id=comment_id)
        self.comments.append(reply)
        return reply

    def resolve_thread(self, client: str, full_name: str, number: int, node_id: str) -> bool:
        self.calls.append(("resolve_thread", node_id))
        return True

    def create_check_run(self, client: str, full_name: str, sha: str, output) -> int:
        self.calls.append(("create_check_run", (sha, output)))
        return next(self.ids)

    def _comment(self, path: str, line: int, body: str) -> PostedComment:
        number = next(self.ids)
        return PostedComment(id=number, node_id=f"PRRC_{number}", path=path, line=line, body=body)

    def called(self, name: str) -> list[Any]:
        return [argument for call, argument in self.calls if call == name]


@dataclass
class World:
    remote: git.Repo
    github: FakeGitHub
    deps: review.ReviewDeps
    base_sha: str

    def push(self, files: dict[str, str | bytes | None], draft: bool = False) -> str:
        """Commit to the pull request's branch and move refs/pull/7/head, as GitHub does."""
        root = Path(self.remote.working_tree_dir)
        self.remote.git.checkout("feature")
        for path, text in files.items():
            if text is None:
                (root / path).unlink()
            elif isinstance(text, bytes):
                (root / path).write_bytes(text)
            else:
                (root / path).parent.mkdir(parents=True, exist_ok=True)
                (root / path).write_text(textwrap.dedent(text))
        sha = commit_all(self.remote, "push")
        self.remote.git.update_ref(f"refs/pull/{NUMBER}/head", sha)
        self.remote.git.checkout("main")
        self.github.pull = replace(self.github.pull, head_sha=sha, draft=draft)
        return sha

    def payload(self, sha: str | None = None) -> dict[str, Any]:
        return {
            "action": "synchronize",
            "installation": {"id": 42},
            "repository": {
                "name": "models",
                "full_name": "acme/models",
                "owner": {"login": "acme"},
            },
            "pull_request": {
                "number": NUMBER,
                "head": {"sha": sha or self.github.pull.head_sha},
                "base": {"ref": "main", "sha": self.base_sha},
            },
        }

    def run(self, sha: str | None = None) -> None:
        review.handle_pull_request(self.payload(sha), self.deps)

    def open_findings(self) -> dict[str, store.StoredFinding]:
        with self.deps.session_factory() as session:
            return store.open_findings(session, "acme/models", NUMBER)


@pytest.fixture
def world(tmp_path: Path) -> World:
    remote = git.Repo.init(tmp_path / "remote", initial_branch="main")
    with remote.config_writer() as config:
        config.set_value("user", "name", "Test")
        config.set_value("user", "email", "test@example.com")
        config.set_value("commit", "gpgsign", "false")
    root = tmp_path / "remote"
    (root / "pkg").mkdir()
    (root / "pkg" / "__init__.py").write_text("")
    # Debt that is already on main: never the pull request's business.
    (root / "pkg" / "old.py").write_text("import yaml\n\nCONFIG = yaml.load(open('c.yml'))\n")
    base_sha = commit_all(remote, "main")
    remote.git.branch("feature")
    engine = store.make_engine(f"sqlite:///{tmp_path / 'store.sqlite3'}")
    store.create_schema(engine)
    pull = PullInfo(NUMBER, base_sha, "main", base_sha, "open", False, "alice", False)
    github = FakeGitHub(pull)
    deps = review.ReviewDeps(
        settings=SimpleNamespace(
            public_url=PUBLIC_URL, max_inline_comments=25, github_url="https://github.com"
        ),
        session_factory=store.make_session_factory(engine),
        data_dir=tmp_path / "data",
        installation_client=github.installation_client,
        installation_token=github.installation_token,
        get_pull=github.get_pull,
        list_review_comments=github.list_review_comments,
        create_review=github.create_review,
        reply_to_comment=github.reply_to_comment,
        resolve_thread=github.resolve_thread,
        create_check_run=github.create_check_run,
        open_findings=store.open_findings,
        record_analysis=store.record_analysis,
        clone_url=lambda full_name: str(root),
    )
    return World(remote, github, deps, base_sha)


def _inline(world: World) -> tuple[InlineComment, ...]:
    (review_call,) = world.github.called("create_review")
    return review_call[2]


def _check_run(world: World) -> CheckRunOutput:
    return world.github.called("create_check_run")[-1][1]


# --- the first push ------------------------------------------------------------------------


def test_first_push_gets_one_review_on_changed_lines_only(world: World) -> None:
    sha = world.push({"pkg/model.py": MODEL, "pkg/old.py": "# touched\nimport yaml\n"})
    world.run()
    ((review_sha, body, inline),) = world.github.called("create_review")
    assert review_sha == sha
    placed = sorted((c.path, c.start_line, c.line, c.body.split("\n")[0]) for c in inline)
    assert placed == [
        ("pkg/model.py", None, 6, "**Unsafe yaml load** · best-practices-trap · DEBT401"),
        ("pkg/model.py", None, 10, "**Fixed decision threshold** · external-world · DEBT1101"),
    ]
    assert "2 new findings on changed lines" in body
    yaml_comment = next(c for c in inline if c.line == 6)
    assert "```suggestion\n        return yaml.safe_load(f)\n```" in yaml_comment.body
    output = _check_run(world)
    assert output.conclusion == "neutral"
    assert sorted((a.path, a.start_line) for a in output.annotations) == [
        ("pkg/model.py", 6),
        ("pkg/model.py", 10),
    ]
    stored = world.open_findings()
    assert {s.code for s in stored.values()} == {"DEBT401", "DEBT1101"}
    on_github = {comments.fingerprint_of(c.body): c for c in world.github.comments}
    for fingerprint, finding in stored.items():
        assert (finding.comment_id, finding.comment_node_id) == (
            on_github[fingerprint].id,
            on_github[fingerprint].node_id,
        )


def test_nothing_found_means_no_review_but_a_green_check(world: World) -> None:
    world.push({"pkg/clean.py": "def add(a, b):\n    return a + b\n"})
    world.run()
    assert world.github.called("create_review") == []
    assert _check_run(world).conclusion == "success"


# --- later pushes and redeliveries ---------------------------------------------------------


def test_no_duplicates_across_pushes_and_redeliveries(world: World) -> None:
    world.push({"pkg/model.py": MODEL})
    world.run()
    world.run()  # a redelivery of the same push
    # Lines added above the findings: they move, their fingerprints do not.
    world.push({"pkg/model.py": '"""Model helpers."""\n\n' + MODEL, "README.md": "hi\n"})
    world.run()
    assert len(world.github.called("create_review")) == 1
    assert world.github.called("reply_to_comment") == []
    assert len(world.github.called("create_check_run")) == 3
    assert len(world.open_findings()) == 2


def test_a_new_finding_on_a_later_push_gets_its_own_review(world: World) -> None:
    world.push({"pkg/model.py": MODEL})
    world.run()
    sha = world.push({"pkg/model.py": MODEL + "\n\ndef cut(score):\n    return score > 0.42\n"})
    world.run()
    reviews = world.github.called("create_review")
    assert len(reviews) == 2
    second_sha, body, inline = reviews[1]
    assert second_sha == sha and "1 new finding on changed lines" in body
    assert [(c.line, "0.42" in c.body) for c in inline] == [(14, True)]


def test_a_fixed_finding_gets_one_reply_and_its_thread_resolved(world: World) -> None:
    world.push({"pkg/model.py": MODEL})
    world.run()
    before = world.open_findings()
    yaml_fp = next(fp for fp, f in before.items() if f.code == "DEBT401")
    fixed_sha = world.push({"pkg/model.py": MODEL.replace("yaml.load(f)", "yaml.safe_load(f)")})
    world.run()
    world.run()  # redelivered: nothing more is said
    ((comment_id, reply),) = world.github.called("reply_to_comment")
    assert comment_id == before[yaml_fp].comment_id
    assert f"Resolved in {fixed_sha[:12]}" in reply
    assert world.github.called("resolve_thread") == [before[yaml_fp].comment_node_id]
    assert set(world.open_findings()) == set(before) - {yaml_fp}
    assert len(world.github.called("create_review")) == 1


def test_a_deleted_file_resolves_its_findings(world: World) -> None:
    world.push({"pkg/model.py": MODEL})
    world.run()
    world.push({"pkg/model.py": None})
    world.run()
    assert len(world.github.called("reply_to_comment")) == 2
    assert world.open_findings() == {}


def test_a_file_that_no_longer_parses_does_not_resolve_anything(world: World) -> None:
    world.push({"pkg/model.py": MODEL})
    world.run()
    world.push({"pkg/model.py": MODEL + "\ndef broken(:\n"})
    world.run()
    assert world.github.called("reply_to_comment") == []
    assert len(world.open_findings()) == 2
    assert "- `pkg/model.py`:" in _check_run(world).summary


def test_a_crash_after_posting_does_not_post_twice(world: World) -> None:
    world.push({"pkg/model.py": MODEL})

    def crash(*args: Any, **kwargs: Any) -> int:
        raise RuntimeError("killed before the analysis was recorded")

    recording = world.deps
    world.deps = replace(recording, record_analysis=crash)
    with pytest.raises(RuntimeError):
        world.run()
    world.deps = recording
    world.run()  # the worker's retry
    assert len(world.github.called("create_review")) == 1
    stored = world.open_findings()
    assert len(stored) == 2 and all(s.comment_id for s in stored.values())


def test_a_crash_after_replying_does_not_reply_twice(world: World) -> None:
    world.push({"pkg/model.py": MODEL})
    world.run()
    world.push({"pkg/model.py": None})

    def crash(*args: Any, **kwargs: Any) -> int:
        raise RuntimeError("killed before the analysis was recorded")

    recording = world.deps
    world.deps = replace(recording, record_analysis=crash)
    with pytest.raises(RuntimeError):
        world.run()
    world.deps = recording
    world.run()
    assert len(world.github.called("reply_to_comment")) == 2  # one per finding, not four
    assert world.open_findings() == {}


# --- jobs that are dropped or skipped ------------------------------------------------------


def test_a_job_for_an_old_head_is_dropped(world: World) -> None:
    old = world.push({"pkg/model.py": MODEL})
    world.push({"pkg/model.py": MODEL + "\n# later\n"})
    world.run(sha=old)
    assert [call for call, _ in world.github.calls] == ["get_pull"]
    assert not (world.deps.data_dir / "mirrors" / "acme" / "models.git").exists()


def test_a_closed_pull_request_is_not_reviewed(world: World) -> None:
    world.push({"pkg/model.py": MODEL})
    world.github.pull = replace(world.github.pull, state="closed")
    world.run()
    assert [call for call, _ in world.github.calls] == ["get_pull"]


def test_drafts_are_skipped_unless_the_repository_asks(world: World) -> None:
    world.push({"pkg/model.py": MODEL}, draft=True)
    world.run()
    assert world.github.called("create_review") == []
    assert world.github.called("create_check_run") == []
    world.push({"pyproject.toml": "[tool.debtbot.review]\ndrafts = true\n"}, draft=True)
    world.run()
    assert len(world.github.called("create_review")) == 1


def test_bots_are_skipped_unless_the_repository_asks(world: World) -> None:
    world.push({"pkg/model.py": MODEL})
    world.github.pull = replace(world.github.pull, author_login="dependabot[bot]")
    world.github.pull = replace(world.github.pull, author_is_bot=True)
    world.run()
    assert world.github.called("create_review") == []
    world.push({"pyproject.toml": "[tool.debtbot.review]\nbots = true\n"})
    world.github.pull = replace(world.github.pull, author_is_bot=True)
    world.run()
    assert len(world.github.called("create_review")) == 1


def test_a_broken_config_is_reported_on_the_check_run(world: World) -> None:
    world.push({"pkg/model.py": MODEL, "pyproject.toml": "[tool.debtbot]\nselekt = []\n"})
    world.run()
    assert world.github.called("create_review") == []
    output = _check_run(world)
    assert output.title == "debtbot could not read its configuration"
    assert "selekt" in output.summary


# --- the repository's review options -------------------------------------------------------


def test_max_comments_and_fail_on_come_from_the_repository(world: World) -> None:
    config = '[tool.debtbot.review]\nmax-comments = 1\nfail-on = "error"\n'
    world.push({"pkg/model.py": MODEL, "pyproject.toml": config})
    world.run()
    ((_, body, inline),) = world.github.called("create_review")
    assert [c.line for c in inline] == [6]  # the error goes inline first
    assert "- `pkg/model.py:10` **Fixed decision threshold**" in body
    assert _check_run(world).conclusion == "failure"
    # Listed in the summary counts as said: the next push does not repeat it.
    world.push({"README.md": "hi\n"})
    world.run()
    assert len(world.github.called("create_review")) == 1


def test_engine_config_applies_at_head(world: World) -> None:
    config = '[tool.debtbot]\nignore = ["DEBT1101"]\n'
    world.push({"pkg/model.py": MODEL, "pyproject.toml": config})
    world.run()
    assert [c.line for c in _inline(world)] == [6]


def test_non_utf8_pyproject_is_a_config_error(world: World) -> None:
    world.push({"pkg/model.py": MODEL, "pyproject.toml": b"name = 'caf\xe9'\n"})
    world.run()
    assert _check_run(world).summary.count("not UTF-8") == 1


def test_payload_without_what_the_review_needs_is_a_payload_error(world: World) -> None:
    payload = world.payload()
    del payload["pull_request"]["head"]
    with pytest.raises(PayloadError, match="head"):
        review.handle_pull_request(payload, world.deps)
    assert world.github.calls == []


def test_the_token_is_not_written_into_the_mirror(world: World) -> None:
    world.push({"pkg/model.py": MODEL})
    world.run()
    for file in (world.deps.data_dir).rglob("*"):
        if file.is_file():
            assert b"ghs_not_a_real_token" not in file.read_bytes()


def test_default_clone_url_uses_the_configured_github(world: World) -> None:
    deps = replace(world.deps, clone_url=None)
    settings = SimpleNamespace(github_url="https://ghe.example.com/")
    assert replace(deps, settings=settings).clone_url_of("acme/models") == (
        "https://ghe.example.com/acme/models.git"
    )


# --- with the real GitHub client -----------------------------------------------------------


def test_with_the_real_client_against_the_simulated_github(world: World) -> None:
    """github.py over HTTP: comment ids come back, a refused line moves to the body, threads close.

    The webhook-to-GitHub test of the whole App lives with the server's tests.
    """
    from bot import github
    from tests.fakegithub import running_fake_github

    sha = world.push({"pkg/model.py": MODEL})
    with running_fake_github() as fake:
        fake.add_repository("acme/models", installation_id=42)
        # GitHub takes line 6 only: the comment for line 10 must end up in the review body.
        fake.add_pull("acme/models", NUMBER, sha, world.base_sha, commentable={"pkg/model.py": [6]})
        app = fake.github_app()
        deps = replace(
            world.deps,
            installation_client=partial(github.installation_client, app=app),
            installation_token=partial(github.installation_token, app=app),
            get_pull=github.get_pull,
            list_review_comments=github.list_review_comments,
            create_review=github.create_review,
            reply_to_comment=github.reply_to_comment,
            resolve_thread=github.resolve_thread,
            create_check_run=github.create_check_run,
        )
        event = fake.pull_request_event("acme/models", NUMBER)
        review.handle_pull_request(event, deps)
        review.handle_pull_request(event, deps)  # redelivered
        (posted,) = fake.submitted_reviews("acme/models", NUMBER)
        assert posted["commit_id"] == sha
        assert "pkg/model.py" in posted["body"] and "0.73" in posted["body"]
        stored = world.open_findings()
        commented = {s.code: s.comment_id for s in stored.values()}
        assert commented["DEBT401"] is not None and commented["DEBT1101"] is None

        fixed = world.push({"pkg/model.py": MODEL.replace("yaml.load(f)", "yaml.safe_load(f)")})
        fake.push("acme/models", NUMBER, fixed)
        review.handle_pull_request(fake.pull_request_event("acme/models", NUMBER), deps)
        replies = fake.requests_to(
            "POST", f"/repos/acme/models/pulls/{NUMBER}/comments/{commented['DEBT401']}/replies"
        )
        assert len(replies) == 1 and fixed[:12] in replies[0].json["body"]
        resolving = [
            r for r in fake.requests_to("POST", "/graphql") if "resolveReviewThread" in str(r.json)
        ]
        assert len(resolving) == 1
        assert len(fake.requests_to("POST", "/repos/acme/models/check-runs")) == 3
