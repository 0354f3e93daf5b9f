"""Commands of the meta-analysis and the atlas: realism, synthesis, charts, report.

Thin: parse, call into :mod:`metaanalysis`, print. ``metaanalysis`` modules are imported inside
the commands; altair and vl-convert only by ``charts`` and ``report``.
"""

from __future__ import annotations

import csv
import json
import sys
from pathlib import Path
from typing import Any

import click

from cli.main import Context, main

FORMATS = click.Choice(["table", "csv", "json"])


def _database(obj: Context) -> Any:
    """The validated annotation database (records, definitions, realism scales)."""
    from metaanalysis.paths import annotations_dir
    from metaanalysis.validation import load_database

    return load_database(annotations_dir(obj.annotations))


def _print_rows(rows: list[dict[str, Any]], fmt: str, title: str, columns: list[str] | None = None) -> None:
    """Rows as CSV, JSON, or a rich table (``columns``: the table's subset, default all)."""
    if fmt == "json":
        click.echo(json.dumps(rows, indent=2, ensure_ascii=False, allow_nan=False, default=str))
        return
    header = list(rows[0]) if rows else (columns or [])
    if fmt == "csv":
        writer = csv.DictWriter(sys.stdout, fieldnames=header, lineterminator="\n")
        writer.writeheader()
        writer.writerows([{k: ("" if v is None else v) for k, v in r.items()} for r in rows])
        return
    from rich.console import Console
    from rich.table import Table

    shown = columns or header
    table = Table(title=title)
    for i, c in enumerate(shown):
        table.add_column(c, overflow="fold", no_wrap=i == 0)
    for r in rows:
        table.add_row(*("" if r.get(c) is None else str(r.get(c)) for c in shown))
    console = Console()
    if not console.is_terminal:  # piped: do not squeeze the table into 80 columns
        console = Console(width=200)
    console.print(table)


@main.command()
@click.option("--format", "fmt", type=FORMATS, default="table", show_default=True)
@click.pass_obj
def realism(obj: Context, fmt: str) -> None:
    """Realism scores and weights per paper (weight: mean of score / max score over scored
    dimensions; papers without scores have no weight and are left out of weighted counts)."""
    from metaanalysis.weighting import realism_records

    db = _database(obj)
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
        _print_rows(table_rows, fmt, f"Realism of {len(rows)} paper(s): level (score) per dimension")
        return
    _print_rows(rows, fmt, "realism")


def _engine(obj: Context) -> Any:
    """The store with its evidence tables (None when the evidence module is not available)."""
    from metaanalysis.paths import annotations_dir, db_url

    try:
        from metaanalysis.evidence import open_evidence
    except ImportError:
        return None
    return open_evidence(db_url(obj.db), annotations_dir(obj.annotations))


def _records(frame: Any) -> list[dict[str, Any]]:
    """A frame as JSON-safe records (NaN and infinities become None)."""
    import math

    out = []
    for r in frame.to_dict(orient="records"):
        out.append({k: (None if isinstance(v, float) and not math.isfinite(v) else
                        (v.item() if hasattr(v, "item") else v)) for k, v in r.items()})
    return out


@main.command()
@click.option("--format", "fmt", type=FORMATS, default="table", show_default=True)
@click.pass_obj
def synthesis(obj: Context, fmt: str) -> None:
    """Per definition: claims (collapse / no-collapse / mixed), unweighted and realism-weighted,
    and the re-executed verdicts as published and realistic; then the checks of the position
    paper's conclusions against the verdicts by policy."""
    from metaanalysis.report.hooks import load_evidence
    from metaanalysis.synthesis import conclusion_checks, pooled_by_policy, synthesis_table, verdicts_by_policy
    from metaanalysis.weighting import weights

    db = _database(obj)
    evidence = load_evidence(_engine(obj), db.papers)
    table = synthesis_table(db.papers, weights(db.papers, db.realism), evidence.verdicts)
    checks = conclusion_checks(evidence.verdicts)
    if fmt == "json":
        doc = {
            "definitions": _records(table),
            "verdicts_by_policy": _records(verdicts_by_policy(evidence.verdicts)),
            "pooled_log_risk_ratio": _records(pooled_by_policy(evidence.effects)),
            "checks": checks,
        }
        click.echo(json.dumps(doc, indent=2, ensure_ascii=False, allow_nan=False))
        return
    if fmt == "csv":
        _print_rows(_records(table), "csv", "")
        return
    rows = []
    for r in _records(table):
        def fmt_share(x: Any) -> str:
            return "" if x is None else f"{x:.2f}"

        rows.append({
            "definition": r["definition"],
            "claims c/n/m": f"{r['claims_collapse']}/{r['claims_no_collapse']}/{r['claims_mixed']}",
            "weighted c/n/m": f"{r['weighted_collapse']:.1f}/{r['weighted_no_collapse']:.1f}/{r['weighted_mixed']:.1f}",
            "support": fmt_share(r["support"]),
            "weighted": fmt_share(r["weighted_support"]),
            "published c/n/-": f"{r['published_collapse']}/{r['published_no_collapse']}/{r['published_not_measured']}",
            "realistic c/n/-": f"{r['realistic_collapse']}/{r['realistic_no_collapse']}/{r['realistic_not_measured']}",
        })
    _print_rows(rows, "table", "Evidence synthesis per definition (c collapse, n no-collapse, m mixed, - not measured)")
    for c in checks:
        where = f" [{c['policy']}]" if c["policy"] else ""
        click.echo(f"{c['status']:>13}: {c['statement']}{where} ({c['collapse']} of {c['measured']} measured setup runs collapse)")
