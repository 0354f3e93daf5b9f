"""Meta-analysis: the annotation database, the SQL store, the re-executed evidence, analyses of
both, and what readers see. May call ``simulators``; never imported by it.

Subpackages follow the data flow, and imports only point down the list:

``annotations``  record models, safe YAML loading, validation, BibTeX
``store``        engines and write sessions, the annotation index, queries on it
``evidence``     planning, computing, writing, reading and rerunning simulator runs
``analysis``     the matrix and its evidence overlay, realism weights, claims against evidence,
                 synthesis, pooling, the position paper's Figure 4 test
``present``      text views, charts, the static HTML atlas

Public API (imported lazily, so ``import metaanalysis`` stays cheap)::

    metaanalysis.validate_directory(root) -> ValidationResult   # every problem, FILE:LINE
    metaanalysis.validate_paths(paths, annotations) -> ValidationResult
    metaanalysis.load_database(root) -> ValidationResult        # or UserError
    metaanalysis.annotations_dir(explicit=None) -> Path
    metaanalysis.engine(url) -> sqlalchemy Engine                # the one engine factory
    metaanalysis.open_index(url, root) -> Engine                 # synced with the YAML
    metaanalysis.read_papers(engine) -> list[Paper]
    metaanalysis.build_matrix(papers) -> Matrix
    metaanalysis.Paper
"""

from simulators.lazy import facade

__getattr__, __dir__, __all__ = facade(__name__, {
    ".annotations.validation": ["load_database", "validate_directory", "validate_paths"],
    ".annotations.paths": ["annotations_dir"],
    ".annotations.records": ["Paper"],
    ".store.database": ["engine"],
    ".store.index": ["open_index", "read_papers"],
    ".analysis.matrix": ["build_matrix"],
})
