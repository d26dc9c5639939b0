"""DEBT507 changed-default: what counts as a changed default, and how a file's are reported."""

from __future__ import annotations

from rules.engine.config import parse_config
from rules.engine.scanner import scan

BASE = """\
import torch


def train(model, lr=1e-3, epochs=10, metadata=None, num_workers=4):
    pass


BATCH_SIZE = 32
"""


def run(path: str, head: str, base: str | None, added: set[int], read_base: bool = True):
    return scan(
        [(path, head.encode)],
        parse_config({"select": ["DEBT507"]}),
        frozenset({path}),
        context=[(path, head.encode)],
        added={path: frozenset(added)},
        read_base=(lambda p: base if p == path else None) if read_base else None,
    ).findings


def test_several_changed_defaults_of_a_file_make_one_finding():
    head = BASE.replace("lr=1e-3", "lr=3e-4").replace("= 32", "= 8")
    found = run("train.py", head, BASE, {4, 8})
    assert [(f.path, f.line) for f in found] == [("train.py", 4)]
    assert "lr: 0.001 -> 0.0003" not in found[0].message  # as written, not as evaluated
    assert "lr: 1e-3 -> 3e-4" in found[0].message
    assert "BATCH_SIZE: 32 -> 8" in found[0].message


def test_only_lines_the_change_edited_count():
    head = BASE.replace("= 32", "= 8")
    assert run("train.py", head, BASE, {4}) == []


def test_same_value_written_otherwise_and_mutable_default_fixes_are_left_alone():
    head = BASE.replace("epochs=10", "epochs=10.0").replace("metadata=None", "metadata={}")
    assert run("train.py", head, BASE, {4}) == []


def test_operational_settings_are_left_alone():
    head = BASE.replace("num_workers=4", "num_workers=8")
    assert run("train.py", head, BASE, {4}) == []


def test_quiet_without_a_base():
    head = BASE.replace("lr=1e-3", "lr=3e-4")
    assert run("train.py", head, BASE, {4}, read_base=False) == []


def test_argparse_default_keyed_by_its_long_option():
    base = (
        "import argparse\nimport torch\np = argparse.ArgumentParser()\n"
        'p.add_argument("-b", "--batch-size", type=int, default=32)\n'
    )
    head = base.replace("default=32", "default=8")
    found = run("train.py", head, base, {4})
    assert len(found) == 1 and "batch_size: 32 -> 8" in found[0].message
    renamed = head.replace("--batch-size", "--bs")
    assert run("train.py", renamed, base, {4}) == []


def test_renamed_owner_keeps_its_parameter():
    base = (
        "import torch\n\n\nclass Loss:\n    def __init__(self, jaccard_weight=1):\n        pass\n"
    )
    head = base.replace("class Loss:", "class LossBinary:").replace("=1)", "=0)")
    found = run("loss.py", head, base, {4, 5})
    assert len(found) == 1 and "jaccard_weight: 1 -> 0" in found[0].message


def test_respelled_names_and_self_recording_scripts_are_left_alone():
    base = 'import torch\n\n\ndef predict(model_type="unet11"):\n    pass\n'
    assert run("predict.py", base.replace("unet11", "UNet11"), base, {4}) == []
    recorded = BASE + "\nwith open('run/train.py', 'w') as f:\n    f.write(open(__file__).read())\n"
    head = recorded.replace("= 32", "= 8")
    assert run("train.py", head, recorded, {8}) == []
