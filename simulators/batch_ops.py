"""The batch operations the data policies need, written once for numpy and once for torch.

A policy never looks inside a batch: it only slices samples (``[:, a:b]``), concatenates two
batches along the sample axis, gathers per-seed indices along the sample axis, keeps a
preallocated pool it writes into, and draws a per-seed uniform subset of indices without
replacement. :func:`ops_for` returns those operations for a family's ``backend``.

Per-seed subsets without replacement are drawn in one batched call: every candidate gets an
independent uniform key and each seed keeps the k candidates with the smallest keys
(``argpartition`` in numpy, ``topk`` in torch). A uniform random ordering of m items restricted
to its first k is a uniform k-subset, so this is exact, and it costs O(S m) with no loop over
seeds. numpy draws the keys in blocks of seeds holding at most :data:`SUBSET_KEYS` keys: a block
of rows of ``rng.random`` is the same stream as the whole array, and ``argpartition`` works row
by row, so the indices are bit-identical to one call while the keys and their partition take
O(:data:`SUBSET_KEYS`) memory instead of 16 bytes per seed and pool sample.

A data policy that regenerates old samples instead of keeping them (``accumulate-subsample``,
see :mod:`simulators.policies`) also needs the generator's state before a draw
(:meth:`rng_state`), a generator restored to it (:meth:`rng_at`), and a gather from a pool kept
in pieces (:meth:`gather_pieces`).
"""

from __future__ import annotations

from typing import Any

from .base import Batch

#: most subset keys (and their partition) held at once by :meth:`NumpyOps.subset`: 32 MiB of
#: float64 keys and as much of indices
SUBSET_KEYS = 1 << 22


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

    def gather_pieces(self, like: Batch, index: Any, starts: list[int], fetch: Any) -> Batch:
        """Per-seed samples ``index`` (shape (S, k)) of a pool kept in pieces: piece j holds pool
        samples ``starts[j]`` up to the next start (``starts`` ascending, from 0, its last entry
        the pool's end) and ``fetch(j)`` returns it as a batch. The output is allocated like
        ``like`` and holds exactly what :meth:`gather` on the whole pool would; each piece is
        fetched once, and only if some index falls in it."""
        out = self.allocate(like, int(index.shape[1]))
        k = int(index.shape[1])
        flat = index.reshape(-1)
        order, ranked = self._sort(flat)
        bounds = self._searchsorted(ranked, starts)
        for j in range(len(starts) - 1):
            a, b = int(bounds[j]), int(bounds[j + 1])
            if a == b:
                continue
            where = order[a:b]
            rows, cols = where // k, where % k
            local = ranked[a:b] - starts[j]
            for name, v in fetch(j).items():
                out[name][rows, cols] = v[rows, local]
        return out


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
        out = np.empty((seeds, k), dtype=np.intp)
        step = max(1, SUBSET_KEYS // m)  # seeds per block of keys (see the module docstring)
        for a in range(0, seeds, step):
            keys = rng.random((min(step, seeds - a), m))
            out[a : a + keys.shape[0]] = np.argpartition(keys, k - 1, axis=1)[:, :k]
        return out

    @staticmethod
    def to_numpy(x: Any) -> Any:
        import numpy as np

        return np.asarray(x, dtype=np.float64)

    @staticmethod
    def rng_state(rng: Any) -> Any:
        """The generator's state (a copy): :meth:`rng_at` restores it."""
        return rng.bit_generator.state

    @staticmethod
    def rng_at(state: Any, like: Any) -> Any:
        """A new generator of ``like``'s kind in ``state``: it draws what ``like`` drew from there."""
        import numpy as np

        bits = type(like.bit_generator)()
        bits.state = state
        return np.random.Generator(bits)

    @staticmethod
    def _sort(flat: Any) -> tuple[Any, Any]:
        import numpy as np

        order = np.argsort(flat, kind="stable")
        return order, flat[order]

    @staticmethod
    def _searchsorted(ranked: Any, starts: list[int]) -> Any:
        import numpy as np

        return np.searchsorted(ranked, np.asarray(starts), side="left")


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

    @staticmethod
    def rng_state(rng: Any) -> Any:
        return rng.get_state()

    @staticmethod
    def rng_at(state: Any, like: Any) -> Any:
        import torch

        generator = torch.Generator(device=like.device)
        generator.set_state(state)
        return generator

    @staticmethod
    def _sort(flat: Any) -> tuple[Any, Any]:
        import torch

        ranked, order = torch.sort(flat, stable=True)
        return order, ranked

    @staticmethod
    def _searchsorted(ranked: Any, starts: list[int]) -> Any:
        import torch

        return torch.searchsorted(ranked, torch.tensor(starts, dtype=ranked.dtype, device=ranked.device)).tolist()


def ops_for(backend: str, device: str = "cpu") -> NumpyOps | TorchOps:
    """The batch operations of a backend (``"numpy"`` or ``"torch"``)."""
    if backend == "numpy":
        return NumpyOps(device)
    if backend == "torch":
        return TorchOps(device)
    raise ValueError(f"unknown backend {backend!r}")
