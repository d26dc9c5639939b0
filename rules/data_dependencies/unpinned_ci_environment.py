"""
What it does
------------
Flags a CI definition (GitHub Actions, Azure Pipelines and their templates, GitLab CI) that
builds the environment it tests or deploys from targets that move:

- ``pip install`` (also ``python -m pip``, ``uv pip``) or ``conda install`` of packages with no
  version, such as ``pip install flytekit flytekitplugins-deck-standard``;
- a container image tagged ``latest`` or ``*-latest``, or with no tag at all, under ``image:``,
  ``container:`` or ``services:``, or run with ``docker run``, ``docker pull`` or ``--image``;
- a download of ``releases/latest``.

Installing the project's own requirements (``pip install -r requirements.txt``, ``pip install
-e .``, a constraints file), versioned or ranged installs (``torch==2.3.1``, ``"numpy<2"``),
local wheels and paths, and values from variables (``$TORCH``, ``${{ matrix.torch }}``) are
left alone. So are the tools of the build itself, whose version does not reach what is tested or
shipped: linters, formatters, test runners, coverage uploaders, packaging and publishing tools,
documentation builders, notebook runners and cloud command lines. Runner labels such as
``runs-on: ubuntu-latest`` and ``vmImage: ubuntu-latest`` are the CI service's machines, not
the environment the project builds, and images the pipeline builds and pushes as ``latest`` are
its output. So are jobs and steps that say they try the newest releases on purpose
(``nightly``, ``bleeding edge``, ``upstream``...). In a review only the lines the change adds
are judged.

Why is this bad?
----------------
The tests pass against whatever was newest on the day they ran, and the deployed service runs
on whatever was newest on the day it was built. The same commit can go green on Monday and red
on Tuesday with no change in the project, a model evaluated in CI can be served on another
version of its libraries, and nobody can rebuild the environment a past run used to find out
why its numbers differ.

Example
-------
.. code-block:: yaml

    - name: Install dependencies
      run: pip install flytekit flytekitplugins-deck-standard
    - name: Register workflows
      run: pyflyte register --image cr.flyte.org/flyteorg/flytekit:py3.11-latest workflows/

Use instead
-----------
Install what the project pins, and name images by a version or a digest:

.. code-block:: yaml

    - name: Install dependencies
      run: pip install -r requirements.txt   # flytekit==1.9.1, flytekitplugins-deck-standard==1.9.1
    - name: Register workflows
      run: pyflyte register --image cr.flyte.org/flyteorg/flytekit:py3.11-1.9.1 workflows/

References
----------
- pip documentation: repeatable installs, requirement specifiers, constraints files
- Docker documentation: image tags and digests (``image@sha256:...``)
- Sculley et al., "Hidden Technical Debt in Machine Learning Systems": unstable data dependencies
"""

from __future__ import annotations

import re

import yaml

from rules import Context, Example, Rule
from rules.ml import ci
from rules.ml.files import ci_definition

RULE = Rule(
    code="DEBT711",
    name="unpinned-ci-environment",
    principle="data-dependencies",
    severity="warning",
    # Off by default: on the tuning data most of its findings were libraries (pytorch/examples,
    # skorch, ignite, cleanlab) whose CI tests against the newest releases of their
    # dependencies on purpose, which a reviewer would not call debt.
    default_enabled=False,
    disabled_because="about 12 of 61 findings right on tuning data (8 repositories): libraries test against new releases on purpose",
    message="Pin {what} so that CI rebuilds the environment that was reviewed, not whatever `latest` is the day it runs.",
    files=("*.yml", "*.yaml"),
    valid=(
        Example(
            """\
on: [push]
jobs:
  test:
    runs-on: ubuntu-latest
    container: python:3.11-slim
    steps:
      - uses: actions/checkout@v4
      - run: |
          python -m pip install --upgrade pip setuptools wheel
          pip install -r requirements.txt -c constraints.txt
          pip install -e ".[dev]"
          pip install "torch==2.3.1" "numpy<2" flake8 pytest pytest-cov codecov
          pip install torch==${{ matrix.torch }} $EXTRA_PACKAGES
      - run: pytest
""",
            path=".github/workflows/test.yml",
        ),
        # Near miss: the pipeline builds and pushes `latest`; the runner is the service's.
        Example(
            """\
pool:
  vmImage: ubuntu-latest
steps:
- script: |
    docker build -t myregistry.azurecr.io/scoring:latest .
    docker push myregistry.azurecr.io/scoring:latest
  displayName: Build the scoring image
""",
            path="azure-pipelines.yml",
        ),
        # Near miss: an image by digest, and by version.
        Example(
            """\
image: python@sha256:4c2cf9917bd1cbacc5e9b07320025bdb7cdf2df7b0ceaccb55e9dd7e30987419
test:
  services:
    - postgres:16.2
  script:
    - pip install -r requirements.txt
    - pytest
""",
            path=".gitlab-ci.yml",
        ),
        # Near miss: not a CI definition.
        Example("image: flytekit:latest\n", path="configs/serving.yaml"),
    ),
    invalid=(
        Example(
            """\
on: [push]
jobs:
  e2e:
    runs-on: ubuntu-latest
    steps:
      - name: Install dependencies
        run: |
          python -m pip install --upgrade pip
          pip install flytekit flytekitplugins-deck-standard
""",
            path=".github/workflows/checks.yml",
            line=9,
        ),
        Example(
            """\
train:
  image: pytorch/pytorch:latest
  script:
    - pip install -r requirements.txt
    - python train.py
""",
            path=".gitlab-ci.yml",
            line=2,
        ),
        Example(
            """\
steps:
- script: |
    VERSION=$(curl -s https://api.github.com/repos/org/model-server/releases/latest | jq -r .tag_name)
    pyflyte register --image cr.flyte.org/flyteorg/flytekit:py3.11-latest workflows/
  displayName: Register
""",
            path="azure-pipelines.yml",
            line=3,
        ),
    ),
)

# Tools of the build, whose version does not reach what is tested or shipped.
_TOOLS = frozenset(
    {
        # packaging and publishing
        "pip", "setuptools", "wheel", "build", "twine", "cibuildwheel", "setuptools-scm",
        "poetry", "pipenv", "pip-tools", "uv", "hatch", "hatchling", "pdm", "flit", "virtualenv",
        "pipx", "bump2version", "bumpversion", "check-manifest", "auditwheel", "delocate",
        "scikit-build", "ninja", "cmake", "cython", "pybind11", "tox", "nox", "conda-build",
        "conda-lock", "anaconda-client", "mamba",
        # linters, formatters, type checkers
        "flake8", "pylint", "mypy", "pyright", "ruff", "black", "isort", "yapf", "autopep8",
        "pycodestyle", "pydocstyle", "pyflakes", "bandit", "codespell", "interrogate",
        "pre-commit", "nbqa", "darglint", "docformatter", "pylint-junit", "safety", "pip-audit",
        # tests and coverage
        "pytest", "coverage", "codecov", "coveralls", "hypothesis", "mock", "parameterized",
        "nbmake", "nbval", "junit-xml", "unittest-xml-reporting",
        # documentation
        "sphinx", "mkdocs", "myst-parser", "myst-nb", "nbsphinx", "furo", "pydata-sphinx-theme",
        "jupyter-book", "recommonmark", "docutils", "pdoc", "ghp-import", "mike",
        # notebooks and their runners
        "jupyter", "jupyterlab", "notebook", "nbconvert", "nbformat", "nbclient", "ipykernel",
        "papermill", "nbstripout",
        # cloud and CI command lines
        "awscli", "awscliv2", "aws-sam-cli", "pipdeptree", "pkginfo", "azure-cli", "yq", "jq", "gdown", "requests", "pyyaml", "toml",
        "tomli", "packaging", "gitpython", "semver", "wget", "dvc", "ansible", "cookiecutter",
    }
)  # fmt: skip
_TOOL_PREFIXES = ("pytest-", "flake8-", "types-", "mypy-", "sphinx-", "sphinxcontrib-",
                  "mkdocs-", "pylint-", "jupyterlab-", "dvc-", "coverage-")  # fmt: skip
_PIP_OPTIONS_WITH_VALUE = frozenset(
    {
        "-i", "--index-url", "--extra-index-url", "-f", "--find-links", "-t", "--target",
        "--prefix", "--root", "--trusted-host", "--cache-dir", "--src", "--platform",
        "--python-version", "--implementation", "--abi", "--progress-bar",
        "--upgrade-strategy", "--log", "--proxy", "--timeout", "--retries", "--config-settings",
        "-C", "--report", "--global-option", "--install-option", "-n", "--name", "-p",
        "-c", "--channel", "--python",
    }
)  # fmt: skip
_PINS = frozenset({"-r", "--requirement", "-c", "--constraint", "-e", "--editable", "--file",
                   "--no-deps", "--requirements"})  # fmt: skip
_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]*(\[[\w,.-]+\])?$")
_MOVING_TAG = re.compile(r"^(latest|[\w.]+-latest|latest-[\w.]+)$", re.IGNORECASE)
_IMAGE = re.compile(r"^[\w.-]+(:\d+)?(/[\w.-]+)*(:[\w.-]+)?(@sha256:[0-9a-f]+)?$")
_IMAGE_KEYS = frozenset({"image", "container"})
_PRODUCING = frozenset({"build", "push", "tag", "buildx", "save", "login", "image", "manifest"})


def check(ctx: Context) -> None:
    documents = ctx.yaml_documents()
    if not documents or not ci_definition(ctx.path, ctx.text, documents, ctx.files):
        return
    for command in ci.commands(documents):
        if ci.on_purpose(command.scopes):
            continue  # a job that tries the newest releases on purpose
        for what in _in_command(command.words()):
            ctx.report_line(command.line, end_line=command.end_line, what=what)
    # A set: an anchor merged into several jobs is one line of the file.
    images = {found for document in documents for found in _images(document)}
    for line, image in sorted(images):
        ctx.report_line(line, what=_image_what(image))


def _in_command(words: list[str]) -> list[str]:
    found: list[str] = []
    for _, segment in ci.segments(words):
        run = ci.program(segment)
        packages = _unpinned_installs(run)
        if packages:
            names = [f"`{name}`" for name in packages]
            listed = names[0] if len(names) == 1 else ", ".join(names[:-1]) + " and " + names[-1]
            found.append(f"{listed} to {'a version' if len(names) == 1 else 'versions'}")
        image = _run_image(run)
        if image is not None:
            found.append(_image_what(image))
    if any("releases/latest" in word for word in words):
        found.append("the release this downloads (`releases/latest`) to a tag")
    return found


def _unpinned_installs(run: list[str]) -> list[str]:
    """The packages a ``pip install`` or ``conda install`` names without a version, tools of
    the build aside. Nothing when the command installs from a requirements or constraints
    file: the versions are there."""
    if len(run) < 2:
        return []
    name = run[0].lower()
    if name in ("pip", "pip3") and run[1] == "install":
        arguments = run[2:]
    elif name == "uv" and run[1:3] == ["pip", "install"]:
        arguments = run[3:]
    elif name in ("conda", "mamba", "micromamba") and run[1] == "install":
        arguments = run[2:]
    else:
        return []
    packages: list[str] = []
    index = 0
    while index < len(arguments):
        argument = arguments[index]
        if argument in _PINS or argument.startswith(("--requirement=", "--constraint=")):
            return []
        if re.match(r"^-[a-zA-Z]*[rce]$", argument):
            return []  # short options run together: -qr requirements.txt, -Ue .
        if argument in _PIP_OPTIONS_WITH_VALUE:
            index += 2
            continue
        index += 1
        if argument.startswith("-") or not _NAME.match(argument):
            continue  # options, specifiers, paths, URLs, wheels and variables
        package = argument.split("[", 1)[0]
        if not _tool(package) and not argument.endswith((".whl", ".zip", ".tar.gz")):
            packages.append(package)
    return packages


def _tool(package: str) -> bool:
    name = package.lower().replace("_", "-")
    return name in _TOOLS or name.startswith(_TOOL_PREFIXES)


def _run_image(run: list[str]) -> str | None:
    """The image a command runs or pulls (``docker run``, ``docker pull``, ``--image``) when
    its tag moves."""
    if not run:
        return None
    if run[0] in ("docker", "podman") and len(run) > 1 and run[1] in _PRODUCING:
        return None
    for index, word in enumerate(run):
        value = None
        if word == "--image" and index + 1 < len(run):
            value = run[index + 1]
        elif word.startswith("--image="):
            value = word.split("=", 1)[1]
        elif run[0] in ("docker", "podman") and index >= 2 and run[1] in ("run", "pull"):
            value = word  # an image among the options: only a moving tag is told
        if value is not None and _moving(value, untagged=False):
            return value
    return None


def _images(node: yaml.Node) -> list[tuple[int, str]]:
    """Images under ``image:``, ``container:`` and ``services:`` whose tag moves."""
    found: list[tuple[int, str]] = []
    pending = [node]
    while pending:
        current = pending.pop()
        if isinstance(current, yaml.SequenceNode):
            pending.extend(current.value)
            continue
        if not isinstance(current, yaml.MappingNode):
            continue
        for key, value in current.value:
            name = key.value if isinstance(key, yaml.ScalarNode) else None
            if name in _IMAGE_KEYS and isinstance(value, yaml.ScalarNode):
                if _moving(str(value.value), untagged=True):
                    found.append((value.start_mark.line + 1, str(value.value)))
                continue
            if name == "services" and isinstance(value, yaml.SequenceNode):
                for item in value.value:
                    if isinstance(item, yaml.ScalarNode) and _moving(str(item.value), False):
                        found.append((item.start_mark.line + 1, str(item.value)))
            pending.append(value)
    return sorted(found)


def _moving(image: str, untagged: bool) -> bool:
    image = image.strip()
    if not image or "$" in image or "{" in image or "@sha256:" in image:
        return False
    if not _IMAGE.match(image):
        return False
    last = image.rsplit("/", 1)[-1]
    if ":" not in last:
        return untagged
    return bool(_MOVING_TAG.match(last.rsplit(":", 1)[1]))


def _image_what(image: str) -> str:
    return f"the image `{image}` to a version tag or a digest"
