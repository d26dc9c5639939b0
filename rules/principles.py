"""The eleven principles every finding is filed under.

The slugs are a public contract (JSON, SARIF, comment links, stored findings): never rename one.
"""

from __future__ import annotations

from dataclasses import dataclass

ARTICLE_URL = (
    "https://medium.com/@mhaseebtariq/"
    "the-strenuous-journey-from-a-useful-to-a-usable-data-science-model-ecc5064f613e"
)
PAPER_URL = "https://research.google/pubs/pub43146/"


@dataclass(frozen=True)
class Principle:
    slug: str
    title: str
    summary: str
    source: str  # where the principle comes from: "article" or "paper"


PRINCIPLES: dict[str, Principle] = {
    p.slug: p
    for p in (
        Principle(
            "separation-of-efforts",
            "Separation of usefulness and usability efforts",
            "Code written to prove an idea is shipped to production unchanged. Notebook exports "
            "and scratch code carry hidden state and skip the care that running code needs.",
            "article",
        ),
        Principle(
            "over-abstraction",
            "Over-abstraction",
            "Class hierarchies, registries and wrappers built for a future that may never come. "
            "Each layer is one more thing to read before a plain function call can be changed.",
            "article",
        ),
        Principle(
            "cutting-corners",
            "Cutting corners",
            "Shortcuts taken to save time today: swallowed errors, silent wrong results, slow "
            "algorithms, missing tests. Each one is paid back later, with interest.",
            "article",
        ),
        Principle(
            "best-practices-trap",
            "The best practices trap",
            "Practices copied because others use them, without the reason they exist. YAML for a "
            "handful of flat settings is the classic case: more parsing, more ways to be wrong, "
            "no benefit.",
            "article",
        ),
        Principle(
            "changing-anything",
            "Changing anything changes everything",
            "Entangled code where one change silently shifts behaviour elsewhere: functions that "
            "mutate their inputs, state shared between pipeline steps.",
            "paper",
        ),
        Principle(
            "feedback-loops",
            "Hidden feedback loops",
            "A model's own output finds its way back into its training data, so each retrain "
            "learns from itself and drift accelerates unnoticed.",
            "paper",
        ),
        Principle(
            "data-dependencies",
            "The cost of data dependencies",
            "Data and libraries the model depends on without a version, a checksum or a stable "
            "address. When they change, results change and nobody can say why.",
            "paper",
        ),
        Principle(
            "glue-code",
            "Glue code and pipeline jungles",
            "Scripts that call scripts, and long chains of ad-hoc steps. The glue grows until "
            "nobody can change one step without breaking another.",
            "paper",
        ),
        Principle(
            "configuration-debt",
            "Configuration debt",
            "Too many settings, read in too many places, in too loose a form. Configuration is "
            "code that nobody tests.",
            "paper",
        ),
        Principle(
            "experimentation-paths",
            "Experimentation paths",
            "Experiments mixed into production code: flags, copies named _v2, commented-out "
            "variants, unseeded runs, artifacts that could be from any run.",
            "paper",
        ),
        Principle(
            "external-world",
            "Changes in the external world",
            "Assumptions frozen into the code, such as fixed thresholds and dates, that silently "
            "stop holding when the world the data comes from changes.",
            "paper",
        ),
    )
}
