"""Which calls read and write data and models, and where their location and data arguments are.

One table for every rule that asks "does this call read or write a file, a table or a model?".
Names are qualified through the file's imports (``pd.read_csv`` after ``import pandas as pd`` is
``pandas.read_csv``); methods, whose receiver's type is unknown, go by their method name.

What a call moves is one of three things, because rules care about the difference:

- ``data``: rows, arrays, text (``pd.read_csv``, ``df.to_parquet``, ``np.save``, ``json.dump``);
- ``model``: a trained model or its weights (``save_pretrained``, ``keras.models.save_model``,
  ``from_pretrained``, ``torch.jit.load``);
- ``object``: whatever object it is given, a model as often as predictions (``pickle.dump``,
  ``joblib.dump``, ``torch.save`` and their loaders). Data rules and model rules both count
  these, and look at the object when it matters.

A location is a ``path`` (a file, folder, URL or dataset name), a ``table`` name, a SQL ``query``
whose tables are read or written, or a ``handle``: a file object opened earlier, whose
location the caller must find (see :func:`opened` and :func:`opened_by`).
"""

from __future__ import annotations

import posixpath
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal, Protocol

import libcst as cst

from rules.names import dotted, keyword, method_name, string_value


class Names(Protocol):
    """How a file's names resolve through its imports; a rule's ``ctx`` is one."""

    @property
    def aliases(self) -> dict[str, str]: ...

    def call_name(self, node: cst.CSTNode) -> str | None: ...


Kind = Literal["read", "write"]
What = Literal["data", "object", "model"]
Where = Literal["path", "table", "query", "handle"]


@dataclass(frozen=True)
class Argument:
    """Where an argument is: by keyword, else at a position (None: by keyword only)."""

    position: int | None
    keywords: tuple[str, ...] = ()

    def of(self, call: cst.Call) -> cst.BaseExpression | None:
        for name in self.keywords:
            found = keyword(call, name)
            if found is not None:
                return found.value
        positional = [a for a in call.args if a.keyword is None and not a.star]
        if self.position is not None and self.position < len(positional):
            return positional[self.position].value
        return None


@dataclass(frozen=True)
class Spec:
    """One entry of the table: what a call does, and where its location and data are."""

    kind: Kind
    what: What
    location: Argument
    data: Argument | None = None  # for function writes; a method writes its receiver
    where: Where = "path"


@dataclass(frozen=True)
class Access:
    """One call reading or writing one location."""

    call: cst.Call
    kind: Kind
    what: What
    where: Where
    location: cst.BaseExpression | None
    data: tuple[cst.BaseExpression, ...] = ()  # what a write writes


def _reads(what: What, *keywords: str, position: int | None = 0, where: Where = "path") -> Spec:
    return Spec("read", what, Argument(position, keywords), where=where)


def _writes(what: What, data: Argument, location: Argument, where: Where = "path") -> Spec:
    return Spec("write", what, location, data, where)


_OBJ = Argument(0, ("obj", "value"))
_MODEL = Argument(0, ("model", "obj", "m", "proto", "tensors", "sk_model"))
_FILE = Argument(1, ("file", "filename", "f", "fp"))
_SAVED_AT = Argument(1, ("filepath", "f", "filename", "export_dir", "path"))
_ARRAY_FILE = Argument(0, ("file", "fname"))
_ARRAY = Argument(1, ("arr", "X"))
_PANDAS_PATH = ("filepath_or_buffer", "path", "path_or_buf", "io")

# -- reading -------------------------------------------------------------------------------------

READ_FUNCTIONS: dict[str, Spec] = {
    "numpy.load": _reads("data", "file"),
    "numpy.loadtxt": _reads("data", "fname"),
    "numpy.genfromtxt": _reads("data", "fname"),
    "numpy.fromfile": _reads("data", "file"),
    "numpy.memmap": _reads("data", "filename"),
    "json.load": _reads("data", "fp"),
    "csv.reader": _reads("data", "csvfile"),
    "csv.DictReader": _reads("data", "f"),
    "h5py.File": _reads("data", "name"),
    "PIL.Image.open": _reads("data", "fp"),
    "cv2.imread": _reads("data", "filename"),
    "pyarrow.parquet.read_table": _reads("data", "source"),
    "pyarrow.parquet.ParquetDataset": _reads("data", "path_or_paths"),
    # `load_dataset("csv", data_files=...)`: the first argument is then a format, not a place.
    "datasets.load_dataset": _reads("data", "data_files", "data_dir", "path"),
    "datasets.load_from_disk": _reads("data", "dataset_path"),
    "pandas.read_sql": _reads("data", "sql", where="query"),
    "pandas.read_sql_query": _reads("data", "sql", where="query"),
    "pandas.read_sql_table": _reads("data", "table_name", where="table"),
    "polars.read_database": _reads("data", "query", where="query"),
    "pickle.load": _reads("object", "file"),
    "joblib.load": _reads("object", "filename"),
    "dill.load": _reads("object", "file"),
    "cloudpickle.load": _reads("object", "file"),
    "sklearn.externals.joblib.load": _reads("object", "filename"),
    "torch.load": _reads("object", "f"),
    "torch.jit.load": _reads("model", "f"),
    "tensorflow.keras.models.load_model": _reads("model", "filepath"),
    "keras.models.load_model": _reads("model", "filepath"),
    "keras.saving.load_model": _reads("model", "filepath"),
    "tensorflow.saved_model.load": _reads("model", "export_dir"),
    "safetensors.torch.load_file": _reads("model", "filename"),
    "onnx.load": _reads("model", "f"),
    "onnxruntime.InferenceSession": _reads("model", "path_or_bytes"),
    # The first argument of a Booster is its parameters; the file comes by keyword.
    "xgboost.Booster": _reads("model", "model_file", position=None),
    "lightgbm.Booster": _reads("model", "model_file", position=None),
}
# Every reader these libraries name ``read_*`` (``scan_*`` for polars' lazy frames) takes the
# location first; the SQL ones above are the exceptions, and come first.
READ_PREFIXES: dict[str, Spec] = {
    "pandas.read_": _reads("data", *_PANDAS_PATH),
    "polars.read_": _reads("data", "source"),
    "polars.scan_": _reads("data", "source"),
    "dask.dataframe.read_": _reads("data", "urlpath", "path"),
}
# Class methods that build a model from what they read.
READ_METHODS: dict[str, Spec] = {
    "from_pretrained": _reads("model", "pretrained_model_name_or_path"),
    "load_from_checkpoint": _reads("model", "checkpoint_path"),
    "load_model": _reads("model", "fname", "filepath", "model_uri", "path"),
    # Weights read into a model that exists already (Keras).
    "load_weights": _reads("model", "filepath"),
}

# -- writing -------------------------------------------------------------------------------------

WRITE_FUNCTIONS: dict[str, Spec] = {
    "numpy.save": _writes("data", _ARRAY, _ARRAY_FILE),
    "numpy.savez": _writes("data", _ARRAY, _ARRAY_FILE),
    "numpy.savez_compressed": _writes("data", _ARRAY, _ARRAY_FILE),
    "numpy.savetxt": _writes("data", _ARRAY, _ARRAY_FILE),
    "json.dump": _writes("data", _OBJ, _FILE),
    "pyarrow.parquet.write_table": _writes(
        "data", Argument(0, ("table",)), Argument(1, ("where",))
    ),
    "cv2.imwrite": _writes("data", Argument(1, ("img",)), Argument(0, ("filename",))),
    "pickle.dump": _writes("object", _OBJ, _FILE),
    "joblib.dump": _writes("object", _OBJ, _FILE),
    # ``pd.to_pickle(obj, path)``: left to the method table, ``pd`` would be the data written.
    "pandas.to_pickle": _writes("object", _OBJ, Argument(1, ("filepath_or_buffer", "path"))),
    "dill.dump": _writes("object", _OBJ, _FILE),
    "cloudpickle.dump": _writes("object", _OBJ, _FILE),
    "sklearn.externals.joblib.dump": _writes("object", _OBJ, _FILE),
    "torch.save": _writes("object", _OBJ, _FILE),
    "torch.jit.save": _writes("model", _MODEL, _SAVED_AT),
    "onnx.save": _writes("model", _MODEL, _SAVED_AT),
    "torch.onnx.export": _writes("model", _MODEL, Argument(2, ("f",))),
    "safetensors.torch.save_file": _writes("model", _MODEL, _SAVED_AT),
    "safetensors.torch.save_model": _writes("model", _MODEL, _SAVED_AT),
    "tensorflow.keras.models.save_model": _writes("model", _MODEL, _SAVED_AT),
    "keras.models.save_model": _writes("model", _MODEL, _SAVED_AT),
    "keras.saving.save_model": _writes("model", _MODEL, _SAVED_AT),
    "tensorflow.saved_model.save": _writes("model", _MODEL, _SAVED_AT),
}
# ``mlflow.<flavor>.save_model(model, path)``, for every flavour.
_MLFLOW_SAVE = _writes(
    "model",
    Argument(0, ("sk_model", "pytorch_model", "keras_model", "lgb_model", "xgb_model", "model")),
    Argument(1, ("path",)),
)
_RECEIVER = Argument(None)  # a method writes the object it is called on
# Methods of data frames and arrays that write themselves.
WRITE_METHODS: dict[str, Spec] = {
    **{
        name: _writes("data", _RECEIVER, Argument(0, ("path_or_buf", "path")))
        for name in ("to_csv", "to_json", "to_hdf", "to_pickle", "to_feather", "to_parquet")
    },
    "to_excel": _writes("data", _RECEIVER, Argument(0, ("excel_writer",))),
    "to_orc": _writes("data", _RECEIVER, Argument(0, ("path",))),
    "to_stata": _writes("data", _RECEIVER, Argument(0, ("path",))),
    "tofile": _writes("data", _RECEIVER, Argument(0, ("fid",))),
    **{
        name: _writes("data", _RECEIVER, Argument(0, ("file",)))
        for name in ("write_csv", "write_parquet", "write_json", "write_ndjson")
    },
    "to_sql": _writes("data", _RECEIVER, Argument(0, ("name",)), "table"),
    "write_database": _writes("data", _RECEIVER, Argument(0, ("table_name",)), "table"),
    # Models that save themselves.
    "save_pretrained": _writes("model", _RECEIVER, Argument(0, ("save_directory", "path"))),
    "save_model": _writes(
        "model", _RECEIVER, Argument(0, ("fname", "filepath", "filename", "output_dir", "path"))
    ),
    "save_weights": _writes("model", _RECEIVER, Argument(0, ("filepath", "path"))),
}
# ``save`` is how Keras models write themselves, but so do PIL images, matplotlib figures and
# many other objects: it is left out of WRITE_METHODS, and counts as a model save only where a
# rule knows the receiver is a model.
OWN_SAVE_METHODS = frozenset({"save"})
# Writes to a file object opened earlier (``f.write``, ``csv.writer(f).writerows``): the
# location is the handle's.
HANDLE_WRITE_METHODS = frozenset({"write", "writelines", "writerow", "writerows"})
# Writes through a database connection: the statement names the table (``INSERT INTO t``).
SQL_STATEMENT_METHODS = frozenset({"execute", "executemany"})

# Spark: ``spark.read.parquet(path)`` and ``df.write.parquet(path)``.
SPARK_READ_METHODS = frozenset({"parquet", "csv", "json", "orc", "text", "load", "table"})
SPARK_WRITE_METHODS = frozenset({"parquet", "csv", "json", "orc", "text", "save", "saveAsTable"})

# -- locations that are not reads or writes by themselves -----------------------------------------

# ``open`` gives a file object; what is read or written is decided by the calls made on it
# (``json.load(f)``, ``f.write(...)``), so opening alone is neither a data read nor a write.
OPENERS = frozenset(
    {"open", "io.open", "builtins.open", "codecs.open", "gzip.open", "bz2.open", "lzma.open"}
)
# Objects wrapping an open file: what they write goes to the file they were given.
HANDLE_WRAPPERS = frozenset({"csv.writer", "csv.DictWriter"})
# Calls that build one path from parts: the location is made of their arguments.
PATH_JOINS = frozenset(
    {
        "os.path.join", "posixpath.join", "ntpath.join", "pathlib.Path", "pathlib.PurePath",
        "pathlib.PosixPath", "pathlib.WindowsPath", "pathlib.PurePosixPath",
        "pathlib.PureWindowsPath",
    }
)  # fmt: skip
# Calls that give the same location in another form.
SAME_PATH = frozenset(
    {"str", "os.fspath", "os.path.abspath", "os.path.normpath", "os.path.realpath"}
)
# Calls that take a location but move no data through it: listing, creating, copying folders.
# A path they are given is a location of the program (a machine path there is still one), but
# not data read or written.
LOCATION_CALLS = frozenset(
    {
        "pathlib.Path", "pathlib.PurePath", "pathlib.PosixPath", "pathlib.WindowsPath",
        "os.listdir", "os.scandir", "os.walk", "os.makedirs", "os.mkdir", "os.chdir",
        "glob.glob", "glob.iglob", "shutil.copy", "shutil.copy2", "shutil.copyfile",
        "shutil.copytree", "shutil.move", "shutil.rmtree",
        "torchvision.datasets.ImageFolder", "torchvision.datasets.DatasetFolder",
    }
)  # fmt: skip

_SQL_READ = re.compile(r"\b(?:from|join)\s+([A-Za-z_][\w.]*)", re.IGNORECASE)
_SQL_WRITE = re.compile(r"\b(?:insert\s+into|update|merge\s+into)\s+([A-Za-z_][\w.]*)", re.I)


# -- what a call does ------------------------------------------------------------------------------


def _spec(call: cst.Call, name: str | None) -> Spec | None:
    if name is not None:
        found = READ_FUNCTIONS.get(name) or WRITE_FUNCTIONS.get(name)
        if found is not None:
            return found
        for prefix, spec in READ_PREFIXES.items():
            if name.startswith(prefix):
                return spec
        if name.startswith("mlflow.") and name.endswith(".save_model"):
            return _MLFLOW_SAVE
    method = method_name(call)
    if method is None:
        return None
    return READ_METHODS.get(method) or WRITE_METHODS.get(method)


def access(call: cst.Call, ctx: Names) -> Access | None:
    """What ``call`` reads or writes, and where; None when it is not in the table."""
    name = ctx.call_name(call)
    spec = _spec(call, name)
    if spec is not None:
        if spec.data is None:
            data: tuple[cst.BaseExpression, ...] = ()
        elif spec.data is _RECEIVER:
            data = (call.func.value,) if isinstance(call.func, cst.Attribute) else ()
        else:
            written = spec.data.of(call)
            data = (written,) if written is not None else ()
        location = spec.location.of(call)
        return Access(call, spec.kind, spec.what, spec.where, location, data)
    if not isinstance(call.func, cst.Attribute):
        return None
    method = call.func.attr.value
    receiver = call.func.value
    if method in HANDLE_WRITE_METHODS and call.args:
        data = tuple(a.value for a in call.args)
        return Access(call, "write", "data", "handle", receiver, data)
    if method in SQL_STATEMENT_METHODS and call.args:
        data = tuple(a.value for a in call.args[1:])
        return Access(call, "write", "data", "query", call.args[0].value, data)
    if isinstance(receiver, cst.Attribute):
        owner = receiver.attr.value
        location = Argument(0, ("path",)).of(call)
        where: Where = "table" if method in ("table", "saveAsTable") else "path"
        if owner in ("read", "readStream") and method in SPARK_READ_METHODS:
            return Access(call, "read", "data", where, location)
        if owner in ("write", "writeStream") and method in SPARK_WRITE_METHODS:
            return Access(call, "write", "data", where, location, (receiver.value,))
    return None


def moves_data(found: Access) -> bool:
    """Whether an access reads or writes rows, arrays or pickled objects rather than a model:
    the reads and writes a feedback loop goes through."""
    return found.what != "model"


def reads_data(call: cst.Call, ctx: Names) -> Access | None:
    """A call that reads rows, arrays or a pickled object: what a model may be trained on."""
    found = access(call, ctx)
    return found if found is not None and found.kind == "read" and moves_data(found) else None


def writes_data(call: cst.Call, ctx: Names) -> Access | None:
    """A call that writes rows, arrays or a pickled object: where predictions may be stored.

    A model saving itself is not a data write: predictions do not end up in it.
    """
    found = access(call, ctx)
    return found if found is not None and found.kind == "write" and moves_data(found) else None


def saves_model(call: cst.Call, ctx: Names) -> Access | None:
    """A call that writes a model, or any object, which may be a model; not ``x.save(...)``
    (see :data:`OWN_SAVE_METHODS`)."""
    found = access(call, ctx)
    return found if found is not None and found.kind == "write" and found.what != "data" else None


def loads_model(call: cst.Call, ctx: Names) -> Access | None:
    """A call that reads a model, or any pickled object, which may be a model."""
    found = access(call, ctx)
    return found if found is not None and found.kind == "read" and found.what != "data" else None


# -- downloads -------------------------------------------------------------------------------------

# Calls that fetch data, models or code over the network (and, for model hubs, cache them on
# disk). Hub loaders that also read local files (``from_pretrained``, ``load_dataset``) are in the
# read tables above.
DOWNLOAD_FUNCTIONS = frozenset(
    {
        "urllib.request.urlopen", "urllib.request.urlretrieve", "wget.download",
        "gdown.download", "gdown.download_folder", "nltk.download", "torch.hub.load",
        "torch.hub.load_state_dict_from_url", "torch.hub.download_url_to_file",
        "torch.utils.model_zoo.load_url", "huggingface_hub.hf_hub_download",
        "huggingface_hub.snapshot_download", "tensorflow_hub.load", "tensorflow_hub.KerasLayer",
        "tensorflow.keras.utils.get_file", "keras.utils.get_file", "gensim.downloader.load",
        "torchvision.datasets.utils.download_url", "spacy.cli.download",
    }
)  # fmt: skip
# HTTP clients: the module-level functions that send a request.
_HTTP_CLIENTS = ("requests", "httpx")
_HTTP_METHODS = frozenset({"get", "post", "put", "patch", "delete", "head", "options", "request"})
# Families of downloaders, by prefix: scikit-learn's ``fetch_*`` datasets, kagglehub.
DOWNLOAD_PREFIXES = ("sklearn.datasets.fetch_", "kagglehub.")


def downloads(call: cst.Call, ctx: Names) -> bool:
    """Whether ``call`` fetches something over the network."""
    name = ctx.call_name(call)
    if name is None:
        return False
    if name in DOWNLOAD_FUNCTIONS or name.startswith(DOWNLOAD_PREFIXES):
        return True
    client, _, method = name.partition(".")
    return client in _HTTP_CLIENTS and method in _HTTP_METHODS


# Calls that reach a service when they run, by kind: a tracking server or experiment tracker
# (a run started, an experiment looked up), an ML platform's server (ZenML's stack and
# secrets), a cloud (credentials resolved, an account or role looked up), a compute cluster
# started, a database connection opened. Clients that connect lazily (``boto3.client``,
# ``MlflowClient()``, ``sqlalchemy.create_engine``) do not count: building one costs nothing
# until it is used.
SERVICE_CALLS: dict[str, str] = {
    **dict.fromkeys(
        (
            "mlflow.set_experiment", "mlflow.start_run", "mlflow.create_experiment",
            "mlflow.get_experiment_by_name", "mlflow.search_runs", "mlflow.search_experiments",
            "mlflow.register_model", "mlflow.get_run", "wandb.init", "wandb.login", "wandb.Api",
            "neptune.init", "neptune.init_run", "neptune.init_project", "neptune.init_model",
            "neptune.init_model_version", "comet_ml.Experiment", "comet_ml.start",
            "comet_ml.init", "clearml.Task.init", "dagshub.init", "aim.Run",
        ),
        "tracking",
    ),
    "zenml.client.Client": "platform",
    **dict.fromkeys(
        (
            "google.cloud.storage.Client", "google.cloud.bigquery.Client", "google.auth.default",
            "sagemaker.get_execution_role", "sagemaker.Session", "sagemaker.session.Session",
            "azureml.core.Workspace.from_config", "azureml.core.Workspace.get",
            "azure.ai.ml.MLClient.from_config", "kfp.Client", "huggingface_hub.login",
        ),
        "cloud",
    ),
    **dict.fromkeys(("ray.init", "dask.distributed.Client"), "cluster"),
    **dict.fromkeys(
        (
            "psycopg2.connect", "pymysql.connect", "mysql.connector.connect",
            "snowflake.connector.connect", "pyodbc.connect",
        ),
        "database",
    ),
}  # fmt: skip


# Clients that reach their server only once something is asked of them: ``Client()`` alone is
# cheap, ``Client().active_stack`` is not.
USED_AT_ONCE = frozenset({"zenml.client.Client"})


def contacts_service(call: cst.Call, ctx: Names) -> str | None:
    """The kind of service ``call`` reaches when it runs (see ``SERVICE_CALLS``), else None."""
    name = ctx.call_name(call)
    if name is None:
        return None
    return SERVICE_CALLS.get(name)


# -- files opened -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Opened:
    """A file object: the location it was opened on, and whether for writing."""

    call: cst.Call
    location: cst.BaseExpression | None
    writes: bool


def _writing(mode: cst.BaseExpression | None) -> bool:
    text = string_value(mode) if mode is not None else "r"
    return any(c in (text or "") for c in "wax+")


def opened(call: cst.Call, ctx: Names) -> Opened | None:
    """``open(path, mode)`` and its kin, or ``path.open(mode)`` on a path object."""
    name = ctx.call_name(call)
    if name in OPENERS:
        location = Argument(0, ("file", "filename")).of(call)
        return Opened(call, location, _writing(Argument(1, ("mode",)).of(call)))
    if method_name(call) != "open" or name in READ_FUNCTIONS:
        return None
    receiver = call.func.value
    root = dotted(receiver)
    if root is not None and root.split(".", 1)[0] in ctx.aliases:
        return None  # a module's own ``open`` (``webbrowser.open``, ``tarfile.open``)
    return Opened(call, receiver, _writing(Argument(0, ("mode",)).of(call)))


def opened_by(
    expr: cst.BaseExpression, ctx: Names, enclosing: Sequence[cst.CSTNode]
) -> Opened | None:
    """The file an expression writes to or reads from: ``open(...)`` itself, a ``csv.writer``
    around one, or the name bound by a ``with open(...) as name`` among ``enclosing`` (the
    nodes around the expression, outermost first: ``ctx.ancestors`` for a rule)."""
    if isinstance(expr, cst.Call):
        if ctx.call_name(expr) in HANDLE_WRAPPERS and expr.args:
            return opened_by(expr.args[0].value, ctx, enclosing)
        return opened(expr, ctx)
    if isinstance(expr, cst.Name):
        for ancestor in reversed(enclosing):
            if not isinstance(ancestor, cst.With):
                continue
            for item in ancestor.items:
                target = item.asname.name if item.asname is not None else None
                if isinstance(target, cst.Name) and target.value == expr.value:
                    return opened_by(item.item, ctx, enclosing)
    return None


def location_only(call: cst.Call, ctx: Names) -> bool:
    """A call that takes a location but reads and writes no data through it."""
    return ctx.call_name(call) in LOCATION_CALLS


# -- locations as text ------------------------------------------------------------------------------


def normal_location(text: str) -> str:
    """One spelling per location: ``./data//x.csv`` and ``data\\x.csv`` are ``data/x.csv``."""
    return posixpath.normpath(text.replace("\\", "/"))


def literal_location(expr: cst.BaseExpression, ctx: Names) -> str | None:
    """The location a path expression names when it is made of literals only, normalised."""
    text = string_value(expr)
    if text is not None:
        return normal_location(text) if text else None
    if isinstance(expr, cst.BinaryOperation) and isinstance(expr.operator, cst.Divide):
        left, right = literal_location(expr.left, ctx), literal_location(expr.right, ctx)
        return None if left is None or right is None else normal_location(f"{left}/{right}")
    if isinstance(expr, cst.Call) and expr.args and all(a.keyword is None for a in expr.args):
        name = ctx.call_name(expr)
        if name in PATH_JOINS or (name in SAME_PATH and len(expr.args) == 1):
            parts = [literal_location(a.value, ctx) for a in expr.args]
            if None in parts:
                return None
            return normal_location(posixpath.join(*(p for p in parts if p is not None)))
    return None


def tables_read(query: str) -> list[str]:
    """The tables a SQL query reads (after ``FROM`` and ``JOIN``), lower-cased."""
    return [table.lower() for table in _SQL_READ.findall(query)]


def table_written(statement: str) -> str | None:
    """The table a SQL statement writes (``INSERT INTO``, ``UPDATE``, ``MERGE INTO``)."""
    match = _SQL_WRITE.search(statement)
    return match.group(1).lower() if match else None
