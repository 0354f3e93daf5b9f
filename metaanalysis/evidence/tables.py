"""The evidence tables: runs, their links to paper setups, aggregates, profiles and frames.

sqlmodel tables in the same metadata and database as the annotation index
(:mod:`metaanalysis.store`; its sync never touches them):

``evidence_run``        one row per *configuration*, keyed by its hash
                        (:func:`metaanalysis.evidence.planning.config_hash`): simulator, policy,
                        real fraction, seed count, iterations, device, the configuration as
                        JSON, the code version, provenance
                        (:mod:`metaanalysis.evidence.provenance`), timestamps, wall time, and
                        its origin (``setup`` for reruns of paper setups, ``sweep`` for sweep
                        grids, with the sweep's name).
``evidence_link``       (paper, setup, variant) -> run hash: the evidence of the setup as
                        annotated. A link, not a column of the run,
                        because one configuration can stand for several setups (two papers with
                        the same setup, or a setup whose realistic variant equals its published
                        one): it is run and stored once. Re-running a changed setup moves its
                        link to the new hash; the old run stays in the store (history), but
                        queries follow links only.
``evidence_aggregate``  per run, iteration and metric: the summary of
                        :func:`simulators.summary.summarize` (n, n_inf, mean, median, 95% CI).
``evidence_override``   (paper, setup, variant, override) -> run hash: exploratory reruns with
                        an override (``--seeds S``), kept apart from the annotated evidence.
``evidence_verdict``    per run, horizon and definition: the verdict of
                        :func:`simulators.verdicts.profiles` with its statistic, interval and
                        level, the iteration reached, its stability, what would settle it and
                        the reason (default thresholds; the long-run horizon and the run's own
                        length).
``evidence_frame``      per run: the full tidy per-seed frame (``iteration, seed, metric,
                        value``, with the run's catastrophic-risk baseline as ``trivial_risk``
                        rows) as Parquet bytes, so that analyses that need per-seed values
                        (first hitting times, :mod:`metaanalysis.analysis.absorption`) or a
                        profile with other thresholds can be made without rerunning, and give
                        the stored profile again.
"""

from __future__ import annotations

from typing import Any, Optional

from sqlalchemy import JSON, Column, LargeBinary
from sqlalchemy.engine import Engine
from sqlmodel import Field, SQLModel


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


class OverrideLinkRow(SQLModel, table=True):
    """A rerun of a setup with an override (``mcatlas rerun KEY --seeds S``): exploratory, so it
    is kept apart from the annotated setup's evidence and never replaces it."""

    __tablename__ = "evidence_override"

    paper_key: str = Field(primary_key=True)
    setup: str = Field(primary_key=True)
    variant: str = Field(primary_key=True)
    override: str = Field(primary_key=True)
    config_hash: str = Field(foreign_key="evidence_run.config_hash", index=True)
    linked: str = ""


class _OfRun(SQLModel):
    """The key every child row of a run starts with."""

    config_hash: str = Field(foreign_key="evidence_run.config_hash", primary_key=True)


class AggregateRow(_OfRun, table=True):
    __tablename__ = "evidence_aggregate"

    metric: str = Field(primary_key=True)
    iteration: int = Field(primary_key=True)
    n: int
    n_inf: int
    mean: Optional[float] = None
    median: Optional[float] = None
    ci_low: Optional[float] = None
    ci_high: Optional[float] = None


class VerdictRow(_OfRun, table=True):
    """One verdict of a run's collapse profile at one horizon (the question it answers: the
    long run for the published variant, the run's own length for the realistic and control
    ones; :func:`metaanalysis.evidence.planning.horizon_of`)."""

    __tablename__ = "evidence_verdict"

    horizon: int = Field(primary_key=True)
    definition: str = Field(primary_key=True)
    position: int = 0
    verdict: str
    statistic: Optional[float] = None
    ci_low: Optional[float] = None
    ci_high: Optional[float] = None
    level: Optional[float] = None
    iteration: Optional[int] = None
    stability: Optional[float] = None
    seeds_needed: Optional[int] = None
    iterations_needed: Optional[int] = None
    reason: str = ""
    statistic_name: str = ""


class FrameRow(_OfRun, table=True):
    __tablename__ = "evidence_frame"

    format: str = "parquet"
    data: bytes = Field(sa_column=Column(LargeBinary, nullable=False))


#: children of a run (deleted before it / replaced under --force)
RUN_CHILDREN = (AggregateRow, VerdictRow, FrameRow)


EVIDENCE_TABLES = (RunRow, RunLinkRow, OverrideLinkRow, AggregateRow, VerdictRow, FrameRow)


def ensure_tables(eng: Engine) -> None:
    """Create every missing table (annotation and evidence) in one transaction under the store's
    write lock (:func:`metaanalysis.store.database.create_tables`).

    Processes opening a fresh store at once would otherwise race between "does the table exist"
    and "CREATE TABLE"; with the lock taken first, the later ones see the tables and create
    nothing. Failures are one-line :class:`~simulators.errors.UserError` s naming the store.
    """
    from sqlalchemy import inspect

    from metaanalysis.store import tables
    from metaanalysis.store.database import create_tables, database_errors

    names = {t.__tablename__ for t in (*EVIDENCE_TABLES, *tables.ANNOTATION_TABLES)}
    with database_errors(eng.url.render_as_string(hide_password=False), drivers=False):
        if names <= set(inspect(eng).get_table_names()):
            return
        create_tables(eng)


def has_evidence(eng: Engine) -> bool:
    """Whether the evidence tables exist (read-only commands do not create them)."""
    from sqlalchemy import inspect

    return inspect(eng).has_table(RunLinkRow.__tablename__)


def open_evidence(url: str, root: Any) -> Engine:
    """The engine of ``url`` with every table present and the annotation index current."""
    from metaanalysis.store.database import engine
    from metaanalysis.store.index import ensure_synced

    eng = engine(url)
    ensure_tables(eng)
    ensure_synced(eng, root)
    return eng


__all__ = ["EVIDENCE_TABLES", "RUN_CHILDREN", "AggregateRow", "FrameRow", "OverrideLinkRow", "VerdictRow",
           "RunLinkRow", "RunRow", "ensure_tables", "has_evidence", "open_evidence"]
