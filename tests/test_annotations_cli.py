"""The annotation commands through click's CliRunner: exit codes, one line per error, no
tracebacks, output formats; the checked-in JSON Schema is current; fast paths stay light."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from cli.main import main
from metaanalysis.annotations.paths import REPO_ANNOTATIONS
from metaanalysis.annotations.records import paper_json_schema_text

FIXTURES = Path(__file__).resolve().parent / "fixtures" / "annotations"
GOOD = FIXTURES / "good"
BAD = FIXTURES / "bad"
BAD_FILES = sorted(BAD.glob("*.yaml"))


def run(*args: str, db: Path | None = None, annotations: Path = GOOD):
    base = ["--annotations", str(annotations)]
    if db is not None:
        base += ["--db", f"sqlite:///{db}"]
    return CliRunner().invoke(main, [*base, *args])


def test_validate_clean_directory_one_summary_line():
    # the good fixtures score only some realism dimensions: warnings, one line each, then the
    # summary (a run without warnings prints the summary alone: test_annotations_contributing)
    result = run("validate")
    assert result.exit_code == 0, result.output
    *warnings, summary = result.stdout.strip().splitlines()
    assert summary == f"ok: 6 file(s), 4 paper(s) valid, {len(warnings)} warning(s)"
    assert warnings and all(": warning: realism dimension " in w for w in warnings)


def test_validate_all_bad_files_one_line_each_no_traceback():
    result = run("validate", *map(str, BAD_FILES), str(BAD / "dup"))
    assert result.exit_code == 1
    assert "Traceback" not in result.output
    lines = result.stdout.splitlines()
    assert lines, result.output
    files = {line.split(":", 1)[0] for line in lines}
    # dup/first.yaml too: its arXiv id is that of the database's shumailov2023curse
    assert {Path(f).name for f in files} == {p.name for p in BAD_FILES} | {"first.yaml", "second.yaml"}
    for line in lines:
        file, lineno, rest = line.split(":", 2)
        assert lineno.isdigit() and rest.strip(), line
    assert "problem(s)" in result.stderr


def test_validate_json_and_github_formats():
    result = run("validate", "--format", "json", str(BAD / "unquoted-arxiv.yaml"))
    assert result.exit_code == 1
    doc = json.loads(result.stdout)
    assert doc["ok"] is False
    assert {p["field"] for p in doc["problems"]} == {"arxiv", "explicit_definition"}
    result = run("validate", "--format", "github", str(BAD / "unquoted-arxiv.yaml"))
    assert result.exit_code == 1
    gh = [line for line in result.stdout.splitlines() if line]
    assert len(gh) == 2
    assert all(line.startswith("::error file=") and ",line=" in line for line in gh)
    assert "line=8,title=arxiv::" in gh[1]


@pytest.mark.parametrize("content", [b"\xff\xfe\x00binary", b"key: [", b"--- !!python/name:os.system\n", b"\t\tkey: x", b"a: *nope"])
def test_validate_never_tracebacks(tmp_path, content):
    path = tmp_path / "x.yaml"
    path.write_bytes(content)
    result = run("validate", str(path))
    assert result.exit_code == 1
    assert "Traceback" not in result.output
    assert result.exception is None or isinstance(result.exception, SystemExit)


def test_validate_missing_path_is_a_problem(tmp_path):
    result = run("validate", str(tmp_path / "nope.yaml"))
    assert result.exit_code == 1 and "file not found" in result.stdout


def test_schema_command_matches_checked_in_file():
    result = run("schema")
    assert result.exit_code == 0
    assert json.loads(result.stdout)["properties"]["arxiv"]
    checked_in = (REPO_ANNOTATIONS / "paper.schema.json").read_text(encoding="utf-8")
    assert checked_in == paper_json_schema_text() == result.stdout, (
        "annotations/paper.schema.json is stale: run `mcatlas schema > annotations/paper.schema.json`"
    )


def test_schema_rejects_unknown_fields_and_lists_enums():
    schema = json.loads(paper_json_schema_text())
    assert schema["additionalProperties"] is False
    assert set(schema["required"]) >= {"key", "title", "authors", "year", "label", "explicit_definition", "definitions"}
    assert schema["properties"]["explicit_definition"]["enum"] == ["yes", "no", "n/a"]


def test_papers_formats(tmp_path):
    db = tmp_path / "i.db"
    result = run("papers", "--definition", "tail-disappearance", "--format", "csv", db=db)
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    assert lines[0].startswith("key,year,month,label")
    assert [line.split(",")[0] for line in lines[1:]] == ["shumailov2023curse", "shumailov2024ai"]
    records = json.loads(run("papers", "--format", "json", "--policy", "accumulate", db=db).stdout)
    assert [r["key"] for r in records] == ["gerstgrasser2024model"]
    bib = run("papers", "--format", "bibtex", db=db).stdout
    assert bib.count("\n@") + bib.startswith("@") == 4
    assert "@article{shumailov2024ai," in bib and "journal = {Nature}" in bib
    assert "eprint = {2305.17493}" in bib and "archivePrefix = {arXiv}" in bib
    assert "author = {Ilia Shumailov and Zakhar Shumaylov and" in bib
    table = run("papers", "--explicit", "n/a", db=db)
    assert table.exit_code == 0 and "example2025none" in table.stdout


def test_show_and_unknown_key(tmp_path):
    db = tmp_path / "i.db"
    result = run("show", "shumailov2023curse", db=db)
    assert result.exit_code == 0, result.output
    for fragment in ("2305.17493", "collapsing-variance: explicit", "gaussian-variance-collapses",
                     "gaussian-replace", "realistic: policy=accumulate", "data-propagation: replace"):
        assert fragment in result.stdout
    result = run("show", "shumailov2023", db=db)
    assert result.exit_code == 1
    assert result.stderr.count("\n") == 1 and "closest: " in result.stderr
    assert "shumailov2023curse" in result.stderr.split("closest: ")[1]
    assert "Traceback" not in result.output


def test_commands_reading_the_db_report_invalid_yaml_in_one_line(tmp_path):
    import shutil

    root = tmp_path / "annotations"
    shutil.copytree(GOOD, root)
    shutil.copy(BAD / "key-mismatch.yaml", root / "papers")
    result = run("matrix", "--format", "csv", db=tmp_path / "i.db", annotations=root)
    assert result.exit_code == 1
    assert result.stderr.startswith("error: ") and result.stderr.count("\n") == 1
    assert "key-mismatch.yaml:1: key" in result.stderr


def test_db_sync(tmp_path):
    result = run("db", "sync", db=tmp_path / "i.db")
    assert result.exit_code == 0, result.output
    assert "synced 4 papers" in result.stdout


def test_default_db_lives_under_dot_mcatlas(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("MCATLAS_DB", raising=False)
    result = run("matrix", "--format", "csv")
    assert result.exit_code == 0, result.output
    assert (tmp_path / ".mcatlas" / "mcatlas.db").exists()


def test_matrix_out_unknown_extension(tmp_path):
    result = run("matrix", "--out", str(tmp_path / "m.gif"), db=tmp_path / "i.db")
    assert result.exit_code == 1 and "unknown output format" in result.stderr


@pytest.mark.parametrize("args", [["validate"], ["matrix", "--format", "csv"]])
def test_fast_paths_import_no_torch_altair_pandas(tmp_path, args):
    argv = ["--annotations", str(GOOD), "--db", "sqlite:///" + str(tmp_path / "f.db"), *args]
    code = (
        "import sys\n"
        "from cli.main import main\n"
        "try:\n"
        f"    main({argv!r})\n"
        "except SystemExit as e:\n"
        "    assert not e.code, e.code\n"
        "heavy = sorted(m for m in ('torch', 'altair', 'pandas', 'vl_convert', 'dask') if m in sys.modules)\n"
        "print('HEAVY', heavy)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=tmp_path, timeout=120)
    assert out.returncode == 0, out.stderr
    assert "HEAVY []" in out.stdout, out.stdout


# -- database and output-path errors: one line, exit 1, no traceback -----------------------


def _one_line_error(result) -> str:
    assert result.exit_code == 1, result.output
    assert "Traceback" not in result.output
    assert result.stderr.startswith("error: ") and result.stderr.count("\n") == 1, result.stderr
    return result.stderr


def test_database_url_errors_are_one_line(tmp_path):
    base = ["--annotations", str(GOOD)]
    msg = _one_line_error(CliRunner().invoke(main, [*base, "--db", "bogus://x", "matrix"]))
    assert "bogus://x" in msg and "unknown database kind 'bogus'" in msg
    missing = tmp_path / "no" / "such" / "x.db"
    msg = _one_line_error(CliRunner().invoke(main, [*base, "--db", f"sqlite:///{missing}", "matrix"]))
    assert f"directory {missing.parent} does not exist" in msg
    notdb = tmp_path / "notdb.db"
    notdb.write_text("not a database\n" * 100)
    msg = _one_line_error(CliRunner().invoke(main, [*base, "--db", f"sqlite:///{notdb}", "matrix"]))
    assert "cannot open it" in msg and "not a database" in msg


def test_server_database_error_masks_the_password():
    # without a PostgreSQL driver: "install a PostgreSQL driver"; with one: port 1 refuses
    url = "postgresql://u:s3cret@127.0.0.1:1/x"
    msg = _one_line_error(CliRunner().invoke(main, ["--annotations", str(GOOD), "--db", url, "matrix"]))
    assert "s3cret" not in msg and "postgresql://u:***@127.0.0.1:1/x" in msg
    assert "pip install" in msg or "cannot open it" in msg


def test_default_style_sqlite_directory_is_created(tmp_path):
    db = tmp_path / ".mcatlas" / "other.db"
    result = CliRunner().invoke(main, ["--annotations", str(GOOD), "--db", f"sqlite:///{db}", "matrix", "--format", "csv"])
    assert result.exit_code == 0, result.output
    assert db.exists()


def test_matrix_out_in_missing_directory_or_unwritable(tmp_path):
    msg = _one_line_error(run("matrix", "--out", str(tmp_path / "nope" / "x.svg"), db=tmp_path / "i.db"))
    assert f"directory {tmp_path / 'nope'} does not exist" in msg
    assert not (tmp_path / "i.db").exists()  # refused before the index was even opened
    msg = _one_line_error(run("matrix", "--out", str(tmp_path / "nope" / "x.csv"), db=tmp_path / "i.db"))
    assert "does not exist" in msg
    long_name = tmp_path / ("x" * 300 + ".csv")  # longer than any file system allows a name
    msg = _one_line_error(run("matrix", "--out", str(long_name), db=tmp_path / "i.db"))
    assert "cannot write" in msg


def test_chart_write_error_is_a_user_error(tmp_path):
    from metaanalysis.analysis.matrix import build_matrix
    from metaanalysis.annotations.validation import validate_directory
    from metaanalysis.present.charts_matrix import save_matrix_chart
    from simulators.errors import UserError

    m = build_matrix(validate_directory(GOOD).papers)
    with pytest.raises(UserError, match="does not exist"):
        save_matrix_chart(m, tmp_path / "nope" / "m.svg")
    with pytest.raises(UserError, match="cannot write the chart"):
        save_matrix_chart(m, tmp_path / ("x" * 300 + ".svg"))
