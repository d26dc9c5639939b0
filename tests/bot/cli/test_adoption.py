"""Adopting debtbot on a repository that has debt already: a baseline, --exit-zero, and
--add-ignore, run as people run them."""

from __future__ import annotations

import ast
import json
from pathlib import Path

from tests.conftest import commit_all

DEBT = """
import yaml


def clean(frame):
    try:
        frame = frame.dropna()
    except Exception:
        pass
    return frame


def load(path):
    with open(path) as f:
        return yaml.load(f)
"""

MORE_DEBT = """

def other(frame):
    try:
        return frame.mean()
    except Exception:
        pass
"""


def test_a_baseline_is_written_then_only_new_debt_fails(tmp_path, write, debtbot) -> None:
    write("pyproject.toml", "[tool.debtbot]\n")
    write("pkg/clean.py", DEBT)
    code, out, err = debtbot("check", "--baseline", "debt-baseline.json", cwd=tmp_path)
    assert code == 0, err
    assert "wrote debt-baseline.json with 2 findings" in err
    assert "No debt found" in out
    document = json.loads((tmp_path / "debt-baseline.json").read_text())
    assert document["version"] == 1
    assert {(e["path"], e["code"]) for e in document["findings"]} == {
        ("pkg/clean.py", "DEBT301"),
        ("pkg/clean.py", "DEBT401"),
    }
    assert all(len(e["fingerprint"]) == 20 for e in document["findings"])

    # Unrelated lines above move the old debt: it still matches, by fingerprint.
    source = tmp_path / "pkg/clean.py"
    source.write_text("import os\n" + source.read_text() + MORE_DEBT)
    code, out, err = debtbot("check", "--baseline", "debt-baseline.json", "--format", "json")
    assert code == 1
    [new] = json.loads(out)["findings"]
    assert (new["code"], new["line"]) == ("DEBT301", 21)
    assert "2 findings matched the baseline, 0 gone, 1 new" in err

    # Paying off old debt shows as gone; the baseline is read, not rewritten.
    source.write_text(source.read_text().replace("yaml.load(f)", "yaml.safe_load(f)"))
    before = (tmp_path / "debt-baseline.json").read_bytes()
    code, out, err = debtbot("check", "--baseline", "debt-baseline.json")
    assert code == 1
    assert "1 finding matched the baseline, 1 gone, 1 new" in err
    assert "delete debt-baseline.json and run again" in err
    assert (tmp_path / "debt-baseline.json").read_bytes() == before


def test_a_baseline_from_another_folder_and_for_part_of_the_project(
    tmp_path, write, debtbot
) -> None:
    write("pyproject.toml", "[tool.debtbot]\n")
    write("pkg/clean.py", DEBT)
    write("scripts/run.py", DEBT)
    (tmp_path / "ci").mkdir()
    assert debtbot("check", "--baseline", "ci/baseline.json", cwd=tmp_path)[0] == 0
    # From a sub-folder, checking one folder: the other folder's entries are not "gone".
    code, _, err = debtbot("check", ".", "--baseline", "../ci/baseline.json", cwd=tmp_path / "pkg")
    assert code == 0
    assert "2 findings matched the baseline, 0 gone, 0 new" in err
    (tmp_path / "scripts/run.py").unlink()
    code, _, err = debtbot("check", "--baseline", "../ci/baseline.json")
    assert "2 findings matched the baseline, 2 gone, 0 new" in err and code == 0


def test_a_baseline_that_cannot_be_used_is_an_error(tmp_path, write, debtbot) -> None:
    write("a.py", DEBT)
    broken = write("baseline.json", "{not json")
    code, out, err = debtbot("check", "--baseline", "baseline.json", cwd=tmp_path)
    assert code == 2 and out == ""
    assert "baseline.json is not a debtbot baseline: not JSON" in err
    broken.write_text('{"findings": []}')
    assert "no version field" in debtbot("check", "--baseline", "baseline.json")[2]
    broken.write_text('{"version": 9, "findings": []}')
    code, _, err = debtbot("check", "--baseline", "baseline.json")
    assert code == 2 and "version 9 baseline; this debtbot reads version 1" in err
    broken.write_text('{"version": 1, "findings": [{"fingerprint": "x"}]}')
    code, _, err = debtbot("check", "--baseline", "baseline.json")
    assert code == 2 and "finding 0 is not an entry debtbot wrote" in err
    assert broken.read_text() == '{"version": 1, "findings": [{"fingerprint": "x"}]}'
    code, _, err = debtbot("check", "--baseline", "no/such/folder/b.json")
    assert code == 2 and "the folder no/such/folder does not exist" in err


def test_diff_reads_a_baseline_but_never_writes_one(repo, write, debtbot) -> None:
    root = Path(repo.working_tree_dir)
    write("a.py", "x = 1\n")
    commit_all(repo, "start")
    repo.git.checkout("-b", "feature")
    write("a.py", DEBT)
    code, _, err = debtbot("diff", "--baseline", "b.json", cwd=root)
    assert code == 2 and "no such baseline; write one with `debtbot check --baseline b.json`" in err
    assert not (root / "b.json").exists()
    assert debtbot("check", "a.py", "--baseline", "b.json")[0] == 0
    code, out, err = debtbot("diff", "--base", "main", "--baseline", "b.json", "--format", "json")
    assert code == 0 and json.loads(out)["findings"] == []
    assert "2 findings matched the baseline" in err


def test_exit_zero_reports_but_does_not_fail(tmp_path, write, debtbot) -> None:
    write("a.py", DEBT)
    code, out, _ = debtbot("check", "--exit-zero", cwd=tmp_path)
    assert code == 0 and "DEBT301" in out
    write("pyproject.toml", "[tool.debtbot]\nselcet = []\n")
    assert debtbot("check", "--exit-zero")[0] == 2  # errors still fail


def test_add_ignore_comments_each_finding_on_its_line(tmp_path, write, debtbot) -> None:
    write("a.py", DEBT)
    code, out, err = debtbot("check", "--add-ignore", cwd=tmp_path)
    assert code == 0, out
    assert "added ignores to 2 lines in 1 file" in err
    text = (tmp_path / "a.py").read_text()
    assert "    except Exception:  # debt: ignore[DEBT301]\n" in text
    assert "        return yaml.load(f)  # debt: ignore[DEBT401]\n" in text
    assert debtbot("check")[0] == 0
    # Nothing left to add: nothing changes.
    code, _, err = debtbot("check", "--add-ignore")
    assert code == 0 and "no findings, so no ignores to add" in err
    assert (tmp_path / "a.py").read_text() == text


def test_add_ignore_merges_with_an_existing_ignore_and_keeps_comments(
    tmp_path, write, debtbot
) -> None:
    write(
        "a.py",
        """
        import yaml
        import numpy as np

        value = yaml.load(open("x")) == np.nan  # debt: ignore[DEBT302] (checked upstream)
        other = yaml.load(open("y"))  # type: ignore
        """,
    )
    code, _, err = debtbot("check", "--add-ignore", cwd=tmp_path)
    assert code == 0, err
    lines = (tmp_path / "a.py").read_text().splitlines()
    assert lines[3].endswith("# debt: ignore[DEBT302, DEBT401] (checked upstream)")
    assert lines[4].endswith("# type: ignore  # debt: ignore[DEBT401]")


def test_add_ignore_never_writes_into_a_string(tmp_path, write, debtbot) -> None:
    source = '''
import yaml

config = yaml.load("""
seed: 1
""")
text = """a
""" + str(yaml.load(open("x")))
'''
    (tmp_path / "a.py").write_text(source)
    tree = ast.dump(ast.parse(source))
    code, _, err = debtbot("check", "--add-ignore", cwd=tmp_path)
    assert code == 0, err
    fixed = (tmp_path / "a.py").read_text()
    assert ast.dump(ast.parse(fixed)) == tree  # the strings are as they were
    assert '""")  # debt: ignore[DEBT401]\n' in fixed  # the finding's last line
    assert '""" + str(yaml.load(open("x")))  # debt: ignore[DEBT401]\n' in fixed
    assert "added ignores to 2 lines" in err


def test_add_ignore_in_yaml_and_where_no_comment_can_go(tmp_path, write, debtbot) -> None:
    write("config.yaml", "training:\n  use_gpu: yes\n  notes: |\n    fine\n")
    write("pkg/__init__.py", "")
    write("pkg/explore.ipynb", '{"cells": [], "metadata": {}, "nbformat": 4}\n')
    code, out, err = debtbot("check", "--add-ignore", "--extend-select", "DEBT402", cwd=tmp_path)
    assert (tmp_path / "config.yaml").read_text() == (
        "training:\n  use_gpu: yes  # debt: ignore[DEBT402]\n  notes: |\n    fine\n"
    )
    said = "no ignore added for pkg/explore.ipynb:1 DEBT102: this kind of file takes no comment"
    assert said in err
    assert code == 1 and "pkg/explore.ipynb:1:1: DEBT102" in out  # still reported


def test_add_ignore_only_for_what_the_baseline_does_not_hold(tmp_path, write, debtbot) -> None:
    write("a.py", DEBT)
    debtbot("check", "--baseline", "b.json", cwd=tmp_path)
    (tmp_path / "a.py").write_text((tmp_path / "a.py").read_text() + MORE_DEBT)
    code, _, err = debtbot("check", "--baseline", "b.json", "--add-ignore")
    assert code == 0, err
    text = (tmp_path / "a.py").read_text()
    assert text.count("# debt: ignore") == 1
    assert "added ignores to 1 line in 1 file" in err


def test_add_ignore_with_fix_or_stdin_is_a_usage_error(tmp_path, write, debtbot) -> None:
    write("a.py", DEBT)
    code, _, err = debtbot("check", "--add-ignore", "--fix", cwd=tmp_path)
    assert code == 2 and "cannot be combined with --fix" in err
    code, _, err = debtbot("check", "-", "--add-ignore", stdin=b"x = 1\n")
    assert code == 2 and "cannot take code on stdin" in err
    assert (tmp_path / "a.py").read_text() == DEBT.lstrip("\n")
