"""The path of a contributor adding a paper: `mcatlas new` writes a record that fails validation
until its placeholders are filled; a single file is validated against the whole database;
warnings for what the guide asks; plain hints for YAML syntax errors; `papers --search`."""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner

from cli.main import main
from metaanalysis.annotations import yamlio
from metaanalysis.annotations.guidance import MAX_SETUP_COST, setup_cost
from metaanalysis.annotations.paths import REPO_ANNOTATIONS
from metaanalysis.annotations.skeleton import skeleton_text
from metaanalysis.annotations.validation import validate_directory, validate_paths

FIXTURES = Path(__file__).resolve().parent / "fixtures" / "annotations"
GOOD = FIXTURES / "good"
WARNED = FIXTURES / "warnings" / "lee2025warned.yaml"
LINE = re.compile(r"^(?P<file>[^:]+):(?P<line>\d+): (?P<field>[^:]+): (?P<rest>.+)$")


@pytest.fixture
def root(tmp_path: Path) -> Path:
    """A copy of the good annotations directory, as a contributor's checkout."""
    r = tmp_path / "annotations"
    shutil.copytree(GOOD, r)
    return r


def cli(root: Path, *args: str):
    return CliRunner().invoke(main, ["--annotations", str(root), "--db", f"sqlite:///{root.parent / 'i.db'}", *args])


def line_of(path: Path, fragment: str) -> int:
    """The 1-based line of the first line of ``path`` that contains ``fragment``."""
    lines = path.read_text().splitlines()
    return next(i for i, text in enumerate(lines, 1) if fragment in text)


def parsed(output: str) -> list[dict[str, str]]:
    """The FILE:LINE: field: ... lines of a validate run (the summary left out)."""
    out = []
    for text in output.splitlines():
        m = LINE.match(text)
        if m and not text.startswith(("ok:", "error:")):
            out.append(m.groupdict())
    return out


# -- mcatlas new ---------------------------------------------------------------------------

#: what a contributor writes in place of each placeholder of the skeleton (by field name)
FILLED = {
    "title": '"Recursive training of a toy model"',
    "authors": '["Ann Smith", "Bo Chen"]',
    "venue": '"arXiv preprint"',
    "arxiv_version": "1",
    "explicit_definition": '"yes"',
    "data_policies": "[replace]",
    "notes": '"Fits a Gaussian to its own samples, generation after generation."',
    "source": '"Definition marks, claims and realism scores: mcatlas, from the abstract of arXiv v1 (read 2026-05)."',
    "id": "variance-collapses",
    "statement": '"The fitted variance goes to zero over generations."',
    "definition": "collapsing-variance",
    "outcome": "collapse",
    "policy": "replace",
    "model_family": "gaussian",
    "where": '"Theorem 1"',
}


def fill(text: str, skip: str | None = None) -> str:
    """The skeleton with every placeholder replaced as a contributor would (except the field
    ``skip``): each ``field: TODO...`` value from :data:`FILLED`, the definitions' placeholder key
    by a definition, each realism level by the first level the placeholder lists."""
    out = []
    for line in text.splitlines():
        m = re.match(r"^(\s*(?:- )?)([a-z_]+): (\"TODO[^\"]*\"|\[\"TODO[^\"]*\"\]|\[TODO\]|TODO)(.*)$", line)
        if m and m.group(2) != skip:
            line = f"{m.group(1)}{m.group(2)}: {FILLED[m.group(2)]}{m.group(4)}"
        elif line == "  TODO: explicit":
            line = "  collapsing-variance: explicit"
        r = re.match(r'^(  [a-z-]+): \{level: "TODO: ([a-z-]+)[^"]*", why: "TODO: one line"\}$', line)
        if r and skip != "realism":
            line = f'{r.group(1)}: {{level: {r.group(2)}, why: "As the paper does."}}'
        out.append(line)
    return "\n".join(out) + "\n"


def test_new_writes_a_record_that_fails_until_filled_and_passes_after(root):
    result = cli(root, "new", "smith2024recursive", "--arxiv", "arXiv:2403.01234")
    assert result.exit_code == 0, result.output
    path = root / "papers" / "smith2024recursive.yaml"
    assert path.is_file() and str(path) in result.stdout
    text = path.read_text()
    data = yamlio.load_text(text).data  # YAML reads the skeleton as it is
    assert (data["key"], data["arxiv"], data["year"], data["month"]) == ("smith2024recursive", "2403.01234", 2024, 3)
    assert data["label"] == "Smith et al. (2024 Mar)"
    assert data["url"] == "https://arxiv.org/abs/2403.01234"
    assert "figure_order" not in data
    assert set(data["realism"]) == {"data-propagation", "real-data-kept", "model-class"}  # good/realism.yaml's

    # unfinished: one error per placeholder, each on its own line, with file, line and field
    check = cli(root, "validate", str(path))
    assert check.exit_code == 1
    errors = parsed(check.stdout)
    todo_lines = {i for i, t in enumerate(text.splitlines(), 1) if "TODO" in t.split("#")[0]}
    assert {int(e["line"]) for e in errors} == todo_lines
    assert all(e["file"] == str(path) and "placeholder" in e["rest"] for e in errors), errors
    assert f"replace its {len(errors)} TODO placeholders" in result.stdout
    fields = {e["field"] for e in errors}
    assert {"title", "authors[0]", "arxiv_version", "explicit_definition", "definitions.TODO", "data_policies[0]",
            "claims[0].policy", "realism.model-class.level"} <= fields
    # the whole directory fails as well: an unfinished record cannot be merged by accident
    assert cli(root, "validate").exit_code == 1

    # all but one placeholder filled: still an error, naming that field and its line
    path.write_text(fill(text, skip="where"))
    check = cli(root, "validate", str(path))
    assert check.exit_code == 1
    assert [(e["field"], int(e["line"])) for e in parsed(check.stdout)] == [
        ("claims[0].where", line_of(path, "    where: "))
    ]

    # every placeholder filled: valid, without warnings, in the database
    path.write_text(fill(text))
    check = cli(root, "validate", str(path))
    assert check.exit_code == 0, check.output
    assert check.stdout.strip() == "ok: 1 file(s), 1 paper(s) valid, 0 warning(s)"
    whole = cli(root, "validate")
    assert whole.exit_code == 0 and "5 paper(s) valid" in whole.stdout
    shown = cli(root, "show", "smith2024recursive")
    assert shown.exit_code == 0 and "variance-collapses" in shown.stdout


def test_new_without_arxiv_leaves_year_and_label_to_fill(root, tmp_path):
    out = tmp_path / "drafts"
    out.mkdir()
    title = 'Collapse: a "study" of #recursion'
    result = cli(root, "new", "jones2023collapse", "--title", title, "--out", str(out))
    assert result.exit_code == 0, result.output
    path = out / "jones2023collapse.yaml"
    assert not (root / "papers" / "jones2023collapse.yaml").exists()
    data = yamlio.load_text(path.read_text()).data
    assert data["title"] == title  # quoted so that YAML reads it back unchanged
    problems = {p.field: p for p in validate_paths([path], root).problems}
    # a placeholder in a number field is reported as the placeholder, not as a type error
    assert problems["year"].message.startswith("placeholder not filled in: 'TODO'")
    assert "integer" not in problems["year"].message
    assert "Jones et al. (YYYY Mon)" in problems["label"].message
    assert "title" not in problems and "arxiv" not in problems


def test_new_refuses_to_overwrite_or_reuse_a_key(root, tmp_path):
    existing = cli(root, "new", "shumailov2023curse")  # a record of the database
    assert existing.exit_code == 1 and "exists already" in existing.stderr
    assert existing.stderr.count("\n") == 1
    out = tmp_path / "drafts"
    out.mkdir()
    (out / "lee2024draft.yaml").write_text("key: lee2024draft\n")
    again = cli(root, "new", "lee2024draft", "--out", str(out))
    assert again.exit_code == 1 and "refusing to overwrite" in again.stderr
    assert (out / "lee2024draft.yaml").read_text() == "key: lee2024draft\n"
    for args, fragment in [
        (["Lee_2024"], "lowercase letters, digits and single hyphens"),
        (["lee2024x", "--arxiv", "2413.01234"], "13 is not a month"),
        (["lee2024x", "--arxiv", "24.1"], "new-style arXiv id"),
        (["lee2024x", "--out", str(tmp_path / "missing")], "does not exist"),
    ]:
        bad = cli(root, "new", *args)
        assert bad.exit_code == 1 and fragment in bad.stderr and "Traceback" not in bad.output, (args, bad.output)
    assert not (root / "papers" / "lee2024x.yaml").exists()


def test_new_does_not_write_into_the_installed_copy(root, monkeypatch):
    """In an installed package the annotations are package data, not a place to add papers."""
    from metaanalysis.annotations import paths

    monkeypatch.setattr(paths, "shipped_annotations", lambda: root)
    result = cli(root, "new", "lee2024x")
    assert result.exit_code == 1 and "installed with the package" in result.stderr
    assert not (root / "papers" / "lee2024x.yaml").exists()
    assert cli(root, "new", "lee2024x", "--out", str(root.parent)).exit_code == 0


def test_arxiv_version_is_kept_and_a_version_is_asked_for_otherwise():
    with_version = yamlio.load_text(skeleton_text("kim2025x", arxiv="2501.00001v3")).data
    assert with_version["arxiv_version"] == 3 and with_version["label"] == "Kim et al. (2025 Jan)"
    without = yamlio.load_text(skeleton_text("kim2025x", arxiv="2501.00001")).data
    assert without["arxiv_version"] == "TODO"


# -- a single file against the whole database ------------------------------------------------


def test_a_copied_figure2_record_is_caught_against_the_database(root):
    """The guide's old advice: copy a record close to yours. Its figure row and label clash with
    the database's; once figure_order goes, its label still does, and its Figure 2 source warns."""
    copied = (root / "papers" / "shumailov2024ai.yaml").read_text().replace("key: shumailov2024ai", "key: lee2024copied")
    copied = copied.replace('doi: "10.1038/s41586-024-07566-y"\n', "")
    copied += 'source: "Definition marks: Figure 2 of Schaeffer et al. (arXiv 2503.03150)."\n'
    path = root / "papers" / "lee2024copied.yaml"
    path.write_text(copied)
    result = validate_paths([path], root)
    assert [(p.field, p.line) for p in result.problems] == [("figure_order", line_of(path, "figure_order:"))]
    assert "shumailov2024ai.yaml" in result.problems[0].message
    # without its figure row it is a new paper: the label must be its own
    path.write_text(re.sub(r"figure_order: \d+\n", "", copied))
    result = validate_paths([path], root)
    assert [(p.field, p.line) for p in result.problems] == [("label", line_of(path, "label:"))]
    assert "'Shumailov et al. (2024 Jul)' is also used by" in result.problems[0].message
    assert "shumailov2024ai.yaml" in result.problems[0].message
    # with its own label it validates, and its Figure 2 source is a warning
    path.write_text(re.sub(r"figure_order: \d+\n", "", copied).replace("(2024 Jul)", "(2024 Aug)"))
    result = validate_paths([path], root)
    assert result.ok, result.problems
    assert [(w.field, w.line) for w in result.warnings if w.field == "source"] == [("source", line_of(path, "source:"))]


def test_key_arxiv_doi_and_file_name_against_the_database(root, tmp_path):
    record = (GOOD / "papers" / "example2025none.yaml").read_text()
    # the same key in a second file of the database (a .yml beside the .yaml)
    twin = root / "papers" / "example2025none.yml"
    twin.write_text(record.replace('"Person (2025)"', '"Person (2025 Jan)"'))
    problems = validate_paths([twin], root).problems
    assert [(p.field, p.line) for p in problems] == [("key", line_of(twin, "key:"))]
    assert "example2025none.yaml" in problems[0].message
    twin.unlink()
    # a new record reusing an arXiv id and a DOI of the database, and a key unlike its file name
    draft = tmp_path / "draft.yaml"
    draft.write_text(record.replace("key: example2025none", "key: other2025x")
                     .replace('"Person (2025)"', '"Other (2025)"')
                     + 'arxiv: "2305.17493"\ndoi: "10.1038/S41586-024-07566-Y"\n')
    by = {p.field: p for p in validate_paths([draft], root).problems}
    assert set(by) == {"key", "arxiv", "doi"}
    assert "differs from the file name 'draft.yaml'" in by["key"].message
    assert "shumailov2023curse.yaml" in by["arxiv"].message and by["arxiv"].line == line_of(draft, "arxiv:")
    assert "shumailov2024ai.yaml" in by["doi"].message  # DOIs compare without case
    # the file being validated is not compared with itself
    assert validate_paths([root / "papers" / "shumailov2024ai.yaml"], root).problems == []


def test_figure2_rows_may_share_a_label_as_the_figure_does(root):
    """Figure 2 labels two columns 'Dohmatob et al. (2024 Feb)': two figure rows may share a
    label, a figure row and a new paper may not."""
    rec = (root / "papers" / "shumailov2024ai.yaml").read_text()
    other = rec.replace("key: shumailov2024ai", "key: shumailov2024twin").replace("figure_order: 22", "figure_order: 23")
    other = other.replace('doi: "10.1038/s41586-024-07566-y"\n', "")
    twin = root / "papers" / "shumailov2024twin.yaml"
    twin.write_text(other)
    assert validate_directory(root).problems == []
    twin.write_text(other.replace("figure_order: 23\n", ""))
    problems = validate_directory(root).problems
    assert [(Path(p.file).name, p.field) for p in problems] == [("shumailov2024twin.yaml", "label")]


# -- warnings --------------------------------------------------------------------------------


def test_each_warning_with_its_field_and_line():
    result = validate_paths([WARNED], GOOD)
    assert result.ok and result.problems == []
    got = {(w.field, w.line): w.message for w in result.warnings}
    realism = line_of(WARNED, "realism:")
    expected = {
        ("source", line_of(WARNED, "source:")): "cites that figure",
        ("claims[2].policy", line_of(WARNED, "policy: accumulate")): "not in the paper's data_policies (replace)",
        ("setups[0].policy", line_of(WARNED, "policy: mix")): "differs from the policy 'replace' of claim 'variance-collapses'",
        ("setups[1].reproduces[0]", line_of(WARNED, "reproduces: [scaling-slows]")): "has no sweep_n",
        ("setups[2]", line_of(WARNED, "name: lm-huge")): "more than the 1e8",
        ("realism.real-data-kept", realism): "not scored",
        ("realism.model-class", realism): "not scored",
    }
    assert set(got) == set(expected), got
    for key, fragment in expected.items():
        assert fragment in got[key], (key, got[key])
    assert all(w.severity == "warning" for w in result.warnings)
    assert result.summary() == "ok: 1 file(s), 1 paper(s) valid, 7 warning(s)"


def test_warnings_are_printed_counted_and_do_not_fail_the_run():
    runner = CliRunner()
    base = ["--annotations", str(GOOD), "validate"]
    text = runner.invoke(main, [*base, str(WARNED)])
    assert text.exit_code == 0, text.output
    lines = text.stdout.splitlines()
    assert lines[-1] == "ok: 1 file(s), 1 paper(s) valid, 7 warning(s)"
    assert len(lines) == 8
    for line in lines[:-1]:
        m = LINE.match(line)
        assert m and Path(m["file"]).resolve() == WARNED and m["rest"].startswith("warning: "), line
    assert [int(LINE.match(x)["line"]) for x in lines[:-1]] == sorted(int(LINE.match(x)["line"]) for x in lines[:-1])
    doc = json.loads(runner.invoke(main, [*base, "--format", "json", str(WARNED)]).stdout)
    assert doc["ok"] is True and doc["counts"] == {"problems": 0, "warnings": 7}
    assert doc["problems"] == [] and {w["severity"] for w in doc["warnings"]} == {"warning"}
    assert {w["field"] for w in doc["warnings"]} >= {"source", "setups[2]"}
    gh = runner.invoke(main, [*base, "--format", "github", str(WARNED)])
    assert gh.exit_code == 0
    annotations = [x for x in gh.stdout.splitlines() if x.startswith("::")]
    assert len(annotations) == 7 and all(x.startswith("::warning file=") for x in annotations)
    assert gh.stdout.splitlines()[-1].endswith("7 warning(s)")
    # with an error as well: the error fails the run, both are counted apart
    mixed = runner.invoke(main, [*base, "--format", "json", str(WARNED), str(FIXTURES / "bad" / "unknown-field.yaml")])
    assert mixed.exit_code == 1
    doc = json.loads(mixed.stdout)
    assert doc["counts"] == {"problems": 1, "warnings": 7}


def test_setup_cost_is_the_planned_cost_of_its_published_runs():
    """The warning's cost is the one the rerun planner orders runs by (PlannedRun.cost), over the
    runs a setup stands for as published, for every shipped setup; none is over the limit."""
    from metaanalysis.evidence.planning import plan

    db = validate_directory(REPO_ANNOTATIONS)
    assert db.problems == []
    planned = plan(db.papers, variants=("published",))
    by_setup: dict[tuple[str, str], float] = {}
    for run in planned:
        name = run.setup.split("@n=")[0]
        by_setup[run.paper, name] = by_setup.get((run.paper, name), 0.0) + run.cost
    setups = {(p.key, s.name): s for p in db.papers for s in p.setups}
    assert set(by_setup) == set(setups) and any(s.sweep_n for s in setups.values())
    for key, setup in setups.items():
        assert setup_cost(setup) == pytest.approx(by_setup[key], rel=1e-12), key
    # the threshold's calibration (guidance.MAX_SETUP_COST): above every shipped setup
    assert max(by_setup.values()) < MAX_SETUP_COST
    assert not any(w.field.startswith("setups") and "costs about" in w.message for w in db.warnings)


# -- YAML syntax: plain hints, lines kept ------------------------------------------------------

SYNTAX = [
    # (name, text, line, a fragment of the hint)
    ("indentation", "key: a\ntitle: x\n  year: 2024\n", 3, "line 3 is indented more than line 2"),
    ("missing dash", "key: a\nclaims:\n  - id: a\n    where: x\n  id: b\n    where: y\n", 5,
     "does not start with '- '"),
    ("missing dash in a list of strings", "key: a\nauthors:\n  - A\n  B\n", 5, "line 4 is neither 'key: value' nor a list item"),
    ("colon in a value", "key: a\ntitle: Model collapse: a study\n", 2,
     "contains ': ' (a colon and a space)"),
    ("tab", "key: a\nclaims:\n  - id: a\n\t  where: x\n", 4, "line 4 contains a tab character"),
    ("unclosed quote", "key: a\ntitle: \"Model collapse\nyear: 2024\n", 4, "the quote opened on line 2 is never closed"),
    ("unclosed bracket", "key: a\nauthors: [A, B\nyear: 2024\n", 3, "the '[' opened on line 2 is not closed"),
    ("text after a quote", "key: a\ntitle: \"A\" study\n", 2, "text follows the closing quote on line 2"),
]


@pytest.mark.parametrize("loader", yamlio._LOADERS, ids=lambda c: c.__name__)
@pytest.mark.parametrize("name,text,line,hint", SYNTAX, ids=[c[0] for c in SYNTAX])
def test_syntax_errors_keep_their_line_and_give_a_plain_hint(loader, name, text, line, hint):
    with pytest.raises(yamlio.YamlLoadError) as err:
        yamlio.load_text(text, loader)
    assert err.value.line == line
    assert err.value.message.startswith("YAML syntax error: ") and hint in err.value.message
    assert "(the parser says: " in err.value.message and "\n" not in err.value.message


def test_a_syntax_error_is_one_line_with_file_and_line(tmp_path):
    path = tmp_path / "x.yaml"
    path.write_text("key: x\ntitle: Model collapse: a study\n")
    result = CliRunner().invoke(main, ["--annotations", str(GOOD), "validate", str(path)])
    assert result.exit_code == 1
    assert result.stdout.splitlines()[0].startswith(f"{path}:2: YAML syntax error: the value of 'title' on line 2")
    assert 'title: "Model collapse: a study"' in result.stdout


def test_duplicate_keys_and_unknown_fields_name_their_full_path(root):
    path = root / "papers" / "shumailov2023curse.yaml"
    text = path.read_text().replace("    seeds: 20\n", "    seeds: 20\n    seedz: 20\n    seeds: 30\n", 1)
    path.write_text(text)
    by = {p.field: p for p in validate_paths([path], root).problems}
    assert set(by) == {"setups[0].seeds", "setups[0].seedz"}
    assert by["setups[0].seeds"].line == line_of(path, "seeds: 30")
    assert f"duplicate key (first on line {line_of(path, 'seeds: 20')})" in by["setups[0].seeds"].message
    assert by["setups[0].seedz"].line == line_of(path, "seedz:")
    assert "unknown field (did you mean seeds?)" in by["setups[0].seedz"].message


# -- papers --search ---------------------------------------------------------------------------


def test_papers_search_fields_case_and_filters(root):
    table = cli(root, "papers", "--search", "SHUMAYLOV")
    assert table.exit_code == 0, table.output
    assert "2 paper(s)" in table.stdout and "matched" in table.stdout and "authors" in table.stdout
    rows = list(csv_rows(cli(root, "papers", "--search", "variance", "--format", "csv").stdout))
    assert [(r["key"], r["matched"]) for r in rows] == [("shumailov2023curse", "claim gaussian-variance-collapses")]
    rows = list(csv_rows(cli(root, "papers", "--search", "curse of", "--format", "csv").stdout))
    assert [(r["key"], r["matched"]) for r in rows] == [("shumailov2023curse", "title"), ("gerstgrasser2024model", "title")]
    # combined with a filter: the intersection
    rows = list(csv_rows(cli(root, "papers", "--search", "shumailov", "--year", "2024", "--format", "csv").stdout))
    assert [r["key"] for r in rows] == ["shumailov2024ai"]
    # notes, and nothing found
    notes = root / "papers" / "example2025none.yaml"
    notes.write_text(notes.read_text() + 'notes: "Studies  Recursive   Refitting in toy settings."\n')
    rows = list(csv_rows(cli(root, "papers", "--search", "recursive refitting", "--format", "csv").stdout))
    assert [(r["key"], r["matched"]) for r in rows] == [("example2025none", "notes")]
    assert json.loads(cli(root, "papers", "--search", "no such words", "--format", "json").stdout) == []
    empty = cli(root, "papers", "--search", "  ")
    assert empty.exit_code == 1 and "--search" in empty.stderr


def csv_rows(text: str):
    import csv
    import io

    return csv.DictReader(io.StringIO(text))
