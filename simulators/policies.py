"""The data policies: what the training set of iteration t+1 is, one small object each.

Iteration 1 always fits on the n real samples. After model t is fitted, the policy builds the
training set of iteration t+1 (as the summary ``fit`` consumes) from model t's samples:

``replace``                n samples of model t alone.
``accumulate``             everything so far plus model t's n samples. Additive families keep a
                           running summary (``combine``), so an iteration costs the same at
                           t = 100 as at t = 2; the others write into a pool preallocated for
                           T n samples and fit on its filled prefix (a view, no copy).
``accumulate-subsample``   a uniform n-subset, without replacement and independently per seed,
                           of the pool (everything so far plus model t's samples).
``mix`` (f)                the same k = ceil(f n) original real samples every iteration (the
                           first k of the n real samples of iteration 1) plus the last n - k of
                           a draw of n from model t. Taking the *last* n - k keeps fixed-design
                           families (regression) row-aligned: rows 0..k-1 real, k..n-1 synthetic.
``fresh`` (f)              the first k of n real samples drawn anew plus the last n - k of a draw
                           of n from model t (aligned the same way).

Every policy sees batches only through :mod:`simulators.batch_ops` (slices, concatenation,
gathers, a preallocated pool), so one implementation serves numpy and torch families.
"""

from __future__ import annotations

import math
from abc import ABC, abstractmethod
from typing import Any, ClassVar

from .base import Batch, Family, Summary
from .vocabulary import POLICIES


def real_count(real_fraction: float, n: int) -> int:
    """k = ceil(f n): the real samples per iteration under ``mix`` and ``fresh`` (1 <= k <= n).

    A tiny tolerance keeps ``ceil(0.1 * 100)`` at 10 despite binary floating point.
    """
    return max(1, min(n, math.ceil(real_fraction * n - 1e-9)))


class Policy(ABC):
    """One data policy for one run: it holds what the policy keeps between iterations."""

    name: ClassVar[str]

    def __init__(self, family: Family, ops: Any, iterations: int, real_fraction: float | None,
                 rng: Any) -> None:
        self.family, self.ops, self.rng = family, ops, rng
        self.n = family.n
        self.iterations = iterations
        self.real_fraction = real_fraction

    def start(self, real: Batch) -> Summary:
        """The training set of iteration 1: the n real samples."""
        return self.family.summarize(real)

    @abstractmethod
    def next(self, model: Any) -> Summary:
        """The training set of the next iteration, after ``model`` was fitted."""

    def _synthetic(self, model: Any) -> Batch:
        return self.family.sample(model, self.n, self.rng)


class Replace(Policy):
    name = "replace"

    def next(self, model: Any) -> Summary:
        return self.family.summarize(self._synthetic(model))


class _Pooled(Policy):
    """Keeps every sample so far in a pool preallocated for all iterations."""

    def start(self, real: Batch) -> Summary:
        self.pool = self.ops.allocate(real, self.iterations * self.n)
        self.ops.write(self.pool, real, 0)
        self.filled = self.n
        return self.family.summarize(real)

    def _grow(self, model: Any) -> Batch:
        self.ops.write(self.pool, self._synthetic(model), self.filled)
        self.filled += self.n
        return self.ops.take(self.pool, 0, self.filled)


class Accumulate(_Pooled):
    name = "accumulate"

    def start(self, real: Batch) -> Summary:
        if not self.family.additive:
            return super().start(real)
        self.summary = self.family.summarize(real)
        return self.summary

    def next(self, model: Any) -> Summary:
        if self.family.additive:
            self.summary = self.family.combine(self.summary, self.family.summarize(self._synthetic(model)))
            return self.summary
        return self.family.summarize(self._grow(model))


class AccumulateSubsample(_Pooled):
    name = "accumulate-subsample"

    def next(self, model: Any) -> Summary:
        pool = self._grow(model)
        index = self.ops.subset(self.family.seeds, self.filled, self.n, self.rng)
        return self.family.summarize(self.ops.gather(pool, index))


class _RealShare(Policy):
    """k = ceil(f n) real samples plus n - k synthetic ones, every iteration."""

    def __init__(self, *args: Any) -> None:
        super().__init__(*args)
        self.k = real_count(self.real_fraction, self.n)

    @abstractmethod
    def _real(self) -> Batch:
        """This iteration's k real samples."""

    def next(self, model: Any) -> Summary:
        batch = self._real()
        if self.k < self.n:
            batch = self.ops.concat(batch, self.ops.take(self._synthetic(model), self.k, self.n))
        return self.family.summarize(batch)


class Mix(_RealShare):
    name = "mix"

    def start(self, real: Batch) -> Summary:
        self.kept = self.ops.take(real, 0, self.k)
        return super().start(real)

    def _real(self) -> Batch:
        return self.kept


class Fresh(_RealShare):
    name = "fresh"

    def _real(self) -> Batch:
        return self.ops.take(self.family.real(self.n, self.rng), 0, self.k)


#: the policy classes by name (exactly the vocabulary's POLICIES)
POLICY_CLASSES: dict[str, type[Policy]] = {
    cls.name: cls for cls in (Replace, Accumulate, AccumulateSubsample, Mix, Fresh)
}
assert tuple(POLICY_CLASSES) == POLICIES, "policies.py and vocabulary.POLICIES disagree"


__all__ = ["POLICY_CLASSES", "Policy", "real_count"]
