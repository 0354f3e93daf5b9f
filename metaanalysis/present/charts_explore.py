"""Phase diagrams of a realism grid (``mcatlas explore --out``): one panel per definition.

Two or more varied axes: a heatmap of the verdicts over the first two (cells coloured by
verdict, with its letter; a tooltip gives the statistic, its interval and stability), one
heatmap per combination of the further axes. One varied axis: a verdict strip along it above
the statistic with its interval. Colours, letters and legend names are those of every chart
(:mod:`metaanalysis.present.style`): a verdict colour for collapse, no-collapse and
inconclusive, letters in black or white by contrast, and an empty cell for a definition not
measured or a cell not run (letter "-"). altair is imported inside the functions.
"""

from __future__ import annotations

import math
import os
from pathlib import Path
from typing import Any, Mapping, Sequence

from metaanalysis.analysis.explore import NOT_RUN
from simulators.errors import UserError
from simulators.vocabulary import VERDICTS

from .style import (
    CHART_CONFIG,
    VERDICT_COLOURS,
    VERDICT_LETTERS,
    VERDICT_NAMES,
    chart_title,
    inline_data,
    text_colour_on,
)

#: cell fills: the verdict colours; empty (white) where there is no verdict to draw
EMPTY = "#FFFFFF"
DOMAIN = (*VERDICTS, NOT_RUN)
COLOURS = {v: VERDICT_COLOURS.get(v, EMPTY) for v in DOMAIN}
LETTERS = {**VERDICT_LETTERS, NOT_RUN: "-"}
NAMES = {**VERDICT_NAMES, NOT_RUN: NOT_RUN}
#: pixels per heatmap cell and of a strip's statistic panel
CELL = 46
STAT_HEIGHT = 140


def _label(v: Any) -> str:
    return f"{v:g}" if isinstance(v, float) else str(v)


def _finite(x: Any) -> float | None:
    if x is None:
        return None
    x = float(x)
    return x if math.isfinite(x) else None


def phase_frame(cells: Sequence[Mapping[str, Any]], axes: Mapping[str, Sequence[Any]], definition: str) -> Any:
    """One row per cell for ``definition``: a string column per axis, ``verdict``, ``letter``,
    ``statistic``, ``ci_low``, ``ci_high``, ``stability`` (None where not finite)."""
    import pandas as pd

    rows = []
    for c in cells:
        verdict = c["verdicts"].get(definition, NOT_RUN) if c.get("stored", True) else NOT_RUN
        lo, hi = (c["ci"].get(definition) or [None, None])
        rows.append({**{a: _label(c["axes"][a]) for a in axes}, "verdict": verdict, "name": NAMES.get(verdict, verdict),
                     "letter": LETTERS.get(verdict, ""), "ink": text_colour_on(COLOURS.get(verdict, EMPTY)),
                     "statistic": _finite(c["statistics"].get(definition)), "ci_low": _finite(lo),
                     "ci_high": _finite(hi), "stability": _finite(c["stability"].get(definition))})
    return pd.DataFrame(rows)


def phase_chart(cells: Sequence[Mapping[str, Any]], axes: Mapping[str, Sequence[Any]], definition: str,
                statistic_name: str = "", title: str = "") -> Any:
    """The phase diagram of one definition (see the module docstring)."""
    import altair as alt

    frame = phase_frame(cells, axes, definition)
    varied = [a for a, vs in axes.items() if len(vs) > 1]
    # one domain for every panel: the stacked diagrams share one colour scale
    colour = alt.Color("name:N", title="verdict", scale=alt.Scale(domain=[NAMES[v] for v in DOMAIN],
                                                                 range=[COLOURS[v] for v in DOMAIN]))
    ink = alt.Color("ink:N", scale=None)
    tips = [*(alt.Tooltip(f"{a}:N") for a in axes), alt.Tooltip("name:N", title="verdict"),
            alt.Tooltip("statistic:Q", format=".3g"), alt.Tooltip("ci_low:Q", format=".3g"),
            alt.Tooltip("ci_high:Q", format=".3g"), alt.Tooltip("stability:Q", format=".0%")]
    caption = (f"{definition}; each cell read at its own length (its iterations). "
               + (f"Statistic: {statistic_name}." if statistic_name else ""))
    heading = chart_title(title or definition, caption)
    if len(varied) >= 2:
        x, y, rest = varied[0], varied[1], varied[2:]
        panels = []
        groups = frame.groupby(rest, sort=False) if rest else [((), frame)]
        for key, part in groups:
            key = key if isinstance(key, tuple) else (key,)
            name = ", ".join(f"{a}={k}" for a, k in zip(rest, key))
            base = alt.Chart(inline_data(part)).encode(
                x=alt.X(f"{x}:O", sort=[_label(v) for v in axes[x]], title=x, axis=alt.Axis(labelAngle=0)),
                y=alt.Y(f"{y}:O", sort=[_label(v) for v in reversed(axes[y])], title=y))
            heat = base.mark_rect(stroke="#999999").encode(color=colour, tooltip=tips)
            text = base.mark_text(fontSize=14, fontWeight="bold").encode(text="letter:N", color=ink)
            panel = (heat + text).properties(width=CELL * len(axes[x]), height=CELL * len(axes[y]))
            panels.append(panel.properties(title=name) if name else panel)
        chart = panels[0] if len(panels) == 1 else alt.hconcat(*panels)
        return chart.properties(title=heading)
    x = varied[0] if varied else next(iter(axes), None)
    if x is None:
        raise UserError("a phase diagram needs at least one axis")
    order = [_label(v) for v in axes[x]]
    data = inline_data(frame)
    strip = alt.Chart(data).encode(x=alt.X(f"{x}:O", sort=order, title=None, axis=alt.Axis(labels=False, ticks=False)))
    strip = (strip.mark_rect(stroke="#999999").encode(color=colour, tooltip=tips)
             + strip.mark_text(fontSize=14, fontWeight="bold").encode(text="letter:N", color=ink)
             ).properties(width=CELL * len(order), height=CELL // 1.5)
    stat = alt.Chart(data).encode(x=alt.X(f"{x}:O", sort=order, title=x, axis=alt.Axis(labelAngle=0)))
    stat = (stat.mark_rule().encode(y=alt.Y("ci_low:Q", title="statistic (caption), interval"), y2="ci_high:Q")
            + stat.mark_point(filled=True, size=50).encode(y="statistic:Q", color=colour, tooltip=tips)
            ).properties(width=CELL * len(order), height=STAT_HEIGHT)
    return alt.vconcat(strip, stat, spacing=4).resolve_scale(x="shared").properties(title=heading)


def phase_diagrams(result: Mapping[str, Any]) -> Any:
    """Every definition measured in some cell of an explore result (``cells``, ``axes``,
    ``statistic_names``, ``paper``, ``setup``), one phase diagram each, stacked."""
    import altair as alt

    cells, axes = result["cells"], result["axes"]
    names = result.get("statistic_names", {})
    definitions = []
    for d in dict.fromkeys(d for c in cells for d in c["verdicts"]):
        if any(c["verdicts"].get(d) not in (None, "not-measured") for c in cells):
            definitions.append(d)
    if not definitions:
        raise UserError("no cell of the grid is stored with a measured definition: nothing to draw")
    where = f"{result.get('paper', '')}/{result.get('setup', '')}".strip("/")
    charts = [phase_chart(cells, axes, d, names.get(d, ""), f"{d}: {where}" if where else d) for d in definitions]
    return alt.vconcat(*charts, spacing=28).configure(**CHART_CONFIG)


def save_phase_diagrams(result: Mapping[str, Any], out: Path | str) -> Path:
    """Write the phase diagrams as .html (self-contained), .svg or .png, by the file's extension."""
    import vl_convert as vlc

    out = Path(out)
    check_chart_path(out)
    spec = phase_diagrams(result).to_dict()
    suffix = out.suffix.lower()
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


#: the chart formats ``--out`` takes
CHART_SUFFIXES: tuple[str, ...] = (".html", ".svg", ".png")


def check_chart_path(out: Path) -> None:
    """Fail early (before any run) on a wrong extension or a missing directory."""
    suffix = out.suffix.lower()
    if suffix not in CHART_SUFFIXES:
        raise UserError(f"{out}: unknown chart format {suffix or '(none)'!r}; use {', '.join(CHART_SUFFIXES)}")
    parent = out.parent if str(out.parent) else Path(".")
    if not os.path.isdir(parent):
        raise UserError(f"{out}: directory {parent} does not exist; create it first")


__all__ = ["CHART_SUFFIXES", "check_chart_path", "phase_chart", "phase_diagrams", "phase_frame", "save_phase_diagrams"]
