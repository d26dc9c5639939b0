"""
What it does
------------
Flags a data, weights or archive file fetched from a URL and kept with nothing checking that
its content is the expected one:

- ``urllib.request.urlretrieve``, ``wget.download``, ``gdown.download`` (and
  ``gdown.cached_download`` without ``md5=`` or ``hash=``);
- ``torch.hub.download_url_to_file`` without ``hash_prefix``, and
  ``torch.hub.load_state_dict_from_url`` / ``torch.utils.model_zoo.load_url`` without
  ``check_hash=True``;
- ``tf.keras.utils.get_file`` / ``keras.utils.get_file`` without ``file_hash`` (or ``md5_hash``),
  torchvision's ``download_url`` and ``download_and_extract_archive`` without ``md5``;
- a response of ``requests``/``httpx`` (or ``urllib.request.urlopen``) whose body is written to a
  file: ``f.write(response.content)``, a loop over ``response.iter_content()``,
  ``shutil.copyfileobj(response.raw, f)``;
- a database URL handed to Flyte's ``SQLite3Config(uri=...)``, which downloads it when the task
  runs;
- in shell scripts (``*.sh``, ``*.bash``): ``wget`` and ``curl -o``/``-O``/``> file`` of a data,
  weights or archive file.

Only URLs the code spells out are judged (a literal, a constant, an entry of a dictionary of
URLs, an f-string that starts with the address): a helper that downloads whatever URL it is
given has no digest to compare with. Left alone: a file (or script) that checks a digest anywhere (``hashlib``, torchvision's
``check_integrity``, ``sha256sum``, ``md5sum``, ``shasum``); URLs that name their content
exactly, which a checksum would only repeat: a hash in the file name
(``resnet18-f37072fd.pth``), a commit in the path (``raw.githubusercontent.com/org/repo/<sha>/``,
``huggingface.co/.../resolve/<sha>/``), a versioned release asset
(``github.com/org/repo/releases/download/v1.2/``) or a versioned file
(``speech_commands_v0.02.tar.gz``), a Zenodo or figshare record; installers and
code (``.sh``, ``.py``, ``.whl``); tests, documentation, notebooks and their exports, ``setup.py``.

Why is this bad?
----------------
A URL says where a file lives, not what it holds. The server can replace the file, a mirror can
serve an older one, a proxy can return an error page, and a transfer can stop half-way: training
or evaluation then runs on different or broken data, and nothing in the code or the logs says
so. The run that produced a model cannot be repeated once the file has changed, and the failure
shows up far from its cause, as a worse metric or an unpickling error.

Example
-------
.. code-block:: python

    urllib.request.urlretrieve("https://example.org/data/train.zip", "data/train.zip")
    path = tf.keras.utils.get_file("flowers.tgz", origin=FLOWERS_URL, extract=True)

Use instead
-----------
Write down the digest of the file you evaluated with, and check it on every download:

.. code-block:: python

    path = tf.keras.utils.get_file(
        "flowers.tgz", origin=FLOWERS_URL, extract=True, file_hash="8ad6..."
    )
    torch.hub.download_url_to_file(url, "weights.pt", hash_prefix="8ad6c1d2")

In shell, ``echo "8ad6...  train.zip" | sha256sum -c -`` after the download.

References
----------
- Keras documentation: ``get_file`` (``file_hash``); PyTorch documentation: ``torch.hub``
  (``hash_prefix``, ``check_hash``)
- GitHub documentation: release assets can be edited or deleted by maintainers, tags moved
- Sculley et al., "Hidden Technical Debt in Machine Learning Systems": unstable data dependencies
"""

from __future__ import annotations

import posixpath
import re
import shlex
from dataclasses import dataclass, field
from urllib.parse import urlparse

import libcst as cst

from rules import Context, Example, Rule
from rules.names import dotted, keyword, string_value

RULE = Rule(
    code="DEBT709",
    name="unverified-download",
    principle="data-dependencies",
    severity="warning",
    # 10 of its 12 findings while tuning were judged right (the two others: a tiny text file
    # two copies of nanoGPT's data scripts fetch from a branch that never moves). On, to be
    # measured on held-out set 3.
    message="Check the file downloaded from `{url}` against a known digest{how} so that a changed or broken download cannot go unnoticed.",
    files=("*.py", "*.sh", "*.bash"),
    valid=(
        # Near misses: the checks each downloader offers.
        """
import torch
import tensorflow as tf

path = tf.keras.utils.get_file("flowers.tgz", origin="https://x.org/flowers.tgz", file_hash="8ad6")
torch.hub.download_url_to_file("https://x.org/w.pt", "w.pt", hash_prefix="8ad6c1d2")
state = torch.hub.load_state_dict_from_url("https://x.org/w.pth", check_hash=True)
""",
        # Near miss: the file checks the digest itself.
        """
import hashlib
import urllib.request

urllib.request.urlretrieve("https://x.org/train.zip", "train.zip")
assert hashlib.sha256(open("train.zip", "rb").read()).hexdigest() == EXPECTED
""",
        # Near misses: URLs that name their content exactly.
        """
import urllib.request

urllib.request.urlretrieve(
    "https://github.com/org/repo/releases/download/v1.2.0/weights.pt", "weights.pt"
)
urllib.request.urlretrieve("https://download.pytorch.org/models/resnet18-f37072fd.pth", "r.pth")
urllib.request.urlretrieve("https://zenodo.org/record/3834/files/train.zip", "train.zip")
""",
        # Near miss: a response that is read, not saved.
        """
import requests

labels = requests.get("https://x.org/labels.json").json()
""",
        # Near miss: an installer, not data.
        Example(
            """
wget https://repo.anaconda.com/miniconda/Miniconda3-latest-Linux-x86_64.sh -O miniconda.sh
""",
            path="scripts/setup_env.sh",
        ),
        # Near miss: the script checks what it downloaded.
        Example(
            """
wget https://x.org/data/train.zip
echo "8ad6c1d2...  train.zip" | sha256sum -c -
""",
            path="scripts/get_data.sh",
        ),
    ),
    invalid=(
        Example(
            """
import urllib.request

def fetch(root):
    urllib.request.urlretrieve("https://x.org/data/train.zip", root + "/train.zip")
""",
            line=4,
        ),
        Example(
            """
import tensorflow as tf

FLOWERS = "https://storage.googleapis.com/download.tensorflow.org/example_images/flower_photos.tgz"
path = tf.keras.utils.get_file("flower_photos", origin=FLOWERS, untar=True)
""",
            line=4,
        ),
        Example(
            """
import requests

def download(path):
    response = requests.get("https://x.org/weights/model.bin", stream=True)
    with open(path, "wb") as f:
        for chunk in response.iter_content(chunk_size=8192):
            f.write(chunk)
""",
            line=4,
        ),
        Example(
            """
from torch.hub import download_url_to_file

download_url_to_file("https://x.org/ckpt/last.pt", "last.pt")
""",
            line=3,
        ),
        Example(
            """
from flytekit.extras.sqlite3.task import SQLite3Config, SQLite3Task

EXAMPLE_DB = "https://cdn.example.net/uploads/2018/03/chinook.zip"
sql_task = SQLite3Task(name="q", query_template="select 1", task_config=SQLite3Config(uri=EXAMPLE_DB, compressed=True))
""",
            line=4,
        ),
        Example(
            """
#!/bin/bash
mkdir -p data
wget -q https://x.org/datasets/train.tar.gz -P data/
python train.py --data data/
""",
            path="scripts/run.sh",
            line=3,
        ),
        Example(
            """
curl -L https://x.org/checkpoints/model.ckpt -o checkpoints/model.ckpt
""",
            path="download_weights.sh",
            line=1,
        ),
    ),
)


@dataclass
class State:
    # Downloads seen: (call, url node or None, the check it lacks, ancestors).
    found: list[tuple[cst.Call, cst.BaseExpression | None, str, list[cst.CSTNode]]] = field(
        default_factory=list
    )
    checks: bool = False  # the file computes or checks a digest
    constants: dict[str, cst.BaseExpression] = field(default_factory=dict)
    reassigned: set[str] = field(default_factory=set)
    responses: set[str] = field(default_factory=set)  # names bound to an HTTP response
    response_calls: dict[str, tuple[cst.Call, list[cst.CSTNode]]] = field(default_factory=dict)
    chunks: dict[str, str] = field(default_factory=dict)  # loop variable -> response name
    saved: set[str] = field(default_factory=set)  # responses whose body is written to a file


# Downloaders that always keep a file, with the argument that would check it: (keyword,
# position) of the check, (keyword, position) of the URL, what to suggest.
_DOWNLOADERS: dict[str, tuple[tuple[str, ...], int | None, tuple[str, int | None], str]] = {
    "urllib.request.urlretrieve": ((), None, ("url", 0), ""),
    "wget.download": ((), None, ("url", 0), ""),
    "gdown.download": ((), None, ("url", 0), ""),
    "gdown.download_folder": ((), None, ("url", 0), ""),
    "gdown.cached_download": (("md5", "hash"), 2, ("url", 0), "md5="),
    "torch.hub.download_url_to_file": (("hash_prefix",), 2, ("url", 0), "hash_prefix="),
    "tensorflow.keras.utils.get_file": (("file_hash", "md5_hash"), None, ("origin", 1), "file_hash="),
    "keras.utils.get_file": (("file_hash", "md5_hash"), None, ("origin", 1), "file_hash="),
    "tf_keras.utils.get_file": (("file_hash", "md5_hash"), None, ("origin", 1), "file_hash="),
    "torchvision.datasets.utils.download_url": (("md5",), 3, ("url", 0), "md5="),
    "torchvision.datasets.utils.download_and_extract_archive": (("md5",), 4, ("url", 0), "md5="),
}  # fmt: skip
_STATE_DICT_URLS = frozenset(
    {"torch.hub.load_state_dict_from_url", "torch.utils.model_zoo.load_url"}
)
_HTTP_GETS = frozenset(
    {"requests.get", "requests.request", "httpx.get", "httpx.stream", "urllib.request.urlopen"}
)
_SQLITE_CONFIG = re.compile(r"^flytekit\.(?:[\w.]+\.)?SQLite3Config$")
# Calls that check a digest: a file that makes one checks what it downloads.
_DIGEST_CALLS = (
    "hashlib.", "torchvision.datasets.utils.check_integrity",
    "torchvision.datasets.utils.check_md5", "torchvision.datasets.utils.calculate_md5",
)  # fmt: skip
_BODY_ATTRIBUTES = frozenset({"content", "raw", "text", "read", "iter_content", "iter_bytes"})

# Where a download is part of documentation or a test rather than of the project's runs.
_EXCLUDED_DIRS = frozenset({"docs", "doc", "notebooks", "notebook", "demo", "demos"})
_EXCLUDED_FILES = frozenset({"setup.py", "conftest.py", "noxfile.py", "hubconf.py"})
_NOTEBOOK_EXPORT = re.compile(r"^# In\[[0-9 ]*\]:|get_ipython\(\)", re.MULTILINE)

# URLs that name their content exactly.
_HASHED_FILE = re.compile(r"[-_.][0-9a-f]{8,}\.[A-Za-z0-9.]+$")
_COMMIT = re.compile(r"/[0-9a-f]{40}/")
_RELEASE = re.compile(r"/releases/download/(?!latest/)[^/]*\d[^/]*/")
# A version in the path or the file name (``speech_commands_v0.02.tar.gz``, ``/1.5.7/``): a
# publisher that numbers its releases publishes a new number rather than replace a file.
_VERSIONED = re.compile(
    r"(?:^|[-_/.])v\d+(?:\.\d+)*(?=[-_./]|$)|(?:^|[-_/])\d+\.\d+\.\d+(?=[-_./]|$)"
)
_RECORDS = re.compile(r"(^|\.)(zenodo\.org|figshare\.com)$")
# Files that are code or installers, not data.
_CODE_SUFFIX = re.compile(r"\.(sh|bash|py|whl|exe|deb|rpm|msi|pkg|dmg|run|asc|sig|gpg|key)$", re.I)
# Files a shell download keeps that are data, weights or archives.
_DATA_SUFFIX = re.compile(
    r"\.(zip|tar|tgz|gz|bz2|xz|7z|rar|zst|pt|pth|ckpt|bin|safetensors|h5|hdf5|onnx|pb|tflite|pkl|"
    r"pickle|joblib|npz|npy|csv|tsv|json|jsonl|parquet|feather|arrow|txt|vec|model|mat|tfrecord|"
    r"db|sqlite|wav|flac|mp4|jpg|png|nii)$",
    re.IGNORECASE,
)


def _url_pinned(url: str) -> bool:
    """Whether a URL names its content exactly (see the module's docstring), or is no data."""
    parsed = urlparse(url)
    path = parsed.path
    name = posixpath.basename(path)
    return bool(
        _HASHED_FILE.search(name)
        or _COMMIT.search(path + "/")
        or _RELEASE.search(path)
        or _VERSIONED.search(path)
        or _RECORDS.search(parsed.hostname or "")
        or _CODE_SUFFIX.search(name)
    )


def _argument(call: cst.Call, name: str, position: int | None) -> cst.Arg | None:
    found = keyword(call, name)
    if found is not None:
        return found
    positional = [a for a in call.args if a.keyword is None and not a.star]
    if position is not None and position < len(positional):
        return positional[position]
    return None


def _literal(node: cst.BaseExpression | None, ctx: Context[State]) -> str | None:
    if node is None:
        return None
    text = string_value(node)
    state = ctx.state
    if text is None and isinstance(node, cst.Name) and node.value not in state.reassigned:
        constant = state.constants.get(node.value)
        text = string_value(constant) if constant is not None else None
    if text is None and isinstance(node, cst.Subscript) and isinstance(node.value, cst.Name):
        # ``MODEL_URLS["resnet18"]``: the entry of a dictionary of URLs.
        table = state.constants.get(node.value.value)
        index = node.slice[0].slice if len(node.slice) == 1 else None
        key = string_value(index.value) if isinstance(index, cst.Index) else None
        if isinstance(table, cst.Dict) and key is not None:
            for element in table.elements:
                if isinstance(element, cst.DictElement) and string_value(element.key) == key:
                    text = string_value(element.value)
    if text is None and isinstance(node, cst.FormattedString):
        text = "".join(
            part.value if isinstance(part, cst.FormattedStringText) else "{}" for part in node.parts
        )
    return text


def visit_Assign(node: cst.Assign, ctx: Context[State]) -> None:
    state = ctx.state
    for target in node.targets:
        if not isinstance(target.target, cst.Name):
            continue
        name = target.target.value
        # Names bound once, anywhere in the file: a URL kept in a variable before its use.
        if name in state.constants:
            state.reassigned.add(name)
        state.constants[name] = node.value
        if isinstance(node.value, cst.Call) and _is_get(node.value, ctx):
            state.responses.add(name)
            state.response_calls[name] = (node.value, list(ctx.ancestors))


def visit_WithItem(node: cst.WithItem, ctx: Context[State]) -> None:
    item = node.item
    if (
        isinstance(item, cst.Call)
        and _is_get(item, ctx)
        and node.asname is not None
        and isinstance(node.asname.name, cst.Name)
    ):
        name = node.asname.name.value
        ctx.state.responses.add(name)
        ctx.state.response_calls[name] = (item, list(ctx.ancestors))


def visit_For(node: cst.For, ctx: Context[State]) -> None:
    # ``for chunk in response.iter_content(...)``: the chunks are the response's body.
    source = node.iter
    if isinstance(source, cst.Call) and isinstance(source.func, cst.Attribute):
        owner = dotted(source.func.value)
        if owner in ctx.state.responses and isinstance(node.target, cst.Name):
            ctx.state.chunks[node.target.value] = owner


def _is_get(call: cst.Call, ctx: Context[State]) -> bool:
    return (ctx.call_name(call) or "") in _HTTP_GETS


def _body_of(node: cst.BaseExpression, ctx: Context[State]) -> str | cst.Call | None:
    """The response (a name, or the call itself) whose body ``node`` is, else None."""
    state = ctx.state
    if isinstance(node, cst.Call):
        node = node.func  # response.read()
    if isinstance(node, cst.Name):
        return state.chunks.get(node.value)
    if isinstance(node, cst.Attribute) and node.attr.value in _BODY_ATTRIBUTES:
        owner = node.value
        if isinstance(owner, cst.Call) and _is_get(owner, ctx):
            return owner
        name = dotted(owner)
        if name in state.responses:
            return name
    return None


def visit_Call(node: cst.Call, ctx: Context[State]) -> None:
    state = ctx.state
    qualified = ctx.call_name(node) or ""
    if qualified.startswith(_DIGEST_CALLS):
        state.checks = True
        return
    func = node.func
    written: cst.BaseExpression | None = None
    writes = isinstance(func, cst.Attribute) and func.attr.value == "write"
    if node.args and (writes or qualified == "shutil.copyfileobj"):
        written = node.args[0].value
    if written is not None:
        body = _body_of(written, ctx)
        if isinstance(body, cst.Call):
            state.found.append((body, _url_of(body), "", list(ctx.ancestors)))
        elif body is not None and body not in state.saved:
            state.saved.add(body)
            call, ancestors = state.response_calls[body]
            state.found.append((call, _url_of(call), "", ancestors))
        return
    spec = _DOWNLOADERS.get(qualified)
    if spec is not None:
        checks, position, (url_name, url_position), how = spec
        if any(_argument(node, name, position) is not None for name in checks):
            return
        if any(a.star == "**" for a in node.args):
            return  # the keywords passed on may hold the check
        url = _argument(node, url_name, url_position) or keyword(node, "id")
        state.found.append((node, url.value if url else None, how, list(ctx.ancestors)))
        return
    if qualified in _STATE_DICT_URLS:
        check = keyword(node, "check_hash")
        if check is not None and not (
            isinstance(check.value, cst.Name) and check.value.value == "False"
        ):
            return
        url = _argument(node, "url", 0)
        url_node = url.value if url else None
        state.found.append((node, url_node, "check_hash=True", list(ctx.ancestors)))
        return
    if _SQLITE_CONFIG.match(qualified):
        uri = _argument(node, "uri", 0)
        if uri is not None:
            state.found.append((node, uri.value, "", list(ctx.ancestors)))


def _url_of(call: cst.Call) -> cst.BaseExpression | None:
    url = _argument(call, "url", 0)
    if url is not None and string_value(url.value) in {"GET", "get"}:
        url = _argument(call, "url", 1)  # requests.request("GET", url)
    return url.value if url is not None else None


def _excluded(ctx: Context) -> bool:
    if ctx.is_test:
        return True
    parts = ctx.path.lower().split("/")
    if parts[-1].startswith("demo"):
        return True  # a demonstration fetches what it shows
    if parts[-1] in _EXCLUDED_FILES or any(part in _EXCLUDED_DIRS for part in parts[:-1]):
        return True
    return bool(_NOTEBOOK_EXPORT.search(ctx.text))


def leave_Module(node: cst.Module, ctx: Context[State]) -> None:
    state = ctx.state
    if not state.found or state.checks or _excluded(ctx):
        return
    seen: set[object] = set()
    for call, url_node, how, ancestors in state.found:
        if id(call) in seen:
            continue
        seen.add(id(call))
        # Only a URL the code spells out is judged: one passed in by a caller or a
        # configuration is that caller's to check, and a helper that downloads whatever it
        # is given has no digest to compare with.
        url = _literal(url_node, ctx)
        if url is not None and (ctx.call_name(call) or "").startswith("gdown.") and "/" not in url:
            url = f"https://drive.google.com/uc?id={url}"  # a Google Drive file id
        if url is None or not url.startswith(("http://", "https://", "ftp://")):
            continue  # s3://, gs://: a bucket the project controls; local paths
        if _url_pinned(url):
            continue
        shown = url if len(url) <= 80 else url[:77] + "..."
        if shown in seen:
            continue  # one finding for each URL of a file
        seen.add(shown)
        ctx.report_from(call, ancestors, url=shown, how=f" (`{how}`)" if how else "")


# -- shell scripts ----------------------------------------------------------------------------------

_SHELL_DIGESTS = re.compile(
    r"\b(sha\d*sum|md5sum|shasum|cksum|b2sum|md5|openssl\s+dgst|gpg\s+--verify|check_integrity)\b"
)
# Words before a command: keywords of compound commands and wrappers.
_SHELL_PREFIXES = frozenset({"do", "then", "else", "{", "(", "sudo", "nohup", "time", "env", "!"})
_ASSIGNMENT = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*=")
_URL = re.compile(r"(?:https?|ftp)://[^\s'\"<>|;)]+")


def _shell_lines(lines: list[str]) -> list[tuple[int, str]]:
    """Logical lines (joined across trailing backslashes), comments dropped, with their first
    line number."""
    joined: list[tuple[int, str]] = []
    text, first = "", 0
    for number, raw in enumerate(lines, start=1):
        stripped = raw.strip()
        if not text and (not stripped or stripped.startswith("#")):
            continue
        if not text:
            first = number
        if stripped.endswith("\\"):
            text += stripped[:-1] + " "
            continue
        joined.append((first, text + stripped))
        text = ""
    if text:
        joined.append((first, text))
    return joined


def _shell_download(command: str) -> str | None:
    """The URL of a data file that one simple command downloads to a file, else None."""
    try:
        words = shlex.split(command, comments=True)
    except ValueError:
        return None
    while words and (_ASSIGNMENT.match(words[0]) or words[0] in _SHELL_PREFIXES):
        words = words[1:]
    if not words:
        return None
    program = posixpath.basename(words[0])
    if program not in ("wget", "curl", "gdown", "aria2c", "axel"):
        return None
    urls = [w for w in words[1:] if _URL.fullmatch(w)]
    if program == "curl":
        keeps = (
            any(
                w in ("-O", "--remote-name", "-o", "--output", "--remote-name-all")
                or (w.startswith("-") and not w.startswith("--") and ("O" in w or "o" in w))
                for w in words[1:]
            )
            or ">" in command
        )
        if not keeps:
            return None
    if program == "wget" and any(w in ("-O-", "-qO-", "-O -") for w in words[1:]):
        return None
    if program == "gdown":
        # Google Drive serves whatever the file's owner last uploaded under that id.
        ids = [w for w in words[1:] if not w.startswith("-")]
        return next(iter(urls), ids[0] if ids else None)
    for url in urls:
        name = posixpath.basename(urlparse(url).path)
        if _DATA_SUFFIX.search(name) and not _url_pinned(url):
            return url
    return None


def check(ctx: Context) -> None:
    if ctx.path.endswith(".py"):
        return
    if _excluded(ctx) or _SHELL_DIGESTS.search(ctx.text):
        return
    for line, text in _shell_lines(ctx.lines):
        if re.match(r"\s*(echo|printf)\b", text):
            continue
        for command in re.split(r"&&|\|\||;|\|(?!\|)", text):
            url = _shell_download(command.strip())
            if url is not None:
                shown = url if len(url) <= 80 else url[:77] + "..."
                ctx.report_line(line, url=shown, how="")
                break
