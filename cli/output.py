"""The CLI's one output layer: what ``--format`` means, how numbers are written, one table printer.

``--format`` means the same everywhere: ``table`` (a rich table for a terminal; the default),
``csv`` (one header row, then records) or ``json`` (strict JSON), plus what a command adds
(``github`` for ``validate``, ``bibtex`` for ``papers``, ``text`` where the output is prose).

Numbers are written one way: :func:`number` for tables (NaN as an empty cell, infinities as
``inf``/``-inf``, four significant digits), :func:`plain` for CSV and JSON (NaN as null/empty,
infinities as the strings ``"inf"``/``"-inf"`` as in run files, floats to six significant digits,
numpy scalars as Python numbers).
"""

from __future__ import annotations

import csv
import json
import math
import sys
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import click

#: the formats every listing command offers
FORMATS: tuple[str, ...] = ("table", "csv", "json")
#: columns of a table printed to a pipe (a terminal uses its own width)
PIPE_WIDTH = 200


def format_option(*extra: str, default: str | None = "table", help: str | None = None) -> Any:
    """The ``--format`` option: :data:`FORMATS` plus ``extra``."""
    return click.option("--format", "fmt", type=click.Choice([*FORMATS, *extra]), default=default,
                        show_default=default is not None,
                        help=help or "table (for a terminal), csv or json (for pipes)"
                        + (f", or {', '.join(extra)}" if extra else "") + ".")


def _python_value(v: Any) -> Any:
    """``v`` with a numpy scalar (or 0-d array) unwrapped to the Python value it holds, NaN as
    None and infinities as the strings ``"inf"``/``"-inf"``; anything else as it is."""
    if hasattr(v, "item") and not isinstance(v, (str, bytes)):
        try:
            v = v.item()
        except (ValueError, AttributeError):
            pass
    if isinstance(v, float) and not math.isfinite(v):
        return None if math.isnan(v) else ("inf" if v > 0 else "-inf")
    return v


def number(x: Any, digits: int = 4) -> str:
    """A table cell: NaN and None empty, infinities ``inf``/``-inf``, floats to ``digits``
    significant digits, everything else as text."""
    x = _python_value(x)
    if x is None:
        return ""
    if isinstance(x, float):
        return f"{x:.{digits}g}"
    return str(x)


def plain(v: Any, digits: int = 6) -> Any:
    """One CSV/JSON value (containers recursively; see the module docstring)."""
    v = _python_value(v)
    if isinstance(v, float):
        return float(f"{v:.{digits}g}")
    if isinstance(v, Mapping):
        return {str(k): plain(x, digits) for k, x in v.items()}
    if isinstance(v, (list, tuple)):
        return [plain(x, digits) for x in v]
    try:
        import pandas as pd

        if v is not None and not isinstance(v, (str, int, bool)) and pd.isna(v):
            return None
    except (TypeError, ValueError, ImportError):
        pass
    return v


def records(rows: Any) -> list[dict[str, Any]]:
    """A pandas frame or a list of dicts as plain records (:func:`plain` on every value)."""
    if not isinstance(rows, list):
        rows = rows.to_dict(orient="records")
    return [{str(k): plain(v) for k, v in r.items()} for r in rows]


def echo_json(obj: Any) -> None:
    """Strict JSON on stdout, values made plain."""
    click.echo(json.dumps(plain(obj), indent=2, ensure_ascii=False, allow_nan=False))


def echo_csv(rows: Sequence[Mapping[str, Any]], columns: Sequence[str] | None = None) -> None:
    """CSV on stdout: a header row of ``columns`` (default: the first row's keys), then rows."""
    header = list(columns) if columns is not None else (list(rows[0]) if rows else [])
    writer = csv.DictWriter(sys.stdout, fieldnames=header, lineterminator="\n", extrasaction="ignore")
    writer.writeheader()
    for r in rows:
        writer.writerow({k: ("" if v is None else v) for k, v in plain(dict(r)).items()})


def console(stderr: bool = False) -> Any:
    """A rich console: a terminal's own width, :data:`PIPE_WIDTH` columns on a pipe."""
    from rich.console import Console

    c = Console(stderr=stderr)
    return c if c.is_terminal else Console(stderr=stderr, width=PIPE_WIDTH)


def print_table(title: str, columns: Sequence[str], rows: Iterable[Sequence[Any]], *,
                styles: Mapping[str, str] | None = None, lines: bool = False,
                no_wrap: Sequence[str] = ()) -> None:
    """The one table printer: cells through :func:`number`; ``styles`` maps a cell's text to a
    rich style (a verdict's colour); long cells wrap inside their column."""
    from rich.table import Table

    table = Table(title=title, show_lines=lines)
    for i, c in enumerate(columns):
        table.add_column(c, overflow="fold", no_wrap=i == 0 or c in no_wrap)
    for row in rows:
        cells = [number(x) for x in row]
        if styles:
            cells = [f"[{styles[c]}]{c}[/]" if c in styles else c for c in cells]
        table.add_row(*cells)
    console().print(table)


def emit(rows: Sequence[Mapping[str, Any]], fmt: str, *, title: str, columns: Sequence[str] | None = None,
         table_columns: Sequence[str] | None = None, styles: Mapping[str, str] | None = None) -> None:
    """Rows of records in ``fmt``: a table (of ``table_columns``, default ``columns``), CSV or JSON
    (of ``columns``, default every key)."""
    if fmt == "json":
        echo_json([{k: r.get(k) for k in columns} if columns else dict(r) for r in rows])
    elif fmt == "csv":
        echo_csv(rows, columns)
    else:
        shown = list(table_columns or columns or (list(rows[0]) if rows else []))
        print_table(title, shown, ([r.get(c) for c in shown] for r in rows), styles=styles)


def progress_bar() -> Any:
    """The one progress bar (rich, on stderr, gone when done): description, bar, done/total,
    elapsed time. Commands show it only when ``Context.progress`` says so."""
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    return Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
                    TimeElapsedColumn(), console=console(stderr=True), transient=True)


#: the colour of each verdict and claim status in tables
STYLES: dict[str, str] = {
    "collapse": "bold red", "no-collapse": "green", "inconclusive": "yellow", "not-measured": "dim",
    "mixed": "magenta",
}


__all__ = ["FORMATS", "PIPE_WIDTH", "STYLES", "console", "echo_csv", "echo_json", "emit", "format_option",
           "number", "plain", "print_table", "progress_bar", "records"]
