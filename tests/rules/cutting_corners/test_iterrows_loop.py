"""DEBT304 iterrows_loop: focused tests beyond the examples the rule carries."""

from __future__ import annotations

from tests.conftest import rule_findings


def findings(code: str, source: str, path: str = "example.py", config=None, files=()):
    return rule_findings(code, source, path, config, files)


def test_iterrows_through_enumerate_and_tqdm_is_reported_at_the_call() -> None:
    source = """
    from tqdm.auto import tqdm
    for i, (_, row) in enumerate(tqdm(df.iterrows())):
        out.append(row.a * row.b)
    """
    (finding,) = findings("DEBT304", source)
    assert finding.line == 2
    assert "`df.iterrows()`" in finding.message


def test_iterrows_with_an_argument_is_not_pandas() -> None:
    source = """
    for row in table.iterrows(chunk=10):
        out.append(row)
    """
    assert findings("DEBT304", source) == []


def test_iterrows_that_only_writes_into_the_row_copy_is_left_alone() -> None:
    source = """
    for _, row in df.iterrows():
        row["seen"] = True
        notify(row)
    """
    assert findings("DEBT304", source) == []
