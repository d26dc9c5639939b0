"""Reading source text as lines and writing files whole, for the flags that change files.

A write never leaves a half-written file: the new content goes to a temporary file in the same
folder, which is then renamed over the old one (an atomic step on POSIX and Windows).
"""

from __future__ import annotations

import codecs
import contextlib
import io
import os
import stat
import tempfile
from dataclasses import dataclass
from pathlib import Path


@dataclass
class Lines:
    """A UTF-8 text as its lines, each with its own line ending, ready to be edited and put
    back byte for byte (a byte order mark kept)."""

    lines: list[str]
    bom: bool = False

    @classmethod
    def of(cls, data: bytes) -> Lines:
        bom = data.startswith(codecs.BOM_UTF8)
        text = data[len(codecs.BOM_UTF8) :].decode("utf-8") if bom else data.decode("utf-8")
        # Lines end at \n, \r\n and \r only, as Python counts them: str.splitlines
        # also breaks at form feeds and other separators and would number lines differently.
        return cls(io.StringIO(text, newline="").readlines(), bom)

    @property
    def text(self) -> str:
        return "".join(self.lines)

    def to_bytes(self) -> bytes:
        return (codecs.BOM_UTF8 if self.bom else b"") + self.text.encode("utf-8")


def split_ending(line: str) -> tuple[str, str]:
    """A line's content and its line ending ("" for a last line without one)."""
    for ending in ("\r\n", "\n", "\r"):
        if line.endswith(ending):
            return line[: -len(ending)], ending
    return line, ""


def write_atomically(path: Path, data: bytes) -> None:
    """Replace ``path``'s content with ``data`` in one step, keeping its permissions."""
    mode = stat.S_IMODE(path.stat().st_mode) if path.exists() else None
    handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(handle, "wb") as out:
            out.write(data)
            out.flush()
            os.fsync(out.fileno())
        if mode is not None:
            os.chmod(temporary, mode)
        os.replace(temporary, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(temporary)
        raise
