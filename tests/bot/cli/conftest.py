"""The command line run as people run it: ``debtbot ...`` in a folder, with stdin."""

from __future__ import annotations

import io
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

from bot.cli.main import main

Run = Callable[..., tuple[int, str, str]]


@pytest.fixture
def debtbot(capsys, monkeypatch) -> Run:
    """``debtbot(*argv, cwd=..., stdin=...)`` -> (exit status, stdout, stderr)."""

    def run(*argv: str, cwd: Path | None = None, stdin: bytes | None = None):
        if cwd is not None:
            monkeypatch.chdir(cwd)
        if stdin is not None:
            monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(stdin)))
        code = main(list(argv))
        captured = capsys.readouterr()
        return code, captured.out, captured.err

    return run
