"""``mcatlas simulators`` and ``mcatlas run``: list the simulators, run one of them.

Thin by design: arguments are parsed here and everything else (validation with one-line errors,
the loop, the per-iteration summary) is :mod:`simulators.engine`.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click

from cli.main import Context, main
from cli.output import echo_csv, echo_json, format_option, number, print_table
from simulators.errors import UserError


def parse_params(items: tuple[str, ...]) -> dict[str, Any]:
    """``KEY=VALUE`` pairs; values are YAML scalars (or flow lists) read with the safe loader."""
    import yaml

    params: dict[str, Any] = {}
    for item in items:
        key, sep, raw = item.partition("=")
        key = key.strip()
        if not sep or not key:
            raise UserError(f"--param {item!r}: expected KEY=VALUE")
        if key in params:
            raise UserError(f"--param {key!r} given twice")
        try:
            value = yaml.safe_load(raw) if raw.strip() else raw
        except yaml.YAMLError:
            raise UserError(f"--param {key}: cannot read value {raw!r}") from None
        if isinstance(value, dict):
            raise UserError(f"--param {key}: expected a number, a word or a [list], got a mapping")
        params[key] = value
    return params


def parse_seeds(text: str) -> int | list[int]:
    """``S`` (seed ids 0..S-1) or a comma-separated list of seed ids."""
    try:
        if "," in text:
            return [int(part) for part in text.split(",") if part.strip()]
        return int(text)
    except ValueError:
        raise UserError(f"--seeds {text!r}: expected a count or a comma-separated list of ints") from None


@main.command("simulators")
@format_option()
def simulators_cmd(fmt: str) -> None:
    """List the simulators with their parameters, defaults and metrics."""
    from simulators.engine import available

    entries = available()
    if fmt == "json":
        echo_json(entries)
    elif fmt == "csv":
        echo_csv([{"simulator": e["name"], "parameter": p["name"], "type": p["type"], "default": p["default"],
                   "description": p["description"]} for e in entries for p in e["params"]])
    else:
        print_table("simulators", ["simulator", "backend", "parameters (default)", "metrics"], [
            [f"{e['name']}\n{e['summary']}", e["backend"],
             "\n".join(f"{p['name']}: {p['type']} = {p['default']!r}" for p in e["params"]), "\n".join(e["metrics"])]
            for e in entries], lines=True)


def _print_summary(frame: Any) -> None:
    from simulators.summary import summarize

    summary = summarize(frame)
    metrics = list(dict.fromkeys(frame["metric"]))
    cells = {(r.iteration, r.metric): r for r in summary.itertuples()}
    rows = []
    for iteration in sorted(summary["iteration"].unique()):
        row = [str(iteration)]
        for metric in metrics:
            r = cells[(iteration, metric)]
            ci = "" if r.ci_low != r.ci_low else f" [{number(r.ci_low)}, {number(r.ci_high)}]"
            row.append(number(r.mean) + ci)
        rows.append(row)
    print_table(f"mean [95% CI] over {frame['seed'].nunique()} seeds", ["iteration", *metrics], rows)


def execute_with_progress(spec: Any, obj: Context | None) -> Any:
    """Execute a resolved run, with a progress bar over iterations when ``obj.progress``."""
    from simulators.engine import execute

    if obj is None or not obj.progress:
        return execute(spec)
    from cli.output import progress_bar

    with progress_bar() as bar:
        task = bar.add_task(f"{spec.simulator} {spec.policy}", total=spec.iterations)
        return execute(spec, progress=lambda t, total: bar.update(task, completed=t))


def _run_option(name: str, flag: str, **kwargs: Any) -> Any:
    """A click option for the RunSpec field ``name``: its default and help come from the model."""
    from simulators.runspec import DEFAULTS, RunSpec

    default = DEFAULTS[name]
    return click.option(flag, default=None if default is None else str(default) if name == "seeds"
                        else default, show_default=default is not None,
                        help=RunSpec.model_fields[name].description, **kwargs)


#: the options that describe one run, shared by ``mcatlas run`` and ``mcatlas profile``; their
#: defaults are those of :class:`simulators.runspec.RunSpec`
RUN_OPTIONS = (
    _run_option("policy", "--policy"),
    _run_option("real_fraction", "--real-fraction", type=float),
    _run_option("synthetic_ratio", "--synthetic-ratio", type=float),
    _run_option("seeds", "--seeds"),
    _run_option("iterations", "--iterations", type=int),
    click.option("--param", "params", multiple=True, metavar="KEY=VALUE", help="A simulator parameter (repeatable)."),
    _run_option("device", "--device"),
)


#: the keyword names of :data:`RUN_OPTIONS`
RUN_KEYS: tuple[str, ...] = ("policy", "real_fraction", "synthetic_ratio", "seeds", "iterations", "params", "device")


def run_options(command: Any) -> Any:
    """Decorator: add :data:`RUN_OPTIONS` to a command, in order, and hand their values to it as
    one ``run`` dict (for :func:`resolve_options`)."""
    import functools

    @functools.wraps(command)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        run = {k: kwargs.pop(k) for k in RUN_KEYS}
        return command(*args, run=run, **kwargs)

    for option in reversed(RUN_OPTIONS):
        wrapper = option(wrapper)
    return wrapper


def resolve_options(simulator: str, run: dict[str, Any], metrics: str | None = None) -> Any:
    """The resolved :class:`simulators.runspec.RunSpec` of a command's run options."""
    from simulators.runspec import RunSpec

    return RunSpec.of(simulator=simulator, **{**run, "params": parse_params(run["params"]),
                                               "seeds": parse_seeds(run["seeds"])}, metrics=metrics).resolve()


@main.command("run")
@click.argument("simulator")
@run_options
@click.option("--metrics", default=None, help="Comma-separated metrics (default: all the simulator reports).")
@click.option("--out", type=click.Path(dir_okay=False, path_type=Path), default=None, help="Save the per-seed table (.csv, .parquet, .json).")
@format_option(default=None, help="Print: table (per-iteration mean and CI; default without --out), csv "
               "or json (per-seed rows).")
@click.pass_obj
def run_cmd(obj: Context, simulator: str, run: dict[str, Any], metrics: str | None, out: Path | None,
            fmt: str | None) -> None:
    """Run SIMULATOR under a data policy and print or save its per-seed metrics."""
    from simulators.runfiles import check_writable, run_to_json, write_run

    spec = resolve_options(simulator, run, metrics)
    if out is not None:
        check_writable(out)  # fail before any work
    frame = execute_with_progress(spec, obj)
    if out is not None:
        write_run(frame, out)
        if obj is None or not obj.quiet:
            click.echo(f"wrote {len(frame)} rows to {out}", err=True)
    fmt = fmt or (None if out is not None else "table")
    if fmt == "table":
        _print_summary(frame)
    elif fmt == "csv":
        click.echo(frame.to_csv(index=False), nl=False)
    elif fmt == "json":
        click.echo(run_to_json(frame))
