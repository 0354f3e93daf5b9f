"""Several annotators per paper: marks by source, the matrix of one source, disputed cells, and
agreement (Cohen's kappa with a bootstrap interval over papers)."""

from __future__ import annotations

import json
import math
from pathlib import Path

import pytest
from click.testing import CliRunner

from cli.main import main
from metaanalysis.analysis.agreement import FLAG, OVERALL, agreement_table, cohen_kappa
from metaanalysis.analysis.matrix import DISPUTED_COLUMN, build_matrix
from metaanalysis.annotations.records import Paper
from metaanalysis.annotations.validation import load_database, validate_paths
from simulators.vocabulary import DEFINITIONS

REPO = Path(__file__).resolve().parent.parent
ANNOTATIONS = REPO / "annotations"
GOOD = REPO / "tests" / "fixtures" / "annotations" / "good"


@pytest.fixture(scope="module")
def db():
    return load_database(ANNOTATIONS)


def test_kappa_of_a_textbook_table():
    # 50 items: yes/yes 20, yes/no 5, no/yes 10, no/no 15: p_o = 0.7, p_e = 0.5, kappa = 0.4
    a = ["y"] * 25 + ["n"] * 25
    b = ["y"] * 20 + ["n"] * 5 + ["y"] * 10 + ["n"] * 15
    assert cohen_kappa(a, b) == pytest.approx(0.4)
    assert cohen_kappa(a, a) == pytest.approx(1.0)
    # agreement no better than the raters' own frequencies predict: kappa 0
    assert cohen_kappa(["y", "y", "n", "n"], ["y", "n", "y", "n"]) == pytest.approx(0.0)
    assert math.isnan(cohen_kappa(["n"] * 5, ["n"] * 5))  # one category only: undefined


def paper(key: str, flag: str, consensus: dict[str, str], marks: dict[str, str] | None, figure: int | None = 1) -> Paper:
    record = {"key": key, "title": "T", "authors": ["A"], "year": 2024, "label": key, "explicit_definition": flag,
              "definitions": consensus, "figure_order": figure}
    if marks is not None:
        record["marks"] = [{"source": "mcatlas", "explicit_definition": flag, "basis": "abstract",
                            "definitions": {d: {"usage": u, "where": "abstract"} for d, u in marks.items()}}]
    return Paper.model_validate(record)


def test_agreement_table_counts_cells_and_lists_disagreements():
    papers = [paper("a", "yes", {"collapsing-variance": "explicit"}, {"collapsing-variance": "explicit"}, 1),
              paper("b", "no", {"diverging-risk": "implicit"}, {"any-risk-increase": "implicit"}, 2),
              paper("c", "no", {}, {}, 3),
              paper("d", "yes", {"tail-disappearance": "explicit"}, None, 4)]  # one source only: not compared
    table = agreement_table(papers).set_index("scope")
    overall = table.loc[OVERALL]
    assert (overall.source_a, overall.source_b, overall.papers, overall.cells) == ("figure2", "mcatlas", 3, 24)
    assert overall.agreement == pytest.approx(22 / 24)
    assert overall.disagreements == ["b: any-risk-increase none vs implicit", "b: diverging-risk implicit vs none"]
    assert overall.kappa_low <= overall.kappa <= overall.kappa_high
    assert table.loc[FLAG].agreement == 1.0 and table.loc[FLAG].kappa == pytest.approx(1.0)
    assert set(table.index) == {OVERALL, FLAG, *DEFINITIONS}
    again = agreement_table(papers).set_index("scope")
    assert again.loc[OVERALL].kappa_low == overall.kappa_low  # a seeded bootstrap


def test_shipped_database_has_mcatlas_marks_for_ten_figure_papers_with_citations(db):
    judged = [p for p in db.papers if p.figure_order is not None and any(m.source == "mcatlas" for m in p.marks)]
    assert len(judged) >= 10
    for p in judged:
        [m] = [m for m in p.marks if m.source == "mcatlas"]
        assert m.basis and all(mark.where for mark in m.definitions.values())
    overall = agreement_table(db.papers).set_index("scope").loc[OVERALL]
    assert overall.papers == len(judged)
    # every listed disagreement is a real difference between the two judgements
    by_key = {p.key: p for p in db.papers}
    for item in overall.disagreements:
        key, rest = item.split(": ", 1)
        definition = rest.split(" ")[0]
        assert by_key[key].judgement("figure2")[1].get(definition, "") != by_key[key].judgement("mcatlas")[1].get(
            definition, "")


def test_matrix_of_one_source_and_disputed_cells(db):
    default = build_matrix(db.papers)
    assert default.extra_columns == [DISPUTED_COLUMN]
    figure = build_matrix(db.papers, source="figure2")
    # the Figure 2 source is the consensus of the figure's papers: the same cells, only them
    consensus = {r.key: r.cells for r in default.rows}
    assert all(r.cells == consensus[r.key] for r in figure.rows)
    assert {r.key for r in figure.rows} == {p.key for p in db.papers if p.figure_order is not None}
    own = build_matrix(db.papers, source="mcatlas")
    judged = {p.key for p in db.papers if p.figure_order is None or any(m.source == "mcatlas" for m in p.marks)}
    assert {r.key for r in own.rows} == judged
    marchi = next(r for r in default.rows if r.key == "marchi2024heat")
    assert "collapsing-variance" in marchi.extra[DISPUTED_COLUMN].split(";")


def test_cli_agreement_and_matrix_source(tmp_path):
    runner = CliRunner()
    args = ["--annotations", str(ANNOTATIONS), "--db", f"sqlite:///{tmp_path / 'a.db'}"]
    res = runner.invoke(main, [*args, "agreement", "--format", "json"])
    assert res.exit_code == 0, res.output
    rows = json.loads(res.output)
    assert {(r["source_a"], r["source_b"]) for r in rows} == {("figure2", "mcatlas")}
    res = runner.invoke(main, [*args, "matrix", "--source", "mcatlas", "--format", "json"])
    assert res.exit_code == 0, res.output
    assert "marchi2024heat" in {r["key"] for r in json.loads(res.output)}
    bad = runner.invoke(main, [*args, "matrix", "--source", "nobody"])
    assert bad.exit_code == 1 and "unknown source 'nobody'" in bad.output and bad.output.count("\n") == 1


@pytest.mark.parametrize("marks, fragment", [
    ('[{source: mcatlas, explicit_definition: "no", basis: "x"}, {source: mcatlas, explicit_definition: "no", '
     'basis: "y"}]', "source listed more than once: mcatlas"),
    ('[{source: figure2, explicit_definition: "no", basis: "x"}]', "'figure2' is this paper's consensus source"),
    ('[{source: jdoe, explicit_definition: "no", basis: "x", definitions: {diverging-risk: {usage: implicit}}}]',
     "where"),
])
def test_bad_marks_are_one_line_errors_with_file_and_line(tmp_path, marks, fragment):
    text = (GOOD / "papers" / "shumailov2024ai.yaml").read_text()
    path = tmp_path / "shumailov2024ai.yaml"
    path.write_text(text + f"marks: {marks}\n")
    problems = [str(p) for p in validate_paths([path], GOOD).problems]
    line = len(text.splitlines()) + 1
    assert any(fragment in p and f"shumailov2024ai.yaml:{line}:" in p for p in problems), problems
