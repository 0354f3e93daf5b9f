"""The simulators against closed-form theory.

Tolerances: every check compares a mean over S seeds with its exact expectation and allows Z = 5
standard errors (the SE computed from the theory where it is known in closed form, otherwise from
the seeds). Seeds are fixed, so the outcome is deterministic; for a correct implementation a
5-SE deviation has probability ~6e-7 per check under the normal approximation, while an error
in a formula (a factor (n-1)/n, a missing 1/k^2) moves the mean by far more than 5 SE at these
seed counts.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy.special import digamma, polygamma
from scipy.stats import binom

from simulators import engine
from simulators.families.discrete import expected_fixation_time

Z = 5.0


def per_seed(frame, metric):
    """values of one metric as an array (iterations, seeds)."""
    sub = frame[frame.metric == metric]
    return sub.pivot(index="iteration", columns="seed", values="value").to_numpy()


def test_gaussian_mle_replace_variance_expectation_and_log_drift():
    n, S, T = 50, 2000, 20
    frame = engine.run("gaussian", seeds=S, iterations=T, n=n, metrics="variance_ratio")
    v = per_seed(frame, "variance_ratio")
    for t in (1, 5, 10, 20):
        expected = ((n - 1) / n) ** t
        # sigma_t^2 = prod of t independent chi2_{n-1}/n: E[X^2] = ((n^2-1)/n^2)^t, so the relative
        # variance of one seed is ((n+1)/(n-1))^t - 1
        se = expected * math.sqrt(((n + 1) / (n - 1)) ** t - 1) / math.sqrt(S)
        assert abs(v[t - 1].mean() - expected) < Z * se, (t, v[t - 1].mean(), expected, se)
        # log variance: sum of t independent log(chi2_{n-1}/n), each with mean
        # digamma((n-1)/2) + log(2/n) and variance trigamma((n-1)/2)
        drift = t * (digamma((n - 1) / 2) + math.log(2 / n))
        se_log = math.sqrt(t * float(polygamma(1, (n - 1) / 2)) / S)
        assert abs(np.log(v[t - 1]).mean() - drift) < Z * se_log


def test_gaussian_log_det_drift_in_several_dimensions():
    # in dim d the per-coordinate variances are not independent products, but log det is:
    # det(Sigma_t) = det(Sigma_{t-1}) det(W/n), W ~ Wishart_d(n-1, I), and
    # E[log det W] = sum_{i<d} digamma((n-1-i)/2) + d log 2 (Var = sum of trigammas).
    # entropy = (d log(2 pi e) + log det) / 2, so 2 (entropy_t - H(truth)) drifts by t times that.
    n, d, S, T = 30, 3, 1000, 10
    frame = engine.run("gaussian", seeds=S, iterations=T, n=n, dim=d, metrics="entropy,variance_ratio")
    h = per_seed(frame, "entropy")
    truth_entropy = 0.5 * d * math.log(2 * math.pi * math.e)
    step = sum(digamma((n - 1 - i) / 2) + math.log(2 / n) for i in range(d))
    step_var = sum(float(polygamma(1, (n - 1 - i) / 2)) for i in range(d))
    for t in (1, 10):
        logdet = 2 * (h[t - 1] - truth_entropy)
        assert abs(logdet.mean() - t * step) < Z * math.sqrt(t * step_var / S)
    # E[tr Sigma_t] = ((n-1)/n)^t d holds in any dimension; SE from the seeds here
    v = per_seed(frame, "variance_ratio")[T - 1]
    assert abs(v.mean() - ((n - 1) / n) ** T) < Z * v.std(ddof=1) / math.sqrt(S)


def test_gaussian_unbiased_keeps_expectation_one_but_single_runs_collapse():
    n, S = 50, 2000
    frame = engine.run("gaussian", seeds=S, iterations=20, n=n, estimator="unbiased", metrics="variance_ratio")
    v = per_seed(frame, "variance_ratio")
    for t in (5, 20):
        se = math.sqrt(((n + 1) / (n - 1)) ** t - 1) / math.sqrt(S)  # chi2_{n-1}/(n-1) has mean 1
        assert abs(v[t - 1].mean() - 1.0) < Z * se
    # single runs: log variance drifts by digamma(4.5) + log(2/9) ~ -0.115 per step for n=10, so
    # after 300 steps its mean is ~ -34.5 with SD sqrt(300 trigamma(4.5)) ~ 8.6: nearly every
    # seed is below 1e-6 (log -13.8 is 2.4 SD above the mean: ~99% of seeds).
    frame = engine.run("gaussian", seeds=200, iterations=300, n=10, estimator="unbiased", metrics="variance_ratio")
    last = per_seed(frame, "variance_ratio")[-1]
    assert (last < 1e-6).mean() > 0.9


@pytest.mark.parametrize("policy", ["replace", "accumulate"])
def test_linear_regression_risk_matches_gerstgrasser(policy):
    S, T, d, n, sigma2 = 4000, 20, 5, 30, 0.5
    frame = engine.run("linear-regression", policy=policy, seeds=S, iterations=T, dim=d, n=n, noise_var=sigma2, metrics="population_risk")
    risk = per_seed(frame, "population_risk")
    first = sigma2 * d / (n - d - 1)  # E tr((X^T X)^-1) = d/(n-d-1) for Gaussian X (inverse Wishart)
    for t in (1, 2, 5, 20):
        if policy == "replace":
            expected = t * first
        else:
            expected = first * sum(1 / k**2 for k in range(1, t + 1))
        se = risk[t - 1].std(ddof=1) / math.sqrt(S)
        assert abs(risk[t - 1].mean() - expected) < Z * se, (t, risk[t - 1].mean(), expected, se)
    if policy == "accumulate":  # bounded by pi^2/6 of the first iteration's error
        assert risk[-1].mean() < first * math.pi**2 / 6 + Z * risk[-1].std(ddof=1) / math.sqrt(S)


def test_discrete_two_outcome_fixation_time_is_wright_fisher():
    n, S, T = 20, 2000, 400
    frame = engine.run("discrete", seeds=S, iterations=T, n=n, categories=2, metrics="support_size")
    support = per_seed(frame, "support_size")
    # the chance that a 2-allele Wright-Fisher chain with n=20 is still unfixed after 400 steps is
    # about (1 - 1/n)^400 ~ 1e-9: every seed must have collapsed
    assert (support[-1] == 1).all()
    collapse = np.argmax(support == 1, axis=0) + 1  # first iteration whose model has one outcome
    # model 1 is fitted on Binomial(n, 1/2) real counts; then each step is a binomial resampling,
    # so E[collapse iteration] = 1 + sum_j P(X_1 = j) tau(j), tau from the transition matrix
    tau = np.array([expected_fixation_time(n, j) for j in range(n + 1)])
    expected = 1 + float(np.sum(binom.pmf(np.arange(n + 1), n, 0.5) * tau))
    se = collapse.std(ddof=1) / math.sqrt(S)
    assert abs(collapse.mean() - expected) < Z * se, (collapse.mean(), expected, se)
    # sanity of the exact solver against the classical diffusion approximation 2n ln 2 ~ 27.7
    assert abs(expected_fixation_time(n) - 2 * n * math.log(2)) < 2.5


def test_discrete_accumulate_never_loses_an_outcome():
    frame = engine.run("discrete", policy="accumulate", seeds=500, iterations=100, n=20, categories=2, metrics="support_size")
    support = per_seed(frame, "support_size")
    assert (support == 2).all()
    # a Zipf truth with rare outcomes: support never shrinks below the first fit's
    frame = engine.run("discrete", policy="accumulate", seeds=200, iterations=50, n=50, categories=100, init="zipf", metrics="support_size")
    support = per_seed(frame, "support_size")
    assert (np.diff(support, axis=0) >= 0).all()
    # while replace loses outcomes in the same setting
    frame = engine.run("discrete", policy="replace", seeds=200, iterations=50, n=50, categories=100, init="zipf", metrics="support_size")
    replace = per_seed(frame, "support_size")
    assert replace[-1].mean() < support[-1].mean()


def test_discrete_smoothed_risk_on_real_data_is_the_chi_square_limit():
    # KL(p || q~) of an add-constant estimate from m real samples of a K-outcome truth tends to
    # (K - 1) / (2m) (2m KL -> chi2_{K-1}); at m = 2000, K = 10 the O(1/m^2) remainder is about
    # 0.1% of it, below the 5-SE tolerance of 2000 seeds (per-seed sd sqrt(2(K-1)) / (2m)).
    K, n, S = 10, 2000, 2000
    frame = engine.run("discrete", seeds=S, iterations=1, n=n, categories=K, metrics="kl_to_truth")
    kl = per_seed(frame, "kl_to_truth")[0]
    expected = (K - 1) / (2 * n)
    se = math.sqrt(2 * (K - 1)) / (2 * n) / math.sqrt(S)
    assert abs(kl.mean() - expected) < Z * se, (kl.mean(), expected, se)


def test_linear_regression_with_fewer_rows_than_features_is_the_minimum_norm_fit():
    # n < dim: the fit is the minimum-norm solution, whose excess risk on a Gaussian design is
    # E||w - w*||^2 = (1 - n/d) E||w*||^2 + noise_var n / (d - n - 1) (the part of w* outside
    # the row space is lost; the noise enters through the pseudo-inverse, E tr((X X^T)^-1) =
    # n / (d - n - 1)). With d = 50, n = 30: 20 + 1.58.
    d, n, S = 50, 30, 2000
    frame = engine.run("linear-regression", seeds=S, iterations=1, dim=d, n=n, noise_var=1.0,
                       metrics="population_risk")
    risk = per_seed(frame, "population_risk")[0]
    expected = (1 - n / d) * d + n / (d - n - 1)
    se = risk.std(ddof=1) / math.sqrt(S)
    assert abs(risk.mean() - expected) < Z * se, (risk.mean(), expected, se)
