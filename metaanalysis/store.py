"""The SQL index of the annotation database, rebuilt from the YAML files.

The YAML files are the source of truth; the index is built from *validated* records
(:mod:`metaanalysis.records`), never the other way round. Its sqlmodel tables live in
:mod:`metaanalysis.tables`: ``paper``, ``definition_usage``, ``paper_policy``, ``claim``,
``setup``, ``realism_score`` and ``meta`` (key/value; ``annotations_fingerprint`` records which
YAML the index holds).

Engine and sessions: :func:`engine` is the one place that creates engines (cached per URL).
It connects once up front and turns a bad URL, a missing driver, an unreachable server or an
SQLite file in a missing directory into a one-line ``UserError`` that names the URL with its
password masked (:func:`shown_url`) and says what to do; :func:`database_errors` does the same
around syncing.
For SQLite it turns on WAL journalling, a 60 s busy timeout and foreign keys, and takes over
transaction control so that a write transaction can begin ``IMMEDIATE`` (take the write lock up
front, so two writers wait for each other instead of failing on a lock upgrade): use
:func:`write_session` for writes. Later issues (runs, evidence) define their own ``SQLModel``
tables in the same metadata and call :func:`create_tables`; :func:`sync` touches only the
annotation tables (``metaanalysis.tables.ANNOTATION_TABLES``).

Syncing: :func:`sync` validates the annotations and replaces the annotation tables in one
transaction; :func:`ensure_synced` does so only when the fingerprint of the YAML files (paths,
modification times and sizes, plus :data:`INDEX_VERSION`) differs from the stored one.

Speed: this module imports only SQLAlchemy Core at the top. sqlmodel's ORM, pydantic and the
validator are imported when a sync or a record read needs them, so ``mcatlas matrix --format
csv`` on a current index reads plain rows (:func:`read_matrix_inputs`) and starts fast.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
from collections.abc import Iterator
from pathlib import Path
from types import SimpleNamespace
from typing import TYPE_CHECKING, Any

from sqlalchemy import create_engine, event, inspect, text
from sqlalchemy.engine import Engine

from simulators.errors import UserError

from .paths import DEFINITIONS_FILE, REALISM_FILE, paper_files

if TYPE_CHECKING:
    from sqlmodel import Session

    from .records import Paper, Setup
    from .validation import ValidationResult

#: version of the index layout and record format; a change forces a resync
INDEX_VERSION = 2  # 2: setup.sweep_n
FINGERPRINT_KEY = "annotations_fingerprint"


# -- engine --------------------------------------------------------------------------------

_ENGINES: dict[str, Engine] = {}


#: pip packages that provide the usual drivers (module name -> what to install)
DRIVER_PACKAGES = {
    "psycopg": "psycopg[binary]",
    "psycopg2": "psycopg2-binary",
    "asyncpg": "asyncpg",
    "pg8000": "pg8000",
    "pymysql": "pymysql",
    "MySQLdb": "mysqlclient",
    "mysql": "mysql-connector-python",
    "oracledb": "oracledb",
    "pyodbc": "pyodbc",
    "pymssql": "pymssql",
    "aiosqlite": "aiosqlite",
}
#: what each backend is called in messages
_BACKENDS = {"postgresql": "PostgreSQL", "mysql": "MySQL", "mariadb": "MariaDB", "oracle": "Oracle",
             "mssql": "SQL Server", "sqlite": "SQLite"}


def shown_url(url: str) -> str:
    """``url`` as it may be printed: with the password masked (``***``)."""
    from sqlalchemy.engine import make_url
    from sqlalchemy.exc import ArgumentError

    try:
        return make_url(url).render_as_string(hide_password=True)
    except (ArgumentError, ValueError, TypeError):
        if "@" in url and "://" in url:  # unparseable: hide everything between :// and @
            scheme, rest = url.split("://", 1)
            return f"{scheme}://***@{rest.rsplit('@', 1)[1]}"
        return url


def _first_line(exc: BaseException) -> str:
    lines = str(getattr(exc, "orig", None) or exc).strip().splitlines()
    return lines[0] if lines else type(exc).__name__


def _sqlite_file(parsed: Any) -> Path | None:
    """The database file of an SQLite URL, or None (in memory)."""
    database = parsed.database
    if not database or database == ":memory:" or database.startswith("file:") or parsed.query.get("mode") == "memory":
        return None
    return Path(database)


def _prepare_sqlite(parsed: Any, shown: str) -> None:
    """Create the default ``.mcatlas/`` directory; refuse a file in a missing directory."""
    from .paths import DB_DIR

    file = _sqlite_file(parsed)
    if file is None:
        return
    directory = file.expanduser().parent
    if directory.is_dir():
        return
    if directory.name == DB_DIR and directory.parent.is_dir():  # the default place: create it
        try:
            directory.mkdir(exist_ok=True)
            return
        except OSError as exc:
            raise UserError(f"database {shown}: cannot create the directory {directory}: {exc.strerror}") from None
    raise UserError(
        f"database {shown}: directory {directory} does not exist; create it or choose another "
        "--db / MCATLAS_DB"
    )


def _driver_hint(parsed: Any, module: str | None) -> str:
    backend = parsed.get_backend_name()
    name = _BACKENDS.get(backend, backend)
    package = DRIVER_PACKAGES.get(module or "", module)
    if package:
        return f"install a {name} driver: pip install {package}"
    return f"install the Python driver for {name}"


def _user_error(exc: BaseException, url: str, parsed: Any | None = None) -> UserError:
    """A database failure as one line naming the (masked) URL and what to do."""
    from sqlalchemy.exc import (
        ArgumentError,
        DatabaseError,
        NoSuchModuleError,
        OperationalError,
    )

    shown = shown_url(url)
    if isinstance(exc, NoSuchModuleError):
        scheme = parsed.drivername if parsed is not None else url.split(":", 1)[0]
        return UserError(
            f"database {shown}: unknown database kind {scheme!r}; use an SQLAlchemy URL such as "
            "sqlite:///path/to/file.db or postgresql+psycopg://user@host/dbname"
        )
    if isinstance(exc, ArgumentError):
        return UserError(
            f"database {shown}: not a database URL ({_first_line(exc)}); use an SQLAlchemy URL such "
            "as sqlite:///path/to/file.db or postgresql+psycopg://user@host/dbname"
        )
    if isinstance(exc, ImportError) and parsed is not None:
        missing = getattr(exc, "name", None)
        return UserError(f"database {shown}: no driver ({_first_line(exc)}); {_driver_hint(parsed, missing)}")
    if isinstance(exc, OperationalError) or type(exc) is DatabaseError:
        backend = parsed.get_backend_name() if parsed is not None else ""
        what = (
            "check that it is an SQLite database file and that its directory exists and is writable"
            if backend == "sqlite"
            else "check that the server is running and the host, port, user, password and database name"
        )
        return UserError(f"database {shown}: cannot open it ({_first_line(exc)}); {what}")
    return UserError(f"database {shown}: {type(exc).__name__}: {_first_line(exc)}")


@contextlib.contextmanager
def database_errors(url: str, drivers: bool = True) -> Iterator[None]:
    """Turn SQLAlchemy's connection and URL errors inside the block into a one-line
    :class:`UserError` naming the URL (password masked); ``drivers``: an ImportError too (a
    missing database driver; only around creating the engine, where nothing else is imported)."""
    from sqlalchemy.exc import (
        ArgumentError,
        DatabaseError,
        NoSuchModuleError,
        OperationalError,
    )

    caught: tuple[type[BaseException], ...] = (ArgumentError, NoSuchModuleError, DatabaseError)
    if drivers:
        caught += (ImportError,)
    try:
        yield
    except caught as exc:
        # of the DatabaseErrors only "cannot open/use it" ones: OperationalError, and the plain
        # DatabaseError SQLite raises for a file that is not a database. Others (integrity
        # errors ...) would be bugs and keep their type.
        if isinstance(exc, DatabaseError) and not (
            isinstance(exc, OperationalError) or type(exc) is DatabaseError
        ):
            raise
        from sqlalchemy.engine import make_url

        try:
            parsed = make_url(url)
        except (ArgumentError, ValueError, TypeError):
            parsed = None
        raise _user_error(exc, url, parsed) from None


def engine(url: str) -> Engine:
    """The engine for ``url`` (cached); SQLite gets WAL, a busy timeout and real transactions.

    The first call for a URL also connects once, so that a bad URL, a missing driver, an
    unreachable server or an SQLite file in a missing directory is a one-line
    :class:`~simulators.errors.UserError` (naming the URL with its password masked and what to
    do) instead of a traceback later. The default SQLite directory (``.mcatlas/``) is created.
    """
    cached = _ENGINES.get(url)
    if cached is not None:
        return cached
    from sqlalchemy.engine import make_url

    with database_errors(url):
        parsed = make_url(url)
    is_sqlite = parsed.get_backend_name() == "sqlite"
    kwargs: dict[str, Any] = {}
    if is_sqlite:
        _prepare_sqlite(parsed, shown_url(url))
        kwargs["connect_args"] = {"timeout": 60, "check_same_thread": False}
    with database_errors(url):
        eng = create_engine(parsed, **kwargs)
    if is_sqlite:
        in_memory = _sqlite_file(parsed) is None

        @event.listens_for(eng, "connect")
        def _on_connect(dbapi_conn: Any, _record: Any) -> None:
            dbapi_conn.isolation_level = None  # let the begin event below issue BEGIN
            cur = dbapi_conn.cursor()
            if not in_memory:
                cur.execute("PRAGMA journal_mode=WAL")
            cur.execute("PRAGMA busy_timeout=60000")
            cur.execute("PRAGMA foreign_keys=ON")
            cur.close()

        @event.listens_for(eng, "begin")
        def _on_begin(conn: Any) -> None:
            mode = conn.get_execution_options().get("sqlite_begin", "")
            conn.exec_driver_sql(f"BEGIN {mode}".strip())

    # first connect: fail here, in one line, if it cannot work
    with database_errors(url, drivers=False), eng.connect():
        pass
    _ENGINES[url] = eng
    return eng


def create_tables(eng: Engine) -> None:
    """Create every table registered in ``SQLModel.metadata`` that does not exist yet."""
    from sqlmodel import SQLModel

    from . import tables  # noqa: F401 - registers the annotation tables

    SQLModel.metadata.create_all(eng)
    _add_missing_columns(eng)


#: columns added to annotation tables after their first release: (table, column, SQL type).
#: The annotation tables are rebuilt from the YAML on every sync (and INDEX_VERSION changes the
#: fingerprint, forcing one), so adding the nullable column to an older database is all the
#: migration they need.
ADDED_COLUMNS: tuple[tuple[str, str, str], ...] = (("setup", "sweep_n", "JSON"),)


def _add_missing_columns(eng: Engine) -> None:
    from sqlalchemy import inspect

    insp = inspect(eng)
    for table, column, sql_type in ADDED_COLUMNS:
        if insp.has_table(table) and column not in {c["name"] for c in insp.get_columns(table)}:
            with eng.begin() as conn:
                conn.exec_driver_sql(f"ALTER TABLE {table} ADD COLUMN {column} {sql_type}")


@contextlib.contextmanager
def write_session(eng: Engine) -> Iterator[Session]:
    """A session whose transaction takes the write lock at once (SQLite ``BEGIN IMMEDIATE``).

    Commits on success, rolls back on error: everything in the block is one transaction.
    """
    from sqlmodel import Session

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
            month=paper.month, venue=paper.venue, arxiv=paper.arxiv, doi=paper.doi, url=paper.url,
            label=paper.label, figure_order=paper.figure_order,
            explicit_definition=paper.explicit_definition,
            identification_note=paper.identification_note, notes=paper.notes, source=paper.source,
            file=file,
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

    from .records import Claim, Paper, RealismScore
    from .tables import (
        ClaimRow,
        DefinitionUsageRow,
        PaperPolicyRow,
        PaperRow,
        RealismScoreRow,
        SetupRow,
    )

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
        plain = [f for f in Paper.model_fields if f in PaperRow.model_fields and f != "authors"]
        result = []
        for p in papers:
            result.append(
                Paper.model_construct(
                    **{f: getattr(p, f) for f in plain},
                    authors=list(p.authors),
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
    from .records import RealisticOverrides, Setup

    fields = {f: getattr(row, f) for f in Setup.model_fields if f != "realistic"}
    realistic = RealisticOverrides.model_validate(row.realistic) if row.realistic is not None else None
    return Setup.model_construct(**fields, realistic=realistic)


def read_matrix_inputs(eng: Engine) -> list[SimpleNamespace]:
    """What the matrix needs per paper, read with plain SQL (no ORM, no pydantic).

    Each item has ``key, label, explicit_definition, year, month, figure_order, definitions``
    (the attributes :func:`metaanalysis.matrix.build_matrix` reads).
    """
    with eng.connect() as conn:
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


def stored_fingerprint(eng: Engine) -> str | None:
    """The fingerprint of the YAML the index holds, or None (never synced)."""
    if not inspect(eng).has_table("meta"):
        return None
    with eng.connect() as conn:
        return conn.execute(text("SELECT value FROM meta WHERE key = :k"), {"k": FINGERPRINT_KEY}).scalar()


def sync(eng: Engine, root: Path, result: ValidationResult | None = None) -> ValidationResult:
    """Validate ``root`` and rebuild the annotation tables from it, in one transaction.

    Raises :class:`~simulators.errors.UserError` (nothing written) if validation fails.
    """
    from .validation import load_database

    fp = fingerprint(root)
    result = result if result is not None else load_database(root)
    with database_errors(_url_of(eng), drivers=False):
        _replace_annotation_tables(eng, result, fp)
    return result


def _url_of(eng: Engine) -> str:
    return eng.url.render_as_string(hide_password=False)


def _replace_annotation_tables(eng: Engine, result: ValidationResult, fp: str) -> None:
    from sqlalchemy import insert
    from sqlmodel import delete

    from .tables import ANNOTATION_TABLES, MetaRow

    create_tables(eng)
    with write_session(eng) as s:
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


def ensure_synced(eng: Engine, root: Path) -> bool:
    """Sync when the YAML changed since the last sync; True if it synced."""
    with database_errors(_url_of(eng), drivers=False):
        current = stored_fingerprint(eng) == fingerprint(root)
    if current:
        return False
    sync(eng, root)
    return True


def open_index(url: str, root: Path) -> Engine:
    """The engine of ``url`` with the annotation tables current for ``root``.

    Database failures while syncing (a read-only SQLite file, a server that went away) are
    one-line :class:`~simulators.errors.UserError` s too.
    """
    eng = engine(url)
    ensure_synced(eng, root)
    return eng
