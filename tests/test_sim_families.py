"""The density families (kde, gmm) and the in-house datasets: metrics mean what they document,
every policy runs, and the CLI commands of the simulators."""

from __future__ import annotations

import json
import math

import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner

import simulators
from cli.main import main
from simulators import engine
from simulators.datasets import DATASETS, dataset, separated_mixture


def last_means(frame):
    t = frame["iteration"].max()
    return frame[frame.iteration == t].groupby("metric")["value"].mean()


@pytest.mark.parametrize("name", DATASETS)
def test_dataset_density_integrates_to_one_and_tail_is_one_percent(name):
    truth = dataset(name)
    rng = np.random.default_rng(1)
    # the density integrates to 1: a grid integral of exp(logpdf) over a box holding the data
    xs = np.linspace(-8, 8, 241)
    grid = np.stack(np.meshgrid(xs, xs), axis=-1)
    mass = np.exp(truth.logpdf(grid)).sum() * (xs[1] - xs[0]) ** 2
    assert abs(mass - 1.0) < 1e-3
    tau = truth.tail_threshold(rng)
    x, _ = truth.sample(np.random.default_rng(2), (40_000,))
    # binomial SE of a 1% proportion over 40000 draws is 5e-4; the threshold itself comes from
    # 100000 draws (SE ~3e-4): 5 combined SE ~ 3e-3
    assert abs((truth.logpdf(x) < tau).mean() - 0.01) < 3e-3
    assert truth.far(x).mean() < 1e-3


def test_kde_replace_inflates_variance_accumulate_keeps_it():
    # each KDE resampling adds the kernel covariance (Kazdan et al.): replace compounds it
    replace = last_means(engine.run("kde", seeds=4, iterations=8, n=100, dataset="blobs", holdout=200))
    accumulate = last_means(engine.run("kde", policy="accumulate", seeds=4, iterations=8, n=100, dataset="blobs", holdout=200))
    assert replace["variance_ratio"] > 1.5 > accumulate["variance_ratio"]
    assert replace["population_risk"] > accumulate["population_risk"]
    assert replace["hallucinated_mass"] > accumulate["hallucinated_mass"]


def test_kde_logpdf_chunking_matches_direct_sum(monkeypatch):
    from simulators.families import kde as kde_module

    rng = np.random.default_rng(0)
    data = rng.standard_normal((2, 300, 2))
    query = rng.standard_normal((50, 2))
    h = 0.3
    chol_inv = np.broadcast_to(np.eye(2) / h, (2, 2, 2))
    logdet = np.full(2, 2 * math.log(h))
    d2 = np.sum((query[None, :, None] - data[:, None]) ** 2, axis=3) / h**2
    direct = np.log(np.mean(np.exp(-0.5 * d2), axis=2) / (2 * math.pi * h**2))
    monkeypatch.setattr(kde_module, "CHUNK_ELEMENTS", 2 * 50 * 7)  # 7 points per chunk
    np.testing.assert_allclose(kde_module.kde_logpdf(query, data, chol_inv, logdet), direct, rtol=1e-10)


def test_gmm_fits_the_truth_then_collapses_under_replace():
    first = engine.run("gmm", seeds=6, iterations=1, n=400, holdout=2000)
    m = last_means(first)
    assert m["kl_to_truth"] < 0.1 and abs(m["variance_ratio"] - 1) < 0.1
    assert m["hallucinated_mass"] < 1e-3
    # true mixture has separated modes; mode_overlap of a good fit is near 0
    assert first[first.metric == "mode_overlap"]["value"].median() < 0.02
    replace = last_means(engine.run("gmm", seeds=6, iterations=10, n=60, holdout=500))
    accumulate = last_means(engine.run("gmm", policy="accumulate", seeds=6, iterations=10, n=60, holdout=500))
    assert replace["kl_to_truth"] > accumulate["kl_to_truth"]


def test_separated_mixture_means_are_separated():
    truth = separated_mixture(5, 3, separation=6.0)
    d = np.linalg.norm(truth.means[:, None] - truth.means[None], axis=2)
    assert np.isclose(np.min(d[d > 0]), 6.0)


@pytest.mark.parametrize("name", ["discrete", "gaussian", "linear-regression", "kde", "gmm"])
@pytest.mark.parametrize("policy,f", [("replace", None), ("accumulate", None), ("accumulate-subsample", None), ("mix", 0.3), ("fresh", 0.3)])
def test_every_family_runs_every_policy(name, policy, f):
    small = {"kde": {"n": 30, "holdout": 50}, "gmm": {"n": 40, "holdout": 100, "em_iterations": 10}}.get(name, {"n": 20})
    frame = engine.run(name, policy=policy, real_fraction=f, seeds=3, iterations=3, **small)
    cls_metrics = next(e["metrics"] for e in engine.available() if e["name"] == name)
    assert set(frame["metric"]) == set(cls_metrics)
    assert len(frame) == 3 * 3 * len(cls_metrics)


# ------------------------------------------------------------------ CLI


def test_cli_simulators_json_lists_params_and_defaults():
    result = CliRunner().invoke(main, ["simulators", "--format", "json"])
    assert result.exit_code == 0, result.output
    entries = {e["name"]: e for e in json.loads(result.output)}
    assert {"discrete", "gaussian", "gmm", "kde", "linear-regression"} <= set(entries)
    kde_params = {p["name"]: p["default"] for p in entries["kde"]["params"]}
    assert kde_params["bandwidth"] == "scott" and kde_params["dataset"] == "moons"


def test_cli_run_writes_the_tidy_frame(tmp_path):
    out = tmp_path / "run.parquet"
    args = ["--quiet", "run", "gaussian", "--seeds", "4", "--iterations", "3", "--param", "dim=2", "--param", "estimator=unbiased", "--metrics", "variance_ratio", "--out", str(out)]
    result = CliRunner().invoke(main, args)
    assert result.exit_code == 0, result.output
    frame = pd.read_parquet(out)
    assert list(frame.columns) == ["iteration", "seed", "metric", "value"] and len(frame) == 12
    direct = engine.run("gaussian", seeds=4, iterations=3, dim=2, estimator="unbiased", metrics=["variance_ratio"])
    np.testing.assert_array_equal(frame["value"].to_numpy(), direct["value"].to_numpy())


def test_cli_run_table_and_csv():
    result = CliRunner().invoke(main, ["run", "kde", "--seeds", "2", "--iterations", "2", "--param", "bandwidth=0.2", "--param", "n=20", "--param", "holdout=30", "--metrics", "variance_ratio"])
    assert result.exit_code == 0, result.output
    assert "variance_ratio" in result.output and "95% CI" in result.output
    result = CliRunner().invoke(main, ["run", "discrete", "--seeds", "0,5", "--iterations", "2", "--format", "csv", "--policy", "mix", "--real-fraction", "0.5"])
    assert result.exit_code == 0
    lines = result.output.strip().splitlines()
    assert lines[0] == "iteration,seed,metric,value" and len(lines) == 1 + 2 * 2 * 7


@pytest.mark.parametrize(
    "args, fragment",
    [
        (["run", "gausian"], "valid choices: discrete, gaussian"),
        (["run", "gaussian", "--param", "dimm=2"], "valid parameters: n, dim"),
        (["run", "gaussian", "--param", "dim"], "expected KEY=VALUE"),
        (["run", "gaussian", "--metrics", "mode_overlap"], "valid choices: population_risk"),
        (["run", "gaussian", "--policy", "mixed"], "valid choices: replace"),
        (["run", "gaussian", "--out", "x.txt"], "valid choices: .csv, .parquet, .json"),
    ],
)
def test_cli_errors_are_one_line(args, fragment):
    result = CliRunner().invoke(main, args)
    assert result.exit_code == 1
    lines = result.output.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: ") and fragment in lines[0]


# -- trivial baselines and parameter-dependent metrics ----------------------------------------


def test_discrete_trivial_risk_is_the_uniform_models_cross_entropy():
    frame = simulators.run("discrete", seeds=4, iterations=2, categories=7, n=50)
    assert frame.attrs["trivial_risk"] == {s: pytest.approx(np.log(7)) for s in range(4)}


def test_regression_trivial_risk_is_the_zero_predictors_excess_risk():
    # ||w*||^2 with w* ~ N(0, I_d) is chi-square(d): mean d, variance 2d. Over S seeds the mean's
    # standard error is sqrt(2d/S); 5 SE keeps a false failure below 1e-6.
    S, d = 400, 10
    frame = simulators.run("linear-regression", seeds=S, iterations=1, dim=d, n=30)
    values = np.array(list(frame.attrs["trivial_risk"].values()))
    assert values.shape == (S,) and (values > 0).all()
    assert abs(values.mean() - d) < 5 * np.sqrt(2 * d / S)


def test_families_without_a_natural_trivial_model_give_none():
    frame = simulators.run("gaussian", seeds=2, iterations=1)
    assert "trivial_risk" not in frame.attrs


def test_metrics_depend_on_parameters_lm_corpus_has_no_exact_source_metrics():
    from simulators.errors import UserError

    frame = simulators.run("lm", seeds=1, iterations=1, corpus="builtin", n=8, epochs=1, seq_len=8)
    assert set(frame["metric"]) == {"population_risk", "entropy"}
    assert frame["value"].notna().all()
    with pytest.raises(UserError, match="does not report metric 'kl_to_truth' with these parameters"):
        simulators.run("lm", seeds=1, iterations=1, corpus="builtin", metrics="kl_to_truth")
