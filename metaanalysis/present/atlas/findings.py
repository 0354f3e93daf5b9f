"""The key findings the atlas's index opens with: three or four sentences, each with its numbers
and a link to the evidence behind them, computed from the judgement every view shows (the
:class:`metaanalysis.analysis.claims.ClaimAssessment` objects) and the synthesis table. Nothing
here judges a claim or combines verdicts again: it only counts what those give.

The findings, in order (each left out when there is nothing to say):

1. *reproduction*: of the claims whose setups were rerun, how many are reproduced as published,
   and how many of those survive realistic conditions, per family of definitions (the
   synthesis table's counts; the position paper's own claims are checked, not counted);
2. *contradictions*: how many claims are contradicted by reruns of the paper's own model, and
   how many are only missed by toy stand-ins (every claim);
3. *inconclusive evidence*: the share of the re-executed verdicts that measure a definition and
   are inconclusive (the synthesis table's run counts), and the claims left inconclusive;
4. *attribution*: of the reproduced claims that do not survive, how many lost to the realistic
   policy and how many to the shorter horizon (the control rerun).

Without any evidence the index says so and gives two findings of the annotations instead (the
most used definition, and how many papers study replacement).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Sequence

from simulators.vocabulary import FAMILIES, VARIANTS

from .html import esc


@dataclass(frozen=True)
class Finding:
    """One key finding: a sentence (HTML, numbers in ``<strong>``), a link to its evidence, and
    the link's text."""

    name: str
    html: str
    href: str
    link: str

    def item(self) -> str:
        return f'<li id="finding-{self.name}">{self.html} <a href="{esc(self.href)}">{esc(self.link)}</a></li>'


def _n(x: int | float, unit: str = "") -> str:
    return f"<strong>{x}</strong>" + (f" {unit}" if unit else "")


def _sum(rows: Sequence[dict[str, Any]], column: str) -> int:
    return int(sum(int(r[column]) for r in rows))


def reproduction_finding(synthesis: Any) -> Finding | None:
    rows = synthesis.to_dict(orient="records")
    tested = _sum(rows, "claims") - _sum(rows, "untested")
    if tested <= 0:
        return None
    reproduced, survives = _sum(rows, "reproduced"), _sum(rows, "survives")
    per_family = []
    for family in FAMILIES:
        mine = [r for r in rows if r["family"] == family]
        rep = _sum(mine, "reproduced")
        if rep:
            per_family.append(f"{esc(family)}: {_n(_sum(mine, 'survives'))} of {rep}")
    text = (f"Of the {_n(tested)} claims whose setups were rerun, {_n(reproduced)} are reproduced as published, and "
            f"{_n(survives)} of those survive realistic conditions")
    text += f" ({'; '.join(per_family)})." if per_family else "."
    return Finding("reproduction", text, "#synthesis", "Synthesis per definition")


def contradiction_finding(assessments: Sequence[Any]) -> Finding | None:
    judged = [a for a in assessments if a.reproduction != "untested"]
    if not judged:
        return None
    contradicted = sum(1 for a in assessments if a.contradicted)
    stand_in = sum(1 for a in assessments if a.contradiction and not a.contradicted)
    text = (f"{_n(contradicted)} claim(s) are contradicted by reruns of the paper's own model; {_n(stand_in)} more "
            "are missed only by toy stand-ins, a finding about the stand-in rather than the paper.")
    return Finding("contradictions", text, "#contradicted", "Contradicted claims and stand-ins")


def inconclusive_finding(synthesis: Any, assessments: Sequence[Any]) -> Finding | None:
    rows = synthesis.to_dict(orient="records")
    inconclusive = sum(_sum(rows, f"{v}_inconclusive") for v in VARIANTS)
    measuring = inconclusive + sum(_sum(rows, f"{v}_{k}") for v in VARIANTS for k in ("collapse", "no_collapse"))
    if measuring == 0:
        return None
    open_claims = sum(1 for a in assessments if a.reproduction == "inconclusive")
    share = 100 * inconclusive / measuring
    text = (f"{_n(f'{share:.0f}%')} of the {_n(measuring)} re-executed verdicts that measure a definition are "
            f"inconclusive (too few seeds or iterations to tell), and {_n(open_claims)} claim(s) stay inconclusive "
            "as published; they count neither for nor against their papers.")
    return Finding("inconclusive", text, "methodology.html#verdicts", "What inconclusive means")


def attribution_finding(assessments: Sequence[Any]) -> Finding | None:
    lost = [a for a in assessments if a.under_realistic == "does not survive"]
    if not lost:
        return None
    policy = sum(1 for a in lost if a.attribution == "the realistic policy")
    horizon = sum(1 for a in lost if a.attribution == "the shorter horizon")
    text = (f"Of the {_n(len(lost))} reproduced claim(s) that do not survive realistic conditions, {_n(policy)} lost "
            f"to the realistic data policy and {_n(horizon)} to the shorter horizon (the control rerun tells them "
            f"apart; {_n(len(lost) - policy - horizon)} unclear).")
    return Finding("attribution", text, "#claims-lost", "Claims that do not survive")


def annotation_findings(papers: Sequence[Any]) -> list[Finding]:
    """What the annotations alone say (used when nothing has been re-executed)."""
    out = []
    users: dict[str, int] = {}
    for p in papers:
        for d in p.definitions:
            users[d] = users.get(d, 0) + 1
    if users:
        top = max(users, key=lambda d: (users[d], d))
        out.append(Finding("usage", f"The most used definition of collapse is {esc(top)}, used by {_n(users[top])} of "
                                    f"{_n(len(papers))} papers.", "#definitions-usage", "Definitions used"))
    replace = sum(1 for p in papers if "replace" in p.data_policies)
    recorded = sum(1 for p in papers if p.data_policies)
    if recorded:
        out.append(Finding("replace", f"{_n(replace)} of the {_n(recorded)} papers with a recorded data policy study "
                                      "replacement, where each model trains only on the last one's samples.",
                           "#policies-year", "Data policies by year"))
    return out


def key_findings(synthesis: Any, assessments: Sequence[Any], papers: Sequence[Any]) -> list[Finding]:
    """The index's key findings (the module docstring), in order."""
    found = [reproduction_finding(synthesis), contradiction_finding(assessments),
             inconclusive_finding(synthesis, assessments), attribution_finding(assessments)]
    out = [f for f in found if f is not None]
    return out or annotation_findings(papers)


__all__ = ["Finding", "annotation_findings", "attribution_finding", "contradiction_finding", "inconclusive_finding",
           "key_findings", "reproduction_finding"]
