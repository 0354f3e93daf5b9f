"""Meta-analysis: record models, loading and validation of the YAML database, the SQL store,
the definition-vs-paper matrix, realism weighting and evidence synthesis, charts and the HTML
atlas. May call ``simulators``; never imported by it.

Public API (imported lazily, so ``import metaanalysis`` stays cheap)::

    metaanalysis.validate_directory(root) -> ValidationResult   # every problem, FILE:LINE
    metaanalysis.validate_paths(paths, annotations) -> ValidationResult
    metaanalysis.load_database(root) -> ValidationResult        # or UserError
    metaanalysis.annotations_dir(explicit=None) -> Path
    metaanalysis.engine(url) -> sqlalchemy Engine                # the one engine factory
    metaanalysis.open_index(url, root) -> Engine                 # synced with the YAML
    metaanalysis.read_papers(engine) -> list[Paper]
    metaanalysis.build_matrix(papers) -> Matrix
"""

from __future__ import annotations

from typing import Any

_LAZY = {
    "validate_directory": ("metaanalysis.validation", "validate_directory"),
    "validate_paths": ("metaanalysis.validation", "validate_paths"),
    "load_database": ("metaanalysis.validation", "load_database"),
    "annotations_dir": ("metaanalysis.paths", "annotations_dir"),
    "engine": ("metaanalysis.store", "engine"),
    "open_index": ("metaanalysis.store", "open_index"),
    "read_papers": ("metaanalysis.store", "read_papers"),
    "build_matrix": ("metaanalysis.matrix", "build_matrix"),
    "Paper": ("metaanalysis.records", "Paper"),
}

__all__ = sorted(_LAZY)


def __getattr__(name: str) -> Any:
    try:
        module, attribute = _LAZY[name]
    except KeyError:
        raise AttributeError(f"module 'metaanalysis' has no attribute {name!r}") from None
    import importlib

    return getattr(importlib.import_module(module), attribute)
