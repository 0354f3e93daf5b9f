"""``kde``: Gaussian kernel density estimation on a 2-D dataset, sampled and refitted.

As Kazdan et al. (arXiv 2410.16713). Truth: ``dataset`` = ``blobs`` | ``moons`` | ``circles``
(:mod:`simulators.datasets`, exact densities). The fitted model is the training set itself plus a
kernel: ``bandwidth`` a number h means an isotropic kernel N(0, h^2 I) (scikit-learn's
``KernelDensity`` convention); ``scott`` / ``silverman`` mean scipy's ``gaussian_kde`` rule, a
kernel covariance factor^2 * (sample covariance of the training set), factor = m^(-1/6) (Scott)
or (m (d+2)/4)^(-1/(d+4)) (Silverman; equal to Scott in 2-D), m the training-set size, so the
kernel narrows as ``accumulate`` grows the pool. Sampling: a training point chosen uniformly
plus kernel noise.

Not additive: the engine keeps the pool in preallocated arrays. Backend: numpy; the cost is the
scoring of held-out points against every training point, done in chunks of the training set with
a running (online) logsumexp, so memory stays bounded for a pool of 1e5 points per seed.

Metrics (truth p, model q):

``population_risk``   -mean log q on ``holdout`` real points (the same points every iteration).
``kl_to_truth``       mean (log p - log q) on those points (a Monte Carlo estimate of KL(p||q)).
``variance_ratio``    tr(Cov_q) / tr(Cov_p): Cov_q = training-set covariance + kernel covariance
                      (exact for the model), Cov_p exact.
``tail_mass_ratio``   the model's probability of the truth's lowest-density 1% region, / 0.01.
``hallucinated_mass`` the model's probability of points outside every true component's central
                      1 - 1e-6 disk: farther than ~5.3 noise sd from the data's curves/blobs, off
                      the data manifold.

The two region masses are estimated on 1000 model draws per seed from the family's measurement
generator (:meth:`~simulators.base.Family.measurement_rng`: the same draws at every iteration,
independent across seeds), so they vary smoothly across iterations.
"""

from __future__ import annotations

import math
from typing import Any, Literal, Mapping

import numpy as np
from pydantic import Field, field_validator

from ..base import TAIL_MASS, Batch, Family, FamilyParams, Summary
from ..datasets import dataset, tail_threshold
from ..registry import register

EVAL_DRAWS = 1000
CHUNK_ELEMENTS = 1 << 22  #: pairwise terms held in memory at once while scoring


class KDEParams(FamilyParams):
    bandwidth: float | Literal["scott", "silverman"] = Field(
        "scott", description="must be a positive number (the kernel sd), 'scott' or 'silverman'"
    )
    dataset: Literal["blobs", "moons", "circles"] = Field("moons", description="the 2-D truth")
    n: int = Field(200, ge=2, description="samples per iteration")
    holdout: int = Field(1000, ge=10, description="held-out real points for the risk metrics")

    @field_validator("bandwidth")
    @classmethod
    def _positive_bandwidth(cls, value: Any) -> Any:
        # a field validator (not a model one) so that the error is located at ``bandwidth``
        if isinstance(value, float) and not value > 0:
            raise ValueError("must be a positive number (the kernel sd), 'scott' or 'silverman'")
        return value


def kde_logpdf(query: np.ndarray, data: np.ndarray, chol_inv: np.ndarray, logdet: np.ndarray) -> np.ndarray:
    """log q(query) for KDEs q with points ``data`` (S, m, d) and kernel covariance H = L L^T,
    given L^-1 (S, d, d) and log det L (S,); query (H, d) shared or (S, H, d). Chunked over m."""
    S, m, d = data.shape
    wt = np.swapaxes(chol_inv, 1, 2)
    q = (query[None] if query.ndim == 2 else query) @ wt  # whitened queries (S, H, d)
    qq = np.sum(q * q, axis=2)
    H = q.shape[1]
    top = np.full((S, H), -np.inf)
    acc = np.zeros((S, H))
    step = max(1, CHUNK_ELEMENTS // max(1, S * H))
    for a in range(0, m, step):
        w = data[:, a : a + step] @ wt
        d2 = qq[:, :, None] + np.sum(w * w, axis=2)[:, None, :] - 2.0 * (q @ np.swapaxes(w, 1, 2))
        terms = -0.5 * np.maximum(d2, 0.0)
        new_top = np.maximum(top, terms.max(axis=2))
        acc = acc * np.exp(top - new_top) + np.exp(terms - new_top[:, :, None]).sum(axis=2)
        top = new_top
    return top + np.log(acc) - math.log(m) - 0.5 * d * math.log(2 * math.pi) - logdet[:, None]


@register
class KDE(Family):
    """Gaussian-kernel density estimate of a 2-D dataset."""

    name = "kde"
    Params = KDEParams
    metrics = ("population_risk", "kl_to_truth", "variance_ratio", "tail_mass_ratio", "hallucinated_mass")
    additive = False
    pure_sample = True
    summary_line = "Gaussian kernel density estimate on blobs | moons | circles"

    def build(self, rng: Any) -> None:
        params = self.params
        self.truth = dataset(params.dataset)
        self.holdout, _ = self.truth.sample(rng, (params.holdout,))
        self.holdout_logp = self.truth.logpdf(self.holdout)
        self.tail_tau = tail_threshold(("dataset", params.dataset), self.truth)
        self.truth_trace = float(np.trace(self.truth.covariance()))

    def real(self, n: int, rng: Any) -> Batch:
        x, _ = self.truth.sample(rng, (self.seeds, n))
        return {"x": x}

    def fit(self, summary: Summary, previous: Any, rng: Any) -> dict[str, np.ndarray]:
        data = summary["x"]
        S, m, d = data.shape
        mean = data.mean(axis=1)
        centred = data - mean[:, None]
        cov = np.einsum("smi,smj->sij", centred, centred) / m
        bw = self.params.bandwidth
        if isinstance(bw, str):
            factor = m ** (-1.0 / (d + 4)) if bw == "scott" else (m * (d + 2) / 4.0) ** (-1.0 / (d + 4))
            # scipy uses the unbiased covariance; floor the spectrum so a collapsed pool still has
            # a (tiny) positive-definite kernel
            kernel = cov * (m / max(m - 1, 1)) * factor**2
            evals, evecs = np.linalg.eigh(kernel)
            evals = np.maximum(evals, 1e-24)
            chol = evecs * np.sqrt(evals)[:, None, :]  # B with B B^T = kernel (not triangular)
            chol_inv = np.swapaxes(evecs / np.sqrt(evals)[:, None, :], 1, 2)
            logdet = 0.5 * np.sum(np.log(evals), axis=1)
        else:
            kernel = np.broadcast_to(np.eye(d) * bw**2, (S, d, d))
            chol = np.broadcast_to(np.eye(d) * bw, (S, d, d))
            chol_inv = np.broadcast_to(np.eye(d) / bw, (S, d, d))
            logdet = np.full(S, d * math.log(bw))
        return {"data": data, "cov": cov, "kernel": kernel, "chol": chol, "chol_inv": chol_inv, "logdet": logdet}

    def _draw(self, model: Mapping[str, np.ndarray], index: np.ndarray, z: np.ndarray) -> np.ndarray:
        data = model["data"]
        rows = np.arange(data.shape[0])[:, None]
        return data[rows, index] + z @ np.swapaxes(model["chol"], 1, 2)

    def sample(self, model: Mapping[str, np.ndarray], n: int, rng: Any) -> Batch:
        S, m, d = model["data"].shape
        index = rng.integers(0, m, size=(S, n))
        return {"x": self._draw(model, index, rng.standard_normal((S, n, d)))}

    def measure(self, model: Mapping[str, np.ndarray], metrics: tuple[str, ...]) -> dict[str, np.ndarray]:
        out: dict[str, np.ndarray] = {}
        if {"population_risk", "kl_to_truth"} & set(metrics):
            logq = kde_logpdf(self.holdout, model["data"], model["chol_inv"], model["logdet"])
            out["population_risk"] = -logq.mean(axis=1)
            out["kl_to_truth"] = (self.holdout_logp[None] - logq).mean(axis=1)
        if "variance_ratio" in metrics:
            out["variance_ratio"] = np.trace(model["cov"] + model["kernel"], axis1=1, axis2=2) / self.truth_trace
        if {"tail_mass_ratio", "hallucinated_mass"} & set(metrics):
            S, m, d = model["data"].shape
            gen = self.measurement_rng()
            index = gen.integers(0, m, size=(S, EVAL_DRAWS))
            y = self._draw(model, index, gen.standard_normal((S, EVAL_DRAWS, d)))
            out["tail_mass_ratio"] = (self.truth.logpdf(y) < self.tail_tau).mean(axis=1) / TAIL_MASS
            out["hallucinated_mass"] = self.truth.far(y).mean(axis=1)
        return {k: out[k] for k in metrics}
