"""Exploring a paper setup along its realism axes: a grid of runs around the setup as published.

A *grid* starts from the setup as published (:func:`metaanalysis.evidence.planning.setup_config`
with ``"published"``; ``seeds`` and ``iterations`` replaced when given) and varies some *axes*,
each over a list of values; every combination is a *cell*, one run configuration. The axes:

``policy``           the data policy (values in the order given).
``real_fraction``    f in [0, 1], the share of real data kept. It applies to ``mix`` and
                     ``fresh``. A cell whose policy is ``replace`` takes ``mix`` with that f
                     (``replace`` is ``mix`` at f = 0, draw for draw, so that cell is ``replace``
                     itself: the published run when nothing else differs). A cell whose policy
                     is ``accumulate`` or ``accumulate-subsample`` keeps every real sample
                     anyway: the value does not apply, and cells that differ only in it are one
                     run (a note says so).
``synthetic_ratio``  r > 0, synthetic samples per iteration as a multiple of n
                     (:mod:`simulators.policies`).
``iterations``       T; ``seeds``: the seed count S.
any parameter        of the setup's simulator (``n``, ``dim``, ...), its values parsed like
                     ``mcatlas run --param``.

Numeric axes are sorted ascending (duplicates dropped); ``policy`` keeps its order. A setup with
``sweep_n`` stands for one run per n: n is then an axis over those values unless given.

Cells run through the sweep executors (:func:`metaanalysis.evidence.sweep.run_sweep`): each is
stored under its configuration hash like any run (origin ``sweep``, sweep name
:func:`grid_name`), so a cell already stored (by an earlier grid, a sweep or a rerun: the
published run is the cell of the setup's own values) is not run again, and a grid stopped
half-way resumes where it stopped. A grid above ``max_configs`` cells is refused before anything
is expanded, as sweeps are.

Horizon: every cell's verdicts are read at the cell's own length (``load_profile(eng, hash,
iterations)``), as for the realistic and control reruns: the grid asks what happens within the
iterations run, so that cells of different lengths answer the same kind of question. A
published rerun is read at the long-run horizon (1000 iterations), so the grid's cell of the
setup's own values can be ``inconclusive`` where the published verdict is ``collapse``, or the
other way round, when a trend is slow.
"""

from __future__ import annotations

import itertools
import math
from dataclasses import dataclass, field
from typing import Any, Callable, Mapping, Sequence

from simulators import registry
from simulators.errors import UserError
from simulators.vocabulary import POLICIES, POLICIES_WITH_REAL_FRACTION

from . import provenance as prov
from .planning import canonical_config, config_hash, setup_config
from .sweep import MAX_CONFIGS, Sweep, SweepOutcome, run_sweep

#: the run fields that can be axes (beside the simulator's parameters)
RUN_AXES: tuple[str, ...] = ("policy", "real_fraction", "synthetic_ratio", "iterations", "seeds")
#: policies that keep all their real data: a real fraction does not apply to them
POOLED_POLICIES: tuple[str, ...] = ("accumulate", "accumulate-subsample")


@dataclass(frozen=True)
class Cell:
    """One point of a grid: the axis values, the resolved configuration and its hash."""

    axes: dict[str, Any]
    config: dict[str, Any]
    config_hash: str
    #: a rough cost for budgeting (as :attr:`metaanalysis.evidence.planning.PlannedRun.cost`,
    #: times the synthetic samples per iteration relative to n)
    cost: float = 0.0

    @property
    def horizon(self) -> int:
        """The iteration its verdicts are read at: the run's own length."""
        return int(self.config["iterations"])


@dataclass
class Grid:
    """A planned grid: the setup, its published configuration, the axes and the cells."""

    paper: str
    setup: str
    simulator: str
    base: dict[str, Any]
    axes: dict[str, list[Any]]
    cells: list[Cell]
    notes: list[str] = field(default_factory=list)
    code_version: str = ""

    @property
    def cost(self) -> float:
        """The summed cost of the distinct runs."""
        return sum({c.config_hash: c.cost for c in self.cells}.values())

    def sweep(self) -> Sweep:
        """The distinct configurations as a :class:`Sweep` (for the sweep executors)."""
        configs: dict[str, dict[str, Any]] = {}
        for c in self.cells:
            configs.setdefault(c.config_hash, c.config)
        return Sweep(name=grid_name(self.paper, self.setup), configs=list(configs.values()),
                     hashes=list(configs), code_version=self.code_version)


def grid_name(paper: str, setup: str) -> str:
    """The sweep name a grid's runs are stored under: ``explore:KEY/SETUP``."""
    return f"explore:{paper}/{setup}"


# ----------------------------------------------------------------------------- axes


def parse_axis(text: str) -> tuple[str, list[Any]]:
    """``NAME=V1,V2,...`` -> (NAME, values as YAML scalars); one-line errors."""
    import yaml

    name, sep, raw = text.partition("=")
    name = name.strip()
    if not sep or not name or not raw.strip():
        raise UserError(f"--axis {text!r}: expected NAME=V1,V2,... (e.g. real_fraction=0,0.1,0.5)")
    values = []
    for token in raw.split(","):
        token = token.strip()
        if not token:
            raise UserError(f"--axis {text!r}: an empty value")
        try:
            value = yaml.safe_load(token)
        except yaml.YAMLError:
            raise UserError(f"--axis {name}: cannot read value {token!r}") from None
        if isinstance(value, (dict, list)):
            raise UserError(f"--axis {name}: expected numbers or words, got {token!r}")
        values.append(value)
    return name, values


def check_axes(simulator: str, axes: Mapping[str, Sequence[Any]]) -> dict[str, list[Any]]:
    """The axes with their values typed, checked and ordered (see the module docstring).

    Values are checked here for their kind (a policy id, a fraction in [0, 1], a positive
    ratio, positive ints); parameter values are checked by the simulator when cells resolve."""
    cls = registry.get(simulator)
    params = list(cls.Params.model_fields)
    out: dict[str, list[Any]] = {}
    for name, values in axes.items():
        if name not in RUN_AXES and name not in params:
            raise UserError(f"unknown axis {name!r}; valid axes: {', '.join(RUN_AXES)}, or a parameter "
                            f"of simulator {simulator!r}: {', '.join(params)}")
        values = list(values)
        if not values:
            raise UserError(f"axis {name}: no values")
        if name == "policy":
            for v in values:
                if v not in POLICIES:
                    raise UserError(f"axis policy: unknown policy {v!r}; valid choices: {', '.join(POLICIES)}")
            out[name] = list(dict.fromkeys(values))
            continue
        if name in ("real_fraction", "synthetic_ratio"):
            typed = [_number(name, v) for v in values]
            for v in typed:
                if name == "real_fraction" and not 0.0 <= v <= 1.0:
                    raise UserError(f"axis real_fraction: {v:g} is not in [0, 1]")
                if name == "synthetic_ratio" and not (v > 0 and math.isfinite(v)):
                    raise UserError(f"axis synthetic_ratio: {v:g} is not a positive number")
        elif name in ("iterations", "seeds"):
            typed = [_count(name, v) for v in values]
        else:
            typed = values
        out[name] = _sorted(typed)
    return out


def _number(name: str, v: Any) -> float:
    if isinstance(v, bool) or not isinstance(v, (int, float)):
        raise UserError(f"axis {name}: expected numbers, got {v!r}")
    return float(v)


def _count(name: str, v: Any) -> int:
    if isinstance(v, bool) or not isinstance(v, int) or v < 1:
        raise UserError(f"axis {name}: expected positive whole numbers, got {v!r}")
    return v


def _sorted(values: list[Any]) -> list[Any]:
    """Numbers ascending, anything else in the order given; duplicates dropped."""
    unique = list(dict.fromkeys(values))
    if all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in unique):
        return sorted(unique)
    return unique


# ----------------------------------------------------------------------------- planning


def plan_grid(
    paper: str,
    setup: Any,
    axes: Mapping[str, Sequence[Any]],
    *,
    seeds: int | None = None,
    iterations: int | None = None,
    max_configs: int = MAX_CONFIGS,
) -> Grid:
    """The grid of ``setup`` (a :class:`~metaanalysis.annotations.records.Setup`) of paper
    ``paper`` over ``axes`` (name -> values; see the module docstring). ``seeds`` and
    ``iterations`` replace the published ones in every cell (unless they are axes).

    Refuses (one-line UserError) a grid of more than ``max_configs`` cells before expanding it,
    and any cell that does not resolve (naming the cell)."""
    base = setup_config(setup, "published")
    simulator = str(base["simulator"])
    for name, value in (("seeds", seeds), ("iterations", iterations)):
        if value is not None:
            if name in axes:
                raise UserError(f"{name} is an axis; give it either as --axis {name}=... or as --{name}")
            base[name] = value
    axes = dict(axes)
    notes: list[str] = []
    sweep_n = _get(setup, "sweep_n")
    if sweep_n and "n" not in axes:
        axes["n"] = list(sweep_n)
        notes.append(f"the setup runs at each n of its sweep ({', '.join(str(n) for n in sorted(sweep_n))}): "
                     "n is an axis")
    axes = check_axes(simulator, axes)
    size = math.prod(len(v) for v in axes.values())
    if size > max_configs:
        sizes = " x ".join(f"{len(v)} {k}" for k, v in axes.items() if len(v) > 1)
        raise UserError(f"the grid has {size:,} cells ({sizes}), more than the limit of {max_configs:,}; "
                        "narrow the axes or raise the limit with --max-configs N")
    cells: list[Cell] = []
    names = list(axes)
    unapplied: set[str] = set()
    for combo in itertools.product(*(axes[k] for k in names)):
        point = dict(zip(names, combo))
        raw = cell_config(base, point)
        if "real_fraction" in point and raw["policy"] in POOLED_POLICIES:
            unapplied.add(raw["policy"])
        label = ", ".join(f"{k}={v}" for k, v in point.items()) or "the setup as published"
        try:
            resolved = canonical_config(raw)
        except UserError as exc:
            raise UserError(f"{paper}/{_get(setup, 'name')}: cell {label}: {exc}") from None
        cells.append(Cell(point, resolved, config_hash(resolved), _cost(resolved)))
    for policy in sorted(unapplied):
        notes.append(f"real_fraction does not apply to {policy} (it keeps every real sample): its cells "
                     "that differ only in real_fraction are one run")
    return Grid(paper=paper, setup=str(_get(setup, "name")), simulator=simulator, base=base, axes=axes,
                cells=cells, notes=notes, code_version=prov.code_version())


def cell_config(base: Mapping[str, Any], point: Mapping[str, Any]) -> dict[str, Any]:
    """The (unresolved) configuration of one cell: ``base`` with the axis values of ``point``
    applied, the real fraction by the rule of the module docstring."""
    config = {k: v for k, v in base.items() if k != "params"}
    params = dict(base.get("params") or {})
    for name, value in point.items():
        if name in RUN_AXES:
            config[name] = value
        else:
            params[name] = value
    config["params"] = params
    policy = config["policy"]
    if "real_fraction" in point:
        f = point["real_fraction"]
        if policy == "replace" and f > 0:
            policy = "mix"
    else:
        f = base.get("real_fraction")
        if policy in POLICIES_WITH_REAL_FRACTION and f is None:
            raise UserError(f"policy {policy!r} needs a real fraction and the setup has none; add "
                            "--axis real_fraction=...")
    config["policy"] = policy
    config["real_fraction"] = f if policy in POLICIES_WITH_REAL_FRACTION else None
    return config


def _cost(config: Mapping[str, Any]) -> float:
    n = float(config["params"].get("n", 1) or 1)
    per_sample = getattr(registry.get(config["simulator"]), "relative_cost", 1.0)
    return len(config["seeds"]) * config["iterations"] * n * max(1.0, config["synthetic_ratio"]) * per_sample


def _get(obj: Any, name: str) -> Any:
    return obj.get(name) if isinstance(obj, Mapping) else getattr(obj, name, None)


# ----------------------------------------------------------------------------- running, reading


def run_grid(
    eng: Any,
    grid: Grid,
    *,
    executor: str = "processes",
    workers: int | None = None,
    scheduler: str | None = None,
    force: bool = False,
    progress: Callable[[int, int], None] | None = None,
) -> SweepOutcome:
    """Run the grid's cells not stored yet through a sweep executor (stored one transaction
    each; ``progress(done, total)`` over distinct runs)."""
    return run_sweep(eng, grid.sweep(), executor=executor, workers=workers, scheduler=scheduler,
                     force=force, progress=progress)


def read_cells(eng: Any, grid: Grid) -> list[dict[str, Any]]:
    """Every cell with its stored verdicts at its own length (see the module docstring):
    ``axes``, ``config`` (policy, real_fraction, synthetic_ratio, seeds, iterations, params),
    ``config_hash``, ``horizon``, ``stored`` and, per definition, ``verdicts``, ``statistics``,
    ``ci`` ([low, high]), ``stability`` and ``reasons`` (all empty for a cell not stored)."""
    from .read import load_profile

    profiles: dict[str, Any] = {}
    out = []
    for c in grid.cells:
        if c.config_hash not in profiles:
            profiles[c.config_hash] = load_profile(eng, c.config_hash, c.horizon)
        prof = profiles[c.config_hash]
        cell: dict[str, Any] = {
            "axes": dict(c.axes),
            "config": {"policy": c.config["policy"], "real_fraction": c.config["real_fraction"],
                       "synthetic_ratio": c.config["synthetic_ratio"], "seeds": len(c.config["seeds"]),
                       "iterations": c.config["iterations"], "params": dict(c.config["params"])},
            "config_hash": c.config_hash,
            "horizon": c.horizon,
            "stored": prof is not None,
            "verdicts": {}, "statistics": {}, "ci": {}, "stability": {}, "reasons": {},
        }
        for v in prof.verdicts if prof is not None else ():
            cell["verdicts"][v.definition] = v.verdict
            cell["statistics"][v.definition] = v.statistic
            cell["ci"][v.definition] = [v.ci_low, v.ci_high]
            cell["stability"][v.definition] = v.stability
            cell["reasons"][v.definition] = v.reason
        out.append(cell)
    return out


def statistic_names(eng: Any, grid: Grid) -> dict[str, str]:
    """What each definition's statistic is (from the first stored cell)."""
    from .read import load_profile

    for c in grid.cells:
        prof = load_profile(eng, c.config_hash, c.horizon)
        if prof is not None:
            return {v.definition: v.statistic_name for v in prof.verdicts}
    return {}


__all__ = ["Cell", "Grid", "POOLED_POLICIES", "RUN_AXES", "cell_config", "check_axes", "grid_name", "parse_axis",
           "plan_grid", "read_cells", "run_grid", "statistic_names"]
