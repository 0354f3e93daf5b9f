"""Free-text search over paper records (``mcatlas papers --search TEXT``).

A paper matches when TEXT occurs, ignoring case and runs of whitespace, in its title, one of its
authors, its notes, or one of its claims (the claim's id or statement). :func:`matched_fields`
says where, so a listing can show why a paper was found: ``title``, ``authors``, ``notes`` or
``claim ID``.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any


def _norm(text: str) -> str:
    return " ".join(text.casefold().split())


def matched_fields(paper: Any, text: str) -> list[str]:
    """Where ``text`` occurs in ``paper`` (title, authors, notes, ``claim ID``), in that order;
    empty when it does not."""
    needle = _norm(text)
    if not needle:
        return []
    out = []
    if needle in _norm(paper.title):
        out.append("title")
    if any(needle in _norm(a) for a in paper.authors):
        out.append("authors")
    if paper.notes and needle in _norm(paper.notes):
        out.append("notes")
    for claim in paper.claims:
        if needle in _norm(claim.id) or needle in _norm(claim.statement):
            out.append(f"claim {claim.id}")
    return out


def search_papers(papers: Iterable[Any], text: str) -> list[tuple[Any, list[str]]]:
    """The papers in which ``text`` occurs, in the given order, each with :func:`matched_fields`."""
    found = []
    for paper in papers:
        fields = matched_fields(paper, text)
        if fields:
            found.append((paper, fields))
    return found


__all__ = ["matched_fields", "search_papers"]
