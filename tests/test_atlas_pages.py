"""What the atlas's pages say, without a browser: the key findings counted from the judgement
of the claims, the one-sentence summaries, dates and labels as readers see them, pages of
records that are not yet annotated, the pivoted verdicts, accessible tables and figures, and
the terminal matrix that keeps every verdict."""

from __future__ import annotations

import html
import re
from pathlib import Path

import pandas as pd
import pytest

from metaanalysis.analysis.claims import ClaimAssessment
from metaanalysis.analysis.frames import RunEvidence, evidence_from_runs
from metaanalysis.annotations.validation import load_database
from metaanalysis.present.atlas import build_site
from metaanalysis.present.atlas.findings import key_findings
from metaanalysis.present.atlas.pages import first_sentence, release_text, summary_sentence
from metaanalysis.present.charts import atlas_labels, display_label
from simulators.vocabulary import DEFINITION_FAMILIES, DEFINITIONS

GOOD = Path(__file__).resolve().parent / "fixtures" / "annotations" / "good"
REPO_ANNOTATIONS = Path(__file__).resolve().parent.parent / "annotations"


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    import simulators

    db = load_database(GOOD)
    runs = []
    for variant, policy, iterations in (("published", "replace", 12), ("realistic", "accumulate", 6)):
        frame = simulators.run("gaussian", policy=policy, seeds=6, iterations=iterations, n=20, dim=1)
        runs.append(RunEvidence("shumailov2023curse", "gaussian-replace", variant, policy, frame,
                                simulators.profile(frame), run_id=f"run-{variant}", simulator="gaussian",
                                provenance={"device": {"name": "cuda:0", "gpu": "A100"}, "mcatlas_version": "t"}))
    out = tmp_path_factory.mktemp("pages")
    build_site(db, evidence_from_runs(runs), out)
    return db, out


# -- key findings ------------------------------------------------------------------------------

def _assessment(i: int, definition: str, reproduction: str, under: str = "not applicable", attribution: str = "",
                contradiction: str = "") -> ClaimAssessment:
    return ClaimAssessment(paper=f"p{i % 3}", claim=f"c{i}", statement="s", definition=definition, outcome="collapse",
                           policy="replace", setups=("a",), published="", realistic="", control="",
                           reproduction=reproduction, under_realistic=under, attribution=attribution,
                           contradiction=contradiction, disagreeing=())


def _synthesis(assessed: list[ClaimAssessment], runs: dict[str, int]) -> pd.DataFrame:
    """A synthesis table with the columns the findings read, counted from ``assessed``."""
    rows = []
    for d in DEFINITIONS:
        mine = [a for a in assessed if a.definition == d]
        row = {"definition": d, "family": DEFINITION_FAMILIES[d], "claims": len(mine),
               "reproduced": sum(a.reproduction == "reproduced" for a in mine),
               "untested": sum(a.reproduction == "untested" for a in mine),
               "survives": sum(a.under_realistic == "survives" for a in mine)}
        for variant in ("published", "realistic", "control"):
            for verdict in ("collapse", "no_collapse", "inconclusive"):
                row[f"{variant}_{verdict}"] = runs.get(f"{d}:{variant}_{verdict}", 0)
        rows.append(row)
    return pd.DataFrame(rows)


def test_key_findings_count_the_judgement():
    assessed = [
        _assessment(0, "collapsing-variance", "reproduced", "survives"),
        _assessment(1, "collapsing-variance", "reproduced", "does not survive", "the realistic policy"),
        _assessment(2, "diverging-risk", "reproduced", "does not survive", "the shorter horizon"),
        _assessment(3, "diverging-risk", "not reproduced", contradiction="contradicted"),
        _assessment(4, "tail-disappearance", "not reproduced", contradiction="stand-in misses"),
        _assessment(5, "tail-disappearance", "inconclusive"),
        _assessment(6, "scaling-law-change", "untested", "untested"),
    ]
    synthesis = _synthesis(assessed, {"collapsing-variance:published_collapse": 6,
                                      "collapsing-variance:realistic_inconclusive": 2,
                                      "diverging-risk:control_no_collapse": 2})
    found = {f.name: f for f in key_findings(synthesis, assessed, [])}
    assert list(found) == ["reproduction", "contradictions", "inconclusive", "attribution"]
    text = {k: re.sub(r"<[^>]+>", "", f.html) for k, f in found.items()}
    tested = sum(a.reproduction != "untested" for a in assessed)
    reproduced = [a for a in assessed if a.reproduction == "reproduced"]
    survive = sum(a.under_realistic == "survives" for a in reproduced)
    assert text["reproduction"].startswith(f"Of the {tested} claims whose setups were rerun, {len(reproduced)} are "
                                           f"reproduced as published, and {survive} of those survive")
    assert "population risk: 0 of 1; distribution: 1 of 2" in text["reproduction"]
    assert text["contradictions"].startswith("1 claim(s) are contradicted by reruns of the paper's own model; 1 more")
    assert text["inconclusive"].startswith("20% of the 10 re-executed verdicts")  # 2 of 6 + 2 + 2
    assert "and 1 claim(s) stay inconclusive" in text["inconclusive"]
    assert text["attribution"].startswith("Of the 2 reproduced claim(s) that do not survive realistic conditions, 1 "
                                          "lost to the realistic data policy and 1 to the shorter horizon")
    assert [f.href for f in found.values()] == ["#synthesis", "#contradicted", "methodology.html#verdicts",
                                                "#claims-lost"]


def test_index_opens_with_findings_that_link_to_their_evidence(site):
    db, out = site
    page = (out / "index.html").read_text(encoding="utf-8")
    assert page.index('id="findings"') < page.index('id="matrix"') < page.index('id="papers"')
    findings = page.split('<ul class="findings">', 1)[1].split("</ul>", 1)[0]
    items = re.findall(r"<li id=\"finding-[a-z]+\">(.*?)</li>", findings)
    assert 3 <= len(items) <= 4
    for item in items:
        assert re.search(r"<strong>\d", item)  # a number
        href = re.findall(r'<a href="([^"]+)">', item)[-1]
        target, _, anchor = href.partition("#")
        assert f'id="{anchor}"' in (out / (target or "index.html")).read_text(encoding="utf-8")
    # the title says the site's name once
    assert "<title>Model Collapse Atlas</title>" in page and page.count("Model Collapse Atlas ·") == 0


# -- papers as readers see them --------------------------------------------------------------------

def test_labels_dates_and_summaries():
    db = load_database(REPO_ANNOTATIONS)
    papers = {p.key: p for p in db.papers}
    labels = atlas_labels(db.papers)
    assert len(set(labels.values())) == len(labels)  # every column told apart
    # the figure's "Chen et al. 2024 (2024 Apr)" reads like every other label; the record keeps it
    assert papers["chen2024would"].label == "Chen et al. 2024 (2024 Apr)"
    assert labels["chen2024would"] == "Chen et al. (2024 Apr)" == display_label("Chen et al. 2024 (2024 Apr)")
    assert display_label("Chen et al. (2024 Oct)") == "Chen et al. (2024 Oct)"
    twins = sorted((p for p in db.papers if p.label == "Dohmatob et al. (2024 Feb)"), key=lambda p: p.sort_key())
    assert [labels[p.key] for p in twins] == ["Dohmatob et al. (2024 Feb) a", "Dohmatob et al. (2024 Feb) b"]
    # a paper the figure dates otherwise than its first public version says so
    strong = papers["dohmatob2024strong"]
    assert strong.label.endswith("(2024 Sep)") and strong.month == 10
    assert release_text(strong).startswith("October 2024 (first public version); the position paper&#x27;s Figure 2 "
                                           "dates it Sep 2024")
    assert "dates it" not in release_text(papers["shumailov2023curse"])
    assert first_sentence("Shumailov et al. show it. Then more.") == "Shumailov et al. show it."
    assert first_sentence("Uses e.g. a Gaussian. Then more.") == "Uses e.g. a Gaussian."
    for p in db.papers:
        summary = summary_sentence(p)
        assert summary and len(summary) < len(p.notes or "") + 200
        if p.notes:
            assert p.notes.startswith(summary)


def test_paper_pages_summary_pivot_and_provenance(site):
    db, out = site
    page = (out / "papers" / "shumailov2023curse.html").read_text(encoding="utf-8")
    paper = next(p for p in db.papers if p.key == "shumailov2023curse")
    lead = re.search(r'<p class="lead">(.*?)</p>', page).group(1)
    assert html.unescape(lead) == summary_sentence(paper)
    # verdicts pivoted: one row per run, one column per definition, the details below
    pivot = page.split("<caption>Verdict per run and definition", 1)[1].split("</table>", 1)[0]
    assert pivot.count("<tr>") == 1 + 2  # header + published and realistic runs
    assert all(f">{d}</th>" in pivot for d in DEFINITIONS)
    assert "<details><summary>Statistics, intervals and reasons" in page
    # the device is written out, not a Python dict
    assert "cuda:0 (A100)" in page and "{&#x27;name&#x27;" not in page


def test_records_without_claims_or_setups_say_not_yet_annotated(site):
    db, out = site
    bare = [p for p in db.papers if not p.claims and not p.setups]
    assert bare
    for p in bare:
        page = (out / "papers" / f"{p.key}.html").read_text(encoding="utf-8")
        assert "Not yet annotated" in page
        assert "<h2>Claims (0)</h2>" not in page and "<h2>Setups (0)</h2>" not in page
        assert "Re-executed evidence" not in page
    for p in db.papers:  # no heading counts nothing
        page = (out / "papers" / f"{p.key}.html").read_text(encoding="utf-8")
        assert "(0)</h2>" not in page, p.key
    index = (out / "index.html").read_text(encoding="utf-8")
    row = index.split(f'papers/{bare[0].key}.html"', 1)[1].split("</tr>", 1)[0]
    assert "not yet annotated" in row


def test_tables_have_captions_and_header_scope_and_pages_a_viewport(site):
    _, out = site
    for path in out.rglob("*.html"):
        page = path.read_text(encoding="utf-8")
        assert '<meta name="viewport" content="width=device-width, initial-scale=1">' in page, path
        tables = re.findall(r"<table[^>]*>(.*?)</table>", page, flags=re.S)
        for t in tables:
            assert t.startswith("<caption>") and re.match(r"<caption>[^<]+", t), (path, t[:80])
            assert "<th>" not in t and "<th " in t and 'scope="col"' in t, (path, t[:80])
        assert page.count('class="table-wrap"') == len(tables), path  # each scrolls in its own box


def test_an_undefined_weighted_support_says_why():
    from metaanalysis.present.atlas.parts import weighted_support_text

    nan = float("nan")
    # the shipped mode-entanglement row: one claim, of weight 0 (replace, toy models)
    assert "undefined (all weights 0)" in weighted_support_text(
        {"weighted_support": nan, "claims": 1, "claims_unweighted": 0})
    assert "none (no scored paper)" in weighted_support_text(
        {"weighted_support": nan, "claims": 2, "claims_unweighted": 2})
    assert "no claims" in weighted_support_text({"weighted_support": nan, "claims": 0, "claims_unweighted": 0})
    assert weighted_support_text({"weighted_support": 0.25, "claims": 3, "claims_unweighted": 1}) == "0.25"


def test_no_synthesis_cell_is_blank(site):
    _, out = site
    db = load_database(GOOD)
    page = (out / "index.html").read_text(encoding="utf-8")
    synthesis = page.split('id="synthesis"', 1)[1].split("</table>", 1)[0]
    for d in DEFINITIONS:
        row = synthesis.split(f'definitions/{d}.html">', 1)[1].split("</tr>", 1)[0]
        cells = re.findall(r"<td[^>]*>(.*?)</td>", row)
        claims = [c for p in db.papers if p.key != "schaeffer2025position" for c in p.claims if c.definition == d]
        assert cells[4], (d, cells)  # never a blank cell
        if not claims:
            assert "no claims" in cells[4]


# -- the terminal matrix -----------------------------------------------------------------------

def test_terminal_matrix_with_evidence_keeps_every_verdict_in_120_columns():
    import io

    from rich.console import Console

    from metaanalysis.analysis.matrix import apply_evidence, build_matrix
    from metaanalysis.present.text import EVIDENCE_LETTERS, rich_table

    db = load_database(REPO_ANNOTATIONS)
    m = build_matrix(db.papers)
    m.extra_columns = []  # columns other views add; the verdicts are what must fit
    verdicts = ("collapse", "no-collapse", "mixed", "inconclusive", "not-measured")
    cells = {(r.key, d): {"published": verdicts[i % 5], "realistic": verdicts[(i + 2) % 5]}
             for i, r in enumerate(m.rows) for d in DEFINITIONS}
    apply_evidence(m, cells)
    console = Console(width=120, record=True, file=io.StringIO())
    console.print(rich_table(m))
    text = console.export_text()
    assert max(len(line) for line in text.splitlines()) <= 120
    for i, r in enumerate(m.rows):
        line = next(line for line in text.splitlines() if r.key in line)
        code = f"{EVIDENCE_LETTERS[verdicts[i % 5]]}>{EVIDENCE_LETTERS[verdicts[(i + 2) % 5]]}"
        assert line.count(code) == len(DEFINITIONS), (r.key, line)

