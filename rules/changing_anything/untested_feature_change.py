"""
What it does
------------
Off by default: select it by its code (``select = ["DEBT", "DEBT505"]``).
Judges a pull request as a whole: it flags a change to feature or preprocessing code (a module
whose path says features, preprocessing, transforms, pipeline, dataset, encoding, cleaning...)
that adds at least ``min-lines`` lines of code while the same change touches no test and no
evaluation code. Only repositories that have tests are judged, and only where there is a change
(``debtbot diff`` and pull-request reviews); the finding sits on the first added line.

Option: ``min-lines`` (default 5), the added code lines (blank and comment lines not counted)
below which a change is too small to ask for a test.

Why is this bad?
----------------
A change to how features are computed changes every prediction downstream, but nothing fails when
it is wrong: the model trains on the shifted features and its metric moves a little. A test of the
transformation, or a re-run of the evaluation in the same change, is what tells the reviewer
whether the shift was intended. Without either, the review can only read the code and hope.

Example
-------
.. code-block:: python

    # churn/features.py, changed in the pull request
    def add_tenure(frame):
        frame = frame.copy()
        frame["tenure_years"] = frame["tenure_days"] / 365.25
        frame["long_tenure"] = frame["tenure_years"] > 3
        return frame
    # ... and no file under tests/ or evaluation/ changed

Use instead
-----------
Change the test with the code, so the new behaviour is pinned down:

.. code-block:: python

    # tests/test_features.py, in the same pull request
    def test_long_tenure_starts_after_three_years():
        frame = add_tenure(pd.DataFrame({"tenure_days": [365 * 3, 365 * 4]}))
        assert frame["long_tenure"].tolist() == [False, True]

References
----------
- Sculley et al. (2014), "changing anything changes everything": every input change needs
  end-to-end re-evaluation.
- Breck et al., "The ML Test Score" (2017): feature code is tested like any other code.
"""

from __future__ import annotations

import re

from rules import Change, Example, RepositoryContext, Rule

_FEATURE_CODE = """\
def add_tenure(frame):
    frame = frame.copy()
    frame["tenure_years"] = frame["tenure_days"] / 365.25
    frame["long_tenure"] = frame["tenure_years"] > 3
    return frame
"""
_TEST = "from churn.features import add_tenure\n\n\ndef test_add_tenure():\n    add_tenure\n"

RULE = Rule(
    code="DEBT505",
    name="untested-feature-change",
    principle="changing-anything",
    severity="info",
    message="Update a test or the evaluation with this change to `{path}`: feature code changed and no test or evaluation code did.",
    options={"min-lines": 5},
    # Off until it knows feature code from folders merely named "pipeline", and demos and
    # homework from code that tests should cover: 2 of 14 findings were right on real commits.
    default_enabled=False,
    disabled_because="2 of 14 findings right on replayed commits",
    valid=(
        # Near miss: the change updates the test as well.
        Example(
            _FEATURE_CODE,
            path="churn/features.py",
            others=(("tests/test_features.py", _TEST),),
            changed=("tests/test_features.py",),
        ),
        # Near miss: the change is to code that is not feature code.
        Example(
            _FEATURE_CODE,
            path="churn/plots.py",
            others=(("tests/test_features.py", _TEST),),
        ),
        # Near miss: a repository without tests at all gets no such comment.
        Example(_FEATURE_CODE, path="churn/features.py"),
        # Near miss: too small a change to ask for a test.
        Example(
            "def add_tenure(frame):\n    return frame  # unchanged behaviour\n",
            path="churn/features.py",
            others=(("tests/test_features.py", _TEST),),
        ),
    ),
    invalid=(
        Example(
            _FEATURE_CODE,
            path="churn/features.py",
            line=1,
            others=(("tests/test_features.py", _TEST),),
        ),
        Example(
            "import numpy as np\n\n\ndef scale(x):\n    mean = x.mean()\n    std = x.std()\n"
            "    scaled = (x - mean) / std\n    return np.clip(scaled, -5, 5)\n",
            path="src/preprocessing/scaling.py",
            line=1,
            others=(("tests/test_io.py", "def test_io():\n    pass\n"),),
        ),
    ),
)

_FEATURE_PATH = re.compile(
    r"feature|preprocess|transform|pipeline|dataset|etl|clean|encod|imput|embedding", re.IGNORECASE
)
_CHECKING_PATH = re.compile(r"test|eval|metric|validat|benchmark|score", re.IGNORECASE)


def check_change(change: Change, ctx: RepositoryContext) -> None:
    if not change.repository.tests:
        return
    if any(_CHECKING_PATH.search(path) for path in change.added):
        return
    for path in sorted(change.added):
        if not path.endswith(".py") or not _FEATURE_PATH.search(path):
            continue
        lines = _added_code_lines(ctx.read(path), change.added[path])
        if len(lines) >= int(ctx.options["min-lines"]):
            ctx.report(path, lines[0], f"feature change {path}", path=path)
            return


def _added_code_lines(text: str, added: frozenset[int]) -> list[int]:
    source = text.splitlines()
    return [
        number
        for number in sorted(added)
        if 0 < number <= len(source)
        and source[number - 1].strip()
        and not source[number - 1].lstrip().startswith("#")
    ]
