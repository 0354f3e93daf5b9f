"""Simulators: the batched model-fitting loop, its data policies, the model families, the
metrics and the verdict rules that make a collapse profile.

Public API::

    simulators.RunSpec(simulator=..., params={...}, policy="replace", seeds=10, ...)
    simulators.execute(spec.resolve()) -> pandas.DataFrame (iteration, seed, metric, value)
    simulators.run(name, *, policy="replace", seeds=..., iterations=..., device="cpu",
                   metrics=None, real_fraction=None, **params) -> the same, from keywords
    simulators.profile(frame, ...) -> the collapse profile of one run
    simulators.summarize(frame) -> per-iteration summaries across seeds
    simulators.available() -> the simulators with their parameters, defaults and metrics

Layout: :mod:`.runspec` (the run configuration), :mod:`.engine` (the loop),
:mod:`.policies` (the data policies), :mod:`.batch_ops` (numpy/torch batch operations),
:mod:`.base` (the family contract), :mod:`.families` (the model families), :mod:`.registry`,
:mod:`.verdicts` (the collapse profile), :mod:`.summary`, :mod:`.runfiles` (runs on disk),
:mod:`.vocabulary` (the shared ids), :mod:`.neural` (batched networks and their data).

Importing this package is cheap: the engine (numpy, pandas) and the verdict rules are imported
on first use, and torch only by the torch-based families when they run.
"""

from __future__ import annotations

from .lazy import facade

__getattr__, __dir__, __all__ = facade(__name__, {
    ".runspec": ["RunSpec"],
    ".engine": ["available", "execute", "run"],
    ".summary": ["summarize"],
    ".verdicts": ["profile", "scaling_profile"],
})
