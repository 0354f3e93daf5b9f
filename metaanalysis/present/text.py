"""Text views: one paper in full, the evidence ``mcatlas show`` adds, and the matrix for a
terminal."""

from __future__ import annotations

from typing import Any

from sqlalchemy.engine import Engine

from metaanalysis.analysis.matrix import ABBREV, MARKS, Matrix, evidence_columns
from simulators.vocabulary import DEFINITIONS


def paper_text(paper: Any, file: str | None = None) -> str:
    """One paper in full, as readable text (identification, definitions, policies, claims,
    setups, realism)."""
    from simulators.vocabulary import DEFINITIONS

    lines = [f"{paper.key}: {paper.title}"]
    lines.append(f"  authors: {', '.join(paper.authors)}")
    date = f"{paper.year}" + (f"-{paper.month:02d}" if paper.month else "")
    lines.append(f"  date: {date}")
    for name in ("venue", "arxiv", "arxiv_version", "doi", "url", "label", "figure_order", "source",
                 "identification_note", "notes"):
        value = getattr(paper, name)
        if value is not None:
            lines.append(f"  {name}: {value}")
    if file:
        lines.append(f"  file: {file}")
    lines.append(f"  explicit definition: {paper.explicit_definition}")
    lines.append(f"definitions ({paper.consensus_source}):" + ("" if paper.definitions else " none"))
    for d in DEFINITIONS:
        if d in paper.definitions:
            lines.append(f"  {d}: {paper.definitions[d]}")
    for m in paper.marks:
        lines.append(f"marks of {m.source} (explicit definition: {m.explicit_definition}; read: {m.basis}):"
                     + ("" if m.definitions else " none used"))
        for d in DEFINITIONS:
            if d in m.definitions:
                lines.append(f"  {d}: {m.definitions[d].usage} ({m.definitions[d].where})")
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
            if getattr(s, "synthetic_ratio", None) not in (None, 1, 1.0):
                policy += f", synthetic_ratio {s.synthetic_ratio}"
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


def evidence_document(eng: Engine, paper: Any, overrides: bool = False) -> dict[str, Any]:
    """What ``mcatlas show KEY`` adds to a paper, as data (``--format json`` prints it as is):

    ``claims``     each claim judged against its setups' current reruns
                   (:func:`metaanalysis.analysis.claims.assess_claims`, the judgement the atlas,
                   the matrix and the synthesis show);
    ``verdicts``   the current runs' verdicts, one record per (setup, variant, definition);
    ``links``      every stored link of the paper with its state (current, stale, orphaned);
    ``overrides``  with ``overrides``: the verdicts of exploratory reruns (``rerun --seeds S``).
    """
    from metaanalysis.analysis.frames import Evidence, load_verdicts
    from metaanalysis.evidence.links import link_states
    from metaanalysis.evidence.read import verdicts
    from metaanalysis.evidence.tables import has_evidence

    doc: dict[str, Any] = {"claims": [], "verdicts": [], "links": []}
    if overrides:
        doc["overrides"] = []
    stored = has_evidence(eng)
    evidence = load_verdicts(eng, [paper]) if stored else Evidence.empty()
    doc["claims"] = [a.as_dict() for a in evidence.claims([paper])]
    if not stored:
        return doc
    doc["verdicts"] = evidence.verdicts.drop(columns=["paper"]).to_dict(orient="records")
    doc["links"] = [{"setup": s, "variant": v, "config_hash": h, "state": state}
                    for (_, s, v), (h, state) in sorted(link_states(eng, paper.key).items())]
    if overrides:
        frame = verdicts(eng, paper.key, overrides=True)
        doc["overrides"] = frame[frame["override"] != ""].drop(columns=["paper"]).to_dict(orient="records")
    return doc


def evidence_text(doc: dict[str, Any], key: str) -> str:
    """:func:`evidence_document` as the text ``mcatlas show KEY`` prints after the record."""
    from metaanalysis.evidence.links import STATE_NOTES

    lines = ["claims against the reruns (reproduction as published; then under realistic conditions):"]
    if not doc["claims"]:
        lines[-1] = "claims against the reruns: the paper records no claims"
    for c in doc["claims"]:
        what = f"  {c['claim']}: {c['reproduction']}"
        if c["reproduction"] == "reproduced":
            what += f"; realistic: {c['under_realistic']}"
            if c["attribution"]:
                what += f" (lost to {c['attribution']})"
        if c["contradiction"]:
            what += f" [{c['contradiction']}: {', '.join(c['disagreeing'])}]"
        lines += [what, f"    {c['reason']}"]
    current = doc["verdicts"]
    if not doc["links"] and not current:
        lines.append(f"evidence: none stored (mcatlas rerun {key})")
        return "\n".join(lines + _overrides_lines(doc))
    lines.append("evidence (re-executed setups; published read at the long-run horizon, realistic and "
                 "control within their own iterations):")
    groups: dict[tuple[str, str], list[dict[str, Any]]] = {}
    for r in current:
        groups.setdefault((r["setup"], r["variant"]), []).append(r)
    for (setup, variant), rows in groups.items():
        by = {}
        for r in rows:
            by.setdefault(r["verdict"], []).append(r["definition"])
        text = "; ".join(f"{v}: {', '.join(ds)}" for v, ds in by.items() if v != "not-measured")
        lines.append(f"  {setup} ({variant}, run {str(rows[0]['config_hash'])[:12]}): {text or 'nothing measured'}")
        for r in rows:
            if r["verdict"] == "inconclusive":
                lines.append(f"    {r['definition']}: {r['reason']}")
    if not current:
        lines.append("  none current")
    for link in doc["links"]:
        if link["state"] == "current":
            continue
        why = ("the setup, the realistic defaults or the simulators changed since this run; "
               f"mcatlas rerun {key}" if link["state"] == "stale" else "not shown")
        lines.append(f"  {link['setup']} ({link['variant']}, run {link['config_hash'][:12]}): "
                     f"{STATE_NOTES[link['state']]} ({why})")
    return "\n".join(lines + _overrides_lines(doc))


def _overrides_lines(doc: dict[str, Any]) -> list[str]:
    if "overrides" not in doc:
        return []
    lines = ["exploratory reruns (overrides; not the setup's evidence):" + ("" if doc["overrides"] else " none")]
    for r in doc["overrides"]:
        lines.append(f"  {r['setup']} ({r['variant']}, {r['override']}) {r['definition']}: {r['verdict']}")
    return lines


def summary_text(summary: dict[str, Any]) -> str:
    """The summary as plain text lines."""
    lines = [f"{summary['papers']} papers"]
    lines.append(f"{'definition':<22} {'family':<16} {'explicit':>8} {'implicit':>8} {'total':>6}")
    for x in summary["definitions"]:
        lines.append(f"{x['definition']:<22} {x['family']:<16} {x['explicit']:>8} {x['implicit']:>8} {x['total']:>6}")
    lines.append("")
    lines.append(f"{'family':<22} {'papers':>7} {'explicit':>8} {'implicit':>8} {'total':>6}")
    for x in summary["families"]:
        lines.append(f"{x['family']:<22} {x['papers']:>7} {x['explicit']:>8} {x['implicit']:>8} {x['total']:>6}")
    if summary["unused"]:
        lines.append("")
        lines.append(f"used by no paper: {', '.join(summary['unused'])}")
    return "\n".join(lines)


#: one-letter verdicts of the terminal matrix (``-``: no run)
EVIDENCE_LETTERS: dict[str, str] = {"collapse": "C", "no-collapse": "N", "mixed": "M", "inconclusive": "?",
                                    "not-measured": "·", "": "-"}


def rich_table(matrix: Matrix) -> Any:
    """A rich Table with E/I marks, family-grouped columns (rich imported here, lazily). With the
    evidence overlay each cell reads ``E C>N``: the mark, then the verdict as published and
    under realistic conditions in one letter each (:data:`EVIDENCE_LETTERS`), so that the table
    fits a terminal of about 120 columns without cutting any verdict; the caption spells the
    letters out."""
    from rich.table import Table

    fam_short = {"population risk": "risk", "scaling": "scal.", "distribution": "dist."}
    styles = {"population risk": "cyan", "scaling": "magenta", "distribution": "green"}
    table = Table(
        title="Definitions of model collapse used per paper",
        caption="E explicit, I implicit; columns: " + "; ".join(f"{ABBREV[d]} = {d}" for d in DEFINITIONS),
    )
    # the evidence overlay goes into the definition cells, not into extra columns
    evidence = set(evidence_columns()) <= set(matrix.extra_columns)
    table.add_column("paper", overflow="fold", min_width=12)
    # the key tells apart papers with the same label (two "Dohmatob et al. (2024 Feb)")
    table.add_column("key", no_wrap=True, style="dim")
    table.add_column("expl.\ndef.", justify="center", no_wrap=True)
    for fam, defs in matrix.families():
        for d in defs:
            table.add_column(
                f"{fam_short.get(fam, fam)}\n{ABBREV[d]}", justify="center", no_wrap=True,
                header_style=styles.get(fam, ""),
            )
    extra = [c for c in matrix.extra_columns if not (evidence and c in evidence_columns())]
    if evidence:
        table.caption += ("; cells with evidence: mark, then verdict as published > under realistic conditions "
                          "(C collapse, N no collapse, M setups disagree, ? inconclusive, · not measured, - no run)")
    for c in extra:
        table.add_column(c, justify="center")
    for r in matrix.rows:
        cells = [
            evidence_cell_text(MARKS[r.cells.get(d, "")], r.extra.get(f"{d}:published", ""),
                               r.extra.get(f"{d}:realistic", "")) if evidence else MARKS[r.cells.get(d, "")]
            for _, defs in matrix.families() for d in defs
        ]
        table.add_row(r.label, r.key, r.explicit_definition, *cells, *(r.extra.get(c, "") for c in extra))
    return table


def evidence_cell_text(mark: str, published: str, realistic: str) -> str:
    """A table cell with evidence: ``E C>N`` (mark, then one letter per variant, ``-`` for no
    run); just the mark when neither variant has a run."""
    if not published and not realistic:
        return mark
    return f"{mark or ' '} {EVIDENCE_LETTERS[published]}>{EVIDENCE_LETTERS[realistic]}"


__all__ = ["EVIDENCE_LETTERS", "evidence_cell_text", "evidence_text", "paper_text", "rich_table", "summary_text"]
