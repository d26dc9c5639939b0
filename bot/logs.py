"""Logging for the App: configured once at start from ``LOG_LEVEL`` and ``LOG_FORMAT``.

Read apart from the App's other settings so that a server missing its credentials still logs
the way its operator asked. ``LOG_FORMAT=json`` writes one JSON object per line for log
shippers; the fields given as ``extra=`` (delivery, repository, pull request, head, outcome,
seconds) become keys of their own. Every line written while a delivery is handled carries its
id, so one grep finds everything a delivery caused.
"""

from __future__ import annotations

import contextvars
import logging
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Literal

from pydantic import field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict
from pythonjsonlogger.json import JsonFormatter

_delivery: contextvars.ContextVar[str | None] = contextvars.ContextVar("delivery", default=None)

TEXT_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"


class LogSettings(BaseSettings):
    model_config = SettingsConfigDict(
        env_file=".env", env_file_encoding="utf-8", extra="ignore", case_sensitive=False
    )

    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"] = "INFO"
    log_format: Literal["text", "json"] = "text"

    @field_validator("log_level", mode="before")
    @classmethod
    def _level_in_any_case(cls, value: object) -> object:
        return value.strip().upper() if isinstance(value, str) else value

    @field_validator("log_format", mode="before")
    @classmethod
    def _format_in_any_case(cls, value: object) -> object:
        return value.strip().lower() if isinstance(value, str) else value


def configure(settings: LogSettings, stream=None) -> logging.Handler:
    """Send every logger's records (uvicorn's too) to ``stream`` (stderr), in one format."""
    handler = logging.StreamHandler(stream or sys.stderr)
    if settings.log_format == "json":
        formatter: logging.Formatter = JsonFormatter(
            "%(asctime)s %(levelname)s %(name)s %(message)s",
            rename_fields={"asctime": "time", "levelname": "level", "name": "logger"},
        )
    else:
        formatter = logging.Formatter(TEXT_FORMAT)
    handler.setFormatter(formatter)
    handler.addFilter(_with_delivery)
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(settings.log_level)
    # uvicorn configures its own loggers unless told not to (log_config=None); its records
    # then reach the root handler like everyone else's.
    for name in ("uvicorn", "uvicorn.error", "uvicorn.access"):
        logging.getLogger(name).handlers[:] = []
        logging.getLogger(name).propagate = True
    return handler


def _with_delivery(record: logging.LogRecord) -> bool:
    delivery = _delivery.get()
    if delivery is not None and not hasattr(record, "delivery"):
        record.delivery = delivery
    return True


@contextmanager
def delivery(delivery_id: str) -> Iterator[None]:
    """Mark the log lines written inside the block with the delivery being handled."""
    token = _delivery.set(delivery_id)
    try:
        yield
    finally:
        _delivery.reset(token)
