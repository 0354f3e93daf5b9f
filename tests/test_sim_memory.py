"""Memory: accumulate-subsample keeps less and gives the same frame; the estimate of a run's
peak memory bounds the measured peak within the documented factor; runs and sweeps that cannot
fit are refused in one line before anything is allocated."""

from __future__ import annotations

import numpy as np
import pytest

from simulators import engine, policies
from simulators.policies import AccumulateSubsample, _Pooled


class KeepEverything(_Pooled):
    """accumulate-subsample as it was: every sample in one preallocated pool, the subset's keys
    of the whole pool drawn in one call, one gather."""

    name = "accumulate-subsample"

    def next(self, model):
        pool = self._grow(model)
        seeds = self.family.seeds
        if self.ops.backend == "numpy":
            keys = self.rng.random((seeds, self.filled))
            index = np.argpartition(keys, self.n - 1, axis=1)[:, : self.n]
        else:
            index = self.ops.subset(seeds, self.filled, self.n, self.rng)
        return self.family.summarize(self.ops.gather(pool, index))


class Spy(AccumulateSubsample):
    """accumulate-subsample that remembers its last instance (to see what it kept)."""

    def start(self, real):
        Spy.last = self
        return super().start(real)


def _run(policy_class, monkeypatch, name, **fields):
    monkeypatch.setitem(policies.POLICY_CLASSES, "accumulate-subsample", policy_class)
    return engine.run(name, policy="accumulate-subsample", **fields)


# (family, fields, whether its old samples are regenerated from their models)
SUBSAMPLE_CASES = [
    ("discrete", dict(seeds=7, iterations=6, n=50, categories=5), True),
    ("discrete", dict(seeds=5, iterations=5, n=40, categories=200, init="zipf"), False),  # counts > samples
    ("gaussian", dict(seeds=9, iterations=6, n=40, dim=3), True),
    ("gaussian", dict(seeds=6, iterations=5, n=30, dim=1, synthetic_ratio=2.5), True),
    ("gaussian", dict(seeds=6, iterations=5, n=30, dim=2, synthetic_ratio=0.3), True),
    ("linear-regression", dict(seeds=5, iterations=5, n=30, dim=4, synthetic_ratio=1.7), True),
    ("gmm", dict(seeds=4, iterations=4, n=60, em_iterations=10, synthetic_ratio=2), True),
    ("kde", dict(seeds=4, iterations=4, n=60), False),  # a KDE model is its training set
]


@pytest.mark.parametrize("name,fields,regenerated", SUBSAMPLE_CASES)
def test_accumulate_subsample_frame_is_unchanged(monkeypatch, name, fields, regenerated):
    old = _run(KeepEverything, monkeypatch, name, **fields)
    new = _run(Spy, monkeypatch, name, **fields)
    assert new.equals(old)  # every column, bit for bit
    kept_models = [p.model is not None for p in Spy.last.pieces[1:]]
    assert all(kept_models) if regenerated else not any(kept_models)


def test_accumulate_subsample_regenerates_torch_samples_exactly(monkeypatch):
    # a vae model (about 40 kB a seed) is smaller than 500 images (128 kB): regenerated, from a
    # torch generator state; ratio 1.5 makes whole and partial draws
    fields = dict(seeds=2, iterations=4, n=500, epochs=1, eval_samples=50, iw_samples=4, synthetic_ratio=1.5)
    old = _run(KeepEverything, monkeypatch, "vae", **fields)
    new = _run(Spy, monkeypatch, "vae", **fields)
    assert new.equals(old)
    assert all(p.model is not None for p in Spy.last.pieces[1:])


def test_subset_keys_in_blocks_are_the_keys_of_one_call(monkeypatch):
    from simulators import batch_ops

    ops = batch_ops.NumpyOps()
    whole = ops.subset(37, 1001, 100, np.random.default_rng(5))
    monkeypatch.setattr(batch_ops, "SUBSET_KEYS", 5 * 1001)  # blocks of 5 seeds
    blocked = ops.subset(37, 1001, 100, np.random.default_rng(5))
    assert np.array_equal(whole, blocked)
    assert all(len(set(row)) == 100 and row.max() < 1001 for row in blocked)
