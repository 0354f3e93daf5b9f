"""The data policies: what the training set of iteration t+1 is, one small object each.

Iteration 1 always fits on the n real samples. After model t is fitted, the policy builds the
training set of iteration t+1 (as the summary ``fit`` consumes) from model t's samples. Two
numbers shape it: the real fraction f (``mix`` and ``fresh`` only) and the synthetic ratio r
(every policy; default 1): a model contributes m = ceil(r n) synthetic samples per iteration
where r = 1 gives n, as many as the real data of iteration 1. Training-set sizes at iteration
t >= 2 (k = ceil(f n), the real samples kept; k = 0 when f = 0):

=========================  ==========================================  =====================
policy                     training set of iteration t+1               size
=========================  ==========================================  =====================
``replace``                m samples of model t alone.                 m = ceil(r n)
``accumulate``             everything so far plus model t's m          n + t m
                           samples. Additive families keep a running
                           summary (``combine``), so an iteration
                           costs the same at t = 100 as at t = 2; the
                           others write into a pool preallocated for
                           n + (T-1) m samples and fit on its filled
                           prefix (a view, no copy).
``accumulate-subsample``   a uniform n-subset, without replacement     n
                           and independently per seed, of the pool
                           (everything so far plus model t's m).
``mix`` (f)                the same k original real samples every      k + ceil(r (n - k))
                           iteration (the first k of the n real
                           samples of iteration 1) plus ceil(r (n-k))
                           samples of model t.
``fresh`` (f)              the first k of n real samples drawn anew    k + ceil(r (n - k))
                           plus ceil(r (n - k)) samples of model t.
=========================  ==========================================  =====================

Why ``mix`` and ``fresh`` scale only the synthetic part, ceil(r (n - k)) beside k real samples:
real data are what is scarce (the ratio asks what happens when synthetic data are cheap and
plentiful, not when there is more real data), and at r = 1 the rule is today's training set of
n, k real and n - k synthetic. It keeps the two ends of the real fraction consistent with the
other policies: f = 0 keeps no real sample and *is* ``replace`` at the same r (same draws, same
numbers), f = 1 keeps all n real samples and no synthetic one, whatever r. The real share of
the training set is k / (k + ceil(r (n - k))), about f / (f + r (1 - f)).

Where the synthetic samples sit (fixed-design families, i.e. regression, whose sample j is a
label on design row j): a draw of n from model t is rows 0..n-1. ``mix``/``fresh`` take the
*last* n - k of a draw, rows k..n-1, after their k real rows 0..k-1, so labels stay aligned with
the design. A synthetic part of any other size is made of whole draws of n cut the same way,
row blocks repeated, and one last partial draw: m = ceil(r n) samples under ``replace`` are
floor(m / n) relabelled copies of rows 0..n-1 and rows 0..(m mod n)-1 of one more; r < 1 takes
rows 0..m-1 of one draw of m. At r = 1 every policy makes exactly the draws it always made, so
results are bit-identical to runs without the ratio.

Every policy sees batches only through :mod:`simulators.batch_ops` (slices, concatenation,
gathers, a preallocated pool), so one implementation serves numpy and torch families.
"""

from __future__ import annotations

import math
from abc import ABC, abstractmethod
from collections.abc import Iterator
from typing import Any, ClassVar

from .base import Batch, Family, Summary
from .vocabulary import POLICIES


def real_count(real_fraction: float, n: int) -> int:
    """k = ceil(f n): the real samples per iteration under ``mix`` and ``fresh`` (0 <= k <= n;
    f = 0 keeps none, any positive f at least one).

    A tiny tolerance keeps ``ceil(0.1 * 100)`` at 10 despite binary floating point.
    """
    if real_fraction <= 0:
        return 0
    return max(1, min(n, math.ceil(real_fraction * n - 1e-9)))


def synthetic_count(synthetic_ratio: float, m: int) -> int:
    """ceil(r m): the synthetic samples that stand where r = 1 would put ``m`` (at least one when
    m >= 1, exactly m at r = 1; the same tolerance as :func:`real_count`)."""
    if m <= 0:
        return 0
    return max(1, math.ceil(synthetic_ratio * m - 1e-9))


class Policy(ABC):
    """One data policy for one run: it holds what the policy keeps between iterations."""

    name: ClassVar[str]

    def __init__(self, family: Family, ops: Any, iterations: int, real_fraction: float | None,
                 rng: Any, synthetic_ratio: float = 1.0) -> None:
        self.family, self.ops, self.rng = family, ops, rng
        self.n = family.n
        self.iterations = iterations
        self.real_fraction = real_fraction
        self.synthetic_ratio = synthetic_ratio
        #: synthetic samples model t contributes (``replace``, ``accumulate``, ``accumulate-subsample``)
        self.m = synthetic_count(synthetic_ratio, self.n)

    def start(self, real: Batch) -> Summary:
        """The training set of iteration 1: the n real samples."""
        return self.family.summarize(real)

    @abstractmethod
    def next(self, model: Any) -> Summary:
        """The training set of the next iteration, after ``model`` was fitted."""

    def _draws(self, model: Any, count: int, offset: int = 0) -> Iterator[Batch]:
        """``count`` samples of ``model`` in blocks on rows offset..n-1 (see the module
        docstring): whole draws of n cut to rows offset..n-1, then one partial draw."""
        width = self.n - offset
        full, rest = divmod(count, width)
        for _ in range(full):
            batch = self.family.sample(model, self.n, self.rng)
            yield batch if offset == 0 else self.ops.take(batch, offset, self.n)
        if rest:
            batch = self.family.sample(model, offset + rest, self.rng)
            yield batch if offset == 0 else self.ops.take(batch, offset, offset + rest)

    def _synthetic(self, model: Any, count: int, offset: int = 0) -> Batch:
        """``count`` samples of ``model`` as one batch (one draw, or blocks written into one
        preallocated batch)."""
        blocks = self._draws(model, count, offset)
        first = next(blocks)
        if _size(first) == count:
            return first
        out = self.ops.allocate(first, count)
        self.ops.write(out, first, 0)
        filled = _size(first)
        for block in blocks:
            self.ops.write(out, block, filled)
            filled += _size(block)
        return out


def _size(batch: Batch) -> int:
    """Samples per seed of a batch."""
    return int(next(iter(batch.values())).shape[1])


class Replace(Policy):
    name = "replace"

    def next(self, model: Any) -> Summary:
        return self.family.summarize(self._synthetic(model, self.m))


class _Pooled(Policy):
    """Keeps every sample so far in a pool preallocated for all iterations."""

    def start(self, real: Batch) -> Summary:
        self.pool = self.ops.allocate(real, self.n + (self.iterations - 1) * self.m)
        self.ops.write(self.pool, real, 0)
        self.filled = self.n
        return self.family.summarize(real)

    def _grow(self, model: Any) -> Batch:
        for block in self._draws(model, self.m):
            self.ops.write(self.pool, block, self.filled)
            self.filled += _size(block)
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
            synthetic = self.family.summarize(self._synthetic(model, self.m))
            self.summary = self.family.combine(self.summary, synthetic)
            return self.summary
        return self.family.summarize(self._grow(model))


class AccumulateSubsample(_Pooled):
    name = "accumulate-subsample"

    def next(self, model: Any) -> Summary:
        pool = self._grow(model)
        index = self.ops.subset(self.family.seeds, self.filled, self.n, self.rng)
        return self.family.summarize(self.ops.gather(pool, index))


class _RealShare(Policy):
    """k = ceil(f n) real samples plus ceil(r (n - k)) synthetic ones, every iteration."""

    def __init__(self, *args: Any) -> None:
        super().__init__(*args)
        self.k = real_count(self.real_fraction, self.n)
        self.synthetic = synthetic_count(self.synthetic_ratio, self.n - self.k)

    @abstractmethod
    def _real(self) -> Batch:
        """This iteration's k real samples (only called when k > 0)."""

    def next(self, model: Any) -> Summary:
        if self.k == 0:  # no real data: replace at the same ratio, the same draws
            return self.family.summarize(self._synthetic(model, self.synthetic))
        batch = self._real()
        if self.synthetic:
            batch = self.ops.concat(batch, self._synthetic(model, self.synthetic, self.k))
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


__all__ = ["POLICY_CLASSES", "Policy", "real_count", "synthetic_count"]
