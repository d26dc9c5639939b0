"""
What it does
------------
Flags a model constructed with no argument at all, ``RandomForestClassifier()``,
``XGBClassifier()``, ``KMeans()``, when the class is one whose defaults decide how the model
behaves (tree ensembles and gradient boosting, SVMs, regularised linear models, nearest
neighbours, neural networks, clustering, t-SNE) and has changed them across library versions
or chooses them for you. The class is resolved through the imports (scikit-learn, XGBoost,
LightGBM, CatBoost).

Not reported: estimators with few or no hyperparameters worth pinning (``LinearRegression()``,
``GaussianNB()``), any call that passes an argument (even ``**params`` or only
``random_state``), test files and files under ``examples/``, ``docs/`` or ``tutorials/``, an
estimator passed straight to a search (``GridSearchCV(SVC(), grid)``), and files that tune
hyperparameters (they use a ``*SearchCV``, Optuna, Hyperopt or ``set_params``).

Why is this bad?
----------------
The defaults are part of the model, but they are not in the code: they live in whichever
library version happens to be installed. scikit-learn has changed several of them
(``n_estimators`` of random forests from 10 to 100, the ``LogisticRegression`` solver from
``liblinear`` to ``lbfgs``, ``KMeans(n_init=...)`` from 10 to ``"auto"``, t-SNE's ``init`` and
``learning_rate``), and XGBoost and LightGBM change theirs between major versions. After an
upgrade the same code trains a different model, and nobody reading the training code can tell
which settings the production model was trained with, or whether they were ever chosen.

Example
-------
.. code-block:: python

    from sklearn.ensemble import RandomForestClassifier

    model = RandomForestClassifier()

Use instead
-----------
State the settings the model was validated with:

.. code-block:: python

    model = RandomForestClassifier(
        n_estimators=300, max_depth=12, min_samples_leaf=5, random_state=0
    )

References
----------
- SonarQube ``S6973``: important hyperparameters should be specified for scikit-learn
  estimators and optimizers
- dslinter ``hyperparameters-scikitlearn``
- Zhang et al., "Code Smells for Machine Learning Applications": Hyperparameter not Explicitly
  Set
- scikit-learn release notes (0.22: ``n_estimators`` 10 to 100, ``solver="lbfgs"``; 1.4:
  ``KMeans(n_init="auto")``)
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import libcst as cst

from rules import Context, Example, Rule

RULE = Rule(
    code="DEBT1103",
    name="default-hyperparameters",
    principle="external-world",
    severity="info",
    # Off by default since the blind judgement of held-out repositories (benchmarks/precision.md,
    # issue 11): a rule must be right at least 80% of the time on code it was not tuned on.
    default_enabled=False,
    disabled_because="0 of 1 finding judged right on held-out repositories (issue 11), below 80%",
    message="Set the important hyperparameters of `{estimator}()` explicitly instead of relying on defaults that change between library versions.",
    valid=(
        """
from sklearn.ensemble import RandomForestClassifier

model = RandomForestClassifier(n_estimators=300, max_depth=12, random_state=0)
""",
        # Near miss: hyperparameters come from a config.
        """
from xgboost import XGBClassifier

model = XGBClassifier(**cfg.model.params)
""",
        # Near miss: few hyperparameters worth pinning.
        """
from sklearn.linear_model import LinearRegression
from sklearn.naive_bayes import GaussianNB

baseline = LinearRegression()
nb = GaussianNB()
""",
        # Near miss: the search sets the hyperparameters.
        """
from sklearn.model_selection import GridSearchCV
from sklearn.svm import SVC

search = GridSearchCV(SVC(), {"C": [0.1, 1, 10]}, cv=5)
""",
        Example(
            "from sklearn.svm import SVC\n\ndef test_fit():\n    SVC().fit(X, y)\n",
            path="tests/test_model.py",
        ),
        Example(
            "from sklearn.cluster import KMeans\n\nkm = KMeans()\n",
            path="examples/plot_kmeans.py",
        ),
        # Near miss: an instance built only to compare types.
        """
from sklearn.tree import DecisionTreeRegressor

assert type(model) == type(DecisionTreeRegressor())
""",
        # Near miss: an unrelated class with the same name.
        "class RandomForestClassifier:\n    pass\n\nmodel = RandomForestClassifier()\n",
    ),
    invalid=(
        Example(
            """
from sklearn.ensemble import RandomForestClassifier

model = RandomForestClassifier()
model.fit(X_train, y_train)
""",
            line=3,
        ),
        Example(
            """
import lightgbm as lgb
import xgboost

def build(kind):
    if kind == "xgb":
        return xgboost.XGBRegressor()
    return lgb.LGBMRegressor()
""",
            line=6,
        ),
        "from sklearn import cluster\nlabels = cluster.KMeans().fit_predict(X)",
    ),
)

_SKLEARN = frozenset(
    {
        "RandomForestClassifier", "RandomForestRegressor", "ExtraTreesClassifier",
        "ExtraTreesRegressor", "GradientBoostingClassifier", "GradientBoostingRegressor",
        "HistGradientBoostingClassifier", "HistGradientBoostingRegressor", "AdaBoostClassifier",
        "AdaBoostRegressor", "BaggingClassifier", "BaggingRegressor", "IsolationForest",
        "DecisionTreeClassifier", "DecisionTreeRegressor", "SVC", "SVR", "NuSVC", "NuSVR",
        "LinearSVC", "LinearSVR", "OneClassSVM", "LogisticRegression", "SGDClassifier",
        "SGDRegressor", "Ridge", "RidgeClassifier", "Lasso", "ElasticNet",
        "KNeighborsClassifier", "KNeighborsRegressor", "MLPClassifier", "MLPRegressor",
        "KMeans", "MiniBatchKMeans", "DBSCAN", "HDBSCAN", "AgglomerativeClustering",
        "SpectralClustering", "GaussianMixture", "TSNE", "LocalOutlierFactor",
    }
)  # fmt: skip
_BOOSTERS = {
    "xgboost": frozenset(
        {"XGBClassifier", "XGBRegressor", "XGBRanker", "XGBRFClassifier", "XGBRFRegressor"}
    ),
    "lightgbm": frozenset({"LGBMClassifier", "LGBMRegressor", "LGBMRanker"}),
    "catboost": frozenset({"CatBoostClassifier", "CatBoostRegressor", "CatBoostRanker"}),
}
_SEARCHES = re.compile(
    r"SearchCV\b|\boptuna\b|\bhyperopt\b|\bray\.tune\b|\bskopt\b|\.set_params\(|BayesSearch"
)
_EXAMPLE_PATH = re.compile(r"(^|/)(examples?|docs?|tutorials?|notebooks?|demos?)/")


@dataclass
class State:
    """Whether the file is left alone, worked out at its first estimator."""

    # None until then: the text is searched only in files that build an estimator.
    skip: bool | None = None


def _estimator(call: cst.Call, ctx: Context) -> str | None:
    name = ctx.call_name(call)
    if not name or "." not in name:
        return None
    package, last = name.split(".", 1)[0], name.rsplit(".", 1)[-1]
    if package == "sklearn":
        return last if last in _SKLEARN else None
    return last if last in _BOOSTERS.get(package, ()) else None


def _skipped_file(ctx: Context[State]) -> bool:
    if ctx.state.skip is None:
        ctx.state.skip = bool(
            ctx.is_test or _EXAMPLE_PATH.search(ctx.path) or _SEARCHES.search(ctx.text)
        )
    return ctx.state.skip


def visit_Call(node: cst.Call, ctx: Context[State]) -> None:
    if node.args:
        return
    func = node.func
    if not isinstance(func, cst.Name | cst.Attribute):
        return
    estimator = _estimator(node, ctx)
    if estimator is None or _skipped_file(ctx):
        return
    outer = ctx.parent(2)
    if isinstance(outer, cst.Call) and ctx.call_name(outer) in {"type", "isinstance"}:
        return  # type(SVC()): an instance made only to get at its class
    ctx.report(node, estimator=estimator)
