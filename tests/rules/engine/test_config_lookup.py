"""Which configuration governs a file: the closest pyproject.toml that has [tool.debtbot]."""

from __future__ import annotations

import pytest

from rules.engine.config import (
    ConfigError,
    Selection,
    config_from_file,
    default_config,
    find_config,
    group_by_config,
    parse_config,
)

MONOREPO = {
    "pyproject.toml": b"[tool.debtbot]\nignore = ['DEBT301']\n",
    "services/api/pyproject.toml": b"[project]\nname = 'api'\n",  # no table: search goes on
    "services/ml/pyproject.toml": (
        b"[tool.debtbot]\nexclude = ['legacy']\nper-file-ignores = { 'scripts/*' = ['DEBT302'] }\n"
    ),
}


def reader(files: dict[str, bytes], reads: list[str] | None = None):
    """Files at a commit, as the App reads them: by repository-relative path."""

    def read(path: str) -> bytes | None:
        if reads is not None:
            reads.append(path)
        return files.get(path)

    return read


def test_the_closest_pyproject_with_the_table_wins() -> None:
    read = reader(MONOREPO)
    root = find_config("train.py", read)
    assert root.pyproject == "pyproject.toml" and "DEBT301" not in root.config.enabled
    api = find_config("services/api/app/main.py", read)
    assert api.pyproject == "pyproject.toml"  # its own pyproject.toml has no [tool.debtbot]
    ml = find_config("services/ml/scripts/run.py", read)
    assert ml.pyproject == "services/ml/pyproject.toml"
    assert "DEBT301" in ml.config.enabled  # the root's ignore is not inherited, as in ruff
    assert ml.config.folder == "services/ml"


def test_patterns_are_rooted_at_the_sub_project() -> None:
    config = find_config("services/ml/x.py", reader(MONOREPO)).config
    assert config.is_excluded("services/ml/legacy/old.py")
    folder = parse_config({"exclude": ["data/raw"]})
    assert folder.is_excluded("data/raw/x.py") and folder.is_excluded("data/raw")
    assert not folder.is_excluded("data/rawer/x.py") and not folder.is_excluded("data/x.py")
    assert not config.is_excluded("services/ml/new.py")
    assert config.ignored_here("services/ml/scripts/run.py") == {"DEBT302"}
    assert config.ignored_here("services/ml/pkg/run.py") == frozenset()


def test_defaults_when_no_pyproject_has_the_table() -> None:
    found = find_config("a/b.py", reader({"a/pyproject.toml": b"[project]\nname='a'\n"}))
    assert found.pyproject is None
    assert found.config.enabled == default_config().enabled


def test_each_folder_is_read_once_and_the_search_stops_at_top() -> None:
    reads: list[str] = []
    groups = group_by_config(
        ["services/ml/a.py", "services/ml/b.py", "services/api/c.py", "d.py"],
        reader(MONOREPO, reads),
    )
    assert [(config.folder, paths) for config, paths in groups] == [
        ("services/ml", ["services/ml/a.py", "services/ml/b.py"]),
        ("", ["services/api/c.py", "d.py"]),
    ]
    assert len(reads) == len(set(reads))
    reads.clear()
    found = find_config("/repo/sub/x.py", reader({}, reads), top="/repo")
    assert found.pyproject is None
    assert reads == ["/repo/sub/pyproject.toml", "/repo/pyproject.toml"]


def test_a_broken_pyproject_is_named() -> None:
    with pytest.raises(ConfigError, match=r"^sub/pyproject.toml is not valid TOML"):
        find_config("sub/x.py", reader({"sub/pyproject.toml": b"[tool.debtbot\n"}))
    with pytest.raises(ConfigError, match=r"^sub/pyproject.toml: \[tool.debtbot\] unknown key"):
        find_config("sub/x.py", reader({"sub/pyproject.toml": b"[tool.debtbot]\nselcet = []\n"}))


def test_command_line_selection_is_laid_over_the_file_as_in_ruff() -> None:
    table = {"select": ["DEBT3"], "ignore": ["DEBT301"]}
    assert parse_config(table).enabled >= {"DEBT302"}
    only = parse_config(table, Selection(select=("DEBT301",)))
    assert only.enabled == {"DEBT301"}  # --select replaces the file's select and ignore
    more = parse_config(table, Selection(extend_select=("DEBT903", "glue-code")))
    assert {"DEBT302", "DEBT903"} <= more.enabled and "DEBT301" not in more.enabled
    assert any(code.startswith("DEBT8") for code in more.enabled)
    less = parse_config(table, Selection(ignore=("DEBT302",)))
    assert "DEBT302" not in less.enabled
    with pytest.raises(ConfigError, match="--select: 'NOPE' matches no rule"):
        parse_config({}, Selection(select=("NOPE",)))
    assert default_config(Selection(select=("cutting-corners",))).enabled == {
        code for code in default_config().enabled if code.startswith("DEBT3")
    }


def test_a_config_file_named_on_the_command_line(tmp_path) -> None:
    own = tmp_path / "debtbot.toml"
    own.write_text("select = ['DEBT301']\n")
    assert config_from_file(own).enabled == {"DEBT301"}
    pyproject = tmp_path / "pyproject.toml"
    pyproject.write_text("[project]\nname = 'x'\n")
    with pytest.raises(ConfigError, match=r"has no \[tool\.debtbot\] table"):
        config_from_file(pyproject)
    with pytest.raises(ConfigError, match="no such file"):
        config_from_file(tmp_path / "missing.toml")
    own.write_text("select = 'DEBT301'\n")
    with pytest.raises(ConfigError, match=r"debtbot\.toml: select: "):
        config_from_file(own)
