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
import textwrap
from pathlib import Path
from typing import Any, Iterable, Iterator, Sequence

from simulators.errors import UserError
from simulators.vocabulary import (
    DEFINITION_FAMILIES,
    DEFINITIONS,
    FAMILIES,
    POLICIES,
    VERDICTS,
)

#: Okabe-Ito colours
OKABE_ITO = {
    "black": "#000000", "orange": "#E69F00", "sky blue": "#56B4E9", "bluish green": "#009E73",
    "yellow": "#F0E442", "blue": "#0072B2", "vermillion": "#D55E00", "reddish purple": "#CC79A7",
}
VERDICT_COLOURS = {"collapse": "#D55E00", "no-collapse": "#009E73", "mixed": "#CC79A7", "inconclusive": "#8C8C8C",
                   "not-measured": "#D9D9D9"}
VERDICT_LETTERS = {"collapse": "C", "no-collapse": "N", "mixed": "M", "not-measured": "-"}
VARIANT_COLOURS = {"published": "#0072B2", "realistic": "#E69F00"}
FAMILY_COLOURS = {"population risk": "#0072B2", "scaling": "#CC79A7", "distribution": "#009E73"}
POLICY_COLOURS = {"replace": "#D55E00", "accumulate": "#009E73", "accumulate-subsample": "#56B4E9",
                  "mix": "#E69F00", "fresh": "#CC79A7"}
OUTCOME_COLOURS = {"collapse": "#D55E00", "no-collapse": "#009E73", "mixed": "#CC79A7"}
SUPPORT_COLOURS = {"unweighted": "#000000", "realism-weighted": "#E69F00"}

#: chart name -> file stem, in the order ``mcatlas charts`` writes them
CHART_NAMES: tuple[str, ...] = (
    "matrix-evidence", "definitions-usage", "definitions-time", "policies-year", "realism", "support",
    "trajectories", "profiles", "forest",
)


def _title(text: str, caption: str, width: int = 100) -> Any:
    import altair as alt

    return alt.TitleParams(text, subtitle=textwrap.wrap(caption, width), anchor="start", subtitleColor="#333333")


def _scale(colours: dict[str, str], domain: Sequence[str] | None = None) -> Any:
    import altair as alt

    keys = list(domain) if domain is not None else list(colours)
    return alt.Scale(domain=keys, range=[colours[k] for k in keys])


def _values(frame: Any) -> Any:
    """Inline data for a chart: records with non-finite floats as None (JSON-safe)."""
    import altair as alt

    rows = []
    for r in frame.to_dict(orient="records"):
        clean = {}
        for k, v in r.items():
            if hasattr(v, "item") and not isinstance(v, (str, bytes)):
                try:
                    v = v.item()
                except (ValueError, AttributeError):
                    pass
            if isinstance(v, float) and not math.isfinite(v):
                v = None
            elif v is not None and not isinstance(v, (str, int, float, bool)):
                v = None if _isna(v) else str(v)
            clean[str(k)] = v
        rows.append(clean)
    return alt.Data(values=rows)


def _isna(v: Any) -> bool:
    try:
        import pandas as pd

        return bool(pd.isna(v))
    except (TypeError, ValueError):
        return False


def _empty(title: str, message: str) -> Any:
    """A chart that says there is nothing to show (instead of failing)."""
    import altair as alt

    return alt.Chart(alt.Data(values=[{"message": message}])).mark_text(fontSize=13, align="left").encode(
        text="message:N").properties(width=420, height=40, title=_title(title, message))


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
        return _empty(title, "No paper uses any definition yet.")
    n = usage["key"].nunique()
    caption = (f"Bars count the {n} papers that use a definition, explicitly (blue) or implicitly (orange); "
               "definitions are grouped by family in the order of the position paper's Figure 1. "
               "Read: which notions of collapse the literature actually works with.")
    return alt.Chart(_values(usage)).mark_bar().encode(
        y=alt.Y("definition:N", sort=list(DEFINITIONS), title=None, axis=alt.Axis(labelLimit=200)),
        x=alt.X("count():Q", title="papers"),
        color=alt.Color("usage:N", title="usage", scale=_scale({"explicit": "#0072B2", "implicit": "#E69F00"})),
        order=alt.Order("usage:O", sort="ascending"),
        row=alt.Row("family:N", sort=list(FAMILIES), title=None,
                    header=alt.Header(labelAngle=0, labelAlign="left", labelFontWeight="bold")),
        tooltip=[alt.Tooltip("definition:N"), alt.Tooltip("family:N"), alt.Tooltip("usage:N"),
                 alt.Tooltip("count():Q", title="papers")],
    ).resolve_scale(y="independent").properties(width=420, title=_title(title, caption))


def definitions_time_chart(usage: Any) -> Any:
    """Definition uses per family by release month (stacked bars, one per month)."""
    import altair as alt

    title = "Definitions used per family, by release month"
    if len(usage) == 0:
        return _empty(title, "No paper uses any definition yet.")
    unknown = int((~usage["month_known"].astype(bool)).sum())
    caption = ("Each bar counts the definitions used by the papers first released in that month, coloured "
               "by family. Read: whether distribution-level notions (variance, tails) or population-risk "
               "notions dominate, and how that changed over time.")
    if unknown:
        caption += f" {unknown} use(s) from papers with no known month are placed in January."
    return alt.Chart(_values(usage)).mark_bar().encode(
        x=alt.X("yearmonth(date):T", title="release month", axis=alt.Axis(format="%b %Y", labelAngle=-45)),
        y=alt.Y("count():Q", title="definition uses"),
        color=alt.Color("family:N", title="family", scale=_scale(FAMILY_COLOURS, FAMILIES)),
        order=alt.Order("family:O"),
        tooltip=[alt.Tooltip("yearmonth(date):T", title="month", format="%b %Y"), alt.Tooltip("family:N"),
                 alt.Tooltip("count():Q", title="definition uses")],
    ).properties(width=560, height=260, title=_title(title, caption))


def policies_year_chart(policies: Any) -> Any:
    """Papers per data policy and year (grouped bars)."""
    import altair as alt

    title = "Data policies studied, by year"
    if len(policies) == 0:
        return _empty(title, "No paper records a data policy yet.")
    present = [p for p in POLICIES if p in set(policies["policy"])]
    caption = ("Bars count the papers of each year that study a data policy: replace (each model trains on "
               "the last one's samples only), accumulate, accumulate-subsample, mix and fresh (see the "
               "methodology). Read: how often the literature's experiments assume replacement.")
    return alt.Chart(_values(policies)).mark_bar().encode(
        x=alt.X("policy:N", sort=present, title=None, axis=alt.Axis(labels=False, ticks=False)),
        y=alt.Y("count():Q", title="papers"),
        color=alt.Color("policy:N", title="data policy", scale=_scale(POLICY_COLOURS, present)),
        column=alt.Column("year:O", title="year", header=alt.Header(labelOrient="bottom", titleOrient="bottom")),
        tooltip=[alt.Tooltip("year:O"), alt.Tooltip("policy:N"), alt.Tooltip("count():Q", title="papers")],
    ).properties(width=max(60, 18 * len(present)), height=220, title=_title(title, caption, 80))


def realism_chart(realism: Any) -> Any:
    """Realism: a heatmap of normalised scores (paper x dimension, level as text) beside the
    weight per paper; papers sorted by weight, most realistic first."""
    import altair as alt

    title = "Realism of each paper's setting"
    if len(realism) == 0:
        return _empty(title, "No paper has realism scores yet.")
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
    heat_base = alt.Chart(_values(realism)).encode(
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
    bars = alt.Chart(_values(weights)).mark_bar(color="#0072B2").encode(
        y=alt.Y("paper:N", sort=order, title=None, axis=None),
        x=alt.X("weight:Q", title="realism weight", scale=alt.Scale(domain=[0, 1])),
        tooltip=[alt.Tooltip("paper:N"), alt.Tooltip("weight:Q", format=".2f"),
                 alt.Tooltip("scored:Q", title="dimensions scored")],
    ).properties(width=160, height=alt.Step(18))
    return alt.hconcat(heat, bars, spacing=4).properties(title=_title(title, caption))


def support_chart(synthesis: Any) -> Any:
    """Share of claims reporting collapse per definition, unweighted vs realism-weighted."""
    import altair as alt
    import pandas as pd

    title = "Support for collapse per definition: unweighted vs realism-weighted"
    rows = []
    for r in synthesis.to_dict(orient="records"):
        for kind, col, n in (("unweighted", "support", r["claims"]), ("realism-weighted", "weighted_support", r["weighted_total"])):
            v = r[col]
            if v is None or (isinstance(v, float) and math.isnan(v)):
                continue
            rows.append({"definition": r["definition"], "family": r["family"], "kind": kind, "support": v,
                         "claims": r["claims"], "weight": n, "collapse": r["claims_collapse"],
                         "no_collapse": r["claims_no_collapse"], "mixed": r["claims_mixed"]})
    if not rows:
        return _empty(title, "No paper records claims yet.")
    frame = pd.DataFrame(rows)
    caption = ("For each definition, the share of the papers' claims that report collapse (a mixed claim counts "
               "one half): black circles count every claim once, orange diamonds weight each claim by its paper's "
               "realism. A diamond left of its circle: the claims of collapse come mostly from less realistic "
               "settings. Definitions without claims are left out.")
    base = alt.Chart(_values(frame)).encode(
        y=alt.Y("definition:N", sort=list(DEFINITIONS), title=None, axis=alt.Axis(labelLimit=200)),
        tooltip=[alt.Tooltip("definition:N"), alt.Tooltip("kind:N", title="count"),
                 alt.Tooltip("support:Q", format=".2f", title="share reporting collapse"),
                 alt.Tooltip("claims:Q", title="claims"), alt.Tooltip("collapse:Q"),
                 alt.Tooltip("no_collapse:Q", title="no-collapse"), alt.Tooltip("mixed:Q"),
                 alt.Tooltip("weight:Q", format=".2f", title="total weight (or claims)")],
    )
    rule = base.mark_rule(color="#999999").encode(x="min(support):Q", x2="max(support):Q")
    points = base.mark_point(filled=True, size=90).encode(
        x=alt.X("support:Q", title="share of claims reporting collapse", scale=alt.Scale(domain=[0, 1])),
        color=alt.Color("kind:N", title=None, scale=_scale(SUPPORT_COLOURS)),
        shape=alt.Shape("kind:N", title=None, scale=alt.Scale(domain=list(SUPPORT_COLOURS), range=["circle", "diamond"])),
    )
    return alt.layer(rule, points).properties(width=420, height=alt.Step(26), title=_title(title, caption, 90))


# -- charts of the evidence --------------------------------------------------------------------


def _setup_label(frame: Any) -> Any:
    return frame["paper"].astype(str) + " / " + frame["setup"].astype(str)


#: nominal width of the plotting area of one trajectory panel, per number of metrics per row,
#: so that a row of panels (with axes and labels) fits a 1400 px window without scrolling
TRAJECTORY_PANEL_WIDTH = {1: 520, 2: 420, 3: 290, 4: 210}


def _cell_note(cell: Any) -> tuple[int, int, str]:
    """(finite points, non-finite points, text for an empty cell) of one (setup, metric) cell."""
    mean = cell["mean"].astype(float)
    finite = int(mean.map(math.isfinite).sum())
    bad = len(cell) - finite
    if len(cell) == 0:
        return 0, 0, "not reported"
    n_inf = pd_numeric_max(cell, "n_inf")
    seeds = pd_numeric_max(cell, "seeds")
    if n_inf:
        text = f"infinite in up to {n_inf}" + (f" of {seeds}" if seeds else "") + " seed(s)"
    else:
        text = "infinite or undefined"
    if finite == 0:
        return 0, bad, f"{text} at every iteration: nothing to draw"
    return finite, bad, f"{bad} point(s) {text}, not drawn"


def pd_numeric_max(frame: Any, column: str) -> int:
    """The largest value of an integer-like column (0 when absent or empty)."""
    if column not in frame.columns or len(frame) == 0:
        return 0
    import pandas as pd

    v = pd.to_numeric(frame[column], errors="coerce").max()
    return 0 if v is None or (isinstance(v, float) and math.isnan(v)) else int(v)


def trajectories_chart(trajectories: Any, metrics: Sequence[str] = ("population_risk",), title: str | None = None) -> Any:
    """Small multiples built as explicit panels: one row per setup (``vconcat``), one panel per
    metric in that row (``hconcat``). Each panel carries its own data (that setup's rows of that
    metric only) and its own title, so a panel can never show another cell's data. (A row x column
    facet cannot guarantee that here: non-finite points are dropped, so a (setup, metric) cell may
    be empty and Vega-Lite then lays the remaining cells out in the wrong places.) A cell without
    finite data is a text panel saying why ("not reported", or "infinite ... at every iteration").
    Line: mean over seeds against the iteration; band: its 95% CI; blue as published, orange
    realistic (dashed)."""
    import altair as alt

    title = title or "Re-executed trajectories per setup: as published vs realistic"
    t = trajectories[trajectories["metric"].isin(list(metrics))].copy() if len(trajectories) else trajectories
    if len(t) == 0:
        return _empty(title, "No re-executed runs are stored yet (mcatlas rerun KEY).")
    t["setup_label"] = _setup_label(t)
    metrics = [m for m in metrics if m in set(t["metric"])] or list(metrics)
    width = TRAJECTORY_PANEL_WIDTH.get(len(metrics), 180)
    setups = sorted(t["setup_label"].unique())
    dropped = 0
    rows = []
    for setup in setups:
        panels = []
        for m in metrics:
            cell = t[(t["setup_label"] == setup) & (t["metric"] == m)]
            finite, bad, note = _cell_note(cell)
            dropped += bad
            panel_title = alt.TitleParams(m, subtitle=[note] if bad and finite else [], fontSize=12,
                                          subtitleFontSize=10, subtitleColor="#B34700", anchor="start")
            if finite == 0:
                panels.append(alt.Chart(alt.Data(values=[{"setup_label": setup, "metric": m, "message": note}]),
                                        width=width, height=130, title=panel_title)
                              .mark_text(fontSize=12, color="#555555", align="center", baseline="middle")
                              .encode(text="message:N"))
                continue
            cell = cell[cell["mean"].astype(float).map(math.isfinite)]
            base = alt.Chart(_values(cell)).encode(
                x=alt.X("iteration:Q", title="iteration"),
                color=alt.Color("variant:N", title="rerun", scale=_scale(VARIANT_COLOURS)),
            )
            band = base.mark_area(opacity=0.25).encode(y=alt.Y("ci_low:Q", title="mean (95% CI)"), y2="ci_high:Q")
            line = base.mark_line(point=alt.OverlayMarkDef(size=12)).encode(
                y=alt.Y("mean:Q", title="mean (95% CI)", scale=alt.Scale(zero=False)),
                strokeDash=alt.StrokeDash("variant:N", title="rerun",
                                          scale=alt.Scale(domain=list(VARIANT_COLOURS), range=[[1, 0], [5, 3]])),
                tooltip=[alt.Tooltip("setup_label:N", title="setup"), alt.Tooltip("variant:N"), alt.Tooltip("policy:N"),
                         alt.Tooltip("metric:N"), alt.Tooltip("iteration:Q"), alt.Tooltip("mean:Q", format=".4g"),
                         alt.Tooltip("ci_low:Q", format=".4g", title="CI low"),
                         alt.Tooltip("ci_high:Q", format=".4g", title="CI high"), alt.Tooltip("seeds:Q")],
            )
            panels.append(alt.layer(band, line, width=width, height=130, title=panel_title))
        rows.append(alt.hconcat(*panels, spacing=12,
                                title=alt.TitleParams(setup, anchor="start", fontSize=13, fontWeight="bold")))
    caption = ("One row per setup, one panel per metric; the line is the mean over seeds of the metric at each "
               "model-fitting iteration, the band its 95% confidence interval across seeds. Blue solid: the setup as "
               "published; orange dashed: under realistic conditions (data accumulate, few iterations). Read: whether "
               "the published trend survives realistic conditions.")
    if dropped:
        caption += (f" {dropped} point(s) with an infinite or undefined mean are not drawn; each panel says how many "
                    "of its own.")
    # settings passed to the constructors rather than by .properties()/.resolve_scale(), each of
    # which copies the chart it is called on (together 8 of 24 s for the atlas's trajectories)
    shared = alt.Resolve(scale=alt.ScaleResolveMap(color="shared", strokeDash="shared"))
    return alt.vconcat(*rows, spacing=18, resolve=shared, title=_title(title, caption, 90))


def profiles_chart(verdicts: Any, title: str | None = None) -> Any:
    """Collapse profiles as small multiples: one panel per variant, setups x definitions,
    cells coloured by verdict and lettered (C, N, -)."""
    import altair as alt

    title = title or "Collapse profiles of the re-executed setups"
    if len(verdicts) == 0:
        return _empty(title, "No re-executed runs are stored yet (mcatlas rerun KEY).")
    v = verdicts.copy()
    v["setup_label"] = _setup_label(v)
    v["letter"] = v["verdict"].map(VERDICT_LETTERS).fillna("?")
    for col in ("statistic", "ci_low", "ci_high"):
        if col not in v.columns:
            v[col] = None
    keep = ["setup_label", "paper", "setup", "variant", "policy", "definition", "verdict", "letter", "statistic",
            "ci_low", "ci_high", "reason"]
    v = v[[c for c in keep if c in v.columns]]
    setups = sorted(v["setup_label"].unique())
    caption = ("One row per re-executed setup, one column per definition; each cell is the verdict of the "
               "definition's rule on that run (C collapse, N no-collapse, - not measured by this simulator). "
               "Left panel: the setup as published; right: under realistic conditions. Read: which "
               "definitions a setup collapses under, and which verdicts flip under realistic conditions.")
    base = alt.Chart().encode(
        x=alt.X("definition:N", sort=list(DEFINITIONS), title=None, axis=alt.Axis(labelAngle=-40, labelLimit=160)),
        y=alt.Y("setup_label:N", sort=setups, title=None, axis=alt.Axis(labelLimit=260)),
        tooltip=[alt.Tooltip("setup_label:N", title="setup"), alt.Tooltip("variant:N"), alt.Tooltip("policy:N"),
                 alt.Tooltip("definition:N"), alt.Tooltip("verdict:N"), alt.Tooltip("statistic:Q", format=".4g"),
                 alt.Tooltip("ci_low:Q", format=".4g", title="CI low"), alt.Tooltip("ci_high:Q", format=".4g", title="CI high"),
                 alt.Tooltip("reason:N")],
    )
    rect = base.mark_rect(stroke="white").encode(
        color=alt.Color("verdict:N", title="verdict", scale=_scale(VERDICT_COLOURS, VERDICTS)))
    text = base.mark_text(fontSize=10, fontWeight="bold").encode(
        text="letter:N", color=alt.condition("datum.verdict == 'not-measured'", alt.value("black"), alt.value("white")))
    return alt.layer(rect, text, data=_values(v)).properties(width=alt.Step(26), height=alt.Step(18)).facet(
        column=alt.Column("variant:N", sort=["published", "realistic"], title=None,
                          header=alt.Header(labelFontWeight="bold")),
    ).properties(title=_title(title, caption, 90))


def _pooled_label(r: dict[str, Any]) -> str:
    """The pooled row's label: the estimate's heterogeneity written out (k, tau^2, I^2, 95% PI)."""
    text = f"pooled {r['policy']}: k = {int(r['k'])}, tau² = {_fmt(r.get('tau2'))}, I² = {_fmt(100 * r['i2'], '.0f')}%"
    lo, hi = r.get("pi_low"), r.get("pi_high")
    if _finite(lo) and _finite(hi):
        text += f", 95% PI [{_fmt(lo)}, {_fmt(hi)}]"
    else:
        text += ", PI needs k ≥ 3"
    return text


def _finite(x: Any) -> bool:
    try:
        return math.isfinite(float(x))
    except (TypeError, ValueError):
        return False


def _fmt(x: Any, spec: str = ".3g") -> str:
    return format(float(x), spec) if _finite(x) else "–"


def forest_frame(effects: Any, pooled: Any) -> Any:
    """The forest plot's rows: one per distinct run (kind ``setup``; a configuration shared by
    several setup links is one row, its label names the first link and how many others share it,
    ``shared_by`` lists them all) and one pooled row per policy (kind ``pooled``, its label
    carrying k, tau^2, I^2 and the 95% prediction interval), ordered by policy, then pooled last,
    runs by effect."""
    import pandas as pd

    from metaanalysis.analysis.frames import unique_runs

    rows = []
    e = unique_runs(effects)
    e = e[pd.to_numeric(e["effect"], errors="coerce").map(lambda x: isinstance(x, float) and math.isfinite(x))]
    for r in e.to_dict(orient="records"):
        label = f"{r['paper']} / {r['setup']} ({r['variant']})"
        if int(r["links"]) > 1:
            label += f" +{int(r['links']) - 1} more"
        rows.append({"kind": "setup", "label": label, "policy": r["policy"], "variant": r["variant"],
                     "effect": float(r["effect"]), "ci_low": r["ci_low"], "ci_high": r["ci_high"],
                     "seeds": r.get("seeds"), "note": r.get("note") or "", "shared_by": r["shared_by"],
                     "k": None, "tau2": None, "i2": None, "pi_low": None, "pi_high": None})
    for r in pooled.to_dict(orient="records"):
        if not (isinstance(r["estimate"], float) and math.isfinite(r["estimate"])):
            continue
        rows.append({"kind": "pooled", "label": _pooled_label(r), "policy": r["policy"],
                     "variant": "pooled", "effect": r["estimate"], "ci_low": r["ci_low"], "ci_high": r["ci_high"],
                     "seeds": None, "note": "DerSimonian-Laird random effects", "shared_by": "", "k": int(r["k"]),
                     "tau2": r["tau2"], "i2": r["i2"], "pi_low": r.get("pi_low"), "pi_high": r.get("pi_high")})
    frame = pd.DataFrame(rows, columns=["kind", "label", "policy", "variant", "effect", "ci_low", "ci_high", "seeds",
                                        "note", "shared_by", "k", "tau2", "i2", "pi_low", "pi_high"])
    porder = {p: i for i, p in enumerate(POLICIES)}
    frame["_p"] = frame["policy"].map(porder).fillna(len(POLICIES))
    frame["_k"] = (frame["kind"] == "pooled").astype(int)
    frame = frame.sort_values(["_p", "_k", "effect"]).drop(columns=["_p", "_k"]).reset_index(drop=True)
    frame["order"] = range(len(frame))
    return frame


def forest_chart(effects: Any, pooled: Any) -> Any:
    """Forest plot: per distinct run the log ratio of population risk at the last vs the first
    iteration with its 95% CI across seeds, one panel per data policy (each with its own x scale,
    so the small effects of accumulation are as readable as the large ones of replacement), and
    a pooled (DerSimonian-Laird) estimate per policy as a diamond with its prediction interval."""
    import altair as alt

    from metaanalysis.analysis.frames import unique_runs

    title = "Change in population risk over a run: per run and pooled per data policy"
    frame = forest_frame(effects, pooled) if len(effects) else None
    if frame is None or len(frame) == 0:
        return _empty(title, "No re-executed runs with a finite risk change are stored yet (mcatlas rerun KEY).")
    runs = unique_runs(effects)
    excluded = len(runs) - int((frame["kind"] == "setup").sum())
    caption = ("Each row is one re-executed run (a configuration shared by several setups is drawn once; the tooltip "
               "lists them): the mean over seeds of log(risk at the last iteration / risk at the first), with its 95% "
               "t-interval across seeds; 0 (grey line) means no change, log 2 = 0.69 a doubling. Diamonds pool the runs "
               "of one data policy with DerSimonian-Laird random effects (thin black line: 95% prediction interval); "
               "the pooled row states k, tau² and I². Each panel has its own x scale. Caution: seed standard errors "
               "shrink with the number of seeds and differ by orders of magnitude between runs, so DL's tau² is "
               "unreliable and a few runs dominate the diamond; read the heterogeneity (I², prediction interval), not "
               "only the diamond. Read: whether risk grows under replacement but not when data accumulate.")
    if excluded:
        caption += (f" {excluded} run(s) without a finite effect (infinite or zero risk at the first or last "
                    "iteration in every seed) are not drawn; each panel says how many of its own.")
    colours = {**VARIANT_COLOURS, "pooled": "#000000"}
    shapes = {"published": "circle", "realistic": "square", "pooled": "diamond"}
    panels = []
    present = [p for p in POLICIES if p in set(frame["policy"]) | set(runs["policy"])]
    for policy in present:
        sub = frame[frame["policy"] == policy]
        n_runs = int((runs["policy"] == policy).sum())
        shown = int((sub["kind"] == "setup").sum())
        head = f"{policy}: {shown} of {n_runs} run(s) drawn"
        if n_runs - shown:
            head += f", {n_runs - shown} excluded (infinite or zero risk)"
        if len(sub) == 0:
            panels.append(alt.Chart(alt.Data(values=[{"message": "no run with a finite effect"}])).mark_text(
                fontSize=12, color="#555555", align="left").encode(text="message:N").properties(
                width=460, height=20, title=alt.TitleParams(head, anchor="start", fontSize=12, fontWeight="bold")))
            continue
        labels = sub["label"].tolist()
        base = alt.Chart().encode(
            y=alt.Y("label:N", sort=labels, title=None, axis=alt.Axis(labelLimit=460)),
            tooltip=[alt.Tooltip("label:N", title="run"), alt.Tooltip("policy:N"),
                     alt.Tooltip("effect:Q", format=".3f", title="log risk ratio"),
                     alt.Tooltip("ci_low:Q", format=".3f", title="CI low"),
                     alt.Tooltip("ci_high:Q", format=".3f", title="CI high"), alt.Tooltip("seeds:Q"),
                     alt.Tooltip("shared_by:N", title="setups sharing this run"),
                     alt.Tooltip("tau2:Q", format=".3g", title="tau^2"), alt.Tooltip("i2:Q", format=".2f", title="I^2"),
                     alt.Tooltip("pi_low:Q", format=".3f", title="PI low"),
                     alt.Tooltip("pi_high:Q", format=".3f", title="PI high"), alt.Tooltip("note:N")],
        )
        zero = alt.Chart().mark_rule(color="#999999", strokeDash=[3, 3]).encode(x=alt.datum(0))
        pi = base.transform_filter("datum.kind == 'pooled' && isValid(datum.pi_low)").mark_rule(
            color="#000000", strokeWidth=1).encode(x="pi_low:Q", x2="pi_high:Q")
        ci = base.mark_rule(strokeWidth=2.5).encode(
            x=alt.X("ci_low:Q", title="log(risk at last iteration / risk at first iteration)",
                    scale=alt.Scale(zero=True, nice=True)),
            x2="ci_high:Q",
            color=alt.Color("variant:N", title="run", scale=_scale(colours)))
        points = base.mark_point(filled=True, size=80, opacity=1).encode(
            x="effect:Q",
            color=alt.Color("variant:N", title="run", scale=_scale(colours)),
            shape=alt.Shape("variant:N", title="run", scale=_scale(shapes)),
        )
        panels.append(alt.layer(zero, pi, ci, points, data=_values(sub)).properties(
            width=460, height=alt.Step(16),
            title=alt.TitleParams(head, anchor="start", fontSize=12, fontWeight="bold")))
    return alt.vconcat(*panels, spacing=20).resolve_scale(color="shared", shape="shared").properties(
        title=_title(title, caption, 100))


# -- the matrix with the evidence overlay ------------------------------------------------------


def attach_evidence(matrix: Any, verdicts: Any) -> Any:
    """The matrix with the ``D:published`` / ``D:realistic`` evidence columns filled from a
    verdicts frame (paper, setup, variant, definition, verdict): per paper, definition and
    variant the verdicts of its setups combined by
    :func:`metaanalysis.evidence.combine_verdicts` (agreeing -> that verdict, disagreeing ->
    ``mixed``, none measured -> ``not-measured``); empty when the paper has no run of that
    variant. Returns the same matrix object."""
    from metaanalysis.analysis.matrix import evidence_columns

    try:
        from metaanalysis.analysis.matrix import combine_verdicts
    except ImportError:  # pragma: no cover - the evidence module is part of the package
        def combine_verdicts(values: Iterable[str]) -> str:
            measured = {v for v in values if v in ("collapse", "no-collapse")}
            return "not-measured" if not measured else (measured.pop() if len(measured) == 1 else "mixed")

    matrix.extra_columns = evidence_columns()
    cells: dict[tuple[str, str, str], str] = {}
    if verdicts is not None and len(verdicts):
        for (paper, definition, variant), g in verdicts.groupby(["paper", "definition", "variant"]):
            cells[(paper, definition, variant)] = combine_verdicts(g["verdict"])
    for row in matrix.rows:
        for d in DEFINITIONS:
            for variant in ("published", "realistic"):
                row.extra[f"{d}:{variant}"] = cells.get((row.key, d, variant), "")
    return matrix


def evidence_marks(matrix: Any) -> list[dict[str, Any]]:
    """One record per (paper, definition, variant) with a verdict: where the overlay draws."""
    from .charts_matrix import cell_records

    out = []
    for c in cell_records(matrix):
        for variant in ("published", "realistic"):
            v = c.get(variant)
            if v and v != "not-measured":  # no mark: not measured, or no setup
                out.append({**{k: c[k] for k in ("order", "paper", "key", "column", "definition", "family", "usage")},
                            "variant": variant, "verdict": v})
    return out


def matrix_evidence_chart(matrix: Any) -> Any:
    """The matrix chart of :func:`metaanalysis.charts_matrix.matrix_chart` with the evidence
    overlay: in each cell with re-executed evidence, a small circle (as published, left) and a
    triangle (realistic, right), coloured by verdict. Built by adding a layer to each family block
    of the matrix chart (its public function), so the matrix keeps its own look."""
    import altair as alt

    from .charts_matrix import _column_id, matrix_chart

    chart = matrix_chart(matrix)
    marks = evidence_marks(matrix)
    n_marks = len(marks)
    caption = ("Each column is a paper, each row a definition (E explicit, I implicit use). Coloured marks beside "
               "the letter are the re-executed verdicts of the paper's setups: circle (left) = as published, triangle "
               "(right) = under realistic conditions; vermillion collapse, green no-collapse, purple mixed (setups "
               "disagree); no mark: no setup or not measured. The code under the letter repeats them in text "
               "(published > realistic: C collapse, N no collapse, M mixed, ? not measured, - no run). "
               "Read: where a paper's notion of collapse is reproduced, and whether it survives realistic conditions.")
    if not n_marks:
        caption += " No re-executed evidence is stored yet (mcatlas rerun KEY): only the annotations are shown."
    columns = [_column_id(i, r.label) for i, r in enumerate(matrix.rows)]
    blocks = list(chart.vconcat)
    families = matrix.families()
    new_blocks = [blocks[0]]
    for n, ((family, defs), block) in enumerate(zip(families, blocks[1:])):
        data = [m for m in marks if m["family"] == family]
        if not data:
            new_blocks.append(block)
            continue
        last = n == len(families) - 1
        # the block's own x encoding (labelled axis on the last block), so the axis stays as it is
        x_enc = block.layer[0].encoding.x if getattr(block, "layer", None) else alt.X("column:N", sort=columns, axis=None)
        overlay_layers = []
        for variant, offset in (("published", -8), ("realistic", 8)):
            sub = [m for m in data if m["variant"] == variant]
            if not sub:
                continue
            legend = alt.Legend(orient="bottom", direction="horizontal") if last and not overlay_layers else None
            overlay_layers.append(alt.Chart(alt.Data(values=sub)).mark_point(
                filled=True, size=24, xOffset=offset, yOffset=-5, stroke="white", strokeWidth=0.5, opacity=1,
            ).encode(
                x=x_enc,
                y=alt.Y("definition:N", sort=defs, title=family),
                color=alt.Color("verdict:N", title="re-executed verdict",
                                scale=_scale(VERDICT_COLOURS, ("collapse", "no-collapse", "mixed")), legend=legend),
                shape=alt.Shape("variant:N", title="rerun",
                                scale=alt.Scale(domain=["published", "realistic"], range=["circle", "triangle-up"]),
                                legend=legend),
                tooltip=[alt.Tooltip("paper:N"), alt.Tooltip("definition:N"), alt.Tooltip("variant:N", title="rerun"),
                         alt.Tooltip("verdict:N")],
            ))
        new_blocks.append(alt.layer(block, *overlay_layers).resolve_scale(color="independent"))
    chart.vconcat = new_blocks
    chart.title = _title(f"Definitions of model collapse used by {len(matrix.rows)} papers, with re-executed evidence",
                         caption, 110)
    return chart


# -- building every chart, saving --------------------------------------------------------------


def all_charts(papers: Sequence[Any], realism: Any, evidence: Any) -> dict[str, Any]:
    """Every chart of :data:`CHART_NAMES` from validated records, the realism file and an
    :class:`metaanalysis.synthesis.Evidence` (which may be empty)."""
    from metaanalysis.analysis.matrix import build_matrix
    from metaanalysis.analysis.pooling import pooled_by_policy
    from metaanalysis.analysis.synthesis import synthesis_table
    from metaanalysis.analysis.weighting import claim_weights, realism_frame

    usage = usage_frame(papers)
    charts: dict[str, Any] = {}
    matrix = attach_evidence(build_matrix(papers), evidence.verdicts)
    labels = atlas_labels(papers)
    for row in matrix.rows:
        row.label = labels.get(row.key, row.label)
    charts["matrix-evidence"] = matrix_evidence_chart(matrix) if matrix.rows else _empty(
        "Definitions of model collapse used per paper", "No papers in the database.")
    charts["definitions-usage"] = definitions_usage_chart(usage)
    charts["definitions-time"] = definitions_time_chart(usage)
    charts["policies-year"] = policies_year_chart(policy_frame(papers))
    charts["realism"] = realism_chart(realism_frame(papers, realism))
    charts["support"] = support_chart(synthesis_table(papers, claim_weights(papers, realism), evidence.verdicts))
    charts["trajectories"] = trajectories_chart(evidence.trajectories)
    charts["profiles"] = profiles_chart(evidence.verdicts)
    charts["forest"] = forest_chart(evidence.effects, pooled_by_policy(evidence.effects))
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
