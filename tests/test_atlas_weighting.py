"""Realism weights: the mean of score / max score over scored dimensions; unscored papers have
no weight. Checked on constructed records (hand-computed) and through `mcatlas realism`."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from cli.main import main
from metaanalysis.analysis.weighting import (
    paper_realism,
    realism_frame,
    realism_records,
    weights,
)
from metaanalysis.annotations.records import Paper, RealismFile
from simulators.errors import UserError

GOOD = Path(__file__).resolve().parent / "fixtures" / "annotations" / "good"

REALISM = RealismFile.model_validate({
    "dimensions": [
        {"id": "a", "name": "A", "description": "a", "levels": [
            {"id": "low", "score": 0, "description": "."},
            {"id": "mid", "score": 1, "description": "."},
            {"id": "high", "score": 2, "description": "."}]},
        {"id": "b", "name": "B", "description": "b", "levels": [
            {"id": "no", "score": 0, "description": "."},
            {"id": "yes", "score": 3, "description": "."}]},
        {"id": "c", "name": "C", "description": "c", "levels": [
            {"id": "x", "score": 0, "description": "."},
            {"id": "y", "score": 1, "description": "."}]},
    ],
    "weight": {"method": "mean-normalised-score", "description": "."},
    "realistic_defaults": {"policy": "accumulate", "max_iterations": 10},
})


def paper(key: str, realism: dict[str, str], year: int = 2024) -> Paper:
    return Paper.model_validate({
        "key": key, "title": "T", "authors": ["A"], "year": year, "label": key,
        "explicit_definition": "n/a", "definitions": {},
        "realism": {d: {"level": lv, "why": "because"} for d, lv in realism.items()},
    })


def test_weight_is_mean_of_normalised_scores_over_scored_dimensions():
    p = paper("p", {"a": "mid", "b": "yes"})  # 1/2 and 3/3 -> mean 0.75; c unscored, left out
    r = paper_realism(p, REALISM)
    assert r.scores == {"a": 1, "b": 3}
    assert r.scored == 2
    assert r.weight == pytest.approx(0.75)
    full = paper_realism(paper("q", {"a": "high", "b": "yes", "c": "y"}), REALISM)
    assert full.weight == pytest.approx(1.0)
    low = paper_realism(paper("r", {"a": "low", "b": "no", "c": "x"}), REALISM)
    assert low.weight == pytest.approx(0.0)
    three = paper_realism(paper("s", {"a": "mid", "b": "no", "c": "y"}), REALISM)
    assert three.weight == pytest.approx((0.5 + 0.0 + 1.0) / 3)


def test_unscored_paper_has_no_weight_and_unknown_level_is_user_error():
    assert weights([paper("u", {})], REALISM) == {"u": None}
    with pytest.raises(UserError, match="unknown level 'huge'"):
        paper_realism(paper("v", {"a": "huge"}), REALISM)
    bad = REALISM.model_copy(update={"weight": REALISM.weight.model_copy(update={"method": "geometric"})})
    with pytest.raises(UserError, match="unknown method"):
        paper_realism(paper("w", {"a": "low"}), bad)


def test_records_and_frame_shapes():
    papers = [paper("p", {"a": "mid", "b": "yes"}), paper("u", {})]
    rows = realism_records(papers, REALISM)
    assert [r["key"] for r in rows] == ["p", "u"]
    assert rows[0]["a"] == "mid" and rows[0]["a:score"] == 1 and rows[0]["c"] == ""
    assert rows[1]["weight"] is None and rows[1]["scored"] == 0
    frame = realism_frame(papers, REALISM)
    assert sorted(frame["dimension"]) == ["a", "b"]  # unscored dimensions absent, not zero
    assert frame["normalised"].tolist() == pytest.approx([0.5, 1.0])


def test_cli_realism_json_and_csv():
    result = CliRunner().invoke(main, ["--annotations", str(GOOD), "realism", "--format", "json"])
    assert result.exit_code == 0, result.output
    rows = {r["key"]: r for r in json.loads(result.stdout)}
    # fixture: shumailov2023curse is scored replace (0 of 2) and neural (1 of 2)
    assert rows["shumailov2023curse"]["weight"] == pytest.approx((0 / 2 + 1 / 2) / 2)
    assert rows["gerstgrasser2024model"]["weight"] is None
    result = CliRunner().invoke(main, ["--annotations", str(GOOD), "realism", "--format", "csv"])
    assert result.exit_code == 0
    assert result.stdout.splitlines()[0].startswith("key,label,year,data-propagation,data-propagation:score")


def test_a_claim_is_weighted_by_its_own_policy():
    from metaanalysis.analysis.weighting import (
        POLICY_LEVELS,
        claim_weight,
        claim_weights,
    )
    from metaanalysis.annotations.validation import load_database
    from simulators.vocabulary import POLICIES

    db = load_database(GOOD)
    assert set(POLICY_LEVELS) == set(POLICIES)
    levels = db.realism.levels()
    for lv in POLICY_LEVELS.values():  # every mapped level exists in realism.yaml
        assert all(level in levels[dim] for dim, level in lv.items())
    p = next(p for p in db.papers if paper_realism(p, db.realism).scored)
    maxima = {d.id: max(x.score for x in d.levels) for d in db.realism.dimensions}
    r = paper_realism(p, db.realism)
    # hand-computed: the paper's scores with the two policy dimensions at the replace levels (score 0)
    replace = dict(r.scores, **{"data-propagation": 0, "real-data-kept": 0})
    expected = sum(replace[d] / maxima[d] for d in replace) / len(replace)
    assert claim_weight(p, "replace", db.realism) == pytest.approx(expected)
    acc = dict(r.scores, **{"data-propagation": levels["data-propagation"]["accumulate"],
                            "real-data-kept": levels["real-data-kept"]["all"]})
    assert claim_weight(p, "accumulate", db.realism) == pytest.approx(sum(acc[d] / maxima[d] for d in acc) / len(acc))
    assert claim_weight(p, "replace", db.realism) < claim_weight(p, "accumulate", db.realism)
    assert claim_weight(paper("u", {}), "replace", REALISM) is None  # unscored stays unweighted
    assert set(claim_weights(db.papers, db.realism)) == {(q.key, c.id) for q in db.papers for c in q.claims}
