"""The SQL index of the annotation database, rebuilt from the YAML files.

The YAML files are the source of truth; the index is built from *validated* records
(:mod:`metaanalysis.annotations.records`), never the other way round. Its sqlmodel tables live in
:mod:`metaanalysis.store.tables`: ``paper``, ``definition_usage``, ``paper_policy``, ``claim``,
``setup``, ``realism_score`` and ``meta`` (key/value; ``annotations_fingerprint`` records which
YAML the index holds).

Syncing: :func:`sync` validates the annotations and replaces the annotation tables in one
transaction; :func:`ensure_synced` does so only when the fingerprint of the YAML files (paths,
modification times and sizes, plus :data:`INDEX_VERSION`) differs from the stored one.

Several processes on one store (a lab's PostgreSQL server, or processes sharing an SQLite file):
the replacement runs under the store's write lock
(:func:`metaanalysis.store.database.locked`), and :func:`ensure_synced` looks at the stored
fingerprint again once it holds the lock, so the processes that find the index stale at once
rebuild it once; the others wait for that and skip. Readers see the old index or the new one,
never half of each: the rebuild is one transaction, and a read over several tables
(:func:`read_papers`) reads one snapshot. The evidence tables refer to papers and setups by key
(no foreign key into the annotation tables), so a rebuild never has to touch them.

Speed: sqlmodel's ORM, pydantic and the validator are imported when a sync or a record read
needs them, so ``mcatlas matrix --format csv`` on a current index reads plain rows
(:func:`read_matrix_inputs`) and starts fast.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
from pathlib import Path
from types import SimpleNamespace
from typing import TYPE_CHECKING, Any

from sqlalchemy import inspect, text
from sqlalchemy.engine import Engine

from metaanalysis.annotations.paths import DEFINITIONS_FILE, REALISM_FILE, paper_files

from .database import create_tables, database_errors, engine, snapshot, write_session

if TYPE_CHECKING:
    from metaanalysis.annotations.records import Paper, Setup
    from metaanalysis.annotations.validation import ValidationResult

#: version of the index layout and record format; a change forces a resync
INDEX_VERSION = 6
FINGERPRINT_KEY = "annotations_fingerprint"


# -- rows <-> records ----------------------------------------------------------------------


def rows_for(paper: Paper, file: str = "") -> list[Any]:
    """The table rows of one validated record (the paper row first)."""
    from .tables import (
        ClaimRow,
        DefinitionUsageRow,
        PaperPolicyRow,
        PaperRow,
        RealismScoreRow,
        SetupRow,
    )

    rows: list[Any] = [
        PaperRow(
            key=paper.key, title=paper.title, authors=list(paper.authors), year=paper.year,
            month=paper.month, venue=paper.venue, arxiv=paper.arxiv, doi=paper.doi,
            arxiv_version=paper.arxiv_version, url=paper.url,
            label=paper.label, figure_order=paper.figure_order,
            explicit_definition=paper.explicit_definition,
            identification_note=paper.identification_note, notes=paper.notes, source=paper.source,
            marks=[m.model_dump() for m in paper.marks] or None, file=file,
        )
    ]
    rows += [DefinitionUsageRow(paper_key=paper.key, definition=d, usage=u) for d, u in paper.definitions.items()]
    rows += [PaperPolicyRow(paper_key=paper.key, policy=p, position=i) for i, p in enumerate(paper.data_policies)]
    rows += [ClaimRow(paper_key=paper.key, position=i, **c.model_dump()) for i, c in enumerate(paper.claims)]
    for i, s in enumerate(paper.setups):
        data = s.model_dump(exclude={"realistic"})
        realistic = s.realistic.model_dump(exclude_none=True) if s.realistic is not None else None
        rows.append(SetupRow(paper_key=paper.key, position=i, realistic=realistic, **data))
    rows += [
        RealismScoreRow(paper_key=paper.key, dimension=d, position=i, level=r.level, why=r.why)
        for i, (d, r) in enumerate(paper.realism.items())
    ]
    return rows


def read_papers(eng: Engine, keys: list[str] | None = None) -> list[Paper]:
    """Records rebuilt from the index (all, or those with the given keys), in matrix order."""
    from sqlmodel import Session, select

    from metaanalysis.annotations.records import Claim, Paper, RealismScore, SourceMarks

    from .tables import (
        ClaimRow,
        DefinitionUsageRow,
        PaperPolicyRow,
        PaperRow,
        RealismScoreRow,
        SetupRow,
    )

    with Session(snapshot(eng)) as s:
        q = select(PaperRow)
        if keys is not None:
            q = q.where(PaperRow.key.in_(keys))  # type: ignore[attr-defined]
        papers = s.exec(q).all()
        wanted = [p.key for p in papers]

        def grouped(model: Any, order: Any) -> dict[str, list[Any]]:
            out: dict[str, list[Any]] = {}
            q2 = select(model).order_by(order)
            if keys is not None:
                q2 = q2.where(model.paper_key.in_(wanted))
            for row in s.exec(q2).all():
                out.setdefault(row.paper_key, []).append(row)
            return out

        usages = grouped(DefinitionUsageRow, DefinitionUsageRow.definition)
        policies = grouped(PaperPolicyRow, PaperPolicyRow.position)
        claims = grouped(ClaimRow, ClaimRow.position)
        setups = grouped(SetupRow, SetupRow.position)
        realism = grouped(RealismScoreRow, RealismScoreRow.position)
        plain = [f for f in Paper.model_fields if f in PaperRow.model_fields and f not in ("authors", "marks")]
        result = []
        for p in papers:
            result.append(
                Paper.model_construct(
                    **{f: getattr(p, f) for f in plain},
                    authors=list(p.authors),
                    marks=[SourceMarks.model_validate(m) for m in (p.marks or [])],
                    definitions={u.definition: u.usage for u in usages.get(p.key, [])},
                    data_policies=[x.policy for x in policies.get(p.key, [])],
                    claims=[
                        Claim.model_construct(**{f: getattr(c, f) for f in Claim.model_fields})
                        for c in claims.get(p.key, [])
                    ],
                    setups=[_setup_from_row(x) for x in setups.get(p.key, [])],
                    realism={
                        r.dimension: RealismScore.model_construct(level=r.level, why=r.why)
                        for r in realism.get(p.key, [])
                    },
                )
            )
    result.sort(key=lambda p: p.sort_key())
    return result


def _setup_from_row(row: Any) -> Setup:
    from metaanalysis.annotations.records import RealisticOverrides, Setup

    fields = {f: getattr(row, f) for f in Setup.model_fields if f != "realistic"}
    realistic = RealisticOverrides.model_validate(row.realistic) if row.realistic is not None else None
    return Setup.model_construct(**fields, realistic=realistic)


def read_matrix_inputs(eng: Engine) -> list[SimpleNamespace]:
    """What the matrix needs per paper, read with plain SQL (no ORM, no pydantic).

    Each item has ``key, label, explicit_definition, year, month, figure_order, definitions``
    (the attributes :func:`metaanalysis.analysis.matrix.build_matrix` reads).
    """
    with snapshot(eng).connect() as conn:
        papers = conn.execute(
            text("SELECT key, label, explicit_definition, year, month, figure_order FROM paper")
        ).all()
        usages = conn.execute(text("SELECT paper_key, definition, usage FROM definition_usage")).all()
    defs: dict[str, dict[str, str]] = {}
    for key, definition, usage in usages:
        defs.setdefault(key, {})[definition] = usage
    return [
        SimpleNamespace(key=k, label=lb, explicit_definition=e, year=y, month=m, figure_order=f,
                        definitions=defs.get(k, {}))
        for k, lb, e, y, m, f in papers
    ]


def paper_files_of(eng: Engine) -> dict[str, str]:
    """Paper key -> the YAML file it was indexed from."""
    with eng.connect() as conn:
        return {k: f for k, f in conn.execute(text("SELECT key, file FROM paper")).all()}


# -- syncing -------------------------------------------------------------------------------


def fingerprint(root: Path) -> str:
    """Cheap fingerprint of the YAML: paths, mtimes and sizes, plus :data:`INDEX_VERSION`."""
    root = Path(root).resolve()
    h = hashlib.sha256(f"index={INDEX_VERSION};root={root}".encode())
    for f in [root / DEFINITIONS_FILE, root / REALISM_FILE, *paper_files(root)]:
        try:
            st = os.stat(f)
        except OSError:
            h.update(f"{f.name}:missing;".encode())
            continue
        h.update(f"{f.relative_to(root)}:{st.st_mtime_ns}:{st.st_size};".encode())
    return h.hexdigest()


def stored_fingerprint(bind: Engine | Any) -> str | None:
    """The fingerprint of the YAML the index holds, or None (never synced); ``bind``: an engine,
    or a connection (inside its transaction)."""
    if not inspect(bind).has_table("meta"):
        return None
    with contextlib.ExitStack() as stack:
        conn = stack.enter_context(bind.connect()) if isinstance(bind, Engine) else bind
        return conn.execute(text("SELECT value FROM meta WHERE key = :k"), {"k": FINGERPRINT_KEY}).scalar()


def sync(eng: Engine, root: Path, result: ValidationResult | None = None) -> ValidationResult:
    """Validate ``root`` and rebuild the annotation tables from it, in one transaction under the
    store's write lock.

    Raises :class:`~simulators.errors.UserError` (nothing written) if validation fails.
    """
    from metaanalysis.annotations.validation import load_database

    fp = fingerprint(root)
    result = result if result is not None else load_database(root)
    with database_errors(_url_of(eng), drivers=False):
        _replace_annotation_tables(eng, result, fp)
    return result


def _url_of(eng: Engine) -> str:
    return eng.url.render_as_string(hide_password=False)


def _replace_annotation_tables(eng: Engine, result: ValidationResult, fp: str, if_stale: bool = False) -> bool:
    """Replace the annotation tables by ``result`` (fingerprint ``fp``) under the write lock;
    ``if_stale``: only if the index does not hold ``fp`` once the lock is held (another process
    may have synced the same YAML meanwhile). True if it replaced them."""
    from sqlalchemy import insert
    from sqlmodel import delete

    from .tables import ANNOTATION_TABLES, MetaRow

    with write_session(eng) as s:
        conn = s.connection()
        create_tables(conn)
        if if_stale and stored_fingerprint(conn) == fp:
            return False
        for table in ANNOTATION_TABLES:
            s.exec(delete(table))  # type: ignore[call-overload]
        s.flush()
        # bulk executemany per table, parents first (foreign keys); rows come from validated records
        by_table: dict[Any, list[dict[str, Any]]] = {t.__table__: [] for t in reversed(ANNOTATION_TABLES)}
        for paper in result.papers:
            path = result.files.get(paper.key)
            for row in rows_for(paper, str(path) if path else ""):
                table = type(row).__table__
                by_table[table].append({c.name: getattr(row, c.name) for c in table.columns})
        for table, values in by_table.items():
            if values:
                s.execute(insert(table), values)
        s.merge(MetaRow(key=FINGERPRINT_KEY, value=fp))
    return True


def ensure_synced(eng: Engine, root: Path) -> bool:
    """Sync when the YAML changed since the last sync; True if this call rebuilt the index.

    The YAML is validated before the write lock is taken (the lock is held only to write), and
    the stored fingerprint is looked at again under it: when another process synced the same
    YAML meanwhile, nothing is rebuilt.
    """
    from metaanalysis.annotations.validation import load_database

    url = _url_of(eng)
    fp = fingerprint(root)
    with database_errors(url, drivers=False):
        if stored_fingerprint(eng) == fp:
            return False
    result = load_database(root)
    with database_errors(url, drivers=False):
        return _replace_annotation_tables(eng, result, fp, if_stale=True)


def open_index(url: str, root: Path) -> Engine:
    """The engine of ``url`` with the annotation tables current for ``root``.

    Database failures while syncing (a read-only SQLite file, a server that went away) are
    one-line :class:`~simulators.errors.UserError` s too.
    """
    eng = engine(url)
    ensure_synced(eng, root)
    return eng
