"""Validation of annotation files: each class of error, with its file and line, and the bounds
that protect against hostile input (alias bombs, huge files, deep nesting, tags)."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from metaanalysis.annotations import locate, yamlio
from metaanalysis.annotations.validation import validate_directory, validate_paths

FIXTURES = Path(__file__).resolve().parent / "fixtures" / "annotations"
GOOD = FIXTURES / "good"
BAD = FIXTURES / "bad"


def problems_of(name: str) -> list:
    result = validate_paths([BAD / name], GOOD)
    assert not result.ok, f"{name} should not validate"
    return result.problems


def edited(tmp_path: Path, name: str, replace: tuple[str, str] | None = None, extra: str = "") -> list:
    """Problems of the good fixture ``name`` (a path below GOOD) with ``replace`` (old, new)
    applied and ``extra`` lines appended, edited in place in a copy of the good directory and
    checked against that copy (as a contributor validates the record they edit)."""
    root = tmp_path / "annotations"
    if not root.exists():
        shutil.copytree(GOOD, root)
    text = (GOOD / name).read_text()
    if replace is not None:
        assert replace[0] in text
        text = text.replace(*replace)
    path = root / name
    path.write_text(text + extra)
    return validate_paths([path], root).problems


def test_good_fixture_directory_is_valid():
    result = validate_directory(GOOD)
    assert result.problems == []
    assert sorted(p.key for p in result.papers) == [
        "example2025none", "gerstgrasser2024model", "shumailov2023curse", "shumailov2024ai"
    ]
    assert result.definitions is not None and result.realism is not None


# (file, expected line, expected field, a fragment of the message)
CASES = [
    ("syntax-error.yaml", 3, "", "YAML syntax error"),
    ("not-mapping.yaml", 1, "", "must be a mapping"),
    ("empty.yaml", 1, "", "empty file"),
    ("duplicate-key.yaml", 8, "year", "duplicate key (first on line 4)"),
    ("unknown-field.yaml", 8, "titel", "unknown field (did you mean title?)"),
    ("key-mismatch.yaml", 1, "key", "differs from the file name"),
    ("python-tag.yaml", 8, "", "not allowed"),
    ("unknown-policy.yaml", 8, "data_policies[1]", "did you mean accumulate?"),
    ("alias-bomb.yaml", None, "", "limit 100000"),
]


@pytest.mark.parametrize("name,line,field,fragment", CASES)
def test_each_error_class_is_reported_with_file_and_line(name, line, field, fragment):
    problems = problems_of(name)
    assert len(problems) == 1, [str(p) for p in problems]
    p = problems[0]
    assert p.file.endswith(name)
    if line is not None:
        assert p.line == line
    assert p.field == field
    assert fragment in p.message
    assert "\n" not in str(p)


def test_wrong_types_and_values():
    by_field = {p.field: p for p in problems_of("wrong-type.yaml")}
    assert set(by_field) == {"authors", "year", "month"}
    assert by_field["authors"].line == 3 and "must be a list" in by_field["authors"].message
    assert by_field["year"].line == 4 and "integer" in by_field["year"].message
    assert by_field["month"].line == 5 and "12" in by_field["month"].message


def test_unknown_definition_id_and_usage():
    by_field = {p.field: p for p in problems_of("unknown-definition.yaml")}
    assert "did you mean collapsing-variance?" in by_field["definitions.collapsing-varaince"].message
    assert by_field["definitions.collapsing-varaince"].line == 8
    assert "'sometimes'" in by_field["definitions.tail-disappearance"].message
    assert "explicit, implicit" in by_field["definitions.tail-disappearance"].message


def test_yaml_11_traps_ask_for_quotes():
    by_field = {p.field: p for p in problems_of("unquoted-arxiv.yaml")}
    arxiv = by_field["arxiv"]
    assert arxiv.line == 8
    assert "2310.10010" in arxiv.message and "quote it" in arxiv.message
    flag = by_field["explicit_definition"]
    assert "boolean False" in flag.message and 'quote it: "no"' in flag.message


def test_unquoted_boolean_key_is_reported(tmp_path):
    problems = edited(tmp_path, "papers/gerstgrasser2024model.yaml",
                      ("definitions:\n", "definitions:\n  no: explicit\n"))
    assert any(p.field == "definitions.no" and "quote it" in p.message for p in problems), problems


def test_setup_claim_and_realism_cross_checks():
    problems = problems_of("bad-setup.yaml")
    text = "\n".join(str(p) for p in problems)
    expected = {
        "claims[1].id": "duplicate claim id 'c1'",
        "setups[0].simulator": "unknown simulator 'gausian'",
        "setups[0].policy": "needs real_fraction",
        "setups[0].reproduces[0]": "no claim 'c2'",
        "setups[1].name": "duplicate setup name 's1'",
        "setups[1].params.bandwidth": "unknown parameter",
        "setups[1].real_fraction": "applies only to policies mix and fresh",
        "realism.data-propagation.level": "unknown level 'sometimes'",
        "realism.realism-of-everything": "unknown realism dimension",
    }
    by_field = {p.field: p.message for p in problems}
    for field, fragment in expected.items():
        assert field in by_field, text
        assert fragment in by_field[field], text
    # the unknown parameter message lists the valid ones (the Gaussian family's own model)
    from simulators import registry

    valid = list(registry.get("gaussian").Params.model_fields)
    assert ", ".join(valid) in by_field["setups[1].params.bandwidth"]


def test_params_with_bad_values_are_errors(tmp_path):
    name = "papers/shumailov2023curse.yaml"
    problems = edited(tmp_path, name, ("params: {dim: 1, n: 100}", "params: {dim: 0, n: 100}"))
    assert [p.field for p in problems] == ["setups[0].params.dim"]
    expected_line = (GOOD / name).read_text().splitlines().index("    params: {dim: 1, n: 100}") + 1
    assert problems[0].line == expected_line


def test_same_arxiv_in_two_files_names_both():
    # without a database: the two files against each other, reported on the second
    result = validate_paths([BAD / "dup"], None)
    assert sorted((Path(p.file).name, p.field) for p in result.problems) == [("second.yaml", "arxiv"), ("second.yaml", "label")]
    assert all("first.yaml" in p.message for p in result.problems)
    # against the good database too, whose shumailov2023curse has that arXiv id
    result = validate_paths([BAD / "dup"], GOOD)
    by = {(Path(p.file).name, p.field): p for p in result.problems}
    assert set(by) == {("first.yaml", "arxiv"), ("second.yaml", "arxiv"), ("second.yaml", "label")}
    assert "shumailov2023curse.yaml" in by["first.yaml", "arxiv"].message
    assert "first.yaml" not in by["first.yaml", "arxiv"].message
    assert "shumailov2023curse.yaml" in by["second.yaml", "arxiv"].message
    assert "first.yaml" in by["second.yaml", "arxiv"].message


def test_same_key_doi_and_figure_row_across_directories(tmp_path):
    a, b = tmp_path / "a", tmp_path / "b"
    a.mkdir(), b.mkdir()
    shutil.copy(GOOD / "papers" / "shumailov2024ai.yaml", a)
    shutil.copy(GOOD / "papers" / "shumailov2024ai.yaml", b)
    problems = validate_paths([a, b], None).problems
    assert sorted(p.field for p in problems) == ["doi", "figure_order", "key"]  # two Figure 2 rows may share a label
    assert {Path(p.file).parent.name for p in problems} == {"b"}
    # against the database as well: each copy also clashes with the database's own record
    problems = validate_paths([a, b], GOOD).problems
    for d in ("a", "b"):
        fields = sorted(p.field for p in problems if Path(p.file).parent.name == d)
        assert fields == ["doi", "figure_order", "key"], d


def test_oversized_file_is_refused_before_parsing(tmp_path):
    big = tmp_path / "big.yaml"
    with open(big, "w") as fh:
        fh.write("key: big\nnotes: \"")
        fh.write("x" * (yamlio.MAX_BYTES + 10))
        fh.write("\"\n")
    problems = validate_paths([big], GOOD).problems
    assert len(problems) == 1
    assert f"limit of {yamlio.MAX_BYTES} bytes" in problems[0].message


LOADERS = pytest.mark.parametrize("loader", yamlio._LOADERS, ids=lambda c: c.__name__)


@LOADERS
def test_deep_nesting_and_many_aliases_are_refused(loader):
    with pytest.raises(yamlio.YamlLoadError, match="nesting deeper"):
        yamlio.load_text("a: " + "[" * 5000 + "]" * 5000, loader)
    anchors = "a: &x 1\nb: [" + ", ".join(["*x"] * (yamlio.MAX_ALIASES + 1)) + "]\n"
    with pytest.raises(yamlio.YamlLoadError, match=f"limit {yamlio.MAX_ALIASES}"):
        yamlio.load_text(anchors, loader)
    with pytest.raises(yamlio.YamlLoadError, match="recursive"):
        yamlio.load_text("a: &x [*x]", loader)
    bomb = (BAD / "alias-bomb.yaml").read_text()
    with pytest.raises(yamlio.YamlLoadError, match=f"limit {yamlio.MAX_NODES}"):
        yamlio.load_text(bomb, loader)


@LOADERS
def test_libyamls_own_depth_limit_reads_like_ours(loader, monkeypatch):
    """PyYAML >= 6.0.4's C scanner stops deep flow nesting itself, before the composer's check:
    the refusal must read the same, whichever limit fires first."""
    import yaml

    def scanner_gives_up(self):
        mark = yaml.Mark("x", 0, 2, 3, None, None)
        raise yaml.scanner.ScannerError(None, None, "exceeded maximum nesting depth while increasing flow level", mark)

    monkeypatch.setattr(loader, "check_node", scanner_gives_up)
    with pytest.raises(yamlio.YamlLoadError, match=f"nesting deeper than {yamlio.MAX_DEPTH} levels") as err:
        yamlio.load_text("a: [[[]]]", loader)
    assert err.value.line == 3


@LOADERS
@pytest.mark.parametrize("tag", ["!!python/object/apply:os.system ['true']", "!!binary aGk=", "!local x", "!!set {a}"])
def test_tags_are_rejected_not_constructed(tag, loader):
    with pytest.raises(yamlio.YamlLoadError, match="not allowed"):
        yamlio.load_text(f"a: {tag}\n", loader)


@LOADERS
def test_both_loaders_agree_on_the_good_fixtures(loader):
    for path in sorted(GOOD.rglob("*.yaml")):
        text = path.read_text()
        data = yamlio.load_text(text, loader).data
        assert data == yamlio.load_text(text, yamlio.BoundedSafeLoader).data
        import yaml

        assert data == yaml.safe_load(text)
        assert locate.line_of(data, ("key",) if "key" in data else ("definitions",)) >= 1


def test_lines_are_tracked_for_nested_values():
    data = yamlio.load_text("a: 1\nb:\n  - x: 1\n    y: [1, 2]\n  - z\n").data
    assert locate.line_of(data, ("b", 0, "y")) == 4
    assert locate.line_of(data, ("b", 1)) == 5
    assert locate.line_of(data, ("missing",)) == 1


def test_definitions_file_must_match_vocabulary(tmp_path):
    problems = edited(tmp_path, "definitions.yaml", ("family: scaling", "family: distribution"))
    assert len(problems) == 1 and "belongs to family 'scaling'" in problems[0].message
    assert problems[0].line == 6


def test_realism_levels_must_increase(tmp_path):
    problems = edited(tmp_path, "realism.yaml", ("{id: all, score: 2", "{id: all, score: 0"))
    assert len(problems) == 1 and "strictly increasing" in problems[0].message


def test_whole_directory_reports_every_file(tmp_path):
    root = tmp_path / "annotations"
    shutil.copytree(GOOD, root)
    shutil.copy(BAD / "unknown-field.yaml", root / "papers")
    shutil.copy(BAD / "empty.yaml", root / "papers")
    result = validate_directory(root)
    assert {Path(p.file).name for p in result.problems} == {"unknown-field.yaml", "empty.yaml"}
    assert len(result.papers) == 4  # the good ones are still read


def test_missing_simulator_registry_family_is_an_error_not_a_skip(tmp_path, monkeypatch):
    """A registry without the family must give a clear error, never a silent pass."""
    from simulators import registry

    monkeypatch.setattr(registry, "_FAMILIES", {})
    monkeypatch.setattr(registry, "_loaded", True)
    problems = validate_paths([GOOD / "papers" / "shumailov2023curse.yaml"], GOOD).problems
    assert problems and all("unknown simulator 'gaussian'" in p.message for p in problems)


def test_a_broken_family_module_is_not_hidden(monkeypatch):
    """The simulators are the package's own code: a family that fails to import is a bug to see,
    not a validation problem to step around."""
    from simulators import registry

    monkeypatch.setattr(registry, "_FAMILIES", {})
    monkeypatch.setattr(registry, "_loaded", False)
    monkeypatch.setattr(registry, "BUILTIN_MODULES", ("simulators.families.no_such_family",))
    with pytest.raises(ModuleNotFoundError):
        validate_paths([GOOD / "papers" / "shumailov2023curse.yaml"], GOOD)


# -- YAML 1.1 integer and date traps -------------------------------------------------------


def _example(tmp_path: Path, extra: str, replace: tuple[str, str] | None = None) -> list:
    """Problems of the no-definitions example record with ``extra`` lines appended."""
    return edited(tmp_path, "papers/example2025none.yaml", replace, extra)


@pytest.mark.parametrize(
    "written,read_as,plain",
    [
        ("010", "the octal number 8", "10 (or 8 if octal was meant)"),
        ("0x7e6", "the hexadecimal number 2022", "2022"),
        ("1_2", "the number 12", "12"),
        ("1:30", "the base-60 (sexagesimal) number 90", "90"),
        ("0b11", "the binary number 3", "3"),
    ],
)
def test_integers_must_be_plain_decimals(tmp_path, written, read_as, plain):
    problems = _example(tmp_path, f"figure_order: {written}\n")
    assert len(problems) == 1, [str(p) for p in problems]
    p = problems[0]
    assert p.field == "figure_order" and p.line == 9
    assert f"reads the unquoted value {written} as {read_as}" in p.message
    assert f"plain decimals (digits only, no leading zero): {plain};" in p.message


def test_integer_trap_in_year_and_month_and_in_params(tmp_path):
    problems = _example(tmp_path, "month: 010\n", replace=("year: 2025", "year: 0x7e9"))
    assert [(p.field, p.line) for p in problems] == [("year", 5), ("month", 9)]
    assert "hexadecimal number 2025" in problems[0].message
    assert "octal number 8" in problems[1].message
    # inside a setup's params (plain dict[str, Any]) the value is still checked
    problems = edited(tmp_path, "papers/shumailov2023curse.yaml",
                      ("params: {dim: 1, n: 100}", "params: {dim: 1, n: 1_00}"))
    assert [p.field for p in problems] == ["setups[0].params.n"]
    assert "1_00 as the number 100" in problems[0].message


def test_integer_trap_in_a_string_field_is_reported_once(tmp_path):
    problems = _example(tmp_path, "notes: 0x10\n")
    assert len(problems) == 1, [str(p) for p in problems]
    assert problems[0].field == "notes" and 'quote it if it is text: "0x10"' in problems[0].message


def test_unquoted_leading_zero_month_wording(tmp_path):
    problems = _example(tmp_path, "month: 09\n")
    assert len(problems) == 1
    msg = problems[0].message
    assert problems[0].field == "month"
    assert "reads the unquoted value 09 as text" in msg and "write 9" in msg
    assert "without quotes" not in msg
    quoted = _example(tmp_path, 'month: "9"\n')
    assert len(quoted) == 1 and "quoted string '9'; write it without quotes: 9" in quoted[0].message


def test_overlong_number_is_refused_with_a_clear_message(tmp_path):
    problems = _example(tmp_path, "figure_order: " + "1" * 500_000 + "\n")
    assert len(problems) == 1, [str(p)[:200] for p in problems]
    p = problems[0]
    assert p.field == "figure_order" and p.line == 9
    assert f"limit of {yamlio.MAX_NUMBER_CHARS} characters" in p.message
    assert "set_int_max_str_digits" not in p.message and len(str(p)) < 300


def test_impossible_date_names_its_field(tmp_path):
    problems = _example(tmp_path, "", replace=("key: example2025none", "key: 2022-02-30"))
    by_field = {p.field: p for p in problems}
    assert set(by_field) == {"key"}, [str(p) for p in problems]
    p = by_field["key"]
    assert p.line == 2
    assert "2022-02-30 as a date" in p.message and "day is out of range" in p.message
    assert 'quote it: "2022-02-30"' in p.message


def test_many_plain_nodes_without_aliases_say_so(tmp_path):
    path = tmp_path / "many.yaml"
    path.write_text("".join(f"k{i}: {i}\n" for i in range(60_000)))
    problems = validate_paths([path], GOOD).problems
    assert len(problems) == 1
    msg = problems[0].message
    assert f"more than {yamlio.MAX_NODES} nodes" in msg and "alias" not in msg


def test_unknown_and_duplicate_policies_are_both_reported(tmp_path):
    problems = _example(tmp_path, "data_policies: [acumulate, replace, replace]\n")
    by_field = {p.field: p.message for p in problems}
    assert set(by_field) == {"data_policies[0]", "data_policies[2]"}, by_field
    assert "did you mean accumulate?" in by_field["data_policies[0]"]
    assert "listed more than once: replace" in by_field["data_policies[2]"]
    # all ids valid: the model's own check reports the duplicate, once
    problems = _example(tmp_path, "data_policies: [replace, replace]\n")
    assert [p.field for p in problems] == ["data_policies"]
    assert "listed more than once: replace" in problems[0].message
