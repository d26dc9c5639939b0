"""DEBT703 unpinned_requirement: focused tests beyond the examples the rule carries."""

from __future__ import annotations

from rules.catalogue import rules_by_code
from rules.engine.analyse import analyse_source
from rules.engine.config import default_config
from tests.conftest import rule_findings

findings = rule_findings


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
    # hyperopt searches, it does not compute: only libraries that change results are named.
    assert [(f.line, f.end_line) for f in found] == [(1, 1), (3, 4)]
    assert "`scikit-learn` and `pandas`" in found[1].message


def test_703_dev_section_ends_at_the_next_heading() -> None:
    found = requirement_findings(
        """
        # linters
        black

        # serving
        # (the image installs these)
        fastapi==0.110.0
        pandas
        """
    )
    assert [f.line for f in found] == [7]


def test_703_mlflow_folder_elsewhere() -> None:
    rule = rules_by_code()["DEBT703"]
    files = {"service/requirements.txt", "model/MLmodel"}
    result = analyse_source(
        "service/requirements.txt", b"fastapi==0.110.0\nmlflow\n", default_config(), [rule], files
    )
    assert len(result.findings) == 1


def test_703_a_file_that_pins_nothing_is_left_alone() -> None:
    assert requirement_findings("torch\ntorchvision\npandas\n") == []


def test_703_tools_that_do_not_change_results_are_not_named() -> None:
    [finding] = requirement_findings("zenml==0.70.1\nboto3\nscikit-learn\nrequests\n")
    assert "`scikit-learn`" in finding.message
    assert "boto3" not in finding.message


def test_703_constraints_option_with_equals() -> None:
    assert requirement_findings("--constraint=constraints.txt\npandas\n") == []


def test_703_only_requirements_files() -> None:
    rule = rules_by_code()["DEBT703"]
    assert rule.applies_to("requirements-dev.txt")
    assert not rule.applies_to("requirements.in")
    assert not rule.applies_to("setup.py")
