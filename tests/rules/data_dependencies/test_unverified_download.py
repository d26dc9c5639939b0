"""DEBT709 unverified_download: focused tests beyond the examples the rule carries."""

from __future__ import annotations

import pytest

from tests.conftest import rule_findings


def findings(source: str, path: str = "prepare.py"):
    return rule_findings("DEBT709", source, path=path)


@pytest.mark.parametrize(
    "call",
    [
        'torch.hub.load_state_dict_from_url("https://example.org/weights/model.pth")',
        'torch.hub.load_state_dict_from_url("https://example.org/w.pth", check_hash=False)',
        'torch.hub.download_url_to_file("https://example.org/model.pth", "model.pth")',
        'gdown.download("https://drive.google.com/uc?id=1vf6", "model.pth")',
        'keras.utils.get_file("data.npz", "https://example.org/data.npz")',
        'download_url("https://example.org/images.tar", root)',
        'open("data.zip", "wb").write(requests.get("https://example.org/data.zip").content)',
    ],
)
def test_709_unverified(call: str) -> None:
    source = f"""
        import gdown
        import keras
        import requests
        import torch
        from torchvision.datasets.utils import download_url

        x = {call}
        """
    assert len(findings(source)) == 1


@pytest.mark.parametrize(
    "call",
    [
        'torch.hub.load_state_dict_from_url("https://example.org/resnet18-f37072fd.pth")',
        "torch.hub.load_state_dict_from_url(MODEL_URLS[arch])",  # a model zoo's table
        'torch.hub.download_url_to_file("https://example.org/m.pth", "m.pth", "f37072fd")',
        'keras.utils.get_file("data.npz", "https://example.org/data.npz", file_hash="ab12")',
        'download_url("https://example.org/images.tar", root, md5="ab12")',
        'gdown.cached_download("https://example.org/w.pt", "w.pt", md5="ab12")',
        'urllib.request.urlretrieve("s3://bucket/data.csv", "data.csv")',
        "urllib.request.urlretrieve(url, path, **options)",
        'requests.get("https://example.org/api/labels").json()',
        'urllib.request.urlretrieve("https://huggingface.co/org/m/resolve/'
        + "0" * 40
        + '/model.bin", "model.bin")',
    ],
)
def test_709_checked_pinned_or_not_kept(call: str) -> None:
    source = f"""
        import gdown
        import keras
        import requests
        import torch
        import urllib.request
        from torchvision.datasets.utils import download_url

        x = {call}
        """
    assert findings(source) == []


def test_709_response_written_through_copyfileobj() -> None:
    source = """
        import shutil
        import requests

        def fetch(path):
            with requests.get("https://example.org/weights/model.bin", stream=True) as r:
                with open(path, "wb") as f:
                    shutil.copyfileobj(r.raw, f)
        """
    assert [f.line for f in findings(source)] == [5]


def test_709_one_finding_per_url_of_a_file() -> None:
    source = """
        import urllib.request

        URL = "https://example.org/data/train.zip"
        urllib.request.urlretrieve(URL, "a.zip")
        urllib.request.urlretrieve(URL, "b.zip")
        """
    assert len(findings(source)) == 1


@pytest.mark.parametrize("path", ["tests/test_data.py", "docs/conf.py", "demo.py", "setup.py"])
def test_709_leaves_tests_docs_and_demos_alone(path: str) -> None:
    source = """
        import urllib.request
        urllib.request.urlretrieve("https://example.org/data/train.zip", "train.zip")
        """
    assert findings(source, path=path) == []


@pytest.mark.parametrize(
    "script",
    [
        "for i in {0..3}; do wget https://example.org/data/chunk_${i}.pt && mv a b; done\n",
        "gdown 1vf6LtRHlpxCC -O model.pth\n",
        "cd data && curl -sSLo train.zip https://example.org/data/train.zip\n",
        "wget \\\n  https://example.org/data/train.csv\n",
    ],
)
def test_709_shell_downloads(script: str) -> None:
    assert len(findings(script, path="scripts/get_data.sh")) == 1


@pytest.mark.parametrize(
    "script",
    [
        "# wget https://example.org/data/train.zip\n",
        'echo "wget https://example.org/data/train.zip"\n',
        "curl -sSL https://install.python-poetry.org | python3 -\n",
        "curl https://example.org/data/train.zip | tar -x\n",
        "wget -qO- https://example.org/data/train.tar.gz | tar xz\n",
        "wget https://github.com/org/repo/releases/download/v1.0/weights.pt\n",
        "wget https://example.org/data/train.zip\nmd5sum -c data.md5\n",
    ],
)
def test_709_shell_left_alone(script: str) -> None:
    assert findings(script, path="scripts/get_data.sh") == []


def test_709_a_helper_downloading_what_it_is_given_is_left_alone() -> None:
    source = """
        import urllib.request

        def download(url, path):
            urllib.request.urlretrieve(url, path)
        """
    assert findings(source) == []


def test_709_google_drive_file_id() -> None:
    source = """
        import gdown
        gdown.download(id="1vf6LtRHlpxCC", output="model.pth")
        """
    assert "drive.google.com/uc?id=1vf6LtRHlpxCC" in findings(source)[0].message


@pytest.mark.parametrize(
    ("url", "found"),
    [
        ("http://download.tensorflow.org/data/speech_commands_v0.02.tar.gz", 0),
        ("https://releases.example.com/terraform/1.5.7/terraform_1.5.7_linux_amd64.zip", 0),
        ("https://cdn.example.net/wp-content/uploads/2018/03/chinook.zip", 1),
        ("https://raw.githubusercontent.com/org/repo/master/data/input.txt", 1),
    ],
)
def test_709_versioned_files_are_releases(url: str, found: int) -> None:
    source = f"""
        import urllib.request
        urllib.request.urlretrieve("{url}", "data.bin")
        """
    assert len(findings(source)) == found
