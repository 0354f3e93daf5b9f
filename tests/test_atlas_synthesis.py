"""Evidence synthesis: claim counts (unweighted and realism-weighted) with Wilson intervals,
verdict counts, the per-run log risk ratio at the common horizon, and pooling per subgroup."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from metaanalysis.analysis.frames import Evidence, RunEvidence, evidence_from_runs
from metaanalysis.analysis.pooling import (
    EFFECT_ITERATION,
    HETEROGENEITY_LIMIT,
    log_ratio_of_endpoints,
    log_risk_ratio,
    pool,
    pooled_by,
)
from metaanalysis.analysis.synthesis import (
    conclusion_checks,
    synthesis_table,
    verdicts_by_policy,
    wilson,
)
from metaanalysis.annotations.records import Paper


def paper(key: str, claims: list[tuple[str, str, str]]) -> Paper:
    return Paper.model_validate({
        "key": key, "title": "T", "authors": ["A"], "year": 2024, "label": key,
        "explicit_definition": "n/a", "definitions": {},
        "claims": [
            {"id": f"c{i}", "statement": "s", "definition": d, "outcome": o, "policy": pol,
             "model_family": "gaussian", "where": "Fig. 1"}
            for i, (d, o, pol) in enumerate(claims)
        ],
    })


PAPERS = [
    paper("a", [("collapsing-variance", "collapse", "replace"), ("diverging-risk", "no-collapse", "accumulate")]),
    paper("b", [("collapsing-variance", "mixed", "mix"), ("collapsing-variance", "collapse", "replace")]),
    paper("c", [("collapsing-variance", "no-collapse", "accumulate")]),  # unscored: no weight
]
WEIGHTS = {"a": 0.2, "b": 0.6, "c": None}

VERDICTS = pd.DataFrame([
    # paper, setup, variant, policy, definition, verdict
    ("a", "s1", "published", "replace", "collapsing-variance", "collapse"),
    ("a", "s1", "realistic", "accumulate", "collapsing-variance", "no-collapse"),
    ("a", "s1", "published", "replace", "diverging-risk", "collapse"),
    ("a", "s1", "realistic", "accumulate", "diverging-risk", "no-collapse"),
    ("b", "s2", "published", "mix", "collapsing-variance", "not-measured"),
    ("b", "s2", "realistic", "accumulate", "diverging-risk", "no-collapse"),
], columns=["paper", "setup", "variant", "policy", "definition", "verdict"])


def test_synthesis_counts_claims_unweighted_and_weighted():
    table = synthesis_table(PAPERS, WEIGHTS, VERDICTS).set_index("definition")
    var = table.loc["collapsing-variance"]
    assert (var.claims, var.claims_collapse, var.claims_mixed, var.claims_no_collapse) == (4, 2, 1, 1)
    # weighted: a's collapse 0.2, b's collapse 0.6 and mixed 0.6; c unscored -> left out
    assert var.weighted_collapse == pytest.approx(0.8)
    assert var.weighted_mixed == pytest.approx(0.6)
    assert var.weighted_no_collapse == pytest.approx(0.0)
    assert var.weighted_total == pytest.approx(1.4)
    assert var.claims_unweighted == 1
    assert var.support == pytest.approx((2 + 0.5) / 4)
    assert var.weighted_support == pytest.approx((0.8 + 0.3) / 1.4)
    assert (var.published_collapse, var.published_not_measured, var.realistic_no_collapse) == (1, 1, 1)
    div = table.loc["diverging-risk"]
    assert (div.claims_no_collapse, div.weighted_no_collapse, div.support) == (1, pytest.approx(0.2), 0.0)
    assert (div.published_collapse, div.realistic_no_collapse) == (1, 2)
    assert table.loc["hallucinated-data"].claims == 0 and math.isnan(table.loc["hallucinated-data"].support)
    assert list(table.index)[:2] == ["catastrophic-risk", "any-risk-increase"]  # vocabulary order


def test_synthesis_without_evidence_has_zero_verdict_counts():
    table = synthesis_table(PAPERS, WEIGHTS, None)
    assert (table["published_collapse"] == 0).all() and (table["realistic_no_collapse"] == 0).all()


POSITION = Paper.model_validate({
    "key": "schaeffer2025position", "title": "T", "authors": ["A"], "year": 2025, "label": "S",
    "explicit_definition": "n/a", "definitions": {},
    "claims": [
        {"id": "acc", "statement": "Risk does not diverge when data accumulate.", "definition": "diverging-risk",
         "outcome": "no-collapse", "policy": "accumulate", "model_family": "other", "where": "abstract"},
        {"id": "rep", "statement": "Variance collapses under replacement.", "definition": "collapsing-variance",
         "outcome": "collapse", "policy": "replace", "model_family": "gaussian", "where": "Fig. 4"},
        {"id": "tail", "statement": "Tail loss deserves study.", "definition": "diverging-risk",
         "outcome": "mixed", "policy": "accumulate", "model_family": "other", "where": "conclusion"},
        {"id": "scale", "statement": "Scaling shifts matter.", "definition": "scaling-law-change",
         "outcome": "mixed", "policy": "accumulate", "model_family": "other", "where": "conclusion"},
    ],
})


def test_verdicts_by_policy_and_conclusion_checks():
    by = verdicts_by_policy(VERDICTS)
    row = by[(by.definition == "diverging-risk") & (by.policy == "accumulate")].iloc[0]
    assert (row.no_collapse, row.collapse, row.conclusive) == (2, 0, 2)
    checks = {c["claim"]: c for c in conclusion_checks(VERDICTS, PAPERS + [POSITION])}
    assert list(checks) == ["acc", "rep", "tail", "scale"]  # from the record, in its order
    acc = checks["acc"]
    assert (acc["status"], acc["collapse"], acc["conclusive"], acc["statement"]) == (
        "supported", 0, 2, "Risk does not diverge when data accumulate.")
    assert checks["rep"]["status"] == "supported" and checks["rep"]["conclusive"] == 1
    assert (checks["tail"]["status"], checks["tail"]["conclusive"]) == ("open", 2)  # mixed: counts, no verdict
    assert checks["scale"]["status"] == "not-measured"
    # contradicted when an accumulate run diverges
    bad = pd.concat([VERDICTS, pd.DataFrame([("c", "s3", "realistic", "accumulate", "diverging-risk", "collapse")],
                                            columns=VERDICTS.columns)])
    assert {c["claim"]: c["status"] for c in conclusion_checks(bad, [POSITION])}["acc"] == "partly contradicted"
    worse = pd.concat([bad, pd.DataFrame([("c", f"s{i}", "realistic", "accumulate", "diverging-risk", "collapse")
                                          for i in (4, 5)], columns=VERDICTS.columns)])
    assert {c["claim"]: (c["status"], c["share"]) for c in conclusion_checks(worse, [POSITION])}["acc"] == (
        "contradicted", 3 / 5)
    assert all(c["status"] == "not-measured" for c in conclusion_checks(None, [POSITION]))
    assert conclusion_checks(VERDICTS, PAPERS) == []  # no position paper record: nothing to check


def test_a_run_shared_by_several_links_counts_once():
    # one configuration (hash h1) linked from three setups, and one from a single setup
    shared = pd.DataFrame([
        (p, s, "published", "accumulate", "diverging-risk", "collapse", "h1")
        for p, s in (("a", "x"), ("b", "y"), ("c", "z"))
    ] + [("a", "w", "published", "accumulate", "diverging-risk", "no-collapse", "h2")],
        columns=[*VERDICTS.columns, "config_hash"])
    table = synthesis_table(PAPERS, WEIGHTS, shared).set_index("definition")
    assert (table.loc["diverging-risk"].published_collapse, table.loc["diverging-risk"].published_no_collapse) == (1, 1)
    acc = conclusion_checks(shared, [POSITION])[0]
    assert (acc["collapse"], acc["conclusive"]) == (1, 2)
    assert "a / x (published); b / y (published); c / z (published)" in acc["runs"]
    by = verdicts_by_policy(shared)
    assert by.iloc[0].conclusive == 2
    effects = pd.DataFrame([
        {"paper": p, "setup": s, "variant": "published", "policy": "replace", "effect": e, "se": se,
         "config_hash": h} for p, s, e, se, h in (("a", "x", 0.1, 0.1, "h1"), ("b", "y", 0.1, 0.1, "h1"),
                                                 ("c", "z", 0.1, 0.1, "h1"), ("a", "w", 0.5, 0.2, "h2"))])
    pooled = pooled_by(effects, by=("policy",)).iloc[0]
    assert (pooled.k, pooled.runs) == (2, 2)
    assert pooled.estimate == pytest.approx(pool([0.1, 0.5], [0.01, 0.04]).estimate)


def test_position_paper_claims_are_checked_not_counted():
    table = synthesis_table(PAPERS + [POSITION], WEIGHTS, None).set_index("definition")
    assert table.loc["diverging-risk"].claims == 1  # only paper a's claim
    assert table.loc["scaling-law-change"].claims == 0


def test_log_ratio_excludes_infinite_and_zero_risks_with_a_note():
    first = np.array([1.0, 2.0, 1.0, 1.0, 0.0])
    last = np.array([2.0, 2.0, 4.0, np.inf, 1.0])
    e = log_ratio_of_endpoints(first, last)
    ys = np.log([2.0, 1.0, 4.0])
    assert e.seeds == 3 and e.excluded == 2 and "2 seed(s) excluded" in e.note
    assert e.effect == pytest.approx(ys.mean())
    assert e.se == pytest.approx(ys.std(ddof=1) / math.sqrt(3))
    assert e.ci_high - e.effect == pytest.approx(4.302653 * e.se, rel=1e-5)  # t(0.975, df=2)


def test_log_risk_ratio_at_the_common_horizon_and_pooling_per_subgroup():
    rows = []
    for seed, (r1, r8) in enumerate([(1.0, 2.0), (1.0, 3.0), (2.0, 2.0)]):
        for it in range(1, 13):  # the run goes on past the common horizon: what follows is not the effect
            value = r1 if it == 1 else (r8 if it == EFFECT_ITERATION else 100.0)
            rows.append((it, seed, "population_risk", value))
    frame = pd.DataFrame(rows, columns=["iteration", "seed", "metric", "value"])
    e = log_risk_ratio(frame)
    assert e.effect == pytest.approx(np.mean(np.log([2.0, 3.0, 1.0])))
    short = log_risk_ratio(frame[frame["iteration"] < EFFECT_ITERATION])
    assert math.isnan(short.effect) and "before the common horizon" in short.note
    effects = pd.DataFrame([
        {"paper": "a", "setup": "s", "variant": "published", "policy": "replace", "family": "gaussian",
         "effect": 0.1, "se": 0.1},
        {"paper": "a", "setup": "t", "variant": "published", "policy": "replace", "family": "gaussian",
         "effect": 0.5, "se": 0.2},
        {"paper": "a", "setup": "u", "variant": "published", "policy": "replace", "family": "lm",
         "effect": 9.0, "se": 0.1},
        {"paper": "a", "setup": "s", "variant": "realistic", "policy": "accumulate", "family": "gaussian",
         "effect": 0.0, "se": 0.05},
    ])
    pooled = pooled_by(effects).set_index(["policy", "family"])
    assert list(pooled.index) == [("replace", "gaussian"), ("replace", "lm"), ("accumulate", "gaussian")]
    gauss = pooled.loc[("replace", "gaussian")]
    assert gauss["estimate"] == pytest.approx(pool([0.1, 0.5], [0.01, 0.04], method="REML", ci="hksj").estimate)
    assert (gauss["method"], gauss["ci_method"]) == ("REML", "hksj")
    assert pooled.loc[("replace", "lm"), "k"] == 1 and not pooled.loc[("replace", "lm"), "shown"]
    # pooled across families the two effects disagree far beyond their standard errors: no single value
    mixed = pooled_by(effects, by=("policy",)).set_index("policy").loc["replace"]
    assert mixed["i2"] >= HETEROGENEITY_LIMIT and not mixed["shown"]
    assert "considerable heterogeneity" in mixed["message"]
    assert (mixed["effect_min"], mixed["effect_max"]) == (0.1, 9.0)


def test_wilson_interval_matches_its_closed_form():
    # 3 of 10: the interval every statistics text gives, (0.1078, 0.6032)
    assert wilson(0.3, 10) == pytest.approx((0.10779, 0.60322), abs=1e-4)
    low, high = wilson(0.0, 5)
    assert low == 0.0 and high == pytest.approx(0.43448, abs=1e-4)
    assert all(math.isnan(x) for x in wilson(0.5, 0))
    table = synthesis_table(PAPERS, WEIGHTS, None).set_index("definition")
    var = table.loc["collapsing-variance"]
    assert (var.support_low, var.support_high) == pytest.approx(wilson(var.support, var.claims))
    # weights 0.2, 0.6, 0.6 (c unweighted): Kish's effective n = 1.4^2 / 0.76
    assert var.weighted_n == pytest.approx(1.4 ** 2 / 0.76)


def test_evidence_from_a_real_run():
    import simulators

    frame = simulators.run("gaussian", policy="replace", seeds=8, iterations=8, n=20)
    prof = simulators.profile(frame)
    ev = evidence_from_runs([RunEvidence("p", "g", "published", "replace", frame, prof, run_id="r1",
                                         simulator="gaussian", provenance={"device": "cpu"})])
    assert set(ev.verdicts["definition"]) >= {"collapsing-variance", "diverging-risk"}
    assert (ev.verdicts["variant"] == "published").all()
    risk = ev.trajectories[ev.trajectories.metric == "population_risk"]
    assert list(risk["iteration"]) == list(range(1, 9))
    assert risk["mean"].iloc[0] == pytest.approx(frame[(frame.metric == "population_risk") & (frame.iteration == 1)].value.mean())
    assert ev.effects.iloc[0]["seeds"] + ev.effects.iloc[0]["excluded"] == 8
    assert ev.runs.iloc[0]["provenance"] == {"device": "cpu"}
    assert not ev.is_empty and ev.for_paper("zzz").is_empty and Evidence.empty().is_empty
