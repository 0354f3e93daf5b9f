"""From a pydantic error location back to the file: the line of a value, the text it was written
as, whether it was quoted, and what YAML 1.1 made of an unquoted string.
"""

from __future__ import annotations

import datetime
from typing import Any

from .yamlio import LineDict, LineList, describe


def line_of(data: Any, loc: tuple[Any, ...]) -> int:
    """The line of the deepest part of ``loc`` (a pydantic error location) found in ``data``."""
    line = getattr(data, "line", 1)
    obj = data
    for part in loc:
        if isinstance(obj, LineDict) and part in obj:
            line = obj.key_lines.get(part, line)
            obj = obj[part]
        elif isinstance(obj, LineList) and isinstance(part, int) and 0 <= part < len(obj):
            line = obj.item_lines[part]
            obj = obj[part]
        else:
            break
    return line


def _container_of(data: Any, loc: tuple[Any, ...]) -> Any:
    obj = data
    for part in loc[:-1]:
        try:
            obj = obj[part]
        except (KeyError, IndexError, TypeError):
            return None
    return obj


def is_quoted(data: Any, loc: tuple[Any, ...]) -> bool | None:
    """Whether the scalar at ``loc`` was quoted in the file (None: unknown, e.g. not a scalar)."""
    if not loc:
        return None
    obj = _container_of(data, loc)
    raw = getattr(obj, "raw", None)
    if not isinstance(raw, dict) or loc[-1] not in raw:
        return None
    return loc[-1] in getattr(obj, "quoted", ())


def raw_of(data: Any, loc: tuple[Any, ...]) -> str | None:
    """The source text of the scalar at ``loc`` (as written in the file), if there is one."""
    if not loc:
        return None
    raw = getattr(_container_of(data, loc), "raw", None)
    if isinstance(raw, dict):
        return raw.get(loc[-1])
    return None


def quote_hint(value: Any, raw: str | None) -> str | None:
    """If YAML turned an intended string into a number/bool/date, say so and how to quote it."""
    if isinstance(value, bool) or isinstance(value, (int, float)) or _is_date(value):
        shown = raw if raw is not None else str(value)
        return (
            f"YAML read the unquoted value {shown} as {describe(value)}"
            if not _is_date(value)
            else f"YAML read the unquoted value {shown} as a date"
        ) + f"; quote it: \"{shown}\""
    return None


def _is_date(value: Any) -> bool:
    return isinstance(value, (datetime.date, datetime.datetime))


__all__ = ["is_quoted", "line_of", "quote_hint", "raw_of"]
