"""``mcatlas profile``: on a saved run file and on run arguments; errors are one line."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner

from cli.main import main
from simulators.verdicts import PROFILE_COLUMNS
from simulators.vocabulary import DEFINITIONS


def _frame(S: int = 12, T: int = 30) -> pd.DataFrame:
    rng = np.random.default_rng(0)
    risk = np.arange(1, T + 1)[None, :] + rng.normal(0, 0.5, size=(S, T))  # linear growth
    it, sd = np.meshgrid(np.arange(1, T + 1), np.arange(S))
    return pd.DataFrame({"iteration": it.ravel(), "seed": sd.ravel(),
                         "metric": "population_risk", "value": risk.ravel()})


@pytest.fixture
def run_csv(tmp_path):
    path = tmp_path / "run.csv"
    _frame().to_csv(path, index=False)
    return path


def test_profile_of_a_run_file_as_json_csv_and_table(run_csv, tmp_path):
    runner = CliRunner()
    res = runner.invoke(main, ["profile", "--run", str(run_csv), "--format", "json"])
    assert res.exit_code == 0, res.output
    data = json.loads(res.output)
    verdicts = {v["definition"]: v["verdict"] for v in data["verdicts"]}
    assert list(verdicts) == list(DEFINITIONS)
    assert verdicts["diverging-risk"] == "collapse"
    assert verdicts["collapsing-variance"] == "not-measured"

    res = runner.invoke(main, ["profile", "--run", str(run_csv), "--format", "csv"])
    assert res.exit_code == 0, res.output
    lines = res.output.splitlines()
    assert lines[0] == ",".join(PROFILE_COLUMNS)

    res = runner.invoke(main, ["profile", "--run", str(run_csv)])
    assert res.exit_code == 0 and "diverging-risk" in res.output and "collapse" in res.output

    out = tmp_path / "p.json"
    res = runner.invoke(main, ["profile", "--run", str(run_csv), "--out", str(out),
                               "--threshold", "ci_level=0.9"])
    assert res.exit_code == 0, res.output
    assert json.loads(out.read_text())["thresholds"]["ci_level"] == 0.9


def test_profile_of_run_arguments():
    # 300 seeds: the flattening contrast of linear growth over 40 iterations is about 3.5
    # standard errors from 0 at 300 seeds, as the verdict itself estimates from a 20-seed run
    res = CliRunner().invoke(main, ["profile", "linear-regression", "--seeds", "300",
                                    "--iterations", "40", "--param", "dim=5", "--param", "n=50",
                                    "--format", "json"])
    assert res.exit_code == 0, res.output
    verdicts = {v["definition"]: v["verdict"] for v in json.loads(res.output)["verdicts"]}
    assert verdicts["diverging-risk"] == "collapse"


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["profile"], "give a SIMULATOR"),
        (["profile", "gaussian", "--run", "x.csv"], "not both"),
        (["profile", "--run", "missing.csv"], "no such file"),
        (["profile", "--run", "x.txt"], "extension"),
        (["profile", "--run", "RUN", "--threshold", "nope=1"], "unknown threshold"),
        (["profile", "--run", "RUN", "--threshold", "ci_level=2"], "ci_level"),
        (["profile", "--run", "RUN", "--out", "p.html"], "extension"),
    ],
)
def test_errors_are_one_line(args, message, run_csv):
    args = [str(run_csv) if a == "RUN" else a for a in args]
    res = CliRunner().invoke(main, args)
    assert res.exit_code == 1
    assert res.output.startswith("error: ") and message in res.output
    assert res.output.count("\n") == 1 and "Traceback" not in res.output
