"""How a rule is declared.

A rule is one module in the folder of its principle (``rules/cutting_corners/`` for DEBT3xx) that
defines ``RULE = Rule(...)`` plus plain functions, found by their names:

* ``visit_<Node>(node, ctx)`` / ``leave_<Node>(node, ctx)`` for libcst node types, run by the
  engine in one shared walk of each Python file;
* ``check(ctx)`` run once per matching file, for rules that read text (YAML, requirements,
  notebooks, comments);
* ``check_repository(repository, ctx)`` run once over every file's facts, and
  ``check_change(change, ctx)`` run once over a pull request's change;
* a dataclass ``State``, when the rule keeps something while it walks a file.

The module docstring is the rule's documentation.
"""

from __future__ import annotations

import fnmatch
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

from rules.finding import Severity


@dataclass(frozen=True)
class Example:
    code: str
    path: str = "example.py"
    # For INVALID examples: the 1-based line the first finding must start on, when given.
    line: int | None = None
    # For INVALID examples: the replacement the first finding must offer, when given.
    replacement: str | None = None
    # Other files of the repository the example lives in (paths only), for rules that look
    # at the layout, such as a notebook inside a package.
    files: tuple[str, ...] = ()
    # Other files with their contents, for repository rules: ((path, code), ...).
    others: tuple[tuple[str, str], ...] = ()
    # For change rules: which of ``others`` the change also touched (the example's own file
    # always counts as wholly added).
    changed: tuple[str, ...] = ()
    # For change rules: the lines of the example's own file that the change added or edited,
    # when not all of them (a small edit of an existing file).
    added: tuple[int, ...] | None = None
    # For change rules that compare with the base: the example's own file as it was before the
    # change (None: the change added the file).
    base: str | None = None


@dataclass(frozen=True)
class Rule:
    code: str
    name: str
    principle: str
    severity: Severity
    message: str  # str.format template; one imperative sentence, code in backticks
    valid: tuple[Example | str, ...]
    invalid: tuple[Example | str, ...]
    options: Mapping[str, object] = field(default_factory=dict)
    # Glob patterns of the non-Python files the rule's check() reads; Python rules leave it empty.
    files: tuple[str, ...] = ()
    # False for rules too young to be on by default: they run only when selected by exact code.
    default_enabled: bool = True
    # Why a rule is off by default, in a few words `debtbot rules` shows (a measurement).
    disabled_because: str = ""
    # Costly repository facts the rule reads ("modules", "fingerprints"): gathered only when a
    # rule that reads them runs.
    facts: tuple[str, ...] = ()
    # False for rules that judge a file by its path and the repository layout alone: such a
    # file is not decoded, so size and encoding limits do not hide it.
    needs_text: bool = True
    # Filled in by the loader from the rule's module.
    doc: str = ""
    visitors: Mapping[str, Callable] = field(default_factory=dict)
    check: Callable | None = None
    # The rule's per-file state: a dataclass the engine makes afresh for every file.
    state: type | None = None
    # Repository rules: check_repository(repository, ctx) runs once over every file's facts.
    check_repository: Callable | None = None
    # Change rules: check_change(change, ctx) judges a pull request's change as a whole; they
    # run only where there is a change (debtbot diff, the App). A rule with both runs
    # check_change where there is a change and check_repository elsewhere.
    check_change: Callable | None = None
    module: str = ""

    @property
    def reads_python(self) -> bool:
        return bool(self.visitors) or (self.check is not None and not self.files)

    @property
    def per_file(self) -> bool:
        return bool(self.visitors) or self.check is not None

    @property
    def offers_fix(self) -> bool:
        """Whether the rule can propose a replacement (shown by an INVALID example that has one)."""
        return any(isinstance(e, Example) and e.replacement for e in self.invalid)

    def applies_to(self, path: str) -> bool:
        if not self.files:
            return path.endswith(".py")
        name = path.rsplit("/", 1)[-1]
        return any(fnmatch.fnmatch(name, pattern) for pattern in self.files)

    def examples(self) -> tuple[tuple[str, Example], ...]:
        def as_example(item: Example | str) -> Example:
            if isinstance(item, Example):
                return item
            return Example(item, path=self.default_example_path)

        return tuple(("valid", as_example(e)) for e in self.valid) + tuple(
            ("invalid", as_example(e)) for e in self.invalid
        )

    @property
    def default_example_path(self) -> str:
        if not self.files:
            return "example.py"
        pattern = self.files[0]
        return pattern.replace("*", "example")
