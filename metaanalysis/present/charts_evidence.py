"""Charts of the re-executed evidence: trajectories, collapse profiles, the forest plot of
effects, and the matrix with the evidence marked in its cells. altair is imported inside the
functions.
"""

from __future__ import annotations

import math
from typing import Any, Sequence

from simulators.vocabulary import DEFINITIONS, POLICIES, VARIANTS, VERDICTS

from .style import (
    VARIANT_COLOURS,
    VERDICT_COLOURS,
    VERDICT_LETTERS,
    chart_title,
    colour_scale,
    empty_chart,
    inline_data,
)


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
        return empty_chart(title, "No re-executed runs are stored yet (mcatlas rerun KEY).")
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
            base = alt.Chart(inline_data(cell)).encode(
                x=alt.X("iteration:Q", title="iteration"),
                color=alt.Color("variant:N", title="rerun", scale=colour_scale(VARIANT_COLOURS)),
            )
            band = base.mark_area(opacity=0.25).encode(y=alt.Y("ci_low:Q", title="mean (95% CI)"), y2="ci_high:Q")
            line = base.mark_line(point=alt.OverlayMarkDef(size=12)).encode(
                y=alt.Y("mean:Q", title="mean (95% CI)", scale=alt.Scale(zero=False)),
                strokeDash=alt.StrokeDash("variant:N", title="rerun",
                                          scale=alt.Scale(domain=list(VARIANT_COLOURS), range=[[1, 0], [5, 3], [2, 2]])),
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
    return alt.vconcat(*rows, spacing=18, resolve=shared, title=chart_title(title, caption, 90))


def profiles_chart(verdicts: Any, title: str | None = None) -> Any:
    """Collapse profiles as small multiples: one panel per variant, setups x definitions,
    cells coloured by verdict and lettered (C, N, ?, ·)."""
    import altair as alt

    title = title or "Collapse profiles of the re-executed setups"
    if len(verdicts) == 0:
        return empty_chart(title, "No re-executed runs are stored yet (mcatlas rerun KEY).")
    v = verdicts.copy()
    v["setup_label"] = _setup_label(v)
    v["letter"] = v["verdict"].map(VERDICT_LETTERS).fillna("")
    for col in ("statistic", "ci_low", "ci_high"):
        if col not in v.columns:
            v[col] = None
    keep = ["setup_label", "paper", "setup", "variant", "policy", "definition", "verdict", "letter", "statistic",
            "ci_low", "ci_high", "reason"]
    v = v[[c for c in keep if c in v.columns]]
    setups = sorted(v["setup_label"].unique())
    caption = ("One row per re-executed setup, one column per definition; each cell is the verdict of the "
               "definition's rule on that run (C collapse, N no-collapse, ? inconclusive, · not measured by this "
               "simulator). Panels: the setup as published (read at the long-run horizon), under realistic "
               "conditions, and the control (the published policy at the realistic horizon). Read: which "
               "definitions a setup collapses under, and which verdicts change under realistic conditions.")
    base = alt.Chart().encode(
        x=alt.X("definition:N", sort=list(DEFINITIONS), title=None, axis=alt.Axis(labelAngle=-40, labelLimit=160)),
        y=alt.Y("setup_label:N", sort=setups, title=None, axis=alt.Axis(labelLimit=260)),
        tooltip=[alt.Tooltip("setup_label:N", title="setup"), alt.Tooltip("variant:N"), alt.Tooltip("policy:N"),
                 alt.Tooltip("definition:N"), alt.Tooltip("verdict:N"), alt.Tooltip("statistic:Q", format=".4g"),
                 alt.Tooltip("ci_low:Q", format=".4g", title="CI low"), alt.Tooltip("ci_high:Q", format=".4g", title="CI high"),
                 alt.Tooltip("reason:N")],
    )
    rect = base.mark_rect(stroke="white").encode(
        color=alt.Color("verdict:N", title="verdict", scale=colour_scale(VERDICT_COLOURS, VERDICTS)))
    text = base.mark_text(fontSize=10, fontWeight="bold").encode(
        text="letter:N", color=alt.condition("datum.verdict == 'not-measured' || datum.verdict == 'inconclusive'",
                                             alt.value("black"), alt.value("white")))
    return alt.layer(rect, text, data=inline_data(v)).properties(width=alt.Step(26), height=alt.Step(18)).facet(
        column=alt.Column("variant:N", sort=list(VARIANTS), title=None,
                          header=alt.Header(labelFontWeight="bold")),
    ).properties(title=chart_title(title, caption, 90))


def _pooled_label(r: dict[str, Any]) -> str:
    """The pooled row's label: k, tau^2, I^2 and the 95% prediction interval written out, or,
    where no pooled value is shown, why and the spread of the runs."""
    text = f"pooled: k = {int(r['k'])}, tau² = {_fmt(r.get('tau2'))}, I² = {_fmt(100 * r['i2'], '.0f')}%"
    if not r.get("shown"):
        return (f"not pooled: k = {int(r['k'])}, I² = {_fmt(100 * r['i2'], '.0f')}%; runs range "
                f"{_fmt(r.get('effect_min'))} to {_fmt(r.get('effect_max'))}")
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


def _family(r: dict[str, Any]) -> str:
    """A run's model family for the forest plot's panels ("" when the evidence does not say)."""
    family = r.get("family")
    return family if isinstance(family, str) else ""


#: the columns of :func:`forest_frame`
FOREST_COLUMNS: tuple[str, ...] = (
    "kind", "label", "policy", "family", "variant", "effect", "ci_low", "ci_high", "seeds", "note", "shared_by",
    "k", "tau2", "i2", "pi_low", "pi_high", "shown",
)


def forest_frame(effects: Any, pooled: Any) -> Any:
    """The forest plot's rows: one per distinct run with a finite effect (kind ``setup``; a
    configuration shared by several setup links is one row, its label names the first link and
    how many others share it, ``shared_by`` lists them all) and one row per subgroup of
    :func:`metaanalysis.analysis.pooling.pooled_by` (kind ``pooled``: the diamond with k, tau^2,
    I^2 and the prediction interval when ``shown``; otherwise a row that says why nothing is
    pooled and gives the spread), ordered by policy and family, the pooled row last."""
    import pandas as pd

    from metaanalysis.analysis.frames import EFFECT_COLUMNS, _frame, unique_runs

    rows = []
    e = unique_runs(_frame(effects, EFFECT_COLUMNS))
    e = e[pd.to_numeric(e["effect"], errors="coerce").map(lambda x: isinstance(x, float) and math.isfinite(x))]
    for r in e.to_dict(orient="records"):
        label = f"{r['paper']} / {r['setup']} ({r['variant']})"
        if int(r["links"]) > 1:
            label += f" +{int(r['links']) - 1} more"
        rows.append({"kind": "setup", "label": label, "policy": r["policy"], "family": _family(r),
                     "variant": r["variant"], "effect": float(r["effect"]), "ci_low": r["ci_low"],
                     "ci_high": r["ci_high"], "seeds": r.get("seeds"), "note": r.get("note") or "",
                     "shared_by": r["shared_by"], "k": None, "tau2": None, "i2": None, "pi_low": None,
                     "pi_high": None, "shown": None})
    for r in pooled.to_dict(orient="records"):
        if int(r["k"]) < 1:
            continue
        shown = bool(r["shown"])
        rows.append({"kind": "pooled", "label": _pooled_label(r), "policy": r["policy"], "family": _family(r),
                     "variant": "pooled", "effect": r["estimate"] if shown else None,
                     "ci_low": r["ci_low"] if shown else None, "ci_high": r["ci_high"] if shown else None,
                     "seeds": None, "note": r.get("message") or f"{r['method']} random effects, {r['ci_method']} interval",
                     "shared_by": "", "k": int(r["k"]), "tau2": r["tau2"], "i2": r["i2"],
                     "pi_low": r.get("pi_low") if shown else None, "pi_high": r.get("pi_high") if shown else None,
                     "shown": shown})
    frame = pd.DataFrame(rows, columns=list(FOREST_COLUMNS))
    porder = {p: i for i, p in enumerate(POLICIES)}
    frame["_p"] = frame["policy"].map(porder).fillna(len(POLICIES))
    frame["_k"] = (frame["kind"] == "pooled").astype(int)
    frame = frame.sort_values(["_p", "family", "_k", "effect"], na_position="last").drop(columns=["_p", "_k"])
    frame = frame.reset_index(drop=True)
    frame["order"] = range(len(frame))
    return frame


def forest_chart(effects: Any, pooled: Any) -> Any:
    """Forest plot: per distinct run the log ratio of population risk at the common horizon
    (iteration 8) vs the first iteration with its 95% CI across seeds, one panel per data policy
    and model family (each with its own x scale, so the small effects of accumulation are as
    readable as the large ones of replacement), and the subgroup's REML/HKSJ pooled estimate as a
    diamond with its prediction interval, or, where heterogeneity is considerable, a note
    instead of a diamond."""
    import altair as alt

    from metaanalysis.analysis.frames import EFFECT_COLUMNS, _frame, unique_runs
    from metaanalysis.analysis.pooling import EFFECT_ITERATION, HETEROGENEITY_LIMIT

    title = f"How much population risk changed in {EFFECT_ITERATION} generations, per run and pooled"
    frame = forest_frame(effects, pooled) if len(effects) else None
    if frame is None or len(frame) == 0:
        return empty_chart(title, "No re-executed runs with a finite risk change are stored yet (mcatlas rerun KEY).")
    runs = unique_runs(_frame(effects, EFFECT_COLUMNS))
    caption = (f"Each row is one re-executed run (a configuration shared by several setups is drawn once; the tooltip "
               f"lists them): the mean over seeds of log(risk at iteration {EFFECT_ITERATION} / risk at iteration 1), "
               "the same number of generations for every run, with its 95% t-interval across seeds; 0 (grey line) "
               "means no change, log 2 = 0.69 a doubling. Runs are pooled only within one data policy and one model "
               "family, with REML random effects and a Hartung-Knapp-Sidik-Jonkman interval (diamond; thin black "
               "line: 95% prediction interval for a new run). Where the runs disagree too much to share one effect "
               f"(I² ≥ {100 * HETEROGENEITY_LIMIT:.0f}%), no diamond is drawn and the row gives their spread. "
               "Each panel has its own x scale. Runs shorter than the common horizon are not drawn.")
    colours = {**VARIANT_COLOURS, "pooled": "#000000"}
    shapes = {"published": "circle", "realistic": "square", "control": "triangle-up", "pooled": "diamond"}
    panels = []
    groups = frame[["policy", "family"]].drop_duplicates().itertuples(index=False)
    for policy, family in groups:
        sub = frame[(frame["policy"] == policy) & (frame["family"] == family)]
        n_runs = int(((runs["policy"] == policy) & (runs["family"].fillna("") == family)).sum())
        shown = int((sub["kind"] == "setup").sum())
        head = f"{policy}{', ' + family if family else ''}: {shown} of {n_runs} run(s) drawn"
        labels = sub["label"].tolist()
        base = alt.Chart().encode(
            y=alt.Y("label:N", sort=labels, title=None, axis=alt.Axis(labelLimit=460)),
            tooltip=[alt.Tooltip("label:N", title="run"), alt.Tooltip("policy:N"), alt.Tooltip("family:N"),
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
        ci = base.transform_filter("isValid(datum.effect)").mark_rule(strokeWidth=2.5).encode(
            x=alt.X("ci_low:Q", title=f"log(risk at iteration {EFFECT_ITERATION} / risk at iteration 1)",
                    scale=alt.Scale(zero=True, nice=True)),
            x2="ci_high:Q",
            color=alt.Color("variant:N", title="run", scale=colour_scale(colours)))
        points = base.transform_filter("isValid(datum.effect)").mark_point(filled=True, size=80, opacity=1).encode(
            x="effect:Q",
            color=alt.Color("variant:N", title="run", scale=colour_scale(colours)),
            shape=alt.Shape("variant:N", title="run", scale=colour_scale(shapes)),
        )
        panels.append(alt.layer(zero, pi, ci, points, data=inline_data(sub)).properties(
            width=460, height=alt.Step(16),
            title=alt.TitleParams(head, anchor="start", fontSize=12, fontWeight="bold")))
    return alt.vconcat(*panels, spacing=20).resolve_scale(color="shared", shape="shared").properties(
        title=chart_title(title, caption, 100))


def attach_evidence(matrix: Any, verdicts: Any) -> Any:
    """The matrix with the ``D:published`` / ``D:realistic`` evidence columns filled from a
    verdicts frame (:func:`metaanalysis.analysis.matrix.evidence_cells`, the one overlay).
    Returns the same matrix object."""
    from metaanalysis.analysis.matrix import apply_evidence, evidence_cells

    return apply_evidence(matrix, evidence_cells(verdicts))


def evidence_marks(matrix: Any) -> list[dict[str, Any]]:
    """One record per (paper, definition, variant) with a verdict: where the overlay draws."""
    from metaanalysis.analysis.matrix import OVERLAY_VARIANTS

    from .charts_matrix import cell_records

    out = []
    for c in cell_records(matrix):
        for variant in OVERLAY_VARIANTS:
            v = c.get(variant)
            if v and v != "not-measured":  # no mark: not measured, or no setup
                out.append({**{k: c[k] for k in ("order", "paper", "key", "column", "definition", "family", "usage")},
                            "variant": variant, "verdict": v})
    return out


def matrix_evidence_chart(matrix: Any) -> Any:
    """The matrix chart of :func:`metaanalysis.present.charts_matrix.matrix_chart` with the evidence
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
               "(published > realistic: C collapse, N no collapse, M mixed, ? inconclusive, · not measured, - no run). "
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
                                scale=colour_scale(VERDICT_COLOURS, ("collapse", "no-collapse", "mixed")), legend=legend),
                shape=alt.Shape("variant:N", title="rerun",
                                scale=alt.Scale(domain=["published", "realistic"], range=["circle", "triangle-up"]),
                                legend=legend),
                tooltip=[alt.Tooltip("paper:N"), alt.Tooltip("definition:N"), alt.Tooltip("variant:N", title="rerun"),
                         alt.Tooltip("verdict:N")],
            ))
        new_blocks.append(alt.layer(block, *overlay_layers).resolve_scale(color="independent"))
    chart.vconcat = new_blocks
    chart.title = chart_title(f"Definitions of model collapse used by {len(matrix.rows)} papers, with re-executed evidence",
                         caption, 110)
    return chart


__all__ = ["attach_evidence", "evidence_marks", "forest_chart", "forest_frame", "matrix_evidence_chart",
           "profiles_chart", "trajectories_chart"]
