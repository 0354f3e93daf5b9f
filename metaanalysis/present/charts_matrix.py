"""The definition-vs-paper matrix as an altair chart (the information of the position paper's
Figure 2: Schaeffer, Kazdan, Arulandu & Koyejo, arXiv 2503.03150), with the re-executed
evidence in its cells when the matrix carries it.

One encoding, decoded without the caption:

* **the letter** is the usage: ``E`` the paper uses the definition explicitly, ``I``
  implicitly, no letter: it does not use it;
* **the fill** is the verdict of the paper's setups re-executed as published (the verdict
  colours of :mod:`.style`); light grey: no rerun, or not measured;
* **the corner** (a triangle in the cell's lower right) is the verdict under realistic
  conditions, in the same colours; no corner: no realistic rerun, or not measured.

A key drawn above the grid (:func:`key_chart`, part of the chart, so it travels with the PNG
and SVG) shows one example of every mark. Letters are black or white, whichever contrasts more
with the fill (:func:`metaanalysis.present.style.text_colour_on`). With ``href_root`` every
mark of a column links to its paper's page (Vega-Lite's ``href`` channel).

Layout: papers along x in matrix order (the figure's rows, then records beyond the figure by
release date; the caption says which is which, :func:`source_caption`; papers that share a
label get their key appended on the axis, :func:`axis_labels`); above the grid a row with
each paper's explicit-definition flag written out; below it one block per family of
definitions, definitions in vocabulary order.

altair and vl-convert are imported inside the functions (never on the CLI's fast paths).
HTML output is self-contained: ``vl_convert.vegalite_to_html(..., bundle=True)`` inlines the
Vega libraries, so the file works offline from ``file://``.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from metaanalysis.analysis.matrix import MARKS, Matrix
from metaanalysis.present.style import (
    CHART_CONFIG,
    VERDICT_COLOURS,
    VERDICT_LETTERS,
    VERDICT_NAMES,
    text_colour_on,
)
from simulators.errors import UserError
from simulators.vocabulary import DEFINITION_FAMILIES, DEFINITIONS

#: the fill of a cell without a drawn verdict (no rerun, or not measured): the grid itself
EMPTY_FILL = "#F0F0F0"
#: the verdicts a cell can be filled with, in legend order, then "none" (:data:`EMPTY_FILL`)
FILLS = {**VERDICT_COLOURS, "none": EMPTY_FILL}
#: side of a cell, and of the corner triangle (pixels)
CELL, CORNER = 24, 11
#: the corner triangle: lower right half of the unit square Vega sizes custom symbols in
CORNER_PATH = "M1,-1L1,1L-1,1Z"
#: compact codes of the evidence in a cell's record (tooltips and the data table; not drawn)
EVIDENCE_CODES = {**VERDICT_LETTERS, "not-measured": "·", "": ""}
CAPTION = (
    "Each column is a paper (in release order), each row a definition of model collapse, grouped by family. "
    "The letter says how the paper uses the definition (E explicitly, I implicitly, none: not at all); the top "
    "row says whether the paper states an explicit definition of model collapse at all."
)
EVIDENCE_CAPTION = (
    "The fill is the verdict of the paper's setups re-executed as published, the corner the verdict under "
    "realistic conditions (data accumulate, few iterations); grey: no rerun or not measured."
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


def has_evidence(matrix: Matrix) -> bool:
    """Whether the matrix carries the evidence overlay (``D:published`` columns)."""
    return any(c.endswith(":published") for c in matrix.extra_columns)


def _shown(verdict: str) -> str:
    """The fill key of a verdict: itself when it is drawn, else "none"."""
    return verdict if verdict in VERDICT_COLOURS else "none"


def cell_records(matrix: Matrix, href_root: str | None = None) -> list[dict[str, Any]]:
    """One record per (paper, definition) cell, unused cells included (long format): the
    usage and its letter (``mark``), and with the evidence overlay the verdicts ``published``
    and ``realistic`` ("" no rerun), their fill keys (``published_fill``, ``realistic_fill``),
    the letter's colour (``ink``) and a compact code ``evidence`` (``C>N``; "" without any rerun).
    With ``href_root``: ``href``, the paper's page."""
    evidence = has_evidence(matrix)
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
            if evidence:
                pub, real = row.extra.get(f"{d}:published", ""), row.extra.get(f"{d}:realistic", "")
                rec.update(published=pub, realistic=real, published_fill=_shown(pub), realistic_fill=_shown(real),
                           published_text=VERDICT_NAMES.get(pub, "no rerun"),
                           realistic_text=VERDICT_NAMES.get(real, "no rerun"),
                           evidence=(f"{EVIDENCE_CODES[pub] or '–'}>{EVIDENCE_CODES[real] or '–'}"
                                     if pub or real else ""))
            else:
                rec.update(published_fill="none", realistic_fill="none")
            rec["ink"] = text_colour_on(FILLS[rec["published_fill"]])
            if href_root is not None:
                rec["href"] = f"{href_root}{row.key}.html"
            out.append(rec)
    return out


def flag_records(matrix: Matrix, href_root: str | None = None) -> list[dict[str, Any]]:
    """One record per paper for the explicit-definition row."""
    out = []
    for i, r in enumerate(matrix.rows):
        rec = {"order": i, "paper": r.label, "key": r.key, "column": _column_id(i, r.label),
               "explicit_definition": r.explicit_definition, "row": "states a definition"}
        if href_root is not None:
            rec["href"] = f"{href_root}{r.key}.html"
        out.append(rec)
    return out


def _column_id(i: int, label: str) -> str:
    # Labels can repeat (two "Dohmatob et al. (2024 Feb)" papers): the x field must be unique,
    # the axis shows the label through labelExpr.
    return f"{i:03d}|{label}"


def key_records(evidence: bool) -> list[dict[str, Any]]:
    """The examples of the key, in columns (usage; with the evidence also the fill and the
    corner): a heading, then one cell per mark with what it means beside it. ``x`` is the
    pixel position of the cell's centre, ``row`` its line in the column (0: the heading)."""
    columns: list[tuple[str, list[tuple[str, str, str, str]]]] = [  # letter, fill, corner, text
        ("letter: the paper uses the definition", [("E", "none", "", "explicitly"), ("I", "none", "", "implicitly"),
                                                   ("", "none", "", "not at all")]),
    ]
    if evidence:
        columns.append(("fill: verdict of the reruns as published",
                        [("", v, "", VERDICT_NAMES[v]) for v in VERDICT_COLOURS]
                        + [("", "none", "", "no rerun, or not measured")]))
        columns.append(("corner: verdict under realistic conditions",
                        [("", "none", v, VERDICT_NAMES[v]) for v in VERDICT_COLOURS]
                        + [("", "none", "", "none: no realistic rerun")]))
    out = []
    x = 0
    for head, items in columns:
        out.append({"kind": "head", "x": x, "row": 0, "text": head})
        for row, (letter, fill, corner, text) in enumerate(items, start=1):
            out.append({"kind": "cell", "x": x + CELL / 2, "row": row, "mark": letter, "fill": fill,
                        "corner": corner, "text": text, "ink": text_colour_on(FILLS[fill])})
        x += max(7.2 * len(head), CELL + 14 + 7 * max(len(i[3]) for i in items)) + 28
    return out


def key_chart(evidence: bool) -> Any:
    """The key of the matrix: every mark with what it means, drawn like the matrix draws it."""
    import altair as alt

    recs = key_records(evidence)
    rows = 1 + max(r["row"] for r in recs)
    width = int(max(r["x"] + (7.2 * len(r["text"]) if r["kind"] == "head" else CELL + 7 * len(r["text"]))
                    for r in recs))
    y = alt.Y("row:O", axis=None, scale=alt.Scale(padding=0.5))
    x = alt.X("x:Q", axis=None, scale=None)
    fill_scale = alt.Scale(domain=list(FILLS), range=list(FILLS.values()))
    base = alt.Chart(alt.Data(values=recs))
    cells = base.transform_filter("datum.kind == 'cell'")
    layers = [
        base.transform_filter("datum.kind == 'head'").mark_text(align="left", fontWeight="bold", fontSize=12).encode(
            x=x, y=y, text="text:N"),
        cells.mark_square(size=(CELL - 2) ** 2, opacity=1, stroke="#FFFFFF", strokeWidth=1).encode(
            x=x, y=y, fill=alt.Fill("fill:N", scale=fill_scale, legend=None)),
        cells.transform_filter("datum.corner != ''").mark_point(
            shape=CORNER_PATH, size=CORNER ** 2, filled=True, opacity=1, stroke="#FFFFFF", strokeWidth=1,
            xOffset=(CELL - 2 - CORNER) / 2, yOffset=(CELL - 2 - CORNER) / 2).encode(
            x=x, y=y, fill=alt.Fill("corner:N", scale=fill_scale, legend=None)),
        cells.mark_text(fontWeight="bold", fontSize=12).encode(
            x=x, y=y, text="mark:N", color=alt.Color("ink:N", scale=None)),
        cells.mark_text(align="left", dx=CELL / 2 + 6, fontSize=12).encode(x=x, y=y, text="text:N"),
    ]
    return alt.layer(*layers).properties(width=width, height=(CELL + 4) * rows)


def matrix_chart(matrix: Matrix, title: str | None = None, subtitle: str | None = None,
                 href_root: str | None = None) -> Any:
    """The altair chart (a vertical concatenation: the key, the flag row, one block per
    family). With the evidence overlay (:func:`has_evidence`) cells are filled and cornered
    by verdict; ``href_root`` makes every mark link to ``{href_root}{key}.html``."""
    import altair as alt

    if not matrix.rows:
        raise UserError("the matrix has no papers to draw")
    evidence = has_evidence(matrix)
    cells = cell_records(matrix, href_root)
    columns = [_column_id(i, r.label) for i, r in enumerate(matrix.rows)]
    width = CELL * len(columns)
    x_hidden = alt.X("column:N", sort=columns, axis=None, title=None)
    x_labelled = alt.X(
        "column:N", sort=columns, title=None,
        axis=alt.Axis(labelAngle=-55, labelExpr=_label_expr(matrix), labelLimit=260, labelFontSize=11),
    )
    link = {"href": alt.Href("href:N")} if href_root is not None else {}

    flags = alt.Chart(alt.Data(values=flag_records(matrix, href_root))).encode(
        x=x_hidden,
        y=alt.Y("row:N", title=None, axis=alt.Axis(labelFontWeight="bold", labelFontSize=11)),
        tooltip=[alt.Tooltip("paper:N"), alt.Tooltip("key:N"),
                 alt.Tooltip("explicit_definition:N", title="states an explicit definition")],
        **link,
    )
    flag_layer = flags.mark_text(fontSize=11).encode(
        text=alt.Text("explicit_definition:N"),
    ).properties(width=width, height=CELL)

    tooltip = [alt.Tooltip("paper:N"), alt.Tooltip("key:N"), alt.Tooltip("definition:N"),
               alt.Tooltip("family:N"), alt.Tooltip("usage:N")]
    if evidence:
        tooltip += [alt.Tooltip("published_text:N", title="rerun as published"),
                    alt.Tooltip("realistic_text:N", title="rerun under realistic conditions")]
    fill_scale = alt.Scale(domain=list(FILLS), range=list(FILLS.values()))

    blocks = []
    families = matrix.families()
    for n, (family, defs) in enumerate(families):
        last = n == len(families) - 1
        data = [c for c in cells if c["family"] == family]
        base = alt.Chart(alt.Data(values=data)).encode(
            x=x_labelled if last else x_hidden,
            y=alt.Y("definition:N", sort=defs, title=family,
                    axis=alt.Axis(titleFontWeight="bold", labelFontSize=11, titleFontSize=12)),
            tooltip=tooltip,
            **link,
        )
        layers = [base.mark_rect(stroke="#FFFFFF", strokeWidth=2).encode(
            fill=alt.Fill("published_fill:N", scale=fill_scale, legend=None))]
        if evidence:
            layers.append(base.transform_filter("datum.realistic_fill != 'none'").mark_point(
                shape=CORNER_PATH, size=CORNER ** 2, filled=True, opacity=1, stroke="#FFFFFF", strokeWidth=1,
                xOffset=(CELL - 2 - CORNER) / 2, yOffset=(CELL - 2 - CORNER) / 2,
            ).encode(fill=alt.Fill("realistic_fill:N", scale=fill_scale, legend=None)))
        layers.append(base.transform_filter("datum.mark != ''").mark_text(
            fontSize=12, fontWeight="bold", dx=-2 if evidence else 0, dy=-2 if evidence else 0).encode(
            text="mark:N", color=alt.Color("ink:N", scale=None)))
        blocks.append(alt.layer(*layers).properties(width=width, height=CELL * len(defs)))

    n_papers = len(matrix.rows)
    caption = CAPTION + " " + source_caption(matrix) + (" " + EVIDENCE_CAPTION if evidence else "")
    if href_root is not None:
        caption += " Click a column to open the paper's page."
    if subtitle:
        caption = subtitle + " " + caption
    chart = alt.vconcat(key_chart(evidence), flag_layer, *blocks, spacing=8).properties(
        title=alt.TitleParams(
            title or f"Which definitions of model collapse {n_papers} papers use",
            subtitle=_wrap(caption, 110), anchor="start", subtitleColor="#333333",
        )
    )
    return chart.configure(**{k: v for k, v in CHART_CONFIG.items()})


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
