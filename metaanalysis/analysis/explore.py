"""Where verdicts flip on a grid of realism axes, and what a setup's collapse takes.

Input: the cells of a grid (:func:`metaanalysis.evidence.explore.read_cells`: axis values and,
per definition, the stored three-way verdict with its statistic, interval and stability, each
read at the cell's own length).

Boundaries (:func:`boundaries`)
    For each definition and each axis with two or more values, the cells are grouped into
    *lines*: cells that agree on every other axis. Along a line (numeric axes ascending) the
    conclusive verdicts (``collapse``, ``no-collapse``) are read in order; a *flip* is a pair of
    consecutive conclusive cells with different verdicts, and the boundary lies between their two
    values. ``inconclusive`` cells (and cells not run) between them widen it: they are listed,
    as the uncertainty of where exactly the verdict changes. How sure a flip is: the
    stabilities of the two verdicts (the share of bootstrap replicates of the seeds that reach
    each, :mod:`simulators.verdicts`) and the undecided cells between them. A line is
    *monotone* when its conclusive verdicts change at most once (a single step along the axis);
    ``None`` when it has fewer than two conclusive cells, or the axis has no order (``policy``).

What it takes (:func:`what_it_takes`, for the atlas)
    Over a grid with ``real_fraction`` and/or ``synthetic_ratio`` axes (the default grid,
    :func:`default_axes`), per definition, starting from the *base cell* (the setup's own real
    fraction, 0 for ``replace``, and its own synthetic ratio, 1 unless it gives one):

    ``min_real_fraction``   along the base ratio, the smallest real fraction whose verdict is a
                            conclusive ``no-collapse`` with no ``collapse`` at any larger
                            fraction: keeping that share of real data is enough.
    ``max_synthetic_ratio`` at that real fraction (the base one when the setup does not collapse
                            as run, or has no real-fraction axis), the largest synthetic ratio
                            whose verdict is ``no-collapse`` with no ``collapse`` at any smaller
                            ratio: how much synthetic data per generation it tolerates.

    Each comes with its uncertainty: the stability of the deciding verdict, the nearest cell on
    the other side (the value, verdict and stability that bound it) and the undecided values in
    between; ``None`` (with the reason) when the grid holds no such cell. ``status`` says what
    the base cell shows: ``collapse`` (so the two values say what removes it), ``no-collapse``,
    ``inconclusive``, ``not-measured`` or ``not run``.

All of this reads verdicts at each cell's own length, as the grid does (see
:mod:`metaanalysis.evidence.explore`, "Horizon").
"""

from __future__ import annotations

import math
from typing import Any, Callable, Mapping, Sequence

from simulators.vocabulary import CONCLUSIVE, DEFINITIONS, POLICIES_WITH_REAL_FRACTION

#: the real fractions of the default grid: none (the replace end), a tenth, a half
DEFAULT_REAL_FRACTIONS: tuple[float, ...] = (0.0, 0.1, 0.5)
#: the synthetic ratios of the default grid: half, as much as, twice the real data per generation
DEFAULT_SYNTHETIC_RATIOS: tuple[float, ...] = (0.5, 1.0, 2.0)
#: the verdict of a cell that is not stored (not a verdict of a run: the cell was not run)
NOT_RUN = "not run"
#: axes whose values have no order: flips along them are not called monotone or not
UNORDERED_AXES: tuple[str, ...] = ("policy",)


def _definitions(cells: Sequence[Mapping[str, Any]]) -> list[str]:
    present = {d for c in cells for d in c.get("verdicts", {})}
    return [d for d in DEFINITIONS if d in present] + sorted(present - set(DEFINITIONS))


def _num(x: Any) -> float | None:
    if x is None:
        return None
    x = float(x)
    return None if math.isnan(x) else x


def _verdict(cell: Mapping[str, Any], definition: str) -> str:
    return cell["verdicts"].get(definition, NOT_RUN) if cell.get("stored", True) else NOT_RUN


def lines(cells: Sequence[Mapping[str, Any]], axes: Mapping[str, Sequence[Any]],
          axis: str) -> list[tuple[dict[str, Any], list[Mapping[str, Any]]]]:
    """The cells grouped by their values on every axis but ``axis`` (the fixed values, and the
    cells in the order of ``axes[axis]``), in grid order."""
    others = [a for a in axes if a != axis]
    order = {v: i for i, v in enumerate(axes[axis])}
    groups: dict[tuple[Any, ...], list[Mapping[str, Any]]] = {}
    for c in cells:
        groups.setdefault(tuple(c["axes"][a] for a in others), []).append(c)
    return [(dict(zip(others, key)), sorted(line, key=lambda c: order[c["axes"][axis]]))
            for key, line in groups.items()]


def boundaries(cells: Sequence[Mapping[str, Any]], axes: Mapping[str, Sequence[Any]]) -> list[dict[str, Any]]:
    """Per definition, axis (with two or more values) and line of the grid: the verdicts along
    the axis, the flips and whether the line is monotone (see the module docstring).

    Each item: ``definition``, ``axis``, ``fixed`` (the other axes' values), ``values``,
    ``verdicts`` (one per value), ``stability`` (one per value, None where not conclusive),
    ``flips`` (each ``from``, ``to``, ``verdicts`` [from, to], ``stability`` [from, to],
    ``undecided`` the values in between that are inconclusive or not run), ``monotone``
    (True, False, or None) and ``undecided`` (the count of inconclusive or not run cells on the
    line). Lines where the definition is not measured in every cell are left out."""
    out = []
    for definition in _definitions(cells):
        for axis, values in axes.items():
            if len(values) < 2:
                continue
            for fixed, line in lines(cells, axes, axis):
                verdicts = [_verdict(c, definition) for c in line]
                if all(v == "not-measured" for v in verdicts):
                    continue
                stability = [_num(c["stability"].get(definition)) if v in CONCLUSIVE else None
                             for c, v in zip(line, verdicts)]
                conclusive = [i for i, v in enumerate(verdicts) if v in CONCLUSIVE]
                flips = []
                for i, j in zip(conclusive, conclusive[1:]):
                    if verdicts[i] != verdicts[j]:
                        flips.append({
                            "from": line[i]["axes"][axis], "to": line[j]["axes"][axis],
                            "verdicts": [verdicts[i], verdicts[j]], "stability": [stability[i], stability[j]],
                            "undecided": [line[k]["axes"][axis] for k in range(i + 1, j)],
                        })
                if axis in UNORDERED_AXES or len(conclusive) < 2:
                    monotone = None
                else:
                    monotone = len(flips) <= 1
                out.append({
                    "definition": definition, "axis": axis, "fixed": fixed,
                    "values": [c["axes"][axis] for c in line], "verdicts": verdicts, "stability": stability,
                    "flips": flips, "monotone": monotone,
                    "undecided": sum(v in ("inconclusive", NOT_RUN) for v in verdicts),
                })
    return out


# ----------------------------------------------------------------------------- the atlas's grid


def default_axes(setup: Any) -> dict[str, list[float]]:
    """The atlas's small grid of a setup: real fraction x synthetic ratio.

    Real fractions :data:`DEFAULT_REAL_FRACTIONS` and synthetic ratios
    :data:`DEFAULT_SYNTHETIC_RATIOS`, each with the setup's own value added when it is not among
    them (so the base cell is in the grid: 3 x 3, up to 4 x 4). A setup whose policy keeps every
    real sample (``accumulate``, ``accumulate-subsample``) has no real-fraction axis (it would
    not apply)."""
    policy = _get(setup, "policy")
    ratio = _get(setup, "synthetic_ratio") or 1.0
    axes: dict[str, list[float]] = {}
    if policy == "replace" or policy in POLICIES_WITH_REAL_FRACTION:
        own = _get(setup, "real_fraction") if policy in POLICIES_WITH_REAL_FRACTION else 0.0
        axes["real_fraction"] = sorted({*DEFAULT_REAL_FRACTIONS, float(own)})
    axes["synthetic_ratio"] = sorted({*DEFAULT_SYNTHETIC_RATIOS, float(ratio)})
    return axes


def base_point(setup: Any, axes: Mapping[str, Sequence[Any]]) -> dict[str, Any]:
    """The setup's own values on the grid's real-fraction and synthetic-ratio axes (replace:
    real fraction 0; no synthetic_ratio: 1). Other axes are not part of it."""
    point: dict[str, Any] = {}
    if "real_fraction" in axes:
        policy = _get(setup, "policy")
        point["real_fraction"] = float(_get(setup, "real_fraction") or 0.0) if policy != "replace" else 0.0
    if "synthetic_ratio" in axes:
        point["synthetic_ratio"] = float(_get(setup, "synthetic_ratio") or 1.0)
    return point


def _get(obj: Any, name: str) -> Any:
    return obj.get(name) if isinstance(obj, Mapping) else getattr(obj, name, None)


def _side(cell: Mapping[str, Any] | None, definition: str, axis: str) -> dict[str, Any] | None:
    if cell is None:
        return None
    v = _verdict(cell, definition)
    return {"value": cell["axes"][axis], "verdict": v,
            "stability": _num(cell["stability"].get(definition)) if v in CONCLUSIVE else None}


def _first_safe(line: Sequence[Mapping[str, Any]], definition: str, axis: str, ascending: bool) -> dict[str, Any]:
    """Along ``line`` (ascending by ``axis``), the first cell from the collapse end whose verdict
    is no-collapse with no collapse beyond it: the smallest such value when ``ascending`` (real
    fraction: more is safer), the largest when not (synthetic ratio: less is safer)."""
    seq = list(line) if ascending else list(reversed(line))
    verdicts = [_verdict(c, definition) for c in seq]
    found = None
    for i, v in enumerate(verdicts):
        if v == "no-collapse" and "collapse" not in verdicts[i:]:
            found = i
            break
    if found is None:
        tried = ", ".join(f"{c['axes'][axis]}: {v}" for c, v in zip(seq, verdicts))
        return {"value": None, "reason": f"no {axis} of the grid gives no-collapse without collapse "
                f"beyond it ({tried})"}
    before = [i for i in range(found) if verdicts[i] == "collapse"]
    bound = seq[before[-1]] if before else None
    undecided = [seq[i]["axes"][axis] for i in range((before[-1] + 1) if before else 0, found)
                 if verdicts[i] in ("inconclusive", NOT_RUN)]
    cell = seq[found]
    return {"value": cell["axes"][axis], "stability": _num(cell["stability"].get(definition)),
            "other_side": _side(bound, definition, axis), "undecided": undecided}


def what_it_takes(cells: Sequence[Mapping[str, Any]], axes: Mapping[str, Sequence[Any]],
                  base: Mapping[str, Any]) -> dict[str, dict[str, Any]]:
    """Per definition: the base cell's verdict (``status``), ``min_real_fraction`` and
    ``max_synthetic_ratio`` with their uncertainty (see the module docstring). ``base``: the
    setup's own values (:func:`base_point`); other axes of the grid must have one value."""
    extra = [a for a, vs in axes.items() if a not in base and len(vs) > 1]
    if extra:
        raise ValueError(f"what_it_takes needs one value on the other axes, not {', '.join(extra)}")
    out: dict[str, dict[str, Any]] = {}
    for definition in _definitions(cells):
        base_cell = next((c for c in cells if all(c["axes"].get(a) == v for a, v in base.items())), None)
        status = NOT_RUN if base_cell is None else _verdict(base_cell, definition)
        if status == "not-measured":
            out[definition] = {"status": status}
            continue
        entry: dict[str, Any] = {"status": status, "base": dict(base),
                                 "base_stability": _num(base_cell["stability"].get(definition))
                                 if base_cell is not None and status in CONCLUSIVE else None}
        fraction = base.get("real_fraction")
        if "real_fraction" in axes:
            line = _line_through(cells, axes, "real_fraction", base)
            entry["min_real_fraction"] = _first_safe(line, definition, "real_fraction", ascending=True)
            found = entry["min_real_fraction"]["value"]
            if status == "collapse" and found is not None:
                fraction = found
        else:
            entry["min_real_fraction"] = {"value": None, "reason": "not applicable: the policy keeps "
                                          "every real sample"}
        if "synthetic_ratio" in axes:
            at = {**base, **({"real_fraction": fraction} if fraction is not None else {})}
            line = _line_through(cells, axes, "synthetic_ratio", at)
            entry["max_synthetic_ratio"] = {**_first_safe(line, definition, "synthetic_ratio", ascending=False),
                                            "at_real_fraction": fraction}
        out[definition] = entry
    return out


def _line_through(cells: Sequence[Mapping[str, Any]], axes: Mapping[str, Sequence[Any]], axis: str,
                  point: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    """The cells along ``axis`` whose other axes equal ``point``'s values, ascending."""
    order = {v: i for i, v in enumerate(axes[axis])}
    line = [c for c in cells if all(c["axes"].get(a) == v for a, v in point.items() if a != axis)]
    return sorted(line, key=lambda c: order[c["axes"][axis]])


def explore(
    eng: Any,
    paper: str,
    setup: Any,
    axes: Mapping[str, Sequence[Any]] | None = None,
    *,
    run: bool = True,
    executor: str = "processes",
    workers: int | None = None,
    scheduler: str | None = None,
    seeds: int | None = None,
    iterations: int | None = None,
    max_configs: int | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> dict[str, Any]:
    """Plan, run and read a grid around one paper setup and find its boundaries.

    ``axes``: name -> values (:mod:`metaanalysis.evidence.explore`); None is the atlas's small
    grid, :func:`default_axes`. ``seeds``/``iterations`` override the published ones in every
    cell. When ``run``, the cells not stored yet run through ``executor`` (``workers``,
    ``scheduler`` as for sweeps; ``progress(done, total)`` over distinct runs); otherwise only
    stored cells are read and the others have the verdict :data:`NOT_RUN`.

    Returns a plain dict: ``paper``, ``setup``, ``simulator``, ``axes``, ``horizon`` (how
    verdicts were read), ``cells`` (:func:`metaanalysis.evidence.explore.read_cells`),
    ``statistic_names``, ``boundaries`` (:func:`boundaries`), ``base`` and ``what_it_takes``
    (:func:`what_it_takes`; empty unless the grid varies only ``real_fraction`` and
    ``synthetic_ratio``), ``notes``, ``runs`` (distinct configurations), ``stored`` (computed now),
    ``missing`` (cells without a stored run) and ``cost`` (planning's rough cost of the distinct
    runs, for budgeting)."""
    from metaanalysis.evidence.explore import plan_grid, read_cells, run_grid, statistic_names
    from metaanalysis.evidence.sweep import MAX_CONFIGS

    grid = plan_grid(paper, setup, default_axes(setup) if axes is None else axes, seeds=seeds,
                     iterations=iterations, max_configs=max_configs or MAX_CONFIGS)
    stored = 0
    if run:
        outcome = run_grid(eng, grid, executor=executor, workers=workers, scheduler=scheduler, progress=progress)
        stored = len(outcome.stored)
    cells = read_cells(eng, grid)
    base = base_point(setup, grid.axes)
    takes = {}
    if base and all(len(v) == 1 for a, v in grid.axes.items() if a not in base):
        takes = what_it_takes(cells, grid.axes, base)
    return {
        "paper": paper, "setup": grid.setup, "simulator": grid.simulator, "axes": grid.axes,
        "horizon": "each cell's own length (its iterations)", "cells": cells,
        "statistic_names": statistic_names(eng, grid), "boundaries": boundaries(cells, grid.axes),
        "base": base, "what_it_takes": takes, "notes": grid.notes, "runs": len(grid.sweep().configs),
        "stored": stored, "missing": sum(not c["stored"] for c in cells), "cost": grid.cost,
    }


def setup_realism(eng: Any, paper: str, setup: Any, *, run: bool = True, executor: str = "serial",
                  **options: Any) -> dict[str, Any]:
    """The atlas's realism exploration of one paper setup: :func:`explore` over
    :func:`default_axes` (real fraction x synthetic ratio around the setup as published), in
    this process unless ``executor`` says otherwise; ``run=False`` reads only stored cells
    (e.g. for a report built with ``--no-rerun``). The summary to show is ``what_it_takes``:
    per definition, the setup's verdict as run (``status``), the smallest real fraction and the
    largest synthetic ratio at which its collapse verdict gives way to no-collapse, each with
    its stability, the nearest cell on the other side and the undecided values in between.
    ``options``: ``seeds``, ``iterations``, ``workers``, ``progress`` as for :func:`explore`."""
    return explore(eng, paper, setup, None, run=run, executor=executor, **options)


__all__ = ["DEFAULT_REAL_FRACTIONS", "DEFAULT_SYNTHETIC_RATIOS", "NOT_RUN", "base_point", "boundaries",
           "default_axes", "explore", "lines", "setup_realism", "what_it_takes"]
