"""``discrete``: fit a categorical distribution by its empirical frequencies, sample, repeat.

Shumailov et al. (arXiv 2305.17493) show that this Markov chain (a Wright-Fisher process in
population genetics) loses outcomes and is absorbed in a single one in finite time under
``replace``. Truth: ``categories`` outcomes with probabilities ``uniform`` or ``zipf`` (p_i
proportional to (i+1)^-zipf_exponent, so outcome 0 is the most common). Fit: MLE frequencies
counts / total. Batches carry the outcome labels ``x`` (S, m) int64; summaries are the per-seed
counts, exact and additive, so ``accumulate`` adds counts.

The risk is that of a smoothed model. The chain samples from the MLE frequencies (an outcome
with zero count is lost for good: that is the collapse mechanism), but the MLE's own
cross-entropy is infinite as soon as one true outcome has count zero, which with n small
relative to ``categories`` (above all with a Zipf truth, whose rare outcomes have tiny
probabilities) happens in the first fit on real data already, and then every risk-based
definition and every scaling law is unmeasurable. So ``population_risk`` and ``kl_to_truth``
are those of the add-alpha estimate q~_i = (c_i + alpha) / (m + K alpha) built from the same
counts c (m of them), alpha = ``smoothing`` (default 1/2, the Krichevsky-Trofimov estimator;
on real data its KL to a K-outcome truth falls like (K - 1) / (2m) once m is large relative to
K, the chi-square limit of every add-constant estimator). A lost outcome then costs
log((m + K alpha) / alpha) nats per unit of its true probability: finite, and larger than the
uniform model's log K once enough mass is lost, so ``catastrophic-risk`` can be reached.
``smoothing: 0`` gives the raw MLE risk (``inf`` once an outcome is lost).

Backend: numpy (counting and sampling are a few integer array operations).

Sampling from a fitted model is exact integer arithmetic: the model keeps its integer counts,
and a draw is a uniform integer u in [0, total) mapped to the first outcome whose cumulative
count exceeds u, so an outcome with zero count can never be drawn (no floating-point leaks).

Metrics (truth p, model q, both exact):

``population_risk``   cross-entropy -sum_i p_i log q~_i of the smoothed model (see above).
``kl_to_truth``       KL(p || q~) = population_risk - H(p).
``entropy``           -sum_i q_i log q_i.
``support_size``      number of outcomes with q_i > 0.
``tail_mass_ratio``   q(T) / p(T) for the truth's tail T: the rarest outcomes of the truth whose
                      total truth probability is at most 1% (the discrete analogue of "outside the
                      central 99%"), or the single rarest outcome if it alone exceeds 1% (e.g. the
                      uniform truth; ties go to the highest index).
``variance_ratio``    (1 - sum q_i^2) / (1 - sum p_i^2): the trace of the covariance of the one-hot
                      encoding under q relative to p (the Gini-Simpson index); 0 when collapsed.
``mean_sq_error``     sum_i (q_i - p_i)^2, the squared error of the probability vector.
"""

from __future__ import annotations

from typing import Any, Literal, Mapping

import numpy as np
from pydantic import Field

from ..base import TAIL_MASS, Batch, Family, FamilyParams, Summary
from ..registry import register


class DiscreteParams(FamilyParams):
    categories: int = Field(10, ge=2, le=1_000_000, description="number of outcomes")
    init: Literal["uniform", "zipf"] = Field("uniform", description="the truth's shape")
    zipf_exponent: float = Field(1.0, gt=0, description="p_i proportional to (i+1)^-exponent (init zipf)")
    smoothing: float = Field(
        0.5, ge=0, description="add-alpha constant of the smoothed model whose risk is reported "
        "(the chain samples from the unsmoothed frequencies); 0: the raw MLE risk"
    )


def truth_probabilities(params: DiscreteParams) -> np.ndarray:
    """The true probability vector."""
    k = params.categories
    if params.init == "uniform":
        return np.full(k, 1.0 / k)
    w = np.arange(1, k + 1, dtype=np.float64) ** (-params.zipf_exponent)
    return w / w.sum()


def tail_outcomes(p: np.ndarray, mass: float = TAIL_MASS) -> np.ndarray:
    """Indices of the truth's tail: its rarest outcomes with total probability <= mass (>= 1)."""
    order = np.lexsort((-np.arange(p.size), p))  # ascending p; among ties the highest index first
    cumulative = np.cumsum(p[order])
    count = max(1, int(np.searchsorted(cumulative, mass * (1 + 1e-12), side="right")))
    return np.sort(order[:count])


@register
class Discrete(Family):
    """Categorical distribution fitted by frequencies."""

    name = "discrete"
    Params = DiscreteParams
    metrics = ("population_risk", "kl_to_truth", "entropy", "support_size", "tail_mass_ratio",
               "variance_ratio", "mean_sq_error")
    additive = True
    pure_sample = True
    summary_line = "categorical distribution, MLE frequencies (uniform | zipf truth)"

    def build(self, rng: Any) -> None:
        params = self.params
        self.p = truth_probabilities(params)
        self.cdf = np.cumsum(self.p)
        self.tail = tail_outcomes(self.p)
        self.tail_p = float(self.p[self.tail].sum())
        self.entropy_p = float(-np.sum(self.p * np.log(self.p)))
        self.simpson_p = 1.0 - float(np.sum(self.p**2))

    def real(self, n: int, rng: Any) -> Batch:
        u = rng.random((self.seeds, n))
        x = np.searchsorted(self.cdf, u, side="right")
        return {"x": np.minimum(x, self.params.categories - 1).astype(np.int64)}

    def summarize(self, batch: Batch) -> Summary:
        x = batch["x"]
        k = self.params.categories
        offsets = (np.arange(x.shape[0]) * k)[:, None]
        counts = np.bincount((x + offsets).ravel(), minlength=x.shape[0] * k)
        return {"counts": counts.reshape(x.shape[0], k).astype(np.int64)}

    def fit(self, summary: Summary, previous: Any, rng: Any) -> dict[str, np.ndarray]:
        counts = summary["counts"].copy()
        total = counts.sum(axis=1)
        return {"counts": counts, "total": total, "q": counts / total[:, None]}

    def sample(self, model: Mapping[str, np.ndarray], n: int, rng: Any) -> Batch:
        counts, total = model["counts"], model["total"]
        S, k = counts.shape
        # offset each seed's integer cumulative counts so one searchsorted serves all seeds
        starts = np.concatenate([[0], np.cumsum(total)[:-1]])
        cumulative = (np.cumsum(counts, axis=1) + starts[:, None]).ravel()
        u = rng.integers(0, total[:, None], size=(S, n)) + starts[:, None]
        flat = np.searchsorted(cumulative, u, side="right")
        return {"x": (flat - (np.arange(S) * k)[:, None]).astype(np.int64)}

    def trivial_risk(self) -> np.ndarray:
        """The uniform model's cross-entropy against the truth: log K for every seed."""
        return np.full(self.seeds, np.log(self.params.categories))

    def measure(self, model: Mapping[str, np.ndarray], metrics: tuple[str, ...]) -> dict[str, np.ndarray]:
        q = model["q"]
        p = self.p
        wanted = set(metrics)
        out: dict[str, np.ndarray] = {}
        if {"population_risk", "kl_to_truth"} & wanted:
            alpha = self.params.smoothing
            k = self.params.categories
            smoothed = (model["counts"] + alpha) / (model["total"] + k * alpha)[:, None]
            with np.errstate(divide="ignore"):
                risk = -np.sum(p * np.where(smoothed > 0, np.log(smoothed), -np.inf), axis=1)
            out["population_risk"] = risk
            out["kl_to_truth"] = risk - self.entropy_p
        if "entropy" in wanted:
            with np.errstate(divide="ignore"):
                out["entropy"] = -np.sum(q * np.where(q > 0, np.log(q), 0.0), axis=1)
        if "support_size" in wanted:
            out["support_size"] = (q > 0).sum(axis=1).astype(np.float64)
        if "tail_mass_ratio" in wanted:
            out["tail_mass_ratio"] = q[:, self.tail].sum(axis=1) / self.tail_p
        if "variance_ratio" in wanted:
            out["variance_ratio"] = (1.0 - np.sum(q * q, axis=1)) / self.simpson_p
        if "mean_sq_error" in wanted:
            out["mean_sq_error"] = np.sum((q - p) ** 2, axis=1)
        return {m: out[m] for m in metrics}


def expected_fixation_time(n: int, start: int | None = None) -> float:
    """Exact expected number of resampling steps until a two-outcome Wright-Fisher chain with
    population n (binomial transitions) is absorbed, starting from ``start`` copies (default n/2).

    Solves (I - Q) tau = 1 on the transient states 1..n-1 of the binomial transition matrix.
    Used by the tests; kept here so notebooks can compare too.
    """
    from scipy.stats import binom

    states = np.arange(1, n)
    Q = binom.pmf(states[None, :], n, states[:, None] / n)
    tau = np.linalg.solve(np.eye(n - 1) - Q, np.ones(n - 1))
    start = n // 2 if start is None else start
    return float(tau[start - 1]) if 0 < start < n else 0.0

