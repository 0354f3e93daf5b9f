"""The run configuration: one frozen model that owns the parameters of a run and their defaults.

A :class:`RunSpec` says everything that determines a run's output: the simulator and its
parameters, the data policy (and its real fraction), the synthetic ratio, the seeds, the number
of iterations, the device and the metrics. The engine executes one; the CLI options of ``mcatlas run`` and
``mcatlas profile``, paper setups, their realistic variants, sweep grids and reruns all build
one, so its field defaults (:data:`DEFAULTS`) are the only place the defaults live.

``RunSpec(...)`` checks the shape of each field; :meth:`RunSpec.resolve` checks it against the
family (a registered simulator, its typed parameters, metrics it reports, a device it can use)
and returns the *resolved* spec: every family parameter written out with its default, seeds as
the tuple of seed ids, metrics as the tuple measured. Two specs that mean the same run resolve to
equal specs, so :meth:`RunSpec.as_dict` of a resolved spec is what the evidence layer hashes.
Every failure is a one-line :class:`~simulators.errors.UserError` listing the valid choices.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Mapping, Sequence
from typing import TYPE_CHECKING, Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from .errors import UserError
from .vocabulary import METRICS, POLICIES, POLICIES_WITH_REAL_FRACTION

if TYPE_CHECKING:
    from .base import Family, FamilyParams


class RunSpec(BaseModel):
    """A run: simulator, parameters, policy, seeds, iterations, device, metrics (frozen)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    simulator: str = Field(description="a registered simulator (mcatlas simulators)")
    params: dict[str, Any] = Field(default_factory=dict, description="the simulator's parameters; "
                                   "others keep their defaults")
    policy: str = Field("replace", description=" | ".join(POLICIES))
    real_fraction: float | None = Field(None, description="share of real data, 0 to 1 (mix, fresh only)")
    synthetic_ratio: float = Field(1.0, gt=0, allow_inf_nan=False,
                                   description="synthetic samples each model contributes, as a "
                                   "multiple of n (ceil(r n); mix, fresh: ceil(r (n - k)) beside "
                                   "k real; see simulators.policies)")
    seeds: int | tuple[int, ...] = Field(10, description="a count S (seed ids 0..S-1) or the ids")
    iterations: int = Field(10, description="model-fitting iterations T")
    device: str = Field("cpu", description="cpu | cuda | cuda:N (torch simulators only)")
    metrics: tuple[str, ...] | None = Field(None, description="metrics to measure (default: all "
                                            "the simulator reports)")

    @field_validator("params", mode="before")
    @classmethod
    def _plain_params(cls, value: Any) -> Any:
        if value is None:
            return {}
        if not isinstance(value, Mapping):
            raise ValueError(f"params must be a mapping of parameter names to values, got {value!r}")
        return dict(value)

    @field_validator("metrics", mode="before")
    @classmethod
    def _split_metrics(cls, value: Any) -> Any:
        if isinstance(value, str):
            return tuple(m.strip() for m in value.split(",") if m.strip())
        return value

    @field_validator("seeds", mode="before")
    @classmethod
    def _seed_list(cls, value: Any) -> Any:
        if isinstance(value, (list, tuple)):
            return tuple(value)
        return value

    @classmethod
    def of(cls, **fields: Any) -> RunSpec:
        """A spec from keyword fields (``None`` means "the default"), one-line errors."""
        given = {k: v for k, v in fields.items() if v is not None or k == "real_fraction"}
        try:
            return cls(**given)
        except ValidationError as exc:
            err = exc.errors()[0]
            where = ".".join(str(p) for p in err["loc"]) or "run"
            if err["type"] == "extra_forbidden":
                raise UserError(f"unknown run field {where!r}; valid fields: "
                                f"{', '.join(cls.model_fields)}") from None
            raise UserError(f"{where}: {_error_text(err)}; got {err.get('input')!r}") from None

    @classmethod
    def from_mapping(cls, config: Mapping[str, Any]) -> RunSpec:
        """A spec from a configuration dict (``as_dict`` output, a setup's or a sweep's)."""
        return cls.of(**dict(config))

    # -- resolution ---------------------------------------------------------------------------

    @property
    def family(self) -> type[Family]:
        """The family class of :attr:`simulator` (a UserError listing the valid names)."""
        from . import registry

        try:
            return registry.get(self.simulator)
        except registry.UnknownSimulatorError as exc:
            raise UserError(str(exc)) from None

    @property
    def seed_ids(self) -> tuple[int, ...]:
        return _seeds(self.seeds)

    def family_params(self) -> FamilyParams:
        """The family's typed parameters (one-line error naming each bad parameter)."""
        return family_params(self.family, self.params)

    def resolve(self) -> RunSpec:
        """The resolved spec (see the module docstring)."""
        return resolve_with(self.family, self)

    def as_dict(self) -> dict[str, Any]:
        """The plain, JSON-able configuration (resolve first to hash it)."""
        return {
            "simulator": self.simulator,
            "params": dict(self.params),
            "policy": self.policy,
            "real_fraction": self.real_fraction,
            "synthetic_ratio": float(self.synthetic_ratio),
            "seeds": list(self.seed_ids),
            "iterations": self.iterations,
            "device": self.device,
            "metrics": None if self.metrics is None else list(self.metrics),
        }

    def key(self) -> str:
        """SHA-256 of the canonical JSON of :meth:`as_dict`."""
        text = json.dumps(self.as_dict(), sort_keys=True, separators=(",", ":"))
        return hashlib.sha256(text.encode()).hexdigest()

    def with_changes(self, **changes: Any) -> RunSpec:
        """A copy with some fields changed (validated; unresolved: resolve again)."""
        return RunSpec.of(**{**self.model_dump(), **changes})


#: the defaults of every run field, from the model (the CLI shows these)
DEFAULTS: dict[str, Any] = {name: f.get_default(call_default_factory=True)
                            for name, f in RunSpec.model_fields.items() if name != "simulator"}


def _error_text(err: Any) -> str:
    """Pydantic's message without its 'Value error, ' prefix, on one line."""
    msg = str(err["msg"]).replace("\n", " ")
    return msg.removeprefix("Value error, ")


def family_params(cls: type[Family], params: Mapping[str, Any]) -> FamilyParams:
    """The family's typed parameters, or a one-line :class:`UserError` naming each bad parameter.

    Pydantic reports a union-typed field (``bandwidth: float | "scott" | "silverman"``) as one
    error per alternative, located at ``bandwidth.float`` etc.; such a field gets one message
    built from its description (what it accepts) instead. Errors are always named by the
    parameter itself (the first element of the location), never by pydantic's internal path."""
    try:
        return cls.Params(**params)
    except ValidationError as exc:
        fields = cls.Params.model_fields
        valid = ", ".join(fields)
        by_field: dict[str, list[Any]] = {}
        for err in exc.errors():
            name = str(err["loc"][0]) if err["loc"] else ""
            by_field.setdefault(name, []).append(err)
        parts = []
        for name, errs in by_field.items():
            if errs[0]["type"] == "extra_forbidden":
                parts.append(f"unknown parameter {name!r}; valid parameters: {valid}")
                continue
            given = params.get(name, errs[0].get("input"))
            if len(errs) > 1 and name in fields and fields[name].description:
                accepted = fields[name].description
            else:
                accepted = "; ".join(_error_text(e) for e in errs)
            label = f"parameter {name!r}" if name else "parameters"
            parts.append(f"{label}: {accepted}; got {given!r}")
        raise UserError(f"simulator {cls.name!r}: " + "; ".join(parts)) from None


def _seeds(seeds: int | Sequence[int]) -> tuple[int, ...]:
    if isinstance(seeds, bool):
        raise UserError(f"seeds must be a positive count or a list of non-negative ints, got {seeds!r}")
    if isinstance(seeds, int):
        if seeds < 1:
            raise UserError(f"seeds must be at least 1, got {seeds}")
        return tuple(range(seeds))
    try:
        out = tuple(int(s) for s in seeds)
        if any(not float(s).is_integer() for s in seeds):
            raise ValueError
    except (TypeError, ValueError):
        raise UserError(f"seeds must be a positive count or a list of non-negative ints, got {seeds!r}") from None
    if not out:
        raise UserError("seeds: the list of seeds is empty")
    if any(s < 0 for s in out):
        raise UserError(f"seeds must be non-negative, got {list(out)}")
    if len(set(out)) != len(out):
        raise UserError(f"seeds must be distinct, got {list(out)}")
    return out


def _device(cls: type[Family], device: str) -> str:
    device = str(device)
    if device == "cpu":
        return device
    if not (device == "cuda" or device.startswith("cuda:")):
        raise UserError(f"unknown device {device!r}; valid choices: cpu, cuda, cuda:N")
    if cls.backend != "torch":
        raise UserError(f"simulator {cls.name!r} runs on numpy (CPU only); valid devices for it: cpu")
    import torch

    if not torch.cuda.is_available():
        raise UserError(f"device {device!r} requested but no CUDA GPU is available; valid devices: cpu")
    return device


def _policy(policy: str, real_fraction: float | None) -> float | None:
    if policy not in POLICIES:
        raise UserError(f"unknown policy {policy!r}; valid choices: {', '.join(POLICIES)}")
    if policy in POLICIES_WITH_REAL_FRACTION:
        if real_fraction is None:
            raise UserError(f"policy {policy!r} needs real_fraction (a number in [0, 1])")
        try:
            real_fraction = float(real_fraction)
        except (TypeError, ValueError):
            raise UserError(f"real_fraction must be a number in [0, 1], got {real_fraction!r}") from None
        if not (0.0 <= real_fraction <= 1.0):
            raise UserError(f"real_fraction must be in [0, 1] (0: no real data, the replace end), "
                            f"got {real_fraction}")
        return real_fraction
    if real_fraction is not None:
        raise UserError(f"real_fraction is only for policies {', '.join(POLICIES_WITH_REAL_FRACTION)}, "
                        f"not {policy!r}")
    return None


def _metrics(cls: type[Family], p: FamilyParams, metrics: Iterable[str] | None) -> tuple[str, ...]:
    reported = tuple(cls.metrics_for(p))
    if metrics is None:
        return reported
    chosen = tuple(dict.fromkeys(metrics))
    if not chosen:
        raise UserError(f"no metrics given; valid choices for {cls.name!r}: {', '.join(reported)}")
    for m in chosen:
        if m not in METRICS:
            raise UserError(f"unknown metric {m!r}; valid choices for {cls.name!r}: {', '.join(reported)}")
        if m not in reported:
            raise UserError(f"simulator {cls.name!r} does not report metric {m!r} with these "
                            f"parameters; valid choices: {', '.join(reported)}")
    return chosen


def resolve_with(cls: type[Family], spec: RunSpec) -> RunSpec:
    """``spec`` resolved against the family class ``cls`` (also one that is not registered, as
    tests use)."""
    p = family_params(cls, spec.params)
    real_fraction = _policy(spec.policy, spec.real_fraction)
    seed_ids = _seeds(spec.seeds)
    if isinstance(spec.iterations, bool) or spec.iterations < 1:
        raise UserError(f"iterations must be a positive int, got {spec.iterations!r}")
    return RunSpec(
        simulator=cls.name,
        params=p.model_dump(mode="json"),
        policy=spec.policy,
        real_fraction=real_fraction,
        synthetic_ratio=float(spec.synthetic_ratio),
        seeds=seed_ids,
        iterations=spec.iterations,
        device=_device(cls, spec.device),
        metrics=_metrics(cls, p, spec.metrics),
    )


__all__ = ["DEFAULTS", "RunSpec", "family_params", "resolve_with"]
