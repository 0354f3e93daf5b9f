"""Sweeps: a YAML grid of configurations run through an executor, resumable.

The file (safe-loaded; a mapping)::

    name: gaussian-n-sweep        # optional; default: the file's stem
    simulator: gaussian           # one simulator
    policy: [replace, accumulate] # a value or a list
    real_fraction: [0.1, 0.5]     # a value or a list; used only with mix | fresh
    seeds: 20                     # a count or a list of counts (a list of lists: explicit ids)
    iterations: [10, 50]          # a value or a list
    device: cpu                   # optional, one value
    metrics: [population_risk]    # optional, one list
    params:                       # each entry a value or a list
      n: [10, 100, 1000]
      dim: 1

The grid is the product of every list. ``real_fraction`` applies only to the policies that take
one: for the others it is dropped, and the duplicate configurations this creates are merged.
Configurations are resolved (validated) before anything runs; a bad one is a one-line error.

Execution: the unit of work is :func:`metaanalysis.evidence.compute` (a configuration dict in,
a picklable result out: frame, aggregates, profile, provenance) in every executor:

``serial``     in this process, one after another.
``processes``  a ``concurrent.futures.ProcessPoolExecutor`` (spawned workers: no fork of a
               process holding database connections or threads), ``--workers`` of them
               (default: the CPU count).
``dask``       ``distributed``: ``--scheduler ADDRESS`` connects to an existing cluster;
               otherwise a ``LocalCluster`` on loopback (TCP on 127.0.0.1, no dashboard),
               in-process threads when ``--workers`` is not given (``processes=False``; TCP
               rather than dask's default in-process transport, so it is the same network
               path as a real cluster), else
               ``n_workers=workers`` processes with one thread each. dask is imported only here.

Only the parent process writes to the store, one transaction per completed configuration
(:func:`metaanalysis.evidence.store_result`, origin ``sweep``). Resuming: configurations whose
hash is already stored are skipped (unless ``force``), so a sweep killed at any point and
restarted completes the rest and never stores a configuration twice.
"""

from __future__ import annotations

import itertools
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Iterator, Mapping, Sequence

from simulators.errors import UserError
from simulators.vocabulary import POLICIES_WITH_REAL_FRACTION

from . import evidence as ev

EXECUTORS: tuple[str, ...] = ("serial", "processes", "dask")
GRID_KEYS: tuple[str, ...] = (
    "name", "simulator", "policy", "real_fraction", "seeds", "iterations", "device", "metrics", "params",
)


@dataclass
class Sweep:
    """A parsed sweep file: its name and resolved configurations (with hashes), in grid order."""

    name: str
    configs: list[dict[str, Any]]
    hashes: list[str]


def _values(value: Any) -> list[Any]:
    return list(value) if isinstance(value, list) else [value]


def expand(spec: Mapping[str, Any], name: str = "sweep", where: str = "sweep") -> Sweep:
    """The grid of a sweep mapping (see the module docstring); duplicates merged."""
    if not isinstance(spec, Mapping):
        raise UserError(f"{where}: expected a mapping with simulator, policy, seeds, iterations, params")
    unknown = [k for k in spec if k not in GRID_KEYS]
    if unknown:
        raise UserError(f"{where}: {unknown[0]}: unknown field; valid fields: {', '.join(GRID_KEYS)}")
    if "simulator" not in spec or not isinstance(spec["simulator"], str):
        raise UserError(f"{where}: simulator: required (one simulator name)")
    params = spec.get("params") or {}
    if not isinstance(params, Mapping):
        raise UserError(f"{where}: params: expected a mapping of parameter -> value or list")
    seeds = spec.get("seeds", 10)
    if isinstance(seeds, list) and seeds and all(isinstance(s, list) for s in seeds):
        seed_values: list[Any] = seeds  # explicit id lists
    else:
        seed_values = _values(seeds)
    axes = {
        "policy": _values(spec.get("policy", "replace")),
        "real_fraction": _values(spec.get("real_fraction")),
        "seeds": seed_values,
        "iterations": _values(spec.get("iterations", 10)),
        **{f"params.{k}": _values(v) for k, v in params.items()},
    }
    for k, vs in axes.items():
        if not vs:
            raise UserError(f"{where}: {k}: empty list")
    configs: list[dict[str, Any]] = []
    hashes: list[str] = []
    seen: set[str] = set()
    keys = list(axes)
    for combo in itertools.product(*(axes[k] for k in keys)):
        point = dict(zip(keys, combo))
        policy = point["policy"]
        raw = {
            "simulator": spec["simulator"],
            "policy": policy,
            "real_fraction": point["real_fraction"] if policy in POLICIES_WITH_REAL_FRACTION else None,
            "seeds": point["seeds"],
            "iterations": point["iterations"],
            "device": spec.get("device", "cpu"),
            "metrics": spec.get("metrics"),
            "params": {k.split(".", 1)[1]: v for k, v in point.items() if k.startswith("params.")},
        }
        try:
            resolved = ev.canonical_config(raw)
        except UserError as exc:
            raise UserError(f"{where}: {exc}") from None
        digest = ev.config_hash(resolved)
        if digest in seen:
            continue
        seen.add(digest)
        configs.append(resolved)
        hashes.append(digest)
    return Sweep(name=str(spec.get("name") or name), configs=configs, hashes=hashes)


def load_sweep(path: Path | str) -> Sweep:
    """Read (safe YAML) and expand a sweep file."""
    import yaml

    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise UserError(f"{path}: cannot read: {exc.strerror or exc}") from None
    try:
        spec = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = mark.line + 1 if mark is not None else 1
        problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
        raise UserError(f"{path}:{line}: invalid YAML: {problem}") from None
    return expand(spec, name=path.stem, where=str(path))


@dataclass
class SweepOutcome:
    """Counts of a sweep call and the hashes it stored."""

    name: str
    total: int
    skipped: int = 0
    stored: list[str] = field(default_factory=list)
    existed: int = 0

    def as_dict(self) -> dict[str, Any]:
        return {"name": self.name, "total": self.total, "skipped": self.skipped,
                "stored": len(self.stored), "existed": self.existed}


def _serial(configs: Sequence[dict[str, Any]], workers: int | None, scheduler: str | None) -> Iterator[ev.RunResult]:
    for c in configs:
        yield ev.compute(c)


def _processes(configs: Sequence[dict[str, Any]], workers: int | None, scheduler: str | None) -> Iterator[ev.RunResult]:
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor, as_completed

    n = workers or os.cpu_count() or 1
    ctx = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(max_workers=min(n, max(1, len(configs))), mp_context=ctx) as pool:
        futures = [pool.submit(ev.compute, c) for c in configs]
        for fut in as_completed(futures):
            yield fut.result()


def _dask(configs: Sequence[dict[str, Any]], workers: int | None, scheduler: str | None) -> Iterator[ev.RunResult]:
    try:
        from distributed import Client, LocalCluster, as_completed
    except ImportError:  # pragma: no cover - dask[distributed] is a dependency
        raise UserError("the dask executor needs dask[distributed] (pip install 'dask[distributed]')") from None
    cluster = None
    if scheduler:
        try:
            client = Client(scheduler, timeout="20s")
        except (OSError, TimeoutError) as exc:
            raise UserError(f"--scheduler {scheduler}: cannot connect: {exc}") from None
    else:
        if workers:
            cluster = LocalCluster(n_workers=workers, threads_per_worker=1, processes=True,
                                   host="127.0.0.1", dashboard_address=None)
        else:
            cluster = LocalCluster(processes=False, protocol="tcp://", host="127.0.0.1",
                                   dashboard_address=None)
        client = Client(cluster)
    try:
        futures = [client.submit(ev.compute, c, pure=False) for c in configs]
        for fut in as_completed(futures):
            yield fut.result()
    finally:
        client.close()
        if cluster is not None:
            cluster.close()


_EXECUTORS: dict[str, Callable[..., Iterator[ev.RunResult]]] = {
    "serial": _serial, "processes": _processes, "dask": _dask,
}


def run_sweep(
    eng: Any,
    sweep: Sweep,
    *,
    executor: str = "processes",
    workers: int | None = None,
    scheduler: str | None = None,
    force: bool = False,
    progress: Callable[[int, int], None] | None = None,
) -> SweepOutcome:
    """Run the sweep's configurations not stored yet through ``executor``; store each result as
    it completes (one transaction each). ``progress(done, total)`` after each stored result."""
    if executor not in EXECUTORS:
        raise UserError(f"unknown executor {executor!r}; valid choices: {', '.join(EXECUTORS)}")
    if workers is not None and workers < 1:
        raise UserError(f"--workers must be at least 1, got {workers}")
    have = set() if force else ev.stored_hashes(eng, sweep.hashes)
    todo = [c for c, h in zip(sweep.configs, sweep.hashes) if h not in have]
    out = SweepOutcome(sweep.name, len(sweep.configs), skipped=len(sweep.configs) - len(todo))
    if progress is not None:
        progress(out.skipped, out.total)
    if not todo:
        return out
    done = out.skipped
    for result in _EXECUTORS[executor](todo, workers, scheduler):
        status = ev.store_result(eng, result, origin="sweep", sweep=sweep.name, force=force)
        if status == "exists":
            out.existed += 1
        else:
            out.stored.append(result.config_hash)
        done += 1
        if progress is not None:
            progress(done, out.total)
    return out


__all__ = ["EXECUTORS", "Sweep", "SweepOutcome", "expand", "load_sweep", "run_sweep"]
