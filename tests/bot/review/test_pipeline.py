"""The review pipeline on real git repositories, a real (SQLite) store and the real GitHub client.

Every test runs the pipeline wired as in production (:class:`bot.services.Services` with the real
GitHub client and store), with the App pointed at the simulated GitHub of tests/fakes/github/
over real HTTP. What the tests assert is what reached GitHub: request bodies, endpoints, counts,
and the state GitHub keeps (reviews, comments, threads, check runs). Crashes are GitHub failing at
the HTTP level. The pull request's repository is a real git repository in tmp_path, fetched from
a local folder (``Mirrors.git_url``), with GitHub's ``refs/pull/N/head`` kept up to date.
"""

from __future__ import annotations

import base64
import logging
import re
import textwrap
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import git
import pytest

from bot import store
from bot.app import events
from bot.app.worker import RetryPolicy, process_next
from bot.domain import PayloadError
from bot.github import mirror as gitmirror
from bot.github.errors import GitHubError
from bot.review import comments
from bot.review import pipeline as review
from bot.services import Services
from tests.bot.app.test_webhook_examples import webhook_examples
from tests.conftest import commit_all, new_repo
from tests.fakes.github import BOT_LOGIN, FakeGitHub, RecordedRequest

PUBLIC_URL = "https://debtbot.example.com"
REPO = "acme/models"
INSTALLATION = 42
NUMBER = 7
PULL = rf"/repos/{REPO}/pulls/{NUMBER}"
CHECK_RUNS = rf"/repos/{REPO}/check-runs"
REPLIES = PULL + r"/comments/\d+/replies"

MODEL = """\
import yaml


def load(path):
    with open(path) as f:
        return yaml.load(f)


def decide(proba):
    return proba > 0.73
"""

_HUNK = re.compile(r"^@@ -\d+(?:,\d+)? \+(\d+)(?:,(\d+))? @@", re.MULTILINE)


def diff_lines(remote: git.Repo, base: str, head: str) -> dict[str, set[int]]:
    """The new-side lines of GitHub's diff (3 lines of context): where GitHub takes comments."""
    text = remote.git.diff(
        f"{base}...{head}", "-U3", "--no-color", "--no-ext-diff", "--no-prefix", "-M"
    )
    lines: dict[str, set[int]] = {}
    for section in re.split(r"^diff --git ", text, flags=re.MULTILINE)[1:]:
        target = re.search(r"^\+\+\+ (.+)$", section, re.MULTILINE)
        if target is None or target.group(1) == "/dev/null":
            continue  # deleted, or binary: nothing to comment on
        covered = lines.setdefault(target.group(1), set())
        for start, count in _HUNK.findall(section):
            covered.update(range(int(start), int(start) + int(count or 1)))
    return lines


@dataclass
class World:
    remote: git.Repo
    fake: FakeGitHub
    services: Services
    base_sha: str

    # -- arranging ---------------------------------------------------------------------------

    def on_main(self, files: dict[str, str | bytes | None]) -> None:
        """Commit to main before the pull request's first push: its branch starts there."""
        self.remote.git.checkout("main")
        self._write(files)
        self.base_sha = commit_all(self.remote, "main")
        self.remote.git.branch("-f", "feature", self.base_sha)
        self.fake.pull(REPO, NUMBER).base_sha = self.base_sha

    def push(self, files: dict[str, str | bytes | None], draft: bool = False) -> str:
        """Commit to the pull request's branch; GitHub moves refs/pull/7/head and the diff."""
        self.remote.git.checkout("feature")
        self._write(files)
        sha = commit_all(self.remote, "push")
        self.remote.git.update_ref(f"refs/pull/{NUMBER}/head", sha)
        self.remote.git.checkout("main")
        self.fake.push(REPO, NUMBER, sha)
        pull = self.fake.pull(REPO, NUMBER)
        pull.draft = draft
        now = diff_lines(self.remote, self.base_sha, sha)
        for path in set(pull.commentable) | set(now):
            self.fake.set_commentable_lines(REPO, NUMBER, path, now.get(path, ()))
        return sha

    def _write(self, files: dict[str, str | bytes | None]) -> None:
        root = Path(self.remote.working_tree_dir)
        for path, text in files.items():
            if text is None:
                (root / path).unlink()
            elif isinstance(text, bytes):
                (root / path).write_bytes(text)
            else:
                (root / path).parent.mkdir(parents=True, exist_ok=True)
                (root / path).write_text(textwrap.dedent(text))

    def event(self) -> dict[str, Any]:
        """The ``synchronize`` delivery GitHub sends for the pull request as it is now."""
        return self.fake.pull_request_event(REPO, NUMBER, action="synchronize")

    def run(self, event: dict[str, Any] | None = None) -> None:
        review.handle_pull_request(event or self.event(), self.services)

    # -- what reached GitHub -----------------------------------------------------------------

    def posted(self, method: str, path: str) -> list[dict[str, Any]]:
        return [r.json for r in self.fake.requests_to(method, path)]

    def reviews(self) -> list[dict[str, Any]]:
        """Bodies of the review requests (none of them PENDING: the diff took every comment)."""
        bodies = self.posted("POST", PULL + "/reviews")
        assert all(body.get("event") == "COMMENT" for body in bodies)
        assert self.fake.pending_reviews(REPO, NUMBER) == []
        return bodies

    def check_runs(self) -> list[dict[str, Any]]:
        return self.posted("POST", CHECK_RUNS)

    def check_run(self) -> dict[str, Any]:
        """The latest check run as its request created it; it must be complete at once."""
        body = self.check_runs()[-1]
        assert body["name"] == "debtbot" and body["status"] == "completed"
        return body

    def replies(self) -> list[RecordedRequest]:
        return self.fake.requests_to("POST", REPLIES)

    def resolutions(self) -> list[str]:
        """Thread ids of the resolveReviewThread mutations sent."""
        return [
            r.json["variables"]["threadId"]
            for r in self.fake.requests_to("POST", "/graphql")
            if "resolveReviewThread" in r.json["query"]
        ]

    def api_calls(self) -> list[tuple[str, str]]:
        """Requests made as the installation (App auth and token creation left out)."""
        return [(r.method, r.path) for r in self.fake.requests if not r.path.startswith("/app")]

    def open_findings(self) -> dict[str, store.StoredFinding]:
        with self.services.sessions() as session:
            return store.open_findings(session, REPO, NUMBER)


@pytest.fixture
def world(tmp_path: Path, fake_github: FakeGitHub, database_url: str) -> World:
    # Where git fetches from: owner/name.git below a folder that stands in for GITHUB_URL.
    root = tmp_path / "git" / f"{REPO}.git"
    remote = new_repo(root)
    (root / "pkg").mkdir()
    (root / "pkg" / "__init__.py").write_text("")
    # Debt that is already on main: never the pull request's business.
    (root / "pkg" / "old.py").write_text("import yaml\n\nCONFIG = yaml.load(open('c.yml'))\n")
    base_sha = commit_all(remote, "main")
    remote.git.branch("feature")

    fake_github.add_repository(REPO, installation_id=INSTALLATION)
    fake_github.add_pull(REPO, NUMBER, base_sha, base_sha, author="alice")

    engine = store.make_engine(database_url)
    store.create_schema(engine)
    # Production's wiring, with the App's waits made short and git fetching the local remote.
    services = fake_github.services(
        store.make_session_factory(engine),
        tmp_path / "data",
        git_url=str(tmp_path / "git"),
        public_url=PUBLIC_URL,
        max_inline_comments=25,
    )
    return World(remote, fake_github, services, base_sha)


def run_crashing(world: World, method: str, path: str) -> None:
    """Run once while GitHub answers 502 to ``method path``; the job dies of it.

    A POST answered with 5xx is not sent again (GitHub may have acted on it): the job fails and
    the worker retries it later, which is the next ``world.run()``.
    """
    earlier = len(world.fake.requests_to(method, path))
    world.fake.fail(method, path, 502)
    with pytest.raises(GitHubError) as crash:
        world.run()
    assert crash.value.status == 502
    assert len(world.fake.requests_to(method, path)) == earlier + 1


def answer_502_after_acting(fake: FakeGitHub, method: str, path: str) -> None:
    """The next ``method path`` takes effect on GitHub, but its answer is lost: 502 upstream."""
    handle = fake.handle
    pattern = re.compile(path)

    def acting_then_failing(verb: str, raw_path: str, headers: dict, raw_body: bytes) -> tuple:
        status, reply_headers, answer = handle(verb, raw_path, headers, raw_body)
        relative = urlsplit(raw_path).path.removeprefix(fake.prefix)
        if verb == method and pattern.fullmatch(relative):
            del fake.handle  # once: GitHub answers normally again
            return 502, reply_headers, {"message": "Server Error"}
        return status, reply_headers, answer

    fake.handle = acting_then_failing  # type: ignore[method-assign]


# --- the first push ------------------------------------------------------------------------


def test_first_push_gets_one_review_on_changed_lines_only(world: World) -> None:
    sha = world.push({"pkg/model.py": MODEL, "pkg/old.py": "# touched\nimport yaml\n"})
    world.run()
    (sent,) = world.reviews()
    assert sent["commit_id"] == sha
    placed = sorted(
        (c["path"], c.get("start_line"), c["line"], c["side"], c["body"].split("\n")[0])
        for c in sent["comments"]
    )
    assert placed == [
        ("pkg/model.py", None, 6, "RIGHT", "**Unsafe YAML load** · best-practices-trap · DEBT401"),
        (
            "pkg/model.py",
            None,
            10,
            "RIGHT",
            "**Fixed decision threshold** · external-world · DEBT1101",
        ),
    ]
    assert "2 new findings on changed lines" in sent["body"]
    yaml_comment = next(c for c in sent["comments"] if c["line"] == 6)
    assert "```suggestion\n        return yaml.safe_load(f)\n```" in yaml_comment["body"]
    (on_github,) = world.fake.submitted_reviews(REPO, NUMBER)
    assert (on_github["commit_id"], on_github["state"]) == (sha, "COMMENTED")

    check = world.check_run()
    assert (check["head_sha"], check["conclusion"]) == (sha, "neutral")
    annotations = check["output"]["annotations"]
    assert sorted((a["path"], a["start_line"]) for a in annotations) == [
        ("pkg/model.py", 6),
        ("pkg/model.py", 10),
    ]
    assert len(world.fake.check_runs) == 1

    stored = world.open_findings()
    assert {s.code for s in stored.values()} == {"DEBT401", "DEBT1101"}
    comments_on_github = world.fake.pull(REPO, NUMBER).comments
    assert all(c["user"]["login"] == BOT_LOGIN for c in comments_on_github)
    by_fingerprint = {comments.fingerprint_of(c["body"]): c for c in comments_on_github}
    for fingerprint, finding in stored.items():
        assert (finding.comment_id, finding.comment_node_id) == (
            by_fingerprint[fingerprint]["id"],
            by_fingerprint[fingerprint]["node_id"],
        )


def test_changed_files_that_could_not_be_analysed_are_named_in_the_review(world: World) -> None:
    world.push(
        {
            "pkg/model.py": MODEL,
            "pkg/latin.py": "caf\xe9 = 1\n".encode("latin-1"),
            "pkg/broken.py": "def broken(:\n    pass\n",
            # git shows no lines of a binary file, so there is nothing in it to review.
            "pkg/blob.py": b"\x00\x01binary, named .py",
        }
    )
    world.run()

    (sent,) = world.reviews()
    assert "2 new findings on changed lines" in sent["body"]
    assert "2 changed files could not be analysed:" in sent["body"]
    unread = [line for line in sent["body"].splitlines() if line.startswith("- `pkg/")]
    assert [line.split(":")[0] for line in unread] == ["- `pkg/broken.py`", "- `pkg/latin.py`"]
    assert "syntax error at line " in unread[0]
    assert unread[1] == "- `pkg/latin.py`: not UTF-8 text (byte 3)"


def test_debt_the_base_had_on_a_touched_line_is_not_the_pull_requests_doing(
    world: World,
) -> None:
    # main has an unsafe load on line 3 of pkg/old.py; the pull request annotates that line and
    # adds a second load of its own.
    world.push(
        {
            "pkg/old.py": "import yaml\n\n"
            "CONFIG = yaml.load(open('c.yml'))  # the legacy settings\n"
            "EXTRA = yaml.load(open('d.yml'))\n"
        }
    )
    world.run()
    (sent,) = world.reviews()
    assert {(c["path"], c["line"]) for c in sent["comments"]} == {("pkg/old.py", 4)}
    assert {(f.code, f.line) for f in world.open_findings().values()} == {
        ("DEBT401", 4),  # unsafe load
        ("DEBT707", 4),  # a file read when the module is imported
    }


def test_one_more_file_doing_what_most_files_of_its_kind_do_gets_no_comment(
    world: World,
) -> None:
    unsafe = "import yaml\n\nSETTINGS = yaml.load(open('{}.yml'))\n"
    # Three of the four jobs load their settings the same way: that is this repository's way.
    world.on_main({f"jobs/{name}.py": unsafe.format(name) for name in ("a", "b", "c")})
    world.on_main({"jobs/d.py": "SETTINGS = {}\n"})
    world.push({"jobs/e.py": unsafe.format("e"), "pkg/settings.py": unsafe.format("pkg")})
    world.run()
    (sent,) = world.reviews()
    assert {c["path"] for c in sent["comments"]} == {"pkg/settings.py"}
    assert {(f.path, f.code) for f in world.open_findings().values()} == {
        ("pkg/settings.py", "DEBT401"),  # unsafe load
        ("pkg/settings.py", "DEBT707"),  # a file read when the module is imported
    }


def test_each_review_is_one_log_line_with_what_an_operator_searches_by(
    world: World, caplog: pytest.LogCaptureFixture
) -> None:
    sha = world.push({"pkg/model.py": MODEL})
    with caplog.at_level(logging.INFO, logger="bot.review.pipeline"):
        world.run()
    (line,) = [r for r in caplog.records if r.name == "bot.review.pipeline"]
    assert (line.repository, line.pull_request, line.head) == (REPO, NUMBER, sha)
    assert line.outcome == "posted" and line.seconds > 0
    assert line.getMessage().startswith(f"review of {REPO}#{NUMBER} at {sha[:12]}: posted in ")


def test_nothing_found_means_no_review_but_a_green_check(world: World) -> None:
    sha = world.push({"pkg/clean.py": "def add(a, b):\n    return a + b\n"})
    world.run()
    assert world.fake.requests_to("POST", PULL + "/reviews") == []
    assert world.fake.submitted_reviews(REPO, NUMBER) == []
    check = world.check_run()
    assert (check["head_sha"], check["conclusion"]) == (sha, "success")
    assert check["output"]["annotations"] == []


# --- later pushes and redeliveries ---------------------------------------------------------


def test_no_duplicates_across_pushes_and_redeliveries(world: World) -> None:
    world.push({"pkg/model.py": MODEL})
    event = world.event()
    world.run(event)
    world.run(event)  # a redelivery of the same push
    # Lines added above the findings: they move, their fingerprints do not.
    world.push({"pkg/model.py": '"""Model helpers."""\n\n' + MODEL, "README.md": "hi\n"})
    world.run()
    assert len(world.fake.requests_to("POST", PULL + "/reviews")) == 1
    assert len(world.reviews()) == 1
    assert world.fake.requests_to("POST", REPLIES) == []
    assert world.resolutions() == []
    assert len(world.check_runs()) == 3
    assert len(world.fake.pull(REPO, NUMBER).comments) == 2
    assert len(world.open_findings()) == 2


def test_a_new_finding_on_a_later_push_gets_its_own_review(world: World) -> None:
    world.push({"pkg/model.py": MODEL})
    world.run()
    sha = world.push({"pkg/model.py": MODEL + "\n\ndef cut(score):\n    return score > 0.42\n"})
    world.run()
    reviews = world.reviews()
    assert len(reviews) == 2
    second = reviews[1]
    assert second["commit_id"] == sha and "1 new finding on changed lines" in second["body"]
    # The file already has a comment on this rule: the new threshold is named in the body.
    assert second["comments"] == []
    assert "`pkg/model.py:14`" in second["body"]
    assert len(world.fake.pull(REPO, NUMBER).comments) == 2


def test_a_new_finding_of_another_rule_or_file_gets_its_own_comment(world: World) -> None:
    world.push({"pkg/model.py": MODEL})
    world.run()
    world.push(
        {
            "pkg/model.py": MODEL
            + "\n\ndef clean(frame):\n    return frame[frame == float('nan')]\n",
            "pkg/rules.py": "def cut(score):\n    return score > 0.42\n",
        }
    )
    world.run()
    second = world.reviews()[1]
    assert sorted((c["path"], c["line"]) for c in second["comments"]) == [
        ("pkg/model.py", 14),
        ("pkg/rules.py", 2),
    ]


def test_findings_of_one_rule_in_one_file_are_one_comment(world: World) -> None:
    thresholds = (
        "\n\ndef cut(score):\n    return score > 0.42\n"
        "\n\ndef keep(proba):\n    return proba > 0.9\n"
    )
    world.push({"pkg/model.py": MODEL + thresholds})
    world.run()
    (review,) = world.reviews()
    by_rule = [c for c in review["comments"] if "threshold" in c["body"]]
    assert len(by_rule) == 1
    assert "The same in this file on lines 14 and 18." in by_rule[0]["body"]
    assert len(world.open_findings()) == 4  # every finding is recorded, and said once


def test_a_commented_block_edited_in_a_later_push_is_not_commented_again(world: World) -> None:
    block = "\n\n# def old_decide(proba):\n#     x = proba * 2\n#     return x > 0.5\n"
    # DEBT1003 is off by default (held-out set 2); the repository turns it on.
    on = '[tool.debtbot]\nselect = ["DEBT1003", "DEBT401", "DEBT1101"]\n'
    world.push({"pkg/model.py": MODEL + block, "pyproject.toml": on})
    world.run()
    on_github = world.fake.pull(REPO, NUMBER).comments
    [commented] = [c for c in on_github if "commented-out" in c["body"]]
    # The block grows by a line: its fingerprint changes, the problem does not.
    world.push({"pkg/model.py": MODEL + block + "#     print(x)\n"})
    world.run()
    assert len(world.reviews()) == 1  # nothing new to say
    assert world.replies() == [] and world.resolutions() == []
    open_now = world.open_findings()
    assert [f.comment_id for f in open_now.values() if f.code == "DEBT1003"] == [commented["id"]]
    # When the block goes, its one thread is answered and resolved.
    world.push({"pkg/model.py": MODEL})
    world.run()
    assert len(world.replies()) == 1 and len(world.resolutions()) == 1


def test_a_fixed_finding_gets_one_reply_and_its_thread_resolved(world: World) -> None:
    world.push({"pkg/model.py": MODEL})
    world.run()
    before = world.open_findings()
    yaml_fp = next(fp for fp, f in before.items() if f.code == "DEBT401")
    fixed_sha = world.push({"pkg/model.py": MODEL.replace("yaml.load(f)", "yaml.safe_load(f)")})
    event = world.event()
    world.run(event)
    world.run(event)  # redelivered: nothing more is said
    (reply,) = world.replies()
    assert reply.path == f"{PULL}/comments/{before[yaml_fp].comment_id}/replies"
    assert f"Resolved in {fixed_sha[:12]}" in reply.json["body"]
    threads = world.fake.pull(REPO, NUMBER).threads
    yaml_thread = next(t for t in threads if t["comment_ids"][0] == before[yaml_fp].comment_id)
    assert world.resolutions() == [yaml_thread["id"]]
    assert [t["isResolved"] for t in threads] == [t is yaml_thread for t in threads]
    assert len(yaml_thread["comment_ids"]) == 2  # our comment and the one reply
    assert set(world.open_findings()) == set(before) - {yaml_fp}
    assert len(world.reviews()) == 1


def test_a_deleted_file_resolves_its_findings(world: World) -> None:
    world.push({"pkg/model.py": MODEL})
    world.run()
    commented = {f.comment_id for f in world.open_findings().values()}
    world.push({"pkg/model.py": None})
    world.run()
    replies = world.replies()
    assert len(replies) == 2
    assert {int(r.path.split("/")[-2]) for r in replies} == commented
    threads = world.fake.pull(REPO, NUMBER).threads
    assert len(threads) == 2 and all(t["isResolved"] for t in threads)
    assert sorted(world.resolutions()) == sorted(t["id"] for t in threads)
    assert world.open_findings() == {}


def test_a_file_that_no_longer_parses_does_not_resolve_anything(world: World) -> None:
    world.push({"pkg/model.py": MODEL})
    world.run()
    world.push({"pkg/model.py": MODEL + "\ndef broken(:\n"})
    world.run()
    assert world.fake.requests_to("POST", REPLIES) == []
    assert world.resolutions() == []
    assert not any(t["isResolved"] for t in world.fake.pull(REPO, NUMBER).threads)
    assert len(world.open_findings()) == 2
    assert "- `pkg/model.py`:" in world.check_run()["output"]["summary"]


def test_a_failure_before_the_review_posts_nothing_and_the_retry_posts_once(
    world: World,
) -> None:
    world.push({"pkg/model.py": MODEL})
    # Everything that can fail comes before the review: here the check run, until the App
    # gives up. The job dies having posted nothing.
    run_crashing(world, "POST", CHECK_RUNS)
    assert world.reviews() == []
    assert world.open_findings() == {}
    world.run()  # the worker's retry
    assert len(world.fake.requests_to("POST", PULL + "/reviews")) == 1
    assert len(world.fake.pull(REPO, NUMBER).comments) == 2
    stored = world.open_findings()
    assert len(stored) == 2 and all(s.comment_id for s in stored.values())
    on_github = {c["id"]: c["node_id"] for c in world.fake.pull(REPO, NUMBER).comments}
    assert {s.comment_id: s.comment_node_id for s in stored.values()} == on_github


def test_findings_only_listed_in_a_body_are_not_posted_again_after_a_failure(
    world: World,
) -> None:
    world.push(
        {
            "pyproject.toml": "[tool.debtbot.review]\nmax-comments = 1\n",
            "pkg/model.py": MODEL,
        }
    )
    run_crashing(world, "POST", CHECK_RUNS)
    world.run()
    world.run()  # a redelivery on top
    [review] = world.fake.requests_to("POST", PULL + "/reviews")
    assert len(review.json["comments"]) == 1  # the other finding is listed in the body
    assert len(world.open_findings()) == 2


def test_a_review_github_made_but_answered_502_for_is_not_posted_again(world: World) -> None:
    world.push({"pkg/model.py": MODEL})
    answer_502_after_acting(world.fake, "POST", PULL + "/reviews")
    with pytest.raises(GitHubError) as crash:
        world.run()
    assert crash.value.status == 502
    assert len(world.fake.submitted_reviews(REPO, NUMBER)) == 1  # GitHub did post it
    assert world.open_findings() == {}  # the job died before recording anything
    world.run()  # the worker's retry
    assert len(world.fake.requests_to("POST", PULL + "/reviews")) == 1
    assert len(world.fake.pull(REPO, NUMBER).comments) == 2
    assert world.check_run()["conclusion"] == "neutral"
    stored = world.open_findings()
    on_github = {c["id"]: c["node_id"] for c in world.fake.pull(REPO, NUMBER).comments}
    assert {s.comment_id: s.comment_node_id for s in stored.values()} == on_github


def test_a_crash_after_replying_does_not_reply_twice(world: World) -> None:
    world.push({"pkg/model.py": MODEL})
    world.run()
    world.push({"pkg/model.py": None})
    # The first reply goes out, then GitHub fails the GraphQL call that finds its thread.
    run_crashing(world, "POST", "/graphql")
    assert len(world.replies()) == 1
    assert len(world.open_findings()) == 2
    world.run()
    assert len(world.fake.requests_to("POST", REPLIES)) == 2  # one per finding, not three
    assert len(world.resolutions()) == 2
    assert all(t["isResolved"] for t in world.fake.pull(REPO, NUMBER).threads)
    assert world.open_findings() == {}


# --- jobs that are dropped or skipped ------------------------------------------------------


def test_a_job_for_an_old_head_is_dropped(world: World) -> None:
    world.push({"pkg/model.py": MODEL})
    old = world.event()  # delivered late: the pull request has moved on since
    world.push({"pkg/model.py": MODEL + "\n# later\n"})
    world.run(old)
    assert world.api_calls() == [("GET", PULL)]
    assert not (world.services.mirrors.data_dir / "mirrors" / "acme" / "models.git").exists()


def test_a_closed_pull_request_is_not_reviewed(world: World) -> None:
    world.push({"pkg/model.py": MODEL})
    event = world.event()
    world.fake.pull(REPO, NUMBER).state = "closed"
    world.run(event)
    assert world.api_calls() == [("GET", PULL)]


def test_drafts_are_skipped_unless_the_repository_asks(world: World) -> None:
    world.push({"pkg/model.py": MODEL}, draft=True)
    world.run()
    assert world.api_calls() == [("GET", PULL)]  # no review, no check run
    world.push({"pyproject.toml": "[tool.debtbot.review]\ndrafts = true\n"}, draft=True)
    world.run()
    assert world.event()["pull_request"]["draft"] is True
    assert len(world.reviews()) == 1
    assert len(world.check_runs()) == 1


def test_bots_are_skipped_unless_the_repository_asks(world: World) -> None:
    pull = world.fake.pull(REPO, NUMBER)
    pull.author, pull.author_type = "dependabot[bot]", "Bot"
    world.push({"pkg/model.py": MODEL})
    world.run()
    assert world.api_calls() == [("GET", PULL)]  # no review, no check run
    world.push({"pyproject.toml": "[tool.debtbot.review]\nbots = true\n"})
    world.run()
    assert len(world.reviews()) == 1
    assert len(world.check_runs()) == 1


@pytest.mark.parametrize("kind", ["check_run", "check_suite"])
def test_the_re_run_button_reviews_the_pull_request_again_with_a_new_check_run(
    world: World, kind: str
) -> None:
    sha = world.push({"pkg/model.py": MODEL})
    world.run()
    assert len(world.check_runs()) == 1
    # GitHub's own example of the delivery, for our repository and commit; like GitHub for a
    # pull request from a fork, it names no pull request.
    (example,) = [
        p for e, p in webhook_examples(kind) if p["action"] == "rerequested" and p[kind]["id"]
    ][:1]
    delivery = dict(example)
    delivery["installation"] = {"id": INSTALLATION, "node_id": "MDIzOkluc3RhbGxhdGlvbjE="}
    delivery["repository"] = world.event()["repository"]
    delivery[kind] = dict(example[kind], head_sha=sha, pull_requests=[])

    events.rerun_checks(delivery, world.services)
    while process_next(events.ROUTES, world.services, RetryPolicy()):
        pass

    asked = world.fake.requests_to("GET", rf"/repos/{REPO}/commits/{sha}/pulls")
    assert len(asked) == 1
    runs = world.check_runs()
    assert len(runs) == 2 and runs[-1]["head_sha"] == sha
    assert len(world.reviews()) == 1  # nothing new to say: the comments are not repeated


def test_a_re_run_for_a_commit_no_open_pull_request_has_queues_nothing(world: World) -> None:
    world.push({"pkg/model.py": MODEL})
    delivery = {
        "action": "rerequested",
        "installation": {"id": INSTALLATION},
        "repository": world.event()["repository"],
        "check_run": {"id": 4, "head_sha": "f" * 40, "pull_requests": []},
    }
    events.rerun_checks(delivery, world.services)
    with world.services.sessions() as session:
        assert store.delivery_counts(session) == {}


def test_a_broken_config_is_reported_on_the_check_run(world: World) -> None:
    sha = world.push({"pkg/model.py": MODEL, "pyproject.toml": "[tool.debtbot]\nselekt = []\n"})
    world.run()
    assert world.fake.requests_to("POST", PULL + "/reviews") == []
    check = world.check_run()
    assert check["head_sha"] == sha
    assert check["output"]["title"] == "debtbot could not read its configuration"
    assert "selekt" in check["output"]["summary"]
    assert world.fake.check_runs[max(world.fake.check_runs)]["status"] == "completed"


# --- the repository's review options -------------------------------------------------------


def test_max_comments_and_fail_on_come_from_the_repository(world: World) -> None:
    config = '[tool.debtbot.review]\nmax-comments = 1\nfail-on = "error"\n'
    world.push({"pkg/model.py": MODEL, "pyproject.toml": config})
    world.run()
    (sent,) = world.reviews()
    assert [c["line"] for c in sent["comments"]] == [6]  # the error goes inline first
    assert "- `pkg/model.py:10` **Fixed decision threshold**" in sent["body"]
    assert world.check_run()["conclusion"] == "failure"
    # Listed in the summary counts as said: the next push does not repeat it.
    world.push({"README.md": "hi\n"})
    world.run()
    assert len(world.fake.requests_to("POST", PULL + "/reviews")) == 1


def test_engine_config_applies_at_head(world: World) -> None:
    config = '[tool.debtbot]\nignore = ["DEBT1101"]\n'
    world.push({"pkg/model.py": MODEL, "pyproject.toml": config})
    world.run()
    (sent,) = world.reviews()
    assert [c["line"] for c in sent["comments"]] == [6]


def test_a_sub_project_is_analysed_under_its_own_table_as_the_command_line_does(
    world: World,
) -> None:
    # The root table governs pkg/; services/scoring has its own, which inherits nothing.
    world.push(
        {
            "pyproject.toml": '[tool.debtbot]\nignore = ["DEBT1101"]\n',
            "pkg/model.py": MODEL,
            "services/scoring/pyproject.toml": '[tool.debtbot]\nignore = ["DEBT401"]\n',
            "services/scoring/model.py": MODEL,
            # A pyproject.toml without the table does not stop the lookup.
            "services/other/pyproject.toml": "[project]\nname = 'other'\n",
            "services/other/model.py": MODEL,
        }
    )
    world.run()
    (sent,) = world.reviews()
    assert sorted((c["path"], c["line"]) for c in sent["comments"]) == [
        ("pkg/model.py", 6),
        ("services/other/model.py", 6),
        ("services/scoring/model.py", 10),
    ]


def test_a_broken_sub_project_table_is_reported_on_the_check_run(world: World) -> None:
    world.push(
        {
            "pkg/model.py": MODEL,
            "services/scoring/pyproject.toml": "[tool.debtbot]\nselekt = []\n",
            "services/scoring/model.py": MODEL,
        }
    )
    world.run()
    assert world.fake.requests_to("POST", PULL + "/reviews") == []
    summary = world.check_run()["output"]["summary"]
    assert "selekt" in summary and "services/scoring/pyproject.toml" in summary


def test_non_utf8_pyproject_is_a_config_error(world: World) -> None:
    world.push({"pkg/model.py": MODEL, "pyproject.toml": b"name = 'caf\xe9'\n"})
    world.run()
    assert world.check_run()["output"]["summary"].count("not UTF-8") == 1
    assert world.fake.requests_to("POST", PULL + "/reviews") == []


def test_payload_without_what_the_review_needs_is_a_payload_error(world: World) -> None:
    world.push({"pkg/model.py": MODEL})
    payload = world.event()
    del payload["pull_request"]["head"]
    with pytest.raises(PayloadError, match="head"):
        review.handle_pull_request(payload, world.services)
    assert world.fake.requests == []


def test_the_token_is_not_written_into_the_mirror(world: World) -> None:
    world.push({"pkg/model.py": MODEL})
    world.run()
    issued = list(world.fake.tokens)
    assert issued  # the fetch and the API calls ran on a real installation token
    assert len(world.fake.requests_to("POST", rf"/app/installations/{INSTALLATION}/.*")) == 1
    secrets = [t.encode() for t in issued]
    secrets += [base64.b64encode(f"x-access-token:{t}".encode()) for t in issued]
    files = [f for f in world.services.mirrors.data_dir.rglob("*") if f.is_file()]
    assert files
    for file in files:
        content = file.read_bytes()
        assert not any(secret in content for secret in secrets), file


def test_git_fetches_from_the_configured_github(world: World) -> None:
    # No GitHub interaction: where git fetches from is a function of the App's settings.
    settings = world.fake.settings(
        world.services.mirrors.data_dir, github_url="https://ghe.example.com/"
    )
    services = Services.from_settings(settings, world.services.sessions)
    assert services.mirrors.clone_url(REPO) == "https://ghe.example.com/acme/models.git"


# --- when GitHub refuses a line ------------------------------------------------------------


def test_a_line_github_refuses_moves_to_the_review_body(world: World) -> None:
    """Comment ids come back, a refused line moves to the body, threads close."""
    sha = world.push({"pkg/model.py": MODEL})
    # GitHub takes line 6 only: the comment for line 10 must end up in the review body.
    world.fake.set_commentable_lines(REPO, NUMBER, "pkg/model.py", [6])
    event = world.event()
    world.run(event)
    world.run(event)  # redelivered
    assert world.fake.pending_reviews(REPO, NUMBER) == []  # the probes were deleted
    (posted,) = world.fake.submitted_reviews(REPO, NUMBER)
    assert posted["commit_id"] == sha
    assert "pkg/model.py" in posted["body"] and "0.73" in posted["body"]
    (comment,) = world.fake.pull(REPO, NUMBER).comments
    assert comment["line"] == 6
    stored = world.open_findings()
    commented = {s.code: s.comment_id for s in stored.values()}
    assert commented == {"DEBT401": comment["id"], "DEBT1101": None}

    fixed = world.push({"pkg/model.py": MODEL.replace("yaml.load(f)", "yaml.safe_load(f)")})
    world.run()
    (reply,) = world.replies()
    assert reply.path == f"{PULL}/comments/{comment['id']}/replies"
    assert fixed[:12] in reply.json["body"]
    (thread,) = world.fake.pull(REPO, NUMBER).threads
    assert world.resolutions() == [thread["id"]] and thread["isResolved"]
    assert len(world.check_runs()) == 3


def _lose(objects_of: Path, blob_id: str) -> None:
    loose = objects_of / "objects" / blob_id[:2] / blob_id[2:]
    loose.chmod(0o600)
    loose.unlink()


def test_a_file_the_mirror_lost_is_fetched_again_before_the_review(world: World, caplog) -> None:
    sha = world.push({"pkg/model.py": MODEL})
    mirror = world.services.mirrors.ensure(REPO)
    gitmirror.fetch_pull(mirror, "main", NUMBER, token=None)
    tree, _ = gitmirror.blobs_at(mirror, sha)
    _lose(mirror, tree["pkg/model.py"])

    with caplog.at_level(logging.WARNING, logger="bot.review.pipeline"):
        world.run()

    (sent,) = world.reviews()
    assert "2 new findings on changed lines" in sent["body"]
    assert "lacks 1 files" in caplog.text and "fetching everything again" in caplog.text


def test_a_file_missing_from_github_too_is_a_clear_error(world: World) -> None:
    sha = world.push({"pkg/model.py": MODEL})
    mirror = world.services.mirrors.ensure(REPO)
    gitmirror.fetch_pull(mirror, "main", NUMBER, token=None)
    tree, _ = gitmirror.blobs_at(mirror, sha)
    _lose(mirror, tree["pkg/model.py"])
    _lose(Path(world.remote.git_dir), tree["pkg/model.py"])

    with pytest.raises(gitmirror.MirrorError) as raised:
        world.run()

    assert world.reviews() == []
    # GitHub (here a local remote) cannot send it either: git says which object.
    assert str(raised.value).startswith("git fetch --refetch")
    assert f"unable to read {tree['pkg/model.py']}" in str(raised.value)
