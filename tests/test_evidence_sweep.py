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

from cli.main import main
from metaanalysis import evidence as ev
from metaanalysis import sweep as sw
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
        "syntax.yaml": ("simulator: [discrete\n", "invalid YAML"),
        "tag.yaml": ("simulator: !!python/object/apply:os.system [echo]\n", "invalid YAML"),
    }
    for name, (text, needle) in cases.items():
        path = tmp_path / name
        path.write_text(text)
        with pytest.raises(UserError, match=needle) as info:
            sw.load_sweep(path)
        assert "\n" not in str(info.value) and str(path) in str(info.value)
    res = CliRunner().invoke(main, ["--annotations", str(FIXTURE), "--db", f"sqlite:///{tmp_path / 'x.db'}",
                                    "sweep", str(tmp_path / "unknown.yaml")])
    assert res.exit_code == 1 and res.output.startswith("error: ") and res.output.count("\n") == 1


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
    pytest.importorskip("distributed")
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
    env = dict(os.environ, MCATLAS_ANNOTATIONS=str(FIXTURE), MCATLAS_DB=f"sqlite:///{db}", PYTHONPATH=str(REPO))
    cmd = [sys.executable, "-c", "from cli.main import main; main()", "--quiet", "sweep", str(grid),
           "--executor", "serial"]
    proc = subprocess.Popen(cmd, cwd=REPO, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        deadline = time.time() + 120
        while len(_runs(db)) < 2:
            assert proc.poll() is None, proc.stderr.read().decode()
            assert time.time() < deadline, "the sweep stored nothing"
            time.sleep(0.02)
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
    before = len(_runs(db))
    assert 2 <= before < 12, "the sweep was not killed mid-way"
    done = subprocess.run([*cmd, "--format", "json"], cwd=REPO, env=env, capture_output=True, text=True,
                          timeout=300)
    assert done.returncode == 0, done.stderr
    out = json.loads(done.stdout)
    assert out["skipped"] == before and out["stored"] == 12 - before
    hashes = _runs(db, "long")
    assert len(hashes) == len(set(hashes)) == 12
    con = sqlite3.connect(db)
    assert con.execute("pragma integrity_check").fetchone()[0] == "ok"
    # every stored run is complete: profile and frame for each, aggregates for every iteration
    assert con.execute("select count(*) from evidence_profile").fetchone()[0] == 12 * 8
    assert con.execute("select count(*) from evidence_frame").fetchone()[0] == 12
    per_run = con.execute("select count(distinct iteration) from evidence_aggregate group by config_hash").fetchall()
    assert [r[0] for r in per_run] == [60] * 12
    con.close()


def test_sweep_on_an_existing_dask_scheduler(tmp_path):
    distributed = pytest.importorskip("distributed")
    db = tmp_path / "sched.db"
    eng = ev.open_evidence(f"sqlite:///{db}", FIXTURE)
    s = sw.expand({"name": "remote", "simulator": "discrete", "seeds": 3, "iterations": 4,
                   "params": {"n": [3, 6]}})
    with distributed.LocalCluster(processes=False, protocol="tcp://", host="127.0.0.1",
                                  dashboard_address=None) as cluster:
        out = sw.run_sweep(eng, s, executor="dask", scheduler=cluster.scheduler_address)
    assert (out.total, len(out.stored)) == (2, 2)
    assert sorted(_runs(db, "remote")) == sorted(s.hashes)
