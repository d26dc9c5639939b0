"""
What it does
------------
Flags a public module-level function in an importable package that no test file mentions, in a
repository that has tests. "Mentions" is generous on purpose: the function's name anywhere in a
test file (a call, an import, a string in a parametrisation) counts.

The rule is off by default: select it by its code (``select = ["DEBT", "DEBT310"]``). Only
plain functions are considered: decorated ones (CLI commands, routes, fixtures, registered
plugins) are usually exercised through their framework, and private ones (``_name``) through the
public code that calls them. In a pull request only the functions it adds or changes are flagged.

Why is this bad?
----------------
Feature code, preprocessing and evaluation helpers that nobody tests are where ML pipelines go
wrong quietly: an off-by-one in a window, a join that drops rows, a unit mix-up. The model still
trains and the metric still prints, so nothing fails. When the repository already has a test
suite, a new public function without a single test is a choice to defer that cost, and it is
cheapest to pay now, while the author still knows what the function should do.

Example
-------
.. code-block:: python

    # churn/features.py
    def tenure_years(frame):
        return frame["tenure_days"] / 365

    # tests/test_model.py mentions other functions, never tenure_years

Use instead
-----------
Add a small test with a hand-made frame, covering the edge you worry about:

.. code-block:: python

    # tests/test_features.py
    from churn.features import tenure_years

    def test_tenure_years_counts_leap_years():
        frame = pd.DataFrame({"tenure_days": [0, 365.25]})
        assert tenure_years(frame).tolist() == [0, 1]

References
----------
- The article's "cutting corners": untested code is tomorrow's problem.
- Sculley et al. (2014): ML code needs the same unit-test discipline as other code, and more.
- Breck et al., "The ML Test Score: A Rubric for ML Production Readiness" (2017).
"""

from __future__ import annotations

from rules import Example, Repository, RepositoryContext, Rule, definition_line

_TESTED = """
from churn.features import tenure_years

def test_tenure_years():
    assert tenure_years is not None
"""

RULE = Rule(
    code="DEBT310",
    name="untested-public-function",
    principle="cutting-corners",
    severity="info",
    # Off until its precision is measured: a function tested through its callers, or called by
    # a framework by name, is not mentioned by any test and would be flagged all the same.
    default_enabled=False,
    disabled_because="precision not measured yet",
    message="Add a test that exercises `{name}`: no test in the repository mentions it.",
    valid=(
        Example(
            "def tenure_years(frame):\n    return frame['tenure_days'] / 365.25\n",
            path="churn/features.py",
            files=("churn/__init__.py",),
            others=(("tests/test_features.py", _TESTED),),
        ),
        # Near miss: no tests at all in the repository; a missing suite is a different comment.
        Example(
            "def tenure_years(frame):\n    return frame['tenure_days'] / 365.25\n",
            path="churn/features.py",
            files=("churn/__init__.py",),
        ),
        # Near miss: private and decorated functions, and scripts outside any package.
        Example(
            "import click\n\n\n@click.command()\ndef train():\n    pass\n\n\n"
            "def _helper(frame):\n    return frame\n",
            path="churn/cli.py",
            files=("churn/__init__.py",),
            others=(("tests/test_other.py", "def test_nothing():\n    pass\n"),),
        ),
        Example(
            "def prepare(frame):\n    return frame.dropna()\n",
            path="scripts/prepare.py",
            others=(("tests/test_other.py", "def test_nothing():\n    pass\n"),),
        ),
    ),
    invalid=(
        Example(
            "import pandas as pd\n\n\ndef tenure_years(frame):\n    return frame['tenure_days'] / 365\n",
            path="churn/features.py",
            line=4,
            files=("churn/__init__.py",),
            others=(
                (
                    "tests/test_model.py",
                    "from churn.model import fit\n\n\ndef test_fit():\n    fit\n",
                ),
            ),
        ),
        Example(
            "async def fetch_batch(client, day):\n    return await client.get(day)\n",
            path="pipeline/io.py",
            line=1,
            files=("pipeline/__init__.py",),
            others=(("tests/test_io.py", "def test_other():\n    assert 'write_batch'\n"),),
        ),
    ),
)

_ENTRY_POINTS = frozenset({"main", "cli", "run", "app", "setup"})


def check_repository(repository: Repository, ctx: RepositoryContext) -> None:
    tests = repository.tests
    if not tests:
        return
    for facts in repository.facts.values():
        if facts.is_test or not repository.in_package(facts.path):
            continue
        if facts.path.rsplit("/", 1)[-1] in ("__main__.py", "setup.py", "conftest.py"):
            continue
        for function in facts.functions:
            name = function.name
            if name.startswith("_") or function.decorated or name in _ENTRY_POINTS:
                continue
            if any(test.mentions(name) for test in tests):
                continue
            ctx.report(facts.path, _line(ctx, facts.path, name), f"def {name}", name=name)


def _line(ctx: RepositoryContext, path: str, name: str) -> int:
    text = ctx.read(path)
    return definition_line(text, "def", name) or 1
