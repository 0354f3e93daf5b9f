"""Evidence: scaling-law-change measured across a setup's ``sweep_n`` (one run per n).

Fixture: the evidence fixture's definitions.yaml and realism.yaml copied into tmp_path, with
one paper of two sweep setups written here:

``gauss-replace`` (gaussian, dim 10, replace, 20 iterations, n = 30..1000, 20 seeds): KL to the
    truth after 20 replace generations falls much faster with n than the first fit's (at small
    n the loss compounds over generations); the exponent difference is about -2.2 with a
    bootstrap 95% interval about +-0.13 wide (measured while writing this test), so it is ~30
    standard errors from 0: ``collapse`` is not a borderline call.
``linreg-accumulate`` (linear regression, dim 10, accumulate, 5 iterations, n = 100..3000, 50
    seeds): the expected excess risk is noise_var dim / (n - dim - 1) sum_{k<=t} 1/k^2
    (Gerstgrasser et al., arXiv 2404.01413) -- the same function of n at every t, so the
    exponent is unchanged; the policy and reference fits use the same seeds (paired). No-collapse
    needs the whole interval inside the tolerance +-0.1: at 20 seeds the difference's 95%
    interval is about +-0.05 around ~0.02, too close to 0.1 to be stable; at 50 it is +-0.03.
"""

from __future__ import annotations

import os
import shutil
import time
from pathlib import Path

import pytest

from metaanalysis import evidence as ev
from metaanalysis.analysis.frames import load_verdicts
from metaanalysis.analysis.matrix import evidence_cells
from metaanalysis.annotations.validation import validate_directory
from metaanalysis.present.text import evidence_document, evidence_text

REPO = Path(__file__).resolve().parent.parent
FIXTURE = REPO / "tests" / "fixtures" / "evidence" / "annotations"

PAPER = """\
key: sweep2025
title: "A paper with scaling sweeps"
authors: ["Sam Tester"]
year: 2025
label: "Sweep (2025)"
explicit_definition: "yes"
definitions:
  scaling-law-change: explicit
data_policies: [replace, accumulate]
source: "test fixture"
claims:
  - id: law-changes
    statement: "Replacing data changes the scaling law."
    definition: scaling-law-change
    outcome: collapse
    policy: replace
    model_family: gaussian
    where: "Figure 1"
setups:
  - name: gauss-replace
    simulator: gaussian
    params: {dim: 10}
    sweep_n: [30, 100, 300, 1000]
    policy: replace
    seeds: 20
    iterations: 20
    reproduces: [law-changes]
    fidelity: toy-stand-in
    note: "Many replace generations at small n."
  - name: linreg-accumulate
    simulator: linear-regression
    params: {dim: 10}
    sweep_n: SWEEP
    policy: accumulate
    seeds: 50
    iterations: 5
    fidelity: toy-stand-in
    note: "Few accumulate generations."
"""


def _annotations(root: Path, sweep: str = "[100, 300, 1000, 3000]") -> Path:
    (root / "papers").mkdir(parents=True, exist_ok=True)
    for name in ("definitions.yaml", "realism.yaml"):
        shutil.copy(FIXTURE / name, root / name)
    path = root / "papers" / "sweep2025.yaml"
    path.write_text(PAPER.replace("SWEEP", sweep), encoding="utf-8")
    return path


@pytest.fixture(scope="module")
def stored(tmp_path_factory):
    root = tmp_path_factory.mktemp("scaling") / "annotations"
    _annotations(root)
    db = root.parent / "ev.db"
    eng = ev.open_evidence(f"sqlite:///{db}", root)
    from metaanalysis.store.index import read_papers

    papers = read_papers(eng)
    outcomes = ev.rerun(eng, ev.plan(papers, defaults=ev.realistic_defaults(root)))
    return eng, root, outcomes


def test_sweep_setup_reruns_into_one_stored_run_per_n(stored):
    eng, _, outcomes = stored
    names = {(o.planned.setup, o.planned.variant) for o in outcomes}
    for n in (30, 100, 300, 1000):
        assert (f"gauss-replace@n={n}", "published") in names
    runs = ev.runs_frame(eng, paper="sweep2025")
    pub = runs[(runs["setup"].str.startswith("gauss-replace@")) & (runs["variant"] == "published")]
    assert len(pub) == 4 and pub["config_hash"].nunique() == 4
    # each run has its own n and the setup's other parameters
    from sqlmodel import Session

    from metaanalysis.evidence.tables import RunRow

    with Session(eng) as s:
        got = sorted(s.get(RunRow, h).config["params"]["n"] for h in pub["config_hash"])
        dims = {s.get(RunRow, h).config["params"]["dim"] for h in pub["config_hash"]}
    assert got == [30, 100, 300, 1000] and dims == {10}
    # every link is current (the staleness check understands NAME@n=N)
    states = ev.link_states(eng, "sweep2025")
    assert states and all(state == "current" for _, state in states.values())


def test_verdicts_have_one_scaling_row_per_sweep_setup(stored):
    eng, _, _ = stored
    frame = ev.verdicts(eng, "sweep2025")
    scaling = frame[frame["definition"] == ev.SCALING_DEFINITION]
    per_n = scaling[scaling["setup"].str.contains("@n=")]
    assert set(per_n["verdict"]) == {"not-measured"}  # one run has one n
    whole = scaling[~scaling["setup"].str.contains("@n=")].set_index(["setup", "variant"])
    row = whole.loc[("gauss-replace", "published")]
    assert row["verdict"] == "collapse"
    assert row["ci_high"] < 0 and row["ci_low"] <= row["statistic"] <= row["ci_high"]
    assert row["reason"].startswith("kl_to_truth:")  # the Gaussian reports KL to the truth
    assert row["config_hash"] not in set(ev.stored_hashes(eng))  # a sweep, not one run
    acc = whole.loc[("linreg-accumulate", "published")]
    assert acc["verdict"] == "no-collapse"
    assert acc["ci_low"] <= 0 <= acc["ci_high"]
    assert acc["reason"].startswith("population_risk:")


def test_matrix_cells_and_contradictions_see_the_sweep(stored):
    eng, root, _ = stored
    from metaanalysis.store.index import read_papers

    paper = read_papers(eng, ["sweep2025"])[0]
    evidence = load_verdicts(eng, [paper])
    cells = evidence_cells(evidence.verdicts)
    # linreg (no-collapse) and gauss-replace (collapse) disagree: mixed across the paper's setups
    assert cells[("sweep2025", "scaling-law-change")]["published"] == "mixed"
    [claim] = evidence.claims([paper])
    assert (claim.claim, claim.reproduction, claim.contradiction) == ("law-changes", "reproduced", "")
    assert "gauss-replace (published" in evidence_text(evidence_document(eng, paper), paper.key)


def test_changed_sweep_is_incomplete_until_rerun(stored, tmp_path):
    _, root, _ = stored
    local = tmp_path / "annotations"
    shutil.copytree(root, local)
    eng = ev.open_evidence(f"sqlite:///{tmp_path / 'ev.db'}", local)
    from metaanalysis.store.index import read_papers

    ev.rerun(eng, ev.plan(read_papers(eng), setups=["linreg-accumulate"], variants=("published",)))
    assert "linreg-accumulate" in set(ev.verdicts(eng, "sweep2025")["setup"])
    path = local / "papers" / "sweep2025.yaml"
    path.write_text(PAPER.replace("SWEEP", "[100, 300, 1000, 2000]"), encoding="utf-8")
    later = time.time() + 5
    os.utime(path, (later, later))
    eng = ev.open_evidence(f"sqlite:///{tmp_path / 'ev.db'}", local)
    frame = ev.verdicts(eng, "sweep2025")
    assert "linreg-accumulate" not in set(frame["setup"])  # n = 2000 not stored yet
    assert "linreg-accumulate@n=3000" not in set(frame["setup"])  # orphaned: no longer swept
    assert ev.link_states(eng, "sweep2025")[("sweep2025", "linreg-accumulate@n=3000", "published")][1] == "orphaned"
    planned = ev.plan(read_papers(eng), setups=["linreg-accumulate"], variants=("published",))
    missing = ev.missing_runs(eng, planned)
    assert [m.setup for m in missing] == ["linreg-accumulate@n=2000"]
    ev.rerun(eng, missing)
    assert "linreg-accumulate" in set(ev.verdicts(eng, "sweep2025")["setup"])


@pytest.mark.parametrize(
    "sweep, message",
    [
        ("[100, 300]", "needs at least 3 distinct values"),
        ("[100, 300, 300, 1000]", "listed more than once: 300"),
        ("[1, 300, 1000]", "sweep_n"),
        ("[100, 300, \"big\"]", "sweep_n"),
        ("300", "sweep_n"),
    ],
)
def test_validation_rejects_bad_sweep_n(tmp_path, sweep, message):
    path = _annotations(tmp_path / "annotations", sweep)
    result = validate_directory(tmp_path / "annotations")
    problems = [str(p) for p in result.problems]
    assert problems, sweep
    line = PAPER.replace("SWEEP", sweep).splitlines().index(f"    sweep_n: {sweep}") + 1
    assert any(message in p and f"sweep2025.yaml:{line}:" in p for p in problems), problems
    assert all("\n" not in p for p in problems)
    assert path.exists()


def test_atlas_evidence_keeps_sweep_runs_and_their_scaling_row(stored):
    eng, _, _ = stored
    from metaanalysis.analysis.frames import load_evidence
    from metaanalysis.store.index import read_papers

    loaded = load_evidence(eng, read_papers(eng))
    v = loaded.verdicts
    row = v[(v["setup"] == "gauss-replace") & (v["variant"] == "published")]
    assert list(row["definition"]) == ["scaling-law-change"]
    assert list(row["verdict"]) == ["collapse"] and list(row["policy"]) == ["replace"]
    assert set(loaded.runs["setup"]) >= {f"gauss-replace@n={n}" for n in (30, 100, 300, 1000)}
