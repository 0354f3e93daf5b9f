"""The annotation database: record models, safe YAML loading, validation, BibTeX.

``paths`` (where the annotations are), ``records`` (the pydantic models of a paper and of the two
vocabulary files), ``order`` (the matrix order of papers), ``yamlio`` (bounded safe loading with
line numbers), ``validation`` (every problem, one line each), ``bibtex``.
"""

from simulators.lazy import facade

__getattr__, __dir__, __all__ = facade(__name__, {
    ".paths": ["annotations_dir", "paper_files"],
    ".records": ["Claim", "Paper", "RealismFile", "Setup", "paper_json_schema_text"],
    ".order": ["matrix_order"],
    ".validation": ["ValidationResult", "load_database", "validate_directory", "validate_paths"],
    ".bibtex": ["bibliography"],
})
