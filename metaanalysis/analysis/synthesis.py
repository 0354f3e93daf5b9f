"""Evidence synthesis: what the papers claim per definition, and what the re-executed setups say.

The inputs
    * validated paper records (their ``claims``) and realism weights (:mod:`.weighting`);
    * the re-executed evidence, as the tidy frames of :mod:`.frames` (one row per paper, setup
      and variant and, for verdicts, per definition).

The synthesis table (:func:`synthesis_table`, ``mcatlas synthesis``), one row per definition
    ``claims_<outcome>``      claims with outcome collapse / no-collapse / mixed (each claim
                              counts once; a paper with two claims on a definition counts twice,
                              because they are two findings, e.g. under two policies)
    ``weighted_<outcome>``    the same, each claim counted with its realism weight (its paper's
                              scores, the policy dimensions taken from the claim's own policy:
                              :func:`metaanalysis.analysis.weighting.claim_weight`);
                              claims of unscored papers (weight None) are left out and counted in
                              ``claims_unweighted``
    ``support``               share of claims that report collapse, a ``mixed`` claim counting
                              one half: (collapse + mixed / 2) / claims; ``weighted_support`` the
                              weighted analogue. Empty (NaN) without claims. ``support_low`` /
                              ``support_high``: its 95% Wilson score interval over the claims
                              (:func:`wilson`), the weighted one over Kish's effective number of
                              claims (sum w)^2 / sum w^2, since unequal weights carry less
                              information than as many equal ones.
    ``<variant>_<verdict>``   number of distinct runs whose verdict on the definition,
                              re-executed as published (realistic, control), is that verdict.
    ``inconclusive_share``    of those runs' verdicts that measure the definition (all but
                              ``not-measured``, every variant), the share that is inconclusive.
    ``<reproduction>``        claims per reproduction status (``reproduced``, ``not_reproduced``,
                              ``reproduction_inconclusive``, ``untested``) and, of the reproduced
                              ones, per status under realistic conditions (``survives``,
                              ``does_not_survive``, ``realistic_inconclusive``); from
                              :func:`metaanalysis.analysis.claims.assess_claims`, the judgement
                              every view shows.
:func:`verdicts_by_policy` breaks the verdicts down by the data policy of the run, which is what
makes the position paper's conclusions (Schaeffer et al., arXiv 2503.03150: population risk does
not diverge when data accumulate; tail loss and scaling-law shifts still matter) checkable rather
than assumed; :func:`conclusion_checks` checks that paper's recorded claims with their counts.

The position paper's claims are checked, not counted
    :func:`synthesis_table` leaves out the claims of Schaeffer et al. (the table is meant to check
    them; letting them vote would be circular). :func:`conclusion_checks` builds the checks from
    that paper's claims in its record (statement, definition, policy, outcome) and compares each
    with the verdicts of all papers' runs with that definition and policy.

numpy and pandas are imported inside the functions that need them (this module is on the CLI's
import path).
"""

from __future__ import annotations

import math
from typing import Any, Iterable, Mapping, Sequence

from simulators.vocabulary import (
    CLAIM_OUTCOMES,
    CONCLUSIVE,
    DEFINITION_FAMILIES,
    DEFINITIONS,
    POLICIES,
    VARIANTS,
    VERDICTS,
)

from .absorption import POSITION_PAPER
from .frames import VERDICT_COLUMNS, _frame, unique_runs


def claim_rows(papers: Iterable[Any], weights: Mapping[Any, float | None]) -> list[dict[str, Any]]:
    """One row per claim: paper, claim id, definition, outcome, policy, model family, weight.

    ``weights``: per claim, keyed ``(paper key, claim id)`` (:func:`metaanalysis.analysis.weighting.claim_weights`,
    the claim's own policy overriding its paper's policy dimensions), or per paper key (the
    paper's weight for every claim); a claim found under neither has no weight."""
    out = []
    for p in papers:
        for c in p.claims:
            w = weights[(p.key, c.id)] if (p.key, c.id) in weights else weights.get(p.key)
            out.append({
                "paper": p.key, "label": p.label, "claim": c.id, "definition": c.definition,
                "outcome": c.outcome, "policy": c.policy, "model_family": c.model_family,
                "weight": w, "statement": c.statement, "where": c.where,
            })
    return out


def _support(collapse: float, mixed: float, total: float) -> float:
    return (collapse + 0.5 * mixed) / total if total > 0 else math.nan


def wilson(share: float, n: float, level: float = 0.95) -> tuple[float, float]:
    """The Wilson score interval of a proportion ``share`` observed over ``n`` (possibly
    fractional: half-counted mixed claims, an effective number of weighted claims); NaNs without
    observations. Wilson's interval keeps its coverage near 0 and 1 and for small n, where the
    Wald interval fails (Brown, Cai & DasGupta 2001, Statistical Science 16:101-133)."""
    from scipy.stats import norm

    if not n > 0 or math.isnan(share):
        return math.nan, math.nan
    z = float(norm.isf((1 - level) / 2))
    centre = (share + z * z / (2 * n)) / (1 + z * z / n)
    half = z / (1 + z * z / n) * math.sqrt(share * (1 - share) / n + z * z / (4 * n * n))
    return max(0.0, centre - half), min(1.0, centre + half)


def synthesis_table(papers: Iterable[Any], weights: Mapping[Any, float | None], verdicts: Any = None,
                    checked: Sequence[str] = (POSITION_PAPER,), assessments: Sequence[Any] | None = None) -> Any:
    """The synthesis table (see the module docstring): one row per definition, in vocabulary
    order. ``verdicts``: a frame with at least columns paper, setup, variant, definition,
    verdict (e.g. ``Evidence.verdicts``), or None; ``assessments``: the claims judged
    (``Evidence.claims``, with the law tests), else judged here from ``verdicts`` alone. The
    claims of the papers in ``checked`` (the position paper) are not counted: they are what the
    table checks, so they must not vote in it; their runs' verdicts still count, since
    re-executed runs are evidence whoever proposed them."""
    import pandas as pd

    from .claims import assess_claims

    papers = list(papers)
    claims = [c for c in claim_rows(papers, weights) if c["paper"] not in set(checked)]
    if assessments is None:
        assessments = assess_claims(papers, verdicts)
    judged = [a for a in assessments if a.paper not in set(checked)]
    v = unique_runs(_frame(verdicts, VERDICT_COLUMNS), per=("definition",), within_variant=True)
    rows = []
    for d in DEFINITIONS:
        mine = [c for c in claims if c["definition"] == d]
        row: dict[str, Any] = {"definition": d, "family": DEFINITION_FAMILIES[d], "claims": len(mine)}
        for o in CLAIM_OUTCOMES:
            row[f"claims_{_col(o)}"] = sum(1 for c in mine if c["outcome"] == o)
        weighted = [c for c in mine if c["weight"] is not None]
        for o in CLAIM_OUTCOMES:
            row[f"weighted_{_col(o)}"] = float(sum(c["weight"] for c in weighted if c["outcome"] == o))
        row["weighted_total"] = float(sum(c["weight"] for c in weighted))
        row["claims_unweighted"] = len(mine) - len(weighted)
        row["support"] = _support(row["claims_collapse"], row["claims_mixed"], len(mine))
        row["support_low"], row["support_high"] = wilson(row["support"], len(mine))
        row["weighted_support"] = _support(row["weighted_collapse"], row["weighted_mixed"], row["weighted_total"])
        sq = float(sum(c["weight"] ** 2 for c in weighted))
        row["weighted_n"] = row["weighted_total"] ** 2 / sq if sq > 0 else 0.0
        row["weighted_support_low"], row["weighted_support_high"] = wilson(row["weighted_support"], row["weighted_n"])
        vd = v[v["definition"] == d]
        for variant in VARIANTS:
            sub = vd[vd["variant"] == variant]
            for verdict in VERDICTS:
                row[f"{variant}_{_col(verdict)}"] = int((sub["verdict"] == verdict).sum())
        measuring = vd[vd["verdict"] != "not-measured"]
        row["inconclusive_share"] = (float((measuring["verdict"] == "inconclusive").mean())
                                     if len(measuring) else math.nan)
        mine_judged = [a for a in judged if a.definition == d]
        for status, col in REPRODUCTION_COLUMNS.items():
            row[col] = sum(1 for a in mine_judged if a.reproduction == status)
        for status, col in REALISTIC_COLUMNS.items():
            row[col] = sum(1 for a in mine_judged if a.under_realistic == status)
        rows.append(row)
    return pd.DataFrame(rows)


#: synthesis columns of the reproduction statuses, and of the statuses under realistic conditions
REPRODUCTION_COLUMNS: dict[str, str] = {"reproduced": "reproduced", "not reproduced": "not_reproduced",
                                        "inconclusive": "reproduction_inconclusive", "untested": "untested"}
REALISTIC_COLUMNS: dict[str, str] = {"survives": "survives", "does not survive": "does_not_survive",
                                     "inconclusive": "realistic_inconclusive"}


def _col(name: str) -> str:
    return name.replace("-", "_")


def verdicts_by_policy(verdicts: Any) -> Any:
    """Counts of setups per (definition, variant, policy, verdict), definitions and policies in
    vocabulary order; only combinations that occur."""
    import pandas as pd

    v = unique_runs(_frame(verdicts, VERDICT_COLUMNS), per=("definition",), within_variant=True)
    if len(v) == 0:
        return pd.DataFrame(columns=["definition", "variant", "policy", *[_col(x) for x in VERDICTS], "conclusive"])
    counts = (
        v.groupby(["definition", "variant", "policy", "verdict"]).size().unstack("verdict", fill_value=0)
        .reindex(columns=list(VERDICTS), fill_value=0).reset_index()
    )
    counts.columns = [_col(c) if c in VERDICTS else c for c in counts.columns]
    counts["conclusive"] = counts["collapse"] + counts["no_collapse"]
    order = {d: i for i, d in enumerate(DEFINITIONS)}
    porder = {p: i for i, p in enumerate(POLICIES)}
    counts = counts.sort_values(
        ["definition", "variant", "policy"],
        key=lambda s: s.map(order) if s.name == "definition" else (s.map(porder) if s.name == "policy" else s),
    )
    return counts.reset_index(drop=True)


#: statuses of a conclusion check, and the thresholds behind them (methodology page)
CHECK_RULES: tuple[tuple[str, str], ...] = (
    ("claims no collapse", "supported: conclusive runs exist and none collapses; partly contradicted: fewer "
                           "than half of the conclusive runs collapse; contradicted: half or more collapse"),
    ("claims collapse", "supported: half or more of the conclusive runs collapse; partly supported: at least "
                        "one but fewer than half collapse; contradicted: none collapses"),
    ("mixed claim", "open: the paper claims no direction (e.g. 'deserves study'), so the counts are shown "
                    "and no status is given"),
    ("claim stating a law", "judged by the test of the law on the claim's own setups (as for every claim: "
                            "reproduced -> supported, not reproduced -> contradicted), not by counting runs"),
    ("any claim", "inconclusive: runs with that definition and policy exist but none is conclusive; "
                  "not-measured: no run measures it"),
)


def check_status(outcome: str, collapse: int, conclusive: int, inconclusive: int = 0) -> str:
    """The status of a claim with ``outcome`` given ``collapse`` of ``conclusive`` runs and
    ``inconclusive`` others (:data:`CHECK_RULES`)."""
    if conclusive == 0:
        return "inconclusive" if inconclusive else "not-measured"
    if outcome == "mixed":
        return "open"
    share = collapse / conclusive
    if outcome == "collapse":
        return "supported" if share >= 0.5 else ("partly supported" if collapse else "contradicted")
    return "supported" if collapse == 0 else ("partly contradicted" if share < 0.5 else "contradicted")


#: the check status of a claim judged by its law (:func:`metaanalysis.analysis.claims.assess_claims`)
LAW_CHECK_STATUS: dict[str, str] = {"reproduced": "supported", "not reproduced": "contradicted",
                                    "inconclusive": "inconclusive", "untested": "not-measured"}


def conclusion_checks(verdicts: Any, papers: Iterable[Any] = (), paper: str = POSITION_PAPER,
                      assessments: Sequence[Any] | None = None) -> list[dict[str, Any]]:
    """The position paper's claims (from its record, ``annotations/papers/KEY.yaml``: statement,
    definition, policy, outcome) checked against the re-executed verdicts.

    For each claim of ``paper`` among ``papers``: the runs of *every* paper's setups (every
    variant) with the claim's definition and run under the claim's policy, each configuration
    counted once (:func:`unique_runs`); ``collapse``, ``conclusive`` (collapse or no-collapse)
    and ``inconclusive`` counts (``share`` = collapse / conclusive) and ``status``
    (:func:`check_status`, :data:`CHECK_RULES`). A claim that states a law is judged by its
    law's test instead (``assessments``, :func:`metaanalysis.analysis.claims.assess_claims`;
    :data:`LAW_CHECK_STATUS`), its counts still shown. Nothing is assumed: with no verdicts
    every check is ``not-measured``; without the paper's record there are no checks. The counts
    are shown beside the status, because a status cannot say *why* runs disagree (look at the
    runs)."""
    v = unique_runs(_frame(verdicts, VERDICT_COLUMNS), per=("definition",))
    judged = {(a.paper, a.claim): a for a in (assessments or [])}
    out = []
    for p in papers:
        if p.key != paper:
            continue
        for c in p.claims:
            sub = v[(v["definition"] == c.definition) & (v["policy"] == c.policy)] if len(v) else v
            verdict = sub["verdict"] if len(sub) else []
            collapse = int((verdict == "collapse").sum()) if len(sub) else 0
            conclusive = int(verdict.isin(CONCLUSIVE).sum()) if len(sub) else 0
            inconclusive = int((verdict == "inconclusive").sum()) if len(sub) else 0
            status = check_status(c.outcome, collapse, conclusive, inconclusive)
            law = getattr(c, "law", None) or ""
            reason = ""
            if law:
                a = judged.get((p.key, c.id))
                status = LAW_CHECK_STATUS[a.reproduction] if a is not None else "not-measured"
                reason = a.reason() if a is not None else "the law's test was not run"
            out.append({"paper": p.key, "claim": c.id, "statement": c.statement, "definition": c.definition,
                        "policy": c.policy, "outcome": c.outcome, "where": c.where, "law": law,
                        "collapse": collapse, "conclusive": conclusive, "inconclusive": inconclusive,
                        "share": collapse / conclusive if conclusive else math.nan, "status": status,
                        "reason": reason,
                        "runs": sorted(set(sub.loc[sub["verdict"].isin(CONCLUSIVE), "shared_by"]))
                        if len(sub) else []})
    return out


__all__ = [
    "CHECK_RULES", "LAW_CHECK_STATUS", "wilson", "POSITION_PAPER", "REALISTIC_COLUMNS", "REPRODUCTION_COLUMNS", "check_status", "claim_rows", "conclusion_checks",
    "synthesis_table", "verdicts_by_policy",
]
