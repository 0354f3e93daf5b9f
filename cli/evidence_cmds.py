"""Commands on re-executed evidence: ``mcatlas rerun``, ``mcatlas runs``, ``mcatlas sweep``.

Thin: parse, call :mod:`metaanalysis.evidence.reruns`, :mod:`metaanalysis.evidence.sweep` and
:mod:`metaanalysis.evidence`, print. Progress bars (rich) when ``ctx.obj.progress``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click

from cli.main import Context, main
from cli.output import echo_csv, echo_json, format_option, print_table, progress_bar, records
from simulators.errors import UserError


# -- rerun ---------------------------------------------------------------------------------


@main.command("rerun")
@click.argument("key", required=False)
@click.option("--all", "all_", is_flag=True, help="Rerun every setup of every paper.")
@click.option("--setup", "setups", multiple=True, metavar="NAME", help="Only this setup (repeatable).")
@click.option("--as-published", "variant", flag_value="published", help="Only as published.")
@click.option("--realistic", "variant", flag_value="realistic", help="Only under realistic conditions.")
@click.option("--control", "variant", flag_value="control",
              help="Only the control: the published policy at the realistic horizon.")
@click.option("--all-variants", "variant", flag_value="all", default=True,
              help="As published, realistic and control (default).")
@click.option("--seeds", type=click.IntRange(min=1), default=None,
              help="Override the number of seeds: an exploratory rerun, stored apart from the "
                   "setup's evidence (`mcatlas show KEY --overrides`).")
@click.option("--force", is_flag=True, help="Recompute even when the configuration is stored.")
@format_option()
@click.pass_obj
def rerun_cmd(obj: Context, key: str | None, all_: bool, setups: tuple[str, ...], variant: str,
              seeds: int | None, force: bool, fmt: str) -> None:
    """Re-execute a paper's setups (as published, under realistic conditions and the control)
    and store the evidence; stored configurations are answered from the store ("cached") unless
    --force. With --seeds S the reruns are exploratory: they never replace the evidence of the
    setups as annotated."""
    from metaanalysis.evidence.planning import plan, realistic_defaults
    from metaanalysis.evidence.reruns import rerun
    from simulators.vocabulary import VARIANTS
    from metaanalysis.store.index import read_papers

    if all_ == (key is not None):
        raise UserError("give a paper KEY or --all" if not all_ else "give either a paper KEY or --all, not both")
    if setups and all_:
        raise UserError("--setup needs a paper KEY (not --all)")
    root = obj.root()
    eng = obj.store()
    if key is not None:
        from metaanalysis.store.queries import get_paper

        papers = [get_paper(eng, key)]
    else:
        papers = read_papers(eng)
    variants = VARIANTS if variant in (None, "all") else (variant,)
    defaults = realistic_defaults(root)
    planned = plan(papers, setups or None, variants, seeds, defaults)
    if not planned:
        raise UserError(f"{key or 'no paper'} has no setups to rerun" if key else "no paper has setups to rerun")
    if obj.progress:
        with progress_bar() as bar:
            overall = bar.add_task("runs", total=len(planned))
            current = bar.add_task("", total=1, visible=False)

            def progress(p: Any, t: int, total: int) -> None:
                bar.update(current, description=p.label, completed=t, total=total, visible=True)

            outcomes = rerun(eng, planned, force=force, progress=progress,
                             on_outcome=lambda o: bar.advance(overall))
    else:
        outcomes = rerun(eng, planned, force=force)
    if fmt != "table":
        rows = [{**o.as_dict(), "verdicts": o.verdicts} for o in outcomes]
        if fmt == "json":
            echo_json(rows)
        else:
            echo_csv([{**r, "verdicts": "; ".join(f"{d}:{v}" for d, v in r["verdicts"].items())} for r in rows])
        return
    notes = {"cached": "cached (answered from the store)", "exists": "stored meanwhile by another process",
             "replaced": "recomputed (--force), replaced", "computed": "computed and stored"}
    print_table(f"{len(outcomes)} run(s)", ["paper", "setup", "variant", "status", "config", "seconds",
                                             "collapse under"],
                [[o.planned.paper, o.planned.setup,
                  o.planned.variant + (f" ({o.planned.override})" if o.planned.override else ""),
                  notes[o.status], o.planned.config_hash[:12],
                  "-" if o.status == "cached" else f"{o.wall_time:.2f}",
                  ", ".join(d for d, v in o.verdicts.items() if v == "collapse") or "-"] for o in outcomes])
    cached = sum(o.status == "cached" for o in outcomes)
    if cached and not obj.quiet:
        click.echo(f"{cached} of {len(outcomes)} answered from the store (cached); --force recomputes", err=True)


# -- runs ----------------------------------------------------------------------------------


@main.command("runs")
@click.option("--paper", default=None, metavar="KEY", help="Only runs of this paper's setups.")
@click.option("--sweep", "sweep_name", default=None, metavar="NAME", help="Only runs of this sweep.")
@format_option()
@click.pass_obj
def runs_cmd(obj: Context, paper: str | None, sweep_name: str | None, fmt: str) -> None:
    """List stored runs (paper, setup, variant, configuration hash, simulator, policy, ...).

    A link whose setup changed since its run (or whose code changed) is listed with status
    "stale: rerun"; its evidence is not shown by matrix --evidence, show or the atlas."""
    from metaanalysis.evidence.links import STATE_NOTES
    from metaanalysis.evidence.read import runs_frame

    eng = obj.store()
    if paper is not None:
        from metaanalysis.store.queries import get_paper

        get_paper(eng, paper)  # an unknown key is a one-line error with the closest keys
    frame = runs_frame(eng, paper=paper, sweep=sweep_name, include_stale=True, overrides=True)
    if fmt != "table":
        (echo_json if fmt == "json" else echo_csv)(records(frame))
        return
    cols = ["paper", "setup", "variant", "override", "sweep", "config_hash", "simulator", "policy", "real_fraction",
            "seeds", "iterations", "wall_time", "finished", "status"]
    rows = []
    for r in records(frame):
        r["config_hash"] = r["config_hash"][:12]
        r["status"] = STATE_NOTES.get(r["status"], r["status"])
        rows.append([r[c] for c in cols])
    print_table(f"{len(frame)} stored run(s)", cols, rows, no_wrap=("status",))


# -- sweep ---------------------------------------------------------------------------------


@main.command("sweep")
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--executor", type=click.Choice(["serial", "processes", "dask"]), default="processes",
              show_default=True, help="Where configurations run.")
@click.option("--scheduler", default=None, metavar="ADDRESS",
              help="Address of an existing Dask scheduler (with --executor dask).")
@click.option("--workers", type=click.IntRange(min=1), default=None,
              help="Worker processes (processes: default the CPU count; dask LocalCluster: "
                   "default one in-process worker).")
@click.option("--force", is_flag=True, help="Recompute configurations that are stored.")
@click.option("--max-configs", type=click.IntRange(min=1), default=None, metavar="N",
              help="Refuse grids with more configurations than N (default 10,000).")
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text", show_default=True,
              help="text: one summary line; json: the outcome as one document.")
@click.pass_obj
def sweep_cmd(obj: Context, file: Path, executor: str, scheduler: str | None, workers: int | None,
              force: bool, max_configs: int | None, fmt: str) -> None:
    """Run a YAML grid of configurations through an executor; resumable (stored configurations
    are skipped)."""
    from metaanalysis.evidence.sweep import MAX_CONFIGS, load_sweep, run_sweep

    if scheduler and executor != "dask":
        raise UserError("--scheduler needs --executor dask")
    sweep = load_sweep(file, max_configs=max_configs or MAX_CONFIGS)
    eng = obj.store()
    if obj.progress:
        with progress_bar() as bar:
            task = bar.add_task(f"sweep {sweep.name}", total=len(sweep.configs))
            outcome = run_sweep(eng, sweep, executor=executor, workers=workers, scheduler=scheduler,
                                force=force, progress=lambda d, t: bar.update(task, completed=d))
    else:
        outcome = run_sweep(eng, sweep, executor=executor, workers=workers, scheduler=scheduler, force=force)
    if fmt == "json":
        echo_json(outcome.as_dict())
        return
    click.echo(
        f"sweep {outcome.name}: {outcome.total} configuration(s); {outcome.skipped} already stored "
        f"(skipped); {len(outcome.stored)} run and stored"
        + (f"; {outcome.existed} stored meanwhile by another process" if outcome.existed else "")
    )
