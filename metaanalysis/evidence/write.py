"""Writing evidence: a run and everything about it in one transaction, and links to it.

Atomicity: :func:`store_result` writes a run, its aggregates, verdicts, frame and links in ONE
transaction (``BEGIN IMMEDIATE`` on SQLite, :func:`metaanalysis.store.database.write_session`): a
run is visible only when complete, and a process killed mid-write leaves nothing. Inside the
transaction the existence of the run is checked again, so two processes that computed the same
configuration at once do not collide: the second one only adds its links ("exists").
"""

from __future__ import annotations

import io
import math
import os
import time
from typing import TYPE_CHECKING, Any, Iterable

from sqlalchemy import delete, insert, update
from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from . import provenance as prov
from .tables import RUN_CHILDREN, AggregateRow, FrameRow, OverrideLinkRow, RunLinkRow, RunRow, VerdictRow
from .work import RunResult

if TYPE_CHECKING:
    import pandas as pd

    from simulators.verdicts import Verdict

#: test hook (documented, off by default): when set to a file path, :func:`store_result`
#: creates that file *inside* the open write transaction and then sleeps, so a test can SIGKILL
#: the process mid-transaction and check that nothing of the run became visible.
PAUSE_ENV = "MCATLAS_TEST_PAUSE_IN_WRITE"


def _num(x: Any) -> float | None:
    """A float for a column: NaN/None -> NULL, +-inf kept."""
    if x is None:
        return None
    x = float(x)
    return None if math.isnan(x) else x


def verdict_row(digest: str, horizon: int, position: int, v: "Verdict") -> dict[str, Any]:
    """The ``evidence_verdict`` row of one verdict of a run at one horizon."""
    return {
        "config_hash": digest, "horizon": horizon, "definition": v.definition, "position": position,
        "verdict": v.verdict, "statistic": _num(v.statistic), "ci_low": _num(v.ci_low),
        "ci_high": _num(v.ci_high), "level": _num(v.level), "iteration": v.iteration,
        "stability": _num(v.stability), "seeds_needed": v.seeds_needed,
        "iterations_needed": v.iterations_needed, "reason": v.reason, "statistic_name": v.statistic_name,
    }


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


def link(eng_or_session: Any, paper: str, setup: str, variant: str, digest: str, override: str = "") -> None:
    """Point (paper, setup, variant) at a stored run (inside a session, or its own one); with an
    ``override`` (:func:`metaanalysis.evidence.planning.override_of`) the exploratory link
    (paper, setup, variant, override), which leaves the annotated setup's link alone."""
    def _do(s: Session) -> None:
        if override:
            key: tuple[str, ...] = (paper, setup, variant, override)
            row: Any = s.get(OverrideLinkRow, key)
            new = OverrideLinkRow(paper_key=paper, setup=setup, variant=variant, override=override,
                                  config_hash=digest, linked=prov.utc_now())
        else:
            row = s.get(RunLinkRow, (paper, setup, variant))
            new = RunLinkRow(paper_key=paper, setup=setup, variant=variant, config_hash=digest,
                             linked=prov.utc_now())
        if row is None:
            s.add(new)
        elif row.config_hash != digest:
            row.config_hash = digest
            row.linked = new.linked
            s.add(row)

    if isinstance(eng_or_session, Session):
        _do(eng_or_session)
    else:
        from metaanalysis.store.database import write_session

        with write_session(eng_or_session) as s:
            _do(s)


def store_result(
    eng: Engine,
    result: RunResult,
    *,
    links: Iterable[tuple[str, str, str, str]] = (),
    origin: str = "setup",
    sweep: str | None = None,
    force: bool = False,
) -> str:
    """Write one run and everything about it in ONE transaction; returns what happened.

    ``"stored"`` (new), ``"replaced"`` (``force`` and it existed: its aggregates, profile and
    frame are replaced, the run row updated, atomically), or ``"exists"`` (another process
    stored the same configuration meanwhile and not ``force``: only the links are added).
    ``links``: (paper, setup, variant, override) to point at this run (:func:`link`).
    """
    from metaanalysis.store.database import write_session
    from simulators.verdicts import Verdict

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
    verdict_rows = [
        verdict_row(digest, int(horizon), i, Verdict.from_dict(v))
        for horizon, prof in result.profiles.items()
        for i, v in enumerate(prof["verdicts"])
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
            s.connection().execute(insert(VerdictRow.__table__), verdict_rows)  # type: ignore[attr-defined]
            s.add(FrameRow(config_hash=digest, data=blob))
        for paper, setup, variant, override in links:
            link(s, paper, setup, variant, digest, override)
        s.flush()
        _maybe_pause()
    return status


def _maybe_pause() -> None:
    marker = os.environ.get(PAUSE_ENV)
    if marker:
        with open(marker, "w", encoding="utf-8") as fh:
            fh.write(str(os.getpid()))
        time.sleep(60)


__all__ = ["PAUSE_ENV", "link", "run_exists", "store_result", "stored_hashes"]
