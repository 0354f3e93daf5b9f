"""Hooks between the atlas and the evidence store (``metaanalysis.evidence`` and
``metaanalysis.rerun``, issue 4).

* :func:`load_evidence` reads every stored run linked to a current setup of the given papers into
  a :class:`metaanalysis.synthesis.Evidence`: verdicts (with the policy each run used),
  per-iteration aggregates as trajectories, the forest plot's per-setup effect (computed from the
  stored per-seed frame) and provenance. Every row keeps its ``config_hash``: several (paper,
  setup, variant) links can name the same configuration (one run), and the synthesis counts a
  run once (:func:`metaanalysis.synthesis.unique_runs`).
* :func:`rerun_missing` runs the setups whose configuration is not stored yet, cheapest first,
  within a time budget, with a progress callback; what does not fit in the budget is reported as
  skipped (``mcatlas rerun --all`` does it all). The default budget covers every setup of the
  shipped database from an empty store with room to spare (the runs took about five minutes on
  2 cores, 2026-11-30, most of it the neural ``lm`` and ``vae`` setups), so the first ``mcatlas
  report`` builds the complete atlas; the budget is there for databases that grow, and
  ``mcatlas report --budget SECONDS`` sets it.

Both degrade to "no evidence" when the evidence modules are not importable (an older checkout):
the atlas then shows annotations only and says so.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass, field
from typing import Any, Callable, Mapping, Sequence

#: time budget of :func:`rerun_missing` in seconds (checked before starting each run)
DEFAULT_BUDGET_SECONDS = 1200.0
#: runs more expensive than this (:attr:`metaanalysis.rerun.PlannedRun.cost`) are left to
#: ``mcatlas rerun``; by default none: the time budget alone bounds the work (tests set a limit)
DEFAULT_MAX_COST = math.inf


def _evidence_modules() -> tuple[Any, Any] | None:
    try:
        from metaanalysis import evidence, rerun
    except ImportError:
        return None
    return evidence, rerun


def load_evidence(eng: Any, papers: Sequence[Any]) -> Any:
    """The stored evidence of the papers' current setups (empty when there is none)."""
    import pandas as pd

    from metaanalysis.synthesis import Evidence, log_risk_ratio

    mods = _evidence_modules()
    if mods is None or eng is None:
        return Evidence.empty()
    ev, rr = mods
    # a sweep setup (sweep_n) stands for one run per n, linked as NAME@n=N (metaanalysis.rerun)
    current = {(p.key, name) for p in papers for s in p.setups for name, _ in rr.setup_runs(s)}
    runs = ev.runs_frame(eng)
    runs = runs[[(p, s) in current for p, s in zip(runs["paper"], runs["setup"])]].reset_index(drop=True)
    if runs.empty:
        return Evidence.empty()
    ident = runs[["paper", "setup", "variant", "policy", "config_hash"]]
    all_verdicts = ev.verdicts(eng)
    verdicts = all_verdicts.merge(ident, on=["paper", "setup", "variant", "config_hash"], how="inner")
    # a complete sweep's scaling-law-change row is under the setup's own name and is no run of
    # its own: it takes the policy of its runs
    base = [rr.split_setup_name(s) for s in runs["setup"]]
    swept = runs.assign(setup=[b for b, n in base])[[n is not None for b, n in base]]
    swept = swept[["paper", "setup", "variant", "policy"]].drop_duplicates(["paper", "setup", "variant"])
    sweep_rows = all_verdicts.merge(swept, on=["paper", "setup", "variant"], how="inner")
    if not sweep_rows.empty:
        verdicts = pd.concat([verdicts, sweep_rows], ignore_index=True)
    trajectories, effects, run_rows = [], [], []
    frames_cache: dict[str, Any] = {}
    for r in runs.itertuples(index=False):
        key = {"paper": r.paper, "setup": r.setup, "variant": r.variant, "policy": r.policy,
               "config_hash": r.config_hash}
        agg = ev.aggregates(eng, r.config_hash).rename(columns={"n": "seeds"})
        trajectories.append(agg.assign(**key))
        if r.config_hash not in frames_cache:
            frames_cache[r.config_hash] = ev.load_frame(eng, r.config_hash)
        frame = frames_cache[r.config_hash]
        if frame is not None:
            effects.append({**key, **log_risk_ratio(frame).as_dict()})
        run_rows.append({**key, "run_id": r.config_hash, "simulator": r.simulator, "seeds": r.seeds,
                         "iterations": r.iterations, "provenance": ev.run_provenance(eng, r.config_hash) or {}})
    return Evidence(
        verdicts=verdicts,
        trajectories=pd.concat(trajectories, ignore_index=True) if trajectories else None,
        effects=effects or None,
        runs=run_rows,
    )


@dataclass
class RerunReport:
    """What :func:`rerun_missing` did."""

    computed: list[str] = field(default_factory=list)  # "paper/setup (variant)"
    skipped: list[str] = field(default_factory=list)  # over the time budget (or max_cost)
    available: bool = True  # False: the rerun API is not importable
    seconds: float = 0.0

    def summary(self) -> str:
        if not self.available:
            return "rerun: the evidence API is not available; the atlas shows stored evidence only"
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
    mods = _evidence_modules()
    if mods is None or eng is None:
        return RerunReport(available=False)
    rr = mods[1]
    todo = rr.missing_runs(eng, list(papers), defaults=defaults)
    report = RerunReport()
    t0 = time.perf_counter()
    for p in todo:
        label = f"{p.paper}/{p.setup} ({p.variant})"
        if p.cost > max_cost or time.perf_counter() - t0 >= budget_seconds:
            report.skipped.append(label)
            continue
        cb = (lambda planned, t, T, _l=label: progress(_l, t, T)) if progress is not None else None
        rr.rerun(eng, list(papers), planned=[p], progress=cb)
        report.computed.append(label)
    report.seconds = time.perf_counter() - t0
    return report


__all__ = ["DEFAULT_BUDGET_SECONDS", "DEFAULT_MAX_COST", "RerunReport", "load_evidence", "rerun_missing"]
