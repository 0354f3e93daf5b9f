"""The SQL store: engines and write sessions, the annotation index rebuilt from the YAML, and
queries on it. The evidence of reruns lives in the same database (:mod:`metaanalysis.evidence`).
"""

from simulators.lazy import facade

__getattr__, __dir__, __all__ = facade(__name__, {
    ".database": ["create_tables", "database_errors", "engine", "shown_url", "write_session"],
    ".index": ["ensure_synced", "open_index", "paper_files_of", "read_matrix_inputs", "read_papers",
               "sync"],
    ".queries": ["find_papers", "get_paper"],
})
