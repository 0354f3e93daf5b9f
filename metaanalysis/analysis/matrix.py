"""The definition-vs-paper matrix as plain data (no chart library here).

Rows are papers in matrix order (:func:`metaanalysis.annotations.order.matrix_order`: the position
paper's Figure 2 rows by ``figure_order``, then the other records by year, month and key);
columns are the 8 definitions in vocabulary order, grouped by family. A cell is ``explicit``,
``implicit`` or ``""`` (not used).

Extension point: :attr:`Matrix.extra_columns` and :attr:`MatrixRow.extra` carry further
per-row columns after the 8 definition ids — the evidence overlay (:func:`apply_evidence`) adds,
for each definition D, ``D:published`` and ``D:realistic`` there (see :func:`evidence_columns`),
and the CSV/JSON writers and the chart pass them through unchanged.

Cheap to import: only the standard library and the vocabulary (the evidence is read inside the
functions that need it).
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Mapping

from metaanalysis.annotations.order import matrix_order
from simulators.vocabulary import DEFINITION_FAMILIES, DEFINITIONS, FAMILIES, USAGES

if TYPE_CHECKING:
    import pandas as pd

#: the variants the evidence overlay shows (the control rerun is read per claim, not per cell)
OVERLAY_VARIANTS: tuple[str, ...] = ("published", "realistic")
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


def evidence_columns() -> list[str]:
    """The column names the evidence overlay adds: ``D:published``, ``D:realistic`` per D."""
    return [f"{d}:{kind}" for d in DEFINITIONS for kind in OVERLAY_VARIANTS]


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


#: the extra column of the default matrix that lists, per paper, the definitions whose mark
#: another source judges differently from the consensus
DISPUTED_COLUMN = "disputed"


def build_matrix(papers: Iterable[Any], source: str | None = None) -> Matrix:
    """The matrix of validated records (anything with the :class:`~metaanalysis.annotations.records.Paper`
    attributes), sorted into matrix order.

    By default each paper's consensus marks (``definitions``: Figure 2 for its papers, mcatlas
    for the others), with a :data:`DISPUTED_COLUMN` column (when any paper has other sources'
    marks) listing the definitions another source marks differently. ``source``: one source's
    marks instead (``figure2``, ``mcatlas`` or a contributor), on the papers it judged."""
    ordered = sorted(papers, key=matrix_order)
    rows = []
    for p in ordered:
        judged = p.judgement(source) if source is not None else (p.explicit_definition, dict(p.definitions))
        if judged is None:
            continue
        flag, usages = judged
        row = MatrixRow(key=p.key, label=p.label, explicit_definition=flag,
                        cells={d: usages.get(d, "") for d in DEFINITIONS}, year=p.year, month=p.month,
                        figure_order=p.figure_order)
        if source is None:
            row.extra[DISPUTED_COLUMN] = ";".join(disputed(p))
        rows.append(row)
    matrix = Matrix(rows)
    if source is None and any(getattr(p, "marks", None) for p in ordered):
        matrix.extra_columns = [DISPUTED_COLUMN]
    return matrix


def disputed(paper: Any) -> list[str]:
    """The definitions (and ``explicit-definition``) that another source judges differently from
    the paper's consensus marks."""
    out: list[str] = []
    for m in getattr(paper, "marks", None) or []:
        if m.explicit_definition != paper.explicit_definition and "explicit-definition" not in out:
            out.append("explicit-definition")
        other = m.usages()
        for d in DEFINITIONS:
            if other.get(d, "") != paper.definitions.get(d, "") and d not in out:
                out.append(d)
    return [x for x in ("explicit-definition", *DEFINITIONS) if x in out]


# -- the evidence overlay ------------------------------------------------------------------

def evidence_cells(verdicts: "pd.DataFrame") -> dict[tuple[str, str], dict[str, str]]:
    """``{(paper, definition): {"published": v, "realistic": v}}`` from the verdicts of the
    papers' current setups (:func:`metaanalysis.analysis.frames.load_verdicts`).

    ``v`` is :func:`metaanalysis.analysis.claims.combine_verdicts` over the paper's setups that
    have a run of that variant (every setup measures every definition it can, so every setup of
    the paper counts, not only those that reproduce a claim about the definition). A variant key
    is absent when no setup of the paper has one; a (paper, definition) key is absent when
    neither variant has one.
    """
    from .claims import combine_verdicts

    cells: dict[tuple[str, str], dict[str, str]] = {}
    if verdicts is None or verdicts.empty:
        return cells
    shown = verdicts[verdicts["variant"].isin(OVERLAY_VARIANTS)]
    for (paper, definition, variant), group in shown.groupby(["paper", "definition", "variant"], sort=False):
        cells.setdefault((paper, definition), {})[variant] = combine_verdicts(group["verdict"])
    return cells


def apply_evidence(matrix: Any, cells: Mapping[tuple[str, str], Mapping[str, str]]) -> Any:
    """Add the evidence overlay to a :class:`metaanalysis.analysis.matrix.Matrix` (in place; returned).

    Extra columns ``D:published`` and ``D:realistic`` for every definition D
    (:func:`metaanalysis.analysis.matrix.evidence_columns`), each a value of
    :data:`metaanalysis.analysis.claims.COMBINED` or ``""`` (no setup with a stored run of that
    variant).
    """
    cols = evidence_columns()
    matrix.extra_columns = [*[c for c in matrix.extra_columns if c not in cols], *cols]
    for row in matrix.rows:
        for d in DEFINITIONS:
            cell = cells.get((row.key, d), {})
            for variant in OVERLAY_VARIANTS:
                row.extra[f"{d}:{variant}"] = cell.get(variant, "")
    return matrix
