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
``forest``                forest plot of the per-run log risk ratio at a common horizon with a
                          REML/HKSJ pooled estimate per data policy and model family
========================  ===================================================================

Legibility rules: definitions in vocabulary order (grouped by family), papers in matrix order,
setups sorted, labels written out, tooltips on every mark, every text at least 11 px
(:data:`metaanalysis.present.style.CHART_CONFIG`, added to every spec by :func:`chart_spec`).
Titles say what a chart shows, as a finding computed from the data where one sentence can carry
it (the support, forest and profile charts, the usage chart). One palette
(:mod:`metaanalysis.present.style`): the verdict colours mean verdicts only; other categories
are blue, black or ochre, or are spelled on an axis instead of coloured. Non-finite values (an
infinite risk after collapse) cannot be drawn; they are left out and the caption says how many.

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
    BLUE,
    CHART_CONFIG,
    SEQUENTIAL_SCHEME,
    SUPPORT_COLOURS,
    USAGE_BAR_COLOURS,
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
    """Papers per definition (bars stacked by explicit / implicit), grouped by family; the
    title names the most used definition."""
    import altair as alt

    title = "How many papers use each definition of model collapse"
    if len(usage) == 0:
        return empty_chart(title, "No paper uses any definition yet.")
    n = usage["key"].nunique()
    counts = usage.groupby("definition")["key"].nunique()
    top = str(counts.idxmax())
    title = (f"The most used definition of model collapse is {top}: {int(counts.max())} of {n} papers "
             "that use any")
    caption = (f"Bars count the {n} papers that use a definition, explicitly (dark blue) or implicitly (blue); "
               "definitions are grouped by family in the order of the position paper's Figure 1. "
               "Read: which notions of collapse the literature actually works with.")
    return alt.Chart(inline_data(usage)).mark_bar(stroke="#FFFFFF", strokeWidth=1).encode(
        y=alt.Y("definition:N", sort=list(DEFINITIONS), title=None, axis=alt.Axis(labelLimit=200)),
        x=alt.X("count():Q", title="papers", axis=alt.Axis(tickMinStep=1, format="d")),
        color=alt.Color("usage:N", title="usage", scale=colour_scale(USAGE_BAR_COLOURS)),
        order=alt.Order("usage:O", sort="ascending"),
        row=alt.Row("family:N", sort=list(FAMILIES), title=None,
                    header=alt.Header(labelAngle=0, labelAlign="left", labelFontWeight="bold")),
        tooltip=[alt.Tooltip("definition:N"), alt.Tooltip("family:N"), alt.Tooltip("usage:N"),
                 alt.Tooltip("count():Q", title="papers")],
    ).resolve_scale(y="independent").properties(width=420, title=chart_title(title, caption))


def definitions_time_chart(usage: Any) -> Any:
    """Definition uses per family by release month: one row of bars per family (the family is
    written, not coloured)."""
    import altair as alt

    title = "Definitions used per family, by release month"
    if len(usage) == 0:
        return empty_chart(title, "No paper uses any definition yet.")
    unknown = int((~usage["month_known"].astype(bool)).sum())
    caption = ("Each bar counts the definitions used by the papers first released in that month, one row per "
               "family of definitions. Read: whether distribution-level notions (variance, tails) or "
               "population-risk notions dominate, and how that changed over time.")
    if unknown:
        caption += f" {unknown} use(s) from papers with no known month are placed in January."
    return alt.Chart(inline_data(usage)).mark_bar(color=BLUE).encode(
        x=alt.X("yearmonth(date):T", title="release month", axis=alt.Axis(format="%b %Y", labelAngle=-45)),
        y=alt.Y("count():Q", title="uses", axis=alt.Axis(tickMinStep=1, format="d")),
        row=alt.Row("family:N", sort=list(FAMILIES), title=None,
                    header=alt.Header(labelAngle=0, labelAlign="left", labelFontWeight="bold")),
        tooltip=[alt.Tooltip("yearmonth(date):T", title="month", format="%b %Y"), alt.Tooltip("family:N"),
                 alt.Tooltip("count():Q", title="definition uses")],
    ).properties(width=560, height=70, title=chart_title(title, caption))


def policies_year_chart(policies: Any) -> Any:
    """Papers per data policy and year: one row of bars per policy (the policy is written, not
    coloured); the title says how many papers study replacement."""
    import altair as alt

    title = "Data policies studied, by year"
    if len(policies) == 0:
        return empty_chart(title, "No paper records a data policy yet.")
    present = [p for p in POLICIES if p in set(policies["policy"])]
    n = policies["key"].nunique()
    replace = policies[policies["policy"] == "replace"]["key"].nunique()
    title = f"{replace} of {n} papers study replacement, where each model trains on the last one's samples only"
    caption = ("Bars count the papers of each year that study a data policy: replace (each model trains on "
               "the last one's samples only), accumulate, accumulate-subsample, mix and fresh (see the "
               "methodology). A paper may study several. Read: how often the literature's experiments assume "
               "replacement.")
    return alt.Chart(inline_data(policies)).mark_bar(color=BLUE).encode(
        x=alt.X("year:O", title="year", axis=alt.Axis(labelAngle=0)),
        y=alt.Y("count():Q", title="papers", axis=alt.Axis(tickMinStep=1, format="d")),
        row=alt.Row("policy:N", sort=present, title=None,
                    header=alt.Header(labelAngle=0, labelAlign="left", labelFontWeight="bold")),
        tooltip=[alt.Tooltip("year:O"), alt.Tooltip("policy:N"), alt.Tooltip("count():Q", title="papers")],
    ).properties(width=320, height=60, title=chart_title(title, caption, 80))


def realism_chart(realism: Any) -> Any:
    """Realism: a heatmap of normalised scores (paper x dimension, level as text) beside the
    weight per paper; papers sorted by weight, most realistic first. Papers are named by the
    frame's ``paper`` column (the atlas passes its labels, :func:`atlas_labels`)."""
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
    weights = realism.drop_duplicates("key")
    low = int((weights["weight"].astype(float) < 0.5).sum())
    title = f"{low} of {len(weights)} scored papers have a realism weight below one half"
    caption = ("Left: each paper's level on each realism dimension (darker = more realistic; the level is "
               "written in the cell); right: its realism weight, the mean of score / max score over its scored "
               "dimensions (0 least, 1 most realistic). Papers are sorted by weight. Weighted syntheses "
               "count each claim with its paper's weight.")
    heat_base = alt.Chart(inline_data(realism)).encode(
        y=alt.Y("paper:N", sort=order, title=None, axis=alt.Axis(labelLimit=240)),
        x=alt.X("dimension_name:N", sort=dims, title=None, axis=alt.Axis(labelAngle=-30, labelLimit=400)),
        tooltip=[alt.Tooltip("paper:N"), alt.Tooltip("dimension_name:N", title="dimension"),
                 alt.Tooltip("level:N"), alt.Tooltip("score:Q"), alt.Tooltip("max_score:Q", title="max score"),
                 alt.Tooltip("why:N")],
    )
    heat = alt.layer(
        heat_base.mark_rect(stroke="white").encode(
            color=alt.Color("normalised:Q", title="score / max",
                            scale=alt.Scale(scheme=SEQUENTIAL_SCHEME, domain=[0, 1]))),
        heat_base.mark_text(fontSize=11).encode(
            text="level:N",
            color=alt.condition("datum.normalised > 0.55", alt.value("white"), alt.value("black"))),
    ).properties(width=100 * len(dims), height=alt.Step(20))
    bars = alt.Chart(inline_data(weights)).mark_bar(color=BLUE).encode(
        y=alt.Y("paper:N", sort=order, title=None, axis=None),
        x=alt.X("weight:Q", title="realism weight", scale=alt.Scale(domain=[0, 1])),
        tooltip=[alt.Tooltip("paper:N"), alt.Tooltip("weight:Q", format=".2f"),
                 alt.Tooltip("scored:Q", title="dimensions scored")],
    ).properties(width=160, height=alt.Step(20))
    return alt.hconcat(heat, bars, spacing=4).properties(title=chart_title(title, caption))


def support_title(frame: Any) -> str:
    """The support chart's title, a finding: for how many definitions most claims report
    collapse, counted once and weighted by realism."""
    unweighted = frame[frame["kind"] == "unweighted"]
    weighted = frame[frame["kind"] == "realism-weighted"]
    most = int((unweighted["support"] > 0.5).sum())
    most_w = int((weighted["support"] > 0.5).sum())
    return (f"Most claims report collapse for {most} of {len(unweighted)} definitions with claims; "
            f"weighted by realism, for {most_w} of {len(weighted)}")


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
    title = support_title(frame)
    caption = ("For each definition, the share of the papers' claims that report collapse (a mixed claim counts "
               "one half), with its 95% Wilson interval and the number of claims n: black circles count every claim "
               "once, blue diamonds weight each claim by its paper's realism (interval over the effective number "
               "of claims). A diamond left of its circle: the claims of collapse come mostly from less realistic "
               "settings. Few claims give wide intervals. Definitions without claims are left out, and so is a "
               "weighted share whose claims all have realism weight 0 or come from unscored papers (undefined).")
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
    colour = alt.Color("kind:N", title=None, scale=colour_scale(SUPPORT_COLOURS),
                       legend=alt.Legend(orient="top", direction="horizontal"))
    interval = base.mark_rule(strokeWidth=2).encode(x="low:Q", x2="high:Q", color=colour)
    points = base.mark_point(filled=True, size=90, opacity=1).encode(
        x=alt.X("support:Q", title="share of claims reporting collapse", scale=alt.Scale(domain=[0, 1])),
        color=colour,
        shape=alt.Shape("kind:N", title=None, scale=alt.Scale(domain=list(SUPPORT_COLOURS), range=["circle", "diamond"]),
                        legend=alt.Legend(orient="top", direction="horizontal")),
    )
    counts = base.transform_filter("datum.label != ''").mark_text(align="left", dx=6, fontSize=11).encode(
        x=alt.datum(1.0), text="label:N")
    return alt.layer(interval, points, counts).properties(width=420, height=alt.Step(30),
                                                         title=chart_title(title, caption, 90))


# -- charts of the evidence --------------------------------------------------------------------


# -- the matrix with the evidence overlay ------------------------------------------------------


# -- building every chart, saving --------------------------------------------------------------


def all_charts(papers: Sequence[Any], realism: Any, evidence: Any, synthesis: Any = None,
               href_root: str | None = None, names: Sequence[str] = CHART_NAMES) -> dict[str, Any]:
    """Every chart of :data:`CHART_NAMES` from validated records, the realism file and an
    :class:`metaanalysis.analysis.frames.Evidence` (which may be empty). ``synthesis``: the
    synthesis table when the caller has it (else computed from the evidence); ``href_root``:
    where the matrix's columns link to (``papers/`` on the atlas's index; none by default);
    ``names``: the charts to build. Papers are named by :func:`atlas_labels` everywhere."""
    from metaanalysis.analysis.matrix import build_matrix
    from metaanalysis.analysis.pooling import pooled_by
    from metaanalysis.analysis.synthesis import synthesis_table
    from metaanalysis.analysis.weighting import claim_weights, realism_frame

    from .charts_evidence import (
        attach_evidence,
        matrix_evidence_chart,
        profiles_chart,
        trajectories_chart,
    )
    from .charts_forest import forest_chart

    usage = usage_frame(papers)
    labels = atlas_labels(papers)
    usage["paper"] = usage["key"].map(labels)

    def matrix_evidence() -> Any:
        matrix = attach_evidence(build_matrix(papers), evidence.verdicts)
        for row in matrix.rows:
            row.label = labels.get(row.key, row.label)
        return matrix_evidence_chart(matrix, href_root) if matrix.rows else empty_chart(
            "Definitions of model collapse used per paper", "No papers in the database.")

    def realism_of_papers() -> Any:
        frame = realism_frame(papers, realism)
        if len(frame):
            frame["paper"] = frame["key"].map(labels)
        return realism_chart(frame)

    def support() -> Any:
        table = synthesis if synthesis is not None else synthesis_table(
            papers, claim_weights(papers, realism), evidence.verdicts)
        return support_chart(table)

    builders = {
        "matrix-evidence": matrix_evidence,
        "definitions-usage": lambda: definitions_usage_chart(usage),
        "definitions-time": lambda: definitions_time_chart(usage),
        "policies-year": lambda: policies_year_chart(policy_frame(papers)),
        "realism": realism_of_papers,
        "support": support,
        "trajectories": lambda: trajectories_chart(evidence.trajectories),
        "profiles": lambda: profiles_chart(evidence.verdicts),
        "forest": lambda: forest_chart(evidence.effects, pooled_by(evidence.effects)),
    }
    charts = {name: builders[name]() for name in names}
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


def display_label(label: str) -> str:
    """A record's label as the atlas shows it: a year repeated before the parenthesised date
    is dropped (the position paper's figure writes "Chen et al. 2024 (2024 Apr)" to tell two
    Chens apart; their months already do). The record keeps the figure's wording, which the
    paper pages show."""
    import re

    m = re.fullmatch(r"(.+?) (\d{4}) \((\2 [A-Z][a-z]{2})\)", label)
    return f"{m.group(1)} ({m.group(3)})" if m else label


def atlas_labels(papers: Iterable[Any]) -> dict[str, str]:
    """Paper key -> the label the atlas shows: :func:`display_label` of the record's label, with
    " a", " b", ... appended in matrix order (so they read a, b from left to right) when several
    papers share it (e.g. two "Dohmatob et al. (2024 Feb)"), so matrix columns and lists can be
    told apart. The YAML labels are not changed."""
    from metaanalysis.annotations.order import matrix_order

    by_label: dict[str, list[str]] = {}
    for p in sorted(papers, key=matrix_order):
        by_label.setdefault(display_label(p.label), []).append(p.key)
    out = {}
    for label, keys in by_label.items():
        if len(keys) == 1:
            out[keys[0]] = label
            continue
        for i, key in enumerate(keys):
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
    :func:`unvalidated`), with :data:`metaanalysis.present.style.CHART_CONFIG` under its own
    configuration (fonts of at least 11 px)."""
    spec = chart.to_dict(validate=False)
    config = spec.setdefault("config", {})
    for key, value in CHART_CONFIG.items():
        if isinstance(value, dict):
            config[key] = {**value, **config.get(key, {})}
        else:
            config.setdefault(key, value)
    return spec


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
    "chart_spec",
    "definitions_time_chart",
    "definitions_usage_chart",
    "display_label",
    "policies_year_chart",
    "policy_frame",
    "realism_chart",
    "save_chart",
    "scale_spec",
    "support_chart",
    "support_title",
    "usage_frame",
]
