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
``params`` must validate against that family's ``Params`` model (:mod:`.checks`).
"""

from __future__ import annotations

from collections.abc import Iterable
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
from .paths import DEFINITIONS_FILE, PAPERS_DIR, REALISM_FILE, paper_files
from .problems import (
    Problem,
    ValidationResult,
    display_path,
    kind_of,
    pydantic_problems,
)
from .records import DefinitionsFile, Paper, RealismFile

M = TypeVar("M", bound=BaseModel)

# -- pydantic errors -> problems -----------------------------------------------------------


# -- simulators --------------------------------------------------------------------------


# -- one paper file ----------------------------------------------------------------------


def check_paper_file(
    path: Path, realism: RealismFile | None, sims: SimulatorChecks | None = None
) -> tuple[Paper | None, list[Problem]]:
    """Load and check one paper file: the record (or None) and its problems."""
    file = display_path(path)
    sims = sims or SimulatorChecks()
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
            Problem(file, getattr(data, "line", 1), "", f"the document must be a mapping of fields, not {kind_of(data)}")
        ]
    paper: Paper | None = None
    try:
        paper = Paper.model_validate(data)
    except ValidationError as exc:
        problems.extend(p for p in pydantic_problems(exc, Paper, data, file) if p.field not in misread)
    problems.extend(p for p in cross_checks(data, file, path.stem, realism, sims) if p.field not in misread)
    if problems:
        return None, sorted(set(problems))
    return paper, []


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
    return locate.line_of(data, (attr,)) if isinstance(data, dict) else 1


def _check_papers(paths: Iterable[Path], realism: RealismFile | None, result: ValidationResult) -> None:
    sims = SimulatorChecks()
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
