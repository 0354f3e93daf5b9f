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
