"""The engine: positions, fingerprints, suppressions, configuration and bad input."""

from __future__ import annotations

import dataclasses
import textwrap

import pytest

from rules import names
from rules.catalogue import rules_by_code
from rules.engine.analyse import analyse_source
from rules.engine.config import (
    ConfigError,
    config_from_pyproject_text,
    default_config,
    parse_config,
)

SWALLOW = """
import numpy as np

def load(paths):
    for path in paths:
        try:
            read(path)
        except Exception:
            pass
"""


def analyse(source: str, config=None, path: str = "pkg/mod.py"):
    data = textwrap.dedent(source).lstrip("\n").encode()
    return analyse_source(path, data, config or default_config())


def only(result, code):
    return [f for f in result.findings if f.code == code]


def test_positions_cover_the_flagged_node() -> None:
    [finding] = only(analyse(SWALLOW), "DEBT301")
    assert (finding.line, finding.end_line, finding.column) == (7, 8, 9)
    assert finding.principle == "cutting-corners"
    assert finding.severity == "warning"


def test_fingerprint_survives_lines_added_above() -> None:
    before = only(analyse(SWALLOW), "DEBT301")[0]
    after = only(analyse("import os\n\n\n" + SWALLOW.lstrip()), "DEBT301")[0]
    assert after.line == before.line + 3
    assert after.fingerprint == before.fingerprint


def test_identical_snippets_get_distinct_fingerprints() -> None:
    source = (
        SWALLOW + "\n\ndef other():\n    try:\n        x()\n    except Exception:\n        pass\n"
    )
    twice = source + "    try:\n        y()\n    except Exception:\n        pass\n"
    findings = only(analyse(twice), "DEBT301")
    assert len(findings) == 3
    assert len({f.fingerprint for f in findings}) == 3
    # Adding a copy inside `other` leaves the one inside `load` untouched.
    assert only(analyse(source), "DEBT301")[0].fingerprint == findings[0].fingerprint


def test_fingerprint_depends_on_path() -> None:
    a = only(analyse(SWALLOW, path="a.py"), "DEBT301")[0]
    b = only(analyse(SWALLOW, path="b.py"), "DEBT301")[0]
    assert a.fingerprint != b.fingerprint


@pytest.mark.parametrize(
    ("comment", "silenced"),
    [
        ("# debt: ignore[DEBT301]", True),
        ("# debt: ignore[DEBT999, DEBT301]", True),
        ("# debt: ignore", True),
        ("# DEBT: IGNORE[debt301]", True),
        ("# debt: ignore[DEBT302]", False),
        ("# noqa", False),
    ],
)
def test_line_suppression(comment: str, silenced: bool) -> None:
    source = SWALLOW.replace("except Exception:", f"except Exception:  {comment}")
    assert bool(only(analyse(source), "DEBT301")) is not silenced


def test_suppression_on_last_line_of_a_multiline_finding() -> None:
    source = SWALLOW.replace("            pass", "            pass  # debt: ignore[DEBT301]")
    assert only(analyse(source), "DEBT301") == []


def test_file_level_suppression() -> None:
    nan = "if x == np.nan:\n    pass\n"
    all_off = analyse("# debt: ignore-file\n" + textwrap.dedent(SWALLOW) + nan)
    assert all_off.findings == []
    one_off = analyse("# debt: ignore-file[DEBT301]\n" + textwrap.dedent(SWALLOW) + nan)
    assert [f.code for f in one_off.findings] == ["DEBT302"]


def test_select_ignore_by_prefix_and_principle() -> None:
    config = parse_config({"select": ["cutting-corners"], "ignore": ["DEBT302"]})
    assert "DEBT301" in config.enabled and "DEBT302" not in config.enabled
    assert all(rules_by_code()[c].principle == "cutting-corners" for c in config.enabled)
    assert parse_config({"select": ["DEBT30"]}).enabled >= {"DEBT301", "DEBT302"}


def test_per_file_ignores_and_severity_override() -> None:
    config = parse_config(
        {"per-file-ignores": {"scripts/*": ["DEBT301"]}, "severity": {"DEBT301": "error"}}
    )
    assert only(analyse(SWALLOW, config, path="scripts/run.py"), "DEBT301") == []
    [finding] = only(analyse(SWALLOW, config, path="pkg/run.py"), "DEBT301")
    assert finding.severity == "error"


def test_exclude_globs() -> None:
    config = parse_config({"exclude": ["notebooks/*", "legacy"]})
    assert config.is_excluded("notebooks/a.py")
    assert config.is_excluded("src/legacy/a.py")
    assert config.is_excluded(".venv/lib/x.py")  # default excludes stay
    assert not config.is_excluded("src/model.py")


@pytest.mark.parametrize(
    ("table", "named"),
    [
        ({"selct": ["DEBT"]}, "'selct'"),
        ({"select": "DEBT301"}, "select"),
        ({"select": ["NOPE"]}, "'NOPE'"),
        ({"severity": {"DEBT301": "fatal"}}, "severity.DEBT301"),
        ({"max-file-size": 0}, "max-file-size"),
        ({"rules": {"DEBT999": {}}}, "'DEBT999'"),
        ({"rules": {"DEBT301": {"limit": 3}}}, "limit"),
    ],
)
def test_configuration_errors_name_the_key(table: dict, named: str) -> None:
    with pytest.raises(ConfigError) as error:
        parse_config(table)
    assert named in str(error.value)


def test_rule_option_type_is_checked() -> None:
    with_options = [r for r in rules_by_code().values() if r.options]
    if not with_options:
        pytest.skip("no rule has options")
    rule = with_options[0]
    option, default = next(iter(rule.options.items()))
    wrong = "text" if not isinstance(default, str) else 3
    with pytest.raises(ConfigError, match=option):
        parse_config({"rules": {rule.code: {option: wrong}}})
    assert parse_config({"rules": {rule.code: {option: default}}}).options[rule.code] == {
        option: default
    }


def test_pyproject_without_table_and_invalid_toml() -> None:
    assert config_from_pyproject_text("[project]\nname='x'\n").enabled == default_config().enabled
    with pytest.raises(ConfigError, match="not valid TOML"):
        config_from_pyproject_text("[tool.debtbot\n")


@pytest.mark.parametrize(
    ("data", "reason"),
    [
        (b"def broken(:\n    pass\n", "syntax error at line 2, column 5: expected one of"),
        (b"x = '\xff\xfe'\n", "not UTF-8"),
        (b"\x00\x01\x02binary", "binary file"),
        (("x = " + "(" * 3000 + "1" + ")" * 3000 + "\n").encode(), "too deeply nested"),
    ],
)
def test_bad_input_is_skipped_with_a_reason(data: bytes, reason: str) -> None:
    result = analyse_source("bad.py", data, default_config())
    assert result.findings == []
    [skipped] = result.skipped
    assert skipped.path == "bad.py" and reason in skipped.reason


def test_oversized_file_is_skipped() -> None:
    config = parse_config({"max-file-size": 100})
    result = analyse_source("big.py", b"x = 1\n" * 50, config)
    assert "larger than 100 bytes" in result.skipped[0].reason


def test_a_crashing_rule_does_not_hide_other_findings() -> None:
    def explode(node, ctx):
        raise RuntimeError("boom")

    good = rules_by_code()["DEBT301"]
    bad = dataclasses.replace(rules_by_code()["DEBT302"], visitors={"visit_Call": explode})
    data = textwrap.dedent(SWALLOW).encode()
    result = analyse_source("m.py", data, default_config(), [good, bad])
    assert [f.code for f in result.findings] == ["DEBT301"]
    assert "rule DEBT302 failed on this file: RuntimeError: boom" in result.skipped[0].reason


def test_import_aliases_resolve_semantically() -> None:
    import libcst as cst

    aliases: dict[str, str] = {}
    module = cst.parse_module(
        "import numpy as np\nfrom sklearn.model_selection import train_test_split as tts\n"
        "import os.path\nfrom . import local\n"
    )
    for statement in module.body:
        names.add_import(aliases, statement.body[0])
    expr = cst.parse_expression
    assert names.qualify(expr("np.random.seed"), aliases) == "numpy.random.seed"
    assert names.qualify(expr("tts"), aliases) == "sklearn.model_selection.train_test_split"
    assert names.qualify(expr("os.path.join"), aliases) == "os.path.join"
    assert names.qualify(expr("local.f"), aliases) == ".local.f"
    assert names.qualify(expr("open"), aliases) == "open"
    assert names.qualify(expr("f()"), aliases) is None


def test_path_only_rules_see_files_too_large_to_read() -> None:
    rule = rules_by_code()["DEBT102"]
    config = parse_config({"max-file-size": 10})
    notebook = b'{"cells": [], "metadata": {}, "nbformat": 4, "nbformat_minor": 5}' * 100
    result = analyse_source("pkg/big.ipynb", notebook, config, [rule], {"pkg/__init__.py"})
    assert result.skipped == []
    assert [f.code for f in result.findings] == ["DEBT102"]


def test_review_table() -> None:
    review = parse_config(
        {"review": {"drafts": True, "bots": True, "max-comments": 10, "fail-on": "error"}}
    ).review
    assert (review.drafts, review.bots, review.max_comments, review.fail_on) == (
        True,
        True,
        10,
        "error",
    )
    assert default_config().review.fail_on == "never"
    with pytest.raises(ConfigError, match=r"review\.fail-on"):
        parse_config({"review": {"fail-on": "sometimes"}})
    with pytest.raises(ConfigError, match=r"'review\.draft'"):
        parse_config({"review": {"draft": True}})


def test_rules_off_by_default_run_only_when_named() -> None:
    off = [r.code for r in rules_by_code().values() if not r.default_enabled]
    assert off, "no rule is off by default"
    code = off[0]
    assert code not in default_config().enabled
    assert code not in parse_config({"select": ["DEBT"]}).enabled
    assert code in parse_config({"select": ["DEBT", code]}).enabled


def test_facts_of_a_file_with_classes_keep_every_word() -> None:
    # A class with bases once clobbered the file's text inside the facts collector.
    source = (
        b"import abc\n\n\nclass Scorer(abc.ABC):\n    pass\n\n\nclass Other(Scorer):\n    pass\n"
    )
    facts = analyse_source("m.py", source, default_config(), (), (), collect_facts=True).facts
    assert {"Scorer", "Other", "abc", "pass"} <= facts.names
    assert [(c.name, c.bases) for c in facts.classes] == [
        ("Scorer", ("abc.ABC",)),
        ("Other", ("Scorer",)),
    ]


def test_a_huge_operator_chain_is_skipped_quickly() -> None:
    # libcst's parse time grows with the square of the chain: 20,000 terms would take minutes.
    chain = ("total = " + " + ".join(["a"] * 20_000) + "\n").encode()
    result = analyse_source("generated.py", chain, default_config())
    assert result.findings == []
    assert "chains more than 1000 operators" in result.skipped[0].reason
    ordinary = ("total = " + " + ".join(["a"] * 50) + "\n" + "x = a + b\n" * 2_000).encode()
    assert analyse_source("ordinary.py", ordinary, default_config()).skipped == []


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"max-statements": "x"}, "max-statements: expected a number, got 'x'"),
        ({"max-statements": True}, "max-statements: expected a number, got True"),
        ({"limit": 3}, "limit: unknown option (known options: max-statements)"),
    ],
)
def test_rule_options_are_validated_with_a_message_naming_the_option(options, message) -> None:
    with pytest.raises(ConfigError) as error:
        parse_config({"rules": {"DEBT802": options}})
    assert str(error.value) == f"[tool.debtbot.rules.DEBT802] {message}"


def test_a_list_option_takes_strings_only_and_is_reported_whole() -> None:
    with pytest.raises(ConfigError, match=r"expected a list of strings, got \['a', 3\]"):
        parse_config({"rules": {"DEBT101": {"exploration-folders": ["a", 3]}}})
    config = parse_config({"rules": {"notebook-export": {"exploration-folders": ["labs"]}}})
    assert config.options["DEBT101"] == {"exploration-folders": ["labs"]}
