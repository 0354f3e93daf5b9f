"""Where things are: the annotations directory and the store's URL.

The annotations directory is the first of:

1. an explicit argument (the CLI's ``--annotations DIR``);
2. the environment variable ``MCATLAS_ANNOTATIONS`` (the CLI reads it for ``--annotations`` too);
3. the ``annotations/`` of the repository checkout holding this package — the directory beside
   ``metaanalysis/`` when ``pyproject.toml`` is there too, which is the case when running from a
   clone or an editable install (``pip install -e .``), so contributors see their edits at once;
4. the copy shipped inside the installed package (``metaanalysis/annotations/data/``, found with
   :mod:`importlib.resources`), for a wheel or a non-editable ``pip install .``.

The shipped copy is not a second copy in git: ``pyproject.toml`` maps the package
``metaanalysis.annotations.data`` to the top-level ``annotations/`` directory, so a wheel carries
that directory's files as package data. Only ``mcatlas new`` writes into the annotations
directory (a new record under ``papers/``); with an installed package, give it a working copy
(``--annotations`` or ``--out``) rather than the copy inside site-packages.

The store is ``--db URL`` / ``MCATLAS_DB`` (any SQLAlchemy URL), else an SQLite file
``.mcatlas/mcatlas.db`` under the current working directory (created on first use) — never
beside the package, so an installed package does not write into site-packages.
"""

from __future__ import annotations

import os
from importlib import resources
from pathlib import Path

from simulators.errors import UserError

#: the root of the repository checkout that would hold this package (a clone or editable install)
REPO_ROOT = Path(__file__).resolve().parents[2]
#: the repository's annotations directory (beside the metaanalysis package)
REPO_ANNOTATIONS = REPO_ROOT / "annotations"
#: the package and directory that hold the copy shipped in a wheel (see the module docstring)
SHIPPED_PACKAGE = "metaanalysis.annotations"
SHIPPED_DIR = "data"
ANNOTATIONS_ENV = "MCATLAS_ANNOTATIONS"
DEFINITIONS_FILE = "definitions.yaml"
REALISM_FILE = "realism.yaml"
PAPERS_DIR = "papers"
DB_DIR = ".mcatlas"
DB_FILE = "mcatlas.db"


def checkout_annotations() -> Path | None:
    """The checkout's ``annotations/`` when this package runs from a checkout, else None."""
    if (REPO_ROOT / "pyproject.toml").is_file() and REPO_ANNOTATIONS.is_dir():
        return REPO_ANNOTATIONS
    return None


def shipped_annotations() -> Path | None:
    """The annotations shipped inside the installed package, else None (a checkout has none).

    Only a package on the file system counts: the records are read as files by path."""
    shipped = resources.files(SHIPPED_PACKAGE).joinpath(SHIPPED_DIR)
    if isinstance(shipped, Path) and shipped.is_dir():
        return shipped
    return None


def default_annotations_dir() -> Path | None:
    """The annotations directory when none is given: the checkout's, else the shipped copy."""
    return checkout_annotations() or shipped_annotations()


def annotations_dir(explicit: Path | str | None = None) -> Path:
    """The annotations directory to use, in the order of the module docstring: ``explicit``,
    ``MCATLAS_ANNOTATIONS``, the checkout's ``annotations/``, the copy shipped in the package.

    A :class:`UserError` if the chosen directory does not exist, or if there is none."""
    if explicit is None:
        explicit = os.environ.get(ANNOTATIONS_ENV) or None
    if explicit is not None:
        root = Path(explicit)
        if not root.is_dir():
            raise UserError(f"{root}: annotations directory not found (check --annotations / {ANNOTATIONS_ENV})")
        return root
    root = default_annotations_dir()
    if root is None:
        raise UserError(
            f"no annotations directory: this installation carries none and {REPO_ANNOTATIONS} does "
            f"not exist (set --annotations or {ANNOTATIONS_ENV})"
        )
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
