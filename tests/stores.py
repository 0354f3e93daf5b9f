"""Fresh stores on each backend for the store and evidence tests, and backend-neutral reads.

SQLite: a file in the test's temporary directory. PostgreSQL: a schema of its own (named
``mcatlas_test_<random>``) in the database of :data:`TEST_DB_ENV`, reached through a URL whose
``options`` set the ``search_path`` to it, so that every process given that URL (the CLI in a
subprocess too) sees only that store; the schema is dropped afterwards. Without
:data:`TEST_DB_ENV` the PostgreSQL variants are skipped with a reason that says how to run them.

Imported as ``stores`` (pytest puts this folder on ``sys.path``); the fixtures are in
``conftest.py``.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

#: the server the PostgreSQL variants run against (a URL with the psycopg driver)
TEST_DB_ENV = "MCATLAS_TEST_DB"
BACKENDS = ("sqlite", "postgresql")
SKIP_REASON = (
    f"PostgreSQL variant: set {TEST_DB_ENV}=postgresql+psycopg://USER:PASSWORD@HOST:PORT/DB (a database "
    "in which USER may create schemas) to run it; .ci/run starts such a server"
)


def server_url() -> str | None:
    """The PostgreSQL server of the tests (:data:`TEST_DB_ENV`), or None."""
    return os.environ.get(TEST_DB_ENV) or None


def _plain_engine(url: str) -> Any:
    """An engine without a pool (nothing stays connected) for the tests' own reads and setup."""
    from sqlalchemy import create_engine
    from sqlalchemy.pool import NullPool

    return create_engine(url, poolclass=NullPool)


def _schema_url(base: str, schema: str) -> str:
    from sqlalchemy.engine import make_url

    url = make_url(base).update_query_dict({"options": f"-csearch_path={schema}"})
    return url.render_as_string(hide_password=False)


def new_store(backend: str, directory: Path) -> Iterator[str]:
    """The URL of a fresh, empty store on ``backend`` (dropped after the ``yield``); skips the
    test when the backend is PostgreSQL and no server is configured."""
    from metaanalysis.store.database import dispose

    if backend == "sqlite":
        url = f"sqlite:///{directory / 'store.db'}"
        yield url
        dispose(url)
        return
    base = server_url()
    if base is None:
        pytest.skip(SKIP_REASON)
    schema = f"mcatlas_test_{uuid.uuid4().hex[:12]}"
    admin = _plain_engine(base)
    with admin.begin() as conn:
        conn.exec_driver_sql(f'CREATE SCHEMA "{schema}"')
    url = _schema_url(base, schema)
    try:
        yield url
    finally:
        dispose(url)
        with admin.begin() as conn:
            conn.exec_driver_sql(f'DROP SCHEMA "{schema}" CASCADE')
        admin.dispose()


def backend_of(url: str) -> str:
    """``"sqlite"`` or ``"postgresql"``."""
    return url.split(":", 1)[0].split("+", 1)[0]


def rows(url: str, sql: str, **params: Any) -> list[tuple[Any, ...]]:
    """The rows of ``sql`` on the store, read over a connection of its own (a second reader)."""
    from sqlalchemy import text

    eng = _plain_engine(url)
    try:
        with eng.connect() as conn:
            return [tuple(r) for r in conn.execute(text(sql), params)]
    finally:
        eng.dispose()


def count(url: str, table: str) -> int:
    """Rows in ``table`` (0 while the table does not exist yet), read as a second reader."""
    from sqlalchemy import inspect

    eng = _plain_engine(url)
    try:
        if not inspect(eng).has_table(table):
            return 0
        with eng.connect() as conn:
            return conn.exec_driver_sql(f"SELECT count(*) FROM {table}").scalar_one()
    finally:
        eng.dispose()


def tables(url: str) -> set[str]:
    """The names of the store's tables."""
    from sqlalchemy import inspect

    eng = _plain_engine(url)
    try:
        return set(inspect(eng).get_table_names())
    finally:
        eng.dispose()
