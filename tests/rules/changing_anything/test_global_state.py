"""DEBT503 global_state: focused tests beyond the examples the rule carries."""

from __future__ import annotations

from tests.conftest import rule_findings

findings = rule_findings


def test_global_early_return_is_lazy_initialisation() -> None:
    assert not findings(
        "DEBT503",
        """
        _encoder = None

        def encoder():
            global _encoder
            if _encoder is not None:
                return _encoder
            _encoder = load_encoder()
            return _encoder
        """,
    )


def test_global_reports_only_rebound_names() -> None:
    found = findings(
        "DEBT503",
        """
        def configure(cfg):
            global CONFIG, LOGGER
            LOGGER.info("configuring")
            CONFIG = cfg

        def nested():
            def inner():
                global counter
                counter += 1
            return inner
        """,
    )
    assert [f.line for f in found] == [2, 8]
    assert "`CONFIG`" in found[0].message and "LOGGER" not in found[0].message
