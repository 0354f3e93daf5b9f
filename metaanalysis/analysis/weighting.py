"""Realism weights: from a paper's realism scores (``realism:`` in its record) to one number.

``annotations/realism.yaml`` names the dimensions on which a study's setting is judged against
the realistic conditions of Schaeffer, Kazdan, Arulandu & Koyejo (arXiv 2503.03150): how data
propagate over time, the share of real data kept, the number of model-fitting iterations, the
amount of synthetic data per iteration and the model class. Each dimension has ordered levels,
each with an integer ``score`` (0 = least realistic).

The weight (method ``mean-normalised-score``, the only one implemented)
    weight(paper) = mean over the dimensions the paper is scored on of
                    score(level) / max score of that dimension

so it lies in [0, 1]: 0 when every scored dimension is at its least realistic level, 1 when every
one is at its most realistic level. All dimensions count equally. A dimension the paper is not
scored on is left out of the mean (not counted as zero), so a paper scored on two dimensions has
a weight from those two; :attr:`PaperRealism.scored` says how many dimensions a weight rests on.

Papers with no scores at all
    get weight ``None``: they are *excluded* from realism-weighted counts (never counted with
    weight 0 or 1), and the unweighted counts still include them. Every weighted table reports
    how many claims were left out for that reason.

Claims are weighted by their own policy, not only their paper's
    A paper may make claims under several data policies (Gerstgrasser et al. report replace
    *and* accumulate). Its realism scores describe its setting as a whole, so a replace claim of
    an accumulate paper would inherit a realism it does not have. :func:`claim_weight` therefore
    weights a claim by its paper's levels with the two policy dimensions overridden from the
    claim's own policy (:data:`POLICY_LEVELS`):

    ==========================  ====================  ===============
    claim policy                data-propagation      real-data-kept
    ==========================  ====================  ===============
    replace                     replace               none
    accumulate                  accumulate            all
    accumulate-subsample        accumulate            all
    mix                         mixed                 some
    fresh                       mixed                 some
    ==========================  ====================  ===============

    ``accumulate-subsample`` counts as accumulation with all real data kept: the real data stay
    in the pool every training set is drawn from, even though each set is a fixed-size subsample.
    ``fresh`` (a fresh real share every iteration) keeps *some* real data in fixed-size mixed
    training sets, like ``mix``. The other dimensions (iterations, synthetic volume, model class)
    keep the paper's levels. A paper not scored at all still has no weight.

A level that ``realism.yaml`` does not define, or a weight method this module does not know, is
a :class:`~simulators.errors.UserError` (``mcatlas validate`` reports the former with its line).

Cheap to import (standard library and the record models only); pandas is imported inside
:func:`realism_frame`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Iterable, Mapping

from metaanalysis.annotations.records import Paper, RealismFile
from simulators.errors import UserError

#: the weight methods this module implements (``weight.method`` in realism.yaml)
WEIGHT_METHODS: tuple[str, ...] = ("mean-normalised-score",)

#: claim policy -> levels of the policy dimensions of realism.yaml that the claim's own policy
#: implies (see the module docstring); keys are exactly simulators.vocabulary.POLICIES
POLICY_LEVELS: dict[str, dict[str, str]] = {
    "replace": {"data-propagation": "replace", "real-data-kept": "none"},
    "accumulate": {"data-propagation": "accumulate", "real-data-kept": "all"},
    "accumulate-subsample": {"data-propagation": "accumulate", "real-data-kept": "all"},
    "mix": {"data-propagation": "mixed", "real-data-kept": "some"},
    "fresh": {"data-propagation": "mixed", "real-data-kept": "some"},
}


@dataclass(frozen=True)
class PaperRealism:
    """One paper's realism: level and score per scored dimension, and the weight."""

    key: str
    label: str
    year: int
    levels: dict[str, str] = field(default_factory=dict)  # dimension id -> level id
    scores: dict[str, int] = field(default_factory=dict)  # dimension id -> score
    normalised: dict[str, float] = field(default_factory=dict)  # dimension id -> score / max
    why: dict[str, str] = field(default_factory=dict)
    weight: float | None = None

    @property
    def scored(self) -> int:
        """How many dimensions the weight rests on."""
        return len(self.scores)


def max_scores(realism: RealismFile) -> dict[str, int]:
    """Dimension id -> the highest score of its levels."""
    return {d.id: max(lv.score for lv in d.levels) for d in realism.dimensions}


def _check_method(realism: RealismFile) -> None:
    if realism.weight.method not in WEIGHT_METHODS:
        raise UserError(
            f"realism.yaml: weight.method: unknown method {realism.weight.method!r}; "
            f"implemented: {', '.join(WEIGHT_METHODS)}"
        )


def weight_of_scores(scores: Mapping[str, int], maxima: Mapping[str, int]) -> float | None:
    """The ``mean-normalised-score`` weight of ``scores`` (dimension -> score); None if empty.

    A dimension whose maximum score is 0 (one level only, which validation forbids) would carry
    no information; it is skipped rather than divided by zero.
    """
    parts = [scores[d] / maxima[d] for d in scores if maxima.get(d)]
    if not parts:
        return None
    return sum(parts) / len(parts)


def paper_realism(paper: Paper, realism: RealismFile) -> PaperRealism:
    """Levels, scores and weight of one validated paper record."""
    _check_method(realism)
    table = realism.levels()
    maxima = max_scores(realism)
    levels: dict[str, str] = {}
    scores: dict[str, int] = {}
    why: dict[str, str] = {}
    for dim in table:  # realism.yaml order
        entry = paper.realism.get(dim)
        if entry is None:
            continue
        if entry.level not in table[dim]:
            raise UserError(
                f"{paper.key}: realism.{dim}.level: unknown level {entry.level!r}; "
                f"valid: {', '.join(table[dim])}"
            )
        levels[dim] = entry.level
        scores[dim] = table[dim][entry.level]
        why[dim] = entry.why
    unknown = sorted(set(paper.realism) - set(table))
    if unknown:
        raise UserError(f"{paper.key}: realism: unknown dimension(s) {', '.join(unknown)}; valid: {', '.join(table)}")
    normalised = {d: scores[d] / maxima[d] for d in scores if maxima[d]}
    return PaperRealism(
        key=paper.key, label=paper.label, year=paper.year, levels=levels, scores=scores,
        normalised=normalised, why=why, weight=weight_of_scores(scores, maxima),
    )


def realism_of(papers: Iterable[Paper], realism: RealismFile) -> list[PaperRealism]:
    """:func:`paper_realism` for each paper, in matrix order."""
    return [paper_realism(p, realism) for p in sorted(papers, key=lambda p: p.sort_key())]


def weights(papers: Iterable[Paper], realism: RealismFile) -> dict[str, float | None]:
    """Paper key -> realism weight (None: no scores, excluded from weighted counts)."""
    return {r.key: r.weight for r in realism_of(papers, realism)}


def claim_weight(paper: Paper, policy: str | None, realism: RealismFile) -> float | None:
    """The realism weight of one claim of ``paper`` made under ``policy``: the paper's scores with
    the policy dimensions replaced by :data:`POLICY_LEVELS` [policy] (dimensions realism.yaml does
    not have, or levels it does not define, are left as the paper has them). None when the paper
    is not scored at all (such claims stay out of weighted counts)."""
    r = paper_realism(paper, realism)
    if r.weight is None:
        return None
    table = realism.levels()
    scores = dict(r.scores)
    for dim, level in POLICY_LEVELS.get(policy or "", {}).items():
        if dim in table and level in table[dim]:
            scores[dim] = table[dim][level]
    return weight_of_scores(scores, max_scores(realism))


def claim_weights(papers: Iterable[Paper], realism: RealismFile) -> dict[tuple[str, str], float | None]:
    """(paper key, claim id) -> :func:`claim_weight` of that claim."""
    return {(p.key, c.id): claim_weight(p, c.policy, realism) for p in papers for c in p.claims}


def realism_records(papers: Iterable[Paper], realism: RealismFile) -> list[dict[str, Any]]:
    """Flat rows for CSV/JSON: key, label, year, per dimension its level and score, the number of
    scored dimensions and the weight (``None`` when unscored)."""
    dims = [d.id for d in realism.dimensions]
    out = []
    for r in realism_of(papers, realism):
        row: dict[str, Any] = {"key": r.key, "label": r.label, "year": r.year}
        for d in dims:
            row[d] = r.levels.get(d, "")
            row[f"{d}:score"] = r.scores.get(d)
        row["scored"] = r.scored
        row["weight"] = None if r.weight is None else round(r.weight, 6)
        out.append(row)
    return out


def realism_frame(papers: Iterable[Paper], realism: RealismFile) -> Any:
    """Tidy pandas frame for charts: one row per (paper, dimension) with level, score,
    normalised score, max score, why, and the paper's weight (NaN when unscored). Unscored
    dimensions of a scored paper are absent (not zero)."""
    import pandas as pd

    maxima = max_scores(realism)
    names = {d.id: d.name for d in realism.dimensions}
    rows = []
    for order, r in enumerate(realism_of(papers, realism)):
        for d, level in r.levels.items():
            rows.append({
                "order": order, "key": r.key, "paper": r.label, "year": r.year,
                "dimension": d, "dimension_name": names[d], "level": level,
                "score": r.scores[d], "max_score": maxima[d], "normalised": r.normalised.get(d, float("nan")),
                "why": r.why[d], "weight": float("nan") if r.weight is None else r.weight,
                "scored": r.scored,
            })
    columns = ["order", "key", "paper", "year", "dimension", "dimension_name", "level", "score",
               "max_score", "normalised", "why", "weight", "scored"]
    return pd.DataFrame(rows, columns=columns)


__all__ = [
    "PaperRealism",
    "POLICY_LEVELS",
    "WEIGHT_METHODS",
    "claim_weight",
    "claim_weights",
    "max_scores",
    "paper_realism",
    "realism_frame",
    "realism_of",
    "realism_records",
    "weight_of_scores",
    "weights",
]
