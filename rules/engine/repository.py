"""The repository as the repository and change rules see it, and how those rules run."""

from __future__ import annotations

import functools
import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from functools import cached_property

from rules.context import RepositoryContext
from rules.engine import provenance
from rules.engine.config import Config
from rules.engine.facts import FileFacts
from rules.engine.placement import findings_from_lines
from rules.finding import Finding, Skipped
from rules.rule import Rule


@dataclass(frozen=True)
class Repository:
    """Every Python file's facts, and the paths of all files (for layout questions)."""

    facts: Mapping[str, FileFacts]
    files: frozenset[str]
    # The copyright holders the repository's licence names (see rules.engine.provenance).
    owners: frozenset[str] = frozenset()

    def importers(self, module: str) -> list[FileFacts]:
        """Files that import the top-level ``module``."""
        return [f for f in self.facts.values() if any(root == module for _, root in f.imports)]

    @cached_property
    def tests(self) -> tuple[FileFacts, ...]:
        return tuple(f for f in self.facts.values() if f.is_test)

    def kind_of(self, path: str) -> str:
        """Whose code the file is: a kind of rules.engine.provenance, "" for the repository's
        own. Files without facts (not Python) are judged by their path."""
        facts = self.facts.get(path)
        origin = facts.origin if facts is not None else provenance.header(path, "")
        return provenance.kind(path, origin, self.files, self.owners)

    def in_package(self, path: str) -> bool:
        folder = path.rpartition("/")[0]
        return bool(folder) and f"{folder}/__init__.py" in self.files


@dataclass(frozen=True)
class Change:
    """A pull request's change: the lines it added or changed, per path, and the repository."""

    added: Mapping[str, frozenset[int]]
    repository: Repository
    # A file's text as it was at the change's base, None when it was not there; None as a
    # whole when the caller knows no base (rules that compare with the base then stay quiet).
    read_base: Callable[[str], str | None] | None = None


def definition_line(text: str, keyword: str, name: str) -> int | None:
    """The line of a module-level ``def name`` or ``class name`` in ``text``."""
    pattern = re.compile(rf"^(?:async\s+)?{keyword}\s+{re.escape(name)}\b", re.MULTILINE)
    match = pattern.search(text)
    return None if match is None else text.count("\n", 0, match.start()) + 1


def run_repository_rules(
    repository: Repository,
    rules: Iterable[Rule],
    config: Config,
    read_text: Callable[[str], str],
    added: Mapping[str, frozenset[int]] | None = None,
    read_base: Callable[[str], str | None] | None = None,
) -> tuple[list[Finding], list[Skipped]]:
    """Run the repository rules (and, given a change, the change rules), then place and
    suppress their reports like any other finding."""
    read_text = functools.cache(read_text)
    by_path: dict[str, list[tuple[Rule, int, str, str]]] = {}
    problems: list[Skipped] = []
    for rule in rules:
        ctx = RepositoryContext(rule, config.options_for(rule), read_text)
        try:
            # A rule that has both judges a change by check_change where there is one, and the
            # whole repository by check_repository otherwise (not both: one finding each).
            if rule.check_change is not None and added is not None:
                rule.check_change(Change(added, repository, read_base), ctx)
            elif rule.check_repository is not None:
                rule.check_repository(repository, ctx)
        except Exception as exc:  # one broken rule must not hide the others
            problems.append(
                Skipped("(repository)", f"rule {rule.code} failed: {type(exc).__name__}: {exc}")
            )
            continue
        for path, line, snippet, message in ctx.reports:
            if provenance.silences(repository.kind_of(path), rule.code):
                continue  # not the repository's own work, for this rule
            by_path.setdefault(path, []).append((rule, line, snippet, message))
    findings: list[Finding] = []
    for path, reports in sorted(by_path.items()):
        try:
            text = read_text(path)
        except (OSError, KeyError) as exc:
            problems.append(Skipped(path, f"could not be read: {exc}"))
            continue
        findings.extend(findings_from_lines(path, text, reports, config))
    return findings, problems
