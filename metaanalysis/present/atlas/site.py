"""The static HTML atlas: :func:`build_site` writes a site that works from ``file://`` with no
network at all.

Layout of ``out_dir``::

    index.html                 matrix with the evidence overlay, synthesis table, conclusion checks,
                               the overview charts, links to every page
    methodology.html           definitions, metrics, verdict rules, realism weighting, synthesis
                               method, how to contribute
    definitions/ID.html        one page per definition
    papers/KEY.html            one page per paper: annotations, claims, setups, realism,
                               trajectories, profiles, provenance of each run
    assets/vega.js             Vega, Vega-Lite and vega-embed in one file
                               (``vl_convert.javascript_bundle()``), shipped once
    assets/atlas.js            embeds every chart of a page from its inline JSON spec
    assets/style.css

Decisions
    * No template engine: pages are plain Python string building, and every piece of text that
      comes from the records or the evidence goes through :func:`html.escape` (:func:`esc`).
    * Chart specs are embedded in each page as ``<script type="application/json">`` (with ``</``
      escaped), rendered by ``assets/atlas.js`` with the SVG renderer and no action links (the
      default "open in editor" link would point to the network).
    * Evidence may be empty: pages then say that nothing was re-executed yet and how to do it.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Iterable

from simulators.vocabulary import DEFINITION_FAMILIES, DEFINITIONS, METRICS

from .assets import write_assets
from .html import (
    Page,
    ci_text,
    definition_link,
    esc,
    html_table,
    is_missing,
    number,
    paper_link,
    status_span,
    verdict_span,
)

#: metric descriptions for the methodology page (ids from simulators.vocabulary)
METRIC_TEXT: dict[str, str] = {
    "population_risk": "expected loss on real data of the model fitted at iteration t: cross-entropy for density models, excess squared error for regression",
    "kl_to_truth": "KL divergence from the real distribution to the fitted model, where defined",
    "variance_ratio": "trace of the fitted covariance over that of the real distribution (sample variance for non-Gaussian models)",
    "entropy": "entropy of the fitted distribution",
    "support_size": "number of outcomes with non-zero fitted probability (discrete models)",
    "tail_mass_ratio": "probability the fitted model gives to the real distribution's tails, over the real distribution's own",
    "hallucinated_mass": "probability the fitted model gives to regions where real data have (near) zero density",
    "mode_overlap": "overlap between fitted components or clusters that were separate in the real data",
    "mean_sq_error": "squared error of the fitted mean or parameters against the truth",
}
#: metrics shown on a paper page's trajectory chart, in this order, when measured
PAGE_METRICS: tuple[str, ...] = ("population_risk", "variance_ratio", "tail_mass_ratio", "kl_to_truth")


# -- the pages -------------------------------------------------------------------------------


def _runs_text(r: dict[str, Any], variant: str) -> str:
    """``C / N / ? / -``: runs of a variant per verdict."""
    return " / ".join(str(r[f"{variant}_{k}"]) for k in ("collapse", "no_collapse", "inconclusive", "not_measured"))


def _synthesis_html(table: Any, root: str) -> str:
    rows = []
    for r in table.to_dict(orient="records"):
        rows.append([
            definition_link(r["definition"], root),
            esc(r["claims_collapse"]), esc(r["claims_no_collapse"]), esc(r["claims_mixed"]),
            number(r["support"], ".2f"), number(r["weighted_support"], ".2f"),
            esc(r["reproduced"]), esc(r["not_reproduced"]), esc(r["reproduction_inconclusive"]), esc(r["untested"]),
            f"{r['survives']} / {r['does_not_survive']} / {r['realistic_inconclusive']}",
            _runs_text(r, "published"), _runs_text(r, "realistic"),
            number(r["inconclusive_share"], ".0%"),
        ])
    return html_table(
        ["definition", "claims: collapse", "no-collapse", "mixed", "support", "weighted support",
         "reproduced", "not reproduced", "inconclusive", "untested",
         "of the reproduced: survive / do not / inconclusive realistic",
         "runs as published: C / N / ? / —", "runs realistic: C / N / ? / —", "inconclusive evidence"],
        rows, numeric=tuple(range(1, 10)) + (13,))


def _checks_html(checks: list[dict[str, Any]], root: str) -> str:
    rows = [[esc(c["statement"]), esc(c["where"]), definition_link(c["definition"], root), esc(c["policy"]),
             verdict_span(c["outcome"]),
             (esc(c["reason"]) if c["law"] else
              f"{c['collapse']} of {c['conclusive']}" + (f" ({c['inconclusive']} inconclusive)" if c["inconclusive"] else "")),
             status_span(c["status"])]
            for c in checks]
    return html_table(["claim of Schaeffer et al. (arXiv 2503.03150)", "where", "definition", "policy", "claimed",
                       "runs that collapse, of the conclusive ones (or the law's test)", "status"], rows)


CHECKS_NOTE = (
    "Generated from the claims in <code>annotations/papers/schaeffer2025position.yaml</code>. Each claim is compared "
    "with the verdicts of every paper's re-executed runs (every variant) that have the claim's definition and were "
    "run under the claim's data policy; a configuration shared by several setups counts once, and only conclusive "
    "verdicts (collapse, no-collapse) count, inconclusive ones are shown apart. A claim of no collapse "
    "is <em>supported</em> when no conclusive run collapses, <em>partly contradicted</em> when fewer than half do, "
    "<em>contradicted</em> otherwise; a claim of collapse is <em>supported</em> when at least half collapse, "
    "<em>partly supported</em> when some do, <em>contradicted</em> when none does; a <em>mixed</em> claim (the paper "
    "says the question deserves study) is <em>open</em>: the counts are shown, no status is given. A claim that "
    "states a law (Figure 4) is judged by the test of that law, not by counting runs. "
    "Thresholds: <a href=\"{root}methodology.html#checks\">methodology</a>.")


def _figure4_html(figure4: Any) -> str:
    """The position paper's Figure 4 test: verdicts with fitted exponents, and the table."""
    if figure4 is None:
        return ("<p class='note'>Not computed: the Figure 4 test needs the stored per-seed runs of the position "
                "paper's discrete replace setups (<code>mcatlas rerun schaeffer2025position</code>).</p>")
    table, test = figure4
    if table is None or len(table) == 0:
        return ("<p class='note'>No stored runs of the position paper's discrete replace setups yet "
                "(<code>mcatlas rerun schaeffer2025position</code>).</p>")
    prop = test.get("proportional") or {}
    detail = ""
    if "exponent_n" in prop:
        (lo_n, hi_n), (lo_h, hi_h) = prop["exponent_n_ci"], prop["exponent_h0_ci"]
        detail = (f"fitted T ∝ n<sup>{prop['exponent_n']:.2f}</sup> [95% CI {lo_n:.2f}, {hi_n:.2f}] × "
                  f"H0<sup>{prop['exponent_h0']:.2f}</sup> [{lo_h:.2f}, {hi_h:.2f}]; proportional means both exponents 1")
    rows = [["grows with the number of samples n (at fixed K)", status_span(test["grows_with_n"]["answer"]), ""],
            ["grows with the initial entropy H0 (at fixed n)", status_span(test["grows_with_entropy"]["answer"]), ""],
            ["proportional to n × H0", status_span(prop.get("answer", "not-tested")), detail]]
    out = ("<p>Claim (Figure 4): for a discrete model refitted to its own samples under replacement, the expected "
           "number of iterations T before it collapses onto one outcome grows with n × H0. Measured on the stored runs "
           "of the paper's discrete setups (absorption time: first iteration with one outcome left; a step counts when "
           "it exceeds two standard errors).</p>")
    out += html_table(["test", "answer", "detail"], rows)
    cols = [("label", "setup"), ("categories", "K"), ("n", "n"), ("seeds", "seeds"), ("censored", "censored"),
            ("restricted_mean", "mean T"), ("se", "SE"), ("h0", "H0 (nats)"), ("n_h0", "n × H0"),
            ("ratio", "T / (n H0)"), ("theory", "Wright-Fisher theory")]
    out += html_table([c[1] for c in cols], [[esc(r[k]) if k in ("label", "categories", "n", "seeds", "censored")
                                          else number(r[k]) for k, _ in cols] for r in table.to_dict(orient="records")],
                  numeric=tuple(range(1, len(cols))))
    if test.get("censored_configurations"):
        out += f"<p class='note'>Censored (excluded): {esc(', '.join(test['censored_configurations']))}.</p>"
    return out


def _claim_status(a: Any) -> str:
    """The first answer of a claim's assessment, as HTML: its reproduction (and contradiction)."""
    out = status_span(a.reproduction)
    if a.contradiction:
        out += f' <span class="note">({esc(a.contradiction)})</span>'
    return out


def _realistic_status(a: Any) -> str:
    """The second answer: under realistic conditions (and what a loss is attributed to)."""
    out = status_span(a.under_realistic)
    if a.attribution:
        out += f' <span class="note">(lost to {esc(a.attribution)})</span>'
    return out


def _claim_rows(assessments: Iterable[Any], db: Any, labels: dict[str, str], root: str) -> list[list[str]]:
    claims = {(p.key, c.id): c for p in db.papers for c in p.claims}
    return [[paper_link(a.paper, labels[a.paper], root), esc(a.statement), definition_link(a.definition, root),
             esc(a.policy), verdict_span(a.outcome), verdict_span(a.published) or "—", _claim_status(a),
             esc(", ".join(a.disagreeing)), esc(claims[(a.paper, a.claim)].where)] for a in assessments]


def _index_page(db: Any, evidence: Any, charts: dict[str, Any], extra: dict[str, Any]) -> Page:
    from metaanalysis.analysis.frames import unique_runs

    page = Page("Model Collapse Atlas", "")
    n_links = len(evidence.runs)
    n_runs = len(unique_runs(evidence.runs)) if n_links else 0
    labels = extra["labels"]
    page.add(
        "<p>A meta-analysis of research on <em>model collapse</em>: which of eight definitions each paper uses, "
        "what it claims, how realistic its setting is, and what re-executing its setups says, as published and "
        "under realistic conditions. Annotations follow Schaeffer, Kazdan, Arulandu &amp; Koyejo, "
        "<em>Position: Model Collapse Does Not Mean What You Think</em> (arXiv 2503.03150). "
        f'See the <a href="methodology.html">methodology</a>.</p>'
        f'<p class="note">{len(db.papers)} papers; {n_runs} distinct re-executed run(s) in the store'
        + (f", linked from {n_links} (paper, setup, variant) entries (setups that describe the same configuration "
           "share one run, counted once)" if n_links != n_runs else "") + "."
        + ("" if n_links else " Nothing has been re-executed yet: run <code>mcatlas report</code> without "
           "<code>--no-rerun</code>, or <code>mcatlas rerun --all</code>.") + "</p>")
    page.add('<h2 id="matrix">Definitions per paper, with re-executed evidence</h2>')
    if any(labels[p.key] != p.label for p in db.papers):
        page.add("<p class='note'>Papers that share a label are told apart by a letter (in key order): "
                 + esc("; ".join(f"{labels[p.key]} = {p.key}" for p in sorted(db.papers, key=lambda p: p.key)
                                 if labels[p.key] != p.label)) + ".</p>")
    page.chart(charts["matrix-evidence"], scale=1.45)
    page.add('<h2 id="synthesis">Evidence synthesis per definition</h2>'
             '<p class="note">Claims counted once each and weighted by their realism (the paper\'s scores, with the '
             'data-policy dimensions taken from the claim\'s own policy); support = share of claims reporting collapse '
             '(mixed = one half). The position paper\'s own claims are not counted here: they are checked below. '
             'Claims may name definitions beyond the marks of the position paper\'s Figure 2 (e.g. a paper with no '
             'scaling-law-change mark in the figure may still make a scaling claim), so claim counts and the matrix '
             'can differ. Re-executed: number of distinct runs per verdict. '
             'Method: <a href="methodology.html#synthesis">methodology</a>.</p>')
    page.add(_synthesis_html(extra["synthesis"], ""))
    page.add('<h2 id="checks">The position paper\'s claims, checked against the re-executed verdicts</h2>')
    page.add(f"<p class='note'>{CHECKS_NOTE.format(root='')}</p>")
    page.add(_checks_html(extra["checks"], "") if extra["checks"] else
             "<p class='note'>The position paper's record (schaeffer2025position) has no claims to check.</p>")
    page.add('<h3 id="figure4">Figure 4: time to collapse onto one outcome</h3>')
    page.add(_figure4_html(extra["figure4"]))
    assessed = list(extra["claims"].values())
    page.add('<h2 id="contradicted">Claims the reruns contradict</h2>')
    page.add("<p class='note'>A claim is listed here only when its reproducing setups, re-executed as the paper ran "
             "them, conclusively give the opposite verdict under the claim's definition (or, for a claim that states "
             "a law, the law's test fails), and at least one of the disagreeing setups runs the paper's own model "
             "(fidelity <em>same-model</em>). A realistic rerun never contradicts a paper: it only says whether a "
             "reproduced claim survives realistic conditions.</p>")
    header = ["paper", "claim", "definition", "policy", "claimed", "rerun as published", "reproduction",
              "disagreeing setups", "where"]
    rows = _claim_rows([a for a in assessed if a.contradicted], db, labels, "")
    page.add(html_table(header, rows) if rows else "<p class='note'>None.</p>")
    page.add('<h3 id="stand-ins">Stand-ins that do not reproduce the paper\'s result</h3>')
    page.add("<p class='note'>The same disagreement, but every disagreeing setup is a toy stand-in for the paper's "
             "model: a finding about the stand-in, not evidence against the paper.</p>")
    rows = _claim_rows([a for a in assessed if a.contradiction and not a.contradicted], db, labels, "")
    page.add(html_table(header, rows) if rows else "<p class='note'>None.</p>")
    open_claims = [a for a in assessed if a.reproduction == "inconclusive"]
    page.add(f"<p class='note'>{len(open_claims)} claim(s) have inconclusive published reruns (listed on their papers' "
             "pages with what would settle them); they count neither for nor against the papers.</p>")
    for name, heading in (("support", "Support for collapse, unweighted and realism-weighted"),
                          ("forest", "Change in population risk per run, pooled per policy"),
                          ("profiles", "Collapse profiles"),
                          ("definitions-usage", "Definitions used"),
                          ("definitions-time", "Definitions over time"),
                          ("policies-year", "Data policies by year"),
                          ("realism", "Realism per paper")):
        page.add(f'<h2 id="{name}">{esc(heading)}</h2>')
        page.chart(charts[name])
    page.add('<h2 id="definitions">Definitions</h2><ul>' + "".join(
        f"<li>{definition_link(d, '', extra['names'].get(d, d))} <span class='note'>({esc(DEFINITION_FAMILIES[d])})</span></li>"
        for d in DEFINITIONS) + "</ul>")
    page.add('<h2 id="papers">Papers</h2><ul class="cols">' + "".join(
        f"<li>{paper_link(p.key, labels[p.key], '')}</li>" for p in sorted(db.papers, key=lambda p: p.sort_key())) + "</ul>")
    return page


def _definition_page(d: str, db: Any, evidence: Any, extra: dict[str, Any]) -> Page:
    from metaanalysis.analysis.synthesis import verdicts_by_policy

    entry = extra["entries"].get(d)
    page = Page(extra["names"].get(d, d), "../")
    page.add(f"<p><strong>id</strong> <code>{esc(d)}</code> · <strong>family</strong> {esc(DEFINITION_FAMILIES[d])}</p>")
    if entry is not None:
        page.add(f"<p>{esc(entry.description)}</p>")
        if entry.metrics:
            page.add("<p><strong>Measured by</strong> " + ", ".join(f"<code>{esc(m)}</code>" for m in entry.metrics) + "</p>")
    users = [p for p in sorted(db.papers, key=lambda p: p.sort_key()) if d in p.definitions]
    page.add(f"<h2>Papers that use it ({len(users)})</h2>")
    page.add(html_table(["paper", "usage", "year"], [[paper_link(p.key, extra["labels"][p.key], "../"), esc(p.definitions[d]), esc(p.year)]
                                                 for p in users]) if users else "<p>No paper uses it.</p>")
    claims = [(p, c) for p in db.papers for c in p.claims if c.definition == d]
    page.add(f"<h2>Claims about it ({len(claims)})</h2>")
    if claims:
        w = extra["claim_weights"]
        page.add(html_table(["paper", "claim", "outcome", "policy", "model", "where", "realism weight"], [
            [paper_link(p.key, extra["labels"][p.key], "../"), esc(c.statement), verdict_span(c.outcome), esc(c.policy),
             esc(c.model_family), esc(c.where), number(w.get((p.key, c.id)), ".2f") or "none"] for p, c in claims]))
    row = extra["synthesis"][extra["synthesis"]["definition"] == d]
    page.add("<h2>Synthesis</h2>" + _synthesis_html(row, "../"))
    by = verdicts_by_policy(evidence.verdicts)
    by = by[by["definition"] == d] if len(by) else by
    page.add("<h2>Re-executed verdicts by data policy</h2>")
    if len(by):
        page.add(html_table(["variant", "policy", "collapse", "no-collapse", "inconclusive", "not measured"], [
            [esc(r["variant"]), esc(r["policy"]), esc(r["collapse"]), esc(r["no_collapse"]), esc(r["inconclusive"]),
             esc(r["not_measured"])] for r in by.to_dict(orient="records")], numeric=(2, 3, 4, 5)))
    else:
        page.add("<p class='note'>No re-executed runs yet.</p>")
    return page


def _paper_page(p: Any, evidence: Any, extra: dict[str, Any]) -> Page:
    from metaanalysis.present.charts_evidence import profiles_chart, trajectories_chart

    ev = evidence.for_paper(p.key)
    page = Page(extra["labels"].get(p.key, p.label), "../")
    ident = [("title", esc(p.title)), ("authors", esc(", ".join(p.authors))),
             ("released", esc(f"{p.year}" + (f"-{p.month:02d}" if p.month else ""))), ("venue", esc(p.venue)),
             ("arXiv", f'<a href="https://arxiv.org/abs/{esc(p.arxiv)}">{esc(p.arxiv)}</a>' if p.arxiv else ""),
             ("DOI", f'<a href="https://doi.org/{esc(p.doi)}">{esc(p.doi)}</a>' if p.doi else ""),
             ("key", f"<code>{esc(p.key)}</code>"), ("explicit definition", esc(p.explicit_definition)),
             ("data policies", esc(", ".join(p.data_policies))),
             ("identification note", esc(p.identification_note)), ("notes", esc(p.notes)), ("source", esc(p.source))]
    page.add(html_table(["field", "value"], [[esc(k), v] for k, v in ident if v]))
    page.add("<h2>Definitions used</h2>")
    used = p.definitions_in_order()
    page.add(html_table(["definition", "family", "usage"], [[definition_link(d, "../"), esc(DEFINITION_FAMILIES[d]), esc(u)]
                                                         for d, u in used.items()]) if used else "<p>None.</p>")
    v = ev.verdicts
    page.add(f"<h2>Claims ({len(p.claims)})</h2>")
    if p.claims:
        rows = []
        for c in p.claims:
            a = extra["claims"][(p.key, c.id)]
            rows.append([esc(c.id), esc(c.statement), definition_link(c.definition, "../"), verdict_span(c.outcome),
                         esc(c.policy), esc(c.where), esc(", ".join(a.setups)) or '<span class="note">none</span>',
                         _claim_status(a), _realistic_status(a), esc(a.reason())])
        page.add(html_table(["id", "statement", "definition", "claimed", "policy", "where", "setups",
                             "reproduced as published?", "under realistic conditions", "evidence"], rows))
        page.add("<p class='note'>Reproduction first: the published reruns either reproduce the claim, conclusively "
                 "disagree, or are inconclusive. Only a reproduced claim is rerun under realistic conditions in a "
                 "meaningful way; a claim that does not survive is attributed, by the control rerun (the published "
                 "policy at the realistic horizon), to the realistic policy or to the shorter horizon. "
                 'See the <a href="../methodology.html#verdicts">methodology</a>.</p>')
    if p.key == extra.get("position_paper"):
        page.add('<h2 id="checks">Its claims, checked against all re-executed runs</h2>')
        page.add(f"<p class='note'>{CHECKS_NOTE.format(root='../')}</p>")
        page.add(_checks_html(extra["checks"], "../"))
        page.add('<h2 id="figure4">Figure 4: time to collapse onto one outcome</h2>')
        page.add(_figure4_html(extra["figure4"]))
    page.add(f"<h2>Setups ({len(p.setups)})</h2>")
    if p.setups:
        page.add(html_table(["name", "simulator", "params", "policy", "seeds", "iterations", "reproduces", "fidelity",
                         "note", "realistic overrides"], [
            [esc(s.name), esc(s.simulator), f"<code>{esc(json.dumps(s.params, sort_keys=True))}</code>"
             + (f"<br>sweep over n = {esc(', '.join(map(str, s.sweep_n)))}" if s.sweep_n else ""),
             esc(s.policy + (f" (real fraction {s.real_fraction})" if s.real_fraction else "")), esc(s.seeds),
             esc(s.iterations), esc(", ".join(s.reproduces)), esc(s.fidelity), esc(s.note),
             f"<code>{esc(json.dumps(s.realistic.model_dump(exclude_none=True, exclude_defaults=True)))}</code>"
             if s.realistic else ""] for s in p.setups]))
    page.add("<h2>Realism</h2>")
    r = extra["realism"].get(p.key)
    if r is not None and r.levels:
        page.add(f"<p>Realism weight <strong>{number(r.weight, '.2f')}</strong> (mean of score / max score over "
                 f"{r.scored} scored dimension(s); see the <a href=\"../methodology.html#realism\">methodology</a>).</p>")
        page.add(html_table(["dimension", "level", "score", "why"], [
            [esc(extra["dim_names"].get(d, d)), esc(lv), esc(r.scores[d]), esc(r.why[d])] for d, lv in r.levels.items()],
            numeric=(2,)))
    else:
        page.add("<p class='note'>Not scored: this paper has no realism weight and is left out of weighted counts.</p>")
    page.add("<h2>Re-executed evidence</h2>")
    if ev.is_empty:
        page.add("<p class='note'>No stored runs for this paper" + (" (it has no setups)." if not p.setups else
                 f": run <code>mcatlas rerun {esc(p.key)}</code>.") + "</p>")
        return page
    t = ev.trajectories
    present = [m for m in PAGE_METRICS if m in set(t["metric"])] if len(t) else []
    if present:
        page.chart(trajectories_chart(t, present, title=f"Trajectories of {p.label}'s setups"))
    if len(v):
        page.chart(profiles_chart(v, title=f"Collapse profiles of {p.label}'s setups"))
        page.add("<h3>Verdicts and their reasons</h3>")
        page.add("<p class='note'>A verdict speaks about iterations 1..T of its run. The published rerun is read at "
                 "the long-run horizon (no-collapse needs the late trend not to reach collapse within "
                 f"{_long_horizon()} further iterations); the realistic and control reruns within their own "
                 "iterations. Stability: the share of bootstrap replicates of the seeds that reach the same "
                 "verdict. For an inconclusive verdict, the seeds or iterations that would settle it.</p>")
        page.add(html_table(["setup", "variant", "definition", "verdict", "statistic", "CI", "stability",
                             "would settle it", "reason"], [
            [esc(x["setup"]), esc(x["variant"]), definition_link(x["definition"], "../"), verdict_span(x["verdict"]),
             number(x.get("statistic")) or "—", ci_text(x.get("ci_low"), x.get("ci_high")),
             number(x.get("stability"), ".0%"), esc(_settle_text(x)), esc(x.get("reason"))]
            for x in v.to_dict(orient="records")]))
    page.add("<h3>Provenance of each run</h3>")
    rows = []
    for x in ev.runs.to_dict(orient="records"):
        prov = x.get("provenance") or {}
        git = prov.get("git") or {}
        rows.append([esc(x["setup"]), esc(x["variant"]), f"<code>{esc(str(x.get('run_id') or '')[:12])}</code>",
                     esc(x.get("simulator")), esc(x.get("policy")), esc(x.get("seeds")), esc(x.get("iterations")),
                     esc(prov.get("mcatlas_version", "")), esc((git.get("commit") or "")[:10]), esc(prov.get("device", "")),
                     number(prov.get("wall_time"), ".2f"), esc(prov.get("finished", "")),
                     f"<details><summary>all</summary><pre>{esc(json.dumps(prov, indent=1, sort_keys=True, default=str))}</pre></details>"])
    page.add(html_table(["setup", "variant", "run", "simulator", "policy", "seeds", "iterations", "mcatlas", "commit",
                     "device", "wall time (s)", "finished", "provenance"], rows))
    return page


def _long_horizon() -> int:
    from simulators.verdicts import Thresholds

    return Thresholds().horizon


def _settle_text(x: dict[str, Any]) -> str:
    """What would settle an inconclusive verdict: ``S seeds``, ``T iterations``, both, or ""."""
    parts = []
    for key, unit in (("seeds_needed", "seeds"), ("iterations_needed", "iterations")):
        value = x.get(key)
        if value is not None and not is_missing(value):
            parts.append(f"~{int(value)} {unit}")
    return " or ".join(parts) if x.get("verdict") == "inconclusive" else ""


def _thresholds_table() -> str:
    """The verdict thresholds, read from ``simulators.verdicts.Thresholds`` (name, value, meaning)."""
    try:
        from simulators.verdicts import Thresholds

        fields = Thresholds.model_fields
    except (ImportError, AttributeError):
        return "<p class='note'>The thresholds are documented in <code>simulators/verdicts.py</code>.</p>"
    rows = [[f"<code>{esc(name)}</code>", esc(f.default), esc(f.description or "")] for name, f in fields.items()]
    return html_table(["threshold", "value", "meaning"], rows)


def _methodology_page(db: Any, extra: dict[str, Any]) -> Page:
    page = Page("Methodology", "")
    page.add('<h2 id="definitions">The eight definitions of model collapse</h2>'
             "<p>After Schaeffer, Kazdan, Arulandu &amp; Koyejo (arXiv 2503.03150), Figure 1, grouped in three families.</p>")
    rows = []
    for d in DEFINITIONS:
        e = extra["entries"].get(d)
        rows.append([definition_link(d, "", d), esc(DEFINITION_FAMILIES[d]), esc(e.name if e else ""),
                     esc(e.description if e else ""), esc(", ".join(e.metrics) if e else "")])
    page.add(html_table(["id", "family", "name", "operational description", "metrics"], rows))
    page.add('<h2 id="metrics">Metrics</h2><p>Measured per iteration and seed on every run; exact where a closed form '
             "exists (the truth is known in a simulator), otherwise on a large held-out sample of real data.</p>")
    page.add(html_table(["metric", "meaning"], [[f"<code>{esc(m)}</code>", esc(METRIC_TEXT.get(m, ""))] for m in METRICS]))
    page.add('<h2 id="verdicts">Verdicts: collapse, no-collapse, inconclusive</h2>'
             "<p>Every re-executed run gets one verdict per definition, about iterations 1..T of that run:</p><ul>"
             "<li><strong>collapse</strong>: the interval of the rule's statistic excludes no change <em>and</em> the "
             "effect reaches the rule's minimum effect of interest (a documented threshold below), so a rise of "
             "10<sup>−7</sup> in a mass is not called collapse;</li>"
             "<li><strong>no-collapse</strong> is a conclusion that needs evidence, never a failure to detect: the "
             "interval lies below the rule's equivalence margin, <em>and</em> the late trend of the run is not "
             "heading there (it levels off, or is too slow to reach the margin within the horizon);</li>"
             "<li><strong>inconclusive</strong>: neither, e.g. a run too short or with too few seeds, an estimate "
             "between the margins, or a verdict that too few bootstrap replicates of the seeds reproduce; it says "
             "why and estimates the seeds or iterations that would settle it;</li>"
             "<li><strong>not-measured</strong>: the run's model family cannot measure that quantity (a scaling-law "
             "change needs a sweep over n).</li></ul>"
             "<p><strong>Error rates.</strong> Intervals are percentile bootstraps over seeds (the independent "
             "replicates). The rules of one run share a family-wise level of 95% by Bonferroni; the iteration from "
             "which a collapse holds is found by testing from T backwards (a fixed-sequence procedure). A conclusive "
             "verdict must be <em>stable</em>: reached by at least the minimum share of bootstrap replicates of the "
             "seed set, so a verdict does not hinge on which seeds were drawn.</p>"
             "<p><strong>Horizons.</strong> A published rerun asks where the process is going: its verdicts are read "
             f"at a long-run horizon of {_long_horizon()} iterations, so a short run of a process that collapses "
             "slowly (a Gaussian refitted to its own samples) is never no-collapse. A realistic rerun and its "
             "control ask what happens within their own iterations.</p>"
             "<p><strong>Claims: reproduce first, then compare.</strong> Each claim is judged against the setups "
             "that reproduce it. <em>Reproduction</em>: its published reruns give the claimed outcome "
             "(<em>reproduced</em>), conclusively the other one (<em>not reproduced</em>), or neither "
             "(<em>inconclusive</em>; setups that disagree among themselves count here). <em>Under realistic "
             "conditions</em>, only for a reproduced claim: <em>survives</em>, <em>does not survive</em> or "
             "<em>inconclusive</em>; for a claim that is not reproduced the realistic rerun says nothing about the "
             "paper (<em>not applicable</em>). The realistic rerun changes the policy and cuts the horizon at once; "
             "the <em>control</em> rerun (the published policy at the realistic horizon) tells which change a claim "
             "that does not survive lost to. A claim is listed as contradicted only when its published rerun "
             "conclusively disagrees and a disagreeing setup runs the paper's own model; when every disagreeing setup "
             "is a toy stand-in, the finding is about the stand-in and is listed apart. A claim that states a "
             "specific law is judged by the test of that law, not by counting collapse verdicts. Several setups' "
             "verdicts combine into one: agreeing conclusive verdicts give that verdict and win over inconclusive "
             "ones, disagreeing ones give <em>mixed</em>.</p>"
             "<p>Each rule, its statistic and its margins are documented in <code>simulators/verdicts/rules.py</code>; "
             "the thresholds in force, with the theory each margin guards:</p>")
    page.add(_thresholds_table())
    page.add('<h2 id="realism">Realism weighting</h2>'
             "<p>Each paper is scored on five dimensions of the realistic conditions the position paper describes. "
             "A paper's weight is the mean, over the dimensions it is scored on, of score / highest score, so it lies "
             "between 0 (least realistic on every dimension) and 1 (most realistic on every one); unscored papers "
             "have no weight and are left out of weighted counts (never counted as 0 or 1).</p>"
             "<p><strong>A claim is weighted by its own policy.</strong> A paper that reports replace and accumulate "
             "experiments has one set of scores; its replace claims would otherwise inherit the realism of its "
             "accumulate setting. So each claim takes its paper's levels, except the two data-policy dimensions, "
             "which come from the claim's policy:</p>")
    from metaanalysis.analysis.weighting import POLICY_LEVELS

    page.add(html_table(["claim policy", "data propagation", "real data kept"],
                    [[esc(pol), esc(lv["data-propagation"]), esc(lv["real-data-kept"])] for pol, lv in POLICY_LEVELS.items()]))
    page.add("<p class='note'>accumulate-subsample counts as accumulation with all real data kept: the real data stay "
             "in the pool each fixed-size training set is drawn from. fresh (a fresh real share every iteration) "
             "counts like mix: some real data in mixed training sets.</p>")
    if db.realism is not None:
        for dim in db.realism.dimensions:
            page.add(f"<h3>{esc(dim.name)} <code>{esc(dim.id)}</code></h3><p>{esc(dim.description)}</p>")
            page.add(html_table(["level", "score", "description"], [[esc(lv.id), esc(lv.score), esc(lv.description)]
                                                                 for lv in dim.levels], numeric=(1,)))
        rd = db.realism.realistic_defaults.model_dump(exclude_none=True)
        page.add("<h3>Realistic reruns</h3><p>A setup's realistic rerun changes, unless its own <code>realistic</code> "
                 "block refines them: " + esc(", ".join(f"{k} = {v}" for k, v in rd.items())) + ".</p>")
    page.add('<h2 id="synthesis">Evidence synthesis and pooling</h2>'
             "<p><strong>Claims.</strong> For each definition, every claim is counted once (two claims of one paper under "
             "two policies are two findings) by outcome: collapse, no-collapse or mixed. <em>Support</em> is the share "
             "reporting collapse, a mixed claim counting one half; the weighted support does the same with each claim's "
             "realism weight. The position paper's own claims are not counted: the synthesis is meant to check them, "
             "so letting them vote would be circular. Claims may name definitions that the position paper's Figure 2 "
             "does not mark for that paper (the figure records the definitions a paper uses; a claim records what it "
             "reports), so claim counts and the matrix can differ.</p>"
             "<p><strong>Runs, counted once.</strong> Several setups (of one or several papers) can describe the same "
             "configuration: same simulator, parameters, policy, seeds and iterations. They share one stored run, "
             "and that run is counted once in verdict counts, checks and pooling; labels and tooltips name every setup "
             "that shares it.</p>"
             "<p><strong>Effect of a run.</strong> Per seed, y = log(risk at iteration 8 / risk at iteration 1): "
             "the same number of generations for every run, so that runs of 8 and of 1000 iterations measure the "
             "same thing (8 is the length of the shortest neural runs and the shortest the trend test accepts). "
             "Seeds where either risk is infinite, zero or negative have no log ratio and are excluded (the plot "
             "counts them); shorter runs have no effect. The run's effect is the mean of y over seeds with a "
             "t-interval across seeds.</p>"
             "<p><strong>Pooling.</strong> Only runs that measure one effect are pooled: one subgroup per data policy "
             "and model family. Random effects with tau² by restricted maximum likelihood (metafor's default), a "
             "Hartung-Knapp-Sidik-Jonkman interval for the mean (IntHout et al. 2014: the Wald interval is too narrow "
             "with few, very different studies), the Q-profile interval for tau², and a 95% prediction interval for a "
             "new run, estimate ± t<sub>k−2</sub> √(tau² + se²) (Higgins, Thompson &amp; Spiegelhalter 2009; "
             "metafor's <code>pi.type=\"riley\"</code>). The numbers are pinned against R's metafor. Where "
             "heterogeneity is considerable (I² ≥ 75%, the Cochrane Handbook's band), the runs do not share one "
             "effect: no pooled value is shown, only their spread. DerSimonian-Laird is available as an option "
             "(<code>metaanalysis.analysis.pooling.pool(method=\"DL\")</code>); it is not the default because its "
             "tau² collapses when a few runs with many seeds carry almost all the weight.</p>"
             "<p><strong>Support.</strong> The share of claims reporting collapse comes with its 95% Wilson interval "
             "(Brown, Cai &amp; DasGupta 2001); the realism-weighted share's interval uses Kish's effective number of "
             "claims.</p>")
    page.add('<h3 id="checks">Checking the position paper\'s claims</h3>'
             "<p>The checks are generated from the claims in <code>annotations/papers/schaeffer2025position.yaml</code> "
             "(statement, definition, policy, outcome). Each is compared with the verdicts of every paper's runs, both "
             "variants, with the claim's definition and run under the claim's policy. Status, from the share of "
             "measured runs (collapse or no-collapse verdicts) that collapse:</p>")
    from metaanalysis.analysis.synthesis import CHECK_RULES

    page.add(html_table(["claim", "status rule"], [[esc(a), esc(b)] for a, b in CHECK_RULES]))
    page.add("<p>The position paper's Figure 4 claim (the expected iteration of collapse onto one outcome grows with "
             "n × initial entropy) is tested separately on its discrete setups' stored runs: monotone growth in n and "
             "in H0 (each step more than two standard errors: holds; any significant decrease: does not hold; "
             "otherwise inconclusive), and a weighted fit log T = c + a log n + b log H0, where proportionality means "
             "both 95% intervals of a and b contain 1.</p>")
    page.add('<h2 id="contribute">How to contribute</h2>'
             "<ol><li>Add or edit <code>annotations/papers/KEY.yaml</code> (one file per paper; the key equals the file "
             "name). The format is in the JSON Schema <code>annotations/paper.schema.json</code>; the annotation guide "
             "is <code>CONTRIBUTING.md</code>.</li>"
             "<li>Run <code>mcatlas validate</code>: every problem is printed as <code>FILE:LINE: field: message</code>.</li>"
             "<li>Add <code>claims</code> (what the paper reports), <code>setups</code> (runnable configurations that stand "
             "for its experiments) and <code>realism</code> scores with a one-line justification each.</li>"
             "<li>Run <code>mcatlas rerun KEY</code> to re-execute the setups, then <code>mcatlas report --out site</code>.</li>"
             "<li>Open a pull request; CI validates the annotations and runs the tests.</li></ol>")
    return page


# -- the builder -------------------------------------------------------------------------------


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


def _build_site(records: Any, evidence: Any, out: Path, figure4: Any) -> Path:
    from metaanalysis.analysis.absorption import POSITION_PAPER
    from metaanalysis.analysis.frames import Evidence
    from metaanalysis.analysis.synthesis import conclusion_checks, synthesis_table
    from metaanalysis.analysis.weighting import claim_weights, realism_of, weights
    from metaanalysis.present.charts import all_charts, atlas_labels

    evidence = evidence if evidence is not None else Evidence.empty()
    (out / "papers").mkdir(parents=True, exist_ok=True)
    (out / "definitions").mkdir(parents=True, exist_ok=True)
    write_assets(out)
    papers = list(records.papers)
    w = weights(papers, records.realism) if records.realism is not None else {}
    entries = {e.id: e for e in records.definitions.definitions} if records.definitions is not None else {}
    cw = claim_weights(papers, records.realism) if records.realism is not None else {}
    assessed = evidence.claims(papers)
    extra = {
        "weights": w,
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
    }
    charts = all_charts(papers, records.realism, evidence)
    pages: dict[Path, Page] = {out / "index.html": _index_page(records, evidence, charts, extra),
                                out / "methodology.html": _methodology_page(records, extra)}
    for d in DEFINITIONS:
        pages[out / "definitions" / f"{d}.html"] = _definition_page(d, records, evidence, extra)
    for p in papers:
        pages[out / "papers" / f"{p.key}.html"] = _paper_page(p, evidence, extra)
    for path, page in pages.items():
        path.write_text(page.html(), encoding="utf-8")
    return out / "index.html"


__all__ = ["build_site", "esc", "write_assets"]
