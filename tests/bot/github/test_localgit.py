"""Reading many files of a local repository at once, at a commit and in the working tree."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.github import localgit
from rules.engine import factcache
from tests.conftest import commit_all, new_repo


def test_many_files_at_a_commit_by_blob_id_and_in_the_working_tree(tmp_path: Path) -> None:
    repo = new_repo(tmp_path)
    (tmp_path / "pkg").mkdir()
    (tmp_path / "pkg" / "a.py").write_text("A = 1\n")
    (tmp_path / "pkg" / "b.py").write_bytes(b"\x00\xffbinary")
    (tmp_path / "name with space.py").write_text("C = 3\n")
    head = commit_all(repo, "first")
    (tmp_path / "pkg" / "a.py").write_text("A = 2\n")  # changed, not committed
    asked = ["pkg/a.py", "pkg/b.py", "name with space.py", "pkg", "gone.py", "odd\nname.py"]
    tree = localgit.tree_at(localgit.git_command(repo), head)
    blobs = localgit.GitBlobs(localgit.git_command(repo))
    blobs.load(tree[p] for p in asked if p in tree)
    at_commit = {p: blobs.read(tree[p]) for p in asked if p in tree}
    assert at_commit == {
        "pkg/a.py": b"A = 1\n",
        "pkg/b.py": b"\x00\xffbinary",
        "name with space.py": b"C = 3\n",
    }
    assert at_commit == {p: localgit.read_at(repo, head, p) for p in at_commit}
    assert localgit.read_at(repo, None, "pkg/a.py") == b"A = 2\n"


def test_the_tree_names_each_file_by_the_blob_id_of_its_bytes(tmp_path: Path) -> None:
    repo = new_repo(tmp_path)
    (tmp_path / "pkg").mkdir()
    (tmp_path / "pkg" / "a.py").write_text("A = 1\n")
    (tmp_path / "name with space.py").write_bytes(b"\x00\xffbinary")
    head = commit_all(repo, "first")

    tree = localgit.tree_at(localgit.git_command(repo), head)

    assert set(tree) == {"pkg/a.py", "name with space.py"}
    for path, blob_id in tree.items():
        data = (tmp_path / path).read_bytes()
        assert blob_id == factcache.blob_id(data) == repo.git.hash_object(str(tmp_path / path))


def test_blobs_are_read_many_at_once_and_a_missing_one_is_a_clear_error(tmp_path: Path) -> None:
    repo = new_repo(tmp_path)
    (tmp_path / "a.py").write_text("A = 1\n")
    (tmp_path / "b.py").write_text("B = 2\n")
    head = commit_all(repo, "first")
    tree = localgit.tree_at(localgit.git_command(repo), head)
    for blobs in (localgit.blobs(repo), localgit.GitBlobs(localgit.git_command(repo))):
        blobs.load(tree.values())
        assert blobs.read(tree["a.py"]) == b"A = 1\n"
        assert blobs.read(tree["b.py"]) == b"B = 2\n"
        missing = "0123456789abcdef0123456789abcdef01234567"
        with pytest.raises(OSError, match="blob 0123456789ab is missing"):
            blobs.read(missing)
    with pytest.raises(OSError, match="git ls-tree -r failed"):
        localgit.tree_at(localgit.git_command(repo), "no-such-revision")
