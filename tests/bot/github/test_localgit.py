"""Reading many files of a local repository at once, at a commit and in the working tree."""

from __future__ import annotations

from pathlib import Path

from bot.github import localgit
from tests.conftest import commit_all, new_repo


def test_many_files_at_a_commit_and_in_the_working_tree(tmp_path: Path) -> None:
    repo = new_repo(tmp_path)
    (tmp_path / "pkg").mkdir()
    (tmp_path / "pkg" / "a.py").write_text("A = 1\n")
    (tmp_path / "pkg" / "b.py").write_bytes(b"\x00\xffbinary")
    (tmp_path / "name with space.py").write_text("C = 3\n")
    head = commit_all(repo, "first")
    (tmp_path / "pkg" / "a.py").write_text("A = 2\n")  # changed, not committed
    asked = ["pkg/a.py", "pkg/b.py", "name with space.py", "pkg", "gone.py", "odd\nname.py"]
    at_commit = localgit.read_many(repo, head, asked)
    assert at_commit == {
        "pkg/a.py": b"A = 1\n",
        "pkg/b.py": b"\x00\xffbinary",
        "name with space.py": b"C = 3\n",
    }
    assert at_commit == {p: localgit.read_at(repo, head, p) for p in at_commit}
    in_tree = localgit.read_many(repo, None, asked)
    assert in_tree["pkg/a.py"] == b"A = 2\n" and "gone.py" not in in_tree
