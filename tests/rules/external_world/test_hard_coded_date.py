"""DEBT1102 hard_coded_date: focused tests beyond the examples the rule carries."""

from __future__ import annotations

import pytest

from tests.conftest import rule_findings

findings = rule_findings


def test_hard_coded_date_reported_once_per_function() -> None:
    source = """
    import pandas as pd

    train = orders[orders.day <= pd.Timestamp("2021-06-30")]
    test = orders[orders.day > pd.Timestamp("2021-06-30")]

    def valid(orders):
        return orders[orders.day > pd.Timestamp("2021-06-30")]
    """
    found = findings("DEBT1102", source)
    assert [f.line for f in found] == [3, 7]
    assert "`2021-06-30`" in found[0].message


def test_hard_coded_date_reports_the_literal() -> None:
    [finding] = findings("DEBT1102", 'recent = df[df["ts"].dt.date >= "2022-03-01"]\n')
    assert finding.column == 33


@pytest.mark.parametrize(
    "source",
    [
        'if "2020-01-01" in holidays:\n    pass\n',  # membership, not a cut-off
        'if version >= "2.0.1":\n    pass\n',  # not a date
        'df = pd.read_sql(q, con, params={"start": "2020-01-01"})\n',  # a named parameter
        'sentinel = df[df.ts > "1970-01-01"]\n',  # the epoch
    ],
)
def test_hard_coded_date_quiet(source: str) -> None:
    assert findings("DEBT1102", source) == []


def test_hard_coded_date_in_a_variable_used_in_a_comparison() -> None:
    source = """
    def window(games):
        initial_date = "2022-01-01"
        return games[games.day > initial_date]
    """
    [finding] = findings("DEBT1102", source)
    assert finding.line == 2
    assert "`2022-01-01`" in finding.message


def test_hard_coded_date_module_constant_used_in_a_function() -> None:
    source = """
    SPLIT = "2021-06-30"

    def split(df):
        return df[df.ts < SPLIT], df[df.ts >= SPLIT]
    """
    assert [f.line for f in findings("DEBT1102", source)] == [1]


@pytest.mark.parametrize(
    "source",
    [
        'START = "2020-01-01"\nprint(START)\n',  # never selects data, and not named as an edge
        'PAPER_DATE = "2020-01-01"\n',
        'cutoff_version = "2020-01-01"\n',  # a version
        'dag = DAG("x", start_date=datetime(2023, 1, 1))\n',
        'cutoff = "2020-01-01"\ncutoff = args.cutoff or cutoff\n',  # a default overridden
    ],
)
def test_hard_coded_date_variables_left_alone(source: str) -> None:
    assert findings("DEBT1102", source) == []


def test_hard_coded_date_keyword_naming_a_data_edge() -> None:
    [finding] = findings("DEBT1102", 'run(new_data_split_date="2022-04-10")\n')
    assert "`2022-04-10`" in finding.message
