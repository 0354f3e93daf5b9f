"""Fixtures shared by the test modules: a fresh store per test on each backend (``store_url``,
and ``module_store_url`` for a store that a module's tests share). See ``stores.py``."""

from __future__ import annotations

import pytest
from stores import BACKENDS, new_store


@pytest.fixture(params=BACKENDS)
def store_url(request, tmp_path):
    """The URL of a fresh, empty store: SQLite, and PostgreSQL when ``MCATLAS_TEST_DB`` is set
    (skipped otherwise, saying how to enable it)."""
    yield from new_store(request.param, tmp_path)


@pytest.fixture(scope="module", params=BACKENDS)
def module_store_url(request, tmp_path_factory):
    """Like ``store_url``, one store for all the tests of a module that use it."""
    yield from new_store(request.param, tmp_path_factory.mktemp("store"))
