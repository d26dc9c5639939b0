"""Focused tests for the data-dependencies and glue-code rules (DEBT701-703, DEBT801-803)."""

from __future__ import annotations

import textwrap

import pytest

from rules.engine.analyse import analyse_source
from rules.engine.config import default_config, parse_config
from rules.rule import rules_by_code
from tests.conftest import rule_findings

findings = rule_findings


# DEBT701 machine-specific-data-path


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
    from rules.data_dependencies.machine_specific_data_path import machine_specific, mutable_pointer

    assert machine_specific("/Users/alice/Downloads/train.csv")
    assert machine_specific("C:/Users/bob/data.csv")
    assert not machine_specific("C:\\Program Files\\NVIDIA\\smi.exe")
    assert not machine_specific("/home/{user}/data")
    assert not machine_specific("~/data/train.csv")
    assert mutable_pointer("gs://bucket/models/current/model.pkl")
    assert mutable_pointer("data/train_latest.csv")
    assert not mutable_pointer("latest")
    assert not mutable_pointer("data/concurrent_runs.csv")


# DEBT702 sys-path-manipulation


@pytest.mark.parametrize(
    "statement",
    ["sys.path[:0] = ['../lib']", "sys.path = ['src'] + sys.path", "sys.path.extend(extra)"],
)
def test_702_other_writes_to_sys_path(statement: str) -> None:
    assert len(findings("DEBT702", f"import sys\n{statement}\n")) == 1


def test_702_sphinx_conf_under_source_folder_is_exempt() -> None:
    source = "import sys\nsys.path.insert(0, '../..')\n"
    assert findings("DEBT702", source, path="docs/source/conf.py") == []
    assert len(findings("DEBT702", source, path="scripts/conf.py")) == 1


# DEBT703 unpinned-requirement


def requirement_findings(text: str, path: str = "requirements.txt"):
    return findings("DEBT703", text, path=path)


def test_703_one_finding_per_run_across_continuations() -> None:
    found = requirement_findings(
        """
        numpy==1.26.4 \\
            --hash=sha256:abc
        pandas \\
            --hash=sha256:def
        torch[cpu]  # the GPU image pins its own
        """
    )
    assert [(f.line, f.end_line) for f in found] == [(3, 5)]
    assert "`pandas` and `torch`" in found[0].message


def test_703_runs_break_at_pinned_blank_and_exempt_lines() -> None:
    found = requirement_findings(
        """
        mlflow
        jupyter
        scikit-learn
        pandas
        xgboost==2.0.3
        hyperopt

        # --- dev ---
        pytest-cov
        tensorboard
        """
    )
    assert [(f.line, f.end_line) for f in found] == [(1, 1), (3, 4), (6, 6)]
    assert "`scikit-learn` and `pandas`" in found[1].message


def test_703_dev_section_ends_at_the_next_heading() -> None:
    found = requirement_findings(
        """
        # linters
        black

        # serving
        # (the image installs these)
        fastapi
        """
    )
    assert [f.line for f in found] == [6]


def test_703_build_tool_without_marker_and_mlflow_folder_elsewhere() -> None:
    assert [f.line for f in requirement_findings("setuptools\n")] == [1]
    rule = rules_by_code()["DEBT703"]
    files = {"service/requirements.txt", "model/MLmodel"}
    result = analyse_source(
        "service/requirements.txt", b"mlflow\n", default_config(), [rule], files
    )
    assert len(result.findings) == 1


def test_703_constraints_option_with_equals() -> None:
    assert requirement_findings("--constraint=constraints.txt\npandas\n") == []


def test_703_only_requirements_files() -> None:
    rule = rules_by_code()["DEBT703"]
    assert rule.applies_to("requirements-dev.txt")
    assert not rule.applies_to("requirements.in")
    assert not rule.applies_to("setup.py")


# DEBT801 script-calling-script


@pytest.mark.parametrize(
    "call",
    [
        'subprocess.run(shlex.split("python train.py --epochs 3"))',
        'subprocess.run("python" + " evaluate.py", shell=True)',
        'subprocess.run([sys.executable, "-X", "utf8", "report.py"])',
        'subprocess.run([sys.executable, str(ROOT / "export.py")] + args)',
        'subprocess.run(f"python -u -m churn.score " f"--out {out}", shell=True)',
    ],
)
def test_801_flags_python_scripts(call: str) -> None:
    source = f"import shlex\nimport subprocess\nimport sys\n{call}\n"
    assert len(findings("DEBT801", source)) == 1


@pytest.mark.parametrize(
    "call",
    [
        'subprocess.run([sys.executable, "-m", "pip", "install", "-r", "requirements.txt"])',
        'subprocess.run(["python", "-m", "torch.distributed.run", "--nproc_per_node=2", "t.py"])',
        'subprocess.run("python setup.py build_ext --inplace", shell=True)',
        'subprocess.run([sys.executable, __file__, "--worker"])',
        'subprocess.run(["bash", "scripts/get_data.sh"])',
        'run_in_container(["python", "train.py"])',
    ],
)
def test_801_ignores_tools_and_launchers(call: str) -> None:
    source = f"import subprocess\nimport sys\n{call}\n"
    assert findings("DEBT801", source) == []


def test_801_variable_in_another_function_is_not_followed() -> None:
    source = """
        import subprocess

        def build():
            cmd = "python train.py"
            return cmd

        def run(cmd):
            subprocess.run(cmd, shell=True)
        """
    assert findings("DEBT801", source) == []


# DEBT802 long-function


def long_function(statements: int) -> str:
    return "def main(df):\n" + "    df = df.dropna()\n" * statements


def test_802_option_changes_the_limit() -> None:
    assert findings("DEBT802", long_function(20)) == []
    config = parse_config({"rules": {"DEBT802": {"max-statements": 10}}})
    found = findings("DEBT802", long_function(20), config=config)
    assert len(found) == 1
    assert "20 statements" in found[0].message and "10" in found[0].message


def test_802_nested_function_counts_for_both() -> None:
    inner = "    def helper(x):\n" + "        x = x + 1\n" * 55 + "        return x\n"
    found = findings("DEBT802", "def outer():\n" + inner + "    return helper\n")
    assert sorted(f.message.split("`")[1] for f in found) == ["helper", "outer"]


def test_802_one_line_suites_count_every_statement() -> None:
    body = "    if df is None: df = load(); df = clean(df)\n" * 17
    found = findings("DEBT802", "def main(df):\n" + body)
    assert len(found) == 1 and "51 statements" in found[0].message


# DEBT803 deep-nesting


NESTED = """
def run(batches):
    for batch in batches:
        with timer():
            try:
                if batch:
                    while batch.pending:
                        if batch.ready:
                            step(batch)
            finally:
                log()
"""


def test_803_reports_once_per_function_at_the_first_block_too_deep() -> None:
    found = findings("DEBT803", NESTED)
    assert [(f.line, f.code) for f in found] == [(6, "DEBT803")]
    assert "5 levels" in found[0].message


def test_803_option_changes_the_limit() -> None:
    config = parse_config({"rules": {"DEBT803": {"max-depth": 6}}})
    assert findings("DEBT803", NESTED, config=config) == []
    config = parse_config({"rules": {"DEBT803": {"max-depth": 2}}})
    assert [f.line for f in findings("DEBT803", NESTED, config=config)] == [4]


def test_803_module_level_code_and_tests_are_ignored() -> None:
    body = textwrap.indent(textwrap.dedent(NESTED).split("\n", 2)[2], "")
    module_level = "\n".join(line[4:] for line in body.splitlines())
    assert findings("DEBT803", module_level) == []
    assert findings("DEBT803", NESTED, path="tests/test_run.py") == []


def test_a_launcher_of_modules_chosen_at_run_time_is_left_alone() -> None:
    source = """
    import subprocess

    def go(job_name, seeds):
        for seed in seeds:
            cmd = f"python -m run.{job_name} --seed={seed}"
            subprocess.run(cmd, shell=True)
    """
    # One job per config, fold and seed, each a process of its own on purpose (a sweep).
    assert rule_findings("DEBT801", source, path="schedule.py") == []
