"""Validation of the annotation database: every problem, one line each, with file and line.

Entry points:

* :func:`validate_directory` — the whole annotations directory: ``definitions.yaml`` and
  ``realism.yaml`` against the vocabulary, every ``papers/*.yaml`` record, and uniqueness of
  keys, arXiv ids, DOIs, figure rows and labels across files (two Figure 2 rows may share a
  label: the figure has two columns labelled alike).
* :func:`validate_paths` — given files (or directories of files), checked against the bundled
  definitions (the vocabulary), the bundled ``realism.yaml`` and the other records of the
  annotations directory, so that one new file is checked against the whole database.
* :func:`load_database` — the validated records, or a :class:`~simulators.errors.UserError`.

A :class:`Problem` prints as ``FILE:LINE: field: message``. Checks run on the loaded data even
where pydantic already failed on another field, so one run reports everything it can.

Simulators: a setup's ``simulator`` must be registered (``simulators.registry.get``) and its
``params`` must validate against that family's ``Params`` model (:mod:`.checks`).

A placeholder left by ``mcatlas new`` (a string starting with ``TODO``) is an error naming its
field (:mod:`.skeleton`). Records that validate also get warnings (:mod:`.guidance`): what the
contributing guide asks for that the record does not do; they never fail a run.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError

from simulators.errors import UserError
from simulators.vocabulary import (
    DEFINITION_FAMILIES,
    DEFINITIONS,
    FAMILIES,
)

from . import locate, yamlio
from .checks import SimulatorChecks, as_list, cross_checks
from .guidance import paper_warnings
from .paths import DEFINITIONS_FILE, PAPERS_DIR, REALISM_FILE, paper_files
from .problems import (
    Problem,
    ValidationResult,
    display_path,
    kind_of,
    pydantic_problems,
)
from .records import DefinitionsFile, Paper, RealismFile
from .skeleton import is_placeholder, placeholder_problems

M = TypeVar("M", bound=BaseModel)

# -- pydantic errors -> problems -----------------------------------------------------------


# -- simulators --------------------------------------------------------------------------


# -- one paper file ----------------------------------------------------------------------


def check_paper_file(
    path: Path, realism: RealismFile | None, sims: SimulatorChecks | None = None
) -> tuple[Paper | None, list[Problem]]:
    """Load and check one paper file: the record (or None) and its problems."""
    paper, problems, _ = _check_paper(path, realism, sims or SimulatorChecks())
    return paper, problems


def _covered(field: str, fields: set[str]) -> bool:
    """Whether ``field`` is one of ``fields`` or lies below one (``a.b`` under ``a``)."""
    return any(field == f or field.startswith((f + ".", f + "[")) for f in fields)


def _check_paper(path: Path, realism: RealismFile | None, sims: SimulatorChecks) -> tuple[Paper | None, list[Problem], Any]:
    """:func:`check_paper_file`, plus the loaded data (None when the file is not a mapping)."""
    file = display_path(path)
    try:
        loaded = yamlio.load_file(path)
    except yamlio.YamlLoadError as exc:
        return None, [Problem(file, exc.line or 1, "", exc.message)], None
    data = loaded.data
    problems = [Problem(file, p.line, p.field, p.message) for p in loaded.problems]
    # a field whose scalar YAML misread (010, 0x7e6, 2022-02-30 ...) gets that explanation
    # instead of pydantic's less specific complaint about the same value
    misread = {p.field for p in loaded.problems if p.kind == "value"}
    if data is None:
        return None, problems + [Problem(file, 1, "", "empty file: expected a paper record (a mapping of fields)")], None
    if not isinstance(data, dict):
        return None, problems + [
            Problem(file, getattr(data, "line", 1), "", f"the document must be a mapping of fields, not {kind_of(data)}")
        ], None
    # a placeholder of `mcatlas new` left in a field is reported as such, and the complaints it
    # causes (a string where a number or a choice belongs) are not
    placeholders = placeholder_problems(data, file)
    problems.extend(placeholders)
    unfilled = {p.field for p in placeholders}
    paper: Paper | None = None
    try:
        paper = Paper.model_validate(data)
    except ValidationError as exc:
        problems.extend(p for p in pydantic_problems(exc, Paper, data, file)
                        if p.field not in misread and not _covered(p.field, unfilled))
    problems.extend(p for p in cross_checks(data, file, path.stem, realism, sims)
                    if p.field not in misread and not _covered(p.field, unfilled))
    if problems:
        return None, sorted(set(problems)), data
    return paper, [], data


# -- the vocabulary files ----------------------------------------------------------------


def _load_record(path: Path, model: type[M], what: str) -> tuple[Any, M | None, list[Problem]]:
    """The loaded mapping (or None), the ``model`` record made of it (None where it does not
    validate) and the problems so far; pydantic's complaint about a field YAML misread is left
    to YAML's explanation, as for paper files."""
    file = display_path(path)
    try:
        loaded = yamlio.load_file(path)
    except yamlio.YamlLoadError as exc:
        return None, None, [Problem(file, exc.line or 1, "", exc.message)]
    problems = [Problem(file, p.line, p.field, p.message) for p in loaded.problems]
    data = loaded.data
    if data is None:
        return None, None, problems + [Problem(file, 1, "", f"empty file: expected {what}")]
    if not isinstance(data, dict):
        return None, None, problems + [Problem(file, 1, "", f"the document must be a mapping, not {kind_of(data)}")]
    try:
        return data, model.model_validate(data), problems
    except ValidationError as exc:
        misread = {p.field for p in loaded.problems if p.kind == "value"}
        problems.extend(p for p in pydantic_problems(exc, model, data, file) if p.field not in misread)
        return data, None, problems


def check_definitions_file(path: Path) -> tuple[DefinitionsFile | None, list[Problem]]:
    """``definitions.yaml`` against the vocabulary: the 8 ids in order, with their families."""
    file = display_path(path)
    data, result, problems = _load_record(path, DefinitionsFile, "the definitions")
    if data is None:
        return None, problems
    entries = as_list(data.get("definitions"))
    ids = [e.get("id") for e in entries if isinstance(e, dict)]
    for d in DEFINITIONS:
        if d not in ids:
            problems.append(Problem(file, locate.line_of(data, ("definitions",)), "definitions", f"definition {d!r} is missing"))
    seen: set = set()
    for i, entry in enumerate(entries):
        if not isinstance(entry, dict):
            continue
        did = entry.get("id")
        if did in seen:
            problems.append(Problem(file, locate.line_of(data, ("definitions", i, "id")), f"definitions[{i}].id", f"duplicate definition {did!r}"))
        seen.add(did)
        fam = entry.get("family")
        if did in DEFINITION_FAMILIES and isinstance(fam, str) and fam != DEFINITION_FAMILIES[did]:
            problems.append(
                Problem(file, locate.line_of(data, ("definitions", i, "family")), f"definitions[{i}].family",
                        f"{did!r} belongs to family {DEFINITION_FAMILIES[did]!r} (simulators/vocabulary.py), not {fam!r}")
            )
    known = [i for i in ids if i in DEFINITIONS]
    if len(known) == len(set(known)) and set(known) == set(DEFINITIONS) and known != list(DEFINITIONS):
        problems.append(Problem(file, locate.line_of(data, ("definitions",)), "definitions",
                                f"definitions must be in vocabulary order: {', '.join(DEFINITIONS)}"))
    fams = [f.get("id") for f in as_list(data.get("families")) if isinstance(f, dict)]
    if fams and fams != list(FAMILIES):
        problems.append(Problem(file, locate.line_of(data, ("families",)), "families",
                                f"families must be exactly, in order: {', '.join(FAMILIES)}"))
    return (result if not problems else None), sorted(set(problems))


def check_realism_file(path: Path) -> tuple[RealismFile | None, list[Problem]]:
    """``realism.yaml``: unique dimension and level ids, levels ordered by increasing score."""
    file = display_path(path)
    data, result, problems = _load_record(path, RealismFile, "the realism dimensions")
    if data is None:
        return None, problems
    seen: set = set()
    for i, dim in enumerate(as_list(data.get("dimensions"))):
        if not isinstance(dim, dict):
            continue
        if dim.get("id") in seen:
            problems.append(Problem(file, locate.line_of(data, ("dimensions", i, "id")), f"dimensions[{i}].id", f"duplicate dimension {dim.get('id')!r}"))
        seen.add(dim.get("id"))
        levels = [lv for lv in as_list(dim.get("levels")) if isinstance(lv, dict)]
        lids = [lv.get("id") for lv in levels]
        if len(lids) != len(set(lids)):
            problems.append(Problem(file, locate.line_of(data, ("dimensions", i, "levels")), f"dimensions[{i}].levels", "level ids must be unique"))
        scores = [lv.get("score") for lv in levels]
        if all(isinstance(s, int) and not isinstance(s, bool) for s in scores) and scores != sorted(set(scores)):
            problems.append(Problem(file, locate.line_of(data, ("dimensions", i, "levels")), f"dimensions[{i}].levels",
                                    "levels must be ordered from least to most realistic, with strictly increasing scores"))
    return (result if not problems else None), sorted(set(problems))


# -- many files --------------------------------------------------------------------------


#: the fields no two records may share, and how messages name them
UNIQUE_FIELDS: tuple[tuple[str, str], ...] = (
    ("key", "key"), ("arxiv", "arXiv id"), ("doi", "DOI"), ("figure_order", "figure_order"), ("label", "label"),
)


@dataclass
class _Entry:
    """A record's unique fields as written (only values of the right type), for comparing files."""

    path: Path
    values: dict[str, Any]
    lines: dict[str, int]

    @property
    def figure_row(self) -> bool:
        return "figure_order" in self.values

    @classmethod
    def of(cls, path: Path, data: Any) -> _Entry:
        values: dict[str, Any] = {}
        lines: dict[str, int] = {}
        if isinstance(data, dict):
            for attr, _ in UNIQUE_FIELDS:
                value = data.get(attr)
                ok = (type(value) is int) if attr == "figure_order" else (isinstance(value, str) and value.strip())
                if ok and not is_placeholder(value):
                    values[attr] = value
                    lines[attr] = locate.line_of(data, (attr,))
        return cls(path, values, lines)


def _norm(value: Any) -> Any:
    return " ".join(value.casefold().split()) if isinstance(value, str) else value


def _cross_file(result: ValidationResult, checked: list[_Entry], others: list[_Entry]) -> None:
    """The same key, arXiv id, DOI, figure row or label in two records is an error on the checked
    file, naming every other file that uses it. ``others`` (records of the database that were
    not checked) count as coming first, so a checked file is compared with all of them and with
    the checked files before it. Two rows of Figure 2 may share a label: they are the figure's
    own labels, and the figure labels two columns alike."""
    for attr, label in UNIQUE_FIELDS:
        seen: dict[Any, list[_Entry]] = {}
        for entry in others:
            if attr in entry.values:
                seen.setdefault(_norm(entry.values[attr]), []).append(entry)
        for entry in checked:
            if attr not in entry.values:
                continue
            value = entry.values[attr]
            same = seen.setdefault(_norm(value), [])
            clash = [o for o in same if not (attr == "label" and entry.figure_row and o.figure_row)]
            if clash:
                names = ", ".join(display_path(o.path) for o in clash)
                why = ("; labels tell the matrix's columns apart: a new paper's is 'Surname et al. (YYYY Mon)'"
                       if attr == "label" else "")
                result.problems.append(
                    Problem(display_path(entry.path), entry.lines[attr], attr, f"{label} {value!r} is also used by {names}{why}")
                )
            same.append(entry)


def _database_entries(root: Path | None, checked: Iterable[Path]) -> list[_Entry]:
    """The unique fields of the database's records at ``root`` other than the ``checked`` files
    (read as written; a record that does not load has none)."""
    if root is None:
        return []
    skip = {p.resolve() for p in checked}
    out = []
    for path in paper_files(root):
        if path.resolve() in skip:
            continue
        try:
            data = yamlio.load_file(path).data
        except yamlio.YamlLoadError:
            continue
        out.append(_Entry.of(path, data))
    return out


def _check_papers(
    paths: Iterable[Path], realism: RealismFile | None, result: ValidationResult, database: Path | None = None
) -> None:
    """Check paper files, each alone, then against each other and against the other records of
    the ``database`` directory; warnings for the records that validate."""
    sims = SimulatorChecks()
    paths = list(paths)
    good: list[tuple[Path, Paper]] = []
    entries: list[_Entry] = []
    for path in paths:
        result.checked_files += 1
        paper, problems, data = _check_paper(path, realism, sims)
        result.problems.extend(problems)
        entries.append(_Entry.of(path, data))
        if paper is not None:
            good.append((path, paper))
            result.warnings.extend(paper_warnings(paper, data, display_path(path), realism))
    before = len(result.problems)
    _cross_file(result, entries, _database_entries(database, paths))
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
    result.warnings.sort()
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
    """Check the given files (directories: their *.yaml files) against the annotations directory
    ``annotations`` (the database they belong to).

    ``definitions.yaml`` and ``realism.yaml`` are recognised by name and checked as such; every
    other file is a paper record, checked against ``annotations``' realism.yaml (when present)
    and, for keys, arXiv ids, DOIs, figure rows and labels, against the other records of
    ``annotations/papers/`` (a given file that is one of them replaces it in the comparison).
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
    realism_given = False  # a realism.yaml among the files stands in for the bundled one, valid or not
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
            realism_given = True
        else:
            papers.append(f)
    if not realism_given:
        realism = bundled_realism(annotations)
    _check_papers(papers, realism, result, annotations)
    result.problems.sort()
    result.warnings.sort()
    return result


def load_database(root: Path) -> ValidationResult:
    """The validated database of ``root``; a :class:`UserError` if anything is wrong."""
    result = validate_directory(root)
    if result.problems:
        more = f" (and {len(result.problems) - 1} more; run `mcatlas validate`)" if len(result.problems) > 1 else ""
        raise UserError(f"{result.problems[0]}{more}")
    return result
