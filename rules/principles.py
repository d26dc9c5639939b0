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
    # What a reviewer should do about it, for the principle's page.
    remedy: str = ""


PRINCIPLES: dict[str, Principle] = {
    p.slug: p
    for p in (
        Principle(
            "separation-of-efforts",
            "Separation of usefulness and usability efforts",
            "Code written to prove an idea is shipped to production unchanged. Notebook exports "
            "and scratch code carry hidden state and skip the care that running code needs.",
            "article",
            "Treat a notebook as a lab notebook, not as a delivery. When an idea proves itself, move the code into functions in the package, give them tests, and let the people who will run it in production shape it with you rather than after you.",
        ),
        Principle(
            "over-abstraction",
            "Over-abstraction",
            "Class hierarchies, registries and wrappers built for a future that may never come. "
            "Each layer is one more thing to read before a plain function call can be changed.",
            "article",
            "Start with functions. Add a class when there is state worth guarding, a base class when there is a second implementation, a registry when there is a third. Delete layers that only forward calls.",
        ),
        Principle(
            "cutting-corners",
            "Cutting corners",
            "Shortcuts taken to save time today: swallowed errors, silent wrong results, slow "
            "algorithms, missing tests. Each one is paid back later, with interest.",
            "article",
            "Fail loudly and early, test the code that transforms data, and prefer the vectorised or library routine over the hand-written loop. A shortcut is fine when it is written down and paid back soon.",
        ),
        Principle(
            "best-practices-trap",
            "The best practices trap",
            "Practices copied because others use them, without the reason they exist. YAML for a "
            "handful of flat settings is the classic case: more parsing, more ways to be wrong, "
            "no benefit.",
            "article",
            "Before adopting a tool or format, name the problem it solves here. Plain Python settings are typed, searchable and refactorable; reach for YAML, registries or frameworks only when that problem exists.",
        ),
        Principle(
            "changing-anything",
            "Changing anything changes everything",
            "Entangled code where one change silently shifts behaviour elsewhere: functions that "
            "mutate their inputs, state shared between pipeline steps.",
            "paper",
            "Make data flow explicit: functions return new values instead of mutating their inputs, pipeline steps share nothing but their arguments, and a change to features comes with a change to the tests and evaluation that would notice it.",
        ),
        Principle(
            "feedback-loops",
            "Hidden feedback loops",
            "A model's own output finds its way back into its training data, so each retrain "
            "learns from itself and drift accelerates unnoticed.",
            "paper",
            "Keep what the model produced apart from what it learns from: separate locations, and training data that records whether a label came from the world or from a prediction.",
        ),
        Principle(
            "data-dependencies",
            "The cost of data dependencies",
            "Data and libraries the model depends on without a version, a checksum or a stable "
            "address. When they change, results change and nobody can say why.",
            "paper",
            "Give every input an address that does not move: a version, a snapshot date or a checksum, and pinned library versions. Ask whether each new dependency, feature or source pays for its upkeep.",
        ),
        Principle(
            "glue-code",
            "Glue code and pipeline jungles",
            "Scripts that call scripts, and long chains of ad-hoc steps. The glue grows until "
            "nobody can change one step without breaking another.",
            "paper",
            "Call functions instead of scripts, keep pipeline steps small and named, and let one orchestrator own the order of steps. Long functions of sequential steps are pipelines waiting to be named.",
        ),
        Principle(
            "configuration-debt",
            "Configuration debt",
            "Too many settings, read in too many places, in too loose a form. Configuration is "
            "code that nobody tests.",
            "paper",
            "Keep configuration small, typed and close to the code that reads it: a frozen dataclass passed down, validated at start-up, with one place that reads the environment.",
        ),
        Principle(
            "experimentation-paths",
            "Experimentation paths",
            "Experiments mixed into production code: flags, copies named _v2, commented-out "
            "variants, unseeded runs, artifacts that could be from any run.",
            "paper",
            "Make experiments visible as experiments: their own branches, modules or tracked runs, seeded and versioned. Production code keeps one path; a finished experiment is merged or deleted.",
        ),
        Principle(
            "external-world",
            "Changes in the external world",
            "Assumptions frozen into the code, such as fixed thresholds and dates, that silently "
            "stop holding when the world the data comes from changes.",
            "paper",
            "Treat every fixed threshold, date and category list as a measurement that will go stale: keep it with the model's versioned artifacts, derive it from data where you can, and log the quantities that show when it stops holding.",
        ),
    )
}
