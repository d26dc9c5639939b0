"""What a change touched, read with GitPython: merge base, added lines, files at a revision."""

from __future__ import annotations

import re
import subprocess
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path

import git

_HUNK = re.compile(r"^@@ -\d+(?:,\d+)? \+(\d+)(?:,(\d+))? @@", re.MULTILINE)


class DiffError(ValueError):
    """A revision or repository problem a person must fix."""


@dataclass(frozen=True)
class Change:
    base: str  # merge-base commit sha
    head: str | None  # commit sha, or None for the working tree
    added: dict[str, frozenset[int]]  # path -> added or changed line numbers at head


def open_repo(path: Path) -> git.Repo:
    try:
        return git.Repo(path, search_parent_directories=True)
    except (git.InvalidGitRepositoryError, git.NoSuchPathError):
        raise DiffError(f"{path} is not inside a git repository") from None


def default_base(repo: git.Repo) -> str:
    """The remote's default branch when known, else a local main or master."""
    for remote in repo.remotes:
        try:
            return remote.refs.HEAD.reference.name
        except (IndexError, TypeError, ValueError, AttributeError):
            continue
    for name in ("main", "master"):
        if name in repo.heads:
            return name
    raise DiffError("no default branch found (no origin/HEAD, main or master); pass --base")


def resolve(repo: git.Repo, rev: str) -> str:
    try:
        return repo.commit(rev).hexsha
    except (git.BadName, ValueError, git.GitCommandError):
        raise DiffError(f"unknown revision {rev!r}") from None


def added_lines(diff_text: str) -> dict[str, frozenset[int]]:
    """Parse a ``git diff -U0`` into the new-side line numbers each file gained."""
    result: dict[str, set[int]] = {}
    for block in diff_text.split("\ndiff --git "):
        header, _, body = block.partition("\n@@")
        path_match = re.search(r"^\+\+\+ (.+)$", header, re.MULTILINE)
        if path_match is None or path_match.group(1) == "/dev/null":
            continue
        path = _unquote(path_match.group(1).rstrip("\t"))
        lines = result.setdefault(path, set())
        for match in _HUNK.finditer("@@" + body):
            start = int(match.group(1))
            count = 1 if match.group(2) is None else int(match.group(2))
            lines.update(range(start, start + count))
    return {path: frozenset(lines) for path, lines in result.items()}


def _unquote(path: str) -> str:
    # git quotes paths holding a tab, newline, quote or backslash, C-style.
    if path.startswith('"') and path.endswith('"'):
        return path[1:-1].encode("latin-1").decode("unicode_escape").encode("latin-1").decode()
    return path


def change(repo: git.Repo, base: str, head: str | None) -> Change:
    """Lines added between the merge base of ``base`` and ``head`` (None: the working tree)."""
    base_sha = resolve(repo, base)
    head_sha = resolve(repo, head) if head else None
    merge_bases = repo.merge_base(base_sha, head_sha or "HEAD")
    if not merge_bases:
        raise DiffError(f"{base} and {head or 'HEAD'} share no history")
    merge_base = merge_bases[0].hexsha
    command = ["git", "-c", "core.quotePath=false", "diff", "-U0", "--no-color", "--no-ext-diff"]
    command += ["--no-prefix", "-M", merge_base]
    if head_sha:
        command.append(head_sha)
    try:
        added = added_lines(repo.git.execute(command))
    except git.GitCommandError as exc:
        # A clone with missing objects (a partial or shallow copy) cannot show every change.
        reason = (exc.stderr or "").strip().removeprefix("stderr: ").strip("'\n ")
        raise DiffError(
            f"git cannot compare {base} with {head or 'the working tree'}: {reason}"
        ) from exc
    if head_sha is None:
        for path in repo.untracked_files:
            file = Path(repo.working_tree_dir, path)
            try:
                count = file.read_bytes().count(b"\n") + 1
            except OSError:
                continue
            added[path] = frozenset(range(1, count + 1))
    return Change(merge_base, head_sha, added)


def files_at(repo: git.Repo, head: str | None) -> frozenset[str]:
    if head is None:
        tracked = repo.git.ls_files("-z").split("\0")
        return frozenset(p for p in (*tracked, *repo.untracked_files) if p)
    return frozenset(p for p in repo.git.ls_tree("-r", "-z", "--name-only", head).split("\0") if p)


def read_at(repo: git.Repo, head: str | None, path: str) -> bytes:
    if head is None:
        return Path(repo.working_tree_dir, path).read_bytes()
    try:
        blob = repo.commit(head).tree / path
    except KeyError:
        raise OSError(f"{path} not at {head[:12]}") from None
    return blob.data_stream.read()


def git_command(repo: git.Repo) -> list[str]:
    """git, run on ``repo``."""
    return ["git", "-C", str(repo.working_tree_dir)]


def blobs(repo: git.Repo) -> GitBlobs:
    """A reader of ``repo``'s blobs by id; single blobs come through GitPython's own
    ``cat-file`` process, which stays open."""

    def read_one(blob_id: str) -> bytes:
        try:
            return repo.git.get_object_data(blob_id)[3]
        except ValueError:
            raise OSError(f"blob {blob_id[:12]} is missing from the repository") from None

    return GitBlobs(git_command(repo), read_one=read_one)


def tree_at(
    git_command: list[str], revision: str, env: dict[str, str] | None = None
) -> dict[str, str]:
    """Every file at ``revision`` with its blob id (submodules left out)."""
    listing = git_output(git_command, ["ls-tree", "-r", "-z", "--full-tree", revision], env)
    tree = {}
    for entry in listing.split(b"\0"):
        header, _, path = entry.partition(b"\t")
        fields = header.split()
        if len(fields) == 3 and fields[1] == b"blob":
            tree[path.decode("utf-8", "surrogateescape")] = fields[2].decode()
    return tree


class GitBlobs:
    """Blobs of one repository read by id, many through one ``git cat-file --batch`` process
    (one process a file costs more than analysing a large repository's change), and kept.
    ``read_one`` reads a single blob more cheaply, when the caller has a way."""

    def __init__(
        self,
        git_command: list[str],
        env: dict[str, str] | None = None,
        read_one: Callable[[str], bytes] | None = None,
    ):
        self._git_command = git_command
        self._env = env
        self._read_one = read_one
        self._read: dict[str, bytes] = {}

    def load(self, blob_ids: Iterable[str]) -> None:
        wanted = [b for b in dict.fromkeys(blob_ids) if b not in self._read]
        self._read.update(_cat_file_batch(self._git_command, wanted, self._env))

    def read(self, blob_id: str) -> bytes:
        if blob_id not in self._read and self._read_one is not None:
            return self._read_one(blob_id)
        if blob_id not in self._read:
            self.load([blob_id])
        try:
            return self._read[blob_id]
        except KeyError:
            raise OSError(f"blob {blob_id[:12]} is missing from the repository") from None


# A command that only reads the repository and runs longer than this is stuck: killed.
GIT_SECONDS = 120.0


def git_output(
    git_command: list[str], args: list[str], env: dict[str, str] | None, given: bytes = b""
) -> bytes:
    """What ``git_command args`` prints, fed ``given``; OSError when git fails or hangs."""
    what = " ".join(args[:2])
    try:
        done = subprocess.run(  # debt: ignore[DEBT801]
            [*git_command, *args],
            input=given,
            capture_output=True,
            env=env,
            timeout=GIT_SECONDS,
            check=False,
        )
    except subprocess.TimeoutExpired:
        raise OSError(f"git {what} did not finish within {GIT_SECONDS:.0f} s") from None
    if done.returncode != 0:
        detail = done.stderr.decode("utf-8", "replace").strip()
        raise OSError(f"git {what} failed ({done.returncode}): {detail}")
    return done.stdout


def _cat_file_batch(
    git_command: list[str], names: list[str], env: dict[str, str] | None
) -> dict[str, bytes]:
    """The blobs among ``names`` (``revision:path`` or blob ids), read by one git process."""
    if not names:
        return {}
    asked = "".join(f"{name}\n" for name in names).encode()
    found, out, at = {}, git_output(git_command, ["cat-file", "--batch"], env, asked), 0
    for name in names:
        end = out.index(b"\n", at)
        header = out[at:end].split()
        at = end + 1
        if len(header) != 3:  # "<name> missing", or ambiguous: no content follows
            continue
        size = int(header[2])
        if header[1] == b"blob":
            found[name] = out[at : at + size]
        at += size + 1
    return found
