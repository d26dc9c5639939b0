"""DEBT1005 unseeded_randomness: focused tests beyond the examples the rule carries."""

from __future__ import annotations

from tests.conftest import rule_findings

findings = rule_findings


def test_unseeded_randomness_positional_kfold_arguments() -> None:
    source = """
    from sklearn.model_selection import KFold
    a = KFold(5, True)
    b = KFold(5, True, 42)
    c = KFold(5, False)
    """
    found = findings("DEBT1005", source)
    assert [f.line for f in found] == [2]


def test_unseeded_randomness_explicit_none_is_a_decision() -> None:
    source = """
    from sklearn.ensemble import RandomForestClassifier
    clf = RandomForestClassifier(random_state=None)
    """
    assert findings("DEBT1005", source) == []


def test_1005_datasets_shuffle_through_names_and_splits() -> None:
    from tests.conftest import rule_findings

    source = """
        from datasets import load_dataset

        data = load_dataset("json", data_files="train.json")
        split = data["train"].train_test_split(test_size=0.1)
        train = split["train"].shuffle()
        val = split["test"].shuffle(seed=1)
        data = [1, 2, 3]
        data.shuffle()
        rows: Dataset = load_dataset("org/rows", split="train")
        rows = rows.add_column("id", range(len(rows)))
        rows = rows.train_test_split(test_size=0.1)
        """
    assert [f.line for f in rule_findings("DEBT1005", source)] == [4, 5, 11]
