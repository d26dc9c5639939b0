"""DEBT801 script_calling_script: focused tests beyond the examples the rule carries."""

from __future__ import annotations

import pytest

from tests.conftest import rule_findings

findings = rule_findings


@pytest.mark.parametrize(
    "call",
    [
        'subprocess.run(shlex.split("python train.py --epochs 3"))',
        'subprocess.run("python" + " evaluate.py", shell=True)',
        'subprocess.run([sys.executable, "-X", "utf8", "report.py"])',
        'subprocess.run([sys.executable, str(ROOT / "export.py")] + args)',
        'subprocess.run(f"python -u -m churn.score " f"--out {out}", shell=True)',
    ],
)
def test_801_flags_python_scripts(call: str) -> None:
    source = f"import shlex\nimport subprocess\nimport sys\n{call}\n"
    assert len(findings("DEBT801", source)) == 1


@pytest.mark.parametrize(
    "call",
    [
        'subprocess.run([sys.executable, "-m", "pip", "install", "-r", "requirements.txt"])',
        'subprocess.run(["python", "-m", "torch.distributed.run", "--nproc_per_node=2", "t.py"])',
        'subprocess.run("python setup.py build_ext --inplace", shell=True)',
        'subprocess.run([sys.executable, __file__, "--worker"])',
        'subprocess.run(["bash", "scripts/get_data.sh"])',
        'run_in_container(["python", "train.py"])',
    ],
)
def test_801_ignores_tools_and_launchers(call: str) -> None:
    source = f"import subprocess\nimport sys\n{call}\n"
    assert findings("DEBT801", source) == []


def test_801_variable_in_another_function_is_not_followed() -> None:
    source = """
        import subprocess

        def build():
            cmd = "python train.py"
            return cmd

        def run(cmd):
            subprocess.run(cmd, shell=True)
        """
    assert findings("DEBT801", source) == []


def test_a_launcher_of_modules_chosen_at_run_time_is_left_alone() -> None:
    source = """
    import subprocess

    def go(job_name, seeds):
        for seed in seeds:
            cmd = f"python -m run.{job_name} --seed={seed}"
            subprocess.run(cmd, shell=True)
    """
    # One job per config, fold and seed, each a process of its own on purpose (a sweep).
    assert rule_findings("DEBT801", source, path="schedule.py") == []
