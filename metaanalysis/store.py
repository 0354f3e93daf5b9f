"""The SQL index of the annotation database (sqlmodel), rebuilt from the YAML files.

The YAML files are the source of truth; this store is an index built from *validated* records
(:mod:`metaanalysis.records`), never the other way round. Tables:

* ``paper`` — one row per paper (identification, label, figure order, flags; authors as JSON);
* ``definition_usage`` — (paper, definition, explicit|implicit);
* ``paper_policy`` — (paper, policy) for ``data_policies``;
* ``claim``, ``setup`` — a paper's claims and runnable setups (issue 4), in file order;
* ``realism_score`` — (paper, dimension, level, why);
* ``meta`` — key/value pairs; ``annotations_fingerprint`` records which YAML the index holds.

Engine and sessions: :func:`engine` is the one place that creates engines (cached per URL).
For SQLite it turns on WAL journalling, a busy timeout and foreign keys, and takes over
transaction control so that a write transaction can begin ``IMMEDIATE`` (take the write lock up
front, so two writers wait for each other instead of failing on a lock upgrade): use
:func:`write_session` for writes. Other modules (the evidence tables of issue 4) define their
own ``SQLModel`` tables in the same metadata and call :func:`create_tables`; :func:`sync`
touches only the annotation tables listed in :data:`ANNOTATION_TABLES`.

Syncing: :func:`sync` validates the annotations and replaces the annotation tables in one
transaction; :func:`ensure_synced` does that only when the fingerprint of the YAML files (paths,
modification times and sizes, plus the record schema version) differs from the stored one, so
commands that read the index stay cheap.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
from pathlib import Path
from typing import TYPE_CHECKING, Any, Iterator, Optional

from sqlalchemy import JSON, Column, event
from sqlalchemy.engine import Engine
from sqlmodel import Field, Session, SQLModel, create_engine, delete, select

from .paths import DEFINITIONS_FILE, REALISM_FILE, paper_files
from .records import SCHEMA_VERSION, Claim, Paper, RealismScore, RealisticOverrides, Setup

if TYPE_CHECKING:  # validation is imported only when syncing (keeps read-only commands fast)
    from .validation import ValidationResult

FINGERPRINT_KEY = "annotations_fingerprint"


# -- tables --------------------------------------------------------------------------------


class PaperRow(SQLModel, table=True):
    __tablename__ = "paper"

    key: str = Field(primary_key=True)
    title: str
    authors: list[str] = Field(sa_column=Column(JSON, nullable=False))
    year: int = Field(index=True)
    month: Optional[int] = None
    venue: Optional[str] = None
    arxiv: Optional[str] = Field(default=None, index=True)
    doi: Optional[str] = Field(default=None, index=True)
    url: Optional[str] = None
    label: str
    figure_order: Optional[int] = None
    explicit_definition: str
    identification_note: Optional[str] = None
    notes: Optional[str] = None
    source: Optional[str] = None
    file: str = ""


class DefinitionUsageRow(SQLModel, table=True):
    __tablename__ = "definition_usage"

    paper_key: str = Field(foreign_key="paper.key", primary_key=True)
    definition: str = Field(primary_key=True, index=True)
    usage: str


class PaperPolicyRow(SQLModel, table=True):
    __tablename__ = "paper_policy"

    paper_key: str = Field(foreign_key="paper.key", primary_key=True)
    policy: str = Field(primary_key=True, index=True)
    position: int = 0


class ClaimRow(SQLModel, table=True):
    __tablename__ = "claim"

    paper_key: str = Field(foreign_key="paper.key", primary_key=True)
    id: str = Field(primary_key=True)
    position: int = 0
    statement: str
    definition: str = Field(index=True)
    outcome: str
    policy: str
    model_family: str
    where: str


class SetupRow(SQLModel, table=True):
    __tablename__ = "setup"

    paper_key: str = Field(foreign_key="paper.key", primary_key=True)
    name: str = Field(primary_key=True)
    position: int = 0
    simulator: str = Field(index=True)
    params: dict[str, Any] = Field(sa_column=Column(JSON, nullable=False))
    policy: str
    real_fraction: Optional[float] = None
    seeds: int
    iterations: int
    reproduces: list[str] = Field(sa_column=Column(JSON, nullable=False))
    fidelity: str
    note: str
    realistic: Optional[dict[str, Any]] = Field(default=None, sa_column=Column(JSON, nullable=True))


class RealismScoreRow(SQLModel, table=True):
    __tablename__ = "realism_score"

    paper_key: str = Field(foreign_key="paper.key", primary_key=True)
    dimension: str = Field(primary_key=True)
    position: int = 0
    level: str
    why: str


class MetaRow(SQLModel, table=True):
    __tablename__ = "meta"

    key: str = Field(primary_key=True)
    value: str


#: the tables :func:`sync` rebuilds (children first, for deletion)
ANNOTATION_TABLES = (DefinitionUsageRow, PaperPolicyRow, ClaimRow, SetupRow, RealismScoreRow, PaperRow)


# -- engine --------------------------------------------------------------------------------

_ENGINES: dict[str, Engine] = {}


def engine(url: str) -> Engine:
    """The engine for ``url`` (cached); SQLite gets WAL, a busy timeout and real transactions."""
    cached = _ENGINES.get(url)
    if cached is not None:
        return cached
    is_sqlite = url.startswith("sqlite")
    kwargs: dict[str, Any] = {}
    if is_sqlite:
        kwargs["connect_args"] = {"timeout": 60, "check_same_thread": False}
    eng = create_engine(url, **kwargs)
    if is_sqlite:

        @event.listens_for(eng, "connect")
        def _on_connect(dbapi_conn: Any, _record: Any) -> None:
            dbapi_conn.isolation_level = None  # let SQLAlchemy's begin event issue BEGIN
            cur = dbapi_conn.cursor()
            if ":memory:" not in url and url not in ("sqlite://", "sqlite:///"):
                cur.execute("PRAGMA journal_mode=WAL")
            cur.execute("PRAGMA busy_timeout=60000")
            cur.execute("PRAGMA foreign_keys=ON")
            cur.close()

        @event.listens_for(eng, "begin")
        def _on_begin(conn: Any) -> None:
            mode = conn.get_execution_options().get("sqlite_begin", "")
            conn.exec_driver_sql(f"BEGIN {mode}".strip())

    _ENGINES[url] = eng
    return eng


def create_tables(eng: Engine) -> None:
    """Create every table registered in ``SQLModel.metadata`` that does not exist yet."""
    SQLModel.metadata.create_all(eng)


@contextlib.contextmanager
def write_session(eng: Engine) -> Iterator[Session]:
    """A session whose transaction takes the write lock at once (SQLite ``BEGIN IMMEDIATE``).

    Commits on success, rolls back on error: everything in the block is one transaction.
    """
    with eng.connect() as conn:
        conn = conn.execution_options(sqlite_begin="IMMEDIATE")
        with Session(bind=conn) as session:
            try:
                yield session
                session.commit()
            except BaseException:
                session.rollback()
                raise


# -- rows <-> records ----------------------------------------------------------------------


def rows_for(paper: Paper, file: str = "") -> list[SQLModel]:
    """The table rows of one validated record (the paper row first)."""
    rows: list[SQLModel] = [
        PaperRow(
            key=paper.key,
            title=paper.title,
            authors=list(paper.authors),
            year=paper.year,
            month=paper.month,
            venue=paper.venue,
            arxiv=paper.arxiv,
            doi=paper.doi,
            url=paper.url,
            label=paper.label,
            figure_order=paper.figure_order,
            explicit_definition=paper.explicit_definition,
            identification_note=paper.identification_note,
            notes=paper.notes,
            source=paper.source,
            file=file,
        )
    ]
    rows += [DefinitionUsageRow(paper_key=paper.key, definition=d, usage=u) for d, u in paper.definitions.items()]
    rows += [PaperPolicyRow(paper_key=paper.key, policy=p, position=i) for i, p in enumerate(paper.data_policies)]
    rows += [
        ClaimRow(paper_key=paper.key, position=i, **c.model_dump()) for i, c in enumerate(paper.claims)
    ]
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
    with Session(eng) as s:
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
        result = []
        for p in papers:
            result.append(
                Paper.model_construct(
                    **{f: getattr(p, f) for f in Paper.model_fields if hasattr(PaperRow, f) and f != "authors"},
                    authors=list(p.authors),
                    definitions={u.definition: u.usage for u in usages.get(p.key, [])},
                    data_policies=[x.policy for x in policies.get(p.key, [])],
                    claims=[
                        Claim.model_construct(**{f: getattr(c, f) for f in Claim.model_fields})
                        for c in claims.get(p.key, [])
                    ],
                    setups=[_setup_from_row(x) for x in setups.get(p.key, [])],
                    realism={r.dimension: RealismScore.model_construct(level=r.level, why=r.why) for r in realism.get(p.key, [])},
                )
            )
    result.sort(key=Paper.sort_key)
    return result


def _setup_from_row(row: SetupRow) -> Setup:
    fields = {f: getattr(row, f) for f in Setup.model_fields if f != "realistic"}
    realistic = RealisticOverrides.model_validate(row.realistic) if row.realistic is not None else None
    return Setup.model_construct(**fields, realistic=realistic)


def paper_files_of(eng: Engine) -> dict[str, str]:
    """Paper key -> the YAML file it was indexed from."""
    with Session(eng) as s:
        return {k: f for k, f in s.exec(select(PaperRow.key, PaperRow.file)).all()}


# -- syncing -------------------------------------------------------------------------------


def fingerprint(root: Path) -> str:
    """Cheap fingerprint of the YAML: paths, mtimes and sizes, plus the schema version."""
    root = Path(root).resolve()
    h = hashlib.sha256(f"schema={SCHEMA_VERSION};root={root}".encode())
    files = [root / DEFINITIONS_FILE, root / REALISM_FILE, *paper_files(root)]
    for f in files:
        try:
            st = os.stat(f)
        except OSError:
            h.update(f"{f.name}:missing;".encode())
            continue
        h.update(f"{f.relative_to(root)}:{st.st_mtime_ns}:{st.st_size};".encode())
    return h.hexdigest()


def stored_fingerprint(eng: Engine) -> str | None:
    """The fingerprint of the YAML the index holds, or None (never synced)."""
    from sqlalchemy import inspect

    if not inspect(eng).has_table(MetaRow.__tablename__):
        return None
    with Session(eng) as s:
        row = s.get(MetaRow, FINGERPRINT_KEY)
        return row.value if row is not None else None


def sync(eng: Engine, root: Path, result: ValidationResult | None = None) -> ValidationResult:
    """Validate ``root`` and rebuild the annotation tables from it, in one transaction.

    Raises :class:`~simulators.errors.UserError` (nothing written) if validation fails.
    """
    from .validation import load_database

    fp = fingerprint(root)
    result = result if result is not None else load_database(root)
    create_tables(eng)
    with write_session(eng) as s:
        for table in ANNOTATION_TABLES:
            s.exec(delete(table))  # type: ignore[call-overload]
        s.flush()
        children: list[SQLModel] = []
        for paper in result.papers:
            path = result.files.get(paper.key)
            rows = rows_for(paper, str(path) if path else "")
            s.add(rows[0])
            children.extend(rows[1:])
        s.flush()  # paper rows before their children (foreign keys)
        s.add_all(children)
        s.merge(MetaRow(key=FINGERPRINT_KEY, value=fp))
    return result


def ensure_synced(eng: Engine, root: Path) -> bool:
    """Sync when the YAML changed since the last sync; True if it synced."""
    if stored_fingerprint(eng) == fingerprint(root):
        return False
    sync(eng, root)
    return True


def open_index(url: str, root: Path) -> Engine:
    """The engine of ``url`` with the annotation tables current for ``root``."""
    eng = engine(url)
    ensure_synced(eng, root)
    return eng
