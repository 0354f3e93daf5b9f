"""Reading evidence: runs, verdicts, aggregates, frames and profiles of current links.

Every query follows *current* links only (:mod:`metaanalysis.evidence.links`): a link whose
configuration no longer matches its setup as written now is stale and shown nowhere as evidence
until rerun; ``runs_frame(include_stale=True)`` and ``mcatlas runs`` list it with its state.
"""

from __future__ import annotations

import io
from typing import TYPE_CHECKING, Any, Mapping

from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from simulators.errors import UserError
from simulators.vocabulary import VARIANTS

from .links import SweepLinks, link_states, override_states, sweep_links
from .tables import AggregateRow, FrameRow, OverrideLinkRow, RunLinkRow, RunRow, VerdictRow, has_evidence
from .work import AGGREGATE_COLUMNS, horizon_of
from .write import _num

if TYPE_CHECKING:
    import pandas as pd

RUNS_COLUMNS: tuple[str, ...] = (
    "paper", "setup", "variant", "override", "config_hash", "simulator", "policy", "real_fraction",
    "seeds", "iterations", "device", "wall_time", "finished", "mcatlas_version", "origin", "sweep",
    "status",
)


def runs_frame(
    eng: Engine,
    paper: str | None = None,
    sweep: str | None = None,
    *,
    include_stale: bool = False,
    overrides: bool = False,
    defaults: Mapping[str, Any] | None = None,
) -> "pd.DataFrame":
    """Stored runs: one row per *current* (paper, setup, variant) link, plus unlinked (sweep)
    runs when no ``paper`` filter is given. Columns :data:`RUNS_COLUMNS`; ``status`` is the
    link's state (:data:`LINK_STATES`, ``""`` for an unlinked run). ``include_stale`` keeps the
    stale and orphaned links too, ``overrides`` the exploratory reruns with their ``override``
    label (``mcatlas runs`` lists both with their status)."""
    import pandas as pd

    states: dict[tuple[str, ...], tuple[str, str]] = {
        k + ("",): v for k, v in link_states(eng, paper, defaults).items()}
    states.update(override_states(eng, paper, defaults))
    rows: list[dict[str, Any]] = []
    linked: set[str] = set()
    with Session(eng) as s:
        for table in (RunLinkRow, OverrideLinkRow):
            q = select(table, RunRow).join(RunRow, RunRow.config_hash == table.config_hash)
            if paper is not None:
                q = q.where(table.paper_key == paper)
            for ln, run in s.exec(q).all():
                linked.add(run.config_hash)
                override = getattr(ln, "override", "")
                state = states.get((ln.paper_key, ln.setup, ln.variant, override), (run.config_hash, "stale"))[1]
                if (state == "current" or include_stale) and (overrides or not override):
                    rows.append(_run_record(run, ln.paper_key, ln.setup, ln.variant, override, state))
        if paper is None:
            q2 = select(RunRow)
            if sweep is not None:
                q2 = q2.where(RunRow.sweep == sweep)
            for run in s.exec(q2).all():
                if run.config_hash not in linked:
                    rows.append(_run_record(run, "", "", "", "", ""))
    frame = pd.DataFrame(rows, columns=list(RUNS_COLUMNS))
    if sweep is not None:
        frame = frame[frame["sweep"] == sweep]
    order = {v: i for i, v in enumerate(VARIANTS)}
    return (frame.assign(_v=frame["variant"].map(order))
            .sort_values(["paper", "setup", "_v", "override", "finished"], kind="stable")
            .drop(columns="_v").reset_index(drop=True))


def _run_record(run: RunRow, paper: str, setup: str, variant: str, override: str, status: str) -> dict[str, Any]:
    return {
        "paper": paper, "setup": setup, "variant": variant, "override": override,
        "config_hash": run.config_hash, "simulator": run.simulator, "policy": run.policy,
        "real_fraction": run.real_fraction, "seeds": run.seeds, "iterations": run.iterations,
        "device": run.device, "wall_time": run.wall_time, "finished": run.finished,
        "mcatlas_version": run.mcatlas_version, "origin": run.origin, "sweep": run.sweep or "",
        "status": status,
    }


#: the definition measured across a sweep setup's runs, not within one run
SCALING_DEFINITION = "scaling-law-change"


#: metrics tried, in order, for the power-law fit of a sweep: the first one every run reports.
#: ``kl_to_truth`` (excess risk, >= 0) where the family reports it (discrete, gaussian, gmm, ...):
#: density models' ``population_risk`` is a cross-entropy that contains the truth's entropy and
#: can be <= 0, so it is not a power law in n; otherwise ``population_risk`` (linear regression's
#: test error, which is noise + excess and is compared with the same fit on real data).
SCALING_METRICS: tuple[str, ...] = ("kl_to_truth", "population_risk")


def scaling_metric(frame: "pd.DataFrame") -> str:
    """The metric a sweep's power law is fitted on (first of :data:`SCALING_METRICS` present)."""
    present = set(frame["metric"].unique())
    for m in SCALING_METRICS:
        if m in present:
            return m
    return SCALING_METRICS[-1]


def sweep_verdict(eng: Engine, sweep: SweepLinks) -> dict[str, Any]:
    """The ``scaling-law-change`` row (columns :data:`VERDICT_COLUMNS`) of a complete sweep:
    :func:`simulators.verdicts.scaling_profile` on the stored per-seed frames, policy runs
    against their own iteration 1 (the fit on real data only) as the reference."""
    from simulators.verdicts import scaling_profile

    frames = {n: load_frame(eng, h) for n, h in sweep.hashes.items()}
    row = {"paper": sweep.paper, "setup": sweep.setup, "variant": sweep.variant,
           "definition": SCALING_DEFINITION, "iteration": None, "config_hash": sweep.digest}
    if any(f is None for f in frames.values()):
        return {**row, "verdict": "not-measured", "statistic": None, "ci_low": None, "ci_high": None,
                "reason": "a run of the sweep has no stored per-seed frame"}
    metric = scaling_metric(next(iter(frames.values())))
    try:
        v = scaling_profile(frames, metric=metric).verdict  # type: ignore[arg-type]
    except UserError as exc:
        return {**row, "verdict": "not-measured", "statistic": None, "ci_low": None, "ci_high": None,
                "reason": str(exc)}
    return {**row, "verdict": v.verdict, "statistic": _num(v.statistic), "ci_low": _num(v.ci_low),
            "ci_high": _num(v.ci_high), "reason": f"{metric}: {v.reason}"}


VERDICT_COLUMNS: tuple[str, ...] = (
    "paper", "setup", "variant", "definition", "verdict", "statistic", "ci_low", "ci_high",
    "iteration", "horizon", "stability", "seeds_needed", "iterations_needed", "reason", "config_hash",
    "override",
)


def verdicts(
    eng: Engine,
    paper: str | None = None,
    *,
    include_stale: bool = False,
    overrides: bool = False,
    defaults: Mapping[str, Any] | None = None,
) -> "pd.DataFrame":
    """Every currently linked run's verdicts: one row per (paper, setup, variant, definition).

    Columns :data:`VERDICT_COLUMNS`; ``variant`` one of :data:`VARIANTS`, each read at its
    horizon (:func:`metaanalysis.evidence.work.horizon_of`: the long run for ``published``, the
    run's length otherwise); numbers are floats (NaN for NULL, +-inf kept). Stale and orphaned
    links (see :func:`link_states`) are left out unless ``include_stale``. ``overrides`` adds
    the current exploratory reruns (``mcatlas rerun --seeds S``), with their ``override`` label
    (``""`` for the setup as annotated).

    Sweep setups (``sweep_n``): each run is a row set of its own under ``NAME@n=N`` (where
    ``scaling-law-change`` is ``not-measured``: one run has one n), and each (paper, setup,
    variant) whose runs at every n are current adds ONE ``scaling-law-change`` row under the
    setup's own name (:func:`sweep_verdict`; metric :data:`SCALING_METRICS`; its
    ``config_hash`` is :attr:`SweepLinks.digest`, ``iteration`` empty).
    """
    import numpy as np
    import pandas as pd

    if not has_evidence(eng):
        return pd.DataFrame(columns=list(VERDICT_COLUMNS))
    states = link_states(eng, paper, defaults)
    current = {k: h for k, (h, state) in states.items() if state == "current"}
    if not include_stale:
        keep = {k + ("",): h for k, h in current.items()}
    else:
        keep = {k + ("",): h for k, (h, _) in states.items()}
    tables: list[Any] = [RunLinkRow]
    if overrides:
        tables.append(OverrideLinkRow)
        keep.update({k: h for k, (h, state) in override_states(eng, paper, defaults).items()
                     if include_stale or state == "current"})
    rows = []
    with Session(eng) as s:
        for table in tables:
            q = (select(table, VerdictRow, RunRow.iterations)
                 .join(VerdictRow, VerdictRow.config_hash == table.config_hash)
                 .join(RunRow, RunRow.config_hash == table.config_hash))
            if paper is not None:
                q = q.where(table.paper_key == paper)
            for ln, v, iterations in s.exec(q.order_by(VerdictRow.position)).all():
                override = getattr(ln, "override", "")
                if keep.get((ln.paper_key, ln.setup, ln.variant, override)) != v.config_hash:
                    continue
                if v.horizon != horizon_of(ln.variant, iterations):
                    continue
                rows.append({
                    "paper": ln.paper_key, "setup": ln.setup, "variant": ln.variant,
                    "definition": v.definition, "verdict": v.verdict, "statistic": v.statistic,
                    "ci_low": v.ci_low, "ci_high": v.ci_high, "iteration": v.iteration,
                    "horizon": v.horizon, "stability": v.stability, "seeds_needed": v.seeds_needed,
                    "iterations_needed": v.iterations_needed, "reason": v.reason,
                    "config_hash": v.config_hash, "override": override,
                })
    rows += [sweep_verdict(eng, sw) for sw in sweep_links(eng, paper, defaults, current)]
    frame = pd.DataFrame(rows, columns=list(VERDICT_COLUMNS))
    frame["override"] = frame["override"].fillna("")
    order = {v: i for i, v in enumerate(VARIANTS)}
    frame = (frame.assign(_v=frame["variant"].map(order))
             .sort_values(["paper", "setup", "_v", "override"], kind="stable")
             .drop(columns="_v").reset_index(drop=True))
    for col in ("statistic", "ci_low", "ci_high", "stability"):
        frame[col] = frame[col].astype(np.float64)
    for col in ("iteration", "horizon", "seeds_needed", "iterations_needed"):
        frame[col] = frame[col].astype("Int64")
    return frame


def aggregates(eng: Engine, digest: str, metric: str | None = None) -> "pd.DataFrame":
    """The per-iteration aggregates of one run (columns :data:`AGGREGATE_COLUMNS`)."""
    import numpy as np
    import pandas as pd

    with Session(eng) as s:
        q = select(AggregateRow).where(AggregateRow.config_hash == digest)
        if metric is not None:
            q = q.where(AggregateRow.metric == metric)
        rows = [r.model_dump() for r in s.exec(q.order_by(AggregateRow.metric, AggregateRow.iteration)).all()]
    frame = pd.DataFrame(rows, columns=["config_hash", *AGGREGATE_COLUMNS])
    for col in ("mean", "median", "ci_low", "ci_high"):
        frame[col] = frame[col].astype(np.float64)
    return frame.drop(columns="config_hash")


def trajectories(eng: Engine, paper: str, metric: str | None = None) -> "pd.DataFrame":
    """Aggregates of every currently linked run of a paper, with paper, setup and variant
    columns (stale links left out, see :func:`link_states`)."""
    import pandas as pd

    parts = []
    runs = runs_frame(eng, paper=paper)
    for r in runs.itertuples(index=False):
        a = aggregates(eng, r.config_hash, metric)
        a.insert(0, "variant", r.variant)
        a.insert(0, "setup", r.setup)
        a.insert(0, "paper", r.paper)
        parts.append(a)
    if not parts:
        return pd.DataFrame(columns=["paper", "setup", "variant", *AGGREGATE_COLUMNS])
    return pd.concat(parts, ignore_index=True)


def run_provenance(eng: Engine, digest: str) -> dict[str, Any] | None:
    """The provenance dict of a stored run, or None."""
    with Session(eng) as s:
        run = s.get(RunRow, digest)
        return dict(run.provenance) if run is not None else None


def load_frame(eng: Engine, digest: str) -> "pd.DataFrame | None":
    """The stored per-seed tidy frame of a run, or None."""
    import pandas as pd

    with Session(eng) as s:
        row = s.get(FrameRow, digest)
        if row is None:
            return None
        return pd.read_parquet(io.BytesIO(row.data))


def load_profile(eng: Engine, digest: str, horizon: int | None = None) -> Any:
    """The stored :class:`simulators.verdicts.Profile` of a run at ``horizon`` (default: the
    long run, ``Thresholds.horizon``), or None when the run (or that horizon) is not stored."""
    from simulators.verdicts import Profile, Thresholds, Verdict
    from simulators.verdicts.results import decode

    horizon = Thresholds().horizon if horizon is None else int(horizon)
    with Session(eng) as s:
        run = s.get(RunRow, digest)
        if run is None:
            return None
        rows = s.exec(select(VerdictRow).where(VerdictRow.config_hash == digest, VerdictRow.horizon == horizon)
                      .order_by(VerdictRow.position)).all()
        if not rows:
            return None
        vs = tuple(
            Verdict(definition=r.definition, verdict=r.verdict, statistic=decode(r.statistic),
                    ci_low=decode(r.ci_low), ci_high=decode(r.ci_high), iteration=r.iteration,
                    reason=r.reason, statistic_name=r.statistic_name, level=decode(r.level),
                    stability=decode(r.stability), seeds_needed=r.seeds_needed,
                    iterations_needed=r.iterations_needed)
            for r in rows
        )
        return Profile(verdicts=vs, thresholds=Thresholds(horizon=horizon), seeds=run.seeds,
                       iterations=run.iterations)


__all__ = [
    "RUNS_COLUMNS", "SCALING_DEFINITION", "SCALING_METRICS", "VERDICT_COLUMNS", "aggregates",
    "load_frame", "load_profile", "run_provenance", "runs_frame", "scaling_metric", "sweep_verdict",
    "trajectories", "verdicts",
]
