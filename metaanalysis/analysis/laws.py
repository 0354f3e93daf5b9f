"""Claims that state a law, judged by the test of that law on their setups' runs.

A claim with ``law:`` (:data:`simulators.vocabulary.LAWS`) says more than "collapse happens": it
says how. Counting the collapse verdicts of its runs would call the position paper's Figure 4
claim (time to collapse grows in proportion to n x H0) supported whenever the runs collapse,
whether or not the proportionality holds. :func:`law_results` runs each law's test on the
current runs of the claim's setups instead, per variant; :mod:`metaanalysis.analysis.claims`
reads its answer (``holds`` reproduces the claim, ``does not hold`` does not; ``inconclusive`` or
``not-tested`` is no answer).

The laws and their tests
    ``absorption-time-n-h0``  :func:`metaanalysis.analysis.absorption.figure4_test`, its
                              ``proportional`` answer (log T regressed on log n and log H0,
                              both exponents' 95% intervals containing 1), with the whole test's
                              summary as the reason.
"""

from __future__ import annotations

from typing import Any, Sequence

#: the variants a law is tested on (the control answers no claim by itself)
LAW_VARIANTS: tuple[str, ...] = ("published", "realistic")


def _absorption_n_h0(eng: Any, paper: str, setups: Sequence[str], variant: str) -> dict[str, Any]:
    from .absorption import stored_absorption

    try:
        table, test = stored_absorption(eng, paper, variant, setups)
    except ValueError as exc:  # a run without support_size rows: nothing to test the law on
        return {"answer": "not-tested", "summary": str(exc)}
    if len(table) == 0:
        return {"answer": "not-tested", "summary": "no current run of the claim's setups"}
    return {"answer": test["proportional"]["answer"], "summary": test["summary"]}


#: law id -> its test on stored runs: ``test(eng, paper, setups, variant) -> {"answer", "summary"}``
LAW_TESTS = {"absorption-time-n-h0": _absorption_n_h0}


def law_results(eng: Any, papers: Sequence[Any]) -> dict[tuple[str, str, str], dict[str, Any]]:
    """``{(paper, claim, variant): {"answer", "summary"}}`` for every claim with a law, on the
    current runs of the setups that reproduce it (empty without a store)."""
    from metaanalysis.evidence.tables import has_evidence

    out: dict[tuple[str, str, str], dict[str, Any]] = {}
    if eng is None or not has_evidence(eng):
        return out
    for paper in papers:
        for c in paper.claims:
            law = getattr(c, "law", None)
            if not law:
                continue
            setups = [s.name for s in paper.setups if c.id in s.reproduces]
            for variant in LAW_VARIANTS:
                out[(paper.key, c.id, variant)] = LAW_TESTS[law](eng, paper.key, setups, variant)
    return out


__all__ = ["LAW_TESTS", "LAW_VARIANTS", "law_results"]
