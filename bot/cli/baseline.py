"""``--baseline FILE``: today's findings, recorded by fingerprint, so that only new debt fails.

The file is JSON, ``{"version": 1, "findings": [...]}``, sorted so that it reads well in a
review. A finding matches an entry by its fingerprint, which survives lines being added or
removed around it; the entry's file, rule, line and message are there for people.
"""

from __future__ import annotations

import json
import os
from collections import Counter
from collections.abc import Iterable
from dataclasses import asdict, dataclass
from pathlib import Path

from bot.cli.files import write_atomically
from bot.cli.output import STDIN
from rules.finding import Finding

VERSION = 1


class BaselineError(ValueError):
    """A baseline file that cannot be used; the message names it and says why."""


@dataclass(frozen=True)
class Entry:
    fingerprint: str
    path: str  # POSIX, relative to the baseline file's folder
    code: str
    line: int
    message: str


@dataclass
class Comparison:
    new: list[Finding]  # findings the baseline does not hold: these are reported
    matched: int  # findings the baseline holds
    gone: int  # entries of files that were analysed (or no longer exist) that nothing matched


def read(path: Path) -> list[Entry] | None:
    """The baseline's entries; None when there is no such file yet."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return None
    except (OSError, UnicodeDecodeError) as exc:
        raise BaselineError(f"{path}: cannot be read ({exc})") from None
    try:
        document = json.loads(text)
    except json.JSONDecodeError as exc:
        raise BaselineError(f"{path} is not a debtbot baseline: not JSON ({exc})") from None
    if not isinstance(document, dict) or "version" not in document:
        raise BaselineError(f"{path} is not a debtbot baseline: no version field")
    if document["version"] != VERSION:
        raise BaselineError(
            f"{path} is a version {document['version']!r} baseline; this debtbot reads version "
            f"{VERSION}: delete it and run again to write a new one"
        )
    findings = document.get("findings")
    if not isinstance(findings, list):
        raise BaselineError(f"{path} is not a debtbot baseline: no list of findings")
    entries = []
    for index, item in enumerate(findings):
        try:
            entries.append(Entry(**item))
        except TypeError:
            raise BaselineError(
                f"{path}: finding {index} is not an entry debtbot wrote (with fingerprint, path, "
                "code, line and message)"
            ) from None
        if not isinstance(entries[-1].fingerprint, str):
            raise BaselineError(f"{path}: finding {index} has no fingerprint")
    return entries


def write(path: Path, findings: Iterable[Finding], root: Path) -> int:
    """Record ``findings`` in a new baseline at ``path``; how many there are."""
    if not path.parent.is_dir():
        raise BaselineError(f"{path}: the folder {path.parent} does not exist")
    entries = sorted(
        (
            Entry(f.fingerprint, _relative(f.path, root, path), f.code, f.line, f.message)
            for f in findings
        ),
        key=lambda e: (e.path, e.line, e.code, e.fingerprint),
    )
    document = {"version": VERSION, "findings": [asdict(e) for e in entries]}
    try:
        write_atomically(path, (json.dumps(document, indent=2) + "\n").encode("utf-8"))
    except OSError as exc:
        raise BaselineError(f"{path}: cannot be written ({exc.strerror or exc})") from None
    return len(entries)


def compare(
    entries: list[Entry],
    findings: Iterable[Finding],
    root: Path,
    analysed: Iterable[str],
    path: Path,
) -> Comparison:
    known = Counter(e.fingerprint for e in entries)
    new, matched = [], 0
    for finding in findings:
        if known[finding.fingerprint] > 0:
            known[finding.fingerprint] -= 1
            matched += 1
        else:
            new.append(finding)
    # Entries of files this run did not read are not gone: they were not looked at.
    looked_at = {_relative(p, root, path) for p in analysed}
    gone = 0
    for entry in entries:
        if known[entry.fingerprint] > 0:
            known[entry.fingerprint] -= 1
            if entry.path in looked_at or not _exists(entry.path, path):
                gone += 1
    return Comparison(new, matched, gone)


def _relative(finding_path: str, root: Path, baseline: Path) -> str:
    if finding_path == STDIN:
        return STDIN
    folder = baseline.resolve().parent
    return Path(os.path.relpath(root.resolve() / finding_path, folder)).as_posix()


def _exists(entry_path: str, baseline: Path) -> bool:
    return entry_path == STDIN or (baseline.resolve().parent / entry_path).exists()
