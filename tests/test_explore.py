"""``mcatlas explore``: grids of realism axes around a paper setup, their boundaries, and the
theory the verdicts must follow along them.

Theory (verdicts of runs read at their own length, as the grid reads them):

* real fraction 0 collapses and a fixed positive real fraction does not (Bertrand et al., arXiv
  2310.00429; Dey & Donoho, arXiv 2410.22812): the Gaussian's variance collapses under replace
  at every synthetic ratio and stays put with half the data real; least squares under replace
  reaches the useless model's risk (catastrophic-risk) at every ratio and with half the data
  real stays near the first fit.
* least squares under replace diverges at every ratio, by E1 (n - d - 1) / (m - d - 1) per
  iteration for m = ceil(r n) <= n rows and E1 / r for an integer ratio r
  (``tests/test_sim_synthetic_ratio.py``); the diverging-risk statistic is that slope relative to
  the first fit's risk, so its interval must hold (n - d - 1) / (m - d - 1), resp. 1 / r. Each
  interval has family-wise level 95% over the profile's rules (Bonferroni), so a correct
  implementation fails one of these three checks with probability below 3 x 0.05 / 7 = 2%, and
  the seeds are fixed (the outcome is deterministic); 400 seeds make each interval about +-20%
  of the slope, so a wrong count of synthetic rows (a factor 2 in the slope) falls far outside.
* under accumulate the risk stays bounded at every ratio (diverging-risk no-collapse).

The grid itself: axes typed and ordered, the real-fraction rule (replace takes mix, f = 0 is
replace, the pooled policies ignore it), the size limit, cells stored and reused by
configuration hash (the cell of the setup's own values is the published rerun), resuming, the
three output formats and the phase diagrams, and the boundary logic on grids whose verdicts are
given.
"""

from __future__ import annotations

import json
import math
import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner

from cli.main import main
from metaanalysis import evidence as ev
from metaanalysis.analysis.explore import (
    NOT_RUN,
    base_point,
    boundaries,
    default_axes,
    explore,
    setup_realism,
    what_it_takes,
)
from metaanalysis.evidence import sweep as ev_sweep
from metaanalysis.evidence.explore import cell_config, check_axes, parse_axis, plan_grid, read_cells, run_grid
from metaanalysis.evidence.read import load_profile
from metaanalysis.store.queries import get_paper
from simulators.errors import UserError

REPO = Path(__file__).resolve().parent.parent
FIXTURE = REPO / "tests" / "fixtures" / "evidence" / "annotations"

PAPER = """\
key: explore2024
title: "A paper whose setups are explored along the realism axes"
authors: ["Ex Plorer"]
year: 2024
label: "Explore (2024)"
explicit_definition: "yes"
definitions:
  collapsing-variance: explicit
  diverging-risk: explicit
data_policies: [replace, accumulate]
source: "test fixture"
setups:
  - name: gauss-replace
    simulator: gaussian
    params: {dim: 1, n: 20}
    policy: replace
    seeds: 100
    iterations: 100
    fidelity: toy-stand-in
    note: "The classical Gaussian loop."
  - name: linreg-replace
    simulator: linear-regression
    params: {dim: 5, n: 30, noise_var: 1.0}
    policy: replace
    seeds: 400
    iterations: 100
    fidelity: toy-stand-in
    note: "Least squares relabelled by its own fit."
  - name: linreg-accumulate
    simulator: linear-regression
    params: {dim: 5, n: 30, noise_var: 1.0}
    policy: accumulate
    seeds: 100
    iterations: 100
    fidelity: toy-stand-in
    note: "Least squares on everything so far."
  - name: gauss-twice-synthetic
    simulator: gaussian
    params: {dim: 1, n: 20}
    policy: mix
    real_fraction: 0.5
    synthetic_ratio: 2
    seeds: 10
    iterations: 8
    fidelity: toy-stand-in
    note: "Twice as much synthetic data as real per generation."
  - name: coin-sweep
    simulator: discrete
    params: {categories: 2}
    policy: replace
    seeds: 8
    iterations: 6
    sweep_n: [4, 8, 16]
    fidelity: toy-stand-in
    note: "A sweep over n."
"""


def annotations(directory: Path) -> Path:
    """The evidence fixture plus the paper above."""
    root = directory / "annotations"
    shutil.copytree(FIXTURE, root)
    (root / "papers" / "explore2024.yaml").write_text(PAPER, encoding="utf-8")
    return root


@pytest.fixture(scope="module")
def store(module_store_url, tmp_path_factory):
    root = annotations(tmp_path_factory.mktemp("explore"))
    eng = ev.open_evidence(module_store_url, root)
    return eng, module_store_url, root


def setup_of(eng, name):
    return next(s for s in get_paper(eng, "explore2024").setups if s.name == name)


# ----------------------------------------------------------------------------- axes and grid


def test_axes_are_parsed_typed_and_ordered():
    assert parse_axis("real_fraction=0.5, 0,0.1") == ("real_fraction", [0.5, 0, 0.1])
    assert parse_axis("policy=replace,accumulate") == ("policy", ["replace", "accumulate"])
    axes = check_axes("gaussian", {"real_fraction": [0.5, 0, 0.1, 0.5], "synthetic_ratio": [2, 1],
                                   "policy": ["mix", "replace"], "n": [50, 10], "seeds": [20, 5]})
    assert axes == {"real_fraction": [0.0, 0.1, 0.5], "synthetic_ratio": [1.0, 2.0], "policy": ["mix", "replace"],
                    "n": [10, 50], "seeds": [5, 20]}
    for bad, fragment in [({"real_fraction": [1.5]}, "not in [0, 1]"), ({"synthetic_ratio": [0]}, "positive"),
                          ({"seeds": [0]}, "positive whole"), ({"policy": ["keep"]}, "valid choices"),
                          ({"dimm": [1]}, "valid axes: policy, real_fraction, synthetic_ratio, iterations, seeds, "
                                          "or a parameter of simulator 'gaussian': n, dim")]:
        with pytest.raises(UserError, match=fragment.replace("[", r"\[").replace("]", r"\]")):
            check_axes("gaussian", bad)
    for text in ("real_fraction", "=1", "n=1,,2", "n=[1,2]"):
        with pytest.raises(UserError):
            parse_axis(text)


def test_real_fraction_rule():
    replace = {"simulator": "gaussian", "params": {"n": 20}, "policy": "replace", "real_fraction": None,
               "seeds": 4, "iterations": 3}
    assert cell_config(replace, {"real_fraction": 0.0})["policy"] == "replace"
    assert cell_config(replace, {"real_fraction": 0.25}) == {**replace, "policy": "mix", "real_fraction": 0.25}
    accumulate = {**replace, "policy": "accumulate"}
    assert cell_config(accumulate, {"real_fraction": 0.25})["real_fraction"] is None
    mix = {**replace, "policy": "mix", "real_fraction": 0.5}
    assert cell_config(mix, {"real_fraction": 0.0}) == {**mix, "real_fraction": 0.0}  # mix at 0 stays mix
    assert cell_config(mix, {"synthetic_ratio": 2.0, "n": 40})["params"] == {"n": 40}
    with pytest.raises(UserError, match="needs a real fraction"):
        cell_config(replace, {"policy": "fresh"})


def test_grid_cells_hashes_and_limits(store):
    eng, _, root = store
    setup = setup_of(eng, "gauss-replace")
    grid = plan_grid("explore2024", setup, {"real_fraction": [0, 0.5], "policy": ["replace", "accumulate"]},
                     seeds=5, iterations=4)
    assert len(grid.cells) == 4 and len(grid.sweep().configs) == 3  # accumulate ignores the fraction
    assert any("real_fraction does not apply to accumulate" in n for n in grid.notes)
    # the cell of the setup's own values is the published rerun: one hash, one stored run
    grid = plan_grid("explore2024", setup, default_axes(setup))
    published = ev.plan([get_paper(eng, "explore2024")], ["gauss-replace"], ["published"])[0]
    own = [c for c in grid.cells if c.axes == base_point(setup, grid.axes)]
    assert len(own) == 1 and own[0].config_hash == published.config_hash
    # refused before anything is expanded (a million cells would take minutes to resolve)
    with pytest.raises(UserError, match="1,000,000 cells .* more than the limit of 10,000"):
        plan_grid("explore2024", setup, {"n": list(range(2, 102)), "seeds": list(range(1, 101)),
                                         "iterations": list(range(1, 101))})
    with pytest.raises(UserError, match="cell n=1: simulator 'gaussian'"):
        plan_grid("explore2024", setup, {"n": [1, 5]})
    with pytest.raises(UserError, match="seeds is an axis"):
        plan_grid("explore2024", setup, {"seeds": [2, 3]}, seeds=4)
    # a sweep setup runs at each of its n: n is an axis unless given
    sweep = setup_of(eng, "coin-sweep")
    grid = plan_grid("explore2024", sweep, {"synthetic_ratio": [1, 2]})
    assert grid.axes["n"] == [4, 8, 16] and len(grid.cells) == 6 and "n is an axis" in grid.notes[0]


def test_setup_synthetic_ratio_reaches_the_index_and_every_variant(store):
    eng, _, root = store
    setup = setup_of(eng, "gauss-twice-synthetic")
    assert setup.synthetic_ratio == 2.0  # through the SQL index
    defaults = ev.realistic_defaults(root)
    for variant in ("published", "realistic", "control"):
        assert ev.canonical_config(ev.setup_config(setup, variant, defaults))["synthetic_ratio"] == 2.0
    assert "synthetic_ratio" not in ev.setup_config(setup_of(eng, "gauss-replace"), "published")
    assert default_axes(setup) == {"real_fraction": [0.0, 0.1, 0.5], "synthetic_ratio": [0.5, 1.0, 2.0]}
    assert base_point(setup, default_axes(setup)) == {"real_fraction": 0.5, "synthetic_ratio": 2.0}
    assert default_axes(setup_of(eng, "linreg-accumulate")) == {"synthetic_ratio": [0.5, 1.0, 2.0]}


# ----------------------------------------------------------------------------- running


def test_cells_are_stored_reused_and_resumable(store):
    eng, _, _ = store
    setup = setup_of(eng, "gauss-twice-synthetic")
    grid = plan_grid("explore2024", setup, {"synthetic_ratio": [0.5, 1, 3], "real_fraction": [0, 0.5]})

    class Stop(Exception):
        pass

    def stop_after_one(done, total):
        if done == 1:
            raise Stop

    with pytest.raises(Stop):
        run_grid(eng, grid, executor="serial", progress=stop_after_one)
    outcome = run_grid(eng, grid, executor="serial")  # resumes: the first run is not redone
    assert (outcome.total, outcome.skipped, len(outcome.stored)) == (6, 1, 5)
    assert len(run_grid(eng, grid, executor="serial").stored) == 0  # everything cached now
    cells = read_cells(eng, grid)
    assert all(c["stored"] and c["horizon"] == 8 for c in cells)
    for c in cells:  # read at the cell's own length
        prof = load_profile(eng, c["config_hash"], 8)
        assert c["verdicts"] == {v.definition: v.verdict for v in prof.verdicts}
        assert c["config"]["synthetic_ratio"] == c["axes"]["synthetic_ratio"]
    # the runs are listed under the grid's sweep name
    assert set(ev.runs_frame(eng, sweep="explore:explore2024/gauss-twice-synthetic")["config_hash"]) >= {
        c["config_hash"] for c in cells}


def test_real_fraction_zero_collapses_and_half_real_does_not(store):
    eng, _, _ = store
    axes = {"real_fraction": [0, 0.5], "synthetic_ratio": [0.5, 1, 2]}
    gauss = explore(eng, "explore2024", setup_of(eng, "gauss-replace"), axes, executor="serial")
    linreg = explore(eng, "explore2024", setup_of(eng, "linreg-replace"), axes, executor="processes", workers=2)
    for c in gauss["cells"]:
        expected = "collapse" if c["axes"]["real_fraction"] == 0 else "no-collapse"
        assert c["verdicts"]["collapsing-variance"] == expected, c["axes"]
    for c in linreg["cells"]:
        expected = "collapse" if c["axes"]["real_fraction"] == 0 else "no-collapse"
        assert c["verdicts"]["catastrophic-risk"] == expected, c["axes"]
    # the flip along real_fraction, at every ratio, sure on both sides
    flips = [b for b in gauss["boundaries"]
             if b["definition"] == "collapsing-variance" and b["axis"] == "real_fraction"]
    assert len(flips) == 3
    for b in flips:
        assert b["monotone"] is True and len(b["flips"]) == 1
        f = b["flips"][0]
        assert (f["from"], f["to"], f["verdicts"], f["undecided"]) == (0.0, 0.5, ["collapse", "no-collapse"], [])
    # what it takes: half the data real, whatever the ratio
    takes = gauss["what_it_takes"]["collapsing-variance"]
    assert takes["status"] == "collapse" and takes["min_real_fraction"]["value"] == 0.5
    assert takes["min_real_fraction"]["other_side"]["verdict"] == "collapse"
    assert takes["max_synthetic_ratio"]["value"] == 2.0 and takes["max_synthetic_ratio"]["at_real_fraction"] == 0.5


def test_least_squares_replace_diverges_at_the_closed_form_slope_for_every_ratio(store):
    eng, _, _ = store
    result = explore(eng, "explore2024", setup_of(eng, "linreg-replace"),
                     {"real_fraction": [0], "synthetic_ratio": [0.5, 1, 2]}, executor="serial")
    n, d = 30, 5
    for c in result["cells"]:
        r = c["axes"]["synthetic_ratio"]
        slope = (n - d - 1) / (math.ceil(r * n) - d - 1) if r < 1 else 1 / r
        lo, hi = c["ci"]["diverging-risk"]
        assert c["verdicts"]["diverging-risk"] == "collapse"
        assert lo <= slope <= hi, (r, slope, lo, hi)


def test_least_squares_accumulate_stays_bounded_for_every_ratio(store):
    eng, _, _ = store
    result = explore(eng, "explore2024", setup_of(eng, "linreg-accumulate"), executor="serial")
    assert result["axes"] == {"synthetic_ratio": [0.5, 1.0, 2.0]}
    assert [c["verdicts"]["diverging-risk"] for c in result["cells"]] == ["no-collapse"] * 3
    takes = result["what_it_takes"]["diverging-risk"]
    assert takes["status"] == "no-collapse" and takes["min_real_fraction"]["value"] is None
    assert takes["max_synthetic_ratio"]["value"] == 2.0


def test_setup_realism_reads_without_running(store):
    eng, _, _ = store
    fresh = setup_realism(eng, "explore2024", setup_of(eng, "coin-sweep"), run=False)
    assert fresh["missing"] == len(fresh["cells"]) == 27 and fresh["what_it_takes"] == {}
    assert all(c["verdicts"] == {} for c in fresh["cells"])


# ----------------------------------------------------------------------------- boundaries


def cell(axes, verdict, stability=1.0, definition="collapsing-variance"):
    return {"axes": axes, "stored": verdict != NOT_RUN, "verdicts": {definition: verdict} if verdict != NOT_RUN else {},
            "stability": {definition: stability}, "statistics": {}, "ci": {}}


def test_boundaries_flips_monotone_and_undecided():
    axes = {"real_fraction": [0.0, 0.1, 0.5, 1.0], "synthetic_ratio": [1.0, 2.0]}
    grid = {(0.0, 1.0): "collapse", (0.1, 1.0): "inconclusive", (0.5, 1.0): NOT_RUN, (1.0, 1.0): "no-collapse",
            (0.0, 2.0): "collapse", (0.1, 2.0): "no-collapse", (0.5, 2.0): "collapse", (1.0, 2.0): "no-collapse"}
    cells = [cell({"real_fraction": f, "synthetic_ratio": r}, v, 0.9 if v == "collapse" else 0.85)
             for (f, r), v in grid.items()]
    out = {(b["axis"], tuple(b["fixed"].values())): b for b in boundaries(cells, axes)}
    one = out[("real_fraction", (1.0,))]
    assert one["monotone"] is True and one["undecided"] == 2
    assert one["flips"] == [{"from": 0.0, "to": 1.0, "verdicts": ["collapse", "no-collapse"],
                             "stability": [0.9, 0.85], "undecided": [0.1, 0.5]}]
    two = out[("real_fraction", (2.0,))]
    assert two["monotone"] is False
    assert [(f["from"], f["to"]) for f in two["flips"]] == [(0.0, 0.1), (0.1, 0.5), (0.5, 1.0)]
    along_r = out[("synthetic_ratio", (0.1,))]
    assert along_r["verdicts"] == ["inconclusive", "no-collapse"] and along_r["monotone"] is None
    # what it takes at ratio 1: the smallest fraction whose no-collapse has no collapse beyond it
    takes = what_it_takes(cells, axes, {"real_fraction": 0.0, "synthetic_ratio": 1.0})["collapsing-variance"]
    assert takes["min_real_fraction"] == {"value": 1.0, "stability": 0.85, "undecided": [0.1, 0.5],
                                          "other_side": {"value": 0.0, "verdict": "collapse", "stability": 0.9}}
    assert takes["max_synthetic_ratio"]["value"] == 2.0  # at real fraction 1.0: no-collapse at both ratios
    # an unordered axis is never called monotone; a definition not measured is left out
    cells = [cell({"policy": p}, v) for p, v in [("replace", "collapse"), ("accumulate", "no-collapse")]]
    for c in cells:
        c["verdicts"]["mode-entanglement"] = "not-measured"
    out = boundaries(cells, {"policy": ["replace", "accumulate"]})
    assert [b["definition"] for b in out] == ["collapsing-variance"]
    assert out[0]["monotone"] is None and len(out[0]["flips"]) == 1


# ----------------------------------------------------------------------------- the command


def test_cli_formats_and_phase_diagrams(store, tmp_path):
    _, url, root = store
    runner = CliRunner()
    args = ["--annotations", str(root), "--db", url, "explore", "explore2024", "--setup", "gauss-twice-synthetic",
            "--executor", "serial"]
    res = runner.invoke(main, [*args, "--format", "json"])
    assert res.exit_code == 0, res.output
    doc = json.loads(res.output)
    assert doc["axes"] == {"real_fraction": [0.0, 0.1, 0.5], "synthetic_ratio": [0.5, 1.0, 2.0]}
    assert len(doc["cells"]) == 9 and doc["horizon"].startswith("each cell's own length")
    first = doc["cells"][0]
    assert set(first) >= {"axes", "verdicts", "statistics", "ci", "config_hash"}
    assert first["verdicts"]["collapsing-variance"] in ("collapse", "no-collapse", "inconclusive")
    assert {b["axis"] for b in doc["boundaries"]} == {"real_fraction", "synthetic_ratio"}
    assert doc["what_it_takes"]["collapsing-variance"]["base"] == {"real_fraction": 0.5, "synthetic_ratio": 2.0}
    res = runner.invoke(main, [*args, "--format", "csv", "--axis", "synthetic_ratio=1,2"])
    assert res.exit_code == 0, res.output
    lines = res.output.splitlines()
    assert lines[0] == "synthetic_ratio,definition,verdict,statistic,ci_low,ci_high,stability,config_hash"
    assert len(lines) == 1 + 2 * 8
    res = runner.invoke(main, [*args, "--axis", "synthetic_ratio=1,2"])
    assert res.exit_code == 0 and "boundaries" in res.output and "collapsing-variance" in res.output
    for suffix in (".svg", ".html"):
        out = tmp_path / f"phase{suffix}"
        res = runner.invoke(main, [*args, "--out", str(out)])
        assert res.exit_code == 0, res.output
        text = out.read_text(encoding="utf-8")
        assert ("<svg" in text) if suffix == ".svg" else ("collapsing-variance" in text and "<html" in text.lower())
    for extra, fragment in [(["--out", str(tmp_path / "x.pdf")], "unknown chart format"),
                            (["--axis", "nope=1"], "unknown axis 'nope'"),
                            (["--axis", "n=10", "--axis", "n=20"], "--axis n given twice")]:
        res = runner.invoke(main, [*args, *extra])
        assert res.exit_code == 1 and fragment in res.output, res.output
    res = runner.invoke(main, ["--annotations", str(root), "--db", url, "explore", "explore2024"])
    assert res.exit_code == 1 and "choose one with --setup NAME" in res.output


def test_phase_chart_validates(store):
    """Every kind of panel (heatmap, heatmaps per further axis, strip) is a valid Vega-Lite spec."""
    from metaanalysis.present.charts_explore import phase_diagrams

    eng, _, _ = store
    setup = setup_of(eng, "gauss-twice-synthetic")
    for axes in ({"synthetic_ratio": [1, 2]}, {"synthetic_ratio": [1, 2], "real_fraction": [0, 0.5]},
                 {"synthetic_ratio": [1, 2], "real_fraction": [0, 0.5], "n": [20, 30]}):
        result = explore(eng, "explore2024", setup, axes, executor="serial", seeds=4, iterations=4)
        spec = phase_diagrams(result).to_dict(validate=True)
        assert len(spec["vconcat"]) == len([d for d in result["statistic_names"]
                                            if any(c["verdicts"][d] != "not-measured" for c in result["cells"])])


def test_sweep_files_take_a_synthetic_ratio_axis():
    sweep = ev_sweep.expand({"simulator": "gaussian", "policy": ["replace", "mix"], "real_fraction": [0, 0.5],
                             "synthetic_ratio": [1, 2.5], "seeds": 3, "iterations": 2})
    got = sorted((c["policy"], c["real_fraction"], c["synthetic_ratio"]) for c in sweep.configs)
    assert got == [("mix", 0.0, 1.0), ("mix", 0.0, 2.5), ("mix", 0.5, 1.0), ("mix", 0.5, 2.5),
                   ("replace", None, 1.0), ("replace", None, 2.5)]
    assert len(set(sweep.hashes)) == 6
    with pytest.raises(UserError, match="synthetic_ratio"):
        ev_sweep.expand({"simulator": "gaussian", "synthetic_ratio": [1, -1]})
