"""What a CI definition runs: its shell commands, the steps and jobs that hold them, the images
it runs in. Shared by the rules that judge CI files (GitHub Actions, Azure Pipelines and their
templates, GitLab CI, and the like); whether a YAML file is one is :func:`rules.ml.files.ci_definition`.

A *command* is one logical shell line (continuations joined) of a ``run:``, ``script:``,
``bash:``, ``pwsh:``, ``inlineScript:``... value, with the 1-based lines of the file it spans,
the mapping that holds it (a step, or a GitLab job, which is its own step) and the mappings
around that one (the job, ``jobs:``, the file), each with the key it sits under.
"""

from __future__ import annotations

import re
import shlex
from collections.abc import Iterator
from dataclasses import dataclass

import yaml

# Keys whose value is shell: GitHub Actions (run), Azure Pipelines (script, bash, pwsh,
# powershell, and a task's inputs: script / inlineScript), GitLab (script, before_script,
# after_script), CircleCI (run: command), Travis (install, before_install).
COMMAND_KEYS = frozenset(
    {"run", "script", "bash", "pwsh", "powershell", "inlineScript", "before_script",
     "after_script", "command", "install", "before_install"}
)  # fmt: skip
_EXPRESSION = re.compile(r"\$\{\{.*?\}\}")
_OPERATORS = frozenset({"&&", "||", ";", "|", "&", "|&"})


@dataclass(frozen=True)
class Scope:
    """A mapping around a command, with the key it sits under (None in a list or at the top)."""

    key: str | None
    node: yaml.MappingNode


@dataclass(frozen=True)
class Command:
    line: int
    end_line: int
    text: str
    # The mappings around the command, outermost first; the last one holds it (the step).
    scopes: tuple[Scope, ...]

    @property
    def step(self) -> yaml.MappingNode:
        return self.scopes[-1].node

    def words(self) -> list[str]:
        return shell_words(self.text)


def commands(documents: list[yaml.Node]) -> list[Command]:
    """Every shell command of the CI definition, in the order of the file."""
    found: list[Command] = []
    for document in documents:
        _walk(document, (), None, found)
    # An anchor merged into several jobs (``<<: *install``) is walked once per job: its
    # commands are one text in the file, told once (by the first job that uses it).
    unique = {(c.line, c.text): c for c in reversed(found)}
    return sorted(unique.values(), key=lambda c: c.line)


def _walk(
    node: yaml.Node, scopes: tuple[Scope, ...], key: str | None, found: list[Command]
) -> None:
    if isinstance(node, yaml.SequenceNode):
        for item in node.value:
            _walk(item, scopes, None, found)
        return
    if not isinstance(node, yaml.MappingNode):
        return
    here = (*scopes, Scope(key, node))
    for key_node, value in node.value:
        name = key_node.value if isinstance(key_node, yaml.ScalarNode) else None
        if name in COMMAND_KEYS:
            owner = here
            if key == "inputs" and scopes:
                owner = scopes  # an Azure task's inputs: the task is the step
            for scalar in _scalars(value):
                found.extend(_logical_lines(scalar, owner))
            if isinstance(value, yaml.MappingNode):  # CircleCI: run: {command: ...}
                _walk(value, here, name, found)
            continue
        _walk(value, here, name, found)


def _scalars(node: yaml.Node) -> list[yaml.ScalarNode]:
    if isinstance(node, yaml.ScalarNode) and isinstance(node.value, str):
        return [node]
    if isinstance(node, yaml.SequenceNode):  # GitLab and Travis: a list of commands
        return [item for item in node.value if isinstance(item, yaml.ScalarNode)]
    return []


def _logical_lines(scalar: yaml.ScalarNode, scopes: tuple[Scope, ...]) -> Iterator[Command]:
    """The scalar's shell lines, continuations joined, each with the file lines it spans."""
    if not scopes:
        return
    value = scalar.value
    if scalar.style == "|":
        first = scalar.start_mark.line + 2  # the content starts below the indicator
    elif scalar.style == ">":
        # Folded: the file's lines no longer match the value's; one command on the first line.
        line = scalar.start_mark.line + 2
        yield Command(line, max(line, scalar.end_mark.line), value.strip(), scopes)
        return
    else:
        first = scalar.start_mark.line + 1
        value = value.replace("\n", " ")  # a plain or quoted scalar folds into one line
    parts: list[str] = []
    start = first
    for index, raw in enumerate(value.split("\n")):
        number = first + index
        if not parts:
            start = number
        stripped = raw.strip()
        if stripped.endswith("\\"):
            parts.append(stripped[:-1].rstrip())
            continue
        parts.append(stripped)
        text = " ".join(p for p in parts if p)
        parts = []
        if text and not text.startswith(("#", "REM ", "::")):
            yield Command(start, number, text, scopes)
    if parts:
        text = " ".join(p for p in parts if p)
        if text:
            yield Command(start, first + len(value.split("\n")) - 1, text, scopes)


def shell_words(text: str) -> list[str]:
    """A shell line split as a shell would, operators apart; a plain split when quotes do not
    close (a line of PowerShell, say). A template expression (``${{ matrix.torch }}``) is one
    word that names a variable."""
    text = _EXPRESSION.sub("$EXPRESSION", text)
    try:
        lexer = shlex.shlex(text, posix=True, punctuation_chars="|&;")
        lexer.whitespace_split = True
        lexer.commenters = "#"
        return list(lexer)
    except ValueError:
        return text.split()


def segments(words: list[str]) -> list[tuple[str, list[str]]]:
    """The simple commands of a shell line, each with the operator before it ("" first)."""
    found: list[tuple[str, list[str]]] = []
    operator, current = "", []
    for word in words:
        if word in _OPERATORS:
            found.append((operator, current))
            operator, current = word, []
        else:
            current.append(word)
    found.append((operator, current))
    return [(op, seg) for op, seg in found if seg or op]


# Prefixes that run the command after them: ``python -m``, ``poetry run``, ``env X=1``...
_RUNNERS = frozenset({"poetry", "pipenv", "uv", "hatch", "pdm", "rye", "conda", "micromamba",
                      "mamba"})  # fmt: skip
_PLAIN_PREFIXES = frozenset({"sudo", "time", "xvfb-run", "env", "exec", "nohup", "call"})
_ASSIGNMENT = re.compile(r"^[A-Za-z_]\w*=")
_PYTHON = re.compile(r"^(python|python3|python3\.\d+|py|pythonw)(\.exe)?$")


def program(words: list[str]) -> list[str]:
    """The words of a simple command from the program it runs, past runners and wrappers:
    ``python -m pytest -x`` and ``poetry run pytest -x`` both give ``pytest -x``."""
    index = 0
    while index < len(words):
        word = words[index]
        base = re.split(r"[\\/]", word)[-1]
        if _ASSIGNMENT.match(word):
            index += 1  # an environment assignment
        elif base in _PLAIN_PREFIXES:
            index += 1
        elif base == "timeout":
            index += 2
        elif base in _RUNNERS and index + 1 < len(words) and words[index + 1] == "run":
            index += 2
            while index < len(words) and words[index].startswith("-"):
                # conda run -n env / --no-capture-output
                index += 2 if words[index] in ("-n", "--name", "-p", "--prefix") else 1
        elif _PYTHON.match(base) and index + 2 < len(words) and words[index + 1] == "-m":
            return [words[index + 2], *words[index + 3 :]]
        elif base == "coverage" and index + 2 < len(words) and words[index + 1] == "run":
            rest = words[index + 2 :]
            if "-m" in rest:
                position = rest.index("-m")
                return rest[position + 1 :]
            return rest
        else:
            return [base, *words[index + 1 :]]
    return []


_LINTERS = frozenset(
    {"flake8", "pylint", "mypy", "pyright", "pytype", "pyre", "pycodestyle", "pydocstyle",
     "pyflakes", "bandit", "codespell", "interrogate", "darglint", "pre-commit", "nbqa",
     "prospector", "pylama", "vulture", "ruff"}
)  # fmt: skip
_TESTERS = frozenset({"pytest", "py.test", "unittest", "nosetests", "nose2", "tox", "nox"})
_FORMATTERS = frozenset({"black", "isort", "yapf", "autopep8", "docformatter"})
_MAKE_TARGETS = re.compile(
    r"^(lint|linting|test|tests|unittest|unit-tests?|check|checks|typecheck|type-check|mypy|"
    r"flake8|pylint|style|quality|static-analysis|ci)$"
)


def check_tool(words: list[str]) -> str | None:
    """The lint, type-check or test tool a simple command runs, if any (``pytest``,
    ``flake8``, ``black --check``, ``make lint``, ``tox -e lint``)."""
    run = program(words)
    if not run:
        return None
    name = run[0].lower()
    if name.endswith(".exe"):
        name = name[:-4]
    if name in _LINTERS or name in _TESTERS:
        return name
    if name in _FORMATTERS and any(w in ("--check", "--diff", "--check-only") for w in run):
        return name
    if name == "make" and any(_MAKE_TARGETS.match(w) for w in run[1:]):
        return "make " + next(w for w in run[1:] if _MAKE_TARGETS.match(w))
    return None


def mapping_value(node: yaml.MappingNode, *names: str) -> tuple[str, int] | None:
    """The scalar value of the first of ``names`` the mapping has, with its 1-based line."""
    for key, value in node.value:
        if isinstance(key, yaml.ScalarNode) and key.value in names:
            if isinstance(value, yaml.ScalarNode):
                return str(value.value), value.start_mark.line + 1
            return "", key.start_mark.line + 1
    return None


def is_true(value: tuple[str, int] | None) -> bool:
    return value is not None and value[0].strip().lower() in ("true", "yes", "on")


# Names of jobs and steps that fail or move on purpose: canaries of tomorrow's dependencies or
# platforms.
_ON_PURPOSE = re.compile(
    r"nightly|experimental|bleeding|\bedge\b|pre-?release|canary|upstream|optional|"
    r"allow(ed)?[-_ ]?fail|unstable|future|\bdev\b|\bbeta\b|\balpha\b",
    re.IGNORECASE,
)


def on_purpose(scopes: tuple[Scope, ...]) -> bool:
    """Whether a job or step around a command says it tries tomorrow's dependencies or may
    fail on purpose, by its key, its ``name`` or ``displayName``. The file's own name is not
    asked: a nightly workflow is one run on a schedule, whose checks should fail like any
    other."""
    for scope in scopes[1:]:
        if scope.key and _ON_PURPOSE.search(scope.key):
            return True
        for name in ("name", "displayName", "job"):
            value = mapping_value(scope.node, name)
            if value is not None and _ON_PURPOSE.search(value[0]):
                return True
    return False
