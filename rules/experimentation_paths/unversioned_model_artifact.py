"""
What it does
------------
Flags a trained model written to a fixed, literal path that carries no version, run or stage:
``pickle.dump(model, open("model.pkl", "wb"))``, ``joblib.dump(clf, "model.joblib")``,
``torch.save(model.state_dict(), "best.pt")``, ``model.save("model.h5")``,
``booster.save_model("xgb.json")``, ``model.save_pretrained("./model")``,
``torch.jit.save(scripted_model, "model.pt")``.

The path must be a plain string, ``Path("...")``, ``os.path.join`` or ``/`` of literals, a
module-level UPPER_CASE constant holding one, or the file of an enclosing
``with open("...", "wb") as f``. The saved object must be named like a model (``model``, ``clf``,
``estimator``, ``net``, ``regressor``, ``classifier``, ``pipeline``, ``booster``..., or several
of them: ``clfs``), be its ``state_dict()``, or be a checkpoint holding one. Paths built from a
variable or an f-string, and literals that already name a version, date, run or stage
(``model_v3.pkl``, ``runs/...``, ``staging/...``) are not flagged, nor are test files.

Also left alone:

- conversion and export scripts, where the saved model was loaded from a model file in the same
  function or module and not trained there (``keras.models.load_model("best_08_0.89.h5")`` then
  ``tf.saved_model.save(model, "served-model")``): the identity of the model is the file it was
  read from, and the output name is what the server expects;
- the file names that model servers require (``model.joblib``, ``model.pkl``, ``model.bst``,
  ``model.onnx``...) when a serving manifest sits in the same folder (a YAML file named like
  ``churn-service.yaml``, ``inference.yaml`` or ``kserve.yaml``): the name is a contract and the
  version belongs in the storage location the manifest points to;
- a file handed to a tracker or registry in the same file (``mlflow.log_artifact``,
  ``artifact.add_file``, ``log_model``...), or that a comment says will be logged as an artifact.

Why is this bad?
----------------
Every run overwrites the previous model at the same place. Nothing records which code, data and
parameters produced the file that is deployed, an experiment can silently replace the production
model, and rolling back to yesterday's model is impossible because it no longer exists.

Example
-------
.. code-block:: python

    clf.fit(X_train, y_train)
    joblib.dump(clf, "model.joblib")

Use instead
-----------
Write each model under a run or version identifier, or log it to a model registry:

.. code-block:: python

    run_dir = Path("models") / f"{datetime.now():%Y%m%d-%H%M%S}-{git_sha}"
    joblib.dump(clf, run_dir / "model.joblib")
    # or: mlflow.sklearn.log_model(clf, "model", registered_model_name="churn")

References
----------
- Sculley et al., "Hidden Technical Debt in Machine Learning Systems" (2015)
- MLflow Model Registry documentation; DVC documentation on versioning models
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

import libcst as cst

from rules import Context, Example, Rule
from rules.ml.data_calls import (
    OWN_SAVE_METHODS,
    PATH_JOINS,
    READ_METHODS,
    SAME_PATH,
    Argument,
    loads_model,
    opened_by,
    saves_model,
)
from rules.ml.estimators import names_a_model
from rules.names import dotted, method_name, string_value

RULE = Rule(
    code="DEBT1004",
    name="unversioned-model-artifact",
    principle="experimentation-paths",
    severity="warning",
    message=(
        "Save `{model}` under a path that records its version or run, or in a model registry, "
        "instead of overwriting `{path}` each time."
    ),
    valid=(
        # Near miss: the checkpoint path carries the epoch and a run directory.
        """
        import torch
        torch.save(ckpt, save_dir / f"epoch{epoch}.pt")
        torch.save(model.state_dict(), os.path.join(run_dir, "best.pt"))
        """,
        # Near miss: a non-model object, and a versioned literal.
        """
        import pickle
        import joblib
        with open("vocab.pkl", "wb") as f:
            pickle.dump(vocab, f)
        joblib.dump(clf, "models/churn_v3.joblib")
        """,
        # Near miss: `.save` on something that is not a model.
        """
        fig.savefig("loss.png")
        image.save("sample.png")
        model.save()
        """,
        # Near miss: the local file is handed to an experiment tracker that versions it.
        """
        import pickle
        with open("regressor.pkl", "wb") as f:
            pickle.dump(rf, f)
        artifact = wandb.Artifact(f"{wandb.run.id}-model", type="model")
        artifact.add_file("regressor.pkl")
        wandb.log_artifact(artifact)
        """,
        # Near miss: a conversion script re-saves a model it loaded, in the format and under the
        # name the server expects; it trains nothing.
        """
import tensorflow as tf

keras_model = tf.keras.models.load_model("effnet_b0_epoch12_acc0.91.keras")
tf.saved_model.save(keras_model, "served-classifier")
""",
        # Near miss: KServe's scikit-learn server loads a fixed file name, and the manifest next to
        # the script points at it; the version belongs in that storage location.
        Example(
            """
import joblib
pipe = make_pipeline(DictVectorizer(), LogisticRegression())
pipe.fit(records, labels)
joblib.dump(pipe, "model.joblib")
""",
            path="serving/credit/train.py",
            files=("serving/credit/credit-inference-service.yaml",),
        ),
        # Near miss: a comment announces the upload to the tracker, which versions the file.
        """
import pickle
with open("forest.pkl", "wb") as f:
    pickle.dump(forest_model, f)
# next: log forest.pkl to the experiment tracker as a model artifact
""",
        # Documentation examples show how saving works.
        Example("gbm.save_model('model.txt')\n", path="examples/python-guide/simple_example.py"),
        # Test files may write scratch models.
        Example(
            "import joblib\njoblib.dump(model, 'model.joblib')\n",
            path="tests/test_io.py",
        ),
    ),
    invalid=(
        Example(
            """
            import pickle
            pickle.dump(model, open("model.pkl", "wb"))
            """,
            line=2,
        ),
        Example(
            """
            import joblib
            clf.fit(X_train, y_train)
            joblib.dump(clf, "model.joblib")
            """,
            line=3,
        ),
        Example(
            """
            import torch
            torch.save(model.state_dict(), "best.pt")
            """,
            line=2,
        ),
        Example(
            """
            model.fit(X, y, epochs=10)
            model.save("model.h5")
            """,
            line=2,
        ),
        Example(
            """
            import pickle
            from pathlib import Path

            MODEL_PATH = Path("artifacts") / "model.pkl"

            def train(df):
                pipeline = make_pipeline(StandardScaler(), LogisticRegression())
                pipeline.fit(df[FEATURES], df.label)
                with open(MODEL_PATH, "wb") as fh:
                    pickle.dump(pipeline, fh)
            """,
            line=10,
        ),
        "booster.save_model('xgb.json')\n",
        Example(
            """
            import joblib
            from pathlib import Path
            HERE = Path(__file__).resolve().parent
            joblib.dump(best_estimator, HERE / "artifacts" / "model.joblib")
            """,
            line=4,
        ),
        # Loaded, but then trained further: a new model under the same fixed name.
        Example(
            """
            from tensorflow import keras
            model = keras.models.load_model("base.h5")
            model.fit(X_new, y_new, epochs=3)
            model.save("model.h5")
            """,
            line=4,
        ),
        # A serving file name, but no serving manifest beside the script.
        Example(
            """
            import joblib
            pipe.fit(records, labels)
            joblib.dump(pipe, "model.joblib")
            """,
            line=3,
            path="src/train.py",
            files=("src/config.yaml",),
        ),
        Example(
            """
            trainer.train()
            trainer.save_model("error_classifier")
            tokenizer.save_pretrained("error_classifier")
            """,
            line=2,
        ),
        Example(
            """
            import torch
            scripted_model = torch.jit.script(model)
            torch.jit.save(scripted_model, "model.pt")
            """,
            line=3,
        ),
        # A checkpoint: the model's weights with the state of the training.
        Example(
            """
            import torch
            torch.save(dict(model=net.state_dict(), epoch=epoch), "checkpoint.pt")
            """,
            line=2,
        ),
    ),
)

_VERSIONED = re.compile(
    r"(?i)(^|[^a-z])v\d|\d{6,}|\d{4}-\d{2}|(^|[/_.-])(runs?|stage|staging|prod|production"
    r"|candidate|champion|challenger|version|versions|releases?)([/_.-]|$)|[{}%]"
)
# Demonstration code: an example that shows how to save a model is not a pipeline.
_EXAMPLE_PATH = re.compile(r"(^|/)(examples?|docs?|docs_src|tutorials?)/")
# Calls that hand the written file to a tracker or registry, which versions it.
_LOGGED = (
    r"(log_artifacts?|add_file|upload_file|upload|log_model|register_model|wandb\.save|"
    r"put_object|push_to_hub|dvc)\s*\([^)]*?"
)


# Calls that read a model from a file: what they return is already an identified artifact.
# Besides the shared table's model loaders, any call named like one (a helper called
# `load_model`, fastai's star-imported `load_learner`, a class's own `Word2Vec.load`) counts:
# this only silences the rule, so a generous reading costs nothing.
_LOADER_NAMES = frozenset(READ_METHODS) | {"load", "load_learner"}
# Methods that read weights into an existing model.
_WEIGHT_LOADERS = frozenset({"load_state_dict", "load_weights"})
_TRAINING = frozenset({"fit", "fit_generator", "partial_fit", "train", "train_on_batch"})
_TRAINING_CALL = re.compile(r"(?i)train|fit|tune")
# File names model servers load by convention (KServe, Seldon, Triton).
_SERVING_NAMES = frozenset(
    {"model.joblib", "model.pkl", "model.pickle", "model.bst", "model.json", "model.onnx"}
)
_MANIFEST = re.compile(r"(?i)(serv|inference|kserve|seldon|predictor|triton)[^/]*\.ya?ml$")


@dataclass
class State:
    # (scope, name) of models read from a file, and of models trained, in each function (id)
    loaded: set[tuple[int, str]] = field(default_factory=set)
    trained: set[tuple[int, str]] = field(default_factory=set)
    constants: dict[str, str] = field(default_factory=dict)  # UPPER_CASE name -> literal path


def _scope(ctx: Context[State]) -> int:
    function = ctx.enclosing(cst.FunctionDef)
    return id(function) if function is not None else 0


def _root(node: cst.BaseExpression) -> str | None:
    """``model`` for ``model``, ``model.state_dict()`` or ``model.module``."""
    if isinstance(node, cst.Call) and isinstance(node.func, cst.Attribute):
        return _root(node.func.value)
    return dotted(node) if isinstance(node, cst.Name | cst.Attribute) else None


def _called(node: cst.Call, ctx: Context[State]) -> str:
    return method_name(node) or (ctx.call_name(node) or "").rsplit(".", 1)[-1]


def _reads_model(node: cst.Call, ctx: Context[State]) -> bool:
    return loads_model(node, ctx) is not None or _called(node, ctx) in _LOADER_NAMES


def visit_Assign(node: cst.Assign, ctx: Context[State]) -> None:
    if not isinstance(node.value, cst.Call) or not _reads_model(node.value, ctx):
        return
    for target in node.targets:
        name = dotted(target.target)
        if name is not None:
            ctx.state.loaded.add((_scope(ctx), name))


def _note_use(node: cst.Call, ctx: Context[State]) -> None:
    """Remember models loaded into or trained in this scope."""
    called = _called(node, ctx)
    if isinstance(node.func, cst.Attribute) and called in _WEIGHT_LOADERS | _TRAINING:
        name = _root(node.func.value)
        if name is not None:
            kind = ctx.state.loaded if called in _WEIGHT_LOADERS else ctx.state.trained
            kind.add((_scope(ctx), name))
    if _TRAINING_CALL.search(called):
        for arg in node.args:
            name = _root(arg.value)
            if name is not None:
                ctx.state.trained.add((_scope(ctx), name))


def _converted(saved: cst.BaseExpression, ctx: Context[State]) -> bool:
    """Whether the saved model was read from a file in this scope and not trained since."""
    name = _root(saved)
    if name is None:
        return False
    key = (_scope(ctx), name)
    return key in ctx.state.loaded and key not in ctx.state.trained


def _served_name(path: str, ctx: Context[State]) -> bool:
    """A file name a model server requires, with a serving manifest beside the script."""
    if path.rstrip("/").rsplit("/", 1)[-1] not in _SERVING_NAMES:
        return False
    folder = ctx.path.rsplit("/", 1)[0] + "/" if "/" in ctx.path else ""
    return any(
        f.startswith(folder) and "/" not in f[len(folder) :] and _MANIFEST.search(f)
        for f in ctx.files
    )


def _announced(name: str, ctx: Context[State]) -> bool:
    """A comment says the file will be logged or uploaded as an artifact."""
    pattern = r"#[^\n]*" + re.escape(name) + r"[^\n]*"
    for comment in re.findall(pattern, ctx.text):
        if re.search(r"(?i)artifact|registry|\b(log|upload|push)", comment):
            return True
    return False


def _literal_path(node: cst.BaseExpression, ctx: Context[State]) -> str | None:
    """The text of a path made only of literals, else None."""
    text = string_value(node)
    if text is not None:
        return text
    if isinstance(node, cst.Name):
        if node.value == "__file__":
            return "."  # the source's own folder is as fixed as a literal
        return ctx.state.constants.get(node.value)
    if isinstance(node, cst.BinaryOperation) and isinstance(node.operator, cst.Divide | cst.Add):
        left, right = _literal_path(node.left, ctx), _literal_path(node.right, ctx)
        if left is None or right is None:
            return None
        return f"{left}/{right}" if isinstance(node.operator, cst.Divide) else left + right
    if isinstance(node, cst.Attribute) and node.attr.value == "parent":
        return _literal_path(node.value, ctx)
    if isinstance(node, cst.Call):
        if method_name(node) in ("resolve", "absolute", "expanduser") and not node.args:
            return _literal_path(node.func.value, ctx)
        name = ctx.call_name(node)
        if (name in SAME_PATH or name == "os.path.dirname") and len(node.args) == 1:
            return _literal_path(node.args[0].value, ctx)
        if name in PATH_JOINS and node.args:
            parts = [_literal_path(a.value, ctx) for a in node.args if a.keyword is None]
            if None in parts or len(parts) != len(node.args):
                return None
            return "/".join(p for p in parts if p is not None)
    return None


def _opened_path(node: cst.BaseExpression, ctx: Context[State]) -> str | None:
    """The literal path of ``open("...", "wb")``, or of the file a ``with`` opened as ``node``."""
    file = opened_by(node, ctx, ctx.ancestors)
    if file is None or file.location is None:
        return None
    return _literal_path(file.location, ctx)


def visit_Module(node: cst.Module, ctx: Context[State]) -> None:
    constants = ctx.state.constants
    for statement in node.body:
        if not isinstance(statement, cst.SimpleStatementLine):
            continue
        for small in statement.body:
            if not isinstance(small, cst.Assign) or len(small.targets) != 1:
                continue
            target = small.targets[0].target
            if not isinstance(target, cst.Name) or not target.value.isupper():
                continue
            value = _literal_path(small.value, ctx)
            if value is not None:
                constants[target.value] = value


# Where `x.save(...)` takes its path (`model.save("model.h5")`, `model.save(filepath=...)`).
_OWN_SAVE_PATH = Argument(0, ("filepath", "fname", "save_directory", "path"))


def visit_Call(node: cst.Call, ctx: Context[State]) -> None:
    _note_use(node, ctx)
    method = method_name(node)
    found = saves_model(node, ctx)
    if found is not None:
        saved = found.data[0] if found.data else None
        path_node = found.location
    elif method in OWN_SAVE_METHODS and isinstance(node.func, cst.Attribute):
        saved = node.func.value
        path_node = _OWN_SAVE_PATH.of(node)
    else:
        return
    if saved is None or path_node is None or ctx.is_test:
        return
    own = isinstance(node.func, cst.Attribute) and saved is node.func.value
    if not names_a_model(saved) and not (method == "save_model" and own):
        return  # ``save_model`` says what it saves, whatever the receiver (a Trainer, self)
    path = _literal_path(path_node, ctx) or _opened_path(path_node, ctx)
    if path is None or _VERSIONED.search(path) or _EXAMPLE_PATH.search(ctx.path):
        return
    names = [path.rstrip("/").rsplit("/", 1)[-1]]
    if isinstance(path_node, cst.Name):
        names.append(path_node.value)
    if any(n and re.search(_LOGGED + re.escape(n), ctx.text) for n in names):
        return  # written locally, then logged to a tracker that versions it
    if _announced(names[0], ctx) or _converted(saved, ctx) or _served_name(path, ctx):
        return
    ctx.report(path_node, model=dotted(saved) or ctx.code(saved), path=path)
