"""The App's local copies of repositories: one bare mirror each, fetched incrementally.

This is the only module that runs git for the App. Pull requests are untrusted code, so:

* mirrors are bare and nothing is ever checked out: files are read as blobs at a commit;
* no hook can run: the mirror is created without templates and every git command is told to
  look for hooks in an empty folder;
* the installation token reaches git only through the environment of the one fetch that needs
  it (``GIT_CONFIG_*`` variables setting an ``http.<url>.extraheader``), so it is never written
  to the mirror's config, a remote URL, a log line or an error message;
* the user's and the system's git configuration are ignored, so no credential helper can store
  the token and no ``diff`` driver configured elsewhere runs on pull request content.
"""

from __future__ import annotations

import base64
import fcntl
import os
import re
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

import git

from bot.github.localgit import GitBlobs, added_lines, git_output, tree_at

# GitHub's rules for owner and repository names, which keeps every mirror inside data_dir.
_NAME_PART = re.compile(r"^[A-Za-z0-9_.-]+$")
_SHA = re.compile(r"^[0-9a-f]{40}([0-9a-f]{24})?$")
# The context GitHub shows around each change: a review comment must land inside these hunks.
GITHUB_DIFF_CONTEXT = 3
# The status merge-base and rev-parse --verify use for "there is no such commit".
_NOT_FOUND = frozenset({1})


class MirrorError(RuntimeError):
    """A git operation on a mirror failed; the message never holds credentials."""


def mirror_path(data_dir: Path, full_name: str) -> Path:
    owner, _, repo = full_name.partition("/")
    for part in (owner, repo):
        if not _NAME_PART.match(part) or part in {".", ".."}:
            raise MirrorError(f"not a repository name: {full_name!r}")
    return Path(data_dir).absolute() / "mirrors" / owner / f"{repo}.git"


def default_clone_url(github_url: str, full_name: str) -> str:
    """Where git fetches a repository from. The App's setting decides the host, never a
    webhook payload, so the installation token is only ever sent to the configured GitHub."""
    return f"{github_url.rstrip('/')}/{full_name}.git"


@dataclass(frozen=True)
class Mirrors:
    """Where the App keeps its mirrors (``data_dir/mirrors``), and the git server they come from.

    ``git_url`` is the App's setting (``GITHUB_URL``), never a webhook payload: the installation
    token is only ever sent there.
    """

    data_dir: Path
    git_url: str

    def clone_url(self, full_name: str) -> str:
        return default_clone_url(self.git_url, full_name)

    def ensure(self, full_name: str) -> Path:
        """The bare mirror of ``full_name``, created empty on first use."""
        return ensure_mirror(self.data_dir, full_name, self.clone_url(full_name))


def ensure_mirror(data_dir: Path, full_name: str, clone_url: str) -> Path:
    """The bare mirror of ``full_name``, created empty on first use; its remote is ``clone_url``."""
    _check_clone_url(clone_url)
    path = mirror_path(data_dir, full_name)
    _hooks_dir(data_dir)
    with _locked(path):
        if not (path / "HEAD").is_file():
            path.mkdir(parents=True, exist_ok=True)
            # An empty --template keeps git's sample hooks (and anything else) out of the mirror.
            _run(path, ["init", "--bare", "--quiet", "--template=", str(path)], data_dir=data_dir)
        _run(path, ["config", "remote.origin.url", clone_url])
        _run(path, ["config", "core.hooksPath", str(_hooks_dir(data_dir))])
    return path


def base_ref_name(base_ref: str) -> str:
    """Where the mirror keeps the tip of the pull request's base branch."""
    return f"refs/heads/{base_ref}"


def pull_ref_name(number: int) -> str:
    """Where the mirror keeps a pull request's head, as GitHub names it."""
    return f"refs/pull/{number}/head"


def fetch_pull(
    mirror: Path, base_ref: str, number: int, token: str | None, refetch: bool = False
) -> None:
    """Fetch the base branch and ``refs/pull/N/head`` into the mirror's refs of the same names.

    Only new objects travel: the mirror keeps what earlier fetches brought. ``token`` is the
    installation token (None for a remote that needs none, such as a local path in tests).
    """
    if not isinstance(number, int) or number <= 0:
        raise MirrorError(f"not a pull request number: {number!r}")
    _check_branch(mirror, base_ref)
    refspecs = [
        f"+{base_ref_name(base_ref)}:{base_ref_name(base_ref)}",
        f"+{pull_ref_name(number)}:{pull_ref_name(number)}",
    ]
    url = _run(mirror, ["config", "--get", "remote.origin.url"]).strip()
    command = ["fetch", "--quiet", "--no-tags", "--no-write-fetch-head", "origin", *refspecs]
    if refetch:  # every object again, not only what the mirror seems to lack
        command.insert(1, "--refetch")
    with _locked(mirror):
        _run(mirror, command, secret=_credentials(url, token))


def missing_files(mirror: Path, sha: str, paths: Iterable[str] | None = None) -> list[str]:
    """The ``paths`` (None: every file) whose content the mirror lacks at ``sha`` although its
    tree names them (a damaged mirror, an interrupted fetch); paths that are not files there
    are not missing."""
    (checked,) = _revisions(sha)
    tree, _ = blobs_at(mirror, checked)
    wanted = sorted(tree if paths is None else {p for p in paths if p in tree})
    if not wanted:
        return []
    command = ["git", f"--git-dir={Path(mirror).absolute()}"]
    asked = "".join(f"{tree[p]}\n" for p in wanted).encode()
    try:
        checked_out = git_output(command, ["cat-file", "--batch-check"], _environment({}), asked)
    except OSError as error:
        raise MirrorError(str(error)) from None
    answers = checked_out.decode("utf-8", "replace").splitlines()
    pairs = zip(wanted, answers, strict=False)
    return [path for path, answer in pairs if answer.endswith(" missing")]


def fetch_branch(mirror: Path, branch: str, token: str | None) -> str:
    """Fetch ``branch`` into the mirror's ref of the same name; returns its tip's sha."""
    _check_branch(mirror, branch)
    ref = base_ref_name(branch)
    url = _run(mirror, ["config", "--get", "remote.origin.url"]).strip()
    command = ["fetch", "--quiet", "--no-tags", "--no-write-fetch-head", "origin", f"+{ref}:{ref}"]
    with _locked(mirror):
        _run(mirror, command, secret=_credentials(url, token))
    sha = resolve(mirror, ref)
    if sha is None:
        raise MirrorError(f"{branch} was fetched but the mirror has no such branch")
    return sha


def changed_paths(mirror: Path, old: str, new: str) -> tuple[frozenset[str], frozenset[str]]:
    """Files that differ between two commits: (present at ``new`` with other content, gone at
    ``new``). A rename is a file gone and a file added: findings are kept by path."""
    output = _run(
        mirror,
        ["-c", "core.quotePath=false", "diff", "--name-status", "--no-renames", "-z",
         *_revisions(old, new), "--"],
    )  # fmt: skip
    fields = [f for f in output.split("\0") if f]
    present, gone = set(), set()
    for status, path in zip(fields[0::2], fields[1::2], strict=True):
        (gone if status.startswith("D") else present).add(path)
    return frozenset(present), frozenset(gone)


def merge_base(mirror: Path, base: str, head: str) -> str:
    output = _run(mirror, ["merge-base", *_revisions(base, head)], allow_status=_NOT_FOUND)
    if not output.strip():
        raise MirrorError(f"{base} and {head} share no history")
    return output.split()[0]


def resolve(mirror: Path, revision: str) -> str | None:
    """The commit sha a revision (ref name or sha) names in the mirror, or None if absent."""
    (checked,) = _revisions(revision)
    output = _run(
        mirror,
        ["rev-parse", "--verify", "--quiet", f"{checked}^{{commit}}"],
        allow_status=_NOT_FOUND,
    )
    return output.strip() or None


def changed_lines(mirror: Path, base: str, head: str) -> dict[str, frozenset[int]]:
    """Lines added or changed at ``head`` since ``base`` (pass the merge base), by path."""
    return added_lines(_diff(mirror, base, head, context=0))


def hunks(mirror: Path, base: str, head: str) -> dict[str, tuple[range, ...]]:
    """The new-side line ranges of GitHub's diff (3 lines of context), where comments may go.

    Two hunks are only apart when unchanged lines separate them, so the runs of consecutive
    line numbers in the diff are exactly its hunks.
    """
    covered = added_lines(_diff(mirror, base, head, context=GITHUB_DIFF_CONTEXT))
    return {path: _runs(lines) for path, lines in covered.items() if lines}


def read_file(mirror: Path, sha: str, path: str) -> bytes:
    """The bytes of ``path`` at commit ``sha``; FileNotFoundError when it is not a file there."""
    (checked,) = _revisions(sha)
    status, data, _ = _execute(mirror, ["cat-file", "blob", f"{checked}:{path}"], {})
    if status != 0:
        raise FileNotFoundError(f"{path} is not a file at {checked[:12]}")
    return data


def blobs_at(mirror: Path, sha: str) -> tuple[dict[str, str], GitBlobs]:
    """Every file at ``sha`` with its blob id, and a reader of the mirror's blobs by id."""
    (checked,) = _revisions(sha)
    command, env = ["git", f"--git-dir={Path(mirror).absolute()}"], _environment({})
    try:
        return tree_at(command, checked, env=env), GitBlobs(command, env=env)
    except OSError as error:
        raise MirrorError(str(error)) from None


def list_files(mirror: Path, sha: str) -> frozenset[str]:
    (checked,) = _revisions(sha)
    output = _run(mirror, ["ls-tree", "-r", "-z", "--name-only", checked, "--"])
    return frozenset(p for p in output.split("\0") if p)


def _diff(mirror: Path, base: str, head: str, context: int) -> str:
    command = ["-c", "core.quotePath=false", "diff", f"-U{context}", "--no-color", "--no-ext-diff"]
    command += ["--no-textconv", "--no-prefix", "-M", *_revisions(base, head), "--"]
    return _run(mirror, command)


def _runs(lines: frozenset[int]) -> tuple[range, ...]:
    ordered = sorted(lines)
    runs = []
    start = previous = ordered[0]
    for number in ordered[1:]:
        if number != previous + 1:
            runs.append(range(start, previous + 1))
            start = number
        previous = number
    runs.append(range(start, previous + 1))
    return tuple(runs)


def _revisions(*revisions: str) -> list[str]:
    # A revision starting with "-" would be read as an option by git.
    for revision in revisions:
        if not revision or revision.startswith("-") or any(c.isspace() for c in revision):
            raise MirrorError(f"not a revision: {revision!r}")
    return list(revisions)


def _check_branch(mirror: Path, branch: str) -> None:
    if branch.startswith("-"):
        raise MirrorError(f"not a branch name: {branch!r}")
    _run(
        mirror, ["check-ref-format", base_ref_name(branch)], error=f"not a branch name: {branch!r}"
    )


def _check_clone_url(url: str) -> None:
    parts = urlsplit(url)
    if parts.username or parts.password:
        raise MirrorError("the clone URL must not carry credentials; they are passed per fetch")
    if url.startswith("-"):
        raise MirrorError(f"not a clone URL: {url!r}")


def _credentials(url: str, token: str | None) -> dict[str, str]:
    """Git config entries that authenticate requests to ``url`` only, for one command."""
    if not token:
        return {}
    basic = base64.b64encode(f"x-access-token:{token}".encode()).decode()
    return {f"http.{url}.extraheader": f"AUTHORIZATION: basic {basic}"}


def _hooks_dir(data_dir: Path) -> Path:
    path = Path(data_dir).absolute() / "mirrors" / ".no-hooks"
    path.mkdir(parents=True, exist_ok=True)
    return path.resolve()


@contextmanager
def _locked(mirror: Path) -> Iterator[None]:
    # Two workers fetching one mirror at once would fight over ref locks and fail a review.
    lock = mirror.with_name(mirror.name + ".lock")
    lock.parent.mkdir(parents=True, exist_ok=True)
    with open(lock, "a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def _environment(config: dict[str, str]) -> dict[str, str]:
    entries = {
        "core.hooksPath": os.devnull,
        "credential.helper": "",
        # A transfer slower than 1 kB/s for a minute has stalled: git gives up on it.
        "http.lowSpeedLimit": "1000",
        "http.lowSpeedTime": "60",
        **config,
    }
    env = {
        "GIT_CONFIG_NOSYSTEM": "1",
        "GIT_CONFIG_GLOBAL": os.devnull,
        "GIT_TERMINAL_PROMPT": "0",
        "GIT_ASKPASS": "",
        "SSH_ASKPASS": "",
        "GIT_CONFIG_COUNT": str(len(entries)),
    }
    for index, (key, value) in enumerate(entries.items()):
        env[f"GIT_CONFIG_KEY_{index}"] = key
        env[f"GIT_CONFIG_VALUE_{index}"] = value
    return env


def _run(
    mirror: Path,
    args: list[str],
    *,
    secret: dict[str, str] | None = None,
    allow_status: frozenset[int] = frozenset(),
    error: str | None = None,
    data_dir: Path | None = None,
) -> str:
    """Run one git command in ``mirror``; a failure becomes a MirrorError without secrets."""
    secret = secret or {}
    status, out, err = _execute(mirror, args, secret, data_dir=data_dir)
    if status == 0 or status in allow_status:
        return out.decode("utf-8", "surrogateescape")
    detail = _scrub(err.decode("utf-8", "replace").strip(), secret)
    shown = " ".join(a for a in args if a != "--quiet")
    raise MirrorError(error or f"git {_scrub(shown, secret)} failed ({status}): {detail}")


# The longest any git command may run: a fetch from GitHub (a large repository's first clone
# included), and everything else, which only reads the mirror. A command past it is killed, and
# the job fails and is tried again later instead of holding its worker.
NETWORK_SECONDS = 600.0
LOCAL_SECONDS = 120.0


def _execute(
    mirror: Path, args: list[str], secret: dict[str, str], data_dir: Path | None = None
) -> tuple[int, bytes, bytes]:
    # Commands that create the mirror run beside it; all others name it explicitly. Absolute,
    # since git reads --git-dir relative to the folder it runs in (DATA_DIR may be relative).
    mirror = Path(mirror).absolute()
    cwd = data_dir if data_dir is not None else mirror
    command = ["git", *args] if data_dir is not None else ["git", f"--git-dir={mirror}", *args]
    try:
        status, out, err = git.Git(cwd).execute(
            command,
            env=_environment(secret),
            with_extended_output=True,
            with_exceptions=False,
            strip_newline_in_stdout=False,
            stdout_as_string=False,
            kill_after_timeout=NETWORK_SECONDS if args[:1] == ["fetch"] else LOCAL_SECONDS,
        )
    except git.GitCommandNotFound:
        raise MirrorError("git is not installed") from None
    return status, out, err if isinstance(err, bytes) else str(err).encode()


def _scrub(text: str, secret: dict[str, str]) -> str:
    for value in secret.values():
        text = text.replace(value, "***")
        for piece in value.split():
            if len(piece) > 8:
                text = text.replace(piece, "***")
    return text
