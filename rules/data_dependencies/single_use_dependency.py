"""
What it does
------------
Off by default: select it by its code (``select = ["DEBT", "DEBT704"]``).
Judges a pull request that adds a package to a ``requirements*.txt`` file: when exactly one
non-test module of the repository imports that package, and uses what it imported only once,
the new dependency buys a single call. The finding sits on the added requirement line. Like
other change rules it runs in ``debtbot diff`` and pull-request reviews only.

The package's import name is guessed from its distribution name (``scikit-learn`` is
``sklearn``, ``PyYAML`` is ``yaml``, ``python-dateutil`` is ``dateutil``...); packages whose
import name cannot be guessed are left alone.

Why is this bad?
----------------
Every dependency is a moving part: it must be installed, pinned, upgraded, audited and kept
compatible with the rest of the environment, on every machine that trains or serves the model.
For one call, a few lines of our own code (or the standard library) are usually cheaper over
the life of the project than one more package whose release cycle we do not control.

Example
-------
.. code-block:: text

    # requirements.txt, in the pull request
    humanize==4.9.0

.. code-block:: python

    # churn/report.py: the only use
    import humanize
    print("rows:", humanize.intcomma(len(frame)))

Use instead
-----------
.. code-block:: python

    print(f"rows: {len(frame):,}")

References
----------
- Sculley et al. (2014), "The cost of data dependencies": underutilised dependencies.
- The article's section on data dependencies: low-value libraries add inertia.
"""

from __future__ import annotations

import re

from packaging.requirements import InvalidRequirement, Requirement

from rules import Change, Example, RepositoryContext, Rule

_REPORT = "import humanize\n\n\ndef rows(frame):\n    return humanize.intcomma(len(frame))\n"

RULE = Rule(
    code="DEBT704",
    name="single-use-dependency",
    principle="data-dependencies",
    severity="info",
    message="Reconsider the new dependency `{package}`: `{path}` is the only code that uses it, once.",
    files=("requirements*.txt",),
    # Off until it can tell a pin kept for compatibility (Werkzeug beside Flask) or a
    # conventional helper (python-dotenv, tqdm) from a real one-call dependency: 0 of 6 right
    # on replayed commits.
    default_enabled=False,
    disabled_because="0 of 6 findings right on replayed commits",
    valid=(
        # Near miss: the package is used throughout.
        Example(
            "humanize==4.9.0\n",
            path="requirements.txt",
            others=(
                (
                    "churn/report.py",
                    _REPORT + "\n\ndef size(n):\n    return humanize.naturalsize(n)\n",
                ),
            ),
        ),
        # Near miss: two modules rely on it.
        Example(
            "humanize==4.9.0\n",
            path="requirements.txt",
            others=(("churn/report.py", _REPORT), ("churn/cli.py", _REPORT)),
        ),
        # Near miss: only tests use it.
        Example(
            "freezegun==1.4.0\n",
            path="requirements.txt",
            others=(("tests/test_dates.py", "import freezegun\n\nfreezegun.freeze_time\n"),),
        ),
    ),
    invalid=(
        Example(
            "pandas==2.2.2\nhumanize==4.9.0\n",
            path="requirements.txt",
            line=1,
            others=(
                ("churn/report.py", _REPORT),
                ("churn/data.py", "import pandas as pd\n\nframe = pd.read_csv('a.csv')\n"),
            ),
        ),
        Example(
            "python-dateutil>=2.8\n",
            path="requirements.txt",
            line=1,
            others=(
                (
                    "etl/dates.py",
                    "from dateutil import parser\n\nSTART = parser.parse('2024-01-01')\n",
                ),
            ),
        ),
    ),
)

_IMPORT_NAMES = {
    "scikit-learn": "sklearn", "pyyaml": "yaml", "python-dateutil": "dateutil",
    "pillow": "PIL", "opencv-python": "cv2", "opencv-python-headless": "cv2",
    "beautifulsoup4": "bs4", "protobuf": "google", "python-dotenv": "dotenv",
    "attrs": "attr", "pytorch-lightning": "pytorch_lightning", "tensorflow-cpu": "tensorflow",
}  # fmt: skip
_OPTION = re.compile(r"^\s*(-|#|$)")


def check_change(change: Change, ctx: RepositoryContext) -> None:
    repository = change.repository
    for path, lines in sorted(change.added.items()):
        name = path.rsplit("/", 1)[-1]
        if not (name.startswith("requirements") and name.endswith(".txt")):
            continue
        text = ctx.read(path).splitlines()
        for number in sorted(lines):
            package = _package(text[number - 1]) if 0 < number <= len(text) else None
            if package is None:
                continue
            module = _IMPORT_NAMES.get(package.lower(), package.lower().replace("-", "_"))
            users = [f for f in repository.importers(module) if not f.is_test]
            if len(users) == 1 and _uses(ctx.read(users[0].path), users[0], module) == 1:
                ctx.report(
                    path, number, text[number - 1].strip(), package=package, path=users[0].path
                )


def _package(line: str) -> str | None:
    if _OPTION.match(line):
        return None
    try:
        return Requirement(line.split(" #", 1)[0].strip()).name
    except InvalidRequirement:
        return None


def _uses(text: str, facts, module: str) -> int:
    """How often the names bound to ``module`` appear beyond their import lines."""
    bound = [name for name, root in facts.imports if root == module]
    code = [line for line in text.splitlines() if not re.match(r"\s*(from|import)\s", line)]
    pattern = re.compile(r"\b(" + "|".join(map(re.escape, bound)) + r")\b") if bound else None
    return sum(len(pattern.findall(line)) for line in code) if pattern else 0
