"""rules/ml/data_calls.py: one table of the calls that read and write data, and the rules that
read it agree on it.

For every call the table says writes data, predictions written with it to a location that
training reads are a feedback loop for DEBT601 (one file) and DEBT603 (two files), and DEBT701
treats the location as written; likewise for every call that reads data.
"""

from __future__ import annotations

import textwrap
from dataclasses import dataclass

import libcst as cst
import pytest

from rules.engine.analyse import analyse_source
from rules.engine.config import default_config, parse_config
from rules.engine.scanner import scan
from rules.ml import data_calls
from rules.names import add_import, call_name
from tests.conftest import rule_findings

PATH = "data/train.csv"
TABLE = "train"
# Calls that take an open file, not a path: they are given ``f`` from ``with open(...) as f``.
TAKE_A_FILE = frozenset(
    {
        "json.dump", "pickle.dump", "dill.dump", "cloudpickle.dump", "json.load",
        "pickle.load", "dill.load", "cloudpickle.load", "csv.reader", "csv.DictReader",
    }
)  # fmt: skip
# One example of each family of readers the table knows by prefix.
PREFIXED_READERS = {
    "pandas.read_": "pandas.read_parquet",
    "polars.read_": "polars.read_csv",
    "polars.scan_": "polars.scan_parquet",
    "dask.dataframe.read_": "dask.dataframe.read_csv",
}


@dataclass(frozen=True)
class Case:
    """A statement using one call of the table, at the end of a snippet."""

    imports: str
    lines: str  # uses {data} (what is written) and {location}, last line is the call
    table: bool = False  # the location is a table name, not a path
    file_object: bool = False  # the path is given to open(), the call gets the file
    mode: str = "w"  # the mode the file is opened in

    def code(self, data: str, location: str) -> str:
        shown = f'"{location}"'
        if self.file_object:
            return (
                f"with open({shown}, '{self.mode}') as f:\n    "
                + self.lines.format(data=data, location="f")
                + "\n"
            )
        return self.lines.format(data=data, location=shown) + "\n"


def _module_of(name: str) -> str:
    return name.rpartition(".")[0]


def _arguments(spec: data_calls.Spec, data: str | None) -> str:
    """Positional arguments placing ``{location}`` (and the data) where the table says."""
    places: dict[int, str] = {}
    keywords: list[str] = []
    wanted = [(spec.location, "{location}")]
    if data is not None and spec.data is not None:
        wanted.append((spec.data, data))
    for argument, value in wanted:
        if argument.position is None:
            keywords.append(f"{argument.keywords[0]}={value}")
        else:
            places[argument.position] = value
    positional = [places.get(i, "None") for i in range(max(places, default=-1) + 1)]
    return ", ".join(positional + keywords)


def _function_case(name: str, spec: data_calls.Spec, data: str | None) -> Case:
    call = f"{name}({_arguments(spec, data)})"
    lines = call if spec.kind == "write" else f"X = {call}"
    mode = "w" if spec.kind == "write" else "r"
    return Case(f"import {_module_of(name)}", lines, file_object=name in TAKE_A_FILE, mode=mode)


def write_cases() -> dict[str, Case]:
    cases: dict[str, Case] = {}
    for name, spec in data_calls.WRITE_FUNCTIONS.items():
        if spec.what != "model":
            cases[name] = _function_case(name, spec, "{data}")
    for method, spec in data_calls.WRITE_METHODS.items():
        if spec.what == "model":
            continue
        if spec.where == "table":
            cases[method] = Case("", f'{{data}}.{method}("{TABLE}", con)', table=True)
        else:
            cases[method] = Case("", f"{{data}}.{method}({{location}})")
    for method in data_calls.HANDLE_WRITE_METHODS:
        receiver = "csv.writer(f)" if method.startswith("writerow") else "f"
        cases[method] = Case("import csv", f"{receiver}.{method}({{data}})", file_object=True)
    for method in data_calls.SQL_STATEMENT_METHODS:
        statement = f'con.{method}("INSERT INTO {TABLE} VALUES (?, ?)", {{data}})'
        cases[method] = Case("", statement, table=True)
    for method in data_calls.SPARK_WRITE_METHODS:
        if method == "saveAsTable":
            cases[f"spark.{method}"] = Case("", f'{{data}}.write.{method}("{TABLE}")', table=True)
        else:
            cases[f"spark.{method}"] = Case("", f"{{data}}.write.{method}({{location}})")
    return cases


def read_cases() -> dict[str, Case]:
    cases: dict[str, Case] = {}
    functions = dict(data_calls.READ_FUNCTIONS)
    for prefix, spec in data_calls.READ_PREFIXES.items():
        functions[PREFIXED_READERS[prefix]] = spec
    for name, spec in functions.items():
        if spec.what == "model":
            continue
        if spec.where == "query":
            sql = f'"SELECT * FROM {TABLE}"'
            cases[name] = Case(f"import {_module_of(name)}", f"X = {name}({sql}, con)", table=True)
        elif spec.where == "table":
            cases[name] = Case(f"import {_module_of(name)}", f'X = {name}("{TABLE}", con)', True)
        else:
            cases[name] = _function_case(name, spec, None)
    assert not any(spec.what != "model" for spec in data_calls.READ_METHODS.values())
    for method in data_calls.SPARK_READ_METHODS:
        if method == "table":
            cases[f"spark.{method}"] = Case("", f'X = spark.read.table("{TABLE}")', table=True)
        else:
            cases[f"spark.{method}"] = Case("", f"X = spark.read.{method}({{location}})")
    return cases


WRITES = write_cases()
READS = read_cases()
TRAIN_ON_PATH = Case("import pandas as pd", "X = pd.read_csv({location})")
TRAIN_ON_TABLE = Case("import pandas as pd", f'X = pd.read_sql("SELECT * FROM {TABLE}", con)', True)
WRITE_TO_PATH = Case("import pandas as pd", "{data}.to_csv({location})")
WRITE_TO_TABLE = Case("", f'{{data}}.to_sql("{TABLE}", con)', table=True)


def _training(read: Case) -> str:
    return f"{read.imports}\n\n{read.code('', PATH)}model.fit(X, labels)\n"


def _scoring(write: Case, location: str = PATH) -> str:
    return f"{write.imports}\n\npreds = model.predict(new)\n{write.code('preds', location)}"


def _one_file(read: Case, write: Case) -> str:
    imports = "\n".join(dict.fromkeys(i for i in (read.imports, write.imports) if i))
    return (
        f"{imports}\n\n{read.code('', PATH)}model.fit(X, labels)\n"
        f"preds = model.predict(new)\n{write.code('preds', PATH)}"
    )


def _cross_file(score: str, train: str) -> list:
    sources = {"jobs/score.py": score, "jobs/train.py": train}
    result = scan(
        [(path, text.encode) for path, text in sources.items()],
        parse_config({"select": ["DEBT603"]}),
        frozenset(sources),
        context=[(path, text.encode) for path, text in sources.items()],
    )
    assert not result.skipped, result.skipped
    return result.findings


def _last_line(code: str) -> int:
    return code.strip("\n").count("\n") + 1


def _line_with(code: str, text: str) -> int:
    code = code.lstrip("\n")
    return code.count("\n", 0, code.index(text)) + 1


@pytest.mark.parametrize("name", sorted(WRITES))
def test_every_data_write_writes_predictions_for_601_603_and_701(name: str) -> None:
    write = WRITES[name]
    read = TRAIN_ON_TABLE if write.table else TRAIN_ON_PATH

    code = _one_file(read, write)
    found = rule_findings("DEBT601", code)
    assert [f.line for f in found] == [_last_line(code)], code

    found = _cross_file(_scoring(write), _training(read))
    assert [(f.code, f.path) for f in found] == [("DEBT603", "jobs/score.py")], name

    if write.table:
        return
    machine = "/home/alice/data/train.csv"
    code = _scoring(write, machine)
    assert [f.line for f in rule_findings("DEBT701", code)] == [_line_with(code, machine)], code
    latest = "data/latest/train.csv"
    reading = f'import pandas as pd\n\nold = pd.read_csv("{latest}")\n'
    assert len(rule_findings("DEBT701", reading)) == 1
    written = reading + _scoring(write, latest).replace("\n\n", "\n", 1)
    assert rule_findings("DEBT701", written) == [], written


@pytest.mark.parametrize("name", sorted(READS))
def test_every_data_read_is_training_input_for_601_603_and_701(name: str) -> None:
    read = READS[name]
    write = WRITE_TO_TABLE if read.table else WRITE_TO_PATH

    code = _one_file(read, write)
    found = rule_findings("DEBT601", code)
    assert [f.line for f in found] == [_last_line(code)], code

    found = _cross_file(_scoring(write), _training(read))
    assert [(f.code, f.path) for f in found] == [("DEBT603", "jobs/score.py")], name

    if read.table:
        return
    for location in ("/home/alice/data/train.csv", "data/latest/train.csv"):
        code = f"{read.imports}\n\n{read.code('', location)}"
        assert len(rule_findings("DEBT701", code)) == 1, code


MODEL_SAVES = {
    **{
        name: _function_case(name, spec, "{data}")
        for name, spec in data_calls.WRITE_FUNCTIONS.items()
        if spec.what == "model"
    },
    **{
        method: Case("", f"{{data}}.{method}({{location}})")
        for method, spec in data_calls.WRITE_METHODS.items()
        if spec.what == "model"
    },
    "mlflow.sklearn.save_model": Case(
        "import mlflow.sklearn", "mlflow.sklearn.save_model({data}, {location})"
    ),
}


@pytest.mark.parametrize("name", sorted(MODEL_SAVES))
def test_a_model_save_is_not_a_data_write_but_is_a_saved_model(name: str) -> None:
    save = MODEL_SAVES[name]
    # Even fed with predictions (which a model save never is), it is no prediction write.
    assert rule_findings("DEBT601", _one_file(TRAIN_ON_PATH, save)) == []
    assert _cross_file(_scoring(save), _training(TRAIN_ON_PATH)) == []
    # A model saved to a fixed path, on one person's machine.
    code = f"{save.imports}\n\n{save.code('model', 'exported/classifier.bin')}"
    assert [f.code for f in rule_findings("DEBT1004", code)] == ["DEBT1004"], code
    code = f"{save.imports}\n\n{save.code('model', '/home/alice/classifier.bin')}"
    assert [f.code for f in rule_findings("DEBT701", code)] == ["DEBT701"], code


MODEL_LOADS = {
    **{
        name: _function_case(name, spec, None)
        for name, spec in data_calls.READ_FUNCTIONS.items()
        if spec.what == "model"
    },
    **{
        method: Case("", f"X = Net.{method}({{location}})")
        for method, spec in data_calls.READ_METHODS.items()
    },
}


@pytest.mark.parametrize("name", sorted(MODEL_LOADS))
def test_a_model_load_is_not_training_data_but_a_file_read(name: str) -> None:
    load = MODEL_LOADS[name]
    assert rule_findings("DEBT601", _one_file(load, WRITE_TO_PATH)) == []
    assert _cross_file(_scoring(WRITE_TO_PATH), _training(load)) == []
    code = f"{load.imports}\n\n{load.code('', '/home/alice/classifier.bin')}"
    assert [f.code for f in rule_findings("DEBT701", code)] == ["DEBT701"], code


def test_a_pickled_model_is_not_data_for_603_but_pickled_predictions_are() -> None:
    train = "import joblib\n\nclf = joblib.load('models/clf.joblib')\nclf.fit(X, y)\n"
    saved_model = "import joblib\n\nclf.predict(X)\njoblib.dump(clf, 'models/clf.joblib')\n"
    assert _cross_file(saved_model, train) == []
    checkpoint = (
        "import torch\n\nmodel.predict(X)\n"
        "torch.save({'model': model.state_dict(), 'epoch': 3}, 'models/clf.joblib')\n"
    )
    assert _cross_file(checkpoint, train) == []
    saved_scores = (
        "import joblib\n\nscores = clf.predict(X)\njoblib.dump(scores, 'models/clf.joblib')\n"
    )
    assert len(_cross_file(saved_scores, train)) == 1


def test_603_leaves_a_loop_inside_one_file_to_601() -> None:
    # Two copies of one script, each caching its predictions and reading them back.
    script = textwrap.dedent(
        """
        import joblib

        model.fit(X, y)
        joblib.dump(model.predict(X_test), "sub.pkl")
        sub = joblib.load("sub.pkl")
        """
    )
    assert _cross_file(script, script) == []
    assert rule_findings("DEBT601", script) == []


# -- the table itself ----------------------------------------------------------------------------


def _call(code: str, imports: str = "") -> tuple[cst.Call, _Names]:
    module = cst.parse_module(textwrap.dedent(imports))
    aliases: dict[str, str] = {}
    for statement in module.body:
        for small in getattr(statement, "body", ()):
            if isinstance(small, cst.Import | cst.ImportFrom):
                add_import(aliases, small)
    call = cst.parse_expression(code)
    assert isinstance(call, cst.Call)
    return call, _Names(aliases)


@dataclass
class _Names:
    aliases: dict[str, str]

    def call_name(self, node: cst.CSTNode) -> str | None:
        return call_name(node, self.aliases)


def test_names_resolve_through_imports_not_spelling() -> None:
    assert data_calls.writes_data(*_call("np.save('x.npy', a)", "import numpy as np\n"))
    assert data_calls.writes_data(*_call("keep('x.npy', a)", "from numpy import save as keep\n"))
    assert data_calls.writes_data(*_call("np.save('x.npy', a)")) is None  # np is not numpy here
    assert data_calls.reads_data(*_call("load('x.pt')", "from torch import load\n"))
    assert data_calls.reads_data(*_call("load('x.pt')")) is None  # a function of the file


def test_where_the_location_and_the_data_are() -> None:
    found = data_calls.access(*_call("joblib.dump(scores, filename='s.pkl')", "import joblib\n"))
    assert found is not None
    assert (found.kind, found.what) == ("write", "object")
    assert string_of(found.location) == "s.pkl" and [string_of(d) for d in found.data] == ["scores"]
    found = data_calls.access(
        *_call("xgb.Booster({'n': 1}, model_file='m.json')", "import xgboost as xgb\n")
    )
    assert found is not None and found.what == "model" and string_of(found.location) == "m.json"
    found = data_calls.access(*_call("pd.to_pickle(df, 'x.pkl')", "import pandas as pd\n"))
    assert found is not None and string_of(found.location) == "x.pkl"
    found = data_calls.access(*_call("frame.to_csv(path_or_buf='x.csv', index=False)"))
    assert found is not None and string_of(found.location) == "x.csv"
    assert [string_of(d) for d in found.data] == ["frame"]
    assert data_calls.access(*_call("writer.add_scalar('loss', 1.0)")) is None
    found = data_calls.access(
        *_call("load_dataset('csv', data_files='train.csv')", "from datasets import load_dataset\n")
    )
    assert found is not None and string_of(found.location) == "train.csv"


def test_model_saves_and_loads_are_not_data() -> None:
    call = _call("model.save_pretrained('out')")
    assert data_calls.writes_data(*call) is None and data_calls.saves_model(*call)
    call = _call("torch.save(model, 'm.pt')", "import torch\n")
    assert data_calls.writes_data(*call) and data_calls.saves_model(*call)
    call = _call("AutoModel.from_pretrained('bert')", "from transformers import AutoModel\n")
    assert data_calls.reads_data(*call) is None and data_calls.loads_model(*call)
    call = _call("pd.read_csv('x.csv')", "import pandas as pd\n")
    assert data_calls.reads_data(*call) and data_calls.loads_model(*call) is None
    assert data_calls.access(*_call("image.save('x.png')")) is None  # see OWN_SAVE_METHODS


def test_files_opened() -> None:
    opened = data_calls.opened(*_call("open('x.csv', 'w')"))
    assert opened is not None and opened.writes and string_of(opened.location) == "x.csv"
    opened = data_calls.opened(*_call("gzip.open('x.gz')", "import gzip\n"))
    assert opened is not None and not opened.writes
    opened = data_calls.opened(*_call("Path('x.csv').open('a')", "from pathlib import Path\n"))
    assert opened is not None and opened.writes
    assert data_calls.opened(*_call("webbrowser.open('http://x')", "import webbrowser\n")) is None
    assert data_calls.opened(*_call("Image.open('x.png')", "from PIL import Image\n")) is None


def test_downloads() -> None:
    assert data_calls.downloads(*_call("requests.get(url)", "import requests\n"))
    assert data_calls.downloads(*_call("hub.load('org/repo', 'm')", "from torch import hub\n"))
    assert data_calls.downloads(
        *_call("fetch_openml('mnist')", "from sklearn.datasets import fetch_openml\n")
    )
    assert not data_calls.downloads(*_call("requests.Session()", "import requests\n"))
    assert not data_calls.downloads(*_call("session.get(url)"))  # a receiver of unknown type


def test_the_file_behind_a_handle() -> None:
    module = cst.parse_module(
        "with open('out.csv', 'w') as f:\n    csv.writer(f).writerows(rows)\n"
    )
    with_statement = module.body[0]
    assert isinstance(with_statement, cst.With)
    writer = cst.parse_expression("csv.writer(f)")
    names = _Names({"csv": "csv"})
    opened = data_calls.opened_by(writer, names, [module, with_statement])
    assert opened is not None and opened.writes and string_of(opened.location) == "out.csv"
    assert data_calls.opened_by(cst.parse_expression("f"), names, [module]) is None


def test_locations_as_text() -> None:
    names = _Names({"os": "os", "Path": "pathlib.Path"})
    assert (
        data_calls.literal_location(cst.parse_expression("'./data//x.csv'"), names) == "data/x.csv"
    )
    assert (
        data_calls.literal_location(cst.parse_expression("'data\\\\x.csv'"), names) == "data/x.csv"
    )
    joined = cst.parse_expression("os.path.join('data', 'x.csv')")
    assert data_calls.literal_location(joined, names) == "data/x.csv"
    divided = cst.parse_expression("Path('data') / 'x.csv'")
    assert data_calls.literal_location(divided, names) == "data/x.csv"
    assert data_calls.literal_location(cst.parse_expression("Path(root) / 'x'"), names) is None
    assert data_calls.tables_read("select a from Events e join users u on 1") == ["events", "users"]
    assert data_calls.table_written("INSERT INTO Scores VALUES (?)") == "scores"
    assert data_calls.table_written("SELECT 1") is None


def test_facts_do_not_depend_on_which_rules_ran() -> None:
    # Context files are summarised with no rule running: the facts must be the same.
    code = (
        "import json\n\ndef save(preds):\n"
        "    with open('data/labels.json', 'w') as f:\n        json.dump(preds, f)\n"
    )
    alone = analyse_source("a.py", code.encode(), default_config(), (), (), collect_facts=True)
    with_rules = analyse_source("a.py", code.encode(), default_config(), None, (), True)
    assert alone.facts is not None and with_rules.facts is not None
    assert alone.facts.writes == with_rules.facts.writes == frozenset({"data/labels.json"})


def string_of(node: cst.CSTNode | None) -> str | None:
    if isinstance(node, cst.SimpleString):
        value = node.evaluated_value
        return value if isinstance(value, str) else None
    return node.value if isinstance(node, cst.Name) else None


def test_facts_skip_a_literal_python_3_cannot_read() -> None:
    code = (
        'import pandas as pd\n\npd.read_csv("C:\\Users\\bob\\train.csv")\npd.read_csv("ok.csv")\n'
    )
    result = analyse_source("a.py", code.encode(), default_config(), (), (), collect_facts=True)
    assert result.skipped == [] and result.facts is not None
    assert result.facts.reads == frozenset({"ok.csv"})
