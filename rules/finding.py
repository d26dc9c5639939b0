"""What a rule reports, and the fingerprint that identifies it across edits."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from typing import Literal

Severity = Literal["info", "warning", "error"]
SEVERITIES: tuple[Severity, ...] = ("info", "warning", "error")


@dataclass(frozen=True)
class Finding:
    code: str
    principle: str
    path: str  # POSIX path relative to the analysed root
    line: int  # 1-based
    end_line: int
    column: int  # 1-based
    severity: Severity
    message: str
    fingerprint: str
    # Text that may replace lines line..end_line verbatim; None when no fix is safe.
    replacement: str | None = None
    name: str = field(default="", compare=False)

    def to_json(self) -> dict[str, object]:
        return {
            "code": self.code,
            "name": self.name,
            "principle": self.principle,
            "path": self.path,
            "line": self.line,
            "end_line": self.end_line,
            "column": self.column,
            "severity": self.severity,
            "message": self.message,
            "fingerprint": self.fingerprint,
            "replacement": self.replacement,
        }


@dataclass(frozen=True)
class Skipped:
    path: str
    reason: str

    def to_json(self) -> dict[str, str]:
        return {"path": self.path, "reason": self.reason}


def normalise_code(code: str) -> str:
    """Fold whitespace so that reindenting or rewrapping a node keeps its identity."""
    return " ".join(code.split())


def fingerprint(code: str, path: str, scope: str, snippet: str, occurrence: int) -> str:
    """Identity of a finding that survives unrelated lines being added or removed above it.

    Line numbers are deliberately absent. ``scope`` (the enclosing def/class names) and
    ``occurrence`` (how many identical snippets came before in that scope) tell apart copies
    of the same code.
    """
    key = "\x1f".join((code, path, scope, normalise_code(snippet), str(occurrence)))
    return hashlib.sha256(key.encode()).hexdigest()[:20]
