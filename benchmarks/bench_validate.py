"""Benchmark: validate and index N generated paper records (default 10,000).

Prints records per second for ``metaanalysis.annotations.validation.validate_directory`` (bounded,
line-tracking loader, every check incl. cross-file ones) and for ``metaanalysis.store.index.sync``
(one transaction into SQLite), and compares validation against a naive baseline measured in the
same run: ``yaml.load`` with PyYAML's SafeLoader (pure Python) and with its CSafeLoader
(libyaml), no line tracking, no bounds, followed by ``Paper.model_validate``, with no cross
checks. mcatlas composes on libyaml's event parser, so the libyaml ratio is the cost of the
bounds, the line tracking and the checks.

    python benchmarks/bench_validate.py [--records N]
"""

from __future__ import annotations

import argparse
import shutil
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from simulators.vocabulary import DEFINITIONS, POLICIES  # noqa: E402

FIXTURES = REPO / "tests" / "fixtures" / "annotations" / "good"


def record(i: int) -> str:
    defs = {DEFINITIONS[(i + k) % 8]: ("explicit" if (i + k) % 3 == 0 else "implicit") for k in range(i % 4)}
    lines = [
        f"key: bench{i:05d}",
        f'title: "Generated record number {i} for the validation benchmark"',
        'authors: ["A. Person", "B. Person", "C. Person"]',
        f"year: {2020 + i % 5}",
        f"month: {1 + i % 12}",
        f'arxiv: "{2000 + i % 500:04d}.{i:05d}"',
        f'label: "Person{i:05d} et al. ({2020 + i % 5})"',  # labels are unique across records
        'explicit_definition: "yes"',
        "definitions:" + ("" if defs else " {}"),
        *(f"  {d}: {u}" for d, u in defs.items()),
        f"data_policies: [{POLICIES[i % 3]}]",
    ]
    if i % 10 == 0:
        lines += [
            "claims:",
            "  - id: variance-collapses",
            '    statement: "The variance goes to zero."',
            "    definition: collapsing-variance",
            "    outcome: collapse",
            "    policy: replace",
            "    model_family: gaussian",
            '    where: "Figure 1"',
            "setups:",
            "  - name: gaussian-replace",
            "    simulator: gaussian",
            "    params: {dim: 2, n: 50}",
            "    policy: replace",
            "    seeds: 10",
            "    iterations: 20",
            "    reproduces: [variance-collapses]",
            "    fidelity: toy-stand-in",
            '    note: "A Gaussian stands in."',
            "realism:",
            '  data-propagation: {level: replace, why: "Only synthetic data."}',
        ]
    return "\n".join(lines) + "\n"


def generate(root: Path, n: int) -> None:
    (root / "papers").mkdir(parents=True)
    shutil.copy(FIXTURES / "definitions.yaml", root)
    shutil.copy(FIXTURES / "realism.yaml", root)
    for i in range(n):
        (root / "papers" / f"bench{i:05d}.yaml").write_text(record(i))


def naive(root: Path, loader: type) -> int:
    import yaml

    from metaanalysis.annotations.records import Paper

    ok = 0
    for path in sorted((root / "papers").iterdir()):
        with open(path, encoding="utf-8") as fh:
            Paper.model_validate(yaml.load(fh, Loader=loader))
        ok += 1
    return ok


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--records", type=int, default=10_000)
    args = parser.parse_args()
    n = args.records

    from metaanalysis import store
    from metaanalysis.annotations.validation import validate_directory

    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp) / "annotations"
        t0 = time.perf_counter()
        generate(root, n)
        print(f"generated {n} records in {time.perf_counter() - t0:.1f} s")

        import yaml

        t0 = time.perf_counter()
        base = naive(root, yaml.SafeLoader)
        t_naive = time.perf_counter() - t0
        t_naive_c = None
        if yaml.__with_libyaml__:
            t0 = time.perf_counter()
            naive(root, yaml.CSafeLoader)
            t_naive_c = time.perf_counter() - t0

        t0 = time.perf_counter()
        result = validate_directory(root)
        t_validate = time.perf_counter() - t0
        if result.problems:
            raise SystemExit(f"generated records do not validate: {result.problems[0]}")
        assert len(result.papers) == base == n

        eng = store.engine(f"sqlite:///{Path(tmp) / 'bench.db'}")
        t0 = time.perf_counter()
        store.sync(eng, root, result)
        t_index = time.perf_counter() - t0
        assert len(store.read_papers(eng)) == n

    print(f"naive baseline (yaml.safe_load + Paper.model_validate): {n / t_naive:8.0f} records/s ({t_naive:.2f} s)")
    if t_naive_c is not None:
        print(f"naive baseline with libyaml (CSafeLoader):              {n / t_naive_c:8.0f} records/s ({t_naive_c:.2f} s)")
    print(f"mcatlas validate (bounded, line-tracking, all checks):  {n / t_validate:8.0f} records/s ({t_validate:.2f} s)")
    print(f"mcatlas index (sync into SQLite, one transaction):      {n / t_index:8.0f} records/s ({t_index:.2f} s)")
    print(f"validate / naive time ratio: {t_validate / t_naive:.2f}x")
    if t_naive_c is not None:
        print(f"validate / naive-libyaml time ratio: {t_validate / t_naive_c:.2f}x (the cost of bounds, line tracking, all checks)")


if __name__ == "__main__":
    main()
