"""The dashboard in a real browser (Debian's chromium, driven by Playwright).

The App runs as in production under uvicorn, with its worker: signed webhooks install it and
push to a repository's default branch, git fetches over HTTP from the simulated GitHub, which
also signs people in. The browser then signs in through GitHub's OAuth pages, sees the accounts
it may see and nothing else, and finds the figures the pushes produced.

With DEBTBOT_SCREENSHOTS=docs/screenshots the tests also save each page kind at desktop and
phone width (see docs/screenshots/README.md).
"""

from __future__ import annotations

import re
import time
from contextlib import contextmanager
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from urllib.parse import urlsplit

import git
import httpx
import pytest

from bot import store
from bot.app import events
from bot.app.server import create_app
from bot.app.worker import RetryPolicy, process_next
from bot.services import Services
from tests.bot.app.test_end_to_end import signed_delivery
from tests.browser.conftest import DESKTOP, PHONE, free_port, overflows, screenshot, serving
from tests.conftest import commit_all, new_repo, write_files
from tests.fakes.github import FakeGitHub

ORG = "octo-org"
MODELS = f"{ORG}/models"
DATA = f"{ORG}/data"
SECRET = "test-webhook-secret"

LOADER = """\
import yaml


def load(path):
    with open(path) as f:
        return yaml.load(f)
"""
SAFE_LOADER = LOADER.replace("yaml.load(f)", "yaml.safe_load(f)")
DECIDE = """\
def decide(model, features):
    proba = model.predict_proba(features)[:, 1]
    return proba > 0.73
"""


class Remote:
    """A repository as the simulated GitHub serves it to git, with a clone to commit in."""

    def __init__(self, root: Path, full_name: str) -> None:
        self.bare = git.Repo.init(root / "remotes" / f"{full_name}.git", bare=True)
        self.work = new_repo(root / "work" / full_name)
        self.work.create_remote("origin", self.bare.git_dir)

    def push(self, files: dict[str, str]) -> str:
        write_files(Path(self.work.working_tree_dir), files)
        sha = commit_all(self.work, f"change {', '.join(files)}")
        self.work.git.push("origin", "HEAD:refs/heads/main", "--force")
        self.bare.git.update_server_info()  # git's dumb HTTP protocol reads these files
        return sha


@dataclass
class Site:
    url: str
    fake: FakeGitHub
    settings: object
    models: Remote
    data: Remote
    jobs: Services | None  # set: the test runs the jobs itself (see running_site)

    def deliver(self, event: str, payload: dict) -> None:
        body, headers = signed_delivery(event, payload, SECRET)
        answer = httpx.post(f"{self.url}/webhook", content=body, headers=headers)
        assert answer.status_code == 202, answer.text
        self.settle()

    def settle(self, seconds: float = 60) -> None:
        """Wait until the worker has done every delivery (the ledger's chunks included)."""
        if self.jobs is not None:
            policy = RetryPolicy(max_attempts=1, backoff_seconds=0)
            while process_next(events.ROUTES, self.jobs, policy):
                pass
        engine = store.make_engine(self.settings.database_url)
        try:
            deadline = time.monotonic() + seconds
            while time.monotonic() < deadline:
                with store.make_session_factory(engine)() as session:
                    counts = store.delivery_counts(session)
                if not counts.get("pending") and not counts.get("running"):
                    assert not counts.get("failed"), counts
                    return
                time.sleep(0.05)
        finally:
            engine.dispose()
        raise AssertionError(f"the worker did not finish: {counts}")

    def push(self, files: dict[str, str], pull: int, title: str, remote: str = MODELS) -> str:
        into = self.models if remote == MODELS else self.data
        before = into.work.head.commit.hexsha
        after = into.push(files)
        opened = self.fake.add_pull(remote, pull, after, before)
        opened.title = title
        self.fake.merge_pull(remote, pull, after)
        self.deliver("push", self.fake.push_event(remote, before, after))
        return after


@contextmanager
def running_site(tmp_path: Path, fake: FakeGitHub, clock: list[datetime] | None = None):
    """The App serving the dashboard. With ``clock``, its worker is off and the test runs the
    jobs itself, as the worker would, with the time set to ``clock[0]``: a season of pushes in
    one test."""
    models = Remote(tmp_path, MODELS)
    models.push({"pkg/__init__.py": "", "pkg/loader.py": LOADER})
    data = Remote(tmp_path, DATA)
    data.push({"etl/__init__.py": "", "etl/load.py": DECIDE})
    fake.serve_git(tmp_path / "remotes")
    fake.add_installation(1, ORG)
    fake.add_repository(MODELS, installation_id=1)
    fake.add_repository(DATA, installation_id=1)
    fake.add_member(ORG, "alice")
    fake.set_role(MODELS, "bob", "read")  # an outside collaborator
    port = free_port()
    settings = fake.settings(
        tmp_path,
        database_url=f"sqlite:///{tmp_path}/debtbot.sqlite3",
        github_url=fake.web_url,
        public_url=f"http://127.0.0.1:{port}",
        worker_poll_seconds=0.05,
        worker_backoff_seconds=0.1,
    )
    app = create_app(settings, run_worker=clock is None)
    with serving(app, port) as url:
        jobs = None
        if clock is not None:
            services = Services.from_settings(settings, app.state.session_factory)
            jobs = replace(services, clock=lambda: clock[0])
        built = Site(url, fake, settings, models, data, jobs)
        built.deliver("installation", fake.installation_event(1))
        yield built


@pytest.fixture
def site(tmp_path: Path, fake_github: FakeGitHub):
    with running_site(tmp_path, fake_github) as built:
        yield built


def sign_in(site: Site, page, login: str, path: str = "/dashboard") -> None:
    site.fake.sign_in_as(login)
    page.goto(site.url + path)
    # Our login page, GitHub's authorize page and our callback: all redirects, then the page.
    assert urlsplit(page.url).path == path, page.url


def drawn(page, chart: str) -> None:
    """Wait until plotly has drawn the chart: its SVG is in the page."""
    page.wait_for_selector(f"#{chart}[data-drawn='true'] svg.main-svg", timeout=15000)


def test_pages_allow_scripts_only_from_this_server_and_still_draw(site: Site, new_page) -> None:
    page = new_page(DESKTOP)
    refused: list[str] = []
    page.on("console", lambda message: refused.append(message.text)
            if "Content Security Policy" in message.text else None)  # fmt: skip
    sign_in(site, page, "alice", f"/dashboard/repos/{MODELS}")
    answer = page.goto(site.url + f"/dashboard/repos/{MODELS}")
    assert "script-src 'self'" in answer.headers["content-security-policy"]
    for chart in ("trend", "flow", "principles", "hotspots"):
        drawn(page, chart)
    assert refused == []


def only_local(page) -> None:
    hosts = {urlsplit(url).hostname for url in page.requested if url.startswith("http")}
    assert hosts <= {"127.0.0.1"}, hosts


def test_a_member_signs_in_and_finds_what_the_pushes_did(site: Site, new_page) -> None:
    site.push({"pkg/decide.py": DECIDE}, 5, "Add a decision threshold")
    paid = site.push({"pkg/loader.py": SAFE_LOADER}, 6, "Load the config safely")

    page = new_page(DESKTOP)
    sign_in(site, page, "alice")
    assert page.locator("h1").inner_text() == "Debt ledger"
    page.get_by_role("link", name=ORG, exact=True).click()
    assert urlsplit(page.url).path == f"/dashboard/accounts/{ORG}"
    drawn(page, "trend")
    drawn(page, "flow")
    ranked = page.locator("section", has_text="Most debt").locator("tbody tr")
    assert ranked.count() == 2
    assert ranked.nth(0).inner_text().split("\t")[:2] == [DATA, "1"] or ranked.nth(
        0
    ).inner_text().split("\t")[:2] == [MODELS, "1"]
    only_local(page)

    page.get_by_role("link", name=MODELS).first.click()
    assert urlsplit(page.url).path == f"/dashboard/repos/{MODELS}"
    for chart in ("trend", "flow", "principles", "hotspots"):
        drawn(page, chart)
    summary = page.locator("main, body").first.inner_text()
    assert re.search(r"\b1\s+open findings \(1 \w+\) at\s+" + paid[:12], summary), summary
    added = page.locator("section", has_text="Pull requests that added most")
    assert "#5 Add a decision threshold" in added.inner_text()
    paid_off = page.locator("section", has_text="Pull requests that paid off most")
    assert "#6 Load the config safely" in paid_off.inner_text()
    finding = page.locator("section", has_text="Open findings").locator("tbody tr")
    assert finding.count() == 1
    code_link = finding.locator("a").first.get_attribute("href")
    assert code_link == f"{site.fake.web_url}/{MODELS}/blob/{paid}/pkg/decide.py#L3-L3"
    added_by = finding.locator("a").nth(2)
    assert (added_by.inner_text(), added_by.get_attribute("href")) == (
        "#5",
        f"{site.fake.web_url}/{MODELS}/pull/5",
    )
    rule = finding.locator("a").nth(1)
    rule_code = rule.inner_text()
    rule.click()
    assert urlsplit(page.url).path == f"/rules/{rule_code}"
    only_local(page)

    api = page.request.get(f"{site.url}/dashboard/api/repos/{MODELS}").json()
    assert api["open"] == 1 and api["commit"] == paid
    assert {p["number"]: (p["added"], p["paid_off"]) for p in api["pull_requests"]} == {
        5: (1, 0),
        6: (0, 1),
    }


def test_an_outside_collaborator_sees_one_repository_and_nothing_else(site: Site, new_page) -> None:
    page = new_page(DESKTOP)
    sign_in(site, page, "bob")
    assert page.get_by_role("link", name=ORG, exact=True).count() == 0
    assert page.get_by_role("link", name=MODELS).count() == 1
    for path in (f"/dashboard/accounts/{ORG}", f"/dashboard/repos/{DATA}"):
        answer = page.goto(site.url + path)
        assert answer.status == 404 and "Not found" in page.content()
    assert page.goto(site.url + f"/dashboard/repos/{MODELS}").status == 200


def test_a_stranger_sees_nothing_and_signing_out_ends_it(site: Site, new_page) -> None:
    page = new_page(DESKTOP)
    sign_in(site, page, "carol")
    assert "No account you belong to" in page.content()
    assert page.goto(site.url + f"/dashboard/repos/{MODELS}").status == 404
    page.goto(site.url + "/dashboard")
    page.get_by_role("button", name="Sign out").click()
    page.goto(site.url + "/dashboard")
    # Signed out: the dashboard sends the browser to sign in again (GitHub signs carol in).
    assert any("/login/oauth/authorize" in url for url in page.requested[-4:])


@pytest.mark.parametrize(("size", "name"), [(DESKTOP, "desktop"), (PHONE, "phone")])
def test_every_page_fits_the_screen(site: Site, new_page, size, name) -> None:
    site.push({"pkg/decide.py": DECIDE}, 5, "Add a decision threshold")
    page = new_page(size)
    sign_in(site, page, "alice")
    assert not overflows(page)
    for path, charts in (
        (f"/dashboard/accounts/{ORG}", ("trend", "flow")),
        (f"/dashboard/repos/{MODELS}", ("trend", "flow", "principles", "hotspots")),
    ):
        page.goto(site.url + path)
        for chart in charts:
            drawn(page, chart)
        assert not overflows(page), path
    only_local(page)


TRAIN = """\
import random
import sys

sys.path.append("/home/alice/code")


def split(rows):
    random.shuffle(rows)
    cut = int(len(rows) * 0.8)
    return rows[:cut], rows[cut:]


def train(model, rows):
    try:
        model.fit(rows)
    except:
        pass
"""
SERVE = """\
import pickle

MODEL = pickle.load(open("/mnt/models/latest.pkl", "rb"))


def predict(features):
    score = MODEL.predict(features)
    if score > 0.42:
        return "fraud"
    return "ok"
"""


def test_a_season_of_pushes_draws_the_trend(tmp_path: Path, fake_github: FakeGitHub, new_page):
    """Ten weeks of pull requests, each analysed by the App's own jobs at its week's time: the
    trend, the weekly flow and the pull requests add up to what was pushed."""
    start = datetime.now(UTC) - timedelta(weeks=10)
    clock = [start]
    with running_site(tmp_path, fake_github, clock) as site:
        season = [
            (1, {"pkg/decide.py": DECIDE}, 5, "Add a decision threshold", MODELS),
            (2, {"pkg/train.py": TRAIN}, 7, "Training loop", MODELS),
            (4, {"pkg/serve.py": SERVE}, 9, "Serve the model", MODELS),
            (5, {"etl/extra.py": TRAIN}, 3, "Copy the training loop", DATA),
            (6, {"pkg/loader.py": SAFE_LOADER}, 12, "Load the config safely", MODELS),
            (8, {"pkg/train.py": TRAIN.replace("except:", "except ValueError:")}, 14,
             "Catch only what fit raises", MODELS),
            (9, {"etl/extra.py": "VALUE = 1\n"}, 4, "Drop the copied loop", DATA),
        ]  # fmt: skip
        for week, files, number, title, remote in season:
            clock[0] = start + timedelta(weeks=week)
            site.push(files, number, title, remote)
        page = new_page(DESKTOP)
        sign_in(site, page, "alice", f"/dashboard/repos/{MODELS}")
        for chart in ("trend", "flow", "principles", "hotspots"):
            drawn(page, chart)
        api = page.request.get(f"{site.url}/dashboard/api/repos/{MODELS}").json()
        known = [w for w in api["weeks"] if w["open"] is not None]
        assert len(known) == 11  # the install week and the ten after it
        assert sum(w["added"] for w in api["weeks"]) == sum(
            p["added"] for p in api["pull_requests"]
        )
        assert {12, 14} <= {p["number"] for p in api["pull_requests"] if p["paid_off"]}
        assert known[-1]["open"] == api["open"]
        # Each page kind at both sizes: the screenshots in docs/screenshots/ are these.
        for size, name in ((DESKTOP, "desktop"), (PHONE, "phone")):
            shown = page if size is DESKTOP else new_page(PHONE)
            if shown is not page:
                sign_in(site, shown, "alice")
            for kind, path, charts in (
                ("home", "/dashboard", ()),
                ("account", f"/dashboard/accounts/{ORG}", ("trend", "flow")),
                ("repository", f"/dashboard/repos/{MODELS}", ("trend", "hotspots")),
            ):
                shown.goto(site.url + path)
                for chart in charts:
                    drawn(shown, chart)
                assert not overflows(shown), (path, name)
                screenshot(shown, f"dashboard-{kind}-{name}")
            only_local(shown)
