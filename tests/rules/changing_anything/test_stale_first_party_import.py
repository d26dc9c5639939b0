"""DEBT506 stale-first-party-import: which imports it can tell are broken, and where it says so."""

from __future__ import annotations

from rules.engine.config import parse_config
from rules.engine.scanner import scan

FEATURES = "def add_tenure_years(frame):\n    return frame\n"


def run(files: dict[str, str], changed: dict[str, frozenset[int]] | None = None):
    """DEBT506 over a repository; on a change when ``changed`` is given, else on every file."""
    under_review = list(changed) if changed is not None else list(files)
    return scan(
        [(path, files[path].encode) for path in under_review if path in files],
        parse_config({"select": ["DEBT506"]}),
        frozenset(files),
        context=[(path, text.encode) for path, text in files.items()],
        added=changed,
    ).findings


def test_whole_repository_reports_every_broken_import_on_its_line():
    found = run(
        {
            "churn/__init__.py": "",
            "churn/features.py": FEATURES,
            "scripts/backfill.py": "import os\nfrom churn.features import add_tenure\n",
            "scripts/export.py": "from churn.features import add_tenure_years\n",
        }
    )
    assert [(f.path, f.line) for f in found] == [("scripts/backfill.py", 2)]
    assert "`churn/features.py` does not define `add_tenure`" in found[0].message


def test_src_layout_and_relative_imports():
    found = run(
        {
            "src/churn/__init__.py": "from .features import add_tenure_years\n",
            "src/churn/features.py": FEATURES,
            "src/churn/cli.py": "from . import features\nfrom .features import add_tenure\n",
            "tests/test_cli.py": "from churn import add_tenure_years, add_tenure\n",
        }
    )
    assert [(f.path, f.line) for f in found] == [("src/churn/cli.py", 2), ("tests/test_cli.py", 1)]


def test_a_change_to_the_module_names_the_untouched_importer_on_a_changed_line():
    files = {
        "churn/__init__.py": "",
        "churn/features.py": "import pandas as pd\n\n\n" + FEATURES,
        "scripts/backfill.py": "from churn.features import add_tenure\n",
    }
    found = run(files, {"churn/features.py": frozenset({4})})
    assert [(f.path, f.line) for f in found] == [("churn/features.py", 4)]
    assert "`scripts/backfill.py` (line 1)" in found[0].message
    # A change elsewhere says nothing of an import it did not touch.
    assert run(files, {"churn/__init__.py": frozenset({1})}) == []


def test_a_missing_submodule_of_a_package():
    found = run(
        {
            "churn/__init__.py": "",
            "churn/features.py": FEATURES,
            "churn/train.py": "from churn.legacy import fit\nfrom . import scoring\n",
        }
    )
    assert [f.line for f in found] == [1, 2]
    assert "no module `churn.legacy`" in found[0].message


def test_quiet_where_the_import_may_resolve_elsewhere():
    quiet = {
        # a namespace folder: an installed package of that name would load instead
        "datasets/prepare.py": "def prepare():\n    pass\n",
        "train.py": "from datasets import load_dataset\nimport json.missing_module\n",
        # a lone module at the root, imported by a script elsewhere: may be an installed one
        "utils.py": "def helper():\n    pass\n",
        "examples/run.py": "from utils import other_helper\n",
        # a conftest that edits sys.path governs the tests below it
        "tests/conftest.py": "import sys\nsys.path.append('legacy')\n",
        "tests/test_utils.py": "from utils import other_helper\n",
        # vendored code
        "third_party/lib/__init__.py": "",
        "third_party/lib/run.py": "from lib.core import missing\n",
        # generated and compiled modules
        "churn/__init__.py": "",
        "churn/fast.pyx": "",
        "churn/train.py": "from churn._version import version\nfrom churn.fast import kernel\n"
        "from churn import proto_pb2\n",
    }
    assert run(quiet) == []


def test_a_shim_that_sets_the_name_from_outside():
    found = run(
        {
            "churn/__init__.py": "from churn import _legacy\n",
            "churn/features.py": FEATURES,
            "churn/_legacy.py": "import churn.features\n"
            "churn.features.add_tenure = churn.features.add_tenure_years\n",
            "scripts/backfill.py": "from churn.features import add_tenure\n",
        }
    )
    assert found == []
