"""The definition-vs-paper matrix as plain data (no chart library here).

Rows are papers in matrix order (:meth:`metaanalysis.records.Paper.sort_key`: the position
paper's Figure 2 rows by ``figure_order``, then the other records by year, month and key);
columns are the 8 definitions in vocabulary order, grouped by family. A cell is ``explicit``,
``implicit`` or ``""`` (not used).

Extension point: :attr:`Matrix.extra_columns` and :attr:`MatrixRow.extra` carry further
per-row columns after the 8 definition ids — the evidence overlay of issue 4 adds, for each
definition D, ``D:published`` and ``D:realistic`` there (see :func:`evidence_columns`), and the
CSV/JSON writers and the chart pass them through unchanged.

Cheap to import: only the standard library and the vocabulary.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from simulators.vocabulary import DEFINITION_FAMILIES, DEFINITIONS, FAMILIES, USAGES

#: the first three CSV/JSON columns, before the definition ids
ID_COLUMNS: tuple[str, ...] = ("key", "label", "explicit_definition")
#: the one-letter marks of the terminal table and the chart
MARKS: dict[str, str] = {"explicit": "E", "implicit": "I", "": ""}
#: short column headers for narrow displays
ABBREV: dict[str, str] = {
    "catastrophic-risk": "catas",
    "any-risk-increase": "any",
    "diverging-risk": "diverg",
    "scaling-law-change": "law",
    "collapsing-variance": "var",
    "mode-entanglement": "modes",
    "tail-disappearance": "tails",
    "hallucinated-data": "halluc",
}


def matrix_order(paper: Any) -> tuple:
    """Sort key of a paper (anything with ``figure_order, year, month, key``): the position
    paper's Figure 2 rows first, by ``figure_order``; then the others by year, month (records
    without a month after those with one) and key."""
    if paper.figure_order is not None:
        return (0, paper.figure_order, 0, 0, paper.key)
    return (1, 0, paper.year, paper.month if paper.month is not None else 13, paper.key)


def evidence_columns() -> list[str]:
    """The column names the evidence overlay adds: ``D:published``, ``D:realistic`` per D."""
    return [f"{d}:{kind}" for d in DEFINITIONS for kind in ("published", "realistic")]


@dataclass
class MatrixRow:
    """One paper's row."""

    key: str
    label: str
    explicit_definition: str
    cells: dict[str, str]  # definition id -> explicit | implicit | ""
    year: int | None = None
    month: int | None = None
    figure_order: int | None = None
    extra: dict[str, str] = field(default_factory=dict)

    def record(self, extra_columns: Iterable[str] = ()) -> dict[str, Any]:
        """The row as a flat mapping: id columns, the 8 definitions, then the extra columns."""
        out: dict[str, Any] = {
            "key": self.key,
            "label": self.label,
            "explicit_definition": self.explicit_definition,
        }
        out.update({d: self.cells.get(d, "") for d in DEFINITIONS})
        out.update({c: self.extra.get(c, "") for c in extra_columns})
        return out


@dataclass
class Matrix:
    """Rows in matrix order; the definition columns grouped by family."""

    rows: list[MatrixRow]
    extra_columns: list[str] = field(default_factory=list)

    @property
    def columns(self) -> list[str]:
        """All CSV/JSON columns, in order."""
        return [*ID_COLUMNS, *DEFINITIONS, *self.extra_columns]

    @staticmethod
    def families() -> list[tuple[str, list[str]]]:
        """(family, its definitions) in vocabulary order."""
        return [(f, [d for d in DEFINITIONS if DEFINITION_FAMILIES[d] == f]) for f in FAMILIES]

    def records(self) -> list[dict[str, Any]]:
        return [r.record(self.extra_columns) for r in self.rows]

    def to_csv(self) -> str:
        buf = io.StringIO()
        writer = csv.DictWriter(buf, fieldnames=self.columns, lineterminator="\n")
        writer.writeheader()
        writer.writerows(self.records())
        return buf.getvalue()

    def to_json(self) -> str:
        return json.dumps(self.records(), indent=2, ensure_ascii=False) + "\n"

    def summary(self) -> dict[str, Any]:
        """Counts per definition and per family (explicit, implicit, total), unused definitions."""
        per_def = []
        for d in DEFINITIONS:
            counts = {u: sum(1 for r in self.rows if r.cells.get(d) == u) for u in USAGES}
            per_def.append(
                {"definition": d, "family": DEFINITION_FAMILIES[d], **counts, "total": sum(counts.values())}
            )
        per_family = []
        for fam, defs in self.families():
            counts = {u: sum(x[u] for x in per_def if x["definition"] in defs) for u in USAGES}
            papers = sum(1 for r in self.rows if any(r.cells.get(d) for d in defs))
            per_family.append({"family": fam, **counts, "total": sum(counts.values()), "papers": papers})
        return {
            "papers": len(self.rows),
            "definitions": per_def,
            "families": per_family,
            "unused": [x["definition"] for x in per_def if x["total"] == 0],
        }


def build_matrix(papers: Iterable[Any]) -> Matrix:
    """The matrix of validated records (anything with the :class:`~metaanalysis.records.Paper`
    attributes), sorted into matrix order."""
    ordered = sorted(papers, key=matrix_order)
    rows = [
        MatrixRow(
            key=p.key,
            label=p.label,
            explicit_definition=p.explicit_definition,
            cells={d: p.definitions.get(d, "") for d in DEFINITIONS},
            year=p.year,
            month=p.month,
            figure_order=p.figure_order,
        )
        for p in ordered
    ]
    return Matrix(rows)


def summary_text(summary: dict[str, Any]) -> str:
    """The summary as plain text lines."""
    lines = [f"{summary['papers']} papers"]
    lines.append(f"{'definition':<22} {'family':<16} {'explicit':>8} {'implicit':>8} {'total':>6}")
    for x in summary["definitions"]:
        lines.append(f"{x['definition']:<22} {x['family']:<16} {x['explicit']:>8} {x['implicit']:>8} {x['total']:>6}")
    lines.append("")
    lines.append(f"{'family':<22} {'papers':>7} {'explicit':>8} {'implicit':>8} {'total':>6}")
    for x in summary["families"]:
        lines.append(f"{x['family']:<22} {x['papers']:>7} {x['explicit']:>8} {x['implicit']:>8} {x['total']:>6}")
    if summary["unused"]:
        lines.append("")
        lines.append(f"used by no paper: {', '.join(summary['unused'])}")
    return "\n".join(lines)


def rich_table(matrix: Matrix) -> Any:
    """A rich Table with E/I marks, family-grouped columns (rich imported here, lazily)."""
    from rich.table import Table

    fam_short = {"population risk": "risk", "scaling": "scal.", "distribution": "dist."}
    styles = {"population risk": "cyan", "scaling": "magenta", "distribution": "green"}
    table = Table(
        title="Definitions of model collapse used per paper",
        caption="E explicit, I implicit; columns: " + "; ".join(f"{ABBREV[d]} = {d}" for d in DEFINITIONS),
    )
    # the evidence overlay (issue 4) goes into the definition cells, not into extra columns
    evidence = set(evidence_columns()) <= set(matrix.extra_columns)
    table.add_column("paper", no_wrap=True)
    # the key tells apart papers with the same label (two "Dohmatob et al. (2024 Feb)")
    table.add_column("key", no_wrap=True, style="dim")
    table.add_column("expl.\ndef.", justify="center", no_wrap=True)
    for fam, defs in matrix.families():
        for d in defs:
            table.add_column(
                f"{fam_short.get(fam, fam)}\n{ABBREV[d]}", justify="center", no_wrap=not evidence,
                header_style=styles.get(fam, ""),
            )
    extra = [c for c in matrix.extra_columns if not (evidence and c in evidence_columns())]
    if evidence:
        table.caption += "; cells with evidence: mark | verdict as published -> realistic (- no run)"
    for c in extra:
        table.add_column(c, justify="center")
    for r in matrix.rows:
        cells = [
            evidence_cell_text(MARKS[r.cells.get(d, "")], r.extra.get(f"{d}:published", ""),
                               r.extra.get(f"{d}:realistic", "")) if evidence else MARKS[r.cells.get(d, "")]
            for _, defs in matrix.families() for d in defs
        ]
        table.add_row(r.label, r.key, r.explicit_definition, *cells, *(r.extra.get(c, "") for c in extra))
    return table


def evidence_cell_text(mark: str, published: str, realistic: str) -> str:
    """A table cell with evidence: ``E | collapse -> no-collapse`` (``-`` for no run); just the
    mark when neither variant has a run."""
    if not published and not realistic:
        return mark
    return f"{mark or '-'} | {published or '-'} -> {realistic or '-'}"
