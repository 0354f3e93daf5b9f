"""Re-executed evidence in the store: runs, per-iteration aggregates, profiles, and queries.

Tables (sqlmodel, in the same metadata and database as the annotation index of
:mod:`metaanalysis.store`; :func:`metaanalysis.store.sync` never touches them):

``evidence_run``        one row per *configuration*, keyed by its hash (:func:`config_hash`):
                        simulator, policy, real fraction, seed count, iterations, device, the
                        configuration as JSON, the code version, provenance
                        (:mod:`metaanalysis.provenance`), timestamps, wall time, and its origin
                        (``setup`` for reruns of paper setups, ``sweep`` for sweep grids, with the
                        sweep's name).
``evidence_link``       (paper, setup, variant) -> run hash; ``variant`` is ``published`` or
                        ``realistic``. A link, not a column of the run, because one configuration
                        can stand for several setups (two papers with the same setup, or a setup
                        whose realistic variant equals its published one): it is run and stored
                        once. Re-running a changed setup moves its link to the new hash; the old
                        run stays in the store (history), but queries follow links only.
``evidence_aggregate``  per run, iteration and metric: ``n`` (seeds with a value, i.e. not NaN),
                        ``n_inf`` (seeds whose value is +-inf), ``mean`` (+inf if any seed is
                        +inf, -inf if any is -inf, NULL if both), ``median`` (over the seeds with
                        a value; inf sorts as a number), ``ci_low``/``ci_high`` (a 95% normal-
                        approximation interval of the mean, mean +- 1.96 sd/sqrt(n), over the
                        seeds; NULL when n < 2 or any value is infinite: an interval around an
                        infinite mean means nothing).
``evidence_profile``    per run and definition: the verdict of
                        :func:`simulators.verdicts.profile` with its statistic, CI, the iteration
                        reached and the reason (default thresholds).
``evidence_frame``      per run: the full tidy per-seed frame (``iteration, seed, metric,
                        value``) as Parquet bytes, so that analyses that need per-seed values
                        (first hitting times, :mod:`metaanalysis.absorption`) or a profile with
                        other thresholds can be made without rerunning.

Atomicity: :func:`store_result` writes a run, its aggregates, profile, frame and links in ONE
transaction (``BEGIN IMMEDIATE`` on SQLite, :func:`metaanalysis.store.write_session`): a run
is visible only when complete, and a process killed mid-write leaves nothing. Inside the
transaction the existence of the run is checked again, so two processes that computed the same
configuration at once do not collide: the second one only adds its links ("exists").

The unit of work: :func:`compute` (a configuration dict in, a picklable :class:`RunResult` out:
frame, aggregates, profile, provenance). Reruns, and sweeps in all three executors, call it; only
the parent process writes to the store.

Queries for the matrix and the atlas: :func:`runs_frame`, :func:`verdicts`,
:func:`evidence_cells`, :func:`aggregates`, :func:`run_provenance`, :func:`load_frame`,
:func:`contradicted_claims`. They follow *current* links only: a link whose hash differs from
the hash its setup has now (the setup or the realistic defaults were edited, or the simulators
source changed) is stale and shown nowhere as evidence until rerun (:func:`link_states`;
``runs_frame(include_stale=True)`` and ``mcatlas runs`` list it as "stale: rerun").
"""

from __future__ import annotations

import hashlib
import io
import json
import math
import os
import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Callable, Iterable, Mapping, Optional

from sqlalchemy import JSON, Column, LargeBinary, delete, insert, update
from sqlalchemy.engine import Engine
from sqlmodel import Field, Session, SQLModel, select

from simulators.errors import UserError
from simulators.summary import SUMMARY_COLUMNS
from simulators.vocabulary import DEFINITIONS

from . import provenance as prov

if TYPE_CHECKING:
    import pandas as pd

#: the two variants of a setup's rerun
VARIANTS: tuple[str, ...] = ("published", "realistic")
#: what a matrix evidence cell can say (besides absent: no setup with a stored run)
CELL_VALUES: tuple[str, ...] = ("collapse", "no-collapse", "mixed", "not-measured")

#: test hook (documented, off by default): when set to a file path, :func:`store_result`
#: creates that file *inside* the open write transaction and then sleeps, so a test can SIGKILL
#: the process mid-transaction and check that nothing of the run became visible.
PAUSE_ENV = "MCATLAS_TEST_PAUSE_IN_WRITE"


# -- tables --------------------------------------------------------------------------------


class RunRow(SQLModel, table=True):
    __tablename__ = "evidence_run"

    config_hash: str = Field(primary_key=True)
    simulator: str = Field(index=True)
    policy: str
    real_fraction: Optional[float] = None
    seeds: int
    iterations: int
    device: str
    config: dict[str, Any] = Field(sa_column=Column(JSON, nullable=False))
    code_version: str
    mcatlas_version: str
    provenance: dict[str, Any] = Field(sa_column=Column(JSON, nullable=False))
    started: str
    finished: str
    wall_time: float
    origin: str = "setup"
    sweep: Optional[str] = Field(default=None, index=True)
    stored: str = ""


class RunLinkRow(SQLModel, table=True):
    __tablename__ = "evidence_link"

    paper_key: str = Field(primary_key=True)
    setup: str = Field(primary_key=True)
    variant: str = Field(primary_key=True)
    config_hash: str = Field(foreign_key="evidence_run.config_hash", index=True)
    linked: str = ""


class AggregateRow(SQLModel, table=True):
    __tablename__ = "evidence_aggregate"

    config_hash: str = Field(foreign_key="evidence_run.config_hash", primary_key=True)
    metric: str = Field(primary_key=True)
    iteration: int = Field(primary_key=True)
    n: int
    n_inf: int
    mean: Optional[float] = None
    median: Optional[float] = None
    ci_low: Optional[float] = None
    ci_high: Optional[float] = None


class ProfileRow(SQLModel, table=True):
    __tablename__ = "evidence_profile"

    config_hash: str = Field(foreign_key="evidence_run.config_hash", primary_key=True)
    definition: str = Field(primary_key=True)
    position: int = 0
    verdict: str
    statistic: Optional[float] = None
    ci_low: Optional[float] = None
    ci_high: Optional[float] = None
    iteration: Optional[int] = None
    reason: str = ""
    statistic_name: str = ""


class FrameRow(SQLModel, table=True):
    __tablename__ = "evidence_frame"

    config_hash: str = Field(foreign_key="evidence_run.config_hash", primary_key=True)
    format: str = "parquet"
    data: bytes = Field(sa_column=Column(LargeBinary, nullable=False))


#: children of a run (deleted before it / replaced under --force)
RUN_CHILDREN = (AggregateRow, ProfileRow, FrameRow)
EVIDENCE_TABLES = (RunRow, RunLinkRow, AggregateRow, ProfileRow, FrameRow)


def ensure_tables(eng: Engine) -> None:
    """Create every missing table (annotation and evidence) inside one write transaction.

    Two processes starting on a fresh SQLite file at once would otherwise race between "does the
    table exist" and "CREATE TABLE"; with the write lock taken first, the second one sees the
    tables and creates nothing.
    """
    from sqlalchemy import inspect

    from . import tables  # noqa: F401 - registers the annotation tables in the same metadata

    names = {t.__tablename__ for t in (*EVIDENCE_TABLES, *tables.ANNOTATION_TABLES)}
    if names <= set(inspect(eng).get_table_names()):
        return
    with eng.connect() as conn:
        conn = conn.execution_options(sqlite_begin="IMMEDIATE")
        with conn.begin():
            SQLModel.metadata.create_all(conn)


def open_evidence(url: str, root: Any) -> Engine:
    """The engine of ``url`` with every table present and the annotation index current."""
    from .store import engine, ensure_synced

    eng = engine(url)
    ensure_tables(eng)
    ensure_synced(eng, root)
    return eng


# -- configuration hash --------------------------------------------------------------------


def canonical_config(config: Mapping[str, Any]) -> dict[str, Any]:
    """The resolved configuration dict (defaults filled in) of a configuration dict.

    Accepts what :meth:`simulators.runspec.RunSpec.as_dict` returns, or a partial dict with
    ``simulator`` and any other field of the RunSpec. Errors are one-line UserErrors.
    """
    return resolve_config(config).as_dict()


def resolve_config(config: Mapping[str, Any]) -> Any:
    """The resolved :class:`simulators.runspec.RunSpec` of a configuration dict."""
    from simulators.runspec import RunSpec

    return RunSpec.from_mapping(config).resolve()


def config_hash(resolved: Mapping[str, Any]) -> str:
    """SHA-256 of the canonical JSON of ``{"config": resolved, "code": code_version()}``.

    ``resolved`` must be a resolved configuration (:func:`canonical_config`), so that leaving a
    parameter at its default and writing the default out hash alike. The code version is
    :func:`metaanalysis.provenance.code_version` (the mcatlas version, the evidence format and a
    digest of the simulators source).
    """
    text = json.dumps(
        {"config": dict(resolved), "code": prov.code_version()}, sort_keys=True, separators=(",", ":")
    )
    return hashlib.sha256(text.encode()).hexdigest()


_config_hash = config_hash  # compute's keyword ``config_hash`` shadows the function


# -- the unit of work ----------------------------------------------------------------------


@dataclass
class RunResult:
    """Everything :func:`compute` produces for one configuration (picklable)."""

    config: dict[str, Any]
    config_hash: str
    frame: Any  # pandas.DataFrame: iteration, seed, metric, value
    aggregates: Any  # pandas.DataFrame: AGGREGATE_COLUMNS
    profile: dict[str, Any]  # simulators.verdicts.Profile.to_dict()
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
    passes both). A worker whose own :func:`metaanalysis.provenance.code_version` differs
    refuses before running (:class:`CodeVersionMismatch`, one line), and so does one whose hash
    of the configuration differs from the planned one; the result carries the planned hash, so
    the parent's skip check and the stored run use the same key.
    """
    from simulators.engine import execute
    from simulators.summary import summarize
    from simulators.verdicts import profile

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
    prof = profile(frame)
    aggs = summarize(frame)
    wall = time.perf_counter() - t0
    finished = prov.utc_now()
    frame.attrs.clear()
    return RunResult(
        config=as_dict,
        config_hash=digest,
        frame=frame,
        aggregates=aggs,
        profile=prof.to_dict(),
        provenance=prov.collect(as_dict, started=started, finished=finished, wall_time=wall),
    )


def platform_node() -> str:
    """This host's name (for error messages that name a worker)."""
    import platform

    return platform.node() or "?"


# -- writing -------------------------------------------------------------------------------


def _num(x: Any) -> float | None:
    """A float for a column: NaN/None -> NULL, +-inf kept."""
    if x is None:
        return None
    x = float(x)
    return None if math.isnan(x) else x


def _frame_bytes(frame: "pd.DataFrame") -> bytes:
    buf = io.BytesIO()
    f = frame[["iteration", "seed", "metric", "value"]].copy()
    f.attrs = {}
    f.to_parquet(buf, index=False)
    return buf.getvalue()


def run_exists(eng: Engine, digest: str) -> bool:
    """Whether a complete run with this configuration hash is stored."""
    with Session(eng) as s:
        return s.get(RunRow, digest) is not None


def stored_hashes(eng: Engine, digests: Iterable[str] | None = None) -> set[str]:
    """The stored run hashes (all, or those among ``digests``)."""
    with Session(eng) as s:
        q = select(RunRow.config_hash)
        if digests is not None:
            wanted = list(digests)
            if not wanted:
                return set()
            q = q.where(RunRow.config_hash.in_(wanted))  # type: ignore[attr-defined]
        return set(s.exec(q).all())


def link(eng_or_session: Any, paper: str, setup: str, variant: str, digest: str) -> None:
    """Point (paper, setup, variant) at a stored run (inside a session, or its own one)."""
    def _do(s: Session) -> None:
        row = s.get(RunLinkRow, (paper, setup, variant))
        if row is None:
            s.add(RunLinkRow(paper_key=paper, setup=setup, variant=variant, config_hash=digest,
                             linked=prov.utc_now()))
        elif row.config_hash != digest:
            row.config_hash = digest
            row.linked = prov.utc_now()
            s.add(row)

    if isinstance(eng_or_session, Session):
        _do(eng_or_session)
    else:
        from .store import write_session

        with write_session(eng_or_session) as s:
            _do(s)


def store_result(
    eng: Engine,
    result: RunResult,
    *,
    links: Iterable[tuple[str, str, str]] = (),
    origin: str = "setup",
    sweep: str | None = None,
    force: bool = False,
) -> str:
    """Write one run and everything about it in ONE transaction; returns what happened.

    ``"stored"`` (new), ``"replaced"`` (``force`` and it existed: its aggregates, profile and
    frame are replaced, the run row updated, atomically), or ``"exists"`` (another process
    stored the same configuration meanwhile and not ``force``: only the links are added).
    ``links``: (paper, setup, variant) triples to point at this run.
    """
    from .store import write_session

    digest = result.config_hash
    p = result.provenance
    c = result.config
    now = prov.utc_now()
    run = RunRow(
        config_hash=digest,
        simulator=c["simulator"],
        policy=c["policy"],
        real_fraction=c.get("real_fraction"),
        seeds=len(c["seeds"]),
        iterations=int(c["iterations"]),
        device=c["device"],
        config=c,
        code_version=p.get("code_version", prov.code_version()),
        mcatlas_version=p.get("mcatlas_version", prov.mcatlas_version()),
        provenance=p,
        started=p.get("started", ""),
        finished=p.get("finished", ""),
        wall_time=float(p.get("wall_time", math.nan)),
        origin=origin,
        sweep=sweep,
        stored=now,
    )
    aggs = [
        {"config_hash": digest, "iteration": int(r.iteration), "metric": str(r.metric), "n": int(r.n),
         "n_inf": int(r.n_inf), "mean": _num(r.mean), "median": _num(r.median),
         "ci_low": _num(r.ci_low), "ci_high": _num(r.ci_high)}
        for r in result.aggregates.itertuples(index=False)
    ]
    profile_rows = [
        {"config_hash": digest, "definition": v["definition"], "position": i, "verdict": v["verdict"],
         "statistic": _num(_decode(v.get("statistic"))), "ci_low": _num(_decode(v.get("ci_low"))),
         "ci_high": _num(_decode(v.get("ci_high"))), "iteration": v.get("iteration"),
         "reason": v.get("reason", ""), "statistic_name": v.get("statistic_name", "")}
        for i, v in enumerate(result.profile["verdicts"])
    ]
    blob = _frame_bytes(result.frame)
    with write_session(eng) as s:
        existing = s.get(RunRow, digest)
        if existing is not None and not force:
            status = "exists"
        else:
            status = "replaced" if existing is not None else "stored"
            if existing is not None:
                for child in RUN_CHILDREN:
                    s.exec(delete(child).where(child.config_hash == digest))  # type: ignore[call-overload]
                values = run.model_dump()
                values.pop("config_hash")
                s.exec(update(RunRow).where(RunRow.config_hash == digest).values(**values))  # type: ignore[call-overload]
            else:
                s.add(run)
            s.flush()
            if aggs:
                s.connection().execute(insert(AggregateRow.__table__), aggs)  # type: ignore[attr-defined]
            s.connection().execute(insert(ProfileRow.__table__), profile_rows)  # type: ignore[attr-defined]
            s.add(FrameRow(config_hash=digest, data=blob))
        for paper, setup, variant in links:
            link(s, paper, setup, variant, digest)
        s.flush()
        _maybe_pause()
    return status


def _decode(x: Any) -> float:
    if x is None:
        return math.nan
    return float(x)


def _maybe_pause() -> None:
    marker = os.environ.get(PAUSE_ENV)
    if marker:
        with open(marker, "w", encoding="utf-8") as fh:
            fh.write(str(os.getpid()))
        time.sleep(60)


# -- queries ----------------------------------------------------------------------------------
#
# Stale links. A link (paper, setup, variant) -> run is *current* when the setup as it is written
# now (the annotation index, and the realistic defaults of the annotations' realism.yaml)
# resolves, with the stored run's seeds, to the link's configuration hash under the current code
# version (:func:`metaanalysis.rerun.setup_config` + :func:`config_hash`; no run is executed).
# Otherwise it is *stale* (the setup's fields, the realistic defaults or the simulators source
# changed since the run: ``mcatlas rerun`` makes it current again), or *orphaned* (the setup is
# no longer in the annotations). The run's own seeds are used because ``mcatlas rerun --seeds S``
# is a documented precision override: a run with other seeds answers the same question. The
# matrix, ``show``, the atlas and every query below use current links only; ``runs_frame`` and
# ``mcatlas runs`` can list the others with their status.
#
# Sweep setups (``sweep_n``, :mod:`metaanalysis.rerun`): their runs are linked as ``NAME@n=N``
# and checked like any link with ``params.n = N``; such a link whose N is no longer in the
# setup's ``sweep_n``, or a plain ``NAME`` link of a setup that now has a ``sweep_n``, is
# orphaned (no rerun will make it current).

#: the states of a link (see above); unlinked (sweep) runs have the status ""
LINK_STATES: tuple[str, ...] = ("current", "stale", "orphaned")
#: what the listings say about a link that is not current
STATE_NOTES: dict[str, str] = {
    "stale": "stale: rerun",
    "orphaned": "orphaned: setup no longer in the annotations",
}


def index_defaults(eng: Engine) -> dict[str, Any]:
    """The realistic defaults of the annotations directory the index was built from.

    The directory is found from the paper files recorded in the index (``ROOT/papers/KEY.yaml``),
    else :func:`metaanalysis.paths.annotations_dir`; its ``realism.yaml`` is read by
    :func:`metaanalysis.rerun.realistic_defaults` (the fallback when it has none)."""
    from pathlib import Path

    from . import rerun as rr
    from .paths import PAPERS_DIR, annotations_dir
    from .store import paper_files_of

    for file in paper_files_of(eng).values():
        if not file:
            continue
        papers_dir = Path(file).parent
        if papers_dir.name == PAPERS_DIR and papers_dir.is_dir():
            return rr.realistic_defaults(papers_dir.parent)
    try:
        return rr.realistic_defaults(annotations_dir())
    except UserError:
        return dict(rr.FALLBACK_DEFAULTS)


def link_states(
    eng: Engine, paper: str | None = None, defaults: Mapping[str, Any] | None = None,
) -> dict[tuple[str, str, str], tuple[str, str]]:
    """``{(paper, setup, variant): (config_hash, state)}`` for every stored link (of one paper,
    or all); ``state`` is one of :data:`LINK_STATES` (see the comment above). ``defaults``: the
    realistic defaults to plan with (default :func:`index_defaults`, read once, only when a
    realistic link needs them). Cheap: configurations are resolved and hashed, never run."""
    from . import rerun as rr
    from .tables import SetupRow

    if not has_evidence(eng):
        return {}
    with Session(eng) as s:
        q = select(RunLinkRow, RunRow).join(RunRow, RunRow.config_hash == RunLinkRow.config_hash)
        if paper is not None:
            q = q.where(RunLinkRow.paper_key == paper)
        links = [(ln.paper_key, ln.setup, ln.variant, run.config_hash, list(run.config.get("seeds") or []))
                 for ln, run in s.exec(q).all()]
        if not links:
            return {}
        sq = select(SetupRow)
        if paper is not None:
            sq = sq.where(SetupRow.paper_key == paper)
        setups = {(r.paper_key, r.name): r for r in s.exec(sq).all()}
    planned_defaults = dict(defaults) if defaults is not None else None
    out: dict[tuple[str, str, str], tuple[str, str]] = {}
    for p, name, variant, digest, seeds in links:
        base, n = rr.split_setup_name(name)
        setup = setups.get((p, base))
        sweep = sorted({int(x) for x in (getattr(setup, "sweep_n", None) or [])})
        if setup is None or (n is None and sweep) or (n is not None and n not in sweep):
            # gone, or a sweep setup's plain link, or an n no longer in its sweep_n
            out[(p, name, variant)] = (digest, "orphaned")
            continue
        if variant == "realistic" and planned_defaults is None:
            planned_defaults = index_defaults(eng)
        try:
            raw = rr.setup_config(setup, variant, planned_defaults, n=n)
            raw["seeds"] = seeds or raw["seeds"]
            now = config_hash(canonical_config(raw))
        except UserError:  # the setup no longer resolves (cannot happen for a validated index)
            now = ""
        out[(p, name, variant)] = (digest, "current" if now == digest else "stale")
    return out


def current_links(eng: Engine, paper: str | None = None,
                  defaults: Mapping[str, Any] | None = None) -> dict[tuple[str, str, str], str]:
    """``{(paper, setup, variant): config_hash}`` of the current links only."""
    return {k: h for k, (h, state) in link_states(eng, paper, defaults).items() if state == "current"}


RUNS_COLUMNS: tuple[str, ...] = (
    "paper", "setup", "variant", "config_hash", "simulator", "policy", "real_fraction", "seeds",
    "iterations", "device", "wall_time", "finished", "mcatlas_version", "origin", "sweep", "status",
)


def runs_frame(
    eng: Engine,
    paper: str | None = None,
    sweep: str | None = None,
    *,
    include_stale: bool = False,
    defaults: Mapping[str, Any] | None = None,
) -> "pd.DataFrame":
    """Stored runs: one row per *current* (paper, setup, variant) link, plus unlinked (sweep)
    runs when no ``paper`` filter is given. Columns :data:`RUNS_COLUMNS`; ``status`` is the
    link's state (:data:`LINK_STATES`, ``""`` for an unlinked run). ``include_stale`` keeps the
    stale and orphaned links too (``mcatlas runs`` lists them with their status)."""
    import pandas as pd

    states = link_states(eng, paper, defaults)
    rows: list[dict[str, Any]] = []
    with Session(eng) as s:
        q = select(RunLinkRow, RunRow).join(RunRow, RunRow.config_hash == RunLinkRow.config_hash)
        if paper is not None:
            q = q.where(RunLinkRow.paper_key == paper)
        linked: set[str] = set()
        for ln, run in s.exec(q).all():
            linked.add(run.config_hash)
            state = states.get((ln.paper_key, ln.setup, ln.variant), (run.config_hash, "stale"))[1]
            if state == "current" or include_stale:
                rows.append(_run_record(run, ln.paper_key, ln.setup, ln.variant, state))
        if paper is None:
            q2 = select(RunRow)
            if sweep is not None:
                q2 = q2.where(RunRow.sweep == sweep)
            for run in s.exec(q2).all():
                if run.config_hash not in linked:
                    rows.append(_run_record(run, "", "", "", ""))
    frame = pd.DataFrame(rows, columns=list(RUNS_COLUMNS))
    if sweep is not None:
        frame = frame[frame["sweep"] == sweep]
    return frame.sort_values(["paper", "setup", "variant", "finished"], kind="stable").reset_index(drop=True)


def _run_record(run: RunRow, paper: str, setup: str, variant: str, status: str) -> dict[str, Any]:
    return {
        "paper": paper, "setup": setup, "variant": variant, "config_hash": run.config_hash,
        "simulator": run.simulator, "policy": run.policy, "real_fraction": run.real_fraction,
        "seeds": run.seeds, "iterations": run.iterations, "device": run.device,
        "wall_time": run.wall_time, "finished": run.finished, "mcatlas_version": run.mcatlas_version,
        "origin": run.origin, "sweep": run.sweep or "", "status": status,
    }


#: the definition measured across a sweep setup's runs, not within one run
SCALING_DEFINITION = "scaling-law-change"
#: metrics tried, in order, for the power-law fit of a sweep: the first one every run reports.
#: ``kl_to_truth`` (excess risk, >= 0) where the family reports it (discrete, gaussian, gmm, ...):
#: density models' ``population_risk`` is a cross-entropy that contains the truth's entropy and
#: can be <= 0, so it is not a power law in n; otherwise ``population_risk`` (linear regression's
#: test error, which is noise + excess and is compared with the same fit on real data).
SCALING_METRICS: tuple[str, ...] = ("kl_to_truth", "population_risk")


@dataclass(frozen=True)
class SweepLinks:
    """A sweep setup's complete set of current runs for one variant."""

    paper: str
    setup: str
    variant: str
    hashes: dict[int, str]  # n -> config hash

    @property
    def digest(self) -> str:
        """An identity for the sweep's evidence row: SHA-256 of its runs' hashes in n order
        (not a run's hash: it changes whenever any member run does)."""
        text = "sweep:" + ",".join(f"{n}={h}" for n, h in sorted(self.hashes.items()))
        return hashlib.sha256(text.encode()).hexdigest()


def sweep_links(
    eng: Engine, paper: str | None = None, defaults: Mapping[str, Any] | None = None,
    current: Mapping[tuple[str, str, str], str] | None = None,
) -> list[SweepLinks]:
    """The (paper, sweep setup, variant) whose runs at *every* n of its ``sweep_n`` are stored
    and current (:func:`link_states`); incomplete or partly stale sweeps are left out."""
    from . import rerun as rr
    from .tables import SetupRow

    if not has_evidence(eng):
        return []
    current = current_links(eng, paper, defaults) if current is None else current
    with Session(eng) as s:
        sq = select(SetupRow).where(SetupRow.sweep_n.is_not(None))  # type: ignore[union-attr]
        if paper is not None:
            sq = sq.where(SetupRow.paper_key == paper)
        setups = [(r.paper_key, r.name, sorted({int(n) for n in r.sweep_n})) for r in s.exec(sq).all()
                  if r.sweep_n]
    out = []
    for p, name, ns in setups:
        for variant in VARIANTS:
            hashes = {n: current.get((p, rr.sweep_setup_name(name, n), variant)) for n in ns}
            if all(hashes.values()):
                out.append(SweepLinks(p, name, variant, hashes))  # type: ignore[arg-type]
    return out


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
    "iteration", "reason", "config_hash",
)


def verdicts(
    eng: Engine,
    paper: str | None = None,
    *,
    include_stale: bool = False,
    defaults: Mapping[str, Any] | None = None,
) -> "pd.DataFrame":
    """Every currently linked run's profile: one row per (paper, setup, variant, definition).

    Columns :data:`VERDICT_COLUMNS`; ``variant`` is ``published`` or ``realistic``; numbers are
    floats (NaN for NULL, +-inf kept). Stale and orphaned links (see :func:`link_states`) are
    left out unless ``include_stale``.

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
    current = current_links(eng, paper, defaults)
    keep = None if include_stale else current
    with Session(eng) as s:
        q = select(RunLinkRow, ProfileRow).join(ProfileRow, ProfileRow.config_hash == RunLinkRow.config_hash)
        if paper is not None:
            q = q.where(RunLinkRow.paper_key == paper)
        q = q.order_by(RunLinkRow.paper_key, RunLinkRow.setup, RunLinkRow.variant, ProfileRow.position)
        rows = [
            {"paper": ln.paper_key, "setup": ln.setup, "variant": ln.variant, "definition": p.definition,
             "verdict": p.verdict, "statistic": p.statistic, "ci_low": p.ci_low, "ci_high": p.ci_high,
             "iteration": p.iteration, "reason": p.reason, "config_hash": p.config_hash}
            for ln, p in s.exec(q).all()
            if keep is None or keep.get((ln.paper_key, ln.setup, ln.variant)) == p.config_hash
        ]
    rows += [sweep_verdict(eng, sw) for sw in sweep_links(eng, paper, defaults, current)]
    frame = pd.DataFrame(rows, columns=list(VERDICT_COLUMNS))
    frame = frame.sort_values(["paper", "setup", "variant"], kind="stable").reset_index(drop=True)
    for col in ("statistic", "ci_low", "ci_high"):
        frame[col] = frame[col].astype(np.float64)
    frame["iteration"] = frame["iteration"].astype("Int64")
    return frame


def combine_verdicts(values: Iterable[str]) -> str:
    """One cell from the verdicts of several setups for one definition.

    Measured verdicts (collapse / no-collapse) that all agree give that verdict; disagreeing ones
    give ``mixed``; if no setup measured the definition, ``not-measured``.
    """
    measured = {v for v in values if v in ("collapse", "no-collapse")}
    if not measured:
        return "not-measured"
    return measured.pop() if len(measured) == 1 else "mixed"


def evidence_cells(
    eng: Engine,
    frame: "pd.DataFrame | None" = None,
    *,
    defaults: Mapping[str, Any] | None = None,
) -> dict[tuple[str, str], dict[str, str]]:
    """``{(paper, definition): {"published": v, "realistic": v}}`` over the papers' *current*
    links: setups no longer in the annotations, and links whose configuration no longer matches
    the setup as written now (stale, :func:`link_states`), are left out.

    ``v`` is :func:`combine_verdicts` over the paper's setups that have a current stored run of
    that variant (every setup measures every definition it can, so every setup of the paper
    counts, not only those that reproduce a claim about the definition). A variant key is absent
    when no setup of the paper has one; a (paper, definition) key is absent when neither variant
    has one. A ``frame`` given (rows of :func:`verdicts`) is filtered the same way.
    """
    if not has_evidence(eng):
        return {}
    current = current_links(eng, defaults=defaults)
    current.update({(sw.paper, sw.setup, sw.variant): sw.digest
                    for sw in sweep_links(eng, defaults=defaults, current=current)})
    frame = verdicts(eng, defaults=defaults) if frame is None else frame
    cells: dict[tuple[str, str], dict[str, str]] = {}
    if frame.empty:
        return cells
    keep = [current.get((p, s, v)) == h
            for p, s, v, h in zip(frame["paper"], frame["setup"], frame["variant"], frame["config_hash"])]
    frame = frame[keep]
    for (paper, definition, variant), group in frame.groupby(["paper", "definition", "variant"], sort=False):
        cells.setdefault((paper, definition), {})[variant] = combine_verdicts(group["verdict"])
    return cells


def has_evidence(eng: Engine) -> bool:
    """Whether the evidence tables exist (read-only commands do not create them)."""
    from sqlalchemy import inspect

    return inspect(eng).has_table(RunLinkRow.__tablename__)


def apply_evidence(matrix: Any, cells: Mapping[tuple[str, str], Mapping[str, str]]) -> Any:
    """Add the evidence overlay to a :class:`metaanalysis.matrix.Matrix` (in place; returned).

    Extra columns ``D:published`` and ``D:realistic`` for every definition D
    (:func:`metaanalysis.matrix.evidence_columns`), each ``collapse``, ``no-collapse``,
    ``mixed``, ``not-measured`` or ``""`` (no setup with a stored run of that variant).
    """
    from .matrix import evidence_columns

    cols = evidence_columns()
    matrix.extra_columns = [*[c for c in matrix.extra_columns if c not in cols], *cols]
    for row in matrix.rows:
        for d in DEFINITIONS:
            cell = cells.get((row.key, d), {})
            for variant in VARIANTS:
                row.extra[f"{d}:{variant}"] = cell.get(variant, "")
    return matrix


def evidence_text(eng: Engine, paper: Any) -> str:
    """What ``mcatlas show KEY`` adds: the paper's current stored runs, the claims they
    contradict, and the links that are stale ("stale: rerun") or orphaned."""
    if not has_evidence(eng):
        return "evidence: none stored (mcatlas rerun KEY)"
    states = link_states(eng, paper.key)
    current = {k: h for k, (h, state) in states.items() if state == "current"}
    sweeps = {(sw.setup, sw.variant): sw for sw in sweep_links(eng, paper.key, current=current)}
    current.update({(paper.key, s, v): sw.digest for (s, v), sw in sweeps.items()})
    frame = verdicts(eng, paper.key)
    frame = frame[[current.get((paper.key, s, v)) == h
                   for s, v, h in zip(frame["setup"], frame["variant"], frame["config_hash"])]]
    others = sorted((k, h, state) for k, (h, state) in states.items() if state != "current")
    if frame.empty and not others:
        return "evidence: none stored (mcatlas rerun KEY)"
    lines = ["evidence (re-executed setups):"]
    for (setup, variant), group in frame.groupby(["setup", "variant"], sort=False):
        collapsed = [d for d, v in zip(group["definition"], group["verdict"]) if v == "collapse"]
        sw = sweeps.get((setup, variant))
        what = (f"sweep over n = {', '.join(map(str, sorted(sw.hashes)))}" if sw is not None
                else f"run {group['config_hash'].iloc[0][:12]}")
        lines.append(f"  {setup} ({variant}, {what}): collapse under "
                     + (", ".join(collapsed) or "no definition"))
    if frame.empty:
        lines.append("  none current")
    for (_, setup, variant), digest, state in others:
        why = ("the setup, the realistic defaults or the simulators changed since this run; "
               f"mcatlas rerun {paper.key}" if state == "stale" else "not shown")
        lines.append(f"  {setup} ({variant}, run {digest[:12]}): {STATE_NOTES[state]} ({why})")
    found = contradicted_claims(eng, paper, frame)
    lines.append("claims the rerun contradicts:" + ("" if found else " none"))
    lines += [f"  {c.text()}" for c in found]
    return "\n".join(lines)


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


def load_profile(eng: Engine, digest: str) -> Any:
    """The stored :class:`simulators.verdicts.Profile` of a run (default thresholds), or None."""
    from simulators.verdicts import Profile, Verdict

    with Session(eng) as s:
        run = s.get(RunRow, digest)
        if run is None:
            return None
        rows = s.exec(select(ProfileRow).where(ProfileRow.config_hash == digest).order_by(ProfileRow.position)).all()
        vs = tuple(
            Verdict(definition=r.definition, verdict=r.verdict, statistic=_decode(r.statistic),
                    ci_low=_decode(r.ci_low), ci_high=_decode(r.ci_high), iteration=r.iteration,
                    reason=r.reason, statistic_name=r.statistic_name)
            for r in rows
        )
        return Profile(verdicts=vs, seeds=run.seeds, iterations=run.iterations)


@dataclass(frozen=True)
class Contradiction:
    """A claim whose outcome a setup reproducing it contradicts (as published)."""

    paper: str
    claim: str
    definition: str
    claimed: str
    setup: str
    verdict: str
    config_hash: str

    def text(self) -> str:
        return (f"{self.claim}: claims {self.definition} -> {self.claimed}; setup {self.setup} "
                f"(as published) gives {self.verdict}")


def contradicted_claims(eng: Engine, paper: Any, frame: "pd.DataFrame | None" = None) -> list[Contradiction]:
    """Claims of ``paper`` (a :class:`~metaanalysis.records.Paper`) that the rerun contradicts.

    Rule: for each claim with outcome ``collapse`` or ``no-collapse``, and each setup of the paper
    that lists the claim in ``reproduces`` and has a current stored *published* run (stale links
    are not evidence, :func:`link_states`), the run's verdict on
    the claim's definition is compared with the outcome: the opposite measured verdict is a
    contradiction. ``not-measured`` contradicts nothing; a ``mixed`` claim (the paper reports
    collapse under some conditions and not others) is not contradicted by one run either.
    """
    frame = verdicts(eng, paper.key) if frame is None else frame
    if frame.empty:
        return []
    published = frame[frame["variant"] == "published"]
    lookup = {(r.setup, r.definition): (r.verdict, r.config_hash) for r in published.itertuples(index=False)}
    out = []
    for claim in paper.claims:
        if claim.outcome not in ("collapse", "no-collapse"):
            continue
        opposite = "no-collapse" if claim.outcome == "collapse" else "collapse"
        for setup in paper.setups:
            if claim.id not in setup.reproduces:
                continue
            found = lookup.get((setup.name, claim.definition))
            if found is not None and found[0] == opposite:
                out.append(Contradiction(paper.key, claim.id, claim.definition, claim.outcome,
                                         setup.name, found[0], found[1]))
    return out


__all__ = [
    "AGGREGATE_COLUMNS", "CELL_VALUES", "Contradiction", "RunResult", "VARIANTS",
    "apply_evidence", "evidence_text", "has_evidence", "CodeVersionMismatch", "LINK_STATES",
    "STATE_NOTES", "current_links", "index_defaults", "link_states",
    "aggregates", "canonical_config", "combine_verdicts", "compute", "config_hash",
    "contradicted_claims", "ensure_tables", "evidence_cells", "load_frame", "load_profile",
    "open_evidence", "run_exists", "run_provenance", "runs_frame", "store_result",
    "stored_hashes", "trajectories", "verdicts", "DEFINITIONS", "SCALING_DEFINITION",
    "SCALING_METRICS", "SweepLinks", "scaling_metric", "sweep_links", "sweep_verdict",
]
