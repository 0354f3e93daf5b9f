"""The eight rules of a collapse profile, one function per definition.

Every rule reads a statistic trajectory x(t) oriented so that larger means more collapse-like,
with its seed bootstrap (:mod:`.bootstrap`), and states a collapse path and a no-collapse path
(:mod:`.decision`). The thresholds are the fields of :class:`~.thresholds.Thresholds`
(defaults in brackets); each is justified in its own description there.

The trend test (used by diverging-risk, and by every no-collapse)
    On a prefix of the run of length L: the OLS slope of x over its last half, and the
    flattening contrast D = G2 - r_p G1, where G2 is the growth over the last doubling of time
    (L/2..L), G1 over the doubling before (L/4..L/2), and r_p the ratio of the integrals of
    t^-p over the two windows (p = ``trend_decay_exponent`` [1]; r_1 = 1). With increments
    decaying like t^-p, D = 0; the sum of such increments diverges iff p <= 1, so D > 0 means
    growth that no converging trend explains, D < 0 a trend that levels off. Linear growth
    (replace least squares, E risk = t E1) has D = G1 > 0; accumulate (E risk = E1 sum 1/k^2)
    has D = -G1/2 < 0.

    A late trend "heads for collapse" unless it levels off (D significantly < 0) or is too slow
    to reach the rule's effect within ``horizon`` [1000] further iterations at its late rate
    (x(T) + slope * horizon significantly below the effect). One statistic carries both:
    N = min(D, x(T) + slope * horizon - effect); no-collapse needs its interval below 0. Runs
    shorter than ``trend_min_iterations`` [8] have no trend test and so are never no-collapse.

The rules (x at iteration t; every interval at the profile's per-rule level)
    ``any-risk-increase``  x = E(t) / E(1) - 1, E the seed mean of the excess risk
        (``kl_to_truth`` where the run reports it, else ``population_risk``, which for linear
        regression is the excess squared error; for the vae and an lm on a real corpus it is a
        cross-entropy, so the relative effect is of the whole risk). Collapse: interval above 0
        and x(T) >= ``risk_increase_min`` [0.1]. No-collapse: interval below it, not heading
        there.
    ``diverging-risk``  On the same x: collapse when the late slope and D are both
        significantly positive and the late rate would add ``divergence_min`` [1] x E(1)
        within the horizon; or when the risk became infinite in a share of seeds
        significantly above 0 and at least ``catastrophic_inf_min`` [0.1]. Seeds whose risk
        became infinite are left out of the trend; no-collapse needs none of them and
        N = min(D, slope * horizon - divergence_min) below 0.
    ``catastrophic-risk``  x = G(t) = (R(t) - R(1)) / (b - R(1)): the share of the gap from the
        first fit's mean risk R(1) to the trivial baseline b (the risk of a model that ignores
        the data) closed at t. Collapse: interval above ``catastrophic_gap`` [0.9], or the
        infinite-risk path above. No-collapse: interval below ``catastrophic_margin`` [0.5],
        infinite share below its minimum, and not heading for the gap. Without a baseline
        (``baseline=``, ``frame.attrs["trivial_risk"]`` or ``trivial_risk`` rows) a run that
        does not collapse by infinite risk is ``not-measured``: a family with no model that
        ignores the data cannot reach one. If iteration 1's risk is already at or above the
        baseline, likewise.
    ``collapsing-variance``  x = -log of the median over seeds of ``variance_ratio`` (0 at the
        truth's spread). Collapse: interval above log(1/``variance_floor``) [floor 0.1], or a
        late decline (slope and D significantly positive) that reaches the floor within the
        horizon. No-collapse: interval below the floor's log, not heading there.
    ``tail-disappearance``  x = -log(m(t) / m(1)), m the median over seeds of
        ``tail_mass_ratio`` (relative to the first fit, because one finite-sample fit on real
        data already under-represents tails: estimation error, not the effect of training on
        generated data). Collapse: interval above 0, x(T) >= -log(1 - ``tail_loss_min``)
        [half the tail mass lost], and m(T) significantly below 1 (less tail than the truth).
        No-collapse: x interval below that effect, not heading there. A first fit with no tail
        mass cannot lose any: inconclusive.
    ``hallucinated-data``, ``mode-entanglement``  x = the median over seeds of m(t) - m(1)
        (``hallucinated_mass``, ``mode_overlap``). Collapse: interval above 0 and x(T) >=
        ``hallucination_increase_min`` [0.01] / ``overlap_increase_min`` [0.05]. No-collapse:
        interval below it, not heading there.
    ``scaling-law-change``  needs a sweep over n (:mod:`.scaling`): ``not-measured`` here
        unless its result is passed to :func:`profile` as ``scaling=``.

The distribution rules use the *median* over seeds (the typical run), the risk rules the mean
(population risk is an expectation over the training randomness, as in Gerstgrasser et al.).
Under collapse these per-seed quantities are extremely skewed: variance ratios are
multiplicative (with the unbiased Gaussian estimator their mean stays 1 while almost every run
collapses, Shumailov et al., arXiv 2305.17493), and a collapsed Gaussian whose mean drifted into
the tail region has a tail-mass ratio of up to 1/(tail mass).

The iteration of a verdict
    Each collapse path is evaluated as if the run had ended at every iteration (trend paths at
    up to ``max_checkpoints`` [200] prefix lengths); the reported iteration is the first from
    which it holds through T: a fixed-sequence procedure (test T, then T-1, ... and stop at the
    first failure), which keeps the error rate without a further correction.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd

from simulators.errors import UserError
from simulators.runfiles import BASELINE_METRIC
from simulators.vocabulary import DEFINITIONS

from .bootstrap import SeedRun, Stat, trend
from .decision import Cond, Headline, Outcome, Path, Shape, decide
from .results import NOT_MEASURED, Profile, Verdict, fmt
from .thresholds import Thresholds, thresholds_from

#: the metrics each single-run rule reads (scaling-law-change needs a sweep): a run that reports
#: none of them leaves the rule not-measured, named after the first
RULE_METRICS: dict[str, tuple[str, ...]] = {
    "catastrophic-risk": ("population_risk",),
    "any-risk-increase": ("population_risk", "kl_to_truth"),
    "diverging-risk": ("population_risk", "kl_to_truth"),
    "collapsing-variance": ("variance_ratio",),
    "mode-entanglement": ("mode_overlap",),
    "tail-disappearance": ("tail_mass_ratio",),
    "hallucinated-data": ("hallucinated_mass",),
}


class _Ctx:
    """What every rule of one profile shares: the run, thresholds, level and checkpoints."""

    def __init__(self, run: SeedRun, th: Thresholds, level: float):
        self.run, self.th, self.level = run, th, level
        self.lengths = run.checkpoints(th.trend_min_iterations, th.max_checkpoints)

    def trend_of(self, x: Stat):
        """(slope, flat, x at the checkpoints), or None when the run is too short."""
        if len(self.lengths) == 0:
            return None
        tr = self.run.memo(("trend", id(x)), lambda: trend(
            self.run, x, self.lengths, self.th.trend_decay_exponent))
        return tr.slope, tr.flat, x.take(self.lengths - 1)

    def heading(self, x: Stat, effect: float, *, level_term: bool = True,
                scale: float = 1.0) -> Cond | None:
        """The "not heading for collapse" condition: N = min(D, x(T) + slope * horizon - effect)
        below 0 (without the x(T) term for diverging-risk). None when there is no trend test."""
        parts = self.trend_of(x)
        if parts is None:
            return None
        slope, flat, x_cp = parts
        H = self.th.horizon
        reach = (Stat.apply(lambda xx, s: xx + s * H - effect, x_cp, slope) if level_term
                 else Stat.apply(lambda s: s * H - effect, slope))
        N = Stat.apply(np.minimum, flat, reach)
        lv = self.level

        def show(st: Stat) -> str:
            low, high = st.bounds(lv)
            return f"{fmt(st.point[-1])} [{fmt(low[-1])}, {fmt(high[-1])}]"

        what = ("projected level" if level_term else "growth") + f" after {H} more iterations"
        label = (f"late trend: levelling off (flattening D {show(flat)}) or too slow ({what} at "
                 f"the late rate minus {fmt(effect * scale)}: {show(reach)}); the smaller,")
        parts_ = (Cond(flat, "below", 0.0, "flattening D"),
                  Cond(reach, "below", 0.0, "margin", null=-effect))
        return Cond(N, "below", 0.0, label, "0", parts=parts_)

    def decide(self, out: Outcome) -> Verdict:
        """The verdict of a rule's outcome on this run, at the profile's thresholds and level."""
        return decide(Shape.of(self.run), self.th, self.level, out)

    def iterations_to(self, x: Stat, effect: float) -> int | None:
        """Iterations at which a significantly rising x would reach ``effect`` (late rate)."""
        parts = self.trend_of(x)
        if parts is None:
            return None
        slope, _, _ = parts
        low, _ = slope.bounds(self.level)
        s, x_T = float(slope.point[-1]), float(x.point[-1])
        if not (low[-1] > 0) or not (s > 0) or not math.isfinite(x_T) or x_T >= effect:
            return None
        return int(self.run.last + math.ceil((effect - x_T) / s))


def _not_measured(definition: str, reason: str) -> Verdict:
    return Verdict(definition, NOT_MEASURED, reason=reason)


def _absent(definition: str, metric: str) -> Verdict:
    return _not_measured(definition, f"the run has no {metric} values (the simulator does not "
                                     "report it)")


def _at_T(x: Stat, level: float, name: str, transform=None) -> Headline:
    low, high = x.bounds(level)
    p, lo, hi = float(x.point[-1]), float(low[-1]), float(high[-1])
    if transform is not None:
        a, b = transform(lo), transform(hi)
        p, lo, hi = transform(p), min(a, b), max(a, b)
    return Headline(name, p, lo, hi)


def _excess(run: SeedRun) -> tuple[str, np.ndarray]:
    metric = "kl_to_truth" if run.has("kl_to_truth") else "population_risk"
    return metric, run.arrays[metric]


def _became_infinite(R: np.ndarray) -> np.ndarray:
    """Per seed and iteration: 1 if the risk is +inf at t but was finite at iteration 1 (a
    first fit on real data that is already infinite is estimation error, not collapse)."""
    inf_t = np.isposinf(R).astype(float)
    return np.where(np.isnan(R), np.nan, inf_t * (1.0 - inf_t[:, :1]))


def _infinite_path(ctx: _Ctx, R: np.ndarray) -> tuple[Path, Stat]:
    share = ctx.run.memo("infinite share", lambda: ctx.run.means(_became_infinite(R)))
    th = ctx.th
    path = Path([Cond(share, "above", 0.0, "share of seeds whose risk became infinite", "0"),
                 Cond(share, "at_least", th.catastrophic_inf_min, "that share",
                      f"the minimum {fmt(th.catastrophic_inf_min)}")], name="infinite risk")
    return path, share


def _relative_risk(ctx: _Ctx, keep: np.ndarray | None = None) -> tuple[str, Stat] | None:
    """x(t) = E(t)/E(1) - 1 over the seeds in ``keep`` (None: all); None if E(1) is not a usable
    scale."""
    metric, E = _excess(ctx.run)
    if keep is not None:
        E = np.where(keep[:, None], E, np.nan)
    m = ctx.run.memo(("mean excess", keep is None), lambda: ctx.run.means(E))
    if not (math.isfinite(m.point[0]) and m.point[0] != 0):
        return None
    x = ctx.run.memo(("relative excess", keep is None), lambda: Stat.apply(
        lambda e: (e - e[..., :1]) / np.abs(e[..., :1]), m))
    return metric, x


def any_risk_increase(ctx: _Ctx) -> Verdict:
    d = "any-risk-increase"
    run, th, level = ctx.run, ctx.th, ctx.level
    if run.T < 2:
        return _not_measured(d, "needs at least 2 iterations")
    rel = _relative_risk(ctx)
    metric = _excess(run)[0]
    if rel is None:
        return Verdict(d, "inconclusive", reason=f"the first fit's mean {metric} is not a finite, "
                       "non-zero number, so there is no scale for a relative increase")
    _, x = rel
    name = f"relative increase of the mean {metric}, iteration T vs 1"
    eff = th.risk_increase_min
    collapse = [Path([Cond(x, "above", 0.0, f"mean {metric} rose by a relative", "0"),
                      Cond(x, "at_least", eff, "the relative increase",
                           f"the minimum effect {fmt(eff)}")], name="by level")]
    heading = ctx.heading(x, eff)
    no = []
    if heading is not None:
        x_cp = x.take(ctx.lengths - 1)
        no = [Path([Cond(x_cp, "below", eff, "relative increase",
                         f"the minimum effect {fmt(eff)}", null=0.0), heading], ctx.lengths,
                   "by level and trend")]
    out = Outcome(d, _at_T(x, level, name), collapse, no,
                  iterations_hint=ctx.iterations_to(x, eff))
    return ctx.decide(out)


def diverging_risk(ctx: _Ctx) -> Verdict:
    d = "diverging-risk"
    run, th, level = ctx.run, ctx.th, ctx.level
    if not run.has("population_risk"):  # the infinite-risk path reads it even beside kl_to_truth
        return _absent(d, "population_risk")
    R = run.arrays["population_risk"]
    inf_path, share = _infinite_path(ctx, R)
    infinite = np.isinf(_excess(run)[1]).any(axis=1) | np.isinf(R).any(axis=1)
    rel = _relative_risk(ctx, keep=~infinite)
    metric = _excess(run)[0]
    if rel is None:
        headline = _at_T(share, level, "share of seeds whose risk became infinite")
        out = Outcome(d, headline, [inf_path], [])
        return ctx.decide(out)
    _, x = rel
    parts = ctx.trend_of(x)
    name = f"slope over the last half of the mean {metric} relative to iteration 1's, per iteration"
    if parts is None:
        headline = Headline(name, math.nan, math.nan, math.nan)
        return ctx.decide(Outcome(d, headline, [inf_path], []))
    slope, flat, _ = parts
    H, eff = th.horizon, th.divergence_min
    grows = Path([Cond(slope, "above", 0.0, "late slope of the relative risk", "0"),
                  Cond(flat, "above", 0.0, "flattening D (growth over the last doubling of t "
                       "minus a logarithmic trend's)", "0 (not levelling off)"),
                  Cond(Stat.apply(lambda s: s * H, slope), "at_least", eff,
                       f"growth over {H} iterations at the late rate",
                       f"{fmt(eff)} x the first fit's {metric}")], ctx.lengths, "by trend")
    heading = ctx.heading(x, eff, level_term=False)
    n_inf = int(infinite.sum())
    no = [Path([heading], ctx.lengths, "by trend", gate=n_inf == 0,
               gate_text=("no seed's risk became infinite" if n_inf == 0
                          else f"{n_inf} seed(s) with infinite risk"))]
    low, high = slope.bounds(level)
    headline = Headline(name, float(slope.point[-1]), float(low[-1]), float(high[-1]))
    context = f"{n_inf} of {run.S} seeds with infinite risk left out of the trend" if n_inf else ""
    out = Outcome(d, headline, [inf_path, grows], no, context=context)
    return ctx.decide(out)


def _baseline_values(run: SeedRun, baseline: Any) -> np.ndarray | None:
    """The trivial baseline as an (S,) array, or None (see the module docstring)."""
    source = baseline
    if source is None:
        source = run.attrs.get(BASELINE_METRIC)
    if source is None and BASELINE_METRIC in run.arrays:
        arr = run.arrays[BASELINE_METRIC]
        with np.errstate(all="ignore"):
            vals = np.nanmean(arr, axis=1) if not np.isnan(arr).all() else None
        return vals
    if source is None:
        return None
    if isinstance(source, (int, float, np.floating, np.integer)):
        return np.full(run.S, float(source))
    if isinstance(source, (Mapping, pd.Series)):
        mapping = {int(k): v for k, v in dict(source.items()).items()}
        try:
            return np.array([float(mapping[int(s)]) for s in run.seed_ids])
        except KeyError as exc:
            raise UserError(f"baseline: no value for seed {exc.args[0]}") from None
    arr = np.asarray(source, dtype=float)
    if arr.shape != (run.S,):
        raise UserError(f"baseline: expected a number or {run.S} values (one per seed), "
                        f"got shape {arr.shape}")
    return arr


def catastrophic_risk(ctx: _Ctx, baseline: Any) -> Verdict:
    d = "catastrophic-risk"
    run, th, level = ctx.run, ctx.th, ctx.level
    R = run.arrays["population_risk"]
    inf_path, share = _infinite_path(ctx, R)
    share_head = _at_T(share, level, "share of seeds whose risk became infinite by T")
    b = _baseline_values(run, baseline)
    only_inf = Outcome(d, share_head, [inf_path], [], trend_rule=False)
    if b is None:
        v = ctx.decide(only_inf)
        if inf_path.holds(level, run.T)[-1]:
            return v  # collapse by infinite risk, or too few seeds / too fragile to say so
        return Verdict(d, NOT_MEASURED, v.statistic, v.ci_low, v.ci_high, level=level,
                       statistic_name=v.statistic_name,
                       reason="this family has no trivial baseline (no model that ignores the "
                       "data), so reaching one cannot be tested, and the risk did not become "
                       f"infinite in a significant share of seeds ({inf_path.conds[0].text(level)})")
    Rm = run.memo("finite risk", lambda: run.means(np.where(np.isinf(R), np.nan, R)))
    bm = run.memo(("baseline", b.tobytes()), lambda: run.means(b[:, None]))
    if not (bm.point[0] - Rm.point[0] > 0):
        v = ctx.decide(only_inf)
        if inf_path.holds(level, run.T)[-1]:
            return v
        return _not_measured(d, f"risk at iteration {run.first} ({fmt(Rm.point[0])}) is already at "
                                f"or above the trivial baseline ({fmt(bm.point[0])})")
    G = run.memo(("gap", b.tobytes()), lambda: Stat.apply(
        lambda r, bb: (r - r[..., :1]) / (bb - r[..., :1]), Rm, bm))
    gap, margin = th.catastrophic_gap, th.catastrophic_margin
    reached_path = Path([Cond(G, "above", gap, "share of the gap to the trivial baseline "
                              f"{fmt(bm.point[0])} closed", fmt(gap))], name="baseline reached")
    heading = ctx.heading(G, gap)
    no = []
    if heading is not None:
        cp = ctx.lengths - 1
        no = [Path([Cond(G.take(cp), "below", margin, "share of the gap closed", fmt(margin),
                         null=0.0),
                    Cond(share.take(cp), "below", th.catastrophic_inf_min,
                         "share of seeds whose risk became infinite", fmt(th.catastrophic_inf_min)),
                    heading], ctx.lengths, "by level and trend")]
    out = Outcome(d, _at_T(G, level, "share of the gap from risk(1) to the trivial baseline closed at T"),
                  [inf_path, reached_path], no, iterations_hint=ctx.iterations_to(G, gap))
    return ctx.decide(out)


def collapsing_variance(ctx: _Ctx) -> Verdict:
    d, metric = "collapsing-variance", "variance_ratio"
    run, th, level = ctx.run, ctx.th, ctx.level
    V = run.arrays[metric]
    with np.errstate(divide="ignore", invalid="ignore"):
        L = np.where(V >= 0, np.log(np.where(V >= 0, V, 1.0)), np.nan)
    med = run.memo("median log variance", lambda: run.medians(L))
    if math.isnan(med.point[-1]):
        return _not_measured(d, f"{metric} has no usable value at iteration {run.last}")
    x = run.memo("variance loss", lambda: Stat.apply(lambda m: -m, med))
    eff = th.variance_effect
    floor = fmt(th.variance_floor)
    collapse = [Path([Cond(x, "above", eff, "-log median variance ratio",
                           f"log(1/{floor}) (ratio below the floor {floor})")], name="by level")]
    parts = ctx.trend_of(x)
    no = []
    if parts is not None:
        slope, flat, x_cp = parts
        H = th.horizon
        collapse.append(Path([
            Cond(slope, "above", 0.0, "late decline of the median log variance ratio", "0"),
            Cond(flat, "above", 0.0, "flattening D", "0 (not levelling off)"),
            Cond(Stat.apply(lambda xx, s: xx + s * H, x_cp, slope), "at_least", eff,
                 f"projected -log ratio after {H} more iterations", f"log(1/{floor})"),
        ], ctx.lengths, "by trend"))
        no = [Path([Cond(x_cp, "below", eff, "-log median variance ratio",
                         f"log(1/{floor}) (ratio above the floor {floor})", null=0.0),
                    ctx.heading(x, eff)], ctx.lengths, "by level and trend")]
    headline = _at_T(x, level, f"median over seeds of {metric} at T", lambda v: math.exp(-v))
    out = Outcome(d, headline, collapse, no, iterations_hint=ctx.iterations_to(x, eff))
    return ctx.decide(out)


def tail_disappearance(ctx: _Ctx) -> Verdict:
    d, metric = "tail-disappearance", "tail_mass_ratio"
    run, th, level = ctx.run, ctx.th, ctx.level
    if run.T < 2:
        return _not_measured(d, "needs at least 2 iterations")
    m = run.memo("median tail", lambda: run.medians(run.arrays[metric]))
    name = f"median {metric}(T) / median {metric}(1)"
    if not (m.point[0] > 0) or not math.isfinite(m.point[0]):
        return Verdict(d, "inconclusive", statistic_name=name,
                       reason=f"the first fit's median tail mass ratio is {fmt(m.point[0])}: the "
                       "run cannot show a loss relative to it (a larger n gives the first fit a "
                       "tail)")
    x = run.memo("tail loss", lambda: Stat.apply(lambda a: -np.log(a / a[..., :1]), m))
    eff = th.tail_effect
    low, high = m.bounds(level)
    context = (f"median tail mass ratio {fmt(m.point[-1])} at iteration {run.last}, "
               f"{fmt(m.point[0])} at {run.first}")
    collapse = [Path([Cond(x, "above", 0.0, "-log of the tail mass relative to iteration 1", "0"),
                      Cond(x, "at_least", eff, "that loss",
                           f"log(1/(1-{fmt(th.tail_loss_min)})) ({fmt(th.tail_loss_min)} of the "
                           "tail mass lost)"),
                      Cond(m, "below", 1.0, "median tail mass ratio", "1 (the truth's)")],
                     name="by level")]
    heading = ctx.heading(x, eff)
    no = []
    if heading is not None:
        no = [Path([Cond(x.take(ctx.lengths - 1), "below", eff,
                         "-log of the tail mass relative to iteration 1",
                         f"the loss of {fmt(th.tail_loss_min)} of it", null=0.0), heading],
                   ctx.lengths, "by level and trend")]
    out = Outcome(d, _at_T(x, level, name, lambda v: math.exp(-v)), collapse, no,
                  iterations_hint=ctx.iterations_to(x, eff), context=context)
    return ctx.decide(out)


def median_increase(ctx: _Ctx, d: str, metric: str, effect: float) -> Verdict:
    """hallucinated-data and mode-entanglement: the median over seeds of m(t) - m(1)."""
    run, level = ctx.run, ctx.level
    if run.T < 2:
        return _not_measured(d, "needs at least 2 iterations")
    X = run.arrays[metric]
    with np.errstate(invalid="ignore"):
        x = run.memo(("median rise", metric), lambda: run.medians(X - X[:, :1]))
    if math.isnan(x.point[-1]):
        return _not_measured(d, f"{metric} has no usable paired values at iterations "
                                f"{run.first} and {run.last}")
    collapse = [Path([Cond(x, "above", 0.0, f"median rise of {metric}", "0"),
                      Cond(x, "at_least", effect, "the rise", f"the minimum effect {fmt(effect)}")],
                     name="by level")]
    heading = ctx.heading(x, effect)
    no = []
    if heading is not None:
        no = [Path([Cond(x.take(ctx.lengths - 1), "below", effect, f"median rise of {metric}",
                         f"the minimum effect {fmt(effect)}", null=0.0), heading], ctx.lengths,
                   "by level and trend")]
    out = Outcome(d, _at_T(x, level, f"median over seeds of {metric}(T) - {metric}(1)"),
                  collapse, no, iterations_hint=ctx.iterations_to(x, effect))
    return ctx.decide(out)


def tests_of(run: SeedRun, scaling: Any) -> int:
    """How many rules the run can test: those whose metric it reports (scaling-law-change only
    with a sweep's result). This is the Bonferroni divisor of the profile."""
    count = sum(1 for metrics in RULE_METRICS.values() if any(run.has(m) for m in metrics))
    return max(1, count + (scaling is not None))


def profile(
    frame: pd.DataFrame,
    *,
    thresholds: Thresholds | Mapping[str, Any] | None = None,
    baseline: float | Mapping[int, float] | Sequence[float] | None = None,
    scaling: Any = None,
) -> Profile:
    """The collapse profile of one run (a tidy frame ``iteration, seed, metric, value``).

    ``thresholds``: a :class:`Thresholds` or a mapping of overrides. ``baseline``: the trivial
    risk for ``catastrophic-risk`` (a number or one per seed; otherwise taken from
    ``frame.attrs["trivial_risk"]`` or ``trivial_risk`` rows). ``scaling``: the result of
    :func:`simulators.verdicts.scaling_profile` for this policy, to fill in
    ``scaling-law-change``.
    """
    th = thresholds_from(thresholds)
    run = SeedRun(frame, th.resamples, th.bootstrap_seed)
    return _profile(run, th, baseline, scaling)


def profiles(
    frame: pd.DataFrame,
    horizons: Sequence[int],
    *,
    thresholds: Thresholds | Mapping[str, Any] | None = None,
    baseline: float | Mapping[int, float] | Sequence[float] | None = None,
) -> dict[int, Profile]:
    """:func:`profile` at several horizons (``Thresholds.horizon``), sharing one bootstrap:
    ``{horizon: Profile}``. The evidence layer stores a run's profile for the long run and for
    its own length (see :mod:`simulators.verdicts`)."""
    th = thresholds_from(thresholds)
    run = SeedRun(frame, th.resamples, th.bootstrap_seed)
    return {int(h): _profile(run, th.model_copy(update={"horizon": int(h)}), baseline, None)
            for h in dict.fromkeys(int(h) for h in horizons)}


def _profile(run: SeedRun, th: Thresholds, baseline: Any, scaling: Any) -> Profile:
    tests = tests_of(run, scaling)
    ctx = _Ctx(run, th, th.level(tests))
    rules = {
        "catastrophic-risk": lambda: catastrophic_risk(ctx, baseline),
        "any-risk-increase": lambda: any_risk_increase(ctx),
        "diverging-risk": lambda: diverging_risk(ctx),
        "scaling-law-change": lambda: (scaling.verdict if scaling is not None else _not_measured(
            "scaling-law-change", "needs a sweep over n: see simulators.scaling_profile")),
        "collapsing-variance": lambda: collapsing_variance(ctx),
        "mode-entanglement": lambda: median_increase(ctx, "mode-entanglement", "mode_overlap",
                                                     th.overlap_increase_min),
        "tail-disappearance": lambda: tail_disappearance(ctx),
        "hallucinated-data": lambda: median_increase(ctx, "hallucinated-data", "hallucinated_mass",
                                                     th.hallucination_increase_min),
    }

    def verdict(d: str) -> Verdict:
        needs = RULE_METRICS.get(d)
        if needs is not None and not any(run.has(m) for m in needs):
            return _absent(d, needs[0])
        return rules[d]()

    verdicts = tuple(verdict(d) for d in DEFINITIONS)
    return Profile(verdicts=verdicts, thresholds=th, seeds=run.S, iterations=run.last, tests=tests)


__all__ = ["RULE_METRICS", "profile", "profiles", "tests_of"]
