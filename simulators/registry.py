"""The one registry of model families, found by name; it refuses duplicate names.

Built-in families live in ``simulators.families.<module>`` and are imported on first use, so
importing :mod:`simulators` stays cheap. Family modules must import torch lazily (inside
functions), so that listing the simulators never pays for it.
"""

from __future__ import annotations

import difflib
import importlib

from .base import Family

#: modules that define the built-in families (each registers itself on import)
BUILTIN_MODULES: tuple[str, ...] = (
    "simulators.families.discrete",
    "simulators.families.gaussian",
    "simulators.families.gmm",
    "simulators.families.kde",
    "simulators.families.linear_regression",
    "simulators.families.lm",
    "simulators.families.vae",
)

_FAMILIES: dict[str, type[Family]] = {}
_loaded = False


class UnknownSimulatorError(KeyError):
    """An unknown simulator name; the message lists the valid choices."""

    def __str__(self) -> str:  # KeyError would quote the message
        return str(self.args[0])


def register(cls: type[Family]) -> type[Family]:
    """Class decorator: add a family under ``cls.name``; a second, different class is an error."""
    existing = _FAMILIES.get(cls.name)
    if existing is not None and existing is not cls:
        raise ValueError(
            f"simulator name {cls.name!r} is already registered by "
            f"{existing.__module__}.{existing.__qualname__}"
        )
    _FAMILIES[cls.name] = cls
    return cls


def _load_builtins() -> None:
    global _loaded
    if _loaded:
        return
    for module in BUILTIN_MODULES:
        importlib.import_module(module)
    _loaded = True


def names() -> list[str]:
    """Registered simulator names, sorted."""
    _load_builtins()
    return sorted(_FAMILIES)


def get(name: str) -> type[Family]:
    """The family class registered as ``name``; an unknown name lists the valid choices."""
    _load_builtins()
    try:
        return _FAMILIES[name]
    except KeyError:
        close = difflib.get_close_matches(name, _FAMILIES, n=3)
        hint = f" (did you mean {', '.join(close)}?)" if close else ""
        raise UnknownSimulatorError(
            f"unknown simulator {name!r}{hint}; valid choices: {', '.join(sorted(_FAMILIES))}"
        ) from None


def run_cost(simulator: str, seeds: int, iterations: int, n: float) -> float:
    """A rough cost of one run, for ordering reruns and warning about setups too large to rerun:
    seeds x iterations x samples per iteration x the family's ``relative_cost`` (a neural family
    trains a network per fit)."""
    return float(seeds) * float(iterations) * float(n or 1) * float(getattr(get(simulator), "relative_cost", 1.0))
