"""The installable package: the wheel carries the annotation database, and a non-editable install
works from any directory; the order in which the annotations directory is found.

The wheel tests build the wheel from a copy of the checkout (so no ``build/`` or ``*.egg-info``
appears in the working tree), offline (``--no-index --no-build-isolation``), install it with
``--no-deps`` into a fresh virtualenv and run its ``mcatlas`` from a temporary directory. The
virtualenv is created with ``--system-site-packages`` and a ``.pth`` file naming this
environment's site-packages, so the dependencies are the ones installed here (when the tests run
inside a virtualenv, ``--system-site-packages`` alone would only reach the base interpreter's).
A ``.pth`` file does not process the ``.pth`` files of the directory it adds, so an editable
install of mcatlas here does not leak into the fresh one; the first test checks that the code and
the annotations really come from the installed wheel. Together they take about 25 s (half of it
``mcatlas report``), hence ``slow``.
"""

from __future__ import annotations

import csv
import io
import json
import os
import re
import shutil
import site
import subprocess
import sys
import tomllib
import zipfile
from pathlib import Path

import pytest

from metaanalysis.analysis.matrix import build_matrix
from metaanalysis.annotations import paths
from metaanalysis.annotations.validation import validate_directory
from simulators.errors import UserError

REPO = Path(__file__).resolve().parent.parent
GOOD = Path(__file__).resolve().parent / "fixtures" / "annotations" / "good"
DATA_PACKAGE = f"{paths.SHIPPED_PACKAGE}.{paths.SHIPPED_DIR}"


def setuptools_config() -> dict:
    with open(REPO / "pyproject.toml", "rb") as fh:
        return tomllib.load(fh)["tool"]["setuptools"]


# --- the package list and the resolution order (fast) ---------------------------------------


def test_pyproject_lists_every_package_of_the_source_tree():
    config = setuptools_config()
    listed = set(config["packages"])
    mapped = config["package-dir"]
    assert mapped == {DATA_PACKAGE: "annotations"}
    tops = {name.split(".")[0] for name in listed}
    found = {
        ".".join(init.parent.relative_to(REPO).parts)
        for top in tops
        for init in (REPO / top).rglob("__init__.py")
        if "__pycache__" not in init.parts
    }
    assert listed - set(mapped) == found, "update [tool.setuptools] packages in pyproject.toml"


def test_explicit_beats_the_environment_beats_the_checkout(tmp_path, monkeypatch):
    given, env = tmp_path / "given", tmp_path / "env"
    given.mkdir()
    env.mkdir()
    monkeypatch.setenv(paths.ANNOTATIONS_ENV, str(env))
    assert paths.annotations_dir(given) == given
    assert paths.annotations_dir() == env
    monkeypatch.setenv(paths.ANNOTATIONS_ENV, "")  # empty is unset
    assert paths.annotations_dir() == paths.REPO_ANNOTATIONS == REPO / "annotations"
    monkeypatch.delenv(paths.ANNOTATIONS_ENV)
    assert paths.checkout_annotations() == REPO / "annotations"
    assert paths.shipped_annotations() is None  # a checkout carries no second copy
    assert paths.annotations_dir() == REPO / "annotations"


def test_a_missing_directory_is_one_clear_error(tmp_path, monkeypatch):
    monkeypatch.delenv(paths.ANNOTATIONS_ENV, raising=False)
    with pytest.raises(UserError, match=re.escape(f"{tmp_path / 'nope'}: annotations directory not found")):
        paths.annotations_dir(tmp_path / "nope")
    # neither a checkout (no pyproject.toml beside the package) nor a shipped copy
    monkeypatch.setattr(paths, "REPO_ROOT", tmp_path)
    monkeypatch.setattr(paths, "REPO_ANNOTATIONS", tmp_path / "annotations")
    (tmp_path / "annotations").mkdir()
    assert paths.checkout_annotations() is None
    with pytest.raises(UserError, match="no annotations directory.*set --annotations or MCATLAS_ANNOTATIONS"):
        paths.annotations_dir()


# --- the wheel, installed (slow) --------------------------------------------------------------


def _offline_env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items()
           if k not in ("MCATLAS_ANNOTATIONS", "MCATLAS_DB", "PYTHONPATH")}
    env.update(PIP_NO_INDEX="1", PIP_DISABLE_PIP_VERSION_CHECK="1", **extra)
    return env


def _run(cmd: list[str], cwd: Path, timeout: float = 120, **env: str) -> subprocess.CompletedProcess:
    result = subprocess.run(cmd, cwd=cwd, env=_offline_env(**env), capture_output=True, text=True,
                            timeout=timeout, check=False)
    assert result.returncode == 0, f"{cmd}: exit {result.returncode}\n{result.stdout}\n{result.stderr}"
    return result


@pytest.fixture(scope="module")
def source(tmp_path_factory) -> Path:
    """A copy of what the build reads: pyproject.toml, README.md, MANIFEST.in and the directories
    of the listed packages and of the package-dir mapping."""
    config = setuptools_config()
    src = tmp_path_factory.mktemp("src")
    for name in ("pyproject.toml", "README.md", "MANIFEST.in"):
        shutil.copy2(REPO / name, src / name)
    tops = {p.split(".")[0] for p in config["packages"] if p not in config["package-dir"]}
    skip = shutil.ignore_patterns("__pycache__", "*.pyc", "*.egg-info", ".mcatlas")
    for top in sorted(tops | set(config["package-dir"].values())):
        shutil.copytree(REPO / top, src / top, ignore=skip)
    return src


@pytest.fixture(scope="module")
def wheel(source, tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("wheel")
    _run([sys.executable, "-m", "pip", "wheel", ".", "--no-deps", "--no-build-isolation",
          "--no-index", "-w", str(out)], cwd=source)
    (built,) = out.glob("mcatlas-*.whl")
    return built


@pytest.fixture(scope="module")
def venv(wheel, tmp_path_factory) -> Path:
    """A fresh virtualenv with the wheel installed (not editable); its bin directory."""
    root = tmp_path_factory.mktemp("venv")
    _run([sys.executable, "-m", "venv", "--system-site-packages", "--without-pip", str(root)], cwd=root)
    bindir = root / ("Scripts" if os.name == "nt" else "bin")
    python = bindir / "python"
    purelib = Path(_run([str(python), "-c", "import sysconfig; print(sysconfig.get_path('purelib'))"],
                        cwd=root).stdout.strip())
    here = list(site.getsitepackages())
    if site.ENABLE_USER_SITE:
        here.append(site.getusersitepackages())
    (purelib / "_mcatlas_test_dependencies.pth").write_text("\n".join(here) + "\n", encoding="utf-8")
    _run([str(python), "-m", "pip", "install", "--no-deps", "--no-index", "--force-reinstall",
          str(wheel)], cwd=root)
    return bindir


@pytest.fixture
def elsewhere(tmp_path) -> Path:
    """A working directory that is neither the checkout nor the virtualenv."""
    return tmp_path


@pytest.mark.slow
def test_wheel_carries_every_annotation_file(source, wheel):
    shipped = f"{DATA_PACKAGE.replace('.', '/')}/"
    names = zipfile.ZipFile(wheel).namelist()
    in_wheel = {n[len(shipped):] for n in names if n.startswith(shipped)}
    annotations = source / "annotations"
    in_checkout = {p.relative_to(annotations).as_posix() for p in annotations.rglob("*") if p.is_file()}
    assert in_wheel == in_checkout
    assert {"definitions.yaml", "realism.yaml", "paper.schema.json"} <= in_wheel
    assert len(paths.paper_files(annotations)) == len(paths.paper_files(paths.REPO_ANNOTATIONS)) > 0
    assert not any(n.startswith(("annotations/", "tests/")) for n in names)  # only inside the package


@pytest.mark.slow
def test_installed_package_runs_its_own_code_and_annotations(venv, elsewhere):
    probe = ("import json, metaanalysis; from metaanalysis.annotations.paths import annotations_dir;"
             "print(json.dumps([metaanalysis.__file__, str(annotations_dir())]))")
    code, root = json.loads(_run([str(venv / "python"), "-c", probe], cwd=elsewhere).stdout)
    prefix = venv.parent.resolve()
    assert Path(code).resolve().is_relative_to(prefix)
    assert Path(root).resolve().is_relative_to(prefix) and Path(root).name == paths.SHIPPED_DIR


@pytest.mark.slow
def test_installed_validate_and_matrix_from_another_directory(source, venv, elsewhere):
    want = validate_directory(source / "annotations")
    assert want.ok and len(want.papers) == len(paths.paper_files(paths.REPO_ANNOTATIONS))
    mcatlas = str(venv / "mcatlas")
    got = json.loads(_run([mcatlas, "validate", "--format", "json"], cwd=elsewhere).stdout)
    assert (got["ok"], got["files"], got["papers"], got["problems"]) == (
        True, want.checked_files, len(want.papers), [])
    out = _run([mcatlas, "matrix", "--format", "csv"], cwd=elsewhere).stdout
    assert out == build_matrix(want.papers).to_csv()
    assert len(list(csv.DictReader(io.StringIO(out)))) == len(want.papers)
    # the default store is created here, never inside the installed package
    assert (elsewhere / paths.DB_DIR / paths.DB_FILE).is_file()
    assert not list(venv.parent.rglob(paths.DB_DIR))


@pytest.mark.slow
def test_installed_report_without_rerun(source, venv, elsewhere):
    keys = {p.key for p in validate_directory(source / "annotations").papers}
    _run([str(venv / "mcatlas"), "--quiet", "report", "--out", "atlas", "--no-rerun"], cwd=elsewhere)
    assert (elsewhere / "atlas" / "index.html").is_file()
    assert {p.stem for p in (elsewhere / "atlas" / "papers").glob("*.html")} == keys


@pytest.mark.slow
@pytest.mark.parametrize("how", ["option", "environment"])
def test_installed_package_reads_a_working_copy_when_told(venv, elsewhere, how):
    want = build_matrix(validate_directory(GOOD).papers).to_csv()
    if how == "option":
        result = _run([str(venv / "mcatlas"), "--annotations", str(GOOD), "matrix", "--format", "csv"],
                      cwd=elsewhere)
    else:
        result = _run([str(venv / "mcatlas"), "matrix", "--format", "csv"], cwd=elsewhere,
                      MCATLAS_ANNOTATIONS=str(GOOD))
    assert result.stdout == want
