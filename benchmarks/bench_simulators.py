"""Benchmark: the batched engine against a naive per-seed Python loop (research-code style).

Usage::

    python benchmarks/bench_simulators.py            # every simulator x policy
    python benchmarks/bench_simulators.py --quick    # smaller sizes, a smoke run
    python benchmarks/bench_simulators.py --big-kde  # also KDE accumulate n=1000, T=100 (pool 1e5)

For each simulator and policy it times ``simulators.run`` and a naive loop written here in the
style of published research code: for each seed, a list of arrays, ``np.concatenate`` to build
the pool, refit from scratch on the whole training set, per-seed metric computation. Both compute
the same closed-form metrics (for gaussian: population_risk and variance_ratio; discrete:
population_risk and support_size; linear-regression: population_risk; kde/gmm: population_risk
on the same held-out size), so the ratio measures the loop, not extra metrics. It also checks
that doubling the iterations at most doubles the engine's time under accumulate for gaussian,
discrete and linear-regression (the sufficient-statistic path).

Defaults: 100 seeds x 100 iterations (gaussian dim=10 n=100; discrete 10 categories n=100;
linear-regression dim=10 n=100); kde and gmm use 20 seeds x 20 iterations and n=100 unless
``--full`` (their accumulate cost grows with the pool by nature: at 100 x 100 a KDE pool reaches
1e4 points per seed, scored against the held-out sample every iteration, and the naive loop
alone runs for hours on two cores).
"""

from __future__ import annotations

import argparse
import math
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import simulators  # noqa: E402
from simulators.datasets import dataset, separated_mixture  # noqa: E402

POLICIES = [("replace", None), ("accumulate", None), ("accumulate-subsample", None), ("mix", 0.1), ("fresh", 0.1)]


def next_training_set(policy, f, n, real0, pool, synthetic, fresh_real):
    """The naive policy step for one seed: lists of arrays and concatenations."""
    if policy == "replace":
        return synthetic, pool
    pool = pool + [synthetic]
    if policy == "accumulate":
        return np.concatenate(pool), pool
    if policy == "accumulate-subsample":
        everything = np.concatenate(pool)
        return everything[np.random.choice(len(everything), n, replace=False)], pool
    k = math.ceil(f * n)
    real = real0[:k] if policy == "mix" else fresh_real[:k]
    return np.concatenate([real, synthetic[k:]]), pool


# ------------------------------------------------------------------ naive per-seed loops


def naive_gaussian(S, T, policy, f, dim=10, n=100):
    out = []
    for seed in range(S):
        np.random.seed(seed)
        real0 = np.random.randn(n, dim)
        data, pool = real0, [real0]
        for t in range(T):
            mu = data.mean(0)
            cov = np.cov(data.T, bias=True).reshape(dim, dim)
            sign, logdet = np.linalg.slogdet(cov)
            inv = np.linalg.inv(cov)
            risk = 0.5 * (dim * np.log(2 * np.pi) + logdet + np.trace(inv) + mu @ inv @ mu)
            out.append((risk, np.trace(cov) / dim))
            synthetic = np.random.multivariate_normal(mu, cov, size=n)
            data, pool = next_training_set(policy, f, n, real0, pool, synthetic, np.random.randn(n, dim))
    return out


def naive_discrete(S, T, policy, f, categories=10, n=100):
    p = np.full(categories, 1.0 / categories)
    out = []
    for seed in range(S):
        np.random.seed(seed)
        real0 = np.random.choice(categories, n, p=p)
        data, pool = real0, [real0]
        for t in range(T):
            q = np.bincount(data, minlength=categories) / len(data)
            with np.errstate(divide="ignore"):
                out.append((-np.sum(p * np.log(q)), np.sum(q > 0)))
            synthetic = np.random.choice(categories, n, p=q)
            data, pool = next_training_set(policy, f, n, real0, pool, synthetic, np.random.choice(categories, n, p=p))
    return out


def naive_linreg(S, T, policy, f, dim=10, n=100):
    out = []
    for seed in range(S):
        np.random.seed(seed)
        w_star = np.random.randn(dim)
        X = np.random.randn(n, dim)
        real0 = np.column_stack([X, X @ w_star + np.random.randn(n)])
        data, pool = real0, [real0]
        for t in range(T):
            w = np.linalg.lstsq(data[:, :dim], data[:, dim], rcond=None)[0]
            out.append(np.sum((w - w_star) ** 2))
            synthetic = np.column_stack([X, X @ w + np.random.randn(n)])
            fresh = np.column_stack([X, X @ w_star + np.random.randn(n)])
            data, pool = next_training_set(policy, f, n, real0, pool, synthetic, fresh)
    return out


def naive_sampled(truth, S, T, policy, f, n, holdout, fit):
    """The per-seed loop of the sampled families (kde, gmm): each iteration
    ``fit(data, test, r, seed, t)`` gives the risk on a held-out sample of ``truth`` and
    ``n`` synthetic points."""
    rng = np.random.default_rng(0)
    test, _ = truth.sample(rng, (holdout,))
    out = []
    for seed in range(S):
        r = np.random.default_rng(seed)
        real0, _ = truth.sample(r, (n,))
        data, pool = real0, [real0]
        for t in range(T):
            risk, synthetic = fit(data, test, r, seed, t)
            out.append(risk)
            fresh, _ = truth.sample(r, (n,))
            data, pool = next_training_set(policy, f, n, real0, pool, synthetic, fresh)
    return out


def naive_kde(S, T, policy, f, n=100, holdout=1000):
    from scipy.stats import gaussian_kde

    def fit(data, test, r, seed, t):
        kde = gaussian_kde(data.T)  # scott
        return -np.mean(kde.logpdf(test.T)), kde.resample(n, seed=r).T

    return naive_sampled(dataset("moons"), S, T, policy, f, n, holdout, fit)


def naive_gmm(S, T, policy, f, n=100, holdout=4000):
    from sklearn.mixture import GaussianMixture

    def fit(data, test, r, seed, t):
        gm = GaussianMixture(3, covariance_type="full", max_iter=100, tol=1e-5, random_state=seed + t).fit(data)
        synthetic, _ = gm.sample(n)
        return -gm.score(test), synthetic[r.permutation(n)]

    return naive_sampled(separated_mixture(3, 2), S, T, policy, f, n, holdout, fit)


# ------------------------------------------------------------------ the benchmark


def timed(fn, *args, **kwargs):
    start = time.perf_counter()
    fn(*args, **kwargs)
    return time.perf_counter() - start


CASES = {
    "gaussian": (dict(dim=10, n=100), "population_risk,variance_ratio", naive_gaussian),
    "discrete": (dict(categories=10, n=100), "population_risk,support_size", naive_discrete),
    "linear-regression": (dict(dim=10, n=100), "population_risk", naive_linreg),
    "kde": (dict(n=100, dataset="moons"), "population_risk", naive_kde),
    "gmm": (dict(n=100), "population_risk", naive_gmm),
}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="10 seeds x 10 iterations everywhere")
    parser.add_argument("--big-kde", action="store_true", help="also KDE accumulate n=1000, T=100")
    parser.add_argument("--only", default=None, help="comma-separated simulators")
    parser.add_argument("--full", action="store_true",
                        help="kde and gmm at 100 seeds x 100 iterations too (the naive loop then takes hours)")
    args = parser.parse_args()
    only = set(args.only.split(",")) if args.only else set(CASES)
    print(f"{'simulator':18s} {'policy':22s} {'S':>4s} {'T':>4s} {'engine s':>9s} {'naive s':>9s} {'ratio':>7s}")
    for name, (params, metrics, naive) in CASES.items():
        if name not in only:
            continue
        S, T = (100, 100) if args.full or name not in ("kde", "gmm") else (20, 20)
        if args.quick:
            S, T = 10, 10
        simulators.run(name, seeds=2, iterations=2, metrics=metrics, **params)  # warm-up: lazy imports
        for policy, f in POLICIES:
            engine_s = timed(simulators.run, name, policy=policy, real_fraction=f, seeds=S, iterations=T, metrics=metrics, **params)
            naive_s = timed(naive, S, T, policy, f, **{k: v for k, v in params.items() if k != "dataset"})
            print(f"{name:18s} {policy:22s} {S:4d} {T:4d} {engine_s:9.3f} {naive_s:9.3f} {naive_s / engine_s:6.1f}x", flush=True)
    print()
    print("accumulate: time(2T) / time(T) for the sufficient-statistic families (goal <= 2)")
    for name in ("gaussian", "discrete", "linear-regression"):
        if name not in only:
            continue
        params, metrics, _ = CASES[name]
        S, T = (100, 100) if not args.quick else (10, 50)
        single = min(timed(simulators.run, name, policy="accumulate", seeds=S, iterations=T, metrics=metrics, **params) for _ in range(2))
        double = min(timed(simulators.run, name, policy="accumulate", seeds=S, iterations=2 * T, metrics=metrics, **params) for _ in range(2))
        # constant cost per iteration gives a ratio of 2 minus the fixed setup share; allow 5%
        # for timing noise on a shared machine (min of two runs each)
        verdict = "ok" if double / single <= 2.1 else "OVER"
        print(f"{name:18s} T={T}: {single:.3f}s  2T={2 * T}: {double:.3f}s  ratio {double / single:.2f} {verdict}")
    if args.big_kde:
        S = 5
        print()
        print(f"kde accumulate n=1000 T=100 (pool 1e5 per seed), {S} seeds, all metrics:")
        t = timed(simulators.run, "kde", policy="accumulate", seeds=S, iterations=100, n=1000)
        print(f"  engine {t:.1f}s")


if __name__ == "__main__":
    main()
