"""The shape of ``[tool.debtbot]`` and of each rule's options, checked by pydantic.

Kept apart from rules.engine.config so that pydantic is imported only when there is a table to
check: most runs read repositories without one.
"""

from __future__ import annotations

from functools import cache
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, create_model

from rules.catalogue import rules_by_code

__all__ = ["ReviewSchema", "Schema", "ValidationError", "options_model"]


class ReviewSchema(BaseModel):
    """How the App reviews this repository's pull requests."""

    model_config = ConfigDict(extra="forbid", populate_by_name=True, strict=True)

    drafts: bool = False
    bots: bool = False
    max_comments: int | None = Field(default=None, ge=0, le=100, alias="max-comments")
    fail_on: Literal["never", "info", "warning", "error"] = Field(default="never", alias="fail-on")


class Schema(BaseModel):
    model_config = ConfigDict(extra="forbid", populate_by_name=True, strict=True)

    select: list[str] = Field(default_factory=lambda: ["DEBT"])
    ignore: list[str] = Field(default_factory=list)
    exclude: list[str] = Field(default_factory=list)
    per_file_ignores: dict[str, list[str]] = Field(default_factory=dict, alias="per-file-ignores")
    severity: dict[str, Literal["info", "warning", "error"]] = Field(default_factory=dict)
    # None: the default, which rules.engine.config keeps.
    max_file_size: int | None = Field(default=None, gt=0, alias="max-file-size")
    rules: dict[str, dict[str, object]] = Field(default_factory=dict)
    review: ReviewSchema = Field(default_factory=ReviewSchema)


@cache
def options_model(code: str) -> type[BaseModel]:
    """A pydantic model of the rule's options, typed by their defaults, names as written."""
    rule = rules_by_code()[code]
    fields: dict[str, Any] = {
        f"option_{index}": (option_type(default), Field(default=default, alias=name))
        for index, (name, default) in enumerate(rule.options.items())
    }
    config = ConfigDict(extra="forbid", strict=True)
    return create_model(f"{code}Options", __config__=config, **fields)


def option_type(default: object) -> object:
    if isinstance(default, bool):
        return bool
    if isinstance(default, int | float):
        return int | float
    if isinstance(default, list | tuple):
        return list[str]
    return type(default)
