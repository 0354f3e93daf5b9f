"""The meta-analysis charts (altair): one function per chart, each taking tidy pandas frames and
returning an altair chart with a title and a caption that says what to read from it.

Charts (``mcatlas charts --out DIR`` writes each as self-contained HTML, SVG and PNG):

========================  ===================================================================
``matrix-evidence``       the definition-vs-paper matrix (:mod:`.charts_matrix`) with the
                          re-executed verdicts marked in each cell (:func:`matrix_evidence_chart`)
``definitions-usage``     how many papers use each definition, explicitly or implicitly
``definitions-time``      definitions used per family, by release month of the papers
``policies-year``         data policies studied, by year
``realism``               realism level per paper and dimension, and the resulting weight
``support``               share of claims that report collapse per definition, unweighted and
                          realism-weighted
``trajectories``          re-executed trajectories per setup: metric vs iteration, mean with a
                          95% CI band across seeds, as published vs realistic
``profiles``              collapse profiles as small multiples (definition x setup, per variant)
``forest``                forest plot of the per-setup log risk ratio with a DerSimonian-Laird
                          pooled estimate per data policy
========================  ===================================================================

Legibility rules: definitions in vocabulary order (grouped by family), papers in matrix order,
setups sorted, labels written out, tooltips on every mark. Colours are from Okabe & Ito's
colour-blind-safe palette (https://jfly.uni-koeln.de/color/), and every colour-coded verdict also
carries a letter or a shape so the charts read in greyscale. Non-finite values (an infinite risk
after collapse) cannot be drawn; they are left out and the caption says how many.

altair and vl-convert are imported inside the functions (this module is imported by the CLI).
"""

from __future__ import annotations

import contextlib
import math
from pathlib import Path
from typing import Any, Iterable, Iterator, Sequence

from simulators.errors import UserError
from simulators.vocabulary import DEFINITION_FAMILIES, DEFINITIONS, FAMILIES, POLICIES

from .style import (
    FAMILY_COLOURS,
    POLICY_COLOURS,
    SUPPORT_COLOURS,
    chart_title,
    colour_scale,
    empty_chart,
    inline_data,
)

#: chart name -> file stem, in the order ``mcatlas charts`` writes them
CHART_NAMES: tuple[str, ...] = (
    "matrix-evidence", "definitions-usage", "definitions-time", "policies-year", "realism", "support",
    "trajectories", "profiles", "forest",
)


# -- tidy inputs from the records --------------------------------------------------------------


def usage_frame(papers: Iterable[Any]) -> Any:
    """One row per (paper, definition it uses): key, label, year, month, date, definition,
    family, usage. ``date`` is the first of the release month (January when the month is not
    known, and ``month_known`` says so)."""
    import pandas as pd

    rows = []
    for p in sorted(papers, key=lambda p: p.sort_key()):
        for d, usage in p.definitions_in_order().items():
            rows.append({"key": p.key, "paper": p.label, "year": p.year, "month": p.month,
                         "month_known": p.month is not None,
                         "date": f"{p.year:04d}-{(p.month or 1):02d}-01",
                         "definition": d, "family": DEFINITION_FAMILIES[d], "usage": usage})
    return pd.DataFrame(rows, columns=["key", "paper", "year", "month", "month_known", "date", "definition",
                                       "family", "usage"])


def policy_frame(papers: Iterable[Any]) -> Any:
    """One row per (paper, data policy it studies): key, paper, year, policy."""
    import pandas as pd

    rows = [{"key": p.key, "paper": p.label, "year": p.year, "policy": pol}
            for p in papers for pol in p.data_policies]
    return pd.DataFrame(rows, columns=["key", "paper", "year", "policy"])


# -- charts of the annotations -----------------------------------------------------------------


def definitions_usage_chart(usage: Any) -> Any:
    """Papers per definition (bars stacked by explicit / implicit), grouped by family."""
    import altair as alt

    title = "How many papers use each definition of model collapse"
    if len(usage) == 0:
        return empty_chart(title, "No paper uses any definition yet.")
    n = usage["key"].nunique()
    caption = (f"Bars count the {n} papers that use a definition, explicitly (blue) or implicitly (orange); "
               "definitions are grouped by family in the order of the position paper's Figure 1. "
               "Read: which notions of collapse the literature actually works with.")
    return alt.Chart(inline_data(usage)).mark_bar().encode(
        y=alt.Y("definition:N", sort=list(DEFINITIONS), title=None, axis=alt.Axis(labelLimit=200)),
        x=alt.X("count():Q", title="papers"),
        color=alt.Color("usage:N", title="usage", scale=colour_scale({"explicit": "#0072B2", "implicit": "#E69F00"})),
        order=alt.Order("usage:O", sort="ascending"),
        row=alt.Row("family:N", sort=list(FAMILIES), title=None,
                    header=alt.Header(labelAngle=0, labelAlign="left", labelFontWeight="bold")),
        tooltip=[alt.Tooltip("definition:N"), alt.Tooltip("family:N"), alt.Tooltip("usage:N"),
                 alt.Tooltip("count():Q", title="papers")],
    ).resolve_scale(y="independent").properties(width=420, title=chart_title(title, caption))


def definitions_time_chart(usage: Any) -> Any:
    """Definition uses per family by release month (stacked bars, one per month)."""
    import altair as alt

    title = "Definitions used per family, by release month"
    if len(usage) == 0:
        return empty_chart(title, "No paper uses any definition yet.")
    unknown = int((~usage["month_known"].astype(bool)).sum())
    caption = ("Each bar counts the definitions used by the papers first released in that month, coloured "
               "by family. Read: whether distribution-level notions (variance, tails) or population-risk "
               "notions dominate, and how that changed over time.")
    if unknown:
        caption += f" {unknown} use(s) from papers with no known month are placed in January."
    return alt.Chart(inline_data(usage)).mark_bar().encode(
        x=alt.X("yearmonth(date):T", title="release month", axis=alt.Axis(format="%b %Y", labelAngle=-45)),
        y=alt.Y("count():Q", title="definition uses"),
        color=alt.Color("family:N", title="family", scale=colour_scale(FAMILY_COLOURS, FAMILIES)),
        order=alt.Order("family:O"),
        tooltip=[alt.Tooltip("yearmonth(date):T", title="month", format="%b %Y"), alt.Tooltip("family:N"),
                 alt.Tooltip("count():Q", title="definition uses")],
    ).properties(width=560, height=260, title=chart_title(title, caption))


def policies_year_chart(policies: Any) -> Any:
    """Papers per data policy and year (grouped bars)."""
    import altair as alt

    title = "Data policies studied, by year"
    if len(policies) == 0:
        return empty_chart(title, "No paper records a data policy yet.")
    present = [p for p in POLICIES if p in set(policies["policy"])]
    caption = ("Bars count the papers of each year that study a data policy: replace (each model trains on "
               "the last one's samples only), accumulate, accumulate-subsample, mix and fresh (see the "
               "methodology). Read: how often the literature's experiments assume replacement.")
    return alt.Chart(inline_data(policies)).mark_bar().encode(
        x=alt.X("policy:N", sort=present, title=None, axis=alt.Axis(labels=False, ticks=False)),
        y=alt.Y("count():Q", title="papers"),
        color=alt.Color("policy:N", title="data policy", scale=colour_scale(POLICY_COLOURS, present)),
        column=alt.Column("year:O", title="year", header=alt.Header(labelOrient="bottom", titleOrient="bottom")),
        tooltip=[alt.Tooltip("year:O"), alt.Tooltip("policy:N"), alt.Tooltip("count():Q", title="papers")],
    ).properties(width=max(60, 18 * len(present)), height=220, title=chart_title(title, caption, 80))


def realism_chart(realism: Any) -> Any:
    """Realism: a heatmap of normalised scores (paper x dimension, level as text) beside the
    weight per paper; papers sorted by weight, most realistic first."""
    import altair as alt

    title = "Realism of each paper's setting"
    if len(realism) == 0:
        return empty_chart(title, "No paper has realism scores yet.")
    realism = realism.copy()
    firsts = realism.drop_duplicates("key")
    dup = set(firsts["paper"][firsts["paper"].duplicated()])
    realism["paper"] = [f"{p} [{k}]" if p in dup else p for p, k in zip(realism["paper"], realism["key"])]
    order = (realism.drop_duplicates("key").sort_values(["weight", "order"], ascending=[False, True])["paper"].tolist())
    dims = list(dict.fromkeys(realism["dimension_name"]))
    caption = ("Left: each paper's level on each realism dimension (darker = less realistic; the level is "
               "written in the cell); right: its realism weight, the mean of score / max score over its scored "
               "dimensions (0 least, 1 most realistic). Papers are sorted by weight. Weighted syntheses "
               "count each claim with its paper's weight.")
    heat_base = alt.Chart(inline_data(realism)).encode(
        y=alt.Y("paper:N", sort=order, title=None, axis=alt.Axis(labelLimit=220)),
        x=alt.X("dimension_name:N", sort=dims, title=None, axis=alt.Axis(labelAngle=-30, labelLimit=400)),
        tooltip=[alt.Tooltip("paper:N"), alt.Tooltip("dimension_name:N", title="dimension"),
                 alt.Tooltip("level:N"), alt.Tooltip("score:Q"), alt.Tooltip("max_score:Q", title="max score"),
                 alt.Tooltip("why:N")],
    )
    heat = alt.layer(
        heat_base.mark_rect(stroke="white").encode(
            color=alt.Color("normalised:Q", title="score / max", scale=alt.Scale(scheme="viridis", domain=[0, 1]))),
        heat_base.mark_text(fontSize=9).encode(
            text="level:N",
            color=alt.condition("datum.normalised > 0.6", alt.value("black"), alt.value("white"))),
    ).properties(width=90 * len(dims), height=alt.Step(18))
    weights = realism.drop_duplicates("key")
    bars = alt.Chart(inline_data(weights)).mark_bar(color="#0072B2").encode(
        y=alt.Y("paper:N", sort=order, title=None, axis=None),
        x=alt.X("weight:Q", title="realism weight", scale=alt.Scale(domain=[0, 1])),
        tooltip=[alt.Tooltip("paper:N"), alt.Tooltip("weight:Q", format=".2f"),
                 alt.Tooltip("scored:Q", title="dimensions scored")],
    ).properties(width=160, height=alt.Step(18))
    return alt.hconcat(heat, bars, spacing=4).properties(title=chart_title(title, caption))


def support_chart(synthesis: Any) -> Any:
    """Share of claims reporting collapse per definition, unweighted vs realism-weighted, each
    with its number of claims and 95% Wilson interval."""
    import altair as alt
    import pandas as pd

    title = "How many claims report collapse, per definition (share with 95% Wilson interval)"
    rows = []
    for r in synthesis.to_dict(orient="records"):
        for kind, col, n in (("unweighted", "support", r["claims"]),
                             ("realism-weighted", "weighted_support", r["weighted_n"])):
            v = r[col]
            if v is None or (isinstance(v, float) and math.isnan(v)):
                continue
            rows.append({"definition": r["definition"], "family": r["family"], "kind": kind, "support": v,
                         "low": r[f"{col}_low"], "high": r[f"{col}_high"], "n": n,
                         "label": f"n = {r['claims']}" if kind == "unweighted" else "",
                         "claims": r["claims"], "collapse": r["claims_collapse"],
                         "no_collapse": r["claims_no_collapse"], "mixed": r["claims_mixed"]})
    if not rows:
        return empty_chart(title, "No paper records claims yet.")
    frame = pd.DataFrame(rows)
    caption = ("For each definition, the share of the papers' claims that report collapse (a mixed claim counts "
               "one half), with its 95% Wilson interval and the number of claims n: black circles count every claim "
               "once, orange diamonds weight each claim by its paper's realism (interval over the effective number "
               "of claims). A diamond left of its circle: the claims of collapse come mostly from less realistic "
               "settings. Few claims give wide intervals. Definitions without claims are left out.")
    base = alt.Chart(inline_data(frame)).encode(
        y=alt.Y("definition:N", sort=list(DEFINITIONS), title=None, axis=alt.Axis(labelLimit=200)),
        yOffset=alt.YOffset("kind:N", sort=list(SUPPORT_COLOURS)),
        tooltip=[alt.Tooltip("definition:N"), alt.Tooltip("kind:N", title="count"),
                 alt.Tooltip("support:Q", format=".2f", title="share reporting collapse"),
                 alt.Tooltip("low:Q", format=".2f", title="95% Wilson low"),
                 alt.Tooltip("high:Q", format=".2f", title="95% Wilson high"),
                 alt.Tooltip("n:Q", format=".1f", title="claims (effective, when weighted)"),
                 alt.Tooltip("collapse:Q"), alt.Tooltip("no_collapse:Q", title="no-collapse"),
                 alt.Tooltip("mixed:Q")],
    )
    colour = alt.Color("kind:N", title=None, scale=colour_scale(SUPPORT_COLOURS))
    interval = base.mark_rule(strokeWidth=2).encode(x="low:Q", x2="high:Q", color=colour)
    points = base.mark_point(filled=True, size=90).encode(
        x=alt.X("support:Q", title="share of claims reporting collapse", scale=alt.Scale(domain=[0, 1])),
        color=colour,
        shape=alt.Shape("kind:N", title=None, scale=alt.Scale(domain=list(SUPPORT_COLOURS), range=["circle", "diamond"])),
    )
    counts = base.transform_filter("datum.label != ''").mark_text(align="left", dx=6, fontSize=11).encode(
        x=alt.datum(1.0), text="label:N")
    return alt.layer(interval, points, counts).properties(width=420, height=alt.Step(30),
                                                         title=chart_title(title, caption, 90))


# -- charts of the evidence --------------------------------------------------------------------


# -- the matrix with the evidence overlay ------------------------------------------------------


# -- building every chart, saving --------------------------------------------------------------


def all_charts(papers: Sequence[Any], realism: Any, evidence: Any) -> dict[str, Any]:
    """Every chart of :data:`CHART_NAMES` from validated records, the realism file and an
    :class:`metaanalysis.analysis.frames.Evidence` (which may be empty)."""
    from metaanalysis.analysis.matrix import build_matrix
    from metaanalysis.analysis.pooling import pooled_by
    from metaanalysis.analysis.synthesis import synthesis_table
    from metaanalysis.analysis.weighting import claim_weights, realism_frame

    from .charts_evidence import (
        attach_evidence,
        forest_chart,
        matrix_evidence_chart,
        profiles_chart,
        trajectories_chart,
    )

    usage = usage_frame(papers)
    charts: dict[str, Any] = {}
    matrix = attach_evidence(build_matrix(papers), evidence.verdicts)
    labels = atlas_labels(papers)
    for row in matrix.rows:
        row.label = labels.get(row.key, row.label)
    charts["matrix-evidence"] = matrix_evidence_chart(matrix) if matrix.rows else empty_chart(
        "Definitions of model collapse used per paper", "No papers in the database.")
    charts["definitions-usage"] = definitions_usage_chart(usage)
    charts["definitions-time"] = definitions_time_chart(usage)
    charts["policies-year"] = policies_year_chart(policy_frame(papers))
    charts["realism"] = realism_chart(realism_frame(papers, realism))
    charts["support"] = support_chart(synthesis_table(papers, claim_weights(papers, realism), evidence.verdicts))
    charts["trajectories"] = trajectories_chart(evidence.trajectories)
    charts["profiles"] = profiles_chart(evidence.verdicts)
    charts["forest"] = forest_chart(evidence.effects, pooled_by(evidence.effects))
    return charts


#: spec keys whose numbers are lengths in pixels (scaled by :func:`scale_spec`)
_LENGTH_KEYS = {"width", "height", "fontSize", "labelFontSize", "titleFontSize", "subtitleFontSize", "dx", "dy",
                "xOffset", "yOffset", "strokeWidth", "spacing", "step"}


def scale_spec(spec: Any, factor: float) -> Any:
    """A copy of a Vega-Lite spec drawn ``factor`` times larger: every length in pixels (widths,
    heights, steps, font sizes, offsets, spacing) times ``factor``, point sizes (areas) times
    ``factor`` squared. Used to render the dense matrix chart larger on the index page without
    scaling the SVG by CSS (which would misplace tooltips)."""
    if isinstance(spec, list):
        return [scale_spec(x, factor) for x in spec]
    if not isinstance(spec, dict):
        return spec
    out = {}
    for k, v in spec.items():
        if k in ("data", "datasets", "values", "scale", "sort"):
            out[k] = v  # data and scale domains are not lengths
        elif k in _LENGTH_KEYS and isinstance(v, (int, float)) and not isinstance(v, bool):
            out[k] = v * factor
        elif k == "size" and isinstance(v, (int, float)) and not isinstance(v, bool):
            out[k] = v * factor * factor
        else:
            out[k] = scale_spec(v, factor)
    return out


def atlas_labels(papers: Iterable[Any]) -> dict[str, str]:
    """Paper key -> the label the atlas shows: the record's label, with " a", " b", ... appended
    (in key order) when several papers share it (e.g. two "Dohmatob et al. (2024 Feb)"), so
    matrix columns and lists can be told apart. The YAML labels are not changed."""
    by_label: dict[str, list[str]] = {}
    for p in papers:
        by_label.setdefault(p.label, []).append(p.key)
    out = {}
    for label, keys in by_label.items():
        if len(keys) == 1:
            out[keys[0]] = label
            continue
        for i, key in enumerate(sorted(keys)):
            out[key] = f"{label} {chr(ord('a') + i)}"
    return out


@contextlib.contextmanager
def unvalidated() -> Iterator[None]:
    """Build and serialise charts without altair's JSON-schema validation.

    By default altair validates every chart object when it is created and the whole
    specification again when it is serialised, inline data included: a report built from a full
    store took 43 s with validation and 33 s without, with byte-identical output.
    The atlas and ``mcatlas charts`` build their charts inside this context and serialise with
    :func:`chart_spec` (unvalidated there); the tests (``tests/test_atlas_charts.py``) build
    every kind of chart with validation on, which is where an invalid specification would be
    caught."""
    from altair.utils.schemapi import debug_mode

    with debug_mode(False):
        yield


def chart_spec(chart: Any) -> dict[str, Any]:
    """The Vega-Lite specification (a dict) of a chart, not validated again (see
    :func:`unvalidated`)."""
    return chart.to_dict(validate=False)


def save_chart(chart: Any, out_dir: Path, name: str, formats: Sequence[str] = ("html", "svg", "png")) -> list[Path]:
    """Write ``name.html`` (self-contained: the Vega libraries inlined, works offline),
    ``name.svg`` and ``name.png`` (twice the nominal size) into ``out_dir``."""
    import vl_convert as vlc

    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    spec = chart_spec(chart)
    written = []
    for fmt in formats:
        path = out_dir / f"{name}.{fmt}"
        if fmt == "html":
            path.write_text(vlc.vegalite_to_html(spec, bundle=True), encoding="utf-8")
        elif fmt == "svg":
            path.write_text(vlc.vegalite_to_svg(spec), encoding="utf-8")
        elif fmt == "png":
            path.write_bytes(vlc.vegalite_to_png(spec, scale=2))
        else:
            raise UserError(f"unknown chart format {fmt!r}; use html, svg or png")
        written.append(path)
    return written


__all__ = [
    "CHART_NAMES",
    "all_charts",
    "atlas_labels",
    "attach_evidence",
    "chart_spec",
    "definitions_time_chart",
    "definitions_usage_chart",
    "evidence_marks",
    "forest_chart",
    "forest_frame",
    "matrix_evidence_chart",
    "policies_year_chart",
    "policy_frame",
    "profiles_chart",
    "realism_chart",
    "save_chart",
    "scale_spec",
    "support_chart",
    "trajectories_chart",
    "usage_frame",
]
