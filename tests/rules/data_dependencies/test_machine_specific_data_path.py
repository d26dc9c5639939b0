"""DEBT701 machine_specific_data_path: focused tests beyond the examples the rule carries."""

from __future__ import annotations

import textwrap

from tests.conftest import rule_findings

findings = rule_findings


def test_701_argparse_default_and_dict_key_for_locations() -> None:
    found = findings(
        "DEBT701",
        """
        parser.add_argument("--data_root", default="/home/alice/data/OfficeHome/")
        parser.add_argument("--name", default="/home/alice")
        DATASETS = {"office31": {"root": "/Users/alice/datasets/office31"}}
        """,
    )
    assert [f.line for f in found] == [1, 3]


def test_701_local_variable_used_by_a_reader() -> None:
    found = findings(
        "DEBT701",
        """
        import numpy as np

        def main():
            base = r"D:\\Datasets\\EasyTL\\surf"
            return np.load(base + r"\\amazon.npy")
        """,
    )
    assert [f.line for f in found] == [4]
    assert "D:\\Datasets" in found[0].message


def test_701_format_and_percent_strings() -> None:
    found = findings(
        "DEBT701",
        """
        with open("/home/bob/logs/{}_{}.txt".format(model, data), "r") as f:
            pass
        torch.save(state, "/home/bob/ckpt/%s.pt" % name)
        """,
    )
    assert [f.line for f in found] == [1, 3]


def test_701_latest_read_only_when_not_written_here() -> None:
    source = textwrap.dedent(
        """
        import pandas as pd

        features = pd.read_parquet("s3://bucket/features/latest/part.parquet")
        """
    )
    assert len(findings("DEBT701", source)) == 1
    written = source + 'features.to_parquet("s3://bucket/features/latest/part.parquet")\n'
    assert findings("DEBT701", written) == []


def test_701_latest_is_not_a_location_on_its_own() -> None:
    assert (
        findings(
            "DEBT701",
            """
            model = AutoModel.from_pretrained("bert-base-uncased", revision="latest")
            torch.save(model, "models/latest.pt")
            """,
        )
        == []
    )


def test_701_system_folders_and_placeholders_are_not_machine_paths() -> None:
    from rules.data_dependencies.machine_specific_data_path import mutable_pointer
    from rules.ml.locations import machine_specific

    assert machine_specific("/Users/alice/Downloads/train.csv")
    assert machine_specific("C:/Users/bob/data.csv")
    assert not machine_specific("C:\\Program Files\\NVIDIA\\smi.exe")
    assert not machine_specific("/home/{user}/data")
    assert not machine_specific("~/data/train.csv")
    assert mutable_pointer("gs://bucket/models/current/model.pkl")
    assert mutable_pointer("data/train_latest.csv")
    assert not mutable_pointer("latest")
    assert not mutable_pointer("data/concurrent_runs.csv")


def test_701_repository_file_in_a_container_folder() -> None:
    from tests.conftest import rule_findings

    found = rule_findings(
        "DEBT701",
        'import json\nlabels = json.load(open("/app/configs/labels.json"))\n',
        path="src/predict.py",
        files=("configs/labels.json", "src/predict.py"),
    )
    assert len(found) == 1
    assert "file this repository holds" in found[0].message


def test_701_scratch_and_platform_folders_left_alone() -> None:
    from tests.conftest import rule_findings

    source = 'import json\na = open("/tmp/labels.json")\nb = open("/opt/ml/code/labels.json")\n'
    found = rule_findings("DEBT701", source, path="src/predict.py", files=("labels.json",))
    assert found == []
