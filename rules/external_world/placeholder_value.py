"""
What it does
------------
Flags a placeholder literal that someone must replace before the code can work, when it is
assigned to a name or passed to a call in code that runs: ``"<your-sub-id>"``,
``"<ml-example>"``, ``"YOUR_API_KEY"``, ``"your-bucket-name"``, ``"xxx"``, ``"REPLACE_ME"``,
``"CHANGEME"``.

Left alone: tests, documentation and example folders, templates meant to be filled
(cookiecutter ``{{ ... }}``), package metadata (``__author__ = "<Your Name>"``), comparisons
(``if key == "YOUR_API_KEY": raise ...`` is a guard that checks the placeholder was replaced)
and docstrings.

Why is this bad?
----------------
The code looks finished and the pipeline that runs it looks configured, but it depends on an
edit nobody is reminded to make. Run as is, it reaches the cloud with a workspace called
``<ml-example>`` and fails far from the line to change, or, worse, a silent fallback
around it swallows the error and the job goes on without the resource. Each person who runs it
makes the edit locally, and the edited copies drift apart.

Example
-------
.. code-block:: python

    ws = Workspace.get(name="<ml-example>", subscription_id="<your-sub-id>", auth=auth)

Use instead
-----------
Read the value from configuration or the environment and fail clearly when it is missing:

.. code-block:: python

    ws = Workspace.get(
        name=os.environ["AML_WORKSPACE"],
        subscription_id=os.environ["AZURE_SUBSCRIPTION_ID"],
        auth=auth,
    )

References
----------
- The Twelve-Factor App, "III. Config": store configuration in the environment
"""

from __future__ import annotations

import re

import libcst as cst

from rules import Context, Example, Rule
from rules.names import string_value

RULE = Rule(
    code="DEBT1105",
    name="placeholder-value",
    principle="external-world",
    severity="warning",
    message="Replace the placeholder `{value}` with a value read from configuration or the environment.",
    valid=(
        # Near miss: a guard that checks the placeholder was replaced.
        """
if api_key == "YOUR_API_KEY":
    raise ValueError("set your API key")
""",
        # Near miss: a cookiecutter template.
        """
BUCKET = "{{ cookiecutter.bucket_name }}"
""",
        # Near miss: HTML and type-like strings in angle brackets.
        """
html = "<br>"
kind = "<class 'int'>"
""",
        # Near miss: package metadata and a class named Todo.
        """
__author__ = "<Your Name>"
__author_email__ = "<your-email@example.com>"
todo = Todo("todo")
""",
        Example(
            """
client = Client(api_key="YOUR_API_KEY")
""",
            path="tests/test_client.py",
        ),
        Example(
            """
client = Client(api_key="YOUR_API_KEY")
""",
            path="docs/quickstart.py",
        ),
    ),
    invalid=(
        """
ws = Workspace.get(name="<ml-example>", auth=sp, subscription_id="<your-sub-id>")
""",
        """
API_KEY = "YOUR_API_KEY"
""",
        """
s3.upload_file(path, "your-bucket-name", key)
""",
        """
token = "xxx"
""",
    ),
    default_enabled=False,
    disabled_because="all 5 remaining findings in 2 repositories, 2 of them in seed code meant to be filled; 24 metadata findings were noise before",
)

_PLACEHOLDER = re.compile(
    r"^<\s*(your|my|enter|insert|replace|put|add)\b[^<>]*>$"
    r"|^<[a-z][\w .-]*[-_ ](name|id|key|token|secret|password|example|here|url|account"
    r"|subscription|workspace|bucket|region|project|tenant|resource[-_ ]group)>$"
    r"|^<ml-example>$"
    r"|^(your|my)[-_ ]?\w*[-_ ](name|id|key|token|secret|password|bucket|here|url|account"
    r"|subscription|workspace|region|project|tenant|endpoint)$"
    r"|^(xxx+|x{3,}[-_]?x*|replace[-_ ]?me|change[-_ ]?me|fill[-_ ]?me[-_ ]?in)$",
    re.IGNORECASE,
)
_SKIPPED_FOLDERS = re.compile(r"(^|/)(docs?|examples?|samples?|templates?|tutorials?)/")


def _placeholder(node: cst.BaseExpression) -> str | None:
    text = string_value(node)
    if text is None or "{{" in text:
        return None
    return text if _PLACEHOLDER.match(text.strip()) else None


def _skipped(ctx: Context) -> bool:
    return ctx.is_test or bool(_SKIPPED_FOLDERS.search(ctx.path))


def _metadata(targets: list[cst.BaseExpression]) -> bool:
    """``__author__ = "<Your Name>"``: package metadata nobody runs against."""
    return any(isinstance(target, cst.Name) and target.value.startswith("__") for target in targets)


def visit_Assign(node: cst.Assign, ctx: Context) -> None:
    if _skipped(ctx) or _metadata([t.target for t in node.targets]):
        return
    value = _placeholder(node.value)
    if value is not None:
        ctx.report(node.value, value=value)


def visit_AnnAssign(node: cst.AnnAssign, ctx: Context) -> None:
    if _skipped(ctx) or node.value is None:
        return
    value = _placeholder(node.value)
    if value is not None:
        ctx.report(node.value, value=value)


def visit_Call(node: cst.Call, ctx: Context) -> None:
    if _skipped(ctx):
        return
    for argument in node.args:
        value = _placeholder(argument.value)
        if value is not None:
            ctx.report(argument.value, value=value)
