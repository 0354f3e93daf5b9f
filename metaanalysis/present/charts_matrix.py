"""The definition-vs-paper matrix as an altair chart (the information of the position paper's
Figure 2: Schaeffer, Kazdan, Arulandu & Koyejo, arXiv 2503.03150).

Layout: papers along x in matrix order (the figure's rows, then records beyond the figure by
release date; the caption says which is which, :func:`source_caption`; papers that share a
label get their key appended on the axis, :func:`axis_labels`); above the grid a row with
each paper's explicit-definition flag; below it one block per family of definitions (population
risk, scaling, distribution), definitions in vocabulary order. A cell is coloured by usage with
two colour-blind-safe colours (Okabe-Ito blue for explicit, orange for implicit; unused cells
light grey) and carries the letter E or I, so it reads in greyscale too. Tooltips give the paper,
its key, the definition, its family and the usage.

Evidence overlay: :func:`cell_records` copies any ``D:published``/``D:realistic``
extra columns of the matrix into each cell's record as ``published``/``realistic`` and adds them
to the tooltip; a later chart can mark them without changing the data path.

altair and vl-convert are imported inside the functions (never on the CLI's fast paths).
HTML output is self-contained: ``vl_convert.vegalite_to_html(..., bundle=True)`` inlines the
Vega libraries, so the file works offline from ``file://``.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from metaanalysis.analysis.matrix import MARKS, Matrix
from metaanalysis.present.style import VERDICT_LETTERS
from simulators.errors import UserError
from simulators.vocabulary import DEFINITION_FAMILIES, DEFINITIONS

#: Okabe & Ito's colour-blind-safe palette: blue (explicit), orange (implicit)
USAGE_COLOURS = {"explicit": "#0072B2", "implicit": "#E69F00", "not used": "#F0F0F0"}
FLAG_COLOURS = {"yes": "#4D4D4D", "no": "#BDBDBD", "n/a": "#FFFFFF"}
#: the evidence overlay's one-letter verdicts (as published > realistic) under each cell's mark
EVIDENCE_CODES = {**VERDICT_LETTERS, "": ""}
EVIDENCE_CAPTION = (
    "Re-executed evidence under each mark: verdict as published > under realistic conditions "
    "(C collapse, N no collapse, M setups disagree, ? inconclusive, · not measured, - no run)."
)
CAPTION = (
    "Each column is a paper (in release order), each row a definition of model collapse, grouped "
    "by family. E: the paper uses the definition explicitly; I: implicitly. The top row says whether "
    "the paper states an explicit definition of model collapse at all."
)
FIGURE = "Figure 2 of Schaeffer et al., arXiv 2503.03150"


def source_caption(matrix: Matrix) -> str:
    """Where the columns come from: how many are the position paper's Figure 2 rows (with its
    marks) and which records lie beyond the figure (placed after it, by release date)."""
    in_figure = [r for r in matrix.rows if r.figure_order is not None]
    beyond = [r for r in matrix.rows if r.figure_order is None]
    if not beyond:
        return f"Annotations after {FIGURE} ({len(in_figure)} papers)."
    named = "; ".join(r.label for r in beyond[:5]) + ("; ..." if len(beyond) > 5 else "")
    if not in_figure:
        return f"{len(beyond)} records annotated in mcatlas, none from {FIGURE}."
    last = "the last column is a record" if len(beyond) == 1 else f"the last {len(beyond)} columns are records"
    return (
        f"The first {len(in_figure)} columns are the papers of {FIGURE}, with its marks; {last} "
        f"beyond the figure ({named}), annotated in mcatlas and placed after it by release date."
    )


def axis_labels(matrix: Matrix) -> list[str]:
    """The x-axis label of each column: the paper's label, with its key appended where two
    papers share a label (the figure has two "Dohmatob et al. (2024 Feb)" columns). The data
    (``paper`` in the records, the CSV ``label``) keeps the label as written."""
    counts: dict[str, int] = {}
    for r in matrix.rows:
        counts[r.label] = counts.get(r.label, 0) + 1
    return [f"{r.label} [{r.key}]" if counts[r.label] > 1 else r.label for r in matrix.rows]


def _label_expr(matrix: Matrix) -> str:
    """A Vega expression giving each column id its axis label (:func:`axis_labels`)."""
    import json

    expr = "split(datum.value, '|')[1]"
    for i, (row, shown) in enumerate(zip(matrix.rows, axis_labels(matrix))):
        if shown != row.label:
            expr = f"datum.value === {json.dumps(_column_id(i, row.label))} ? {json.dumps(shown)} : ({expr})"
    return expr


def cell_records(matrix: Matrix) -> list[dict[str, Any]]:
    """One record per (paper, definition) cell, unused cells included (long format)."""
    out = []
    for i, row in enumerate(matrix.rows):
        for d in DEFINITIONS:
            usage = row.cells.get(d, "")
            rec = {
                "order": i,
                "paper": row.label,
                "key": row.key,
                "column": _column_id(i, row.label),
                "definition": d,
                "family": DEFINITION_FAMILIES[d],
                "usage": usage or "not used",
                "mark": MARKS[usage],
            }
            for kind in ("published", "realistic"):
                col = f"{d}:{kind}"
                if col in matrix.extra_columns:
                    rec[kind] = row.extra.get(col, "")
            if "published" in rec or "realistic" in rec:  # a compact mark, e.g. C>N
                codes = [EVIDENCE_CODES.get(rec.get(k, ""), "") for k in ("published", "realistic")]
                rec["evidence"] = f"{codes[0] or '-'}>{codes[1] or '-'}" if any(codes) else ""
            out.append(rec)
    return out


def flag_records(matrix: Matrix) -> list[dict[str, Any]]:
    """One record per paper for the explicit-definition row."""
    return [
        {
            "order": i,
            "paper": r.label,
            "key": r.key,
            "column": _column_id(i, r.label),
            "explicit_definition": r.explicit_definition,
            "row": "explicit definition",
        }
        for i, r in enumerate(matrix.rows)
    ]


def _column_id(i: int, label: str) -> str:
    # Labels can repeat (two "Dohmatob et al. (2024 Feb)" papers): the x field must be unique,
    # the axis shows the label through labelExpr.
    return f"{i:03d}|{label}"


def matrix_chart(matrix: Matrix, title: str | None = None) -> Any:
    """The altair chart (a vertical concatenation: the flag row, then one block per family)."""
    import altair as alt

    if not matrix.rows:
        raise UserError("the matrix has no papers to draw")
    cells = cell_records(matrix)
    columns = [_column_id(i, r.label) for i, r in enumerate(matrix.rows)]
    width = max(300, 22 * len(columns))
    x_hidden = alt.X("column:N", sort=columns, axis=None, title=None)
    x_labelled = alt.X(
        "column:N", sort=columns, title=None,
        axis=alt.Axis(labelAngle=-60, labelExpr=_label_expr(matrix), labelLimit=320),
    )

    flags = alt.Chart(alt.Data(values=flag_records(matrix))).encode(
        x=x_hidden,
        y=alt.Y("row:N", title=None, axis=alt.Axis(labelFontWeight="bold")),
        tooltip=[alt.Tooltip("paper:N"), alt.Tooltip("key:N"),
                 alt.Tooltip("explicit_definition:N", title="explicit definition")],
    )
    flag_layer = alt.layer(
        flags.mark_rect(stroke="white", strokeWidth=1).encode(
            color=alt.Color(
                "explicit_definition:N", title="explicit definition",
                scale=alt.Scale(domain=list(FLAG_COLOURS), range=list(FLAG_COLOURS.values())),
                legend=None,  # the cells spell yes / no / n/a
            )
        ),
        flags.mark_text(fontSize=9).encode(
            text="explicit_definition:N",
            color=alt.condition("datum.explicit_definition == 'yes'", alt.value("white"), alt.value("black")),
        ),
    ).properties(width=width, height=20)

    tooltip = [alt.Tooltip("paper:N"), alt.Tooltip("key:N"), alt.Tooltip("definition:N"),
               alt.Tooltip("family:N"), alt.Tooltip("usage:N")]
    evidence = any("published" in c for c in cells)
    if evidence:
        tooltip += [alt.Tooltip("published:N", title="re-executed, as published"),
                    alt.Tooltip("realistic:N", title="re-executed, realistic")]
    row_height = 30 if evidence else 20

    blocks = []
    families = matrix.families()
    for n, (family, defs) in enumerate(families):
        last = n == len(families) - 1
        data = [c for c in cells if c["family"] == family]
        base = alt.Chart(alt.Data(values=data)).encode(
            x=x_labelled if last else x_hidden,
            y=alt.Y("definition:N", sort=defs, title=family, axis=alt.Axis(titleFontWeight="bold")),
            tooltip=tooltip,
        )
        layers = [
            base.mark_rect(stroke="white", strokeWidth=1).encode(
                color=alt.Color(
                    "usage:N", title="usage",
                    scale=alt.Scale(domain=list(USAGE_COLOURS), range=list(USAGE_COLOURS.values())),
                    legend=alt.Legend(orient="right") if n == 0 else None,
                )
            ),
            base.mark_text(fontSize=10, fontWeight="bold", dy=-5 if evidence else 0).encode(
                text="mark:N",
                color=alt.condition("datum.usage == 'explicit'", alt.value("white"), alt.value("black")),
            ),
        ]
        if evidence:
            layers.append(base.mark_text(fontSize=8, dy=8).encode(
                text="evidence:N",
                color=alt.condition("datum.usage == 'explicit'", alt.value("white"), alt.value("black")),
            ))
        block = alt.layer(*layers).properties(width=width, height=row_height * len(defs))
        blocks.append(block)

    n_papers = len(matrix.rows)
    chart = alt.vconcat(flag_layer, *blocks, spacing=6).resolve_scale(color="independent").properties(
        title=alt.TitleParams(
            title or f"Definitions of model collapse used by {n_papers} papers",
            subtitle=_wrap(
                CAPTION + " " + source_caption(matrix) + (" " + EVIDENCE_CAPTION if evidence else ""), 110
            ),
            anchor="start",
        )
    ).configure_view(stroke=None).configure_axis(labelFontSize=10, titleFontSize=11)
    return chart


def _wrap(text: str, width: int) -> list[str]:
    import textwrap

    return textwrap.wrap(text, width)


def matrix_spec(matrix: Matrix) -> dict[str, Any]:
    """The Vega-Lite specification (a dict) of :func:`matrix_chart`."""
    return matrix_chart(matrix).to_dict()


def save_matrix_chart(matrix: Matrix, out: Path) -> Path:
    """Write the chart as .html (self-contained), .svg or .png, by the file's extension."""
    import vl_convert as vlc

    out = Path(out)
    suffix = out.suffix.lower()
    if suffix not in (".html", ".svg", ".png"):
        raise UserError(f"{out}: unknown chart format {suffix!r}; use .html, .svg or .png")
    parent = out.parent if str(out.parent) else Path(".")
    if not os.path.isdir(parent):  # checked before the (slow) rendering
        raise UserError(f"{out}: directory {parent} does not exist; create it first")
    spec = matrix_spec(matrix)
    if suffix == ".html":
        content: str | bytes = vlc.vegalite_to_html(spec, bundle=True)
    elif suffix == ".svg":
        content = vlc.vegalite_to_svg(spec)
    else:
        content = vlc.vegalite_to_png(spec, scale=2)
    try:
        if isinstance(content, bytes):
            out.write_bytes(content)
        else:
            out.write_text(content, encoding="utf-8")
    except OSError as exc:
        raise UserError(f"{out}: cannot write the chart: {exc.strerror or exc}") from None
    return out
