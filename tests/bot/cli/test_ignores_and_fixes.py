"""Where an ignore comment can go and how a replacement is applied, file kind by file kind."""

from __future__ import annotations

import pytest
import yaml

from bot.cli import fixes, ignores
from bot.cli.files import Lines, write_atomically
from rules.finding import Finding


def finding(path: str, line: int, end_line: int | None = None, code="DEBT301", replacement=None):
    return Finding(
        code=code,
        principle="cutting-corners",
        path=path,
        line=line,
        end_line=end_line or line,
        column=1,
        severity="warning",
        message="m",
        fingerprint=f"{path}{line}{code}",
        replacement=replacement,
    )


def add(path: str, text: str, *found: Finding) -> tuple[str, ignores.Plan]:
    plan = ignores.plan(found, lambda _: text.encode())
    return plan.after.get(path, text.encode()).decode(), plan


def test_python_lines_inside_a_string_or_continued_take_no_comment() -> None:
    text = 'x = f("""a\nb""", 1) + \\\n    g()\ns = 1\n'
    # Line 1 ends inside the string, line 2 with a backslash: the statement ends on line 3.
    after, plan = add("a.py", text, finding("a.py", 1, 3), finding("a.py", 2, 2))
    assert after == 'x = f("""a\nb""", 1) + \\\n    g()  # debt: ignore[DEBT301]\ns = 1\n'
    assert [(f.line, why) for f, why in plan.unplaced] == [(2, "no comment can go on its lines")]
    assert plan.lines == 1


def test_codes_on_one_line_are_merged_once() -> None:
    text = "a = 1  # debt: ignore[DEBT1]\n"
    found = [finding("a.py", 1, code="DEBT2"), finding("a.py", 1, code="DEBT2")]
    after, plan = add("a.py", text, *found, finding("a.py", 1, code="DEBT1"))
    assert after == "a = 1  # debt: ignore[DEBT1, DEBT2]\n"
    assert plan.lines == 1


def test_crlf_and_a_missing_last_newline_are_kept() -> None:
    after, _ = add("a.py", "a = 1\r\nb = 2", finding("a.py", 1), finding("a.py", 2))
    assert after == "a = 1  # debt: ignore[DEBT301]\r\nb = 2  # debt: ignore[DEBT301]"


def test_yaml_block_and_quoted_scalars_take_no_comment() -> None:
    text = 'a: |\n  text\nb: "one\n  two"\nc: 3\n'
    found = [finding("c.yaml", 2), finding("c.yaml", 3), finding("c.yaml", 5)]
    after, plan = add("c.yaml", text, *found)
    assert after == 'a: |\n  text\nb: "one\n  two"\nc: 3  # debt: ignore[DEBT301]\n'
    assert [f.line for f, _ in plan.unplaced] == [2, 3]
    assert yaml.safe_load(after) == yaml.safe_load(text)


def test_requirements_continuations_take_no_comment() -> None:
    text = "pandas\nblack \\\n    --hash=sha256:00\nnumpy  # fast\n"
    found = [finding("requirements.txt", n) for n in (1, 2, 4)]
    after, plan = add("requirements.txt", text, *found)
    assert after == (
        "pandas  # debt: ignore[DEBT301]\nblack \\\n    --hash=sha256:00\n"
        "numpy  # fast  # debt: ignore[DEBT301]\n"
    )
    assert [f.line for f, _ in plan.unplaced] == [2]


def test_a_python_file_this_interpreter_cannot_read_is_left_alone() -> None:
    _, plan = add("a.py", "def broken(:\n", finding("a.py", 1))
    assert plan.after == {} and plan.unplaced[0][1] == "this kind of file takes no comment"


def test_replacements_apply_bottom_up_and_overlaps_wait() -> None:
    text = "a = 1\r\nb = 2\r\nc = 3\r\n"
    found = [
        finding("a.py", 1, 2, replacement="a = b = 0"),
        finding("a.py", 2, replacement="b = 9"),  # overlaps the first: next pass
        finding("a.py", 3, replacement="c = 4\nd = 5"),
    ]
    plan = fixes.plan(found, lambda _: text.encode())
    assert plan.after["a.py"] == b"a = b = 0\r\nc = 4\r\nd = 5\r\n"
    assert plan.applied == 2


def test_a_fix_that_would_break_the_file_is_refused() -> None:
    plan = fixes.plan([finding("a.py", 1, replacement="a = (")], lambda _: b"a = 1\n")
    assert plan.after == {}
    assert plan.refused == [("a.py", "the fixed file would not parse; left as it is")]


def test_a_byte_order_mark_is_kept() -> None:
    lines = Lines.of(b"\xef\xbb\xbfa = 1\n")
    assert lines.lines == ["a = 1\n"] and lines.to_bytes() == b"\xef\xbb\xbfa = 1\n"


def test_a_failed_write_leaves_the_old_file_whole(tmp_path, monkeypatch) -> None:
    target = tmp_path / "a.py"
    target.write_text("old\n")
    target.chmod(0o640)

    def refuse(*_args):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr("os.replace", refuse)
    with pytest.raises(OSError):
        write_atomically(target, b"new\n")
    assert target.read_text() == "old\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a.py"]
    monkeypatch.undo()
    write_atomically(target, b"new\n")
    assert target.read_text() == "new\n" and (target.stat().st_mode & 0o777) == 0o640
