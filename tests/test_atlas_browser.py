"""The atlas in a real browser: Playwright for Python driving Debian's Chromium (the ``chromium``
binary on PATH; no browser is downloaded). One small atlas is built per module from the fixture
records and a few real runs, then every page is loaded from ``file://``:

* no console error, no request leaving ``file://``, every chart drawn;
* at a phone's width (390 px) no page scrolls sideways;
* the table of papers filters as one types and sorts by a column (with the mouse and the
  keyboard);
* every download exists and parses (CSV with pandas, BibTeX entries counted);
* every chart has a text description, a caption and its data as a table a keyboard reaches.

Skipped, saying why, when Playwright or Chromium is missing.
"""

from __future__ import annotations

import re
import shutil
from pathlib import Path
from urllib.parse import urlparse

import pandas as pd
import pytest

from metaanalysis.analysis.frames import RunEvidence, evidence_from_runs
from metaanalysis.annotations.validation import load_database
from metaanalysis.present.atlas import build_site
from metaanalysis.present.atlas.downloads import DOWNLOADS

GOOD = Path(__file__).resolve().parent / "fixtures" / "annotations" / "good"
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]
RENDERED = ("() => Array.from(document.querySelectorAll('[data-spec]'))"
            ".every(n => n.getAttribute('data-rendered'))")

playwright_api = pytest.importorskip("playwright.sync_api", reason="Playwright for Python is not installed "
                                     "(pip install -e '.[test]')")
pytestmark = pytest.mark.skipif(CHROMIUM is None, reason="no chromium on PATH (Debian: apt-get install chromium)")


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    import simulators

    db = load_database(GOOD)
    runs = []
    for variant, policy, iterations in (("published", "replace", 12), ("realistic", "accumulate", 6),
                                        ("control", "replace", 6)):
        frame = simulators.run("gaussian", policy=policy, seeds=6, iterations=iterations, n=20, dim=1)
        runs.append(RunEvidence("shumailov2023curse", "gaussian-replace", variant, policy, frame,
                                simulators.profile(frame), run_id=f"run-{variant}", simulator="gaussian",
                                provenance={"device": {"name": "cpu"}, "mcatlas_version": "test", "wall_time": 0.1}))
    out = tmp_path_factory.mktemp("atlas")
    build_site(db, evidence_from_runs(runs), out)
    pages = sorted(p.relative_to(out).as_posix() for p in out.rglob("*.html"))
    return db, out, pages


@pytest.fixture(scope="module")
def browser():
    with playwright_api.sync_playwright() as pw:
        b = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            yield b
        finally:
            b.close()


def _open(page, path: Path) -> None:
    page.goto(path.as_uri())
    page.wait_for_function(RENDERED, timeout=30_000)


def test_every_page_loads_offline_without_errors_and_draws_its_charts(site, browser):
    db, out, pages = site
    assert {"index.html", "methodology.html", *(f"papers/{p.key}.html" for p in db.papers)} <= set(pages)
    page = browser.new_page(viewport={"width": 1400, "height": 1000})
    errors: list[str] = []
    requests: list[str] = []
    page.on("console", lambda m: errors.append(f"{page.url}: {m.text}") if m.type == "error" else None)
    page.on("pageerror", lambda e: errors.append(f"{page.url}: {e}"))
    page.on("request", lambda r: requests.append(r.url))
    drawn = 0
    for rel in pages:
        _open(page, out / rel)
        states = page.eval_on_selector_all("[data-spec]", "ns => ns.map(n => n.getAttribute('data-rendered'))")
        assert set(states) <= {"yes"}, (rel, states)
        svgs = page.eval_on_selector_all("[data-spec]", "ns => ns.map(n => n.querySelectorAll('svg').length)")
        assert all(n > 0 for n in svgs), (rel, svgs)
        drawn += len(states)
        # a link between pages resolves in the browser too
        href = page.eval_on_selector("a[href$='methodology.html']", "a => a.href")
        assert href.startswith("file://") and Path(urlparse(href).path).is_file()
    page.close()
    assert errors == []
    assert drawn >= 8  # the index's charts and the paper with runs
    assert requests and all(u.startswith("file:") for u in requests), [u for u in requests if not u.startswith("file:")]


def test_no_page_scrolls_sideways_at_phone_width(site, browser):
    _, out, pages = site
    page = browser.new_page(viewport={"width": 390, "height": 844})
    wide = {}
    for rel in pages:
        _open(page, out / rel)
        scroll, inner = page.evaluate("[document.scrollingElement.scrollWidth, innerWidth]")
        if scroll > inner:
            wide[rel] = scroll
    viewport = page.evaluate("document.querySelector('meta[name=viewport]').content")
    page.close()
    assert wide == {}
    assert "width=device-width" in viewport


def _visible_papers(page) -> list[str]:
    return page.eval_on_selector_all("#papers-table tbody tr:not([hidden]) td:first-child",
                                     "cells => cells.map(c => c.textContent.trim())")


def test_paper_table_filters_and_sorts(site, browser):
    db, out, _ = site
    page = browser.new_page(viewport={"width": 1400, "height": 1000})
    page.goto((out / "index.html").as_uri())
    every = _visible_papers(page)
    assert len(every) == len(db.papers)
    # filter: every word typed must appear in the row (here, a word of one title)
    page.fill("#papers-search", "forget MAKES")  # any order, any case
    assert _visible_papers(page) == ["Shumailov et al. (2023 May)"]
    assert page.text_content("[data-count-for='papers-table']") == f"Showing 1 of {len(db.papers)}."
    page.fill("#papers-search", "no such paper")
    assert _visible_papers(page) == []
    page.fill("#papers-search", "")
    assert len(_visible_papers(page)) == len(db.papers)
    # sort by year, ascending then descending; the header says which
    header = page.locator("#papers-table thead th", has_text="year")
    header.locator("button").click()
    assert header.get_attribute("aria-sort") == "ascending"
    years = [int(y) for y in page.eval_on_selector_all(
        "#papers-table tbody tr td:nth-child(4)", "cells => cells.map(c => c.textContent.trim())")]
    assert years == sorted(years) and len(set(years)) > 1
    header.locator("button").click()
    assert header.get_attribute("aria-sort") == "descending"
    years = [int(y) for y in page.eval_on_selector_all(
        "#papers-table tbody tr td:nth-child(4)", "cells => cells.map(c => c.textContent.trim())")]
    assert years == sorted(years, reverse=True)
    # the keyboard reaches the sort buttons: sort by number of claims with Enter
    claims = page.locator("#papers-table thead th", has_text="claims")
    claims.locator("button").focus()
    page.keyboard.press("Enter")
    assert claims.get_attribute("aria-sort") == "ascending"
    counts = [int(c) for c in page.eval_on_selector_all(
        "#papers-table tbody tr td:nth-child(6)", "cells => cells.map(c => c.textContent.trim())")]
    assert counts == sorted(counts) and counts[-1] == max(len(p.claims) for p in db.papers)
    page.close()


def test_a_matrix_cell_opens_its_papers_page(site, browser):
    db, out, _ = site
    page = browser.new_page(viewport={"width": 1400, "height": 1000})
    warnings: list[str] = []
    page.on("console", lambda m: warnings.append(m.text) if m.type in ("warning", "error") else None)
    _open(page, out / "index.html")
    # the matrix is the first chart; its first family block's cells are its rect marks
    x, y = page.evaluate("""(() => {
        const cell = document.querySelector('#chart-0 svg g.mark-rect path');
        cell.scrollIntoView();
        const r = cell.getBoundingClientRect();
        return [r.x + r.width / 2, r.y + r.height / 2];
    })()""")
    page.mouse.click(x, y)
    page.wait_for_url("**/papers/*.html")
    assert Path(urlparse(page.url).path).stem in {p.key for p in db.papers}
    page.close()
    assert warnings == []  # Vega warns of specification it drops


def test_every_download_exists_and_parses(site, browser):
    db, out, _ = site
    page = browser.new_page()
    page.goto((out / "index.html").as_uri())
    links = page.eval_on_selector_all("#downloads ~ ul a[download]", "as => as.map(a => a.href)")
    page.close()
    assert sorted(Path(urlparse(h).path).name for h in links) == sorted(DOWNLOADS)
    for href in links:
        assert Path(urlparse(href).path).is_file(), href
    folder = out / "downloads"
    papers = pd.read_csv(folder / "papers.csv")
    assert sorted(papers["key"]) == sorted(p.key for p in db.papers)
    claims = pd.read_csv(folder / "claims.csv")
    assert len(claims) == sum(len(p.claims) for p in db.papers)
    assert {"reproduction", "under_realistic"} <= set(claims.columns) and claims["reproduction"].notna().all()
    runs = pd.read_csv(folder / "runs.csv")
    assert sorted(runs["variant"]) == ["control", "published", "realistic"] and set(runs["device"]) == {"cpu"}
    verdicts = pd.read_csv(folder / "verdicts.csv")
    assert len(verdicts) == 3 * 8 and set(verdicts["variant"]) == {"published", "realistic", "control"}
    bib = (folder / "atlas.bib").read_text(encoding="utf-8")
    assert sorted(re.findall(r"^@\w+\{([^,]+),", bib, flags=re.M)) == sorted(p.key for p in db.papers)


def test_every_chart_has_a_description_a_caption_and_its_data(site, browser):
    _, out, pages = site
    page = browser.new_page(viewport={"width": 1400, "height": 1000})
    seen = 0
    for rel in pages:
        page.goto((out / rel).as_uri())
        figures = page.eval_on_selector_all("[data-spec]", """ns => ns.map(n => ({
            role: n.closest('.chart').getAttribute('role'),
            label: n.closest('.chart').getAttribute('aria-label') || '',
            caption: (n.closest('figure').querySelector('figcaption') || {}).textContent || '',
            rows: n.closest('figure').querySelectorAll('details.chart-data tbody tr').length}))""")
        for f in figures:
            assert f["role"] == "img" and len(f["label"]) > 20, (rel, f)
            assert f["caption"].strip() and f["label"].startswith(f["caption"].split(".")[0][:20]), (rel, f)
            assert f["rows"] > 0, (rel, f)  # what the tooltips say, as a table
        seen += len(figures)
    # the data table opens from the keyboard
    page.goto((out / "index.html").as_uri())
    summary = page.locator("details.chart-data summary").first
    summary.focus()
    page.keyboard.press("Enter")
    assert page.eval_on_selector("details.chart-data", "d => d.open")
    page.close()
    assert seen >= 8
