"""Sweeps: grid expansion, executors (serial, processes, a Dask LocalCluster on loopback),
resuming after SIGKILL without duplicates, one-line errors."""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest
from click.testing import CliRunner
from helpers import running, sigkill, wait_until

from cli.main import main
from metaanalysis import evidence as ev
from metaanalysis.evidence import provenance as prov
from metaanalysis.evidence import sweep as sw
from simulators.errors import UserError

REPO = Path(__file__).resolve().parent.parent
FIXTURE = REPO / "tests" / "fixtures" / "evidence" / "annotations"

GRID = """\
name: coins
simulator: discrete
policy: [replace, mix]
real_fraction: [0.5]
seeds: 4
iterations: [6, 9]
params:
  categories: [2, 3]
  n: 5
"""


def _runs(db: Path, sweep: str | None = None) -> list[str]:
    con = sqlite3.connect(db, timeout=30)
    try:
        q = "select config_hash from evidence_run" + (" where sweep = ?" if sweep else "")
        return [r[0] for r in con.execute(q, (sweep,) if sweep else ())]
    except sqlite3.OperationalError:
        return []
    finally:
        con.close()


def _sweep_process(db: Path, grid: Path, *options: str) -> tuple[list[str], dict[str, str]]:
    """The command line of ``mcatlas --quiet sweep GRID OPTIONS`` in a fresh interpreter, and its
    environment: the fixture annotations, evidence stored in ``db``."""
    cmd = [sys.executable, "-c", "from cli.main import main; main()", "--quiet", "sweep", str(grid), *options]
    env = dict(os.environ, MCATLAS_ANNOTATIONS=str(FIXTURE), MCATLAS_DB=f"sqlite:///{db}", PYTHONPATH=str(REPO))
    return cmd, env


def _assert_resumes(cmd: list[str], env: dict[str, str], db: Path, sweep: str, before: int, total: int) -> None:
    """The sweep run again (after one killed with ``before`` of its ``total`` runs stored) skips
    those, stores the rest, and leaves every run stored once."""
    done = subprocess.run([*cmd, "--format", "json"], check=False, cwd=REPO, env=env, capture_output=True,
                          text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    out = json.loads(done.stdout)
    assert out["skipped"] == before and out["stored"] == total - before
    hashes = _runs(db, sweep)
    assert len(hashes) == len(set(hashes)) == total


def test_grid_is_the_product_and_real_fraction_only_where_it_applies():
    s = sw.expand(__import__("yaml").safe_load(GRID))
    assert s.name == "coins" and len(s.configs) == 2 * 2 * 2
    assert {(c["policy"], c["real_fraction"]) for c in s.configs} == {("replace", None), ("mix", 0.5)}
    assert len(set(s.hashes)) == len(s.hashes) == 8
    assert all(c["params"]["n"] == 5 and len(c["seeds"]) == 4 for c in s.configs)
    # real_fraction listed twice for replace: the duplicates are merged
    dup = sw.expand({"simulator": "discrete", "policy": "replace", "real_fraction": [0.1, 0.2]})
    assert len(dup.configs) == 1
    ids = sw.expand({"simulator": "discrete", "seeds": [[1, 5], [2]]})
    assert [c["seeds"] for c in ids.configs] == [[1, 5], [2]]


def test_bad_sweep_files_are_one_line_errors(tmp_path):
    cases = {
        "unknown.yaml": ("simulator: discrete\nbogus: 1\n", "bogus: unknown field"),
        "nosim.yaml": ("policy: replace\n", "simulator: required"),
        "param.yaml": ("simulator: discrete\nparams: {colours: [1, 2]}\n", "unknown parameter 'colours'"),
        "syntax.yaml": ("simulator: [discrete\n", r"syntax.yaml:2: YAML syntax error"),
        "tag.yaml": ("simulator: !!python/object/apply:os.system [echo]\n", r"tag.yaml:1: YAML tag .* is not allowed"),
        # the bounded loader: duplicate keys are reported as FILE:LINE: field: message
        "dup.yaml": ("simulator: discrete\nseeds: 3\niterations: 4\nseeds: 5\n",
                     r"dup.yaml:4: seeds: duplicate key \(first on line 2\)"),
        "dupparam.yaml": ("simulator: discrete\nparams:\n  n: 5\n  n: [6, 7]\n", r"dupparam.yaml:4: params.n: duplicate key"),
        "empty.yaml": ("", "empty file"),
    }
    for name, (text, needle) in cases.items():
        path = tmp_path / name
        path.write_text(text)
        with pytest.raises(UserError, match=needle) as info:
            sw.load_sweep(path)
        assert "\n" not in str(info.value) and str(path) in str(info.value)
    for name in ("unknown.yaml", "dup.yaml"):
        res = CliRunner().invoke(main, ["--annotations", str(FIXTURE), "--db", f"sqlite:///{tmp_path / 'x.db'}",
                                        "sweep", str(tmp_path / name)])
        assert res.exit_code == 1 and res.output.startswith("error: ") and res.output.count("\n") == 1, res.output


def test_grid_size_is_limited_before_expanding(tmp_path, monkeypatch):
    # 101 x 100 = 10,100 configurations: refused before a single one is resolved
    big = {"simulator": "discrete", "params": {"n": list(range(2, 103)), "categories": list(range(2, 102))}}
    resolved = []
    monkeypatch.setattr(sw, "canonical_config", lambda raw: resolved.append(raw))
    with pytest.raises(UserError, match=r"10,100 configurations .*limit of 10,000.*--max-configs N") as info:
        sw.expand(big)
    assert "\n" not in str(info.value) and resolved == []
    monkeypatch.undo()
    grid = tmp_path / "grid.yaml"
    grid.write_text(GRID)  # 2 x 2 x 2 = 8
    with pytest.raises(UserError, match=r"grid.yaml: the grid has 8 configurations .*limit of 7"):
        sw.load_sweep(grid, max_configs=7)
    assert len(sw.load_sweep(grid, max_configs=8).configs) == 8
    args = ["--annotations", str(FIXTURE), "--db", f"sqlite:///{tmp_path / 'm.db'}", "--quiet", "sweep", str(grid)]
    res = CliRunner().invoke(main, [*args, "--max-configs", "3"])
    assert res.exit_code == 1 and res.output.count("\n") == 1 and "limit of 3" in res.output, res.output
    assert _runs(tmp_path / "m.db") == []


def test_workers_on_another_code_version_refuse_and_store_nothing(tmp_path, monkeypatch):
    db = tmp_path / "v.db"
    eng = ev.open_evidence(f"sqlite:///{db}", FIXTURE)
    s = sw.expand({"name": "ver", "simulator": "discrete", "seeds": 2, "iterations": 3, "params": {"n": [3, 4]}})
    planned = prov.code_version()
    assert s.code_version == planned
    # the worker (here: this process, serial executor) now runs other code than the plan
    other = planned + "-other"
    monkeypatch.setattr(prov, "code_version", lambda: other)
    with pytest.raises(ev.CodeVersionMismatch, match="runs code version .*-other' but the work was planned with") as info:
        sw.run_sweep(eng, s, executor="serial")
    assert "\n" not in str(info.value)
    assert _runs(db) == []
    # a worker whose hash of the configuration differs from the planned one refuses too
    monkeypatch.undo()
    with pytest.raises(ev.CodeVersionMismatch, match="not the planned"):
        ev.compute(s.configs[0], code_version=planned, config_hash="0" * 64)
    # same code: stored under the planned hashes, so the skip check finds them
    out = sw.run_sweep(eng, s, executor="serial")
    assert sorted(out.stored) == sorted(s.hashes) == sorted(_runs(db))
    assert sw.run_sweep(eng, s, executor="serial").skipped == 2


def test_serial_then_processes_share_the_store_and_skip_done_configurations(tmp_path):
    db = tmp_path / "s.db"
    eng = ev.open_evidence(f"sqlite:///{db}", FIXTURE)
    s = sw.expand(__import__("yaml").safe_load(GRID))
    first = sw.Sweep(s.name, s.configs[:3], s.hashes[:3])
    out = sw.run_sweep(eng, first, executor="serial")
    assert (out.skipped, len(out.stored)) == (0, 3)
    out = sw.run_sweep(eng, s, executor="processes", workers=2)
    assert (out.total, out.skipped, len(out.stored)) == (8, 3, 5)
    assert sorted(_runs(db, "coins")) == sorted(s.hashes)
    # the result of a worker process equals the serial one (same configuration, same seeds)
    frame = ev.load_frame(eng, s.hashes[5])
    again = ev.compute(s.configs[5]).frame
    assert frame.reset_index(drop=True).equals(again[list(frame.columns)].reset_index(drop=True))
    listed = CliRunner().invoke(main, ["--annotations", str(FIXTURE), "--db", f"sqlite:///{db}", "runs",
                                       "--sweep", "coins", "--format", "json"])
    assert listed.exit_code == 0, listed.output
    assert sorted(r["config_hash"] for r in json.loads(listed.output)) == sorted(s.hashes)


def test_sweep_through_a_dask_localcluster_on_loopback(tmp_path):
    grid = tmp_path / "grid.yaml"
    grid.write_text(GRID.replace("iterations: [6, 9]", "iterations: 6"))
    db = tmp_path / "d.db"
    res = CliRunner().invoke(main, ["--annotations", str(FIXTURE), "--db", f"sqlite:///{db}", "--quiet",
                                    "sweep", str(grid), "--executor", "dask", "--format", "json"])
    assert res.exit_code == 0, res.output
    out = json.loads(res.output[res.output.index("{"):])
    assert out == {"name": "coins", "total": 4, "skipped": 0, "stored": 4, "existed": 0}
    assert len(_runs(db, "coins")) == 4
    again = CliRunner().invoke(main, ["--annotations", str(FIXTURE), "--db", f"sqlite:///{db}", "--quiet",
                                      "sweep", str(grid), "--executor", "dask"])
    assert "4 already stored (skipped); 0 run and stored" in again.output


def test_sweep_killed_midway_resumes_without_duplicates(tmp_path):
    grid = tmp_path / "long.yaml"
    grid.write_text("name: long\nsimulator: discrete\npolicy: replace\nseeds: 20\niterations: 60\n"
                    "params: {categories: [2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13], n: 50}\n")
    db = tmp_path / "k.db"
    cmd, env = _sweep_process(db, grid, "--executor", "serial")
    with running(cmd, cwd=REPO, env=env) as proc:
        wait_until(proc, lambda: len(_runs(db)) >= 2, 120, "the sweep stored nothing", poll=0.02)
        sigkill(proc)
    before = len(_runs(db))
    assert 2 <= before < 12, "the sweep was not killed mid-way"
    _assert_resumes(cmd, env, db, "long", before, 12)
    con = sqlite3.connect(db)
    assert con.execute("pragma integrity_check").fetchone()[0] == "ok"
    # every stored run is complete: profile and frame for each, aggregates for every iteration
    assert con.execute("select count(*) from evidence_verdict").fetchone()[0] == 12 * 8 * 2
    assert con.execute("select count(*) from evidence_frame").fetchone()[0] == 12
    per_run = con.execute("select count(distinct iteration) from evidence_aggregate group by config_hash").fetchall()
    assert [r[0] for r in per_run] == [60] * 12
    con.close()


def test_sweep_on_an_existing_dask_scheduler(tmp_path):
    import distributed
    db = tmp_path / "sched.db"
    eng = ev.open_evidence(f"sqlite:///{db}", FIXTURE)
    s = sw.expand({"name": "remote", "simulator": "discrete", "seeds": 3, "iterations": 4,
                   "params": {"n": [3, 6]}})
    with distributed.LocalCluster(processes=False, protocol="tcp://", host="127.0.0.1",
                                  dashboard_address=None) as cluster:
        out = sw.run_sweep(eng, s, executor="dask", scheduler=cluster.scheduler_address)
    assert (out.total, len(out.stored)) == (2, 2)
    assert sorted(_runs(db, "remote")) == sorted(s.hashes)


def _alive(pids: list[int]) -> list[int]:
    """The pids still running (a zombie waiting for its reaper has ended: it holds no pipe)."""
    import psutil

    out = []
    for pid in pids:
        try:
            if psutil.Process(pid).status() != psutil.STATUS_ZOMBIE:
                out.append(pid)
        except psutil.NoSuchProcess:
            continue
    return out


def _outliving(pids: list[int], seconds: float) -> list[int]:
    """The pids still running after up to ``seconds``; killed, so that none leaks into the rest
    of the test session."""
    deadline = time.time() + seconds
    while _alive(pids) and time.time() < deadline:
        time.sleep(0.1)
    left = _alive(pids)
    for pid in left:
        os.kill(pid, signal.SIGKILL)
    return left


def test_process_pool_workers_die_with_a_killed_parent_and_the_sweep_resumes(tmp_path):
    """Large results (a GMM frame of 16 seeds, n up to 3000) fill the result pipe; once the parent
    is SIGKILLed nobody reads it, and workers used to block in write() forever."""
    import psutil

    grid = tmp_path / "gmm.yaml"
    grid.write_text("name: gmmkill\nsimulator: gmm\npolicy: replace\nseeds: 16\niterations: 12\n"
                    "params: {n: [1000, 1500, 2000, 2500, 3000, 1200, 1700, 2200], components: 2, dim: 1}\n")
    db = tmp_path / "p.db"
    cmd, env = _sweep_process(db, grid, "--executor", "processes", "--workers", "2")
    with running(cmd, cwd=REPO, env=env) as proc:
        wait_until(proc, lambda: _runs(db), 180, "the sweep stored nothing")
        children = [c.pid for c in psutil.Process(proc.pid).children(recursive=True)]
        sigkill(proc)
    assert len(children) >= 2, "expected the two pool workers"
    before = len(_runs(db))
    assert 1 <= before < 8, "the sweep was not killed mid-way"
    left = _outliving(children, 10)
    assert left == [], f"worker processes outlived their parent: {left}"
    _assert_resumes(cmd, env, db, "gmmkill", before, 8)


def test_parent_watchdog_fallback_ends_an_orphaned_worker(tmp_path):
    """Where prctl is unavailable, the initializer's polling thread exits the worker once its
    parent is gone (forced here by pretending not to be on Linux)."""
    pidfile = tmp_path / "child.pid"
    child = ("import os, time, types; from metaanalysis.evidence import sweep; "
             "sweep.sys = types.SimpleNamespace(platform='darwin'); "
             f"sweep._die_with_parent(os.getppid()); open({str(pidfile)!r}, 'w').write(str(os.getpid())); "
             "time.sleep(120)")
    parent = f"import subprocess, sys, time; subprocess.Popen([sys.executable, '-c', {child!r}]); time.sleep(120)"
    with running([sys.executable, "-c", parent], cwd=REPO, env=dict(os.environ, PYTHONPATH=str(REPO))) as proc:
        wait_until(proc, lambda: pidfile.exists() and pidfile.read_text(), 60, "the child never started")
        pid = int(pidfile.read_text())
        assert _alive([pid]) == [pid]
        sigkill(proc)
    assert _outliving([pid], 10 * sw.PARENT_POLL_SECONDS + 5) == [], "the orphaned worker kept running"


@pytest.mark.parametrize("workers, cores, environ, expected", [
    (2, 2, {}, 1), (1, 8, {}, 8), (3, 8, {}, 2), (16, 2, {}, 1), (0, 4, {}, 4),
    (1, 8, {"OMP_NUM_THREADS": "2"}, 2), (1, 2, {"OMP_NUM_THREADS": "8"}, 2),
    (1, 4, {"OMP_NUM_THREADS": "many"}, 4),
])
def test_worker_threads_is_the_share_of_the_cores_capped_by_omp_num_threads(workers, cores, environ, expected):
    assert sw.worker_threads(workers, cores, environ) == expected


@pytest.mark.skipif((os.cpu_count() or 1) < 2, reason="one core: torch starts with one thread anyway")
@pytest.mark.parametrize("torch_first", [False, True], ids=["torch-imported-later", "torch-already-imported"])
def test_a_process_pool_worker_runs_torch_on_its_share_of_the_cores(torch_first):
    """Without a share, each of N workers would start a torch thread per core."""
    code = ("import os; " + ("import torch; " if torch_first else "")
            + "from metaanalysis.evidence import sweep; sweep._init_worker(os.getppid(), 1); "
            "import torch; print(torch.get_num_threads())")
    env = {k: v for k, v in os.environ.items() if k != "OMP_NUM_THREADS"}
    done = subprocess.run([sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True,
                          env=dict(env, PYTHONPATH=str(REPO)), timeout=120)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "1"
