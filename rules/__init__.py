"""debtbot's rules, and what a rule author needs to write one.

A rule is one module in the folder of its principle (``rules/glue_code/`` holds DEBT8xx); see
:mod:`rules.rule` for what the module defines. What a rule may use is exported here::

    from rules import Context, Example, Rule, names

The engine that runs the rules lives in :mod:`rules.engine`; shared knowledge of ML libraries
(which calls read and write data, the data-flow walk) in :mod:`rules.ml`.
"""

from rules import names, readers
from rules.catalogue import all_rules, rules_by_code
from rules.context import Context, RepositoryContext, is_test_path
from rules.engine import clones, literals
from rules.engine.facts import FileFacts
from rules.engine.repository import Change, Repository, definition_line
from rules.finding import Finding, Severity, Skipped
from rules.rule import Example, Rule

__all__ = [
    "Change",
    "Context",
    "Example",
    "FileFacts",
    "Finding",
    "Repository",
    "RepositoryContext",
    "Rule",
    "Severity",
    "Skipped",
    "all_rules",
    "clones",
    "definition_line",
    "is_test_path",
    "literals",
    "names",
    "readers",
    "rules_by_code",
]
