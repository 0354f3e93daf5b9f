"""Claims against the re-executed evidence: one combiner, reproduction first, then realism.

Every view that judges evidence (``mcatlas show``, ``matrix --evidence``, ``synthesis``, the
charts and the atlas) calls the two functions of this module, so that they cannot disagree:

:func:`combine_verdicts`
    Several setups' verdicts on one definition -> one: conclusive verdicts (``collapse``,
    ``no-collapse``) that agree give that verdict, and win over ``inconclusive`` ones (a setup
    that settles the question is evidence; one that does not is not evidence the other way);
    conclusive verdicts that disagree give ``mixed``; no conclusive one but an ``inconclusive``
    gives ``inconclusive``; only ``not-measured`` gives ``not-measured``; none gives ``""``.

:func:`assess_claims`
    Each claim, against the setups that reproduce it (``reproduces``), answered twice:

    *Reproduction* (the published reruns, :data:`REPRODUCTION`): ``reproduced`` when their
    combined verdict on the claim's definition is the claimed outcome, ``not reproduced`` when it
    is the opposite one, ``inconclusive`` when it is inconclusive or the setups disagree
    (``mixed``), ``untested`` when no setup reproduces the claim, none has a current run, or the
    stand-ins do not measure the definition. A ``mixed`` claim (collapse under some conditions,
    not under others) is reproduced when its setups disagree in the same way.

    *Under realistic conditions* (:data:`REALISTIC`), only for a reproduced claim: ``survives``
    when the realistic reruns keep the claimed outcome, ``does not survive`` when they
    conclusively give the other one, ``inconclusive`` otherwise (``untested`` without a realistic
    run). For a claim its published rerun does not reproduce, the realistic rerun says nothing
    about the paper: ``not applicable``.

    *Attribution*: a claim that does not survive is attributed by the control rerun (the
    published policy at the realistic horizon, :mod:`metaanalysis.evidence.planning`): if the
    control keeps the claimed outcome, the realistic *policy* made the difference; if the
    control loses it too, the *shorter horizon* did; otherwise it is ``unclear``.

    *Contradictions*: a claim is contradicted only when its published rerun conclusively
    disagrees (``not reproduced``), and the wording follows the fidelity of the setups that
    disagree: a ``same-model`` setup contradicts the claim; ``toy-stand-in`` setups only show
    that the stand-in does not reproduce the paper's result, a finding about the stand-in
    (:data:`CONTRADICTIONS`).

    *Laws*: a claim that states a specific law (``law:``, :data:`simulators.vocabulary.LAWS`) is
    judged by the test of that law on the same runs (:mod:`metaanalysis.analysis.laws`), not by
    counting collapse verdicts: ``holds`` reproduces (survives), ``does not hold`` does not.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Iterable, Mapping, Sequence

from simulators.vocabulary import CONCLUSIVE

if TYPE_CHECKING:
    import pandas as pd

#: what a combined verdict can be (``""``: no run at all)
COMBINED: tuple[str, ...] = ("collapse", "no-collapse", "mixed", "inconclusive", "not-measured")

#: the reproduction status of a claim (its setups as published)
REPRODUCTION: tuple[str, ...] = ("reproduced", "not reproduced", "inconclusive", "untested")

#: the status of a claim under realistic conditions
REALISTIC: tuple[str, ...] = ("survives", "does not survive", "inconclusive", "not applicable", "untested")

#: what a claim that does not survive is attributed to
ATTRIBUTIONS: tuple[str, ...] = ("the realistic policy", "the shorter horizon", "unclear")

#: how a claim that is not reproduced is listed: by the fidelity of the setups that disagree
CONTRADICTIONS: dict[str, str] = {
    "same-model": "contradicted",
    "toy-stand-in": "stand-in misses",
}


def combine_verdicts(values: Iterable[str]) -> str:
    """One verdict from several setups' verdicts on one definition (the module docstring)."""
    seen = set(values)
    if not seen:
        return ""
    conclusive = seen & set(CONCLUSIVE)
    if len(conclusive) == 1:
        return conclusive.pop()
    if conclusive:
        return "mixed"
    return "inconclusive" if "inconclusive" in seen else "not-measured"


def _opposite(outcome: str) -> str:
    return "no-collapse" if outcome == "collapse" else "collapse"


def _agreement(outcome: str, combined: str) -> str:
    """``agrees``, ``disagrees``, ``inconclusive`` or ``untested``: a combined verdict against a
    claimed outcome."""
    if combined in ("", "not-measured"):
        return "untested"
    if outcome == "mixed":
        if combined == "mixed":
            return "agrees"
        return "inconclusive"
    if combined == outcome:
        return "agrees"
    if combined == _opposite(outcome):
        return "disagrees"
    return "inconclusive"  # inconclusive, or mixed: the setups disagree among themselves


def _law_agreement(answer: str) -> str:
    return {"holds": "agrees", "does not hold": "disagrees", "inconclusive": "inconclusive"}.get(answer, "untested")


_REPRODUCTION = {"agrees": "reproduced", "disagrees": "not reproduced", "inconclusive": "inconclusive",
                 "untested": "untested"}
_REALISTIC = {"agrees": "survives", "disagrees": "does not survive", "inconclusive": "inconclusive",
              "untested": "untested"}


@dataclass(frozen=True)
class ClaimAssessment:
    """One claim judged against its setups' reruns (the module docstring)."""

    paper: str
    claim: str
    statement: str
    definition: str
    outcome: str
    policy: str
    setups: tuple[str, ...]
    #: combined verdicts of the claim's setups on its definition, per variant ("" no run)
    published: str
    realistic: str
    control: str
    reproduction: str
    under_realistic: str
    #: for a claim that does not survive: :data:`ATTRIBUTIONS`; else ""
    attribution: str
    #: for a claim that is not reproduced: a value of :data:`CONTRADICTIONS`; else ""
    contradiction: str
    #: the setups whose published verdict conclusively disagrees (or, for a law, all of them)
    disagreeing: tuple[str, ...]
    #: the law the claim states, and its test's summary per variant ("" without one)
    law: str = ""
    law_published: str = ""
    law_realistic: str = ""

    @property
    def contradicted(self) -> bool:
        return self.contradiction == CONTRADICTIONS["same-model"]

    def reason(self) -> str:
        """One line: what the reruns gave and what follows."""
        if not self.setups:
            return "no setup reproduces this claim"
        if self.law:
            parts = [f"law {self.law} as published: {self.law_published or 'not tested'}"]
            if self.reproduction == "reproduced":
                parts.append(f"realistic: {self.law_realistic or 'not tested'}")
            return "; ".join(parts)
        if not self.published:
            return "no current run of its setups (mcatlas rerun)"
        parts = [f"as published: {self.published}"]
        if self.reproduction == "reproduced":
            parts.append(f"realistic: {self.realistic or 'not run'}")
            if self.under_realistic == "does not survive":
                parts.append(f"control (published policy, realistic horizon): {self.control or 'not run'}"
                             f" -> lost to {self.attribution}")
        elif self.realistic:
            parts.append("the realistic rerun says nothing about the paper (not reproduced as published)")
        return "; ".join(parts)

    def as_dict(self) -> dict[str, Any]:
        return {
            "paper": self.paper, "claim": self.claim, "statement": self.statement,
            "definition": self.definition, "outcome": self.outcome, "policy": self.policy,
            "setups": list(self.setups), "published": self.published, "realistic": self.realistic,
            "control": self.control, "reproduction": self.reproduction,
            "under_realistic": self.under_realistic, "attribution": self.attribution,
            "contradiction": self.contradiction, "disagreeing": list(self.disagreeing),
            "law": self.law, "law_published": self.law_published, "law_realistic": self.law_realistic,
            "reason": self.reason(),
        }


#: columns of :func:`claims_frame`
ASSESSMENT_COLUMNS: tuple[str, ...] = tuple(ClaimAssessment.__dataclass_fields__) + ("reason",)


def _base(setup: str) -> str:
    from metaanalysis.evidence.planning import split_setup_name

    return split_setup_name(setup)[0]


def assess_claims(
    papers: Sequence[Any],
    verdicts: "pd.DataFrame",
    laws: Mapping[tuple[str, str, str], Mapping[str, Any]] | None = None,
) -> list[ClaimAssessment]:
    """Every claim of ``papers`` judged against ``verdicts`` (rows of
    :func:`metaanalysis.evidence.read.verdicts` for current links: paper, setup, variant,
    definition, verdict) and ``laws`` (``{(paper, claim, variant): {"answer", "summary"}}`` of
    :func:`metaanalysis.analysis.laws.law_results`), in paper and claim order."""
    laws = laws or {}
    by: dict[tuple[str, str, str, str], list[str]] = {}
    if verdicts is not None and len(verdicts):
        for p, s, v, d, x in zip(verdicts["paper"], verdicts["setup"], verdicts["variant"],
                                 verdicts["definition"], verdicts["verdict"]):
            by.setdefault((p, _base(s), v, d), []).append(x)
    out = []
    for paper in papers:
        for c in paper.claims:
            setups = tuple(s.name for s in paper.setups if c.id in s.reproduces)
            fidelity = {s.name: s.fidelity for s in paper.setups}

            def combined(variant: str, names: Iterable[str] = setups, key: str = paper.key,
                         definition: str = c.definition) -> str:
                return combine_verdicts(x for s in names for x in by.get((key, s, variant, definition), []))

            pub, real, ctrl = combined("published"), combined("realistic"), combined("control")
            law = getattr(c, "law", None) or ""
            law_pub = laws.get((paper.key, c.id, "published"), {})
            law_real = laws.get((paper.key, c.id, "realistic"), {})
            if law:
                first = _law_agreement(law_pub.get("answer", "")) if setups else "untested"
                second = _law_agreement(law_real.get("answer", ""))
                disagreeing = setups if first == "disagrees" else ()
            else:
                first = _agreement(c.outcome, pub) if setups else "untested"
                second = _agreement(c.outcome, real)
                disagreeing = tuple(s for s in setups if first == "disagrees"
                                    and combined("published", (s,)) == _opposite(c.outcome))
            reproduction = _REPRODUCTION[first]
            if reproduction == "reproduced":
                under = _REALISTIC[second]
            else:
                under = "not applicable" if reproduction != "untested" else "untested"
            attribution = ""
            if under == "does not survive":
                control = _agreement(c.outcome, ctrl)
                attribution = {"agrees": ATTRIBUTIONS[0], "disagrees": ATTRIBUTIONS[1]}.get(control, ATTRIBUTIONS[2])
            contradiction = ""
            if reproduction == "not reproduced":
                same = any(fidelity.get(s) == "same-model" for s in disagreeing)
                contradiction = CONTRADICTIONS["same-model" if same else "toy-stand-in"]
            out.append(ClaimAssessment(
                paper=paper.key, claim=c.id, statement=c.statement, definition=c.definition,
                outcome=c.outcome, policy=c.policy, setups=setups, published=pub, realistic=real,
                control=ctrl, reproduction=reproduction, under_realistic=under, attribution=attribution,
                contradiction=contradiction, disagreeing=disagreeing, law=law,
                law_published=law_pub.get("summary", ""), law_realistic=law_real.get("summary", ""),
            ))
    return out


def claims_frame(assessments: Iterable[ClaimAssessment]) -> "pd.DataFrame":
    """The assessments as a tidy frame (columns :data:`ASSESSMENT_COLUMNS`)."""
    import pandas as pd

    return pd.DataFrame([a.as_dict() for a in assessments], columns=list(ASSESSMENT_COLUMNS))


__all__ = [
    "ASSESSMENT_COLUMNS", "ATTRIBUTIONS", "COMBINED", "CONTRADICTIONS", "ClaimAssessment", "REALISTIC",
    "REPRODUCTION", "assess_claims", "claims_frame", "combine_verdicts",
]
