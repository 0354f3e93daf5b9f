"""Verdict rules: the *collapse profile* of a run, and the scaling-law verdict over a sweep in n.

A run is a tidy frame with columns ``iteration, seed, metric, value`` (what
:func:`simulators.run` returns): one setup, one data policy, S seeds, T iterations. For each of
the 8 definitions of model collapse (``simulators.vocabulary.DEFINITIONS``; Schaeffer et al.,
arXiv 2503.03150) :func:`profile` gives a verdict (``simulators.vocabulary.VERDICTS``), the
statistic behind it, a confidence interval across seeds, the iteration from which the verdict's
criterion held, and a one-line reason.

Uncertainty: the seed bootstrap
    Seeds are the independent replicates of a run, so every interval is a percentile bootstrap
    over seeds: ``Thresholds.resamples`` resamples of the S seeds with replacement, drawn once per
    profile from ``numpy.random.default_rng(Thresholds.bootstrap_seed)`` (the same arguments give
    the same profile). A resample is a vector of counts, so the resampled seed means of a whole
    (S, T) trajectory matrix are one matrix product ``W @ X / S``; no Python loop over resamples.
    "Significantly" below means: the two-sided ``ci_level`` interval (default 95%) lies entirely
    on one side. With a single seed the interval degenerates to the point estimate.

Infinite and missing values
    ``inf`` is a value (a model that gives zero probability to real data has infinite risk): a seed
    mean that includes a +inf is +inf (and -inf likewise; both at once give NaN). NaN means "not
    measured for this seed": it is left out of the mean (the mean is over the seeds that have a
    value). A paired difference ``inf - inf`` is NaN, so a seed infinite at both ends drops out of
    a difference. Bootstrap resamples whose statistic is NaN are left out of the quantiles.

Rules (each threshold is a field of :class:`Thresholds`; defaults in brackets)
    ``any-risk-increase``
        Per seed d = risk(T) - risk(1) (``population_risk``). Collapse when the CI of the mean of d lies above
        ``risk_increase_min`` [0]: population risk at T is significantly above iteration 1's.
    ``catastrophic-risk``
        Collapse when (a) the risk became infinite in a significant share of seeds: the CI lower
        bound of the share of seeds whose risk is +inf at T but was finite at iteration 1
        exceeds ``catastrophic_inf_share`` [0] (a first fit on real data that is already
        infinite is estimation error, not collapse);
        or (b) the risk reaches a *trivial baseline* b (the risk of a model that ignores the data,
        e.g. the uniform distribution or the zero predictor): the share of the gap from iteration
        1's mean risk to b that is closed at T, G = (R(T) - R(1)) / (b - R(1)) (seed means), has a
        CI lower bound of at least ``catastrophic_gap`` [0.9] ("reaches", allowing for a risk
        that approaches b from below). The baseline is passed as ``baseline=`` (a number, or one
        number per seed), or comes from ``frame.attrs["trivial_risk"]``, or from rows with
        metric ``trivial_risk`` in the frame (one value per seed, constant over iterations).
        Without a baseline (a family with no model that ignores the data, e.g. the Gaussian), a
        run where (a) does not hold is ``not-measured``: a finite risk, however large, neither
        shows nor rules out reaching a baseline that does not exist. If iteration 1's risk is
        already at or above the baseline, (b) cannot tell collapse from a poor first fit, and the
        verdict is ``not-measured`` unless (a) holds.
    ``diverging-risk``
        Risk keeps growing without a plateau. On the seed-mean risk m(t): collapse when
        (a) the trend over the last half of the run is significantly positive: the CI of the OLS
        slope of m(t) over iterations T/2..T lies above 0; and (b) it does not flatten: the
        growth is significantly *faster* than that of increments decaying like t^-p,
        p = ``trend_decay_exponent`` [1]. The test of (b) compares the growth over the last
        doubling of time, G2 (T/2..T), with the doubling before, G1 (T/4..T/2) (each the OLS
        slope times the window's span): with increments ~ t^-p, G2/G1 = r_p, the ratio of the
        integrals of t^-p over the two windows (r_1 = 1: equal growth per doubling); (b) holds
        when the CI lower bound of D = G2 - r_p G1 is above 0. Why p = 1: the sum of increments
        ~ t^-p diverges iff p <= 1 (sum 1/t diverges, sum 1/t^2 converges), so it is the
        boundary between divergence and a plateau; requiring D > 0 significantly means the data
        show growth that no converging trend of this kind explains (logarithmic growth, exactly
        on the boundary, is not called diverging). Linear growth (replace regression,
        E risk = c t; Gerstgrasser et al., arXiv 2404.01413) has G2 = 2 G1, D = G1 > 0:
        collapse. The accumulate case (E risk = c sum_k<=t 1/k^2 -> c pi^2/6) has G2 = G1/2,
        D = -G1/2 < 0: no-collapse. Doubling windows (rather than the two quarters of the last
        half) give D about 7 times the signal for the same noise, and ignore transients of the
        first quarter of the run. Power: D is noisier than the slope; for linear regression
        (dim 10, n 100, 100 iterations) its z-score is about 3 with 50 seeds and 4.5 with 100,
        so use 100 seeds or more for a reliable ``collapse`` (the reason line says when (a)
        holds but (b) is not significant). Without (b) the accumulate case was called diverging
        in about 1 run in 10 (its tiny true late growth is sometimes significant). Risk that is
        infinite in a significant share of seeds (``catastrophic-risk`` (a)) has diverged:
        collapse. Needs T >= ``trend_min_iterations`` [8].
    ``collapsing-variance``, ``tail-disappearance``, ``hallucinated-data``,
    ``mode-entanglement`` use the *median* over seeds (the typical run), the risk rules the mean
    (population risk is an expectation over the training randomness, as in Gerstgrasser et al.).
    Why: under collapse these per-seed quantities are extremely skewed. Variance ratios are
    multiplicative (with the unbiased Gaussian estimator their mean stays 1 while almost every
    run collapses, Shumailov et al., arXiv 2305.17493); a collapsed Gaussian whose mean drifted
    into the tail region, or a categorical fixed on a rare outcome, has a tail-mass ratio of up to
    1/(tail mass), so a few such seeds make the mean tail ratio rise while the tails of the
    typical run are gone. The median is also robust to one seed whose variance is exactly 0.
    ``collapsing-variance``
        On the median over seeds of ``variance_ratio``: collapse when (a) its CI upper bound at T
        is below ``variance_floor`` [0.1], or (b) the median log variance ratio keeps falling
        (towards -inf, i.e. the ratio towards zero): the ``diverging-risk`` trend test with the
        sign reversed.
    ``tail-disappearance``
        The tail-mass ratio falls significantly below 1 (DESIGN.md), read as two conditions that
        must both hold: the CI upper bound of the median tail_mass_ratio(T) is below 1 (less tail
        than the truth), and it *fell* there: the statistic, the ratio of seed medians
        tail_mass_ratio(T) / tail_mass_ratio(1), has a CI upper bound below ``tail_ratio_max``
        [1]. Why also relative to iteration 1: a single finite-sample fit on real data already
        under-represents tails (the MLE variance is biased low; a categorical MLE gives unseen
        outcomes zero mass); that is estimation error, not the effect of training on generated
        data, which is what the definition is about. The raw medians are in the reason. If the
        median at iteration 1 is 0, there is no tail to lose: ``not-measured``.
    ``hallucinated-data``
        Per seed d = hallucinated_mass(T) - hallucinated_mass(1); collapse when the CI of the
        median of d lies above ``hallucination_increase_min`` [0].
    ``mode-entanglement``
        Per seed d = mode_overlap(T) - mode_overlap(1); collapse when the CI of the median of d
        lies above ``overlap_increase_min`` [0].
    ``scaling-law-change``
        Not measurable on one run (it needs a sweep over n): ``not-measured``, unless the result
        of :func:`scaling_profile` is passed as ``profile(..., scaling=...)``.

The iteration of a verdict
    Each rule is evaluated as if the run had ended at every iteration t (for the trend rules, on
    the prefix 1..t, at up to ``max_checkpoints`` [200] evenly spaced prefix lengths); the
    reported iteration of a ``collapse`` is the first t from which the criterion holds through
    T. A ``no-collapse`` or ``not-measured`` has no iteration.

Scaling law (:func:`scaling_profile`)
    For a sweep over n (one run per n of the policy under test), fit log(mean risk) against
    log(n) by least squares, for the policy (risk at each run's last iteration) and for a
    real-only reference (the ``reference`` runs' last iteration; without them, iteration 1 of the
    policy's own runs, which is the fit on n real samples). The exponent is the slope. Collapse
    when the seed-bootstrap CI of (policy exponent - reference exponent) excludes
    [-``scaling_exponent_tolerance``, +``scaling_exponent_tolerance``] [0]. Seeds are resampled
    independently per n (the runs are independent); the reference is resampled with the same
    counts as the policy when it has the same seed ids (paired). For density models whose
    population risk is a cross-entropy (it contains the truth's entropy and may be negative),
    pass ``metric="kl_to_truth"``, the excess risk, which is what follows a power law.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from simulators.runfiles import BASELINE_METRIC, RUN_COLUMNS
from simulators.errors import UserError
from simulators.vocabulary import DEFINITIONS, VERDICTS

# The order of VERDICTS is part of the vocabulary's contract.
COLLAPSE, NO_COLLAPSE, NOT_MEASURED = VERDICTS

#: the tidy columns of a run
#: the columns of :meth:`Profile.to_frame`
PROFILE_COLUMNS: tuple[str, ...] = (
    "definition",
    "verdict",
    "statistic",
    "ci_low",
    "ci_high",
    "iteration",
    "reason",
)
#: metric name (outside the vocabulary's METRICS) under which a frame may carry the trivial risk


class Thresholds(BaseModel):
    """The named, documented parameters of the verdict rules (see the module docstring)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    ci_level: float = Field(0.95, gt=0, lt=1, description="two-sided level of every bootstrap CI")
    resamples: int = Field(2000, ge=100, le=100_000, description="seed-bootstrap resamples")
    bootstrap_seed: int = Field(0, ge=0, description="seed of the bootstrap's RNG")
    risk_increase_min: float = Field(
        0.0, ge=0, description="any-risk-increase: the CI of risk(T)-risk(1) must lie above this"
    )
    catastrophic_gap: float = Field(
        0.9, gt=0, le=1, description="catastrophic-risk: CI low of the share of the gap to the "
        "trivial baseline closed at T must reach this"
    )
    catastrophic_inf_share: float = Field(
        0.0, ge=0, lt=1, description="catastrophic/diverging: CI low of the share of seeds whose "
        "risk became infinite after iteration 1 must exceed this"
    )
    trend_min_iterations: int = Field(
        8, ge=8, description="trend tests need at least this many iterations"
    )
    trend_decay_exponent: float = Field(
        1.0, gt=0, description="trend tests: growth must be significantly faster than that of "
        "increments decaying like t^-p"
    )
    variance_floor: float = Field(
        0.1, gt=0, lt=1, description="collapsing-variance: CI high of the median variance "
        "ratio below this"
    )
    tail_ratio_max: float = Field(
        1.0, gt=0, le=1, description="tail-disappearance: CI high of median tail ratio(T)/(1) "
        "below this"
    )
    hallucination_increase_min: float = Field(
        0.0, ge=0, description="hallucinated-data: CI of the increase must lie above this"
    )
    overlap_increase_min: float = Field(
        0.0, ge=0, description="mode-entanglement: CI of the increase must lie above this"
    )
    scaling_exponent_tolerance: float = Field(
        0.0, ge=0, description="scaling-law-change: the CI of the exponent difference must "
        "exclude +-this"
    )
    max_checkpoints: int = Field(
        200, ge=2, description="trend tests: at most this many prefixes are tested for the "
        "iteration a verdict was reached"
    )


def thresholds_from(value: Thresholds | Mapping[str, Any] | None) -> Thresholds:
    """A :class:`Thresholds` from itself, a mapping of overrides, or None (the defaults)."""
    if value is None:
        return Thresholds()
    if isinstance(value, Thresholds):
        return value
    try:
        return Thresholds(**dict(value))
    except ValidationError as exc:
        err = exc.errors()[0]
        where = ".".join(str(p) for p in err["loc"]) or "thresholds"
        raise UserError(f"threshold {where}: {err['msg']}") from None


# --------------------------------------------------------------------------------------------
# Results


def _encode(x: float | None) -> float | str | None:
    """A float for JSON: finite as is, NaN/None as null, +-inf as the strings "inf"/"-inf"."""
    if x is None or (isinstance(x, float) and math.isnan(x)):
        return None
    if math.isinf(x):
        return "inf" if x > 0 else "-inf"
    return float(x)


def _decode(x: Any) -> float:
    if x is None:
        return math.nan
    return float(x)


@dataclass(frozen=True)
class Verdict:
    """The answer of one definition: verdict, statistic with CI, iteration reached, reason."""

    definition: str
    verdict: str
    statistic: float = math.nan
    ci_low: float = math.nan
    ci_high: float = math.nan
    iteration: int | None = None
    reason: str = ""
    #: what ``statistic`` is (e.g. "mean risk(T) - risk(1)")
    statistic_name: str = ""

    def to_dict(self) -> dict[str, Any]:
        """JSON-safe dict (non-finite floats encoded as in :func:`_encode`)."""
        return {
            "definition": self.definition,
            "verdict": self.verdict,
            "statistic": _encode(self.statistic),
            "ci_low": _encode(self.ci_low),
            "ci_high": _encode(self.ci_high),
            "iteration": self.iteration,
            "reason": self.reason,
            "statistic_name": self.statistic_name,
        }

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> Verdict:
        """Inverse of :meth:`to_dict`."""
        return cls(
            definition=d["definition"],
            verdict=d["verdict"],
            statistic=_decode(d.get("statistic")),
            ci_low=_decode(d.get("ci_low")),
            ci_high=_decode(d.get("ci_high")),
            iteration=None if d.get("iteration") is None else int(d["iteration"]),
            reason=d.get("reason", ""),
            statistic_name=d.get("statistic_name", ""),
        )


@dataclass(frozen=True)
class Profile:
    """The collapse profile of one run: one :class:`Verdict` per definition, in DEFINITIONS order."""

    verdicts: tuple[Verdict, ...]
    thresholds: Thresholds = field(default_factory=Thresholds)
    seeds: int = 0
    iterations: int = 0

    def __getitem__(self, definition: str) -> Verdict:
        for v in self.verdicts:
            if v.definition == definition:
                return v
        raise KeyError(definition)

    def verdict(self, definition: str) -> str:
        """The verdict string of one definition."""
        return self[definition].verdict

    def to_frame(self) -> pd.DataFrame:
        """Tidy: one row per definition, columns :data:`PROFILE_COLUMNS`."""
        rows = [
            {
                "definition": v.definition,
                "verdict": v.verdict,
                "statistic": v.statistic,
                "ci_low": v.ci_low,
                "ci_high": v.ci_high,
                "iteration": v.iteration,
                "reason": v.reason,
            }
            for v in self.verdicts
        ]
        frame = pd.DataFrame(rows, columns=list(PROFILE_COLUMNS))
        frame["iteration"] = frame["iteration"].astype("Int64")
        return frame

    def to_dict(self) -> dict[str, Any]:
        """JSON-safe dict for output and storage (see :meth:`from_dict`)."""
        return {
            "seeds": self.seeds,
            "iterations": self.iterations,
            "thresholds": self.thresholds.model_dump(),
            "verdicts": [v.to_dict() for v in self.verdicts],
        }

    def to_json(self, **kwargs: Any) -> str:
        """:meth:`to_dict` as strict JSON."""
        return json.dumps(self.to_dict(), allow_nan=False, **kwargs)

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> Profile:
        """Inverse of :meth:`to_dict`."""
        return cls(
            verdicts=tuple(Verdict.from_dict(v) for v in d["verdicts"]),
            thresholds=Thresholds(**d.get("thresholds", {})),
            seeds=int(d.get("seeds", 0)),
            iterations=int(d.get("iterations", 0)),
        )


# --------------------------------------------------------------------------------------------
# The run as arrays, and the seed bootstrap


def _fmt(x: float) -> str:
    if x is None or (isinstance(x, float) and math.isnan(x)):
        return "nan"
    if math.isinf(x):
        return "inf" if x > 0 else "-inf"
    return f"{x:.3g}"


def _pct(x: float) -> str:
    return "nan" if math.isnan(x) else f"{100 * x:.3g}%"


def _ci_text(low: float, high: float, level: float) -> str:
    return f"{round(level * 100):g}% CI {_fmt(low)} to {_fmt(high)}"


def _weighted_means(W: np.ndarray, X: np.ndarray) -> np.ndarray:
    """Seed means of X (S, K) under count weights W (R, S) -> (R, K), inf- and NaN-aware."""
    finite = np.isfinite(X)
    num = W @ np.where(finite, X, 0.0)
    den = W @ finite.astype(float)
    pos = (W @ np.isposinf(X).astype(float)) > 0
    neg = (W @ np.isneginf(X).astype(float)) > 0
    with np.errstate(invalid="ignore", divide="ignore"):
        out = num / den
    out = np.where(pos & ~neg, np.inf, out)
    out = np.where(neg & ~pos, -np.inf, out)
    out = np.where(pos & neg, np.nan, out)
    return out


def _weighted_medians(W: np.ndarray, X: np.ndarray) -> np.ndarray:
    """Seed medians of X (S, K) under count weights W (R, S) -> (R, K); NaN left out, inf kept.

    The median of a resample is the midpoint of its lower and upper median (order statistics,
    so +-inf values need no arithmetic unless they are the median). One pass per column: a
    sort of the S values and a cumulative sum of the (R, S) counts in that order, vectorised over
    blocks of columns.
    """
    R, S = W.shape
    K = X.shape[1]
    out = np.empty((R, K))
    Wi = W.astype(np.int32)  # resample counts are small integers
    chunk = max(1, 4_000_000 // max(R * S, 1))  # columns per block: bounded memory
    for start in range(0, K, chunk):
        block = X[:, start:start + chunk].T  # (k, S)
        k = block.shape[0]
        order = np.argsort(block, axis=1)  # NaN last
        xs = np.take_along_axis(block, order, axis=1)  # (k, S)
        ws = Wi[:, order]  # (R, k, S)
        ws *= ~np.isnan(xs)[None, :, :]
        cw = np.cumsum(ws, axis=2)
        total = cw[:, :, -1]  # (R, k)
        lo = (cw < ((total + 1) // 2)[:, :, None]).sum(axis=2)  # first with cw >= ceil(total/2)
        hi = (cw < (total // 2 + 1)[:, :, None]).sum(axis=2)  # first with cw >= floor(total/2)+1
        lo, hi = np.minimum(lo, S - 1), np.minimum(hi, S - 1)
        cols = np.arange(k)[None, :]
        a, b = xs[cols, lo], xs[cols, hi]
        with np.errstate(invalid="ignore"):
            med = np.where(a == b, a, (a + b) / 2)
        out[:, start:start + k] = np.where(total <= 0, np.nan, med)
    return out


def _quantiles(boot: np.ndarray, level: float) -> tuple[np.ndarray, np.ndarray]:
    """Percentile CI along axis 0, ignoring NaN resamples, exact order statistics (no inf-inf)."""
    alpha = (1.0 - level) / 2.0
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        low = np.nanquantile(boot, alpha, axis=0, method="inverted_cdf")
        high = np.nanquantile(boot, 1.0 - alpha, axis=0, method="inverted_cdf")
    return low, high


@dataclass
class _Est:
    """A statistic at K points (iterations or prefixes): point estimate and bootstrap CI."""

    point: np.ndarray  # (K,)
    low: np.ndarray  # (K,)
    high: np.ndarray  # (K,)


def _reached(holds: np.ndarray, x: np.ndarray) -> int | None:
    """First x from which ``holds`` is True through the end (None if it fails at the end)."""
    if len(holds) == 0 or not holds[-1]:
        return None
    failing = np.flatnonzero(~holds)
    first = 0 if len(failing) == 0 else failing[-1] + 1
    return int(x[first])


class _Run:
    """A tidy run as (S, T) arrays per metric, plus the bootstrap count matrix."""

    def __init__(self, frame: pd.DataFrame, th: Thresholds, *, rng: np.random.Generator | None = None):
        if not isinstance(frame, pd.DataFrame):
            raise UserError(f"a run must be a pandas DataFrame, not {type(frame).__name__}")
        missing = [c for c in RUN_COLUMNS if c not in frame.columns]
        if missing:
            raise UserError(
                f"run frame: missing column(s) {', '.join(missing)} "
                f"(expected {', '.join(RUN_COLUMNS)})"
            )
        if len(frame) == 0:
            raise UserError("run frame: no rows")
        self.th = th
        df = frame.loc[:, list(RUN_COLUMNS)]
        try:
            iteration = pd.to_numeric(df["iteration"], errors="raise").to_numpy()
            seed = pd.to_numeric(df["seed"], errors="raise").to_numpy()
            value = pd.to_numeric(df["value"], errors="raise").to_numpy(dtype=float)
        except (ValueError, TypeError) as exc:
            raise UserError(f"run frame: non-numeric iteration, seed or value ({exc})") from None
        if np.isnan(iteration.astype(float)).any() or np.isnan(seed.astype(float)).any():
            raise UserError("run frame: empty iteration or seed")
        iteration = iteration.astype(np.int64)
        seed = seed.astype(np.int64)
        metric = df["metric"].astype(str).to_numpy()
        self.iterations = np.unique(iteration)
        self.seed_ids = np.unique(seed)
        S, T = len(self.seed_ids), len(self.iterations)
        it_idx = np.searchsorted(self.iterations, iteration)
        sd_idx = np.searchsorted(self.seed_ids, seed)
        self.arrays: dict[str, np.ndarray] = {}
        for name in pd.unique(metric):
            sel = metric == name
            arr = np.full((S, T), np.nan)
            flat = sd_idx[sel] * T + it_idx[sel]
            if len(np.unique(flat)) != len(flat):
                raise UserError(
                    f"run frame: metric {name}: more than one value for an (iteration, seed) "
                    "pair (a frame must hold one run)"
                )
            arr.ravel()[flat] = value[sel]
            self.arrays[str(name)] = arr
        self.S, self.T = S, T
        rng = rng if rng is not None else np.random.default_rng(th.bootstrap_seed)
        self.W = rng.multinomial(S, np.full(S, 1.0 / S), size=th.resamples).astype(float)
        self.attrs = dict(frame.attrs)

    @property
    def first(self) -> int:
        return int(self.iterations[0])

    @property
    def last(self) -> int:
        return int(self.iterations[-1])

    def has(self, metric: str) -> bool:
        arr = self.arrays.get(metric)
        return arr is not None and not np.isnan(arr).all()

    def means(self, X: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(point (K,), bootstrap (R, K)) seed means of X (S, K)."""
        point = _weighted_means(np.ones((1, self.S)), X)[0]
        return point, _weighted_means(self.W, X)

    def medians(self, X: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(point (K,), bootstrap (R, K)) seed medians of X (S, K)."""
        point = _weighted_medians(np.ones((1, self.S)), X)[0]
        return point, _weighted_medians(self.W, X)

    def est(self, X: np.ndarray, stat: str = "mean") -> _Est:
        point, boot = self.means(X) if stat == "mean" else self.medians(X)
        low, high = _quantiles(boot, self.th.ci_level)
        return _Est(point, low, high)

    def checkpoints(self) -> np.ndarray:
        """Prefix lengths tested by the trend rules (always including T)."""
        m, T = self.th.trend_min_iterations, self.T
        if T < m:
            return np.zeros(0, dtype=int)
        k = min(T - m + 1, self.th.max_checkpoints)
        return np.unique(np.round(np.linspace(m, T, k)).astype(int))

    def trend(self, point: np.ndarray, boot: np.ndarray, sign: float) -> dict[str, Any]:
        """The trend test of ``diverging-risk`` on a seed-statistic trajectory (point (T,),
        bootstrap (R, T)), at every checkpoint.

        ``sign`` = +1 tests "keeps growing", -1 "keeps falling". Returns per checkpoint the slope
        over the last half (sign-adjusted) with CI, the flattening contrast D with CI, and
        whether the criterion holds.
        """
        lengths = self.checkpoints()
        # positions on the time axis (iterations are 1..T by contract; shifted to start at 1)
        x = self.iterations.astype(float)
        x = x - x[0] + 1.0
        p = self.th.trend_decay_exponent
        P = len(lengths)
        C_half = np.zeros((self.T, P))
        C_d = np.zeros((self.T, P))
        for j, L in enumerate(lengths):
            ih = np.arange(L // 2, L)  # the last half
            C_half[ih, j] = _slope_contrast(x[ih])
            # growth over the last doubling of time vs the one before (they share one point)
            i1, i2 = np.arange(L // 4, L // 2 + 1), np.arange(L // 2, L)
            g1 = _slope_contrast(x[i1]) * (x[i1[-1]] - x[i1[0]])
            g2 = _slope_contrast(x[i2]) * (x[i2[-1]] - x[i2[0]])
            ratio = _power_integral(x[i2[0]], x[i2[-1]], p) / _power_integral(x[i1[0]], x[i1[-1]], p)
            C_d[i2, j] += g2
            C_d[i1, j] -= ratio * g1
        allm = np.vstack([point[None, :], boot])
        bad = ~np.isfinite(allm)
        allm0 = np.where(bad, 0.0, allm)
        out = {}
        for key, C in (("slope", C_half), ("flat", C_d)):
            val = sign * (allm0 @ C)
            poisoned = (bad.astype(float) @ (C != 0).astype(float)) > 0
            val[poisoned] = np.nan
            low, high = _quantiles(val[1:], self.th.ci_level)
            out[key] = _Est(val[0], low, high)
        holds = (out["slope"].low > 0) & (out["flat"].low > 0)
        out["holds"] = holds
        out["lengths"] = lengths
        return out

    def expand(self, values: np.ndarray, lengths: np.ndarray) -> np.ndarray:
        """Per-checkpoint booleans -> per-iteration (forward-filled; False before the first)."""
        out = np.zeros(self.T, dtype=bool)
        if len(lengths) == 0:
            return out
        pos = np.searchsorted(lengths, np.arange(1, self.T + 1), side="right") - 1
        ok = pos >= 0
        out[ok] = values[pos[ok]]
        return out


def _power_integral(a: float, b: float, p: float) -> float:
    """Integral of t^-p from a to b (the growth of a trend whose increments decay like t^-p)."""
    if abs(p - 1.0) < 1e-12:
        return math.log(b / a)
    return (b ** (1.0 - p) - a ** (1.0 - p)) / (1.0 - p)


def _slope_contrast(x: np.ndarray) -> np.ndarray:
    """Weights c with c @ y = OLS slope of y on x."""
    xc = x - x.mean()
    return xc / (xc @ xc)


# --------------------------------------------------------------------------------------------
# The rules


def _not_measured(definition: str, reason: str) -> Verdict:
    return Verdict(definition, NOT_MEASURED, reason=reason)


def _absent(definition: str, metric: str) -> Verdict:
    return _not_measured(definition, f"the run has no {metric} values (the simulator does not report it)")


def _increase_rule(
    run: _Run, definition: str, metric: str, minimum: float, what: str, stat: str = "mean"
) -> Verdict:
    """Collapse when the seed mean (or median) of metric(T) - metric(1) is significantly above
    ``minimum``."""
    if not run.has(metric):
        return _absent(definition, metric)
    if run.T < 2:
        return _not_measured(definition, "needs at least 2 iterations")
    X = run.arrays[metric]
    with np.errstate(invalid="ignore"):
        D = X - X[:, :1]
    e = run.est(D, stat)
    s, lo, hi = e.point[-1], e.low[-1], e.high[-1]
    name = f"{stat} over seeds of {metric}(T) - {metric}(1)"
    if math.isnan(s):
        return _not_measured(definition, f"{metric} has no usable paired values at iterations "
                             f"{run.first} and {run.last}")
    holds = (e.low > minimum) & (e.point > minimum)
    ci = _ci_text(lo, hi, run.th.ci_level)
    span = f"from iteration {run.first} to {run.last}"
    if holds[-1]:
        verdict, reason = COLLAPSE, f"{what} rose by {_fmt(s)} {span} ({ci}, above {_fmt(minimum)})"
    else:
        verdict = NO_COLLAPSE
        reason = f"{what} changed by {_fmt(s)} {span} ({ci}, not significantly above {_fmt(minimum)})"
    return Verdict(definition, verdict, s, lo, hi, _reached(holds, run.iterations), reason, name)


def _inf_share(run: _Run, R: np.ndarray) -> tuple[_Est, np.ndarray]:
    """Share of seeds whose risk *became* +inf since iteration 1, per iteration, and where it is
    significantly above the threshold.

    Paired per seed: 1 if the risk is infinite at t but was finite at iteration 1. A seed whose
    first fit on real data is already infinite (a discrete outcome unseen in the n real samples
    gets probability zero) shows estimation error, not degradation from training on generated
    data, so it does not count towards collapse.
    """
    inf_t = np.isposinf(R).astype(float)
    I = np.where(np.isnan(R), np.nan, inf_t * (1.0 - inf_t[:, :1]))
    e = run.est(I)
    holds = e.low > run.th.catastrophic_inf_share
    return e, holds


def _baseline_values(run: _Run, baseline: Any) -> np.ndarray | None:
    """The trivial baseline as an (S,) array, or None (see the module docstring)."""
    source = baseline
    if source is None:
        source = run.attrs.get(BASELINE_METRIC)
    if source is None and BASELINE_METRIC in run.arrays:
        arr = run.arrays[BASELINE_METRIC]
        with np.errstate(all="ignore"):
            vals = np.nanmean(np.where(np.isnan(arr), np.nan, arr), axis=1)
        if not np.isnan(vals).all():
            return vals
        return None
    if source is None:
        return None
    if isinstance(source, (int, float, np.floating, np.integer)):
        return np.full(run.S, float(source))
    if isinstance(source, (Mapping, pd.Series)):
        mapping = dict(source.items())
        try:
            return np.array([float(mapping[int(s)]) for s in run.seed_ids])
        except KeyError as exc:
            raise UserError(f"baseline: no value for seed {exc.args[0]}") from None
    arr = np.asarray(source, dtype=float)
    if arr.shape != (run.S,):
        raise UserError(f"baseline: expected a number or {run.S} values (one per seed), "
                        f"got shape {arr.shape}")
    return arr


def _catastrophic(run: _Run, baseline: Any) -> Verdict:
    d, metric = "catastrophic-risk", "population_risk"
    if not run.has(metric):
        return _absent(d, metric)
    R = run.arrays[metric]
    th = run.th
    inf_e, inf_holds = _inf_share(run, R)
    b = _baseline_values(run, baseline)
    ci_inf = _ci_text(inf_e.low[-1], inf_e.high[-1], th.ci_level)
    inf_text = (f"risk became infinite in {_pct(inf_e.point[-1])} of seeds by iteration "
                f"{run.last} ({ci_inf} for the share)")
    if inf_holds[-1]:
        return Verdict(
            d, COLLAPSE, inf_e.point[-1], inf_e.low[-1], inf_e.high[-1],
            _reached(inf_holds, run.iterations), f"risk became infinite: {inf_text}",
            "share of seeds whose risk became infinite by T",
        )
    if b is None:
        # Without a baseline, "reaches the risk of a model that ignores the data" cannot be
        # tested: a finite risk, however large, is not evidence either way.
        return Verdict(
            d, NOT_MEASURED, inf_e.point[-1], inf_e.low[-1], inf_e.high[-1], None,
            f"risk did not become infinite ({inf_text}); this family has no trivial baseline "
            "(no model that ignores the data), so reaching one could not be tested",
            "share of seeds whose risk became infinite by T",
        )
    # gap closed: G_t = (R_t - R_1) / (b - R_1), seed means under the same resample
    Rp, Rb = run.means(R)
    bp, bb = run.means(b[:, None])
    with np.errstate(invalid="ignore", divide="ignore"):
        gap_p = bp[0] - Rp[0]
        if not (gap_p > 0):
            return _not_measured(
                d,
                f"risk at iteration {run.first} ({_fmt(Rp[0])}) is already at or above the trivial "
                f"baseline ({_fmt(bp[0])}); {inf_text}",
            )
        Gp = (Rp - Rp[0]) / gap_p
        gap_b = bb[:, :1] - Rb[:, :1]
        Gb = np.where(gap_b > 0, (Rb - Rb[:, :1]) / gap_b, np.nan)
    low, high = _quantiles(Gb, th.ci_level)
    holds = (low >= th.catastrophic_gap) | inf_holds
    ci = _ci_text(low[-1], high[-1], th.ci_level)
    name = "share of the gap from risk(1) to the trivial baseline closed at T"
    if holds[-1]:
        reason = (f"risk reached the trivial baseline {_fmt(bp[0])}: {_fmt(Gp[-1])} of the gap "
                  f"from iteration {run.first} closed ({ci}, at least {_fmt(th.catastrophic_gap)})")
        verdict = COLLAPSE
    else:
        reason = (f"risk stays below the trivial baseline {_fmt(bp[0])}: {_fmt(Gp[-1])} of the "
                  f"gap closed ({ci}, needs {_fmt(th.catastrophic_gap)}); {inf_text}")
        verdict = NO_COLLAPSE
    return Verdict(d, verdict, Gp[-1], low[-1], high[-1], _reached(holds, run.iterations),
                   reason, name)


def _diverging(run: _Run) -> Verdict:
    d, metric = "diverging-risk", "population_risk"
    if not run.has(metric):
        return _absent(d, metric)
    th = run.th
    R = run.arrays[metric]
    inf_e, inf_holds = _inf_share(run, R)
    if inf_holds[-1]:
        ci = _ci_text(inf_e.low[-1], inf_e.high[-1], th.ci_level)
        return Verdict(
            d, COLLAPSE, inf_e.point[-1], inf_e.low[-1], inf_e.high[-1],
            _reached(inf_holds, run.iterations),
            f"risk diverged to infinity in {_pct(inf_e.point[-1])} of seeds ({ci} for the share)",
            "share of seeds with infinite risk at T",
        )
    if run.T < th.trend_min_iterations:
        return _not_measured(d, f"the trend test needs at least {th.trend_min_iterations} "
                             f"iterations, the run has {run.T}")
    # the trend is of the seeds whose risk stays finite (the infinite ones were tested above)
    infinite = np.isinf(R).any(axis=1)
    Rf = np.where(infinite[:, None], np.nan, R)
    tr = run.trend(*run.means(Rf), +1.0)
    holds = run.expand(tr["holds"], tr["lengths"])
    v = _trend_verdict(run, d, tr, holds, "mean risk", "growing")
    if infinite.any():
        v = Verdict(v.definition, v.verdict, v.statistic, v.ci_low, v.ci_high, v.iteration,
                    f"{v.reason} ({int(infinite.sum())} of {run.S} seeds with infinite risk "
                    "left out of the trend)", v.statistic_name)
    return v


def _trend_verdict(run: _Run, d: str, tr: dict[str, Any], holds: np.ndarray, what: str,
                   direction: str) -> Verdict:
    """The verdict of a trend test (``diverging-risk``, or part of ``collapsing-variance``)."""
    th = run.th
    s, sl, sh = tr["slope"].point[-1], tr["slope"].low[-1], tr["slope"].high[-1]
    f, fl, fh = tr["flat"].point[-1], tr["flat"].low[-1], tr["flat"].high[-1]
    half = f"iterations {int(run.iterations[run.T // 2])}-{run.last}"
    slope_text = f"slope of {what} over {half} {_fmt(s)} per iteration ({_ci_text(sl, sh, th.ci_level)})"
    flat_text = (f"growth over the last doubling of t minus the t^-{_fmt(th.trend_decay_exponent)} "
                 f"expectation from the one before = {_fmt(f)} ({_ci_text(fl, fh, th.ci_level)})")
    name = f"slope of {what} over the last half"
    if math.isnan(s):
        return _not_measured(d, f"{what} has no finite trend over {half}")
    if holds[-1]:
        verdict = COLLAPSE
        reason = f"keeps {direction}: {slope_text}; not levelling off (faster than 1/t): {flat_text}"
    elif not (sl > 0):
        verdict = NO_COLLAPSE
        reason = f"not significantly {direction}: {slope_text}"
    elif fh < 0:
        verdict = NO_COLLAPSE
        reason = f"{direction} but levelling off: {flat_text}; {slope_text}"
    else:
        verdict = NO_COLLAPSE
        reason = (f"{direction}, but not significantly faster than a converging trend: "
                  f"{flat_text}; {slope_text}")
    iteration = _reached(holds, run.iterations)
    return Verdict(d, verdict, float(s), float(sl), float(sh), iteration, reason, name)


def _collapsing_variance(run: _Run) -> Verdict:
    d, metric = "collapsing-variance", "variance_ratio"
    if not run.has(metric):
        return _absent(d, metric)
    th = run.th
    V = run.arrays[metric]
    with np.errstate(divide="ignore", invalid="ignore"):
        L = np.where(V >= 0, np.log(np.where(V >= 0, V, 1.0)), np.nan)
    pt, boot = run.medians(L)
    low, high = _quantiles(boot, th.ci_level)
    gm, lo, hi = np.exp(pt), np.exp(low), np.exp(high)
    if math.isnan(gm[-1]):
        return _not_measured(d, f"{metric} has no usable value at iteration {run.last}")
    floor_holds = hi < th.variance_floor
    name = "median over seeds of variance_ratio at T"
    ci = _ci_text(lo[-1], hi[-1], th.ci_level)
    head = f"median variance ratio {_fmt(gm[-1])} at iteration {run.last} ({ci})"
    if run.T >= th.trend_min_iterations:
        tr = run.trend(pt, boot, -1.0)
        trend_holds = run.expand(tr["holds"], tr["lengths"])
    else:
        tr, trend_holds = None, np.zeros(run.T, dtype=bool)
    holds = floor_holds | trend_holds
    iteration = _reached(holds, run.iterations)
    if floor_holds[-1]:
        return Verdict(d, COLLAPSE, gm[-1], lo[-1], hi[-1], iteration,
                       f"{head}: below the floor {_fmt(th.variance_floor)}", name)
    if tr is None:
        return Verdict(d, NO_COLLAPSE, gm[-1], lo[-1], hi[-1], None,
                       f"{head}: not below the floor {_fmt(th.variance_floor)}; too few "
                       f"iterations ({run.T}) for the trend test", name)
    sub = _trend_verdict(run, d, tr, trend_holds, "median log variance ratio", "falling")
    if trend_holds[-1]:
        return Verdict(d, COLLAPSE, gm[-1], lo[-1], hi[-1], iteration,
                       f"{head}: {sub.reason}", name)
    return Verdict(d, NO_COLLAPSE, gm[-1], lo[-1], hi[-1], None,
                   f"{head}: not below the floor {_fmt(th.variance_floor)}; {sub.reason}", name)


def _tail(run: _Run) -> Verdict:
    d, metric = "tail-disappearance", "tail_mass_ratio"
    if not run.has(metric):
        return _absent(d, metric)
    if run.T < 2:
        return _not_measured(d, "needs at least 2 iterations")
    th = run.th
    A = run.arrays[metric]
    pt, boot = run.medians(A)
    if not (pt[0] > 0) or not math.isfinite(pt[0]):
        return _not_measured(d, f"the tail mass ratio at iteration {run.first} is {_fmt(pt[0])}: "
                             "no tail left to lose relative to the real-data fit")
    with np.errstate(invalid="ignore", divide="ignore"):
        rel = pt / pt[0]
        rel_b = np.where(boot[:, :1] > 0, boot / boot[:, :1], np.nan)
    low, high = _quantiles(rel_b, th.ci_level)
    abs_low, abs_high = _quantiles(boot, th.ci_level)
    below_truth = abs_high < 1.0  # DESIGN.md: the ratio falls significantly below 1 ...
    fell = high < th.tail_ratio_max  # ... and it fell there: below the first fit's ratio
    holds = below_truth & fell
    ci = _ci_text(low[-1], high[-1], th.ci_level)
    abs_ci = _ci_text(abs_low[-1], abs_high[-1], th.ci_level)
    raw = (f"median tail mass ratio {_fmt(pt[-1])} at iteration {run.last} ({abs_ci}), "
           f"{_fmt(pt[0])} at {run.first}")
    if holds[-1]:
        verdict = COLLAPSE
        reason = (f"tail mass fell to {_fmt(rel[-1])} of iteration {run.first}'s ({ci}, below "
                  f"{_fmt(th.tail_ratio_max)}) and is significantly below the truth's; {raw}")
    elif fell[-1]:
        verdict = NO_COLLAPSE
        reason = (f"tail mass fell to {_fmt(rel[-1])} of iteration {run.first}'s ({ci}) but is "
                  f"not significantly below the truth's; {raw}")
    else:
        verdict = NO_COLLAPSE
        reason = (f"tail mass at {_fmt(rel[-1])} of iteration {run.first}'s ({ci}, not "
                  f"significantly below {_fmt(th.tail_ratio_max)}); {raw}")
    return Verdict(d, verdict, float(rel[-1]), float(low[-1]), float(high[-1]),
                   _reached(holds, run.iterations), reason,
                   "median tail_mass_ratio(T) / median tail_mass_ratio(1)")


def _scaling_single(scaling: ScalingProfile | None) -> Verdict:
    if scaling is None:
        return _not_measured("scaling-law-change", "needs a sweep over n: see "
                             "simulators.scaling_profile")
    return scaling.verdict


def profile(
    frame: pd.DataFrame,
    *,
    thresholds: Thresholds | Mapping[str, Any] | None = None,
    baseline: float | Mapping[int, float] | Sequence[float] | None = None,
    scaling: ScalingProfile | None = None,
) -> Profile:
    """The collapse profile of one run (a tidy frame ``iteration, seed, metric, value``).

    ``thresholds``: a :class:`Thresholds` or a mapping of overrides. ``baseline``: the trivial
    risk for ``catastrophic-risk`` (a number or one per seed; otherwise taken from
    ``frame.attrs["trivial_risk"]`` or ``trivial_risk`` rows). ``scaling``: the result of
    :func:`scaling_profile` for this policy, to fill in ``scaling-law-change``.
    """
    th = thresholds_from(thresholds)
    run = _Run(frame, th)
    rules = {
        "catastrophic-risk": lambda: _catastrophic(run, baseline),
        "any-risk-increase": lambda: _increase_rule(
            run, "any-risk-increase", "population_risk", th.risk_increase_min, "mean risk", "mean"),
        "diverging-risk": lambda: _diverging(run),
        "scaling-law-change": lambda: _scaling_single(scaling),
        "collapsing-variance": lambda: _collapsing_variance(run),
        "mode-entanglement": lambda: _increase_rule(
            run, "mode-entanglement", "mode_overlap", th.overlap_increase_min,
            "median mode overlap", "median"),
        "tail-disappearance": lambda: _tail(run),
        "hallucinated-data": lambda: _increase_rule(
            run, "hallucinated-data", "hallucinated_mass", th.hallucination_increase_min,
            "median hallucinated mass", "median"),
    }
    verdicts = tuple(rules[d]() for d in DEFINITIONS)
    return Profile(verdicts=verdicts, thresholds=th, seeds=run.S, iterations=run.last)


# --------------------------------------------------------------------------------------------
# Run files


# --------------------------------------------------------------------------------------------
# Scaling law over a sweep in n


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
            "exponent": _encode(self.exponent),
            "exponent_ci": [_encode(x) for x in self.exponent_ci],
            "reference_exponent": _encode(self.reference_exponent),
            "reference_exponent_ci": [_encode(x) for x in self.reference_exponent_ci],
            "difference": _encode(self.difference),
            "difference_ci": [_encode(x) for x in self.difference_ci],
            "verdict": self.verdict.to_dict(),
            "table": [
                {k: (_encode(v) if isinstance(v, float) else v) for k, v in row.items()}
                for row in self.table.to_dict(orient="records")
            ],
            "thresholds": self.thresholds.model_dump(),
        }


def _power_slope(logn: np.ndarray, Y: np.ndarray) -> np.ndarray:
    """OLS slope of each row of log-mean-risk Y (R, K) against log n (K,); NaN where undefined."""
    c = _slope_contrast(logn)
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
    for j, n in enumerate(ns):
        run = _Run(frames[n], th, rng=rng)
        if not run.has(metric):
            raise UserError(f"scaling_profile: the run at n = {n} has no {metric} values")
        X = run.arrays[metric]
        p_pt, p_b = run.means(X[:, -1:])
        if reference is None:
            r_pt, r_b = run.means(X[:, :1])
        else:
            rrun = _Run(reference[n], th, rng=rng)
            if not rrun.has(metric):
                raise UserError(f"scaling_profile: the reference run at n = {n} has no {metric}")
            if np.array_equal(rrun.seed_ids, run.seed_ids):
                rrun.W = run.W  # paired seeds: resample them together
            r_pt, r_b = rrun.means(rrun.arrays[metric][:, -1:])
        pol[0, j], pol[1:, j] = p_pt[0], p_b[:, 0]
        ref[0, j], ref[1:, j] = r_pt[0], r_b[:, 0]
        for source, pt, b in (("policy", p_pt[0], p_b[:, 0]), ("reference", r_pt[0], r_b[:, 0])):
            lo, hi = _quantiles(b[:, None], th.ci_level)
            rows.append({"n": n, "source": source, "mean": float(pt),
                         "ci_low": float(lo[0]), "ci_high": float(hi[0])})
    logn = np.log(np.asarray(ns, dtype=float))
    sp, sr = _power_slope(logn, pol), _power_slope(logn, ref)
    diff = sp - sr
    (pl, ph), (rl, rh), (dl, dh) = (
        tuple(float(v[0]) for v in _quantiles(a[1:, None], th.ci_level)) for a in (sp, sr, diff)
    )
    table = pd.DataFrame(rows, columns=["n", "source", "mean", "ci_low", "ci_high"])
    name = "policy exponent - reference exponent of mean risk vs n"
    ref_what = "reference runs" if reference is not None else "iteration 1 (real data)"
    if math.isnan(diff[0]):
        verdict = _not_measured(d, f"mean {metric} is not positive and finite at every n: no "
                                "power law to fit")
    else:
        tol = th.scaling_exponent_tolerance
        ci = _ci_text(dl, dh, th.ci_level)
        body = (f"exponent {_fmt(sp[0])} for the policy vs {_fmt(sr[0])} for the {ref_what} "
                f"over n = {', '.join(map(str, ns))}: difference {_fmt(diff[0])} ({ci})")
        if dl > tol or dh < -tol:
            verdict = Verdict(d, COLLAPSE, float(diff[0]), dl, dh, None,
                              f"scaling law changed: {body}", name)
        else:
            verdict = Verdict(d, NO_COLLAPSE, float(diff[0]), dl, dh, None,
                              f"same scaling law: {body}", name)
    return ScalingProfile(
        ns=tuple(ns), metric=metric,
        exponent=float(sp[0]), exponent_ci=(pl, ph),
        reference_exponent=float(sr[0]), reference_exponent_ci=(rl, rh),
        difference=float(diff[0]), difference_ci=(dl, dh),
        verdict=verdict, table=table, thresholds=th,
    )


__all__ = [
    "BASELINE_METRIC",
    "PROFILE_COLUMNS",
    "Profile",
    "ScalingProfile",
    "Thresholds",
    "Verdict",
    "profile",
    "scaling_profile",
    "thresholds_from",
]
