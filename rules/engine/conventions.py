"""A repository's own conventions outrank our taste: when most files of a kind already do what a
rule reports, one more file doing it is the repository's way, not debt that a change brings.

Files of a kind are read off the repository's layout:

* the files of the same folder with the same suffix and role (modules, tests, packages'
  ``__init__``): ``scripts/run_sft.py`` among ``scripts/run_dpo.py`` and ``scripts/run_orpo.py``;
* the files of the same name in sibling folders: ``configs/mnist/config.yaml`` among
  ``configs/cifar/config.yaml`` and the other datasets' registries.

A change's finding is left out when, at the change's base, the same rule reports something in
most files of one of its kinds (at least :data:`LEAST_PEERS` of them). The base's own findings
of those files come from the same analysis that tells what the base already had
(:func:`rules.engine.not_in_base`), so a review pays for both at once.
"""

from __future__ import annotations

import posixpath
from collections import defaultdict
from collections.abc import Callable, Collection, Iterable, Mapping, Sequence

from rules.finding import Finding

# Fewer files than this make no convention: two files doing a thing may be one copied once.
LEAST_PEERS = 3
# Each kind is judged on at most this many of its files, spread over the kind: a folder of
# hundreds of scripts costs no more to ask than a folder of eight.
PEERS_PER_KIND = 8


Kinds = Mapping[str, Sequence[tuple[str, ...]]]


def kinds_of(
    path: str, files: Collection[str], keep: Callable[[list[str]], list[str]] = list
) -> list[tuple[str, ...]]:
    """The kinds ``path`` belongs to among ``files`` (itself left out), each as the files that
    stand for it. ``keep`` narrows a kind's files to those the rules read (a configuration's
    selection); a kind with fewer than :data:`LEAST_PEERS` files left is no kind."""
    folder, name = posixpath.split(path)
    suffix, role = posixpath.splitext(name)[1], _role(name)
    parent = posixpath.dirname(folder)
    same_folder, same_name = [], []
    for other in files:
        if other == path:
            continue
        other_folder, other_name = posixpath.split(other)
        if other_folder == folder:
            if posixpath.splitext(other_name)[1] == suffix and _role(other_name) == role:
                same_folder.append(other)
        elif folder and other_name == name and posixpath.dirname(other_folder) == parent:
            same_name.append(other)
    kinds = [keep(sorted(kind)) for kind in (same_folder, same_name)]
    return [_spread(kind) for kind in kinds if len(kind) >= LEAST_PEERS]


def conventional(
    findings: Iterable[Finding], base_findings: Iterable[Finding], kinds: Kinds
) -> list[Finding]:
    """Those of ``findings`` whose rule reports, at the base (``base_findings``, which cover
    every file of ``kinds``), something in most files of one of their file's kinds (``kinds``,
    from :func:`kinds_of` at the base, by path)."""
    reported: dict[str, set[str]] = defaultdict(set)
    for finding in base_findings:
        reported[finding.code].add(finding.path)
    judged: dict[tuple[str, str], bool] = {}
    found = []
    for finding in findings:
        key = finding.code, finding.path
        if key not in judged:
            judged[key] = any(
                sum(1 for peer in kind if peer in reported[finding.code]) * 2 > len(kind)
                for kind in kinds.get(finding.path, ())
            )
        if judged[key]:
            found.append(finding)
    return found


def _role(name: str) -> str:
    if name == "__init__.py":
        return "package"
    stem = posixpath.splitext(name)[0]
    if stem.startswith("test_") or stem.endswith("_test") or stem == "conftest":
        return "test"
    return "module"


def _spread(kind: list[str]) -> tuple[str, ...]:
    if len(kind) <= PEERS_PER_KIND:
        return tuple(kind)
    step = len(kind) / PEERS_PER_KIND
    return tuple(kind[int(i * step)] for i in range(PEERS_PER_KIND))
