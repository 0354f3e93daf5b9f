"""Real images of the ``vae`` family: scikit-learn's bundled 8x8 digits, and the reference classifier.

Data: ``sklearn.datasets.load_digits`` (1797 images of 64 pixels with integer values 0..16, ten
classes; shipped with scikit-learn, no download). A fixed permutation (seed ``SPLIT_SEED``) holds
out the last ``HELD_OUT`` images; the rest are the training pool. Both are cached per process.

Classifier: a multinomial logistic regression (scikit-learn, on pixels / 16) fitted once per
process on the training pool; its weights are applied in torch to generated images.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass

import numpy as np

SPLIT_SEED = 0  #: the permutation that fixes the train / held-out split
HELD_OUT = 297  #: held-out images (about 1/6 of the 1797)
CLASSES = 10
LEVELS = 16  #: pixel values are integers 0..LEVELS


@dataclass(frozen=True)
class Digits:
    x_train: np.ndarray  #: (N, 64) float32 pixel values 0..16
    y_train: np.ndarray  #: (N,) int64 labels
    x_held: np.ndarray  #: (H, 64)
    y_held: np.ndarray  #: (H,)


@functools.lru_cache(maxsize=1)
def load() -> Digits:
    """The deterministic split of the bundled digits."""
    from sklearn.datasets import load_digits

    data = load_digits()
    order = np.random.default_rng(SPLIT_SEED).permutation(len(data.target))
    x = data.data.astype(np.float32)[order]
    y = data.target.astype(np.int64)[order]
    cut = len(y) - HELD_OUT
    return Digits(x[:cut], y[:cut], x[cut:], y[cut:])


@functools.lru_cache(maxsize=1)
def classifier() -> tuple[np.ndarray, np.ndarray]:
    """Weights (64, 10) and bias (10,) of the logistic regression on pixels / 16 (cached)."""
    from sklearn.linear_model import LogisticRegression

    d = load()
    model = LogisticRegression(max_iter=5000, C=1.0)
    model.fit(d.x_train / LEVELS, d.y_train)
    return model.coef_.T.astype(np.float32).copy(), model.intercept_.astype(np.float32).copy()
