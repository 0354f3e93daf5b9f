"""The static HTML atlas: :func:`build_site` writes a site that works from ``file://`` with no
network at all.

Layout of ``out_dir``::

    index.html                 key findings, the matrix with the evidence, the table of papers,
                               claims that do not survive, are contradicted or missed by
                               stand-ins, synthesis, checks, overview charts, downloads and
                               how to cite (:mod:`.index_page`)
    methodology.html           definitions, metrics, verdict rules, realism weighting, synthesis
                               method, the colour key, how to contribute (:mod:`.methodology`)
    definitions/ID.html        one page per definition (:mod:`.pages`)
    papers/KEY.html            one page per paper: summary, annotations, claims, setups, realism,
                               trajectories, profiles, verdicts, provenance of each run
    downloads/                 papers.csv, claims.csv, runs.csv, verdicts.csv, atlas.bib
                               (:mod:`.downloads`)
    assets/vega.js             Vega, Vega-Lite and vega-embed in one file
                               (``vl_convert.javascript_bundle()``), shipped once
    assets/atlas.js            draws every chart from its inline JSON spec; sorts and filters
                               tables (:mod:`.assets`)
    assets/style.css

Decisions
    * No template engine: pages are plain Python string building, and every piece of text that
      comes from the records or the evidence goes through :func:`html.escape` (:func:`esc`).
    * Chart specs are embedded in each page as ``<script type="application/json">`` (with ``</``
      escaped), rendered by ``assets/atlas.js`` with the SVG renderer and no action links (the
      default "open in editor" link would point to the network). A chart's title and caption
      are HTML around it, and its data a table below it (:class:`.html.Page`).
    * Every page names papers by :func:`metaanalysis.present.charts.atlas_labels`.
    * Evidence may be empty: pages then say that nothing was re-executed yet and how to do it.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from simulators.vocabulary import DEFINITIONS

from .assets import write_assets
from .downloads import build_info, write_downloads
from .html import Page, esc
from .index_page import INDEX_CHARTS, index_page
from .methodology import methodology_page
from .pages import definition_page, paper_page


def build_site(records: Any, evidence: Any, out_dir: Path | str, figure4: Any = None) -> Path:
    """Write the atlas into ``out_dir`` and return the path of its ``index.html``.

    ``records``: the validated database (:func:`metaanalysis.annotations.validation.load_database`: its
    ``papers``, ``definitions`` and ``realism``); ``evidence``: a
    :class:`metaanalysis.analysis.frames.Evidence` (may be empty or None); ``figure4``: the
    ``(table, test)`` of :func:`metaanalysis.analysis.absorption.stored_absorption` (None: not
    computed, the pages say how to get it). Charts are built without altair's validation
    (:func:`metaanalysis.present.charts.unvalidated`).
    """
    from metaanalysis.present.charts import unvalidated

    with unvalidated():
        return _build_site(records, evidence, Path(out_dir), figure4)


def site_context(records: Any, evidence: Any, figure4: Any = None) -> dict[str, Any]:
    """What every page reads: the claims judged (:meth:`Evidence.claims`, the one judgement),
    the synthesis table, the checks, realism weights, labels, definition entries, build info."""
    from metaanalysis.analysis.absorption import POSITION_PAPER
    from metaanalysis.analysis.synthesis import conclusion_checks, synthesis_table
    from metaanalysis.analysis.weighting import claim_weights, realism_of, weights
    from metaanalysis.present.charts import atlas_labels

    papers = list(records.papers)
    entries = {e.id: e for e in records.definitions.definitions} if records.definitions is not None else {}
    cw = claim_weights(papers, records.realism) if records.realism is not None else {}
    assessed = evidence.claims(papers)
    return {
        "papers": papers,
        "weights": weights(papers, records.realism) if records.realism is not None else {},
        "claim_weights": cw,
        "claims": {(a.paper, a.claim): a for a in assessed},
        "synthesis": synthesis_table(papers, cw, evidence.verdicts, assessments=assessed),
        "checks": conclusion_checks(evidence.verdicts, papers, assessments=assessed),
        "figure4": figure4,
        "position_paper": POSITION_PAPER,
        "labels": atlas_labels(papers),
        "entries": entries,
        "names": {d: (entries[d].name if d in entries else d) for d in DEFINITIONS},
        "realism": {r.key: r for r in realism_of(papers, records.realism)} if records.realism is not None else {},
        "dim_names": {d.id: d.name for d in records.realism.dimensions} if records.realism is not None else {},
        "build": build_info(),
    }


def _build_site(records: Any, evidence: Any, out: Path, figure4: Any) -> Path:
    from metaanalysis.analysis.frames import Evidence
    from metaanalysis.present.charts import all_charts

    evidence = evidence if evidence is not None else Evidence.empty()
    (out / "papers").mkdir(parents=True, exist_ok=True)
    (out / "definitions").mkdir(parents=True, exist_ok=True)
    write_assets(out)
    extra = site_context(records, evidence, figure4)
    papers = extra["papers"]
    write_downloads(out, papers, evidence, extra)
    charts = all_charts(papers, records.realism, evidence, synthesis=extra["synthesis"], href_root="papers/",
                        names=INDEX_CHARTS)
    pages: dict[Path, Page] = {out / "index.html": index_page(records, evidence, charts, extra),
                               out / "methodology.html": methodology_page(records, extra)}
    for d in DEFINITIONS:
        pages[out / "definitions" / f"{d}.html"] = definition_page(d, records, evidence, extra)
    for p in papers:
        pages[out / "papers" / f"{p.key}.html"] = paper_page(p, evidence, extra)
    for path, page in pages.items():
        path.write_text(page.html(), encoding="utf-8")
    return out / "index.html"


__all__ = ["build_site", "esc", "site_context", "write_assets"]
