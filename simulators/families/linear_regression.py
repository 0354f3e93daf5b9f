"""``linear-regression``: iterated least squares on a fixed design, as Gerstgrasser et al.
(arXiv 2404.01413) and Kazdan et al. (arXiv 2410.16713).

Per seed: w* ~ N(0, I_dim) and a fixed design X (n x dim, standard normal entries). Iteration 1
fits ordinary least squares on y = X w* + noise (variance ``noise_var``); every later batch
relabels the *same* rows of X with the previous fit plus fresh noise, y = X w_t + noise. Batches
carry the design rows ``x`` (S, m, dim) beside the labels ``y`` (S, m), so policies that mix,
subsample or accumulate keep each label with its row (the engine's ``mix``/``fresh`` take the
last n - k rows of a synthetic draw of n, so rows stay aligned with X).

Summaries are the normal equations (X^T X, X^T y), exact and additive: ``accumulate`` stacks the
relabelled copies by adding them (X^T X grows to k X^T X, X^T y to a running sum), so an
iteration costs the same however many copies are stacked. With fewer rows than features
(n < dim) X^T X is singular whatever the policy (every copy relabels the same rows), and the fit is
the minimum-norm least-squares solution (pseudo-inverse), as in over-parameterised regression;
``np.linalg.solve`` would not fail on such a matrix but return numerical noise.

Backend: numpy (batched (S, dim, dim) solves).

Metrics (exact, the truth is known):

``population_risk``   ||w_t - w*||^2: the excess squared-error risk of w_t for a fresh isotropic
                      input x ~ N(0, I) (E[(x^T (w_t - w*))^2] = ||w_t - w*||^2).
``mean_sq_error``     ||w_t - w*||^2 / dim, the mean squared error per coefficient.

Theory (tests): E[risk_t] = t noise_var dim / (n - dim - 1) under ``replace`` and
noise_var dim / (n - dim - 1) sum_{k<=t} 1/k^2 under ``accumulate`` (Gerstgrasser et al.).
"""

from __future__ import annotations

from typing import Any, Mapping

import numpy as np
from pydantic import Field

from ..base import Batch, Family, FamilyParams, Summary
from ..registry import register


class LinearRegressionParams(FamilyParams):
    dim: int = Field(10, ge=1, le=10_000, description="number of features")
    n: int = Field(100, ge=1, description="rows of the fixed design (samples per iteration)")
    noise_var: float = Field(1.0, ge=0, description="variance of the label noise")


@register
class LinearRegression(Family):
    """Ordinary least squares relabelled on a fixed design."""

    name = "linear-regression"
    Params = LinearRegressionParams
    metrics = ("population_risk", "mean_sq_error")
    additive = True
    pure_sample = True
    summary_line = "least squares on a fixed design, relabelled by the previous fit"

    def build(self, rng: Any) -> None:
        params, seeds = self.params, self.seeds
        self.w_star = rng.standard_normal((seeds, params.dim))
        self.X = rng.standard_normal((seeds, params.n, params.dim))
        self.noise_sd = float(np.sqrt(params.noise_var))

    def _labels(self, w: np.ndarray, m: int, rng: Any) -> Batch:
        x = self.X[:, :m]
        y = np.einsum("smd,sd->sm", x, w) + self.noise_sd * rng.standard_normal((self.seeds, m))
        return {"x": x, "y": y}

    def real(self, n: int, rng: Any) -> Batch:
        return self._labels(self.w_star, n, rng)

    def summarize(self, batch: Batch) -> Summary:
        x, y = batch["x"], batch["y"]
        return {"xtx": np.einsum("smi,smj->sij", x, x), "xty": np.einsum("smi,sm->si", x, y)}

    def fit(self, summary: Summary, previous: Any, rng: Any) -> np.ndarray:
        xtx, xty = summary["xtx"], summary["xty"]
        if self.params.n >= self.params.dim:
            try:
                return np.linalg.solve(xtx, xty[..., None])[..., 0]
            except np.linalg.LinAlgError:  # a seed's design is degenerate: minimum norm for all
                pass
        return np.einsum("sij,sj->si", np.linalg.pinv(xtx, hermitian=True), xty)

    def sample(self, model: np.ndarray, n: int, rng: Any) -> Batch:
        return self._labels(model, n, rng)

    def trivial_risk(self) -> np.ndarray:
        """The zero predictor's excess risk, ||w*||^2 per seed."""
        return np.einsum("sd,sd->s", self.w_star, self.w_star)

    def measure(self, model: np.ndarray, metrics: tuple[str, ...]) -> Mapping[str, np.ndarray]:
        risk = np.sum((model - self.w_star) ** 2, axis=1)  # both metrics are this one number
        out = {"population_risk": risk, "mean_sq_error": risk / self.params.dim}
        return {m: out[m] for m in metrics}
