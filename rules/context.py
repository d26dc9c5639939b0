"""What a rule sees and reports through: :class:`Context` for one file, :class:`RepositoryContext`
for the repository as a whole.

A rule module that keeps something while it walks a file declares it as a dataclass named
``State``; the engine hands each file a fresh one as ``ctx.state``, typed by annotating the
rule's functions with ``ctx: Context[State]``.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Collection
from dataclasses import dataclass, field
from functools import cached_property
from typing import TYPE_CHECKING, Any, Generic, TypeVar

import libcst as cst

from rules import names, readers
from rules.finding import Skipped

if TYPE_CHECKING:
    from rules.rule import Rule

StateT = TypeVar("StateT")

# Tests, by the usual folder and file names.
TEST_PATH = re.compile(r"(^|/)(tests?|testing)/|(^|/)test_[^/]*\.py$|_test\.py$|(^|/)conftest\.py$")


def is_test_path(path: str) -> bool:
    return bool(TEST_PATH.search(path))


@dataclass
class Report:
    """One thing a rule reported, before the engine places it on lines and fingerprints it."""

    rule: Rule
    message: str
    node: cst.CSTNode | None
    scope: str
    replacement: str | None
    # The node's ancestors from the module down, when known (or a guess): positions need them.
    chain: tuple[cst.CSTNode, ...] | None = None
    line: int = 0
    end_line: int = 0
    column: int = 1
    snippet: str = ""


@dataclass
class FileMemo:
    """What every rule on one file would otherwise compute for itself."""

    # Qualified names of the file's expressions by node (many rules ask for the name of the
    # same call); emptied when an import changes the aliases.
    qualified: dict[int, str | None] = field(default_factory=dict)
    # The file's YAML documents, composed once (several rules read YAML files).
    yaml: list | None = None


@dataclass
class Context(Generic[StateT]):
    """What a rule sees of the file it is looking at. One per rule per file."""

    rule: Rule
    path: str
    text: str
    options: dict[str, object]
    files: Collection[str]
    module: cst.Module | None
    aliases: dict[str, str]
    ancestors: list[cst.CSTNode]
    reports: list[Report]
    skips: list[Skipped]
    # What the rule keeps while walking this file: a fresh instance of the rule's ``State``.
    state: StateT
    # What the rules on the file compute once for all of them; shared by their contexts.
    memo: FileMemo = field(default_factory=FileMemo, repr=False)

    @cached_property
    def lines(self) -> list[str]:
        return self.text.splitlines()

    @cached_property
    def is_test(self) -> bool:
        return is_test_path(self.path)

    def qualified_name(self, node: cst.CSTNode) -> str | None:
        qualified = self.memo.qualified
        key = id(node)  # the tree outlives the walk, so no other node takes this id
        if key not in qualified:
            qualified[key] = names.qualify(node, self.aliases)
        return qualified[key]

    def call_name(self, node: cst.CSTNode) -> str | None:
        return self.qualified_name(node.func) if type(node) is cst.Call else None

    def code(self, node: cst.CSTNode) -> str:
        assert self.module is not None
        return self.module.code_for_node(node)

    def indentation(self) -> str:
        """The indentation of the statement being visited, for whole-line replacements."""
        default = self.module.default_indent if self.module is not None else "    "
        return "".join(
            default if block.indent is None else block.indent
            for block in self.ancestors
            if isinstance(block, cst.IndentedBlock)
        )

    def parent(self, depth: int = 1) -> cst.CSTNode | None:
        """The ``depth``-th enclosing node of the node being visited."""
        return self.ancestors[-depth] if len(self.ancestors) >= depth else None

    def enclosing(self, *types: type[cst.CSTNode]) -> cst.CSTNode | None:
        for node in reversed(self.ancestors):
            if isinstance(node, types):
                return node
        return None

    def skip(self, reason: str) -> None:
        """Say why this file could not be fully read by the rule (shown under ``skipped``)."""
        self.skips.append(Skipped(self.path, reason))

    def yaml_documents(self) -> list:
        """The file's YAML documents as safe-loaded nodes; [] (and a skip) when unreadable."""
        if self.memo.yaml is None:
            try:
                self.memo.yaml = readers.compose_yaml(self.text)
            except readers.UnreadableFile as exc:
                self.skip(str(exc))  # once: the contexts of a file share their skips
                self.memo.yaml = []
        return self.memo.yaml

    def report(
        self, node: cst.CSTNode, *, replacement: str | None = None, **values: object
    ) -> None:
        """Report ``node``; ``values`` fill the rule's message template."""
        self.reports.append(
            Report(
                self.rule,
                self.rule.message.format(**values),
                node,
                self._scope(),
                replacement,
                chain=self._chain(node),
            )
        )

    def report_from(
        self, node: cst.CSTNode, ancestors: list[cst.CSTNode], **values: object
    ) -> None:
        """Report a node after the walk has moved on, as if from where it was seen.

        A finding's scope is named from the ancestors at the time of the report; a decision
        taken at the end of the file borrows the ancestors saved when the node was seen.
        """
        saved = list(self.ancestors)
        self.ancestors[:] = ancestors
        try:
            self.report(node, **values)
        finally:
            self.ancestors[:] = saved

    def enclosing_loops(self) -> list[cst.CSTNode]:
        """The loops around the node being visited, innermost first, within its own function."""
        loops = []
        for node in reversed(self.ancestors):
            if isinstance(node, cst.FunctionDef | cst.Lambda | cst.ClassDef):
                break
            if isinstance(node, cst.For | cst.While):
                loops.append(node)
        return loops

    def _chain(self, node: cst.CSTNode) -> tuple[cst.CSTNode, ...] | None:
        """The ancestors of ``node``, when the walk makes them plain; else a guess."""
        if len(self.ancestors) > 1:
            return tuple(self.ancestors)
        if self.module is None:
            return None
        if any(s is node for s in self.module.body):
            return (self.module, node)
        return None  # reported after the walk left it: found again by find_chains

    def report_line(
        self,
        line: int,
        *,
        end_line: int | None = None,
        column: int = 1,
        snippet: str | None = None,
        replacement: str | None = None,
        **values: object,
    ) -> None:
        """Report lines of the file's text, for rules that read text rather than a tree."""
        last = end_line or line
        if snippet is None:
            snippet = "\n".join(self.lines[line - 1 : last])
        self.reports.append(
            Report(
                self.rule,
                self.rule.message.format(**values),
                None,
                "",
                replacement,
                line=line,
                end_line=last,
                column=column,
                snippet=snippet,
            )
        )

    def _scope(self) -> str:
        return ".".join(
            n.name.value for n in self.ancestors if isinstance(n, cst.FunctionDef | cst.ClassDef)
        )


Visitor = Callable[[Any, Context[Any]], None]


@dataclass
class RepositoryContext:
    """What a repository or change rule reports through; one per rule per run."""

    rule: Rule
    options: dict[str, object]
    read: Callable[[str], str]  # a file's text, for placing a report on its line
    reports: list[tuple[str, int, str, str]] = field(default_factory=list)

    def report(self, path: str, line: int, snippet: str, /, **values: object) -> None:
        self.reports.append((path, line, snippet, self.rule.message.format(**values)))
