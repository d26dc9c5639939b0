"""A pull request written to hurt the App: binary files named ``.py``, NUL bytes, text that is not
UTF-8, 3,000 nested brackets, a file over the size limit, a YAML alias bomb, a broken notebook,
an LFS pointer, symbolic links to ``/etc/passwd`` and to themselves, a submodule and 10,000 new
files. The review must end in bounded time and memory, read nothing outside the repository, and
say which files it could not analyse.
"""

from __future__ import annotations

import logging
import os
import resource
import textwrap
import time
from pathlib import Path

from tests.bot.review.test_pipeline import MODEL, NUMBER, REPO, World, world
from tests.conftest import commit_all

__all__ = ["world"]  # a fixture, used by name

MANY = 10_000
BOMB = "\n".join(
    ["a: &a [lol, lol, lol, lol, lol, lol, lol, lol, lol]"]
    + [f"{chr(98 + n)}: &{chr(98 + n)} [{', '.join(['*' + chr(97 + n)] * 9)}]" for n in range(8)]
)
LFS = "version https://git-lfs.github.com/spec/v1\noid sha256:" + "0" * 64 + "\nsize 4096\n"


def test_a_hostile_pull_request_is_reviewed_in_bounded_time_and_memory(world: World) -> None:
    root = Path(world.remote.working_tree_dir)
    world.remote.git.checkout("feature")
    files: dict[str, bytes] = {
        "pkg/model.py": textwrap.dedent(MODEL).encode(),
        "pkg/binary.py": b"\x7fELF\x00\x00" + bytes(range(256)) * 8,
        "pkg/latin.py": "caf\xe9 = 1\n".encode("latin-1"),
        "pkg/deep.py": b"x = " + b"(" * 3000 + b"1" + b")" * 3000 + b"\n",
        "pkg/huge.py": b"x = 1\n" * 700_000,  # 4.2 MB, over the 1 MB default limit
        "configs/bomb.yaml": BOMB.encode(),
        "notebooks/broken.ipynb": b'{"cells": [ {"cell_type": "code", "source": ',
        "weights/model.pt": LFS.encode(),
        **{f"many/f{n:05}.py": f"VALUE_{n} = {n}\n".encode() for n in range(MANY)},
    }
    for path, data in files.items():
        (root / path).parent.mkdir(parents=True, exist_ok=True)
        (root / path).write_bytes(data)
    os.symlink("/etc/passwd", root / "pkg" / "passwd.py")
    os.symlink("loop.py", root / "pkg" / "loop.py")
    world.remote.git.add(A=True)
    # A submodule: a commit of another repository, which no one here can read.
    world.remote.git.update_index("--add", "--cacheinfo", f"160000,{'1' * 40},vendor/sub")
    sha = commit_all(world.remote, "hostile")
    world.remote.git.update_ref(f"refs/pull/{NUMBER}/head", sha)
    world.remote.git.checkout("main")
    world.fake.push(REPO, NUMBER, sha)
    world.fake.set_commentable_lines(REPO, NUMBER, "pkg/model.py", range(1, 20))

    peak_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    started = time.monotonic()
    world.run()
    took = time.monotonic() - started
    grown_mb = (resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - peak_before) / 1024

    logging.getLogger(__name__).info(
        "hostile review: %.1f s, peak memory grown by %.0f MB", took, grown_mb
    )
    assert took < 180, f"the review took {took:.0f} s"
    assert grown_mb < 1024, f"the review grew the process by {grown_mb:.0f} MB"
    (sent,) = world.reviews()
    body = sent["body"]
    assert "2 new findings on changed lines" in body
    assert "could not be analysed:" in body
    said = {line.split("`")[1]: line for line in body.splitlines() if line.startswith("- `")}
    assert "larger than" in said["pkg/huge.py"]
    assert "not UTF-8" in said["pkg/latin.py"]
    assert "too deeply nested" in said["pkg/deep.py"]
    # Nothing of /etc/passwd was read: at a commit a symbolic link is the text of its target.
    everything = repr(world.fake.requests) + repr(world.open_findings())
    assert "root:x:0:0" not in everything
    check = world.check_run()
    assert check["conclusion"] in ("neutral", "success")
