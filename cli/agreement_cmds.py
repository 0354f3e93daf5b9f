"""``mcatlas agreement``: how far the annotators of the definition marks agree.

Thin: read the validated database, call :func:`metaanalysis.analysis.agreement.agreement_table`,
print.
"""

from __future__ import annotations

import click

from cli.main import Context, main
from cli.output import emit, format_option, number, records


@main.command()
@format_option()
@click.pass_obj
def agreement(obj: Context, fmt: str) -> None:
    """Agreement between the sources of definition marks (the position paper's Figure 2,
    mcatlas, contributors) on the papers both judged: per pair of sources, overall, on the
    explicit-definition flag and per definition, Cohen's kappa with a 95% bootstrap interval over
    papers, raw agreement, and the disagreeing cells."""
    from metaanalysis.analysis.agreement import agreement_table

    db = obj.database()
    table = agreement_table(db.papers)
    if fmt == "json":
        emit(records(table), fmt, title="agreement")
        return
    if fmt == "csv":
        emit([{**r, "disagreements": "; ".join(r["disagreements"])} for r in records(table)], fmt, title="agreement")
        return
    rows = [{"sources": f"{r['source_a']} vs {r['source_b']}", "scope": r["scope"], "papers": r["papers"],
             "agreement": number(r["agreement"], 2), "kappa": number(r["kappa"], 2),
             "95% CI": f"{number(r['kappa_low'], 2)} to {number(r['kappa_high'], 2)}"
             if r["kappa_low"] == r["kappa_low"] else "",
             "disagreeing cells": "; ".join(r["disagreements"])} for r in records(table)]
    emit(rows, "table", title="Agreement between annotators of the definition marks (Cohen's kappa, 95% "
                              "bootstrap interval over papers; categories explicit, implicit, not used)")
