"""The verdict rules on synthetic trajectories whose answer is known (no engine needed).

Every frame is built from a fixed numpy seed. Each case is designed so that the quantity a rule
tests is many standard errors (over seeds) away from the rule's boundary, so the verdict does
not hinge on the bootstrap's luck; the comments give the numbers. Where the truth is exactly on
the null (a flat trajectory), the assertion is the 95% coverage of the interval, with the seed
fixed.
"""

from __future__ import annotations

import json
import math

import numpy as np
import pandas as pd
import pytest

from simulators.errors import UserError
from simulators.runfiles import read_run, write_run
from simulators.verdicts import (
    PROFILE_COLUMNS,
    Profile,
    Thresholds,
    profile,
    profiles,
    scaling_profile,
)
from simulators.verdicts import (
    weighted_means as _weighted_means,
)
from simulators.verdicts import (
    weighted_medians as _weighted_medians,
)
from simulators.verdicts.decision import min_seeds_for
from simulators.vocabulary import DEFINITIONS, VERDICTS

COLLAPSE, NO_COLLAPSE, INCONCLUSIVE, NOT_MEASURED = VERDICTS


def tidy(**metrics: np.ndarray) -> pd.DataFrame:
    """A tidy run frame from (S, T) arrays, one per metric (iterations 1..T, seeds 0..S-1)."""
    parts = []
    for name, arr in metrics.items():
        S, T = arr.shape
        it, sd = np.meshgrid(np.arange(1, T + 1), np.arange(S))
        parts.append(pd.DataFrame({"iteration": it.ravel(), "seed": sd.ravel(),
                                   "metric": name, "value": arr.ravel().astype(float)}))
    return pd.concat(parts, ignore_index=True)


def t_axis(T: int) -> np.ndarray:
    return np.arange(1, T + 1, dtype=float)


# ----------------------------------------------------------------------------- the bootstrap


def assert_matches_explicit_resampling(weighted, statistic, X: np.ndarray, rng: np.random.Generator) -> None:
    """``weighted(W, X)`` for 300 bootstrap weight rows W equals ``statistic`` of each column of X
    with its seeds repeated as W says, NaN left out (NaN where nothing is left)."""
    S, K = X.shape
    W = rng.multinomial(S, np.full(S, 1 / S), size=300).astype(float)
    got = weighted(W, X)
    for r in range(300):
        for k in range(K):
            v = np.repeat(X[:, k], W[r].astype(int))
            v = v[~np.isnan(v)]
            with np.errstate(invalid="ignore"):
                ref = statistic(v) if len(v) else np.nan
            assert (np.isnan(ref) and np.isnan(got[r, k])) or ref == pytest.approx(got[r, k])


def test_weighted_means_match_explicit_resampling_with_inf_and_nan():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(6, 4))
    X[1, 1] = np.nan
    X[2, 2] = np.inf
    X[3, 3], X[4, 3] = np.inf, -np.inf
    assert_matches_explicit_resampling(_weighted_means, np.mean, X, rng)


def test_weighted_medians_match_explicit_resampling():
    rng = np.random.default_rng(1)
    X = rng.normal(size=(7, 3))
    X[2, 1] = np.nan
    X[0, 2] = np.inf
    assert_matches_explicit_resampling(_weighted_medians, np.median, X, rng)


def test_profile_is_reproducible_and_complete():
    rng = np.random.default_rng(2)
    frame = tidy(population_risk=t_axis(20) + rng.normal(size=(10, 20)))
    a, b = profile(frame), profile(frame)
    assert a.to_dict() == b.to_dict()
    assert [v.definition for v in a.verdicts] == list(DEFINITIONS)
    assert all(v.verdict in VERDICTS for v in a.verdicts)
    other = profile(frame, thresholds={"bootstrap_seed": 7})
    assert other["any-risk-increase"].ci_low != a["any-risk-increase"].ci_low


# ----------------------------------------------------------------------------- population risk


def test_linear_growth_diverges():
    # Replace-style regression: a 10-dim random walk, risk = squared norm, E risk = t.
    # Last-half growth W_T^2 - W_{T/2}^2 has mean T/2 = 50 and, per coordinate pair of a walk,
    # variance 1.5 T^2 (cov(W_s^2, W_t^2) = 2 s^2), so per seed sd ~ 1.22 T / sqrt(d) ~ 39:
    # over 40 seeds the growth is ~8 SE above 0.
    rng = np.random.default_rng(3)
    S, T, d = 40, 100, 10
    walk = np.cumsum(rng.normal(size=(S, T, d)) / math.sqrt(d), axis=1)
    risk = (walk**2).sum(axis=2)
    p = profile(tidy(population_risk=risk))
    v = p["diverging-risk"]
    assert v.verdict == COLLAPSE, v.reason
    assert v.ci_low > 0 and v.statistic == pytest.approx(1.0, rel=0.5)
    assert v.iteration is not None and v.iteration <= T
    assert p.verdict("any-risk-increase") == COLLAPSE


def test_accumulate_type_bounded_risk_does_not_diverge():
    # Accumulate-style: steps of sd 1/t, risk = squared norm, E risk = sum_k 1/k^2 -> pi^2/6.
    # The expected last-half growth is ~1/T = 0.01; per seed its sd is ~2 |e_{T/2}| sqrt(1/T)
    # ~ 2 * 1.28 * 0.1 / sqrt(d) ~ 0.08: over 40 seeds z ~ 0.01 / (0.08 / 6.3) ~ 0.8, not
    # significant (the same holds for the engine's accumulate regression).
    rng = np.random.default_rng(4)
    S, T, d = 40, 100, 10
    steps = rng.normal(size=(S, T, d)) / math.sqrt(d) / t_axis(T)[None, :, None]
    risk = (np.cumsum(steps, axis=1) ** 2).sum(axis=2)
    p = profile(tidy(population_risk=risk))
    assert p.verdict("diverging-risk") == NO_COLLAPSE, p["diverging-risk"].reason
    assert p["diverging-risk"].iteration is None


def test_saturating_low_noise_is_levelling_off():
    # 1 - 1/k^2-type saturation, with so little noise that the late growth IS significant:
    # the flattening test must say no. Last doubling grows 1/50 - 1/100 = 0.01, the one before
    # 1/25 - 1/50 = 0.02: D = -0.01 with an SE of ~3e-4 (noise sd 0.002 per point, 30 seeds).
    rng = np.random.default_rng(5)
    S, T = 30, 100
    risk = np.cumsum(1 / t_axis(T) ** 2)[None, :] + rng.normal(0, 0.002, size=(S, T))
    v = profile(tidy(population_risk=risk))["diverging-risk"]
    assert v.verdict == NO_COLLAPSE
    assert v.ci_low > 0, "the late growth is significant: it is the flattening that decides"
    assert "levelling off" in v.reason and "no collapse over iterations 1-100" in v.reason


def test_infinite_risk_is_catastrophic_and_diverging():
    rng = np.random.default_rng(6)
    S, T = 30, 40
    risk = 1 + rng.random((S, T))
    risk[:, 10:] = np.inf  # every seed loses an outcome at iteration 11
    p = profile(tidy(population_risk=risk))
    assert p.verdict("catastrophic-risk") == COLLAPSE
    assert p["catastrophic-risk"].statistic == 1.0
    assert p["catastrophic-risk"].iteration == 11
    assert p.verdict("diverging-risk") == COLLAPSE
    assert p.verdict("any-risk-increase") == COLLAPSE
    assert math.isinf(p["any-risk-increase"].statistic)
    json.loads(p.to_json())  # strict JSON despite inf


def test_risk_infinite_from_the_first_fit_is_not_collapse():
    # Every seed's first fit (on real data) already has infinite risk, as a discrete MLE does
    # when an outcome is missing from the n real samples; under accumulate it stays so. Nothing
    # degraded through training on generated data: no catastrophic or diverging collapse.
    S, T = 30, 20
    risk = np.full((S, T), np.inf)
    p = profile(tidy(population_risk=risk))
    assert p.verdict("catastrophic-risk") != COLLAPSE
    assert p["catastrophic-risk"].statistic == 0.0
    assert "no trivial baseline" in p["catastrophic-risk"].reason
    assert p.verdict("diverging-risk") != COLLAPSE


def test_one_infinite_seed_is_not_significant():
    # 1 of 30 seeds: a resample misses it with probability (29/30)^30 = 0.36 > 0.025, so the CI
    # of the share of infinite seeds starts at 0.
    S, T = 30, 20
    risk = np.ones((S, T))
    risk[0, 5:] = np.inf
    p = profile(tidy(population_risk=risk))
    v = p["catastrophic-risk"]
    assert v.verdict == NOT_MEASURED and v.ci_low == 0
    assert "no trivial baseline" in v.reason
    # the trend is of the finite seeds and says so
    assert "left out" in p["diverging-risk"].reason


def test_trivial_baseline_from_argument_attrs_or_rows():
    rng = np.random.default_rng(7)
    S, T = 20, 30
    # risk climbs from 0.1 to the baseline 10 (with noise sd 0.1: G's SE ~ 0.003)
    risk = np.linspace(0.1, 10.0, T)[None, :] + rng.normal(0, 0.1, size=(S, T))
    frame = tidy(population_risk=risk)
    assert profile(frame).verdict("catastrophic-risk") == NOT_MEASURED  # nothing to reach
    v = profile(frame, baseline=10.0)["catastrophic-risk"]
    assert v.verdict == COLLAPSE and v.statistic == pytest.approx(1.0, abs=0.02)
    # G_t = (t-1)/(T-1) on this line: the CI low reaches 0.9 just before iteration 0.9*29 + 1
    assert 26 <= v.iteration <= 28
    with_attrs = frame.copy()
    with_attrs.attrs["trivial_risk"] = 10.0
    assert profile(with_attrs).verdict("catastrophic-risk") == COLLAPSE
    with_rows = pd.concat([frame, tidy(trivial_risk=np.full((S, T), 10.0))], ignore_index=True)
    assert profile(with_rows).verdict("catastrophic-risk") == COLLAPSE
    # per-seed baseline, far above: a quarter of the gap closed at T, but the risk still climbs
    # linearly, so within the horizon it would reach the baseline: not no-collapse
    far = {s: 40.0 for s in range(S)}
    v = profile(frame, baseline=far)["catastrophic-risk"]
    assert v.verdict == INCONCLUSIVE and "too slow" in v.reason
    # a risk that levels off at a tenth of the way to the baseline is no-collapse
    plateau = 0.1 + (1 - 1 / t_axis(T))[None, :] + rng.normal(0, 0.01, size=(S, T))
    v = profile(tidy(population_risk=plateau), baseline=far)["catastrophic-risk"]
    assert v.verdict == NO_COLLAPSE, v.reason


def test_first_fit_already_trivial_is_not_measured():
    p = profile(tidy(population_risk=np.full((5, 10), 3.0)), baseline=2.0)
    assert p.verdict("catastrophic-risk") == NOT_MEASURED


# ----------------------------------------------------------------------------- distribution


def test_geometric_variance_decay_collapses():
    # log variance: random walk with drift -0.1 per iteration (MLE Gaussian, n ~ 20): at T = 60
    # the median log ratio is -6 (sd 0.3 sqrt(60) = 2.3 per seed), far below log 0.1 = -2.3.
    rng = np.random.default_rng(8)
    V = np.exp(np.cumsum(rng.normal(-0.1, 0.3, size=(30, 60)), axis=1))
    v = profile(tidy(variance_ratio=V))["collapsing-variance"]
    assert v.verdict == COLLAPSE and v.ci_high < 0.1
    assert "below the floor" in v.reason


def test_slow_variance_decay_collapses_by_trend():
    # drift -0.02 per iteration: at T = 60 the median ratio is e^-1.2 = 0.3, above the floor,
    # but log variance falls at a constant rate (never flattening): the trend rule decides.
    # Noise sd 0.05 per point: the last-half slope's SE ~ 2e-4 over 30 seeds vs 0.02.
    rng = np.random.default_rng(9)
    L = -0.02 * t_axis(60)[None, :] + rng.normal(0, 0.05, size=(30, 60))
    v = profile(tidy(variance_ratio=np.exp(L)))["collapsing-variance"]
    assert v.verdict == COLLAPSE and v.statistic > 0.1
    assert "late decline" in v.reason


def test_flat_or_plateauing_variance_does_not_collapse():
    rng = np.random.default_rng(10)
    flat = np.exp(rng.normal(0, 0.1, size=(30, 60)))
    assert profile(tidy(variance_ratio=flat)).verdict("collapsing-variance") == NO_COLLAPSE
    plateau = (0.5 + 0.5 * np.exp(-t_axis(60) / 5))[None, :] * np.exp(rng.normal(0, 0.05, (30, 60)))
    assert profile(tidy(variance_ratio=plateau)).verdict("collapsing-variance") == NO_COLLAPSE


def test_unbiased_style_variance_collapses_by_median_not_mean():
    # Products of chi2_{n-1}/(n-1) (n = 10): E = 1 at every t, but log drifts by
    # digamma(4.5) + log(2/9) = -0.117 per iteration, so the typical seed collapses.
    rng = np.random.default_rng(11)
    n, S, T = 10, 50, 60
    V = np.cumprod(rng.chisquare(n - 1, size=(S, T)) / (n - 1), axis=1)
    v = profile(tidy(variance_ratio=V))["collapsing-variance"]
    assert v.verdict == COLLAPSE


def test_tail_ratio_falling_collapses_relative_to_iteration_1():
    rng = np.random.default_rng(12)
    S, T = 30, 40
    falling = np.exp(-0.05 * t_axis(T))[None, :] * np.exp(rng.normal(0, 0.1, size=(S, T)))
    v = profile(tidy(tail_mass_ratio=falling))["tail-disappearance"]
    assert v.verdict == COLLAPSE and v.ci_high < 1
    assert v.statistic == pytest.approx(math.exp(-0.05 * 39), rel=0.1)
    # constant 0.8: below 1.0, but the real-data fit already had 0.8: no recursion effect.
    # Noise sd 0.005 in log: the late slope's interval, times the 1000-iteration horizon, is
    # about +-0.1, well inside the margin log 2 (half the tail mass lost)
    steady = 0.8 * np.exp(rng.normal(0, 0.005, size=(S, T)))
    v = profile(tidy(tail_mass_ratio=steady))["tail-disappearance"]
    assert v.verdict == NO_COLLAPSE, v.reason
    # the same with noise sd 0.05: the slope is ten times less certain, so a slow loss within
    # the horizon cannot be excluded
    noisy = 0.8 * np.exp(rng.normal(0, 0.05, size=(S, T)))
    v = profile(tidy(tail_mass_ratio=noisy))["tail-disappearance"]
    assert v.verdict == INCONCLUSIVE and v.seeds_needed > S


def test_tail_ratio_falling_but_still_above_the_truth_is_not_disappearance():
    # From 2.0 (an over-dispersed first fit) down to ~1.3: it fell, but the model still gives
    # the tails more mass than the truth: DESIGN.md's "below 1" is not met.
    rng = np.random.default_rng(13)
    S, T = 30, 40
    falling = (1.3 + 0.7 * np.exp(-0.2 * (t_axis(T) - 1)))[None, :] * np.exp(rng.normal(0, 0.05, size=(S, T)))
    v = profile(tidy(tail_mass_ratio=falling))["tail-disappearance"]
    assert v.verdict == NO_COLLAPSE, v.reason
    assert v.ci_high < 1, "it did fall relative to iteration 1"
    assert v.ci_low > 0.5, "but by less than half of its tail mass, and it levels off"


def test_tail_ratio_uses_the_typical_seed():
    # 27 of 30 seeds lose their tails; 3 drift into the tail region (ratio 100): the mean rises
    # to ~10, the median falls to 0.
    S, T = 30, 20
    A = np.ones((S, T))
    A[:, 10:] = 0.0
    A[:3, 10:] = 100.0
    assert profile(tidy(tail_mass_ratio=A)).verdict("tail-disappearance") == COLLAPSE


@pytest.mark.parametrize(
    ("metric", "definition"),
    [("hallucinated_mass", "hallucinated-data"), ("mode_overlap", "mode-entanglement")],
)
def test_rising_mass_collapses_flat_does_not(metric, definition):
    rng = np.random.default_rng(13)
    S, T = 30, 30
    # rise of 0.29 over the run vs noise sd 0.02 per point: z ~ 0.29 / (0.028/sqrt(30)) ~ 50
    rising = 0.01 * t_axis(T)[None, :] + rng.normal(0, 0.02, size=(S, T))
    v = profile(tidy(**{metric: rising}))[definition]
    assert v.verdict == COLLAPSE and v.statistic == pytest.approx(0.29, abs=0.03)
    # flat with noise sd 0.02 over 30 seeds: a rise of the minimum effect within the 1000-
    # iteration horizon cannot be excluded -> inconclusive, with the seeds that would settle it
    flat = 0.1 + rng.normal(0, 0.02, size=(S, T))
    v = profile(tidy(**{metric: flat}))[definition]
    assert v.verdict == INCONCLUSIVE and v.seeds_needed > S, v.reason
    # noise sd 0.0005 over 300 seeds: the late slope's interval times 1000 is about +-0.005,
    # inside both minimum effects (0.01 and 0.05) -> no-collapse
    flat = 0.1 + rng.normal(0, 0.0005, size=(300, T))
    assert profile(tidy(**{metric: flat})).verdict(definition) == NO_COLLAPSE


def test_missing_metrics_are_not_measured():
    p = profile(tidy(population_risk=np.ones((5, 10))))
    for d, metric in [("collapsing-variance", "variance_ratio"),
                      ("tail-disappearance", "tail_mass_ratio"),
                      ("hallucinated-data", "hallucinated_mass"),
                      ("mode-entanglement", "mode_overlap")]:
        assert p.verdict(d) == NOT_MEASURED and metric in p[d].reason
    assert p.verdict("scaling-law-change") == NOT_MEASURED
    assert "sweep over n" in p["scaling-law-change"].reason
    # and the risk rules when risk is absent
    q = profile(tidy(variance_ratio=np.ones((5, 10))))
    for d in ("catastrophic-risk", "any-risk-increase", "diverging-risk"):
        assert q.verdict(d) == NOT_MEASURED


def test_nan_values_are_left_out():
    rng = np.random.default_rng(14)
    risk = t_axis(30)[None, :] + rng.normal(0, 0.5, size=(20, 30))
    risk[:5, -1] = np.nan  # five seeds not measured at T
    v = profile(tidy(population_risk=risk))["any-risk-increase"]
    # relative increase of the mean risk: about 30 / 1 - 1, over the seeds with a value
    assert v.verdict == COLLAPSE and v.statistic == pytest.approx(29, rel=0.2)
    all_nan = profile(tidy(tail_mass_ratio=np.full((4, 10), np.nan)))
    assert all_nan.verdict("tail-disappearance") == NOT_MEASURED


def test_too_short_runs():
    p = profile(tidy(population_risk=np.ones((12, 1)), variance_ratio=np.ones((12, 1))))
    assert p.verdict("any-risk-increase") == NOT_MEASURED  # one iteration: no change at all
    # the family measures the risk, the run is too short to say anything about its trend
    v = p["diverging-risk"]
    assert v.verdict == INCONCLUSIVE and v.iterations_needed == 8
    assert "at least 8" in profile(tidy(population_risk=np.ones((12, 5))))["diverging-risk"].reason


# ----------------------------------------------------------------------------- output, input


def test_to_frame_and_dict_round_trip():
    rng = np.random.default_rng(15)
    p = profile(tidy(population_risk=t_axis(20) + rng.normal(size=(8, 20)),
                     variance_ratio=np.exp(rng.normal(size=(8, 20)))))
    frame = p.to_frame()
    assert tuple(frame.columns) == PROFILE_COLUMNS
    assert list(frame["definition"]) == list(DEFINITIONS)
    back = Profile.from_dict(json.loads(p.to_json()))
    assert back.to_dict() == p.to_dict()
    assert back.thresholds == p.thresholds == Thresholds()


def test_bad_frames_and_thresholds_are_user_errors():
    with pytest.raises(UserError, match="missing column"):
        profile(pd.DataFrame({"iteration": [1], "seed": [0], "value": [1.0]}))
    dup = tidy(population_risk=np.ones((2, 3)))
    with pytest.raises(UserError, match="more than one value"):
        profile(pd.concat([dup, dup]))
    with pytest.raises(UserError, match="variance_floor"):
        profile(dup, thresholds={"variance_floor": 2})
    with pytest.raises(UserError, match="baseline"):
        profile(dup, baseline=[1.0, 2.0, 3.0])


def test_read_run_formats(tmp_path):
    S, T = 12, 12
    risk = np.ones((S, T))
    risk[:, 6:] = np.inf
    frame = tidy(population_risk=risk)
    frame.to_csv(tmp_path / "r.csv", index=False)
    frame.to_parquet(tmp_path / "r.parquet", index=False)
    rows = [{**r, "value": "inf" if math.isinf(r["value"]) else r["value"]}
            for r in frame.to_dict(orient="records")]
    (tmp_path / "r.json").write_text(json.dumps(rows))
    for name in ("r.csv", "r.parquet", "r.json"):
        got = read_run(tmp_path / name)
        assert np.isposinf(got["value"]).sum() == S * (T - 6)
        assert profile(got).verdict("catastrophic-risk") == COLLAPSE
    with pytest.raises(UserError, match="extension"):
        read_run(tmp_path / "r.txt")
    (tmp_path / "bad.json").write_text('{"x": 1}')
    with pytest.raises(UserError, match="list of rows"):
        read_run(tmp_path / "bad.json")


# ----------------------------------------------------------------------------- scaling law


def _sweep(exponent_T: float, seed: int, S: int = 20, T: int = 5):
    """Runs over n: risk(1) = 1/n, risk(T) = 5 n^-exponent_T, lognormal noise sd 0.1."""
    rng = np.random.default_rng(seed)
    frames = {}
    for n in (50, 100, 200, 400, 800):
        risk = np.empty((S, T))
        risk[:, :] = np.geomspace(1.0 / n, 5 * n ** -exponent_T, T)[None, :]
        risk *= np.exp(rng.normal(0, 0.1, size=(S, T)))
        frames[n] = tidy(population_risk=risk)
    return frames


def test_scaling_exponents_equal_vs_different():
    # Noise sd 0.1 per seed -> SE of log mean ~ 0.1/sqrt(20) = 0.022; the slope over five
    # doublings of n has SE ~ 0.022 * sqrt(2) / 2.2 ~ 0.015 for the difference.
    same = scaling_profile(_sweep(1.0, 16))
    assert same.reference_exponent == pytest.approx(-1.0, abs=0.05)
    assert same.exponent == pytest.approx(-1.0, abs=0.05)
    assert same.verdict.verdict == NO_COLLAPSE
    assert same.difference_ci[0] < 0 < same.difference_ci[1]
    changed = scaling_profile(_sweep(0.5, 17))
    assert changed.exponent == pytest.approx(-0.5, abs=0.05)
    assert changed.verdict.verdict == COLLAPSE
    assert changed.difference_ci[0] > 0.3
    assert changed.to_frame().shape == (10, 5)
    json.dumps(changed.to_dict(), allow_nan=False)
    # the verdict goes into a single run's profile
    p = profile(_sweep(0.5, 17)[800], scaling=changed)
    assert p.verdict("scaling-law-change") == COLLAPSE


def test_scaling_with_separate_reference_runs():
    policy = _sweep(0.5, 18)
    reference = _sweep(0.5, 19)  # its last iteration also scales as n^-0.5: same law
    assert scaling_profile(policy, reference).verdict.verdict == NO_COLLAPSE
    with pytest.raises(UserError, match="reference run for n"):
        scaling_profile(policy, {50: reference[50]})
    with pytest.raises(UserError, match="2 or more"):
        scaling_profile({50: policy[50]})


def test_write_run_keeps_infinite_risk_in_every_format(tmp_path):
    # An infinite risk is a result (a lost outcome): it must survive a save and a load, JSON
    # included (pandas' to_json would write null, which reads back as "not measured").
    frame = pd.DataFrame({"iteration": [1, 1, 2, 2], "seed": [0, 1, 0, 1],
                          "metric": ["population_risk"] * 4,
                          "value": [1.0, 2.0, math.inf, math.nan]})
    for name in ("r.csv", "r.parquet", "r.json"):
        write_run(frame, tmp_path / name)
        got = read_run(tmp_path / name)
        assert np.isposinf(got["value"].iloc[2]) and np.isnan(got["value"].iloc[3]), name
        assert got["value"].iloc[:2].tolist() == [1.0, 2.0]
    # a run's catastrophic-risk baseline travels with it as trivial_risk rows
    frame.attrs["trivial_risk"] = {0: 3.0, 1: 4.0}
    write_run(frame, tmp_path / "b.json")
    got = read_run(tmp_path / "b.json")
    baseline = got[got["metric"] == "trivial_risk"]
    assert dict(zip(baseline["seed"], baseline["value"])) == {0: 3.0, 1: 4.0}
    with pytest.raises(UserError, match="does not exist"):
        write_run(frame, tmp_path / "missing" / "r.csv")
    with pytest.raises(UserError, match="unknown file extension"):
        write_run(frame, tmp_path / "r.txt")


# ----------------------------------------------------------------------------- three-way verdicts


def test_family_wise_level_is_bonferroni_over_the_rules_the_run_can_test():
    rng = np.random.default_rng(20)
    frame = tidy(population_risk=1 + rng.random((20, 12)), variance_ratio=np.exp(rng.normal(0, 0.1, (20, 12))))
    p = profile(frame)
    # catastrophic-risk, any-risk-increase and diverging-risk read the risk, collapsing-variance
    # the variance ratio: 4 tests share the 5% error
    assert p.tests == 4 and p.level == pytest.approx(1 - 0.05 / 4)
    assert all(v.level == p.level for v in p.verdicts if v.verdict != NOT_MEASURED)
    assert "98.8% CI" in p["collapsing-variance"].reason
    single = profile(frame, thresholds={"multiplicity": "none"})
    assert single.level == 0.95


def test_a_significant_but_negligible_rise_is_not_collapse():
    # The median hallucinated mass rises by 2e-7 with noise 1e-9: far past "significantly
    # above 0", three orders of magnitude below the minimum effect 0.01 -> no-collapse.
    rng = np.random.default_rng(21)
    S, T = 30, 40
    mass = 1e-6 + 2e-7 * (t_axis(T) - 1)[None, :] / (T - 1) + rng.normal(0, 1e-9, size=(S, T))
    v = profile(tidy(hallucinated_mass=mass))["hallucinated-data"]
    assert v.ci_low > 0, "the rise is significant"
    assert v.verdict == NO_COLLAPSE, v.reason


def test_too_few_seeds_are_inconclusive_whatever_the_interval():
    # 2^-S must be below the one-sided error: 9 seeds with seven rules at a family-wise 95%
    assert min_seeds_for(1 - 0.05 / 7) == 9
    assert min_seeds_for(0.95) == 6
    S, T = 5, 20
    risk = np.tile(t_axis(T), (S, 1)) * (1 + 0.01 * np.arange(S))[:, None]  # every seed grows
    v = profile(tidy(population_risk=risk))["any-risk-increase"]
    assert v.verdict == INCONCLUSIVE and "seeds cannot support it" in v.reason
    assert v.seeds_needed == min_seeds_for(1 - 0.05 / 3)


def test_fragile_verdicts_are_inconclusive_and_stable_ones_are_reproducible():
    # A rise per seed of mu + N(0, 1) over 40 seeds: as mu grows the collapse criterion is met,
    # first just past its boundary (reached by few bootstrap replicates: inconclusive, fragile),
    # then with room to spare (stable). Every conclusive verdict has stability >= 0.8.
    rng = np.random.default_rng(22)
    S, T = 40, 2
    noise = rng.normal(size=S)
    seen = set()
    for mu in np.linspace(0.1, 1.5, 29):
        overlap = np.zeros((S, T))
        overlap[:, 1] = mu + noise
        v = profile(tidy(mode_overlap=overlap))["mode-entanglement"]
        if v.conclusive:
            assert v.stability >= 0.8
            seen.add(v.verdict)
        elif "fragile" in v.reason:
            assert v.stability < 0.8 and v.seeds_needed is not None
            seen.add("fragile")
    assert {"fragile", COLLAPSE} <= seen


def test_inconclusive_verdicts_say_what_would_settle_them():
    rng = np.random.default_rng(23)
    S, T = 30, 40
    risk = 1 + 0.001 * t_axis(T)[None, :] + rng.normal(0, 0.3, size=(S, T))
    p = profile(tidy(population_risk=risk))
    v = p["diverging-risk"]
    assert v.verdict == INCONCLUSIVE
    assert v.seeds_needed is not None and v.seeds_needed > S
    assert "would settle: about" in v.reason
    short = profile(tidy(population_risk=risk[:, :5]))["diverging-risk"]
    assert short.iterations_needed == 8 and "at least 8 iterations" in short.reason


def test_every_reason_says_which_iterations_it_speaks_about():
    rng = np.random.default_rng(24)
    frame = tidy(population_risk=t_axis(25)[None, :] + rng.normal(size=(20, 25)),
                 tail_mass_ratio=np.exp(rng.normal(0, 0.1, (20, 25))))
    for v in profile(frame).verdicts:
        if v.verdict != NOT_MEASURED:
            assert "over iterations 1-25" in v.reason, v.reason


def test_profiles_at_several_horizons_share_one_bootstrap():
    rng = np.random.default_rng(25)
    S, T = 200, 20
    # a slow geometric loss of variance, 0.002 per iteration (a Gaussian refitted to about
    # 1000 of its own samples): negligible within the run, 2 in log over 1000 iterations
    L = -0.002 * t_axis(T)[None, :] + np.cumsum(rng.normal(0, 0.01, size=(S, T)), axis=1)
    frame = tidy(variance_ratio=np.exp(L))
    both = profiles(frame, [1000, T])
    assert both[1000].to_dict() == profile(frame).to_dict()
    # the long run cannot be excluded from 20 iterations; the next 20 can
    assert both[1000].verdict("collapsing-variance") == INCONCLUSIVE
    assert both[T].verdict("collapsing-variance") == NO_COLLAPSE
    assert both[T].thresholds.horizon == T


def test_thresholds_refuse_a_bootstrap_too_coarse_for_a_stable_verdict():
    with pytest.raises(UserError, match="resamples 500 cannot resolve"):
        profile(tidy(population_risk=np.ones((10, 3))), thresholds={"resamples": 500})
