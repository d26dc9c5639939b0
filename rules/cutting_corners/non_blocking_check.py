"""
What it does
------------
Flags a CI definition (GitHub Actions, Azure Pipelines and their templates, GitLab CI) where a
lint, type-check or test step can no longer fail the build:

- ``--exit-zero`` on ``flake8``, ``pylint`` or ``ruff``;
- a check followed by ``|| true``, ``|| exit 0``, ``|| :`` or ``|| echo ...``;
- ``continue-on-error: true`` (GitHub) or ``continueOnError: true`` (Azure) on a step or job
  that runs one;
- ``allow_failure: true`` on a GitLab job that runs one.

The checks it knows: linters and type checkers (``flake8``, ``pylint``, ``ruff``, ``mypy``,
``pyright``, ``bandit``, ``pre-commit``...), formatters run with ``--check``, test runners
(``pytest``, ``unittest``, ``tox``, ``nox``) and ``make lint`` / ``make test``, also behind
``python -m``, ``poetry run`` or ``coverage run``. In a review only the lines the change adds
are judged, so a file that was already this way is not blamed on the next change.

Left alone: a report run beside a blocking run of the same tool (GitHub's starter workflow runs
``flake8`` for syntax errors, then again with ``--exit-zero`` for warnings; ``mypy
--install-types || true`` to fetch stubs, then ``mypy`` again in the same step), jobs and steps that
say they are allowed to fail on purpose (``nightly``, ``experimental``, ``bleeding edge``,
``pre-release``...), test results that an Azure ``PublishTestResults`` task fails the run on
(``failTaskOnFailedTests: true``), and commands that are not checks (cleanup, uploads, docker
builds).

Why is this bad?
----------------
A check that cannot fail is a report nobody has to read. The pipeline stays green while
warnings and failing tests pile up, reviewers stop looking, and the day someone wants the gate
back there are hundreds of errors between them and a passing build. For ML code, where a
broken preprocessing or metric function often still runs end to end, the tests and linters are
much of what stands between a change and a silently wrong model.

Example
-------
.. code-block:: yaml

    - script: |
        flake8 --format junit-xml --output-file=flake8.xml --exit-zero
      displayName: Run code quality tests (Flake8)

Use instead
-----------
Let the check fail the build, and fix or explicitly ignore (``per-file-ignores``, ``# noqa:
E501``) what it reports; publish the report with ``condition: succeededOrFailed()`` if it is
wanted as well:

.. code-block:: yaml

    - script: |
        flake8 --format junit-xml --output-file=flake8.xml
      displayName: Run code quality tests (Flake8)

References
----------
- flake8 documentation: ``--exit-zero``; pylint: ``--exit-zero`` and ``--fail-under``
- GitHub Actions: ``jobs.<job_id>.continue-on-error``; GitLab CI: ``allow_failure``
- Sculley et al., "Hidden Technical Debt in Machine Learning Systems"
"""

from __future__ import annotations

from rules import Context, Example, Rule
from rules.ml import ci
from rules.ml.files import ci_definition

RULE = Rule(
    code="DEBT318",
    name="non-blocking-check",
    principle="cutting-corners",
    severity="warning",
    # On: 8 of 8 right on the tuning data (two repositories; two warm-up runs of mypy, wrong,
    # were left alone before that), and what it flags is unambiguous. Held-out set 3 measures it.
    message="Let `{tool}` fail the build: {how} turns its failures into a log line nobody has to read.",
    files=("*.yml", "*.yaml"),
    valid=(
        Example(
            """\
jobs:
- job: run_unit_tests
  steps:
  - script: |
      flake8 --format junit-xml --output-file=flake8-testresults.xml
    displayName: Run code quality tests (Flake8)
  - script: pytest tests/unit --junitxml=unit-testresults.xml
    displayName: Run unit tests
""",
            path="azure-pipelines/templates/run-code-tests.template.yml",
        ),
        # Near miss: GitHub's starter workflow, a blocking run and an advisory one of flake8.
        Example(
            """\
on: [push]
jobs:
  build:
    runs-on: ubuntu-latest
    steps:
      - name: Lint with flake8
        run: |
          flake8 . --count --select=E9,F63,F7,F82 --show-source --statistics
          flake8 . --count --exit-zero --max-complexity=10 --statistics
""",
            path=".github/workflows/python-app.yml",
        ),
        # Near miss: a first run of mypy that only fetches type stubs, before the gate.
        Example(
            """\
on: [push]
jobs:
  lint:
    runs-on: ubuntu-latest
    steps:
      - name: Check with mypy
        run: |
          mypy src --install-types --non-interactive || true
          mypy src
""",
            path=".github/workflows/lint.yml",
        ),
        # Near miss: steps allowed to fail that are not checks, and a job allowed to fail on
        # purpose because it tries tomorrow's dependencies.
        Example(
            """\
on: [push]
jobs:
  docker:
    runs-on: ubuntu-latest
    steps:
      - name: Build and push image
        uses: docker/build-push-action@v5
        continue-on-error: true
      - name: Remove the old environment
        run: conda env remove -n ci || true
  test-bleeding-edge:
    name: "Bleeding edge dependencies"
    runs-on: ubuntu-latest
    continue-on-error: true
    steps:
      - run: pip install --pre -U torch && pytest tests
""",
            path=".github/workflows/ci.yml",
        ),
        # Near miss: a GitLab job that is allowed to fail but checks nothing.
        Example(
            """\
pages:
  script:
    - mkdocs build --site-dir public
  allow_failure: true
""",
            path=".gitlab-ci.yml",
        ),
        # Near miss: not a CI definition.
        Example("command: flake8 --exit-zero\n", path="configs/lint.yaml"),
    ),
    invalid=(
        Example(
            """\
jobs:
- job: run_unit_tests
  steps:
  - script: |
      flake8 --format junit-xml --output-file=flake8-testresults.xml --exit-zero
    displayName: Run code quality tests (Flake8)
""",
            path="azure-pipelines/templates/run-code-tests.template.yml",
            line=5,
        ),
        Example(
            """\
on: [pull_request]
jobs:
  test:
    runs-on: ubuntu-latest
    steps:
      - uses: actions/checkout@v4
      - name: Type-check
        run: |
          pip install -r requirements.txt
          python -m mypy src || true
""",
            path=".github/workflows/test.yml",
            line=10,
        ),
        Example(
            """\
on: [push]
jobs:
  lint:
    runs-on: ubuntu-latest
    steps:
      - name: Run flake8
        continue-on-error: true
        run: tox -e flake8
""",
            path=".github/workflows/pr-gate.yml",
            line=7,
        ),
        Example(
            """\
stages: [test]
unit-tests:
  stage: test
  script:
    - pip install -r requirements.txt
    - pytest tests/
  allow_failure: true
""",
            path=".gitlab-ci.yml",
            line=7,
        ),
    ),
)

_SWALLOWERS = frozenset({"true", ":", "echo", "printf"})
_EXIT_ZERO_TOOLS = frozenset({"flake8", "pylint", "ruff"})


def check(ctx: Context) -> None:
    documents = ctx.yaml_documents()
    if not documents or not ci_definition(ctx.path, ctx.text, documents, ctx.files):
        return
    commands = ci.commands(documents)
    published = "failTaskOnFailedTests: true" in ctx.text
    blocking: set[tuple[int, str]] = set()  # (step, tool), and (0, tool) for the file
    soft: list[tuple[ci.Command, str, str]] = []
    for command in commands:
        for tool, how in _in_command(command.words()):
            if how:
                soft.append((command, tool, how))
            else:
                blocking.update({(id(command.step), tool), (0, tool)})
    for command, tool, how in soft:
        if (id(command.step), tool) in blocking:
            continue  # a warm-up or a report beside the gate (mypy --install-types || true)
        if how == "`--exit-zero`" and (0, tool) in blocking:
            continue  # an advisory report beside the gate
        if published and "junit" in command.text.lower():
            continue  # the published results fail the run
        if ci.on_purpose(command.scopes):
            continue
        ctx.report_line(command.line, end_line=command.end_line, tool=tool, how=how)
    _flags(ctx, commands)


def _in_command(words: list[str]) -> list[tuple[str, str]]:
    """The checks a shell line runs, each with how it is kept from failing ("" when not)."""
    found: list[tuple[str, str]] = []
    parts = ci.segments(words)
    for index, (_, segment) in enumerate(parts):
        tool = ci.check_tool(segment)
        if tool is None:
            continue
        how = ""
        if tool in _EXIT_ZERO_TOOLS and "--exit-zero" in segment:
            how = "`--exit-zero`"
        else:
            swallowed = _swallowed_by(parts[index + 1 :])
            if swallowed:
                how = f"`|| {swallowed}`"
        found.append((tool, how))
    return found


def _swallowed_by(rest: list[tuple[str, list[str]]]) -> str | None:
    """What swallows the failure of the chain a check is in: the command after the first ``||``
    that follows it in its ``&&``/``|`` chain, when that command cannot fail."""
    for operator, segment in rest:
        if operator in (";", "&"):
            return None
        if operator == "||":
            if not segment:
                return None
            head = segment[0]
            if head in _SWALLOWERS:
                return head
            if head == "exit" and segment[1:2] == ["0"]:
                return "exit 0"
            return None
    return None


def _flags(ctx: Context, commands: list[ci.Command]) -> None:
    """``continue-on-error``, ``continueOnError`` and ``allow_failure`` on a step or a job
    whose commands run a check."""
    reported: set[int] = set()
    for command in commands:
        tools = [tool for tool, _ in _in_command(command.words())]
        if not tools:
            continue
        for depth, scope in enumerate(command.scopes):
            flag = ci.mapping_value(
                scope.node, "continue-on-error", "continueOnError", "allow_failure"
            )
            if not ci.is_true(flag) or id(scope.node) in reported:
                continue
            if ci.on_purpose(command.scopes[: depth + 1]):
                continue
            if "failTaskOnFailedTests: true" in ctx.text and "junit" in command.text.lower():
                continue  # the published results fail the run
            reported.add(id(scope.node))
            assert flag is not None
            key = _flag_key(scope.node)
            ctx.report_line(flag[1], tool=tools[0], how=f"`{key}: true`")


def _flag_key(node) -> str:
    for name in ("continue-on-error", "continueOnError", "allow_failure"):
        if ci.mapping_value(node, name) is not None:
            return name
    return "continue-on-error"
