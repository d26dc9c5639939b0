"""The engine: read and parse each file once, walk it once for every rule, place and suppress
what the rules report, gather the repository facts, and scan many files (with the facts of the
others cached on disk).

    source -> walk (every rule's visitors) -> placement (lines, suppressions, fingerprints)
    facts (per Python file) -> repository (the repository and change rules) -> scan (totals)

The bot and the command line use this package; rules never need to.
"""

from rules.engine.analyse import FileResult, analyse_source
from rules.engine.config import (
    Config,
    ConfigError,
    ReviewConfig,
    config_from_pyproject_text,
    default_config,
    group_by_config,
    load_config,
    parse_config,
)
from rules.engine.scanner import (
    CONTEXT_FILES,
    Blob,
    ScanResult,
    Source,
    base_groups,
    brought_by_change,
    codes_by_path,
    merge,
    not_in_base,
    only_added,
    scan,
    scan_groups,
    select,
    summarise,
    walk_files,
)

__all__ = [
    "CONTEXT_FILES",
    "Blob",
    "Config",
    "ConfigError",
    "FileResult",
    "ReviewConfig",
    "ScanResult",
    "Source",
    "analyse_source",
    "base_groups",
    "brought_by_change",
    "codes_by_path",
    "config_from_pyproject_text",
    "default_config",
    "group_by_config",
    "load_config",
    "merge",
    "not_in_base",
    "only_added",
    "parse_config",
    "scan",
    "scan_groups",
    "select",
    "summarise",
    "walk_files",
]
