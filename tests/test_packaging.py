"""What the image and the compose file promise: the versions the project tested, migrations
before the web starts, no secret in the build context. No Docker daemon runs here, so these read
the files the way Docker and pip read them."""

from __future__ import annotations

import fnmatch
import re
import tomllib
from pathlib import Path

import yaml
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

ROOT = Path(__file__).resolve().parent.parent


def pinned() -> dict[str, str]:
    versions = {}
    for line in (ROOT / "constraints.txt").read_text().splitlines():
        line = line.split("#", 1)[0].strip()
        if line:
            name, _, version = line.partition("==")
            assert version, f"constraints.txt: {line!r} is not pinned with =="
            versions[canonicalize_name(name)] = version
    return versions


def test_constraints_pin_every_dependency_of_the_app_within_what_pyproject_allows():
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    versions = pinned()
    for text in project["dependencies"] + project["optional-dependencies"]["app"]:
        requirement = Requirement(text)
        name = canonicalize_name(requirement.name)
        assert name in versions, f"constraints.txt lacks {requirement.name}: refresh it"
        assert requirement.specifier.contains(versions[name], prereleases=True), (
            f"constraints.txt pins {name}=={versions[name]}, outside {requirement}: refresh it"
        )
        for extra in requirement.extras:  # celery[redis] needs redis itself pinned
            assert extra in versions or extra == "binary", f"constraints.txt lacks {extra}"


def test_the_image_is_built_from_a_digest_and_the_constraints():
    dockerfile = (ROOT / "Dockerfile").read_text()
    [base] = re.findall(r"^FROM\s+(\S+)", dockerfile, re.MULTILINE)
    assert re.fullmatch(r"[\w./-]+:[\w.-]+@sha256:[0-9a-f]{64}", base), base
    assert re.search(r"pip install -c constraints\.txt", dockerfile)


def _sent_to_docker(path: str) -> bool:
    """Whether .dockerignore lets ``path`` into the build context (last matching rule wins)."""
    sent = True
    for line in (ROOT / ".dockerignore").read_text().splitlines():
        rule = line.strip()
        if not rule or rule.startswith("#"):
            continue
        negated = rule.startswith("!")
        pattern = rule.lstrip("!").rstrip("/")
        pattern = pattern[3:] if pattern.startswith("**/") else pattern
        candidates = [path, *path.split("/")[-1:]]
        if any(fnmatch.fnmatch(c, pattern) or c.startswith(pattern + "/") for c in candidates):
            sent = negated
    return sent


def test_the_build_context_holds_the_code_and_never_secrets_or_environments():
    for needed in ("pyproject.toml", "constraints.txt", "bot/app/server.py", "rules/rule.py"):
        assert _sent_to_docker(needed), needed
    for secret in (".env", "bot/.env", "debtbot.private-key.pem", ".venv/bin/python", ".git/HEAD"):
        assert not _sent_to_docker(secret), secret


def test_compose_runs_migrations_before_web_and_workers_on_postgres_and_redis():
    compose = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
    services = compose["services"]
    assert services["migrate"]["command"] == ["debtbot", "db", "upgrade"]
    assert services["migrate"]["depends_on"]["postgres"]["condition"] == "service_healthy"
    for name, command in (("web", "serve"), ("worker", "worker")):
        service = services[name]
        assert service["command"][:2] == ["debtbot", command]
        assert service["depends_on"]["migrate"]["condition"] == "service_completed_successfully"
        assert service["depends_on"]["redis"]["condition"] == "service_healthy"
        environment = service["environment"]
        assert environment["DATABASE_URL"].startswith("postgresql+psycopg://")
        assert environment["DATABASE_URL"].split("@")[1].startswith("postgres:5432/")
        assert environment["REDIS_URL"].startswith("redis://redis:6379/")
        assert service["env_file"] == ".env"  # the App's credentials stay out of this file
