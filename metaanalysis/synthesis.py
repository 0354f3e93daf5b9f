"""Evidence synthesis: what the papers claim per definition, and what the re-executed setups say.

The inputs
    * validated paper records (their ``claims``) and realism weights (:mod:`.weighting`);
    * the re-executed evidence, as an :class:`Evidence` of tidy pandas frames (one row per
      paper, setup and variant -- ``published`` or ``realistic`` -- and, for verdicts, per
      definition). The evidence store (``mcatlas rerun``) is read into this shape by
      :func:`metaanalysis.report.hooks.load_evidence`; :func:`evidence_from_runs` builds it from
      run frames and profiles in memory (what tests and notebooks use).

The synthesis table (:func:`synthesis_table`, ``mcatlas synthesis``), one row per definition
    ``claims_<outcome>``      claims with outcome collapse / no-collapse / mixed (each claim
                              counts once; a paper with two claims on a definition counts twice,
                              because they are two findings, e.g. under two policies)
    ``weighted_<outcome>``    the same, each claim counted with its paper's realism weight;
                              claims of unscored papers (weight None) are left out and counted in
                              ``claims_unweighted``
    ``support``               share of claims that report collapse, a ``mixed`` claim counting
                              one half: (collapse + mixed / 2) / claims; ``weighted_support`` the
                              weighted analogue. Empty (NaN) without claims.
    ``<variant>_<verdict>``   number of setups whose collapse profile, re-executed as published
                              (or under realistic conditions), gives that verdict for the
                              definition.
:func:`verdicts_by_policy` breaks the verdicts down by the data policy of the run, which is what
makes the position paper's conclusions (Schaeffer et al., arXiv 2503.03150: population risk does
not diverge when data accumulate; tail loss and scaling-law shifts still matter) checkable rather
than assumed; :func:`conclusion_checks` states those checks as sentences with their counts.

Re-executed effects and the forest plot
    The effect of a setup run is the change in population risk over the run, per seed
    y_s = log(R_T,s / R_1,s) (iteration T the last, 1 the first). Seeds where either risk is not
    a finite positive number (an infinite risk after collapse, a zero or negative risk) have no
    log ratio; they are excluded and the number excluded is reported in a note. Over the S'
    remaining seeds: mean y-bar, standard error sd(y)/sqrt(S') (seeds are independent
    replicates), and a t-interval y-bar +- t_{S'-1} * se. With fewer than two usable seeds the
    standard error is undefined and the setup is left out of pooling.

    Pooling per data policy uses the random-effects model of DerSimonian & Laird (1986,
    Controlled Clinical Trials 7:177-188), :func:`dersimonian_laird`: with within-study variances
    v_i = se_i^2 and fixed-effect weights w_i = 1/v_i,
        Q = sum w_i (y_i - y_FE)^2,  y_FE = sum w_i y_i / sum w_i,
        tau^2 = max(0, (Q - (k-1)) / (sum w_i - sum w_i^2 / sum w_i)),
        w*_i = 1 / (v_i + tau^2),  y_RE = sum w*_i y_i / sum w*_i,  se_RE = 1 / sqrt(sum w*_i),
    and the interval y_RE +- z se_RE; I^2 = max(0, (Q - (k-1)) / Q). Studies with zero or
    undefined variance (all seeds equal, one seed) cannot be weighted and are excluded.

numpy and pandas are imported inside the functions that need them (this module is on the CLI's
import path).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any, Iterable, Mapping, Sequence

from simulators.vocabulary import CLAIM_OUTCOMES, DEFINITION_FAMILIES, DEFINITIONS, POLICIES, VERDICTS

#: the two ways a setup is re-executed
VARIANTS: tuple[str, ...] = ("published", "realistic")

#: columns of the evidence frames (extra columns are allowed and passed through)
VERDICT_COLUMNS: tuple[str, ...] = (
    "paper", "setup", "variant", "policy", "definition", "verdict", "statistic", "ci_low", "ci_high",
    "iteration", "reason",
)
TRAJECTORY_COLUMNS: tuple[str, ...] = (
    "paper", "setup", "variant", "policy", "metric", "iteration", "mean", "ci_low", "ci_high", "seeds",
)
EFFECT_COLUMNS: tuple[str, ...] = (
    "paper", "setup", "variant", "policy", "effect", "se", "ci_low", "ci_high", "seeds", "excluded", "note",
)
RUN_COLUMNS: tuple[str, ...] = (
    "paper", "setup", "variant", "policy", "run_id", "simulator", "seeds", "iterations", "provenance",
)
#: the metric of the forest plot's effect
EFFECT_METRIC = "population_risk"


def _frame(rows: Any, columns: Sequence[str]) -> Any:
    import pandas as pd

    if rows is None:
        return pd.DataFrame(columns=list(columns))
    frame = pd.DataFrame(rows) if not isinstance(rows, pd.DataFrame) else rows.copy()
    for c in columns:
        if c not in frame.columns:
            frame[c] = None
    return frame


@dataclass
class Evidence:
    """The re-executed evidence, as tidy frames (any of them may be empty).

    ``verdicts``      :data:`VERDICT_COLUMNS`: one row per (paper, setup, variant, definition)
    ``trajectories``  :data:`TRAJECTORY_COLUMNS`: per-iteration mean and CI across seeds
    ``effects``       :data:`EFFECT_COLUMNS`: the forest plot's per-setup effect (:func:`log_risk_ratio`)
    ``runs``          :data:`RUN_COLUMNS`: one row per stored run; ``provenance`` a dict
    """

    verdicts: Any = None
    trajectories: Any = None
    effects: Any = None
    runs: Any = None

    def __post_init__(self) -> None:
        self.verdicts = _frame(self.verdicts, VERDICT_COLUMNS)
        self.trajectories = _frame(self.trajectories, TRAJECTORY_COLUMNS)
        self.effects = _frame(self.effects, EFFECT_COLUMNS)
        self.runs = _frame(self.runs, RUN_COLUMNS)

    @classmethod
    def empty(cls) -> "Evidence":
        return cls()

    @property
    def is_empty(self) -> bool:
        return all(len(f) == 0 for f in (self.verdicts, self.trajectories, self.effects, self.runs))

    def for_paper(self, key: str) -> "Evidence":
        """The evidence of one paper."""
        return Evidence(**{
            name: f[f["paper"] == key] for name, f in
            (("verdicts", self.verdicts), ("trajectories", self.trajectories),
             ("effects", self.effects), ("runs", self.runs))
        })


# -- building evidence from runs -----------------------------------------------------------


@dataclass
class RunEvidence:
    """One re-executed run: a tidy per-seed frame (``iteration, seed, metric, value``), its
    collapse profile (a :class:`simulators.verdicts.Profile`, or None) and provenance."""

    paper: str
    setup: str
    variant: str
    policy: str
    frame: Any
    profile: Any = None
    run_id: str = ""
    simulator: str = ""
    provenance: dict[str, Any] = field(default_factory=dict)


def trajectory_summary(frame: Any) -> Any:
    """Per iteration and metric: mean, 95% CI across seeds and the number of seeds
    (``simulators.engine.summarize_frame``, so the report shows what ``mcatlas run`` prints)."""
    from simulators.engine import summarize_frame

    return summarize_frame(frame)


def evidence_from_runs(runs: Iterable[RunEvidence]) -> Evidence:
    """An :class:`Evidence` from in-memory runs (trajectories, effects, verdicts, provenance)."""
    import pandas as pd

    verdicts, trajectories, effects, rows = [], [], [], []
    for r in runs:
        ident = {"paper": r.paper, "setup": r.setup, "variant": r.variant, "policy": r.policy}
        summary = trajectory_summary(r.frame)
        trajectories.append(summary.assign(**ident))
        effects.append({**ident, **log_risk_ratio(r.frame).as_dict()})
        if r.profile is not None:
            verdicts.append(r.profile.to_frame().assign(**ident))
        iterations = int(r.frame["iteration"].max()) if len(r.frame) else 0
        rows.append({**ident, "run_id": r.run_id, "simulator": r.simulator,
                     "seeds": int(r.frame["seed"].nunique()) if len(r.frame) else 0,
                     "iterations": iterations, "provenance": dict(r.provenance)})
    return Evidence(
        verdicts=pd.concat(verdicts, ignore_index=True) if verdicts else None,
        trajectories=pd.concat(trajectories, ignore_index=True) if trajectories else None,
        effects=effects or None,
        runs=rows or None,
    )


# -- claims ----------------------------------------------------------------------------------


def claim_rows(papers: Iterable[Any], weights: Mapping[str, float | None]) -> list[dict[str, Any]]:
    """One row per claim: paper, claim id, definition, outcome, policy, model family, weight."""
    out = []
    for p in papers:
        for c in p.claims:
            out.append({
                "paper": p.key, "label": p.label, "claim": c.id, "definition": c.definition,
                "outcome": c.outcome, "policy": c.policy, "model_family": c.model_family,
                "weight": weights.get(p.key),
            })
    return out


def _support(collapse: float, mixed: float, total: float) -> float:
    return (collapse + 0.5 * mixed) / total if total > 0 else math.nan


def synthesis_table(papers: Iterable[Any], weights: Mapping[str, float | None], verdicts: Any = None) -> Any:
    """The synthesis table (see the module docstring): one row per definition, in vocabulary
    order. ``verdicts``: a frame with at least columns paper, setup, variant, definition,
    verdict (e.g. ``Evidence.verdicts``), or None."""
    import pandas as pd

    claims = claim_rows(papers, weights)
    v = _frame(verdicts, VERDICT_COLUMNS)
    rows = []
    for d in DEFINITIONS:
        mine = [c for c in claims if c["definition"] == d]
        row: dict[str, Any] = {"definition": d, "family": DEFINITION_FAMILIES[d], "claims": len(mine)}
        for o in CLAIM_OUTCOMES:
            row[f"claims_{_col(o)}"] = sum(1 for c in mine if c["outcome"] == o)
        weighted = [c for c in mine if c["weight"] is not None]
        for o in CLAIM_OUTCOMES:
            row[f"weighted_{_col(o)}"] = float(sum(c["weight"] for c in weighted if c["outcome"] == o))
        row["weighted_total"] = float(sum(c["weight"] for c in weighted))
        row["claims_unweighted"] = len(mine) - len(weighted)
        row["support"] = _support(row["claims_collapse"], row["claims_mixed"], len(mine))
        row["weighted_support"] = _support(row["weighted_collapse"], row["weighted_mixed"], row["weighted_total"])
        vd = v[v["definition"] == d]
        for variant in VARIANTS:
            sub = vd[vd["variant"] == variant]
            for verdict in VERDICTS:
                row[f"{variant}_{_col(verdict)}"] = int((sub["verdict"] == verdict).sum())
        rows.append(row)
    return pd.DataFrame(rows)


def _col(name: str) -> str:
    return name.replace("-", "_")


def verdicts_by_policy(verdicts: Any) -> Any:
    """Counts of setups per (definition, variant, policy, verdict), definitions and policies in
    vocabulary order; only combinations that occur."""
    import pandas as pd

    v = _frame(verdicts, VERDICT_COLUMNS)
    if len(v) == 0:
        return pd.DataFrame(columns=["definition", "variant", "policy", *[_col(x) for x in VERDICTS], "measured"])
    counts = (
        v.groupby(["definition", "variant", "policy", "verdict"]).size().unstack("verdict", fill_value=0)
        .reindex(columns=list(VERDICTS), fill_value=0).reset_index()
    )
    counts.columns = [_col(c) if c in VERDICTS else c for c in counts.columns]
    counts["measured"] = counts["collapse"] + counts["no_collapse"]
    order = {d: i for i, d in enumerate(DEFINITIONS)}
    porder = {p: i for i, p in enumerate(POLICIES)}
    counts = counts.sort_values(
        ["definition", "variant", "policy"],
        key=lambda s: s.map(order) if s.name == "definition" else (s.map(porder) if s.name == "policy" else s),
    )
    return counts.reset_index(drop=True)


def conclusion_checks(verdicts: Any) -> list[dict[str, Any]]:
    """The position paper's conclusions as checks against the re-executed verdicts.

    Each check: ``statement``, ``definition``, ``policy`` (None: any), ``collapse`` and
    ``measured`` counts over setup runs (both variants; ``share`` = collapse / measured), and
    ``status``. A statement that expects no collapse is ``supported`` when no measured run
    collapses, ``partly contradicted`` when fewer than half do, else ``contradicted``; one that
    expects collapse is ``supported`` when at least half collapse, ``partly supported`` when some
    do, else ``contradicted``; ``not-measured`` when no run measures it. Nothing is assumed: with
    no verdicts every check is ``not-measured``. The counts are shown beside the status, because
    a status cannot say *why* runs disagree (look at the runs: e.g. a discrete model whose first
    fit already gives unseen outcomes zero probability has infinite risk from iteration 1).
    """
    v = _frame(verdicts, VERDICT_COLUMNS)
    specs = [
        ("Population risk does not diverge when data accumulate.", "diverging-risk", "accumulate", False),
        ("Population risk does not reach catastrophic levels when data accumulate.", "catastrophic-risk", "accumulate", False),
        ("Population risk diverges when data are replaced.", "diverging-risk", "replace", True),
        ("Real tail data still disappear under realistic conditions.", "tail-disappearance", None, True),
        ("Scaling laws still change (needs a sweep over n).", "scaling-law-change", None, True),
    ]
    out = []
    for statement, d, policy, expect_collapse in specs:
        sub = v[v["definition"] == d]
        if policy is not None:
            sub = sub[sub["policy"] == policy]
        elif d == "tail-disappearance":
            sub = sub[sub["variant"] == "realistic"]
        collapse = int((sub["verdict"] == "collapse").sum())
        measured = int(sub["verdict"].isin(["collapse", "no-collapse"]).sum())
        share = collapse / measured if measured else math.nan
        if measured == 0:
            status = "not-measured"
        elif expect_collapse:
            status = "supported" if share >= 0.5 else ("partly supported" if collapse else "contradicted")
        else:
            status = "supported" if collapse == 0 else ("partly contradicted" if share < 0.5 else "contradicted")
        out.append({"statement": statement, "definition": d, "policy": policy, "collapse": collapse,
                    "measured": measured, "share": share, "status": status})
    return out


# -- effects and pooling ---------------------------------------------------------------------


@dataclass(frozen=True)
class SetupEffect:
    """The log ratio of population risk at the last vs the first iteration, across seeds."""

    effect: float
    se: float
    ci_low: float
    ci_high: float
    seeds: int  # seeds used
    excluded: int  # seeds without a finite positive risk at either end
    note: str = ""

    def as_dict(self) -> dict[str, Any]:
        return {"effect": self.effect, "se": self.se, "ci_low": self.ci_low, "ci_high": self.ci_high,
                "seeds": self.seeds, "excluded": self.excluded, "note": self.note}


def log_ratio_of_endpoints(first: Any, last: Any, level: float = 0.95) -> SetupEffect:
    """:class:`SetupEffect` of per-seed risks at the first and last iteration (arrays, one value
    per seed, paired by position)."""
    import numpy as np
    from scipy import stats

    first = np.asarray(first, dtype=np.float64)
    last = np.asarray(last, dtype=np.float64)
    ok = np.isfinite(first) & np.isfinite(last) & (first > 0) & (last > 0)
    excluded = int((~ok).sum())
    y = np.log(last[ok] / first[ok])
    n = int(y.size)
    notes = []
    if excluded:
        notes.append(f"{excluded} seed(s) excluded: risk not finite and positive at the first or last iteration")
    if n == 0:
        return SetupEffect(math.nan, math.nan, math.nan, math.nan, 0, excluded, "; ".join(notes + ["no usable seeds"]))
    mean = float(y.mean())
    if n < 2:
        notes.append("one usable seed: no standard error")
        return SetupEffect(mean, math.nan, math.nan, math.nan, n, excluded, "; ".join(notes))
    se = float(y.std(ddof=1) / math.sqrt(n))
    half = float(stats.t.ppf(0.5 + level / 2, df=n - 1)) * se
    return SetupEffect(mean, se, mean - half, mean + half, n, excluded, "; ".join(notes))


def log_risk_ratio(frame: Any, metric: str = EFFECT_METRIC, level: float = 0.95) -> SetupEffect:
    """:class:`SetupEffect` of a tidy run frame (``iteration, seed, metric, value``)."""
    sub = frame[frame["metric"] == metric]
    if len(sub) == 0:
        return SetupEffect(math.nan, math.nan, math.nan, math.nan, 0, 0, f"no {metric} measured")
    wide = sub.pivot_table(index="seed", columns="iteration", values="value", aggfunc="first")
    first, last = wide.columns.min(), wide.columns.max()
    if first == last:
        return SetupEffect(math.nan, math.nan, math.nan, math.nan, 0, 0, "a single iteration: no change to measure")
    return log_ratio_of_endpoints(wide[first].to_numpy(), wide[last].to_numpy(), level)


@dataclass(frozen=True)
class Pooled:
    """A DerSimonian-Laird random-effects pooled estimate."""

    estimate: float
    se: float
    ci_low: float
    ci_high: float
    tau2: float
    q: float
    i2: float
    k: int  # studies pooled
    weights: tuple[float, ...]  # normalised random-effects weights of the pooled studies
    excluded: int = 0  # studies without a usable variance

    def as_dict(self) -> dict[str, Any]:
        return {"estimate": self.estimate, "se": self.se, "ci_low": self.ci_low, "ci_high": self.ci_high,
                "tau2": self.tau2, "q": self.q, "i2": self.i2, "k": self.k, "excluded": self.excluded}


def dersimonian_laird(effects: Sequence[float], variances: Sequence[float], level: float = 0.95) -> Pooled:
    """Random-effects pooling of ``effects`` with within-study ``variances`` (see the module
    docstring). Studies whose effect or variance is not finite, or whose variance is not
    positive, are excluded (counted in ``excluded``). No usable study: all NaN, k = 0."""
    import numpy as np
    from scipy import stats

    y = np.asarray(effects, dtype=np.float64)
    v = np.asarray(variances, dtype=np.float64)
    ok = np.isfinite(y) & np.isfinite(v) & (v > 0)
    excluded = int((~ok).sum())
    y, v = y[ok], v[ok]
    k = int(y.size)
    if k == 0:
        nan = math.nan
        return Pooled(nan, nan, nan, nan, nan, nan, nan, 0, (), excluded)
    w = 1.0 / v
    sw = w.sum()
    fixed = float((w * y).sum() / sw)
    q = float((w * (y - fixed) ** 2).sum())
    c = float(sw - (w ** 2).sum() / sw)
    tau2 = max(0.0, (q - (k - 1)) / c) if k > 1 and c > 0 else 0.0
    ws = 1.0 / (v + tau2)
    estimate = float((ws * y).sum() / ws.sum())
    se = float(1.0 / math.sqrt(ws.sum()))
    z = float(stats.norm.ppf(0.5 + level / 2))
    i2 = max(0.0, (q - (k - 1)) / q) if q > 0 else 0.0
    return Pooled(estimate, se, estimate - z * se, estimate + z * se, tau2, q, i2, k,
                  tuple(float(x) for x in ws / ws.sum()), excluded)


def pooled_by_policy(effects: Any, level: float = 0.95) -> Any:
    """One DerSimonian-Laird pooled estimate per data policy over the setup runs in ``effects``
    (an :data:`EFFECT_COLUMNS` frame; both variants: a run counts under the policy it ran with)."""
    import pandas as pd

    e = _frame(effects, EFFECT_COLUMNS)
    rows = []
    for policy in POLICIES:
        sub = e[e["policy"] == policy]
        if len(sub) == 0:
            continue
        se = pd.to_numeric(sub["se"], errors="coerce").to_numpy(dtype=float)
        p = dersimonian_laird(pd.to_numeric(sub["effect"], errors="coerce").to_numpy(dtype=float), se ** 2, level)
        rows.append({"policy": policy, **p.as_dict()})
    return pd.DataFrame(rows, columns=["policy", "estimate", "se", "ci_low", "ci_high", "tau2", "q", "i2", "k", "excluded"])


__all__ = [
    "EFFECT_COLUMNS",
    "Evidence",
    "Pooled",
    "RUN_COLUMNS",
    "RunEvidence",
    "SetupEffect",
    "TRAJECTORY_COLUMNS",
    "VARIANTS",
    "VERDICT_COLUMNS",
    "claim_rows",
    "conclusion_checks",
    "dersimonian_laird",
    "evidence_from_runs",
    "log_ratio_of_endpoints",
    "log_risk_ratio",
    "pooled_by_policy",
    "synthesis_table",
    "verdicts_by_policy",
]
