"""The seed bootstrap behind every verdict: a run as (seeds, iterations) arrays, resampled
seed means and medians, percentile intervals, and the trend contrasts of the trend rules.

Seeds are the independent replicates of a run, so every interval is a percentile bootstrap over
seeds: ``Thresholds.resamples`` resamples of the S seeds with replacement, drawn once per profile
from ``numpy.random.default_rng(Thresholds.bootstrap_seed)`` (the same arguments give the same
profile). A resample is a vector of counts, so the resampled seed means of a whole (S, T)
trajectory matrix are one matrix product ``W @ X / S``; no Python loop over resamples. With a
single seed the interval degenerates to the point estimate.

Infinite and missing values
    ``inf`` is a value (a model that gives zero probability to real data has infinite risk): a
    seed mean that includes a +inf is +inf (and -inf likewise; both at once give NaN). NaN means
    "not measured for this seed": it is left out of the mean and the median (they are over the
    seeds that have a value). Resamples whose statistic is NaN are left out of the quantiles.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from simulators.errors import UserError
from simulators.runfiles import RUN_COLUMNS


def weighted_means(W: np.ndarray, X: np.ndarray) -> np.ndarray:
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


def weighted_medians(W: np.ndarray, X: np.ndarray) -> np.ndarray:
    """Seed medians of X (S, K) under count weights W (R, S) -> (R, K); NaN left out, inf kept.

    The median of a resample is the midpoint of its lower and upper median (order statistics,
    so +-inf values need no arithmetic unless they are the median). One pass per column: a
    sort of the S values and a cumulative sum of the (R, S) counts in that order (16-bit
    integers: counts sum to S), vectorised over blocks of columns.
    """
    R, S = W.shape
    K = X.shape[1]
    out = np.empty((R, K))
    dtype = np.int16 if S < 32_000 else np.int32
    Wi = W.astype(dtype)  # resample counts are small integers
    chunk = max(1, 8_000_000 // max(R * S, 1))  # columns per block: bounded memory
    for start in range(0, K, chunk):
        block = X[:, start:start + chunk].T  # (k, S)
        k = block.shape[0]
        order = np.argsort(block, axis=1)  # NaN last
        xs = np.take_along_axis(block, order, axis=1)  # (k, S)
        valid = ~np.isnan(xs)
        ws = Wi[:, order]  # (R, k, S)
        if not valid.all():
            ws *= valid[None, :, :]
        cw = np.cumsum(ws, axis=2, dtype=dtype)
        total = cw[:, :, -1]  # (R, k)
        lo = np.argmax(cw >= ((total + 1) // 2)[:, :, None], axis=2)  # ceil(total/2)-th value
        hi = np.argmax(cw >= (total // 2 + 1)[:, :, None], axis=2)  # (floor(total/2)+1)-th
        cols = np.arange(k)[None, :]
        a, b = xs[cols, lo], xs[cols, hi]
        with np.errstate(invalid="ignore"):
            med = np.where(a == b, a, (a + b) / 2)
        out[:, start:start + k] = np.where(total <= 0, np.nan, med)
    return out


def quantiles(boot: np.ndarray, level: float) -> tuple[np.ndarray, np.ndarray]:
    """Percentile interval along axis 0, ignoring NaN resamples; exact order statistics."""
    alpha = (1.0 - level) / 2.0
    # nanquantile is several times slower than quantile: use it only where it is needed
    q = np.quantile if not np.isnan(boot).any() else np.nanquantile
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        low, high = q(boot, [alpha, 1.0 - alpha], axis=0, method="inverted_cdf")
    return np.asarray(low, dtype=float), np.asarray(high, dtype=float)


@dataclass
class Stat:
    """A statistic at K positions (iterations or run prefixes): its point estimate (K,) and its
    bootstrap replicates (R, K). Intervals are computed on demand at a given level."""

    point: np.ndarray
    boot: np.ndarray
    _bounds: dict[float, tuple[np.ndarray, np.ndarray]] = field(default_factory=dict, repr=False)

    def bounds(self, level: float) -> tuple[np.ndarray, np.ndarray]:
        """(low, high) of the two-sided percentile interval at ``level``, per position."""
        if level not in self._bounds:
            if self.boot.shape[0] == 0:
                self._bounds[level] = (self.point.copy(), self.point.copy())
            else:
                self._bounds[level] = quantiles(self.boot, level)
        return self._bounds[level]

    def sd(self) -> np.ndarray:
        """Bootstrap standard error per position (over finite replicates)."""
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)
            finite = np.where(np.isfinite(self.boot), self.boot, np.nan)
            return np.nanstd(finite, axis=0, ddof=1)

    def take(self, index: np.ndarray) -> Stat:
        """The statistic at some positions only."""
        return Stat(self.point[index], self.boot[:, index])

    @staticmethod
    def apply(f: Callable[..., np.ndarray], *stats: Stat | float) -> Stat:
        """A statistic computed from others replicate by replicate (numbers broadcast)."""
        points = [s.point if isinstance(s, Stat) else s for s in stats]
        boots = [s.boot if isinstance(s, Stat) else s for s in stats]
        with np.errstate(invalid="ignore", divide="ignore", over="ignore"):
            return Stat(np.asarray(f(*points), dtype=float), np.asarray(f(*boots), dtype=float))


class SeedRun:
    """A tidy run as (S, T) arrays per metric, plus the bootstrap count matrix."""

    def __init__(self, frame: pd.DataFrame, resamples: int, seed: int, *,
                 rng: np.random.Generator | None = None):
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
        df = frame.loc[:, list(RUN_COLUMNS)]
        try:
            iteration = pd.to_numeric(df["iteration"], errors="raise").to_numpy()
            seed_col = pd.to_numeric(df["seed"], errors="raise").to_numpy()
            value = pd.to_numeric(df["value"], errors="raise").to_numpy(dtype=float)
        except (ValueError, TypeError) as exc:
            raise UserError(f"run frame: non-numeric iteration, seed or value ({exc})") from None
        if np.isnan(iteration.astype(float)).any() or np.isnan(seed_col.astype(float)).any():
            raise UserError("run frame: empty iteration or seed")
        iteration = iteration.astype(np.int64)
        seed_col = seed_col.astype(np.int64)
        metric = df["metric"].astype(str).to_numpy()
        self.iterations = np.unique(iteration)
        self.seed_ids = np.unique(seed_col)
        S, T = len(self.seed_ids), len(self.iterations)
        it_idx = np.searchsorted(self.iterations, iteration)
        sd_idx = np.searchsorted(self.seed_ids, seed_col)
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
        rng = rng if rng is not None else np.random.default_rng(seed)
        self.W = rng.multinomial(S, np.full(S, 1.0 / S), size=resamples).astype(float)
        self.attrs = dict(frame.attrs)
        self._memo: dict[object, object] = {}

    def memo(self, key: object, compute: Callable[[], object]) -> object:
        """``compute()`` once per key: profiles of one run at several horizons share their
        bootstrap statistics."""
        if key not in self._memo:
            self._memo[key] = compute()
        return self._memo[key]

    @property
    def first(self) -> int:
        return int(self.iterations[0])

    @property
    def last(self) -> int:
        return int(self.iterations[-1])

    def has(self, metric: str) -> bool:
        arr = self.arrays.get(metric)
        return arr is not None and not np.isnan(arr).all()

    def means(self, X: np.ndarray) -> Stat:
        """Seed means of X (S, K)."""
        return Stat(weighted_means(np.ones((1, self.S)), X)[0], weighted_means(self.W, X))

    def medians(self, X: np.ndarray) -> Stat:
        """Seed medians of X (S, K)."""
        return Stat(weighted_medians(np.ones((1, self.S)), X)[0], weighted_medians(self.W, X))

    def checkpoints(self, minimum: int, most: int) -> np.ndarray:
        """Prefix lengths tested by the trend rules (always including T; none if T < minimum)."""
        T = self.T
        if T < minimum:
            return np.zeros(0, dtype=int)
        k = min(T - minimum + 1, most)
        return np.unique(np.round(np.linspace(minimum, T, k)).astype(int))


def slope_contrast(x: np.ndarray) -> np.ndarray:
    """Weights c with c @ y = OLS slope of y on x."""
    xc = x - x.mean()
    return xc / (xc @ xc)


def power_integral(a: float, b: float, p: float) -> float:
    """Integral of t^-p from a to b (the growth of a trend whose increments decay like t^-p)."""
    if abs(p - 1.0) < 1e-12:
        return math.log(b / a)
    return (b ** (1.0 - p) - a ** (1.0 - p)) / (1.0 - p)


@dataclass
class Trend:
    """The trend contrasts of a trajectory at each checkpoint (prefix length L):

    ``slope``  OLS slope over the last half of the prefix (iterations L/2..L), per iteration;
    ``flat``   growth over the last doubling of time minus what a trend with increments ~ t^-p
               would give after the growth over the doubling before (D = G2 - r_p G1): positive
               when the trend does not level off, negative when it levels off faster than t^-p.
    """

    lengths: np.ndarray
    slope: Stat
    flat: Stat


def trend(run: SeedRun, stat: Stat, lengths: np.ndarray, decay_exponent: float) -> Trend:
    """:class:`Trend` of a per-iteration statistic (positions = the run's iterations)."""
    x = run.iterations.astype(float)
    x = x - x[0] + 1.0  # positions on the time axis, starting at 1
    P = len(lengths)
    C_half = np.zeros((run.T, P))
    C_flat = np.zeros((run.T, P))
    for j, L in enumerate(lengths):
        ih = np.arange(L // 2, L)
        C_half[ih, j] = slope_contrast(x[ih])
        i1, i2 = np.arange(L // 4, L // 2 + 1), np.arange(L // 2, L)  # they share one point
        g1 = slope_contrast(x[i1]) * (x[i1[-1]] - x[i1[0]])
        g2 = slope_contrast(x[i2]) * (x[i2[-1]] - x[i2[0]])
        ratio = (power_integral(x[i2[0]], x[i2[-1]], decay_exponent)
                 / power_integral(x[i1[0]], x[i1[-1]], decay_exponent))
        C_flat[i2, j] += g2
        C_flat[i1, j] -= ratio * g1
    allm = np.vstack([stat.point[None, :], stat.boot])
    bad = ~np.isfinite(allm)
    allm0 = np.where(bad, 0.0, allm)
    out = []
    for C in (C_half, C_flat):
        val = allm0 @ C
        poisoned = (bad.astype(float) @ (C != 0).astype(float)) > 0
        val[poisoned] = np.nan
        out.append(Stat(val[0], val[1:]))
    return Trend(lengths, out[0], out[1])


def expand(values: np.ndarray, lengths: np.ndarray, T: int) -> np.ndarray:
    """Per-checkpoint booleans -> per-iteration (forward-filled; False before the first)."""
    out = np.zeros(T, dtype=bool)
    if len(lengths) == 0:
        return out
    pos = np.searchsorted(lengths, np.arange(1, T + 1), side="right") - 1
    ok = pos >= 0
    out[ok] = values[pos[ok]]
    return out


def reached(holds: np.ndarray, x: np.ndarray) -> int | None:
    """First x from which ``holds`` is True through the end (None if it fails at the end)."""
    if len(holds) == 0 or not holds[-1]:
        return None
    failing = np.flatnonzero(~holds)
    first = 0 if len(failing) == 0 else failing[-1] + 1
    return int(x[first])


__all__ = [
    "SeedRun", "Stat", "Trend", "expand", "power_integral", "quantiles", "reached",
    "slope_contrast", "trend", "weighted_means", "weighted_medians",
]
