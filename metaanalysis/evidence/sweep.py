"""Sweeps: a YAML grid of configurations run through an executor, resumable.

The file (safe-loaded; a mapping)::

    name: gaussian-n-sweep        # optional; default: the file's stem
    simulator: gaussian           # one simulator
    policy: [replace, accumulate] # a value or a list
    real_fraction: [0.1, 0.5]     # a value or a list; used only with mix | fresh
    synthetic_ratio: [1, 2]       # a value or a list (default 1)
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

Loading: the file goes through the project's bounded loader (:func:`metaanalysis.annotations.yamlio.load_file`),
like the annotation files: no tags, duplicate keys, merge keys, size, depth and alias bounds are
one-line ``FILE:LINE: field: message`` errors.

Size: the product of the list lengths is computed *before* anything is expanded; a grid above
``max_configs`` (default :data:`MAX_CONFIGS`, the CLI's ``--max-configs N``) is refused with its
size, the limit and how to raise it, so a typo cannot start a million runs or fill memory.

Execution: the unit of work is :func:`metaanalysis.evidence.work` (a configuration dict in,
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
               A worker lost mid-sweep (killed, out of memory, its machine gone) costs only
               the configurations it was computing or holding: the scheduler recomputes them
               on the other workers (a configuration that takes down
               ``distributed.scheduler.allowed-failures`` + 1 workers fails the sweep with
               ``KilledWorker``), and the sweep yields each once. Each result is released as
               soon as the parent has it, so workers hold only results not yet received.

Only the parent process writes to the store, one transaction per completed configuration
(:func:`metaanalysis.evidence.write.store_result`, origin ``sweep``). Resuming: configurations whose
hash is already stored are skipped (unless ``force``), so a sweep killed at any point and
restarted completes the rest and never stores a configuration twice.

One hash for skipping and storing: every unit of work carries the parent's code version and the
configuration's planned hash (:func:`metaanalysis.evidence.work` with ``code_version`` and
``config_hash``). A worker whose own code version differs (a Dask worker on another checkout)
refuses with a one-line error instead of storing its result under a hash the parent would never
skip; otherwise the result is stored under the planned hash.

Threads: each process-pool worker gets ``cores // workers`` intra-op threads (at least one, at
most an ``OMP_NUM_THREADS`` you set; :func:`worker_threads`), so the pool does not oversubscribe
the machine (the neural families run on one thread anyway unless ``MCATLAS_CPU_THREADS`` says
otherwise). Dask's own worker processes (``--workers`` given) start with ``OMP_NUM_THREADS=1``
(its ``distributed.nanny.pre-spawn-environ`` default); its in-process threads (no
``--workers``) share the parent's setting.

Workers die with the parent: process-pool workers run :func:`_init_worker`, and through it
:func:`_die_with_parent`, as their initializer. On Linux it asks the kernel for SIGKILL when the
parent goes away (``prctl(PR_SET_PDEATHSIG, SIGKILL)``; strictly, when the *thread* that spawned
the worker exits, which is the thread that runs the sweep); elsewhere, or if prctl fails, a
daemon thread polls ``os.getppid()`` twice a second and exits the worker when it changes.
Without this a SIGKILLed parent leaves workers blocked forever writing a large result into a
pipe nobody reads.
"""

from __future__ import annotations

import itertools
import math
import os
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Iterator, Mapping, Sequence

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from simulators.errors import UserError
from simulators.runspec import DEFAULTS
from simulators.vocabulary import POLICIES_WITH_REAL_FRACTION

from . import provenance as prov
from .planning import canonical_config, config_hash
from .work import RunResult, compute
from .write import store_result, stored_hashes

EXECUTORS: tuple[str, ...] = ("serial", "processes", "dask")
#: the largest grid expanded unless the caller raises the limit (``--max-configs N``)
MAX_CONFIGS = 10_000
class SweepFile(BaseModel):
    """A sweep file: the fields of a run (:class:`simulators.runspec.RunSpec`, whose defaults it
    takes), each of which may be a list of values to sweep over. Validated like a paper record:
    every problem is ``FILE:LINE: field: message``."""

    model_config = ConfigDict(extra="forbid")

    name: str | None = Field(None, description="the sweep's name (default: the file's stem)")
    simulator: str = Field(description="one simulator")
    policy: str | list[str] = DEFAULTS["policy"]
    real_fraction: float | None | list[float | None] = DEFAULTS["real_fraction"]
    synthetic_ratio: float | list[float] = DEFAULTS["synthetic_ratio"]
    seeds: int | list[int] | list[list[int]] = DEFAULTS["seeds"]
    iterations: int | list[int] = DEFAULTS["iterations"]
    device: str = DEFAULTS["device"]
    metrics: list[str] | None = DEFAULTS["metrics"]
    params: dict[str, Any] = Field(default_factory=dict, description="each a value or a list")


@dataclass
class Sweep:
    """A parsed sweep file: its name and resolved configurations (with hashes), in grid order,
    and the code version the hashes were made with (empty: the current one)."""

    name: str
    configs: list[dict[str, Any]]
    hashes: list[str]
    code_version: str = ""


def _values(value: Any) -> list[Any]:
    return list(value) if isinstance(value, list) else [value]


def expand(
    spec: Mapping[str, Any],
    name: str = "sweep",
    where: str = "sweep",
    max_configs: int = MAX_CONFIGS,
) -> Sweep:
    """The grid of a sweep mapping (see the module docstring); duplicates merged.

    Refuses (one-line UserError) a grid whose product size exceeds ``max_configs``, before
    expanding anything."""
    sweep = _model(spec, where)
    seeds = sweep.seeds
    if isinstance(seeds, list) and seeds and all(isinstance(s, list) for s in seeds):
        seed_values: list[Any] = seeds  # explicit id lists
    else:
        seed_values = _values(seeds)
    axes = {
        "policy": _values(sweep.policy),
        "real_fraction": _values(sweep.real_fraction),
        "synthetic_ratio": _values(sweep.synthetic_ratio),
        "seeds": seed_values,
        "iterations": _values(sweep.iterations),
        **{f"params.{k}": _values(v) for k, v in sweep.params.items()},
    }
    for k, vs in axes.items():
        if not vs:
            raise UserError(f"{where}: {k}: empty list")
    size = math.prod(len(vs) for vs in axes.values())
    if size > max_configs:
        sizes = " x ".join(f"{len(vs)} {k}" for k, vs in axes.items() if len(vs) > 1)
        raise UserError(
            f"{where}: the grid has {size:,} configurations ({sizes}), more than the limit of "
            f"{max_configs:,}; narrow the lists or raise the limit with --max-configs N"
        )
    configs: list[dict[str, Any]] = []
    hashes: list[str] = []
    seen: set[str] = set()
    code = prov.code_version()
    keys = list(axes)
    for combo in itertools.product(*(axes[k] for k in keys)):
        point = dict(zip(keys, combo))
        policy = point["policy"]
        raw = {
            "simulator": sweep.simulator,
            "policy": policy,
            "real_fraction": point["real_fraction"] if policy in POLICIES_WITH_REAL_FRACTION else None,
            "synthetic_ratio": point["synthetic_ratio"],
            "seeds": point["seeds"],
            "iterations": point["iterations"],
            "device": sweep.device,
            "metrics": sweep.metrics,
            "params": {k.split(".", 1)[1]: v for k, v in point.items() if k.startswith("params.")},
        }
        try:
            resolved = canonical_config(raw)
        except UserError as exc:
            raise UserError(f"{where}: {exc}") from None
        digest = config_hash(resolved)
        if digest in seen:
            continue
        seen.add(digest)
        configs.append(resolved)
        hashes.append(digest)
    return Sweep(name=str(sweep.name or name), configs=configs, hashes=hashes, code_version=code)


def _model(spec: Any, where: str) -> SweepFile:
    """The validated :class:`SweepFile` of a loaded mapping; the first problem (by line) is a
    one-line ``FILE:LINE: field: message`` UserError (``where`` is the file, or a label)."""
    from metaanalysis.annotations.problems import pydantic_problems

    if not isinstance(spec, Mapping):
        raise UserError(f"{where}:1: expected a mapping with simulator, policy, seeds, iterations, params")
    try:
        return SweepFile.model_validate(dict(spec))
    except ValidationError as exc:
        first = min(pydantic_problems(exc, SweepFile, spec, where), key=lambda p: p.line)
        raise UserError(str(first)) from None


def load_sweep(path: Path | str, max_configs: int = MAX_CONFIGS) -> Sweep:
    """Read a sweep file with the bounded loader (:mod:`metaanalysis.annotations.yamlio`) and expand it.

    Loader errors and problems (duplicate keys, tags, bounds) are one-line
    ``FILE:LINE: field: message`` UserErrors; the first problem is reported."""
    from metaanalysis.annotations import yamlio

    path = Path(path)
    try:
        loaded = yamlio.load_file(path)
    except yamlio.YamlLoadError as exc:
        raise UserError(f"{path}:{exc.line or 1}: {exc.message}") from None
    if loaded.problems:
        first = min(loaded.problems, key=lambda p: p.line)
        raise UserError(f"{path}:{first.line}: {first.field}: {first.message}")
    if loaded.data is None:
        raise UserError(f"{path}:1: empty file: expected a mapping with simulator, policy, seeds, iterations, params")
    return expand(loaded.data, name=path.stem, where=str(path), max_configs=max_configs)


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


#: one unit of work: (configuration, its planned hash); every executor calls
#: ``compute(config, code_version=<the parent's>, config_hash=<planned>)``
Unit = tuple[dict[str, Any], str]

#: seconds between two ``os.getppid()`` checks of the fallback watchdog
PARENT_POLL_SECONDS = 0.5


def _cores() -> int:
    """CPUs this process may run on (its affinity mask where the OS has one, else the count)."""
    try:
        return len(os.sched_getaffinity(0)) or 1
    except AttributeError:  # not Linux
        return os.cpu_count() or 1


def worker_threads(workers: int, cores: int, environ: Mapping[str, str] = os.environ) -> int:
    """Intra-op threads for each of ``workers`` pool processes on ``cores`` CPUs: their share
    (at least one), and never more than an ``OMP_NUM_THREADS`` the user set."""
    share = max(1, cores // max(1, workers))
    try:
        return max(1, min(share, int(environ.get("OMP_NUM_THREADS", share))))
    except ValueError:  # not a number: ignore it
        return share


def _init_worker(parent_pid: int, threads: int) -> None:
    """Process-pool initializer: the worker's share of the cores, and death with the parent.

    Without a share, every worker's torch (and BLAS) would start a thread per core and
    ``--workers`` N would run N times as many threads as cores, which slows tensor code many
    times over. ``OMP_NUM_THREADS`` covers a torch imported later (workers import it lazily,
    with the family that needs it); a torch already imported is told directly."""
    os.environ["OMP_NUM_THREADS"] = str(threads)
    if "torch" in sys.modules:
        sys.modules["torch"].set_num_threads(threads)
    _die_with_parent(parent_pid)


def _die_with_parent(parent_pid: int) -> None:
    """End this worker when the parent process dies (the second half of :func:`_init_worker`).

    Linux: ``prctl(PR_SET_PDEATHSIG, SIGKILL)`` through ctypes; then the parent is checked once
    more, because it may have died before the call. Elsewhere (or if prctl fails): a daemon
    thread that polls ``os.getppid()`` and calls ``os._exit`` when the parent changed
    (reparented to init or a subreaper)."""
    if sys.platform.startswith("linux"):
        try:
            import ctypes
            import signal

            libc = ctypes.CDLL(None, use_errno=True)
            pr_set_pdeathsig = 1
            if libc.prctl(pr_set_pdeathsig, int(signal.SIGKILL), 0, 0, 0) == 0:
                if os.getppid() != parent_pid:
                    os._exit(1)
                return
        except (OSError, AttributeError):
            pass
    import threading

    def watch() -> None:
        import time

        while True:
            if os.getppid() != parent_pid:
                os._exit(1)
            time.sleep(PARENT_POLL_SECONDS)

    threading.Thread(target=watch, name="mcatlas-parent-watchdog", daemon=True).start()


def _serial(units: Sequence[Unit], code: str, workers: int | None, scheduler: str | None) -> Iterator[RunResult]:
    for c, h in units:
        yield compute(c, code_version=code, config_hash=h)


def _processes(units: Sequence[Unit], code: str, workers: int | None, scheduler: str | None) -> Iterator[RunResult]:
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor, as_completed

    cores = _cores()
    n = min(workers or cores, max(1, len(units)))
    ctx = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(max_workers=n, mp_context=ctx, initializer=_init_worker,
                             initargs=(os.getpid(), worker_threads(n, cores))) as pool:
        futures = [pool.submit(compute, c, code_version=code, config_hash=h) for c, h in units]
        try:
            for fut in as_completed(futures):
                yield fut.result()
        finally:
            for fut in futures:  # an error (or a closed generator): do not start the rest
                fut.cancel()


def _dask(units: Sequence[Unit], code: str, workers: int | None, scheduler: str | None) -> Iterator[RunResult]:
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
        futures = [client.submit(compute, c, code_version=code, config_hash=h, pure=False) for c, h in units]
        # on this client's loop: by default as_completed follows the process's current client
        # (any ``with Client(...)`` around the sweep), and a future whose result a lost worker
        # held then fails to wait for its recomputation ("bound to a different event loop")
        for fut in as_completed(futures, loop=client.loop):
            result = fut.result()
            fut.release()  # the parent has it: the worker may free it, and a lost worker need not redo it
            yield result
    finally:
        client.close()
        if cluster is not None:
            cluster.close()


_EXECUTORS: dict[str, Callable[..., Iterator[RunResult]]] = {
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
    have = set() if force else stored_hashes(eng, sweep.hashes)
    todo = [(c, h) for c, h in zip(sweep.configs, sweep.hashes) if h not in have]
    code = sweep.code_version or prov.code_version()  # the version the planned hashes were made with
    out = SweepOutcome(sweep.name, len(sweep.configs), skipped=len(sweep.configs) - len(todo))
    if progress is not None:
        progress(out.skipped, out.total)
    if not todo:
        return out
    done = out.skipped
    for result in _EXECUTORS[executor](todo, code, workers, scheduler):
        status = store_result(eng, result, origin="sweep", sweep=sweep.name, force=force)
        if status == "exists":
            out.existed += 1
        else:
            out.stored.append(result.config_hash)
        done += 1
        if progress is not None:
            progress(done, out.total)
    return out


__all__ = ["EXECUTORS", "MAX_CONFIGS", "Sweep", "SweepOutcome", "expand", "load_sweep", "run_sweep"]
