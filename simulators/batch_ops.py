"""The batch operations the data policies need, written once for numpy and once for torch.

A policy never looks inside a batch: it only slices samples (``[:, a:b]``), concatenates two
batches along the sample axis, gathers per-seed indices along the sample axis, keeps a
preallocated pool it writes into, and draws a per-seed uniform subset of indices without
replacement. :func:`ops_for` returns those operations for a family's ``backend``.

Per-seed subsets without replacement are drawn in one batched call: every candidate gets an
independent uniform key and each seed keeps the k candidates with the smallest keys
(``argpartition`` in numpy, ``topk`` in torch). A uniform random ordering of m items restricted
to its first k is a uniform k-subset, so this is exact, and it costs O(S m) with no loop over
seeds.
"""

from __future__ import annotations

from typing import Any

from .base import Batch


class _BatchOps:
    """The operations that are the same for every backend (plain slicing and slice assignment)."""

    backend: str

    def __init__(self, device: str = "cpu") -> None:
        self.device = device

    @staticmethod
    def write(pool: Batch, batch: Batch, start: int) -> None:
        """Copy ``batch`` into ``pool`` at sample offset ``start``."""
        for k, v in batch.items():
            pool[k][:, start : start + v.shape[1]] = v

    @staticmethod
    def take(batch: Batch, start: int, stop: int) -> Batch:
        """Samples ``start:stop`` of every seed (a view where the backend allows)."""
        return {k: v[:, start:stop] for k, v in batch.items()}


class NumpyOps(_BatchOps):
    """Batch operations for ``backend = "numpy"`` families (CPU)."""

    backend = "numpy"

    @staticmethod
    def allocate(like: Batch, capacity: int) -> Batch:
        """An uninitialised pool shaped like ``like`` with room for ``capacity`` samples."""
        import numpy as np

        return {k: np.empty((v.shape[0], capacity, *v.shape[2:]), dtype=v.dtype) for k, v in like.items()}

    @staticmethod
    def concat(a: Batch, b: Batch) -> Batch:
        """``a`` followed by ``b`` along the sample axis."""
        import numpy as np

        return {k: np.concatenate([a[k], b[k]], axis=1) for k in a}

    @staticmethod
    def gather(batch: Batch, index: Any) -> Batch:
        """Per-seed samples ``index`` (shape (S, k)) of every array."""
        import numpy as np

        rows = np.arange(index.shape[0])[:, None]
        return {k: v[rows, index] for k, v in batch.items()}

    @staticmethod
    def subset(seeds: int, m: int, k: int, rng: Any) -> Any:
        """Per seed, a uniform k-subset of range(m) without replacement, shape (S, k)."""
        import numpy as np

        if k >= m:
            return np.broadcast_to(np.arange(m), (seeds, m)).copy()
        keys = rng.random((seeds, m))
        return np.argpartition(keys, k - 1, axis=1)[:, :k]

    @staticmethod
    def to_numpy(x: Any) -> Any:
        import numpy as np

        return np.asarray(x, dtype=np.float64)


class TorchOps(_BatchOps):
    """Batch operations for ``backend = "torch"`` families (tensors on ``device``)."""

    backend = "torch"

    @staticmethod
    def allocate(like: Batch, capacity: int) -> Batch:
        import torch

        return {
            k: torch.empty((v.shape[0], capacity, *v.shape[2:]), dtype=v.dtype, device=v.device)
            for k, v in like.items()
        }

    @staticmethod
    def concat(a: Batch, b: Batch) -> Batch:
        import torch

        return {k: torch.cat([a[k], b[k]], dim=1) for k in a}

    @staticmethod
    def gather(batch: Batch, index: Any) -> Batch:
        import torch

        out = {}
        for k, v in batch.items():
            idx = index.to(v.device)
            rows = torch.arange(idx.shape[0], device=v.device)[:, None]
            out[k] = v[rows, idx]
        return out

    def subset(self, seeds: int, m: int, k: int, rng: Any) -> Any:
        import torch

        if k >= m:
            return torch.arange(m, device=self.device).expand(seeds, m).clone()
        keys = torch.rand((seeds, m), generator=rng, device=self.device)
        return torch.topk(keys, k, dim=1, largest=False, sorted=False).indices

    @staticmethod
    def to_numpy(x: Any) -> Any:
        import numpy as np

        if hasattr(x, "detach"):
            x = x.detach().to("cpu").double().numpy()
        return np.asarray(x, dtype=np.float64)


def ops_for(backend: str, device: str = "cpu") -> NumpyOps | TorchOps:
    """The batch operations of a backend (``"numpy"`` or ``"torch"``)."""
    if backend == "numpy":
        return NumpyOps(device)
    if backend == "torch":
        return TorchOps(device)
    raise ValueError(f"unknown backend {backend!r}")
