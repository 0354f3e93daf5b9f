"""The static HTML atlas (``mcatlas report``): :func:`build_site` writes a site that works from
``file://`` with no network; :mod:`.hooks` connects it to the evidence store (loading stored
evidence, rerunning missing fast setups first).

Cheap to import: the builder and its heavy imports load on first use.
"""

from __future__ import annotations

from typing import Any

__all__ = ["build_site"]


def build_site(*args: Any, **kwargs: Any) -> Any:
    """See :func:`metaanalysis.report.site.build_site`."""
    from .site import build_site as _build

    return _build(*args, **kwargs)
