"""The atlas's page of each paper and of each definition.

A paper page opens with one sentence about the paper (:func:`summary_sentence`: the first
sentence of the record's notes, else one made from its claims and setups), then its
identification (the release date is the first public version; when the position paper's
Figure 2 dates it otherwise, the page says so beside it), definitions, claims with both
statuses, setups, realism and the re-executed evidence: trajectories, collapse profiles, the
verdicts pivoted to one row per run and one column per definition (statistics and reasons in a
``<details>`` below), and the provenance of each run. A record without claims or setups says
"not yet annotated" instead of showing empty sections.
"""

from __future__ import annotations

import json
import re
from typing import Any

from simulators.vocabulary import DEFINITION_FAMILIES, DEFINITIONS, VARIANTS

from .downloads import device_name
from .html import Page, ci_text, definition_link, esc, html_table, number, paper_link, verdict_span
from .parts import (
    CHECKS_NOTE,
    checks_html,
    claim_status,
    figure4_html,
    long_horizon,
    realistic_status,
    settle_text,
    synthesis_html,
)

#: metrics shown on a paper page's trajectory chart, in this order, when measured
PAGE_METRICS: tuple[str, ...] = ("population_risk", "variance_ratio", "tail_mass_ratio", "kl_to_truth")
MONTH_NAMES = ("January", "February", "March", "April", "May", "June", "July", "August", "September", "October",
               "November", "December")
#: words before a full stop that do not end a sentence
_ABBREVIATIONS = ("et al", "e.g", "i.e", "cf", "vs", "Fig", "Eq", "Sec", "approx", "resp", "No")


def first_sentence(text: str) -> str:
    """The first sentence of a text (a full stop followed by a space and a capital, not after
    an abbreviation such as "et al." or a single initial)."""
    for m in re.finditer(r"[.!?](?=\s+[A-Z(\"'])", text):
        before = text[:m.start()]
        if before.endswith(_ABBREVIATIONS) or re.search(r"(^|\s)[A-Z]$", before):
            continue
        return text[:m.end()].strip()
    return text.strip()


def summary_sentence(p: Any) -> str:
    """One sentence under a paper page's title (plain text)."""
    if p.notes:
        return first_sentence(p.notes)
    if not p.claims and not p.setups:
        return "Not yet annotated beyond its definitions: the record has no claims and no setups."
    defs = sorted({c.definition for c in p.claims}, key=DEFINITIONS.index)
    text = f"Records {len(p.claims)} claim(s)"
    if defs:
        text += " about " + ", ".join(defs)
    return text + f", and {len(p.setups)} setup(s) that re-execute them."


def release_text(p: Any) -> str:
    """The release date in words, with a note when the figure's label dates the paper otherwise."""
    text = (f"{MONTH_NAMES[p.month - 1]} {p.year}" if p.month else str(p.year)) + " (first public version)"
    m = re.search(r"\((\d{4}) ([A-Z][a-z]{2})\)\s*$", p.label)
    if p.figure_order is not None and m:
        year, month = int(m.group(1)), m.group(2)
        if year != p.year or (p.month and MONTH_NAMES[p.month - 1][:3] != month):
            text += (f"; the position paper's Figure 2 dates it {month} {year} (its label below); see the "
                     "identification note")
    return esc(text)


def definition_page(d: str, db: Any, evidence: Any, extra: dict[str, Any]) -> Page:
    from metaanalysis.analysis.synthesis import verdicts_by_policy

    entry = extra["entries"].get(d)
    page = Page(extra["names"].get(d, d), "../", lead=esc(entry.description) if entry is not None else "")
    page.add(f"<p><strong>id</strong> <code>{esc(d)}</code> · <strong>family</strong> {esc(DEFINITION_FAMILIES[d])}</p>")
    if entry is not None and entry.metrics:
        page.add("<p><strong>Measured by</strong> " + ", ".join(f"<code>{esc(m)}</code>" for m in entry.metrics) + "</p>")
    users = [p for p in sorted(db.papers, key=lambda p: p.sort_key()) if d in p.definitions]
    page.add(f"<h2>Papers that use it ({len(users)})</h2>")
    page.add(html_table(["paper", "usage", "year"], [[paper_link(p.key, extra["labels"][p.key], "../"),
                                                      esc(p.definitions[d]), esc(p.year)] for p in users],
                        caption=f"Papers that use {d}") if users else "<p>No paper uses it.</p>")
    claims = [(p, c) for p in db.papers for c in p.claims if c.definition == d]
    page.add(f"<h2>Claims about it ({len(claims)})</h2>")
    if claims:
        w = extra["claim_weights"]
        page.add(html_table(["paper", "claim", "outcome", "policy", "model", "where", "realism weight"], [
            [paper_link(p.key, extra["labels"][p.key], "../"), esc(c.statement), verdict_span(c.outcome), esc(c.policy),
             esc(c.model_family), esc(c.where), number(w.get((p.key, c.id)), ".2f") or "none"] for p, c in claims],
            caption=f"Claims about {d}"))
    row = extra["synthesis"][extra["synthesis"]["definition"] == d]
    page.add("<h2>Synthesis</h2>" + synthesis_html(row, "../", caption=f"Synthesis for {d}"))
    by = verdicts_by_policy(evidence.verdicts)
    by = by[by["definition"] == d] if len(by) else by
    page.add("<h2>Re-executed verdicts by data policy</h2>")
    if len(by):
        page.add(html_table(["variant", "policy", "collapse", "no-collapse", "inconclusive", "not measured"], [
            [esc(r["variant"]), esc(r["policy"]), esc(r["collapse"]), esc(r["no_collapse"]), esc(r["inconclusive"]),
             esc(r["not_measured"])] for r in by.to_dict(orient="records")], numeric=(2, 3, 4, 5),
            caption=f"Distinct runs per verdict on {d}, by rerun and data policy"))
    else:
        page.add("<p class='note'>No re-executed runs yet.</p>")
    return page


def _identification(p: Any) -> str:
    arxiv = ""
    if p.arxiv:
        arxiv = f'<a href="https://arxiv.org/abs/{esc(p.arxiv)}">{esc(p.arxiv)}</a>'
        if p.arxiv_version:
            arxiv += f" (locations refer to v{esc(p.arxiv_version)})"
    label = esc(p.label) + (f" (row {esc(p.figure_order)} of the position paper's Figure 2)" if p.figure_order else "")
    ident = [("title", esc(p.title)), ("authors", esc(", ".join(p.authors))), ("released", release_text(p)),
             ("venue", esc(p.venue) or "preprint"), ("arXiv", arxiv),
             ("DOI", f'<a href="https://doi.org/{esc(p.doi)}">{esc(p.doi)}</a>' if p.doi else ""),
             ("key", f"<code>{esc(p.key)}</code>"), ("label", label),
             ("states an explicit definition", esc(p.explicit_definition)),
             ("data policies", esc(", ".join(p.data_policies))),
             ("identification note", esc(p.identification_note)), ("notes", esc(p.notes)), ("source", esc(p.source))]
    rows = [[esc(k), v] for k, v in ident if v]
    return html_table(["field", "value"], rows, caption="Identification")


def _verdict_pivot(v: Any) -> str:
    """One row per run (setup, variant), one column per definition: the verdict."""
    order = {x: i for i, x in enumerate(VARIANTS)}
    runs = sorted({(r["setup"], r["variant"]) for r in v.to_dict(orient="records")},
                  key=lambda sv: (sv[0], order.get(sv[1], 9)))
    cells = {(r["setup"], r["variant"], r["definition"]): r["verdict"] for r in v.to_dict(orient="records")}
    rows = []
    for setup, variant in runs:
        row = [esc(setup), esc(variant)]
        for d in DEFINITIONS:
            x = cells.get((setup, variant, d), "")
            row.append(verdict_span(x) if x and x != "not-measured" else '<span class="note">—</span>')
        rows.append(row)
    return html_table(["setup", "rerun", *DEFINITIONS], rows,
                      caption=f"Verdict per run and definition ({len(runs)} runs; — not measured)")


def _not_annotated(what: str) -> str:
    return f"<p class='note'>Not yet annotated: this record has no {what}.</p>"


def paper_page(p: Any, evidence: Any, extra: dict[str, Any]) -> Page:
    from metaanalysis.present.charts_evidence import profiles_chart, trajectories_chart

    ev = evidence.for_paper(p.key)
    page = Page(extra["labels"].get(p.key, p.label), "../", lead=esc(summary_sentence(p)))
    page.add(_identification(p))
    page.add("<h2>Definitions used</h2>")
    used = p.definitions_in_order()
    page.add(html_table(["definition", "family", "usage"], [[definition_link(d, "../"), esc(DEFINITION_FAMILIES[d]),
                                                             esc(u)] for d, u in used.items()],
                        caption="Definitions of model collapse the paper uses") if used
             else "<p class='note'>None recorded.</p>")
    if not p.claims and not p.setups:
        page.add("<h2>Claims, setups and evidence</h2>" + _not_annotated(
            "claims and no setups, so there is nothing to re-execute (see CONTRIBUTING.md to add them)"))
    else:
        _claims_and_setups(page, p, extra)
    page.add("<h2>Realism</h2>")
    r = extra["realism"].get(p.key)
    if r is not None and r.levels:
        page.add(f"<p>Realism weight <strong>{number(r.weight, '.2f')}</strong> (mean of score / max score over "
                 f"{r.scored} scored dimension(s); see the <a href=\"../methodology.html#realism\">methodology</a>).</p>")
        page.add(html_table(["dimension", "level", "score", "why"], [
            [esc(extra["dim_names"].get(d, d)), esc(lv), esc(r.scores[d]), esc(r.why[d])] for d, lv in r.levels.items()],
            numeric=(2,), caption="Realism scores"))
    else:
        page.add("<p class='note'>Not scored: this paper has no realism weight and is left out of weighted counts.</p>")
    if not p.setups:
        return page
    page.add("<h2>Re-executed evidence</h2>")
    if ev.is_empty:
        page.add(f"<p class='note'>No stored runs for this paper: run <code>mcatlas rerun {esc(p.key)}</code>.</p>")
        return page
    t, v = ev.trajectories, ev.verdicts
    present = [m for m in PAGE_METRICS if m in set(t["metric"])] if len(t) else []
    label = extra["labels"].get(p.key, p.label)
    if present:
        sims = {(r["paper"], r["setup"]): r["simulator"] for r in ev.runs.to_dict(orient="records")}
        page.chart(trajectories_chart(t, present, title=f"How {label}'s setups evolve over the iterations",
                                      simulators=sims))
    if len(v):
        page.chart(profiles_chart(v, title=f"Collapse profiles of {label}'s setups"))
        page.add("<h3>Verdicts</h3>")
        page.add(_verdict_pivot(v))
        page.add("<p class='note'>A verdict speaks about iterations 1..T of its run. The published rerun is read at "
                 "the long-run horizon (no-collapse needs the late trend not to reach collapse within "
                 f"{long_horizon()} further iterations); the realistic and control reruns within their own "
                 "iterations. Stability: the share of bootstrap replicates of the seeds that reach the same "
                 "verdict. For an inconclusive verdict, the seeds or iterations that would settle it.</p>")
        measured = [x for x in v.to_dict(orient="records") if x["verdict"] != "not-measured"]
        table = html_table(["setup", "rerun", "definition", "verdict", "statistic", "CI", "stability",
                            "would settle it", "reason"], [
            [esc(x["setup"]), esc(x["variant"]), definition_link(x["definition"], "../"), verdict_span(x["verdict"]),
             number(x.get("statistic")) or "—", ci_text(x.get("ci_low"), x.get("ci_high")),
             number(x.get("stability"), ".0%"), esc(settle_text(x)), esc(x.get("reason"))] for x in measured],
            caption="Every measured verdict with its statistic, interval and reason")
        page.add(f"<details><summary>Statistics, intervals and reasons of the {len(measured)} measured verdicts"
                 f"</summary>{table}</details>")
    page.add("<h3>Provenance of each run</h3>")
    rows = []
    for x in ev.runs.to_dict(orient="records"):
        prov = x.get("provenance") or {}
        git = prov.get("git") or {}
        rows.append([esc(x["setup"]), esc(x["variant"]), f"<code>{esc(str(x.get('run_id') or '')[:12])}</code>",
                     esc(x.get("simulator")), esc(x.get("policy")), esc(x.get("seeds")), esc(x.get("iterations")),
                     esc(prov.get("mcatlas_version", "")), esc((git.get("commit") or "")[:10]),
                     esc(device_name(prov.get("device"))), number(prov.get("wall_time"), ".2f"),
                     esc(prov.get("finished", "")),
                     f"<details><summary>all</summary><pre>{esc(json.dumps(prov, indent=1, sort_keys=True, default=str))}"
                     "</pre></details>"])
    page.add(html_table(["setup", "rerun", "run", "simulator", "policy", "seeds", "iterations", "mcatlas", "commit",
                         "device", "wall time (s)", "finished", "provenance"], rows, caption="Provenance of each run"))
    return page


def _claims_and_setups(page: Page, p: Any, extra: dict[str, Any]) -> None:
    page.add(f"<h2>Claims ({len(p.claims)})</h2>" if p.claims else "<h2>Claims</h2>")
    if p.claims:
        rows = []
        for c in p.claims:
            a = extra["claims"][(p.key, c.id)]
            rows.append([esc(c.id), esc(c.statement), definition_link(c.definition, "../"), verdict_span(c.outcome),
                         esc(c.policy), esc(c.where), esc(", ".join(a.setups)) or '<span class="note">none</span>',
                         claim_status(a), realistic_status(a), esc(a.reason())])
        page.add(html_table(["id", "statement", "definition", "claimed", "policy", "where", "setups",
                             "reproduced as published?", "under realistic conditions", "evidence"], rows,
                            caption="Claims, each judged against its setups' reruns"))
        page.add("<p class='note'>Reproduction first: the published reruns either reproduce the claim, conclusively "
                 "disagree, or are inconclusive. Only a reproduced claim is rerun under realistic conditions in a "
                 "meaningful way; a claim that does not survive is attributed, by the control rerun (the published "
                 "policy at the realistic horizon), to the realistic policy or to the shorter horizon. "
                 'See the <a href="../methodology.html#verdicts">methodology</a>.</p>')
    else:
        page.add(_not_annotated("claims"))
    if p.key == extra.get("position_paper"):
        page.add('<h2 id="checks">Its claims, checked against all re-executed runs</h2>')
        page.add(f"<p class='note'>{CHECKS_NOTE.format(root='../')}</p>")
        page.add(checks_html(extra["checks"], "../"))
        page.add('<h2 id="figure4">Figure 4: time to collapse onto one outcome</h2>')
        page.add(figure4_html(extra["figure4"]))
    page.add(f"<h2>Setups ({len(p.setups)})</h2>" if p.setups else "<h2>Setups</h2>")
    if not p.setups:
        page.add(_not_annotated("setups, so none of its claims can be re-executed"))
        return
    page.add(html_table(["name", "simulator", "params", "policy", "seeds", "iterations", "reproduces", "fidelity",
                         "note", "realistic overrides"], [
        [esc(s.name), esc(s.simulator), f"<code>{esc(json.dumps(s.params, sort_keys=True))}</code>"
         + (f"<br>sweep over n = {esc(', '.join(map(str, s.sweep_n)))}" if s.sweep_n else ""),
         esc(s.policy + (f" (real fraction {s.real_fraction})" if s.real_fraction else "")), esc(s.seeds),
         esc(s.iterations), esc(", ".join(s.reproduces)), esc(s.fidelity), esc(s.note),
         f"<code>{esc(json.dumps(s.realistic.model_dump(exclude_none=True, exclude_defaults=True)))}</code>"
         if s.realistic else ""] for s in p.setups], caption="Setups that re-execute the paper's experiments"))


__all__ = ["PAGE_METRICS", "definition_page", "first_sentence", "paper_page", "release_text", "summary_sentence"]
