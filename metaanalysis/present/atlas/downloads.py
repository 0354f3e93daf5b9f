"""The atlas's downloads, written next to its pages (``downloads/``), and what the site says
about its own build.

==================  ===========================================================================
``papers.csv``      one row per paper: identification, definitions (``id:usage`` joined by
                    "; "), data policies, counts of claims and setups, realism weight and the
                    evidence summary the paper table shows
``claims.csv``      one row per claim with both statuses (reproduction as published, under
                    realistic conditions), attribution, contradiction, the combined verdicts
                    per variant, the claim's realism weight and where the paper makes it
``runs.csv``        one row per (paper, setup, variant) link to a stored run, with the run's
                    simulator, seeds, iterations and provenance (version, commit, device,
                    wall time, when it finished)
``verdicts.csv``    one row per (paper, setup, variant, definition) verdict, with its
                    statistic, interval, stability, what would settle it and its reason
``atlas.bib``       BibTeX of every paper, keyed by the record keys
                    (:mod:`metaanalysis.annotations.bibtex`)
==================  ===========================================================================

Build information (:func:`build_info`): the mcatlas version, the git commit of the checkout
(and whether it had uncommitted changes) and its ``origin`` remote when git knows them, and the
build date (UTC). The "cite this atlas" block is a BibTeX entry made from them.
"""

from __future__ import annotations

import csv
import io
import json
import subprocess
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Iterable, Mapping, Sequence


#: file name -> what it holds (the index's list of downloads)
DOWNLOADS: dict[str, str] = {
    "papers.csv": "every paper: identification, definitions, policies, claims, setups, realism, evidence summary",
    "claims.csv": "every claim with both statuses (reproduced as published? surviving realistic conditions?)",
    "runs.csv": "every re-executed run behind the atlas, with its provenance",
    "verdicts.csv": "every verdict of every run, per definition, with its statistic, interval and reason",
    "atlas.bib": "BibTeX entries of every paper, keyed by the record keys",
}


def _csv(rows: Iterable[Mapping[str, Any]], columns: Sequence[str]) -> str:
    buf = io.StringIO()
    writer = csv.DictWriter(buf, fieldnames=list(columns), lineterminator="\n", extrasaction="ignore")
    writer.writeheader()
    for r in rows:
        writer.writerow({c: _plain(r.get(c)) for c in columns})
    return buf.getvalue()


def _plain(v: Any) -> Any:
    if v is None:
        return ""
    if isinstance(v, float) and v != v:  # NaN
        return ""
    if isinstance(v, (list, tuple)):
        return "; ".join(str(x) for x in v)
    if isinstance(v, dict):
        return json.dumps(v, sort_keys=True, default=str)
    return v


def evidence_summary(paper: Any, assessments: Sequence[Any], runs: int) -> str:
    """One phrase about a paper's evidence, the same in the paper table and ``papers.csv``."""
    if not paper.claims and not paper.setups:
        return "not yet annotated"
    if not paper.setups:
        return f"{len(paper.claims)} claim(s), no setup to rerun"
    if runs == 0:
        return "not rerun yet"
    if not assessments:
        return f"{runs} run(s); no claims to judge"
    reproduced = sum(a.reproduction == "reproduced" for a in assessments)
    survives = sum(a.under_realistic == "survives" for a in assessments)
    text = f"{reproduced} of {len(assessments)} claim(s) reproduced, {survives} survive realistic"
    contradicted = sum(a.contradicted for a in assessments)
    if contradicted:
        text += f"; {contradicted} contradicted"
    return text


PAPER_COLUMNS = ("key", "label", "title", "authors", "year", "month", "venue", "arxiv", "doi", "url",
                 "explicit_definition", "definitions", "data_policies", "claims", "setups", "realism_weight",
                 "evidence")
CLAIM_COLUMNS = ("paper", "claim", "statement", "definition", "outcome", "policy", "model_family", "where",
                 "setups", "reproduction", "under_realistic", "attribution", "contradiction", "disagreeing",
                 "published", "realistic", "control", "law", "realism_weight", "reason")
RUN_COLUMNS = ("paper", "setup", "variant", "policy", "run_id", "simulator", "seeds", "iterations",
               "mcatlas_version", "git_commit", "device", "wall_time", "finished")
VERDICT_COLUMNS = ("paper", "setup", "variant", "policy", "definition", "verdict", "statistic", "ci_low", "ci_high",
                   "iteration", "stability", "seeds_needed", "iterations_needed", "reason", "config_hash")


def device_name(device: Any) -> str:
    """A run's device as text (its provenance stores ``{"name": ..., "gpu": ...}``)."""
    if isinstance(device, dict):
        name = str(device.get("name", ""))
        return f"{name} ({device['gpu']})" if device.get("gpu") else name
    return "" if device is None else str(device)


def run_rows(runs: Any) -> list[dict[str, Any]]:
    rows = []
    for x in runs.to_dict(orient="records"):
        prov = x.get("provenance") or {}
        git = prov.get("git") or {}
        rows.append({**x, "mcatlas_version": prov.get("mcatlas_version", ""), "git_commit": git.get("commit") or "",
                     "device": device_name(prov.get("device")), "wall_time": prov.get("wall_time"),
                     "finished": prov.get("finished", "")})
    return rows


def write_downloads(out: Path, papers: Sequence[Any], evidence: Any, extra: Mapping[str, Any]) -> dict[str, Path]:
    """Write every file of :data:`DOWNLOADS` into ``out / "downloads"``; returns name -> path."""
    from metaanalysis.annotations.bibtex import bibliography

    folder = out / "downloads"
    folder.mkdir(parents=True, exist_ok=True)
    claims = extra["claims"]
    weights = extra["weights"]
    cw = extra["claim_weights"]
    runs_per_paper = evidence.runs["paper"].value_counts().to_dict() if len(evidence.runs) else {}
    paper_rows = []
    for p in papers:
        mine = [claims[(p.key, c.id)] for c in p.claims]
        paper_rows.append({
            "key": p.key, "label": p.label, "title": p.title, "authors": p.authors, "year": p.year, "month": p.month,
            "venue": p.venue, "arxiv": p.arxiv, "doi": p.doi, "url": p.url, "explicit_definition": p.explicit_definition,
            "definitions": [f"{d}:{u}" for d, u in p.definitions_in_order().items()], "data_policies": p.data_policies,
            "claims": len(p.claims), "setups": len(p.setups), "realism_weight": weights.get(p.key),
            "evidence": evidence_summary(p, mine, int(runs_per_paper.get(p.key, 0))),
        })
    record = {(p.key, c.id): c for p in papers for c in p.claims}
    claim_rows = [{**a.as_dict(), "model_family": record[k].model_family, "where": record[k].where,
                   "realism_weight": cw.get(k)} for k, a in claims.items()]
    verdicts = evidence.verdicts.to_dict(orient="records") if len(evidence.verdicts) else []
    files = {
        "papers.csv": _csv(paper_rows, PAPER_COLUMNS),
        "claims.csv": _csv(claim_rows, CLAIM_COLUMNS),
        "runs.csv": _csv(run_rows(evidence.runs), RUN_COLUMNS),
        "verdicts.csv": _csv(verdicts, VERDICT_COLUMNS),
        "atlas.bib": bibliography(sorted(papers, key=lambda p: p.key)),
    }
    written = {}
    for name, text in files.items():
        path = folder / name
        path.write_text(text, encoding="utf-8")
        written[name] = path
    return written


def _git(*args: str) -> str | None:
    here = Path(__file__).resolve().parent
    try:
        done = subprocess.run(["git", "-C", str(here), *args], capture_output=True, text=True, timeout=5)
    except (OSError, subprocess.SubprocessError):
        return None
    return done.stdout.strip() or None if done.returncode == 0 else None


def build_info(now: datetime | None = None) -> dict[str, Any]:
    """``version``, ``commit`` and ``dirty`` (None without git), ``repository`` (the ``origin``
    remote, or None) and ``date`` (UTC, ISO 8601) of this build."""
    from metaanalysis.evidence.provenance import git_state, mcatlas_version

    git = git_state() or {}
    return {"version": mcatlas_version(), "commit": git.get("commit"), "dirty": git.get("dirty"),
            "repository": _git("remote", "get-url", "origin"),
            "date": (now or datetime.now(timezone.utc)).strftime("%Y-%m-%d")}


def citation(info: Mapping[str, Any]) -> str:
    """A BibTeX entry for this build of the atlas."""
    year = str(info["date"])[:4]
    note = f"version {info['version']}"
    if info.get("commit"):
        note += f", commit {str(info['commit'])[:12]}"
    note += f", built {info['date']}"
    fields = [("title", "{The Model Collapse Atlas}"), ("author", "{mcatlas contributors}"),
              ("year", year), ("note", note)]
    if info.get("repository"):
        fields.append(("howpublished", f"\\url{{{info['repository']}}}"))
    return "@misc{mcatlas,\n" + ",\n".join(f"  {k} = {{{v}}}" for k, v in fields) + "\n}\n"


__all__ = ["CLAIM_COLUMNS", "DOWNLOADS", "PAPER_COLUMNS", "RUN_COLUMNS", "VERDICT_COLUMNS", "build_info", "citation",
           "device_name", "evidence_summary", "run_rows", "write_downloads"]
