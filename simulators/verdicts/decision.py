"""How a rule turns bootstrap statistics into one of three conclusions, with its stability and
what would settle it.

A rule states its evidence as *paths*: a path is a list of conditions that must all hold, and a
verdict holds when any of its paths does. A condition is one of

``above``     the interval of a statistic lies above a threshold (significance);
``below``     the interval lies below a threshold (equivalence: an effect of practical size is
              excluded);
``at_least``  the point estimate reaches a threshold (a minimum effect of interest: a
              significant but negligible change is not collapse).

``collapse`` holds when a collapse path holds at the last iteration, ``no-collapse`` when a
no-collapse path does, and everything between is ``inconclusive``. Paths are evaluated at the
run's iterations (level paths) or at its checkpoints (trend paths, on run prefixes).

Stability
    A conclusive verdict is then checked against the seed set: its *stability* is the share of
    bootstrap replicates of the seeds that would reach it too, an estimate of the probability
    that a replicate run of the same size concludes the same (the reproducibility probability of
    Goodman 1992, Statistics in Medicine 11:875-879). It is computed in normal scores, so that it
    does not depend on how skewed a statistic is: with F the bootstrap distribution of a
    statistic, u = Phi^-1(F(.)) maps a replicate, the estimate and the threshold to u_r, u_0 and
    u_thr; an ``above`` condition holds at the run's level iff u_0 - u_thr > z (z the normal
    quantile of the level), and holds in replicate r iff u_r - u_0 > u_thr + z (the replicate's
    own distance to the threshold). For a normal statistic this is the probability
    Phi(distance in standard errors - z). A path holds in a replicate when all its conditions
    do (``at_least`` on the replicate's own estimate). A verdict whose deciding bound sits just
    past its boundary is reached by about half of the replicates; below
    ``Thresholds.min_stability`` it is reported as ``inconclusive`` (fragile). Normal scores
    are resolved to Phi^-1(0.5/R) by R resamples; ``Thresholds`` checks that R is large enough
    for a fully resolved condition to count as stable.

What would settle an inconclusive verdict
    A condition's distance past its threshold in normal scores (-u_thr for ``above``), grows like
    sqrt(seeds); the seeds that take every interval condition of a path to z + Phi^-1(
    min_stability) are S * ((z + Phi^-1(min_stability)) / distance)^2, for each path whose
    conditions are all on the right side already (its point estimates included). The smallest
    over paths is ``seeds_needed`` (a normal approximation: read it as an order of magnitude).
    Runs shorter than the trend minimum need more iterations first; a level that is
    significantly rising but not yet at its minimum effect gives the iterations at which its
    late trend reaches it.

Too few seeds
    The strongest evidence a seed bootstrap can give is that every seed agrees, which happens
    by chance with probability 2^-S under a symmetric null; a verdict at a per-rule level with
    one-sided error e needs 2^-S < e, so S >= :func:`min_seeds_for` (9 with seven rules at a
    family-wise 95%). Fewer seeds are inconclusive whatever the interval says: with 3 seeds the
    percentile interval is little more than the range of the three values.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np
from scipy.stats import norm

from .bootstrap import SeedRun, Stat, expand, reached
from .results import COLLAPSE, INCONCLUSIVE, NO_COLLAPSE, Verdict, ci_text, fmt, pct
from .thresholds import Thresholds

KINDS = ("above", "below", "at_least")


def _scores(boot: np.ndarray, point: float, threshold: float) -> tuple[np.ndarray, float, float]:
    """Normal scores of the bootstrap distribution: of each replicate (u_r), of the estimate
    (u_0) and of the threshold (u_thr), from mid-ranks among the replicates (NaN left out;
    infinities rank like numbers), clamped to the resolution of R replicates, Phi^-1(0.5 / R);
    a threshold beyond every replicate scores -inf or +inf (no replicate fails it)."""
    b = boot[~np.isnan(boot)]
    R = b.size
    if R == 0:
        return np.full(boot.shape, np.nan), math.nan, math.nan
    srt = np.sort(b)

    def cdf(v, clamp=True):
        below = np.searchsorted(srt, v, side="left")
        upto = np.searchsorted(srt, v, side="right")
        f = (below + upto) / (2.0 * R)
        return np.clip(f, 0.5 / R, 1.0 - 0.5 / R) if clamp else f

    u_r = np.where(np.isnan(boot), np.nan, norm.ppf(cdf(np.where(np.isnan(boot), 0.0, boot))))
    f_thr = float(cdf(threshold, clamp=False))
    u_thr = -math.inf if f_thr == 0 else (math.inf if f_thr == 1 else float(norm.ppf(cdf(threshold))))
    return u_r, float(norm.ppf(cdf(point))), u_thr


@dataclass
class Cond:
    """One condition on a statistic (at the positions of its path)."""

    stat: Stat
    kind: str
    threshold: float
    #: what the statistic is, for the reason ("relative increase of the excess risk")
    label: str
    #: what the threshold is ("0", "the minimum effect 0.1")
    what: str = ""
    #: for a statistic that is the minimum of others (``below`` conditions): those others;
    #: more seeds settle the condition when any of them is on the right side
    parts: tuple[Cond, ...] = ()
    #: the statistic's value when nothing changes (``below`` conditions): used to say how many
    #: seeds would settle the condition if the true effect were nil
    null: float | None = None

    def holds(self, level: float) -> np.ndarray:
        low, high = self.stat.bounds(level)
        with np.errstate(invalid="ignore"):
            if self.kind == "above":
                return np.asarray(low > self.threshold)
            if self.kind == "below":
                return np.asarray(high < self.threshold)
            return np.asarray(self.stat.point >= self.threshold)

    def replicates(self, z_crit: float) -> np.ndarray:
        """Whether the condition holds in each bootstrap replicate at the last position (see
        "Stability" in the module docstring): interval conditions in normal scores, the
        point-estimate condition on the replicate's own estimate."""
        b = self.stat.boot[:, -1]
        if self.kind == "at_least":
            with np.errstate(invalid="ignore"):
                return np.asarray(b >= self.threshold)
        u_r, u_0, u_thr = _scores(b, float(self.stat.point[-1]), self.threshold)
        with np.errstate(invalid="ignore"):
            if self.kind == "above":
                return np.asarray(u_r - u_0 > u_thr + z_crit)
            return np.asarray(u_r - u_0 < u_thr - z_crit)

    def distance(self) -> float:
        """How far the bootstrap distribution lies past the threshold, in normal-score units
        (the z of the bootstrap p-value; the interval condition holds iff it exceeds the
        level's z); negative on the wrong side; +-inf for a point condition."""
        b, p = self.stat.boot[:, -1], float(self.stat.point[-1])
        if self.kind == "at_least":
            return math.inf if p >= self.threshold else -math.inf
        _, _, u_thr = _scores(b, p, self.threshold)
        own = -u_thr if self.kind == "above" else u_thr
        return max([own, *(c.distance() for c in self.parts)])

    def nil_distance(self) -> float:
        """The distance the condition would have if the statistic sat at its ``null`` value
        with the same standard error (how far an effect-free run is from settling it)."""
        candidates = [c.nil_distance() for c in self.parts]
        if self.null is not None and self.kind == "below":
            se = float(self.stat.sd()[-1])
            if se > 0 and math.isfinite(se):
                candidates.append((self.threshold - self.null) / se)
        return max(candidates, default=-math.inf)

    def text(self, level: float) -> str:
        low, high = self.stat.bounds(level)
        p = float(self.stat.point[-1])
        ok = bool(self.holds(level)[-1])
        if self.kind == "at_least":
            rel = "reaches" if ok else "is below"
            return f"{self.label} {fmt(p)} {rel} {self.what or fmt(self.threshold)}"
        ci = ci_text(float(low[-1]), float(high[-1]), level)
        side = "above" if self.kind == "above" else "below"
        rel = f"significantly {side}" if ok else f"not significantly {side}"
        return f"{self.label} {fmt(p)} ({ci}) {rel} {self.what or fmt(self.threshold)}"


@dataclass
class Path:
    """Conditions that together make a verdict; ``lengths``: the checkpoint prefix lengths its
    statistics are at (None: at every iteration)."""

    conds: list[Cond]
    lengths: np.ndarray | None = None
    #: a short name for the reason ("by level", "by trend")
    name: str = ""
    #: extra requirement that is not a statistic (e.g. "no seed's risk became infinite")
    gate: bool = True
    gate_text: str = ""

    def holds(self, level: float, T: int) -> np.ndarray:
        """Per iteration (forward-filled between checkpoints)."""
        if not self.gate:
            return np.zeros(T, dtype=bool)
        ok = np.logical_and.reduce([c.holds(level) for c in self.conds])
        return ok if self.lengths is None else expand(ok, self.lengths, T)

    def replicates(self, z_crit: float) -> np.ndarray:
        if not self.gate:
            return np.zeros(self.conds[0].stat.boot.shape[0], dtype=bool)
        return np.logical_and.reduce([c.replicates(z_crit) for c in self.conds])

    def seeds_factor(self, z: float, nil: bool = False) -> float | None:
        """How many times the run's seeds this path needs for every interval condition to clear
        its threshold by ``z`` normal-score units (None: more seeds cannot make it hold).
        ``nil``: as if every statistic sat at its null value (an effect-free run)."""
        if not self.gate:
            return None
        factor = 1.0
        for c in self.conds:
            dist = c.distance()
            if nil and not dist > 0:
                dist = c.nil_distance()
            if not dist > 0:
                return None
            if math.isfinite(dist):
                factor = max(factor, (z / dist) ** 2)
        return factor

    def text(self, level: float) -> str:
        parts = [c.text(level) for c in self.conds]
        if self.gate_text:
            parts.append(self.gate_text)
        return "; ".join(parts)


@dataclass
class Headline:
    """The statistic a verdict reports (at the last iteration) and its interval."""

    name: str
    point: float
    low: float
    high: float


@dataclass
class Outcome:
    """A rule's paths and what to report; :func:`decide` makes the verdict."""

    definition: str
    headline: Headline
    collapse: list[Path] = field(default_factory=list)
    no_collapse: list[Path] = field(default_factory=list)
    #: the rule tests trends: runs shorter than the trend minimum cannot be no-collapse
    trend_rule: bool = True
    #: iterations at which a rising level would reach its minimum effect (None: no estimate)
    iterations_hint: int | None = None
    #: said first in every reason (e.g. the raw medians behind a ratio)
    context: str = ""
    #: what the verdict speaks about (default: "iterations FIRST-LAST" of the run)
    span: str = ""


@dataclass(frozen=True)
class Shape:
    """What :func:`decide` needs to know of the data behind a rule: the seeds (the precision),
    the iteration labels (positions of level paths) and the number of bootstrap resamples."""

    seeds: int
    iterations: np.ndarray
    resamples: int

    @classmethod
    def of(cls, run: SeedRun) -> Shape:
        return cls(run.S, run.iterations, run.W.shape[0])


def decide(shape: Shape, th: Thresholds, level: float, out: Outcome) -> Verdict:
    """The verdict of one rule (see the module docstring)."""
    T = len(shape.iterations)
    span = out.span or f"iterations {int(shape.iterations[0])}-{int(shape.iterations[-1])}"
    c_holds = np.zeros(T, dtype=bool)
    for p in out.collapse:
        c_holds |= p.holds(level, T)
    nc_paths = [p for p in out.no_collapse if p.holds(level, T)[-1]]
    c_paths = [p for p in out.collapse if p.holds(level, T)[-1]]
    h = out.headline
    base = dict(definition=out.definition, statistic=h.point, ci_low=h.low, ci_high=h.high,
                statistic_name=h.name, level=level)
    context = f"{out.context}; " if out.context else ""
    z_crit = float(norm.ppf(0.5 + level / 2))
    z = z_crit + float(norm.ppf(th.min_stability))

    # the strongest evidence a seed bootstrap can give is every seed agreeing, which happens by
    # chance with probability 2^-S under a symmetric null: below the one-sided error only from
    # this many seeds on
    min_seeds = min_seeds_for(level)

    def stability(paths: list[Path]) -> float:
        rep = np.logical_or.reduce([p.replicates(z_crit) for p in paths])
        return float(np.mean(rep))

    if shape.seeds < min_seeds and (c_paths or nc_paths):
        verdict = COLLAPSE if c_paths else NO_COLLAPSE
        return Verdict(**base, verdict=INCONCLUSIVE, stability=math.nan, seeds_needed=min_seeds,
                       reason=(f"inconclusive over {span}: {context}{verdict} criterion met "
                               f"({(c_paths or nc_paths)[0].text(level)}) but {shape.seeds} seeds "
                               f"cannot support it at this level: a seed bootstrap needs at least "
                               f"{min_seeds} (every seed agreeing by chance has probability "
                               f"2^-{shape.seeds})"))
    if c_paths and not nc_paths:
        s = stability(c_paths)
        if s >= th.min_stability:
            return Verdict(**base, verdict=COLLAPSE, iteration=reached(c_holds, shape.iterations),
                           stability=s,
                           reason=f"collapse over {span}: {context}{c_paths[0].text(level)}")
        return _fragile(shape, th, level, out, base, COLLAPSE, c_paths, s, span, context, z)
    if nc_paths and not c_paths:
        s = stability(nc_paths)
        if s >= th.min_stability:
            return Verdict(**base, verdict=NO_COLLAPSE, stability=s,
                           reason=f"no collapse over {span}: {context}{nc_paths[0].text(level)}")
        return _fragile(shape, th, level, out, base, NO_COLLAPSE, nc_paths, s, span, context, z)
    # inconclusive: say what is missing on the nearest path, and what would settle it
    every = out.collapse + out.no_collapse
    rep = np.zeros(shape.resamples, dtype=bool)
    for p in every:
        rep |= p.replicates(z_crit)
    seeds, iters, settle = _settle(shape, th, out, z)
    if c_paths and nc_paths:
        why = "the collapse and no-collapse criteria both hold (a contradiction of the margins)"
    elif T < th.trend_min_iterations and out.trend_rule:
        why = (f"too short to tell: no-collapse needs the trend test, which needs at least "
               f"{th.trend_min_iterations} iterations; {_nearest(out, level)}")
    else:
        why = _nearest(out, level)
    return Verdict(**base, verdict=INCONCLUSIVE, stability=float(np.mean(~rep)),
                   seeds_needed=seeds, iterations_needed=iters,
                   reason=f"inconclusive over {span}: {context}{why}{settle}")


def min_seeds_for(level: float) -> int:
    """The fewest seeds for which all seeds agreeing (probability 2^-S under a symmetric null)
    is below the one-sided error (1 - level) / 2 of an interval at ``level``."""
    return int(math.floor(math.log2(2.0 / (1.0 - level)))) + 1


def _fragile(shape: Shape, th: Thresholds, level: float, out: Outcome, base: dict,
             verdict: str, paths: list[Path], s: float, span: str, context: str,
             z: float) -> Verdict:
    seeds, iters, settle = _settle(shape, th, out, z)
    return Verdict(
        **base, verdict=INCONCLUSIVE, stability=s, seeds_needed=seeds, iterations_needed=iters,
        reason=(f"inconclusive over {span}: {context}{verdict} criterion met ({paths[0].text(level)}) "
                f"but fragile: reached in {pct(s)} of bootstrap replicates of the seeds, below "
                f"{pct(th.min_stability)}{settle}"),
    )


def _nearest(out: Outcome, level: float) -> str:
    """The conditions of the collapse and the no-collapse path closest to holding."""
    parts = []
    for kind, paths in (("collapse", out.collapse), ("no collapse", out.no_collapse)):
        if not paths:
            continue
        best = max(paths, key=lambda p: sum(bool(c.holds(level)[-1]) for c in p.conds) / len(p.conds))
        parts.append(f"for {kind}: {best.text(level)}")
    return "; ".join(parts) if parts else "no criterion applies"


def _settle(shape: Shape, th: Thresholds, out: Outcome, z: float) -> tuple[int | None, int | None, str]:
    """(seeds needed, iterations needed, text) for an inconclusive verdict."""
    S, T = shape.seeds, len(shape.iterations)
    paths = out.collapse + out.no_collapse
    factors = [f for f in (p.seeds_factor(z) for p in paths) if f is not None]
    nil = not factors
    if nil:  # no path is on its way: how many seeds an effect-free run would need
        factors = [f for f in (p.seeds_factor(z, nil=True) for p in out.no_collapse) if f is not None]
    seeds = None
    if factors:
        seeds = max(S + 1, int(math.ceil(S * min(factors))))
    iters = None
    if out.trend_rule and T < th.trend_min_iterations:
        iters = th.trend_min_iterations
    elif out.iterations_hint is not None and out.iterations_hint > int(shape.iterations[-1]):
        iters = int(out.iterations_hint)
    parts = []
    if seeds is not None:
        parts.append(f"about {seeds} seeds" + (" if the true effect is nil" if nil else ""))
    if iters is not None:
        parts.append(f"at least {iters} iterations")
    if not parts:
        return None, None, ("; the estimates point neither way, so the seeds or iterations that "
                            "would settle it cannot be estimated from this run")
    return seeds, iters, "; would settle: " + " or ".join(parts) + " (a rough estimate)"


__all__ = ["Cond", "Headline", "KINDS", "Outcome", "Path", "Shape", "decide", "min_seeds_for"]
