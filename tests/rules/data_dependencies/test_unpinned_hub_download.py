"""DEBT705 unpinned_hub_download: focused tests beyond the examples the rule carries."""

from __future__ import annotations

import pytest

from tests.conftest import rule_findings


def hub_findings(source: str, path: str = "train.py", files=()):
    return rule_findings("DEBT705", source, path=path, files=files)


TRAINS = "\nloss.backward()\n"


@pytest.mark.parametrize(
    "call",
    [
        'AutoModel.from_pretrained("org/model", revision="main")',
        'AutoModel.from_pretrained("gpt2", revision=None)',
        'SentenceTransformer("all-MiniLM-L6-v2")',
        'pipeline("text-classification", model="org/sentiment")',
        'load_dataset("glue", "sst2")',
        'hf_hub_download(repo_id="org/model", filename="model.bin")',
        'snapshot_download("org/model")',
        'torch.hub.load("ultralytics/yolov5:master", "yolov5s")',
    ],
)
def test_705_unpinned_downloads(call: str) -> None:
    source = f"""
        import torch
        from datasets import load_dataset
        from huggingface_hub import hf_hub_download, snapshot_download
        from sentence_transformers import SentenceTransformer
        from transformers import AutoModel, pipeline

        x = {call}
        loss.backward()
        """
    assert len(hub_findings(source)) == 1


@pytest.mark.parametrize(
    "call",
    [
        'AutoModel.from_pretrained("org/model", revision="a1b2c3d")',
        'AutoModel.from_pretrained("org/model", **kwargs)',
        'AutoModel.from_pretrained("org/model", local_files_only=True)',
        'AutoModel.from_pretrained("outputs/model")',
        'AutoModel.from_pretrained("model")',
        'AutoModel.from_pretrained("/models/bert")',
        'AutoModel.from_pretrained("weights/model.bin")',
        'load_dataset("json", data_files="train.jsonl")',
        'torch.hub.load("ultralytics/yolov5:v7.0", "yolov5s")',
        'torch.hub.load(".", "custom", "best.pt", source="local")',
        # URL downloads are DEBT709's (unverified-download).
        'torch.hub.load_state_dict_from_url("https://example.org/weights/model.pth")',
        'torch.hub.download_url_to_file("https://example.org/model.pth", "model.pth")',
        'Model.from_pretrained("org/model")',  # the project's own class
    ],
)
def test_705_pinned_or_local(call: str) -> None:
    source = f"""
        import torch
        from datasets import load_dataset
        from transformers import AutoModel
        from .model import Model

        x = {call}
        loss.backward()
        """
    assert hub_findings(source) == []


def test_705_module_constant_is_a_literal_but_a_reassigned_name_is_not() -> None:
    source = """
        from transformers import AutoModel

        MODEL = "org/model"
        OTHER = "org/other"

        def main(args):
            OTHER = args.model
            AutoModel.from_pretrained(MODEL)
            AutoModel.from_pretrained(OTHER)
            trainer.train()
        """
    found = hub_findings(source)
    assert [f.line for f in found] == [8]
    assert "`org/model`" in found[0].message


def test_705_a_folder_of_the_repository_or_one_the_file_saves_is_local() -> None:
    source = """
        from transformers import AutoModel

        model = AutoModel.from_pretrained("artefacts-v2/bert")
        model.save_pretrained("finetuned-bert")
        again = AutoModel.from_pretrained("finetuned-bert")
        model.train()
        """
    assert hub_findings(source, files=("train.py", "artefacts-v2/bert/config.json")) == []


def test_705_training_package_is_a_package_or_the_root() -> None:
    source = 'from transformers import AutoTokenizer\n\nAutoTokenizer.from_pretrained("gpt2")\n'
    package = ("app/__init__.py", "app/serve.py", "app/data.py")
    assert len(hub_findings(source, path="app/data.py", files=package)) == 1
    below_root = ("train.py", "lib/tokens.py")
    assert len(hub_findings(source, path="lib/tokens.py", files=below_root)) == 1
    scripts = ("scripts/train_probe.py", "scripts/sample.py")
    assert hub_findings(source, path="scripts/sample.py", files=scripts) == []


@pytest.mark.parametrize(
    "path", ["tests/test_model.py", "docs/conf.py", "tutorials/intro.py", "hubconf.py"]
)
def test_705_excluded_places(path: str) -> None:
    source = 'from transformers import AutoModel\n\nAutoModel.from_pretrained("gpt2")' + TRAINS
    assert hub_findings(source, path=path) == []


def test_705_notebook_export_is_left_alone() -> None:
    source = (
        "#!/usr/bin/env python\n# coding: utf-8\n\n# In[1]:\n\n\nfrom transformers import AutoModel"
        '\nAutoModel.from_pretrained("gpt2")' + TRAINS
    )
    assert hub_findings(source) == []


def test_705_serving_module() -> None:
    source = """
        import torch
        from flask import Flask

        app = Flask(__name__)
        model = torch.hub.load("ultralytics/yolov5", "yolov5s", force_reload=True)
        """
    found = hub_findings(source, path="utils/restapi.py")
    assert len(found) == 1
    assert '"ultralytics/yolov5:<tag or commit>"' in found[0].message


def test_705_preparation_script_that_saves_what_it_built() -> None:
    source = """
        from transformers import AutoTokenizer

        def main(out):
            tokenizer = AutoTokenizer.from_pretrained("org/base")
            tokenizer.add_tokens(["<x>"])
            tokenizer.save_pretrained(out)
        """
    assert len(hub_findings(source, path="scripts/extend_tokenizer.py")) == 1


def test_705_script_that_only_reads_stays_silent() -> None:
    source = """
        from datasets import load_dataset

        def main():
            print(load_dataset("org/news", split="train")[0])
        """
    assert hub_findings(source, path="scripts/peek.py") == []


def test_705_evaluation_script_is_judged() -> None:
    source = """
        from datasets import load_dataset

        def main():
            bench = load_dataset("openai/gsm8k", "main", split="test")
            return score(bench)
        """
    assert len(hub_findings(source, path="evaluate_gsm8k.py")) == 1
    assert hub_findings(source, path="analysis.py") == []
