"""
What it does
------------
Flags a line of a ``requirements*.txt`` file that names a package with no version specifier at
all, such as ``pandas``, ``torch[cpu]`` or ``numpy; python_version >= "3.10"`` (a marker
restricts where the package is installed, not which version).

Comments, blank lines, pip options (``-r base.txt``, ``-e .``, ``--index-url ...``), URLs,
VCS references (``git+https://...``), direct references (``pkg @ https://...``) and local paths
are not flagged. A file that applies a constraints file (``-c constraints.txt``) is not flagged
at all, since the versions are pinned there, nor are the requirements of a documentation build
(``docs/requirements.txt``), which never reach a model.

Why is this bad?
----------------
An unpinned requirement installs whatever version is newest on the day the environment is
built. A model trained last month and the service that loads it today can then run on
different versions of pandas, scikit-learn or torch: preprocessing changes behaviour, pickled
models fail to load, and numbers stop being reproducible without a single line of the project
changing.

Example
-------
.. code-block:: text

    pandas
    scikit-learn
    torch[cpu]

Use instead
-----------
Pin exact versions for applications and training images (ideally with a lock file such as
``pip-compile`` output), or at least a compatible range:

.. code-block:: text

    pandas==2.2.2
    scikit-learn~=1.5.0
    torch[cpu]>=2.3,<2.4

References
----------
- pip documentation: requirements file format, repeatable installs
- dslinter / mllint ``dependencies`` checks (version pinning of requirements)
- Sculley et al., "Hidden Technical Debt in Machine Learning Systems": unstable data dependencies
"""

from __future__ import annotations

import re

from packaging.requirements import InvalidRequirement, Requirement

from rules.rule import Example, Rule

RULE = Rule(
    code="DEBT703",
    name="unpinned-requirement",
    principle="data-dependencies",
    severity="warning",
    message="Pin `{name}` to a version (`{name}==<version>` or a range) so the environment can be rebuilt the same way.",
    files=("requirements*.txt",),
    valid=(
        """
pandas>=2.0
numpy~=1.26
scikit-learn==1.5.0  # pinned for the saved pipelines
""",
        # Near miss: options, includes and references are not requirements.
        """
-r base.txt
--index-url https://download.pytorch.org/whl/cpu
-e .
git+https://github.com/org/feature-store.git@v1.2#egg=feature-store
./libs/tokenizer
""",
        # Near miss: a version pinned in the requirement, with a marker after it.
        """
numpy>=1.26; python_version >= "3.12"
torch[cpu]==2.3.1 ; sys_platform == "linux"
""",
        # Near miss: versions come from a constraints file.
        """
-c constraints.txt
pandas
scikit-learn
""",
        # Near miss: the documentation build's requirements.
        Example("sphinx\nsphinx_rtd_theme\n", path="docs/requirements.txt"),
        Example(
            """
tokenizer @ https://example.org/wheels/tokenizer-1.0-py3-none-any.whl
black>=24 \\
    --hash=sha256:0123456789abcdef
""",
            path="requirements-dev.txt",
        ),
    ),
    invalid=(
        Example(
            """
# training
pandas>=2.0
scikit-learn
""",
            line=3,
            path="requirements.txt",
        ),
        Example("torch[cpu]\n", line=1, path="requirements.txt"),
        Example(
            """
numpy>=1.26
xgboost; sys_platform != "darwin"
""",
            line=2,
            path="requirements-gpu.txt",
        ),
    ),
)

_COMMENT = re.compile(r"(^|\s)#.*$")
_OPTION_TAIL = re.compile(r"\s+--?[a-zA-Z].*$")
_DOCS = re.compile(r"(^|/)docs?/")
_CONSTRAINT = re.compile(r"^(-c|--constraint)(\s|=|$)")


def _logical_lines(lines: list[str]):
    """Lines joined across trailing backslashes, with the line number each one starts on."""
    start, parts = 0, []
    for number, raw in enumerate(lines, start=1):
        if not parts:
            start = number
        if raw.rstrip().endswith("\\"):
            parts.append(raw.rstrip()[:-1])
            continue
        parts.append(raw)
        yield start, number, " ".join(parts)
        parts = []
    if parts:
        yield start, len(lines), " ".join(parts)


def _requirement(text: str) -> Requirement | None:
    text = _COMMENT.sub("", text).strip()
    if not text or text.startswith(("-", ".", "/", "~")) or "://" in text:
        return None
    text = _OPTION_TAIL.sub("", text).strip()
    try:
        return Requirement(text)
    except InvalidRequirement:
        return None


def check(ctx) -> None:
    if _DOCS.search(ctx.path):
        return
    found = []
    for start, end, text in _logical_lines(ctx.lines):
        stripped = _COMMENT.sub("", text).strip()
        if _CONSTRAINT.match(stripped):
            return
        requirement = _requirement(text)
        if requirement is None or requirement.url or requirement.specifier:
            continue
        found.append((start, end, requirement.name))
    for start, end, name in found:
        ctx.report_line(start, end_line=end, name=name)
