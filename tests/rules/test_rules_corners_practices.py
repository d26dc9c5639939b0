"""Focused tests for DEBT303, DEBT304, DEBT401, DEBT402 and DEBT403 beyond their examples."""

from __future__ import annotations

from rules.engine.analyse import analyse_source
from rules.engine.config import default_config, parse_config
from rules.rule import rules_by_code
from tests.conftest import rule_findings


def findings(code: str, source: str, path: str = "example.py", config=None, files=()):
    return rule_findings(code, source, path, config, files)


# DEBT303 dataframe-growth-in-loop


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


# DEBT304 iterrows-loop


def test_iterrows_through_enumerate_and_tqdm_is_reported_at_the_call() -> None:
    source = """
    from tqdm.auto import tqdm
    for i, (_, row) in enumerate(tqdm(df.iterrows())):
        out.append(row.a * row.b)
    """
    (finding,) = findings("DEBT304", source)
    assert finding.line == 2
    assert "`df.iterrows()`" in finding.message


def test_iterrows_with_an_argument_is_not_pandas() -> None:
    source = """
    for row in table.iterrows(chunk=10):
        out.append(row)
    """
    assert findings("DEBT304", source) == []


def test_iterrows_that_only_writes_into_the_row_copy_is_left_alone() -> None:
    source = """
    for _, row in df.iterrows():
        row["seen"] = True
        notify(row)
    """
    assert findings("DEBT304", source) == []


# DEBT401 unsafe-yaml-load


def test_unsafe_yaml_replacement_drops_a_positional_loader() -> None:
    source = """
    import yaml
    config = yaml.load(handle, yaml.Loader)
    """
    (finding,) = findings("DEBT401", source)
    assert finding.replacement == "config = yaml.safe_load(handle)"
    assert "`yaml.safe_load`" in finding.message


def test_unsafe_yaml_load_all_becomes_safe_load_all_keeping_the_alias() -> None:
    source = """
    import yaml as y
    docs = list(y.load_all(stream))
    """
    (finding,) = findings("DEBT401", source)
    assert finding.replacement == "docs = list(y.safe_load_all(stream))"
    assert "`y.safe_load_all`" in finding.message


def test_unsafe_yaml_on_a_compound_statement_line_gets_no_replacement() -> None:
    source = """
    import yaml
    with open(path) as f: cfg = yaml.load(f)
    """
    (finding,) = findings("DEBT401", source)
    assert finding.replacement is None


def test_yaml_load_without_an_import_is_not_assumed_to_be_pyyaml() -> None:
    assert findings("DEBT401", "cfg = yaml.load(f)\n") == []


# DEBT402 yaml-implicit-typing


def test_one_finding_per_line_fixing_every_value_on_it() -> None:
    source = """
    python-version: [3.10, 3.11, 3.20]
    """
    (finding,) = findings("DEBT402", source, path="ci.yml")
    assert finding.replacement == 'python-version: ["3.10", 3.11, "3.20"]'
    assert "`3.1`" in finding.message


def test_octal_values_get_no_replacement() -> None:
    (finding,) = findings("DEBT402", "mode: 0755\n", path="deploy.yaml")
    assert finding.replacement is None
    assert "`493`" in finding.message


def test_invalid_yaml_is_skipped_not_reported() -> None:
    rule = rules_by_code()["DEBT402"]
    result = analyse_source("bad.yaml", b"a: [1, 2\n", default_config(), [rule], {"bad.yaml"})
    assert result.findings == []
    assert result.skipped


# DEBT403 flat-yaml-settings


def test_max_keys_option_changes_the_threshold() -> None:
    source = "a: 1\nb: 2\nc: 3\n"
    assert len(findings("DEBT403", source, path="settings.yaml")) == 1
    config = parse_config({"rules": {"DEBT403": {"max-keys": 2}}})
    assert findings("DEBT403", source, path="settings.yaml", config=config) == []


def test_flat_yaml_message_counts_the_settings() -> None:
    (finding,) = findings("DEBT403", "a: 1\nb: 2\n", path="settings.yaml")
    assert finding.line == 1
    assert "2 flat settings" in finding.message


def test_flat_yaml_is_left_alone_for_tools_and_generated_runs() -> None:
    flat = "a: 1\nb: 2\n"
    for path in (
        ".github/release-drafter.yml",
        "docker-compose.yml",
        "lightning_logs/version_0/hparams.yaml",
        "conf/base/parameters.yml",
        "tests/fixtures/settings.yaml",
    ):
        assert findings("DEBT403", flat, path=path) == [], path


def test_multi_document_yaml_is_not_flat_settings() -> None:
    assert findings("DEBT403", "a: 1\n---\nb: 2\n", path="settings.yaml") == []


def test_explicit_unsafe_load_is_reported_without_a_rewrite() -> None:
    source = """
    import yaml
    obj = yaml.unsafe_load(f)
    """
    (finding,) = findings("DEBT401", source)
    assert finding.replacement is None
    assert "`yaml.unsafe_load`" in finding.message


def test_a_single_key_yaml_file_is_not_reported() -> None:
    assert findings("DEBT403", "model_path: models/model.pkl\n", path="settings.yaml") == []
