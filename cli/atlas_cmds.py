"""Commands of the meta-analysis and the atlas: realism, synthesis, charts, report.

Thin: parse, call into :mod:`metaanalysis`, print. ``metaanalysis`` modules are imported inside
the commands; altair and vl-convert only by ``charts`` and ``report``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click

from cli.main import Context, main
from cli.output import echo_csv, echo_json, emit, format_option, plain, records


@main.command()
@format_option()
@click.pass_obj
def realism(obj: Context, fmt: str) -> None:
    """Realism scores and weights per paper (weight: mean of score / max score over scored
    dimensions; papers without scores have no weight and are left out of weighted counts)."""
    from metaanalysis.analysis.weighting import realism_records

    db = obj.database()
    rows = realism_records(db.papers, db.realism)
    if fmt == "table":
        dims = [d.id for d in db.realism.dimensions]
        table_rows = []
        for r in rows:
            t = {"key": r["key"]}
            for d in dims:
                t[d] = f"{r[d]} ({r[d + ':score']})" if r[d] else ""
            t["weight"] = "none" if r["weight"] is None else f"{r['weight']:.2f}"
            table_rows.append(t)
        emit(table_rows, fmt, title=f"Realism of {len(rows)} paper(s): level (score) per dimension")
        return
    emit(rows, fmt, title="realism")


def _figure4(eng: Any) -> dict[str, Any]:
    """The position paper's Figure 4 test on the stored runs."""
    from metaanalysis.analysis.absorption import stored_absorption

    table, test = stored_absorption(eng)
    return {"table": records(table), "test": plain(test)}


@main.command()
@format_option()
@click.pass_obj
def synthesis(obj: Context, fmt: str) -> None:
    """Per definition: claims (collapse / no-collapse / mixed), unweighted and realism-weighted,
    how many are reproduced as published (and survive realistic conditions), and the re-executed
    verdicts per variant; then every claim with both statuses, the position paper's claims
    checked against the verdicts (each run counted once), and its Figure 4 test. The position
    paper's own claims are checked, not counted. CSV prints one table after another, each
    preceded by a line `# section`."""
    from metaanalysis.analysis.frames import load_evidence
    from metaanalysis.analysis.frames import EFFECT_COLUMNS, unique_runs
    from metaanalysis.analysis.pooling import pooled_by
    from metaanalysis.analysis.synthesis import (
        conclusion_checks,
        synthesis_table,
        verdicts_by_policy,
    )
    from metaanalysis.analysis.weighting import claim_weights

    db = obj.database()
    eng = obj.store()
    evidence = load_evidence(eng, db.papers)
    assessed = evidence.claims(db.papers)
    table = synthesis_table(db.papers, claim_weights(db.papers, db.realism), evidence.verdicts,
                            assessments=assessed)
    checks = records(conclusion_checks(evidence.verdicts, db.papers, assessments=assessed))
    claims = [a.as_dict() for a in assessed]
    figure4 = _figure4(eng)
    if fmt == "json":
        echo_json({
            "definitions": records(table),
            "claims": claims,
            "verdicts_by_policy": records(verdicts_by_policy(evidence.verdicts)),
            "effects": records(unique_runs(evidence.effects)[[*EFFECT_COLUMNS, "shared_by"]]),
            "pooled_log_risk_ratio": records(pooled_by(evidence.effects)),
            "checks": checks,
            "figure4": figure4,
        })
        return
    if fmt == "csv":
        click.echo("# definitions")
        echo_csv(records(table))
        click.echo("# claims")
        echo_csv([{**c, "setups": "; ".join(c["setups"]), "disagreeing": "; ".join(c["disagreeing"])}
                  for c in claims])
        click.echo("# checks")
        echo_csv([{**c, "runs": "; ".join(c["runs"])} for c in checks],
                 ["paper", "claim", "statement", "definition", "policy", "outcome", "where", "law", "collapse",
                  "conclusive", "inconclusive", "share", "status", "reason", "runs"])
        click.echo("# figure4")
        echo_csv(figure4["table"])
        click.echo("# figure4-test")
        echo_csv(_figure4_rows(figure4["test"]))
        return
    rows = []
    for r in records(table):
        def fmt_share(x: Any) -> str:
            return "" if x is None else f"{x:.2f}"

        rows.append({
            "definition": r["definition"],
            "claims c/n/m": f"{r['claims_collapse']}/{r['claims_no_collapse']}/{r['claims_mixed']}",
            "weighted c/n/m": f"{r['weighted_collapse']:.1f}/{r['weighted_no_collapse']:.1f}/{r['weighted_mixed']:.1f}",
            "support": fmt_share(r["support"]),
            "weighted": fmt_share(r["weighted_support"]),
            "reproduced r/x/?/-": (f"{r['reproduced']}/{r['not_reproduced']}/{r['reproduction_inconclusive']}/"
                                   f"{r['untested']}"),
            "realistic s/x/?": f"{r['survives']}/{r['does_not_survive']}/{r['realistic_inconclusive']}",
            "published runs c/n/?/-": "/".join(str(r[f"published_{k}"]) for k in _VERDICT_KEYS),
            "realistic runs c/n/?/-": "/".join(str(r[f"realistic_{k}"]) for k in _VERDICT_KEYS),
            "inconclusive": "" if r["inconclusive_share"] is None else f"{r['inconclusive_share']:.0%}",
        })
    emit(rows, "table", title="Evidence synthesis per definition (claims: c collapse, n no-collapse, m mixed; "
                "reproduced: r reproduced, x not reproduced, ? inconclusive, - untested; realistic: s survives, "
                "x does not survive; runs: c collapse, n no-collapse, ? inconclusive, - not measured; "
                "the position paper's claims are checked below, not counted)")
    found = [c for c in claims if c["contradiction"]]
    click.echo("Claims whose published rerun conclusively disagrees:" + ("" if found else " none"))
    for c in found:
        click.echo(f"{c['contradiction']:>19}: {c['paper']}/{c['claim']} ({', '.join(c['disagreeing'])})")
    click.echo("Position paper's claims (schaeffer2025position.yaml) against the re-executed runs:")
    for c in checks:
        counts = (c["reason"] if c["law"] else
                  f"{c['collapse']} of {c['conclusive']} conclusive runs collapse, {c['inconclusive']} inconclusive")
        click.echo(f"{c['status']:>19}: {c['statement']} [{c['definition']}, {c['policy']}, claimed {c['outcome']}]"
                   f" ({counts})")
    click.echo("Figure 4 (time to collapse onto one outcome grows with n x initial entropy):")
    for r in _figure4_rows(figure4["test"]):
        click.echo(f"{r['answer']:>19}: {r['test']} {r['detail']}")


#: the verdict columns of the synthesis table, in the order the text table prints them
_VERDICT_KEYS: tuple[str, ...] = ("collapse", "no_collapse", "inconclusive", "not_measured")


def _figure4_rows(test: dict[str, Any]) -> list[dict[str, Any]]:
    """The Figure 4 test as rows: test, answer, detail (fitted exponents with their 95% intervals)."""
    prop = test.get("proportional") or {}
    detail = ""
    if prop.get("exponent_n") is not None:
        lo_n, hi_n = prop["exponent_n_ci"]
        lo_h, hi_h = prop["exponent_h0_ci"]
        detail = (f"T ~ n^{prop['exponent_n']:.2f} [{lo_n:.2f}, {hi_n:.2f}] x H0^{prop['exponent_h0']:.2f} "
                  f"[{lo_h:.2f}, {hi_h:.2f}] (proportional: both exponents 1)")
    return [
        {"test": "grows with n", "answer": test["grows_with_n"]["answer"], "detail": ""},
        {"test": "grows with initial entropy H0", "answer": test["grows_with_entropy"]["answer"], "detail": ""},
        {"test": "proportional to n x H0", "answer": prop.get("answer", "not-tested"), "detail": detail},
    ]


def _progress_printer(obj: Context) -> Any:
    """A rerun progress callback drawing a rich progress bar on stderr (None when quiet / not a
    terminal), and a function to close it."""
    if not obj.progress:
        return None, lambda: None
    from cli.output import progress_bar

    bar = progress_bar()
    bar.start()
    tasks: dict[str, Any] = {}

    def progress(label: str, t: int, total: int) -> None:
        if label not in tasks:
            tasks[label] = bar.add_task(label, total=total)
        bar.update(tasks[label], completed=t)

    return progress, bar.stop


def _atlas_inputs(obj: Context, rerun: bool, budget: float | None = None) -> tuple[Any, Any, Any]:
    """(database, evidence, engine), rerunning missing setups first (cheapest first, within
    ``budget`` seconds, by default the hooks' ``DEFAULT_BUDGET_SECONDS``) when ``rerun``."""
    from metaanalysis.analysis.frames import load_evidence
    from metaanalysis.evidence.reruns import DEFAULT_BUDGET_SECONDS, rerun_missing

    db = obj.database()
    eng = obj.store()
    if rerun:
        progress, close = _progress_printer(obj)
        try:
            report = rerun_missing(eng, db.papers, defaults=db.realism.realistic_defaults.model_dump(),
                                   budget_seconds=DEFAULT_BUDGET_SECONDS if budget is None else budget,
                                   progress=progress)
        finally:
            close()
        if not obj.quiet:
            click.echo(report.summary(), err=True)
    return db, load_evidence(eng, db.papers), eng


@main.command()
@click.option("--out", "out_dir", type=click.Path(file_okay=False, path_type=Path), required=True,
              help="Directory for the charts (created).")
@click.option("--format", "formats", multiple=True, type=click.Choice(["html", "svg", "png"]),
              help="Formats to write (repeatable; default all three).")
@click.pass_obj
def charts(obj: Context, out_dir: Path, formats: tuple[str, ...]) -> None:
    """Write every meta-analysis chart as self-contained HTML, SVG and PNG (from the stored
    evidence; run `mcatlas rerun` or `mcatlas report` to add evidence)."""
    from metaanalysis.present.charts import all_charts, save_chart, unvalidated

    db, evidence, _ = _atlas_inputs(obj, rerun=False)
    with unvalidated():
        for name, chart in all_charts(db.papers, db.realism, evidence).items():
            for path in save_chart(chart, out_dir, name, formats or ("html", "svg", "png")):
                if not obj.quiet:
                    click.echo(f"wrote {path}", err=True)


@main.command()
@click.option("--out", "out_dir", type=click.Path(file_okay=False, path_type=Path), required=True,
              help="Directory of the site (created; open DIR/index.html).")
@click.option("--no-rerun", is_flag=True, help="Do not rerun missing setups first; show stored evidence only.")
@click.option("--budget", type=click.FloatRange(min=0), default=None, metavar="SECONDS",
              help="Time for rerunning missing setups, cheapest first; none starts after it "
                   "(default: enough for every shipped setup from an empty store).")
@click.pass_obj
def report(obj: Context, out_dir: Path, no_rerun: bool, budget: float | None) -> None:
    """Build the static HTML atlas (works from file:// with no network). Setups without stored
    evidence are rerun first, cheapest first, within a time budget, unless --no-rerun."""
    from metaanalysis.present.atlas import build_site

    from metaanalysis.analysis.absorption import stored_absorption

    db, evidence, eng = _atlas_inputs(obj, rerun=not no_rerun, budget=budget)
    index = build_site(db, evidence, out_dir, figure4=stored_absorption(eng))
    if not obj.quiet:
        click.echo(evidence_coverage(db.papers, evidence), err=True)
        click.echo(f"wrote {index}", err=True)


def evidence_coverage(papers: Any, evidence: Any) -> str:
    """One line: how many papers the atlas shows evidence for, and why the others have none
    (no setups, or setups without a current stored run)."""
    with_runs = set(evidence.runs["paper"]) if len(evidence.runs) else set()
    papers = list(papers)
    no_setup = [p.key for p in papers if not p.setups]
    not_run = [p.key for p in papers if p.setups and p.key not in with_runs]
    text = f"evidence for {len(papers) - len(no_setup) - len(not_run)} of {len(papers)} papers"
    if not_run or no_setup:
        text += f"; {len(no_setup) + len(not_run)} without: {len(no_setup)} have no setups"
        if not_run:
            shown = ", ".join(not_run[:5]) + (", ..." if len(not_run) > 5 else "")
            text += (f", {len(not_run)} have setups with no current run ({shown}; `mcatlas rerun --all`, or "
                     "`mcatlas report` without --no-rerun)")
    return text
