"""DEBT706 machine_path_in_launcher: focused tests beyond the examples the rule carries."""

from __future__ import annotations

import pytest

from tests.conftest import rule_findings


def launcher_findings(text: str, path: str = "scripts/train.sh"):
    return rule_findings("DEBT706", text, path=path)


def test_706_one_finding_per_command_naming_the_others() -> None:
    found = launcher_findings(
        """
        python oof_predictions.py\\
          /home/ubuntu/code/runs/fold0/best.pth\\
          /home/ubuntu/code/runs/fold1/best.pth\\
          /home/ubuntu/code/runs/fold2/best.pth\\
          -b 256
        """
    )
    assert [(f.line, f.end_line) for f in found] == [(2, 4)]
    assert "(and 2 more paths)" in found[0].message


def test_706_commented_out_continuation_is_not_a_command() -> None:
    found = launcher_findings(
        """
        export DATA=/data/alaska2
        #python train.py\\
        #  --transfer /home/bloodaxe/runs/best.pth

        python train.py --fold 0
        """
    )
    assert found == []


def test_706_variable_used_through_another_variable() -> None:
    found = launcher_findings(
        """
        ROOT=/Users/kim/project
        DATA=$ROOT/data
        UNUSED=/Users/kim/other
        python train.py --data "${DATA}/train"
        """
    )
    assert [f.line for f in found] == [1]


def test_706_exported_variable_needs_a_python_job() -> None:
    assert launcher_findings("export DATASET_ROOT=/home/alice/data\nls $DATASET_ROOT\n") == []
    found = launcher_findings(
        "DATASET_ROOT=/home/alice/data\nexport DATASET_ROOT\nnohup python -u train.py &\n"
    )
    assert [f.line for f in found] == [1]


@pytest.mark.parametrize(
    "command",
    [
        "CUDA_VISIBLE_DEVICES=0 nohup python -u train.py --ckpt /home/alice/last.pt > log.txt &",
        "srun --gres=gpu:1 python train.py --data /home/alice/data",
        "torchrun --nproc_per_node=8 train.py trainer.default_root_dir=/home/alice/runs",
        "conda run -n ml python train.py --data=/home/alice/data",
        "./train.py --data /home/alice/data",
        "DATA=/home/alice/data python train.py",
        "accelerate launch train.py --output_dir /Users/bob/out",
    ],
)
def test_706_python_jobs_behind_wrappers(command: str) -> None:
    assert len(launcher_findings(command + "\n")) == 1


@pytest.mark.parametrize(
    "command",
    [
        "cp /home/alice/data.csv data/ && python train.py",
        "wget https://example.org/Users/alice/data.zip && python train.py",
        "python train.py --data ~/data --out $HOME/runs --cache /tmp/cache",
        "python train.py --root /workspace/data --mnt /mnt/shared --opt /opt/models",
        'echo "python train.py --data /home/alice/data"',
        "python train.py --upload s3://bucket/home/alice/data",
    ],
)
def test_706_not_a_machine_path_of_a_python_job(command: str) -> None:
    assert launcher_findings(command + "\n") == []


def test_706_here_document_is_not_shell() -> None:
    found = launcher_findings(
        """
        python - <<'PY'
        import pandas as pd
        pd.read_csv("/home/alice/x.csv")
        PY
        python train.py --data /home/alice/data
        """
    )
    assert [f.line for f in found] == [5]


def test_706_makefile_variables_and_recipes() -> None:
    found = launcher_findings(
        "DATA := /home/alice/data\nOTHER = /home/alice/other\n\n"
        "train:\n\t@python train.py --data $(DATA)\n",
        path="Makefile",
    )
    assert [f.line for f in found] == [1]


def test_706_quoted_assignment_before_the_job() -> None:
    found = launcher_findings('DATA="/home/alice/my data" python train.py\n')
    assert len(found) == 1 and "`/home/alice/my data`" in found[0].message
