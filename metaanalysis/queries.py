"""Queries on the index: filtered paper lists, one paper in full, closest keys.

All functions take an engine whose annotation tables are current (see
:func:`metaanalysis.store.open_index`) and return validated-record objects.
"""

from __future__ import annotations

import difflib
from typing import Any

from simulators.errors import UserError

from .records import Paper


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

    from .store import read_papers
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

    from .store import read_papers
    from .tables import PaperRow

    found = read_papers(eng, [key])
    if found:
        return found[0]
    with Session(eng) as s:
        keys = list(s.exec(select(PaperRow.key)).all())
    close = difflib.get_close_matches(key, keys, n=3, cutoff=0.5)
    hint = f"; closest: {', '.join(close)}" if close else ""
    raise UserError(f"unknown paper key {key!r}{hint} ({len(keys)} papers; `mcatlas papers` lists them)")


def paper_text(paper: Paper, file: str | None = None) -> str:
    """One paper in full, as readable text (identification, definitions, policies, claims,
    setups, realism)."""
    from simulators.vocabulary import DEFINITIONS

    lines = [f"{paper.key}: {paper.title}"]
    lines.append(f"  authors: {', '.join(paper.authors)}")
    date = f"{paper.year}" + (f"-{paper.month:02d}" if paper.month else "")
    lines.append(f"  date: {date}")
    for name in ("venue", "arxiv", "doi", "url", "label", "figure_order", "source", "identification_note", "notes"):
        value = getattr(paper, name)
        if value is not None:
            lines.append(f"  {name}: {value}")
    if file:
        lines.append(f"  file: {file}")
    lines.append(f"  explicit definition: {paper.explicit_definition}")
    lines.append("definitions:" + ("" if paper.definitions else " none"))
    for d in DEFINITIONS:
        if d in paper.definitions:
            lines.append(f"  {d}: {paper.definitions[d]}")
    lines.append("data policies: " + (", ".join(paper.data_policies) or "not recorded"))
    if paper.claims:
        lines.append("claims:")
        for c in paper.claims:
            lines.append(f"  {c.id}: {c.statement}")
            lines.append(f"    {c.definition} -> {c.outcome} under {c.policy} ({c.model_family}; {c.where})")
    if paper.setups:
        lines.append("setups:")
        for s in paper.setups:
            params = ", ".join(f"{k}={v}" for k, v in s.params.items()) or "defaults"
            policy = s.policy + (f" (real_fraction {s.real_fraction})" if s.real_fraction is not None else "")
            lines.append(f"  {s.name}: {s.simulator}({params}), {policy}, {s.seeds} seeds x {s.iterations} iterations")
            lines.append(f"    reproduces: {', '.join(s.reproduces) or '-'}; fidelity: {s.fidelity}; {s.note}")
            if s.realistic is not None:
                over = s.realistic.model_dump(exclude_none=True)
                if not over.get("params"):
                    over.pop("params", None)
                lines.append("    realistic: " + ", ".join(f"{k}={v}" for k, v in over.items()))
    if paper.realism:
        lines.append("realism:")
        for dim, score in paper.realism.items():
            lines.append(f"  {dim}: {score.level} — {score.why}")
    return "\n".join(lines)
