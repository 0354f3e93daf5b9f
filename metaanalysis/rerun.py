"""Re-executing papers' setups, as published and under realistic conditions (issue 4).

A *planned run* is one (paper, setup, variant) with its resolved configuration and hash
(:class:`PlannedRun`); :func:`plan` makes them, :func:`missing_runs` keeps those whose
configuration is not stored yet (cheapest first, so a report can "rerun missing fast setups
first"), and :func:`rerun` runs what is missing (or everything, with ``force``), storing each run
with :func:`metaanalysis.evidence.store_result` in one transaction.

How a published setup becomes a realistic one
    Inputs: the setup S (its fields as published and its optional ``realistic`` block R) and the
    project-wide defaults D, ``realistic_defaults`` of ``annotations/realism.yaml`` (``policy``,
    ``max_iterations``, optional ``real_fraction``; :data:`FALLBACK_DEFAULTS` — accumulate, 10 —
    when the file is absent). Field by field:

    ``simulator``      S's.
    ``params``         S's, updated with R's ``params`` (R wins per key).
    ``policy``         R's if given, else D's.
    ``real_fraction``  only when that policy takes one (mix, fresh): R's, else D's, else S's
                       (when S's policy takes one too); none of them is an error.
    ``iterations``     R's if given (a setup may refine beyond the default), else
                       min(S's iterations, D's ``max_iterations``).
    ``seeds``          ``--seeds`` if given, else R's, else S's.
    Other keys of D are documentation and are not applied. ``--seeds`` overrides the published
    variant's seeds too. When the realistic configuration equals the published one (a setup that
    already accumulates for few iterations) both variants link to one stored run.

Sweeps over n (``sweep_n``)
    A setup with ``sweep_n: [n1, n2, ...]`` stands for one run per n, in each variant: its
    configuration (as above) with ``params.n`` replaced by that n (the sweep wins over a
    realistic ``params.n``). Each is planned, stored and linked like any run, under the setup
    name ``NAME@n=N`` (:func:`sweep_setup_name`; ``--setup NAME`` selects all of them). The
    setup's ``scaling-law-change`` verdict is measured across them when evidence is read
    (:func:`metaanalysis.evidence.verdicts`), under the setup's own name.

Caching: a planned run whose configuration hash (configuration + code version, see
:func:`metaanalysis.evidence.config_hash`) is stored is answered from the store (``cached``,
0 seconds) unless ``force``; within one call identical configurations are computed once. A
computed run is stored under its planned hash (:func:`metaanalysis.evidence.compute` checks it).

Staleness: the same planning (:func:`setup_config` + the hash) tells the evidence queries
whether a stored link still matches its setup as written now
(:func:`metaanalysis.evidence.link_states`); stale links are not shown as evidence until rerun.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Iterable, Mapping, Sequence

from simulators import registry
from simulators.errors import UserError
from simulators.vocabulary import POLICIES_WITH_REAL_FRACTION

from . import evidence as ev

#: realistic defaults used when ``annotations/realism.yaml`` does not exist
FALLBACK_DEFAULTS: dict[str, Any] = {"policy": "accumulate", "max_iterations": 10}

#: outcomes of a planned run
STATUSES: tuple[str, ...] = ("computed", "cached", "replaced", "exists")


def realistic_defaults(root: Path | str | None) -> dict[str, Any]:
    """``realistic_defaults`` of ``root/realism.yaml`` as written (validated), else the fallback."""
    from .paths import REALISM_FILE

    if root is None:
        return dict(FALLBACK_DEFAULTS)
    path = Path(root) / REALISM_FILE
    if not path.exists():
        return dict(FALLBACK_DEFAULTS)
    from .validation import check_realism_file

    realism, problems = check_realism_file(path)
    if realism is None:
        raise UserError(f"{problems[0]}" if problems else f"{path}: invalid realism file")
    return realism.realistic_defaults.model_dump(exclude_none=True)


#: separator between a sweep setup's name and the n of one of its runs: ``NAME@n=N``
SWEEP_SEPARATOR = "@n="


def sweep_setup_name(name: str, n: int) -> str:
    """The link name of a sweep setup's run at ``n``: ``NAME@n=N``."""
    return f"{name}{SWEEP_SEPARATOR}{int(n)}"


def split_setup_name(label: str) -> tuple[str, int | None]:
    """``NAME@n=N`` -> (NAME, N); a plain setup name -> (name, None)."""
    base, sep, rest = label.partition(SWEEP_SEPARATOR)
    if sep and rest.isdigit():
        return base, int(rest)
    return label, None


def setup_runs(setup: Any) -> list[tuple[str, int | None]]:
    """The (link name, n override) of each run a setup stands for: one per ``sweep_n`` value,
    else the setup itself with no override."""
    ns = _get(setup, "sweep_n")
    name = _get(setup, "name")
    if not ns:
        return [(name, None)]
    return [(sweep_setup_name(name, n), int(n)) for n in sorted({int(n) for n in ns})]


def _get(obj: Any, name: str, default: Any = None) -> Any:
    if obj is None:
        return default
    if isinstance(obj, Mapping):
        return obj.get(name, default)
    return getattr(obj, name, default)


def setup_config(
    setup: Any,
    variant: str,
    defaults: Mapping[str, Any] | None = None,
    seeds: int | None = None,
    n: int | None = None,
) -> dict[str, Any]:
    """The (unresolved) configuration dict of a setup's ``published`` or ``realistic`` variant.

    ``setup`` is a :class:`~metaanalysis.records.Setup` (or a mapping with its fields); see the
    module docstring for the realistic rule. ``n``: the sweep value replacing ``params.n``.
    """
    config = _setup_config(setup, variant, defaults, seeds)
    if n is not None:
        config["params"] = {**config["params"], "n": int(n)}
    return config


def _setup_config(
    setup: Any,
    variant: str,
    defaults: Mapping[str, Any] | None,
    seeds: int | None,
) -> dict[str, Any]:
    if variant not in ev.VARIANTS:
        raise UserError(f"unknown variant {variant!r}; valid choices: {', '.join(ev.VARIANTS)}")
    params = dict(_get(setup, "params") or {})
    config: dict[str, Any] = {
        "simulator": _get(setup, "simulator"),
        "params": params,
        "policy": _get(setup, "policy"),
        "real_fraction": _get(setup, "real_fraction"),
        "seeds": seeds if seeds is not None else _get(setup, "seeds"),
        "iterations": _get(setup, "iterations"),
    }
    if variant == "published":
        return config
    d = dict(FALLBACK_DEFAULTS if defaults is None else defaults)
    r = _get(setup, "realistic")
    params.update(dict(_get(r, "params") or {}))
    policy = _get(r, "policy") or d["policy"]
    real_fraction = None
    if policy in POLICIES_WITH_REAL_FRACTION:
        real_fraction = _get(r, "real_fraction")
        if real_fraction is None:
            real_fraction = d.get("real_fraction")
        if real_fraction is None and config["policy"] in POLICIES_WITH_REAL_FRACTION:
            real_fraction = config["real_fraction"]
        if real_fraction is None:
            raise UserError(
                f"setup {_get(setup, 'name')!r}: realistic policy {policy!r} needs real_fraction "
                "(give it in the setup's realistic block or in realism.yaml realistic_defaults)"
            )
    iterations = _get(r, "iterations")
    if iterations is None:
        iterations = min(int(config["iterations"]), int(d["max_iterations"]))
    r_seeds = _get(r, "seeds")
    return {
        "simulator": config["simulator"],
        "params": params,
        "policy": policy,
        "real_fraction": real_fraction,
        "seeds": seeds if seeds is not None else (r_seeds if r_seeds is not None else config["seeds"]),
        "iterations": iterations,
    }


@dataclass(frozen=True)
class PlannedRun:
    """One (paper, setup, variant) with its resolved configuration and hash."""

    paper: str
    setup: str
    variant: str
    config: dict[str, Any] = field(compare=False)
    config_hash: str = ""
    #: a rough cost for ordering: seeds x iterations x samples per iteration x the family's
    #: ``relative_cost`` (neural families train a network per fit)
    cost: float = 0.0

    @property
    def label(self) -> str:
        return f"{self.paper}/{self.setup} ({self.variant})"


@dataclass
class RunOutcome:
    """What happened to a planned run: ``computed``, ``cached``, ``replaced`` or ``exists``
    (another process stored it meanwhile); the wall time spent computing it here (0 for
    ``cached``: nothing ran); the stored run's verdicts."""

    planned: PlannedRun
    status: str
    wall_time: float = 0.0
    verdicts: dict[str, str] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        return {
            "paper": self.planned.paper, "setup": self.planned.setup, "variant": self.planned.variant,
            "status": self.status, "config_hash": self.planned.config_hash,
            "wall_time": self.wall_time, "verdicts": dict(self.verdicts),
        }


def _select(papers: Sequence[Any], setups: Iterable[str] | None) -> list[tuple[Any, Any]]:
    chosen: list[tuple[Any, Any]] = []
    wanted = list(setups) if setups is not None else None
    for paper in papers:
        for setup in paper.setups:
            if wanted is None or setup.name in wanted:
                chosen.append((paper, setup))
    if wanted is not None:
        names = {s.name for _, s in chosen}
        unknown = [w for w in wanted if w not in names]
        if unknown:
            valid = ", ".join(s.name for p in papers for s in p.setups) or "(none)"
            raise UserError(f"unknown setup {unknown[0]!r}; valid choices: {valid}")
    return chosen


def plan(
    papers: Sequence[Any],
    setups: Iterable[str] | None = None,
    variants: Sequence[str] = ev.VARIANTS,
    seeds: int | None = None,
    defaults: Mapping[str, Any] | None = None,
) -> list[PlannedRun]:
    """The planned runs of the papers' setups (all, or those named), per variant, in paper and
    setup order (a ``sweep_n`` setup: one per n, named ``NAME@n=N``, in increasing n). Configurations are resolved (validated) here: a bad setup is a UserError naming
    the paper and setup."""
    for v in variants:
        if v not in ev.VARIANTS:
            raise UserError(f"unknown variant {v!r}; valid choices: {', '.join(ev.VARIANTS)}")
    out = []
    for paper, setup in _select(papers, setups):
        for name, sweep_n in setup_runs(setup):
            for variant in variants:
                raw = setup_config(setup, variant, defaults, seeds, n=sweep_n)
                try:
                    resolved = ev.canonical_config(raw)
                except UserError as exc:
                    raise UserError(f"{paper.key}/{name} ({variant}): {exc}") from None
                n = float(resolved["params"].get("n", 1) or 1)
                per_sample = getattr(registry.get(resolved["simulator"]), "relative_cost", 1.0)
                cost = len(resolved["seeds"]) * resolved["iterations"] * n * per_sample
                out.append(PlannedRun(paper.key, name, variant, resolved, ev.config_hash(resolved), cost))
    return out


def missing_runs(
    eng: Any,
    papers: Sequence[Any],
    setups: Iterable[str] | None = None,
    variants: Sequence[str] = ev.VARIANTS,
    seeds: int | None = None,
    defaults: Mapping[str, Any] | None = None,
) -> list[PlannedRun]:
    """Planned runs whose configuration is not stored yet, cheapest first (by :attr:`cost`)."""
    planned = plan(papers, setups, variants, seeds, defaults)
    have = ev.stored_hashes(eng, {p.config_hash for p in planned})
    return sorted((p for p in planned if p.config_hash not in have), key=lambda p: p.cost)


#: progress callback: ``progress(planned, t, T)``; t = 0 when a run starts computing
RerunProgress = Callable[[PlannedRun, int, int], None]


def rerun(
    eng: Any,
    papers: Sequence[Any],
    setups: Iterable[str] | None = None,
    variants: Sequence[str] = ev.VARIANTS,
    seeds: int | None = None,
    force: bool = False,
    progress: RerunProgress | None = None,
    defaults: Mapping[str, Any] | None = None,
    on_outcome: Callable[[RunOutcome], None] | None = None,
    planned: Sequence[PlannedRun] | None = None,
) -> list[RunOutcome]:
    """Run the papers' setups (see :func:`plan`) and store their evidence; one outcome per
    planned run, in order. ``planned`` (e.g. from :func:`missing_runs`) replaces the plan.

    Stored configurations are ``cached`` (their links are refreshed) unless ``force``; with
    ``force`` each distinct configuration is recomputed once and replaces the stored run
    atomically.
    """
    todo = list(planned) if planned is not None else plan(papers, setups, variants, seeds, defaults)
    have = set() if force else ev.stored_hashes(eng, {p.config_hash for p in todo})
    done: dict[str, str] = {}
    outcomes: list[RunOutcome] = []
    for p in todo:
        t0: float | None = time.perf_counter()
        links = [(p.paper, p.setup, p.variant)]
        if p.config_hash in have or p.config_hash in done:
            ev.link(eng, *links[0], p.config_hash)
            status = "cached"
            t0 = None  # nothing computed: report no seconds (the lookup is not a run's cost)
        else:
            cb = (lambda t, T, _p=p: progress(_p, t, T)) if progress is not None else None
            if progress is not None:
                progress(p, 0, int(p.config["iterations"]))
            result = ev.compute(p.config, progress=cb, config_hash=p.config_hash)
            stored = ev.store_result(eng, result, links=links, origin="setup", force=force)
            status = {"stored": "computed", "replaced": "replaced", "exists": "exists"}[stored]
        done[p.config_hash] = status
        prof = ev.load_profile(eng, p.config_hash)
        outcome = RunOutcome(
            p, status, 0.0 if t0 is None else time.perf_counter() - t0,
            {v.definition: v.verdict for v in prof.verdicts} if prof is not None else {},
        )
        outcomes.append(outcome)
        if on_outcome is not None:
            on_outcome(outcome)
    return outcomes


__all__ = [
    "FALLBACK_DEFAULTS", "PlannedRun", "RunOutcome", "missing_runs", "plan", "realistic_defaults",
    "rerun", "setup_config", "setup_runs", "split_setup_name", "sweep_setup_name", "SWEEP_SEPARATOR",
]
