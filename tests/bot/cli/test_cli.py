"""The command line as people use it: formats, exit status, config errors, diffs."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from bot.cli import output
from bot.cli.main import main
from tests.conftest import commit_all

OLD_DEBT = """
import numpy as np


def clean(frame):
    try:
        frame = frame.dropna()
    except Exception:
        pass
    return frame
"""

NEW_DEBT = """
import numpy as np


def clean(frame):
    try:
        frame = frame.dropna()
    except Exception:
        pass
    return frame


def missing(values):
    return values[values == np.nan]
"""


@pytest.fixture
def in_dir(monkeypatch):
    def enter(path: Path) -> None:
        monkeypatch.chdir(path)

    return enter


def run(capsys, *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def test_check_json_shape_and_relative_paths(tmp_path, write, in_dir, capsys) -> None:
    write("pyproject.toml", "[project]\nname = 'x'\n")
    write("src/pkg/clean.py", OLD_DEBT)
    in_dir(tmp_path / "src")
    code, out, _ = run(capsys, "check", "--format", "json", ".")
    assert code == 1
    document = json.loads(out)
    assert set(document) == {"findings", "skipped", "stats"}
    [finding] = [f for f in document["findings"] if f["code"] == "DEBT301"]
    assert finding["path"] == "pkg/clean.py"  # relative to the current directory
    for key in (
        "code",
        "principle",
        "path",
        "line",
        "end_line",
        "column",
        "severity",
        "message",
        "fingerprint",
    ):
        assert key in finding
    assert document["stats"]["files"] == 1
    assert document["stats"]["by_principle"]["cutting-corners"] >= 1


def test_check_clean_code_exits_zero(tmp_path, write, in_dir, capsys) -> None:
    write("model.py", "def add(a, b):\n    return a + b\n")
    in_dir(tmp_path)
    code, out, _ = run(capsys, "check")
    assert code == 0
    assert "No debt found in 1 file" in out


def test_check_text_groups_by_file_with_summary(tmp_path, write, in_dir, capsys) -> None:
    write("a.py", OLD_DEBT)
    in_dir(tmp_path)
    code, out, _ = run(capsys, "check", "a.py")
    assert code == 1
    assert out.splitlines()[0] == "a.py"
    assert "a.py:7:5: DEBT301 [warning]" in out
    assert "Debt by principle:" in out and "cutting-corners" in out
    assert "\x1b[" not in out  # no colour when not on a terminal


def test_unknown_config_key_is_a_usage_error(tmp_path, write, in_dir, capsys) -> None:
    write("pyproject.toml", "[tool.debtbot]\nselcet = ['DEBT']\n")
    write("a.py", OLD_DEBT)
    in_dir(tmp_path)
    code, out, err = run(capsys, "check")
    assert code == 2
    assert out == ""
    assert "unknown key 'selcet'" in err and "pyproject.toml" in err


def test_usage_errors_exit_two(tmp_path, in_dir, capsys) -> None:
    in_dir(tmp_path)
    assert run(capsys, "check", "missing.py")[0] == 2
    assert run(capsys, "explain", "DEBT000")[0] == 2
    with pytest.raises(SystemExit) as exit_info:
        main(["check", "--format", "yaml"])
    assert exit_info.value.code == 2


def test_config_excludes_and_ignores_apply(tmp_path, write, in_dir, capsys) -> None:
    write(
        "pyproject.toml",
        "[tool.debtbot]\nexclude = ['legacy']\nper-file-ignores = { 'scripts/*' = ['DEBT301'] }\n",
    )
    write("legacy/old.py", OLD_DEBT)
    write("scripts/run.py", OLD_DEBT)
    write("pkg/new.py", OLD_DEBT)
    in_dir(tmp_path)
    code, out, _ = run(capsys, "check", "--format", "json")
    paths = {(f["path"], f["code"]) for f in json.loads(out)["findings"]}
    assert code == 1
    assert ("pkg/new.py", "DEBT301") in paths
    assert not any(p.startswith("legacy/") for p, _ in paths)
    assert ("scripts/run.py", "DEBT301") not in paths


def test_skipped_files_do_not_hide_others(tmp_path, write, in_dir, capsys) -> None:
    write("good.py", OLD_DEBT)
    (tmp_path / "broken.py").write_text("def f(:\n")
    (tmp_path / "latin.py").write_bytes(b"x = '\xe9'\n")
    in_dir(tmp_path)
    code, out, _ = run(capsys, "check", "--format", "json")
    document = json.loads(out)
    assert code == 1
    assert {s["path"] for s in document["skipped"]} == {"broken.py", "latin.py"}
    assert any(f["path"] == "good.py" for f in document["findings"])


def test_github_annotations_are_escaped(tmp_path, write, in_dir, capsys) -> None:
    write("a,b.py", OLD_DEBT)
    in_dir(tmp_path)
    code, out, _ = run(capsys, "check", "--format", "github")
    assert code == 1
    line = next(x for x in out.splitlines() if "DEBT301" in x)
    assert line.startswith("::warning file=a%2Cb.py,line=7,endLine=8,col=5,title=DEBT301 ")
    assert output._escape_data("50%\nmore\r") == "50%25%0Amore%0D"
    assert output._escape_property("a:b,c") == "a%3Ab%2Cc"


def test_sarif_is_2_1_0_with_rules_and_fingerprints(tmp_path, write, in_dir, capsys) -> None:
    write("a.py", OLD_DEBT)
    in_dir(tmp_path)
    code, out, _ = run(capsys, "check", "--format", "sarif")
    assert code == 1
    document = json.loads(out)
    assert document["version"] == "2.1.0"
    run_ = document["runs"][0]
    rules = run_["tool"]["driver"]["rules"]
    [result] = [r for r in run_["results"] if r["ruleId"] == "DEBT301"]
    rule = rules[result["ruleIndex"]]
    assert rule["id"] == "DEBT301"
    assert "cutting-corners" in rule["properties"]["tags"]
    assert rule["help"]["text"] and rule["fullDescription"]["text"]
    location = result["locations"][0]["physicalLocation"]
    assert location["artifactLocation"]["uri"] == "a.py"
    assert location["region"] == {"startLine": 7, "endLine": 8, "startColumn": 5}
    assert result["partialFingerprints"]["debtbot/v1"]
    assert result["level"] == "warning"


def test_rules_and_explain(capsys) -> None:
    code, out, _ = run(capsys, "rules", "--format", "json")
    listed = json.loads(out)
    assert code == 0 and {"DEBT301", "DEBT302"} <= {r["code"] for r in listed}
    off = {r["code"] for r in listed if not r["default"]}
    # Off since the held-out study of issue 11 (below 80% on code they were not tuned on).
    held_out = {"DEBT201", "DEBT308", "DEBT402", "DEBT501", "DEBT502", "DEBT503", "DEBT703"}
    held_out |= {"DEBT506", "DEBT803", "DEBT904", "DEBT1001", "DEBT1103"}
    held_out |= {"DEBT804"}  # held-out set 2
    held_out |= {"DEBT710", "DEBT906", "DEBT1003"}  # held-out set 3
    earlier = {"DEBT310", "DEBT505", "DEBT704", "DEBT802", "DEBT903", "DEBT1006"}
    new = {"DEBT805", "DEBT806", "DEBT711", "DEBT712"}  # measured on tuning repositories only
    new |= {"DEBT507"}  # set 2 and tuning repositories: deliberate tuning
    new |= {"DEBT319", "DEBT320", "DEBT1105"}  # too few findings while tuning
    assert off == held_out | earlier | new
    assert all(r["disabled_because"] for r in listed if not r["default"])
    code, out, _ = run(capsys, "rules")
    lines = {line.split()[0]: line for line in out.splitlines()}
    assert lines["DEBT903"].endswith("off by default: 0 of 8 findings right on whole repositories")
    assert "off by default: 5 of 7 findings judged right on held-out" in lines["DEBT703"]
    assert "off by default" not in lines["DEBT902"]
    code, out, _ = run(capsys, "explain", "debt301")
    assert code == 0
    assert "Why is this bad?" in out and "cutting-corners" in out


def test_diff_reports_only_new_debt(repo, write, capsys) -> None:
    root = Path(repo.working_tree_dir)
    write("pkg/clean.py", OLD_DEBT)
    commit_all(repo, "old debt")
    repo.git.checkout("-b", "feature")
    write("pkg/clean.py", NEW_DEBT)
    head = commit_all(repo, "new debt")
    code, out, _ = run(
        capsys, "diff", "--repo", str(root), "--base", "main", "--head", head, "--format", "json"
    )
    findings = json.loads(out)["findings"]
    assert code == 1
    assert [(f["code"], f["line"]) for f in findings] == [("DEBT302", 13)]


def test_diff_does_not_blame_a_change_for_debt_its_base_had(repo, write, capsys) -> None:
    root = Path(repo.working_tree_dir)
    write("pkg/paths.py", "import sys\n\nsys.path.append('..')\n")
    commit_all(repo, "old debt")
    repo.git.checkout("-b", "feature")
    # The change annotates the old line and moves it down: not its doing. It also adds a second
    # manipulation of its own, which is.
    write(
        "pkg/paths.py",
        "import sys\n\nVERSION = 2\nsys.path.append('..')  # for the notebooks\n"
        "sys.path.insert(0, 'lib')\n",
    )
    head = commit_all(repo, "touch the old line, add a new one")
    code, out, _ = run(
        capsys, "diff", "--repo", str(root), "--base", "main", "--head", head, "--format", "json"
    )
    found = [(f["code"], f["line"]) for f in json.loads(out)["findings"]]
    assert code == 1
    assert found == [("DEBT702", 5)]


def test_diff_leaves_alone_what_most_files_of_the_same_kind_already_do(repo, write, capsys) -> None:
    root = Path(repo.working_tree_dir)
    hack = "import sys\n\nsys.path.append('..')\n"
    # Three of the four launchers reach their package through sys.path: the repository's way.
    for name in ("train", "evaluate", "export"):
        write(f"scripts/{name}.py", hack + f"print('{name}')\n")
    write("scripts/serve.py", "print('serve')\n")
    write("pkg/model.py", "WIDTH = 4\n")
    write("pkg/data.py", "ROWS = 8\n")
    write("pkg/loss.py", "SCALE = 2\n")
    commit_all(repo, "launchers")
    repo.git.checkout("-b", "feature")
    write("scripts/predict.py", hack + "print('predict')\n")
    write("pkg/metrics.py", hack + "TOP = 5\n")
    head = commit_all(repo, "one more launcher, and a package module doing the same")
    code, out, _ = run(
        capsys, "diff", "--repo", str(root), "--base", "main", "--head", head, "--format", "json"
    )
    found = [("/".join(Path(f["path"]).parts[-2:]), f["code"]) for f in json.loads(out)["findings"]]
    assert code == 1
    assert found == [("pkg/metrics.py", "DEBT702")]


def test_diff_of_working_tree_includes_untracked_files(repo, write, in_dir, capsys) -> None:
    root = Path(repo.working_tree_dir)
    write("pkg/clean.py", OLD_DEBT)
    commit_all(repo, "old debt")
    write("pkg/clean.py", NEW_DEBT)  # modified, not committed
    write("pkg/extra.py", OLD_DEBT)  # untracked
    in_dir(root / "pkg")
    code, out, _ = run(capsys, "diff", "--format", "json")
    found = {(f["path"], f["code"]) for f in json.loads(out)["findings"]}
    assert code == 1
    assert found == {("clean.py", "DEBT302"), ("extra.py", "DEBT301")}


def test_diff_with_nothing_new_exits_zero(repo, write, capsys) -> None:
    root = Path(repo.working_tree_dir)
    write("pkg/clean.py", OLD_DEBT)
    commit_all(repo, "old debt")
    repo.git.checkout("-b", "feature")
    write("README.md", "docs\n")
    commit_all(repo, "docs only")
    code, out, _ = run(capsys, "diff", "--repo", str(root), "--base", "main", "--head", "HEAD")
    assert code == 0
    assert "No debt found" in out


def test_diff_reads_config_at_head(repo, write, capsys) -> None:
    root = Path(repo.working_tree_dir)
    write("pkg/clean.py", "x = 1\n")
    commit_all(repo, "start")
    repo.git.checkout("-b", "feature")
    write("pkg/clean.py", NEW_DEBT)
    write("pyproject.toml", "[tool.debtbot]\nignore = ['DEBT302']\n")
    head = commit_all(repo, "debt, with DEBT302 off")
    code, out, _ = run(
        capsys, "diff", "--repo", str(root), "--base", "main", "--head", head, "--format", "json"
    )
    assert code == 1
    assert {f["code"] for f in json.loads(out)["findings"]} == {"DEBT301"}


def test_diff_errors(repo, write, capsys, tmp_path_factory) -> None:
    root = Path(repo.working_tree_dir)
    write("a.py", "x = 1\n")
    commit_all(repo, "start")
    code, _, err = run(capsys, "diff", "--repo", str(root), "--base", "nope")
    assert code == 2 and "unknown revision 'nope'" in err
    outside = tmp_path_factory.mktemp("not-a-repo")
    code, _, err = run(capsys, "diff", "--repo", str(outside))
    assert code == 2 and "not inside a git repository" in err
    assert os.path.isdir(root)


def test_diff_in_a_clone_missing_objects_is_a_clear_error(repo, write, capsys) -> None:
    # Snapshots and partial clones can lack blobs; git then fails half way through the diff.
    root = Path(repo.working_tree_dir)
    write("a.py", "x = 1\n")
    commit_all(repo, "start")
    write("data.csv", "a,b\n1,2\n")
    head = commit_all(repo, "data")
    blob = repo.git.rev_parse(f"{head}:data.csv")
    (root / ".git" / "objects" / blob[:2] / blob[2:]).unlink()
    code, out, err = run(capsys, "diff", "--repo", str(root), "--base", "HEAD^", "--head", head)
    assert code == 2 and out == ""
    assert err.startswith("debtbot: error: git cannot compare HEAD^ with ") and blob in err
    assert "Traceback" not in err


def test_repository_rules_see_the_whole_project_when_one_folder_is_checked(
    tmp_path, write, in_dir, capsys
) -> None:
    write("pyproject.toml", "[tool.debtbot]\nselect = ['DEBT310']\n")
    write("churn/__init__.py", "")
    write("churn/features.py", "def tenure_years(frame):\n    return frame['days'] / 365.25\n")
    write("tests/test_features.py", "from churn.features import tenure_years\n")
    in_dir(tmp_path)
    code, out, _ = run(capsys, "check", "churn", "--format", "json")
    assert code == 0 and json.loads(out)["findings"] == []
    write("tests/test_features.py", "def test_nothing():\n    pass\n")
    code, out, _ = run(capsys, "check", "churn", "--format", "json")
    [finding] = json.loads(out)["findings"]
    assert (finding["code"], finding["path"], finding["line"]) == (
        "DEBT310",
        "churn/features.py",
        1,
    )
    assert code == 1


FEATURES = """
def add_tenure(frame):
    frame = frame.copy()
    frame["tenure_years"] = frame["tenure_days"] / 365.25
    frame["long_tenure"] = frame["tenure_years"] > 3
    return frame
"""


def test_diff_judges_the_change_as_a_whole(repo, write, in_dir, capsys) -> None:
    root = Path(repo.working_tree_dir)
    in_dir(root)
    write("pyproject.toml", "[tool.debtbot]\nselect = ['DEBT', 'DEBT505']\n")
    write("churn/__init__.py", "")
    write("tests/test_features.py", "def test_add_tenure():\n    pass\n")
    base = commit_all(repo, "start")
    write("churn/features.py", FEATURES)
    untested = commit_all(repo, "feature code alone")
    code, out, _ = run(
        capsys, "diff", "--repo", str(root), "--base", base, "--head", untested, "--format", "json"
    )
    [finding] = json.loads(out)["findings"]
    assert (finding["code"], finding["path"], finding["line"]) == (
        "DEBT505",
        "churn/features.py",
        1,
    )
    assert code == 1
    write("tests/test_features.py", "def test_add_tenure():\n    assert True\n")
    tested = commit_all(repo, "with its test")
    code, out, _ = run(
        capsys, "diff", "--repo", str(root), "--base", base, "--head", tested, "--format", "json"
    )
    assert json.loads(out)["findings"] == [] and code == 0
    # A whole-file check has no change to judge.
    code, out, _ = run(capsys, "check", str(root / "churn"), "--format", "json")
    assert json.loads(out)["findings"] == []


def test_diff_gives_change_rules_the_base(repo, write, in_dir, capsys) -> None:
    root = Path(repo.working_tree_dir)
    in_dir(root)
    write("pyproject.toml", "[tool.debtbot]\nselect = ['DEBT507']\n")
    write("loss.py", "import torch\n\n\ndef dice_loss(x, smooth=1.0):\n    return x\n")
    base = commit_all(repo, "start")
    write("loss.py", "import torch\n\n\ndef dice_loss(x, smooth=0.5):\n    return x\n")
    head = commit_all(repo, "tune")
    code, out, _ = run(
        capsys, "diff", "--repo", str(root), "--base", base, "--head", head, "--format", "json"
    )
    [finding] = json.loads(out)["findings"]
    assert (finding["code"], finding["path"], finding["line"]) == ("DEBT507", "loss.py", 4)
    assert "smooth: 1.0 -> 0.5" in finding["message"]
    assert code == 1


def test_repository_rules_in_diff_mode_read_unchanged_files(repo, write, in_dir, capsys) -> None:
    root = Path(repo.working_tree_dir)
    in_dir(root)
    write("pyproject.toml", "[tool.debtbot]\nselect = ['DEBT', 'DEBT310']\n")
    write("churn/__init__.py", "")
    write("churn/old.py", "def untested_before(frame):\n    return frame\n")
    write("tests/test_x.py", "def test_x():\n    pass\n")
    base = commit_all(repo, "start")
    write("churn/new.py", "def untested_now(frame):\n    return frame\n")
    head = commit_all(repo, "a new function")
    code, out, _ = run(capsys, "diff", "--base", base, "--head", head, "--format", "json")
    document = json.loads(out)
    assert code == 1
    assert document["skipped"] == []
    assert [(f["code"], f["path"]) for f in document["findings"]] == [("DEBT310", "churn/new.py")]


def test_check_finds_a_configuration_key_no_code_reads(tmp_path, write, in_dir, capsys) -> None:
    write("configs/train.yaml", "learning_rate: 0.01\nwarmup_steps: 500\n")
    write(
        "train.py",
        "import yaml\n\nconfig = yaml.safe_load(open('configs/train.yaml'))\n"
        "print(config['learning_rate'])\n",
    )
    in_dir(tmp_path)
    code, out, _ = run(capsys, "check", "--format", "json", "--extend-select", "DEBT904")
    assert code == 1
    document = json.loads(out)
    found = [(f["code"], f["path"], f["line"]) for f in document["findings"]]
    assert ("DEBT904", "configs/train.yaml", 2) in found
    assert document["skipped"] == []
