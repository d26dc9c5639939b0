"""How a rule is declared, and how the catalogue is discovered.

A rule is one module in this package that defines ``RULE = Rule(...)`` plus plain functions:

* ``visit_<Node>(node, ctx)`` / ``leave_<Node>(node, ctx)`` for libcst node types, run by the
  engine in one shared walk of each Python file;
* ``check(ctx)`` run once per matching file, for rules that read text (YAML, requirements,
  notebooks, comments).

The module docstring is the rule's documentation.
"""

from __future__ import annotations

import fnmatch
import importlib
import pkgutil
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from functools import cache
from types import MappingProxyType, ModuleType

from rules.finding import SEVERITIES, Severity
from rules.principles import PRINCIPLES

DOC_HEADINGS = ("What it does", "Why is this bad?", "Example", "Use instead", "References")
CODE_RE = re.compile(r"^DEBT(1[01]|[1-9])\d{2}$")


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
    # False for rules that judge a file by its path and the repository layout alone: such a
    # file is not decoded, so size and encoding limits do not hide it.
    needs_text: bool = True
    # Filled in by the loader from the rule's module.
    doc: str = ""
    visitors: Mapping[str, Callable] = field(default_factory=dict)
    check: Callable | None = None
    # Repository rules: check_repository(repository, ctx) runs once over every file's facts.
    check_repository: Callable | None = None
    # Change rules: check_change(change, ctx) judges a pull request's change as a whole; they
    # run only where there is a change (debtbot diff, the App).
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


def _from_module(module: ModuleType) -> Rule:
    rule: Rule = module.RULE
    visitors = {
        name: fn
        for name, fn in vars(module).items()
        if callable(fn) and (name.startswith("visit_") or name.startswith("leave_"))
    }
    return replace(
        rule,
        doc=(module.__doc__ or "").strip(),
        visitors=MappingProxyType(visitors),
        check=getattr(module, "check", None),
        check_repository=getattr(module, "check_repository", None),
        check_change=getattr(module, "check_change", None),
        options=MappingProxyType(dict(rule.options)),
        module=module.__name__,
    )


# Words of rule names that people write in capitals (or, for NaN, in mixed case).
_WRITTEN_AS = {"nan": "NaN", "yaml": "YAML", "cli": "CLI", "gpu": "GPU", "cuda": "CUDA"}


def title_of(name: str) -> str:
    """A rule's name as words for people: ``unsafe-yaml-load`` -> ``Unsafe YAML load``."""
    words = [_WRITTEN_AS.get(word, word) for word in name.split("-")]
    if words and words[0] not in _WRITTEN_AS.values():
        words[0] = words[0].capitalize()
    return " ".join(words)


def doc_section(rule: Rule, heading: str) -> str:
    """The text under one heading of a rule's docstring, without the underline."""
    lines = rule.doc.splitlines()
    try:
        start = lines.index(heading) + 1
    except ValueError:
        return ""
    body = []
    for index in range(start, len(lines)):
        line = lines[index]
        following = lines[index + 1] if index + 1 < len(lines) else ""
        if line.strip() and following.startswith("---") and index > start:
            break
        if not line.startswith("---"):
            body.append(line)
    return "\n".join(body).strip()


def rule_markdown(rule: Rule, level: int = 1) -> str:
    """A rule's documentation as Markdown, its title at heading ``level``."""
    title, section = "#" * level, "#" * (level + 1)
    parts = [
        f"{title} {rule.code} {rule.name}",
        "",
        f"Principle: `{rule.principle}` · default severity: {rule.severity}",
        "",
    ]
    for heading in DOC_HEADINGS:
        body = _fence_code(doc_section(rule, heading).replace("``", "`"))
        parts += [f"{section} {heading}", "", body, ""]
    return "\n".join(parts).strip() + "\n"


def _fence_code(body: str) -> str:
    """Turn reST indented code blocks (after ``.. code-block:: python``) into fenced blocks."""
    out: list[str] = []
    in_code = False
    for line in body.splitlines():
        if line.strip() == ".. code-block:: python":
            out.append("```python")
            in_code = True
            continue
        if in_code and out[-1] == "```python" and not line.strip():
            continue
        if in_code and line and not line.startswith("    "):
            out.append("```")
            in_code = False
        out.append(line[4:] if in_code and line.startswith("    ") else line)
    if in_code:
        while out and not out[-1].strip():
            out.pop()
        out.append("```")
    return "\n".join(out)


def metadata_problems(rule: Rule) -> list[str]:
    """Everything wrong with a rule's declaration; empty when it is well-formed."""
    problems = []
    if not CODE_RE.match(rule.code):
        problems.append(f"code {rule.code!r} is not DEBT<principle number><two digits>")
    if rule.principle not in PRINCIPLES:
        problems.append(f"unknown principle {rule.principle!r}")
    if rule.severity not in SEVERITIES:
        problems.append(f"unknown severity {rule.severity!r}")
    problems.extend(
        f"docstring lacks the heading {heading!r}"
        for heading in DOC_HEADINGS
        if heading not in rule.doc
    )
    if not (rule.visitors or rule.check or rule.check_repository or rule.check_change):
        problems.append(
            "defines no visit_/leave_ function, check(), check_repository() or check_change()"
        )
    if len(rule.valid) < 2:
        problems.append("needs at least two VALID examples")
    if len(rule.invalid) < 2:
        problems.append("needs at least two INVALID examples")
    if not rule.message.endswith(".") or "`" not in rule.message:
        problems.append("message must be one sentence ending in '.' with code in backticks")
    return problems


@cache
def all_rules() -> tuple[Rule, ...]:
    """Every rule of the catalogue, ordered by code: the modules of the principle folders."""
    found = []
    for slug in PRINCIPLES:
        folder = slug.replace("-", "_")
        package = importlib.import_module(f"rules.{folder}")
        for info in pkgutil.iter_modules(package.__path__):
            module = importlib.import_module(f"rules.{folder}.{info.name}")
            if isinstance(getattr(module, "RULE", None), Rule):
                found.append(_from_module(module))
    return tuple(sorted(found, key=lambda r: (len(r.code), r.code)))


def rules_by_code() -> dict[str, Rule]:
    return {rule.code: rule for rule in all_rules()}
