"""One store shared by several processes, on SQLite and (with MCATLAS_TEST_DB set) PostgreSQL:
processes opening a fresh store at once, concurrent sweeps of one grid, a sweep killed inside its
write, a writer that waits too long for the lock, and URLs whose password is never printed.

(Concurrent reruns of one paper and a rerun killed inside its write: tests/test_evidence_rerun.py.)
"""

from __future__ import annotations

import contextlib
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner
from helpers import running, sigkill, wait_until
from stores import BACKENDS, SKIP_REASON, backend_of, count, new_store, rows, server_url, tables

from cli.main import main
from metaanalysis import evidence as ev
from metaanalysis.store import database
from simulators.errors import UserError
from simulators.vocabulary import DEFINITIONS

REPO = Path(__file__).resolve().parent.parent
FIXTURE = REPO / "tests" / "fixtures" / "evidence" / "annotations"
TABLES = ("evidence_run", "evidence_link", "evidence_aggregate", "evidence_verdict", "evidence_frame")


def _cli(*args: str) -> list[str]:
    return [sys.executable, "-c", "from cli.main import main; main()", *args]


def _env(url: str, **extra: str) -> dict[str, str]:
    return dict(os.environ, MCATLAS_ANNOTATIONS=str(FIXTURE), MCATLAS_DB=url, PYTHONPATH=str(REPO), **extra)


# -- opening a fresh store ---------------------------------------------------------------------

#: one process of the test below: for each store in turn, wait until all processes are at it
#: (a barrier of files), then open it; even rounds as `open_index` does (tables created with
#: the index), odd ones as `open_evidence` does (every table first); prints whether each sync
#: rebuilt the index
OPENER = """
import json, os, sys, time
from pathlib import Path
from metaanalysis.evidence.tables import ensure_tables
from metaanalysis.store.database import engine
from metaanalysis.store.index import ensure_synced

urls, barrier, me, n = json.loads(sys.argv[1]), Path(sys.argv[2]), sys.argv[3], int(sys.argv[4])
synced = []
for k, url in enumerate(urls):
    (barrier / f"{k}-{me}").touch()
    deadline = time.monotonic() + 60
    while len(list(barrier.glob(f"{k}-*"))) < n:
        if time.monotonic() > deadline:
            sys.exit(f"another process never reached store {k} (it failed before)")
        time.sleep(0.001)
    eng = engine(url)
    if k % 2:
        ensure_tables(eng)
    synced.append(ensure_synced(eng, Path(os.environ["MCATLAS_ANNOTATIONS"])))
print(json.dumps(synced))
"""


@pytest.mark.parametrize("backend", BACKENDS)
def test_processes_opening_a_fresh_store_at_once_all_succeed_and_sync_once(backend, tmp_path):
    """Three processes open each of six fresh stores at the same moment: none fails (SQLite used
    to report 'database is locked' when two created tables at once; PostgreSQL duplicate keys),
    and for each store exactly one of them builds the index; the others find it built."""
    rounds, procs = 6, 3
    barrier = tmp_path / "barrier"
    barrier.mkdir()
    with contextlib.ExitStack() as stack:
        urls = [stack.enter_context(contextlib.contextmanager(new_store)(backend, _dir(tmp_path, k)))
                for k in range(rounds)]
        results = _all_at_once([[sys.executable, "-c", OPENER, json.dumps(urls), str(barrier), str(i), str(procs)]
                                for i in range(procs)], _env(urls[0]))
        synced = [json.loads(out) for out in results]
        assert [sum(s[k] for s in synced) for k in range(rounds)] == [1] * rounds
        for k, url in enumerate(urls):
            assert count(url, "paper") == 3 and count(url, "claim") > 0
            assert "evidence_run" in tables(url) or not k % 2
            if backend == "sqlite":
                assert rows(url, "pragma integrity_check") == [("ok",)]


def _all_at_once(commands: list[list[str]], env: dict[str, str], timeout: float = 300) -> list[str]:
    """Start every command at once, wait for all; each must succeed; their outputs. None is left
    running if one fails or hangs."""
    with contextlib.ExitStack() as stack:
        procs = [stack.enter_context(running(cmd, cwd=REPO, env=env)) for cmd in commands]
        results = [p.communicate(timeout=timeout) for p in procs]
    for p, (_, err) in zip(procs, results):
        assert p.returncode == 0, err.decode()
    return [out.decode() for out, _ in results]


def _dir(tmp_path: Path, k: int) -> Path:
    path = tmp_path / f"store{k}"
    path.mkdir()
    return path


# -- sweeps ------------------------------------------------------------------------------------

GRID = """\
name: shared
simulator: discrete
policy: [replace, accumulate]
seeds: 4
iterations: 5
params:
  categories: [2, 3, 4]
  n: 6
"""


def test_concurrent_sweeps_of_one_grid_store_each_configuration_once(store_url, tmp_path):
    grid = tmp_path / "grid.yaml"
    grid.write_text(GRID)
    cmd = _cli("--quiet", "sweep", str(grid), "--executor", "serial", "--format", "json")
    outcomes = [json.loads(out) for out in _all_at_once([cmd] * 3, _env(store_url))]
    for o in outcomes:  # each process accounts for every configuration once
        assert o["skipped"] + o["stored"] + o["existed"] == o["total"] == 6
    # every configuration was stored by exactly one process; the others skipped it or found
    # it stored inside their write transaction
    assert sum(o["stored"] for o in outcomes) == 6
    hashes = [h for (h,) in rows(store_url, "select config_hash from evidence_run where sweep = 'shared'")]
    assert len(hashes) == len(set(hashes)) == 6
    assert count(store_url, "evidence_frame") == 6
    assert count(store_url, "evidence_verdict") == 6 * 2 * len(DEFINITIONS)


def test_a_sweep_killed_inside_its_write_leaves_no_partial_run_and_resumes(store_url, tmp_path):
    grid = tmp_path / "grid.yaml"
    grid.write_text(GRID)
    marker = tmp_path / "in-transaction"
    cmd = _cli("--quiet", "sweep", str(grid), "--executor", "serial", "--format", "json")
    with running(cmd, cwd=REPO, env=_env(store_url, **{ev.PAUSE_ENV: str(marker)})) as proc:
        wait_until(proc, marker.exists, 120, "the sweep never reached its write transaction")
        for table in TABLES:  # a second reader sees nothing of the run being written
            assert count(store_url, table) == 0, table
        sigkill(proc)
    for table in TABLES:
        assert count(store_url, table) == 0, table
    done = subprocess.run(cmd, cwd=REPO, env=_env(store_url), capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout) == {"name": "shared", "total": 6, "skipped": 0, "stored": 6, "existed": 0}
    per_run = rows(store_url, "select r.config_hash, count(distinct a.iteration) from evidence_run r "
                              "join evidence_aggregate a on a.config_hash = r.config_hash group by r.config_hash")
    assert sorted(n for _, n in per_run) == [5] * 6  # every run whole: every iteration summarised


# -- a writer that waits too long --------------------------------------------------------------


@contextlib.contextmanager
def _holding_the_write_lock(url: str):
    """Another writer holding the store's write lock (an open transaction that took it)."""
    if backend_of(url) == "sqlite":
        import sqlite3

        con = sqlite3.connect(url.removeprefix("sqlite:///"), isolation_level=None)
        con.execute("PRAGMA journal_mode=WAL")
        con.execute("BEGIN IMMEDIATE")
        yield
        con.rollback()
        con.close()
        return
    from sqlalchemy import create_engine, text
    from sqlalchemy.pool import NullPool

    eng = create_engine(url, poolclass=NullPool)
    with eng.connect() as conn:
        conn.execute(text("SELECT pg_advisory_xact_lock(:c, hashtext(current_schema()))"),
                     {"c": database.ADVISORY_LOCK_CLASS})
        yield
        conn.rollback()
    eng.dispose()


def test_a_writer_kept_waiting_says_the_store_is_locked_by_another_writer(store_url, monkeypatch):
    """Not 'check that the directory is writable' or 'check that the server is running': the
    message says what happened."""
    monkeypatch.setattr(database, "LOCK_WAIT_SECONDS", 0.5)
    with _holding_the_write_lock(store_url):
        with pytest.raises(UserError) as info:
            ev.open_evidence(store_url, FIXTURE)
        message = str(info.value)
        assert "locked by another writer" in message and "more than 0.5 s" in message, message
        assert "writable" not in message and "server is running" not in message
        assert "\n" not in message
        assert count(store_url, "paper") == 0  # nothing written
        # the CLI: one line, exit 1
        res = CliRunner().invoke(main, ["--annotations", str(FIXTURE), "--db", store_url, "runs"])
        assert res.exit_code == 1 and "locked by another writer" in res.output, res.output
        assert res.output.count("\n") == 1
    # once the other writer is done, the store opens
    eng = ev.open_evidence(store_url, FIXTURE)
    assert count(store_url, "paper") == 3 and ev.has_evidence(eng)


# -- passwords ---------------------------------------------------------------------------------

SECRET = "pw-S3CRET-do-not-print"


@pytest.mark.parametrize("url, needle", [
    pytest.param(f"postgresql+psycopg://me:{SECRET}@127.0.0.1:1/lab", "cannot open it", id="no-server"),
    pytest.param(f"postgresql+psycopg://me:{SECRET}@127.0.0.1:notaport/lab", "host or port cannot be read",
                 id="bad-port"),
    pytest.param(f"postgresql+psycopg://me:{SECRET}@[::1/lab", "host or port cannot be read", id="bad-ipv6"),
    pytest.param(f"postgresql+psycopg://me:{SECRET}@127.0.0.1:1/lab?badoption=1", "invalid connection option",
                 id="bad-option"),
    pytest.param(f"postgresql+psycopg://me@127.0.0.1:1/lab?password={SECRET}", "cannot open it",
                 id="password-option"),
    pytest.param(f"postgresql+psycopg://me:a@{SECRET}@127.0.0.1:1/lab", "more than one @", id="raw-at"),
    pytest.param(f"postgresql+nosuchdriver://me:{SECRET}@127.0.0.1/lab", "unknown database kind",
                 id="unknown-driver"),
    pytest.param(f"me:{SECRET}@127.0.0.1/lab", "not a database URL", id="no-scheme"),
])
def test_a_password_in_a_bad_url_is_never_printed(url, needle):
    res = CliRunner().invoke(main, ["--annotations", str(FIXTURE), "--db", url, "runs"])
    assert res.exit_code == 1, res.output
    assert needle in res.output and res.output.count("\n") == 1, res.output
    assert "S3CRET" not in res.output and "***" in res.output, res.output


def test_the_servers_password_is_never_printed(tmp_path):
    """Against the real server: a wrong password, an unknown database, and the commands that
    work (db sync, rerun, runs, sweep, matrix) print neither the right password nor the wrong one."""
    base = server_url()
    if base is None:
        pytest.skip(SKIP_REASON)
    from sqlalchemy.engine import make_url

    parsed = make_url(base)
    password = parsed.password or ""
    with contextlib.contextmanager(new_store)("postgresql", tmp_path) as url:
        args = ["--annotations", str(FIXTURE), "--db", url]
        wrong = parsed.set(password=SECRET).render_as_string(hide_password=False)
        missing = parsed.set(database="mcatlas_no_such_database").render_as_string(hide_password=False)
        for bad, needle in ((wrong, "password authentication failed"), (missing, "does not exist")):
            res = CliRunner().invoke(main, ["--annotations", str(FIXTURE), "--db", bad, "runs"])
            assert res.exit_code == 1 and needle in res.output and res.output.count("\n") == 1, res.output
            assert SECRET not in res.output and (not password or password not in res.output), res.output
        grid = tmp_path / "grid.yaml"
        grid.write_text(GRID.replace("categories: [2, 3, 4]", "categories: 2"))
        outputs = []
        for command in (["db", "sync"], ["rerun", "tinyb2023"], ["runs"], ["runs", "--format", "json"],
                        ["sweep", str(grid), "--executor", "serial"], ["matrix", "--evidence"]):
            res = CliRunner().invoke(main, [*args, *command])
            assert res.exit_code == 0, res.output
            outputs.append(res.output)
        assert "***" in outputs[0]  # sync names the store, masked
        if password:
            assert not [o for o in outputs if password in o]
