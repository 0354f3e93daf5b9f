"""The atlas's index page: what a reader reaches for first.

In order: the key findings (:mod:`.findings`), the matrix with the re-executed evidence, the
table of papers (sortable, with a search box), the claims the reruns contradict and those only
toy stand-ins miss, the claims that do not survive realistic conditions, the synthesis per
definition, the checks of the position paper's claims and its Figure 4, the overview charts,
the definitions, and the downloads with how to cite this build.
"""

from __future__ import annotations

from typing import Any

from simulators.vocabulary import DEFINITION_FAMILIES, DEFINITIONS

from .downloads import DOWNLOADS, citation, evidence_summary
from .findings import key_findings
from .html import SITE, Page, definition_link, esc, html_table, number, paper_link
from .parts import CHECKS_NOTE, checks_html, claim_rows, figure4_html, realistic_status, synthesis_html

#: the index's matrix is drawn this much larger than its nominal size
MATRIX_SCALE = 1.0

INTRO = (
    "A meta-analysis of research on <em>model collapse</em>: which of eight definitions each paper uses, what it "
    "claims, how realistic its setting is, and what re-executing its setups says, as published and under realistic "
    "conditions. Annotations follow Schaeffer, Kazdan, Arulandu &amp; Koyejo, <em>Position: Model Collapse Does Not "
    "Mean What You Think</em> (arXiv 2503.03150)."
)

#: the overview charts after the tables: chart name -> section heading
OVERVIEW = (("support", "Support for collapse, unweighted and realism-weighted"),
            ("forest", "Change in population risk per run, pooled per policy"),
            ("profiles", "Collapse profiles"),
            ("definitions-usage", "Definitions used"),
            ("definitions-time", "Definitions over time"),
            ("policies-year", "Data policies by year"),
            ("realism", "Realism per paper"))
#: the charts the index draws
INDEX_CHARTS = ("matrix-evidence", *(name for name, _ in OVERVIEW))


def _papers_table(db: Any, evidence: Any, extra: dict[str, Any]) -> str:
    labels = extra["labels"]
    runs = evidence.runs["paper"].value_counts().to_dict() if len(evidence.runs) else {}
    rows, keys = [], []
    for p in sorted(db.papers, key=lambda p: p.sort_key()):
        mine = [extra["claims"][(p.key, c.id)] for c in p.claims]
        used = p.definitions_in_order()
        weight = extra["weights"].get(p.key)
        summary = evidence_summary(p, mine, int(runs.get(p.key, 0)))
        rows.append([
            paper_link(p.key, labels[p.key], ""), esc(p.title), esc(p.venue or "preprint"), esc(p.year),
            esc(", ".join(f"{d} ({u[0].upper()})" for d, u in used.items())) or '<span class="note">none</span>',
            esc(len(p.claims)), esc(len(p.setups)), number(weight, ".2f") or '<span class="note">not scored</span>',
            esc(summary),
        ])
        reproduced = sum(a.reproduction == "reproduced" for a in mine)
        keys.append([labels[p.key], p.title, p.venue or "", f"{p.year}{p.month or 0:02d}", len(used), len(p.claims),
                     len(p.setups), "" if weight is None else f"{weight:.4f}", f"{reproduced:03d} {summary}"])
    table = html_table(["paper", "title", "venue", "year", "definitions (E explicit, I implicit)", "claims", "setups",
                        "realism", "evidence"], rows, numeric=(3, 5, 6, 7), sortable=True, sort_keys=keys,
                       table_id="papers-table",
                       caption=f"{len(rows)} papers; sort by a column with its header, filter with the search box")
    search = ('<div class="filter" role="search"><label for="papers-search">Search papers</label>'
              '<input type="search" id="papers-search" data-filter="papers-table" '
              'placeholder="title, author key, venue, definition, year…">'
              '<span class="note" data-count-for="papers-table" aria-live="polite"></span></div>')
    return search + table


def _downloads_html(extra: dict[str, Any]) -> str:
    info = extra["build"]
    items = "".join(f'<li><a href="downloads/{esc(name)}" download>{esc(name)}</a>: {esc(what)}</li>'
                    for name, what in DOWNLOADS.items())
    commit = info.get("commit")
    build = [f"mcatlas {esc(info['version'])}",
             (f"commit <code>{esc(commit[:12])}</code>" + (" (with uncommitted changes)" if info.get("dirty") else ""))
             if commit else "commit not known (not built from a git checkout)",
             f"built {esc(info['date'])}"]
    repo = info.get("repository")
    build.append(f'repository <a href="{esc(repo)}">{esc(repo)}</a>' if repo and repo.startswith("http")
                 else (f"repository <code>{esc(repo)}</code>" if repo else "repository not recorded (no git remote)"))
    position = next((p for p in extra["papers"] if p.key == extra["position_paper"]), None)
    also = ""
    if position is not None:
        from metaanalysis.annotations.bibtex import entry

        also = ("<p>Please cite the position paper the annotations start from as well:</p>"
                f"<pre>{esc(entry(position))}</pre>")
    return (f"<ul>{items}</ul>"
            f'<h3 id="cite">Cite this atlas</h3><div class="cite"><p>This build: {"; ".join(build)}.</p>'
            f"<pre>{esc(citation(info))}</pre>{also}</div>")


def index_page(db: Any, evidence: Any, charts: dict[str, Any], extra: dict[str, Any]) -> Page:
    from metaanalysis.analysis.frames import unique_runs

    page = Page(SITE, "", lead=INTRO)
    n_links = len(evidence.runs)
    n_runs = len(unique_runs(evidence.runs)) if n_links else 0
    labels = extra["labels"]
    assessed = list(extra["claims"].values())
    findings = key_findings(extra["synthesis"], assessed, db.papers)
    page.add('<section id="findings" aria-labelledby="findings-h"><h2 id="findings-h">Key findings</h2>'
             '<ul class="findings">' + "".join(f.item() for f in findings) + "</ul>"
             + ("" if n_links else "<p><strong>Nothing has been re-executed yet</strong>: run <code>mcatlas "
                "report</code> without <code>--no-rerun</code>, or <code>mcatlas rerun --all</code>; the findings "
                "above come from the annotations alone.</p>")
             + f'<p class="note">{len(db.papers)} papers; {n_runs} distinct re-executed run(s)'
             + (f", linked from {n_links} (paper, setup, variant) entries (setups that describe the same "
                "configuration share one run, counted once)" if n_links != n_runs else "")
             + '. How verdicts are reached: the <a href="methodology.html">methodology</a>.</p></section>')
    page.add('<h2 id="matrix">Definitions per paper, with re-executed evidence</h2>')
    page.chart(charts["matrix-evidence"], scale=MATRIX_SCALE)
    page.add('<h2 id="papers">Papers</h2>')
    page.add(_papers_table(db, evidence, extra))
    page.add('<h2 id="synthesis">Evidence synthesis per definition</h2>'
             '<p class="note">Claims counted once each and weighted by their realism (the paper\'s scores, with the '
             'data-policy dimensions taken from the claim\'s own policy); support = share of claims reporting collapse '
             '(mixed = one half); the weighted support is undefined when every claim of a definition has realism weight 0, '
             'and missing when none comes from a paper with realism scores. '
             'The position paper\'s own claims are not counted here: they are checked below. '
             'Claims may name definitions beyond the marks of the position paper\'s Figure 2, so claim counts and the '
             'matrix can differ. Re-executed: number of distinct runs per verdict. '
             'Method: <a href="methodology.html#synthesis">methodology</a>.</p>')
    page.add(synthesis_html(extra["synthesis"], ""))
    page.add('<h2 id="checks">The position paper\'s claims, checked against the re-executed verdicts</h2>')
    page.add(f"<p class='note'>{CHECKS_NOTE.format(root='')}</p>")
    page.add(checks_html(extra["checks"], "") if extra["checks"] else
             "<p class='note'>The position paper's record (schaeffer2025position) has no claims to check.</p>")
    page.add('<h3 id="figure4">Figure 4: time to collapse onto one outcome</h3>')
    page.add(figure4_html(extra["figure4"]))
    lost = [a for a in assessed if a.under_realistic == "does not survive"]
    page.add('<h2 id="claims-lost">Reproduced claims that do not survive realistic conditions</h2>')
    if lost:
        page.add(html_table(
            ["paper", "claim", "definition", "policy", "claimed", "under realistic conditions", "evidence"],
            [[paper_link(a.paper, labels[a.paper], ""), esc(a.statement), definition_link(a.definition, ""),
              esc(a.policy), esc(a.outcome), realistic_status(a), esc(a.reason())] for a in lost],
            caption=f"{len(lost)} reproduced claim(s) that do not survive, with what they lost to"))
    else:
        page.add("<p class='note'>None.</p>")
    header = ["paper", "claim", "definition", "policy", "claimed", "rerun as published", "reproduction",
              "disagreeing setups", "where"]
    page.add('<h2 id="contradicted">Claims the reruns contradict</h2>')
    page.add("<p class='note'>A claim is listed here only when its reproducing setups, re-executed as the paper ran "
             "them, conclusively give the opposite verdict under the claim's definition (or, for a claim that states "
             "a law, the law's test fails), and at least one of the disagreeing setups runs the paper's own model "
             "(fidelity <em>same-model</em>). A realistic rerun never contradicts a paper: it only says whether a "
             "reproduced claim survives realistic conditions.</p>")
    rows = claim_rows([a for a in assessed if a.contradicted], db, labels, "")
    page.add(html_table(header, rows, caption=f"{len(rows)} contradicted claim(s)") if rows
             else "<p class='note'>None.</p>")
    page.add('<h3 id="stand-ins">Stand-ins that do not reproduce the paper\'s result</h3>')
    page.add("<p class='note'>The same disagreement, but every disagreeing setup is a toy stand-in for the paper's "
             "model: a finding about the stand-in, not evidence against the paper.</p>")
    rows = claim_rows([a for a in assessed if a.contradiction and not a.contradicted], db, labels, "")
    page.add(html_table(header, rows, caption=f"{len(rows)} claim(s) missed by stand-ins") if rows
             else "<p class='note'>None.</p>")
    open_claims = [a for a in assessed if a.reproduction == "inconclusive"]
    page.add(f"<p class='note'>{len(open_claims)} claim(s) have inconclusive published reruns (listed on their papers' "
             "pages with what would settle them); they count neither for nor against the papers.</p>")
    for name, heading in OVERVIEW:
        page.add(f'<h2 id="{name}">{esc(heading)}</h2>')
        page.chart(charts[name])
    page.add('<h2 id="definitions">Definitions</h2><ul class="cols">' + "".join(
        f"<li>{definition_link(d, '', extra['names'].get(d, d))} <span class='note'>({esc(DEFINITION_FAMILIES[d])})</span></li>"
        for d in DEFINITIONS) + "</ul>")
    page.add('<h2 id="downloads">Downloads</h2>')
    page.add(_downloads_html(extra))
    return page


__all__ = ["INDEX_CHARTS", "MATRIX_SCALE", "index_page"]
