"""Warnings: what CONTRIBUTING.md asks of a record that a valid record may still not do.

A warning does not fail validation (a reviewer looks at it; some have good reasons, which the
record's ``notes`` should give). They are checked on records that validate, since they compare
fields whose shapes must be right first. Each is a :class:`~.problems.Problem` of severity
``"warning"``, printed ``FILE:LINE: field: warning: message``:

* a setup reproduces a ``scaling-law-change`` claim but has no ``sweep_n``: one run cannot
  measure a change of scaling law, so the claim would stay untested;
* a claim's ``policy`` is missing from the paper's ``data_policies``;
* a setup's ``policy`` differs from that of a claim it reproduces (a setup stands for a claim
  under the claim's own policy);
* a dimension of ``realism.yaml`` is not scored;
* a setup costs more than :data:`MAX_SETUP_COST` to rerun (:func:`setup_cost`);
* a paper without ``figure_order`` (not a row of the position paper's Figure 2) whose
  ``source`` cites that figure: the ``source`` of a record it was copied from.

The cost of a setup is the cost :attr:`metaanalysis.evidence.planning.PlannedRun.cost` gives a
run, seeds x iterations x n x the simulator family's ``relative_cost``, summed over the runs the
setup stands for as published (one per ``sweep_n`` value; ``n`` is the family's default when
the setup does not set it). The published runs dominate: the realistic and control reruns stop
after ``realistic_defaults.max_iterations`` (10) iterations.
"""

from __future__ import annotations

import re
from typing import Any

from . import locate, yamlio
from .problems import Problem
from .records import Paper, RealismFile

#: the definition whose claims need a sweep over n
SCALING_DEFINITION = "scaling-law-change"

#: the most a setup may cost (:func:`setup_cost`) and still be rerun within the atlas's budget.
#: The costliest shipped setups, the ``lm`` ones (16 seeds x 8 iterations x 128 sequences x
#: relative cost 3000 = 4.9e7), take about a minute each on one CPU core, the most
#: CONTRIBUTING.md allows a setup; ``mcatlas report`` reruns every missing setup within 1200
#: seconds (``metaanalysis.evidence.reruns.DEFAULT_BUDGET_SECONDS``), about twice what all
#: shipped setups take. A setup above 1e8, about twice the costliest shipped one, would take a
#: sizeable share of that budget by itself.
MAX_SETUP_COST = 1e8

#: a source that cites the position paper's Figure 2 (Schaeffer et al., arXiv 2503.03150)
_FIGURE2 = re.compile(r"\bfig(?:ure|\.)?\s*2\b", re.IGNORECASE)
_POSITION_PAPER = re.compile(r"2503\.03150|schaeffer", re.IGNORECASE)


def setup_cost(setup: Any) -> float:
    """The cost of rerunning a setup as published (see the module docstring)."""
    from simulators import registry

    family = registry.get(setup.simulator)
    n = setup.params.get("n")
    if n is None:
        params = getattr(family, "Params", None)
        field = params.model_fields.get("n") if params is not None else None
        n = field.default if field is not None and isinstance(field.default, int) else 1
    ns = setup.sweep_n or [n]
    return float(sum(registry.run_cost(setup.simulator, setup.seeds, setup.iterations, x) for x in set(ns)))


def _sci(x: float) -> str:
    """A cost in short scientific notation: 3.8e9, 1e8."""
    return f"{x:.2g}".replace("e+0", "e").replace("e+", "e")


def cites_figure2(source: str | None) -> bool:
    """Whether a ``source`` cites the position paper's Figure 2."""
    return bool(source) and bool(_FIGURE2.search(source)) and bool(_POSITION_PAPER.search(source))


def paper_warnings(paper: Paper, data: Any, file: str, realism: RealismFile | None) -> list[Problem]:
    """The warnings about one valid record (``data``: its loaded YAML, for lines)."""
    out: list[Problem] = []

    def warn(loc: tuple, message: str) -> None:
        out.append(Problem(file, locate.line_of(data, loc), yamlio.field_name(loc), message, "warning"))

    claims = {c.id: c for c in paper.claims}
    for i, claim in enumerate(paper.claims):
        if claim.policy not in paper.data_policies:
            listed = ", ".join(paper.data_policies) or "none"
            warn(("claims", i, "policy"),
                 f"policy {claim.policy!r} of claim {claim.id!r} is not in the paper's data_policies ({listed}); "
                 "add it there, or correct the claim")
    for i, setup in enumerate(paper.setups):
        for j, ref in enumerate(setup.reproduces):
            claim = claims.get(ref)
            if claim is None:
                continue
            if claim.definition == SCALING_DEFINITION and not setup.sweep_n:
                warn(("setups", i, "reproduces", j),
                     f"reproduces the {SCALING_DEFINITION} claim {ref!r} but has no sweep_n: one run cannot "
                     "measure a change of scaling law, so the claim stays untested; give sweep_n: [n1, n2, n3] "
                     "(3 or more sample sizes)")
            if setup.policy != claim.policy:
                warn(("setups", i, "policy"),
                     f"policy {setup.policy!r} differs from the policy {claim.policy!r} of claim {ref!r}, which "
                     "the setup reproduces; a setup stands for a claim under the claim's own policy")
        cost = setup_cost(setup)
        if cost > MAX_SETUP_COST:
            runs = f" over {len(set(setup.sweep_n))} sweep runs" if setup.sweep_n else ""
            warn(("setups", i),
                 f"setup {setup.name!r} costs about {_sci(cost)} to rerun (seeds x iterations x n x the relative "
                 f"cost of {setup.simulator!r}{runs}), more than the {_sci(MAX_SETUP_COST)} a setup may cost to be "
                 "rerun within the atlas's budget; use fewer seeds, iterations or a smaller n")
    if realism is not None:
        line = locate.line_of(data, ("realism",))  # the record's first line when it has none
        for dim in realism.dimensions:
            if dim.id not in paper.realism:
                levels = ", ".join(lv.id for lv in dim.levels)
                out.append(Problem(file, line, f"realism.{dim.id}",
                                   f"realism dimension {dim.id!r} is not scored; give it a level ({levels}) "
                                   "and a one-line why", "warning"))
    if paper.figure_order is None and cites_figure2(paper.source):
        warn(("source",),
             "this paper has no figure_order (it is not a row of the position paper's Figure 2), but its source "
             "cites that figure, like the Figure 2 records it may have been copied from; say where this "
             "annotation comes from, e.g. 'mcatlas, from the abstract and Section 1 of arXiv v1 (read YYYY-MM)'")
    return out


__all__ = ["MAX_SETUP_COST", "SCALING_DEFINITION", "cites_figure2", "paper_warnings", "setup_cost"]
