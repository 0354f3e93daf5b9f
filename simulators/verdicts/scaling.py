"""The ``scaling-law-change`` verdict over a sweep in n.

For a sweep over n (one run per n of the policy under test), fit log(mean risk) against log(n)
by least squares, for the policy (risk at each run's last iteration) and for a real-only
reference (the ``reference`` runs' last iteration; without them, iteration 1 of the policy's own
runs, which is the fit on n real samples). The exponent is the slope. With d the difference of
the exponents (policy - reference) and tol = ``Thresholds.scaling_exponent_tolerance``:
collapse when its interval excludes 0 and |d| >= tol; no-collapse when the whole interval lies
inside (-tol, tol); otherwise inconclusive. Stability and what would settle it as for every rule
(:mod:`.decision`); the interval is at ``ci_level`` (one test per sweep).

Seeds are resampled independently per n (the runs are independent); the reference is resampled
with the same counts as the policy when it has the same seed ids (paired). For density models
whose population risk is a cross-entropy (it contains the truth's entropy and may be negative),
pass ``metric="kl_to_truth"``, the excess risk, which is what follows a power law.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from simulators.errors import UserError

from .bootstrap import SeedRun, Stat, quantiles, slope_contrast
from .decision import Cond, Headline, Outcome, Path, Shape, decide
from .results import NOT_MEASURED, Verdict, encode, fmt
from .thresholds import Thresholds, thresholds_from


@dataclass(frozen=True)
class ScalingProfile:
    """Power-law fits of final risk against n for a policy and its real-only reference."""

    ns: tuple[int, ...]
    metric: str
    exponent: float
    exponent_ci: tuple[float, float]
    reference_exponent: float
    reference_exponent_ci: tuple[float, float]
    difference: float
    difference_ci: tuple[float, float]
    verdict: Verdict
    #: per n: mean risk of the policy (at its last iteration) and of the reference
    table: pd.DataFrame
    thresholds: Thresholds = field(default_factory=Thresholds)

    def to_frame(self) -> pd.DataFrame:
        """Tidy: n, source (policy | reference), mean risk and its CI."""
        return self.table.copy()

    def to_dict(self) -> dict[str, Any]:
        """JSON-safe dict."""
        return {
            "ns": list(self.ns),
            "metric": self.metric,
            "exponent": encode(self.exponent),
            "exponent_ci": [encode(x) for x in self.exponent_ci],
            "reference_exponent": encode(self.reference_exponent),
            "reference_exponent_ci": [encode(x) for x in self.reference_exponent_ci],
            "difference": encode(self.difference),
            "difference_ci": [encode(x) for x in self.difference_ci],
            "verdict": self.verdict.to_dict(),
            "table": [
                {k: (encode(v) if isinstance(v, float) else v) for k, v in row.items()}
                for row in self.table.to_dict(orient="records")
            ],
            "thresholds": self.thresholds.model_dump(),
        }


def _power_slope(logn: np.ndarray, Y: np.ndarray) -> np.ndarray:
    """OLS slope of each row of mean risk Y (R, K) in log-log against log n (K,); NaN where a
    mean is not positive and finite."""
    c = slope_contrast(logn)
    with np.errstate(invalid="ignore", divide="ignore"):
        logY = np.where((Y > 0) & np.isfinite(Y), np.log(np.where(Y > 0, Y, 1.0)), np.nan)
    return logY @ c


def scaling_profile(
    frames_by_n: Mapping[int, pd.DataFrame],
    reference: Mapping[int, pd.DataFrame] | None = None,
    *,
    metric: str = "population_risk",
    thresholds: Thresholds | Mapping[str, Any] | None = None,
) -> ScalingProfile:
    """The ``scaling-law-change`` verdict from a sweep over n (see the module docstring).

    ``frames_by_n``: n -> the run of the policy under test at that n. ``reference``: n -> a
    real-only run (its last iteration is used); None uses iteration 1 of each policy run.
    """
    th = thresholds_from(thresholds)
    level = th.ci_level
    d = "scaling-law-change"
    if len(frames_by_n) < 2:
        raise UserError("scaling_profile: needs runs at 2 or more values of n")
    ns = sorted(int(n) for n in frames_by_n)
    if reference is not None:
        missing = [n for n in ns if n not in {int(k) for k in reference}]
        if missing:
            raise UserError(f"scaling_profile: no reference run for n = {missing[0]}")
        reference = {int(k): v for k, v in reference.items()}
    frames = {int(k): v for k, v in frames_by_n.items()}
    rng = np.random.default_rng(th.bootstrap_seed)
    R = th.resamples
    pol = np.empty((R + 1, len(ns)))
    ref = np.empty((R + 1, len(ns)))
    rows = []
    min_seeds = None
    for j, n in enumerate(ns):
        run = SeedRun(frames[n], R, th.bootstrap_seed, rng=rng)
        min_seeds = run.S if min_seeds is None else min(min_seeds, run.S)
        if not run.has(metric):
            raise UserError(f"scaling_profile: the run at n = {n} has no {metric} values")
        X = run.arrays[metric]
        p = run.means(X[:, -1:])
        if reference is None:
            r = run.means(X[:, :1])
        else:
            rrun = SeedRun(reference[n], R, th.bootstrap_seed, rng=rng)
            if not rrun.has(metric):
                raise UserError(f"scaling_profile: the reference run at n = {n} has no {metric}")
            if np.array_equal(rrun.seed_ids, run.seed_ids):
                rrun.W = run.W  # paired seeds: resample them together
            r = rrun.means(rrun.arrays[metric][:, -1:])
        pol[0, j], pol[1:, j] = p.point[0], p.boot[:, 0]
        ref[0, j], ref[1:, j] = r.point[0], r.boot[:, 0]
        for source, st in (("policy", p), ("reference", r)):
            lo, hi = quantiles(st.boot, level)
            rows.append({"n": n, "source": source, "mean": float(st.point[0]),
                         "ci_low": float(lo[0]), "ci_high": float(hi[0])})
    logn = np.log(np.asarray(ns, dtype=float))
    sp, sr = _power_slope(logn, pol), _power_slope(logn, ref)
    diff = sp - sr
    (pl, ph), (rl, rh), (dl, dh) = (
        tuple(float(v[0]) for v in quantiles(a[1:, None], level)) for a in (sp, sr, diff)
    )
    table = pd.DataFrame(rows, columns=["n", "source", "mean", "ci_low", "ci_high"])
    name = "policy exponent - reference exponent of mean risk vs n"
    ref_what = "reference runs" if reference is not None else "iteration 1 (real data)"
    if math.isnan(diff[0]):
        verdict = Verdict(d, NOT_MEASURED, reason=f"mean {metric} is not positive and finite at "
                          "every n: no power law to fit")
    else:
        tol = th.scaling_exponent_tolerance
        D = Stat(np.array([diff[0]]), diff[1:, None])
        absD = Stat.apply(np.abs, D)
        what = (f"exponent {fmt(sp[0])} for the policy vs {fmt(sr[0])} for the {ref_what} over "
                f"n = {', '.join(map(str, ns))}")
        changed = [Path([Cond(D, "above", 0.0, "exponent difference", "0"),
                         Cond(absD, "at_least", tol, "its size", f"the tolerance {fmt(tol)}")]),
                   Path([Cond(D, "below", 0.0, "exponent difference", "0"),
                         Cond(absD, "at_least", tol, "its size", f"the tolerance {fmt(tol)}")])]
        same = [Path([Cond(D, "above", -tol, "exponent difference", fmt(-tol)),
                      Cond(D, "below", tol, "exponent difference", fmt(tol))])]
        # the precision is bounded by the sweep's smallest run
        shape = Shape(min_seeds or 1, np.array([1]), R)
        verdict = decide(shape, th, level, Outcome(d, Headline(name, float(diff[0]), dl, dh),
                                                   changed, same, trend_rule=False, context=what,
                                                   span=f"the sweep over n = {', '.join(map(str, ns))}"))
    return ScalingProfile(
        ns=tuple(ns), metric=metric,
        exponent=float(sp[0]), exponent_ci=(pl, ph),
        reference_exponent=float(sr[0]), reference_exponent_ci=(rl, rh),
        difference=float(diff[0]), difference_ci=(dl, dh),
        verdict=verdict, table=table, thresholds=th,
    )


__all__ = ["ScalingProfile", "scaling_profile"]
