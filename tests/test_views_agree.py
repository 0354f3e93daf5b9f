"""Every view of the evidence says the same thing, for every paper of the shipped database.

Running the shipped setups takes minutes, so the store is filled with made-up runs instead: one
per distinct planned configuration, with verdicts drawn at random from the whole vocabulary
(seeded), so that every combination the combiner and the claim rules know (agreeing, mixed,
inconclusive, contradicted, stand-in misses, realistic losses attributed either way) occurs
somewhere. What is tested is that ``show`` (text and JSON), ``synthesis --format json``,
``matrix --evidence`` and the atlas pages all report the same judgement: the one of
:func:`metaanalysis.analysis.claims.assess_claims` and :func:`combine_verdicts`.
"""

from __future__ import annotations

import html
import json
import re
from collections import Counter
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner

from cli.main import main
from metaanalysis import evidence as ev
from metaanalysis.analysis.absorption import POSITION_PAPER
from metaanalysis.analysis.claims import combine_verdicts
from metaanalysis.analysis.frames import load_evidence
from simulators.summary import summarize
from simulators.verdicts import Profile, Verdict
from simulators.vocabulary import DEFINITIONS, VERDICTS

REPO = Path(__file__).resolve().parent.parent
ANNOTATIONS = REPO / "annotations"


def _fake_result(planned: ev.PlannedRun, rng: np.random.Generator) -> ev.RunResult:
    config = planned.config
    rows = []
    for seed in range(3):
        for it in (1, 2, 3):
            rows.append({"iteration": it, "seed": seed, "metric": "population_risk", "value": float(rng.gamma(2.0))})
            rows.append({"iteration": it, "seed": seed, "metric": "kl_to_truth", "value": float(rng.gamma(2.0))})
            if config["simulator"] == "discrete":
                k = int(config["params"].get("categories", 10))
                rows.append({"iteration": it, "seed": seed, "metric": "support_size",
                             "value": float(rng.integers(1, k + 1))})
    frame = pd.DataFrame(rows)
    profiles = {}
    for h in ev.horizons_of(config):
        drawn = rng.choice(VERDICTS, size=len(DEFINITIONS), p=[0.35, 0.3, 0.25, 0.1])
        profiles[h] = Profile(verdicts=tuple(Verdict(d, str(v), reason=f"made up ({v})")
                                             for d, v in zip(DEFINITIONS, drawn))).to_dict()
    return ev.RunResult(config=config, config_hash=planned.config_hash, frame=frame,
                        aggregates=summarize(frame), profiles=profiles, provenance={"wall_time": 0.0})


@pytest.fixture(scope="module")
def store(tmp_path_factory):
    from metaanalysis.store.index import read_papers

    db = tmp_path_factory.mktemp("views") / "views.db"
    url = f"sqlite:///{db}"
    eng = ev.open_evidence(url, ANNOTATIONS)
    papers = read_papers(eng)
    planned = ev.plan(papers, defaults=ev.realistic_defaults(ANNOTATIONS))
    rng = np.random.default_rng(20261202)
    by_hash: dict[str, list[ev.PlannedRun]] = {}
    for p in planned:
        by_hash.setdefault(p.config_hash, []).append(p)
    for group in by_hash.values():
        ev.store_result(eng, _fake_result(group[0], rng),
                        links=[(p.paper, p.setup, p.variant, "") for p in group])
    evidence = load_evidence(eng, papers)
    expected = {(a.paper, a.claim): a for a in evidence.claims(papers)}
    return url, eng, papers, evidence, expected


def _cli(url: str, *args: str) -> str:
    res = CliRunner().invoke(main, ["--annotations", str(ANNOTATIONS), "--db", url, *args])
    assert res.exit_code == 0, res.output
    return res.output


def test_the_made_up_store_covers_every_judgement(store):
    *_, expected = store
    seen = Counter(a.reproduction for a in expected.values())
    assert {"reproduced", "not reproduced", "inconclusive"} <= set(seen), seen
    assert {a.contradiction for a in expected.values()} >= {"contradicted", "stand-in misses"}
    assert {a.under_realistic for a in expected.values()} >= {"survives", "does not survive", "not applicable"}


def test_show_json_and_text_agree_with_the_judgement(store):
    url, _, papers, evidence, expected = store
    for paper in papers:
        doc = json.loads(_cli(url, "show", paper.key, "--format", "json"))
        assert [(c["claim"], c["reproduction"], c["under_realistic"], c["attribution"], c["contradiction"])
                for c in doc["claims"]] == [
            (c.id, expected[(paper.key, c.id)].reproduction, expected[(paper.key, c.id)].under_realistic,
             expected[(paper.key, c.id)].attribution, expected[(paper.key, c.id)].contradiction) for c in paper.claims]
        # the verdicts show prints are the ones every view combines
        mine = evidence.verdicts[evidence.verdicts["paper"] == paper.key]
        assert sorted((r["setup"], r["variant"], r["definition"], r["verdict"]) for r in doc["verdicts"]) == sorted(
            zip(mine["setup"], mine["variant"], mine["definition"], mine["verdict"]))
        text = _cli(url, "show", paper.key).split("claims against the reruns", 1)[1]
        for c in paper.claims:
            a = expected[(paper.key, c.id)]
            assert f"  {c.id}: {a.reproduction}" in text
            assert (f"[{a.contradiction}:" in text.split(f"  {c.id}: ", 1)[1].splitlines()[0]) == bool(a.contradiction)


def test_synthesis_counts_and_claims_agree(store):
    url, _, _, _, expected = store
    doc = json.loads(_cli(url, "synthesis", "--format", "json"))
    assert {(c["paper"], c["claim"]): c["reproduction"] for c in doc["claims"]} == {
        k: a.reproduction for k, a in expected.items()}
    counted = [a for a in expected.values() if a.paper != POSITION_PAPER]
    for row in doc["definitions"]:
        mine = [a for a in counted if a.definition == row["definition"]]
        assert row["reproduced"] == sum(a.reproduction == "reproduced" for a in mine)
        assert row["not_reproduced"] == sum(a.reproduction == "not reproduced" for a in mine)
        assert row["reproduction_inconclusive"] == sum(a.reproduction == "inconclusive" for a in mine)
        assert row["does_not_survive"] == sum(a.under_realistic == "does not survive" for a in mine)


def test_matrix_overlay_combines_the_verdicts_show_prints(store):
    url, _, papers, _, _ = store
    rows = {r["key"]: r for r in json.loads(_cli(url, "matrix", "--evidence", "--format", "json"))}
    for paper in papers:
        doc = json.loads(_cli(url, "show", paper.key, "--format", "json"))
        for d in DEFINITIONS:
            for variant in ("published", "realistic"):
                got = [r["verdict"] for r in doc["verdicts"] if r["definition"] == d and r["variant"] == variant]
                assert rows[paper.key][f"{d}:{variant}"] == combine_verdicts(got), (paper.key, d, variant)


def _section(page: str, start: str, end: str) -> str:
    return page.split(f'id="{start}"', 1)[1].split(f'id="{end}"', 1)[0]


def test_atlas_pages_agree(store, tmp_path):
    from metaanalysis.analysis.absorption import stored_absorption
    from metaanalysis.annotations.validation import load_database
    from metaanalysis.present.atlas import build_site

    _, eng, papers, evidence, expected = store
    index = build_site(load_database(ANNOTATIONS), evidence, tmp_path / "site", figure4=stored_absorption(eng))
    page = index.read_text(encoding="utf-8")

    def listed(section: str) -> list[str]:
        rows = re.findall(r"<tr><td>(.*?)</tr>", section)
        return sorted(html.unescape(re.sub(r"<[^>]+>", "|", r)) for r in rows)

    def wanted(keep) -> list[str]:
        return sorted(a.statement for a in expected.values() if keep(a))

    contradicted = listed(_section(page, "contradicted", "stand-ins"))
    assert len(contradicted) == len(wanted(lambda a: a.contradicted))
    assert all(any(s in row for row in contradicted) for s in wanted(lambda a: a.contradicted))
    stand_ins = listed(_section(page, "stand-ins", "support"))
    assert len(stand_ins) == len(wanted(lambda a: a.contradiction == "stand-in misses"))
    inconclusive = sum(a.reproduction == "inconclusive" for a in expected.values())
    assert f"{inconclusive} claim(s) have inconclusive published reruns" in page
    for paper in papers:
        body = (tmp_path / "site" / "papers" / f"{paper.key}.html").read_text(encoding="utf-8")
        for c in paper.claims:
            a = expected[(paper.key, c.id)]
            row = body.split(f"<tr><td>{c.id}</td>", 1)[1].split("</tr>", 1)[0]
            assert f'class="{a.reproduction.replace(" ", "-")}">{a.reproduction}<' in row
            assert f'class="{a.under_realistic.replace(" ", "-")}">{a.under_realistic}<' in row
