"""A repository's own conventions: one more file doing what most files of its kind already do
is not what a change brings."""

from __future__ import annotations

from dataclasses import replace
from functools import partial

from rules.engine import base_groups, brought_by_change, default_config, select
from rules.engine.conventions import PEERS_PER_KIND, conventional, kinds_of
from rules.finding import Finding

SCRIPTS = {f"scripts/run_{name}.py" for name in ("sft", "dpo", "orpo", "kto")}
FILES = SCRIPTS | {
    "scripts/__init__.py",
    "scripts/test_run.py",
    "scripts/README.md",
    "data/mnist/config.yaml",
    "data/cifar/config.yaml",
    "data/imagenet/config.yaml",
    "data/imagenet/extra.yaml",
    "other/mnist/config.yaml",
}


def finding(path: str, code: str = "DEBT702", line: int = 3) -> Finding:
    return Finding(
        code, "data-dependencies", path, line, line, 1, "warning", f"said in {path}", path
    )


def test_a_script_is_of_a_kind_with_its_folders_scripts_not_its_tests_or_package() -> None:
    assert kinds_of("scripts/run_new.py", FILES) == [tuple(sorted(SCRIPTS))]
    others = tuple(sorted(SCRIPTS - {"scripts/run_sft.py"}))
    assert kinds_of("scripts/run_sft.py", FILES) == [others]


def test_a_registry_file_is_of_a_kind_with_the_same_name_in_sibling_folders() -> None:
    assert kinds_of("data/svhn/config.yaml", FILES) == [
        ("data/cifar/config.yaml", "data/imagenet/config.yaml", "data/mnist/config.yaml")
    ]
    # Two of a name are no kind; nor are files at the top, whose siblings are everything.
    assert kinds_of("other/svhn/config.yaml", FILES) == []
    assert kinds_of("setup.py", {"setup.py", "a.py", "b.py", "c.py"}) == [("a.py", "b.py", "c.py")]


def test_a_kind_is_what_the_rules_read_and_a_large_one_is_sampled_across() -> None:
    keep = partial(select, config=default_config())
    assert kinds_of("scripts/run_new.py", FILES | {"scripts/notes.txt"}, keep)[0] == tuple(
        sorted(SCRIPTS)
    )
    many = {f"jobs/job_{n:03}.py" for n in range(100)}
    (kind,) = kinds_of("jobs/new.py", many)
    assert len(kind) == PEERS_PER_KIND
    assert kind[0] == "jobs/job_000.py" and kind[-1] > "jobs/job_080.py"


def test_most_of_a_kind_reporting_the_same_rule_makes_a_convention() -> None:
    kinds = {"scripts/run_new.py": kinds_of("scripts/run_new.py", FILES)}
    new = finding("scripts/run_new.py")
    three_of_four = [finding(p) for p in sorted(SCRIPTS)[:3]]
    assert conventional([new], three_of_four, kinds) == [new]
    # Half is not most, and another rule's findings say nothing about this one.
    assert conventional([new], three_of_four[:2], kinds) == []
    assert conventional([new], [finding(p, "DEBT1005") for p in SCRIPTS], kinds) == []


def test_a_change_brings_neither_what_its_base_had_nor_its_repositorys_way() -> None:
    config = default_config()
    changed = ["scripts/run_new.py", "scripts/run_sft.py", "lonely/tool.py"]
    wanted = {path: frozenset({"DEBT702"}) for path in changed[:2]}
    groups, kinds = base_groups([(config, changed)], wanted, FILES)
    # The base is analysed on the files with a finding that it has, and on their kinds, by the
    # rules that found something.
    ((narrowed, paths),) = groups
    assert paths == sorted(SCRIPTS)
    assert narrowed.enabled == {"DEBT702"} and narrowed.exclude == config.exclude
    assert set(kinds) == set(wanted)
    base = [finding(p) for p in sorted(SCRIPTS)[:3]]
    mine = [finding("scripts/run_new.py", line=9), finding("lonely/tool.py")]
    assert brought_by_change(mine, base, kinds) == [mine[1]]


def test_rules_that_read_costly_facts_stay_on_so_that_cached_facts_serve() -> None:
    config = replace(default_config(), enabled=frozenset({"DEBT702", "DEBT804", "DEBT1005"}))
    groups, _ = base_groups([(config, ["a.py"])], {"a.py": frozenset({"DEBT1005"})}, {"a.py"})
    assert groups[0][0].enabled == {"DEBT804", "DEBT1005"}
