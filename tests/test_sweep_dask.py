"""Sweeps on Dask with real worker processes: the executor's own ``LocalCluster`` of processes, an
external ``dask scheduler`` with two ``dask worker`` processes on loopback, and a worker SIGKILLed
mid-sweep while it computes one configuration and holds the result of another.

What must hold: the stored evidence (verdicts, aggregates and frames, keyed by configuration hash)
is identical to the serial executor's on the same grid, and a lost worker's configurations are
computed by another worker and stored exactly once and whole, without recomputing results the
sweep had already received.

The external cluster runs ``dask worker --no-nanny``, so the process the test starts is the worker
itself and a SIGKILL loses it for good (a nanny would restart it); ``--death-timeout`` ends the
workers if the scheduler goes away, so nothing outlives a killed test run for long. Every port is
chosen by the OS (``--port 0``; workers listen on a random port), and the scheduler's address is
read from its ``--scheduler-file``.
"""

from __future__ import annotations

import io
import json
import os
import signal
import sqlite3
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from cli.main import main
from metaanalysis import evidence as ev
from metaanalysis.evidence import sweep as sw
from simulators.verdicts import BASELINE_METRIC
from simulators.vocabulary import DEFINITIONS

distributed = pytest.importorskip(
    "distributed", reason="the dask executor needs dask[distributed], which is not importable here")

REPO = Path(__file__).resolve().parent.parent
FIXTURE = REPO / "tests" / "fixtures" / "evidence" / "annotations"

#: 2 policies x 2 lengths x 2 category counts = 8 small configurations (well under a second each)
GRID = {
    "name": "coins", "simulator": "discrete", "policy": ["replace", "mix"], "real_fraction": 0.5,
    "seeds": 4, "iterations": [6, 9], "params": {"categories": [2, 3], "n": 5},
}

#: 6 configurations of about half a second each on an idle machine: long enough to kill a
#: worker in the middle of one
SLOW_GRID = {
    "name": "slow", "simulator": "discrete", "policy": "replace", "seeds": 20, "iterations": 100,
    "params": {"categories": [2, 3, 4, 5, 6, 7], "n": 100},
}

#: seconds to wait for a cluster to come up or a task to start (generous: CI machines are slow)
STARTUP_TIMEOUT = 60.0


# --------------------------------------------------------------------------- reading the store


def _evidence(db: Path) -> dict[str, dict[str, Any]]:
    """Everything stored about each run that the computation determines, keyed by configuration
    hash: its aggregate rows, verdict rows (every column) and per-seed frame rows, sorted."""
    import pandas as pd

    con = sqlite3.connect(db)
    try:
        out: dict[str, dict[str, Any]] = {}
        for (digest,) in con.execute("select config_hash from evidence_run"):
            run: dict[str, Any] = {}
            for table in ("evidence_aggregate", "evidence_verdict"):
                run[table] = sorted(con.execute(f"select * from {table} where config_hash = ?", (digest,)),
                                    key=repr)
            (blob,) = con.execute("select data from evidence_frame where config_hash = ?", (digest,)).fetchone()
            frame = pd.read_parquet(io.BytesIO(blob))
            run["frame"] = sorted(frame.itertuples(index=False, name=None), key=repr)
            out[digest] = run
        return out
    finally:
        con.close()


def _stored(db: Path) -> set[str]:
    """The configuration hashes of the stored runs."""
    con = sqlite3.connect(db)
    try:
        return {r[0] for r in con.execute("select config_hash from evidence_run")}
    finally:
        con.close()


def assert_stored_once_and_whole(db: Path, sweep: sw.Sweep) -> None:
    """Each planned configuration stored exactly once, and complete: one run row, one frame, the
    verdicts of every definition at every horizon, aggregates for every (iteration, metric) of
    its frame; and SQLite finds the file intact."""
    import pandas as pd

    con = sqlite3.connect(db)
    try:
        assert con.execute("pragma integrity_check").fetchone()[0] == "ok"
        counts = dict(con.execute("select config_hash, count(*) from evidence_run group by config_hash"))
        assert counts == dict.fromkeys(sweep.hashes, 1)
        frames = dict(con.execute("select config_hash, count(*) from evidence_frame group by config_hash"))
        assert frames == dict.fromkeys(sweep.hashes, 1)
        for config, digest in zip(sweep.configs, sweep.hashes):
            verdicts = set(con.execute("select horizon, definition from evidence_verdict where config_hash = ?",
                                       (digest,)))
            assert verdicts == {(h, d) for h in ev.horizons_of(config) for d in DEFINITIONS}, digest
            (blob,) = con.execute("select data from evidence_frame where config_hash = ?", (digest,)).fetchone()
            frame = pd.read_parquet(io.BytesIO(blob))
            assert sorted(frame["seed"].unique()) == sorted(config["seeds"])
            assert frame["iteration"].nunique() == config["iterations"]
            measured = frame[frame["metric"] != BASELINE_METRIC]
            aggregates = set(con.execute("select iteration, metric from evidence_aggregate where config_hash = ?",
                                         (digest,)))
            assert aggregates == set(zip(measured["iteration"].tolist(), measured["metric"].tolist())), digest
    finally:
        con.close()


@pytest.fixture(scope="module")
def serial(tmp_path_factory: pytest.TempPathFactory) -> dict[str, dict[str, Any]]:
    """The evidence the serial executor stores for :data:`GRID` (the reference)."""
    db = tmp_path_factory.mktemp("serial") / "serial.db"
    s = sw.expand(GRID)
    out = sw.run_sweep(ev.open_evidence(f"sqlite:///{db}", FIXTURE), s, executor="serial")
    assert sorted(out.stored) == sorted(s.hashes)
    return _evidence(db)


# --------------------------------------------------------------------------- an external cluster


@dataclass
class ExternalCluster:
    """A ``dask scheduler`` and its ``dask worker`` processes, started by the test."""

    address: str
    scheduler: subprocess.Popen
    workers: list[subprocess.Popen]
    #: worker pid -> the worker's address
    addresses: dict[int, str]
    logs: list[Path] = field(default_factory=list)

    def log_tail(self) -> str:
        """The end of each process's log, for failure messages."""
        return _tails(self.logs)


def _tails(logs: list[Path], chars: int = 3000) -> str:
    """The end of each process's log, for failure messages."""
    return "\n".join(f"--- {p.name}\n{p.read_text(errors='replace')[-chars:]}" for p in logs if p.exists())


def _poll(ready: Callable[[], Any], timeout: float, what: Callable[[], str], every: float = 0.05) -> Any:
    """``ready()``'s first true value, polled until ``timeout`` seconds; else fail with ``what()``."""
    deadline = time.monotonic() + timeout
    while True:
        value = ready()
        if value:
            return value
        if time.monotonic() > deadline:
            pytest.fail(what())
        time.sleep(every)


def _listening(pid: int) -> set[tuple[str, int]]:
    """The (address, port) pairs process ``pid`` listens on (TCP/UDP, IPv4 and IPv6)."""
    import psutil

    return {(c.laddr.ip, c.laddr.port) for c in psutil.Process(pid).net_connections("inet")
            if c.status == psutil.CONN_LISTEN}


def _workers_by_pid(client: Any) -> dict[int, str]:
    """Each connected worker's address, by its process id."""
    return {pid: addr for addr, pid in client.run(os.getpid).items()}


@pytest.fixture
def external_cluster(tmp_path: Path, request: pytest.FixtureRequest) -> ExternalCluster:
    """A scheduler and two single-threaded worker processes on 127.0.0.1 (OS-chosen ports, no
    dashboards), with the project importable. The finalizer ends every process it started, also
    when the setup or the test fails."""
    procs: list[subprocess.Popen] = []
    handles: list[Any] = []

    def stop() -> None:
        # workers first, while their scheduler still answers: a worker whose scheduler is gone
        # can hang on SIGTERM in its own shutdown
        for proc in reversed(procs):
            if proc.poll() is None:
                proc.terminate()
                try:
                    proc.wait(timeout=10)
                except subprocess.TimeoutExpired:
                    proc.kill()
                    proc.wait(timeout=10)
        for handle in handles:
            handle.close()

    request.addfinalizer(stop)
    env = dict(os.environ, PYTHONPATH=str(REPO), OMP_NUM_THREADS="1")
    logs: list[Path] = []

    def start(name: str, *args: str) -> subprocess.Popen:
        log = tmp_path / f"{name}.log"
        logs.append(log)
        handles.append(log.open("wb"))
        proc = subprocess.Popen([sys.executable, "-m", "dask", *args], cwd=tmp_path, env=env,
                                stdin=subprocess.DEVNULL, stdout=handles[-1], stderr=subprocess.STDOUT)
        procs.append(proc)
        return proc

    scheduler_file = tmp_path / "scheduler.json"
    # --no-dashboard alone still serves HTTP (health, metrics) on every interface: bind it here
    loopback_http = ("--no-dashboard", "--dashboard-address", "127.0.0.1:0")
    scheduler = start("scheduler", "scheduler", "--host", "127.0.0.1", "--port", "0", *loopback_http,
                      "--scheduler-file", str(scheduler_file))

    def address() -> str | None:
        assert scheduler.poll() is None, f"the scheduler exited\n{_tails(logs)}"
        try:
            return json.loads(scheduler_file.read_text())["address"]
        except (OSError, ValueError, KeyError):
            return None  # not written yet, or half written

    addr = _poll(address, STARTUP_TIMEOUT, lambda: f"the scheduler wrote no address\n{_tails(logs)}")
    assert addr.startswith("tcp://127.0.0.1:"), addr
    workers = [start(f"worker{i}", "worker", addr, "--host", "127.0.0.1", "--nthreads", "1", "--no-nanny",
                     *loopback_http, "--name", f"worker{i}", "--death-timeout", "60") for i in range(2)]
    with distributed.Client(addr, timeout="30s") as client:
        try:
            client.wait_for_workers(2, timeout=STARTUP_TIMEOUT)
        except TimeoutError:
            pytest.fail(f"the workers did not join the scheduler\n{_tails(logs)}")
        addresses = _workers_by_pid(client)
    assert sorted(addresses) == sorted(w.pid for w in workers), "the workers are not the processes started here"
    listening = {ip for proc in procs for ip, _ in _listening(proc.pid)}
    assert listening and all(ip.startswith("127.") for ip in listening), f"listening beyond loopback: {listening}"
    return ExternalCluster(addr, scheduler, workers, addresses, logs)


# --------------------------------------------------------------------------- the tests


def test_a_localcluster_of_worker_processes_stores_what_serial_stores(tmp_path, serial):
    """``--workers 2``: the executor's own LocalCluster, two single-threaded worker processes that
    listen on loopback only, gives the serial executor's evidence, bit for bit."""
    db = tmp_path / "local.db"
    s = sw.expand(GRID)
    seen: dict[str, Any] = {}
    before = _listening(os.getpid())

    def look(done: int, total: int) -> None:  # called in the sweep's process while its client is open
        if done >= 1 and not seen:
            client = distributed.default_client()
            pids = client.run(os.getpid)
            seen.update(info=client.scheduler_info(n_workers=-1), pids=pids, listening={
                pid: _listening(pid) for pid in [os.getpid(), *pids.values()]})

    out = sw.run_sweep(ev.open_evidence(f"sqlite:///{db}", FIXTURE), s, executor="dask", workers=2, progress=look)
    assert (out.total, out.skipped, sorted(out.stored), out.existed) == (8, 0, sorted(s.hashes), 0)
    workers = seen["info"]["workers"]
    assert len(workers) == 2 and all(w["nthreads"] == 1 for w in workers.values())
    assert set(seen["pids"]) == set(workers)
    pids = set(seen["pids"].values())
    assert len(pids) == 2 and os.getpid() not in pids, "the workers are not separate processes"
    assert seen["info"]["address"].startswith("tcp://127.0.0.1:")
    # the scheduler and nannies (in this process) and the workers listen on loopback, nowhere else
    seen["listening"][os.getpid()] -= before
    opened = set().union(*seen["listening"].values())
    assert len(opened) >= 3 and all(ip.startswith("127.") for ip, _ in opened), opened
    assert _evidence(db) == serial
    assert_stored_once_and_whole(db, s)


def test_a_sweep_through_an_external_scheduler_stores_what_serial_stores(tmp_path, serial, external_cluster):
    """``mcatlas sweep FILE --executor dask --scheduler ADDRESS`` on a cluster started apart from
    the sweep: the serial evidence, bit for bit, and computed by the cluster's workers."""
    grid = tmp_path / "coins.yaml"
    grid.write_text(json.dumps(GRID))  # JSON is YAML
    db = tmp_path / "external.db"
    args = ["--annotations", str(FIXTURE), "--db", f"sqlite:///{db}", "--quiet", "sweep", str(grid),
            "--executor", "dask", "--scheduler", external_cluster.address]
    with distributed.Client(external_cluster.address, timeout="30s") as monitor, \
            distributed.get_task_stream(client=monitor) as stream:
        res = CliRunner().invoke(main, [*args, "--format", "json"])
    assert res.exit_code == 0, res.output + external_cluster.log_tail()
    assert json.loads(res.output[res.output.index("{"):]) == {
        "name": "coins", "total": 8, "skipped": 0, "stored": 8, "existed": 0}
    assert _evidence(db) == serial
    assert_stored_once_and_whole(db, sw.expand(GRID))
    # the work ran on the external workers, once per configuration
    assert len(stream.data) == 8
    assert {r["worker"] for r in stream.data} <= set(external_cluster.addresses.values())
    again = CliRunner().invoke(main, args)
    assert again.exit_code == 0 and "8 already stored (skipped); 0 run and stored" in again.output, again.output


def test_a_worker_killed_mid_sweep_is_recomputed_elsewhere_and_stored_once(tmp_path, external_cluster):
    """SIGKILL a worker process that holds a finished result the sweep has not received yet and
    has just started another configuration: the scheduler gives both to the other worker, the
    sweep completes, and the store holds every configuration exactly once and whole.

    The sweep runs inside ``with Client(...)`` of another client (the test's monitor), as in a
    notebook: the lost result must still be waited for on the sweep's own client."""
    db = tmp_path / "killed.db"
    s = sw.expand(SLOW_GRID)
    eng = ev.open_evidence(f"sqlite:///{db}", FIXTURE)
    killed: dict[str, Any] = {}
    procs = {p.pid: p for p in external_cluster.workers}
    addresses = external_cluster.addresses

    def state(dask_worker: Any) -> dict[str, Any]:
        """On each worker (``Client.run``; nested, so it is pickled by value): the results it
        holds (key -> configuration hash), and the keys it is computing with how long they have
        run."""
        now = time.time()
        return {"memory": {k: dask_worker.data[k].config_hash for k, ts in dask_worker.state.tasks.items()
                           if ts.state == "memory"},
                "executing": [(ts.key, now - ts.start_time) for ts in dask_worker.state.executing
                              if ts.start_time]}

    with distributed.Client(external_cluster.address, timeout="30s") as monitor, \
            distributed.get_task_stream(client=monitor) as stream:

        def kill_once(done: int, total: int) -> None:
            """After the first stored result (mid-sweep, and the sweep waits here, so nothing more
            is received): SIGKILL the first worker found holding a result and within the first
            quarter of computing another configuration (the stored run's wall time sets the
            pace, so a loaded machine does not turn the kill into one after the task)."""
            if done < 1 or killed:
                return
            con = sqlite3.connect(db)
            try:
                (wall,) = con.execute("select min(wall_time) from evidence_run").fetchone()
            finally:
                con.close()

            def ready() -> tuple[str, dict[str, str], list[str], set[str]] | None:
                snapshot = monitor.run(state)
                for addr, got in snapshot.items():
                    fresh = [k for k, age in got["executing"] if age < wall / 4]
                    if got["memory"] and fresh:
                        everywhere = {h for w in snapshot.values() for h in w["memory"].values()}
                        return addr, got["memory"], fresh, everywhere
                return None

            addr, held, running, everywhere = _poll(
                ready, STARTUP_TIMEOUT, lambda: "no worker held a result and started another configuration",
                every=0.01)
            pid = next(p for p, a in addresses.items() if a == addr)
            os.kill(pid, signal.SIGKILL)
            procs[pid].wait(timeout=30)
            killed.update(address=addr, held=held, running=running, stored=_stored(db), everywhere=everywhere)

        out = sw.run_sweep(eng, s, executor="dask", scheduler=external_cluster.address, progress=kill_once)
        survivors = set(_workers_by_pid(monitor).values())

    assert killed, "no worker was killed"
    assert survivors == set(addresses.values()) - {killed["address"]}, "the scheduler did not lose the worker"
    (survivor,) = survivors
    assert (out.total, out.skipped, sorted(out.stored), out.existed) == (6, 0, sorted(s.hashes), 0)
    # where each configuration was computed: the lost ones again on the survivor, and only there
    by_key: dict[str, list[str]] = {}
    for record in sorted(stream.data, key=lambda r: r["startstops"][0]["start"]):
        by_key.setdefault(record["key"], []).append(record["worker"])
    assert len(by_key) == 6
    assert not killed["everywhere"] & killed["stored"], "a worker kept a result the sweep had received"
    for key in killed["held"]:
        assert by_key[key] == [killed["address"], survivor], f"the held result {key}: {by_key[key]}"
    for key in killed["running"]:
        assert by_key[key] == [survivor], f"the running configuration {key}: {by_key[key]}"
    # results the sweep had already received were not computed again
    again = [k for k, where in by_key.items() if len(where) > 1 and k not in killed["held"]]
    assert again == [], f"computed twice although already received: {again}"
    assert_stored_once_and_whole(db, s)
