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
    ``weighted_<outcome>``    the same, each claim counted with its realism weight (its paper's
                              scores, the policy dimensions taken from the claim's own policy:
                              :func:`metaanalysis.weighting.claim_weight`);
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
than assumed; :func:`conclusion_checks` checks that paper's recorded claims with their counts.

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
    undefined variance (all seeds equal, one seed) cannot be weighted and are excluded. With
    k >= 3 the 95% prediction interval of a new run's effect is y_RE +- t_{k-2} sqrt(tau^2 +
    se_RE^2) (Higgins, Thompson & Spiegelhalter 2009, J. R. Stat. Soc. A 172:137-159).
    Caveat: a run's standard error shrinks with its number of seeds, and runs here differ in
    seeds and in noise by orders of magnitude, so the fixed-effect weights are dominated by a few
    runs and the moment estimator of tau^2 is unreliable; read I^2, tau^2 and the prediction
    interval, not only the pooled diamond.

One run, counted once
    Several (paper, setup, variant) links can name the same configuration (the same simulator,
    parameters, policy, seeds and iterations: one stored run, one ``config_hash``). Such a run is
    one piece of evidence: verdict counts, conclusion checks and pooling keep it once
    (:func:`unique_runs`) and list every link that shares it (``shared_by``).

The position paper's claims are checked, not counted
    :func:`synthesis_table` leaves out the claims of Schaeffer et al. (the table is meant to check
    them; letting them vote would be circular). :func:`conclusion_checks` builds the checks from
    that paper's claims in its record (statement, definition, policy, outcome) and compares each
    with the verdicts of all papers' runs with that definition and policy.

numpy and pandas are imported inside the functions that need them (this module is on the CLI's
import path).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any, Iterable, Mapping, Sequence

from simulators.vocabulary import CLAIM_OUTCOMES, DEFINITION_FAMILIES, DEFINITIONS, POLICIES, VERDICTS

from .absorption import POSITION_PAPER

#: the two ways a setup is re-executed
VARIANTS: tuple[str, ...] = ("published", "realistic")

#: columns of the evidence frames (extra columns are allowed and passed through)
VERDICT_COLUMNS: tuple[str, ...] = (
    "paper", "setup", "variant", "policy", "definition", "verdict", "statistic", "ci_low", "ci_high",
    "iteration", "reason", "config_hash",
)
TRAJECTORY_COLUMNS: tuple[str, ...] = (
    "paper", "setup", "variant", "policy", "metric", "iteration", "mean", "ci_low", "ci_high", "seeds",
    "config_hash",
)
EFFECT_COLUMNS: tuple[str, ...] = (
    "paper", "setup", "variant", "policy", "effect", "se", "ci_low", "ci_high", "seeds", "excluded", "note",
    "config_hash",
)
RUN_COLUMNS: tuple[str, ...] = (
    "paper", "setup", "variant", "policy", "run_id", "simulator", "seeds", "iterations", "provenance",
    "config_hash",
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


def run_key(frame: Any) -> Any:
    """The identity of the run behind each row: its ``config_hash`` where known, else its
    ``run_id``, else ``paper/setup/variant`` (rows from in-memory evidence without a hash)."""
    import pandas as pd

    fallback = frame["paper"].astype(str) + "/" + frame["setup"].astype(str) + "/" + frame["variant"].astype(str)
    key = pd.Series(fallback.to_numpy(), index=frame.index, dtype=object)
    for col in ("run_id", "config_hash"):  # config_hash wins
        if col in frame.columns:
            have = frame[col].notna() & (frame[col].astype(str) != "")
            key = key.where(~have, frame[col].astype(str))
    return key


def link_label(paper: Any, setup: Any, variant: Any) -> str:
    """How a (paper, setup, variant) link is written in labels: ``paper / setup (variant)``."""
    return f"{paper} / {setup} ({variant})"


def unique_runs(frame: Any, per: Sequence[str] = (), within_variant: bool = False) -> Any:
    """One row per run (and per ``per`` columns, e.g. ``definition``), dropping the copies that
    arise when several (paper, setup, variant) links name the same configuration: a run computed
    once is evidence once, whatever the number of setups that describe it.

    ``within_variant``: keep a run once per variant (a configuration that is one setup's
    published run and another's realistic run is counted in both columns of a per-variant table,
    once each). Adds ``run_key``, ``links`` (how many links share the run) and ``shared_by`` (all
    of them, ``paper / setup (variant)``, joined by "; "), keeping the first row's other values.
    """
    import pandas as pd

    f = _frame(frame, ())
    if len(f) == 0:
        out = f.copy()
        for c in ("run_key", "links", "shared_by"):
            out[c] = pd.Series(dtype=object)
        return out
    f = f.copy()
    f["run_key"] = run_key(f)
    f["_link"] = [link_label(p, s, v) for p, s, v in zip(f["paper"], f["setup"], f["variant"])]
    group = ["run_key", *per] + (["variant"] if within_variant else [])
    shared = f.groupby(group, sort=False, dropna=False)["_link"].agg(lambda x: list(dict.fromkeys(x)))
    first = f.drop_duplicates(group).set_index(group)
    first["shared_by"] = shared.map("; ".join)
    first["links"] = shared.map(len)
    return first.reset_index().drop(columns=["_link"])


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
    (:func:`simulators.summary.summarize`, so the report shows what ``mcatlas run`` prints and the
    store keeps)."""
    from simulators.summary import summarize

    return summarize(frame).rename(columns={"n": "seeds"})


def evidence_from_runs(runs: Iterable[RunEvidence]) -> Evidence:
    """An :class:`Evidence` from in-memory runs (trajectories, effects, verdicts, provenance)."""
    import pandas as pd

    verdicts, trajectories, effects, rows = [], [], [], []
    for r in runs:
        ident = {"paper": r.paper, "setup": r.setup, "variant": r.variant, "policy": r.policy,
                 "config_hash": r.run_id or f"{r.paper}/{r.setup}/{r.variant}"}
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


def claim_rows(papers: Iterable[Any], weights: Mapping[Any, float | None]) -> list[dict[str, Any]]:
    """One row per claim: paper, claim id, definition, outcome, policy, model family, weight.

    ``weights``: per claim, keyed ``(paper key, claim id)`` (:func:`metaanalysis.weighting.claim_weights`,
    the claim's own policy overriding its paper's policy dimensions), or per paper key (the
    paper's weight for every claim); a claim found under neither has no weight."""
    out = []
    for p in papers:
        for c in p.claims:
            w = weights[(p.key, c.id)] if (p.key, c.id) in weights else weights.get(p.key)
            out.append({
                "paper": p.key, "label": p.label, "claim": c.id, "definition": c.definition,
                "outcome": c.outcome, "policy": c.policy, "model_family": c.model_family,
                "weight": w, "statement": c.statement, "where": c.where,
            })
    return out


def _support(collapse: float, mixed: float, total: float) -> float:
    return (collapse + 0.5 * mixed) / total if total > 0 else math.nan


def synthesis_table(papers: Iterable[Any], weights: Mapping[Any, float | None], verdicts: Any = None,
                    checked: Sequence[str] = (POSITION_PAPER,)) -> Any:
    """The synthesis table (see the module docstring): one row per definition, in vocabulary
    order. ``verdicts``: a frame with at least columns paper, setup, variant, definition,
    verdict (e.g. ``Evidence.verdicts``), or None. The claims of the papers in ``checked`` (the
    position paper) are not counted: they are what the table checks, so they must not vote in it;
    their runs' verdicts still count, since re-executed runs are evidence whoever proposed them."""
    import pandas as pd

    claims = [c for c in claim_rows(papers, weights) if c["paper"] not in set(checked)]
    v = unique_runs(_frame(verdicts, VERDICT_COLUMNS), per=("definition",), within_variant=True)
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

    v = unique_runs(_frame(verdicts, VERDICT_COLUMNS), per=("definition",), within_variant=True)
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


#: statuses of a conclusion check, and the thresholds behind them (methodology page)
CHECK_RULES: tuple[tuple[str, str], ...] = (
    ("claims no collapse", "supported: no measured run collapses; partly contradicted: fewer than half of "
                           "the measured runs collapse; contradicted: half or more collapse"),
    ("claims collapse", "supported: half or more of the measured runs collapse; partly supported: at least "
                        "one but fewer than half collapse; contradicted: none collapses"),
    ("mixed claim", "open: the paper claims no direction (e.g. 'deserves study'), so the counts are shown "
                    "and no status is given"),
    ("any claim", "not-measured: no run with that definition and policy has a collapse or no-collapse verdict"),
)


def check_status(outcome: str, collapse: int, measured: int) -> str:
    """The status of a claim with ``outcome`` given ``collapse`` of ``measured`` runs (:data:`CHECK_RULES`)."""
    if measured == 0:
        return "not-measured"
    if outcome == "mixed":
        return "open"
    share = collapse / measured
    if outcome == "collapse":
        return "supported" if share >= 0.5 else ("partly supported" if collapse else "contradicted")
    return "supported" if collapse == 0 else ("partly contradicted" if share < 0.5 else "contradicted")


def conclusion_checks(verdicts: Any, papers: Iterable[Any] = (), paper: str = POSITION_PAPER) -> list[dict[str, Any]]:
    """The position paper's claims (from its record, ``annotations/papers/KEY.yaml``: statement,
    definition, policy, outcome) checked against the re-executed verdicts.

    For each claim of ``paper`` among ``papers``: the runs of *every* paper's setups (both
    variants) with the claim's definition and run under the claim's policy, each configuration
    counted once (:func:`unique_runs`); ``collapse`` and ``measured`` counts (``share`` =
    collapse / measured) and ``status`` (:func:`check_status`, :data:`CHECK_RULES`). Nothing is
    assumed: with no verdicts every check is ``not-measured``; without the paper's record there
    are no checks. The counts are shown beside the status, because a status cannot say *why* runs
    disagree (look at the runs)."""
    v = unique_runs(_frame(verdicts, VERDICT_COLUMNS), per=("definition",))
    out = []
    for p in papers:
        if p.key != paper:
            continue
        for c in p.claims:
            sub = v[(v["definition"] == c.definition) & (v["policy"] == c.policy)] if len(v) else v
            collapse = int((sub["verdict"] == "collapse").sum()) if len(sub) else 0
            measured = int(sub["verdict"].isin(["collapse", "no-collapse"]).sum()) if len(sub) else 0
            out.append({"paper": p.key, "claim": c.id, "statement": c.statement, "definition": c.definition,
                        "policy": c.policy, "outcome": c.outcome, "where": c.where, "collapse": collapse,
                        "measured": measured, "share": collapse / measured if measured else math.nan,
                        "status": check_status(c.outcome, collapse, measured),
                        "runs": sorted(set(sub.loc[sub["verdict"].isin(["collapse", "no-collapse"]), "shared_by"]))
                        if len(sub) else []})
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
    pi_low: float = math.nan  # 95% prediction interval of a new study's effect (k >= 3)
    pi_high: float = math.nan

    def as_dict(self) -> dict[str, Any]:
        return {"estimate": self.estimate, "se": self.se, "ci_low": self.ci_low, "ci_high": self.ci_high,
                "tau2": self.tau2, "q": self.q, "i2": self.i2, "k": self.k, "excluded": self.excluded,
                "pi_low": self.pi_low, "pi_high": self.pi_high}


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
    pi_low = pi_high = math.nan
    if k >= 3:
        half = float(stats.t.ppf(0.5 + level / 2, df=k - 2)) * math.sqrt(tau2 + se ** 2)
        pi_low, pi_high = estimate - half, estimate + half
    return Pooled(estimate, se, estimate - z * se, estimate + z * se, tau2, q, i2, k,
                  tuple(float(x) for x in ws / ws.sum()), excluded, pi_low, pi_high)


def pooled_by_policy(effects: Any, level: float = 0.95) -> Any:
    """One DerSimonian-Laird pooled estimate per data policy over the runs in ``effects`` (an
    :data:`EFFECT_COLUMNS` frame; both variants: a run counts under the policy it ran with; a
    configuration shared by several setup links counts once, :func:`unique_runs`). ``runs``: the
    policy's distinct runs; ``excluded``: those without a usable effect and variance (infinite or
    zero risk in every seed, a single usable seed, zero variance)."""
    import pandas as pd

    e = unique_runs(_frame(effects, EFFECT_COLUMNS))
    rows = []
    for policy in POLICIES:
        sub = e[e["policy"] == policy]
        if len(sub) == 0:
            continue
        se = pd.to_numeric(sub["se"], errors="coerce").to_numpy(dtype=float)
        p = dersimonian_laird(pd.to_numeric(sub["effect"], errors="coerce").to_numpy(dtype=float), se ** 2, level)
        rows.append({"policy": policy, "runs": int(len(sub)), **p.as_dict()})
    return pd.DataFrame(rows, columns=["policy", "runs", "estimate", "se", "ci_low", "ci_high", "tau2", "q", "i2", "k",
                                       "excluded", "pi_low", "pi_high"])


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
    "CHECK_RULES",
    "POSITION_PAPER",
    "check_status",
    "conclusion_checks",
    "link_label",
    "run_key",
    "unique_runs",
    "dersimonian_laird",
    "evidence_from_runs",
    "log_ratio_of_endpoints",
    "log_risk_ratio",
    "pooled_by_policy",
    "synthesis_table",
    "verdicts_by_policy",
]
