"""Writing .env: private from the start, other lines kept, read back as written by Settings."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest

from bot.envfile import EnvFileError, write_env_file
from bot.settings import Settings
from tests.fakes.github import app_private_key

PEM = app_private_key()


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


@pytest.fixture
def umask_022():
    previous = os.umask(0o022)  # the usual one: new files readable by everyone
    yield
    os.umask(previous)


def test_a_new_file_is_private_and_settings_read_it_back(tmp_path, monkeypatch, umask_022):
    monkeypatch.chdir(tmp_path)
    for name in ("GITHUB_APP_ID", "GITHUB_PRIVATE_KEY", "GITHUB_WEBHOOK_SECRET", "PUBLIC_URL"):
        monkeypatch.delenv(name, raising=False)
    secret = 'it\'s a \\ secret # with "quotes" and $HOME'
    write_env_file(
        tmp_path / ".env",
        {
            "GITHUB_APP_ID": "4242",
            "GITHUB_PRIVATE_KEY": PEM,
            "GITHUB_WEBHOOK_SECRET": secret,
            "PUBLIC_URL": "https://debtbot.example.com",
        },
    )
    assert mode(tmp_path / ".env") == 0o600
    assert [p.name for p in tmp_path.iterdir()] == [".env"]  # no temporary file left behind
    settings = Settings()
    assert settings.github_app_id == 4242
    assert settings.private_key_text() == PEM  # every line of the PEM
    assert settings.github_webhook_secret == secret
    assert settings.public_url == "https://debtbot.example.com"


def test_other_lines_stay_and_a_readable_file_becomes_private(tmp_path, umask_022):
    env = tmp_path / ".env"
    env.write_text("# the team's settings\nLOG_LEVEL=debug\nPUBLIC_URL=http://old.example\n")
    env.chmod(0o644)
    write_env_file(env, {"PUBLIC_URL": "https://new.example", "GITHUB_APP_ID": "7"})
    assert mode(env) == 0o600
    assert env.read_text() == (
        "# the team's settings\nLOG_LEVEL=debug\nPUBLIC_URL='https://new.example'\n"
        "GITHUB_APP_ID='7'\n"
    )


def test_a_value_the_reader_would_change_is_refused_and_nothing_written(tmp_path):
    env = tmp_path / ".env"
    env.write_text("LOG_LEVEL=debug\n")
    with pytest.raises(EnvFileError, match="GITHUB_WEBHOOK_SECRET") as raised:
        write_env_file(env, {"GITHUB_WEBHOOK_SECRET": "abc${HOME}def"})
    assert "abc" not in str(raised.value)  # names only, never the secret
    assert env.read_text() == "LOG_LEVEL=debug\n"
    assert [p.name for p in tmp_path.iterdir()] == [".env"]
