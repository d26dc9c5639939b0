"""The literal collections behind DEBT805 (copied-collection), tested on their own."""

from __future__ import annotations

from rules.engine import config_from_pyproject_text
from rules.engine.analyse import analyse_source
from rules.engine.facts import FileFacts
from rules.engine.literals import collections

TEXT = """\
EXPERIMENTS = [
    "auxiliary_016",
    "auxiliary_019",
    "corr_noisy_003",
]
RUNS = ("corr_noisy_003", "auxiliary_016", "auxiliary_019")
SPLITS = ["train", "val", "test"]
MEAN = [0.485, 0.456, 0.406]
LETTERS = ["a", "b", "c"]
__all__ = ["load", "save", "train_model"]
FEATURES = {"age": "int", "income": "float", "region": "category"}
MIXED = ["age", "income", some_name]


class Model:
    def __init__(self):
        self.columns = ["age", "income", "region"]
"""


def test_collections_of_meaningful_items_bound_to_names():
    found = collections(TEXT)
    assert [c.name for c in found] == ["EXPERIMENTS", "RUNS", "FEATURES", "self.columns"]
    assert (found[0].line, found[0].end, found[0].items) == (1, 5, 3)


def test_order_and_kind_of_collection_do_not_matter():
    experiments, runs, features, columns = collections(TEXT)
    assert experiments.hash == runs.hash
    assert features.hash != columns.hash  # a dict of types is not the list of its keys


def test_a_file_python_cannot_read_has_none():
    assert collections("print 'python 2'\n") == ()


def test_facts_keep_collections_through_json():
    config = config_from_pyproject_text('[tool.debtbot]\nselect = ["DEBT805"]\n')
    facts = analyse_source("runs.py", TEXT.encode(), config, (), (), collect_facts=True).facts
    assert facts.collections == collections(TEXT)
    assert FileFacts.from_json(facts.to_json()).collections == facts.collections
    test_file = analyse_source(
        "tests/test_runs.py", TEXT.encode(), config, (), (), collect_facts=True
    )
    assert test_file.facts.collections == ()


def test_local_variables_and_counters_are_left_out():
    text = (
        "def count(rows):\n"
        '    names = ["alpha", "beta", "gamma"]\n'
        '    self.names = ["alpha", "beta", "gamma"]\n'
        '    counts = {"high": 0, "medium": 0, "low": 0}\n'
        "    return names\n"
        'model_config = {"extra": "forbid", "frozen": True, "strict": True}\n'
    )
    assert [c.name for c in collections(text)] == ["self.names"]
