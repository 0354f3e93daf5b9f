"""Package facades whose names are imported on first use, so importing a package stays cheap.

A package lists its public names and the modules that define them; :func:`facade` returns the
``__getattr__`` and ``__dir__`` of PEP 562 that import a module only when one of its names is
first read (``import metaanalysis`` then costs nothing, ``metaanalysis.build_matrix`` imports one
module).
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Iterable, Mapping
from typing import Any


def facade(package: str, modules: Mapping[str, Iterable[str]]) -> tuple[Callable[[str], Any], Callable[[], list[str]], list[str]]:
    """(``__getattr__``, ``__dir__``, ``__all__``) for ``package``, from ``{module: names}``
    (module paths relative to the package, e.g. ``".read"``)."""
    where = {name: module for module, names in modules.items() for name in names}

    def __getattr__(name: str) -> Any:
        try:
            module = where[name]
        except KeyError:
            raise AttributeError(f"module {package!r} has no attribute {name!r}") from None
        return getattr(importlib.import_module(module, package), name)

    def __dir__() -> list[str]:
        return sorted(where)

    return __getattr__, __dir__, sorted(where)


__all__ = ["facade"]
