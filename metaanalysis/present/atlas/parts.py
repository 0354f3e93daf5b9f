"""HTML parts the atlas's pages share: the synthesis table, the checks of the position paper's
claims, its Figure 4 test, the two statuses of a claim, and what would settle a verdict."""

from __future__ import annotations

from typing import Any, Iterable

from .html import definition_link, esc, html_table, is_missing, number, paper_link, status_span, verdict_span


def runs_text(r: dict[str, Any], variant: str) -> str:
    """``C / N / ? / -``: runs of a variant per verdict."""
    return " / ".join(str(r[f"{variant}_{k}"]) for k in ("collapse", "no_collapse", "inconclusive", "not_measured"))


def weighted_support_text(r: dict[str, Any]) -> str:
    """The weighted support of a synthesis row, or why there is none: no claims; claims only
    from papers without realism scores (their weight is unknown, never taken as 0 or 1); or
    claims whose realism weights are all 0 (a share of a total weight of 0 is undefined)."""
    text = number(r["weighted_support"], ".2f")
    if text:
        return text
    if not r["claims"]:
        return '<span class="note">no claims</span>'
    if r["claims_unweighted"] == r["claims"]:
        return '<span class="note">none (no scored paper)</span>'
    return '<span class="note">undefined (all weights 0)</span>'


def synthesis_html(table: Any, root: str, caption: str = "Evidence synthesis per definition") -> str:
    rows = []
    for r in table.to_dict(orient="records"):
        rows.append([
            definition_link(r["definition"], root),
            esc(r["claims_collapse"]), esc(r["claims_no_collapse"]), esc(r["claims_mixed"]),
            number(r["support"], ".2f") or '<span class="note">no claims</span>', weighted_support_text(r),
            esc(r["reproduced"]), esc(r["not_reproduced"]), esc(r["reproduction_inconclusive"]), esc(r["untested"]),
            f"{r['survives']} / {r['does_not_survive']} / {r['realistic_inconclusive']}",
            runs_text(r, "published"), runs_text(r, "realistic"),
            number(r["inconclusive_share"], ".0%"),
        ])
    return html_table(
        ["definition", "claims: collapse", "no-collapse", "mixed", "support", "weighted support",
         "reproduced", "not reproduced", "inconclusive", "untested",
         "of the reproduced: survive / do not / inconclusive realistic",
         "runs as published: C / N / ? / —", "runs realistic: C / N / ? / —", "inconclusive evidence"],
        rows, numeric=tuple(range(1, 10)) + (13,), caption=caption)


def checks_html(checks: list[dict[str, Any]], root: str) -> str:
    rows = [[esc(c["statement"]), esc(c["where"]), definition_link(c["definition"], root), esc(c["policy"]),
             verdict_span(c["outcome"]),
             (esc(c["reason"]) if c["law"] else
              f"{c['collapse']} of {c['conclusive']}" + (f" ({c['inconclusive']} inconclusive)" if c["inconclusive"] else "")),
             status_span(c["status"])]
            for c in checks]
    return html_table(["claim of Schaeffer et al. (arXiv 2503.03150)", "where", "definition", "policy", "claimed",
                       "runs that collapse, of the conclusive ones (or the law's test)", "status"], rows,
                      caption="The position paper's claims against every re-executed run")


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


def figure4_html(figure4: Any) -> str:
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
    out += html_table(["test", "answer", "detail"], rows, caption="The Figure 4 law, tested")
    cols = [("label", "setup"), ("categories", "K"), ("n", "n"), ("seeds", "seeds"), ("censored", "censored"),
            ("restricted_mean", "mean T"), ("se", "SE"), ("h0", "H0 (nats)"), ("n_h0", "n × H0"),
            ("ratio", "T / (n H0)"), ("theory", "Wright-Fisher theory")]
    out += html_table([c[1] for c in cols], [[esc(r[k]) if k in ("label", "categories", "n", "seeds", "censored")
                                          else number(r[k]) for k, _ in cols] for r in table.to_dict(orient="records")],
                  numeric=tuple(range(1, len(cols))), caption="Time to collapse onto one outcome, per configuration")
    if test.get("censored_configurations"):
        out += f"<p class='note'>Censored (excluded): {esc(', '.join(test['censored_configurations']))}.</p>"
    return out


def claim_status(a: Any) -> str:
    """The first answer of a claim's assessment, as HTML: its reproduction (and contradiction)."""
    out = status_span(a.reproduction)
    if a.contradiction:
        out += f' <span class="note">({esc(a.contradiction)})</span>'
    return out


def realistic_status(a: Any) -> str:
    """The second answer: under realistic conditions (and what a loss is attributed to)."""
    out = status_span(a.under_realistic)
    if a.attribution:
        out += f' <span class="note">(lost to {esc(a.attribution)})</span>'
    return out


def claim_rows(assessments: Iterable[Any], db: Any, labels: dict[str, str], root: str) -> list[list[str]]:
    claims = {(p.key, c.id): c for p in db.papers for c in p.claims}
    return [[paper_link(a.paper, labels[a.paper], root), esc(a.statement), definition_link(a.definition, root),
             esc(a.policy), verdict_span(a.outcome), verdict_span(a.published) or "—", claim_status(a),
             esc(", ".join(a.disagreeing)), esc(claims[(a.paper, a.claim)].where)] for a in assessments]



def long_horizon() -> int:
    from simulators.verdicts import Thresholds

    return Thresholds().horizon


def settle_text(x: dict[str, Any]) -> str:
    """What would settle an inconclusive verdict: ``S seeds``, ``T iterations``, both, or ""."""
    parts = []
    for key, unit in (("seeds_needed", "seeds"), ("iterations_needed", "iterations")):
        value = x.get(key)
        if value is not None and not is_missing(value):
            parts.append(f"~{int(value)} {unit}")
    return " or ".join(parts) if x.get("verdict") == "inconclusive" else ""
