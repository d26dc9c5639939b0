"""Whose code a file is (rules/engine/provenance.py), and the rules it silences."""

from __future__ import annotations

import textwrap

from rules.catalogue import rules_by_code
from rules.engine import provenance
from rules.engine.analyse import analyse_source
from rules.engine.config import default_config
from rules.engine.facts import FileFacts
from rules.engine.repository import Repository

DEAD = "x = 1\n# y = x + 1\n# z = model.fit(y)\n"


def kind(path: str, text: str = "", files=(), owners=()) -> str:
    return provenance.kind(path, provenance.header(path, text), set(files) | {path}, owners)


def test_vendored_by_folder_and_by_attribution() -> None:
    assert kind("third_party/radam.py") == "vendored"
    assert kind("lib/site-packages/numpy/core.py") == "vendored"
    assert kind("src/optim/radam.py", "# from https://github.com/a/RAdam/blob/master/radam.py\n"
                "import math\n") == "vendored"  # fmt: skip
    assert kind("eval.py", "# Adapted from https://github.com/lm-sys/FastChat/x.py\nimport os\n")
    assert kind("v.py", '"""Utility.\n\nThis module is copied from scipy:\n"""\nimport re\n')
    assert kind("opt.py", "# Modified from huggingface/transformers\nimport torch\n")
    # Attribution words below the header are the repository's own comments.
    assert kind("train.py", "import os\n# adapted from https://example.org/post\n") == ""
    assert kind("train.py", "# Train the model from data/train.csv\nimport os\n") == ""


def test_installed_package_beside_its_dist_info() -> None:
    files = {"lambda/requests/api.py", "lambda/requests-2.31.dist-info/METADATA"}
    assert kind("lambda/requests/api.py", files=files) == "vendored"
    assert kind("lambda/handler.py", files=files) == ""


def test_copyright_of_another_holder_is_vendored() -> None:
    header = "# Copyright 2020 The HuggingFace Team. All rights reserved.\nimport torch\n"
    assert kind("trainer.py", header, owners={"2023 Tim Dettmers"}) == "vendored"
    own = "# Copyright (c) Microsoft Corporation. All rights reserved.\nimport os\n"
    assert kind("train.py", own, owners={"(c) Microsoft Corporation."}) == ""
    # Without the repository's own holder, a copyright line tells nothing.
    assert kind("trainer.py", header) == ""


def test_owners_read_from_the_licence_at_the_root() -> None:
    texts = {"LICENSE": b"MIT License\n\nCopyright (c) 2021 Jane Doe\n", "sub/LICENSE": b"x"}
    found = provenance.owners(set(texts) | {"a.py"}, lambda path: texts[path])
    assert any("Jane Doe" in owner for owner in found)
    apache = {"LICENSE": b"   Copyright [yyyy] [name of copyright owner]\n"}
    assert provenance.owners(set(apache), lambda path: apache[path]) == frozenset()


def test_generated_and_templates() -> None:
    assert kind("docs/conf.py") == "generated"
    assert kind("site/conf.py", files={"site/index.rst"}) == "generated"
    assert kind("app/conf.py") == ""  # a project's own settings module
    assert kind("versioneer.py") == kind("pkg/_version.py") == "generated"
    assert kind("app/migrations/0002_auto.py") == "generated"
    assert kind("api_pb2.py") == "generated"
    score = "import os\nfrom azureml.core.model import Model\n\ndef init():\n    pass\n\n" \
        "def run(raw_data):\n    pass\n"  # fmt: skip
    assert kind("src/score.py", score) == "template"
    assert kind("src/score.py", "def init():\n    pass\n\ndef run(x):\n    pass\n") == ""


def test_documentation_pages_but_not_editor_cells() -> None:
    gallery = (
        '"""\nSpot Instances\n--------------\n"""\n# %%\n# Title\n# =====\n# Prose.\n#\n'
        "# .. code-block:: python\n#\n#    @task(cache=True)\n#    def f(): ...\n\n# %%\nx = 1\n"
    )
    assert kind("examples/spot.py", gallery) == "docs"
    cells = "# %%\nimport torch\n# %%\n# model = Net()\n# model.fit(x)\n"
    assert kind("research/train.py", cells) == ""


def test_silences_every_rule_or_only_comment_rules() -> None:
    assert provenance.silences("vendored", "DEBT804")
    assert provenance.silences("generated", "DEBT1003")
    assert provenance.silences("docs", "DEBT1003")
    assert not provenance.silences("docs", "DEBT804")
    assert not provenance.silences("template", "DEBT301")
    assert not provenance.silences("", "DEBT1003")


def test_engine_leaves_vendored_files_and_documentation_alone() -> None:
    rule = rules_by_code()["DEBT1003"]

    def found(path: str, text: str) -> int:
        text = textwrap.dedent(text)
        result = analyse_source(path, text.encode(), default_config(), [rule], {path})
        return len(result.findings)

    assert found("train.py", DEAD) == 1
    assert found("third_party/train.py", DEAD) == 0
    assert found("train.py", "# Taken from https://github.com/a/b\n" + DEAD) == 0
    assert found("docs/conf.py", DEAD) == 0


def test_header_is_kept_with_the_cached_facts() -> None:
    facts = FileFacts("a.py", origin=provenance.Header("vendored", "X"))
    assert FileFacts.from_json(facts.to_json()).origin == facts.origin
    repository = Repository({"a.py": facts}, frozenset({"a.py", "docs/conf.py"}))
    assert repository.kind_of("a.py") == "vendored"
    assert repository.kind_of("docs/conf.py") == "generated"


def test_owners_include_the_holder_most_files_name() -> None:
    header = b"# Copyright (c) Microsoft Corporation. All rights reserved.\nimport os\n"
    texts = {f"src/m{i}.py": header for i in range(5)}
    texts["LICENSE"] = b"Copyright (c) 2020 Jane Doe\n"
    texts["src/hf.py"] = b"# Copyright 2020 The HuggingFace Team.\nimport torch\n"
    found = provenance.owners(set(texts), lambda path: texts[path])
    files = set(texts)
    assert kind("src/m0.py", header.decode(), files, found) == ""
    assert kind("src/hf.py", texts["src/hf.py"].decode(), files, found) == "vendored"


def test_near_misses_stay_the_repository_own() -> None:
    assert kind("prep.py", "# Features taken from data/train.csv\nimport pandas\n") == ""
    banner = "# %%\n# ----------\n# Training\n# ----------\nx = 1\n# %%\n# y = f(x)\n"
    assert kind("train.py", banner) == ""
    separators = "# -------------\nimport os\n# =============\n# ~~~~~~~~~~~~~\nx = 1\n"
    assert kind("train.py", separators) == ""
    titled = "# %%\n# Training\n# ========\n# Prose.\nx = 1\n# %%\n# More prose.\n"
    assert kind("examples/train.py", titled) == "docs"
