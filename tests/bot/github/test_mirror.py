from __future__ import annotations

import base64
import os
import shutil
import stat
from pathlib import Path

import git
import pytest

from bot.github import mirror as gitmirror
from bot.github.mirror import MirrorError
from tests.conftest import commit_all, new_repo


def _write(root: Path, relative: str, text: str) -> None:
    path = root / relative
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)


def make_repo(root: Path) -> git.Repo:
    repo = new_repo(root)
    return repo


@pytest.fixture
def remote(tmp_path: Path) -> git.Repo:
    """A "GitHub" repository: main with two commits, pull request 7 branching off the first."""
    root = tmp_path / "remote"
    repo = make_repo(root)
    _write(root, "pkg/model.py", "".join(f"line{n} = {n}\n" for n in range(1, 21)))
    _write(root, "README.md", "hello\n")
    first = commit_all(repo, "first")
    _write(root, "README.md", "hello again\n")
    commit_all(repo, "main moves on")
    repo.git.checkout("-b", "feature", first)
    lines = [f"line{n} = {n}\n" for n in range(1, 21)]
    lines[4] = "line5 = 'changed'\n"
    lines[15:15] = ["added_a = 1\n", "added_b = 2\n"]
    _write(root, "pkg/model.py", "".join(lines))
    _write(root, "pkg/new.py", "x = 1\ny = 2\n")
    (root / "README.md").unlink()
    commit_all(repo, "feature work")
    repo.git.update_ref("refs/pull/7/head", "feature")
    repo.git.checkout("main")
    return repo


@pytest.fixture
def mirror(tmp_path: Path, remote: git.Repo) -> Path:
    path = gitmirror.ensure_mirror(tmp_path / "data", "acme/models", remote.working_tree_dir)
    gitmirror.fetch_pull(path, "main", 7, token=None)
    return path


def test_mirror_is_bare_under_data_dir_without_hooks(tmp_path: Path, remote: git.Repo) -> None:
    path = gitmirror.ensure_mirror(tmp_path / "data", "acme/models", remote.working_tree_dir)
    assert path == tmp_path / "data" / "mirrors" / "acme" / "models.git"
    assert git.Repo(path).bare
    assert not (path / "hooks").exists() or not any((path / "hooks").iterdir())
    hooks_path = git.Repo(path).config_reader().get_value("core", "hooksPath")
    assert Path(hooks_path).is_dir() and not any(Path(hooks_path).iterdir())
    # Using it again keeps the same mirror.
    assert (
        gitmirror.ensure_mirror(tmp_path / "data", "acme/models", remote.working_tree_dir) == path
    )


def test_a_relative_data_dir_works(
    tmp_path: Path, remote: git.Repo, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    path = gitmirror.ensure_mirror(Path("debtbot-data"), "acme/models", remote.working_tree_dir)
    gitmirror.fetch_pull(path, "main", 7, token=None)
    assert gitmirror.list_files(path, "refs/pull/7/head") == {"pkg/model.py", "pkg/new.py"}
    assert (tmp_path / "debtbot-data" / "mirrors" / "acme" / "models.git" / "HEAD").is_file()


def test_fetch_brings_base_and_pull_head(mirror: Path, remote: git.Repo) -> None:
    assert gitmirror.resolve(mirror, "refs/heads/main") == remote.commit("main").hexsha
    assert gitmirror.resolve(mirror, "refs/pull/7/head") == remote.commit("feature").hexsha
    assert gitmirror.resolve(mirror, "refs/pull/8/head") is None
    assert not (mirror / "FETCH_HEAD").exists()


def test_fetch_is_incremental_and_follows_force_pushes(mirror: Path, remote: git.Repo) -> None:
    root = Path(remote.working_tree_dir)
    remote.git.checkout("feature")
    _write(root, "pkg/new.py", "x = 1\ny = 3\n")
    pushed = commit_all(remote, "second push")
    remote.git.update_ref("refs/pull/7/head", pushed)
    remote.git.checkout("main")
    objects_before = {p.name for p in (mirror / "objects").rglob("*") if p.is_file()}
    gitmirror.fetch_pull(mirror, "main", 7, token=None)
    assert gitmirror.resolve(mirror, "refs/pull/7/head") == pushed
    objects_after = {p.name for p in (mirror / "objects").rglob("*") if p.is_file()}
    assert objects_before <= objects_after  # nothing fetched before is thrown away

    remote.git.update_ref("refs/pull/7/head", remote.commit("main").hexsha)  # a force push
    gitmirror.fetch_pull(mirror, "main", 7, token=None)
    assert gitmirror.resolve(mirror, "refs/pull/7/head") == remote.commit("main").hexsha


def test_merge_base_changed_lines_and_hunks(mirror: Path, remote: git.Repo) -> None:
    base = gitmirror.merge_base(mirror, "refs/heads/main", "refs/pull/7/head")
    assert base == remote.commit("main~1").hexsha
    head = remote.commit("feature").hexsha
    changed = gitmirror.changed_lines(mirror, base, head)
    # README.md was deleted: nothing to comment on there; main's own change is not ours.
    assert changed == {"pkg/model.py": frozenset({5, 16, 17}), "pkg/new.py": frozenset({1, 2})}
    commentable = gitmirror.hunks(mirror, base, head)
    # Changes at 5 and 16-17 are 10 lines apart: two hunks with 3 lines of context each.
    assert commentable["pkg/model.py"] == (range(2, 9), range(13, 21))
    assert commentable["pkg/new.py"] == (range(1, 3),)


def test_read_file_and_list_files_at_a_commit(mirror: Path, remote: git.Repo) -> None:
    head = remote.commit("feature").hexsha
    assert gitmirror.read_file(mirror, head, "pkg/new.py") == b"x = 1\ny = 2\n"
    assert gitmirror.list_files(mirror, head) == frozenset({"pkg/model.py", "pkg/new.py"})
    with pytest.raises(FileNotFoundError, match=r"README\.md"):
        gitmirror.read_file(mirror, head, "README.md")
    with pytest.raises(FileNotFoundError):
        gitmirror.read_file(mirror, head, "pkg")  # a folder is not a file


def test_binary_file_bytes_are_kept(tmp_path: Path, remote: git.Repo) -> None:
    root = Path(remote.working_tree_dir)
    data = bytes(range(256)) * 3
    (root / "blob.bin").write_bytes(data)
    sha = commit_all(remote, "binary")
    path = gitmirror.ensure_mirror(tmp_path / "data", "acme/models", remote.working_tree_dir)
    gitmirror.fetch_pull(path, "main", 7, token=None)
    assert gitmirror.read_file(path, sha, "blob.bin") == data


def test_unrelated_histories_are_a_clear_error(mirror: Path, tmp_path: Path) -> None:
    other = make_repo(tmp_path / "other")
    _write(tmp_path / "other", "a.txt", "a\n")
    commit_all(other, "unrelated")
    orphan = gitmirror.ensure_mirror(tmp_path / "data", "acme/other", str(tmp_path / "other"))
    other.git.update_ref("refs/pull/1/head", "main")
    gitmirror.fetch_pull(orphan, "main", 1, token=None)
    # Bring the unrelated commit into the first mirror to compare them.
    git.Git().execute(["git", f"--git-dir={mirror}", "fetch", "-q", str(orphan), "main:other"])
    with pytest.raises(MirrorError, match="share no history"):
        gitmirror.merge_base(mirror, "refs/heads/main", "refs/heads/other")


@pytest.mark.parametrize("name", ["../evil", "acme/..", "acme", "acme/re po", "/etc/passwd"])
def test_repository_names_cannot_escape_data_dir(tmp_path: Path, name: str) -> None:
    with pytest.raises(MirrorError, match="not a repository name"):
        gitmirror.ensure_mirror(tmp_path, name, "https://github.com/acme/x.git")


def test_credentials_in_the_clone_url_are_refused(tmp_path: Path) -> None:
    with pytest.raises(MirrorError, match="must not carry credentials"):
        gitmirror.ensure_mirror(tmp_path, "acme/x", "https://x-access-token:t@github.com/acme/x")


@pytest.mark.parametrize("branch", ["--upload-pack=touch pwned", "a..b", "bad name", "x:y"])
def test_bad_branch_names_are_refused(mirror: Path, branch: str) -> None:
    with pytest.raises(MirrorError, match="not a branch name"):
        gitmirror.fetch_pull(mirror, branch, 7, token=None)


def test_revisions_that_look_like_options_are_refused(mirror: Path) -> None:
    with pytest.raises(MirrorError, match="not a revision"):
        gitmirror.merge_base(mirror, "--all", "refs/pull/7/head")
    with pytest.raises(MirrorError, match="not a revision"):
        gitmirror.list_files(mirror, "--output=/tmp/x")


def _fake_git(tmp_path: Path, script: str) -> Path:
    """A `git` first on PATH that records its environment, then does ``script``."""
    folder = tmp_path / "bin"
    folder.mkdir()
    fake = folder / "git"
    fake.write_text(f"#!/bin/sh\nenv > {tmp_path}/env.txt\n{script}\n")
    fake.chmod(fake.stat().st_mode | stat.S_IEXEC)
    return folder


def test_token_travels_only_in_the_fetch_environment(
    tmp_path: Path, remote: git.Repo, monkeypatch: pytest.MonkeyPatch
) -> None:
    url = "https://github.example.com/acme/models.git"
    path = gitmirror.ensure_mirror(tmp_path / "data", "acme/models", url)
    real_git = shutil.which("git")
    token = "ghs_secretsecretsecret"
    folder = _fake_git(tmp_path, f'exec {real_git} "$@"')
    monkeypatch.setenv("PATH", f"{folder}{os.pathsep}{os.environ['PATH']}")
    with pytest.raises(MirrorError) as failure:  # nothing listens at github.example.com
        gitmirror.fetch_pull(path, "main", 7, token=token)
    assert token not in str(failure.value)
    env = (tmp_path / "env.txt").read_text()
    expected = base64.b64encode(f"x-access-token:{token}".encode()).decode()
    # The header is one of the configuration entries git is given in its environment.
    lines = [line for line in env.splitlines() if line.startswith("GIT_CONFIG_")]
    entries = dict(line.split("=", 1) for line in lines)
    [index] = [
        key.removeprefix("GIT_CONFIG_KEY_")
        for key, value in entries.items()
        if key.startswith("GIT_CONFIG_KEY_") and value == f"http.{url}.extraheader"
    ]
    assert entries[f"GIT_CONFIG_VALUE_{index}"] == f"AUTHORIZATION: basic {expected}"
    # Nowhere on disk: not in the mirror's config, refs or anything else it wrote.
    for file in tmp_path.joinpath("data").rglob("*"):
        if file.is_file():
            content = file.read_bytes()
            assert token.encode() not in content and expected.encode() not in content, file


def test_the_mirrors_hooks_never_run(mirror: Path, remote: git.Repo, tmp_path: Path) -> None:
    # Even a hook planted in the mirror (by someone, somehow) is not run by a fetch.
    hooks = mirror / "hooks"
    hooks.mkdir(exist_ok=True)
    marker = tmp_path / "hook-ran"
    for name in ("reference-transaction", "post-checkout", "post-merge"):
        hook = hooks / name
        hook.write_text(f"#!/bin/sh\ntouch {marker}\n")
        hook.chmod(0o755)
    git.Git().execute(["git", f"--git-dir={mirror}", "config", "--unset", "core.hooksPath"])
    remote.git.update_ref("refs/pull/7/head", remote.commit("main").hexsha)
    gitmirror.fetch_pull(mirror, "main", 7, token=None)
    assert gitmirror.resolve(mirror, "refs/pull/7/head") == remote.commit("main").hexsha
    assert not marker.exists()


def test_many_files_are_read_by_one_process_as_one_by_one(mirror: Path, remote: git.Repo) -> None:
    head = gitmirror.resolve(mirror, gitmirror.pull_ref_name(7))
    files = sorted(gitmirror.list_files(mirror, head))
    asked = [*files, "README.md", "pkg", "no/such.py", "odd\nname.py"]
    tree, blobs = gitmirror.blobs_at(mirror, head)
    blobs.load(tree[p] for p in asked if p in tree)
    read = {p: blobs.read(tree[p]) for p in asked if p in tree}
    # Files present, with exactly their bytes; gone, folders and unreadable names left out.
    assert read == {path: gitmirror.read_file(mirror, head, path) for path in files}
    assert set(read) == {"pkg/model.py", "pkg/new.py"}
    blobs.load([])  # nothing asked, nothing run


def test_fetching_a_branch_and_what_changed_between_two_commits(
    mirror: Path, remote: git.Repo
) -> None:
    tip = gitmirror.fetch_branch(mirror, "main", token=None)
    assert tip == remote.head.commit.hexsha
    feature = gitmirror.resolve(mirror, gitmirror.pull_ref_name(7))
    present, gone = gitmirror.changed_paths(mirror, tip, feature)
    assert present == {"pkg/model.py", "pkg/new.py"} and gone == {"README.md"}
    with pytest.raises(gitmirror.MirrorError):
        gitmirror.fetch_branch(mirror, "--upload-pack=evil", token=None)


def test_a_fetch_from_a_remote_that_never_answers_is_cut_at_its_deadline(
    tmp_path: Path, monkeypatch
) -> None:
    import socket
    import time

    # A server that takes the connection and never says a word, as a stuck proxy does.
    silent = socket.socket()
    silent.bind(("127.0.0.1", 0))
    silent.listen(8)
    url = f"http://127.0.0.1:{silent.getsockname()[1]}/acme/models.git"
    monkeypatch.setattr(gitmirror, "NETWORK_SECONDS", 1.0)
    path = gitmirror.ensure_mirror(tmp_path / "data", "acme/models", url)
    started = time.monotonic()
    try:
        with pytest.raises(MirrorError, match=r"git fetch .*Timeout"):
            gitmirror.fetch_pull(path, "main", 7, token=None)
    finally:
        silent.close()
    assert 0.9 < time.monotonic() - started < 5


def _lose_blob(repo_dir: Path, blob_id: str) -> None:
    """Delete a loose object, as a disk fault or an interrupted write leaves a repository."""
    loose = repo_dir / "objects" / blob_id[:2] / blob_id[2:]
    assert loose.is_file(), "the object is packed: nothing to delete"
    loose.chmod(0o600)
    loose.unlink()


def test_a_file_lost_from_the_mirror_is_found_missing_and_fetched_again(
    mirror: Path, remote: git.Repo
) -> None:
    head = gitmirror.resolve(mirror, gitmirror.pull_ref_name(7))
    tree, _ = gitmirror.blobs_at(mirror, head)
    assert gitmirror.missing_files(mirror, head, ["pkg/new.py", "pkg/model.py", "gone.py"]) == []

    _lose_blob(mirror, tree["pkg/new.py"])

    assert gitmirror.missing_files(mirror, head, ["pkg/new.py", "pkg/model.py"]) == ["pkg/new.py"]
    gitmirror.fetch_pull(mirror, "main", 7, token=None)  # a plain fetch sees nothing to do
    assert gitmirror.missing_files(mirror, head, ["pkg/new.py"]) == ["pkg/new.py"]
    gitmirror.fetch_pull(mirror, "main", 7, token=None, refetch=True)
    assert gitmirror.missing_files(mirror, head, ["pkg/new.py"]) == []
    assert gitmirror.read_file(mirror, head, "pkg/new.py") == b"x = 1\ny = 2\n"
