"""Re-executing papers' setups, as published and under realistic conditions.

:func:`rerun` runs planned runs (:mod:`metaanalysis.evidence.planning`) that are not stored yet (or
all of them, with ``force``), storing each with
:func:`metaanalysis.evidence.write.store_result` in one transaction; :func:`rerun_missing` does
so cheapest first within a time budget (what the atlas build does before it draws).

Caching: a planned run whose configuration hash (configuration + code version, see
:func:`metaanalysis.evidence.planning.config_hash`) is stored is answered from the store
(``cached``, 0 seconds) unless ``force``; within one call identical configurations are computed
once. A computed run is stored under its planned hash (:func:`metaanalysis.evidence.work.compute`
checks it).
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass, field
from typing import Any, Callable, Mapping, Sequence

from .planning import PlannedRun, missing_runs, plan
from .read import load_profile
from .work import compute, horizon_of
from .write import link, store_result, stored_hashes

#: outcomes of a planned run
STATUSES: tuple[str, ...] = ("computed", "cached", "replaced", "exists")


@dataclass
class RunOutcome:
    """What happened to a planned run: ``computed``, ``cached``, ``replaced`` or ``exists``
    (another process stored it meanwhile); the wall time spent computing it here (0 for
    ``cached``: nothing ran); the stored run's verdicts."""

    planned: PlannedRun
    status: str
    wall_time: float = 0.0
    verdicts: dict[str, str] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        return {
            "paper": self.planned.paper, "setup": self.planned.setup, "variant": self.planned.variant,
            "override": self.planned.override, "status": self.status, "config_hash": self.planned.config_hash,
            "wall_time": self.wall_time, "verdicts": dict(self.verdicts),
        }


#: progress callback: ``progress(planned, t, T)``; t = 0 when a run starts computing
RerunProgress = Callable[[PlannedRun, int, int], None]


def rerun(
    eng: Any,
    planned: Sequence[PlannedRun],
    *,
    force: bool = False,
    progress: RerunProgress | None = None,
    on_outcome: Callable[[RunOutcome], None] | None = None,
) -> list[RunOutcome]:
    """Run planned runs (:func:`metaanalysis.evidence.planning.plan`, or
    :func:`~metaanalysis.evidence.planning.missing_runs` of it) and store their evidence; one
    outcome per planned run, in order.

    Stored configurations are ``cached`` (their links are refreshed) unless ``force``; with
    ``force`` each distinct configuration is recomputed once and replaces the stored run
    atomically. A planned run with an ``override`` is linked as exploratory evidence
    (:class:`~metaanalysis.evidence.tables.OverrideLinkRow`), never as the setup's.
    """
    todo = list(planned)
    have = set() if force else stored_hashes(eng, {p.config_hash for p in todo})
    done: dict[str, str] = {}
    outcomes: list[RunOutcome] = []
    for p in todo:
        t0: float | None = time.perf_counter()
        target = (p.paper, p.setup, p.variant, p.override)
        if p.config_hash in have or p.config_hash in done:
            link(eng, *target[:3], p.config_hash, p.override)
            status = "cached"
            t0 = None  # nothing computed: report no seconds (the lookup is not a run's cost)
        else:
            cb = (lambda t, T, _p=p: progress(_p, t, T)) if progress is not None else None
            if progress is not None:
                progress(p, 0, int(p.config["iterations"]))
            result = compute(p.config, progress=cb, config_hash=p.config_hash)
            stored = store_result(eng, result, links=[target], origin="setup", force=force)
            status = {"stored": "computed", "replaced": "replaced", "exists": "exists"}[stored]
        done[p.config_hash] = status
        prof = load_profile(eng, p.config_hash, horizon_of(p.variant, p.config["iterations"]))
        outcome = RunOutcome(
            p, status, 0.0 if t0 is None else time.perf_counter() - t0,
            {v.definition: v.verdict for v in prof.verdicts} if prof is not None else {},
        )
        outcomes.append(outcome)
        if on_outcome is not None:
            on_outcome(outcome)
    return outcomes


#: time budget of :func:`rerun_missing` in seconds (checked before starting each run)
DEFAULT_BUDGET_SECONDS = 1200.0


#: runs more expensive than this (:attr:`metaanalysis.evidence.planning.PlannedRun.cost`) are left to
#: ``mcatlas rerun``; by default none: the time budget alone bounds the work (tests set a limit)
DEFAULT_MAX_COST = math.inf


@dataclass
class RerunReport:
    """What :func:`rerun_missing` did."""

    computed: list[str] = field(default_factory=list)  # "paper/setup (variant)"
    skipped: list[str] = field(default_factory=list)  # over the time budget (or max_cost)
    seconds: float = 0.0

    def summary(self) -> str:
        text = f"reran {len(self.computed)} missing run(s) in {self.seconds:.0f} s"
        if self.skipped:
            text += (f"; {len(self.skipped)} left for `mcatlas rerun --all` (over the time budget; "
                     "`mcatlas report --budget SECONDS` raises it)")
        return text


def rerun_missing(
    eng: Any,
    papers: Sequence[Any],
    defaults: Mapping[str, Any] | None = None,
    budget_seconds: float = DEFAULT_BUDGET_SECONDS,
    max_cost: float = DEFAULT_MAX_COST,
    progress: Callable[[str, int, int], None] | None = None,
) -> RerunReport:
    """Run the papers' missing setup runs, cheapest first, until ``budget_seconds`` have passed
    (checked before each run); runs costlier than ``max_cost`` are skipped. ``progress(label, t,
    T)`` is called as iterations complete (``t = 0`` when a run starts)."""
    todo = missing_runs(eng, plan(list(papers), defaults=defaults))
    report = RerunReport()
    t0 = time.perf_counter()
    for p in todo:
        label = f"{p.paper}/{p.setup} ({p.variant})"
        if p.cost > max_cost or time.perf_counter() - t0 >= budget_seconds:
            report.skipped.append(label)
            continue
        cb = (lambda planned, t, T, _l=label: progress(_l, t, T)) if progress is not None else None
        rerun(eng, [p], progress=cb)
        report.computed.append(label)
    report.seconds = time.perf_counter() - t0
    return report


__all__ = ["DEFAULT_BUDGET_SECONDS", "DEFAULT_MAX_COST", "RerunProgress", "RerunReport", "RunOutcome",
           "STATUSES", "rerun", "rerun_missing"]
