"""``mcatlas explore``: a paper setup over a grid of realism axes, and where its verdicts flip.

Thin: parse, call :func:`metaanalysis.analysis.explore.explore` (grid planning and running in
:mod:`metaanalysis.evidence.explore`), print; the phase diagrams are
:mod:`metaanalysis.present.charts_explore`.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click

from cli.main import Context, main
from cli.output import STYLES, echo_csv, echo_json, format_option, print_table, progress_bar
from simulators.errors import UserError

#: verdicts as the cells table writes them
SHORT = {"collapse": "collapse", "no-collapse": "no-collapse", "inconclusive": "inconclusive",
         "not-measured": "-", "not run": "not run"}


def _value(v: Any) -> str:
    return f"{v:g}" if isinstance(v, float) else str(v)


def _pct(x: Any) -> str:
    return "" if x is None or x != x else f"{100 * x:.0f}%"


def _setup(paper: Any, name: str | None) -> Any:
    names = [s.name for s in paper.setups]
    if not names:
        raise UserError(f"{paper.key} has no setups to explore")
    if name is None:
        if len(names) > 1:
            raise UserError(f"{paper.key} has {len(names)} setups; choose one with --setup NAME: {', '.join(names)}")
        return paper.setups[0]
    for s in paper.setups:
        if s.name == name:
            return s
    raise UserError(f"unknown setup {name!r} of {paper.key}; valid choices: {', '.join(names)}")


def _csv_rows(result: dict[str, Any]) -> list[dict[str, Any]]:
    rows = []
    for c in result["cells"]:
        for d in c["verdicts"] or {"": None}:
            lo, hi = c["ci"].get(d) or (None, None)
            rows.append({**c["axes"], "definition": d, "verdict": c["verdicts"].get(d, "not run"),
                         "statistic": c["statistics"].get(d), "ci_low": lo, "ci_high": hi,
                         "stability": c["stability"].get(d), "config_hash": c["config_hash"]})
    return rows


def _print(result: dict[str, Any]) -> None:
    axes = list(result["axes"])
    definitions = list(dict.fromkeys(d for c in result["cells"] for d in c["verdicts"]))
    measured = [d for d in definitions if any(c["verdicts"].get(d) != "not-measured" for c in result["cells"])]
    rows = []
    for c in result["cells"]:
        row = [_value(c["axes"][a]) for a in axes]
        for d in measured:
            v = c["verdicts"].get(d, "not run") if c["stored"] else "not run"
            s = c["stability"].get(d)
            row.append(SHORT.get(v, v) + (f" {_pct(s)}" if v in ("collapse", "no-collapse") else ""))
        row.append(c["config_hash"][:12])
        rows.append(row)
    styles = {text: STYLES[text.split()[0]] for row in rows for text in row
              if text.split() and text.split()[0] in STYLES}
    print_table(f"{result['paper']}/{result['setup']}: verdicts per cell (stability), each read at the "
                f"cell's own length", [*axes, *measured, "config"], rows, styles=styles, lines=True)
    brows = []
    for b in result["boundaries"]:
        fixed = ", ".join(f"{k}={_value(v)}" for k, v in b["fixed"].items()) or "-"
        along = " ".join(f"{_value(v)}:{SHORT.get(x, x)}" for v, x in zip(b["values"], b["verdicts"]))
        flips = "; ".join(
            f"{_value(f['from'])} -> {_value(f['to'])} ({f['verdicts'][0]} {_pct(f['stability'][0])} -> "
            f"{f['verdicts'][1]} {_pct(f['stability'][1])}"
            + (f"; undecided at {', '.join(_value(u) for u in f['undecided'])}" if f["undecided"] else "") + ")"
            for f in b["flips"]) or "none"
        monotone = {True: "yes", False: "no", None: "-"}[b["monotone"]]
        brows.append([b["definition"], b["axis"], fixed, along, flips, monotone])
    if brows:
        print_table("boundaries: where the verdict flips along each axis (other axes fixed)",
                    ["definition", "axis", "fixed", "verdicts along the axis", "flips", "monotone"], brows, lines=True)
    trows = []
    for d, t in result["what_it_takes"].items():
        if "min_real_fraction" not in t:
            continue
        trows.append([d, t["status"], _takes(t["min_real_fraction"]), _takes(t.get("max_synthetic_ratio", {}))])
    if trows:
        print_table("what it takes (from the setup's own values)",
                    ["definition", "as run", "smallest real fraction without collapse",
                     "largest synthetic ratio without collapse"], trows, lines=True)
    for note in result["notes"]:
        click.echo(f"note: {note}", err=True)
    if result["missing"]:
        click.echo(f"{result['missing']} cell(s) not stored", err=True)


def _takes(t: dict[str, Any]) -> str:
    if not t:
        return "-"
    if t.get("value") is None:
        return t.get("reason", "-")
    text = f"{_value(t['value'])} (stability {_pct(t.get('stability'))})"
    other = t.get("other_side")
    if other:
        text += f"; {other['verdict']} at {_value(other['value'])} ({_pct(other['stability'])})"
    if t.get("undecided"):
        text += f"; undecided at {', '.join(_value(u) for u in t['undecided'])}"
    if t.get("at_real_fraction") is not None:
        text += f"; at real fraction {_value(t['at_real_fraction'])}"
    return text


@main.command("explore")
@click.argument("key")
@click.option("--setup", "setup_name", default=None, metavar="NAME",
              help="The setup to explore (needed when the paper has several).")
@click.option("--axis", "axis_items", multiple=True, metavar="NAME=V1,V2,...",
              help="An axis and its values (repeatable): policy, real_fraction, synthetic_ratio, iterations, "
                   "seeds or a simulator parameter. Default: real_fraction x synthetic_ratio around the setup.")
@click.option("--seeds", type=click.IntRange(min=1), default=None, help="Seeds of every cell (default: the setup's).")
@click.option("--iterations", type=click.IntRange(min=1), default=None,
              help="Iterations of every cell (default: the setup's).")
@click.option("--executor", type=click.Choice(["serial", "processes", "dask"]), default="processes",
              show_default=True, help="Where the cells run (as mcatlas sweep).")
@click.option("--workers", type=click.IntRange(min=1), default=None, help="Worker processes (as mcatlas sweep).")
@click.option("--scheduler", default=None, metavar="ADDRESS", help="A Dask scheduler (with --executor dask).")
@click.option("--max-configs", type=click.IntRange(min=1), default=None, metavar="N",
              help="Refuse grids with more cells than N (default 10,000).")
@format_option(default=None, help="Print: table (default without --out), csv (one row per cell and "
               "definition) or json (cells and boundaries).")
@click.option("--out", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="Write phase diagrams, one per definition (.html, .svg, .png).")
@click.pass_obj
def explore_cmd(obj: Context, key: str, setup_name: str | None, axis_items: tuple[str, ...], seeds: int | None,
                iterations: int | None, executor: str, workers: int | None, scheduler: str | None,
                max_configs: int | None, fmt: str | None, out: Path | None) -> None:
    """Run a paper setup over a grid of realism axes (each cell stored and reused like any run)
    and show the verdict of every definition in every cell, and where verdicts flip."""
    from metaanalysis.analysis.explore import explore
    from metaanalysis.evidence.explore import parse_axis
    from metaanalysis.store.queries import get_paper

    if scheduler and executor != "dask":
        raise UserError("--scheduler needs --executor dask")
    if out is not None:
        from metaanalysis.present.charts_explore import check_chart_path

        check_chart_path(out)  # fail before any run
    axes: dict[str, list[Any]] = {}
    for item in axis_items:
        name, values = parse_axis(item)
        if name in axes:
            raise UserError(f"--axis {name} given twice")
        axes[name] = values
    eng = obj.store()
    setup = _setup(get_paper(eng, key), setup_name)
    options = dict(executor=executor, workers=workers, scheduler=scheduler, seeds=seeds, iterations=iterations,
                   max_configs=max_configs)
    if obj.progress:
        with progress_bar() as bar:
            task = bar.add_task(f"explore {key}/{setup.name}", total=None)
            result = explore(eng, key, setup, axes or None, **options,
                             progress=lambda d, t: bar.update(task, completed=d, total=t))
    else:
        result = explore(eng, key, setup, axes or None, **options)
    if out is not None:
        from metaanalysis.present.charts_explore import save_phase_diagrams

        save_phase_diagrams(result, out)
        if not obj.quiet:
            click.echo(f"wrote the phase diagrams to {out}", err=True)
    fmt = fmt or (None if out is not None else "table")
    if fmt == "json":
        echo_json(result)
    elif fmt == "csv":
        echo_csv(_csv_rows(result))
    elif fmt == "table":
        _print(result)
