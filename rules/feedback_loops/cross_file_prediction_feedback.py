"""
What it does
------------
Looks across the repository for a file that makes predictions and writes them to a fixed location
(a path or table name written as a literal), while another file trains a model on data it reads
from that same location. The finding sits on the write.

The rule works from each file's summary: which locations it writes and reads with literals
(the same calls as DEBT601: pandas, polars, NumPy, JSON, pickle, joblib, ``torch.save``, files
opened with ``open``, SQL tables), and whether it calls ``predict``-like methods or ``fit``. A
model saved with ``torch.save``, ``joblib.dump`` or ``pickle.dump`` is not data, so saving one
where training loads it to resume is not a finding. It only fires when both sides name the
location the same way, so it is quiet when paths are built at run time. DEBT601 catches the same
loop inside one file, and judges it alone when the training file also predicts and writes the
location itself (two copies of one script, each caching its own results, are not a loop).

Why is this bad?
----------------
When a scoring job stores its output where the training job picks up its input, the next model
learns from the last model's guesses. Errors get confirmed instead of corrected, the feature
distribution drifts towards what the model already believes, and offline metrics look better and
better while the model gets worse. Because the two halves live in different scripts, nobody
reading either one sees the loop.

Example
-------
.. code-block:: python

    # jobs/score.py
    scored["churn"] = model.predict(features)
    scored.to_parquet("data/customers.parquet")

    # jobs/train.py
    customers = pd.read_parquet("data/customers.parquet")
    model.fit(customers[FEATURES], customers["churn"])

Use instead
-----------
Keep predictions apart from ground truth, and make the training set say where each label came
from:

.. code-block:: python

    # jobs/score.py
    scored.to_parquet("predictions/churn/2024-06-01.parquet")

    # jobs/train.py: labels come from observed outcomes only
    customers = pd.read_parquet("data/customers_observed.parquet")

References
----------
- Sculley et al. (2014), "Hidden feedback loops".
- Related: DEBT601 (the same loop within one file), DEBT602 (training on the model's own scores).
"""

from __future__ import annotations

import re

from rules import Example, FileFacts, Repository, RepositoryContext, Rule
from rules.ml.data_calls import normal_location
from rules.ml.estimators import PREDICT_METHODS

_TRAIN = """\
import pandas as pd
from sklearn.linear_model import LogisticRegression

customers = pd.read_parquet("data/customers.parquet")
LogisticRegression(max_iter=500).fit(customers[["tenure"]], customers["churn"])
"""

RULE = Rule(
    code="DEBT603",
    name="cross-file-prediction-feedback",
    principle="feedback-loops",
    severity="warning",
    message="Write these predictions somewhere training does not read: `{other}` fits a model on `{location}`.",
    valid=(
        # Near miss: the scores go to their own location.
        Example(
            "import pandas as pd\n\nscored['churn'] = model.predict(features)\n"
            "scored.to_parquet('predictions/churn.parquet')\n",
            path="jobs/score.py",
            others=(("jobs/train.py", _TRAIN),),
        ),
        # Near miss: the file writes where training reads, but it makes no predictions.
        Example(
            "import pandas as pd\n\nraw = pd.read_csv('exports/crm.csv')\n"
            "raw.to_parquet('data/customers.parquet')\n",
            path="jobs/ingest.py",
            others=(("jobs/train.py", _TRAIN),),
        ),
        # Near miss: the scoring job saves the model itself, which training loads to go on.
        Example(
            "import joblib\n\nscores = clf.predict_proba(X)\njoblib.dump(clf, 'models/clf.joblib')\n",
            path="jobs/score.py",
            others=(
                (
                    "jobs/train.py",
                    "import joblib\n\nclf = joblib.load('models/clf.joblib')\nclf.fit(X_new, y_new)\n",
                ),
            ),
        ),
    ),
    invalid=(
        Example(
            "import pandas as pd\n\nscored = features.copy()\nscored['churn'] = model.predict(features)\n"
            "scored.to_parquet('data/customers.parquet')\n",
            path="jobs/score.py",
            line=5,
            others=(("jobs/train.py", _TRAIN),),
        ),
        Example(
            "import numpy as np\n\nnp.save('cache/labels.npy', clf.predict_proba(X)[:, 1] > 0.5)\n",
            path="pipeline/label.py",
            line=3,
            others=(
                (
                    "pipeline/fit.py",
                    "import numpy as np\n\nlabels = np.load('cache/labels.npy')\nmodel.fit(X, labels)\n",
                ),
            ),
        ),
        Example(
            "import torch\n\nwith open('cache/labels.pt', 'wb') as f:\n"
            "    torch.save(model.predict(X), f)\n",
            path="pipeline/label.py",
            line=3,
            others=(
                (
                    "pipeline/fit.py",
                    "import torch\n\nlabels = torch.load('cache/labels.pt')\nmodel.fit(X, labels)\n",
                ),
            ),
        ),
    ),
)


def check_repository(repository: Repository, ctx: RepositoryContext) -> None:
    trainers = [f for f in repository.facts.values() if "fit" in f.names and f.reads]
    for facts in repository.facts.values():
        if facts.is_test or not facts.writes or not facts.names & PREDICT_METHODS:
            continue
        for location in sorted(facts.writes):
            other = next(
                (
                    t
                    for t in trainers
                    if t.path != facts.path and location in t.reads and not _whole(t, location)
                ),
                None,
            )
            if other is None or other.is_test:
                continue
            line = _line_of(ctx.read(facts.path), location)
            shown = location.removeprefix("table:")
            ctx.report(facts.path, line, f"write {shown}", other=other.path, location=shown)


def _whole(facts: FileFacts, location: str) -> bool:
    """Whether a training file also predicts and writes the location itself: the whole loop is
    then inside that file, where DEBT601 follows the values and knows whether predictions
    reach the fit (two copies of one script, each writing and re-reading its own cache, are
    not a loop between them)."""
    return location in facts.writes and bool(facts.names & PREDICT_METHODS)


_QUOTED = re.compile(r"""(['"])([^'"\n]*)\1""")


def _line_of(text: str, location: str) -> int:
    """The line of the first literal naming ``location`` (a table: a literal mentioning it)."""
    table = location.removeprefix("table:") if location.startswith("table:") else None
    name = location.rsplit("/", 1)[-1]
    for wanted in ("whole", "name"):
        for match in _QUOTED.finditer(text):
            literal = match.group(2)
            if table is not None:
                found = re.search(rf"(?i)\b{re.escape(table)}\b", literal) is not None
            elif wanted == "whole":
                found = bool(literal) and normal_location(literal) == location
            else:  # a path built from parts: the literal of its last part
                found = literal == name
            if found:
                return text.count("\n", 0, match.start()) + 1
    return 1
