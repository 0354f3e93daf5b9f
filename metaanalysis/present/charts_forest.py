"""The forest plot of the re-executed runs: per distinct run the change in population risk over
a common number of generations, with the REML/HKSJ pooled estimate per data policy and model
family (:func:`metaanalysis.analysis.pooling.pooled_by`). altair is imported inside the
functions.
"""

from __future__ import annotations

import math
from typing import Any

from simulators.vocabulary import POLICIES

from .style import VARIANT_COLOURS, VARIANT_SHAPES, Datasets, chart_title, colour_scale, empty_chart

#: the pooled estimate's colour and shape (black diamond; the runs take their variant's)
POOLED_COLOUR, POOLED_SHAPE = "#000000", "diamond"


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


def forest_title(frame: Any) -> str:
    """The forest plot's title, a finding: in how many drawn runs risk rose (the interval above
    0) and fell (below 0) within the common horizon."""
    from metaanalysis.analysis.pooling import EFFECT_ITERATION

    runs = frame[frame["kind"] == "setup"]
    low = runs["ci_low"].astype(float)
    high = runs["ci_high"].astype(float)
    up, down = int((low > 0).sum()), int((high < 0).sum())
    return (f"Population risk rose within {EFFECT_ITERATION} generations in {up} of {len(runs)} runs "
            f"and fell in {down} (95% interval above or below no change)")


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
    title = forest_title(frame)
    caption = (f"Each row is one re-executed run (a configuration shared by several setups is drawn once; the tooltip "
               f"lists them): the mean over seeds of log(risk at iteration {EFFECT_ITERATION} / risk at iteration 1), "
               "the same number of generations for every run, with its 95% t-interval across seeds; 0 (grey line) "
               "means no change, log 2 = 0.69 a doubling. Runs are pooled only within one data policy and one model "
               "family, with REML random effects and a Hartung-Knapp-Sidik-Jonkman interval (diamond; thin black "
               "line: 95% prediction interval for a new run). Where the runs disagree too much to share one effect "
               f"(I² ≥ {100 * HETEROGENEITY_LIMIT:.0f}%), no diamond is drawn and the row gives their spread. "
               "Each panel has its own x scale. Runs shorter than the common horizon are not drawn.")
    colours = {**VARIANT_COLOURS, "pooled": POOLED_COLOUR}
    shapes = {**VARIANT_SHAPES, "pooled": POOLED_SHAPE}
    panels = []
    data = Datasets("forest")
    groups = frame[["policy", "family"]].drop_duplicates().itertuples(index=False)
    for policy, family in groups:
        sub = frame[(frame["policy"] == policy) & (frame["family"] == family)]
        n_runs = int(((runs["policy"] == policy) & (runs["family"].fillna("") == family)).sum())
        shown = int((sub["kind"] == "setup").sum())
        head = f"{policy}{', ' + family if family else ''}: {shown} of {n_runs} run(s) drawn"
        labels = sub["label"].tolist()
        base = alt.Chart().encode(
            y=alt.Y("label:N", sort=labels, title=None, axis=alt.Axis(labelLimit=460, labelFontSize=11)),
            tooltip=[alt.Tooltip("label:N", title="run"), alt.Tooltip("policy:N"), alt.Tooltip("family:N"),
                     alt.Tooltip("effect:Q", format=".3f", title="log risk ratio"),
                     alt.Tooltip("ci_low:Q", format=".3f", title="CI low"),
                     alt.Tooltip("ci_high:Q", format=".3f", title="CI high"), alt.Tooltip("seeds:Q"),
                     alt.Tooltip("shared_by:N", title="setups sharing this run"),
                     alt.Tooltip("tau2:Q", format=".3g", title="tau^2"), alt.Tooltip("i2:Q", format=".2f", title="I^2"),
                     alt.Tooltip("pi_low:Q", format=".3f", title="PI low"),
                     alt.Tooltip("pi_high:Q", format=".3f", title="PI high"), alt.Tooltip("note:N")],
        )
        zero = alt.Chart().mark_rule(color="#767676", strokeDash=[3, 3]).encode(x=alt.datum(0))
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
        has_pi = bool((sub["kind"] == "pooled").any() and sub["pi_low"].notna().any())
        layers = (zero, pi, ci, points) if has_pi else (zero, ci, points)  # no empty layer: Vega warns
        panels.append(alt.layer(*layers, data=data.add(sub)).properties(
            width=460, height=alt.Step(18),
            title=alt.TitleParams(head, anchor="start", fontSize=12, fontWeight="bold")))
    shared = alt.Resolve(scale=alt.ScaleResolveMap(color="shared", shape="shared"))
    return data.attach(alt.vconcat(*panels, spacing=20, resolve=shared, title=chart_title(title, caption, 100)))


__all__ = ["FOREST_COLUMNS", "forest_chart", "forest_frame", "forest_title"]
