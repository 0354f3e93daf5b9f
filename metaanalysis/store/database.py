"""The one place that creates database engines, and the write transactions every writer uses.

:func:`engine` creates engines (cached per URL). It connects once up front and turns a bad URL, a
missing driver, an unreachable server or an SQLite file in a missing directory into a one-line
``UserError`` that names the URL with its password masked (:func:`shown_url`) and says what to
do; :func:`database_errors` does the same around later work. For SQLite it turns on WAL
journalling, a busy timeout (:data:`LOCK_WAIT_SECONDS`) and foreign keys, and takes over
transaction control so that a write transaction can begin ``IMMEDIATE``.

The write lock: one store has one writer at a time, on every backend. :func:`locked` (a
connection) and :func:`write_session` (a session) open a transaction that takes the lock *first*:
SQLite ``BEGIN IMMEDIATE`` (two writers wait for each other instead of one failing on a lock
upgrade), PostgreSQL a transaction-level advisory lock (``pg_advisory_xact_lock``) keyed by the
schema, so that a writer reads what the previous one committed before it decides what to write
(does the run exist, is the index current, which tables are missing). Lock conflicts that the
database reports without waiting (SQLite does in some cases instead of calling its busy handler)
are retried for up to :data:`LOCK_WAIT_SECONDS`; past that the error says that another writer
holds the lock. A process killed inside the transaction leaves nothing: the database rolls it
back and frees the lock. Readers take no lock and see the last committed state (:func:`snapshot`
for reads that span several statements).

Tables: every module that defines sqlmodel tables puts them in ``SQLModel.metadata``;
:func:`create_tables` creates what is missing and adds columns introduced after a table's first
release (:data:`ADDED_COLUMNS`), under the write lock.

Speed: only SQLAlchemy Core is imported at the top; sqlmodel when a session is opened.
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

from sqlalchemy import create_engine, event, text
from sqlalchemy.engine import Connection, Engine

from simulators.errors import UserError

if TYPE_CHECKING:
    from sqlmodel import Session

T = TypeVar("T")

# -- engine --------------------------------------------------------------------------------

_ENGINES: dict[str, Engine] = {}

#: how long a writer waits for another one's write lock before giving up (SQLite's busy
#: timeout, PostgreSQL's lock timeout, and the retries of conflicts reported at once)
LOCK_WAIT_SECONDS = 60.0


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


#: query parameters of a URL that carry a password (libpq reads ``?password=``)
_SECRET_QUERY = frozenset({"password", "passwd", "pwd"})


def shown_url(url: str) -> str:
    """``url`` as it may be printed: with the password masked (``***``), in the user part and
    in a ``password`` query parameter; an unparseable URL with everything before its ``@``."""
    from sqlalchemy.engine import make_url
    from sqlalchemy.exc import ArgumentError

    try:
        parsed = make_url(url)
        if "@" not in (parsed.host or ""):  # else a password with a raw @ ran into the host
            secret = {k: "***" for k in parsed.query if k.lower() in _SECRET_QUERY}
            shown = parsed.update_query_dict(secret).render_as_string(hide_password=True)
            return shown.replace("%2A%2A%2A", "***")
    except (ArgumentError, ValueError, TypeError):
        pass
    if "@" not in url:
        return url
    head, host = url.rsplit("@", 1)
    scheme = head.split("://", 1)[0] + "://" if "://" in head else ""
    return f"{scheme}***@{host}"


def _first_line(exc: BaseException) -> str:
    lines = str(getattr(exc, "orig", None) or exc).strip().splitlines()
    return lines[0] if lines else type(exc).__name__


#: how the backends word "another transaction holds the lock you need" (SQLite's busy database,
#: PostgreSQL's lock timeout, deadlock and serialization failures)
_LOCK_CONFLICTS = ("database is locked", "database table is locked", "database schema is locked",
                   "lock timeout", "deadlock detected", "could not serialize access",
                   "could not obtain lock")


def is_lock_conflict(exc: BaseException) -> bool:
    """Whether ``exc`` says that another transaction held a lock this one needed: worth retrying,
    and never a matter of file permissions or a missing server."""
    message = str(getattr(exc, "orig", None) or exc).lower()
    return any(words in message for words in _LOCK_CONFLICTS)


def _sqlite_file(parsed: Any) -> Path | None:
    """The database file of an SQLite URL, or None (in memory)."""
    database = parsed.database
    if not database or database == ":memory:" or database.startswith("file:") or parsed.query.get("mode") == "memory":
        return None
    return Path(database)


def _prepare_sqlite(parsed: Any, shown: str) -> None:
    """Create the default ``.mcatlas/`` directory; refuse a file in a missing directory."""
    from metaanalysis.annotations.paths import DB_DIR

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


def _user_error(exc: BaseException, url: str, parsed: Any | None = None, opening: bool = False) -> UserError:
    """A database failure as one line naming the (masked) URL and what to do; ``opening``: the
    first connection, where any database error means the store cannot be opened."""
    from sqlalchemy.exc import (
        ArgumentError,
        DatabaseError,
        DBAPIError,
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
    if isinstance(exc, OperationalError) and is_lock_conflict(exc):
        return UserError(
            f"database {shown}: locked by another writer ({_first_line(exc)}): another process held "
            f"the store's write lock for more than {LOCK_WAIT_SECONDS:g} s; try again when it has finished"
        )
    if isinstance(exc, OperationalError) or type(exc) is DatabaseError:
        backend = parsed.get_backend_name() if parsed is not None else ""
        what = (
            "check that it is an SQLite database file and that its directory exists and is writable"
            if backend == "sqlite"
            else "check that the server is running and the host, port, user, password and database name"
        )
        return UserError(f"database {shown}: cannot open it ({_first_line(exc)}); {what}")
    if opening and isinstance(exc, DBAPIError):  # e.g. an unknown connection option in the URL
        return UserError(f"database {shown}: cannot open it ({_first_line(exc)}); check the URL")
    return UserError(f"database {shown}: {type(exc).__name__}: {_first_line(exc)}")


@contextlib.contextmanager
def database_errors(url: str, drivers: bool = True, opening: bool = False) -> Iterator[None]:
    """Turn SQLAlchemy's connection and URL errors inside the block into a one-line
    :class:`UserError` naming the URL (password masked); ``drivers``: an ImportError too (a
    missing database driver; only around creating the engine, where nothing else is imported);
    ``opening``: every database error (around the first connection)."""
    from sqlalchemy.exc import (
        ArgumentError,
        DatabaseError,
        DBAPIError,
        NoSuchModuleError,
        OperationalError,
    )

    caught: tuple[type[BaseException], ...] = (ArgumentError, NoSuchModuleError, DatabaseError)
    if drivers:
        caught += (ImportError,)
    if opening:
        caught += (DBAPIError,)
    try:
        yield
    except caught as exc:
        # of the DatabaseErrors only "cannot open/use it" ones: OperationalError, and the plain
        # DatabaseError SQLite raises for a file that is not a database. Others (integrity
        # errors ...) would be bugs and keep their type; while opening, there are no others.
        if not opening and isinstance(exc, DatabaseError) and not (
            isinstance(exc, OperationalError) or type(exc) is DatabaseError
        ):
            raise
        from sqlalchemy.engine import make_url

        try:
            parsed = make_url(url)
        except (ArgumentError, ValueError, TypeError):
            parsed = None
        raise _user_error(exc, url, parsed, opening) from None


def _set_wal(cur: Any, seconds: float = LOCK_WAIT_SECONDS) -> None:
    """Switch an SQLite file to WAL journalling, waiting for other processes that are doing the
    same: the switch needs an exclusive lock, and SQLite reports a busy database at once for it
    instead of calling the busy handler, so two processes opening a new file together would
    otherwise fail ("database is locked")."""
    import sqlite3
    import time

    deadline = time.monotonic() + seconds
    delay = 0.01
    while True:
        try:
            if cur.execute("PRAGMA journal_mode").fetchone()[0].lower() != "wal":
                cur.execute("PRAGMA journal_mode=WAL")
            return
        except sqlite3.OperationalError as exc:
            if "locked" not in str(exc) or time.monotonic() > deadline:
                raise
            time.sleep(delay)
            delay = min(2 * delay, 0.5)


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

    try:
        with database_errors(url):
            parsed = make_url(url)
    except ValueError:  # a port that is not a number, an unclosed [ of an IPv6 host
        raise UserError(
            f"database {shown_url(url)}: not a database URL (its host or port cannot be read); use an "
            "SQLAlchemy URL such as sqlite:///path/to/file.db or postgresql+psycopg://user@host:5432/dbname"
        ) from None
    if "@" in (parsed.host or ""):
        raise UserError(
            f"database {shown_url(url)}: the URL has more than one @ (a password with a raw @?); write "
            "an @ in the user or password as %40 or keep the password in ~/.pgpass"
        )
    is_sqlite = parsed.get_backend_name() == "sqlite"
    kwargs: dict[str, Any] = {}
    if is_sqlite:
        _prepare_sqlite(parsed, shown_url(url))
        kwargs["connect_args"] = {"timeout": LOCK_WAIT_SECONDS, "check_same_thread": False}
    with database_errors(url):
        eng = create_engine(parsed, **kwargs)
    if is_sqlite:
        in_memory = _sqlite_file(parsed) is None

        @event.listens_for(eng, "connect")
        def _on_connect(dbapi_conn: Any, _record: Any) -> None:
            dbapi_conn.isolation_level = None  # let the begin event below issue BEGIN
            cur = dbapi_conn.cursor()
            cur.execute(f"PRAGMA busy_timeout={int(LOCK_WAIT_SECONDS * 1000)}")
            if not in_memory:
                _set_wal(cur)
            cur.execute("PRAGMA foreign_keys=ON")
            cur.close()

        @event.listens_for(eng, "begin")
        def _on_begin(conn: Any) -> None:
            mode = conn.get_execution_options().get("sqlite_begin", "")
            conn.exec_driver_sql(f"BEGIN {mode}".strip())

    # first connect: fail here, in one line, if it cannot work
    with database_errors(url, drivers=False, opening=True), eng.connect():
        pass
    _ENGINES[url] = eng
    return eng


def dispose(url: str) -> None:
    """Forget the cached engine of ``url`` and close its pooled connections (a caller that is done
    with a store, e.g. a test that drops it afterwards)."""
    eng = _ENGINES.pop(url, None)
    if eng is not None:
        eng.dispose()


# -- the write lock ------------------------------------------------------------------------

#: the first key of the PostgreSQL advisory lock of a store (the second is its schema's hash)
ADVISORY_LOCK_CLASS = 0x6D63  # "mc"


def _take_lock(conn: Connection) -> None:
    """Take the store's write lock in ``conn``'s open transaction (SQLite: ``BEGIN IMMEDIATE``
    already did). PostgreSQL: the advisory lock of the schema, held until the transaction ends,
    waited for up to :data:`LOCK_WAIT_SECONDS` (the lock timeout then holds for the rest of the
    transaction too)."""
    if conn.dialect.name == "postgresql":
        conn.exec_driver_sql(f"SET LOCAL lock_timeout = {int(LOCK_WAIT_SECONDS * 1000)}")
        conn.execute(text("SELECT pg_advisory_xact_lock(:cls, hashtext(current_schema()))"),
                     {"cls": ADVISORY_LOCK_CLASS})


def retry_lock_conflicts(work: Callable[[], T], seconds: float | None = None) -> T:
    """``work()``, again after a short pause while it fails on a lock conflict
    (:func:`is_lock_conflict`) for up to ``seconds`` (:data:`LOCK_WAIT_SECONDS`). For work that
    is one transaction: a failed attempt has written nothing."""
    from sqlalchemy.exc import OperationalError

    deadline = time.monotonic() + (LOCK_WAIT_SECONDS if seconds is None else seconds)
    delay = 0.01
    while True:
        try:
            return work()
        except OperationalError as exc:
            if not is_lock_conflict(exc) or time.monotonic() > deadline:
                raise
        time.sleep(delay)
        delay = min(2 * delay, 0.5)


def _locked_connection(eng: Engine) -> Connection:
    """A connection whose transaction holds the write lock (retried while the database reports
    a conflict at once instead of waiting)."""

    def attempt() -> Connection:
        conn = eng.connect().execution_options(sqlite_begin="IMMEDIATE")
        try:
            conn.begin()
            _take_lock(conn)
        except BaseException:
            conn.close()  # rolls back, frees the connection
            raise
        return conn

    return retry_lock_conflicts(attempt)


@contextlib.contextmanager
def locked(eng: Engine) -> Iterator[Connection]:
    """A connection inside one transaction that holds the store's write lock from its first
    statement; commits on success, rolls back on error."""
    conn = _locked_connection(eng)
    try:
        yield conn
        conn.commit()
    except BaseException:
        conn.rollback()
        raise
    finally:
        conn.close()


@contextlib.contextmanager
def write_session(eng: Engine) -> Iterator[Session]:
    """A session inside one transaction that holds the store's write lock (:func:`locked`).

    Commits on success, rolls back on error: everything in the block is one transaction.
    """
    from sqlmodel import Session

    with locked(eng) as conn, Session(bind=conn) as session:
        yield session
        session.flush()


def snapshot(eng: Engine) -> Engine:
    """``eng`` for reads that span several statements and must see one committed state (a
    writer may commit between them): PostgreSQL's ``REPEATABLE READ``; SQLite's transactions
    read one snapshot already."""
    if eng.dialect.name == "postgresql":
        return eng.execution_options(isolation_level="REPEATABLE READ")
    return eng


# -- tables --------------------------------------------------------------------------------


def create_tables(bind: Engine | Connection) -> None:
    """Create every table registered in ``SQLModel.metadata`` that does not exist yet, and add
    the columns of :data:`ADDED_COLUMNS` that an older store lacks.

    An engine: in a transaction of its own under the write lock, so that processes opening a
    fresh store at once create each table once. A connection: in its transaction, whose caller
    holds the lock (:func:`locked`).
    """
    from sqlmodel import SQLModel

    from . import tables  # noqa: F401 - registers the annotation tables

    if isinstance(bind, Engine):
        with locked(bind) as conn:
            create_tables(conn)
        return
    SQLModel.metadata.create_all(bind)
    _add_missing_columns(bind)


#: columns added to annotation tables after their first release: (table, column, SQL type).
#: The annotation tables are rebuilt from the YAML on every sync (and INDEX_VERSION changes the
#: fingerprint, forcing one), so adding the nullable column to an older database is all the
#: migration they need.
ADDED_COLUMNS: tuple[tuple[str, str, str], ...] = (("setup", "sweep_n", "JSON"), ("claim", "law", "VARCHAR"),
                                                  ("paper", "arxiv_version", "INTEGER"))


def _add_missing_columns(conn: Connection) -> None:
    from sqlalchemy import inspect

    insp = inspect(conn)
    for table, column, sql_type in ADDED_COLUMNS:
        if insp.has_table(table) and column not in {c["name"] for c in insp.get_columns(table)}:
            conn.exec_driver_sql(f"ALTER TABLE {table} ADD COLUMN {column} {sql_type}")
