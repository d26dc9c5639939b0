"""DEBT303 dataframe_growth_in_loop: focused tests beyond the examples the rule carries."""

from __future__ import annotations

from tests.conftest import rule_findings


def findings(code: str, source: str, path: str = "example.py", config=None, files=()):
    return rule_findings(code, source, path, config, files)


def test_growth_in_a_short_range_loop_is_left_alone() -> None:
    source = """
    import numpy as np
    for i in range(3):
        X = np.hstack([X, extra[i]])
    """
    assert findings("DEBT303", source) == []


def test_a_loop_growing_several_frames_is_one_finding() -> None:
    source = """
    import numpy as np
    def per_class(parts):
        for part in parts:
            X = np.vstack([X, part.x])
            y = np.hstack([y, part.y])
            w = np.hstack([w, part.w])
    """
    (finding,) = findings("DEBT303", source)
    assert finding.line == 4 and "`X`" in finding.message


def test_a_range_over_a_name_is_bounded_only_when_the_name_is_a_small_constant() -> None:
    template = """
    import numpy as np
    def stack(preds):
        count = {count}
        out = np.zeros((0, 2))
        for c in range(count):
            out = np.vstack([out, preds[c]])
        return out
    """
    assert findings("DEBT303", template.format(count=9)) == []
    assert len(findings("DEBT303", template.format(count=5000))) == 1
    assert len(findings("DEBT303", template.format(count="len(preds)"))) == 1


def test_growth_in_a_long_range_loop_is_reported() -> None:
    source = """
    import numpy as np
    for i in range(1000):
        X = np.hstack([X, extra[i]])
    """
    assert [f.line for f in findings("DEBT303", source)] == [3]


def test_growth_in_the_else_clause_of_a_loop_is_not_in_the_loop() -> None:
    source = """
    import pandas as pd
    for part in parts:
        check(part)
    else:
        df = pd.concat([df, tail])
    """
    assert findings("DEBT303", source) == []


def test_growth_in_a_function_defined_inside_a_loop_is_not_reported() -> None:
    source = """
    import pandas as pd
    for name in names:
        def add(df, part):
            df = pd.concat([df, part])
            return df
    """
    assert findings("DEBT303", source) == []


def test_growth_of_an_attribute_is_reported_with_its_name() -> None:
    source = """
    import pandas as pd
    for path in paths:
        self.history = pd.concat([self.history, pd.read_csv(path)])
    """
    (finding,) = findings("DEBT303", source)
    assert "`self.history`" in finding.message
    assert "`pd.concat`" in finding.message


def test_growth_is_not_reported_in_test_files() -> None:
    source = """
    import numpy as np
    for batch in batches:
        X = np.concatenate([X, batch])
    """
    assert findings("DEBT303", source, path="tests/test_loader.py") == []


def test_growth_over_a_named_literal_list_depends_on_its_bindings() -> None:
    bounded = """
    import pandas as pd
    SPLITS = ("train", "valid")

    def load(root):
        df = pd.DataFrame()
        for split in SPLITS:
            df = pd.concat([df, pd.read_csv(f"{root}/{split}.csv")])
        return df
    """
    assert findings("DEBT303", bounded) == []
    # A parameter of the same name hides the module-level list.
    shadowed = bounded.replace("def load(root):", "def load(root, SPLITS):")
    assert len(findings("DEBT303", shadowed)) == 1
    # Bound twice: no longer known to be the short list.
    rebound = bounded.replace(
        'SPLITS = ("train", "valid")', 'SPLITS = ("train", "valid")\n    SPLITS = list_splits()'
    )
    assert len(findings("DEBT303", rebound)) == 1
    # Eleven items is not a short list.
    long_list = bounded.replace('("train", "valid")', repr(tuple(f"part{i}" for i in range(11))))
    assert len(findings("DEBT303", long_list)) == 1
