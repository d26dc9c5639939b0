"""Which debtbot code is on disk, cheaply: a daemon serves only callers of the same code."""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

_PACKAGES = ("bot", "rules")


def build_id() -> str:
    """Names the code on disk: the size and time of change of every module of debtbot. A daemon
    serves only callers that see the same code it imported."""
    digest = hashlib.sha1(usedforsecurity=False)
    root = Path(__file__).resolve().parent.parent.parent
    for package in _PACKAGES:
        for folder, dirs, names in os.walk(root / package):
            dirs.sort()
            for name in sorted(names):
                if name.endswith(".py"):
                    stat = os.stat(os.path.join(folder, name))
                    digest.update(f"{folder}/{name}:{stat.st_size}:{stat.st_mtime_ns};".encode())
    return digest.hexdigest()
