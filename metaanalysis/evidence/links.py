"""Which stored links are evidence: current, stale or orphaned.

Stale links. A link (paper, setup, variant) -> run is *current* when the setup as it is written
now (the annotation index, and the realistic defaults of the annotations' realism.yaml)
resolves to the link's configuration hash under the current code
version (:func:`metaanalysis.evidence.planning.setup_config` + :func:`config_hash`; no run is executed).
Otherwise it is *stale* (the setup's fields, the realistic defaults or the simulators source
changed since the run: ``mcatlas rerun`` makes it current again), or *orphaned* (the setup is
no longer in the annotations). A rerun with an override (``mcatlas rerun --seeds S``) is linked
apart (:func:`override_states`) and never makes an annotated link current or stale. The
matrix, ``show``, the atlas and every query below use current links only; ``runs_frame`` and
``mcatlas runs`` can list the others with their status.

Sweep setups (``sweep_n``, :mod:`metaanalysis.evidence.reruns`): their runs are linked as ``NAME@n=N``
and checked like any link with ``params.n = N``; such a link whose N is no longer in the
setup's ``sweep_n``, or a plain ``NAME`` link of a setup that now has a ``sweep_n``, is
orphaned (no rerun will make it current).

"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import Any, Mapping

from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from simulators.errors import UserError
from simulators.vocabulary import VARIANTS

from . import planning as rr
from .tables import OverrideLinkRow, RunLinkRow, has_evidence

#: the states of a link (see above); unlinked (sweep) runs have the status ""
LINK_STATES: tuple[str, ...] = ("current", "stale", "orphaned")


#: what the listings say about a link that is not current
STATE_NOTES: dict[str, str] = {
    "stale": "stale: rerun",
    "orphaned": "orphaned: setup no longer in the annotations",
}


def index_defaults(eng: Engine) -> dict[str, Any]:
    """The realistic defaults of the annotations directory the index was built from.

    The directory is found from the paper files recorded in the index (``ROOT/papers/KEY.yaml``),
    else :func:`metaanalysis.annotations.paths.annotations_dir`; its ``realism.yaml`` is read by
    :func:`metaanalysis.evidence.planning.realistic_defaults` (the fallback when it has none)."""
    from pathlib import Path

    from metaanalysis.annotations.paths import PAPERS_DIR, annotations_dir
    from metaanalysis.store.index import paper_files_of

    for file in paper_files_of(eng).values():
        if not file:
            continue
        papers_dir = Path(file).parent
        if papers_dir.name == PAPERS_DIR and papers_dir.is_dir():
            return rr.realistic_defaults(papers_dir.parent)
    try:
        return rr.realistic_defaults(annotations_dir())
    except UserError:
        return dict(rr.FALLBACK_DEFAULTS)


def link_states(
    eng: Engine, paper: str | None = None, defaults: Mapping[str, Any] | None = None,
) -> dict[tuple[str, str, str], tuple[str, str]]:
    """``{(paper, setup, variant): (config_hash, state)}`` for every stored link (of one paper,
    or all); ``state`` is one of :data:`LINK_STATES` (see the comment above). ``defaults``: the
    realistic defaults to plan with (default :func:`index_defaults`, read once, only when a
    realistic or control link needs them). Cheap: configurations are resolved and hashed, never
    run."""
    rows = _links(eng, RunLinkRow, paper)
    return {key[:3]: state for key, state in _states(eng, rows, paper, defaults).items()}


def override_states(
    eng: Engine, paper: str | None = None, defaults: Mapping[str, Any] | None = None,
) -> dict[tuple[str, str, str, str], tuple[str, str]]:
    """Like :func:`link_states` for the exploratory override links (``evidence_override``),
    keyed ``(paper, setup, variant, override)``: current when the setup with that override
    applied still resolves to the stored run."""
    return _states(eng, _links(eng, OverrideLinkRow, paper), paper, defaults)


def _links(eng: Engine, table: Any, paper: str | None) -> list[tuple[str, str, str, str, str]]:
    """(paper, setup, variant, override, config hash) of a link table's rows."""
    if not has_evidence(eng):
        return []
    with Session(eng) as s:
        q = select(table)
        if paper is not None:
            q = q.where(table.paper_key == paper)
        return [(r.paper_key, r.setup, r.variant, getattr(r, "override", ""), r.config_hash)
                for r in s.exec(q).all()]


def _states(
    eng: Engine, links: list[tuple[str, str, str, str, str]], paper: str | None,
    defaults: Mapping[str, Any] | None,
) -> dict[tuple[str, str, str, str], tuple[str, str]]:
    from metaanalysis.store.tables import SetupRow

    if not links:
        return {}
    with Session(eng) as s:
        sq = select(SetupRow)
        if paper is not None:
            sq = sq.where(SetupRow.paper_key == paper)
        setups = {(r.paper_key, r.name): r for r in s.exec(sq).all()}
    planned_defaults = dict(defaults) if defaults is not None else None
    out: dict[tuple[str, str, str, str], tuple[str, str]] = {}
    for p, name, variant, override, digest in links:
        key = (p, name, variant, override)
        base, n = rr.split_setup_name(name)
        setup = setups.get((p, base))
        sweep = sorted({int(x) for x in (getattr(setup, "sweep_n", None) or [])})
        if setup is None or (n is None and sweep) or (n is not None and n not in sweep):
            # gone, or a sweep setup's plain link, or an n no longer in its sweep_n
            out[key] = (digest, "orphaned")
            continue
        if variant != "published" and planned_defaults is None:
            planned_defaults = index_defaults(eng)
        try:
            raw = rr.setup_config(setup, variant, planned_defaults, n=n)
            if override:
                raw = rr.apply_override(raw, override)
            now = rr.config_hash(rr.canonical_config(raw))
        except UserError:  # the setup no longer resolves (cannot happen for a validated index)
            now = ""
        out[key] = (digest, "current" if now == digest else "stale")
    return out


def current_links(eng: Engine, paper: str | None = None,
                  defaults: Mapping[str, Any] | None = None) -> dict[tuple[str, str, str], str]:
    """``{(paper, setup, variant): config_hash}`` of the current links only."""
    return {k: h for k, (h, state) in link_states(eng, paper, defaults).items() if state == "current"}


@dataclass(frozen=True)
class SweepLinks:
    """A sweep setup's complete set of current runs for one variant."""

    paper: str
    setup: str
    variant: str
    hashes: dict[int, str]  # n -> config hash

    @property
    def digest(self) -> str:
        """An identity for the sweep's evidence row: SHA-256 of its runs' hashes in n order
        (not a run's hash: it changes whenever any member run does)."""
        text = "sweep:" + ",".join(f"{n}={h}" for n, h in sorted(self.hashes.items()))
        return hashlib.sha256(text.encode()).hexdigest()


def sweep_links(
    eng: Engine, paper: str | None = None, defaults: Mapping[str, Any] | None = None,
    current: Mapping[tuple[str, str, str], str] | None = None,
) -> list[SweepLinks]:
    """The (paper, sweep setup, variant) whose runs at *every* n of its ``sweep_n`` are stored
    and current (:func:`link_states`); incomplete or partly stale sweeps are left out."""
    from metaanalysis.store.tables import SetupRow

    if not has_evidence(eng):
        return []
    current = current_links(eng, paper, defaults) if current is None else current
    with Session(eng) as s:
        sq = select(SetupRow).where(SetupRow.sweep_n.is_not(None))  # type: ignore[union-attr]
        if paper is not None:
            sq = sq.where(SetupRow.paper_key == paper)
        setups = [(r.paper_key, r.name, sorted({int(n) for n in r.sweep_n})) for r in s.exec(sq).all()
                  if r.sweep_n]
    out = []
    for p, name, ns in setups:
        for variant in VARIANTS:
            hashes = {n: current.get((p, rr.sweep_setup_name(name, n), variant)) for n in ns}
            if all(hashes.values()):
                out.append(SweepLinks(p, name, variant, hashes))  # type: ignore[arg-type]
    return out


__all__ = ["LINK_STATES", "STATE_NOTES", "SweepLinks", "current_links", "index_defaults",
           "link_states", "override_states", "sweep_links"]
