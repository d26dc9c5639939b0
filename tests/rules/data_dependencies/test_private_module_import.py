"""DEBT710 private-module-import: private modules of dependencies, not of the project."""

from __future__ import annotations

from tests.conftest import rule_findings


def findings(source: str, files=()):
    return rule_findings("DEBT710", source, path="train.py", files=("train.py", *files))


def test_private_part_anywhere_below_the_top_level():
    found = findings(
        "import torch.distributed.fsdp._runtime_utils\n"
        "from torch.utils.data._utils.collate import default_collate\n"
    )
    assert [f.line for f in found] == [1, 2]
    assert "`torch.utils.data._utils`" in found[1].message


def test_dunder_modules_top_level_private_and_first_party_are_left_alone():
    assert findings("from package.__about__ import version\nimport _pytest\n") == []
    assert findings("from src.tasks._wrapper import wrap\n", files=("src/tasks/_wrapper.py",)) == []
    assert findings("from collections import _OrderedDictKeysView\nimport os._x\n") == []
