"""What a validation found: one :class:`Problem` per line (``FILE:LINE: field: message``), the
:class:`ValidationResult` of a run, and pydantic's errors turned into such lines with the
field's full path and a plain explanation.
"""

from __future__ import annotations

import difflib
import os
import re
import typing
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ValidationError

from . import locate, yamlio
from .records import DefinitionsFile, Paper, RealismFile

#: the severities of a :class:`Problem`: an error fails validation, a warning does not
SEVERITIES = ("error", "warning")


@dataclass(frozen=True, order=True)
class Problem:
    """One problem: ``FILE:LINE: field: message`` (a warning: ``FILE:LINE: field: warning: message``).

    An error is something the record must not contain (validation fails); a warning is
    something the contributing guide asks for that the record does not do, which a reviewer
    should look at but which does not fail the run (:mod:`metaanalysis.annotations.guidance`).
    """

    file: str
    line: int
    field: str
    message: str
    severity: str = "error"

    def __str__(self) -> str:
        where = f"{self.file}:{self.line}"
        message = f"warning: {self.message}" if self.severity == "warning" else self.message
        return f"{where}: {self.field}: {message}" if self.field else f"{where}: {message}"

    def as_dict(self) -> dict[str, Any]:
        return {"file": self.file, "line": self.line, "field": self.field, "message": self.message,
                "severity": self.severity}


@dataclass
class ValidationResult:
    """Validated records, the files they came from, every problem (error) found, and the
    warnings about the records that validate."""

    papers: list[Paper] = field(default_factory=list)
    files: dict[str, Path] = field(default_factory=dict)  # key -> file
    definitions: DefinitionsFile | None = None
    realism: RealismFile | None = None
    problems: list[Problem] = field(default_factory=list)
    warnings: list[Problem] = field(default_factory=list)
    checked_files: int = 0

    @property
    def ok(self) -> bool:
        """No errors (warnings do not count)."""
        return not self.problems

    def summary(self) -> str:
        """The one-line summary of a run, with its own count of warnings."""
        warned = f", {len(self.warnings)} warning(s)"
        if self.problems:
            files = len({p.file for p in self.problems})
            return f"{len(self.problems)} problem(s) in {files} file(s) ({self.checked_files} checked){warned}"
        return f"ok: {self.checked_files} file(s), {len(self.papers)} paper(s) valid{warned}"


def display_path(path: Path) -> str:
    """A path as shown in messages: relative to the working directory when below it."""
    try:
        rel = os.path.relpath(path)
    except ValueError:  # another drive on Windows
        return str(path)
    return str(path) if rel.startswith("..") else rel




def _unwrap(annotation: Any) -> list[Any]:
    """The model classes reachable one level down an annotation (Optional/list/dict values)."""
    origin = typing.get_origin(annotation)
    args = typing.get_args(annotation)
    if origin is typing.Annotated:
        return _unwrap(args[0])
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return [annotation]
    if origin in (typing.Union, getattr(__import__("types"), "UnionType", None)):
        return [m for a in args for m in _unwrap(a)]
    if origin in (list, tuple, set, frozenset):
        return [m for a in args for m in _unwrap(a)]
    if origin is dict and len(args) == 2:
        return _unwrap(args[1])
    return []


def _model_at(model: type[BaseModel], loc: tuple[Any, ...]) -> type[BaseModel] | None:
    """The model class that owns the last element of ``loc`` (for 'valid fields' hints)."""
    current: type[BaseModel] | None = model
    parts = [p for p in loc if not isinstance(p, int) and p != "[key]"]
    for part in parts[:-1]:
        if current is None or part not in current.model_fields:
            return current if current is not None and part not in current.model_fields else None
        models = _unwrap(current.model_fields[part].annotation)
        current = models[0] if models else None
    return current


_DIGITS = re.compile(r"[-+]?[0-9][0-9_]*")


_PATTERN_HINTS = {
    "arxiv": 'must be a new-style arXiv id, quoted, like "2305.17493"',
    "doi": 'must be a DOI, quoted, like "10.1038/s41586-024-07566-y"',
    "url": "must be an http(s) URL",
    "key": "must be lowercase letters and digits, words joined by single hyphens",
    "id": "must be a slug: lowercase letters and digits, words joined by single hyphens",
    "name": "must be a slug: lowercase letters and digits, words joined by single hyphens",
}


def error_message(err: dict[str, Any], model: type[BaseModel], data: Any) -> str:
    etype = err["type"]
    loc = tuple(err["loc"])
    value = err.get("input")
    last = next((p for p in reversed(loc) if isinstance(p, str) and p != "[key]"), "")
    is_key = bool(loc) and loc[-1] == "[key]"
    raw = None if is_key else locate.raw_of(data, loc)
    if etype == "extra_forbidden":
        owner = _model_at(model, loc)
        valid = f"; valid fields: {', '.join(owner.model_fields)}" if owner is not None else ""
        close = difflib.get_close_matches(str(last), list(owner.model_fields) if owner else [], n=1)
        hint = f" (did you mean {close[0]}?)" if close else ""
        return f"unknown field{hint}{valid}"
    if etype == "missing":
        return "required field is missing"
    if etype in ("literal_error", "enum"):
        expected = err.get("ctx", {}).get("expected", "")
        choices = [c.strip().strip("'") for c in expected.replace(" or ", ", ").split(",")]
        choices = [c for c in choices if c]
        quote = locate.quote_hint(value, raw)
        if quote:
            return f"{quote} (valid: {', '.join(choices)})"
        close = difflib.get_close_matches(str(value), choices, n=1)
        hint = f" (did you mean {close[0]}?)" if close else ""
        what = "key" if is_key else "value"
        return f"unknown {what} {shortened(str(value)) if isinstance(value, str) else repr(value)}{hint}; valid: {', '.join(choices)}"
    if etype in ("string_type", "string_pattern_mismatch") or etype.startswith("string_"):
        quote = locate.quote_hint(value, raw)
        if quote:
            return quote
        if etype == "string_pattern_mismatch":
            return f"{shortened(str(value))} {_PATTERN_HINTS.get(str(last), 'has the wrong form: ' + err['msg'])}"
        if etype == "string_type":
            return f"must be a string, not {kind_of(value)}"
    if etype in ("int_type", "int_parsing", "int_from_float"):
        if (
            isinstance(value, str)
            and len(value) <= yamlio.MAX_NUMBER_CHARS
            and _DIGITS.fullmatch(value.strip())
        ):
            number = int(value.strip().replace("_", ""))
            if locate.is_quoted(data, loc):
                return f"must be an integer, not the quoted string {value!r}; write it without quotes: {number}"
            # unquoted digits that YAML 1.1 kept as text: 08, 09 (a leading zero, not octal)
            return (
                f"must be an integer; YAML 1.1 reads the unquoted value {value} as text because of "
                f"its leading zero; write {number}"
            )
        return f"must be an integer, not {kind_of(value)}"
    if etype in ("float_type", "float_parsing"):
        return f"must be a number, not {kind_of(value)}"
    if etype in ("list_type",):
        return f"must be a list, not {kind_of(value)}"
    if etype in ("dict_type", "model_type", "model_attributes_type"):
        return f"must be a mapping of fields, not {kind_of(value)}"
    msg = err["msg"]
    msg = msg.removeprefix("Value error, ")
    return msg[:1].lower() + msg[1:]


def shortened(text: str, limit: int = 60) -> str:
    """``repr`` of a string, cut to about ``limit`` characters (messages stay one short line)."""
    if len(text) <= limit:
        return repr(text)
    return repr(text[:limit]) + f"... ({len(text)} characters)"


def kind_of(value: Any) -> str:
    if value is None:
        return "null (empty)"
    if isinstance(value, bool):
        return f"the boolean {value}"
    if isinstance(value, (int, float)):
        return f"the number {value!r}"
    if isinstance(value, str):
        return f"the string {shortened(value)}"
    if isinstance(value, dict):
        return "a mapping"
    if isinstance(value, list):
        return "a list"
    return type(value).__name__


def pydantic_problems(
    exc: ValidationError, model: type[BaseModel], data: Any, file: str, prefix: tuple = ()
) -> list[Problem]:
    out = []
    for err in exc.errors(include_url=False):
        loc = prefix + tuple(err["loc"])
        err = dict(err, loc=tuple(err["loc"]))
        line = locate.line_of(data, tuple(p for p in loc if p != "[key]"))
        out.append(Problem(file, line, yamlio.field_name(loc), error_message(err, model, data)))
    return out


__all__ = ["SEVERITIES", "Problem", "ValidationResult", "display_path", "error_message", "kind_of", "pydantic_problems", "shortened"]
