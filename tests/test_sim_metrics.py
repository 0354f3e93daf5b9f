"""Metric formulas of the classical families against independent references.

References are computed a different way from the family's code: scipy's distributions, exact
cubature, direct (unchunked) sums, least squares solved by ``numpy.linalg.lstsq``. Exact
references are compared at 1e-10 relative; Monte Carlo ones within 5 standard errors, each stated
where it is used. Also: the one-line parameter errors of the CLI.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy import stats
from scipy.special import logsumexp

import simulators
from simulators.engine import make_rng
from simulators.families import discrete, gaussian, kde
from simulators.families.linear_regression import (
    LinearRegression,
    LinearRegressionParams,
)

EXACT = 1e-10


def _gaussian_model(dim: int, covariance, seeds: int, n: int = 40, seed: int = 1):
    """A Gaussian family instance and a model fitted to n draws from a (deliberately wrong)
    Gaussian, so that the model differs from the truth in mean and covariance."""
    fam = gaussian.Gaussian(gaussian.GaussianParams(dim=dim, covariance=covariance), seeds, make_rng([seed], "numpy"))
    rng = np.random.default_rng(seed)
    x = 0.3 + 1.4 * rng.standard_normal((seeds, n, dim)) @ rng.standard_normal((dim, dim)) / math.sqrt(dim)
    return fam, fam.fit(gaussian.scatter_summary(x), None, None)


def _sigma_points(cov: np.ndarray) -> np.ndarray:
    """2d points +-sqrt(d) C e_i (C C^T = cov): their average of any quadratic function equals its
    exact expectation under N(0, cov) (the unscented transform is exact for degree <= 3)."""
    d = cov.shape[0]
    c = np.linalg.cholesky(cov) * math.sqrt(d)
    return np.concatenate([c.T, -c.T])


COVARIANCES = [(1, None), (3, None), (3, (0.5, 2.0, 1.5)), (2, ((2.0, 0.6), (0.6, 1.0)))]


@pytest.mark.parametrize("dim,covariance", COVARIANCES)
def test_gaussian_cross_entropy_kl_entropy_exact(dim, covariance):
    fam, model = _gaussian_model(dim, covariance, seeds=3)
    got = fam.measure(model, ("population_risk", "kl_to_truth", "entropy"))
    points = _sigma_points(fam.cov)
    truth_entropy = stats.multivariate_normal(np.zeros(dim), fam.cov).entropy()
    for s in range(3):
        q = stats.multivariate_normal(model["mean"][s], model["cov"][s])
        cross = -float(np.mean(q.logpdf(points)))
        assert got["population_risk"][s] == pytest.approx(cross, rel=EXACT)
        assert got["kl_to_truth"][s] == pytest.approx(cross - truth_entropy, rel=EXACT)
        assert got["entropy"][s] == pytest.approx(q.entropy(), rel=EXACT)


def test_gaussian_cross_entropy_and_kl_by_monte_carlo():
    """-log q averaged over 400k truth draws; tolerance 5 standard errors of that mean (the
    sample sd of -log q / sqrt(400k)). KL: the same draws of log p - log q."""
    fam, model = _gaussian_model(3, (0.5, 2.0, 1.5), seeds=1)
    got = fam.measure(model, ("population_risk", "kl_to_truth"))
    x = np.random.default_rng(7).standard_normal((400_000, 3)) * np.sqrt([0.5, 2.0, 1.5])
    nlq = -stats.multivariate_normal(model["mean"][0], model["cov"][0]).logpdf(x)
    se = nlq.std() / math.sqrt(len(x))
    assert abs(got["population_risk"][0] - nlq.mean()) < 5 * se
    diff = stats.multivariate_normal(np.zeros(3), fam.cov).logpdf(x) + nlq
    assert abs(got["kl_to_truth"][0] - diff.mean()) < 5 * diff.std() / math.sqrt(len(x))


def test_gaussian_one_dimensional_region_masses_exact():
    fam, model = _gaussian_model(1, (4.0,), seeds=3)
    got = fam.measure(model, ("tail_mass_ratio", "hallucinated_mass"))
    for level, metric, scale in ((0.99, "tail_mass_ratio", 0.01), (1 - 1e-6, "hallucinated_mass", 1.0)):
        r = 2.0 * stats.norm.ppf(0.5 + level / 2)  # truth sd 2: central region [-r, r]
        for s in range(3):
            mu, sd = model["mean"][s, 0], math.sqrt(model["cov"][s, 0, 0])
            expected = (stats.norm.sf(r, mu, sd) + stats.norm.cdf(-r, mu, sd)) / scale
            assert got[metric][s] == pytest.approx(expected, rel=EXACT)


def test_gaussian_region_masses_isotropic_model_exact():
    """A model N(0, v I) has ||x||^2 / v ~ chi2_d: every direction gives the exact mass, so the
    directional estimate must be exact (also far below the old 1/4096 floor)."""
    d, v = 4, np.array([0.5, 1.0, 1.7])
    fam = gaussian.Gaussian(gaussian.GaussianParams(dim=d), 3, make_rng([0], "numpy"))
    model = fam.fit({"count": np.full(3, 10.0), "mean": np.zeros((3, d)), "m2": 10.0 * v[:, None, None] * np.eye(d)}, None, None)
    got = fam.measure(model, ("tail_mass_ratio", "hallucinated_mass"))
    tail = stats.chi2.sf(stats.chi2.ppf(0.99, d) / v, d) / 0.01
    hall = stats.chi2.sf(stats.chi2.isf(1e-6, d) / v, d)
    np.testing.assert_allclose(got["tail_mass_ratio"], tail, rtol=EXACT)
    np.testing.assert_allclose(got["hallucinated_mass"], hall, rtol=1e-8)
    assert 0 < hall[0] < 1e-10  # v = 0.5: a mass the old hit-or-miss estimator read as 0


def test_gaussian_region_masses_anisotropic_by_monte_carlo():
    """200 seeds carrying the same anisotropic model: their estimates use independent
    directions (so they differ: the error reaches the CI), and their mean agrees with a plain
    Monte Carlo of 1e6 draws within 5 combined standard errors (the seeds' sd / sqrt(200) and
    the binomial sd of the plain estimate)."""
    d, S = 3, 200
    fam = gaussian.Gaussian(gaussian.GaussianParams(dim=d), S, make_rng([0], "numpy"))
    a = np.array([[1.2, 0.3, 0.0], [0.3, 0.6, 0.2], [0.0, 0.2, 2.0]])
    mean = np.array([0.4, -0.2, 0.3])
    model = fam.fit({"count": np.full(S, 10.0), "mean": np.tile(mean, (S, 1)), "m2": np.tile(10 * a, (S, 1, 1))}, None, None)
    tail, hall = fam._outside(model, (fam.tail_radius2, fam.hall_radius2))
    x = np.random.default_rng(3).standard_normal((1_000_000, d)) @ np.linalg.cholesky(a).T + mean
    q = np.sum(x * x, axis=1)
    for est, radius2 in ((tail, fam.tail_radius2), (hall, fam.hall_radius2)):
        assert est.std() > 0  # independent directions per seed
        p = float(np.mean(q > radius2))
        se = math.hypot(est.std(ddof=1) / math.sqrt(S), math.sqrt(max(p, 1e-6) * (1 - p) / len(q)))
        assert abs(est.mean() - p) < 5 * se


def test_discrete_metrics_match_scipy():
    params = discrete.DiscreteParams(categories=200, init="zipf", zipf_exponent=1.3, n=50)
    fam = discrete.Discrete(params, 2, make_rng([0], "numpy"))
    counts = np.random.default_rng(0).integers(1, 40, size=(2, 200))
    counts[1, ::7] = 0  # some outcomes lost: infinite cross-entropy
    model = fam.fit({"counts": counts}, None, None)
    got = fam.measure(model, fam.metrics)
    p = discrete.truth_probabilities(params)
    q0 = counts[0] / counts[0].sum()
    assert got["entropy"][0] == pytest.approx(stats.entropy(q0), rel=EXACT)
    # the risk is the smoothed model's: add 1/2 to every count (Krichevsky-Trofimov)
    for s in range(2):
        smoothed = (counts[s] + 0.5) / (counts[s].sum() + 0.5 * 200)
        assert got["kl_to_truth"][s] == pytest.approx(stats.entropy(p, smoothed), rel=EXACT)
        assert got["population_risk"][s] == pytest.approx(
            stats.entropy(p) + stats.entropy(p, smoothed), rel=EXACT)
    # lost outcomes cost log((m + K/2) / (1/2)) each, weighted by their true probability
    assert np.isfinite(got["population_risk"][1]) and got["population_risk"][1] > got["population_risk"][0]
    raw = discrete.Discrete(params.model_copy(update={"smoothing": 0.0}), 2, make_rng([0], "numpy"))
    raw_risk = raw.measure(model, ("population_risk", "kl_to_truth"))
    assert raw_risk["population_risk"][1] == np.inf and raw_risk["kl_to_truth"][1] == np.inf
    assert raw_risk["kl_to_truth"][0] == pytest.approx(stats.entropy(p, q0), rel=EXACT)
    # the tail: total truth mass <= 1%, no tail outcome more likely than a non-tail one, and
    # adding the rarest non-tail outcome would exceed 1%
    tail = fam.tail
    rest = np.setdiff1d(np.arange(200), tail)
    assert p[tail].sum() <= 0.01 and p[tail].max() <= p[rest].min()
    assert p[tail].sum() + p[rest].min() > 0.01
    assert got["tail_mass_ratio"][0] == pytest.approx(q0[tail].sum() / p[tail].sum(), rel=EXACT)


def test_kde_risk_matches_unchunked_logsumexp(monkeypatch):
    monkeypatch.setattr(kde, "CHUNK_ELEMENTS", 64)  # force many chunks of the online logsumexp
    for bandwidth in ("scott", 0.3):
        fam = kde.KDE(kde.KDEParams(bandwidth=bandwidth, n=50, holdout=30), 2, make_rng([0], "numpy"))
        model = fam.fit(fam.real(50, np.random.default_rng(1)), None, None)
        got = fam.measure(model, ("population_risk", "kl_to_truth"))
        for s in range(2):
            # log q(x) = logsumexp_i log N(x; x_i, H) - log m, one scipy density per kernel
            dens = np.stack([stats.multivariate_normal(c, model["kernel"][s]).logpdf(fam.holdout) for c in model["data"][s]])
            logq = logsumexp(dens, axis=0) - math.log(50)
            assert got["population_risk"][s] == pytest.approx(-logq.mean(), rel=EXACT)
            assert got["kl_to_truth"][s] == pytest.approx(np.mean(fam.holdout_logp - logq), rel=EXACT)


def test_regression_risk_is_distance_to_w_star():
    params = LinearRegressionParams(dim=5, n=40, noise_var=0.5)
    fam = LinearRegression(params, 3, make_rng([0], "numpy"))
    batch = fam.real(40, np.random.default_rng(2))
    model = fam.fit(fam.summarize(batch), None, None)
    got = fam.measure(model, ("population_risk", "mean_sq_error"))
    for s in range(3):
        w = np.linalg.lstsq(batch["x"][s], batch["y"][s], rcond=None)[0]
        risk = float(np.sum((w - fam.w_star[s]) ** 2))
        assert got["population_risk"][s] == pytest.approx(risk, rel=EXACT)
        assert got["mean_sq_error"][s] == pytest.approx(risk / 5, rel=EXACT)


def _inverse_wishart_risk_moments(n: int, p: int) -> tuple[float, float]:
    """Mean and variance of ||w_hat - w*||^2 / noise_var for OLS on an n x p standard normal
    design: given X the error is N(0, noise_var V), V = (X^T X)^-1 ~ inverse Wishart(I, n), so
    E = E tr V and Var = 2 E tr(V^2) + Var(tr V), from the inverse Wishart's first two moments
    (Cov(V_ij, V_kl) = [2 d_ij d_kl + (n-p-1)(d_ik d_jl + d_il d_kj)] / D,
    D = (n-p)(n-p-1)^2(n-p-3); e.g. Press, Applied Multivariate Analysis, 1982)."""
    D = (n - p) * (n - p - 1) ** 2 * (n - p - 3)
    var_diag, var_off, cov_diag = 2 * (n - p) / D, (n - p - 1) / D, 2 / D
    mean_v = 1 / (n - p - 1)
    e_tr_v2 = p * (var_diag + mean_v**2) + p * (p - 1) * var_off
    var_tr_v = p * var_diag + p * (p - 1) * cov_diag
    return p * mean_v, 2 * e_tr_v2 + var_tr_v


def test_regression_first_risk_has_n_minus_dim_minus_one():
    """E[risk_1] = noise_var dim / (n - dim - 1) (Gerstgrasser et al., arXiv 2404.01413) with
    dim = 10, n = 24: 10/13 = 0.769 against 10/14 = 0.714 for the n - dim slip, a 7% gap. The
    risk's variance is known exactly (see above: sd 0.50), finite up to the fourth moment here
    (n - dim = 14 > 7), so the mean of 20000 seeds has SE 0.0035 and 5 SE = 0.018, a third of the
    gap 0.055. The sample sd must also match the exact one (a check of the SE used)."""
    n, dim, seeds = 24, 10, 20000
    frame = simulators.run("linear-regression", seeds=seeds, iterations=1, metrics="population_risk", dim=dim, n=n, noise_var=1.0)
    risk = frame["value"].to_numpy()
    mean, var = _inverse_wishart_risk_moments(n, dim)
    assert mean == pytest.approx(dim / (n - dim - 1))
    se = math.sqrt(var / seeds)
    assert abs(risk.mean() - mean) < 5 * se
    assert abs(risk.mean() - dim / (n - dim)) > 5 * se
    assert risk.std(ddof=1) == pytest.approx(math.sqrt(var), rel=0.15)


@pytest.mark.parametrize(
    "value,shown",
    [("-1", "got -1"), ("foo", "got 'foo'"), ("0", "got 0")],
)
def test_cli_bandwidth_errors_name_the_parameter(value, shown):
    from click.testing import CliRunner

    from cli.main import main

    result = CliRunner().invoke(main, ["run", "kde", "--seeds", "1", "--iterations", "1", "--param", f"bandwidth={value}"])
    assert result.exit_code == 1
    text = result.output.strip()
    assert "\n" not in text and "Traceback" not in text
    assert "parameter 'bandwidth': must be a positive number" in text and "'scott' or 'silverman'" in text
    assert text.endswith(shown) and "params" not in text and "bandwidth.float" not in text
