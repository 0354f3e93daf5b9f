"""Chart specifications (Vega-Lite JSON, not pixels): the data each chart carries and how it is
encoded; the evidence overlay on the matrix; offline HTML, SVG and PNG output."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
from click.testing import CliRunner

from cli.main import main
from metaanalysis.analysis.matrix import build_matrix
from metaanalysis.analysis.pooling import pool, pooled_by
from metaanalysis.analysis.weighting import realism_frame
from metaanalysis.annotations.validation import load_database
from metaanalysis.present.charts import (
    definitions_time_chart,
    definitions_usage_chart,
    policies_year_chart,
    policy_frame,
    realism_chart,
    save_chart,
    support_chart,
    usage_frame,
)
from metaanalysis.present.charts_evidence import (
    attach_evidence,
    evidence_marks,
    iteration_ticks,
    matrix_evidence_chart,
    profiles_chart,
    trajectories_chart,
)
from metaanalysis.present.charts_forest import forest_chart
from metaanalysis.present.style import USAGE_BAR_COLOURS, VARIANT_COLOURS, VERDICT_COLOURS
from simulators.vocabulary import DEFINITIONS

GOOD = Path(__file__).resolve().parent / "fixtures" / "annotations" / "good"


@pytest.fixture(scope="module")
def db():
    return load_database(GOOD)


def nodes(node: Any) -> Iterator[dict]:
    """Every mapping anywhere in a spec, each before the ones inside it."""
    if isinstance(node, dict):
        yield node
        children = list(node.values())
    else:
        children = node if isinstance(node, list) else []
    for child in children:
        yield from nodes(child)


def values_of(spec: dict) -> list[dict]:
    """Every data row anywhere in a spec: inline, or named in its top-level ``datasets``."""
    named = spec.get("datasets") or {}
    rows = []
    for node in nodes(spec):
        data = node.get("data") if node is not spec.get("datasets") else None
        if isinstance(data, dict) and "values" in data:
            rows += data["values"]
        elif isinstance(data, dict) and data.get("name") in named:
            rows += named[data["name"]]
    return rows


def encodings(spec: dict) -> list[dict]:
    return [node["encoding"] for node in nodes(spec) if "encoding" in node]


def subtitle(spec: dict) -> str:
    return " ".join(spec["title"]["subtitle"])


def test_usage_and_time_charts_count_the_records(db):
    usage = usage_frame(db.papers)
    spec = definitions_usage_chart(usage).to_dict()
    rows = values_of(spec)
    expected = sum(len(p.definitions) for p in db.papers)
    assert len(rows) == expected
    shum = {r["definition"]: r["usage"] for r in rows if r["key"] == "shumailov2023curse"}
    assert shum["collapsing-variance"] == "explicit" and shum["diverging-risk"] == "implicit"
    enc = spec["encoding"]
    assert enc["y"]["sort"] == list(DEFINITIONS)  # vocabulary order, not alphabetical
    assert enc["x"]["aggregate"] == "count"
    assert enc["color"]["scale"]["range"] == [USAGE_BAR_COLOURS["explicit"], USAGE_BAR_COLOURS["implicit"]]
    assert "explicitly" in subtitle(spec)
    # the title is a finding computed from the records: the most used definition and its count
    users = {d: sum(d in p.definitions for p in db.papers) for d in DEFINITIONS}
    top = max(users.values())
    using = sum(bool(p.definitions) for p in db.papers)
    assert any(f"{d}: {top} of {using} papers" in spec["title"]["text"] for d in users if users[d] == top)
    time_spec = definitions_time_chart(usage).to_dict()
    assert time_spec["encoding"]["x"]["timeUnit"] == "yearmonth"
    dates = {r["key"]: r["date"] for r in values_of(time_spec)}
    assert dates["shumailov2023curse"] == "2023-05-01"


def test_policies_by_year(db):
    spec = policies_year_chart(policy_frame(db.papers)).to_dict()
    rows = values_of(spec)
    assert {(r["key"], r["policy"]) for r in rows} == {(p.key, pol) for p in db.papers for pol in p.data_policies}
    enc = spec["encoding"]
    assert enc["x"]["field"] == "year" and enc["row"]["field"] == "policy"
    assert "color" not in enc  # the policy is written on its row, not coloured
    replace = sum("replace" in p.data_policies for p in db.papers)
    assert spec["title"]["text"].startswith(f"{replace} of {sum(bool(p.data_policies) for p in db.papers)} papers")


def test_realism_chart_sorts_papers_by_weight(db):
    frame = realism_frame(db.papers, db.realism)
    spec = realism_chart(frame).to_dict()
    bars = spec["hconcat"][1]
    weights_by_paper = {r["paper"]: r["weight"] for r in bars["data"]["values"]}
    order = bars["encoding"]["y"]["sort"]
    assert [weights_by_paper[p] for p in order] == sorted(weights_by_paper.values(), reverse=True)
    assert weights_by_paper["Shumailov et al. (2023 May)"] == pytest.approx(0.25)
    assert bars["encoding"]["x"]["scale"]["domain"] == [0, 1]


def test_support_chart_has_both_series():
    synth = pd.DataFrame([{
        "definition": "collapsing-variance", "family": "distribution", "claims": 4, "claims_collapse": 2,
        "claims_no_collapse": 1, "claims_mixed": 1, "weighted_total": 1.4, "support": 0.625, "weighted_support": 0.8,
        "weighted_n": 2.5, "support_low": 0.3, "support_high": 0.9, "weighted_support_low": 0.4,
        "weighted_support_high": 0.95,
    }, {
        "definition": "tail-disappearance", "family": "distribution", "claims": 0, "claims_collapse": 0,
        "claims_no_collapse": 0, "claims_mixed": 0, "weighted_total": 0.0, "support": float("nan"),
        "weighted_support": float("nan"), "weighted_n": 0.0, "support_low": float("nan"),
        "support_high": float("nan"), "weighted_support_low": float("nan"), "weighted_support_high": float("nan"),
    }])
    spec = support_chart(synth).to_dict()
    rows = values_of(spec)
    assert {(r["definition"], r["kind"], r["support"]) for r in rows} == {
        ("collapsing-variance", "unweighted", 0.625), ("collapsing-variance", "realism-weighted", 0.8)}
    assert {(r["kind"], r["low"], r["high"], r["n"]) for r in rows} == {
        ("unweighted", 0.3, 0.9, 4), ("realism-weighted", 0.4, 0.95, 2.5)}  # every share with its interval and n
    point = spec["layer"][1]["encoding"]
    assert point["x"]["scale"]["domain"] == [0, 1]
    assert point["shape"]["scale"]["range"] == ["circle", "diamond"]


TRAJ = pd.DataFrame([
    {"paper": "p", "setup": "s", "variant": var, "policy": pol, "metric": "population_risk", "iteration": t,
     "mean": m, "ci_low": m - 0.1, "ci_high": m + 0.1, "seeds": 5}
    for var, pol, ms in (("published", "replace", [1.0, 2.0, float("inf")]), ("realistic", "accumulate", [1.0, 1.1, 1.2]))
    for t, m in zip((1, 2, 3), ms)
])


def _panel_rows(spec: dict, panel: dict) -> list[dict]:
    return spec["datasets"][panel["data"]["name"]]


def test_trajectories_chart_drops_infinite_means_and_says_so():
    spec = trajectories_chart(TRAJ).to_dict()  # validated against Vega-Lite's schema
    rows = values_of(spec)
    assert len(rows) == 5  # the infinite mean is not drawn
    assert all(r["mean"] is not None for r in rows)
    assert "1 point(s) with an infinite" in subtitle(spec)
    panel = spec["vconcat"][0]["hconcat"][0]
    assert panel["layer"][0]["mark"]["type"] == "area" and panel["layer"][0]["encoding"]["y2"]["field"] == "band_high"
    assert panel["layer"][1]["encoding"]["y"]["field"] == "mean"
    assert panel["layer"][1]["encoding"]["color"]["scale"]["domain"] == ["published", "realistic"]
    assert "not drawn" in " ".join(panel["title"]["subtitle"])  # the panel says it lost a point
    assert panel["title"]["text"] == "population risk (cross-entropy, nats) · log scale"


def _cell(x: float, setup: str, metric: str, variant: str = "published") -> list[dict]:
    return [{"paper": "p", "setup": setup, "variant": variant, "policy": "replace", "metric": metric,
             "iteration": t, "mean": x * t, "ci_low": x * t - 0.1, "ci_high": x * t + 0.1, "seeds": 5, "n_inf": 0}
            for t in (1, 2, 3)]


def test_trajectories_chart_panels_keep_their_own_setup_and_metric():
    # setup "a" has no variance_ratio at all and only infinite risk; setup "b" has both metrics.
    # In a row x column facet the missing cells shift b's data into a's panels; with explicit
    # panels every panel holds exactly its (setup, metric) rows, and a cell with nothing finite
    # is no placeholder panel: the caption says why it is missing.
    inf_risk = [{**r, "mean": float("inf"), "n_inf": 3} for r in _cell(1.0, "a", "population_risk")]
    frame = pd.DataFrame(inf_risk + _cell(2.0, "b", "population_risk") + _cell(3.0, "b", "variance_ratio"))
    spec = trajectories_chart(frame, ("population_risk", "variance_ratio"),
                              simulators={("p", "b"): "linear-regression"}).to_dict()
    assert [row["title"]["text"] for row in spec["vconcat"]] == ["p / b"]  # a has nothing finite: no row
    assert "p / a, population risk: infinite in up to 3 of 5 seed(s) at every iteration" in subtitle(spec)
    [b] = spec["vconcat"]
    names = ("population risk (excess squared error)", "variance ratio (fitted / real)")
    for panel, metric, slope, name in zip(b["hconcat"], ("population_risk", "variance_ratio"), (2.0, 3.0), names):
        data = _panel_rows(spec, panel)
        assert {(r["setup"], r["metric"]) for r in data} == {("b", metric)}
        assert [r["mean"] for r in data] == [slope, 2 * slope, 3 * slope]
        assert panel["title"]["text"].startswith(name)  # metric in words with its unit


def test_trajectories_log_scale_positive_bands_and_integer_ticks():
    kl = [{**r, "ci_low": r["mean"] - 5.0} for r in _cell(1.0, "s", "kl_to_truth")]  # a band reaching below 0
    risk = [{**r, "mean": r["mean"] - 2.5} for r in _cell(1.0, "s", "population_risk")]  # a negative cross-entropy
    spec = trajectories_chart(pd.DataFrame(kl + risk), ("population_risk", "kl_to_truth")).to_dict()
    risk_panel, kl_panel = spec["vconcat"][0]["hconcat"]
    # KL is positive: log scale, and its band never goes to or below zero
    assert kl_panel["layer"][1]["encoding"]["y"]["scale"] == {"type": "log"}
    kl_rows = _panel_rows(spec, kl_panel)
    assert min(r["band_low"] for r in kl_rows) > 0 and all(r["ci_low"] < 0 for r in kl_rows)
    # the risk goes negative (a differential cross-entropy can): a linear scale, nothing cut
    assert risk_panel["layer"][1]["encoding"]["y"]["scale"] == {"zero": False}
    assert [r["band_low"] for r in _panel_rows(spec, risk_panel)] == [r["ci_low"] for r in risk]
    assert kl_panel["layer"][0]["encoding"]["x"]["axis"]["values"] == [1, 2, 3]
    assert iteration_ticks(range(1, 101)) == [10, 20, 30, 40, 50, 60, 70, 80, 90, 100]
    assert iteration_ticks(range(0, 1001)) == [0, 200, 400, 600, 800, 1000]


def test_trajectories_tell_the_three_reruns_apart():
    frame = pd.DataFrame([r for v in ("published", "realistic", "control") for r in _cell(1.0, "s", "kl_to_truth", v)])
    spec = trajectories_chart(frame, ("kl_to_truth",)).to_dict()
    line = spec["vconcat"][0]["hconcat"][0]["layer"][1]["encoding"]
    assert line["color"]["scale"]["domain"] == ["published", "realistic", "control"]
    for channel in ("color", "strokeDash", "shape"):  # each channel alone tells them apart
        values = [json.dumps(x) for x in line[channel]["scale"]["range"]]
        assert len(set(values)) == 3, channel
    assert line["color"]["scale"]["range"] == [VARIANT_COLOURS[v] for v in ("published", "realistic", "control")]


def test_profiles_chart_cells_and_colours():
    verdicts = pd.DataFrame([
        {"paper": "p", "setup": "s", "variant": "published", "policy": "replace", "definition": d,
         "verdict": "collapse" if d == "collapsing-variance" else "not-measured"} for d in DEFINITIONS])
    spec = profiles_chart(verdicts).to_dict()
    rows = values_of(spec)
    assert len(rows) == 8
    assert {r["letter"] for r in rows if r["definition"] == "collapsing-variance"} == {"C"}
    assert {r["letter"] for r in rows if r["verdict"] == "not-measured"} == {""}  # an empty cell, no filler
    rect = spec["spec"]["layer"][1]["encoding"]
    assert rect["x"]["sort"] == list(DEFINITIONS)
    assert rect["color"]["scale"]["range"] == [VERDICT_COLOURS["collapse"]]
    assert "1 of 1 measured verdicts are collapse" in spec["title"]["text"]


def test_forest_chart_rows_and_pooled_estimate():
    effects = pd.DataFrame([
        {"paper": "a", "setup": "s", "variant": "published", "policy": "replace", "family": "gaussian", "effect": 0.1,
         "se": 0.1, "ci_low": -0.1, "ci_high": 0.3, "seeds": 10},
        {"paper": "b", "setup": "t", "variant": "published", "policy": "replace", "family": "gaussian", "effect": 0.5,
         "se": 0.2, "ci_low": 0.1, "ci_high": 0.9, "seeds": 10},
        {"paper": "a", "setup": "s", "variant": "realistic", "policy": "accumulate", "family": "gaussian",
         "effect": float("nan"), "se": float("nan"), "ci_low": float("nan"), "ci_high": float("nan"), "seeds": 0},
    ])
    spec = forest_chart(effects, pooled_by(effects)).to_dict()
    rows = values_of(spec)
    pooled = [r for r in rows if r.get("kind") == "pooled"]
    assert len(pooled) == 1 and (pooled[0]["policy"], pooled[0]["family"]) == ("replace", "gaussian")
    assert pooled[0]["effect"] == pytest.approx(pool([0.1, 0.5], [0.01, 0.04]).estimate)  # REML, HKSJ
    assert pooled[0]["label"].startswith("pooled: k = 2, tau² = ")  # written on the row, not only tooltips
    assert len([r for r in rows if r.get("kind") == "setup"]) == 2
    assert "iteration 8" in subtitle(spec)  # the common horizon is said
    titles = [panel["title"]["text"] for panel in spec["vconcat"]]
    assert titles == ["replace, gaussian: 2 of 2 run(s) drawn"]  # no finite effect under accumulate: no panel
    marks = [layer["mark"]["type"] for layer in spec["vconcat"][0]["layer"]]
    assert marks == ["rule", "rule", "point"]  # zero line, intervals, points: k = 2 has no prediction interval
    # one legend: rules and points share one field and title for colour and shape (merged by Vega-Lite)
    assert spec["vconcat"][0]["layer"][1]["encoding"]["color"]["title"] == "run"
    enc = spec["vconcat"][0]["layer"][2]["encoding"]
    assert enc["color"]["field"] == enc["shape"]["field"] == "variant" and enc["color"]["title"] == enc["shape"]["title"]
    assert "resolve" not in spec or spec["resolve"].get("scale", {}).get("x") != "shared"  # own x scale per panel


def test_forest_chart_draws_no_diamond_under_considerable_heterogeneity():
    effects = pd.DataFrame([
        {"paper": "a", "setup": s, "variant": "published", "policy": "replace", "family": "gaussian", "effect": e,
         "se": 0.05, "ci_low": e - 0.1, "ci_high": e + 0.1, "seeds": 10} for s, e in (("x", 0.1), ("y", 2.0), ("z", 5.0))])
    pooled = pooled_by(effects)
    assert not pooled.iloc[0]["shown"]
    rows = values_of(forest_chart(effects, pooled).to_dict())
    [row] = [r for r in rows if r["kind"] == "pooled"]
    assert row["effect"] is None and row["label"].startswith("not pooled: k = 3") and "0.1 to 5" in row["label"]
    assert "considerable heterogeneity" in row["note"]


def test_forest_chart_draws_a_shared_run_once_and_names_every_setup():
    effects = pd.DataFrame([
        {"paper": p, "setup": s, "variant": "published", "policy": "replace", "effect": 0.3, "se": 0.1,
         "ci_low": 0.1, "ci_high": 0.5, "seeds": 10, "config_hash": "h"} for p, s in (("a", "x"), ("b", "y"), ("c", "z"))])
    spec = forest_chart(effects, pooled_by(effects)).to_dict()
    runs = [r for r in values_of(spec) if r["kind"] == "setup"]
    assert len(runs) == 1 and runs[0]["label"] == "a / x (published) +2 more"
    assert runs[0]["shared_by"] == "a / x (published); b / y (published); c / z (published)"


def test_matrix_overlay_marks_each_cell_with_evidence(db):
    verdicts = pd.DataFrame([
        ("shumailov2023curse", "a", "published", "collapsing-variance", "collapse"),
        ("shumailov2023curse", "b", "published", "collapsing-variance", "no-collapse"),  # disagree -> mixed
        ("shumailov2023curse", "a", "realistic", "collapsing-variance", "no-collapse"),
        ("shumailov2023curse", "a", "published", "mode-entanglement", "not-measured"),
    ], columns=["paper", "setup", "variant", "definition", "verdict"])
    m = attach_evidence(build_matrix(db.papers), verdicts)
    row = next(r for r in m.rows if r.key == "shumailov2023curse")
    assert row.extra["collapsing-variance:published"] == "mixed"
    assert row.extra["collapsing-variance:realistic"] == "no-collapse"
    assert row.extra["mode-entanglement:published"] == "not-measured"
    assert row.extra["tail-disappearance:published"] == ""
    marks = evidence_marks(m)
    assert {(x["definition"], x["variant"], x["verdict"]) for x in marks} == {
        ("collapsing-variance", "published", "mixed"), ("collapsing-variance", "realistic", "no-collapse")}
    spec = matrix_evidence_chart(m, href_root="papers/").to_dict()
    cells = [r for r in values_of(spec) if "definition" in r and "published_fill" in r]
    assert len(cells) == 8 * len(db.papers)  # one cell per (paper, definition), no mark for "not run"
    shum = {r["definition"]: r for r in cells if r["key"] == "shumailov2023curse"}
    # the fill is the published verdict, the corner the realistic one; not measured is empty
    assert (shum["collapsing-variance"]["published_fill"], shum["collapsing-variance"]["realistic_fill"]) == (
        "mixed", "no-collapse")
    assert shum["mode-entanglement"]["published_fill"] == "none"
    assert shum["collapsing-variance"]["mark"] == "E" and shum["diverging-risk"]["mark"] == "I"
    fills = [e["fill"] for e in encodings(spec) if e.get("fill", {}).get("field") in ("published_fill", "realistic_fill")]
    assert fills and all(f["scale"]["range"][:4] == list(VERDICT_COLOURS.values()) for f in fills)
    # every column links to its paper's page
    hrefs = {r["href"] for r in cells}
    assert hrefs == {f"papers/{p.key}.html" for p in db.papers}
    assert any(e.get("href", {}).get("field") == "href" for e in encodings(spec))
    # the key explains every mark the cells use: both letters, every verdict fill and corner
    key = [r for r in values_of(spec) if r.get("kind") == "cell"]
    assert {r["mark"] for r in key} >= {"E", "I"}
    assert {r["fill"] for r in key} >= set(VERDICT_COLOURS) | {"none"}
    assert {r["corner"] for r in key} >= set(VERDICT_COLOURS)


def test_save_chart_offline_html_svg_png(tmp_path, db):
    chart = definitions_usage_chart(usage_frame(db.papers))
    paths = save_chart(chart, tmp_path, "usage")
    html = (tmp_path / "usage.html").read_text()
    assert not re.search(r"<script[^>]+src=", html)  # no external script: Vega is inlined
    assert "vegaEmbed" in html
    assert (tmp_path / "usage.svg").read_text().lstrip().startswith("<svg")
    assert (tmp_path / "usage.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert [p.suffix for p in paths] == [".html", ".svg", ".png"]


def test_cli_charts_writes_every_chart(tmp_path):
    result = CliRunner().invoke(main, ["--annotations", str(GOOD), "--db", f"sqlite:///{tmp_path / 'db.sqlite'}",
                                       "--quiet", "charts", "--out", str(tmp_path / "c"), "--format", "svg"])
    assert result.exit_code == 0, result.output
    names = sorted(p.stem for p in (tmp_path / "c").glob("*.svg"))
    from metaanalysis.present.charts import CHART_NAMES
    assert names == sorted(CHART_NAMES)
