"""The ``mcatlas`` entry point: the click group, global options and error handling.

Every command lives in a module of this package that registers itself on the group below; each
is thin (parse, call into ``metaanalysis`` or ``simulators``, print). Heavy libraries (torch,
altair, vl-convert, dask) are imported inside the commands that need them, so ``mcatlas
validate`` and ``mcatlas matrix --format csv`` start fast.
"""

from __future__ import annotations

import importlib
import os
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import click

from simulators.errors import UserError

#: modules that add commands to :data:`main`
COMMAND_MODULES: tuple[str, ...] = (
    "cli.annotations_cmds",
    "cli.simulation_cmds",
    "cli.profile_cmds",
    "cli.evidence_cmds",
    "cli.atlas_cmds",
    "cli.agreement_cmds",
    "cli.explore_cmds",
)


@dataclass
class Context:
    """What the global options give every command (``click.pass_obj``), and the one way every
    command reaches the annotations and the store."""

    annotations: Path | None
    db: str | None
    quiet: bool
    debug: bool

    @property
    def progress(self) -> bool:
        """Show progress bars: on a terminal and not ``--quiet``."""
        return not self.quiet and sys.stderr.isatty()

    def root(self) -> Path:
        """The annotations directory: ``--annotations``, else ``MCATLAS_ANNOTATIONS``, else the
        checkout's ``annotations/``, else the copy shipped in the installed package (the order is
        :func:`metaanalysis.annotations.paths.annotations_dir`'s)."""
        from metaanalysis.annotations.paths import annotations_dir

        return annotations_dir(self.annotations)

    def url(self) -> str:
        """The store's URL (``--db``, ``MCATLAS_DB``, SQLite under ``.mcatlas/``)."""
        from metaanalysis.annotations.paths import db_url

        return db_url(self.db)

    def index(self) -> Any:
        """The store's engine with the annotation index current (evidence tables untouched:
        commands that only read annotations never create them)."""
        from metaanalysis.store.index import open_index

        return open_index(self.url(), self.root())

    def store(self) -> Any:
        """The store's engine: every table present, the annotation index current."""
        from metaanalysis.evidence.tables import open_evidence

        return open_evidence(self.url(), self.root())

    def database(self) -> Any:
        """The validated annotation database (records, definitions, realism scales)."""
        from metaanalysis.annotations.validation import load_database

        return load_database(self.root())


def _version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("mcatlas")
    except PackageNotFoundError:  # running from a source tree that is not installed
        return "0+unknown"


class _Group(click.Group):
    """A group that turns :class:`UserError` into one line on stderr and a non-zero exit."""

    def invoke(self, ctx: click.Context):
        """Run the command; a :class:`UserError` becomes one line and exit 1. Any other error
        (a bug, or a library failure no command anticipated) becomes one line naming its type
        and exit 2; ``--debug`` shows the traceback instead."""
        try:
            return super().invoke(ctx)
        except (click.exceptions.ClickException, click.exceptions.Exit, click.exceptions.Abort):
            raise
        except UserError as exc:
            if _debug(ctx):
                raise
            click.echo(f"error: {exc}", err=True)
            sys.exit(exc.exit_code)
        except BrokenPipeError:
            # the reader of a pipe stopped early (`mcatlas papers | head`): not an error of ours;
            # point stdout at /dev/null so that the interpreter's final flush does not fail again
            os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
            sys.exit(0)
        except Exception as exc:  # the last resort: never a traceback without --debug
            if _debug(ctx):
                raise
            first = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
            click.echo(
                f"error: unexpected {type(exc).__name__}: {first} (rerun with --debug for the "
                "traceback; please report it)",
                err=True,
            )
            sys.exit(2)


def _debug(ctx: click.Context) -> bool:
    return isinstance(ctx.obj, Context) and ctx.obj.debug


@click.group(cls=_Group, context_settings={"help_option_names": ["-h", "--help"]})
@click.option(
    "--annotations",
    type=click.Path(file_okay=False, path_type=Path),
    envvar="MCATLAS_ANNOTATIONS",
    help="Annotation directory (default: the checkout's annotations/ when running from a clone, "
         "else the copy installed with the package).",
)
@click.option(
    "--db",
    envvar="MCATLAS_DB",
    help="SQLAlchemy URL of the store (default: SQLite under .mcatlas/ here; env MCATLAS_DB).",
)
@click.option("--quiet", "-q", is_flag=True, help="No progress bars or chatter.")
@click.option("--debug", is_flag=True, help="Show Python tracebacks for errors.")
@click.version_option(version=_version(), prog_name="mcatlas")
@click.pass_context
def main(ctx: click.Context, annotations: Path | None, db: str | None, quiet: bool, debug: bool):
    """mcatlas, the Model Collapse Atlas: annotated papers, re-executed setups, meta-analysis."""
    ctx.obj = Context(annotations=annotations, db=db, quiet=quiet, debug=debug)


def _register_commands() -> None:
    for module in COMMAND_MODULES:
        importlib.import_module(module)


_register_commands()

if __name__ == "__main__":  # pragma: no cover
    main(prog_name=os.path.basename(sys.argv[0]))
