"""The catalogue: every rule, found in the folders of the principles, and its documentation."""

from __future__ import annotations

import importlib
import pkgutil
import re
from dataclasses import replace
from functools import cache
from types import MappingProxyType, ModuleType

from rules.finding import SEVERITIES
from rules.principles import PRINCIPLES
from rules.rule import Rule

DOC_HEADINGS = ("What it does", "Why is this bad?", "Example", "Use instead", "References")
CODE_RE = re.compile(r"^DEBT(1[01]|[1-9])\d{2}$")


def principle_folder(slug: str) -> str:
    """The package holding a principle's rules: ``glue-code`` -> ``glue_code``."""
    return slug.replace("-", "_")


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
        state=getattr(module, "State", None),
        options=MappingProxyType(dict(rule.options)),
        module=module.__name__,
    )


# Words of rule names that people write in capitals (or, for NaN, in mixed case).
_WRITTEN_AS = {
    "nan": "NaN",
    "yaml": "YAML",
    "cli": "CLI",
    "gpu": "GPU",
    "cuda": "CUDA",
    "io": "I/O",
}


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
    else:
        number = list(PRINCIPLES).index(rule.principle) + 1
        if CODE_RE.match(rule.code) and int(rule.code[4:-2]) != number:
            problems.append(
                f"code {rule.code} is not in DEBT{number}xx, the range of its principle"
            )
        folder = principle_folder(rule.principle)
        if rule.module and rule.module.split(".")[:2] != ["rules", folder]:
            problems.append(
                f"module {rule.module} is not in rules/{folder}/, its principle's folder"
            )
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
        folder = principle_folder(slug)
        package = importlib.import_module(f"rules.{folder}")
        for info in pkgutil.iter_modules(package.__path__):
            module = importlib.import_module(f"rules.{folder}.{info.name}")
            if isinstance(getattr(module, "RULE", None), Rule):
                found.append(_from_module(module))
    return tuple(sorted(found, key=lambda r: (len(r.code), r.code)))


def rules_by_code() -> dict[str, Rule]:
    return {rule.code: rule for rule in all_rules()}
