"""Evidence: realistic variants, rerun cache and --force, provenance, aggregates, queries,
contradicted claims, the Figure 4 analysis, and safety under SIGKILL and concurrency. Tests
that write or read the store run on SQLite and, with MCATLAS_TEST_DB set, on PostgreSQL
(``store_url`` / ``module_store_url`` in conftest.py).

Setups are tiny (tests/fixtures/evidence/annotations): a two-outcome categorical with 4 samples
per iteration, small Gaussians; subprocess tests use numpy-only simulators.
"""

from __future__ import annotations

import contextlib
import json
import math
import os
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest
from click.testing import CliRunner
from helpers import running, sigkill, wait_until
from stores import backend_of, count, rows

from cli.main import main
from metaanalysis import evidence as ev
from metaanalysis.analysis import absorption as ab
from metaanalysis.analysis.claims import COMBINED, combine_verdicts
from metaanalysis.analysis.frames import load_verdicts
from metaanalysis.analysis.matrix import apply_evidence, evidence_cells
from metaanalysis.evidence import provenance as prov
from simulators.summary import Z95, summarize
from simulators.vocabulary import DEFINITIONS

REPO = Path(__file__).resolve().parent.parent


def ev_variants():
    from simulators.vocabulary import VARIANTS

    return VARIANTS
FIXTURE = REPO / "tests" / "fixtures" / "evidence" / "annotations"


def _env(url: str, **extra: str) -> dict[str, str]:
    env = dict(os.environ)
    env.update({"MCATLAS_ANNOTATIONS": str(FIXTURE), "MCATLAS_DB": url, "PYTHONPATH": str(REPO)})
    env.update(extra)
    return env


def _cli(*args: str) -> list[str]:
    return [sys.executable, "-c", "from cli.main import main; main()", *args]


def _papers(eng):
    from metaanalysis.store.index import read_papers

    return {p.key: p for p in read_papers(eng)}


def _cells(eng):
    """The matrix overlay of every paper's current evidence (what ``matrix --evidence`` shows)."""
    papers = list(_papers(eng).values())
    return evidence_cells(load_verdicts(eng, papers).verdicts)


def _rerun_all(url: str, root: Path):
    """Every setup of the papers in ``root`` rerun once (every variant) into the store ``url``."""
    eng = ev.open_evidence(url, root)
    papers = list(_papers(eng).values())
    return eng, ev.rerun(eng, ev.plan(papers, defaults=ev.realistic_defaults(root)))


@pytest.fixture(scope="module")
def stored(module_store_url):
    """A store with every fixture setup rerun once (every variant)."""
    eng, outcomes = _rerun_all(module_store_url, FIXTURE)
    return eng, module_store_url, outcomes


# -- the realistic variant ---------------------------------------------------------------


def test_realistic_defaults_are_read_from_realism_yaml_as_written(tmp_path):
    assert ev.realistic_defaults(FIXTURE) == {"policy": "accumulate", "max_iterations": 5}
    # without a realism.yaml: the documented fallback
    assert ev.realistic_defaults(tmp_path) == ev.FALLBACK_DEFAULTS == {"policy": "accumulate", "max_iterations": 10}


def test_realistic_variant_rule(stored):
    eng, _, _ = stored
    papers = _papers(eng)
    d = ev.realistic_defaults(FIXTURE)
    coin = papers["tinya2024"].setups[0]
    pub = ev.setup_config(coin, "published", d)
    real = ev.setup_config(coin, "realistic", d)
    assert (pub["policy"], pub["iterations"], pub["seeds"]) == ("replace", 16, 8)
    # defaults only: policy from realism.yaml, iterations capped at max_iterations
    assert (real["policy"], real["iterations"], real["seeds"], real["params"]) == ("accumulate", 5, 8, pub["params"])
    mix = papers["tinya2024"].setups[1]
    real = ev.setup_config(mix, "realistic", d, seeds=3)
    # the setup's realistic block refines: its iterations win over the cap, its params merge in
    assert real == {"simulator": "gaussian", "params": {"dim": 1, "n": 10}, "policy": "accumulate",
                    "real_fraction": None, "seeds": 3, "iterations": 3}
    # the control: the realistic configuration with the published policy and real fraction
    control = ev.setup_config(mix, "control", d, seeds=3)
    assert control == {**real, "policy": "mix", "real_fraction": 0.5}
    assert ev.setup_config(coin, "control", d) == {**ev.setup_config(coin, "realistic", d), "policy": "replace"}
    # a realistic policy that keeps real data takes the published real fraction if none is given
    over = {"name": "x", "simulator": "gaussian", "params": {}, "policy": "mix", "real_fraction": 0.25,
            "seeds": 2, "iterations": 50, "realistic": {"policy": "fresh"}}
    assert ev.setup_config(over, "realistic", d)["real_fraction"] == 0.25
    over["policy"], over["real_fraction"] = "replace", None
    with pytest.raises(Exception, match="needs real_fraction"):
        ev.setup_config(over, "realistic", d)


# -- rerun, cache, force -----------------------------------------------------------------


def test_rerun_stores_everything_and_links_identical_configurations_once(stored):
    eng, url, outcomes = stored
    # tinya: 2 setups x 3 variants; tinyb: 1 setup whose realistic variant and control equal the
    # published one (it already accumulates for fewer iterations than the realistic cap)
    assert [(o.planned.paper, o.planned.setup, o.planned.variant) for o in outcomes] == [
        ("tinyb2023", "dice-accumulate", v) for v in ev_variants()] + [
        ("tinya2024", setup, v) for setup in ("coin-replace", "gauss-mix") for v in ev_variants()]
    status = {o.planned.label: o.status for o in outcomes}
    assert status["tinyb2023/dice-accumulate (published)"] == "computed"
    assert status["tinyb2023/dice-accumulate (realistic)"] == "cached"  # same configuration
    assert status["tinyb2023/dice-accumulate (control)"] == "cached"
    assert count(url, "evidence_run") == 7
    assert count(url, "evidence_link") == 9
    # every run keeps its verdicts at the long-run horizon and at its own length
    per_run = dict(rows(url, "select r.config_hash, count(distinct v.horizon) from evidence_run r "
                             "join evidence_verdict v on v.config_hash = r.config_hash group by r.config_hash"))
    assert sorted(per_run.values()) == [2] * 7
    assert count(url, "evidence_verdict") == 7 * 2 * len(DEFINITIONS)
    runs = ev.runs_frame(eng, paper="tinya2024")
    coin = runs[(runs["setup"] == "coin-replace") & (runs["variant"] == "published")].iloc[0]
    agg = ev.aggregates(eng, coin["config_hash"])
    # one row per iteration and metric of the discrete family, 8 seeds each
    assert len(agg) == 16 * agg["metric"].nunique() and set(agg["n"]) == {8}
    frame = ev.load_frame(eng, coin["config_hash"])
    # the stored frame keeps the catastrophic-risk baseline (one row per seed), so that
    # re-profiling it gives the stored profile
    baseline = frame[frame["metric"] == "trivial_risk"]
    assert len(baseline) == 8 and set(baseline["iteration"]) == {1}
    assert len(frame) - len(baseline) == 16 * 8 * agg["metric"].nunique()
    # the stored aggregate is the seed mean of the stored frame
    sub = frame[(frame["metric"] == "entropy") & (frame["iteration"] == 3)]["value"]
    row = agg[(agg["metric"] == "entropy") & (agg["iteration"] == 3)].iloc[0]
    assert row["mean"] == pytest.approx(sub.mean())
    half = Z95 * sub.std(ddof=1) / math.sqrt(len(sub))
    assert (row["ci_low"], row["ci_high"]) == pytest.approx((sub.mean() - half, sub.mean() + half))


def test_cli_cache_hit_then_force_replaces_atomically(store_url):
    url = store_url
    runner = CliRunner()
    args = ["--annotations", str(FIXTURE), "--db", url, "--quiet"]
    first = runner.invoke(main, [*args, "rerun", "tinya2024", "--setup", "coin-replace", "--as-published",
                                 "--format", "json"])
    assert first.exit_code == 0, first.output
    assert [o["status"] for o in json.loads(first.output)] == ["computed"]
    digest = json.loads(first.output)[0]["config_hash"]
    [(stored_at,)] = rows(url, "select stored from evidence_run where config_hash = :h", h=digest)
    again = runner.invoke(main, [*args, "rerun", "tinya2024", "--setup", "coin-replace", "--as-published"])
    assert again.exit_code == 0, again.output
    assert "cached (answered from the store)" in again.output
    forced = runner.invoke(main, [*args, "rerun", "tinya2024", "--setup", "coin-replace", "--as-published",
                                  "--force", "--format", "json"])
    assert forced.exit_code == 0, forced.output
    assert [(o["status"], o["config_hash"]) for o in json.loads(forced.output)] == [("replaced", digest)]
    assert count(url, "evidence_run") == 1
    assert rows(url, "select stored from evidence_run")[0][0] > stored_at
    [(n_metrics,)] = rows(url, "select count(distinct metric) from evidence_aggregate")
    assert count(url, "evidence_aggregate") == 16 * n_metrics
    assert count(url, "evidence_verdict") == 2 * len(DEFINITIONS)
    # --seeds is an exploratory override: a new run, linked apart from the annotated setup's
    more = runner.invoke(main, [*args, "rerun", "tinya2024", "--setup", "coin-replace", "--as-published",
                                "--seeds", "3", "--format", "json"])
    assert [(o["status"], o["override"]) for o in json.loads(more.output)] == [("computed", "seeds=3")]
    listed = runner.invoke(main, [*args, "runs", "--paper", "tinya2024", "--format", "csv"])
    frame = pd.read_csv(__import__("io").StringIO(listed.output), keep_default_na=False)
    assert list(frame.columns) == list(ev.RUNS_COLUMNS)
    assert frame[["seeds", "override", "status"]].values.tolist() == [[8, "", "current"], [3, "seeds=3", "current"]]
    eng = ev.open_evidence(url, FIXTURE)
    assert set(ev.verdicts(eng, "tinya2024")["config_hash"]) == {digest}  # the annotated evidence stays


def test_cli_errors_are_one_line(tmp_path):
    runner = CliRunner()
    args = ["--annotations", str(FIXTURE), "--db", f"sqlite:///{tmp_path / 'e.db'}"]
    for extra, needle in ((["rerun"], "give a paper KEY or --all"),
                          (["rerun", "tinya2024", "--setup", "nope"], "unknown setup 'nope'"),
                          (["rerun", "tinyz2024"], "unknown paper key"),
                          (["rerun", "nosetup2022"], "no setups")):
        res = runner.invoke(main, [*args, *extra])
        assert res.exit_code == 1, res.output
        assert needle in res.output and res.output.count("\n") == 1, res.output


# -- provenance and aggregates -----------------------------------------------------------


def test_provenance_fields(stored):
    eng, _, outcomes = stored
    digest = outcomes[0].planned.config_hash
    p = ev.run_provenance(eng, digest)
    assert set(prov.PROVENANCE_KEYS) <= set(p)
    assert p["mcatlas_version"] == prov.mcatlas_version()
    assert {"python", "numpy", "pandas"} <= set(p["packages"])
    assert p["config"] == outcomes[0].planned.config and p["seeds"] == p["config"]["seeds"]
    assert p["device"]["name"] == "cpu" and p["wall_time"] > 0
    assert p["started"] <= p["finished"] and p["finished"].endswith("+00:00")
    git = prov.git_state()
    assert p["git"] == git  # a checkout here records its commit; elsewhere None
    if (REPO / ".git").exists():
        assert len(p["git"]["commit"]) == 40
    # the hash covers the configuration and the code version
    assert digest == ev.config_hash(outcomes[0].planned.config)


def test_aggregate_handles_inf_and_nan():
    rows = []
    for seed, values in enumerate([(1.0, 2.0), (3.0, math.inf), (5.0, math.nan)]):
        for it, v in enumerate(values, start=1):
            rows.append({"iteration": it, "seed": seed, "metric": "population_risk", "value": v})
    agg = summarize(pd.DataFrame(rows)).set_index("iteration")
    assert agg.loc[1, "mean"] == 3.0 and agg.loc[1, "n"] == 3 and agg.loc[1, "n_inf"] == 0
    assert agg.loc[1, "ci_low"] == pytest.approx(3.0 - Z95 * 2.0 / math.sqrt(3))
    assert agg.loc[2, "mean"] == math.inf and agg.loc[2, "n"] == 2 and agg.loc[2, "n_inf"] == 1
    assert math.isnan(agg.loc[2, "ci_low"]) and math.isnan(agg.loc[2, "ci_high"])


# -- queries for the matrix and the atlas ------------------------------------------------


def test_verdicts_cells_and_claims(stored):
    eng, _, _ = stored
    v = ev.verdicts(eng)
    assert list(v.columns) == list(ev.VERDICT_COLUMNS)
    assert set(v["variant"]) == set(ev_variants())
    # each variant is read at its horizon: published at the long run, the others at their length
    runs = ev.runs_frame(eng).set_index(["paper", "setup", "variant"])["iterations"]
    for r in v.itertuples(index=False):
        want = 1000 if r.variant == "published" else runs[(r.paper, r.setup, r.variant)]
        assert r.horizon == want
    cells = _cells(eng)
    assert not any(k[0] == "nosetup2022" for k in cells)  # no setup: absent
    for (paper, d), cell in cells.items():
        assert set(cell) <= {"published", "realistic"} and set(cell.values()) <= set(COMBINED)
        sub = v[(v["paper"] == paper) & (v["definition"] == d)]
        for variant, value in cell.items():
            assert value == combine_verdicts(sub[sub["variant"] == variant]["verdict"])
    # the coin collapses onto one outcome as published (every seed absorbs within 16 iterations)
    coin = v[(v["setup"] == "coin-replace") & (v["definition"] == "collapsing-variance")]
    assert coin.set_index("variant").loc["published", "verdict"] == "collapse"
    papers = list(_papers(eng).values())
    judged = {(a.paper, a.claim): a for a in load_verdicts(eng, papers).claims(papers)}
    shrinks, survives = judged[("tinya2024", "support-shrinks")], judged[("tinya2024", "variance-survives")]
    assert (shrinks.reproduction, shrinks.contradiction) == ("reproduced", "")
    assert (survives.reproduction, survives.contradiction, survives.disagreeing) == (
        "not reproduced", "contradicted", ("coin-replace",))  # a same-model setup disagrees
    assert survives.under_realistic == "not applicable"  # the realistic rerun says nothing of it
    traj = ev.trajectories(eng, "tinyb2023", "entropy")
    assert set(traj["variant"]) == set(ev_variants()) and set(traj["iteration"]) == {1, 2, 3, 4}


def test_missing_runs_cheapest_first(stored):
    eng, _, _ = stored
    papers = list(_papers(eng).values())
    d = ev.realistic_defaults(FIXTURE)
    assert ev.missing_runs(eng, ev.plan(papers, defaults=d)) == []
    missing = ev.missing_runs(eng, ev.plan(papers, seeds=2, defaults=d))
    assert len(missing) == 9 and [m.cost for m in missing] == sorted(m.cost for m in missing)
    assert {m.override for m in missing} == {"seeds=2"}


# -- the position paper's Figure 4 claim -------------------------------------------------


def test_figure4_absorption_analysis():
    """Uniform categoricals, K in {2, 10, 100}, n in {4, 8, 16}, 200 seeds, replace.

    Theory (Wright-Fisher, diffusion approximation): E T ~ 2 n (K-1) ln(K/(K-1)), linear in n
    and saturating in K, so T grows with n and with H0 but is far from proportional to n x H0
    (exponent of H0 about 0.2). Absorption times are right-skewed (sd about 0.75 of the mean), so
    60 seeds gave sample standard errors that were themselves off by a third; with 200 each
    mean's standard error is about 0.05 of the mean and its estimate reliable, and the n steps
    (factor 2) are many standard errors apart.
    """
    items = []
    for k in (2, 10, 100):
        for n in (4, 8, 16):
            r = ev.compute({"simulator": "discrete", "params": {"categories": k, "n": n}, "seeds": 200,
                            "iterations": 200, "metrics": ["support_size"]})
            items.append((f"k{k}-n{n}", r.config, r.frame))
    table = ab.absorption_table(items)
    assert (table["censored"] == 0).all()
    assert list(table["n_h0"]) == sorted(table["n_h0"])
    # the measured mean is within 4 standard errors + 20% (the diffusion approximation's
    # discreteness error at n = 4) of the theory
    assert (abs(table["restricted_mean"] - table["theory"]) < 4 * table["se"] + 0.2 * table["theory"]).all()
    res = ab.figure4_test(table)
    assert res["grows_with_n"]["answer"] == "holds"
    assert res["proportional"]["answer"] == "does not hold"
    assert 0.8 < res["proportional"]["exponent_n"] < 1.2
    assert res["proportional"]["exponent_h0"] < 0.5
    # censoring is reported: the same runs cut at 5 iterations
    short = [(lab, c, f[f["iteration"] <= 5]) for lab, c, f in items if lab == "k100-n16"]
    cut = ab.absorption_table(short)
    assert cut.loc[0, "censored"] > 0 and cut.loc[0, "restricted_mean"] <= 5
    assert ab.figure4_test(cut)["censored_configurations"] == ["k100-n16"]


# -- safety: SIGKILL and concurrency -----------------------------------------------------


TABLES = ("evidence_run", "evidence_link", "evidence_aggregate", "evidence_verdict", "evidence_frame")


def test_sigkill_inside_the_write_transaction_leaves_nothing(store_url, tmp_path):
    marker = tmp_path / "in-transaction"
    with running(_cli("--quiet", "rerun", "tinyb2023"), cwd=REPO,
                 env=_env(store_url, **{ev.PAUSE_ENV: str(marker)})) as proc:
        wait_until(proc, marker.exists, 90, "the rerun never reached its write transaction")
        # a second reader, while the run's rows are written but not committed: sees none of
        # them (and is not kept waiting by the writer)
        for table in TABLES:
            assert count(store_url, table) == 0, table
        sigkill(proc)
    for table in TABLES:
        assert count(store_url, table) == 0, table
    # the next call completes the work (and the killed writer's lock is gone)
    done = subprocess.run(_cli("--quiet", "rerun", "tinyb2023", "--format", "json"), cwd=REPO,
                          env=_env(store_url), capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert [o["status"] for o in json.loads(done.stdout)] == ["computed", "cached", "cached"]
    # now the reader sees the run complete: its links, a profile at both horizons, its frame
    assert count(store_url, "evidence_run") == 1 and count(store_url, "evidence_link") == 3
    assert count(store_url, "evidence_verdict") == 2 * len(DEFINITIONS)
    assert count(store_url, "evidence_frame") == 1


def test_three_concurrent_reruns_into_one_store_store_each_configuration_once(store_url):
    """Three processes rerun the same paper into one fresh store at once: each opens the store
    (creating its tables, syncing the index) and stores or finds the same run."""
    with contextlib.ExitStack() as stack:  # none left running if one fails or hangs
        procs = [stack.enter_context(running(_cli("--quiet", "rerun", "tinyb2023", "--format", "json"),
                                             cwd=REPO, env=_env(store_url))) for _ in range(3)]
        results = [p.communicate(timeout=180) for p in procs]
    for p, (out, err) in zip(procs, results):
        assert p.returncode == 0, err.decode()
    statuses = sorted(o["status"] for out, _ in results for o in json.loads(out))
    # one process computed and stored; the others either found it stored (cached) or computed
    # it too and found it stored inside their write transaction (exists)
    assert statuses.count("computed") >= 1 and len(statuses) == 9
    assert set(statuses) <= {"computed", "cached", "exists"}
    if backend_of(store_url) == "sqlite":
        assert rows(store_url, "pragma integrity_check") == [("ok",)]
    assert count(store_url, "evidence_run") == 1
    assert count(store_url, "evidence_link") == 3
    assert count(store_url, "evidence_verdict") == 2 * len(DEFINITIONS)
    assert count(store_url, "paper") == 3  # the index, synced once and whole


# -- the matrix with evidence, and show ----------------------------------------------------


def test_matrix_evidence_overlay_csv_json_table_chart_and_show(stored):
    import csv
    import io

    from metaanalysis.analysis.matrix import build_matrix, evidence_columns
    from metaanalysis.present.charts_matrix import cell_records, matrix_spec

    _, url, _ = stored
    runner = CliRunner()
    args = ["--annotations", str(FIXTURE), "--db", url]
    res = runner.invoke(main, [*args, "matrix", "--evidence", "--format", "csv"])
    assert res.exit_code == 0, res.output
    rows = {r["key"]: r for r in csv.DictReader(io.StringIO(res.output))}
    assert list(rows["tinya2024"])[-16:] == evidence_columns()
    eng = ev.open_evidence(url, FIXTURE)
    cells = _cells(eng)
    for key, row in rows.items():
        for d in DEFINITIONS:
            for variant in ("published", "realistic"):
                assert row[f"{d}:{variant}"] == cells.get((key, d), {}).get(variant, "")
    assert all(v == "" for c, v in rows["nosetup2022"].items() if ":" in c)  # no setup: empty
    assert rows["tinya2024"]["collapsing-variance:published"] in ("collapse", "mixed")
    plain = runner.invoke(main, [*args, "matrix", "--format", "csv"])
    assert ":published" not in plain.output  # only with --evidence
    js = json.loads(runner.invoke(main, [*args, "matrix", "--evidence", "--format", "json"]).output)
    assert {r["key"]: r["collapsing-variance:realistic"] for r in js} == {
        k: r["collapsing-variance:realistic"] for k, r in rows.items()}
    assert runner.invoke(main, [*args, "matrix", "--evidence"]).exit_code == 0
    pub, real = rows["tinya2024"]["collapsing-variance:published"], rows["tinya2024"]["collapsing-variance:realistic"]
    from rich.console import Console

    from metaanalysis.present.text import rich_table
    from metaanalysis.store.index import read_matrix_inputs

    m = apply_evidence(build_matrix(read_matrix_inputs(eng)), cells)
    console = Console(width=400, record=True, file=io.StringIO())
    console.print(rich_table(m))
    text = console.export_text()
    from metaanalysis.present.text import EVIDENCE_LETTERS

    assert f"E {EVIDENCE_LETTERS[pub]}>{EVIDENCE_LETTERS[real]}" in text  # the annotation and the evidence in one cell
    assert "collapsing-variance:published" not in text  # not as separate columns
    # the chart marks the evidence: a compact code per cell and an extra text layer
    recs = {(r["key"], r["definition"]): r for r in cell_records(m)}
    code = {"collapse": "C", "no-collapse": "N", "mixed": "M", "inconclusive": "?", "not-measured": "·"}
    assert recs[("tinya2024", "collapsing-variance")]["evidence"] == f"{code[pub]}>{code[real]}"
    assert recs[("nosetup2022", "tail-disappearance")]["evidence"] == ""
    assert "evidence" in json.dumps(matrix_spec(m))
    shown = runner.invoke(main, [*args, "show", "tinya2024"])
    assert shown.exit_code == 0, shown.output
    assert "variance-survives: not reproduced [contradicted: coin-replace]" in shown.output
    assert "support-shrinks: reproduced; realistic: " in shown.output
    doc = json.loads(runner.invoke(main, [*args, "show", "tinya2024", "--format", "json"]).output)
    assert doc["paper"]["key"] == "tinya2024" and {c["claim"] for c in doc["claims"]} == {
        "support-shrinks", "variance-survives"}
    assert {(r["setup"], r["variant"]) for r in doc["verdicts"]} == {
        (s, v) for s in ("coin-replace", "gauss-mix") for v in ev_variants()}
    assert "contradicted" not in runner.invoke(main, [*args, "show", "tinyb2023"]).output


# -- stale links: the setup changed since its run ----------------------------------------------


def test_links_to_a_changed_setup_are_stale_until_rerun(store_url, tmp_path):
    """Edit a setup's policy in a copy of the fixture: its stored runs no longer stand for it."""
    import csv
    import io
    import shutil

    copy = tmp_path / "annotations"
    shutil.copytree(FIXTURE, copy)
    _rerun_all(store_url, copy)
    args = ["--annotations", str(copy), "--db", store_url]
    runner = CliRunner()

    def matrix_rows() -> dict[str, dict[str, str]]:
        res = runner.invoke(main, [*args, "matrix", "--evidence", "--format", "csv"])
        assert res.exit_code == 0, res.output
        return {r["key"]: r for r in csv.DictReader(io.StringIO(res.output))}

    before = matrix_rows()
    assert before["tinyb2023"]["collapsing-variance:published"] in COMBINED
    assert before["tinyb2023"]["collapsing-variance:realistic"] in COMBINED
    # tinyb's only setup now replaces instead of accumulating (its realistic variant is unchanged:
    # policy accumulate from realism.yaml, 4 iterations; its control now replaces too)
    paper = copy / "papers" / "tinyb2023.yaml"
    paper.write_text(paper.read_text().replace("    policy: accumulate\n", "    policy: replace\n"))
    after = matrix_rows()
    assert after["tinyb2023"]["collapsing-variance:published"] == ""  # stale: left out
    assert after["tinyb2023"]["collapsing-variance:realistic"] == before["tinyb2023"]["collapsing-variance:realistic"]
    assert after["tinya2024"] == before["tinya2024"]  # other papers untouched
    eng = ev.open_evidence(store_url, copy)
    states = ev.link_states(eng)
    assert states[("tinyb2023", "dice-accumulate", "published")][1] == "stale"
    assert states[("tinyb2023", "dice-accumulate", "realistic")][1] == "current"
    assert states[("tinyb2023", "dice-accumulate", "control")][1] == "stale"
    assert {s for k, (_, s) in states.items() if k[0] == "tinya2024"} == {"current"}
    assert set(ev.verdicts(eng, "tinyb2023")["variant"]) == {"realistic"}
    assert set(ev.trajectories(eng, "tinyb2023")["variant"]) == {"realistic"}
    assert set(ev.runs_frame(eng, paper="tinyb2023")["variant"]) == {"realistic"}
    listed = runner.invoke(main, [*args, "runs", "--paper", "tinyb2023"])
    assert listed.exit_code == 0 and "stale: rerun" in listed.output, listed.output
    listed = runner.invoke(main, [*args, "runs", "--paper", "tinyb2023", "--format", "csv"])
    assert pd.read_csv(io.StringIO(listed.output)).set_index("variant")["status"].to_dict() == {
        "published": "stale", "realistic": "current", "control": "stale"}
    full = ev.runs_frame(eng, paper="tinyb2023", include_stale=True).set_index("variant")["status"].to_dict()
    assert full == {"published": "stale", "realistic": "current", "control": "stale"}
    shown = runner.invoke(main, [*args, "show", "tinyb2023"])
    assert "dice-accumulate (published, run" in shown.output and "stale: rerun" in shown.output, shown.output
    # a change to the realistic defaults makes the realistic links stale (realism.yaml: 5 -> 3)
    realism = copy / "realism.yaml"
    realism.write_text(realism.read_text().replace("max_iterations: 5", "max_iterations: 3"))
    assert matrix_rows()["tinyb2023"]["collapsing-variance:realistic"] == ""
    eng = ev.open_evidence(store_url, copy)
    assert ev.link_states(eng)[("tinya2024", "coin-replace", "realistic")][1] == "stale"
    assert ev.link_states(eng)[("tinya2024", "coin-replace", "published")][1] == "current"
    # a change to the simulators source changes every hash: everything is stale until rerun
    real = prov.code_version()
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(prov, "code_version", lambda: real + "-edited")
        assert _cells(eng) == {}
        assert {s for _, s in ev.link_states(eng).values()} == {"stale"}
    # rerunning the changed paper makes its evidence current again (and only it is recomputed)
    done = runner.invoke(main, [*args, "--quiet", "rerun", "tinyb2023", "--format", "json"])
    assert done.exit_code == 0, done.output
    assert [o["status"] for o in json.loads(done.output)] == ["computed", "computed", "computed"]
    fresh = matrix_rows()["tinyb2023"]
    assert fresh["collapsing-variance:published"] in COMBINED
    assert fresh["collapsing-variance:realistic"] in COMBINED


def test_rerun_seeds_override_is_exploratory(store_url):
    """``mcatlas rerun --seeds S`` is stored and linked apart: it never becomes the evidence of
    the setup as annotated, and ``show --overrides`` lists it."""
    eng = ev.open_evidence(store_url, FIXTURE)
    papers = [_papers(eng)["tinyb2023"]]
    outcomes = ev.rerun(eng, ev.plan(papers, seeds=2, defaults=ev.realistic_defaults(FIXTURE)))
    assert [(o.status, o.planned.override) for o in outcomes] == [("computed", "seeds=2")] + [("cached", "seeds=2")] * 2
    assert outcomes[1].wall_time == 0.0  # cached: nothing ran, no seconds reported
    assert ev.link_states(eng) == {}  # no annotated evidence
    assert {s for _, s in ev.override_states(eng).values()} == {"current"}
    assert _cells(eng) == {} and ev.verdicts(eng).empty
    assert set(ev.verdicts(eng, overrides=True)["override"]) == {"seeds=2"}
    args = ["--annotations", str(FIXTURE), "--db", store_url]
    res = CliRunner().invoke(main, [*args, "rerun", "tinyb2023", "--seeds", "2"])
    assert res.exit_code == 0, res.output
    rows = [ln for ln in res.output.splitlines() if "cached (answered" in ln]
    assert len(rows) == 3 and all("seeds=2" in ln for ln in rows), res.output
    shown = CliRunner().invoke(main, [*args, "show", "tinyb2023", "--overrides"])
    assert "exploratory reruns (overrides; not the setup's evidence):" in shown.output
    assert "dice-accumulate (published, seeds=2) collapsing-variance:" in shown.output
    # the annotated rerun afterwards is its own run, and the override stays apart
    ev.rerun(eng, ev.plan(papers, defaults=ev.realistic_defaults(FIXTURE)))
    assert {s for _, s in ev.link_states(eng).values()} == {"current"}
    assert len(set(ev.verdicts(eng, overrides=True)["config_hash"])) == 2
