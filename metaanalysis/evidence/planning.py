"""Planning reruns: from a paper setup to resolved run configurations and their hashes.


A *planned run* is one (paper, setup, variant) with its resolved configuration and hash
(:class:`PlannedRun`); :func:`plan` makes them, :func:`missing_runs` keeps those whose
configuration is not stored yet (cheapest first, so a report can "rerun missing fast setups
first"), and :func:`metaanalysis.evidence.reruns.rerun` runs what is missing (or everything, with ``force``), storing each run
with :func:`metaanalysis.evidence.write.store_result` in one transaction.

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
    ``synthetic_ratio`` S's in every variant (default 1): how much synthetic data a generation
                       adds is part of the experiment, not of the realistic conditions.
    Other keys of D are documentation and are not applied. ``--seeds`` overrides the published
    variant's seeds too. When the realistic configuration equals the published one (a setup that
    already accumulates for few iterations) both variants link to one stored run.

The control variant
    The realistic configuration with S's ``policy`` and ``real_fraction`` put back: the
    published policy at the realistic horizon. Realistic vs control differ in the policy only,
    control vs published in the horizon (and whatever R refines), so a claim that does not
    survive the realistic rerun can be attributed to one or the other
    (:mod:`metaanalysis.analysis.claims`). It is usually the published run itself or the
    realistic one (a setup of at most 10 iterations, or one that already accumulates), which
    then is stored once.

Horizons
    A published rerun answers the paper's question, where the process is going: its verdicts
    are read at the long-run horizon (``Thresholds.horizon``). A realistic rerun and its
    control answer what happens within their own iterations: their verdicts are read at the
    run's length (:func:`metaanalysis.evidence.work.horizon_of`). Every stored run keeps both.

Overrides
    ``mcatlas rerun KEY --seeds S`` is exploratory: a planned run whose seeds differ from the
    annotated ones carries ``override = "seeds=S"``, is stored and linked apart
    (``evidence_override``) and never replaces the evidence of the setup as annotated.

Sweeps over n (``sweep_n``)
    A setup with ``sweep_n: [n1, n2, ...]`` stands for one run per n, in each variant: its
    configuration (as above) with ``params.n`` replaced by that n (the sweep wins over a
    realistic ``params.n``). Each is planned, stored and linked like any run, under the setup
    name ``NAME@n=N`` (:func:`sweep_setup_name`; ``--setup NAME`` selects all of them). The
    setup's ``scaling-law-change`` verdict is measured across them when evidence is read
    (:func:`metaanalysis.evidence.read.verdicts`), under the setup's own name.

Caching: a planned run whose configuration hash (configuration + code version, see
:func:`metaanalysis.evidence.planning.config_hash`) is stored is answered from the store (``cached``,
0 seconds) unless ``force``; within one call identical configurations are computed once. A
computed run is stored under its planned hash (:func:`metaanalysis.evidence.work` checks it).

Staleness: the same planning (:func:`setup_config` + the hash) tells the evidence queries
whether a stored link still matches its setup as written now
(:func:`metaanalysis.evidence.links.link_states`); stale links are not shown as evidence until rerun.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterable, Mapping, Sequence

from simulators import registry
from simulators.errors import UserError
from simulators.vocabulary import POLICIES_WITH_REAL_FRACTION, VARIANTS

from . import provenance as prov


def canonical_config(config: Mapping[str, Any]) -> dict[str, Any]:
    """The resolved configuration dict (defaults filled in) of a configuration dict.

    Accepts what :meth:`simulators.runspec.RunSpec.as_dict` returns, or a partial dict with
    ``simulator`` and any other field of the RunSpec. Errors are one-line UserErrors.
    """
    return resolve_config(config).as_dict()


def resolve_config(config: Mapping[str, Any]) -> Any:
    """The resolved :class:`simulators.runspec.RunSpec` of a configuration dict."""
    from simulators.runspec import RunSpec

    return RunSpec.from_mapping(config).resolve()


def config_hash(resolved: Mapping[str, Any]) -> str:
    """SHA-256 of the canonical JSON of ``{"config": resolved, "code": code_version()}``.

    ``resolved`` must be a resolved configuration (:func:`canonical_config`), so that leaving a
    parameter at its default and writing the default out hash alike. The code version is
    :func:`metaanalysis.evidence.provenance.code_version` (the mcatlas version, the evidence format and a
    digest of the simulators source).
    """
    text = json.dumps(
        {"config": dict(resolved), "code": prov.code_version()}, sort_keys=True, separators=(",", ":")
    )
    return hashlib.sha256(text.encode()).hexdigest()


#: realistic defaults used when ``annotations/realism.yaml`` does not exist
FALLBACK_DEFAULTS: dict[str, Any] = {"policy": "accumulate", "max_iterations": 10}


def realistic_defaults(root: Path | str | None) -> dict[str, Any]:
    """``realistic_defaults`` of ``root/realism.yaml`` as written (validated), else the fallback."""
    from metaanalysis.annotations.paths import REALISM_FILE

    if root is None:
        return dict(FALLBACK_DEFAULTS)
    path = Path(root) / REALISM_FILE
    if not path.exists():
        return dict(FALLBACK_DEFAULTS)
    from metaanalysis.annotations.validation import check_realism_file

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
    """The (unresolved) configuration dict of a setup's variant (:data:`VARIANTS`).

    ``setup`` is a :class:`~metaanalysis.annotations.records.Setup` (or a mapping with its fields); see the
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
    if variant not in VARIANTS:
        raise UserError(f"unknown variant {variant!r}; valid choices: {', '.join(VARIANTS)}")
    params = dict(_get(setup, "params") or {})
    config: dict[str, Any] = {
        "simulator": _get(setup, "simulator"),
        "params": params,
        "policy": _get(setup, "policy"),
        "real_fraction": _get(setup, "real_fraction"),
        "seeds": seeds if seeds is not None else _get(setup, "seeds"),
        "iterations": _get(setup, "iterations"),
    }
    if _get(setup, "synthetic_ratio") is not None:  # absent: the RunSpec default, 1
        config["synthetic_ratio"] = _get(setup, "synthetic_ratio")
    if variant == "published":
        return config
    realistic = _realistic_config(setup, config, params, defaults)
    if seeds is not None:
        realistic["seeds"] = seeds
    if variant == "control":
        # the published policy at the realistic horizon (and the realistic block's params and
        # seeds): realistic vs control isolates the policy, control vs published the horizon
        return {**realistic, "policy": config["policy"], "real_fraction": config["real_fraction"]}
    return realistic


def _realistic_config(
    setup: Any,
    config: dict[str, Any],
    params: dict[str, Any],
    defaults: Mapping[str, Any] | None,
) -> dict[str, Any]:
    d = dict(FALLBACK_DEFAULTS if defaults is None else defaults)
    r = _get(setup, "realistic")
    params = {**params, **dict(_get(r, "params") or {})}
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
        "seeds": config["seeds"] if r_seeds is None else r_seeds,
        "iterations": iterations,
        **({"synthetic_ratio": config["synthetic_ratio"]} if "synthetic_ratio" in config else {}),
    }


@dataclass(frozen=True)
class PlannedRun:
    """One (paper, setup, variant) with its resolved configuration and hash."""

    paper: str
    setup: str
    variant: str
    config: dict[str, Any] = field(compare=False)
    config_hash: str = ""
    #: a rough cost for ordering (:func:`simulators.registry.run_cost`)
    cost: float = 0.0
    #: ``""`` for the setup as annotated, else what differs (``"seeds=S"``): exploratory
    override: str = ""

    @property
    def label(self) -> str:
        extra = f", {self.override}" if self.override else ""
        return f"{self.paper}/{self.setup} ({self.variant}{extra})"


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
    variants: Sequence[str] = VARIANTS,
    seeds: int | None = None,
    defaults: Mapping[str, Any] | None = None,
) -> list[PlannedRun]:
    """The planned runs of the papers' setups (all, or those named), per variant, in paper and
    setup order (a ``sweep_n`` setup: one per n, named ``NAME@n=N``, in increasing n). Configurations are resolved (validated) here: a bad setup is a UserError naming
    the paper and setup."""
    for v in variants:
        if v not in VARIANTS:
            raise UserError(f"unknown variant {v!r}; valid choices: {', '.join(VARIANTS)}")
    out = []
    for paper, setup in _select(papers, setups):
        for name, sweep_n in setup_runs(setup):
            for variant in variants:
                raw = setup_config(setup, variant, defaults, seeds, n=sweep_n)
                try:
                    resolved = canonical_config(raw)
                except UserError as exc:
                    raise UserError(f"{paper.key}/{name} ({variant}): {exc}") from None
                cost = registry.run_cost(resolved["simulator"], len(resolved["seeds"]), resolved["iterations"],
                                         resolved["params"].get("n", 1))
                override = ""
                if seeds is not None:
                    annotated = canonical_config(setup_config(setup, variant, defaults, n=sweep_n))
                    if annotated["seeds"] != resolved["seeds"]:
                        override = override_of(seeds)
                out.append(PlannedRun(paper.key, name, variant, resolved, config_hash(resolved), cost,
                                      override))
    return out


def override_of(seeds: int) -> str:
    """The override label of a rerun with ``--seeds S``."""
    return f"seeds={int(seeds)}"


def apply_override(config: dict[str, Any], override: str) -> dict[str, Any]:
    """``config`` with an override label (:func:`override_of`) applied."""
    key, _, value = override.partition("=")
    if key != "seeds" or not value.isdigit():
        raise UserError(f"unknown override {override!r} (expected seeds=S)")
    return {**config, "seeds": int(value)}


def missing_runs(eng: Any, planned: Sequence[PlannedRun]) -> list[PlannedRun]:
    """The planned runs whose configuration is not stored yet, cheapest first (by :attr:`cost`)."""
    from .write import stored_hashes

    have = stored_hashes(eng, {p.config_hash for p in planned})
    return sorted((p for p in planned if p.config_hash not in have), key=lambda p: p.cost)


__all__ = [
    "FALLBACK_DEFAULTS", "PlannedRun", "SWEEP_SEPARATOR", "apply_override", "canonical_config",
    "config_hash", "missing_runs", "override_of", "plan", "realistic_defaults", "resolve_config", "setup_config", "setup_runs",
    "split_setup_name", "sweep_setup_name",
]
