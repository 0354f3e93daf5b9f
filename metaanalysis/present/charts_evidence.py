"""Charts of the re-executed evidence: trajectories, collapse profiles, and the matrix with the
evidence in its cells (the forest plot of effects is :mod:`.charts_forest`). altair is imported
inside the functions.

Trajectories are drawn for readers, not for the store:
    * metric names in words with their units (:data:`METRIC_WORDS`, :func:`metric_title`);
    * population risk and KL divergence on a log scale when a panel's means are all positive
      (a change by a factor reads the same at every height); a quantity that cannot be negative
      (:data:`NON_NEGATIVE`) never has its band drawn below zero (nor, on a log scale, below the
      panel's floor: the caption says so);
    * integer iteration ticks;
    * no placeholder panels: a (setup, metric) with nothing finite to draw is left out and the
      caption says which and why;
    * the three reruns (published, realistic, control) differ in colour, dash and point shape.
"""

from __future__ import annotations

import math
from typing import Any, Mapping, Sequence

from simulators.vocabulary import DEFINITIONS, VARIANTS

from .style import (
    VARIANT_COLOURS,
    VARIANT_DASHES,
    VARIANT_SHAPES,
    VERDICT_COLOURS,
    VERDICT_LETTERS,
    VERDICT_NAMES,
    SpecChart,
    chart_title,
    clean_records,
    colour_scale,
    empty_chart,
    inline_data,
    text_colour_on,
)

#: metric id -> (name in words, unit); the unit of population risk depends on the model family
METRIC_WORDS: dict[str, tuple[str, str]] = {
    "population_risk": ("population risk", "cross-entropy, nats"),
    "kl_to_truth": ("KL divergence to the real distribution", "nats"),
    "variance_ratio": ("variance ratio", "fitted / real"),
    "entropy": ("entropy", "nats"),
    "support_size": ("support size", "outcomes"),
    "tail_mass_ratio": ("tail mass ratio", "fitted / real"),
    "hallucinated_mass": ("hallucinated mass", "probability"),
    "mode_overlap": ("mode overlap", "share"),
    "mean_sq_error": ("squared error of the fit", "squared units"),
}
#: the unit of population risk per simulator where it is not a cross-entropy in nats
RISK_UNITS: dict[str, str] = {"linear-regression": "excess squared error"}
#: quantities that cannot be negative (their interval is cut at zero)
NON_NEGATIVE: frozenset[str] = frozenset({"kl_to_truth", "variance_ratio", "support_size", "tail_mass_ratio",
                                          "hallucinated_mass", "mode_overlap", "mean_sq_error"})
#: quantities drawn on a log scale when every mean of the panel is positive
LOG_METRICS: frozenset[str] = frozenset({"population_risk", "kl_to_truth"})

#: a trajectory with more iterations than this is drawn without a point per iteration
MAX_POINTS = 40

#: nominal width of the plotting area of one trajectory panel, per number of metrics per row,
#: so that a row of panels (with axes and labels) fits a 1400 px window without scrolling
TRAJECTORY_PANEL_WIDTH = {1: 520, 2: 400, 3: 270, 4: 200}


def _setup_label(frame: Any) -> Any:
    return frame["paper"].astype(str) + " / " + frame["setup"].astype(str)


def metric_title(metric: str, simulator: str | None = None) -> str:
    """``population risk (cross-entropy, nats)``: the metric in words with its unit."""
    name, unit = METRIC_WORDS.get(metric, (metric.replace("_", " "), ""))
    if metric == "population_risk" and simulator in RISK_UNITS:
        unit = RISK_UNITS[simulator]
    return f"{name} ({unit})" if unit else name


def _cell_note(cell: Any) -> tuple[int, int, str]:
    """(finite points, non-finite points, why the non-finite ones are not drawn) of one
    (setup, metric) cell."""
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
        return 0, bad, f"{text} at every iteration"
    return finite, bad, f"{bad} point(s) {text}, not drawn"


def pd_numeric_max(frame: Any, column: str) -> int:
    """The largest value of an integer-like column (0 when absent or empty)."""
    if column not in frame.columns or len(frame) == 0:
        return 0
    import pandas as pd

    v = pd.to_numeric(frame[column], errors="coerce").max()
    return 0 if v is None or (isinstance(v, float) and math.isnan(v)) else int(v)


def _panel_frame(cell: Any, metric: str) -> tuple[Any, bool]:
    """The drawn rows of one panel (finite means; band ends cut at zero, or at the log floor),
    and whether the panel is on a log scale."""
    cell = cell[cell["mean"].astype(float).map(math.isfinite)].copy()
    mean = cell["mean"].astype(float)
    log = metric in LOG_METRICS and bool((mean > 0).all())
    low = cell["ci_low"].astype(float)
    high = cell["ci_high"].astype(float)
    if metric in NON_NEGATIVE:
        low = low.clip(lower=0.0)
    if log:
        floor = float(min(mean.min(), low[low > 0].min() if (low > 0).any() else mean.min())) / 1.2
        low = low.where(low > floor, floor)
        high = high.where(high > floor, floor)
    cell["band_low"], cell["band_high"] = low, high
    return cell, log


def iteration_ticks(iterations: Any, most: int = 10) -> list[int]:
    """Integer ticks for an iteration axis: every iteration when there are at most ``most``,
    else a round step (1, 2 or 5 times a power of ten) that gives at most ``most`` ticks."""
    values = sorted({int(i) for i in iterations})
    if len(values) <= most:
        return values
    low, high = values[0], values[-1]
    step = 1
    while len(range(-(-low // step) * step, high + 1, step)) > most:
        step = _next_round(step)
    return list(range(-(-low // step) * step, high + 1, step))


def _next_round(step: int) -> int:
    """The next round step after ``step``: 1, 2, 5, 10, 20, 50, ..."""
    digits = str(step)
    if digits[0] == "1":
        return step * 2
    if digits[0] == "2":
        return step * 5 // 2
    return step * 2


def _panel_template(variants: Sequence[str]) -> dict[str, Any]:
    """The Vega-Lite spec of one trajectory panel (band and line of every rerun), reading the
    named dataset ``panel``: built once with altair, then copied per panel as a dict."""
    import altair as alt

    colour = alt.Color("variant:N", title="rerun", scale=colour_scale(VARIANT_COLOURS, variants))
    dash = alt.StrokeDash("variant:N", title="rerun",
                          scale=alt.Scale(domain=list(variants), range=[VARIANT_DASHES[v] for v in variants]))
    shape = alt.Shape("variant:N", title="rerun",
                      scale=alt.Scale(domain=list(variants), range=[VARIANT_SHAPES[v] for v in variants]))
    base = alt.Chart(alt.Data(name="panel")).encode(
        x=alt.X("iteration:Q", title="iteration", axis=alt.Axis(format="d", tickMinStep=1, labelFontSize=11)),
        color=colour,
    )
    band = base.mark_area(opacity=0.2).encode(y=alt.Y("band_low:Q", title=None), y2="band_high:Q",
                                              color=colour.legend(None))  # the legend shows the lines
    line = base.mark_line(point=alt.OverlayMarkDef(size=30, filled=True)).encode(
        y=alt.Y("mean:Q", title=None), strokeDash=dash, shape=shape,
        tooltip=[alt.Tooltip("setup_label:N", title="setup"), alt.Tooltip("variant:N", title="rerun"),
                 alt.Tooltip("policy:N"), alt.Tooltip("metric:N"), alt.Tooltip("iteration:Q"),
                 alt.Tooltip("mean:Q", format=".4g"), alt.Tooltip("ci_low:Q", format=".4g", title="CI low"),
                 alt.Tooltip("ci_high:Q", format=".4g", title="CI high"), alt.Tooltip("seeds:Q")],
    )
    spec = alt.layer(band, line).to_dict(validate=False)
    for key in ("$schema", "config", "datasets"):
        spec.pop(key, None)
    return spec


def trajectories_chart(trajectories: Any, metrics: Sequence[str] = ("population_risk",), title: str | None = None,
                       simulators: Mapping[tuple[str, str], str] | None = None) -> Any:
    """Small multiples built as explicit panels: one row per setup (``vconcat``), one panel per
    metric the setup has finite values of (``hconcat``). Each panel carries its own data (that
    setup's rows of that metric only) and its own title (the metric in words with its unit;
    ``simulators``, ``{(paper, setup): simulator}``, gives the unit of population risk), so a
    panel can never show another cell's data. Line: mean over seeds against the iteration;
    band: its 95% CI; published, realistic and control differ in colour, dash and point shape.

    The panels are copies of one panel's specification (:func:`_panel_template`) and the result
    a :class:`metaanalysis.present.style.SpecChart`: combining a hundred altair panels copied
    each of them at every step (about 40 s for the atlas's paper pages)."""
    import copy

    import altair as alt

    title = title or "Re-executed trajectories per setup: as published, realistic and control"
    t = trajectories[trajectories["metric"].isin(list(metrics))].copy() if len(trajectories) else trajectories
    if len(t) == 0:
        return empty_chart(title, "No re-executed runs are stored yet (mcatlas rerun KEY).")
    t["setup_label"] = _setup_label(t)
    metrics = [m for m in metrics if m in set(t["metric"])] or list(metrics)
    width = TRAJECTORY_PANEL_WIDTH.get(len(metrics), 180)
    setups = sorted(t["setup_label"].unique())
    variants = [v for v in VARIANTS if v in set(t["variant"])]
    simulators = simulators or {}
    template = _panel_template(variants)
    datasets: dict[str, list[dict[str, Any]]] = {}
    dropped, left_out, logs = 0, [], 0
    rows = []
    for setup in setups:
        panels = []
        for m in metrics:
            cell = t[(t["setup_label"] == setup) & (t["metric"] == m)]
            finite, bad, note = _cell_note(cell)
            dropped += bad
            if finite == 0:
                if len(cell):
                    left_out.append(f"{setup}, {METRIC_WORDS.get(m, (m,))[0]}: {note}")
                continue
            first = cell.iloc[0]
            name = metric_title(m, simulators.get((str(first["paper"]), str(first["setup"]))))
            drawn, log = _panel_frame(cell, m)
            logs += log
            key = f"trajectory-{len(datasets)}"
            datasets[key] = clean_records(drawn)
            panel = copy.deepcopy(template)
            panel.update(data={"name": key}, width=width, height=140,
                         title={"text": name + (" · log scale" if log else ""), "subtitle": [note] if bad else [],
                                "fontSize": 12, "subtitleFontSize": 11, "subtitleColor": "#333333",
                                "anchor": "start"})
            ticks = iteration_ticks(drawn["iteration"], most=max(3, width // 40))
            for layer in panel["layer"]:
                layer["encoding"]["y"]["scale"] = {"type": "log"} if log else {"zero": False}
                layer["encoding"]["x"]["axis"]["values"] = ticks
            if drawn["iteration"].nunique() > MAX_POINTS:  # a point per iteration would hide the line
                panel["layer"][1]["mark"].pop("point", None)
            panels.append(panel)
        if panels:
            rows.append({"hconcat": panels, "spacing": 16,
                         "title": {"text": setup, "anchor": "start", "fontSize": 13, "fontWeight": "bold"}})
    if not rows:
        return empty_chart(title, "Nothing finite to draw: " + "; ".join(left_out) + ".")
    caption = ("One row per setup, one panel per metric; the line is the mean over seeds of the metric at each "
               "model-fitting iteration, the band its 95% confidence interval across seeds. Reruns: "
               + ", ".join(f"{v} ({_variant_look(v)})" for v in variants) + ".")
    if logs:
        caption += (" Panels marked log scale show a change by a factor as the same height everywhere; an "
                    "interval reaching zero is drawn down to the panel's lower edge.")
    if dropped:
        caption += f" {dropped} point(s) with an infinite or undefined mean are not drawn; each panel says how many."
    if left_out:
        caption += " Not drawn, nothing finite: " + "; ".join(left_out) + "."
    heading = chart_title(title, caption, 90).to_dict()
    return SpecChart({"$schema": alt.SCHEMA_URL, "vconcat": rows, "spacing": 18, "title": heading,
                      "resolve": {"scale": {"color": "shared", "strokeDash": "shared", "shape": "shared"}},
                      "datasets": datasets})


def _variant_look(variant: str) -> str:
    colour = {"published": "blue", "realistic": "ochre", "control": "black"}[variant]
    dash = {"published": "solid", "realistic": "dashed", "control": "dotted"}[variant]
    return f"{colour}, {dash}, {VARIANT_SHAPES[variant].replace('-up', '')}s"


def profiles_title(verdicts: Any) -> str:
    """A finding about a set of verdicts: how many of those that measure something collapse."""
    measured = verdicts[verdicts["verdict"] != "not-measured"]
    counts = {v: int((measured["verdict"] == v).sum()) for v in ("collapse", "no-collapse", "inconclusive")}
    return (f"{counts['collapse']} of {len(measured)} measured verdicts are collapse, {counts['no-collapse']} "
            f"no collapse, {counts['inconclusive']} inconclusive")


def profiles_chart(verdicts: Any, title: str | None = None) -> Any:
    """Collapse profiles as small multiples: one panel per variant, setups x definitions, cells
    filled by verdict (the verdict colours) and lettered (C, N, ?); not measured: an empty cell."""
    import altair as alt

    title = title or "Collapse profiles of the re-executed setups"
    if len(verdicts) == 0:
        return empty_chart(title, "No re-executed runs are stored yet (mcatlas rerun KEY).")
    v = verdicts.copy()
    title = f"{title}: {profiles_title(v)}"
    v["setup_label"] = _setup_label(v)
    v["letter"] = v["verdict"].map(VERDICT_LETTERS).fillna("")
    v["verdict_text"] = v["verdict"].map(VERDICT_NAMES).fillna(v["verdict"])
    v["ink"] = v["verdict"].map(lambda x: text_colour_on(VERDICT_COLOURS.get(x, "#FFFFFF")))
    for col in ("statistic", "ci_low", "ci_high"):
        if col not in v.columns:
            v[col] = None
    keep = ["setup_label", "paper", "setup", "variant", "policy", "definition", "verdict", "verdict_text", "letter",
            "ink", "statistic", "ci_low", "ci_high", "reason"]
    v = v[[c for c in keep if c in v.columns]]
    setups = sorted(v["setup_label"].unique())
    drawn = [x for x in VERDICT_COLOURS if x in set(v["verdict"])]
    caption = ("One row per re-executed setup, one column per definition; each cell is the verdict of the "
               "definition's rule on that run (C collapse, N no collapse, ? inconclusive; an empty cell: not "
               "measured by this simulator). Panels: the setup as published (read at the long-run horizon), under "
               "realistic conditions, and the control (the published policy at the realistic horizon).")
    base = alt.Chart().encode(
        x=alt.X("definition:N", sort=list(DEFINITIONS), title=None,
                axis=alt.Axis(labelAngle=-40, labelLimit=160, labelFontSize=11)),
        y=alt.Y("setup_label:N", sort=setups, title=None, axis=alt.Axis(labelLimit=260, labelFontSize=11)),
        tooltip=[alt.Tooltip("setup_label:N", title="setup"), alt.Tooltip("variant:N", title="rerun"),
                 alt.Tooltip("policy:N"), alt.Tooltip("definition:N"), alt.Tooltip("verdict_text:N", title="verdict"),
                 alt.Tooltip("statistic:Q", format=".4g"), alt.Tooltip("ci_low:Q", format=".4g", title="CI low"),
                 alt.Tooltip("ci_high:Q", format=".4g", title="CI high"), alt.Tooltip("reason:N")],
    )
    grid = base.mark_rect(stroke="#FFFFFF", strokeWidth=2, color="#F0F0F0")
    rect = base.transform_filter("datum.verdict != 'not-measured'").mark_rect(stroke="#FFFFFF", strokeWidth=2).encode(
        color=alt.Color("verdict:N", title="verdict", scale=colour_scale(VERDICT_COLOURS, drawn),
                        legend=alt.Legend(labelExpr=_names_expr(), orient="top")))
    text = base.mark_text(fontSize=11, fontWeight="bold").encode(text="letter:N", color=alt.Color("ink:N", scale=None))
    return alt.layer(grid, rect, text, data=inline_data(v)).properties(
        width=alt.Step(26), height=alt.Step(20)).facet(
        column=alt.Column("variant:N", sort=list(VARIANTS), title=None,
                          header=alt.Header(labelFontWeight="bold", labelFontSize=12)),
    ).properties(title=chart_title(title, caption, 90))


def _names_expr() -> str:
    """A Vega expression writing verdict ids as :data:`VERDICT_NAMES` in legends."""
    import json

    expr = "datum.label"
    for k, name in VERDICT_NAMES.items():
        expr = f"datum.label === {json.dumps(k)} ? {json.dumps(name)} : ({expr})"
    return expr


def attach_evidence(matrix: Any, verdicts: Any) -> Any:
    """The matrix with the ``D:published`` / ``D:realistic`` evidence columns filled from a
    verdicts frame (:func:`metaanalysis.analysis.matrix.evidence_cells`, the one overlay).
    Returns the same matrix object."""
    from metaanalysis.analysis.matrix import apply_evidence, evidence_cells

    return apply_evidence(matrix, evidence_cells(verdicts))


def evidence_marks(matrix: Any) -> list[dict[str, Any]]:
    """One record per (paper, definition, variant) with a drawn verdict: the cells the matrix
    fills (published) or corners (realistic)."""
    from metaanalysis.analysis.matrix import OVERLAY_VARIANTS

    from .charts_matrix import cell_records

    out = []
    for c in cell_records(matrix):
        for variant in OVERLAY_VARIANTS:
            v = c.get(variant)
            if v in VERDICT_COLOURS:  # no mark: not measured, or no setup
                out.append({**{k: c[k] for k in ("order", "paper", "key", "column", "definition", "family", "usage")},
                            "variant": variant, "verdict": v})
    return out


def matrix_title(matrix: Any) -> tuple[str, str]:
    """The matrix's title (what it shows) and a finding for its caption: how many papers have
    reruns, and how many of their measured cells collapse as published and realistic."""
    marks = evidence_marks(matrix)
    n = len(matrix.rows)
    title = f"Which definitions of model collapse {n} papers use, and what their reruns find"
    if not marks:
        return title, "No re-executed evidence is stored yet (mcatlas rerun KEY): only the annotations are shown."
    papers = len({m["key"] for m in marks})
    parts = []
    for variant, words in (("published", "as published"), ("realistic", "under realistic conditions")):
        mine = [m for m in marks if m["variant"] == variant]
        collapse = sum(m["verdict"] == "collapse" for m in mine)
        parts.append(f"{collapse} of {len(mine)} cells with a verdict collapse {words}")
    return title, f"{papers} of the {n} papers have reruns; " + ", ".join(parts) + "."


def matrix_evidence_chart(matrix: Any, href_root: str | None = None) -> Any:
    """The matrix chart of :func:`metaanalysis.present.charts_matrix.matrix_chart` with the
    evidence in its cells (fill as published, corner realistic), its title and a finding; with
    ``href_root`` every column links to its paper's page."""
    from .charts_matrix import matrix_chart

    title, finding = matrix_title(matrix)
    return matrix_chart(matrix, title=title, subtitle=finding, href_root=href_root)


__all__ = ["LOG_METRICS", "METRIC_WORDS", "NON_NEGATIVE", "attach_evidence", "evidence_marks", "matrix_evidence_chart",
           "matrix_title", "metric_title", "profiles_chart", "profiles_title", "trajectories_chart"]
