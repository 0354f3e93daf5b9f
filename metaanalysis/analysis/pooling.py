"""Effects of re-executed runs and their random-effects pooling.

Effects
    The effect of a setup run is the change in population risk over a common horizon, per seed
    y_s = log(R_t*,s / R_1,s) with t* = :data:`EFFECT_ITERATION` (8) for every run, whatever its
    length: runs of 8 and of 1000 iterations are then compared after the same number of
    generations of synthetic training (the same "dose"), not over their own lengths (where the
    1000-iteration run would dominate because it ran longer). 8 is the length of the shortest
    shipped neural runs and the shortest run the verdicts' trend test accepts; the trajectories
    and verdicts show the rest of each run. Runs shorter than t* have no effect (a note says so).
    Seeds where either risk is not a finite positive number (an infinite risk after collapse, a
    zero or negative risk) have no log ratio; they are excluded and the number excluded is
    reported in a note. Over the S' remaining seeds: mean y-bar, standard error
    sd(y)/sqrt(S') (seeds are independent replicates), and a t-interval y-bar +- t_{S'-1} * se.
    With fewer than two usable seeds the standard error is undefined and the setup is left out
    of pooling.

What is pooled (:func:`pooled_by`)
    Only runs that measure one effect: one subgroup per data policy and model family (a
    Gaussian's and a language model's risk are different quantities), REML with HKSJ intervals
    by default. Where heterogeneity is considerable (I2 >= :data:`HETEROGENEITY_LIMIT`, the
    Cochrane Handbook's "considerable" band, 75-100%), no single pooled value describes the runs:
    the subgroup reports the spread of its effects and ``shown`` is False (the forest plot then
    draws no diamond and says why).

Pooling (:func:`pool`)
    The random-effects model y_i = mu + u_i + e_i, u_i ~ N(0, tau2), e_i ~ N(0, v_i), v_i = se_i^2,
    fitted as R's metafor fits it (``rma.uni`` with an intercept only); the numbers are pinned
    against metafor in ``tests/data/metafor_reference.json`` (``tests/data/metafor_reference.R``
    regenerates it):

    * tau2: ``"DL"`` (DerSimonian & Laird 1986, closed form), ``"REML"`` (restricted maximum
      likelihood, Viechtbauer 2005: Fisher scoring from the Hedges start with metafor's steps and
      step halving; stopping at a change of 1e-10 rather than metafor's 1e-5, which on very
      unequal variances stops a few percent short of the maximum), ``"PM"`` (Paule & Mandel
      1982: the root of the generalised Q at k - 1, to machine precision; metafor's default
      search stops about 1e-4 short). Every estimator has the Q-profile interval for tau2
      (Viechtbauer 2007).
    * the interval for mu: ``"z"`` (Wald) or ``"hksj"`` (Hartung & Knapp 2001, Sidik & Jonkman
      2002: the weighted residual variance scales the standard error, t with k - 1 df; not
      truncated at 1, as metafor's ``test="knha"``). IntHout et al. (2014) show the Wald interval
      is too narrow when k is small or the studies differ a lot, which is the case here.
    * the prediction interval of a new run's effect: mu +- t_{k-2} sqrt(se^2 + tau2) (Higgins,
      Thompson & Spiegelhalter 2009, J. R. Stat. Soc. A 172:137-159), for k >= 3.
      Where this module departs from metafor's default: metafor's ``predict`` reuses the
      interval's critical value (z, or t with k - 1 df); t with k - 2 accounts for tau2 being
      estimated from the same k studies and is what Riley et al. (2011) and IntHout et al. (2016)
      recommend; metafor gives it with ``pi.type="riley"``, which is what the tests pin.
    * I2 = tau2 / (tau2 + s2) and H2 = tau2 / s2 + 1 with s2 the "typical" within-study variance
      (Higgins & Thompson 2002), from the estimated tau2 for every estimator, as metafor does (for
      DL this equals (Q - (k - 1)) / Q). I2 is a fraction here, a percentage in metafor.

    Studies whose effect or variance is not finite, or whose variance is not positive (all seeds
    equal, one seed), cannot be weighted and are excluded (counted in ``excluded``).

    Caveat: a run's standard error shrinks with its number of seeds, and runs here differ in
    seeds and in noise by orders of magnitude, so fixed-effect weights are dominated by a few runs
    and DL's moment estimate of tau2 collapses (it can fall below the Q-profile interval); read
    tau2, I2 and the prediction interval, not only the pooled estimate.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, Sequence

import numpy as np

from simulators.vocabulary import POLICIES

#: the metric of the forest plot's effect
EFFECT_METRIC = "population_risk"
#: the common horizon of an effect: the iteration t* in log(R_t* / R_1) (module docstring)
EFFECT_ITERATION = 8
#: I2 at or above which a subgroup's pooled value is not shown (module docstring)
HETEROGENEITY_LIMIT = 0.75
#: the estimators of tau2 and the intervals for mu that :func:`pool` offers
METHODS: tuple[str, ...] = ("DL", "REML", "PM")
CI_METHODS: tuple[str, ...] = ("hksj", "z")


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


def log_risk_ratio(frame: Any, metric: str = EFFECT_METRIC, level: float = 0.95,
                   iteration: int = EFFECT_ITERATION) -> SetupEffect:
    """:class:`SetupEffect` of a tidy run frame (``iteration, seed, metric, value``): the log
    ratio of ``metric`` at ``iteration`` (the common horizon) to the first iteration."""
    sub = frame[frame["metric"] == metric]
    if len(sub) == 0:
        return SetupEffect(math.nan, math.nan, math.nan, math.nan, 0, 0, f"no {metric} measured")
    wide = sub.pivot_table(index="seed", columns="iteration", values="value", aggfunc="first")
    first, last = wide.columns.min(), wide.columns.max()
    if last < iteration:
        return SetupEffect(math.nan, math.nan, math.nan, math.nan, 0, 0,
                           f"the run stops at iteration {last}, before the common horizon {iteration}")
    return log_ratio_of_endpoints(wide[first].to_numpy(), wide[iteration].to_numpy(), level)


@dataclass(frozen=True)
class Pooled:
    """A random-effects pooled estimate (see the module docstring).

    ``i2`` is a fraction (metafor reports 100 * i2). ``weights`` are the normalised random-effects
    weights of the pooled studies (in input order, excluded studies left out). ``tau2_ci`` is the
    Q-profile interval for tau2 (Viechtbauer 2007), ``(nan, nan)`` when k < 2. ``ci_method`` is the
    interval actually used (``"z"`` when ``"hksj"`` was asked for with k = 1). ``message`` is empty
    unless something needs saying (too few studies, REML not converged, ...).
    """

    estimate: float
    se: float
    ci_low: float
    ci_high: float
    tau2: float
    tau2_ci: tuple[float, float]
    q: float
    q_df: int
    q_p: float
    i2: float
    h2: float
    k: int
    weights: tuple[float, ...]
    excluded: int
    pi_low: float
    pi_high: float
    method: str
    ci_method: str
    message: str = ""

    def as_dict(self) -> dict[str, Any]:
        """The scalar fields (not the per-study weights), for tables and JSON."""
        return {"estimate": self.estimate, "se": self.se, "ci_low": self.ci_low, "ci_high": self.ci_high,
                "tau2": self.tau2, "tau2_ci_low": self.tau2_ci[0], "tau2_ci_high": self.tau2_ci[1],
                "q": self.q, "q_df": self.q_df, "q_p": self.q_p, "i2": self.i2, "h2": self.h2, "k": self.k,
                "excluded": self.excluded, "pi_low": self.pi_low, "pi_high": self.pi_high,
                "method": self.method, "ci_method": self.ci_method, "message": self.message}


# metafor's control value ``tol`` (.Machine$double.eps^0.25 = 2^-13): used here only for the
# REML log-likelihood safeguard, with the same meaning as in metafor.
_LL_TOL = 2.0 ** -13


# --------------------------------------------------------------------------------------------
# building blocks (all on the cleaned arrays y, v of length k >= 1)
# --------------------------------------------------------------------------------------------

def _wmean(y: np.ndarray, w: np.ndarray) -> float:
    return float(np.dot(w, y) / w.sum())


def _q_gen(y: np.ndarray, v: np.ndarray, tau2: float) -> float:
    """Generalised Q: sum of w_i (y_i - mu_w)^2 with w_i = 1 / (v_i + tau2). At tau2 = 0 it is
    Cochran's Q. Decreasing in tau2."""
    w = 1.0 / (v + tau2)
    r = y - _wmean(y, w)
    return float(np.dot(w, r * r))


def _tau2_dl(y: np.ndarray, v: np.ndarray) -> float:
    k = y.size
    w = 1.0 / v
    sw = w.sum()
    c = float(sw - np.dot(w, w) / sw)  # trace of the fixed-effect residual-maker P
    return max(0.0, (_q_gen(y, v, 0.0) - (k - 1)) / c)


def _reml_loglik(y: np.ndarray, v: np.ndarray, tau2: float) -> float:
    """Restricted log-likelihood of tau2 (intercept-only model), up to nothing: metafor's form."""
    k = y.size
    w = 1.0 / (v + tau2)
    r = y - _wmean(y, w)
    return float(-0.5 * (k - 1) * math.log(2 * math.pi) - 0.5 * np.log(v + tau2).sum()
                 - 0.5 * math.log(w.sum()) - 0.5 * np.dot(w, r * r))


def _reml_score_parts(y: np.ndarray, v: np.ndarray, tau2: float) -> tuple[float, float, float]:
    """(y'PPy, tr P, tr PP) at tau2, where P = W - w w' / sum(w) and W = diag(1 / (v + tau2)).
    The REML score is (y'PPy - tr P) / 2 and the expected information tr(PP) / 2."""
    w = 1.0 / (v + tau2)
    sw = w.sum()
    py = w * (y - _wmean(y, w))  # P y
    w2 = np.dot(w, w)
    tr_p = sw - w2 / sw
    tr_pp = w2 - 2.0 * float((w ** 3).sum()) / sw + (w2 / sw) ** 2  # sum of squared entries of P
    return float(np.dot(py, py)), float(tr_p), float(tr_pp)


def _tau2_reml(y: np.ndarray, v: np.ndarray, threshold: float, maxiter: int) -> tuple[float, int, bool]:
    """REML tau2 by Fisher scoring, as metafor's rma.uni does it: start at the Hedges estimate
    max(0, var(y) - mean(v)); step adj = (y'PPy - tr P) / tr PP; halve the step while it would
    take tau2 below 0; stop once |change| <= threshold; give up after maxiter steps. Then
    metafor's safeguard: if the restricted likelihood at tau2 = 0 beats the one at the estimate by
    more than 2^-13, take tau2 = 0. Returns (tau2, iterations, converged)."""
    tau2 = max(0.0, float(np.var(y, ddof=1)) - float(v.mean()))
    change = math.inf
    it = 0
    while change > threshold:
        it += 1
        old = tau2
        ypppy, tr_p, tr_pp = _reml_score_parts(y, v, tau2)
        adj = (ypppy - tr_p) / tr_pp
        if math.isnan(adj):
            adj = 0.0
        while tau2 + adj < 0.0:  # step halving (terminates: adj underflows to -0.0 at worst)
            adj /= 2.0
        tau2 = tau2 + adj
        change = abs(old - tau2)
        if it > maxiter:
            return tau2, it, False
    if tau2 > threshold and _reml_loglik(y, v, 0.0) - _reml_loglik(y, v, tau2) > _LL_TOL:
        tau2 = 0.0
    return max(0.0, tau2), it, True


def _decreasing_root(f, lo: float, start: float) -> float:
    """Root of a continuous decreasing f with f(lo) >= 0, bracketing upward from ``start``."""
    from scipy.optimize import brentq

    hi = max(start, 1e-8)
    while f(hi) > 0.0:
        lo, hi = hi, hi * 4.0
        if not math.isfinite(hi):  # pragma: no cover - Q_gen -> 0 as tau2 grows
            return math.inf
    if f(hi) == 0.0:
        return hi
    return float(brentq(f, lo, hi, xtol=1e-15, rtol=4 * np.finfo(float).eps, maxiter=500))


def _tau2_pm(y: np.ndarray, v: np.ndarray) -> float:
    """Paule-Mandel: the tau2 >= 0 at which the generalised Q equals its expectation k - 1;
    0 when Q_gen(0) (Cochran's Q) is already below k - 1."""
    k = y.size
    target = k - 1.0
    if _q_gen(y, v, 0.0) < target:
        return 0.0
    return _decreasing_root(lambda t: _q_gen(y, v, t) - target, 0.0, max(100.0, float(np.var(y))))


def _tau2_qprofile(y: np.ndarray, v: np.ndarray, level: float) -> tuple[float, float]:
    """Q-profile interval for tau2 (Viechtbauer 2007; metafor's confint type "QP"): the tau2 at
    which Q_gen equals the upper and lower (1 - level) / 2 chi-square(k - 1) quantiles, truncated at
    0. metafor searches only up to max(100, 10 tau2) and reports that cap as the upper end when the
    root lies beyond it; here the search is not capped."""
    from scipy.stats import chi2

    k = y.size
    a = 1.0 - level
    crit_hi = float(chi2.isf(a / 2, k - 1))  # gives the lower end of the interval
    crit_lo = float(chi2.ppf(a / 2, k - 1))  # gives the upper end
    q0 = _q_gen(y, v, 0.0)
    start = max(100.0, float(np.var(y)))
    if q0 < crit_lo:
        return 0.0, 0.0
    hi = _decreasing_root(lambda t: _q_gen(y, v, t) - crit_lo, 0.0, start)
    lo = 0.0 if q0 < crit_hi else _decreasing_root(lambda t: _q_gen(y, v, t) - crit_hi, 0.0, start)
    return lo, hi


def _summarise(y: np.ndarray, v: np.ndarray, tau2: float, ci: str, level: float, pi: bool) -> dict:
    """Everything that follows from tau2 (k >= 1). Returns a dict of Pooled fields."""
    from scipy import stats

    k = y.size
    notes = []
    ws = 1.0 / (v + tau2)
    sws = float(ws.sum())
    mu = _wmean(y, ws)
    se = math.sqrt(1.0 / sws)
    if ci == "hksj" and k < 2:
        notes.append("k = 1: HKSJ needs k >= 2; z interval used")
        ci = "z"
    if ci == "hksj":
        resid = y - mu
        rss = float(np.dot(ws, resid * resid))
        # metafor: a residual sum of squares <= machine epsilon counts as exactly 0
        s2w = 0.0 if rss <= np.finfo(float).eps else rss / (k - 1)
        if s2w == 0.0:
            notes.append("HKSJ: weighted residual variance is 0 (identical effects), so se = 0 as in metafor")
        se *= math.sqrt(s2w)
        crit = float(stats.t.isf((1.0 - level) / 2, k - 1))
    else:
        crit = float(stats.norm.isf((1.0 - level) / 2))

    # heterogeneity statistics: Cochran's Q (fixed-effect weights) and metafor's I2 / H2
    if k >= 2:
        w = 1.0 / v
        sw = float(w.sum())
        q = _q_gen(y, v, 0.0)
        q_p = float(stats.chi2.sf(q, k - 1))
        s2 = (k - 1) * sw / (sw * sw - float(np.dot(w, w)))  # "typical" within-study variance
        i2 = tau2 / (tau2 + s2)
        h2 = tau2 / s2 + 1.0
    else:  # metafor's conventions for k = 1
        q, q_p, i2, h2 = 0.0, 1.0, 0.0, 1.0
        notes.insert(0, "k < 2: no heterogeneity estimate (tau2 = 0)")

    # Prediction interval of Higgins, Thompson & Spiegelhalter (2009): t with k - 2 degrees of
    # freedom (metafor's pi.type="riley"), the model's variance of mu (HKSJ-scaled under
    # "hksj"). metafor's default reuses the interval's own critical value (z, or t with k - 1
    # df), which ignores that tau2 is estimated too and is too narrow for the few runs a
    # subgroup pools; Riley et al. (2011) and IntHout et al. (2016) recommend k - 2. Needs k >= 3.
    pi_low = pi_high = math.nan
    if pi and k >= 3:
        half = float(stats.t.isf((1.0 - level) / 2, k - 2)) * math.sqrt(se * se + tau2)
        pi_low, pi_high = mu - half, mu + half
    return dict(estimate=mu, se=se, ci_low=mu - crit * se, ci_high=mu + crit * se, tau2=tau2,
                q=q, q_df=k - 1, q_p=q_p, i2=i2, h2=h2, k=k,
                weights=tuple(float(x) for x in ws / sws),
                pi_low=pi_low, pi_high=pi_high, ci_method=ci, notes=notes)


# --------------------------------------------------------------------------------------------
# public entry point
# --------------------------------------------------------------------------------------------

def pool(effects: Sequence[float], variances: Sequence[float], *, method: str = "REML",
         ci: str = "hksj", level: float = 0.95, pi: bool = True,
         threshold: float = 1e-10, maxiter: int = 1000) -> Pooled:
    """Random-effects pooling of ``effects`` with within-study ``variances``.

    ``method``: tau2 estimator, ``"REML"`` (default), ``"DL"`` or ``"PM"``. ``ci``: ``"hksj"``
    (default) or ``"z"``. ``level``: confidence level of the interval for mu, the prediction
    interval and the tau2 interval. ``pi``: compute the prediction interval (needs k >= 2).
    ``threshold`` / ``maxiter``: REML's Fisher scoring stops when tau2 changes by at most
    ``threshold``; metafor's defaults are 1e-5 / 100 (pass those to reproduce metafor's default
    output to the last digits), the defaults here 1e-10 / 1000 give the REML estimate itself.
    """
    method = method.upper()
    ci = ci.lower()
    if method not in METHODS:
        raise ValueError(f"method must be one of {METHODS}, not {method!r}")
    if ci not in CI_METHODS:
        raise ValueError(f"ci must be one of {CI_METHODS}, not {ci!r}")
    if not 0.0 < level < 1.0:
        raise ValueError(f"level must lie strictly between 0 and 1, not {level!r}")
    y = np.asarray(effects, dtype=np.float64).ravel()
    v = np.asarray(variances, dtype=np.float64).ravel()
    if y.shape != v.shape:
        raise ValueError(f"{y.size} effects but {v.size} variances")
    ok = np.isfinite(y) & np.isfinite(v) & (v > 0)
    excluded = int((~ok).sum())
    y, v = y[ok], v[ok]
    k = int(y.size)
    nan = math.nan

    def empty(k_: int, message: str) -> Pooled:
        return Pooled(nan, nan, nan, nan, nan, (nan, nan), nan, max(k_ - 1, 0), nan, nan, nan,
                      k_, (), excluded, nan, nan, method, ci, message)

    if k == 0:
        return empty(0, "no usable study (k = 0)")

    if k == 1:
        tau2 = 0.0
    elif method == "DL":
        tau2 = _tau2_dl(y, v)
    elif method == "PM":
        tau2 = _tau2_pm(y, v)
    else:
        tau2, iters, converged = _tau2_reml(y, v, threshold, maxiter)
        if not converged:
            return empty(k, f"REML: Fisher scoring did not converge in {maxiter} iterations "
                            f"(metafor stops with an error here)")
    out = _summarise(y, v, tau2, ci, level, pi)
    tau2_ci = _tau2_qprofile(y, v, level) if k >= 2 else (nan, nan)
    notes = out.pop("notes")
    return Pooled(tau2_ci=tau2_ci, excluded=excluded, method=method, message="; ".join(notes), **out)


#: the subgroups :func:`pooled_by` pools within by default
SUBGROUPS: tuple[str, ...] = ("policy", "family")


def pooled_by(effects: Any, by: Sequence[str] = SUBGROUPS, level: float = 0.95, *,
              method: str = "REML", ci: str = "hksj") -> Any:
    """One pooled estimate (:func:`pool` with ``method`` and ``ci``) per subgroup ``by`` (data
    policy and model family by default; policies in vocabulary order) over the runs in
    ``effects`` (an :data:`EFFECT_COLUMNS` frame; every variant: a run counts under the policy it
    ran with; a configuration shared by several setup links counts once, :func:`unique_runs`).

    Columns: the subgroup keys, ``runs`` (distinct runs), :data:`POOLED_COLUMNS` (``excluded``:
    runs without a usable effect and variance: shorter than the common horizon, infinite or zero
    risk in every seed, a single usable seed, zero variance), ``effect_min`` / ``effect_max``
    (the spread of the usable effects) and ``shown``: whether the pooled value describes the
    runs (k >= 2 and I2 < :data:`HETEROGENEITY_LIMIT`); when not, ``message`` says why."""
    import pandas as pd

    from .frames import EFFECT_COLUMNS, _frame, unique_runs

    e = unique_runs(_frame(effects, EFFECT_COLUMNS))
    by = list(by)
    columns = [*by, "runs", *POOLED_COLUMNS, "effect_min", "effect_max", "shown"]
    if len(e) == 0:
        return pd.DataFrame(columns=columns)
    rows = []
    for key, sub in e.groupby(by, sort=False, dropna=False):
        key = key if isinstance(key, tuple) else (key,)
        y = pd.to_numeric(sub["effect"], errors="coerce").to_numpy(dtype=float)
        se = pd.to_numeric(sub["se"], errors="coerce").to_numpy(dtype=float)
        p = pool(y, se ** 2, method=method, ci=ci, level=level)
        usable = y[np.isfinite(y) & np.isfinite(se) & (se > 0)]
        row = {**dict(zip(by, key)), "runs": int(len(sub)), **p.as_dict(),
               "effect_min": float(usable.min()) if usable.size else math.nan,
               "effect_max": float(usable.max()) if usable.size else math.nan}
        shown = p.k >= 2 and math.isfinite(p.estimate) and p.i2 < HETEROGENEITY_LIMIT
        if p.k >= 2 and not p.i2 < HETEROGENEITY_LIMIT:
            why = (f"considerable heterogeneity (I² {100 * p.i2:.0f}% >= {100 * HETEROGENEITY_LIMIT:.0f}%): "
                   "the runs do not measure one effect, so no pooled value is shown; see their spread")
            row["message"] = "; ".join(x for x in (p.message, why) if x)
        elif p.k < 2:
            row["message"] = "; ".join(x for x in (p.message, "fewer than two usable runs: nothing to pool") if x)
        row["shown"] = bool(shown)
        rows.append(row)
    frame = pd.DataFrame(rows, columns=columns)
    if "policy" in by:
        order = {p: i for i, p in enumerate(POLICIES)}
        frame = frame.assign(_p=frame["policy"].map(order)).sort_values(["_p", *[b for b in by if b != "policy"]],
                                                                      kind="stable").drop(columns="_p")
    return frame.reset_index(drop=True)


#: the columns of a pooled estimate in tables (:meth:`Pooled.as_dict`)
POOLED_COLUMNS: tuple[str, ...] = (
    "estimate", "se", "ci_low", "ci_high", "tau2", "tau2_ci_low", "tau2_ci_high", "q", "q_df", "q_p", "i2",
    "h2", "k", "excluded", "pi_low", "pi_high", "method", "ci_method", "message",
)


__all__ = ["CI_METHODS", "EFFECT_ITERATION", "EFFECT_METRIC", "HETEROGENEITY_LIMIT", "METHODS", "POOLED_COLUMNS",
           "Pooled", "SUBGROUPS", "SetupEffect", "log_ratio_of_endpoints", "log_risk_ratio", "pool", "pooled_by"]
