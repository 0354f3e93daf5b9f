"""The definition-vs-paper matrix against the position paper's Figure 2 table, its summary, and
chart export (SVG, PNG, self-contained HTML)."""

from __future__ import annotations

import csv
import io
import json
import re
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
from click.testing import CliRunner

from cli.main import main
from metaanalysis.analysis.matrix import build_matrix, evidence_columns
from metaanalysis.annotations.paths import REPO_ANNOTATIONS
from simulators.vocabulary import DEFINITIONS

HERE = Path(__file__).resolve()
GOOD = HERE.parent / "fixtures" / "annotations" / "good"
FIGURE2 = HERE.parent / "data" / "position-paper-figure2.csv"  # source: tests/data/README.md
MONTHS = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]


def figure_rows() -> list[dict[str, str]]:
    with open(FIGURE2, newline="", encoding="utf-8") as fh:
        return list(csv.DictReader(fh))


def records_from_figure(root: Path) -> None:
    """Write one record per Figure 2 row, keys deliberately not in figure order."""
    import shutil

    shutil.copy(GOOD / "definitions.yaml", root / "definitions.yaml")
    (root / "papers").mkdir()
    for row in figure_rows():
        order = int(row["order"])
        year, month = re.search(r"\((\d{4}) (\w{3})\)", row["label"]).groups()
        key = f"paper{100 - order}"
        defs = {d: row[d] for d in DEFINITIONS if row[d]}
        lines = [
            f"key: {key}",
            'title: "A paper"',
            'authors: ["A. Person"]',
            f"year: {year}",
            f"month: {MONTHS.index(month) + 1}",
            f"label: {json.dumps(row['label'])}",
            f"figure_order: {order}",
            f'explicit_definition: "{row["explicit_definition"]}"',
            "definitions:" + ("" if defs else " {}"),
            *(f"  {d}: {u}" for d, u in defs.items()),
        ]
        (root / "papers" / f"{key}.yaml").write_text("\n".join(lines) + "\n")


def invoke(args: list[str], root: Path, tmp_path: Path):
    runner = CliRunner()
    return runner.invoke(
        main, ["--annotations", str(root), "--db", f"sqlite:///{tmp_path / 'm.db'}", *args]
    )


def test_matrix_csv_reproduces_figure2_table(tmp_path):
    root = tmp_path / "annotations"
    root.mkdir()
    records_from_figure(root)
    result = invoke(["matrix", "--format", "csv"], root, tmp_path)
    assert result.exit_code == 0, result.output
    got = list(csv.DictReader(io.StringIO(result.stdout)))
    header = result.stdout.splitlines()[0]
    assert header == "key,label,explicit_definition," + ",".join(DEFINITIONS)
    want = figure_rows()
    assert len(got) == len(want) == 28
    for g, w in zip(got, want):  # figure order, though the keys sort the other way
        assert g["key"] == f"paper{100 - int(w['order'])}"
        assert {k: g[k] for k in ("label", "explicit_definition", *DEFINITIONS)} == {
            k: w[k] for k in ("label", "explicit_definition", *DEFINITIONS)
        }
    # JSON carries the same rows
    rows = json.loads(invoke(["matrix", "--format", "json"], root, tmp_path).stdout)
    assert rows == got
    # the summary counts the figure's marks (21 explicit, 32 implicit per tests/data/README.md)
    summary = json.loads(invoke(["matrix", "--summary", "--format", "json"], root, tmp_path).stdout)
    marks = [w[d] for w in want for d in DEFINITIONS]
    assert sum(x["explicit"] for x in summary["definitions"]) == marks.count("explicit")
    assert sum(x["implicit"] for x in summary["definitions"]) == marks.count("implicit")
    assert summary["unused"] == [d for d in DEFINITIONS if not any(w[d] for w in want)]
    text = invoke(["matrix", "--summary"], root, tmp_path).stdout
    if summary["unused"]:
        assert "used by no paper: " + ", ".join(summary["unused"]) in text


def test_bundled_records_match_figure2():
    from metaanalysis.annotations.validation import validate_directory

    result = validate_directory(REPO_ANNOTATIONS)
    assert result.problems == [], "\n".join(map(str, result.problems))
    m = build_matrix(result.papers)
    figure = [r for r in m.rows if r.figure_order is not None]
    want = figure_rows()
    assert [r.figure_order for r in figure] == [int(w["order"]) for w in want]
    for r, w in zip(figure, want):
        assert r.label == w["label"]
        assert r.explicit_definition == w["explicit_definition"]
        assert r.cells == {d: w[d] for d in DEFINITIONS}, r.key


def test_rows_without_figure_order_come_after_by_date(tmp_path):
    from metaanalysis.annotations.validation import validate_directory

    m = build_matrix(validate_directory(GOOD).papers)
    assert [r.key for r in m.rows] == [
        "shumailov2023curse", "gerstgrasser2024model", "shumailov2024ai", "example2025none"
    ]


def test_extra_columns_pass_through_csv():
    from metaanalysis.annotations.validation import validate_directory

    m = build_matrix(validate_directory(GOOD).papers)
    m.extra_columns = evidence_columns()
    m.rows[0].extra["collapsing-variance:published"] = "collapse"
    rows = list(csv.DictReader(io.StringIO(m.to_csv())))
    assert list(rows[0])[-16:] == evidence_columns()
    assert rows[0]["collapsing-variance:published"] == "collapse"


@pytest.fixture(scope="module")
def chart_dir(tmp_path_factory):
    out = tmp_path_factory.mktemp("charts")
    runner = CliRunner()
    for ext in ("svg", "png", "html"):
        result = runner.invoke(
            main,
            ["--annotations", str(GOOD), "--db", f"sqlite:///{out / 'c.db'}", "matrix", "--out", str(out / f"m.{ext}")],
        )
        assert result.exit_code == 0, result.output
    return out


def test_chart_svg_parses(chart_dir):
    root = ET.parse(chart_dir / "m.svg").getroot()
    assert root.tag.endswith("svg")
    text = (chart_dir / "m.svg").read_text()
    assert "Shumailov et al. (2023 May)" in text and "collapsing-variance" in text


def test_chart_png_signature(chart_dir):
    assert (chart_dir / "m.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_chart_html_is_self_contained(chart_dir):
    html = (chart_dir / "m.html").read_text()
    assert not re.search(r"<script[^>]*\bsrc\s*=\s*[\"']?https?:", html, re.IGNORECASE)
    assert "<script" in html and "vega" in html.lower()


def test_chart_spec_encodes_figure2():
    from metaanalysis.annotations.validation import validate_directory
    from metaanalysis.present.charts_matrix import cell_records, matrix_spec

    m = build_matrix(validate_directory(GOOD).papers)
    cells = cell_records(m)
    assert len(cells) == len(m.rows) * len(DEFINITIONS)
    marked = {(c["key"], c["definition"]): c["mark"] for c in cells if c["mark"]}
    assert marked[("shumailov2023curse", "collapsing-variance")] == "E"
    assert marked[("shumailov2024ai", "catastrophic-risk")] == "I"
    spec = json.dumps(matrix_spec(m))
    assert '"text": {"field": "mark"' in spec  # the usage is the cell's letter
    assert "explicit definition" in spec and "tooltip" in spec


def test_caption_counts_figure_rows_and_records_beyond_it():
    from metaanalysis.annotations.validation import validate_directory
    from metaanalysis.present.charts_matrix import matrix_spec, source_caption

    m = build_matrix(validate_directory(GOOD).papers)  # 3 figure rows, 1 record beyond
    caption = source_caption(m)
    assert "The first 3 columns are the papers of Figure 2" in caption
    assert "the last column is a record beyond the figure (Person (2025))" in caption
    subtitle = " ".join(matrix_spec(m)["title"]["subtitle"])
    assert "first 3 columns" in subtitle and "Person (2025)" in subtitle
    m.rows = [r for r in m.rows if r.figure_order is not None]
    assert source_caption(m) == "Annotations after Figure 2 of Schaeffer et al., arXiv 2503.03150 (3 papers)."


def test_bundled_caption_and_duplicate_labels(tmp_path):
    from metaanalysis.annotations.validation import validate_directory
    from metaanalysis.present.charts_matrix import (
        _label_expr,
        axis_labels,
        matrix_spec,
        source_caption,
    )

    m = build_matrix(validate_directory(REPO_ANNOTATIONS).papers)
    n_figure = sum(r.figure_order is not None for r in m.rows)
    assert n_figure == 28
    caption = source_caption(m)
    assert caption.startswith("The first 28 columns are the papers of Figure 2")
    beyond = len(m.rows) - n_figure
    if beyond:
        assert ("the last column is a record" if beyond == 1 else f"the last {beyond} columns") in caption
    # the two "Dohmatob et al. (2024 Feb)" columns differ on the axis, and only those get a key
    labels = axis_labels(m)
    assert len(set(labels)) == len(labels)
    dup = [lab for lab, r in zip(labels, m.rows) if lab != r.label]
    assert sorted(dup) == ["Dohmatob et al. (2024 Feb) [dohmatob2024model]",
                           "Dohmatob et al. (2024 Feb) [dohmatob2024tale]"]
    expr = _label_expr(m)
    assert all(json.dumps(d) in expr for d in dup)
    assert json.dumps(expr) in json.dumps(matrix_spec(m))
    # the data keep the label as written (the CSV must equal the figure)
    rows = list(csv.DictReader(io.StringIO(m.to_csv())))
    assert sum(r["label"] == "Dohmatob et al. (2024 Feb)" for r in rows) == 2


def test_terminal_table_has_a_key_column():
    from rich.console import Console

    from metaanalysis.annotations.validation import validate_directory
    from metaanalysis.present.text import rich_table

    m = build_matrix(validate_directory(REPO_ANNOTATIONS).papers)
    console = Console(width=200, record=True)
    console.print(rich_table(m))
    lines = [line for line in console.export_text().splitlines() if "Dohmatob et al. (2024 Feb)" in line]
    assert len(lines) == 2 and len(set(lines)) == 2
    assert any("dohmatob2024tale" in line for line in lines) and any("dohmatob2024model" in line for line in lines)
