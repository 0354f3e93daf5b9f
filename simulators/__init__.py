"""Simulators: the batched model-fitting loop, its data policies, the model families, the
metrics and the verdict rules that make a collapse profile.

Public API (filled in by ``simulators.engine`` and ``simulators.profile``)::

    simulators.run(name, *, policy="replace", seeds=..., iterations=..., device="cpu",
                   metrics=None, real_fraction=None, **params) -> pandas.DataFrame
    simulators.profile(frame) -> Profile
    simulators.available() -> list of (name, parameters, defaults, metrics)

Importing this package is cheap: numpy, pandas and torch are imported when first needed.
"""
