"""Validation of the annotation database: every problem, one line each, with file and line.

Entry points:

* :func:`validate_directory` — the whole annotations directory: ``definitions.yaml`` and
  ``realism.yaml`` against the vocabulary, every ``papers/*.yaml`` record, and uniqueness of
  keys, arXiv ids, DOIs and figure rows across files.
* :func:`validate_paths` — given files (or directories of files), checked against the bundled
  definitions (the vocabulary) and the bundled ``realism.yaml``.
* :func:`load_database` — the validated records, or a :class:`~simulators.errors.UserError`.

A :class:`Problem` prints as ``FILE:LINE: field: message``. Checks run on the loaded data even
where pydantic already failed on another field, so one run reports everything it can.

Simulators: a setup's ``simulator`` must be registered (``simulators.registry.get``) and its
``params`` must validate against that family's ``Params`` model. If the registry itself cannot
be imported the check is skipped (and :attr:`ValidationResult.skipped` says so); any other
failure (no such family, a registry with no families yet, a family module that fails to import)
is reported as a problem, never silently ignored.
"""

from __future__ import annotations

import difflib
import os
import re
import typing
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ValidationError

from simulators.errors import UserError
from simulators.vocabulary import (
    DEFINITION_FAMILIES,
    DEFINITIONS,
    FAMILIES,
    POLICIES,
    POLICIES_WITH_REAL_FRACTION,
)

from . import yamlio
from .paths import DEFINITIONS_FILE, PAPERS_DIR, REALISM_FILE, paper_files
from .records import DefinitionsFile, Paper, RealismFile


@dataclass(frozen=True, order=True)
class Problem:
    """One problem: ``FILE:LINE: field: message``."""

    file: str
    line: int
    field: str
    message: str

    def __str__(self) -> str:
        where = f"{self.file}:{self.line}"
        return f"{where}: {self.field}: {self.message}" if self.field else f"{where}: {self.message}"

    def as_dict(self) -> dict[str, Any]:
        return {"file": self.file, "line": self.line, "field": self.field, "message": self.message}


@dataclass
class ValidationResult:
    """Validated records, the files they came from, and every problem found."""

    papers: list[Paper] = field(default_factory=list)
    files: dict[str, Path] = field(default_factory=dict)  # key -> file
    definitions: DefinitionsFile | None = None
    realism: RealismFile | None = None
    problems: list[Problem] = field(default_factory=list)
    checked_files: int = 0
    #: checks that could not run (e.g. the simulator registry is not importable)
    skipped: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems

    def summary(self) -> str:
        """The one-line summary of a run."""
        if self.problems:
            files = len({p.file for p in self.problems})
            return f"{len(self.problems)} problem(s) in {files} file(s) ({self.checked_files} checked)"
        extra = f"; skipped: {', '.join(self.skipped)}" if self.skipped else ""
        return f"ok: {self.checked_files} file(s), {len(self.papers)} paper(s) valid{extra}"


def display_path(path: Path) -> str:
    """A path as shown in messages: relative to the working directory when below it."""
    try:
        rel = os.path.relpath(path)
    except ValueError:  # another drive on Windows
        return str(path)
    return str(path) if rel.startswith("..") else rel


# -- pydantic errors -> problems -----------------------------------------------------------


_field_name = yamlio.field_name


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


def _message(err: dict[str, Any], model: type[BaseModel], data: Any) -> str:
    etype = err["type"]
    loc = tuple(err["loc"])
    value = err.get("input")
    last = next((p for p in reversed(loc) if isinstance(p, str) and p != "[key]"), "")
    is_key = bool(loc) and loc[-1] == "[key]"
    raw = None if is_key else yamlio.raw_of(data, loc)
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
        quote = yamlio.quote_hint(value, raw)
        if quote:
            return f"{quote} (valid: {', '.join(choices)})"
        close = difflib.get_close_matches(str(value), choices, n=1)
        hint = f" (did you mean {close[0]}?)" if close else ""
        what = "key" if is_key else "value"
        return f"unknown {what} {_short(str(value)) if isinstance(value, str) else repr(value)}{hint}; valid: {', '.join(choices)}"
    if etype in ("string_type", "string_pattern_mismatch") or etype.startswith("string_"):
        quote = yamlio.quote_hint(value, raw)
        if quote:
            return quote
        if etype == "string_pattern_mismatch":
            return f"{_short(str(value))} {_PATTERN_HINTS.get(str(last), 'has the wrong form: ' + err['msg'])}"
        if etype == "string_type":
            return f"must be a string, not {_kind(value)}"
    if etype in ("int_type", "int_parsing", "int_from_float"):
        if (
            isinstance(value, str)
            and len(value) <= yamlio.MAX_NUMBER_CHARS
            and _DIGITS.fullmatch(value.strip())
        ):
            number = int(value.strip().replace("_", ""))
            if yamlio.is_quoted(data, loc):
                return f"must be an integer, not the quoted string {value!r}; write it without quotes: {number}"
            # unquoted digits that YAML 1.1 kept as text: 08, 09 (a leading zero, not octal)
            return (
                f"must be an integer; YAML 1.1 reads the unquoted value {value} as text because of "
                f"its leading zero; write {number}"
            )
        return f"must be an integer, not {_kind(value)}"
    if etype in ("float_type", "float_parsing"):
        return f"must be a number, not {_kind(value)}"
    if etype in ("list_type",):
        return f"must be a list, not {_kind(value)}"
    if etype in ("dict_type", "model_type", "model_attributes_type"):
        return f"must be a mapping of fields, not {_kind(value)}"
    msg = err["msg"]
    msg = msg.removeprefix("Value error, ")
    return msg[:1].lower() + msg[1:]


def _short(text: str, limit: int = 60) -> str:
    """``repr`` of a string, cut to about ``limit`` characters (messages stay one short line)."""
    if len(text) <= limit:
        return repr(text)
    return repr(text[:limit]) + f"... ({len(text)} characters)"


def _kind(value: Any) -> str:
    if value is None:
        return "null (empty)"
    if isinstance(value, bool):
        return f"the boolean {value}"
    if isinstance(value, (int, float)):
        return f"the number {value!r}"
    if isinstance(value, str):
        return f"the string {_short(value)}"
    if isinstance(value, dict):
        return "a mapping"
    if isinstance(value, list):
        return "a list"
    return type(value).__name__


def _pydantic_problems(
    exc: ValidationError, model: type[BaseModel], data: Any, file: str, prefix: tuple = ()
) -> list[Problem]:
    out = []
    for err in exc.errors(include_url=False):
        loc = prefix + tuple(err["loc"])
        err = dict(err, loc=tuple(err["loc"]))
        line = yamlio.line_of(data, tuple(p for p in loc if p != "[key]"))
        out.append(Problem(file, line, _field_name(loc), _message(err, model, data)))
    return out


# -- simulators --------------------------------------------------------------------------


class _Simulators:
    """Access to ``simulators.registry`` for the checks, imported once per validation run."""

    def __init__(self) -> None:
        self.registry: Any = None
        self.skipped: str | None = None
        self.load_error: str | None = None
        try:
            from simulators import registry
        except ImportError as exc:  # the only case in which the check is skipped
            self.skipped = f"simulator checks (cannot import simulators.registry: {exc})"
            return
        self.registry = registry

    def family(self, name: str) -> tuple[Any, str | None]:
        """The family class, or an error message."""
        if self.registry is None:
            return None, None
        try:
            return self.registry.get(name), None
        except self.registry.UnknownSimulatorError as exc:
            try:
                names = self.registry.names()
            except Exception:  # noqa: BLE001 - reported below
                names = []
            if not names:
                return None, (
                    f"unknown simulator {name!r}: no simulators are registered yet "
                    "(simulators.families provides none)"
                )
            return None, str(exc)
        except Exception as exc:  # noqa: BLE001 - a broken family module must not crash us
            first = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
            return None, f"cannot load simulator {name!r}: {type(exc).__name__}: {first}"


def _check_params(
    family: Any, params: Any, loc: tuple, data: Any, file: str, sim: str
) -> list[Problem]:
    if not isinstance(params, dict):
        return []
    params_model = getattr(family, "Params", None)
    if params_model is None:
        return []
    valid = list(params_model.model_fields)
    try:
        params_model.model_validate(dict(params))
    except ValidationError as exc:
        out = []
        for err in exc.errors(include_url=False):
            eloc = loc + tuple(err["loc"])
            line = yamlio.line_of(data, eloc)
            name = err["loc"][0] if err["loc"] else ""
            if err["type"] == "extra_forbidden":
                close = difflib.get_close_matches(str(name), valid, n=1)
                hint = f" (did you mean {close[0]}?)" if close else ""
                msg = f"unknown parameter of simulator {sim!r}{hint}; valid: {', '.join(valid)}"
            else:
                msg = _message(dict(err, loc=eloc), params_model, data)
            out.append(Problem(file, line, _field_name(eloc), msg))
        return out
    except Exception as exc:  # noqa: BLE001 - a family validator raising something odd
        return [Problem(file, yamlio.line_of(data, loc), _field_name(loc), f"invalid parameters: {exc}")]
    return []


#: the fewest distinct values of n a sweep needs (a power law through 2 points always fits)
MIN_SWEEP_VALUES = 3


def _check_sweep(family: Any, setup: dict, loc: tuple, data: Any, file: str, sim: Any) -> list[Problem]:
    """``sweep_n``: >= :data:`MIN_SWEEP_VALUES` distinct ints, each a valid ``n`` of the
    simulator with the setup's other parameters (types and bounds are the record's)."""
    sweep = setup.get("sweep_n")
    if not isinstance(sweep, list) or not all(type(n) is int for n in sweep):
        return []  # not a list of ints: the record model reports it
    out = []
    if len(set(sweep)) != len(sweep):
        dup = sorted({n for n in sweep if sweep.count(n) > 1})
        out.append(Problem(file, yamlio.line_of(data, loc), _field_name(loc),
                           f"listed more than once: {', '.join(map(str, dup))}"))
    if len(set(sweep)) < MIN_SWEEP_VALUES:
        out.append(Problem(file, yamlio.line_of(data, loc), _field_name(loc),
                           f"needs at least {MIN_SWEEP_VALUES} distinct values of n to fit a power law, "
                           f"got {len(set(sweep))}"))
    params_model = getattr(family, "Params", None)
    params = setup.get("params")
    if params_model is None or (params is not None and not isinstance(params, dict)):
        return out
    for j, n in enumerate(sweep):
        try:
            params_model.model_validate({**(params or {}), "n": n})
        except ValidationError as exc:
            errs = [e for e in exc.errors(include_url=False) if tuple(e["loc"][:1]) == ("n",)]
            if errs:
                out.append(Problem(file, yamlio.line_of(data, loc + (j,)), _field_name(loc + (j,)),
                                   f"n = {n} is not a valid n of simulator {sim!r}: {errs[0]['msg']}"))
        except Exception as exc:  # noqa: BLE001 - a family validator raising something odd
            out.append(Problem(file, yamlio.line_of(data, loc + (j,)), _field_name(loc + (j,)),
                               f"n = {n} is not a valid n of simulator {sim!r}: {exc}"))
    return out


# -- one paper file ----------------------------------------------------------------------


def _as_list(value: Any) -> list:
    return value if isinstance(value, list) else []


def _cross_checks(
    data: dict,
    file: str,
    stem: str,
    realism: RealismFile | None,
    sims: _Simulators,
) -> list[Problem]:
    """Checks across fields, on the raw data (defensively: pydantic reports shapes)."""
    out: list[Problem] = []

    def add(loc: tuple, message: str) -> None:
        out.append(Problem(file, yamlio.line_of(data, loc), _field_name(loc), message))

    key = data.get("key")
    if isinstance(key, str) and key != stem:
        add(("key",), f"key {key!r} differs from the file name {stem + '.yaml'!r}; they must be equal")

    # Paper's own validator reports duplicate policies, but pydantic skips it once an item is
    # invalid; then the duplicates are reported here, so one run shows both problems.
    policies = _as_list(data.get("data_policies"))
    if any(not isinstance(p, str) or p not in POLICIES for p in policies):
        seen_at: dict[str, int] = {}
        for i, p in enumerate(policies):
            if not isinstance(p, str):
                continue
            if p in seen_at:
                add(("data_policies", i), f"listed more than once: {p} (also data_policies[{seen_at[p]}])")
            else:
                seen_at[p] = i

    claims = _as_list(data.get("claims"))
    claim_ids: dict[str, int] = {}
    for i, claim in enumerate(claims):
        if isinstance(claim, dict) and isinstance(claim.get("id"), str):
            cid = claim["id"]
            if cid in claim_ids:
                add(("claims", i, "id"), f"duplicate claim id {cid!r} (also claims[{claim_ids[cid]}])")
            else:
                claim_ids[cid] = i

    setup_names: dict[str, int] = {}
    for i, setup in enumerate(_as_list(data.get("setups"))):
        if not isinstance(setup, dict):
            continue
        name = setup.get("name")
        if isinstance(name, str):
            if name in setup_names:
                add(("setups", i, "name"), f"duplicate setup name {name!r} (also setups[{setup_names[name]}])")
            else:
                setup_names[name] = i
        for j, ref in enumerate(_as_list(setup.get("reproduces"))):
            if isinstance(ref, str) and ref not in claim_ids:
                close = difflib.get_close_matches(ref, list(claim_ids), n=1)
                hint = f" (did you mean {close[0]}?)" if close else ""
                known = ", ".join(claim_ids) if claim_ids else "none"
                add(("setups", i, "reproduces", j), f"no claim {ref!r} in this paper{hint}; claims: {known}")
        policy = setup.get("policy")
        has_fraction = setup.get("real_fraction") is not None
        if isinstance(policy, str):
            if policy in POLICIES_WITH_REAL_FRACTION and not has_fraction:
                add(("setups", i, "policy"), f"policy {policy!r} needs real_fraction (0 < f <= 1)")
            if policy not in POLICIES_WITH_REAL_FRACTION and has_fraction:
                add(
                    ("setups", i, "real_fraction"),
                    f"real_fraction applies only to policies {' and '.join(POLICIES_WITH_REAL_FRACTION)}, "
                    f"not {policy!r}",
                )
        realistic = setup.get("realistic")
        if isinstance(realistic, dict):
            rpolicy = realistic.get("policy")
            if realistic.get("real_fraction") is not None and rpolicy not in POLICIES_WITH_REAL_FRACTION:
                add(
                    ("setups", i, "realistic", "real_fraction"),
                    "real_fraction here needs policy mix or fresh in the same realistic block",
                )
            if (
                rpolicy in POLICIES_WITH_REAL_FRACTION
                and realistic.get("real_fraction") is None
                and not (has_fraction and policy in POLICIES_WITH_REAL_FRACTION)
            ):
                add(("setups", i, "realistic", "policy"), f"policy {rpolicy!r} needs real_fraction (0 < f <= 1)")
        sim = setup.get("simulator")
        if isinstance(sim, str) and sims.registry is not None:
            family, error = sims.family(sim)
            if error:
                add(("setups", i, "simulator"), error)
            elif family is not None:
                out.extend(_check_params(family, setup.get("params", {}), ("setups", i, "params"), data, file, sim))
                if isinstance(realistic, dict) and isinstance(realistic.get("params"), dict):
                    merged = dict(setup.get("params") or {}) if isinstance(setup.get("params"), dict) else {}
                    merged.update(realistic["params"])
                    out.extend(
                        _check_params(family, merged, ("setups", i, "realistic", "params"), data, file, sim)
                    )
                out.extend(_check_sweep(family, setup, ("setups", i, "sweep_n"), data, file, sim))
        elif isinstance(setup.get("sweep_n"), list):
            out.extend(_check_sweep(None, setup, ("setups", i, "sweep_n"), data, file, sim))

    scores = data.get("realism")
    if isinstance(scores, dict) and realism is not None:
        levels = realism.levels()
        for dim, entry in scores.items():
            if dim not in levels:
                close = difflib.get_close_matches(str(dim), list(levels), n=1)
                hint = f" (did you mean {close[0]}?)" if close else ""
                add(("realism", dim), f"unknown realism dimension {dim!r}{hint}; valid: {', '.join(levels)}")
                continue
            level = entry.get("level") if isinstance(entry, dict) else None
            if isinstance(level, str) and level not in levels[dim]:
                add(
                    ("realism", dim, "level"),
                    f"unknown level {level!r} of {dim}; valid: {', '.join(levels[dim])}",
                )
    return out


def check_paper_file(
    path: Path, realism: RealismFile | None, sims: _Simulators | None = None
) -> tuple[Paper | None, list[Problem]]:
    """Load and check one paper file: the record (or None) and its problems."""
    file = display_path(path)
    sims = sims or _Simulators()
    try:
        loaded = yamlio.load_file(path)
    except yamlio.YamlLoadError as exc:
        return None, [Problem(file, exc.line or 1, "", exc.message)]
    data = loaded.data
    problems = [Problem(file, p.line, p.field, p.message) for p in loaded.problems]
    # a field whose scalar YAML misread (010, 0x7e6, 2022-02-30 ...) gets that explanation
    # instead of pydantic's less specific complaint about the same value
    misread = {p.field for p in loaded.problems if p.kind == "value"}
    if data is None:
        return None, problems + [Problem(file, 1, "", "empty file: expected a paper record (a mapping of fields)")]
    if not isinstance(data, dict):
        return None, problems + [
            Problem(file, getattr(data, "line", 1), "", f"the document must be a mapping of fields, not {_kind(data)}")
        ]
    paper: Paper | None = None
    try:
        paper = Paper.model_validate(data)
    except ValidationError as exc:
        problems.extend(p for p in _pydantic_problems(exc, Paper, data, file) if p.field not in misread)
    problems.extend(p for p in _cross_checks(data, file, path.stem, realism, sims) if p.field not in misread)
    if problems:
        return None, sorted(set(problems))
    return paper, []


# -- the vocabulary files ----------------------------------------------------------------


def _load_mapping(path: Path, what: str) -> tuple[Any, list[Problem], set[str]]:
    """The loaded mapping (or None), its load problems, and the fields YAML misread."""
    file = display_path(path)
    try:
        loaded = yamlio.load_file(path)
    except yamlio.YamlLoadError as exc:
        return None, [Problem(file, exc.line or 1, "", exc.message)], set()
    problems = [Problem(file, p.line, p.field, p.message) for p in loaded.problems]
    misread = {p.field for p in loaded.problems if p.kind == "value"}
    if loaded.data is None:
        return None, problems + [Problem(file, 1, "", f"empty file: expected {what}")], misread
    if not isinstance(loaded.data, dict):
        return None, problems + [Problem(file, 1, "", f"the document must be a mapping, not {_kind(loaded.data)}")], misread
    return loaded.data, problems, misread


def check_definitions_file(path: Path) -> tuple[DefinitionsFile | None, list[Problem]]:
    """``definitions.yaml`` against the vocabulary: the 8 ids in order, with their families."""
    file = display_path(path)
    data, problems, misread = _load_mapping(path, "the definitions")
    if data is None:
        return None, problems
    result: DefinitionsFile | None = None
    try:
        result = DefinitionsFile.model_validate(data)
    except ValidationError as exc:
        problems.extend(p for p in _pydantic_problems(exc, DefinitionsFile, data, file) if p.field not in misread)
    entries = _as_list(data.get("definitions"))
    ids = [e.get("id") for e in entries if isinstance(e, dict)]
    for d in DEFINITIONS:
        if d not in ids:
            problems.append(Problem(file, yamlio.line_of(data, ("definitions",)), "definitions", f"definition {d!r} is missing"))
    seen: set = set()
    for i, entry in enumerate(entries):
        if not isinstance(entry, dict):
            continue
        did = entry.get("id")
        if did in seen:
            problems.append(Problem(file, yamlio.line_of(data, ("definitions", i, "id")), f"definitions[{i}].id", f"duplicate definition {did!r}"))
        seen.add(did)
        fam = entry.get("family")
        if did in DEFINITION_FAMILIES and isinstance(fam, str) and fam != DEFINITION_FAMILIES[did]:
            problems.append(
                Problem(file, yamlio.line_of(data, ("definitions", i, "family")), f"definitions[{i}].family",
                        f"{did!r} belongs to family {DEFINITION_FAMILIES[did]!r} (simulators/vocabulary.py), not {fam!r}")
            )
    known = [i for i in ids if i in DEFINITIONS]
    if len(known) == len(set(known)) and set(known) == set(DEFINITIONS) and known != list(DEFINITIONS):
        problems.append(Problem(file, yamlio.line_of(data, ("definitions",)), "definitions",
                                f"definitions must be in vocabulary order: {', '.join(DEFINITIONS)}"))
    fams = [f.get("id") for f in _as_list(data.get("families")) if isinstance(f, dict)]
    if fams and fams != list(FAMILIES):
        problems.append(Problem(file, yamlio.line_of(data, ("families",)), "families",
                                f"families must be exactly, in order: {', '.join(FAMILIES)}"))
    return (result if not problems else None), sorted(set(problems))


def check_realism_file(path: Path) -> tuple[RealismFile | None, list[Problem]]:
    """``realism.yaml``: unique dimension and level ids, levels ordered by increasing score."""
    file = display_path(path)
    data, problems, misread = _load_mapping(path, "the realism dimensions")
    if data is None:
        return None, problems
    result: RealismFile | None = None
    try:
        result = RealismFile.model_validate(data)
    except ValidationError as exc:
        problems.extend(p for p in _pydantic_problems(exc, RealismFile, data, file) if p.field not in misread)
    seen: set = set()
    for i, dim in enumerate(_as_list(data.get("dimensions"))):
        if not isinstance(dim, dict):
            continue
        if dim.get("id") in seen:
            problems.append(Problem(file, yamlio.line_of(data, ("dimensions", i, "id")), f"dimensions[{i}].id", f"duplicate dimension {dim.get('id')!r}"))
        seen.add(dim.get("id"))
        levels = [lv for lv in _as_list(dim.get("levels")) if isinstance(lv, dict)]
        lids = [lv.get("id") for lv in levels]
        if len(lids) != len(set(lids)):
            problems.append(Problem(file, yamlio.line_of(data, ("dimensions", i, "levels")), f"dimensions[{i}].levels", "level ids must be unique"))
        scores = [lv.get("score") for lv in levels]
        if all(isinstance(s, int) and not isinstance(s, bool) for s in scores) and scores != sorted(set(scores)):
            problems.append(Problem(file, yamlio.line_of(data, ("dimensions", i, "levels")), f"dimensions[{i}].levels",
                                    "levels must be ordered from least to most realistic, with strictly increasing scores"))
    return (result if not problems else None), sorted(set(problems))


# -- many files --------------------------------------------------------------------------


def _cross_file(result: ValidationResult, raw: list[tuple[Path, Paper]]) -> None:
    """The same key, arXiv id, DOI or figure row in two files is an error naming both."""
    for attr, label in (("key", "key"), ("arxiv", "arXiv id"), ("doi", "DOI"), ("figure_order", "figure_order")):
        first: dict[Any, Path] = {}
        for path, paper in raw:
            value = getattr(paper, attr)
            if value is None:
                continue
            norm = value.lower() if isinstance(value, str) else value
            if norm in first:
                result.problems.append(
                    Problem(display_path(path), _field_line(path, attr), attr,
                            f"{label} {value!r} is also used by {display_path(first[norm])}")
                )
            else:
                first[norm] = path


def _field_line(path: Path, attr: str) -> int:
    try:
        data = yamlio.load_file(path).data
    except yamlio.YamlLoadError:
        return 1
    return yamlio.line_of(data, (attr,)) if isinstance(data, dict) else 1


def _check_papers(paths: Iterable[Path], realism: RealismFile | None, result: ValidationResult) -> None:
    sims = _Simulators()
    if sims.skipped:
        result.skipped.append(sims.skipped)
    good: list[tuple[Path, Paper]] = []
    for path in paths:
        result.checked_files += 1
        paper, problems = check_paper_file(path, realism, sims)
        result.problems.extend(problems)
        if paper is not None:
            good.append((path, paper))
    before = len(result.problems)
    _cross_file(result, good)
    bad = {p.file for p in result.problems[before:]}
    for path, paper in good:
        if display_path(path) not in bad:
            result.papers.append(paper)
            result.files[paper.key] = path


def validate_directory(root: Path) -> ValidationResult:
    """Check a whole annotations directory (definitions, realism, every paper)."""
    result = ValidationResult()
    root = Path(root)
    if not root.is_dir():
        raise UserError(f"{root}: annotations directory not found")
    defs = root / DEFINITIONS_FILE
    if defs.exists():
        result.checked_files += 1
        result.definitions, problems = check_definitions_file(defs)
        result.problems.extend(problems)
    else:
        result.problems.append(Problem(display_path(defs), 1, "", "file is missing"))
    realism_path = root / REALISM_FILE
    if realism_path.exists():
        result.checked_files += 1
        result.realism, problems = check_realism_file(realism_path)
        result.problems.extend(problems)
    if not (root / PAPERS_DIR).is_dir():
        result.problems.append(Problem(display_path(root / PAPERS_DIR), 1, "", "papers directory is missing"))
    _check_papers(paper_files(root), result.realism, result)
    result.problems.sort()
    return result


def bundled_realism(root: Path | None) -> RealismFile | None:
    """The realism.yaml of an annotations directory, if it exists and is valid."""
    if root is None:
        return None
    path = Path(root) / REALISM_FILE
    if not path.exists():
        return None
    realism, problems = check_realism_file(path)
    if problems:
        raise UserError(f"{problems[0]} (fix the bundled realism.yaml first)")
    return realism


def validate_paths(paths: Iterable[Path], annotations: Path | None) -> ValidationResult:
    """Check the given files (directories: their *.yaml files) against the bundled vocabulary.

    ``definitions.yaml`` and ``realism.yaml`` are recognised by name and checked as such; every
    other file is a paper record, checked against ``annotations``' realism.yaml (when present).
    """
    result = ValidationResult()
    files: list[Path] = []
    for p in paths:
        p = Path(p)
        if p.is_dir():
            files.extend(sorted(x for x in p.rglob("*") if x.suffix in (".yaml", ".yml")))
        elif p.exists():
            files.append(p)
        else:
            result.problems.append(Problem(display_path(p), 1, "", "file not found"))
    realism: RealismFile | None = None
    papers: list[Path] = []
    for f in files:
        if f.name == DEFINITIONS_FILE:
            result.checked_files += 1
            result.definitions, problems = check_definitions_file(f)
            result.problems.extend(problems)
        elif f.name == REALISM_FILE:
            result.checked_files += 1
            realism, problems = check_realism_file(f)
            result.problems.extend(problems)
            result.realism = realism
        else:
            papers.append(f)
    if realism is None:
        realism = bundled_realism(annotations)
    _check_papers(papers, realism, result)
    result.problems.sort()
    return result


def load_database(root: Path) -> ValidationResult:
    """The validated database of ``root``; a :class:`UserError` if anything is wrong."""
    result = validate_directory(root)
    if result.problems:
        more = f" (and {len(result.problems) - 1} more; run `mcatlas validate`)" if len(result.problems) > 1 else ""
        raise UserError(f"{result.problems[0]}{more}")
    return result
