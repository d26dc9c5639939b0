"""DEBT1003 commented_out_code: focused tests beyond the examples the rule carries."""

from __future__ import annotations

from rules.catalogue import rules_by_code
from rules.engine.analyse import analyse_source
from rules.engine.config import default_config, parse_config
from tests.conftest import rule_findings

findings = rule_findings


def test_commented_out_code_reports_the_whole_block() -> None:
    source = """
    x = 1
    # Previous approach:
    # y = x + 1
    # z = y * 2
    # print(z)
    w = 3
    """
    [finding] = findings("DEBT1003", source)
    assert (finding.line, finding.end_line, finding.column) == (3, 5, 1)
    assert "commented-out 3 lines" in finding.message


def test_commented_out_code_min_lines_option() -> None:
    source = "x = 1\n# y = x + 1\n# z = y * 2\n"
    assert len(findings("DEBT1003", source)) == 1
    config = parse_config({"rules": {"DEBT1003": {"min-lines": 3}}})
    assert findings("DEBT1003", source, config=config) == []
    config = parse_config({"rules": {"commented-out-code": {"min-lines": 1}}})
    assert len(findings("DEBT1003", "x = 1\n# y = x + 1\n", config=config)) == 1


def test_commented_out_code_one_finding_per_region() -> None:
    source = """
    x = 1

    # class Baseline:
    #     \"\"\"
    #     The old model, for comparison.
    #     \"\"\"
    #     def fit(self, X, y):
    #         self.mean = y.mean()

    #     def predict(self, X):
    #         \"\"\"Predict the mean.\"\"\"
    #         return np.full(len(X), self.mean)
    w = 3
    """
    [finding] = findings("DEBT1003", source)
    assert (finding.line, finding.end_line) == (3, 12)
    assert "commented-out 9 lines" in finding.message


def test_commented_out_code_scattered_single_lines_are_not_a_block() -> None:
    source = """
    # Directory that holds configuration.
    # CONF_SOURCE = "conf"

    # from kedro.config import OmegaConfigLoader

    # CONFIG_LOADER_CLASS = OmegaConfigLoader
    """
    assert findings("DEBT1003", source) == []


def test_commented_out_code_prose_still_splits_regions() -> None:
    source = """
    # y = x + 1
    # z = y * 2

    # Older experiment with a bigger model:
    # model = build(width=512)
    # model.fit(X, y)
    """
    assert [f.line for f in findings("DEBT1003", source)] == [1, 5]


def test_commented_out_code_survives_broken_tokens() -> None:
    # An unterminated triple-quoted string cannot be tokenized; the rule must not crash.
    rule = rules_by_code()["DEBT1003"]
    result = analyse_source("a.py", b"# x = 1\n# y = 2\ns = '''\n", default_config(), [rule])
    assert not [s for s in result.skipped if "DEBT1003" in s.reason]


def test_commented_out_code_lone_lines_only_when_asked() -> None:
    source = """
    def evaluate(model, loader):
        # model.eval()
        return [model(x) for x in loader]
    """
    assert findings("DEBT1003", source) == []
    config = parse_config({"rules": {"DEBT1003": {"single-lines": True}}})
    [finding] = findings("DEBT1003", source, config=config)
    assert finding.line == 2
    call = """
    drift_detector = evidently_profile_step(
        step_name="drift_detector",
        params=EvidentlyProfileParameters(
            #column_mapping=None,
            profile_sections=["datadrift"],
        )
    )
    """
    [finding] = findings("DEBT1003", call, config=config)
    assert finding.line == 4
