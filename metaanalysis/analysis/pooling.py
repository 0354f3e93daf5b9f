"""Effects of re-executed runs and their random-effects pooling.

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
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, Sequence

from simulators.vocabulary import POLICIES

#: the metric of the forest plot's effect
EFFECT_METRIC = "population_risk"


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

    from .frames import EFFECT_COLUMNS, _frame, unique_runs

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


__all__ = ["EFFECT_METRIC", "Pooled", "SetupEffect", "dersimonian_laird", "log_ratio_of_endpoints",
           "log_risk_ratio", "pooled_by_policy"]
