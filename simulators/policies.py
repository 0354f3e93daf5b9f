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
                           (everything so far plus model t's m). The
                           pool is kept in pieces, each as the smaller
                           of its samples and what regenerates them
                           (see "Memory" below).
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

Memory. ``accumulate-subsample`` draws n of a pool that grows by m samples per iteration, so
keeping every sample costs S (n + (T-1) m) samples. It keeps each block of synthetic samples
(one draw of at most n, see above) either as the samples or as what regenerates them exactly:
the model that drew them and the run generator's state just before the draw. A family declares
that this is exact (``pure_sample``: its ``sample`` is a function of the model, the count and
the generator state alone, and a fitted model is never modified); the policy then keeps, per
model, whichever is smaller in bytes, its samples or the model (Gaussian, discrete,
regression and mixture models are far smaller than their samples; a KDE model *is* its
training set, and at the default sizes an ``lm`` transformer is larger than its samples, so
those keep their samples). At each iteration the blocks some seed's subset falls in are drawn
again from a copy of their generator state, the same arrays bit for bit, and the subset is
copied out of them one block at a time: the run frame is identical to keeping the whole pool,
and memory holds the real samples, the models and one block instead of the pool. The price is
time: iteration t redraws up to t blocks (the subset's keys already cost O(S t m) per
iteration). Each policy also states its memory (:meth:`Policy.memory_bytes`, used by
:mod:`simulators.memory` to refuse a run that cannot fit).
"""

from __future__ import annotations

import math
from abc import ABC, abstractmethod
from collections.abc import Iterator
from dataclasses import dataclass
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


@dataclass(frozen=True)
class Shape:
    """What a policy's memory depends on: the run's sizes and the family's bytes.

    ``sample_bytes``: one sample of one seed in a batch (every array of the batch);
    ``model_bytes``: one fitted model of all seeds; ``additive``: whether the family keeps
    summaries (``accumulate`` then keeps no pool); ``pure_sample``: whether
    ``accumulate-subsample`` may regenerate samples from their model."""

    seeds: int
    n: int
    iterations: int
    synthetic_ratio: float
    real_fraction: float | None
    sample_bytes: int
    model_bytes: int
    additive: bool
    pure_sample: bool

    @property
    def m(self) -> int:
        """Synthetic samples per iteration (``replace``, ``accumulate``, ``accumulate-subsample``)."""
        return synthetic_count(self.synthetic_ratio, self.n)

    @property
    def pool(self) -> int:
        """Samples per seed of everything drawn by the last iteration: n + (T-1) m."""
        return self.n + (self.iterations - 1) * self.m

    def batch(self, samples: int) -> int:
        """Bytes of a batch of ``samples`` samples per seed."""
        return self.seeds * samples * self.sample_bytes


class Policy(ABC):
    """One data policy for one run: it holds what the policy keeps between iterations."""

    name: ClassVar[str]

    @classmethod
    def training_size(cls, shape: Shape) -> int:
        """The largest training set per seed that the family summarizes or fits (samples)."""
        return shape.n if shape.iterations == 1 else max(shape.n, shape.m)

    @classmethod
    def memory_bytes(cls, shape: Shape) -> int:
        """An upper bound on the bytes of the samples this policy holds at once: its pool or
        kept samples, the training set being built beside the previous one (which the engine
        and, for a KDE, the model still hold), and the draw being written. The family's own
        arrays (models, summaries, the temporaries of sampling) are the family's
        ``memory_bytes``."""
        return shape.batch(2 * cls.training_size(shape) + 2 * shape.n)

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

    def _draws(self, model: Any, count: int, offset: int = 0, states: list[Any] | None = None) -> Iterator[Batch]:
        """``count`` samples of ``model`` in blocks on rows offset..n-1 (see the module
        docstring): whole draws of n cut to rows offset..n-1, then one partial draw. With
        ``states``, the generator's state before each draw is appended to it."""
        width = self.n - offset
        full, rest = divmod(count, width)
        for size in [self.n] * full + ([offset + rest] if rest else []):
            if states is not None:
                states.append(self.ops.rng_state(self.rng))
            batch = self.family.sample(model, size, self.rng)
            yield batch if offset == 0 else self.ops.take(batch, offset, size)

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


def _nbytes(obj: Any) -> int:
    """Bytes of the arrays (numpy or torch) in ``obj``, walking dicts, lists and tuples; a
    generator state dict counts its integers as 8 bytes each."""
    if hasattr(obj, "nbytes"):
        return int(obj.nbytes)
    if hasattr(obj, "element_size"):
        return int(obj.element_size() * obj.numel())
    if isinstance(obj, dict):
        return sum(_nbytes(v) for v in obj.values())
    if isinstance(obj, (list, tuple)):
        return sum(_nbytes(v) for v in obj)
    if isinstance(obj, (int, float, bool, str)) or obj is None:
        return 8
    raise TypeError(f"cannot size a {type(obj).__name__}")


class Replace(Policy):
    name = "replace"

    def next(self, model: Any) -> Summary:
        return self.family.summarize(self._synthetic(model, self.m))


class _Pooled(Policy):
    """Keeps every sample so far in a pool preallocated for all iterations."""

    @classmethod
    def training_size(cls, shape: Shape) -> int:
        return shape.pool

    @classmethod
    def memory_bytes(cls, shape: Shape) -> int:
        # the pool, the draw being written into it, the previous training set (a view) and the
        # summary of a non-additive family (the pool's prefix, a view)
        return shape.batch(shape.pool + shape.n)

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

    @classmethod
    def training_size(cls, shape: Shape) -> int:
        if shape.additive:  # a running summary: batches of at most max(n, m) are summarized
            return Policy.training_size(shape)
        return shape.pool

    @classmethod
    def memory_bytes(cls, shape: Shape) -> int:
        if shape.additive:  # m synthetic samples written block by block, then summarized
            return shape.batch(shape.n + max(shape.n, shape.m) + shape.n)
        return super().memory_bytes(shape)

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


@dataclass
class _Piece:
    """Samples ``start:stop`` of an ``accumulate-subsample`` pool: kept as ``batch``, or as the
    ``model`` that drew them from the generator ``state`` (``sample(model, stop - start)``)."""

    start: int
    stop: int
    batch: Batch | None = None
    model: Any = None
    state: Any = None


class AccumulateSubsample(Policy):
    """The pool in pieces, each kept as samples or as its model and generator state (see
    "Memory" in the module docstring)."""

    name = "accumulate-subsample"

    def start(self, real: Batch) -> Summary:
        self.pieces = [_Piece(0, self.n, batch=real)]
        self.filled = self.n
        return self.family.summarize(real)

    def next(self, model: Any) -> Summary:
        self._add(model)
        index = self.ops.subset(self.family.seeds, self.filled, self.n, self.rng)
        starts = [p.start for p in self.pieces] + [self.filled]
        batch = self.ops.gather_pieces(self.pieces[0].batch, index, starts, self._fetch)
        return self.family.summarize(batch)

    def _add(self, model: Any) -> None:
        """Model t's m samples, block by block, as pieces of samples or of (model, state):
        the model when it and the states take fewer bytes than the m samples (judged on the
        first block)."""
        states: list[Any] | None = [] if self.family.pure_sample else None
        keep_model: bool | None = None
        for block in self._draws(model, self.m, states=states):
            size = _size(block)
            if keep_model is None:
                blocks = -(-self.m // self.n)
                keep_model = states is not None and (
                    _nbytes(model) + blocks * _nbytes(states[-1]) < _nbytes(block) * self.m / size)
            piece = _Piece(self.filled, self.filled + size)
            if keep_model:
                piece.model, piece.state = model, states[-1]
            else:
                piece.batch = block
            self.pieces.append(piece)
            self.filled += size

    def _fetch(self, j: int) -> Batch:
        """Piece j's samples: kept, or drawn again from its model and generator state."""
        piece = self.pieces[j]
        if piece.batch is not None:
            return piece.batch
        return self.family.sample(piece.model, piece.stop - piece.start, self.ops.rng_at(piece.state, self.rng))

    @classmethod
    def training_size(cls, shape: Shape) -> int:
        return shape.n

    @classmethod
    def memory_bytes(cls, shape: Shape) -> int:
        m, n = shape.m, shape.n
        per_model = shape.batch(m)
        if shape.pure_sample:
            per_model = min(per_model, shape.model_bytes)
        kept = shape.batch(n) + (shape.iterations - 1) * per_model
        # the subset's keys and their partition (numpy: blocks of at most SUBSET_KEYS; torch:
        # float32 keys of the whole pool) and the index with its sort (8 bytes each, 3 copies)
        from .batch_ops import SUBSET_KEYS

        keys = 16 * min(shape.seeds * shape.pool, SUBSET_KEYS + shape.pool)
        index = 3 * 8 * shape.seeds * n
        # the new training set, the previous one, one piece being copied out of, and model t's
        # draw before it is kept
        return kept + keys + index + shape.batch(4 * n)


class _RealShare(Policy):
    """k = ceil(f n) real samples plus ceil(r (n - k)) synthetic ones, every iteration."""

    def __init__(self, *args: Any) -> None:
        super().__init__(*args)
        self.k = real_count(self.real_fraction, self.n)
        self.synthetic = synthetic_count(self.synthetic_ratio, self.n - self.k)

    @classmethod
    def training_size(cls, shape: Shape) -> int:
        k = real_count(shape.real_fraction or 0.0, shape.n)
        if shape.iterations == 1:
            return shape.n
        return max(shape.n, k + synthetic_count(shape.synthetic_ratio, shape.n - k))

    @classmethod
    def memory_bytes(cls, shape: Shape) -> int:
        # the real batch whose first k samples are kept (a view holds all n), this iteration's
        # real batch (fresh), the training set and its synthetic part being concatenated, the
        # previous training set, and the draw being written
        train = cls.training_size(shape)
        return shape.batch(2 * shape.n + 3 * train + shape.n)

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


__all__ = ["POLICY_CLASSES", "Policy", "Shape", "real_count", "synthetic_count"]
