"""The engine: data-policy training-set composition, determinism, the tidy frame, errors,
degenerate states, and the exact sufficient-statistic merges."""

from __future__ import annotations

import numpy as np
import pytest
from pydantic import Field

from simulators import engine
from simulators.base import Family, FamilyParams
from simulators.errors import UserError
from simulators.families.gaussian import chan_merge, scatter_summary
from simulators.runspec import DEFAULTS, RunSpec


class ProbeParams(FamilyParams):
    n: int = Field(8)


class Probe(Family):
    """A family whose samples are unique ids (real > 0, synthetic < 0) and that records every
    real draw, synthetic draw and training set, so tests can check what each policy fits on."""

    name = "probe"
    Params = ProbeParams
    metrics = ("population_risk",)
    additive = False

    def build(self, rng):
        self.counter = 0
        self.reals: list[np.ndarray] = []
        self.samples: list[np.ndarray] = []
        self.trains: list[np.ndarray] = []
        Probe.last = self

    def _ids(self, n):
        ids = self.counter + 1 + np.arange(self.seeds * n).reshape(self.seeds, n)
        self.counter += self.seeds * n
        return ids

    def real(self, n, rng):
        ids = self._ids(n)
        self.reals.append(ids)
        return {"x": ids}

    def fit(self, summary, previous, rng):
        self.trains.append(np.array(summary["x"]))
        return len(self.trains)

    def sample(self, model, n, rng):
        ids = -self._ids(n)
        self.samples.append(ids)
        return {"x": ids}

    def measure(self, model, metrics):
        return {"population_risk": np.full(self.seeds, float(model))}


def probe(policy, seeds=3, iterations=4, n=8, real_fraction=None):
    engine.run(Probe, policy=policy, seeds=seeds, iterations=iterations, n=n, real_fraction=real_fraction)
    return Probe.last


def test_first_iteration_fits_on_n_real_samples():
    for policy, f in [("replace", None), ("accumulate", None), ("accumulate-subsample", None), ("mix", 0.5), ("fresh", 0.5)]:
        p = probe(policy, real_fraction=f)
        assert np.array_equal(p.trains[0], p.reals[0])
        assert len(p.trains) == 4


def test_replace_fits_on_the_previous_models_samples():
    p = probe("replace")
    for t in range(1, 4):
        assert np.array_equal(p.trains[t], p.samples[t - 1])


def test_accumulate_fits_on_everything_so_far():
    p = probe("accumulate")
    for t in range(1, 4):
        expected = np.concatenate([p.reals[0], *p.samples[:t]], axis=1)
        assert np.array_equal(p.trains[t], expected)


def test_accumulate_subsample_draws_distinct_rows_of_the_pool_per_seed():
    p = probe("accumulate-subsample", seeds=400, iterations=3, n=10)
    for t in range(1, 3):
        pool = np.concatenate([p.reals[0], *p.samples[:t]], axis=1)
        train = p.trains[t]
        assert train.shape == (400, 10)
        for s in (0, 17, 399):
            assert len(set(train[s])) == 10 and set(train[s]) <= set(pool[s])
    # uniform over the pool: at t=3 the pool is 1/3 real, so a subset holds 10/3 real rows on
    # average. Hypergeometric(30, 10 real, 10 drawn) variance = 10*(1/3)*(2/3)*(20/29) = 1.53;
    # with 400 seeds the SE of the mean is 0.062: 5 SE = 0.31.
    real_rows = (p.trains[2] > 0).sum(axis=1)
    assert abs(real_rows.mean() - 10 / 3) < 0.31
    # different seeds get different subsets
    assert len({tuple(np.sort(r % 1000)) for r in p.trains[2][:50]}) > 40


def test_mix_keeps_the_same_first_real_rows_and_takes_the_last_synthetic_rows():
    p = probe("mix", n=10, real_fraction=0.25)  # k = ceil(2.5) = 3
    for t in range(1, 4):
        assert np.array_equal(p.trains[t][:, :3], p.reals[0][:, :3])
        assert np.array_equal(p.trains[t][:, 3:], p.samples[t - 1][:, 3:])
    assert len(p.reals) == 1


def test_fresh_draws_new_real_rows_each_iteration():
    p = probe("fresh", n=10, real_fraction=0.1)  # k = 1
    assert len(p.reals) == 4
    for t in range(1, 4):
        assert np.array_equal(p.trains[t][:, :1], p.reals[t][:, :1])
        assert np.array_equal(p.trains[t][:, 1:], p.samples[t - 1][:, 1:])
        assert not np.array_equal(p.trains[t][:, :1], p.reals[0][:, :1])


def test_full_real_fraction_is_all_real():
    p = probe("mix", n=10, real_fraction=1.0)
    assert all(np.array_equal(tr, p.reals[0]) for tr in p.trains)


def test_frame_is_tidy_and_deterministic():
    kwargs = dict(policy="accumulate-subsample", seeds=[4, 2, 9], iterations=3, n=5, dim=2)
    a = engine.run("gaussian", **kwargs)
    b = engine.run("gaussian", **kwargs)
    assert list(a.columns) == ["iteration", "seed", "metric", "value"]
    assert sorted(a["iteration"].unique()) == [1, 2, 3]
    assert sorted(a["seed"].unique()) == [2, 4, 9]
    assert len(a) == 3 * 3 * 7
    assert a.equals(b)
    c = engine.run("gaussian", **{**kwargs, "seeds": [4, 2, 8]})
    assert not np.allclose(a["value"], c["value"])


def test_resolve_gives_a_plain_config_with_defaults():
    spec = RunSpec(simulator="linear-regression", params={"dim": 3}, policy="mix", real_fraction=0.1,
                   seeds=2, iterations=3)
    d = spec.resolve().as_dict()
    assert d["params"] == {"n": 100, "dim": 3, "noise_var": 1.0}
    assert d["seeds"] == [0, 1] and d["policy"] == "mix" and d["metrics"] == ["population_risk", "mean_sq_error"]
    explicit = spec.with_changes(params={"dim": 3, "n": 100}, seeds=[0, 1])
    assert spec.resolve().key() == explicit.resolve().key()
    assert spec.resolve() == spec.resolve().resolve()  # resolving is idempotent
    # the defaults of every run field live in the model, and the engine's keywords use them
    assert DEFAULTS == {"params": {}, "policy": "replace", "real_fraction": None, "synthetic_ratio": 1.0,
                        "seeds": 10, "iterations": 10, "device": "cpu", "metrics": None}
    assert engine.spec_of("gaussian")[0] == RunSpec(simulator="gaussian").resolve()


@pytest.mark.parametrize(
    "kwargs, fragment",
    [
        ({"name": "gausian"}, "valid choices: discrete, gaussian"),
        ({"name": "gaussian", "dimm": 2}, "valid parameters: n, dim, estimator"),
        ({"name": "gaussian", "estimator": "median"}, "'mle' or 'unbiased'"),
        ({"name": "gaussian", "metrics": ["support_size"]}, "population_risk, kl_to_truth"),
        ({"name": "gaussian", "metrics": "nope"}, "population_risk, kl_to_truth"),
        ({"name": "gaussian", "policy": "keep"}, "valid choices: replace, accumulate"),
        ({"name": "gaussian", "policy": "mix"}, "needs real_fraction"),
        ({"name": "gaussian", "policy": "replace", "real_fraction": 0.5}, "only for policies mix, fresh"),
        ({"name": "gaussian", "policy": "fresh", "real_fraction": 1.5}, "[0, 1]"),
        ({"name": "gaussian", "synthetic_ratio": 0}, "synthetic_ratio: Input should be greater than 0"),
        ({"name": "gaussian", "device": "cuda"}, "valid devices for it: cpu"),
        ({"name": "gaussian", "device": "tpu"}, "valid choices: cpu, cuda"),
        ({"name": "gaussian", "seeds": 0}, "seeds"),
        ({"name": "gaussian", "seeds": [1, 1]}, "distinct"),
        ({"name": "gaussian", "iterations": 0}, "iterations"),
        ({"name": "gaussian", "dim": 2, "covariance": [1.0]}, "covariance"),
    ],
)
def test_errors_are_one_line_and_list_choices(kwargs, fragment):
    kwargs = dict(kwargs)
    name = kwargs.pop("name")
    with pytest.raises(UserError) as info:
        engine.spec_of(name, **kwargs)
    message = str(info.value)
    assert "\n" not in message and fragment in message


def test_degenerate_states_are_values_not_crashes():
    # n=2 under replace: the log variance drifts by digamma(1/2) + log(1) ~ -1.96 per step, so
    # after 600 iterations the variance underflows to exactly 0 in most seeds.
    frame = engine.run("gaussian", seeds=20, iterations=600, n=2, metrics="population_risk,variance_ratio,entropy,tail_mass_ratio")
    last = frame[frame.iteration == 600].pivot(index="seed", columns="metric", values="value")
    assert (last["variance_ratio"] == 0).any()
    assert np.isinf(last.loc[last["variance_ratio"] == 0, "population_risk"]).all()
    assert (last.loc[last["variance_ratio"] == 0, "entropy"] == -np.inf).all()
    # a collapsed discrete model: one outcome; the raw MLE's risk is infinite, the smoothed
    # model's finite but above the uniform model's log 4
    frame = engine.run("discrete", seeds=5, iterations=3, n=1, categories=4, smoothing=0)
    assert (frame[frame.metric == "support_size"]["value"] == 1).all()
    assert np.isinf(frame[frame.metric == "population_risk"]["value"]).all()
    frame = engine.run("discrete", seeds=5, iterations=3, n=1, categories=4)
    risk = frame[frame.metric == "population_risk"]["value"]
    assert np.isfinite(risk).all() and (risk > np.log(4)).all()
    # fewer rows than features: the minimum-norm fit, finite risk
    frame = engine.run("linear-regression", seeds=3, iterations=3, n=4, dim=6, policy="replace")
    assert np.isfinite(frame["value"]).all()


def test_chan_merge_equals_direct_moments_even_for_tiny_variances():
    rng = np.random.default_rng(0)
    a = 1e6 + 1e-4 * rng.standard_normal((2, 50, 3))
    b = 1e6 + 1e-4 * rng.standard_normal((2, 70, 3))
    merged = chan_merge(scatter_summary(a), scatter_summary(b))
    direct = scatter_summary(np.concatenate([a, b], axis=1))
    np.testing.assert_allclose(merged["mean"], direct["mean"], rtol=1e-15)
    # the scatter entries are ~1e-6 (120 samples of variance 1e-8): agree to 1e-6 of that scale
    np.testing.assert_allclose(merged["m2"], direct["m2"], rtol=1e-6, atol=1e-12)
    # the naive sum-of-squares form loses everything at this offset (why it is not used)
    x = np.concatenate([a, b], axis=1)
    naive = np.einsum("smi,smj->sij", x, x) - 120 * np.einsum("si,sj->sij", x.mean(1), x.mean(1))
    assert np.max(np.abs(naive - direct["m2"])) > 1e-9


def test_available_describes_every_family():
    entries = {e["name"]: e for e in engine.available()}
    for name in ("discrete", "gaussian", "linear-regression"):
        assert name in entries
    params = {p["name"]: p for p in entries["discrete"]["params"]}
    assert params["init"]["type"] == "uniform|zipf" and params["init"]["default"] == "uniform"
    assert "support_size" in entries["discrete"]["metrics"]


def test_progress_is_called_every_iteration():
    calls = []
    engine.run("discrete", seeds=2, iterations=5, progress=lambda t, total: calls.append((t, total)))
    assert calls == [(t, 5) for t in range(1, 6)]


def test_torch_backend_batch_operations():
    import torch

    class TorchProbe(Probe):
        backend = "torch"

        def _ids(self, n):
            ids = self.counter + 1 + torch.arange(self.seeds * n).reshape(self.seeds, n)
            self.counter += self.seeds * n
            return ids

        def fit(self, summary, previous, rng):
            assert isinstance(rng, torch.Generator)
            self.trains.append(summary["x"].clone().numpy())
            return len(self.trains)

        def real(self, n, rng):
            ids = self._ids(n)
            self.reals.append(ids.numpy())
            return {"x": ids}

        def sample(self, model, n, rng):
            ids = -self._ids(n)
            self.samples.append(ids.numpy())
            return {"x": ids}

        def measure(self, model, metrics):
            return {"population_risk": torch.full((self.seeds,), float(model))}

    for policy, f in [("accumulate", None), ("accumulate-subsample", None), ("mix", 0.5), ("fresh", 0.5)]:
        frame = engine.run(TorchProbe, policy=policy, real_fraction=f, seeds=3, iterations=3, n=6)
        p = Probe.last
        assert list(frame[frame.seed == 0]["value"]) == [1.0, 2.0, 3.0]
        pool = np.concatenate([p.reals[0], *p.samples], axis=1)
        if policy == "accumulate":
            assert np.array_equal(p.trains[2], pool)
        elif policy == "accumulate-subsample":
            assert all(len(set(row)) == 6 and set(row) <= set(prow) for row, prow in zip(p.trains[2], pool))
        elif policy == "mix":
            assert np.array_equal(p.trains[2][:, :3], p.reals[0][:, :3])
            assert np.array_equal(p.trains[2][:, 3:], p.samples[1][:, 3:])
        else:
            assert np.array_equal(p.trains[2][:, :3], p.reals[2][:, :3])
    again = engine.run(TorchProbe, policy="accumulate-subsample", seeds=3, iterations=3, n=6)
    first_trains = Probe.last.trains
    engine.run(TorchProbe, policy="accumulate-subsample", seeds=3, iterations=3, n=6)
    assert all(np.array_equal(a, b) for a, b in zip(first_trains, Probe.last.trains))
    assert len(again) == 9
