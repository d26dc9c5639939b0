"""The analysed repository's ``[tool.debtbot]`` settings, validated strictly.

Configuration mistakes are reported as one :class:`ConfigError` naming the key, never a traceback.
"""

from __future__ import annotations

import fnmatch
import posixpath
import re
import tomllib
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field, replace
from functools import cache
from pathlib import Path
from typing import Any

from rules.catalogue import all_rules
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


@cache
def _exclusions(patterns: tuple[str, ...]) -> tuple[re.Pattern | None, re.Pattern | None]:
    """The ``exclude`` patterns as one expression (as :func:`fnmatch.fnmatch` reads each), and
    those with a ``/``, which also match a path's folders: matched once, not once a pattern."""

    def joined(chosen: list[str]) -> re.Pattern | None:
        return re.compile("|".join(fnmatch.translate(p) for p in chosen)) if chosen else None

    return joined(list(patterns)), joined([p for p in patterns if "/" in p])


@dataclass(frozen=True)
class ReviewConfig:
    drafts: bool = False  # review draft pull requests too
    bots: bool = False  # review pull requests opened by bots too
    max_comments: int | None = None  # inline comments per review; None: the App's default
    fail_on: str = "never"  # lowest severity that makes the check run fail


@dataclass(frozen=True)
class Config:
    enabled: frozenset[str]
    exclude: tuple[str, ...] = DEFAULT_EXCLUDE
    per_file_ignores: Mapping[str, frozenset[str]] = field(default_factory=dict)
    severity: Mapping[str, Severity] = field(default_factory=dict)
    max_file_size: int = DEFAULT_MAX_FILE_BYTES
    options: Mapping[str, Mapping[str, object]] = field(default_factory=dict)
    review: ReviewConfig = field(default_factory=ReviewConfig)
    # Where the patterns of ``exclude`` and ``per-file-ignores`` are rooted, relative to the
    # analysed root (POSIX, "" for the root itself): a sub-project's pyproject.toml speaks of
    # its own files, as in ruff.
    folder: str = ""

    def rules(self) -> tuple[Rule, ...]:
        return tuple(r for r in all_rules() if r.code in self.enabled)

    def _local(self, path: str) -> str:
        prefix = self.folder + "/" if self.folder else ""
        return path[len(prefix) :] if prefix and path.startswith(prefix) else path

    def is_excluded(self, path: str) -> bool:
        """``path`` is POSIX and relative; a pattern matches the whole path, one of its
        folders (``services/legacy`` excludes what is below it, in a walk of the folders or
        in a diff's list of files alike) or any part of it."""
        anywhere, in_folders = _exclusions(self.exclude)
        if anywhere is None:
            return False
        path = self._local(path)
        parts = path.split("/")
        if anywhere.match(path) or any(anywhere.match(p) for p in parts):
            return True
        if in_folders is None:
            return False
        return any(in_folders.match("/".join(parts[:n])) for n in range(1, len(parts)))

    def ignored_here(self, path: str) -> frozenset[str]:
        path = self._local(path)
        ignored: set[str] = set()
        for pattern, codes in self.per_file_ignores.items():
            if fnmatch.fnmatch(path, pattern):
                ignored |= codes
        return frozenset(ignored)

    def options_for(self, rule: Rule) -> dict[str, object]:
        return {**rule.options, **self.options.get(rule.code, {})}


@dataclass(frozen=True)
class Selection:
    """Rule selection given on the command line, laid over a file's as ruff does: ``select``
    replaces the file's ``select`` and ``ignore`` both; ``extend_select`` adds and ``ignore``
    removes, whatever the file says."""

    select: tuple[str, ...] | None = None
    ignore: tuple[str, ...] = ()
    extend_select: tuple[str, ...] = ()


NO_SELECTION = Selection()


def default_config(selection: Selection = NO_SELECTION) -> Config:
    if selection == NO_SELECTION:
        return Config(enabled=frozenset(r.code for r in all_rules() if r.default_enabled))
    return Config(enabled=frozenset(_enabled(["DEBT"], [], selection)))


def _expand(selectors: Iterable[str], where: str) -> set[str]:
    """Codes named by exact code, code prefix (``DEBT3``) or principle slug."""
    codes: set[str] = set()
    catalogue = all_rules()
    for selector in selectors:
        if selector in PRINCIPLES:
            matched = {r.code for r in catalogue if r.principle == selector}
        else:
            matched = {r.code for r in catalogue if r.code.startswith(selector.upper())}
        if not matched:
            raise ConfigError(f"{where}: {selector!r} matches no rule code, prefix or principle")
        codes |= matched
    return codes


def _selected(selectors: Iterable[str], where: str) -> set[str]:
    """What ``select`` turns on: rules that are off by default only when named by code."""
    by_default = {r.code for r in all_rules() if r.default_enabled}
    named = {s.upper() for s in selectors}
    return {c for c in _expand(selectors, where) if c in by_default or c in named}


def _enabled(select: list[str], ignore: list[str], selection: Selection) -> set[str]:
    if selection.select is not None:
        enabled = _selected(selection.select, "--select")
    else:
        enabled = _selected(select, "[tool.debtbot] select")
        enabled -= _expand(ignore, "[tool.debtbot] ignore")
    enabled |= _selected(selection.extend_select, "--extend-select")
    return enabled - _expand(selection.ignore, "--ignore")


def _validate_options(raw: dict[str, dict[str, object]]) -> dict[str, dict[str, object]]:
    from rules.engine import config_schema  # see parse_config

    by_code = {r.code: r for r in all_rules()}
    by_name = {r.name: r for r in all_rules()}
    result: dict[str, dict[str, object]] = {}
    for key, values in raw.items():
        rule = by_code.get(key.upper()) or by_name.get(key)
        if rule is None:
            raise ConfigError(f"[tool.debtbot.rules] unknown rule {key!r}")
        try:
            config_schema.options_model(rule.code).model_validate(values)
        except config_schema.ValidationError as exc:
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


def _kind_name(default: object) -> str:
    if isinstance(default, bool):
        return "true or false"
    if isinstance(default, int | float):
        return "a number"
    if isinstance(default, list | tuple):
        return "a list of strings"
    return type(default).__name__


def parse_config(table: Mapping[str, object], selection: Selection = NO_SELECTION) -> Config:
    """Validate the contents of ``[tool.debtbot]``, with the command line's rule selection."""
    # pydantic costs a tenth of a second to import, a fifth of a warm `debtbot diff`: it is
    # imported only where there is a table to validate.
    from rules.engine import config_schema

    try:
        schema = config_schema.Schema.model_validate(dict(table))
    except config_schema.ValidationError as exc:
        error = exc.errors()[0]
        key = ".".join(str(part) for part in error["loc"])
        if error["type"] == "extra_forbidden":
            raise ConfigError(f"[tool.debtbot] unknown key {key!r}") from None
        raise ConfigError(f"[tool.debtbot] {key}: {error['msg']}") from None
    enabled = _enabled(schema.select, schema.ignore, selection)
    per_file = {
        pattern: frozenset(_expand(codes, f"[tool.debtbot] per-file-ignores.{pattern!r}"))
        for pattern, codes in schema.per_file_ignores.items()
    }
    severity: dict[str, Severity] = {}
    for selector, level in schema.severity.items():
        for code in _expand([selector], f"[tool.debtbot] severity.{selector}"):
            severity[code] = level
    return Config(
        enabled=frozenset(enabled),
        exclude=DEFAULT_EXCLUDE + tuple(schema.exclude),
        per_file_ignores=per_file,
        severity=severity,
        max_file_size=schema.max_file_size or DEFAULT_MAX_FILE_BYTES,
        options=_validate_options(schema.rules),
        review=ReviewConfig(
            drafts=schema.review.drafts,
            bots=schema.review.bots,
            max_comments=schema.review.max_comments,
            fail_on=schema.review.fail_on,
        ),
    )


def _debtbot_table(text: str, name: str = "pyproject.toml") -> dict[str, Any] | None:
    """``[tool.debtbot]`` of a pyproject.toml's text, None when it has none."""
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{name} is not valid TOML: {exc}") from None
    tool = data.get("tool", {})
    table = tool.get("debtbot") if isinstance(tool, dict) else None
    if table is not None and not isinstance(table, dict):
        raise ConfigError(f"{name}: [tool.debtbot] must be a table")
    return table


def config_from_pyproject_text(text: str, selection: Selection = NO_SELECTION) -> Config:
    table = _debtbot_table(text)
    return default_config(selection) if table is None else parse_config(table, selection)


def config_from_file(path: Path, selection: Selection = NO_SELECTION) -> Config:
    """The configuration in a file named on the command line: a pyproject.toml (which must
    have ``[tool.debtbot]``) or a ``debtbot.toml`` (the same keys at its top level)."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ConfigError(f"{path}: no such file") from None
    except UnicodeDecodeError:
        raise ConfigError(f"{path} is not UTF-8 text") from None
    except OSError as exc:
        raise ConfigError(f"{path}: cannot be read ({exc.strerror or exc})") from None
    if path.name == "pyproject.toml":
        table = _debtbot_table(text, str(path))
        if table is None:
            raise ConfigError(f"{path} has no [tool.debtbot] table")
    else:
        try:
            table = tomllib.loads(text)
        except tomllib.TOMLDecodeError as exc:
            raise ConfigError(f"{path} is not valid TOML: {exc}") from None
    try:
        return parse_config(table, selection)
    except ConfigError as exc:
        message = str(exc)
        if path.name != "pyproject.toml":  # its keys are at the top: no [tool.debtbot] to name
            message = message.replace("[tool.debtbot] ", "").replace("[tool.debtbot.", "[")
        raise ConfigError(f"{path}: {message}") from None


# The bytes of a file by its POSIX path, or None when there is none: a folder on disk for the
# command line, a commit of a mirror for the App.
ReadFile = Callable[[str], bytes | None]


@dataclass(frozen=True)
class Found:
    """The configuration governing a file, and the pyproject.toml it came from (None: the
    defaults)."""

    config: Config
    pyproject: str | None


def find_config(
    path: str,
    read: ReadFile,
    selection: Selection = NO_SELECTION,
    known: dict[str, Found] | None = None,
    top: str = "",
) -> Found:
    """The configuration of the file at ``path`` (POSIX, as ``read`` takes it; relative to a
    repository's root for the App, absolute on disk): the closest pyproject.toml at or above
    its folder that has ``[tool.debtbot]``, as ruff looks for its own. A pyproject.toml without
    the table does not stop the search; the search stops at ``top`` (a repository's root:
    what is above it is not the repository's) and with nothing found the defaults apply.
    ``known`` remembers the answer per folder between calls with the same ``read``,
    ``selection`` and ``top``."""
    known = {} if known is None else known
    return _config_of_folder(posixpath.dirname(path), read, selection, known, top)


def _config_of_folder(
    folder: str, read: ReadFile, selection: Selection, known: dict[str, Found], top: str
) -> Found:
    if folder in known:
        return known[folder]
    pyproject = posixpath.join(folder, "pyproject.toml")
    data = read(pyproject)
    table = None
    if data is not None:
        try:
            table = _debtbot_table(data.decode("utf-8"), pyproject)
        except UnicodeDecodeError:
            raise ConfigError(f"{pyproject} is not UTF-8 text") from None
    parent = posixpath.dirname(folder)
    if table is not None:
        try:
            config = replace(parse_config(table, selection), folder=folder)
        except ConfigError as exc:
            raise ConfigError(f"{pyproject}: {exc}") from None
        found = Found(config, pyproject)
    elif folder != top and parent != folder:
        found = _config_of_folder(parent, read, selection, known, top)
    else:
        found = Found(default_config(selection), None)
    known[folder] = found
    return found


def group_by_config(
    paths: Iterable[str], read: ReadFile, selection: Selection = NO_SELECTION, top: str = ""
) -> list[tuple[Config, list[str]]]:
    """``paths`` grouped by the configuration governing each (see :func:`find_config`), in
    the order first met: the engine runs once per group."""
    known: dict[str, Found] = {}
    groups: dict[str | None, tuple[Config, list[str]]] = {}
    for path in paths:
        found = find_config(path, read, selection, known, top)
        groups.setdefault(found.pyproject, (found.config, []))[1].append(path)
    return list(groups.values())


def disk_reader(path: str) -> bytes | None:
    """A :data:`ReadFile` of the disk, for absolute paths."""
    try:
        return Path(path).read_bytes()
    except (FileNotFoundError, NotADirectoryError, IsADirectoryError):
        return None
    except OSError as exc:
        raise ConfigError(f"{path}: cannot be read ({exc.strerror or exc})") from None


def load_config(start: Path, selection: Selection = NO_SELECTION) -> tuple[Config, Path]:
    """The config governing ``start``, looked up on disk, and the folder its patterns are
    rooted at (where it came from; ``start``'s folder for the defaults)."""
    folder = (start if start.is_dir() else start.parent).resolve()
    found = find_config((folder / "-").as_posix(), disk_reader, selection)
    if found.pyproject is None:
        return found.config, folder
    return replace(found.config, folder=""), Path(found.config.folder)
