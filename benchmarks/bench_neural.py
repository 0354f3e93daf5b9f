"""Benchmark: S seeds trained as one batched model vs a Python loop of S single-seed trainings.

Both sides run the same code path (the family's ``fit``: same model size, same data size, same
number of Adam steps, same thread setting), once with a seed axis of length S and once S times
with a seed axis of length 1. Prints both wall times and the ratio (goal: >= 5x at S = 16 on CPU).

    python benchmarks/bench_neural.py [--seeds 16] [--family lm|vae|both] [--device cpu]
"""

from __future__ import annotations

import argparse
import time


def bench(name: str, seeds: int, device: str, params: dict) -> tuple[float, float]:
    import torch

    from simulators import registry
    from simulators.engine import make_rng

    cls = registry.get(name)
    p = cls.Params(**params)
    rng = make_rng(list(range(seeds)), "torch", device)
    batched_family = cls(p, seeds, rng, device)
    data = batched_family.real(p.n, rng)
    single_family = cls(p, 1, rng, device)

    def sync() -> None:
        if device.startswith("cuda"):
            torch.cuda.synchronize()

    batched_family.fit(data, None, rng)  # warm-up (first-call allocations, kernel selection)
    sync()
    start = time.perf_counter()
    batched_family.fit(data, None, rng)
    sync()
    t_batched = time.perf_counter() - start
    start = time.perf_counter()
    for s in range(seeds):
        single_family.fit({k: v[s : s + 1] for k, v in data.items()}, None, rng)
    sync()
    t_loop = time.perf_counter() - start
    return t_batched, t_loop


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=16)
    parser.add_argument("--family", choices=("lm", "vae", "both"), default="both")
    parser.add_argument("--device", default="cpu")
    args = parser.parse_args()
    cases = {
        "lm": {"n": 128, "epochs": 2},  # CI-size transformer (about 27k parameters), 16 Adam steps
        "vae": {"n": 500, "epochs": 4},  # CI-size VAE, 32 Adam steps
    }
    names = list(cases) if args.family == "both" else [args.family]
    for name in names:
        t_batched, t_loop = bench(name, args.seeds, args.device, cases[name])
        print(
            f"{name}: S={args.seeds} {cases[name]}  batched {t_batched:.2f} s  "
            f"sequential loop {t_loop:.2f} s  speed-up {t_loop / t_batched:.1f}x"
        )


if __name__ == "__main__":
    main()
