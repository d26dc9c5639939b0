"""What a credential looks like by its name: ``HF_TOKEN``, ``wandb_api_key``, ``db_password``.

Machine-learning code is full of *tokens* that are not secrets at all (``pad_token``,
``num_tokens``, ``max_new_tokens``, ``token_ids``, ``tokenizer``), so ``token`` only names a
credential when a word before it says whose token it is (``hf_token``, ``access_token``,
``github_token``). ``key`` alone is a dictionary key; ``api_key``, ``secret_key`` and
``private_key`` are credentials. A name that ends in a word saying it holds something *about*
the secret (``token_env_var``, ``api_key_name``, ``password_file``, ``access_key_id``) or that
starts like a flag (``use_auth_token``, ``has_api_key``) is not the secret itself.

Environment variables are judged a little more loosely: ``os.environ["TOKEN"]`` and
``MLFLOW_TRACKING_TOKEN`` are credentials, since nobody keeps text tokens in the environment.
"""

from __future__ import annotations

import re

# Words that make a name a credential wherever they appear in it.
_SECRET_WORDS = frozenset(
    {
        "secret",
        "secrets",
        "password",
        "passwd",
        "passphrase",
        "credential",
        "credentials",
        "creds",
        "apikey",
        "apitoken",
    }
)
# ``<word>_key`` is a credential for these words.
_KEY_OWNERS = frozenset({"api", "access", "secret", "private", "auth", "signing", "encryption"})
# ``<word>_token`` is a credential for these words: whose token it is or what it grants.
_TOKEN_OWNERS = frozenset(
    {
        "hf",
        "hub",
        "huggingface",
        "access",
        "auth",
        "api",
        "bearer",
        "refresh",
        "session",
        "oauth",
        "jwt",
        "bot",
        "personal",
        "write",
        "read",
        "login",
        "secret",
        "security",
        "github",
        "gh",
        "gitlab",
        "slack",
        "discord",
        "telegram",
        "wandb",
        "openai",
        "anthropic",
        "mlflow",
        "databricks",
        "dagshub",
        "clearml",
        "comet",
        "neptune",
        "kaggle",
        "pypi",
        "codecov",
        "mosaicml",
        "azure",
        "aws",
        "gcp",
        "sas",
        "replicate",
        "modal",
    }
)
# Last words that say the value is about the secret, not the secret.
_ABOUT = frozenset(
    {
        "name",
        "names",
        "env",
        "var",
        "vars",
        "variable",
        "path",
        "file",
        "filename",
        "dir",
        "url",
        "uri",
        "id",
        "ids",
        "len",
        "length",
        "count",
        "size",
        "type",
        "prefix",
        "field",
        "fields",
        "set",
        "present",
        "exists",
        "provided",
        "required",
        "missing",
        "help",
        "hint",
        "arg",
        "flag",
        "scope",
        "scopes",
        "manager",
        "provider",
        "store",
        "expiry",
        "expires",
        "hash",
        "hashed",
        "mask",
        "masked",
        "redacted",
        "source",
    }
)
# First words of flags and checks: ``use_auth_token``, ``has_password``, ``no_hf_token``.
_FLAG_STARTS = frozenset(
    {
        "use",
        "is",
        "has",
        "have",
        "no",
        "with",
        "without",
        "require",
        "requires",
        "should",
        "need",
        "needs",
        "enable",
        "disable",
        "check",
        "validate",
        "get",
        "set",
        "load",
        "read",
        "save",
        "mask",
        "redact",
        "hide",
        "num",
        "n",
        "max",
        "min",
    }
)

_WORDS = re.compile(r"[A-Z]+(?![a-z])|[A-Z]?[a-z]+|\d+")


def words(name: str) -> list[str]:
    """``hfToken`` / ``HF_TOKEN`` / ``hf_token`` -> ["hf", "token"]."""
    return [w.lower() for w in _WORDS.findall(name)]


def _credential(parts: list[str], environment: bool) -> bool:
    if not parts or parts[-1] in _ABOUT or (len(parts) > 1 and parts[0] in _FLAG_STARTS):
        return False
    if any(part in _SECRET_WORDS for part in parts):
        return True
    last = parts[-1]
    before = parts[-2] if len(parts) > 1 else None
    if last == "key":
        return before in _KEY_OWNERS
    if last == "token":
        # Nobody keeps text tokens in the environment: any ``*_TOKEN`` there is a credential.
        return environment or before in _TOKEN_OWNERS
    return False


def secret_name(name: str) -> bool:
    """Whether a variable, attribute, parameter or settings key so named holds a credential.

    ``secret`` alone is left out: it as often names a secret (a key in a vault, a loop over
    secret names) as it holds one.
    """
    parts = words(name)
    return parts not in (["secret"], ["secrets"]) and _credential(parts, environment=False)


def secret_environment_key(key: str) -> bool:
    """Whether an environment variable so named holds a credential (``TOKEN`` alone counts)."""
    return _credential(words(key), environment=True)
