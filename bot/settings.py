"""The App's settings, read from the environment (or a ``.env`` file) by pydantic-settings.

``load_settings()`` is what ``debtbot serve`` calls: every missing or invalid variable is named in
one message, so a misconfigured deployment is fixed in one round rather than one error at a time.
"""

from __future__ import annotations

import hashlib
import hmac
import os
from functools import cache
from pathlib import Path
from typing import TypeVar

from dotenv import dotenv_values
from pydantic import Field, ValidationError, ValidationInfo, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

ENV_FILE = ".env"
# What registering the App produces. None of them set, in the environment or .env, is what
# starts setup mode; some but not all is a mistake to name, as any other bad setting.
CREDENTIALS = (
    "GITHUB_APP_ID",
    "GITHUB_PRIVATE_KEY",
    "GITHUB_PRIVATE_KEY_PATH",
    "GITHUB_WEBHOOK_SECRET",
)
GITHUB_COM = "https://github.com"
GITHUB_COM_API = "https://api.github.com"
PEM_START = "-----BEGIN"
PEM_END = "PRIVATE KEY-----"


_S = TypeVar("_S", bound=BaseSettings)


# How long running jobs and requests get to end once the process is told to stop.
DEFAULT_SHUTDOWN_GRACE_SECONDS = 3.0


class SettingsError(ValueError):
    """Settings a person must fix before the App can start; the message names each variable."""


def http_url(value: str) -> str:
    """An http(s) URL without the trailing slash, or ValueError saying what is wrong."""
    value = value.strip().rstrip("/")
    if not value.startswith(("http://", "https://")):
        raise ValueError("must start with http:// or https://")
    return value


def looks_like_pem_private_key(text: str) -> bool:
    stripped = text.strip()
    return (
        stripped.startswith(PEM_START)
        and stripped.endswith(PEM_END)
        and "PRIVATE KEY" in (stripped.splitlines()[0])
    )


def _unescape_newlines(text: str) -> str:
    # Keys pasted into one-line environment variables (Heroku, docker --env) often carry
    # literal "\n" sequences instead of newlines.
    if "\n" not in text.strip() and "\\n" in text:
        return text.replace("\\n", "\n")
    return text


class Settings(BaseSettings):
    model_config = SettingsConfigDict(
        env_file=ENV_FILE, env_file_encoding="utf-8", extra="ignore", case_sensitive=False
    )

    github_app_id: int = Field(gt=0)
    github_private_key: str | None = None
    github_private_key_path: Path | None = Field(default=None, validate_default=True)
    github_webhook_secret: str = Field(min_length=1)
    github_api_url: str = GITHUB_COM_API
    github_url: str = GITHUB_COM
    database_url: str = "sqlite:///./debtbot.sqlite3"
    public_url: str
    data_dir: Path = Path("./debtbot-data")
    max_inline_comments: int = Field(default=25, ge=0, le=100)
    # The dashboard's sign-in with GitHub: the App's OAuth client (GitHub gives both when the
    # App is registered). Without them the dashboard says which variables to set.
    github_client_id: str | None = None
    github_client_secret: str | None = None
    # Signs the dashboard's cookies and encrypts the GitHub tokens kept for its sessions; unset,
    # one is derived from the App's private key, so sessions survive a restart either way.
    session_secret: str | None = Field(default=None, min_length=32)
    session_max_age_seconds: int = Field(default=8 * 3600, ge=60)
    # How long what GitHub said a person may see is trusted before it is asked again.
    dashboard_access_seconds: float = Field(default=300.0, ge=0)
    # The in-process worker: how often it looks for work when idle, how often a failing
    # delivery is tried, and the first wait between tries (doubled each time).
    worker_poll_seconds: float = Field(default=1.0, gt=0)
    worker_max_attempts: int = Field(default=5, ge=1)
    worker_backoff_seconds: float = Field(default=10.0, ge=0)
    # A running job whose worker shows no sign of life for this long is taken up by another.
    worker_lease_seconds: float = Field(default=120.0, ge=1)
    # How long one try of a job may spend on GitHub, retries and rate-limit waits included;
    # past it the job goes back to the queue with a backoff.
    worker_job_seconds: float = Field(default=600.0, gt=0)
    # Jobs the in-process worker runs at once; 0: one per core. Their analyses run in
    # processes of their own (as many), unless ANALYSIS_PROCESSES is false: then in the
    # worker's threads, which share one core.
    worker_threads: int = Field(default=0, ge=0, le=256)
    analysis_processes: bool = True
    # On SIGTERM or SIGINT: how long running jobs and requests get to end before the jobs are
    # given back to the queue (another process, or the next start, takes them up) and the
    # process exits. Containers are killed 10 s after SIGTERM by default: keep well under.
    shutdown_grace_seconds: float = Field(default=DEFAULT_SHUTDOWN_GRACE_SECONDS, ge=0, le=60)
    # Weekly summaries: how often each replica looks for summaries that are due (and so how
    # late one may be), or false to let other replicas post them.
    summaries: bool = True
    summary_check_seconds: float = Field(default=300.0, gt=0)
    # The debt ledger: files analysed per job (between them, reviews waiting go first), and
    # how many incremental analyses of a branch may follow a full one before the next full
    # one (rules that read other files can find debt in files a push did not touch).
    ledger_chunk_files: int = Field(default=200, ge=1)
    ledger_full_every: int = Field(default=100, ge=1)
    # Set, the work goes to Celery workers (debtbot worker) through this Redis instead of the
    # in-process worker; any number of web replicas and workers may then run.
    redis_url: str | None = None
    celery_queue: str = Field(default="debtbot", min_length=1)

    @field_validator("redis_url")
    @classmethod
    def _redis_url(cls, value: str | None) -> str | None:
        if value is None or not value.strip():
            return None
        if not value.startswith(("redis://", "rediss://", "unix://")):
            raise ValueError("must start with redis://, rediss:// or unix://")
        return value.strip()

    @field_validator("github_api_url", "github_url", "public_url")
    @classmethod
    def _http_url(cls, value: str) -> str:
        return http_url(value)

    @field_validator("github_private_key")
    @classmethod
    def _pem_text(cls, value: str | None) -> str | None:
        if value is None:
            return None
        value = _unescape_newlines(value)
        if not looks_like_pem_private_key(value):
            raise ValueError("is not a PEM private key (-----BEGIN ... PRIVATE KEY-----)")
        return value

    @field_validator("github_private_key_path")
    @classmethod
    def _exactly_one_key(cls, path: Path | None, info: ValidationInfo) -> Path | None:
        # Runs for the default too (validate_default), so a missing key is reported together
        # with every other problem. When GITHUB_PRIVATE_KEY itself was invalid it is absent
        # from info.data and already reported: say nothing more about it here.
        if "github_private_key" in info.data:
            has_text = info.data["github_private_key"] is not None
            if has_text and path is not None:
                raise ValueError("set only one of GITHUB_PRIVATE_KEY and GITHUB_PRIVATE_KEY_PATH")
            if not has_text and path is None:
                raise ValueError("set GITHUB_PRIVATE_KEY or GITHUB_PRIVATE_KEY_PATH")
        if path is None:
            return None
        try:
            text = path.read_text()
        except (OSError, UnicodeDecodeError) as error:
            raise ValueError(f"cannot read {path}: {error}") from error
        if not looks_like_pem_private_key(text):
            raise ValueError(f"{path} is not a PEM private key")
        return path

    def session_key(self) -> bytes:
        """The dashboard's secret: SESSION_SECRET, else derived from the App's private key."""
        if self.session_secret:
            return self.session_secret.encode()
        return hmac.new(
            self.private_key_text().encode(), b"debtbot dashboard sessions", hashlib.sha256
        ).digest()

    def private_key_text(self) -> str:
        """The App's private key as PEM text, from the variable or the file."""
        if self.github_private_key is not None:
            return self.github_private_key
        assert self.github_private_key_path is not None  # guaranteed by _exactly_one_key
        return self.github_private_key_path.read_text()


def _describe(error: dict) -> str:
    location = ".".join(str(part) for part in error["loc"])
    message = error["msg"].removeprefix("Value error, ")
    if not location:
        return message
    variable = location.upper()
    if error["type"] == "missing":
        return f"{variable} is not set"
    if variable in message:  # the message already names what to change
        return message
    return f"{variable}: {message}"


def _validated(kind: type[_S], **overrides: object) -> _S:
    try:
        return kind(**overrides)
    except ValidationError as error:
        problems = [_describe(item) for item in error.errors(include_url=False)]
        raise SettingsError(
            "debtbot cannot start, fix these settings:\n"
            + "\n".join(f"  - {problem}" for problem in problems)
        ) from None


def load_settings(**overrides: object) -> Settings:
    """Settings from the environment, or one SettingsError naming every problem."""
    return _validated(Settings, **overrides)


@cache
def get_settings() -> Settings:
    return load_settings()


def credentials_given() -> bool:
    """Whether any of the App's credentials is set, in the environment or in .env (names in any
    case, as Settings reads them); an empty value counts, so that it is reported, not ignored."""
    names = {name.lower() for name in os.environ}
    if Path(ENV_FILE).is_file():
        names |= {name.lower() for name in dotenv_values(ENV_FILE)}
    return any(name.lower() in names for name in CREDENTIALS)


class SetupSettings(BaseSettings):
    """What setup mode reads: where GitHub is, and where this server is reachable, if known."""

    model_config = Settings.model_config

    github_url: str = GITHUB_COM
    # None: derived from the GitHub URL the person chooses (github.com or {server}/api/v3).
    github_api_url: str | None = None
    # None: the address the browser used to reach the setup page.
    public_url: str | None = None

    @field_validator("github_api_url", "github_url", "public_url")
    @classmethod
    def _http_url(cls, value: str | None) -> str | None:
        return None if value is None else http_url(value)


def load_setup_settings() -> SetupSettings:
    """Setup mode's settings, or one SettingsError naming every problem."""
    return _validated(SetupSettings)
