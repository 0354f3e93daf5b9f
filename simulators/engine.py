"""The batched model-fitting loop: validate a run, execute it, return a tidy frame.

Public functions
    :func:`resolve` validates every argument of a run up front and returns a :class:`RunConfig`
    (``.as_dict()`` is the plain, JSON-able configuration the evidence layer hashes);
    :func:`run` resolves and executes, returning a pandas DataFrame with columns
    ``iteration`` (1..T), ``seed``, ``metric``, ``value`` (one row per iteration, seed and
    metric); :func:`available` describes the registered simulators.

The loop (DESIGN.md, "Data policies")
    Iteration 1 fits model 1 on n real samples. After fitting model t the engine draws n
    synthetic samples S_t from it, builds the training set of iteration t+1 by the policy, and
    fits model t+1:

    ``replace``                S_t.
    ``accumulate``             everything so far plus S_t. Additive families keep a running
                               summary (``combine``), so an iteration costs the same at t=100 as
                               at t=2; the others write into a pool preallocated for T*n samples
                               and fit on its filled prefix (a view, no copy).
    ``accumulate-subsample``   a uniform n-subset, without replacement and independently per
                               seed, of the pool (everything so far plus S_t).
    ``mix`` (f)                the same k = ceil(f n) original real samples every iteration
                               (the first k of the n real samples of iteration 1) plus the last
                               n-k samples of a draw of n from the latest model. Taking the
                               *last* n-k keeps fixed-design families (regression) row-aligned:
                               rows 0..k-1 are real, rows k..n-1 synthetic.
    ``fresh`` (f)              the first k of n real samples drawn anew plus the last n-k of a
                               draw of n from the latest model (aligned the same way).

Randomness
    One generator per run, derived deterministically from the list of seed ids:
    ``numpy.random.SeedSequence(seeds)`` seeds a ``numpy.random.Generator`` (numpy families) or,
    via its first 63-bit state word, a ``torch.Generator`` on the run's device (torch
    families). All seeds of a run share that generator (draws are batched over the seed axis),
    so the same seeds list gives the same frame, while seed 3's trajectory in a run of seeds
    0..9 differs from seed 3's in a run of seeds 0..4: a seed id labels a replicate, it is not
    a per-replicate random state.

Metrics arrive from the family as arrays of shape (S,); ``inf`` and ``nan`` are kept as values.
"""

from __future__ import annotations

import hashlib
import json
import math
import time
from dataclasses import dataclass, field
from typing import Any, Callable, Iterable, Sequence

from . import registry
from .base import Family, FamilyParams
from .errors import UserError
from .vocabulary import METRICS, POLICIES, POLICIES_WITH_REAL_FRACTION

#: a progress callback: called as ``progress(t, T)`` after iteration t has been measured
Progress = Callable[[int, int], None]


@dataclass(frozen=True)
class RunConfig:
    """A validated run: everything that determines its output (and nothing else)."""

    simulator: str
    params: FamilyParams
    policy: str
    real_fraction: float | None
    seeds: tuple[int, ...]
    iterations: int
    device: str
    metrics: tuple[str, ...]
    family: type[Family] = field(repr=False, compare=False, default=None)  # type: ignore[assignment]

    def as_dict(self) -> dict[str, Any]:
        """Plain JSON-able configuration (params include defaults), stable key order."""
        return {
            "simulator": self.simulator,
            "params": self.params.model_dump(mode="json"),
            "policy": self.policy,
            "real_fraction": self.real_fraction,
            "seeds": list(self.seeds),
            "iterations": self.iterations,
            "device": self.device,
            "metrics": list(self.metrics),
        }

    def key(self) -> str:
        """SHA-256 of the canonical JSON of :meth:`as_dict` (the evidence layer may add the code
        version to what it hashes)."""
        text = json.dumps(self.as_dict(), sort_keys=True, separators=(",", ":"))
        return hashlib.sha256(text.encode()).hexdigest()


# ----------------------------------------------------------------------------- validation


def _family_class(name: str | type[Family]) -> type[Family]:
    if isinstance(name, type) and issubclass(name, Family):
        return name
    try:
        return registry.get(str(name))
    except registry.UnknownSimulatorError as exc:
        raise UserError(str(exc)) from None


def _params(cls: type[Family], params: dict[str, Any]) -> FamilyParams:
    """The family's typed parameters, or a one-line :class:`UserError` naming each bad parameter.

    Pydantic reports a union-typed field (``bandwidth: float | "scott" | "silverman"``) as one
    error per alternative, located at ``bandwidth.float`` etc.; such a field gets one message
    built from its description (what it accepts) instead. Errors are always named by the
    parameter itself (the first element of the location), never by pydantic's internal path."""
    from pydantic import ValidationError

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


def _error_text(err: Any) -> str:
    """Pydantic's message without its 'Value error, ' prefix, on one line."""
    msg = str(err["msg"]).replace("\n", " ")
    return msg.removeprefix("Value error, ")


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
        raise UserError(
            f"simulator {cls.name!r} runs on numpy (CPU only); valid devices for it: cpu"
        )
    import torch

    if not torch.cuda.is_available():
        raise UserError(f"device {device!r} requested but no CUDA GPU is available; valid devices: cpu")
    return device


def resolve(
    name: str | type[Family],
    *,
    policy: str = "replace",
    seeds: int | Sequence[int] = 10,
    iterations: int = 10,
    device: str = "cpu",
    metrics: Iterable[str] | str | None = None,
    real_fraction: float | None = None,
    **params: Any,
) -> RunConfig:
    """Validate a run's arguments (each failure is a one-line :class:`UserError` listing the
    valid choices) and return its :class:`RunConfig`. ``name`` may also be a :class:`Family`
    subclass (used by tests for families that are not registered)."""
    cls = _family_class(name)
    p = _params(cls, params)
    if policy not in POLICIES:
        raise UserError(f"unknown policy {policy!r}; valid choices: {', '.join(POLICIES)}")
    if policy in POLICIES_WITH_REAL_FRACTION:
        if real_fraction is None:
            raise UserError(f"policy {policy!r} needs real_fraction (a number in (0, 1])")
        try:
            real_fraction = float(real_fraction)
        except (TypeError, ValueError):
            raise UserError(f"real_fraction must be a number in (0, 1], got {real_fraction!r}") from None
        if not (0.0 < real_fraction <= 1.0):
            raise UserError(f"real_fraction must be in (0, 1], got {real_fraction}")
    elif real_fraction is not None:
        raise UserError(
            f"real_fraction is only for policies {', '.join(POLICIES_WITH_REAL_FRACTION)}, "
            f"not {policy!r}"
        )
    seed_ids = _seeds(seeds)
    if isinstance(iterations, bool) or not isinstance(iterations, int) or iterations < 1:
        raise UserError(f"iterations must be a positive int, got {iterations!r}")
    reported = tuple(cls.metrics_for(p))
    if metrics is None:
        chosen = reported
    else:
        if isinstance(metrics, str):
            metrics = [m.strip() for m in metrics.split(",") if m.strip()]
        chosen = tuple(dict.fromkeys(metrics))
        if not chosen:
            raise UserError(f"no metrics given; valid choices for {cls.name!r}: {', '.join(reported)}")
        for m in chosen:
            if m not in METRICS:
                raise UserError(f"unknown metric {m!r}; valid choices for {cls.name!r}: {', '.join(reported)}")
            if m not in reported:
                raise UserError(
                    f"simulator {cls.name!r} does not report metric {m!r} with these parameters; "
                    f"valid choices: {', '.join(reported)}"
                )
    dev = _device(cls, device)
    return RunConfig(
        simulator=cls.name,
        params=p,
        policy=policy,
        real_fraction=real_fraction,
        seeds=seed_ids,
        iterations=iterations,
        device=dev,
        metrics=chosen,
        family=cls,
    )


# ----------------------------------------------------------------------------- execution


def make_rng(seeds: Sequence[int], backend: str, device: str = "cpu") -> Any:
    """The run's one generator, derived from the seeds list (see the module docstring)."""
    import numpy as np

    sequence = np.random.SeedSequence([int(s) for s in seeds])
    if backend == "torch":
        import torch

        generator = torch.Generator(device=device)
        generator.manual_seed(int(sequence.generate_state(1, np.uint64)[0]) & ((1 << 63) - 1))
        return generator
    return np.random.default_rng(sequence)


def execute(config: RunConfig, *, progress: Progress | None = None) -> "Any":
    """Run a resolved configuration; returns the tidy frame (``frame.attrs`` holds the config
    as a dict and the wall time)."""
    import numpy as np
    import pandas as pd

    from .policies import ops_for, real_count

    cls = config.family or _family_class(config.simulator)
    S, T = len(config.seeds), config.iterations
    rng = make_rng(config.seeds, cls.backend, config.device)
    ops = ops_for(cls.backend, config.device)
    started = time.perf_counter()
    family = cls(config.params, S, rng, config.device)
    n = family.n
    policy = config.policy
    k = real_count(config.real_fraction, n) if policy in POLICIES_WITH_REAL_FRACTION else 0
    values = np.empty((T, S, len(config.metrics)), dtype=np.float64)

    real0 = family.real(n, rng)
    pooled = policy == "accumulate-subsample" or (policy == "accumulate" and not cls.additive)
    pool = filled = None
    if pooled:
        pool = ops.allocate(real0, T * n)
        ops.write(pool, real0, 0)
        filled = n
    kept = ops.take(real0, 0, k) if policy == "mix" else None
    summary = family.summarize(real0)
    model = None
    for t in range(1, T + 1):
        if t > 1:
            if policy == "replace":
                summary = family.summarize(family.sample(model, n, rng))
            elif policy == "accumulate" and cls.additive:
                summary = family.combine(summary, family.summarize(family.sample(model, n, rng)))
            elif policy in ("accumulate", "accumulate-subsample"):
                ops.write(pool, family.sample(model, n, rng), filled)
                filled += n
                current = ops.take(pool, 0, filled)
                if policy == "accumulate-subsample":
                    current = ops.gather(current, ops.subset(S, filled, n, rng))
                summary = family.summarize(current)
            else:  # mix, fresh
                real = kept if policy == "mix" else ops.take(family.real(n, rng), 0, k)
                if k < n:
                    synthetic = ops.take(family.sample(model, n, rng), k, n)
                    real = ops.concat(real, synthetic)
                summary = family.summarize(real)
        model = family.fit(summary, model, rng)
        measured = family.measure(model, config.metrics)
        for j, metric in enumerate(config.metrics):
            values[t - 1, :, j] = ops.to_numpy(measured[metric]).reshape(S)
        if progress is not None:
            progress(t, T)

    M = len(config.metrics)
    frame = pd.DataFrame(
        {
            "iteration": np.repeat(np.arange(1, T + 1, dtype=np.int64), S * M),
            "seed": np.tile(np.repeat(np.asarray(config.seeds, dtype=np.int64), M), T),
            "metric": np.tile(np.asarray(config.metrics, dtype=object), T * S),
            "value": values.reshape(-1),
        }
    )
    frame.attrs["config"] = config.as_dict()
    frame.attrs["wall_time"] = time.perf_counter() - started
    trivial = family.trivial_risk()
    if trivial is not None:  # the catastrophic-risk baseline, {seed id: value}
        trivial = ops.to_numpy(trivial).reshape(S)
        frame.attrs["trivial_risk"] = {int(s): float(v) for s, v in zip(config.seeds, trivial)}
    return frame


def run(
    name: str | type[Family],
    *,
    policy: str = "replace",
    seeds: int | Sequence[int] = 10,
    iterations: int = 10,
    device: str = "cpu",
    metrics: Iterable[str] | str | None = None,
    real_fraction: float | None = None,
    progress: Progress | None = None,
    **params: Any,
) -> "Any":
    """Run simulator ``name`` under ``policy`` for ``iterations`` model-fitting iterations on
    ``seeds`` (a count S, meaning seed ids 0..S-1, or a sequence of distinct non-negative ints).

    Returns a tidy pandas DataFrame with columns ``iteration`` (1..T), ``seed``, ``metric``,
    ``value``. ``metrics`` (default: all the family reports) restricts what is measured;
    ``real_fraction`` is required by ``mix`` and ``fresh`` and forbidden otherwise;
    ``progress(t, T)`` is called after each iteration; ``params`` are the family's parameters
    (see :func:`available`).
    """
    config = resolve(
        name,
        policy=policy,
        seeds=seeds,
        iterations=iterations,
        device=device,
        metrics=metrics,
        real_fraction=real_fraction,
        **params,
    )
    return execute(config, progress=progress)


# ----------------------------------------------------------------------------- description


def _type_name(annotation: Any) -> str:
    import types
    import typing

    origin = typing.get_origin(annotation)
    if origin is typing.Literal:
        return "|".join(str(a) for a in typing.get_args(annotation))
    if origin in (typing.Union, types.UnionType):
        return " | ".join(_type_name(a) for a in typing.get_args(annotation) if a is not type(None)) + (
            " | null" if type(None) in typing.get_args(annotation) else ""
        )
    if origin is typing.Annotated:
        return _type_name(typing.get_args(annotation)[0])
    if origin in (tuple, list):
        args = [a for a in typing.get_args(annotation) if a is not Ellipsis]
        return f"list[{_type_name(args[0])}]" if args else "list"
    return getattr(annotation, "__name__", str(annotation))


def describe(cls: type[Family]) -> dict[str, Any]:
    """One simulator as a plain dict: name, summary, backend, params, metrics."""
    params = []
    for pname, info in cls.Params.model_fields.items():
        default = info.get_default(call_default_factory=True)
        if isinstance(default, tuple):
            default = list(default)
        params.append(
            {
                "name": pname,
                "type": _type_name(info.annotation),
                "default": default,
                "description": info.description or "",
            }
        )
    return {
        "name": cls.name,
        "summary": cls.summary_line,
        "backend": cls.backend,
        "additive": cls.additive,
        "params": params,
        "metrics": list(cls.metrics),
    }


def available() -> list[dict[str, Any]]:
    """Every registered simulator (sorted by name) as :func:`describe` dicts."""
    return [describe(registry.get(name)) for name in registry.names()]


def _ci95(values: Any) -> tuple[float, float, float]:
    """Mean and normal-approximation 95% CI half-width across seeds (nan-free values)."""
    import numpy as np

    v = np.asarray(values, dtype=np.float64)
    mean = float(np.mean(v)) if v.size else math.nan
    if v.size < 2 or not np.all(np.isfinite(v)):
        return mean, math.nan, math.nan
    half = 1.96 * float(np.std(v, ddof=1)) / math.sqrt(v.size)
    return mean, mean - half, mean + half


def summarize_frame(frame: Any) -> Any:
    """Per iteration and metric: mean, 95% CI (normal approximation) across seeds, seeds."""
    import pandas as pd

    rows = []
    for (iteration, metric), group in frame.groupby(["iteration", "metric"], sort=True):
        mean, low, high = _ci95(group["value"].to_numpy())
        rows.append(
            {"iteration": iteration, "metric": metric, "mean": mean, "ci_low": low, "ci_high": high, "seeds": len(group)}
        )
    return pd.DataFrame(rows, columns=["iteration", "metric", "mean", "ci_low", "ci_high", "seeds"])
