"""Where things are: the annotations directory and the store's URL.

The annotations directory is, in order: an explicit argument (the CLI's ``--annotations`` /
``MCATLAS_ANNOTATIONS``), else the repository's ``annotations/`` — the parent directory of the
``metaanalysis`` package, which is where it lives in a checkout and in an editable install.

The store is ``--db URL`` / ``MCATLAS_DB`` (any SQLAlchemy URL), else an SQLite file
``.mcatlas/mcatlas.db`` under the current working directory (created on first use).
"""

from __future__ import annotations

import os
from pathlib import Path

from simulators.errors import UserError

#: the repository's annotations directory (beside the metaanalysis package)
REPO_ANNOTATIONS = Path(__file__).resolve().parents[2] / "annotations"
DEFINITIONS_FILE = "definitions.yaml"
REALISM_FILE = "realism.yaml"
PAPERS_DIR = "papers"
DB_DIR = ".mcatlas"
DB_FILE = "mcatlas.db"


def annotations_dir(explicit: Path | str | None = None) -> Path:
    """The annotations directory to use; a :class:`UserError` if it does not exist."""
    if explicit is None:
        env = os.environ.get("MCATLAS_ANNOTATIONS")
        explicit = env if env else None
    root = Path(explicit) if explicit is not None else REPO_ANNOTATIONS
    if not root.is_dir():
        raise UserError(f"{root}: annotations directory not found (set --annotations or MCATLAS_ANNOTATIONS)")
    return root


def default_db_url() -> str:
    """SQLite under ``.mcatlas/`` in the working directory (the directory is created)."""
    directory = Path.cwd() / DB_DIR
    directory.mkdir(parents=True, exist_ok=True)
    return f"sqlite:///{directory / DB_FILE}"


def db_url(explicit: str | None = None) -> str:
    """``explicit`` (``--db``), else ``MCATLAS_DB``, else :func:`default_db_url`."""
    return explicit or os.environ.get("MCATLAS_DB") or default_db_url()


def paper_files(root: Path) -> list[Path]:
    """The paper files (``papers/*.yaml``) of an annotations directory, sorted by name."""
    papers = Path(root) / PAPERS_DIR
    if not papers.is_dir():
        return []
    return sorted(
        p for p in papers.iterdir() if p.suffix in (".yaml", ".yml") and not p.name.startswith(".")
    )
