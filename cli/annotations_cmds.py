"""Commands on the annotation database: validate, new, schema, papers, show, matrix, db sync.

Thin: parse, call into :mod:`metaanalysis`, print. Imports of ``metaanalysis`` modules happen
inside the commands, so registering these commands costs nothing for the others; charts
(altair, vl-convert) are imported only for ``matrix --out FILE.html|.svg|.png``.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

import click

from cli.main import Context, main
from cli.output import echo_csv, echo_json, format_option, print_table
from simulators.errors import UserError
from simulators.vocabulary import DEFINITIONS, EXPLICIT_DEFINITION, POLICIES, USAGES


def _gh_escape(text: str, prop: bool = False) -> str:
    text = text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")
    if prop:
        text = text.replace(":", "%3A").replace(",", "%2C")
    return text


# -- validate / schema ---------------------------------------------------------------------


@main.command()
@click.argument("paths", nargs=-1, type=click.Path(path_type=Path))
@click.option(
    "--format", "fmt", type=click.Choice(["text", "json", "github"]), default="text", show_default=True,
    help="text: FILE:LINE: field: message (warnings: FILE:LINE: field: warning: message), one per line; "
         "json: one document; github: workflow annotations (::error, ::warning).",
)
@click.pass_obj
def validate(obj: Context, paths: tuple[Path, ...], fmt: str) -> None:
    """Check annotation files (no PATH: the whole annotations directory).

    Given files are checked against the whole database: its vocabulary and realism scales, and
    the other records of the annotations directory (keys, arXiv ids, DOIs, figure rows, labels).
    Every problem and every warning is printed, one line each, in file and line order, then a
    summary counting both; exit status 1 if there is any problem. Warnings (what
    CONTRIBUTING.md asks for that a record does not do) never fail the run.
    """
    from metaanalysis.annotations.paths import default_annotations_dir
    from metaanalysis.annotations.validation import validate_directory, validate_paths

    if paths:
        bundled = obj.annotations or default_annotations_dir()
        result = validate_paths(paths, bundled)
    else:
        result = validate_directory(obj.root())
    if fmt == "json":
        echo_json({
            "ok": result.ok,
            "files": result.checked_files,
            "papers": len(result.papers),
            "counts": {"problems": len(result.problems), "warnings": len(result.warnings)},
            "problems": [p.as_dict() for p in result.problems],
            "warnings": [w.as_dict() for w in result.warnings],
        })
    else:
        for p in sorted(result.problems + result.warnings, key=lambda p: (p.file, p.line, p.severity, p.field)):
            if fmt == "github":
                title = f",title={_gh_escape(p.field, True)}" if p.field else ""
                click.echo(f"::{p.severity} file={_gh_escape(p.file, True)},line={p.line}{title}::{_gh_escape(p.message)}")
            else:
                click.echo(str(p))
        click.echo(result.summary(), err=bool(result.problems))
    if result.problems:
        sys.exit(1)


@main.command("new")
@click.argument("key")
@click.option("--arxiv", "arxiv", metavar="ID",
              help="The paper's arXiv id (2403.12345, optionally vN): fills arxiv, url, year, month and label.")
@click.option("--title", help="The paper's title.")
@click.option("--out", "out_dir", type=click.Path(file_okay=False, path_type=Path),
              help="Directory to write KEY.yaml in (default: the annotations directory's papers/).")
@click.pass_obj
def new(obj: Context, key: str, arxiv: str | None, title: str | None, out_dir: Path | None) -> None:
    """Write a new paper record KEY.yaml to fill in: every required field, TODO placeholders
    where only the paper can tell, comments saying what goes where. `mcatlas validate` fails
    until every TODO is replaced. Refuses to overwrite a file or to reuse a key."""
    from metaanalysis.annotations import yamlio
    from metaanalysis.annotations.paths import PAPERS_DIR, paper_files, shipped_annotations
    from metaanalysis.annotations.skeleton import (
        placeholder_problems,
        skeleton_text,
        write_new,
    )
    from metaanalysis.annotations.validation import bundled_realism

    root = obj.root()
    if out_dir is None and root == shipped_annotations():
        raise UserError(f"{root} is the copy of the annotations installed with the package; add papers in a "
                        "clone of the repository (or give --out DIR)")
    text = skeleton_text(key, arxiv=arxiv, title=title, realism=bundled_realism(root))
    path = write_new(out_dir if out_dir is not None else root / PAPERS_DIR, key, text, paper_files(root))
    if not obj.quiet:
        todo = len(placeholder_problems(yamlio.load_text(text).data, ""))
        click.echo(f"wrote {path}: replace its {todo} TODO placeholders (CONTRIBUTING.md says how), "
                   f"then run `mcatlas validate {path}`")


@main.command()
def schema() -> None:
    """Print the JSON Schema of a paper record (annotations/paper.schema.json)."""
    from metaanalysis.annotations.records import paper_json_schema_text

    click.echo(paper_json_schema_text(), nl=False)


# -- db ------------------------------------------------------------------------------------


@main.group()
def db() -> None:
    """The SQL index (SQLite under .mcatlas/ by default; --db URL or MCATLAS_DB)."""


@db.command("sync")
@click.pass_obj
def db_sync(obj: Context) -> None:
    """Rebuild the index from the YAML files, in one transaction."""
    from metaanalysis.store.database import engine, shown_url
    from metaanalysis.store.index import sync

    url = obj.url()
    result = sync(engine(url), obj.root())
    if not obj.quiet:
        click.echo(f"synced {len(result.papers)} papers into {shown_url(url)}")


# -- papers / show -------------------------------------------------------------------------


@main.command()
@click.option("--definition", type=click.Choice(DEFINITIONS), help="Papers that use this definition.")
@click.option("--usage", type=click.Choice(USAGES), help="explicit | implicit (with --definition: of it).")
@click.option("--explicit", type=click.Choice(EXPLICIT_DEFINITION), help="Explicit-definition flag.")
@click.option("--year", type=int, help="Release year.")
@click.option("--policy", type=click.Choice(POLICIES), help="Papers that study this data policy.")
@click.option("--search", metavar="TEXT",
              help="Papers whose title, authors, notes or claims contain TEXT (ignoring case); the table "
                   "and CSV say where it matched.")
@format_option("bibtex")
@click.pass_obj
def papers(obj: Context, definition: str | None, usage: str | None, explicit: str | None,
           year: int | None, policy: str | None, search: str | None, fmt: str) -> None:
    """List papers, filtered by definition, usage, explicit flag, year, data policy or text."""
    from metaanalysis.store.queries import find_papers

    found = find_papers(obj.index(), definition=definition, usage=usage, explicit=explicit, year=year, policy=policy)
    matched: dict[str, list[str]] = {}
    if search is not None:
        from metaanalysis.annotations.search import search_papers

        if not search.strip():
            raise UserError("--search: give some text to look for")
        hits = search_papers(found, search)
        found = [p for p, _ in hits]
        matched = {p.key: fields for p, fields in hits}
    if fmt == "bibtex":
        from metaanalysis.annotations.bibtex import bibliography

        click.echo(bibliography(found), nl=False)
        return
    if fmt == "json":
        echo_json([p.model_dump(exclude_none=True) for p in found])
        return
    columns = ["key", "year", "month", "label", "explicit_definition", "definitions", "data_policies",
               "arxiv", "doi", "title", "authors"]
    rows = [
        [p.key, str(p.year), str(p.month or ""), p.label, p.explicit_definition,
         ";".join(f"{d}:{u}" for d, u in p.definitions_in_order().items()),
         ";".join(p.data_policies), p.arxiv or "", p.doi or "", p.title, "; ".join(p.authors)]
        for p in found
    ]
    short = [0, 1, 3, 4, 5, 6]
    if search is not None:  # where the text was found
        columns.append("matched")
        for row, p in zip(rows, found):
            row.append("; ".join(matched[p.key]))
        short.append(len(columns) - 1)
    if fmt == "csv":
        echo_csv([dict(zip(columns, r)) for r in rows], columns)
        return
    print_table(f"{len(found)} paper(s)", [columns[i] for i in short], [[r[i] for i in short] for r in rows])


@main.command()
@click.argument("key")
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text", show_default=True,
              help="text, or json: the record, its claims with both statuses and its stored evidence.")
@click.option("--overrides", is_flag=True, help="Also the exploratory reruns (mcatlas rerun KEY --seeds S).")
@click.pass_obj
def show(obj: Context, key: str, fmt: str, overrides: bool) -> None:
    """One paper in full: identification, definitions, policies, claims, setups, realism, and its
    claims judged against the stored reruns (reproduced as published? surviving realistic
    conditions?)."""
    from metaanalysis.present.text import evidence_document, evidence_text, paper_text
    from metaanalysis.store.index import paper_files_of
    from metaanalysis.store.queries import get_paper

    eng = obj.store()
    paper = get_paper(eng, key)
    file = paper_files_of(eng).get(paper.key)
    doc = evidence_document(eng, paper, overrides)
    if fmt == "json":
        echo_json({"paper": paper.model_dump(mode="json"), "file": file, **doc})
        return
    click.echo(paper_text(paper, file))
    click.echo(evidence_text(doc, paper.key))


# -- matrix --------------------------------------------------------------------------------


def _check_out(out: Path, suffixes: tuple[str, ...]) -> None:
    """Refuse an output path that cannot be written (unknown format, missing directory, a
    directory itself), before anything is built."""
    suffix = out.suffix.lower()
    if suffix not in suffixes:
        raise UserError(f"{out}: unknown output format {suffix!r}; use {', '.join(suffixes)}")
    parent = out.parent if str(out.parent) else Path(".")
    if not os.path.isdir(parent):  # os.path: False (not an exception) for any OSError
        raise UserError(f"{out}: directory {parent} does not exist; create it first")
    if os.path.isdir(out):
        raise UserError(f"{out}: is a directory; give a file name")


@main.command()
@format_option()
@click.option("--summary", is_flag=True, help="Counts per definition and per family instead of the matrix.")
@click.option(
    "--out", type=click.Path(dir_okay=False, path_type=Path),
    help="Write to a file: .html (self-contained, offline), .svg, .png (chart) or .csv, .json (data).",
)
@click.option("--evidence", is_flag=True,
              help="Add the re-executed verdicts (as published, realistic) per paper and definition.")
@click.option("--source", default=None, metavar="NAME",
              help="One annotator's marks (figure2, mcatlas or a contributor; `mcatlas agreement` lists "
                   "them) instead of the consensus, on the papers that source judged.")
@click.pass_obj
def matrix(obj: Context, fmt: str, summary: bool, out: Path | None, evidence: bool = False,
           source: str | None = None) -> None:
    """The definition-vs-paper matrix: papers in figure order, definitions grouped by family.
    By default each paper's consensus marks, with a `disputed` column naming the definitions
    another annotator marks differently."""
    from metaanalysis.analysis.matrix import build_matrix
    from metaanalysis.present.text import rich_table, summary_text
    from metaanalysis.store.index import read_papers

    if out is not None:  # before any work: a bad path fails at once, in one line
        _check_out(out, (".html", ".svg", ".png", ".csv", ".json"))
    eng = obj.store() if evidence else obj.index()
    papers = read_papers(eng)
    if source is not None:
        from metaanalysis.analysis.agreement import sources_of

        known = sources_of(papers)
        if source not in known:
            raise UserError(f"unknown source {source!r}; sources in the annotations: {', '.join(known)}")
    m = build_matrix(papers, source=source)
    if evidence:  # D:published / D:realistic columns
        from metaanalysis.analysis.frames import load_verdicts
        from metaanalysis.analysis.matrix import apply_evidence, evidence_cells

        apply_evidence(m, evidence_cells(load_verdicts(eng, papers).verdicts))
    if out is not None:
        suffix = out.suffix.lower()
        if suffix in (".csv", ".json"):
            try:
                out.write_text(m.to_csv() if suffix == ".csv" else m.to_json(), encoding="utf-8")
            except OSError as exc:
                raise UserError(f"{out}: cannot write: {exc.strerror or exc}") from None
        else:
            from metaanalysis.present.charts_matrix import save_matrix_chart

            save_matrix_chart(m, out)
        if not obj.quiet:
            click.echo(f"wrote {out}", err=True)
        return
    if summary:
        s = m.summary()
        if fmt == "json":
            echo_json(s)
        elif fmt == "csv":
            rows = [{"level": "definition", "name": x["definition"], **x} for x in s["definitions"]]
            rows += [{"level": "family", "name": x["family"], **x} for x in s["families"]]
            echo_csv(rows, ["level", "name", "family", "explicit", "implicit", "total"])
        else:
            click.echo(summary_text(s))
        return
    if fmt == "csv":
        click.echo(m.to_csv(), nl=False)
    elif fmt == "json":
        click.echo(m.to_json(), nl=False)
    else:
        from cli.output import console

        console().print(rich_table(m))
