"""In-house truths for the density families: Gaussian mixtures with a known density.

``blobs``, ``moons`` and ``circles`` (the shapes of scikit-learn's toy datasets, generated here)
are defined *as* isotropic Gaussian mixtures: blobs has three well-separated components; moons
and circles place many equal-weight components evenly along their curves (spacing at most half
the noise scale), which is the curve-plus-Gaussian-noise dataset with its exact density (the
sum of Gaussians along a curve with spacing <= sd/2 differs from the continuous convolution by a
ripple of relative size ~exp(-2 pi^2 (sd/spacing)^2) < 1e-30). So ``logpdf`` is exact, and tails
and hallucinations can be defined against the true density rather than estimated.

Also :func:`separated_mixture`, the truth of the ``gmm`` family.

Regions used by the families' metrics (both relative to the truth):
- the truth's *tail*: its lowest-density region holding 1% of its mass, {x : log p(x) < tau},
  tau the 1% quantile of log p under the truth (:func:`tail_threshold`, estimated once per
  truth from 100000 draws of a fixed generator);
- *hallucinated* points: farther than the 1 - 1e-6 Mahalanobis radius from every component,
  i.e. outside every component's central 1 - 1e-6 ellipsoid, where the truth puts at most 1e-6
  of its mass (:meth:`Mixture.far`).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np

from .base import HALLUCINATION_MASS, TAIL_MASS

DATASETS: tuple[str, ...] = ("blobs", "moons", "circles")


@dataclass(frozen=True)
class Mixture:
    """An isotropic Gaussian mixture: weights (K,), means (K, d), standard deviations (K,)."""

    weights: np.ndarray
    means: np.ndarray
    sds: np.ndarray

    @property
    def dim(self) -> int:
        return int(self.means.shape[1])

    def sample(self, rng: Any, shape: tuple[int, ...]) -> tuple[np.ndarray, np.ndarray]:
        """Points of shape (*shape, d) and their component labels (*shape)."""
        labels = rng.choice(self.weights.size, size=shape, p=self.weights)
        z = rng.standard_normal((*shape, self.dim))
        return self.means[labels] + self.sds[labels][..., None] * z, labels

    def logpdf(self, x: np.ndarray, chunk: int = 1 << 22) -> np.ndarray:
        """log p(x) for x of shape (..., d), chunked over points."""
        flat = x.reshape(-1, self.dim)
        out = np.empty(flat.shape[0])
        K = self.weights.size
        step = max(1, chunk // K)
        logw = np.log(self.weights) - self.dim * np.log(self.sds) - 0.5 * self.dim * math.log(2 * math.pi)
        mm = np.sum(self.means**2, axis=1)
        for a in range(0, flat.shape[0], step):
            p = flat[a : a + step]
            d2 = np.maximum(np.sum(p**2, axis=1)[:, None] + mm[None] - 2 * p @ self.means.T, 0.0)
            terms = logw[None] - 0.5 * d2 / self.sds[None] ** 2
            top = terms.max(axis=1)
            out[a : a + step] = top + np.log(np.exp(terms - top[:, None]).sum(axis=1))
        return out.reshape(x.shape[:-1])

    def covariance(self) -> np.ndarray:
        """The mixture's covariance matrix (exact)."""
        mean = self.weights @ self.means
        second = np.einsum("k,ki,kj->ij", self.weights, self.means, self.means)
        second += np.eye(self.dim) * float(self.weights @ self.sds**2)
        return second - np.outer(mean, mean)

    def tail_threshold(self, rng: Any, mass: float = TAIL_MASS, draws: int = 100_000) -> float:
        """tau with P_truth(log p(x) < tau) = mass (estimated from ``draws`` truth samples)."""
        x, _ = self.sample(rng, (draws,))
        return float(np.quantile(self.logpdf(x), mass))

    def far(self, x: np.ndarray, mass: float = HALLUCINATION_MASS) -> np.ndarray:
        """Whether each point is outside every component's central 1 - ``mass`` ball."""
        from scipy.stats import chi2

        r2 = float(chi2.isf(mass, self.dim))
        flat = x.reshape(-1, self.dim)
        mm = np.sum(self.means**2, axis=1)
        out = np.ones(flat.shape[0], dtype=bool)
        step = max(1, (1 << 22) // self.weights.size)
        for a in range(0, flat.shape[0], step):
            p = flat[a : a + step]
            d2 = np.maximum(np.sum(p**2, axis=1)[:, None] + mm[None] - 2 * p @ self.means.T, 0.0)
            out[a : a + step] = np.all(d2 / self.sds[None] ** 2 > r2, axis=1)
        return out.reshape(x.shape[:-1])


_TAU_CACHE: dict[tuple, float] = {}


def tail_threshold(key: tuple, mixture: Mixture) -> float:
    """The mixture's 1% log-density quantile, estimated once per process and truth ``key`` from
    100000 draws of a fixed generator (seed 0): a property of the truth, the same in every run."""
    if key not in _TAU_CACHE:
        _TAU_CACHE[key] = mixture.tail_threshold(np.random.default_rng(0))
    return _TAU_CACHE[key]


def _curve(points: np.ndarray, sd: float) -> Mixture:
    k = points.shape[0]
    return Mixture(np.full(k, 1.0 / k), points, np.full(k, sd))


def dataset(name: str) -> Mixture:
    """The 2-D truth called ``name`` (one of :data:`DATASETS`)."""
    if name == "blobs":
        means = np.array([[-2.5, 0.0], [2.5, 0.0], [0.0, 3.5]])
        return Mixture(np.full(3, 1.0 / 3), means, np.full(3, 0.6))
    if name == "moons":  # two interleaving half circles, noise sd 0.1, spacing ~0.05 <= sd/2
        theta = (np.arange(64) + 0.5) * math.pi / 64
        upper = np.stack([np.cos(theta), np.sin(theta)], axis=1)
        lower = np.stack([1.0 - np.cos(theta), 0.5 - np.sin(theta)], axis=1)
        return _curve(np.concatenate([upper, lower]), 0.1)
    if name == "circles":  # radii 1 and 0.5, noise sd 0.08, spacing <= 0.04
        outer = 160
        inner = 80
        t1 = 2 * math.pi * np.arange(outer) / outer
        t2 = 2 * math.pi * np.arange(inner) / inner
        pts = np.concatenate(
            [np.stack([np.cos(t1), np.sin(t1)], 1), 0.5 * np.stack([np.cos(t2), np.sin(t2)], 1)]
        )
        # equal mass per circle, as scikit-learn's make_circles
        weights = np.concatenate([np.full(outer, 0.5 / outer), np.full(inner, 0.5 / inner)])
        return Mixture(weights, pts, np.full(outer + inner, 0.08))
    raise ValueError(f"unknown dataset {name!r}; valid choices: {', '.join(DATASETS)}")


def separated_mixture(components: int, dim: int, separation: float = 6.0) -> Mixture:
    """``components`` unit-variance Gaussians with equal weights, adjacent means ``separation``
    standard deviations apart: on a line for dim 1, on a circle in the first two coordinates
    otherwise (the truth of the ``gmm`` family)."""
    means = np.zeros((components, dim))
    if dim == 1 or components <= 2:
        means[:, 0] = separation * (np.arange(components) - (components - 1) / 2)
    else:
        radius = separation / (2 * math.sin(math.pi / components))
        angle = 2 * math.pi * np.arange(components) / components
        means[:, 0] = radius * np.cos(angle)
        means[:, 1] = radius * np.sin(angle)
    return Mixture(np.full(components, 1.0 / components), means, np.ones(components))
