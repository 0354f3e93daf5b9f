"""A stored run keeps everything its verdicts need: for every family, re-profiling the stored
per-seed frame gives the stored verdicts at every stored horizon, and the per-iteration
summaries read back from the store equal those computed in memory (NaN and infinite seeds
handled one way). On SQLite and, with MCATLAS_TEST_DB set, on PostgreSQL."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from metaanalysis import evidence as ev
from simulators import registry
from simulators.runfiles import BASELINE_METRIC
from simulators.summary import summarize
from simulators.verdicts import profiles

#: a small configuration per family (neural ones as small as their tests use)
SMALL = {
    "lm": dict(vocab=20, topics=2, seq_len=8, n=16, epochs=1, width=8, layers=1, heads=2, eval_sequences=32),
    "vae": dict(n=64, epochs=1, latent=2, width=8, iw_samples=4, eval_samples=50),
}


def _store(url):
    from metaanalysis.store.database import engine

    eng = engine(url)
    ev.ensure_tables(eng)
    return eng


@pytest.mark.parametrize("family", registry.names())
def test_reprofiling_a_stored_run_gives_the_stored_verdicts(store_url, family):
    neural = family in SMALL
    config = {"simulator": family, "params": SMALL.get(family, {}), "policy": "replace",
              "seeds": 3 if neural else 6, "iterations": 3 if neural else 8}
    result = ev.compute(config)
    eng = _store(store_url)
    assert ev.store_result(eng, result) == "stored"
    frame = ev.load_frame(eng, result.config_hash)
    # the catastrophic-risk baseline is kept where the family has one
    assert (BASELINE_METRIC in set(frame["metric"])) == (BASELINE_METRIC in set(result.frame["metric"]))
    horizons = ev.horizons_of(result.config)
    assert set(result.profiles) == set(horizons) and len(horizons) == 2
    again = profiles(frame, horizons)
    for h in horizons:
        stored = ev.load_profile(eng, result.config_hash, h)
        assert stored is not None
        assert [v.to_dict() for v in stored.verdicts] == [v.to_dict() for v in again[h].verdicts], h
    # summaries: in memory (what compute stored) vs read back from the store
    memory = summarize(frame[frame["metric"] != BASELINE_METRIC])
    back = ev.aggregates(eng, result.config_hash)
    cols = list(back.columns)
    memory = memory[cols].sort_values(["metric", "iteration"]).reset_index(drop=True)
    pd.testing.assert_frame_equal(back.reset_index(drop=True), memory, check_dtype=False)


def test_nan_and_infinite_seeds_survive_the_store(store_url):
    """One NaN seed and one infinite seed: the in-memory summary and the stored one agree (n
    counts the non-NaN seeds, the mean is infinite once a seed is, the interval then undefined)."""
    result = ev.compute({"simulator": "discrete", "params": {"categories": 3, "n": 5}, "seeds": 4, "iterations": 3})
    frame = result.frame.copy()
    risk = frame["metric"] == "population_risk"
    frame.loc[risk & (frame["seed"] == 0) & (frame["iteration"] == 2), "value"] = math.nan
    frame.loc[risk & (frame["seed"] == 1) & (frame["iteration"] == 3), "value"] = math.inf
    plain = frame[frame["metric"] != BASELINE_METRIC]
    result.frame, result.aggregates = frame, summarize(plain)
    eng = _store(store_url)
    ev.store_result(eng, result)
    back = ev.aggregates(eng, result.config_hash, "population_risk").set_index("iteration")
    assert back.loc[2, "n"] == 3 and np.isfinite(back.loc[2, "mean"])
    assert back.loc[3, "mean"] == math.inf and back.loc[3, "n_inf"] == 1 and math.isnan(back.loc[3, "ci_low"])
    memory = summarize(ev.load_frame(eng, result.config_hash).pipe(lambda f: f[f["metric"] != BASELINE_METRIC]))
    memory = memory[memory["metric"] == "population_risk"].set_index("iteration")[list(back.columns)]
    pd.testing.assert_frame_equal(back, memory, check_dtype=False)
