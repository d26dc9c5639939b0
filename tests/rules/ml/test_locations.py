"""rules/ml/locations.py: which paths exist on one machine only, for DEBT701 and DEBT706."""

from __future__ import annotations

import pytest

from rules.ml.locations import MACHINE_PATH_START, machine_specific


@pytest.mark.parametrize(
    "path",
    [
        "/home/alice/data/train.csv",
        "/Users/bob/Downloads",
        "C:\\Users\\bob\\data",
        "D:/datasets/imagenet",
        "/content/drive/MyDrive/models",
        "/content/gdrive/My Drive/x",
    ],
)
def test_machine_paths(path: str) -> None:
    assert machine_specific(path)
    assert MACHINE_PATH_START.match(path)


@pytest.mark.parametrize(
    "path",
    [
        "/data/alaska2",
        "/mnt/shared/x",
        "/workspace/runs",
        "/opt/models",
        "/tmp/cache",
        "/content/data/",
        "/home/$USER/data",
        "/home/{user}/data",
        "/Users/Shared/data",
        "C:\\Program Files\\NVIDIA",
        "~/data",
        "data/train.csv",
    ],
)
def test_shared_or_relative_paths(path: str) -> None:
    assert not machine_specific(path)
