"""The batched model-fitting loop: execute a run, return a tidy frame.

Public functions
    :func:`execute` runs a resolved :class:`~simulators.runspec.RunSpec` and returns a pandas
    DataFrame with columns ``iteration`` (1..T), ``seed``, ``metric``, ``value`` (one row per
    iteration, seed and metric); :func:`run` builds, resolves and executes a spec from keyword
    arguments; :func:`available` describes the registered simulators.

The loop
    Iteration 1 fits model 1 on n real samples; after fitting model t the data policy
    (:mod:`simulators.policies`) builds the training set of iteration t+1 from model t's
    samples (ceil(r n) of them for the synthetic ratio r), and model t+1 is fitted on it.
    Every array carries a leading seed axis: one call handles all seeds, with no Python loop
    over seeds.

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

import time
from typing import Any, Callable, Sequence

from . import registry
from .base import Family
from .runspec import RunSpec, resolve_with

#: a progress callback: called as ``progress(t, T)`` after iteration t has been measured
Progress = Callable[[int, int], None]


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


def execute(spec: RunSpec, *, progress: Progress | None = None, family: type[Family] | None = None) -> Any:
    """Run a resolved spec; returns the tidy frame (``frame.attrs`` holds the spec as a dict,
    the wall time and, where the family has one, the trivial risk of catastrophic-risk).
    ``family``: the class to run (default: the registered ``spec.simulator``)."""
    import numpy as np
    import pandas as pd

    from .batch_ops import ops_for
    from .policies import POLICY_CLASSES

    cls = family or spec.family
    seeds = spec.seed_ids
    S, T = len(seeds), spec.iterations
    metrics = tuple(spec.metrics or cls.metrics)
    rng = make_rng(seeds, cls.backend, spec.device)
    started = time.perf_counter()
    fam = cls(cls.Params(**spec.params), S, rng, spec.device)
    policy = POLICY_CLASSES[spec.policy](fam, ops_for(cls.backend, spec.device), T, spec.real_fraction, rng,
                                         spec.synthetic_ratio)
    values = np.empty((T, S, len(metrics)), dtype=np.float64)
    summary = policy.start(fam.real(fam.n, rng))
    model = None
    for t in range(1, T + 1):
        if t > 1:
            summary = policy.next(model)
        model = fam.fit(summary, model, rng)
        measured = fam.measure(model, metrics)
        for j, metric in enumerate(metrics):
            values[t - 1, :, j] = policy.ops.to_numpy(measured[metric]).reshape(S)
        if progress is not None:
            progress(t, T)

    M = len(metrics)
    frame = pd.DataFrame(
        {
            "iteration": np.repeat(np.arange(1, T + 1, dtype=np.int64), S * M),
            "seed": np.tile(np.repeat(np.asarray(seeds, dtype=np.int64), M), T),
            "metric": np.tile(np.asarray(metrics, dtype=object), T * S),
            "value": values.reshape(-1),
        }
    )
    frame.attrs["config"] = spec.as_dict()
    frame.attrs["wall_time"] = time.perf_counter() - started
    trivial = fam.trivial_risk()
    if trivial is not None:  # the catastrophic-risk baseline, {seed id: value}
        trivial = policy.ops.to_numpy(trivial).reshape(S)
        frame.attrs["trivial_risk"] = {int(s): float(v) for s, v in zip(seeds, trivial)}
    return frame


def run(name: str | type[Family], *, progress: Progress | None = None, **fields: Any) -> Any:
    """Run simulator ``name`` (or a :class:`Family` subclass, as tests use for families that are
    not registered): ``fields`` are those of :class:`~simulators.runspec.RunSpec` (``policy``,
    ``real_fraction``, ``synthetic_ratio``, ``seeds``, ``iterations``, ``device``, ``metrics``)
    and, beside them, the family's parameters (see :func:`available`). Returns the tidy frame
    of :func:`execute`; ``progress(t, T)`` is called after each iteration."""
    spec, cls = spec_of(name, **fields)
    return execute(spec, progress=progress, family=cls)


def spec_of(name: str | type[Family], **fields: Any) -> tuple[RunSpec, type[Family]]:
    """The resolved spec of keyword arguments (run fields and family parameters mixed, as
    :func:`run` takes them) and its family class."""
    run_fields = {k: fields.pop(k) for k in list(fields) if k in RunSpec.model_fields and k != "params"}
    if isinstance(name, type) and issubclass(name, Family):
        cls = name
    else:
        cls = RunSpec.of(simulator=str(name)).family
    spec = RunSpec.of(simulator=cls.name, params=fields, **run_fields)
    return resolve_with(cls, spec), cls


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
