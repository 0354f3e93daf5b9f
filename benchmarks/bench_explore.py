"""Benchmark: a 3 x 3 realism grid (``mcatlas explore``) against a naive per-cell, per-seed loop.

Usage::

    python benchmarks/bench_explore.py            # gaussian (dim 1, n 20), 100 seeds x 100 iterations
    python benchmarks/bench_explore.py --quick    # 20 seeds x 20 iterations, a smoke run

The grid is real_fraction (0, 0.1, 0.5) x synthetic_ratio (0.5, 1, 2) around a Gaussian setup
that replaces its data (the atlas's default grid). Timed, in this order, each from an empty
store where it matters:

``naive``      for each cell, for each seed, one run of that seed alone (``simulators.run``
               with ``seeds=[s]``), the per-seed frames concatenated and profiled once per cell
               at the run's length: the same simulations and verdicts, written as a loop over
               cells and seeds, with nothing stored.
``serial``     :func:`metaanalysis.analysis.explore.explore` with the serial executor: every
               cell one batched run, profiled at both stored horizons, aggregated, stored (one
               transaction each) and read back, then the boundaries.
``processes``  the same with the process pool (``--workers``, default the CPU count) into
               another empty store.
``cached``     the serial call again on the first store: every cell answered from it.

Ratios: naive / serial and naive / processes (how much faster the grid is than the loop, though
it also stores and profiles twice), serial / processes (what the pool brings; on two cores the
spawned workers' start-up, about a second each, is part of it) and serial / cached.
"""

from __future__ import annotations

import argparse
import shutil
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import simulators  # noqa: E402

REPO = Path(__file__).resolve().parents[1]
FIXTURE = REPO / "tests" / "fixtures" / "evidence" / "annotations"
REAL_FRACTIONS = (0.0, 0.1, 0.5)
SYNTHETIC_RATIOS = (0.5, 1.0, 2.0)

PAPER = """\
key: bench2024
title: "A paper for the explore benchmark"
authors: ["Ben Chmark"]
year: 2024
label: "Bench (2024)"
explicit_definition: "yes"
definitions:
  collapsing-variance: explicit
data_policies: [replace]
source: "benchmark"
setups:
  - name: gauss-replace
    simulator: gaussian
    params: {{dim: 1, n: 20}}
    policy: replace
    seeds: {seeds}
    iterations: {iterations}
    fidelity: toy-stand-in
    note: "The classical Gaussian loop."
"""


def naive(seeds: int, iterations: int) -> dict[tuple[float, float], dict[str, str]]:
    """Per cell, per seed: one engine run of that seed; the cell's frames profiled once."""
    import pandas as pd

    from simulators.runfiles import with_baseline_rows
    from simulators.verdicts import Thresholds, profile

    out = {}
    for f in REAL_FRACTIONS:
        for r in SYNTHETIC_RATIOS:
            policy, fraction = ("replace", None) if f == 0 else ("mix", f)
            frames = [with_baseline_rows(simulators.run("gaussian", policy=policy, real_fraction=fraction,
                                                        synthetic_ratio=r, seeds=[s], iterations=iterations,
                                                        dim=1, n=20))
                      for s in range(seeds)]
            prof = profile(pd.concat(frames, ignore_index=True), thresholds=Thresholds(horizon=iterations))
            out[(f, r)] = {v.definition: v.verdict for v in prof.verdicts}
    return out


def grid(url: str, root: Path, executor: str, workers: int | None) -> dict:
    from metaanalysis.analysis.explore import explore
    from metaanalysis.evidence.tables import open_evidence
    from metaanalysis.store.queries import get_paper

    eng = open_evidence(url, root)
    setup = get_paper(eng, "bench2024").setups[0]
    axes = {"real_fraction": list(REAL_FRACTIONS), "synthetic_ratio": list(SYNTHETIC_RATIOS)}
    return explore(eng, "bench2024", setup, axes, executor=executor, workers=workers)


def timed(fn, *args):
    t0 = time.perf_counter()
    result = fn(*args)
    return time.perf_counter() - t0, result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="20 seeds x 20 iterations")
    parser.add_argument("--workers", type=int, default=None, help="process-pool workers (default: CPU count)")
    args = parser.parse_args()
    seeds, iterations = (20, 20) if args.quick else (100, 100)
    simulators.run("gaussian", seeds=2, iterations=2)  # imports out of the timings
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp) / "annotations"
        shutil.copytree(FIXTURE, root)
        (root / "papers" / "bench2024.yaml").write_text(PAPER.format(seeds=seeds, iterations=iterations))
        t_naive, verdicts = timed(naive, seeds, iterations)
        t_serial, serial = timed(grid, f"sqlite:///{tmp}/serial.db", root, "serial", None)
        t_proc, proc = timed(grid, f"sqlite:///{tmp}/processes.db", root, "processes", args.workers)
        t_cached, cached = timed(grid, f"sqlite:///{tmp}/serial.db", root, "serial", None)
    assert len(serial["cells"]) == 9 and serial["stored"] == 9 and proc["stored"] == 9 and cached["stored"] == 0
    agree = sum(verdicts[(c["axes"]["real_fraction"], c["axes"]["synthetic_ratio"])] == c["verdicts"]
                for c in serial["cells"])
    print(f"3 x 3 grid, gaussian dim 1 n 20, {seeds} seeds x {iterations} iterations per cell")
    print(f"{'naive per-cell per-seed loop':32s} {t_naive:8.2f} s")
    print(f"{'explore, serial':32s} {t_serial:8.2f} s   naive/serial {t_naive / t_serial:6.1f}x")
    print(f"{'explore, processes':32s} {t_proc:8.2f} s   naive/processes {t_naive / t_proc:6.1f}x   "
          f"serial/processes {t_serial / t_proc:5.2f}x")
    print(f"{'explore, all cells stored':32s} {t_cached:8.2f} s   serial/cached {t_serial / t_cached:6.1f}x")
    print(f"cells whose eight verdicts agree with the naive loop's (other seeds' draws): {agree} of 9")


if __name__ == "__main__":
    main()
