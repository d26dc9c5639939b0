"""DEBT708 runtime_install: focused tests beyond the examples the rule carries."""

from __future__ import annotations

import pytest

from tests.conftest import rule_findings


def installs(source: str, path: str = "train.py"):
    return rule_findings("DEBT708", source, path=path)


@pytest.mark.parametrize(
    ("command", "package"),
    [
        ('os.system("pip install timm")', "timm"),
        ('os.system("python -m pip install -q --upgrade timm")', "timm"),
        ('os.system("pip install -i https://pypi.org/simple timm")', "timm"),
        ('subprocess.run(["pip", "install", "timm~=0.9"])', "timm~=0.9"),
        (
            'os.system("pip install git+ssh://git@github.com/org/lib")',
            "git+ssh://git@github.com/org/lib",
        ),
        (
            'os.system("pip install git+https://github.com/org/lib@dev")',
            "git+https://github.com/org/lib@dev",
        ),
    ],
)
def test_708_unpinned(command: str, package: str) -> None:
    [finding] = installs(f"import os, subprocess\n{command}\n")
    assert f"`{package}`" in finding.message


@pytest.mark.parametrize(
    "command",
    [
        'os.system("pip install timm==0.9.12")',
        'os.system("pip install git+https://github.com/org/lib@v1.2.0")',
        'os.system("pip install git+https://github.com/org/lib@0123abc")',
        'os.system(f"pip install {package}")',
        'os.system("pip install -e ./vendor/lib")',
        'os.system("pip uninstall -y timm")',
        'os.system("pip install /kaggle/input/wheels/timm.whl")',
        'print("pip install timm")',
        'subprocess.run(["pip", "install", "-r", "requirements.txt"])',
    ],
)
def test_708_left_alone(command: str) -> None:
    assert installs(f"import os, subprocess\n{command}\n") == []


@pytest.mark.parametrize(
    "path", ["tests/test_env.py", "docs/conf.py", "setup.py", "examples/run.py"]
)
def test_708_places_left_alone(path: str) -> None:
    assert installs('import os\nos.system("pip install timm")\n', path=path) == []


def test_708_a_helper_detecting_notebooks_is_no_notebook() -> None:
    source = """
import os

def in_notebook():
    from IPython import get_ipython
    return get_ipython() is not None

os.system("pip install -U ultralytics")
"""
    assert len(installs(source)) == 1
