"""
What it does
------------
Flags a credential that is printed, logged, warned about or written to a web page: a value
named like one (``hf_token``, ``wandb_api_key``, ``args.db_password``,
``config["secret_key"]``), read from an environment variable named like one
(``os.environ["HF_TOKEN"]``, ``os.getenv("OPENAI_API_KEY")``), or a local name bound to such a
read earlier in the same function, when it reaches ``print``, a logging call, ``warnings.warn``,
``click.echo`` or ``st.write``, directly or formatted into the message. Printing the whole
``os.environ`` counts too.

Only the value counts: the variable's name in the text, a masked form (``token[:4] + "***"``),
and checks such as ``bool(token)``, ``len(token)`` or ``token is None`` are fine. Text tokens
(``pad_token``, ``num_tokens``, ``tokenizer``) are not credentials; see ``rules/ml/secrets.py``.

Why is this bad?
----------------
The output of a training or serving job is kept and shared far more widely than its secrets:
scheduler and CI logs, experiment trackers, notebooks committed with their output, screenshots
in issues. A token printed "to check it was set" can be read by everyone who can open those
logs, for as long as they are kept, and has to be revoked once anyone notices.

Example
-------
.. code-block:: python

    hf_token = os.environ["HF_TOKEN"]
    print(f"logging in with {hf_token}")
    login(hf_token)

Use instead
-----------
.. code-block:: python

    hf_token = os.environ["HF_TOKEN"]
    print(f"logging in with HF_TOKEN ({'set' if hf_token else 'missing'})")
    login(hf_token)

References
----------
- OWASP Logging Cheat Sheet: data to exclude from logs (access tokens, passwords, keys)
- CWE-532: Insertion of sensitive information into log file
- ruff/bandit have no equivalent; GitHub secret scanning only finds secrets once leaked
"""

from __future__ import annotations

from dataclasses import dataclass, field

import libcst as cst

from rules import Context, Example, Rule
from rules.ml import output
from rules.ml.secrets import secret_environment_key, secret_name
from rules.names import bound_names, dotted, method_name, string_value

RULE = Rule(
    code="DEBT314",
    name="secret-in-output",
    principle="cutting-corners",
    severity="error",
    message=(
        "Stop showing `{secret}` in the output; everyone who can read the job's logs can "
        "read the credential too."
    ),
    valid=(
        # Near miss: only the name of the variable reaches the log.
        """
import os
token = os.environ.get("HF_TOKEN")
if token is None:
    print("HF_TOKEN is not set")
""",
        # Near miss: masked before it is shown.
        """
import os
api_key = os.getenv("OPENAI_API_KEY")
print(f"using key {api_key[:4]}***")
print("key:", "*" * len(api_key))
""",
        # Near miss: checks on the value, not the value.
        """
import logging
logger = logging.getLogger(__name__)
def login(hf_token):
    logger.info("token provided: %s", bool(hf_token))
    logger.info("token length %d", len(hf_token))
    logger.info(f"token missing: {hf_token is None}")
""",
        # Near miss: text tokens of a language model are not credentials.
        """
print(f"pad token {tokenizer.pad_token}, eos token {tokenizer.eos_token}")
print(f"generated {num_tokens} tokens, max_tokens={max_tokens}")
for token in tokens:
    print(token, token_ids[token])
logger.info(f"tokenizer: {tokenizer}")
""",
        # Near miss: a dictionary key, and the name of a secret's environment variable.
        """
for key, value in metrics.items():
    print(key, value)
print(f"set {token_env_var} or pass --hf-token")
print(f"AWS key id {aws_access_key_id}")
""",
        # Near miss: a flag that says whether to use the token.
        "print(f'use_auth_token={use_auth_token}')",
        # Near miss: the name is reused for something else before it is printed.
        """
import os
def run():
    token = os.environ["HF_TOKEN"]
    login(token)
    token = next_word()
    print(token)
""",
    ),
    invalid=(
        Example(
            """
import os
hf_token = os.environ["HF_TOKEN"]
print(f"logging in with {hf_token}")
""",
            line=3,
        ),
        Example(
            """
import logging
import os
log = logging.getLogger(__name__)
def connect():
    token = os.getenv("MLFLOW_TRACKING_TOKEN")
    log.info("connecting with token %s", token)
""",
            line=6,
        ),
        "import os\nprint('key =', os.environ.get('OPENAI_API_KEY'))",
        "logger.debug(f'config: user={args.db_user} password={args.db_password}')",
        "import warnings\nwarnings.warn('wandb key ' + wandb_api_key + ' looks expired')",
        "import streamlit as st\nst.write(st.secrets['openai_api_key'])",
        "import click\nclick.echo('secret: {}'.format(self.aws_secret_access_key))",
        "import os\nprint(os.environ)",
    ),
)


@dataclass
class State:
    # Names bound to a credential read from the environment, one set per function being
    # walked (the module's first).
    scopes: list[set[str]] = field(default_factory=lambda: [set()])
    # Names the file bound from a logger factory.
    loggers: set[str] = field(default_factory=set)


def _environment_key(node: cst.BaseExpression, ctx: Context) -> str | None:
    """``HF_TOKEN`` for ``os.environ["HF_TOKEN"]``, ``os.getenv("HF_TOKEN")`` and
    ``os.environ.get("HF_TOKEN", ...)``."""
    if isinstance(node, cst.Subscript):
        if ctx.qualified_name(node.value) != "os.environ" or len(node.slice) != 1:
            return None
        index = node.slice[0].slice
        return string_value(index.value) if isinstance(index, cst.Index) else None
    if isinstance(node, cst.Call) and node.args:
        name = ctx.call_name(node)
        if name in {"os.getenv", "os.environ.get"}:
            return string_value(node.args[0].value)
    return None


def _subscript_key(node: cst.Subscript) -> str | None:
    if len(node.slice) != 1 or not isinstance(node.slice[0].slice, cst.Index):
        return None
    return string_value(node.slice[0].slice.value)


def _secret(node: cst.BaseExpression, ctx: Context[State]) -> str | None:
    """The text of the credential the value of ``node`` shows in full, if any."""
    if isinstance(node, cst.Name):
        if node.value in ctx.state.scopes[-1] or (
            secret_name(node.value) and node.value not in ctx.aliases
        ):
            return node.value
        return None
    if isinstance(node, cst.Attribute):
        if ctx.qualified_name(node) == "os.environ":
            return "os.environ"
        return ctx.code(node) if secret_name(node.attr.value) else None
    if isinstance(node, cst.Subscript):
        key = _environment_key(node, ctx)
        if key is not None:
            return ctx.code(node) if secret_environment_key(key) else None
        key = _subscript_key(node)
        # A slice or an index of a credential shows a part of it at most: a mask.
        return ctx.code(node) if key is not None and secret_name(key) else None
    if isinstance(node, cst.Call):
        key = _environment_key(node, ctx)
        if key is not None:
            return ctx.code(node) if secret_environment_key(key) else None
        name = ctx.call_name(node)
        if name in {"str", "repr", "dict", "format"} and node.args:
            return _secret(node.args[0].value, ctx)
        # "... {}".format(token) and "%s" % token below; other calls (len, bool, mask) hide it.
        if isinstance(node.func, cst.Attribute) and node.func.attr.value == "format":
            return _first([node.func.value, *(a.value for a in node.args)], ctx)
        return None
    if isinstance(node, cst.FormattedString):
        return _first(
            [p.expression for p in node.parts if isinstance(p, cst.FormattedStringExpression)], ctx
        )
    if isinstance(node, cst.ConcatenatedString):
        return _first([node.left, node.right], ctx)
    if isinstance(node, cst.BinaryOperation) and isinstance(node.operator, cst.Add | cst.Modulo):
        return _first([node.left, node.right], ctx)
    if isinstance(node, cst.Tuple | cst.List):
        return _first([e.value for e in node.elements], ctx)
    if isinstance(node, cst.Dict):
        return _first([e.value for e in node.elements if isinstance(e, cst.DictElement)], ctx)
    if isinstance(node, cst.IfExp):
        return _first([node.body, node.orelse], ctx)
    return None


def _first(nodes, ctx: Context[State]) -> str | None:
    for node in nodes:
        found = _secret(node, ctx)
        if found is not None:
            return found
    return None


# Calls that hand back a credential: a secrets store, a password prompt, a keyring.
_SECRET_METHODS = frozenset({"get_secret", "get_password"})
_SECRET_SOURCES = frozenset(
    {
        "getpass.getpass",
        "keyring.get_password",
        "huggingface_hub.get_token",
        "huggingface_hub.HfFolder.get_token",
    }
)


def _reads_secret(value: cst.BaseExpression, ctx: Context[State]) -> bool:
    """Whether an assigned value is a credential: read from the environment, a secrets store or
    settings under a credential's name, or copied from a name that holds one."""
    key = _environment_key(value, ctx)
    if key is not None:
        return secret_environment_key(key)
    if isinstance(value, cst.Call):
        if method_name(value) in _SECRET_METHODS or ctx.call_name(value) in _SECRET_SOURCES:
            return True
        if method_name(value) == "get" and value.args:
            key = string_value(value.args[0].value)
            return key is not None and secret_name(key)
        return False
    return isinstance(value, cst.Name | cst.Attribute | cst.Subscript) and (
        _secret(value, ctx) is not None
    )


def visit_FunctionDef(node: cst.FunctionDef, ctx: Context[State]) -> None:
    ctx.state.scopes.append(set())


def leave_FunctionDef(node: cst.FunctionDef, ctx: Context[State]) -> None:
    ctx.state.scopes.pop()


def visit_Assign(node: cst.Assign, ctx: Context[State]) -> None:
    if isinstance(node.value, cst.Call) and output.is_logger_factory(ctx.call_name(node.value)):
        for target in node.targets:
            text = dotted(target.target)
            if text is not None:
                ctx.state.loggers.add(text)
        return
    carries = _reads_secret(node.value, ctx)
    scope = ctx.state.scopes[-1]
    for target in node.targets:
        for name in bound_names(target.target):
            if carries:
                scope.add(name)
            else:
                scope.discard(name)


def visit_Call(node: cst.Call, ctx: Context[State]) -> None:
    # Tests print fake credentials, and their output is not a job's log.
    if ctx.is_test:
        return
    name = ctx.call_name(node)
    if not output.is_printer(node, name) and not output.log_level(node, name, ctx.state.loggers):
        return
    found = _first(output.shown_arguments(node), ctx)
    if found is not None:
        ctx.report(node, secret=found)
