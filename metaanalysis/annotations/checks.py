"""Checks a single field cannot express: simulators and their parameters, sweeps over n, and the
cross-references inside one record (claim ids, ``reproduces``, real fractions, realism levels).
"""

from __future__ import annotations

import difflib
from typing import Any

from pydantic import ValidationError

from simulators.vocabulary import POLICIES, POLICIES_WITH_REAL_FRACTION

from . import locate, yamlio
from .problems import Problem, error_message
from .records import RealismFile


class SimulatorChecks:
    """The simulator registry as the checks use it."""

    def __init__(self) -> None:
        from simulators import registry

        self.registry = registry

    def family(self, name: str) -> tuple[Any, str | None]:
        """The family class, or the message naming the valid simulators."""
        try:
            return self.registry.get(name), None
        except self.registry.UnknownSimulatorError as exc:
            return None, str(exc)


def _check_params(
    family: Any, params: Any, loc: tuple, data: Any, file: str, sim: str
) -> list[Problem]:
    if not isinstance(params, dict):
        return []
    params_model = getattr(family, "Params", None)
    if params_model is None:
        return []
    valid = list(params_model.model_fields)
    try:
        params_model.model_validate(dict(params))
    except ValidationError as exc:
        out = []
        for err in exc.errors(include_url=False):
            eloc = loc + tuple(err["loc"])
            line = locate.line_of(data, eloc)
            name = err["loc"][0] if err["loc"] else ""
            if err["type"] == "extra_forbidden":
                close = difflib.get_close_matches(str(name), valid, n=1)
                hint = f" (did you mean {close[0]}?)" if close else ""
                msg = f"unknown parameter of simulator {sim!r}{hint}; valid: {', '.join(valid)}"
            else:
                msg = error_message(dict(err, loc=eloc), params_model, data)
            out.append(Problem(file, line, yamlio.field_name(eloc), msg))
        return out
    except Exception as exc:  # noqa: BLE001 - a family validator raising something odd
        return [Problem(file, locate.line_of(data, loc), yamlio.field_name(loc), f"invalid parameters: {exc}")]
    return []


#: the fewest distinct values of n a sweep needs (a power law through 2 points always fits)
MIN_SWEEP_VALUES = 3


def _check_sweep(family: Any, setup: dict, loc: tuple, data: Any, file: str, sim: Any) -> list[Problem]:
    """``sweep_n``: >= :data:`MIN_SWEEP_VALUES` distinct ints, each a valid ``n`` of the
    simulator with the setup's other parameters (types and bounds are the record's)."""
    sweep = setup.get("sweep_n")
    if not isinstance(sweep, list) or not all(type(n) is int for n in sweep):
        return []  # not a list of ints: the record model reports it
    out = []
    if len(set(sweep)) != len(sweep):
        dup = sorted({n for n in sweep if sweep.count(n) > 1})
        out.append(Problem(file, locate.line_of(data, loc), yamlio.field_name(loc),
                           f"listed more than once: {', '.join(map(str, dup))}"))
    if len(set(sweep)) < MIN_SWEEP_VALUES:
        out.append(Problem(file, locate.line_of(data, loc), yamlio.field_name(loc),
                           f"needs at least {MIN_SWEEP_VALUES} distinct values of n to fit a power law, "
                           f"got {len(set(sweep))}"))
    params_model = getattr(family, "Params", None)
    params = setup.get("params")
    if params_model is None or (params is not None and not isinstance(params, dict)):
        return out
    for j, n in enumerate(sweep):
        try:
            params_model.model_validate({**(params or {}), "n": n})
        except ValidationError as exc:
            errs = [e for e in exc.errors(include_url=False) if tuple(e["loc"][:1]) == ("n",)]
            if errs:
                out.append(Problem(file, locate.line_of(data, loc + (j,)), yamlio.field_name(loc + (j,)),
                                   f"n = {n} is not a valid n of simulator {sim!r}: {errs[0]['msg']}"))
        except Exception as exc:  # noqa: BLE001 - a family validator raising something odd
            out.append(Problem(file, locate.line_of(data, loc + (j,)), yamlio.field_name(loc + (j,)),
                               f"n = {n} is not a valid n of simulator {sim!r}: {exc}"))
    return out


def as_list(value: Any) -> list:
    return value if isinstance(value, list) else []


def cross_checks(
    data: dict,
    file: str,
    stem: str,
    realism: RealismFile | None,
    sims: SimulatorChecks,
) -> list[Problem]:
    """Checks across fields, on the raw data (defensively: pydantic reports shapes)."""
    out: list[Problem] = []

    def add(loc: tuple, message: str) -> None:
        out.append(Problem(file, locate.line_of(data, loc), yamlio.field_name(loc), message))

    key = data.get("key")
    if isinstance(key, str) and key != stem:
        add(("key",), f"key {key!r} differs from the file name {stem + '.yaml'!r}; they must be equal")

    # Paper's own validator reports duplicate policies, but pydantic skips it once an item is
    # invalid; then the duplicates are reported here, so one run shows both problems.
    policies = as_list(data.get("data_policies"))
    if any(not isinstance(p, str) or p not in POLICIES for p in policies):
        seen_at: dict[str, int] = {}
        for i, p in enumerate(policies):
            if not isinstance(p, str):
                continue
            if p in seen_at:
                add(("data_policies", i), f"listed more than once: {p} (also data_policies[{seen_at[p]}])")
            else:
                seen_at[p] = i

    claims = as_list(data.get("claims"))
    claim_ids: dict[str, int] = {}
    for i, claim in enumerate(claims):
        if isinstance(claim, dict) and isinstance(claim.get("id"), str):
            cid = claim["id"]
            if cid in claim_ids:
                add(("claims", i, "id"), f"duplicate claim id {cid!r} (also claims[{claim_ids[cid]}])")
            else:
                claim_ids[cid] = i

    setup_names: dict[str, int] = {}
    for i, setup in enumerate(as_list(data.get("setups"))):
        if not isinstance(setup, dict):
            continue
        name = setup.get("name")
        if isinstance(name, str):
            if name in setup_names:
                add(("setups", i, "name"), f"duplicate setup name {name!r} (also setups[{setup_names[name]}])")
            else:
                setup_names[name] = i
        for j, ref in enumerate(as_list(setup.get("reproduces"))):
            if isinstance(ref, str) and ref not in claim_ids:
                close = difflib.get_close_matches(ref, list(claim_ids), n=1)
                hint = f" (did you mean {close[0]}?)" if close else ""
                known = ", ".join(claim_ids) if claim_ids else "none"
                add(("setups", i, "reproduces", j), f"no claim {ref!r} in this paper{hint}; claims: {known}")
        policy = setup.get("policy")
        has_fraction = setup.get("real_fraction") is not None
        if isinstance(policy, str):
            if policy in POLICIES_WITH_REAL_FRACTION and not has_fraction:
                add(("setups", i, "policy"), f"policy {policy!r} needs real_fraction (0 < f <= 1)")
            if policy not in POLICIES_WITH_REAL_FRACTION and has_fraction:
                add(
                    ("setups", i, "real_fraction"),
                    f"real_fraction applies only to policies {' and '.join(POLICIES_WITH_REAL_FRACTION)}, "
                    f"not {policy!r}",
                )
        realistic = setup.get("realistic")
        if isinstance(realistic, dict):
            rpolicy = realistic.get("policy")
            if realistic.get("real_fraction") is not None and rpolicy not in POLICIES_WITH_REAL_FRACTION:
                add(
                    ("setups", i, "realistic", "real_fraction"),
                    "real_fraction here needs policy mix or fresh in the same realistic block",
                )
            if (
                rpolicy in POLICIES_WITH_REAL_FRACTION
                and realistic.get("real_fraction") is None
                and not (has_fraction and policy in POLICIES_WITH_REAL_FRACTION)
            ):
                add(("setups", i, "realistic", "policy"), f"policy {rpolicy!r} needs real_fraction (0 < f <= 1)")
        sim = setup.get("simulator")
        if isinstance(sim, str) and sims.registry is not None:
            family, error = sims.family(sim)
            if error:
                add(("setups", i, "simulator"), error)
            elif family is not None:
                out.extend(_check_params(family, setup.get("params", {}), ("setups", i, "params"), data, file, sim))
                if isinstance(realistic, dict) and isinstance(realistic.get("params"), dict):
                    merged = dict(setup.get("params") or {}) if isinstance(setup.get("params"), dict) else {}
                    merged.update(realistic["params"])
                    out.extend(
                        _check_params(family, merged, ("setups", i, "realistic", "params"), data, file, sim)
                    )
                out.extend(_check_sweep(family, setup, ("setups", i, "sweep_n"), data, file, sim))
        elif isinstance(setup.get("sweep_n"), list):
            out.extend(_check_sweep(None, setup, ("setups", i, "sweep_n"), data, file, sim))

    scores = data.get("realism")
    if isinstance(scores, dict) and realism is not None:
        levels = realism.levels()
        for dim, entry in scores.items():
            if dim not in levels:
                close = difflib.get_close_matches(str(dim), list(levels), n=1)
                hint = f" (did you mean {close[0]}?)" if close else ""
                add(("realism", dim), f"unknown realism dimension {dim!r}{hint}; valid: {', '.join(levels)}")
                continue
            level = entry.get("level") if isinstance(entry, dict) else None
            if isinstance(level, str) and level not in levels[dim]:
                add(
                    ("realism", dim, "level"),
                    f"unknown level {level!r} of {dim}; valid: {', '.join(levels[dim])}",
                )
    return out


__all__ = ["MIN_SWEEP_VALUES", "SimulatorChecks", "as_list", "cross_checks"]
