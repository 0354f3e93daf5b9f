"""``mcatlas profile``: the collapse profile of a run (a saved run file, or run arguments).

Thin by design: the run file is read by :func:`simulators.runfiles.read_run`, a run is made by
:mod:`simulators.engine` (the options are those of ``mcatlas run``, parsed by the same helpers),
and the verdicts come from :func:`simulators.verdicts.profile`.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click

from cli.main import Context, main
from cli.output import STYLES, echo_csv, format_option, number, print_table, records
from cli.simulation_cmds import execute_with_progress, resolve_options, run_options
from simulators.errors import UserError

OUT_FORMATS = (".csv", ".json")


def parse_thresholds(items: tuple[str, ...]) -> dict[str, Any]:
    """``NAME=VALUE`` threshold overrides (names: the fields of ``verdicts.Thresholds``)."""
    from simulators.verdicts import Thresholds

    out: dict[str, Any] = {}
    valid = ", ".join(Thresholds.model_fields)
    for item in items:
        key, sep, raw = item.partition("=")
        key = key.strip().replace("-", "_")
        if not sep or not key:
            raise UserError(f"--threshold {item!r}: expected NAME=VALUE")
        if key not in Thresholds.model_fields:
            raise UserError(f"--threshold {key!r}: unknown threshold; valid names: {valid}")
        out[key] = raw.strip()
    return out


def _print_table(prof: Any, title: str) -> None:
    pct = f"{100 * prof.level:.1f}".rstrip("0").rstrip(".")
    rows = []
    for v in prof.verdicts:
        ci = "" if v.ci_low != v.ci_low else f"[{number(v.ci_low)}, {number(v.ci_high)}]"
        rows.append([v.definition, v.verdict, v.statistic, ci, v.iteration,
                     "" if v.stability != v.stability else f"{100 * v.stability:.0f}%", v.reason])
    print_table(title + f"; each interval {pct}% (family-wise {100 * prof.thresholds.ci_level:g}%)",
                ["definition", "verdict", "statistic", "CI", "iteration", "stability", "reason"], rows,
                styles=STYLES, lines=True, no_wrap=("verdict",))


@main.command("profile")
@click.argument("simulator", required=False)
@click.option("--run", "run_file", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="A saved run (.csv, .parquet, .json: the tidy per-seed table of mcatlas run).")
@run_options
@click.option("--baseline", type=float, default=None,
              help="Trivial risk (of a model that ignores the data) for catastrophic-risk.")
@click.option("--threshold", "thresholds", multiple=True, metavar="NAME=VALUE",
              help="Override a verdict threshold (repeatable), e.g. variance_floor=0.05.")
@format_option(default=None, help="Print: table (default without --out), csv or json.")
@click.option("--out", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="Save the profile (.csv: one row per definition; .json: with thresholds).")
@click.pass_obj
def profile_cmd(obj: Context | None, simulator: str | None, run_file: Path | None, run: dict[str, Any],
                baseline: float | None, thresholds: tuple[str, ...], fmt: str | None, out: Path | None) -> None:
    """The collapse profile (a verdict per definition) of a run: --run FILE, or SIMULATOR with
    the options of mcatlas run."""
    from simulators.runfiles import check_writable, read_run
    from simulators.verdicts import profile, thresholds_from

    th = thresholds_from(parse_thresholds(thresholds))
    if out is not None:
        check_writable(out, OUT_FORMATS)  # fail before any work
    if (simulator is None) == (run_file is None):
        raise UserError("give either a SIMULATOR to run or --run FILE (a saved run), not both"
                        if simulator else "give a SIMULATOR to run or --run FILE (a saved run)")
    if run_file is not None:
        frame = read_run(run_file)
        title = f"collapse profile of {run_file}"
    else:
        spec = resolve_options(simulator, run)
        frame = execute_with_progress(spec, obj)
        title = f"collapse profile of {spec.simulator} {spec.policy}"
    prof = profile(frame, thresholds=th, baseline=baseline)
    title += f" ({prof.seeds} seeds, {prof.iterations} iterations)"
    if out is not None:
        text = prof.to_frame().to_csv(index=False) if out.suffix.lower() == ".csv" else prof.to_json(indent=1) + "\n"
        try:
            out.write_text(text, encoding="utf-8")
        except OSError as exc:
            raise UserError(f"{out}: cannot write: {exc.strerror or exc}") from None
        if obj is None or not obj.quiet:
            click.echo(f"wrote the profile to {out}", err=True)
    fmt = fmt or (None if out is not None else "table")
    if fmt == "table":
        _print_table(prof, title)
    elif fmt == "csv":
        echo_csv(records(prof.to_frame()))
    elif fmt == "json":
        click.echo(prof.to_json(indent=1))
