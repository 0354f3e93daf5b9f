"""The SQL index: round trip of records, resync after a YAML edit, one-transaction failure (on
SQLite, and on PostgreSQL when MCATLAS_TEST_DB is set)."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

from metaanalysis import store
from metaanalysis.annotations.validation import validate_directory
from metaanalysis.store.queries import find_papers, get_paper
from simulators.errors import UserError

GOOD = Path(__file__).resolve().parent / "fixtures" / "annotations" / "good"


@pytest.fixture
def root(tmp_path):
    dest = tmp_path / "annotations"
    shutil.copytree(GOOD, dest)
    return dest


@pytest.fixture
def eng(store_url):
    return store.engine(store_url)


def test_round_trip_gives_back_equal_records(root, eng):
    assert store.ensure_synced(eng, root) is True
    validated = sorted(validate_directory(root).papers, key=lambda p: p.sort_key())
    back = store.read_papers(eng)
    assert [p.key for p in back] == [p.key for p in validated]
    assert back == validated
    # the richest record survives in full: claims, setups with realistic overrides, realism
    curse = get_paper(eng, "shumailov2023curse")
    assert curse.setups[0].realistic is not None and curse.setups[0].realistic.iterations == 10
    assert curse.setups[1].real_fraction == pytest.approx(0.1)
    assert list(curse.realism) == ["data-propagation", "model-class"]


def test_sqlite_uses_wal(tmp_path, root):
    eng = store.engine(f"sqlite:///{tmp_path / 'index.db'}")
    store.ensure_synced(eng, root)
    with eng.connect() as conn:
        assert conn.exec_driver_sql("PRAGMA journal_mode").scalar().lower() == "wal"


def test_no_resync_when_unchanged_and_resync_after_edit(root, eng):
    assert store.ensure_synced(eng, root) is True
    assert store.ensure_synced(eng, root) is False
    path = root / "papers" / "gerstgrasser2024model.yaml"
    text = path.read_text().replace("diverging-risk: explicit", "diverging-risk: explicit\n  collapsing-variance: implicit")
    path.write_text(text)
    st = path.stat()
    os.utime(path, ns=(st.st_atime_ns, st.st_mtime_ns + 1_000_000))
    assert store.ensure_synced(eng, root) is True
    assert get_paper(eng, "gerstgrasser2024model").definitions == {
        "diverging-risk": "explicit", "collapsing-variance": "implicit"
    }
    # a removed file disappears from the index
    (root / "papers" / "example2025none.yaml").unlink()
    assert store.ensure_synced(eng, root) is True
    assert "example2025none" not in [p.key for p in store.read_papers(eng)]


def test_invalid_yaml_leaves_the_index_untouched(root, eng):
    store.ensure_synced(eng, root)
    before = store.read_papers(eng)
    shutil.copy(GOOD.parent / "bad" / "unknown-field.yaml", root / "papers")
    with pytest.raises(UserError, match="unknown-field.yaml:8: titel"):
        store.ensure_synced(eng, root)
    assert store.read_papers(eng) == before


def test_queries_filter(root, eng):
    store.ensure_synced(eng, root)
    keys = lambda **kw: [p.key for p in find_papers(eng, **kw)]  # noqa: E731
    assert keys(definition="tail-disappearance") == ["shumailov2023curse", "shumailov2024ai"]
    assert keys(definition="diverging-risk", usage="explicit") == ["gerstgrasser2024model"]
    assert keys(usage="implicit") == ["shumailov2023curse", "shumailov2024ai"]
    assert keys(policy="accumulate") == ["gerstgrasser2024model"]
    assert keys(explicit="n/a") == ["example2025none"]
    assert keys(year=2024) == ["gerstgrasser2024model", "shumailov2024ai"]
    assert keys(year=2024, definition="catastrophic-risk") == ["shumailov2024ai"]
    assert keys(definition="scaling-law-change") == []


def test_unknown_key_names_closest(root, eng):
    store.ensure_synced(eng, root)
    with pytest.raises(UserError, match="closest: shumailov2023curse"):
        get_paper(eng, "shumailov2023curs")
