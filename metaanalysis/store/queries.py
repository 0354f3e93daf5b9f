"""Queries on the index: filtered paper lists, one paper, closest keys.

All functions take an engine whose annotation tables are current (see
:func:`metaanalysis.store.index.open_index`) and return validated-record objects.
"""

from __future__ import annotations

import difflib
from typing import Any

from metaanalysis.annotations.records import Paper
from simulators.errors import UserError


def find_papers(
    eng: Any,
    *,
    definition: str | None = None,
    usage: str | None = None,
    explicit: str | None = None,
    year: int | None = None,
    policy: str | None = None,
) -> list[Paper]:
    """Papers matching every given filter, in matrix order.

    ``usage`` alone selects papers that use *some* definition that way; with ``definition``,
    papers that use that definition that way.
    """
    from sqlmodel import Session, select

    from .index import read_papers
    from .tables import DefinitionUsageRow, PaperPolicyRow, PaperRow

    q = select(PaperRow.key)
    if definition is not None or usage is not None:
        q = q.join(DefinitionUsageRow, DefinitionUsageRow.paper_key == PaperRow.key)
        if definition is not None:
            q = q.where(DefinitionUsageRow.definition == definition)
        if usage is not None:
            q = q.where(DefinitionUsageRow.usage == usage)
    if policy is not None:
        q = q.join(PaperPolicyRow, PaperPolicyRow.paper_key == PaperRow.key).where(PaperPolicyRow.policy == policy)
    if explicit is not None:
        q = q.where(PaperRow.explicit_definition == explicit)
    if year is not None:
        q = q.where(PaperRow.year == year)
    with Session(eng) as s:
        keys = sorted(set(s.exec(q).all()))
    return read_papers(eng, keys) if keys else []


def get_paper(eng: Any, key: str) -> Paper:
    """One paper; an unknown key is a :class:`UserError` naming the closest keys."""
    from sqlmodel import Session, select

    from .index import read_papers
    from .tables import PaperRow

    found = read_papers(eng, [key])
    if found:
        return found[0]
    with Session(eng) as s:
        keys = list(s.exec(select(PaperRow.key)).all())
    close = difflib.get_close_matches(key, keys, n=3, cutoff=0.5)
    hint = f"; closest: {', '.join(close)}" if close else ""
    raise UserError(f"unknown paper key {key!r}{hint} ({len(keys)} papers; `mcatlas papers` lists them)")
