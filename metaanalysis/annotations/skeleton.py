"""A new paper record to fill in (``mcatlas new``), and the placeholders validation rejects.

``mcatlas new KEY`` writes ``papers/KEY.yaml`` with the shape of a record: every required field
present, the optional ones as comments, each with a comment saying what goes there. What only
the paper can tell is a placeholder, a string starting with :data:`PLACEHOLDER` (``TODO``), and
validation rejects every placeholder left, one line each naming its field
(:func:`placeholder_problems`), so an unfinished record cannot be merged by accident. The
placeholder is a string even where the field takes a number or a choice (``year: TODO``), so
YAML reads every skeleton; validation then reports the placeholder instead of the type error.

With ``--arxiv ID`` the identifier, the URL, the year and month (a new-style arXiv id begins
with the year and month of its first version, ``yymm``) and the label are filled in; the label
is ``"Surname et al. (YYYY Mon)"`` with the surname taken from the key, which the contributor
checks (one author: ``"Surname (YYYY Mon)"``, two: ``"Surname & Other (YYYY Mon)"``). Nothing
is looked up on the network.

A new paper has no ``figure_order`` (only the position paper's Figure 2 rows have one) and a
``source`` of its own; a claim gets a setup only when a simulator can test the claim's
mechanism, otherwise it stays without one and the atlas lists it as untested.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

from simulators.errors import UserError
from simulators.vocabulary import (
    CLAIM_OUTCOMES,
    DEFINITIONS,
    EXPLICIT_DEFINITION,
    FIDELITIES,
    MODEL_FAMILIES,
    POLICIES,
)

from . import locate, yamlio
from .bibtex import MONTHS
from .problems import Problem, shortened
from .records import ARXIV_PATTERN, KEY_PATTERN, RealismFile

#: what every placeholder of a skeleton starts with; validation rejects any string that does
PLACEHOLDER = "TODO"

_ARXIV_INPUT = re.compile(r"^(?:arxiv:)?(\d{4}\.\d{4,5})(?:v(\d+))?$", re.IGNORECASE)


def is_placeholder(value: Any) -> bool:
    """Whether ``value`` is a placeholder left by :func:`skeleton_text`."""
    return isinstance(value, str) and value.strip().startswith(PLACEHOLDER)


def placeholder_problems(data: Any, file: str) -> list[Problem]:
    """One problem per placeholder (a key or value starting with ``TODO``) in a loaded record,
    with its line and full field path."""
    out: list[Problem] = []

    def walk(obj: Any, path: tuple) -> None:
        items: list[tuple[Any, Any]]
        if isinstance(obj, dict):
            items = list(obj.items())
        elif isinstance(obj, list):
            items = list(enumerate(obj))
        else:
            return
        for k, v in items:
            loc = path + (k,)
            if is_placeholder(k):
                out.append(Problem(file, locate.line_of(obj, (k,)), yamlio.field_name(loc),
                                   f"placeholder key {shortened(k)} not filled in (see the comment above it)"))
            elif is_placeholder(v):
                where = " (the comment on that line says what goes there)" if v.strip() == PLACEHOLDER else ""
                out.append(Problem(file, locate.line_of(obj, (k,)), yamlio.field_name(loc),
                                   f"placeholder not filled in: {shortened(v, 100)}{where}"))
            else:
                walk(v, loc)

    walk(data, ())
    return out


def parse_arxiv(text: str) -> tuple[str, int | None]:
    """``2403.12345``, ``arXiv:2403.12345`` or ``2403.12345v2`` -> (id, version or None); a
    :class:`UserError` for anything else, or for an id whose ``yymm`` is not a month."""
    m = _ARXIV_INPUT.match(text.strip())
    if not m or not re.match(ARXIV_PATTERN, m.group(1)):
        raise UserError(f"--arxiv {text!r}: expected a new-style arXiv id such as 2403.12345 (optionally vN)")
    ident = m.group(1)
    month = int(ident[2:4])
    if not 1 <= month <= 12:
        raise UserError(f"--arxiv {text!r}: an arXiv id starts with yymm, and {ident[2:4]} is not a month")
    version = int(m.group(2)) if m.group(2) else None
    if version == 0:
        raise UserError(f"--arxiv {text!r}: arXiv versions start at v1")
    return ident, version


def arxiv_year_month(ident: str) -> tuple[int, int]:
    """The year and month of an arXiv id's first version: its ``yymm`` (new-style ids began in
    April 2007, so ``yy`` is 20yy)."""
    return 2000 + int(ident[:2]), int(ident[2:4])


def surname_of(key: str) -> str:
    """The first author's surname as the key spells it (the letters before the year)."""
    m = re.match(r"[a-z]+", key)
    return (m.group(0) if m else key).capitalize()


def label_of(key: str, year: int, month: int) -> str:
    """A new paper's label, ``"Surname et al. (YYYY Mon)"``."""
    return f"{surname_of(key)} et al. ({year} {MONTHS[month - 1].capitalize()})"


#: the column of the comments after a skeleton's fields
_COMMENT_COLUMN = 34


def _c(code: str, comment: str) -> str:
    """A line of code with a comment after it, aligned at :data:`_COMMENT_COLUMN`."""
    return f"{code:<{_COMMENT_COLUMN - 1}} # {comment}"


def _q(text: str) -> str:
    """A YAML double-quoted scalar (JSON strings are valid YAML)."""
    return json.dumps(text, ensure_ascii=False)


def skeleton_text(
    key: str,
    arxiv: str | None = None,
    title: str | None = None,
    realism: RealismFile | None = None,
) -> str:
    """The text of a new record ``key``: every required field, placeholders where only the paper
    can tell, comments saying what goes where. ``arxiv`` (validated by :func:`parse_arxiv`)
    fills the identifier, URL, year, month and label; ``realism`` lists its dimensions."""
    if not re.match(KEY_PATTERN, key) or len(key) > 80:
        raise UserError(
            f"key {key!r}: lowercase letters, digits and single hyphens, like surname2024firstword"
        )
    if title is not None and not title.strip():
        raise UserError("--title: give the paper's title, or leave the option out")
    ident, version = parse_arxiv(arxiv) if arxiv is not None else (None, None)
    if ident is not None:
        year, month = arxiv_year_month(ident)
        year_line = _c(f"year: {year}", "of the first public version (from the arXiv id)")
        month_line = _c(f"month: {month}", "1-12, of the first public version (from the arXiv id)")
        label_line = _c(f"label: {_q(label_of(key, year, month))}",
                        'check: one author "Surname (YYYY Mon)", two "Surname & Other (YYYY Mon)"')
        ids = [
            _c(f"arxiv: {_q(ident)}", "always quoted"),
            _c(f"arxiv_version: {version}", "the version (vN) your `where` fields refer to")
            if version is not None else
            _c("arxiv_version: TODO", "the version (vN) you read: section and figure numbers change between versions"),
            f"url: {_q('https://arxiv.org/abs/' + ident)}",
            _c('# doi: "10.xxxx/..."', "quoted, if the paper has one; never guess"),
        ]
    else:
        year_line = _c("year: TODO", "of the first public version, e.g. 2024")
        month_line = _c("month: TODO", "1-12, of the first public version (delete the line if unknown)")
        label_line = _c(f'label: "TODO: {surname_of(key)} et al. (YYYY Mon)"',
                        'one author "Surname (YYYY Mon)", two "Surname & Other (YYYY Mon)"')
        ids = [
            _c('# arxiv: "2403.12345"', "quoted; with arxiv_version: N, the version you read"),
            _c('# doi: "10.xxxx/..."', "quoted, if the paper has one; never guess"),
            "url: \"TODO: https://... (the paper's landing page)\"",
        ]
    title_line = f"title: {_q(title.strip())}" if title is not None else 'title: "TODO: the title, as on the paper\'s first page"'
    dims = realism.dimensions if realism is not None else []
    realism_lines = ["realism:"] if dims else [_c("realism: {}", "no realism.yaml was found")]
    for d in dims:
        levels = " | ".join(lv.id for lv in d.levels)
        realism_lines.append(f'  {d.id}: {{level: "TODO: {levels}", why: "TODO: one line"}}')
    lines = [
        "# A new paper record written by `mcatlas new`. Replace every TODO: `mcatlas validate` lists",
        "# the ones left, with their lines, and fails until none is. CONTRIBUTING.md says how to",
        "# decide each field. The comments may stay or go.",
        f"key: {key}",
        title_line,
        'authors: ["TODO: every author, in order, as \'Given Surname\'"]',
        year_line,
        month_line,
        'venue: "TODO: the published venue (e.g. \'NeurIPS 2024\'), else \'arXiv preprint\'"',
        *ids,
        label_line,
        "# No figure_order: only the rows of the position paper's Figure 2 have one.",
        _c(f"explicit_definition: \"TODO: {' | '.join(EXPLICIT_DEFINITION)}\"",
           "does the paper state a definition of collapse?"),
        "definitions:",
        "  # For each definition the paper uses, `ID: explicit` or `ID: implicit` (CONTRIBUTING.md,",
        "  # 'Deciding explicit, implicit or not used'); leave the others out, `definitions: {}` if none:",
        *(f"  #   {d}" for d in DEFINITIONS),
        "  TODO: explicit",
        _c("data_policies: [TODO]", f"of {', '.join(POLICIES)}; [] if the paper has no loop"),
        '# identification_note: "what stays uncertain about the identification (never guess an id)"',
        'notes: "TODO: two or three sentences: what the paper does and finds"',
        ('source: "TODO: where this annotation comes from, e.g. \'Definition marks, explicit-definition flag, '
         "claims and realism scores: mcatlas, from the abstract and Section 1 of arXiv v1 (read YYYY-MM); not "
         "from the position paper, whose figure does not include this paper. Identification: mcatlas.'\""),
        "claims:",
        "  # One entry per result the paper reports (copy the block for each).",
        '  - id: "TODO: a slug, unique in this record, e.g. variance-collapses"',
        '    statement: "TODO: the result in one sentence, in your own words"',
        '    definition: "TODO: the definition it is about (one of the ids above)"',
        f"    outcome: \"TODO: {' | '.join(CLAIM_OUTCOMES)}\"",
        '    policy: "TODO: the data policy it is claimed under (also in data_policies)"',
        f"    model_family: \"TODO: {' | '.join(MODEL_FAMILIES)}\"",
        '    where: "TODO: figure, table, section or theorem (of the arXiv version you read)"',
        "setups: []",
        "  # A setup re-executes claims on a simulator (`mcatlas simulators` lists them). Add one only",
        "  # when a simulator can test the claim's mechanism; otherwise the claim stays without a",
        "  # setup and the atlas lists it as untested. A stand-in for a mechanism it does not model",
        "  # tests nothing, and its verdict would be read as evidence about the paper. Shape:",
        "  # - name: gaussian-replace",
        "  #   simulator: gaussian",
        "  #   params: {dim: 1, n: 100}",
        _c("  #   policy: replace", "the policy of the claims it reproduces"),
        "  #   seeds: 100",
        "  #   iterations: 100",
        "  #   reproduces: [variance-collapses]",
        _c("  #   fidelity: toy-stand-in", f"{' | '.join(FIDELITIES)}: same-model only for the paper's own model class"),
        '  #   note: "One line on how the setup differs from the paper."',
        _c("  #   # sweep_n: [100, 300, 1000]", "needed by a scaling-law-change claim"),
        *realism_lines,
    ]
    return "\n".join(lines) + "\n"


def write_new(directory: Path, key: str, text: str, existing: list[Path]) -> Path:
    """Write ``text`` as ``directory/KEY.yaml``; a :class:`UserError` if that file exists, if a
    record of the database (``existing``) already has that key, or if the directory is missing."""
    directory = Path(directory)
    for p in existing:
        if p.stem == key:
            raise UserError(f"{p}: a record with key {key!r} exists already; choose another key or edit it")
    if not directory.is_dir():
        raise UserError(f"{directory}: directory does not exist; create it first")
    path = directory / f"{key}.yaml"
    try:
        with open(path, "x", encoding="utf-8") as fh:  # "x": never overwrite
            fh.write(text)
    except FileExistsError:
        raise UserError(f"{path}: exists already; refusing to overwrite it") from None
    except OSError as exc:
        raise UserError(f"{path}: cannot write: {exc.strerror or exc}") from None
    return path


__all__ = [
    "PLACEHOLDER", "arxiv_year_month", "is_placeholder", "label_of", "parse_arxiv", "placeholder_problems",
    "skeleton_text", "surname_of", "write_new",
]
