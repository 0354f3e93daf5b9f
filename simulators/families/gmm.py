"""``gmm``: fit a Gaussian mixture by EM, sample from it, repeat (Shumailov et al., arXiv
2305.17493, fit mixtures with EM each generation).

Truth: ``components`` unit-variance Gaussians in ``dim`` dimensions with equal weights, adjacent
means ``separation`` (default 6) standard deviations apart (:func:`simulators.datasets.
separated_mixture`). Fit: EM with full covariances, batched over seeds, for at most
``em_iterations`` steps, stopping when the mean log-likelihood of every seed changes by less
than ``tol``. Initialisation is truth-independent: k-means++ seeding (D^2 sampling, Arthur &
Vassilvitskii 2007) on the training set, the training set's covariance for every component and
equal weights. A variance floor of 1e-6 is added to every covariance (scikit-learn's
``reg_covar``), so a collapsed component stays a valid (very narrow) Gaussian; variance ratios
therefore bottom out near 1e-6, not 0.

Not additive (EM needs the points): the engine keeps pools in preallocated arrays. Backend:
numpy.

Metrics (truth p, model q; ``holdout`` real points with their true component labels, and 2000
model draws per seed from the family's measurement generator, the same at every iteration):

``population_risk``   -mean log q on the held-out real points.
``kl_to_truth``       mean (log p - log q) on them (Monte Carlo estimate of KL(p || q)).
``variance_ratio``    tr(Cov_q) / tr(Cov_p), both exact mixture covariances.
``entropy``           -mean log q on the model draws (Monte Carlo estimate).
``tail_mass_ratio``   model draws in the truth's lowest-density 1% region, / 0.01.
``hallucinated_mass`` model draws outside every true component's central 1 - 1e-6 ellipsoid.
``mode_overlap``      how much the fit merges true modes: with rbar_j(c) the mean posterior
                      responsibility of fitted component c over held-out points of true mode j,
                      the mean over pairs of true modes j < k of the overlap coefficient
                      sum_c min(rbar_j(c), rbar_k(c)) of their assignment distributions: ~0
                      when every true mode has its own components (the truth itself scores
                      ~Phi(-separation/2) ~ 1e-3 at separation 6), 1 when two modes are
                      explained by the same components in the same proportions. ``nan`` for a
                      single component (no pairs).
"""

from __future__ import annotations

import math
from typing import Any, Mapping

import numpy as np
from pydantic import Field

from ..base import TAIL_MASS, Batch, Family, FamilyParams, Summary
from ..datasets import separated_mixture, tail_threshold
from ..registry import register

REG_COVAR = 1e-6
EVAL_DRAWS = 2000


class GMMParams(FamilyParams):
    components: int = Field(3, ge=1, le=50, description="mixture components (truth and fit)")
    dim: int = Field(2, ge=1, le=50, description="dimension")
    n: int = Field(500, ge=2, description="samples per iteration")
    separation: float = Field(6.0, gt=0, description="distance between adjacent true means, in sd")
    em_iterations: int = Field(100, ge=1, description="maximum EM steps per fit")
    tol: float = Field(1e-5, ge=0, description="stop when every seed's mean log-likelihood changes less")
    holdout: int = Field(4000, ge=10, description="held-out real points for the metrics")


def component_logpdf(x: np.ndarray, means: np.ndarray, chol: np.ndarray) -> np.ndarray:
    """log N(x; means_k, L_k L_k^T) for x (S, m, d) (or (m, d) shared), means (S, K, d),
    chol (S, K, d, d): returns (S, m, K)."""
    S, K, d = means.shape
    if x.ndim == 2:
        x = np.broadcast_to(x, (S, *x.shape))
    inv = np.linalg.inv(chol)  # (S, K, d, d); small d, batched
    # whitened residuals: L^-1 (x - mu) = L^-1 x - L^-1 mu, computed with matmuls
    wx = np.einsum("skij,smj->smki", inv, x, optimize=True)
    wm = np.einsum("skij,skj->ski", inv, means)
    r = wx - wm[:, None]
    logdet = np.sum(np.log(np.abs(np.diagonal(chol, axis1=2, axis2=3))), axis=2)  # (S, K)
    return -0.5 * np.sum(r * r, axis=3) - logdet[:, None] - 0.5 * d * math.log(2 * math.pi)


def _logsumexp(a: np.ndarray, axis: int) -> np.ndarray:
    top = np.max(a, axis=axis, keepdims=True)
    top = np.where(np.isfinite(top), top, 0.0)
    return np.squeeze(top, axis) + np.log(np.sum(np.exp(a - top), axis=axis))


def kmeanspp(x: np.ndarray, K: int, rng: Any) -> np.ndarray:
    """k-means++ seeds per seed, batched: (S, K, d)."""
    S, m, d = x.shape
    rows = np.arange(S)
    centres = np.empty((S, K, d))
    centres[:, 0] = x[rows, rng.integers(0, m, size=S)]
    best = np.sum((x - centres[:, :1]) ** 2, axis=2)
    for j in range(1, K):
        cumulative = np.cumsum(best, axis=1)
        u = rng.random(S) * cumulative[:, -1]
        index = np.minimum((cumulative <= u[:, None]).sum(axis=1), m - 1)
        centres[:, j] = x[rows, index]
        best = np.minimum(best, np.sum((x - centres[:, j : j + 1]) ** 2, axis=2))
    return centres


def em(x: np.ndarray, K: int, steps: int, tol: float, rng: Any) -> dict[str, np.ndarray]:
    """Batched EM with full covariances; returns weights (S,K), means (S,K,d), covs, chol."""
    S, m, d = x.shape
    eye = np.eye(d)
    means = kmeanspp(x, K, rng)
    centred = x - x.mean(axis=1, keepdims=True)
    data_cov = np.einsum("smi,smj->sij", centred, centred) / m
    covs = np.broadcast_to(data_cov[:, None] + REG_COVAR * eye, (S, K, d, d)).copy()
    weights = np.full((S, K), 1.0 / K)
    previous = np.full(S, -np.inf)
    for _ in range(steps):
        chol = np.linalg.cholesky(covs)
        logp = component_logpdf(x, means, chol) + np.log(np.maximum(weights, 1e-300))[:, None]
        norm = _logsumexp(logp, axis=2)
        resp = np.exp(logp - norm[:, :, None])  # (S, m, K)
        nk = resp.sum(axis=1) + 1e-12  # (S, K)
        weights = nk / m
        means = np.einsum("smk,smd->skd", resp, x) / nk[:, :, None]
        # covariances via batched matmuls: (S,K,d,m) @ (S,K,m,d)
        diff = x[:, None] - means[:, :, None]  # (S, K, m, d)
        weighted = diff * np.swapaxes(resp, 1, 2)[:, :, :, None]
        covs = np.swapaxes(weighted, 2, 3) @ diff / nk[:, :, None, None] + REG_COVAR * eye
        loglik = norm.mean(axis=1)
        if np.all(np.abs(loglik - previous) < tol):
            break
        previous = loglik
    return {"weights": weights, "means": means, "covs": covs, "chol": np.linalg.cholesky(covs)}


def mixture_logpdf(x: np.ndarray, model: Mapping[str, np.ndarray]) -> np.ndarray:
    """log q(x) of fitted mixtures, (S, m)."""
    logp = component_logpdf(x, model["means"], model["chol"]) + np.log(np.maximum(model["weights"], 1e-300))[:, None]
    return _logsumexp(logp, axis=2)


@register
class GMM(Family):
    """Gaussian mixture fitted by batched EM."""

    name = "gmm"
    Params = GMMParams
    metrics = ("population_risk", "kl_to_truth", "variance_ratio", "entropy", "tail_mass_ratio",
               "hallucinated_mass", "mode_overlap")
    additive = False
    pure_sample = True
    summary_line = "Gaussian mixture fitted by EM (k-means++ init), separated true modes"

    def build(self, rng: Any) -> None:
        params = self.params
        self.truth = separated_mixture(params.components, params.dim, params.separation)
        self.holdout, self.labels = self.truth.sample(rng, (params.holdout,))
        self.holdout_logp = self.truth.logpdf(self.holdout)
        self.tail_tau = tail_threshold(("gmm", params.components, params.dim, params.separation), self.truth)
        self.truth_trace = float(np.trace(self.truth.covariance()))

    def real(self, n: int, rng: Any) -> Batch:
        x, _ = self.truth.sample(rng, (self.seeds, n))
        return {"x": x}

    def fit(self, summary: Summary, previous: Any, rng: Any) -> dict[str, np.ndarray]:
        p = self.params
        return em(summary["x"], p.components, p.em_iterations, p.tol, rng)

    def _draw(self, model: Mapping[str, np.ndarray], u: np.ndarray, z: np.ndarray) -> np.ndarray:
        """Mixture draws from uniforms u (S, m) and standard normals z (S or 1, m, d)."""
        cumulative = np.cumsum(model["weights"], axis=1)
        comp = np.minimum((u[:, :, None] * cumulative[:, -1:, None].transpose(0, 2, 1) >= cumulative[:, None, :]).sum(axis=2), cumulative.shape[1] - 1)
        rows = np.arange(comp.shape[0])[:, None]
        means = model["means"][rows, comp]  # (S, m, d)
        chol = model["chol"][rows, comp]  # (S, m, d, d)
        return means + np.einsum("smij,smj->smi", chol, np.broadcast_to(z, means.shape))

    def sample(self, model: Mapping[str, np.ndarray], n: int, rng: Any) -> Batch:
        S, d = self.seeds, self.params.dim
        return {"x": self._draw(model, rng.random((S, n)), rng.standard_normal((S, n, d)))}

    def measure(self, model: Mapping[str, np.ndarray], metrics: tuple[str, ...]) -> dict[str, np.ndarray]:
        out: dict[str, np.ndarray] = {}
        S, K = model["weights"].shape
        wanted = set(metrics)
        if {"population_risk", "kl_to_truth", "mode_overlap"} & wanted:
            logp = component_logpdf(self.holdout, model["means"], model["chol"]) + np.log(np.maximum(model["weights"], 1e-300))[:, None]
            logq = _logsumexp(logp, axis=2)
            out["population_risk"] = -logq.mean(axis=1)
            out["kl_to_truth"] = (self.holdout_logp[None] - logq).mean(axis=1)
            resp = np.exp(logp - logq[:, :, None])  # (S, H, K)
            J = self.params.components
            rbar = np.stack([resp[:, self.labels == j].mean(axis=1) for j in range(J)], axis=1)  # (S, J, K)
            if J < 2:
                out["mode_overlap"] = np.full(S, np.nan)
            else:
                pairs = [(a, b) for a in range(J) for b in range(a + 1, J)]
                bc = [np.sum(np.minimum(rbar[:, a], rbar[:, b]), axis=1) for a, b in pairs]
                out["mode_overlap"] = np.mean(bc, axis=0)
        if "variance_ratio" in wanted:
            w, mu = model["weights"], model["means"]
            mean = np.einsum("sk,skd->sd", w, mu)
            total = np.einsum("sk,skdd->s", w, model["covs"]) + np.einsum("sk,skd,skd->s", w, mu, mu) - np.sum(mean**2, axis=1)
            out["variance_ratio"] = total / self.truth_trace
        if {"entropy", "tail_mass_ratio", "hallucinated_mass"} & wanted:
            gen = self.measurement_rng()
            d = self.params.dim
            y = self._draw(model, gen.random((S, EVAL_DRAWS)), gen.standard_normal((S, EVAL_DRAWS, d)))
            out["entropy"] = -mixture_logpdf(y, model).mean(axis=1)
            out["tail_mass_ratio"] = (self.truth.logpdf(y) < self.tail_tau).mean(axis=1) / TAIL_MASS
            out["hallucinated_mass"] = self.truth.far(y).mean(axis=1)
        return {k: out[k] for k in metrics}
