"""Text views: one paper in full, and the evidence ``mcatlas show`` adds."""

from __future__ import annotations

from typing import Any

from sqlalchemy.engine import Engine


def paper_text(paper: Any, file: str | None = None) -> str:
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


def evidence_text(eng: Engine, paper: Any) -> str:
    """What ``mcatlas show KEY`` adds: the paper's current stored runs, the claims they
    contradict, and the links that are stale ("stale: rerun") or orphaned."""
    from metaanalysis.analysis.claims import contradicted_claims
    from metaanalysis.evidence.links import STATE_NOTES, link_states, sweep_links
    from metaanalysis.evidence.read import verdicts
    from metaanalysis.evidence.tables import has_evidence

    if not has_evidence(eng):
        return "evidence: none stored (mcatlas rerun KEY)"
    states = link_states(eng, paper.key)
    current = {k: h for k, (h, state) in states.items() if state == "current"}
    sweeps = {(sw.setup, sw.variant): sw for sw in sweep_links(eng, paper.key, current=current)}
    current.update({(paper.key, s, v): sw.digest for (s, v), sw in sweeps.items()})
    frame = verdicts(eng, paper.key)
    frame = frame[[current.get((paper.key, s, v)) == h
                   for s, v, h in zip(frame["setup"], frame["variant"], frame["config_hash"])]]
    others = sorted((k, h, state) for k, (h, state) in states.items() if state != "current")
    if frame.empty and not others:
        return "evidence: none stored (mcatlas rerun KEY)"
    lines = ["evidence (re-executed setups):"]
    for (setup, variant), group in frame.groupby(["setup", "variant"], sort=False):
        collapsed = [d for d, v in zip(group["definition"], group["verdict"]) if v == "collapse"]
        sw = sweeps.get((setup, variant))
        what = (f"sweep over n = {', '.join(map(str, sorted(sw.hashes)))}" if sw is not None
                else f"run {group['config_hash'].iloc[0][:12]}")
        lines.append(f"  {setup} ({variant}, {what}): collapse under "
                     + (", ".join(collapsed) or "no definition"))
    if frame.empty:
        lines.append("  none current")
    for (_, setup, variant), digest, state in others:
        why = ("the setup, the realistic defaults or the simulators changed since this run; "
               f"mcatlas rerun {paper.key}" if state == "stale" else "not shown")
        lines.append(f"  {setup} ({variant}, run {digest[:12]}): {STATE_NOTES[state]} ({why})")
    found = contradicted_claims(eng, paper, frame)
    lines.append("claims the rerun contradicts:" + ("" if found else " none"))
    lines += [f"  {c.text()}" for c in found]
    return "\n".join(lines)


__all__ = ["evidence_text", "paper_text"]
