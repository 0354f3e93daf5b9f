"""The static HTML atlas (``mcatlas report``): :func:`build_site` writes a site that works from
``file://`` with no network, from the annotations and the stored evidence
(:func:`metaanalysis.analysis.frames.load_evidence`).

Cheap to import: the builder and its heavy imports load on first use.
"""

from __future__ import annotations

from typing import Any

__all__ = ["build_site"]


def build_site(*args: Any, **kwargs: Any) -> Any:
    """See :func:`metaanalysis.present.atlas.site.build_site`."""
    from .site import build_site as _build

    return _build(*args, **kwargs)
