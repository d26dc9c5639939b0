"""The analysed repository's ``[tool.debtbot]`` settings, validated strictly.

Configuration mistakes are reported as one :class:`ConfigError` naming the key, never a traceback.
"""

from __future__ import annotations

import fnmatch
import tomllib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, create_model

from rules.catalogue import all_rules, rules_by_code
from rules.finding import Severity
from rules.principles import PRINCIPLES
from rules.rule import Rule

DEFAULT_EXCLUDE = (
    ".git",
    ".hg",
    ".venv",
    "venv",
    ".tox",
    ".nox",
    "__pycache__",
    "node_modules",
    "build",
    "dist",
    "site-packages",
    ".eggs",
    "*.egg-info",
    ".mypy_cache",
    ".ruff_cache",
    ".pytest_cache",
)
DEFAULT_MAX_FILE_BYTES = 1_000_000


class ConfigError(ValueError):
    """A configuration problem a person must fix; the message names the key."""


class _ReviewSchema(BaseModel):
    """How the App reviews this repository's pull requests."""

    model_config = ConfigDict(extra="forbid", populate_by_name=True, strict=True)

    drafts: bool = False
    bots: bool = False
    max_comments: int | None = Field(default=None, ge=0, le=100, alias="max-comments")
    fail_on: Literal["never", "info", "warning", "error"] = Field(default="never", alias="fail-on")


@dataclass(frozen=True)
class ReviewConfig:
    drafts: bool = False  # review draft pull requests too
    bots: bool = False  # review pull requests opened by bots too
    max_comments: int | None = None  # inline comments per review; None: the App's default
    fail_on: str = "never"  # lowest severity that makes the check run fail


class _Schema(BaseModel):
    model_config = ConfigDict(extra="forbid", populate_by_name=True, strict=True)

    select: list[str] = Field(default_factory=lambda: ["DEBT"])
    ignore: list[str] = Field(default_factory=list)
    exclude: list[str] = Field(default_factory=list)
    per_file_ignores: dict[str, list[str]] = Field(default_factory=dict, alias="per-file-ignores")
    severity: dict[str, Literal["info", "warning", "error"]] = Field(default_factory=dict)
    max_file_size: int = Field(default=DEFAULT_MAX_FILE_BYTES, gt=0, alias="max-file-size")
    rules: dict[str, dict[str, object]] = Field(default_factory=dict)
    review: _ReviewSchema = Field(default_factory=_ReviewSchema)


@dataclass(frozen=True)
class Config:
    enabled: frozenset[str]
    exclude: tuple[str, ...] = DEFAULT_EXCLUDE
    per_file_ignores: Mapping[str, frozenset[str]] = field(default_factory=dict)
    severity: Mapping[str, Severity] = field(default_factory=dict)
    max_file_size: int = DEFAULT_MAX_FILE_BYTES
    options: Mapping[str, Mapping[str, object]] = field(default_factory=dict)
    review: ReviewConfig = field(default_factory=ReviewConfig)

    def rules(self) -> tuple[Rule, ...]:
        return tuple(r for r in all_rules() if r.code in self.enabled)

    def is_excluded(self, path: str) -> bool:
        """``path`` is POSIX and relative; a pattern matches the whole path or any part of it."""
        parts = path.split("/")
        for pattern in self.exclude:
            if fnmatch.fnmatch(path, pattern) or any(fnmatch.fnmatch(p, pattern) for p in parts):
                return True
        return False

    def ignored_here(self, path: str) -> frozenset[str]:
        ignored: set[str] = set()
        for pattern, codes in self.per_file_ignores.items():
            if fnmatch.fnmatch(path, pattern):
                ignored |= codes
        return frozenset(ignored)

    def options_for(self, rule: Rule) -> dict[str, object]:
        return {**rule.options, **self.options.get(rule.code, {})}


def default_config() -> Config:
    return Config(enabled=frozenset(r.code for r in all_rules() if r.default_enabled))


def _expand(selectors: Iterable[str], key: str) -> set[str]:
    """Codes named by exact code, code prefix (``DEBT3``) or principle slug."""
    codes: set[str] = set()
    catalogue = all_rules()
    for selector in selectors:
        if selector in PRINCIPLES:
            matched = {r.code for r in catalogue if r.principle == selector}
        else:
            matched = {r.code for r in catalogue if r.code.startswith(selector.upper())}
        if not matched:
            raise ConfigError(
                f"[tool.debtbot] {key}: {selector!r} matches no rule code, prefix or principle"
            )
        codes |= matched
    return codes


def _validate_options(raw: dict[str, dict[str, object]]) -> dict[str, dict[str, object]]:
    by_code = {r.code: r for r in all_rules()}
    by_name = {r.name: r for r in all_rules()}
    result: dict[str, dict[str, object]] = {}
    for key, values in raw.items():
        rule = by_code.get(key.upper()) or by_name.get(key)
        if rule is None:
            raise ConfigError(f"[tool.debtbot.rules] unknown rule {key!r}")
        try:
            _options_model(rule.code).model_validate(values)
        except ValidationError as exc:
            error = exc.errors()[0]
            name = str(error["loc"][0]) if error["loc"] else ""
            where = f"[tool.debtbot.rules.{key}] {name}"
            if error["type"] == "extra_forbidden":
                known = ", ".join(sorted(rule.options)) or "none"
                raise ConfigError(f"{where}: unknown option (known options: {known})") from None
            expected = _kind_name(rule.options[name])
            raise ConfigError(f"{where}: expected {expected}, got {values[name]!r}") from None
        result[rule.code] = dict(values)
    return result


@cache
def _options_model(code: str) -> type[BaseModel]:
    """A pydantic model of the rule's options, typed by their defaults, names as written."""
    rule = rules_by_code()[code]
    fields: dict[str, Any] = {
        f"option_{index}": (_option_type(default), Field(default=default, alias=name))
        for index, (name, default) in enumerate(rule.options.items())
    }
    config = ConfigDict(extra="forbid", strict=True)
    return create_model(f"{code}Options", __config__=config, **fields)


def _option_type(default: object) -> object:
    if isinstance(default, bool):
        return bool
    if isinstance(default, int | float):
        return int | float
    if isinstance(default, list | tuple):
        return list[str]
    return type(default)


def _kind_name(default: object) -> str:
    if isinstance(default, bool):
        return "true or false"
    if isinstance(default, int | float):
        return "a number"
    if isinstance(default, list | tuple):
        return "a list of strings"
    return type(default).__name__


def parse_config(table: Mapping[str, object]) -> Config:
    """Validate the contents of ``[tool.debtbot]``."""
    try:
        schema = _Schema.model_validate(dict(table))
    except ValidationError as exc:
        error = exc.errors()[0]
        key = ".".join(str(part) for part in error["loc"])
        if error["type"] == "extra_forbidden":
            raise ConfigError(f"[tool.debtbot] unknown key {key!r}") from None
        raise ConfigError(f"[tool.debtbot] {key}: {error['msg']}") from None
    by_default = {r.code for r in all_rules() if r.default_enabled}
    named = {s.upper() for s in schema.select}
    selected = {c for c in _expand(schema.select, "select") if c in by_default or c in named}
    enabled = selected - _expand(schema.ignore, "ignore")
    per_file = {
        pattern: frozenset(_expand(codes, f"per-file-ignores.{pattern!r}"))
        for pattern, codes in schema.per_file_ignores.items()
    }
    severity: dict[str, Severity] = {}
    for selector, level in schema.severity.items():
        for code in _expand([selector], f"severity.{selector}"):
            severity[code] = level
    return Config(
        enabled=frozenset(enabled),
        exclude=DEFAULT_EXCLUDE + tuple(schema.exclude),
        per_file_ignores=per_file,
        severity=severity,
        max_file_size=schema.max_file_size,
        options=_validate_options(schema.rules),
        review=ReviewConfig(
            drafts=schema.review.drafts,
            bots=schema.review.bots,
            max_comments=schema.review.max_comments,
            fail_on=schema.review.fail_on,
        ),
    )


def config_from_pyproject_text(text: str) -> Config:
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"pyproject.toml is not valid TOML: {exc}") from None
    table = data.get("tool", {}).get("debtbot")
    if table is None:
        return default_config()
    if not isinstance(table, dict):
        raise ConfigError("[tool.debtbot] must be a table")
    return parse_config(table)


def find_pyproject(start: Path) -> Path | None:
    """The nearest pyproject.toml at or above ``start``."""
    start = start.resolve()
    for folder in (start, *start.parents):
        candidate = folder / "pyproject.toml"
        if candidate.is_file():
            return candidate
    return None


def load_config(start: Path) -> tuple[Config, Path]:
    """The config governing ``start``, and the root that paths are matched against."""
    pyproject = find_pyproject(start if start.is_dir() else start.parent)
    if pyproject is None:
        return default_config(), (start if start.is_dir() else start.parent).resolve()
    try:
        return config_from_pyproject_text(pyproject.read_text(encoding="utf-8")), pyproject.parent
    except ConfigError as exc:
        raise ConfigError(f"{pyproject}: {exc}") from None
