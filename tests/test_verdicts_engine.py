"""The collapse profile of real simulator runs against theory.

Both sides are pinned: well-powered runs of processes whose behaviour is known in closed form
keep their conclusive verdicts, and short or few-seed runs of processes that collapse in the
long run are never called no-collapse.

- Gaussian, MLE, ``replace`` (Shumailov et al., arXiv 2305.17493), dim 1, n 20, 100 iterations:
  log variance drifts by digamma(9.5) + log(2/20) = -0.105 per iteration, so the median variance
  ratio at T is ~e^-10.5 ~ 3e-5 (per-seed sd of the log ~ sqrt(100 * 2/19) ~ 3.2): far below
  the 0.1 floor -> ``collapsing-variance: collapse``. Under ``accumulate`` the expected variance
  shrinks only by a factor 1 - 1/(n t^2) per iteration (a convergent product), and under ``mix``
  half of every training set is the same real data: the median stays near 1 and the log variance
  stops moving -> ``no-collapse`` with 200 seeds (at 50 the late slope is too uncertain to
  exclude a loss of 90% of the variance within the 1000-iteration horizon).
- Linear regression (Gerstgrasser et al., arXiv 2404.01413), dim 10, n 100, noise_var 1:
  ``replace`` E risk = t * 10/89 grows linearly -> ``diverging-risk: collapse``; ``accumulate``
  E risk = (10/89) sum_k 1/k^2 is bounded -> ``no-collapse`` (200 seeds); with a fixed half of
  real data (``mix``) the risk settles at a constant level, and excluding a slow drift over the
  1000-iteration horizon takes a precise late slope: 1000 seeds over 300 iterations (least
  squares is cheap).
- Discrete, 10 outcomes with a Zipf truth, n 20, ``replace``: every run fixes on one outcome
  (Wright-Fisher) long before 100 iterations; the smoothed model of a fixed chain puts 0.82 of
  its mass on one outcome and 0.02 on each other, cross-entropy about 2.6 nats against the
  uniform model's log 10 = 2.3 and the first fit's about 2.1 -> ``catastrophic-risk: collapse``.

Seeds are fixed; each run takes well under a few seconds.
"""

from __future__ import annotations

import collections

import pytest

from simulators import engine
from simulators.verdicts import profile

T = 100


def _profile(name: str, policy: str, seeds: int, iterations: int = T, **params):
    return profile(engine.run(name, policy=policy, seeds=seeds, iterations=iterations, **params))


def test_gaussian_replace_collapses_variance():
    p = _profile("gaussian", "replace", 50, dim=1, n=20)
    v = p["collapsing-variance"]
    assert v.verdict == "collapse", v.reason
    assert v.ci_high < 1e-2
    assert p.verdict("tail-disappearance") == "collapse"


@pytest.mark.parametrize(("policy", "fraction"), [("accumulate", None), ("mix", 0.5)])
def test_gaussian_keeps_its_variance_when_real_data_stay(policy, fraction):
    p = _profile("gaussian", policy, 200, dim=1, n=20, real_fraction=fraction)
    v = p["collapsing-variance"]
    assert v.verdict == "no-collapse", v.reason
    assert 0.5 < v.statistic < 1.5


def test_linear_regression_replace_diverges():
    p = _profile("linear-regression", "replace", 100, dim=10, n=100, noise_var=1.0)
    v = p["diverging-risk"]
    assert v.verdict == "collapse", v.reason
    # slope of E risk relative to the first fit's: (10/89) / (10/89) = 1 per iteration
    assert v.ci_low < 1 < v.ci_high
    assert p.verdict("catastrophic-risk") == "collapse"


@pytest.mark.parametrize(("policy", "fraction", "seeds", "iterations"),
                         [("accumulate", None, 200, T), ("mix", 0.5, 1000, 300)])
def test_linear_regression_stays_bounded_when_real_data_stay(policy, fraction, seeds, iterations):
    p = _profile("linear-regression", policy, seeds, iterations, dim=10, n=100, noise_var=1.0,
                 real_fraction=fraction)
    assert p.verdict("diverging-risk") == "no-collapse", p["diverging-risk"].reason
    assert p.verdict("catastrophic-risk") == "no-collapse", p["catastrophic-risk"].reason


def test_discrete_replace_is_catastrophic():
    p = _profile("discrete", "replace", 50, categories=10, init="zipf", n=20)
    assert p.verdict("catastrophic-risk") == "collapse", p["catastrophic-risk"].reason
    assert p.verdict("collapsing-variance") == "collapse"
    # with a uniform truth the model that ignores the data (the uniform one) is the truth
    # itself, so every fit is already at or above its risk: the rule does not apply
    p = _profile("discrete", "replace", 50, categories=5, n=20)
    assert p.verdict("catastrophic-risk") == "not-measured"
    assert "already at or above the trivial baseline" in p["catastrophic-risk"].reason


@pytest.mark.parametrize(("seeds", "iterations"), [(3, 5), (30, 10), (30, 20), (100, 20)])
def test_short_runs_of_a_slowly_collapsing_gaussian_are_never_no_collapse(seeds, iterations):
    # A Gaussian refitted to n = 1000 of its own samples drifts by about -2/n = -0.002 in log
    # variance per iteration: invisible within 20 iterations, a 90% loss after about 1150.
    p = _profile("gaussian", "replace", seeds, iterations, dim=1, n=1000)
    for d in ("collapsing-variance", "tail-disappearance", "diverging-risk"):
        assert p.verdict(d) != "no-collapse", (d, p[d].reason)
    assert p.verdict("collapsing-variance") == "inconclusive"


@pytest.mark.parametrize(("seeds", "iterations"), [(5, 50), (30, 6)])
def test_few_seed_or_short_runs_of_diverging_regression_are_never_no_collapse(seeds, iterations):
    p = _profile("linear-regression", "replace", seeds, iterations, dim=10, n=100)
    assert p.verdict("diverging-risk") == "inconclusive", p["diverging-risk"].reason


@pytest.mark.slow
def test_verdicts_do_not_hinge_on_the_seed_set():
    # A Gaussian mix setup in 20 disjoint sets of 30 seeds: no definition is called collapse in
    # one set and no-collapse in another, and the risk (which settles at a constant level under
    # mix) is called diverging in at most one set (the family-wise rate is 5% per profile).
    verdicts = collections.defaultdict(collections.Counter)
    for k in range(20):
        frame = engine.run("gaussian", policy="mix", real_fraction=0.5, n=20, iterations=T,
                           seeds=list(range(30 * k, 30 * k + 30)))
        for v in profile(frame).verdicts:
            verdicts[v.definition][v.verdict] += 1
    for d, counts in verdicts.items():
        assert not (counts["collapse"] and counts["no-collapse"]), (d, counts)
    assert verdicts["diverging-risk"]["collapse"] <= 1, verdicts["diverging-risk"]
