"""The unit of work: one configuration in, everything stored about it out.

:func:`compute` (a configuration dict in, a picklable :class:`RunResult` out: frame, aggregates,
profile, provenance). Reruns, and sweeps in all three executors, call it; only the parent process
writes to the store.
"""

from __future__ import annotations

import os
import time
from dataclasses import dataclass, field
from typing import Any, Callable, Mapping

from simulators.errors import UserError
from simulators.summary import SUMMARY_COLUMNS

from . import provenance as prov
from .planning import config_hash as _config_hash
from .planning import resolve_config


@dataclass
class RunResult:
    """Everything :func:`compute` produces for one configuration (picklable)."""

    config: dict[str, Any]
    config_hash: str
    frame: Any  # pandas.DataFrame: iteration, seed, metric, value (with trivial_risk rows)
    aggregates: Any  # pandas.DataFrame: AGGREGATE_COLUMNS
    #: horizon -> simulators.verdicts.Profile.to_dict(), at :func:`horizons_of` the run
    profiles: dict[int, dict[str, Any]]
    provenance: dict[str, Any] = field(default_factory=dict)


#: the columns of the per-iteration aggregates (:func:`simulators.summary.summarize`)
AGGREGATE_COLUMNS: tuple[str, ...] = SUMMARY_COLUMNS


class CodeVersionMismatch(UserError):
    """A worker's code version differs from the one its unit of work was planned with."""


def compute(
    config: Mapping[str, Any],
    progress: Callable[[int, int], None] | None = None,
    *,
    code_version: str | None = None,
    config_hash: str | None = None,
) -> RunResult:
    """Run one configuration and compute everything stored about it. Pure: no store access.

    The same function serves reruns and every sweep executor (it is a module-level function,
    so process pools and Dask workers can import it).

    ``code_version`` and ``config_hash`` are what the parent planned with (a sweep or rerun
    passes both). A worker whose own :func:`metaanalysis.evidence.provenance.code_version` differs
    refuses before running (:class:`CodeVersionMismatch`, one line), and so does one whose hash
    of the configuration differs from the planned one; the result carries the planned hash, so
    the parent's skip check and the stored run use the same key.
    """
    from simulators.engine import execute
    from simulators.runfiles import with_baseline_rows
    from simulators.summary import summarize
    from simulators.verdicts import profiles

    here = prov.code_version()
    if code_version is not None and code_version != here:
        raise CodeVersionMismatch(
            f"worker {platform_node()} (pid {os.getpid()}) runs code version '{here}' but the work was "
            f"planned with '{code_version}'; run every worker on the same mcatlas and simulators source"
        )
    resolved = resolve_config(config)
    as_dict = resolved.as_dict()
    digest = _config_hash(as_dict)
    if config_hash is not None and config_hash != digest:
        raise CodeVersionMismatch(
            f"worker {platform_node()} (pid {os.getpid()}) hashes the configuration to {digest[:12]}, "
            f"not the planned {config_hash[:12]}: the worker resolves configurations differently; "
            "run every worker on the same mcatlas and package versions"
        )
    started = prov.utc_now()
    t0 = time.perf_counter()
    frame = execute(resolved, progress=progress)
    # the stored frame carries the catastrophic-risk baseline, so re-profiling it gives the
    # stored profile; the profiles and summaries read the same rows
    stored = with_baseline_rows(frame)
    stored.attrs = {}
    profs = profiles(stored, horizons_of(as_dict))
    aggs = summarize(frame)
    wall = time.perf_counter() - t0
    finished = prov.utc_now()
    return RunResult(
        config=as_dict,
        config_hash=digest,
        frame=stored,
        aggregates=aggs,
        profiles={h: p.to_dict() for h, p in profs.items()},
        provenance=prov.collect(as_dict, started=started, finished=finished, wall_time=wall),
    )


def horizons_of(config: Mapping[str, Any]) -> tuple[int, ...]:
    """The horizons a run's profile is stored at: the long run (the default
    ``Thresholds.horizon``), the question of a published rerun, and the run's own length, the
    question of a realistic rerun and its control (what happens within that many generations)."""
    from simulators.verdicts import Thresholds

    return tuple(dict.fromkeys((Thresholds().horizon, int(config["iterations"]))))


def horizon_of(variant: str, iterations: int) -> int:
    """The horizon a variant's verdicts are read at (:mod:`metaanalysis.evidence.planning`,
    "Horizons"): the long run for the published rerun, the run's own length for the realistic
    rerun and its control."""
    from simulators.verdicts import Thresholds

    return Thresholds().horizon if variant == "published" else int(iterations)


def platform_node() -> str:
    """This host's name (for error messages that name a worker)."""
    import platform

    return platform.node() or "?"


__all__ = ["AGGREGATE_COLUMNS", "CodeVersionMismatch", "RunResult", "compute", "horizon_of", "horizons_of", "platform_node"]
