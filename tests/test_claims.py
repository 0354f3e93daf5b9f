"""Claims against evidence: the one combiner, reproduction first, realistic survival, the control's
attribution, contradictions worded by fidelity, and claims that state a law.

Verdict frames are built by hand so that every branch of the rules is pinned; the store and
the views are exercised in tests/test_views_agree.py.
"""

from __future__ import annotations

import itertools

import pandas as pd
import pytest

from metaanalysis.analysis.claims import (
    COMBINED,
    REALISTIC,
    REPRODUCTION,
    assess_claims,
    claims_frame,
    combine_verdicts,
)
from metaanalysis.analysis.synthesis import conclusion_checks, synthesis_table
from metaanalysis.annotations.records import Paper
from simulators.vocabulary import VERDICTS

DEF = "collapsing-variance"


def paper(claims, setups, key="p"):
    return Paper.model_validate({
        "key": key, "title": "T", "authors": ["A"], "year": 2024, "label": "P (2024)",
        "explicit_definition": "n/a", "definitions": {},
        "claims": [{"id": cid, "statement": "s", "definition": DEF, "outcome": outcome, "policy": "replace",
                    "model_family": "gaussian", "where": "Fig. 1", **extra}
                   for cid, outcome, extra in claims],
        "setups": [{"name": name, "simulator": "gaussian", "policy": "replace", "seeds": 2, "iterations": 3,
                    "reproduces": reproduces, "fidelity": fidelity, "note": "n"}
                   for name, reproduces, fidelity in setups],
    })


def frame(rows, key="p"):
    """rows: (setup, variant, verdict) on DEF."""
    return pd.DataFrame([(key, s, v, DEF, x) for s, v, x in rows],
                        columns=["paper", "setup", "variant", "definition", "verdict"])


def one(claim_outcome, rows, fidelity="same-model", setups=(("s1", ["c"]),)):
    p = paper([("c", claim_outcome, {})], [(n, r, fidelity) for n, r in setups])
    [a] = assess_claims([p], frame(rows))
    return a


# -- the combiner ----------------------------------------------------------------------------


def test_combine_verdicts_every_combination_of_two():
    for a, b in itertools.product(VERDICTS, repeat=2):
        got = combine_verdicts([a, b])
        conclusive = {a, b} & {"collapse", "no-collapse"}
        if len(conclusive) == 2:
            assert got == "mixed"
        elif conclusive:
            assert got == conclusive.pop()  # a conclusive verdict wins over inconclusive / not measured
        elif "inconclusive" in (a, b):
            assert got == "inconclusive"
        else:
            assert got == "not-measured"
        assert got in COMBINED
    assert combine_verdicts([]) == ""


# -- reproduction first ------------------------------------------------------------------------


@pytest.mark.parametrize("outcome, published, want", [
    ("collapse", ["collapse"], "reproduced"),
    ("collapse", ["no-collapse"], "not reproduced"),
    ("collapse", ["inconclusive"], "inconclusive"),
    ("no-collapse", ["no-collapse", "inconclusive"], "reproduced"),
    ("no-collapse", ["collapse", "no-collapse"], "inconclusive"),  # the setups disagree
    ("collapse", ["not-measured"], "untested"),
    ("collapse", [], "untested"),
    ("mixed", ["collapse", "no-collapse"], "reproduced"),
    ("mixed", ["collapse"], "inconclusive"),
])
def test_reproduction(outcome, published, want):
    setups = tuple((f"s{i}", ["c"]) for i in range(max(1, len(published))))
    rows = [(f"s{i}", "published", v) for i, v in enumerate(published)]
    a = one(outcome, rows, setups=setups)
    assert a.reproduction == want and a.reproduction in REPRODUCTION


def test_a_claim_without_setups_is_untested():
    a = one("collapse", [("s1", "published", "collapse")], setups=(("s1", []),))
    assert (a.setups, a.reproduction, a.under_realistic) == ((), "untested", "untested")
    assert a.reason() == "no setup reproduces this claim"


# -- then realistic conditions, and the control ------------------------------------------------


@pytest.mark.parametrize("realistic, control, want, attribution", [
    ("collapse", "", "survives", ""),
    ("inconclusive", "", "inconclusive", ""),
    ("", "", "untested", ""),
    ("no-collapse", "collapse", "does not survive", "the realistic policy"),  # the control still collapses
    ("no-collapse", "no-collapse", "does not survive", "the shorter horizon"),  # so does the control
    ("no-collapse", "inconclusive", "does not survive", "unclear"),
    ("no-collapse", "", "does not survive", "unclear"),
])
def test_realistic_status_and_attribution(realistic, control, want, attribution):
    rows = [("s1", "published", "collapse")]
    rows += [("s1", "realistic", realistic)] if realistic else []
    rows += [("s1", "control", control)] if control else []
    a = one("collapse", rows)
    assert (a.reproduction, a.under_realistic, a.attribution) == ("reproduced", want, attribution)
    assert a.under_realistic in REALISTIC
    if attribution:
        assert f"lost to {attribution}" in a.reason()


@pytest.mark.parametrize("published", ["no-collapse", "inconclusive"])
def test_the_realistic_rerun_of_a_claim_not_reproduced_says_nothing(published):
    a = one("collapse", [("s1", "published", published), ("s1", "realistic", "collapse")])
    assert a.under_realistic == "not applicable" and a.attribution == ""
    if published == "no-collapse":
        assert "says nothing about the paper" in a.reason()


# -- contradictions by fidelity ----------------------------------------------------------------


def test_contradiction_is_worded_by_the_fidelity_of_the_disagreeing_setups():
    same = one("no-collapse", [("s1", "published", "collapse")], fidelity="same-model")
    assert (same.contradiction, same.contradicted, same.disagreeing) == ("contradicted", True, ("s1",))
    toy = one("no-collapse", [("s1", "published", "collapse")], fidelity="toy-stand-in")
    assert (toy.contradiction, toy.contradicted) == ("stand-in misses", False)
    # one same-model setup inconclusive, a toy one disagreeing: the combined verdict disagrees,
    # but only the stand-in does
    p = paper([("c", "no-collapse", {})], [("real", ["c"], "same-model"), ("toy", ["c"], "toy-stand-in")])
    [a] = assess_claims([p], frame([("real", "published", "inconclusive"), ("toy", "published", "collapse")]))
    assert (a.reproduction, a.contradiction, a.disagreeing) == ("not reproduced", "stand-in misses", ("toy",))
    # inconclusive evidence contradicts nothing
    assert one("no-collapse", [("s1", "published", "inconclusive")]).contradiction == ""


def test_sweep_runs_count_for_their_setup():
    rows = [("s1@n=10", "published", "collapse"), ("s1@n=100", "published", "collapse")]
    assert one("collapse", rows).reproduction == "reproduced"


# -- laws --------------------------------------------------------------------------------------


def test_a_law_claim_is_judged_by_its_test_not_by_collapse_counts():
    p = paper([("fig4", "collapse", {"law": "absorption-time-n-h0"})], [("s1", ["fig4"], "same-model")])
    runs = frame([("s1", "published", "collapse"), ("s1", "realistic", "collapse")])  # every run collapses
    laws = {("p", "fig4", "published"): {"answer": "does not hold", "summary": "proportional: does not hold"},
            ("p", "fig4", "realistic"): {"answer": "not-tested", "summary": "censored"}}
    [a] = assess_claims([p], runs, laws)
    assert (a.reproduction, a.contradiction, a.under_realistic) == ("not reproduced", "contradicted", "not applicable")
    assert "proportional: does not hold" in a.reason()
    laws[("p", "fig4", "published")] = {"answer": "holds", "summary": "holds"}
    [a] = assess_claims([p], runs, laws)
    assert (a.reproduction, a.under_realistic) == ("reproduced", "untested")
    [a] = assess_claims([p], runs, {})  # the test was not run
    assert a.reproduction == "untested"
    # the position paper's checks follow the law's test too, whatever the collapse counts
    pos = paper([("fig4", "collapse", {"law": "absorption-time-n-h0"})], [("s1", ["fig4"], "same-model")],
                key="schaeffer2025position")
    law = {("schaeffer2025position", "fig4", "published"): {"answer": "does not hold", "summary": "x"}}
    verdicts = frame([("s1", "published", "collapse")], key="schaeffer2025position").assign(policy="replace")
    judged = assess_claims([pos], verdicts, law)
    [check] = conclusion_checks(verdicts, [pos], assessments=judged)
    assert (check["collapse"], check["conclusive"], check["status"]) == (1, 1, "contradicted")


# -- the synthesis counts what the claims say ----------------------------------------------------


def test_synthesis_counts_reproduction_and_inconclusive_evidence():
    p = paper([("a", "collapse", {}), ("b", "no-collapse", {}), ("c", "collapse", {}), ("d", "collapse", {})],
              [("s1", ["a", "b"], "same-model"), ("s2", ["c"], "toy-stand-in"), ("s3", [], "toy-stand-in")])
    verdicts = frame([("s1", "published", "collapse"), ("s1", "realistic", "no-collapse"),
                      ("s1", "control", "collapse"), ("s2", "published", "inconclusive"),
                      ("s3", "published", "not-measured")]).assign(policy="replace", config_hash=["h1", "h2", "h3", "h4",
                                                                                                    "h5"])
    judged = assess_claims([p], verdicts)
    table = synthesis_table([p], {"p": 1.0}, verdicts, assessments=judged).set_index("definition").loc[DEF]
    assert (table.reproduced, table.not_reproduced, table.reproduction_inconclusive, table.untested) == (1, 1, 1, 1)
    assert (table.survives, table.does_not_survive, table.realistic_inconclusive) == (0, 1, 0)
    # 4 verdicts measure the definition (one is not-measured), one of them inconclusive
    assert table.inconclusive_share == pytest.approx(1 / 4)
    assert table.published_inconclusive == 1 and table.control_collapse == 1
    # judged here from the verdicts alone, the same counts
    again = synthesis_table([p], {"p": 1.0}, verdicts).set_index("definition").loc[DEF]
    assert again.reproduced == 1 and again.does_not_survive == 1
    assert list(claims_frame(judged)["claim"]) == ["a", "b", "c", "d"]
