"""The flags ruff users reach for, run as they run them: selection, statistics, output format,
--config, --version, stdin, colour, --fix and --diff."""

from __future__ import annotations

import json
import os
import sys

import pytest

from bot.cli.main import main

DEBT = """
import numpy as np
import pandas as pd
import yaml


def clean(path):
    frame = pd.read_csv(path)
    try:
        frame = frame.dropna()
    except Exception:
        pass
    frame["income"][frame["income"] < 0] = 0
    return frame[frame == np.nan]


def load(path):
    with open(path) as f:
        return yaml.load(f)
"""

FIXED = """
import numpy as np
import pandas as pd
import yaml


def clean(path):
    frame = pd.read_csv(path)
    try:
        frame = frame.dropna()
    except Exception:
        pass
    frame.loc[frame["income"] < 0, "income"] = 0
    return frame[frame == np.nan]


def load(path):
    with open(path) as f:
        return yaml.safe_load(f)
"""


def codes(out: str) -> set[str]:
    return {f["code"] for f in json.loads(out)["findings"]}


def test_select_ignore_and_extend_select_override_the_file(tmp_path, write, debtbot) -> None:
    write("pyproject.toml", "[tool.debtbot]\nignore = ['DEBT301']\n")
    write("a.py", DEBT)
    code, out, _ = debtbot("check", "--format", "json", cwd=tmp_path)
    assert codes(out) == {"DEBT302", "DEBT401", "DEBT305"}
    # --select replaces the file's select and ignore, as in ruff.
    _, out, _ = debtbot("check", "--format", "json", "--select", "DEBT301,DEBT302")
    assert codes(out) == {"DEBT301", "DEBT302"}
    _, out, _ = debtbot("check", "--format", "json", "--select", "cutting-corners")
    assert codes(out) == {"DEBT301", "DEBT302", "DEBT305"}
    _, out, _ = debtbot("check", "--format", "json", "--ignore", "DEBT4", "--ignore", "DEBT305")
    assert codes(out) == {"DEBT302"}
    _, out, _ = debtbot("check", "--format", "json", "--extend-select", "DEBT301")
    assert codes(out) == {"DEBT301", "DEBT302", "DEBT401", "DEBT305"}
    code, out, err = debtbot("check", "--select", "DEBT9999")
    assert code == 2 and out == ""
    assert "--select: 'DEBT9999' matches no rule code, prefix or principle" in err


def test_statistics_count_findings_per_rule(tmp_path, write, debtbot) -> None:
    write("a.py", DEBT)
    write("b.py", DEBT)
    code, out, _ = debtbot("check", "--statistics", cwd=tmp_path)
    assert code == 1
    lines = out.splitlines()
    assert lines[0].split("\t") == ["2", "DEBT301", "[ ] swallowed-exception"]
    assert "2\tDEBT401\t[*] unsafe-yaml-load" in lines
    code, out, _ = debtbot("check", "--statistics", "--output-format", "json")
    assert {"code": "DEBT305", "name": "chained-indexing-assignment", "count": 2, "fixable": 2} in (
        json.loads(out)
    )
    code, _, err = debtbot("check", "--statistics", "--format", "sarif")
    assert code == 2 and "--statistics prints text or json, not sarif" in err


def test_output_format_is_format(tmp_path, write, debtbot) -> None:
    write("a.py", DEBT)
    _, by_format, _ = debtbot("check", "--format", "github", "--no-progress", cwd=tmp_path)
    _, by_output_format, _ = debtbot("check", "--output-format", "github")
    assert by_format == by_output_format and by_format.startswith("::")
    with pytest.raises(SystemExit) as exited:
        main(["check", "--output-format", "yaml"])
    assert exited.value.code == 2


def test_config_names_the_configuration_to_use(tmp_path, write, debtbot) -> None:
    write("pyproject.toml", "[tool.debtbot]\nselect = ['DEBT301']\n")
    write("ci/debtbot.toml", "select = ['DEBT302']\nper-file-ignores = { 'legacy/*' = ['DEBT3'] }")
    write("pkg/a.py", DEBT)
    write("legacy/a.py", DEBT)
    code, out, _ = debtbot("check", "--config", "ci/debtbot.toml", "--format", "json", cwd=tmp_path)
    assert code == 1
    # Its patterns are rooted at the current folder, as ruff's --config.
    assert {(f["path"], f["code"]) for f in json.loads(out)["findings"]} == {
        ("pkg/a.py", "DEBT302")
    }
    write("other/pyproject.toml", "[project]\nname = 'x'\n")
    code, _, err = debtbot("check", "--config", "other/pyproject.toml")
    assert code == 2 and "other/pyproject.toml has no [tool.debtbot] table" in err
    code, _, err = debtbot("check", "--config", "missing.toml")
    assert code == 2 and "missing.toml: no such file" in err
    write("bad.toml", "select = 'DEBT301'\n")
    code, _, err = debtbot("check", "--config", "bad.toml")
    assert code == 2 and "bad.toml: select: " in err


def test_version(capsys) -> None:
    with pytest.raises(SystemExit) as exited:
        main(["--version"])
    assert exited.value.code == 0
    assert capsys.readouterr().out.startswith("debtbot ")


def test_code_on_stdin(tmp_path, write, debtbot) -> None:
    write("pyproject.toml", "[tool.debtbot]\nper-file-ignores = { 'scripts/*' = ['DEBT301'] }\n")
    code, out, _ = debtbot("check", "-", cwd=tmp_path, stdin=DEBT.encode())
    assert code == 1
    assert "-:11:5: DEBT301 [warning]" in out
    # Named, it is governed as the file it would be: here by a per-file ignore.
    code, out, _ = debtbot(
        "check", "-", "--stdin-filename", "scripts/run.py", "--format", "json", stdin=DEBT.encode()
    )
    assert "DEBT301" not in codes(out) and "DEBT302" in codes(out)
    assert {f["path"] for f in json.loads(out)["findings"]} == {"scripts/run.py"}
    assert not (tmp_path / "scripts").exists()
    # --fix on stdin prints the fixed code, and what is left on stderr, as ruff does.
    code, out, err = debtbot("check", "--fix", "--stdin-filename", "a.py", stdin=DEBT.encode())
    assert out == FIXED
    assert "a.py:11:5: DEBT301" in err and "fixed 2 findings in 1 file; 2 findings left" in err
    assert code == 1
    code, _, err = debtbot("check", "-", "a.py", stdin=b"")
    assert code == 2 and "cannot be checked with other paths" in err
    code, _, err = debtbot("check", "a.py", "--stdin-filename", "x.py")
    assert code == 2 and "pass - as the path" in err


def test_colour_only_on_a_terminal_and_never_with_no_color(
    tmp_path, write, debtbot, monkeypatch
) -> None:
    write("a.py", DEBT)
    monkeypatch.delenv("NO_COLOR", raising=False)
    _, out, _ = debtbot("check", cwd=tmp_path)
    assert "\x1b[" not in out  # not a terminal
    monkeypatch.setattr(sys.stdout, "isatty", lambda: True, raising=False)
    _, out, _ = debtbot("check")
    assert "[\x1b[33mwarning\x1b[0m]" in out
    monkeypatch.setenv("NO_COLOR", "1")
    _, out, _ = debtbot("check")
    assert "\x1b[" not in out and "[warning]" in out


def test_fix_writes_then_reports_what_is_left(tmp_path, write, debtbot) -> None:
    write("a.py", DEBT)
    write("ok.py", "x = 1\n")
    code, out, err = debtbot("check", "--fix", "--format", "json", cwd=tmp_path)
    assert (tmp_path / "a.py").read_text() == FIXED.lstrip("\n")
    assert codes(out) == {"DEBT301", "DEBT302"}
    assert "fixed 2 findings in 1 file; 2 findings left" in err
    assert code == 1
    code, _, err = debtbot("check", "--fix", "--select", "DEBT4,DEBT305")
    assert code == 0 and "fixed 0 findings in 0 files; 0 findings left" in err


def test_fix_keeps_line_endings(tmp_path, debtbot) -> None:
    crlf = DEBT.lstrip("\n").replace("\n", "\r\n").encode()
    (tmp_path / "a.py").write_bytes(crlf)
    assert debtbot("check", "--fix", cwd=tmp_path)[0] == 1
    assert (tmp_path / "a.py").read_bytes() == FIXED.lstrip("\n").replace("\n", "\r\n").encode()


def test_diff_shows_the_fixes_and_changes_nothing(tmp_path, write, debtbot) -> None:
    write("pkg/a.py", DEBT)
    before = (tmp_path / "pkg/a.py").read_bytes()
    code, out, err = debtbot("check", "--diff", cwd=tmp_path / "pkg")
    assert code == 1
    assert (tmp_path / "pkg/a.py").read_bytes() == before
    assert out.startswith("--- a/a.py\n+++ b/a.py\n@@ ")
    assert '-    frame["income"][frame["income"] < 0] = 0\n' in out
    assert '+    frame.loc[frame["income"] < 0, "income"] = 0\n' in out
    assert "-        return yaml.load(f)\n+        return yaml.safe_load(f)\n" in out
    assert "would fix 2 findings in 1 file" in err
    code, out, err = debtbot("check", "--diff", "--select", "DEBT301")
    assert code == 0 and out == "" and "nothing to fix" in err


def test_a_failed_fix_loses_nothing(tmp_path, write, debtbot, monkeypatch) -> None:
    write("a.py", DEBT)

    def full_disk(*_args):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "replace", full_disk)
    code, out, err = debtbot("check", "--fix", cwd=tmp_path)
    assert code == 2 and out == ""
    assert "cannot write a.py (No space left on device); it is unchanged" in err
    assert (tmp_path / "a.py").read_text() == DEBT.lstrip("\n")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a.py"]


def test_sarif_carries_the_fixes(tmp_path, write, debtbot) -> None:
    write("a.py", DEBT)
    _, out, _ = debtbot("check", "--format", "sarif", cwd=tmp_path)
    results = {r["ruleId"]: r for r in json.loads(out)["runs"][0]["results"]}
    assert "fixes" not in results["DEBT301"]
    [fix] = results["DEBT401"]["fixes"]
    [change] = fix["artifactChanges"]
    assert change["artifactLocation"]["uri"] == "a.py"
    assert change["replacements"] == [
        {
            "deletedRegion": {"startLine": 18, "endLine": 18},
            "insertedContent": {"text": "        return yaml.safe_load(f)"},
        }
    ]
