"""The static atlas: built from fixture records and a small real run, every relative link
resolves on disk and text is escaped (the pages in a real browser: test_atlas_browser.py).
Also: `mcatlas report` and the evidence hooks."""

from __future__ import annotations

import re
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import unquote, urlparse

import pytest
from click.testing import CliRunner

from cli.main import main
from metaanalysis.analysis.frames import Evidence, RunEvidence, evidence_from_runs
from metaanalysis.annotations.validation import load_database
from metaanalysis.present.atlas import build_site

GOOD = Path(__file__).resolve().parent / "fixtures" / "annotations" / "good"


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    import simulators

    db = load_database(GOOD)
    runs = []
    for variant, policy, iterations in (("published", "replace", 12), ("realistic", "accumulate", 6)):
        frame = simulators.run("gaussian", policy=policy, seeds=6, iterations=iterations, n=20, dim=1)
        runs.append(RunEvidence("shumailov2023curse", "gaussian-replace", variant, policy, frame,
                                simulators.profile(frame), run_id=f"run-{variant}", simulator="gaussian",
                                provenance={"device": "cpu", "mcatlas_version": "test", "wall_time": 0.1}))
    out = tmp_path_factory.mktemp("site")
    index = build_site(db, evidence_from_runs(runs), out)
    return db, out, index


class _Links(HTMLParser):
    def __init__(self):
        super().__init__()
        self.links: list[str] = []
        self.scripts: list[str] = []

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "a" and a.get("href"):
            self.links.append(a["href"])
        if tag in ("script", "link", "img") and (a.get("src") or a.get("href")):
            self.scripts.append(a.get("src") or a.get("href"))


def test_site_files_and_relative_links_resolve(site):
    db, out, index = site
    assert index == out / "index.html"
    pages = sorted(out.rglob("*.html"))
    assert {p.relative_to(out).as_posix() for p in pages} >= {
        "index.html", "methodology.html", "definitions/collapsing-variance.html",
        *(f"papers/{p.key}.html" for p in db.papers)}
    checked = 0
    for page in pages:
        parser = _Links()
        parser.feed(page.read_text(encoding="utf-8"))
        for ref in parser.scripts:  # scripts and stylesheets are local files
            assert not urlparse(ref).scheme, (page, ref)
            assert (page.parent / ref).resolve().is_file(), (page, ref)
        for href in parser.links:
            url = urlparse(href)
            if url.scheme in ("http", "https"):
                continue  # links to arXiv / DOI pages, followed only by a reader's click
            target = (page.parent / unquote(url.path)).resolve() if url.path else page
            assert target.is_file(), f"{page.relative_to(out)}: broken link {href}"
            checked += 1
    assert checked > 50
    assert (out / "assets" / "vega.js").stat().st_size > 100_000


def test_text_is_escaped_and_specs_cannot_close_their_script(site):
    _, out, _ = site
    paper = (out / "papers" / "shumailov2023curse.html").read_text()
    assert "Shumailov et al. (2023 May)" in paper
    # provenance of each run, as escaped JSON
    assert "&quot;mcatlas_version&quot;: &quot;test&quot;" in paper
    assert paper.count("<details><summary>all</summary>") == 2  # one per run
    for spec in re.findall(r'<script type="application/json"[^>]*>(.*?)</script>', paper, flags=re.S):
        assert "</" not in spec


def test_pages_without_evidence_say_so(tmp_path):
    db = load_database(GOOD)
    build_site(db, Evidence.empty(), tmp_path)
    assert "Nothing has been re-executed yet" in (tmp_path / "index.html").read_text()
    assert "mcatlas rerun shumailov2023curse" in (tmp_path / "papers" / "shumailov2023curse.html").read_text()


def test_cli_report_no_rerun(tmp_path):
    result = CliRunner().invoke(main, ["--annotations", str(GOOD), "--db", f"sqlite:///{tmp_path / 'db.sqlite'}",
                                       "report", "--out", str(tmp_path / "site"), "--no-rerun"])
    assert result.exit_code == 0, result.output
    assert (tmp_path / "site" / "index.html").is_file()
    assert (tmp_path / "site" / "papers" / "gerstgrasser2024model.html").is_file()
    assert "reran" not in result.output
    # how many papers the atlas has no evidence for, and why
    db = load_database(GOOD)
    no_setup = sum(not p.setups for p in db.papers)
    assert (f"evidence for 0 of {len(db.papers)} papers; {len(db.papers)} without: {no_setup} have no setups, "
            f"{len(db.papers) - no_setup} have setups with no current run") in result.output


def test_cli_report_budget_zero_reruns_nothing_and_says_what_is_left(tmp_path):
    result = CliRunner().invoke(main, ["--annotations", str(GOOD), "--db", f"sqlite:///{tmp_path / 'db.sqlite'}",
                                       "report", "--out", str(tmp_path / "site"), "--budget", "0"])
    assert result.exit_code == 0, result.output
    assert "reran 0 missing run(s)" in result.output
    assert "left for `mcatlas rerun --all`" in result.output and "--budget SECONDS" in result.output
    assert (tmp_path / "site" / "index.html").is_file()
    bad = CliRunner().invoke(main, ["report", "--out", str(tmp_path / "x"), "--budget", "-1"])
    assert bad.exit_code == 2 and "--budget" in bad.output


def test_rerun_missing_then_load_evidence(tmp_path):
    from metaanalysis.analysis.frames import load_evidence
    from metaanalysis.evidence.reruns import rerun_missing
    from metaanalysis.evidence.tables import open_evidence

    db = load_database(GOOD)
    eng = open_evidence(f"sqlite:///{tmp_path / 'db.sqlite'}", GOOD)
    calls = []
    report = rerun_missing(eng, db.papers, defaults=db.realism.realistic_defaults.model_dump(),
                           max_cost=20 * 50 * 100, progress=lambda label, t, total: calls.append((label, t, total)))
    assert report.computed, report
    assert calls and calls[0][1] == 0
    ev = load_evidence(eng, db.papers)
    done = {tuple(x.split(" (")[0].split("/")) for x in report.computed}
    assert set(zip(ev.runs["paper"], ev.runs["setup"])) == done
    assert set(ev.verdicts["variant"]) <= {"published", "realistic", "control"}
    assert ev.verdicts["policy"].notna().all()
    assert len(ev.effects) == len(ev.runs) and len(ev.trajectories) > 0
    # a second call finds nothing missing among what was computed
    again = rerun_missing(eng, db.papers, defaults=db.realism.realistic_defaults.model_dump(), max_cost=20 * 50 * 100)
    assert not again.computed
