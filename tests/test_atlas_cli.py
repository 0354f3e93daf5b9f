"""`mcatlas synthesis` in every format, through click's CliRunner: JSON that is valid (no NaN,
which used to crash the command), CSV with the position paper's claim checks and rounded numbers,
and the table with the checks and their counts."""

from __future__ import annotations

import csv
import io
import json
import re
import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner

from cli.main import main

GOOD = Path(__file__).resolve().parent / "fixtures" / "annotations" / "good"

POSITION_YAML = """\
key: schaeffer2025position
title: "Position: Model Collapse Does Not Mean What You Think"
authors: ["Rylan Schaeffer"]
year: 2025
month: 3
arxiv: "2503.03150"
label: "Schaeffer et al. (2025 Mar)"
explicit_definition: "n/a"
definitions: {}
claims:
  - id: accumulate-risk-bounded
    statement: "When data accumulate, population risk does not diverge."
    definition: diverging-risk
    outcome: no-collapse
    policy: accumulate
    model_family: other
    where: "abstract"
  - id: tail-loss-matters
    statement: "Tail loss deserves study."
    definition: tail-disappearance
    outcome: mixed
    policy: accumulate
    model_family: other
    where: "conclusion"
"""


@pytest.fixture(scope="module")
def annotations(tmp_path_factory):
    root = tmp_path_factory.mktemp("annotations") / "good"
    shutil.copytree(GOOD, root)
    (root / "papers" / "schaeffer2025position.yaml").write_text(POSITION_YAML)
    return root


def invoke(annotations: Path, tmp_path: Path, fmt: str):
    result = CliRunner().invoke(main, ["--annotations", str(annotations), "--db",
                                       f"sqlite:///{tmp_path / 'db.sqlite'}", "synthesis", "--format", fmt])
    assert result.exit_code == 0, result.output + repr(result.exception)
    return result.output


def test_synthesis_json_is_valid_and_has_the_checks(annotations, tmp_path):
    doc = json.loads(invoke(annotations, tmp_path, "json"))
    checks = {c["claim"]: c for c in doc["checks"]}
    assert set(checks) == {"accumulate-risk-bounded", "tail-loss-matters"}
    # nothing re-executed: not measured, and the undefined share is null (not NaN, which is not JSON)
    assert all(c["status"] == "not-measured" and c["share"] is None for c in checks.values())
    assert checks["tail-loss-matters"]["outcome"] == "mixed"
    assert "figure4" in doc
    rows = {r["definition"]: r for r in doc["definitions"]}
    # the position paper's claims are checked, not counted
    assert rows["tail-disappearance"]["claims"] == sum(
        1 for line in (GOOD / "papers" / "shumailov2023curse.yaml").read_text().splitlines()
        if line.strip() == "definition: tail-disappearance")


def test_synthesis_csv_has_checks_and_rounded_numbers(annotations, tmp_path):
    out = invoke(annotations, tmp_path, "csv")
    sections = re.split(r"^# (\S+)\n", out, flags=re.M)
    parts = dict(zip(sections[1::2], sections[2::2]))
    assert {"definitions", "checks"} <= set(parts)
    checks = list(csv.DictReader(io.StringIO(parts["checks"])))
    assert {c["claim"] for c in checks} == {"accumulate-risk-bounded", "tail-loss-matters"}
    assert all(c["status"] == "not-measured" and c["share"] == "" for c in checks)
    numbers = re.findall(r"\d+\.\d+", parts["definitions"])
    assert numbers and all(len(n.replace(".", "").lstrip("0")) <= 6 for n in numbers), numbers


def test_synthesis_table_prints_the_checks(annotations, tmp_path):
    out = invoke(annotations, tmp_path, "table")
    assert "not-measured: When data accumulate, population risk does not diverge." in out
    assert "(0 of 0 conclusive runs collapse, 0 inconclusive)" in out
