"""``gaussian``: fit a multivariate Gaussian to samples, sample from it, repeat.

The classical model-collapse estimator (Shumailov et al., arXiv 2305.17493; Kazdan et al.,
arXiv 2410.16713). Truth: N(0, Sigma*) in ``dim`` dimensions, Sigma* = I unless ``covariance``
gives its diagonal (a list of ``dim`` variances) or the full matrix (``dim`` lists of ``dim``).
Fit: the sample mean and covariance, ``estimator`` = ``mle`` (divide the centred scatter by m,
the default, as the papers) or ``unbiased`` (divide by m - 1).

Backend: numpy. The work per iteration is a few (S, n, dim) and (S, dim, dim) array operations;
torch brings nothing on CPU at these sizes.

Summaries are exact additive sufficient statistics in a numerically stable form: the count m, the
mean, and the *centred* scatter matrix M2 = sum (x - mean)(x - mean)^T. ``combine`` merges two
summaries with Chan, Golub & LeVeque's parallel update (M2 = M2a + M2b + delta delta^T ma mb / m),
never with sums of squares, so variances that collapse towards zero keep their relative accuracy.

Metrics (model N(mu, Sigma) against the truth N(0, Sigma*); all closed form unless stated):

``population_risk``   cross-entropy E_truth[-log q(x)] = 1/2 (d log 2 pi + log det Sigma
                      + tr(Sigma^-1 Sigma*) + mu^T Sigma^-1 mu); ``inf`` when Sigma is singular.
``kl_to_truth``       KL(truth || model) = population_risk - H(truth).
``variance_ratio``    tr(Sigma) / tr(Sigma*).
``entropy``           1/2 (d log(2 pi e) + log det Sigma); ``-inf`` when Sigma is singular.
``tail_mass_ratio``   the model's probability outside the truth's central 99% region
                      {x : x^T Sigma*^-1 x <= chi2_d(0.99)}, divided by the truth's own 0.01.
``hallucinated_mass`` the model's probability outside the truth's central 1 - 1e-6 region (where
                      the truth puts one part in a million): mass the truth says is
                      (near) impossible.
``mean_sq_error``     ||mu||^2, the squared error of the fitted mean (summed over coordinates).

The two region masses are exact for ``dim`` = 1 (normal CDF). For ``dim`` > 1 the mass of a
quadratic form of a Gaussian has no closed form, and they are estimated with 4096 common random
numbers drawn once per run (the same standard normals for every seed and iteration, so
trajectories are smooth); the resolution is then 1/4096 of mass.
"""

from __future__ import annotations

import math
from typing import Any, Literal, Mapping

import numpy as np
from pydantic import Field, model_validator

from ..base import Batch, Family, FamilyParams, Summary
from ..registry import register

TAIL_LEVEL = 0.99  #: the truth's central region whose complement is its "tail"
HALLUCINATION_LEVEL = 1.0 - 1e-6  #: outside this central region the truth has (near) no mass
MC_DRAWS = 4096  #: common random numbers for the region masses when dim > 1


class GaussianParams(FamilyParams):
    dim: int = Field(1, ge=1, le=1000, description="dimension of the Gaussian")
    n: int = Field(100, ge=2, description="samples per iteration")
    estimator: Literal["mle", "unbiased"] = Field("mle", description="covariance estimator")
    covariance: tuple[float, ...] | tuple[tuple[float, ...], ...] | None = Field(
        None, description="truth covariance: dim variances (diagonal) or a dim x dim matrix; default I"
    )

    @model_validator(mode="after")
    def _check_covariance(self) -> "GaussianParams":
        c = self.covariance
        if c is None:
            return self
        if len(c) != self.dim:
            raise ValueError(f"covariance needs {self.dim} entries (dim), got {len(c)}")
        if isinstance(c[0], tuple):
            m = np.asarray(c, dtype=float)
            if m.shape != (self.dim, self.dim) or not np.allclose(m, m.T):
                raise ValueError("covariance matrix must be square dim x dim and symmetric")
            if np.linalg.eigvalsh(m).min() <= 0:
                raise ValueError("covariance matrix must be positive definite")
        elif min(c) <= 0:
            raise ValueError("covariance variances must be positive")
        return self


def scatter_summary(x: np.ndarray) -> Summary:
    """Count, mean and centred scatter of a batch x of shape (S, m, d)."""
    m = x.shape[1]
    mean = x.mean(axis=1)
    centred = x - mean[:, None, :]
    return {
        "count": np.full(x.shape[0], float(m)),
        "mean": mean,
        "m2": np.swapaxes(centred, 1, 2) @ centred,  # batched BLAS, (S, d, d)
    }


def chan_merge(a: Summary, b: Summary) -> Summary:
    """Chan et al.'s parallel merge of two (count, mean, centred scatter) summaries."""
    na, nb = a["count"], b["count"]
    n = na + nb
    delta = b["mean"] - a["mean"]
    weight = (na * nb / n)[:, None, None]
    return {
        "count": n,
        "mean": a["mean"] + delta * (nb / n)[:, None],
        "m2": a["m2"] + b["m2"] + weight * delta[:, :, None] * delta[:, None, :],
    }


@register
class Gaussian(Family):
    """Multivariate Gaussian fitted by its sample mean and covariance."""

    name = "gaussian"
    Params = GaussianParams
    metrics = (
        "population_risk",
        "kl_to_truth",
        "variance_ratio",
        "entropy",
        "tail_mass_ratio",
        "hallucinated_mass",
        "mean_sq_error",
    )
    backend = "numpy"
    additive = True
    summary_line = "multivariate Gaussian, sample mean and covariance (mle | unbiased)"

    def __init__(self, params: GaussianParams, seeds: int, rng: Any, device: str = "cpu") -> None:
        super().__init__(params, seeds, rng, device)
        d = params.dim
        c = params.covariance
        if c is None:
            cov = np.eye(d)
        elif isinstance(c[0], tuple):
            cov = np.asarray(c, dtype=float)
        else:
            cov = np.diag(np.asarray(c, dtype=float))
        self.cov = cov
        self.chol = np.linalg.cholesky(cov)
        self.precision = np.linalg.inv(cov)
        self.whiten = np.linalg.cholesky(self.precision)
        self.logdet = float(np.linalg.slogdet(cov)[1])
        self.truth_entropy = 0.5 * (d * math.log(2 * math.pi * math.e) + self.logdet)
        from scipy.stats import chi2

        self.tail_radius2 = float(chi2.ppf(TAIL_LEVEL, d))
        self.hall_radius2 = float(chi2.isf(1.0 - HALLUCINATION_LEVEL, d))
        self.draws = rng.standard_normal((MC_DRAWS, d)) if d > 1 else None

    def real(self, n: int, rng: Any) -> Batch:
        z = rng.standard_normal((self.seeds, n, self.params.dim))
        return {"x": z @ self.chol.T}

    def summarize(self, batch: Batch) -> Summary:
        return scatter_summary(batch["x"])

    def combine(self, a: Summary, b: Summary) -> Summary:
        return chan_merge(a, b)

    def fit(self, summary: Summary, previous: Any, rng: Any) -> dict[str, np.ndarray]:
        count = summary["count"]
        divisor = count if self.params.estimator == "mle" else np.maximum(count - 1.0, 1.0)
        cov = summary["m2"] / divisor[:, None, None]
        cov = 0.5 * (cov + np.swapaxes(cov, 1, 2))
        try:  # the fast path: every seed positive definite
            root = np.linalg.cholesky(cov)
            logdet = 2.0 * np.sum(np.log(np.diagonal(root, axis1=1, axis2=2)), axis=1)
            singular = np.zeros(cov.shape[0], dtype=bool)
        except np.linalg.LinAlgError:  # some seed (near) singular: an eigen root samples fine
            evals, evecs = np.linalg.eigh(cov)
            evals = np.maximum(evals, 0.0)
            root = evecs * np.sqrt(evals)[:, None, :]
            singular = evals.min(axis=1) <= 0.0
            with np.errstate(divide="ignore"):
                logdet = np.sum(np.log(evals), axis=1)
        return {"mean": summary["mean"].copy(), "cov": cov, "root": root, "logdet": logdet, "singular": singular}

    @staticmethod
    def _root(model: Mapping[str, np.ndarray]) -> np.ndarray:
        """B with B B^T = Sigma, shape (S, d, d): the Cholesky factor, or V sqrt(Lambda) when some
        seed's covariance is singular (Cholesky would fail; the eigen root samples fine)."""
        return model["root"]

    def sample(self, model: Mapping[str, np.ndarray], n: int, rng: Any) -> Batch:
        z = rng.standard_normal((self.seeds, n, self.params.dim))
        # a contiguous right operand keeps the batched matmul on BLAS (a transposed view does not)
        root_t = np.ascontiguousarray(np.swapaxes(self._root(model), 1, 2))
        x = z @ root_t
        x += model["mean"][:, None, :]
        return {"x": x}

    def _outside(self, model: Mapping[str, np.ndarray], radii2: tuple[float, ...]) -> list[np.ndarray]:
        """Model mass outside each of the truth's regions {x^T Sigma*^-1 x <= r2}."""
        mean = model["mean"]
        if self.params.dim == 1:
            from scipy.special import ndtr

            sd_truth = math.sqrt(self.cov[0, 0])
            mu = mean[:, 0]
            sd = np.sqrt(model["cov"][:, 0, 0])
            masses = []
            for radius2 in radii2:
                r = math.sqrt(radius2) * sd_truth
                with np.errstate(divide="ignore", invalid="ignore"):
                    out = ndtr((mu - r) / sd) + ndtr((-r - mu) / sd)
                # a point mass (sd = 0) exactly on the boundary: inside (the region is closed)
                masses.append(np.where(np.isnan(out), 0.0, out))
            return masses
        # whiten by the truth: with Sigma*^-1 = W W^T, x^T Sigma*^-1 x = ||x W||^2
        root = np.swapaxes(self._root(model), 1, 2) @ self.whiten  # (S, d, d)
        y = (mean @ self.whiten)[:, None, :] + self.draws[None] @ root
        q = np.sum(y * y, axis=2)
        return [(q > radius2).mean(axis=1) for radius2 in radii2]

    def measure(self, model: Mapping[str, np.ndarray], metrics: tuple[str, ...]) -> dict[str, np.ndarray]:
        d = self.params.dim
        mean, logdet, singular = model["mean"], model["logdet"], model["singular"]
        out: dict[str, np.ndarray] = {}
        if {"population_risk", "kl_to_truth", "entropy"} & set(metrics):
            # with Sigma = R R^T and Sigma* = C C^T: tr(Sigma^-1 Sigma*) = ||R^-1 C||_F^2 and
            # mu^T Sigma^-1 mu = ||R^-1 mu||^2 (singular seeds get inf below)
            safe = np.where(singular[:, None, None], np.eye(d), model["root"])
            with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
                w = np.linalg.inv(safe)
                trace_term = np.sum((w @ self.chol) ** 2, axis=(1, 2)) + np.sum((w @ mean[:, :, None]) ** 2, axis=(1, 2))
                risk = 0.5 * (d * math.log(2 * math.pi) + logdet + trace_term)
            risk = np.where(singular, np.inf, risk)
            out["population_risk"] = risk
            out["kl_to_truth"] = risk - self.truth_entropy
            out["entropy"] = np.where(singular, -np.inf, 0.5 * (d * math.log(2 * math.pi * math.e) + logdet))
        if "variance_ratio" in metrics:
            out["variance_ratio"] = np.trace(model["cov"], axis1=1, axis2=2) / float(np.trace(self.cov))
        if {"tail_mass_ratio", "hallucinated_mass"} & set(metrics):
            tail, hallucinated = self._outside(model, (self.tail_radius2, self.hall_radius2))
            out["tail_mass_ratio"] = tail / (1.0 - TAIL_LEVEL)
            out["hallucinated_mass"] = hallucinated
        if "mean_sq_error" in metrics:
            out["mean_sq_error"] = np.sum(mean**2, axis=1)
        return {m: out[m] for m in metrics}
