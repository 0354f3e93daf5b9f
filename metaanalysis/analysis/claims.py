"""Claims against the re-executed evidence."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from sqlalchemy.engine import Engine

if TYPE_CHECKING:
    import pandas as pd

@dataclass(frozen=True)
class Contradiction:
    """A claim whose outcome a setup reproducing it contradicts (as published)."""

    paper: str
    claim: str
    definition: str
    claimed: str
    setup: str
    verdict: str
    config_hash: str

    def text(self) -> str:
        return (f"{self.claim}: claims {self.definition} -> {self.claimed}; setup {self.setup} "
                f"(as published) gives {self.verdict}")


def contradicted_claims(eng: Engine, paper: Any, frame: "pd.DataFrame | None" = None) -> list[Contradiction]:
    """Claims of ``paper`` (a :class:`~metaanalysis.annotations.records.Paper`) that the rerun contradicts.

    Rule: for each claim with outcome ``collapse`` or ``no-collapse``, and each setup of the paper
    that lists the claim in ``reproduces`` and has a current stored *published* run (stale links
    are not evidence, :func:`link_states`), the run's verdict on
    the claim's definition is compared with the outcome: the opposite measured verdict is a
    contradiction. ``not-measured`` contradicts nothing; a ``mixed`` claim (the paper reports
    collapse under some conditions and not others) is not contradicted by one run either.
    """
    from metaanalysis.evidence.read import verdicts

    frame = verdicts(eng, paper.key) if frame is None else frame
    if frame.empty:
        return []
    published = frame[frame["variant"] == "published"]
    lookup = {(r.setup, r.definition): (r.verdict, r.config_hash) for r in published.itertuples(index=False)}
    out = []
    for claim in paper.claims:
        if claim.outcome not in ("collapse", "no-collapse"):
            continue
        opposite = "no-collapse" if claim.outcome == "collapse" else "collapse"
        for setup in paper.setups:
            if claim.id not in setup.reproduces:
                continue
            found = lookup.get((setup.name, claim.definition))
            if found is not None and found[0] == opposite:
                out.append(Contradiction(paper.key, claim.id, claim.definition, claim.outcome,
                                         setup.name, found[0], found[1]))
    return out


__all__ = ["Contradiction", "contradicted_claims"]
