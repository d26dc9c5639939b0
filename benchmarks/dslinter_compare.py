"""Compare debtbot's rules with dslinter's, on the code snippets of dslinter's own tests.

    python benchmarks/dslinter_compare.py PATH [--details] [--markdown]

PATH is a checkout of SERG-Delft/dslinter (a pylint plugin for machine-learning code smells).
Its tests, ``dslinter/tests/checkers/test_*.py``, hold one code snippet per test function,
handed to ``astroid.parse`` or ``astroid.extract_node``, and expect the checker under test either
to warn (``assertAddsMessages``) or to stay quiet (``assertNoMessages``). This script reads those
files at run time with :mod:`ast` (nothing of dslinter is copied here), maps each dslinter
checker to the debtbot rules that look for the same smell (``MAPPING`` below), runs those rules
on every snippet with :func:`rules.engine.analyse_source`, and prints, per checker: the number of
snippets, how many should warn, our true positives (a mapped rule fires on a snippet that should
warn), our false negatives (none fires) and our false positives (a mapped rule fires on a
snippet that should stay quiet).

Snippets are analysed as a file named ``train.py`` at the root of a repository holding nothing
else. Test functions that check a helper of the checker and expect no message either way are
left out. A few quiet snippets are documented in dslinter as its own known false negatives: they
are counted separately (``known FN``), since firing there is right.
"""

from __future__ import annotations

import argparse
import ast
import sys
import textwrap
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from rules.catalogue import rules_by_code
from rules.engine.analyse import analyse_source
from rules.engine.config import default_config

# dslinter checker class -> (debtbot rule codes covering the same smell, note).
# An empty tuple marks a smell we do not cover.
MAPPING: dict[str, tuple[tuple[str, ...], str]] = {
    "ChainIndexingPandasChecker": (("DEBT305",), "chained indexing assignment"),
    "ColumnSelectionPandasChecker": ((), "columns not selected after read_csv"),
    "DataframeConversionPandasChecker": ((), "`.values` instead of `.to_numpy()`"),
    "DatatypePandasChecker": ((), "no dtype given to read_csv"),
    "DependentThresholdPytorchChecker": (("DEBT1104",), "threshold-dependent validation"),
    "DependentThresholdScikitLearnChecker": (("DEBT1104",), "threshold-dependent validation"),
    "DependentThresholdTensorflowChecker": (("DEBT1104",), "threshold-dependent validation"),
    "DeterministicAlgorithmChecker": (("DEBT1006",), "deterministic algorithms off"),
    "ForwardPytorchChecker": (("DEBT308",), "`net.forward(x)` instead of `net(x)`"),
    "GradientClearPytorchChecker": (("DEBT306",), "`zero_grad()` missing"),
    "HyperparameterPyTorchChecker": (("DEBT1103",), "hyperparameters left at defaults"),
    "HyperparameterScikitLearnChecker": (("DEBT1103",), "hyperparameters left at defaults"),
    "HyperparameterTensorflowChecker": (("DEBT1103",), "hyperparameters left at defaults"),
    "ImportChecker": ((), "import alias conventions (style)"),
    "InPlaceNumpyChecker": ((), "result of a NumPy call thrown away"),
    "InPlacePandasChecker": (("DEBT311",), "result of a DataFrame call thrown away"),
    "MaskMissingPytorchChecker": ((), "`log` without masking zeros"),
    "MaskMissingTensorflowChecker": ((), "`log` without masking zeros"),
    "MemoryReleaseTensorflowChecker": ((), "`clear_session` missing in a loop"),
    "MergeParameterPandasChecker": (("DEBT504",), "merge without `on`/`how`/`validate`"),
    "ModeTogglingPytorchChecker": (("DEBT307",), "`train()`/`eval()` not toggled"),
    "NanNumpyChecker": (("DEBT302",), "comparison with NaN"),
    "PipelineScikitLearnChecker": (("DEBT309",), "preprocessing outside a pipeline (leakage)"),
    "RandomnessControlDataloaderPytorchChecker": ((), "DataLoader workers not seeded"),
    "RandomnessControlNumpyChecker": ((), "NumPy global RNG not seeded"),
    "RandomnessControlPytorchChecker": ((), "`torch.manual_seed` missing"),
    "RandomnessControlScikitLLearnChecker": (("DEBT1005",), "no `random_state`"),
    "RandomnessControlTensorflowChecker": ((), "`tf.random.set_seed` missing"),
    "ScalerMissingScikitLearnChecker": ((), "scale-sensitive model without scaler"),
    "TensorArrayTensorflowChecker": ((), "tf.constant grown in a loop"),
    "UnnecessaryIterationPandasChecker": (("DEBT304", "DEBT303"), "row loops over a DataFrame"),
    "UnnecessaryIterationTensorflowChecker": ((), "Python loop over tensors"),
}
SNIPPET_PATH = "train.py"
# dslinter's snippets often use a conventional alias without importing it (its checkers match
# some names by spelling). debtbot resolves names through imports, so the comparison is run
# twice: on the snippets as written, and with the import each such free name implies.
IMPLIED_IMPORTS = {
    "np": "import numpy as np",
    "pd": "import pandas as pd",
    "torch": "import torch",
    "nn": "from torch import nn",
    "F": "import torch.nn.functional as F",
    "tf": "import tensorflow as tf",
    "sns": "import seaborn as sns",
    "argparse": "import argparse",
    "metrics": "from sklearn import metrics",
    "KMeans": "from sklearn.cluster import KMeans",
    "NearestNeighbors": "from sklearn.neighbors import NearestNeighbors",
    "ElasticNet": "from sklearn.linear_model import ElasticNet",
    "StandardScaler": "from sklearn.preprocessing import StandardScaler",
    "MinMaxScaler": "from sklearn.preprocessing import MinMaxScaler",
}


@dataclass
class Snippet:
    checker: str
    test: str
    expect_warning: bool
    code: str
    known_false_negative: bool = False
    options: str = ""  # dslinter options set for the test (set_config), for the record


@dataclass
class Row:
    checker: str
    rules: tuple[str, ...]
    note: str
    snippets: int = 0
    expected: int = 0
    true_positives: int = 0
    false_negatives: int = 0
    false_positives: int = 0
    known_fn_hits: int = 0
    outcomes: list[tuple[str, str, list[str]]] = field(default_factory=list)


def _string(node: ast.expr, local: dict[str, str], attributes: dict[str, str]) -> str | None:
    """The value of a string expression built from literals, known names and ``+``."""
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return node.value
    if isinstance(node, ast.Name):
        return local.get(node.id)
    if (
        isinstance(node, ast.Attribute)
        and isinstance(node.value, ast.Name)
        and node.value.id in {"self", "cls"}
    ):
        return attributes.get(node.attr)
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Add):
        left = _string(node.left, local, attributes)
        right = _string(node.right, local, attributes)
        return None if left is None or right is None else left + right
    return None


def _called(node: ast.AST) -> str:
    if isinstance(node, ast.Call):
        return ast.unparse(node.func)
    return ""


def _snippet_of(
    function: ast.FunctionDef, checker: str, attributes: dict[str, str]
) -> Snippet | None:
    local: dict[str, str] = {}
    codes: list[str] = []
    warns = quiet = False
    for node in ast.walk(function):
        if isinstance(node, ast.Assign) and len(node.targets) == 1:
            target = node.targets[0]
            value = _string(node.value, local, attributes)
            if isinstance(target, ast.Name) and value is not None:
                local[target.id] = value
    for node in ast.walk(function):
        name = _called(node)
        if name in {"astroid.parse", "astroid.extract_node"} and node.args:
            code = _string(node.args[0], local, attributes)
            if code is not None and code not in codes:
                codes.append(code)
        elif name == "self.assertAddsMessages":
            warns = True
        elif name == "self.assertNoMessages":
            quiet = True
    if not codes or warns == quiet:
        return None  # a test of a helper, or one that expects both: not a snippet to judge
    docstring = (ast.get_docstring(function) or "").lower()
    options = ", ".join(
        ast.unparse(d)
        for d in function.decorator_list
        if isinstance(d, ast.Call) and _called(d).endswith("set_config")
    )
    return Snippet(
        checker=checker,
        test=function.name,
        expect_warning=warns,
        code="\n".join(textwrap.dedent(code).strip("\n") for code in codes) + "\n",
        known_false_negative=not warns and "false negative" in docstring,
        options=options,
    )


def extract(root: Path) -> list[Snippet]:
    """Every judged snippet of dslinter's checker tests, in file and definition order."""
    folder = root / "dslinter" / "tests" / "checkers"
    if not folder.is_dir():
        raise SystemExit(f"{folder} not found: is {root} a checkout of SERG-Delft/dslinter?")
    found = []
    for path in sorted(folder.glob("test_*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
        for cls in (n for n in tree.body if isinstance(n, ast.ClassDef)):
            checker, attributes = _class_attributes(cls)
            tests = (
                item
                for item in cls.body
                if isinstance(item, ast.FunctionDef) and item.name.startswith("test")
            )
            snippets = (_snippet_of(item, checker, attributes) for item in tests)
            found.extend(snippet for snippet in snippets if snippet is not None)
    return found


def _class_attributes(cls: ast.ClassDef) -> tuple[str, dict[str, str]]:
    """The checker a test class exercises, and its string attributes (shared snippet parts)."""
    checker = ""
    attributes: dict[str, str] = {}
    for item in cls.body:
        if not (isinstance(item, ast.Assign) and len(item.targets) == 1):
            continue
        target = item.targets[0]
        if not isinstance(target, ast.Name):
            continue
        if target.id == "CHECKER_CLASS":
            checker = ast.unparse(item.value).rsplit(".", 1)[-1]
        value = _string(item.value, {}, attributes)
        if value is not None:
            attributes[target.id] = value
    return checker, attributes


def with_implied_imports(code: str) -> str:
    """``code`` with an import for each conventional name it uses but never binds."""
    try:
        tree = ast.parse(code)
    except SyntaxError:
        return code
    bound: set[str] = set()
    used: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import | ast.ImportFrom):
            bound.update((a.asname or a.name).split(".")[0] for a in node.names)
        elif isinstance(node, ast.Name):
            (used if isinstance(node.ctx, ast.Load) else bound).add(node.id)
        elif isinstance(node, ast.FunctionDef | ast.ClassDef):
            bound.add(node.name)
    lines = [IMPLIED_IMPORTS[name] for name in sorted(used - bound) if name in IMPLIED_IMPORTS]
    return "\n".join([*lines, code]) if lines else code


def compare(snippets: list[Snippet], implied: bool = False) -> list[Row]:
    catalogue = rules_by_code()
    config = default_config()
    every_rule = list(catalogue.values())
    rows: dict[str, Row] = {}
    for snippet in snippets:
        codes, note = MAPPING.get(snippet.checker, ((), "not in the mapping"))
        present = tuple(c for c in codes if c in catalogue)
        row = rows.setdefault(snippet.checker, Row(snippet.checker, present, note))
        row.snippets += 1
        row.expected += snippet.expect_warning
        code = with_implied_imports(snippet.code) if implied else snippet.code
        result = analyse_source(
            SNIPPET_PATH, code.encode(), config, every_rule, files={SNIPPET_PATH}
        )
        fired = sorted({f.code for f in result.findings})
        ours = [c for c in fired if c in present]
        if result.skipped:
            fired.append("skipped: " + "; ".join(s.reason for s in result.skipped))
        if not present:
            verdict = "uncovered"
        elif snippet.expect_warning:
            verdict = "TP" if ours else "FN"
            row.true_positives += bool(ours)
            row.false_negatives += not ours
        elif snippet.known_false_negative:
            verdict = "known-FN hit" if ours else "quiet"
            row.known_fn_hits += bool(ours)
        else:
            verdict = "FP" if ours else "TN"
            row.false_positives += bool(ours)
        expectation = "warn" if snippet.expect_warning else "quiet"
        if snippet.options:
            expectation += f", {snippet.options}"
        row.outcomes.append((f"{snippet.test} [{expectation}]", verdict, fired))
    return list(rows.values())


def _counts(rows: list[Row]) -> tuple[int, int, int]:
    return (
        sum(r.true_positives for r in rows),
        sum(r.false_negatives for r in rows),
        sum(r.false_positives for r in rows),
    )


HEADER = [
    "dslinter checker",
    "debtbot rules",
    "snippets",
    "should warn",
    "TP",
    "FN",
    "FP",
    "TP+i",
    "FN+i",
    "FP+i",
]


def table(raw: list[Row], implied: list[Row]) -> list[list[str]]:
    """One row per checker: counts on the snippets as written, then with implied imports."""
    body = []
    for plain, fuller in zip(raw, implied, strict=True):
        counts = [*_counts([plain]), *_counts([fuller])]
        shown = [str(n) for n in counts] if plain.rules else ["-"] * 6
        body.append(
            [
                plain.checker.removesuffix("Checker"),
                ", ".join(plain.rules) or "not covered",
                str(plain.snippets),
                str(plain.expected),
                *shown,
            ]
        )
    for covered in (True, False):
        chosen = [i for i, r in enumerate(raw) if bool(r.rules) == covered]
        picked_raw = [raw[i] for i in chosen]
        picked_implied = [implied[i] for i in chosen]
        counts = [*_counts(picked_raw), *_counts(picked_implied)]
        body.append(
            [
                "total, covered" if covered else "total, not covered",
                "",
                str(sum(r.snippets for r in picked_raw)),
                str(sum(r.expected for r in picked_raw)),
                *([str(n) for n in counts] if covered else ["-"] * 6),
            ]
        )
    return body


def print_table(body: list[list[str]], markdown: bool) -> None:
    if markdown:
        print("| " + " | ".join(HEADER) + " |")
        print("|" + "|".join("---" if i < 2 else "--:" for i in range(len(HEADER))) + "|")
        for cells in body:
            print("| " + " | ".join(cells) + " |")
        return
    widths = [max(len(c[i]) for c in [HEADER, *body]) for i in range(len(HEADER))]
    for cells in [HEADER, *body]:
        print(
            "  ".join(
                c.ljust(w) if i < 2 else c.rjust(w)
                for i, (c, w) in enumerate(zip(cells, widths, strict=True))
            )
        )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("path", type=Path, help="a checkout of SERG-Delft/dslinter")
    parser.add_argument("--details", action="store_true", help="one line per snippet")
    parser.add_argument("--markdown", action="store_true", help="print a Markdown table")
    args = parser.parse_args()
    snippets = extract(args.path)
    if not snippets:
        print("no snippets found", file=sys.stderr)
        return 2
    raw = compare(snippets)
    implied = compare(snippets, implied=True)
    warn = sum(s.expect_warning for s in snippets)
    print(f"{len(snippets)} snippets: {warn} should warn, {len(snippets) - warn} should not")
    print("TP/FN/FP: snippets as written; +i: with the imports their free names imply")
    print()
    print_table(table(raw, implied), args.markdown)
    known_total = sum(s.known_false_negative for s in snippets)
    print()
    print(
        f"quiet snippets dslinter documents as its own false negatives: {known_total}; "
        f"a mapped rule flags {sum(r.known_fn_hits for r in raw)} "
        f"(+i: {sum(r.known_fn_hits for r in implied)})"
    )
    others = Counter(code for row in raw for _, _, fired in row.outcomes for code in fired)
    for row in raw:
        for _, _, fired in row.outcomes:
            others.subtract(code for code in fired if code in row.rules)
    listed = ", ".join(f"{code} {n}" for code, n in sorted(others.items()) if n > 0)
    print(f"other debtbot rules firing on the snippets as written: {listed or 'none'}")
    mapped = {code for codes, _ in MAPPING.values() for code in codes}
    missing = sorted(mapped - set(rules_by_code()))
    if missing:
        print(f"mapped rules not in the catalogue yet: {', '.join(missing)}")
    unmapped = sorted({r.checker for r in raw} - set(MAPPING))
    if unmapped:
        print(f"checkers missing from MAPPING: {', '.join(unmapped)}")
    if args.details:
        for plain, fuller in zip(raw, implied, strict=True):
            covered = ", ".join(plain.rules) or "not covered"
            print(f"\n{plain.checker} ({plain.note}) -> {covered}")
            for (test, verdict, fired), (_, verdict_i, fired_i) in zip(
                plain.outcomes, fuller.outcomes, strict=True
            ):
                extra = f"  | +i: {verdict_i} {' '.join(fired_i)}" if fired_i != fired else ""
                print(f"  {verdict:12} {test}  {' '.join(fired)}{extra}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
