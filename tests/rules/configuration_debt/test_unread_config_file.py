"""DEBT906 unread-config-file: which added configuration files nothing names, and which it
leaves to their readers."""

from __future__ import annotations

from rules.engine.config import parse_config
from rules.engine.scanner import scan

RUN = "from pipelines import training\n\ntraining().run(config_path='analysis_config.yaml')\n"


def run(files: dict[str, str], changed: list[str]):
    """DEBT906 on a change that added the files ``changed`` whole."""
    return scan(
        [(path, files[path].encode) for path in changed],
        parse_config({"select": ["DEBT906"]}),
        frozenset(files),
        context=[(path, text.encode) for path, text in files.items()],
        added={p: frozenset(range(1, files[p].count("\n") + 2)) for p in changed},
    ).findings


def test_one_finding_on_the_first_setting_of_an_unnamed_file():
    files = {"run.py": RUN, "training_config.yaml": "# for the trainer\n\nepochs: 3\nlr: 0.1\n"}
    found = run(files, ["training_config.yaml"])
    assert [(f.path, f.line) for f in found] == [("training_config.yaml", 3)]
    assert "`training_config.yaml`" in found[0].message


def test_named_by_a_shell_script_a_dockerfile_or_a_readme():
    for other in ("launch.sh", "Dockerfile", "README.md", "Makefile"):
        files = {"run.py": RUN, "sweep.yaml": "lr: 0.1\nepochs: 3\n", other: "uses sweep.yaml\n"}
        assert run(files, ["sweep.yaml"]) == [], other


def test_a_changed_file_is_not_judged_only_an_added_one():
    files = {"run.py": RUN, "training_config.yaml": "epochs: 3\nlr: 0.1\n"}
    changed = {"training_config.yaml": frozenset({2})}
    found = scan(
        [("training_config.yaml", files["training_config.yaml"].encode)],
        parse_config({"select": ["DEBT906"]}),
        frozenset(files),
        context=[(path, text.encode) for path, text in files.items()],
        added=changed,
    ).findings
    assert found == []


def test_families_of_files_read_by_a_loader_are_left_alone():
    many = {f"configs/model_{i}.yaml": "depth: 3\nwidth: 2\n" for i in range(4)}
    assert run({"run.py": RUN, **many}, ["configs/model_0.yaml"]) == []
    same_shape = {
        "run.py": RUN + "# python train.py --cfg models/small.yaml\n",
        "models/small.yaml": "nc: 80\nbackbone: []\n",
        "models/hub/fpn.yaml": "nc: 80\nbackbone: [1]\n",
    }
    assert run(same_shape, ["models/hub/fpn.yaml"]) == []
    globbed = {
        "tools/eval.py": "import glob\n\nfiles = glob.glob(root + '**/*.yaml')\n",
        "tools/templates/task/arc.yaml": "task: arc\n",
    }
    assert run(globbed, ["tools/templates/task/arc.yaml"]) == []


def test_tools_ci_and_data_json_are_left_alone():
    files = {
        "run.py": RUN,
        "cog.yaml": "build:\n  gpu: true\n",
        "ci/markdown_link_check_config.json": '{"ignorePatterns": []}\n',
        "data/labels.json": '{"cat": 0}\n',
        "deploy/stack.yaml": "AWSTemplateFormatVersion: '2010-09-09'\nResources: {}\n",
        ".github/workflows/test.yml": "on: push\njobs: {}\n",
    }
    assert run(files, [p for p in files if p != "run.py"]) == []


def test_zenml_steps_mapping_is_not_ci():
    files = {"run.py": RUN, "training_config.yaml": "steps:\n  trainer:\n    retries: 2\n"}
    assert len(run(files, ["training_config.yaml"])) == 1
