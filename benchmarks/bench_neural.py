"""Benchmark: S seeds trained as one batched model vs S sequential single-seed trainings.

Issue 6 asks that S seeds of the neural families (``lm``, ``vae``) train as one batched model
and that this be benchmarked against the sequential loop (goal: >= 5x at S = 16 on CPU). Every
timing below is one *training* (the family's ``fit``: initialisation plus minibatch Adam), on the
same data, with the same model size, number of epochs / Adam steps, batch size and learning rate,
and the same intra-op thread count (the one the family's ``fit`` picks for the batched S-seed
work; printed). Sampling and metrics are not timed. Three timings per family:

``batched``         ``Family.fit`` with a seed axis of length S (:mod:`simulators.neural.batched`:
                    stacked weights, batched matrix products, one fused Adam over all seeds).
``same-code loop``  the SAME ``Family.fit`` called S times with a seed axis of length 1. It
                    isolates the pure batching effect: per-step Python/dispatch overhead amortised
                    over S seeds, nothing else differs.
``naive loop``      the NAIVE BASELINE, written here in the style of published research code: per
                    seed, a standard ``torch.nn.Module`` built from stock layers, trained in a
                    Python loop with ``torch.optim.Adam`` (default implementation). For ``lm``:
                    ``nn.Embedding`` + learned positions + a stack of
                    ``nn.TransformerEncoderLayer(batch_first=True, norm_first=True,
                    activation="gelu", dim_feedforward=4*width, dropout=0)`` with a causal mask +
                    final ``nn.LayerNorm`` + ``nn.Linear`` head (the same architecture and
                    parameter count as the family's model). For ``vae``: ``nn.Linear``/``nn.Tanh``
                    MLP encoder and decoder of the same sizes, the same Binomial(16, p) pixel
                    likelihood and Gaussian KL. Its numbers are not bit-identical to the family's
                    (different initialisation and kernels); it is a cost reference, nothing more.

Ratios are ``loop time / batched time``; each timing is repeated ``--repeats`` times, interleaved,
and the medians are printed (the machine is shared, so single timings are noisy).

    python benchmarks/bench_neural.py [--seeds 16] [--family lm|vae|both] [--device cpu] [--repeats 3]

Measured (2026-11-22, 2 shared CPU cores, load average 2-8 from other jobs during the runs, so
expect +-30%; S = 16, one intra-op thread; medians of 3 runs of this script, each the median of 3
repeats; lm: n=128, epochs=2, 16 Adam steps; vae: n=500, epochs=4, 32 Adam steps):

    family  batched   same-code loop (ratio)   naive research-style loop (ratio)
    lm      0.68 s    1.34 s (1.9x)            1.85 s (2.9x)
    vae     0.15 s    0.52 s (4.7x)            0.80 s (5.2x)

    (per-run ratios: lm 1.9 / 2.3 / 1.8 and 2.9 / 3.8 / 2.6; vae 4.8 / 4.7 / 3.5 and 5.2 / 5.8 / 5.0)

So the issue's 5x goal at S = 16 on CPU is met for ``vae`` against the naive research-style loop
(5.2x; 4.7x against the same-code loop) and NOT met for ``lm`` (about 3x against the naive loop,
about 2x against the same-code loop). Both naive models train to a comparable loss (checked by
hand: lm held-out cross-entropy 1.88 naive vs 2.03 batched nats at 8 epochs, uniform 3.47).

Profiling notes (torch.profiler, 2026-11-22). At S = 16 the batched ``lm`` step is dominated by
arithmetic: ``bmm``/``baddbmm`` (~40%, ~15-20 GFLOP/s on one core, near what MKL reaches at these
small shapes), CPU flash attention (~14%), exact-erf GELU and its backward (~10%); per-step Python
and Adam overhead is a few percent. Initialisation is ~4 ms. Two intra-op threads instead of one
were 4-10x *slower* under the shared load (OpenMP threads contending with other processes) and
gave identical results, so ``cpu_threads`` keeps one thread at these sizes. No bit-identical saving
was found in :mod:`simulators.neural.batched`: faster variants (tanh-approximate GELU, math
attention, ``nn.Embedding`` instead of the one-hot product) change the arithmetic and hence the
results for a given seed. The same-code ratio is bounded because a single-seed step is already
fairly efficient (~60% of its time is arithmetic): batching removes the per-step overhead, not the
flops.
"""

from __future__ import annotations

import argparse
import statistics
import time
from collections.abc import Callable
from typing import Any

#: benchmark sizes: CI-size models, a few epochs (the families' defaults train longer; the ratio
#: does not depend on the number of steps, only the absolute times do)
CASES: dict[str, dict[str, Any]] = {
    "lm": {"n": 128, "epochs": 2},  # about 27k parameters per seed, 16 Adam steps
    "vae": {"n": 500, "epochs": 4},  # 32 Adam steps
}


# ----------------------------------------------------------------------------- naive baselines


def naive_lm_fit(p: Any, x: Any, generator: Any, vocab: int) -> Any:
    """Research-style training of ONE seed's transformer LM on sequences x (n, L) int64 over
    ``vocab`` tokens."""
    import torch
    import torch.nn.functional as F
    from torch import nn

    class TinyGPT(nn.Module):
        def __init__(self, vocab: int, seq_len: int, width: int, layers: int, heads: int) -> None:
            super().__init__()
            self.bos = vocab
            self.tok = nn.Embedding(vocab + 1, width)  # + BOS
            self.pos = nn.Parameter(torch.zeros(1, seq_len, width))
            nn.init.normal_(self.pos, std=0.02)
            layer = nn.TransformerEncoderLayer(
                width, heads, dim_feedforward=4 * width, dropout=0.0, activation="gelu",
                batch_first=True, norm_first=True,
            )
            self.blocks = nn.TransformerEncoder(layer, layers, enable_nested_tensor=False)
            self.ln = nn.LayerNorm(width)
            self.head = nn.Linear(width, vocab)
            self.register_buffer("mask", nn.Transformer.generate_square_subsequent_mask(seq_len))

        def forward(self, inp: torch.Tensor) -> torch.Tensor:
            L = inp.shape[1]
            h = self.tok(inp) + self.pos[:, :L]
            h = self.blocks(h, mask=self.mask[:L, :L], is_causal=True)
            return self.head(self.ln(h))

    model = TinyGPT(vocab, p.seq_len, p.width, p.layers, p.heads).to(x.device)
    opt = torch.optim.Adam(model.parameters(), lr=p.lr)
    model.train()
    n = x.shape[0]
    for _ in range(p.epochs):
        perm = torch.randperm(n, generator=generator, device=x.device)
        for start in range(0, n, p.batch_size):
            batch = x[perm[start : start + p.batch_size]]
            inp = torch.cat([torch.full_like(batch[:, :1], model.bos), batch[:, :-1]], dim=1)
            logits = model(inp)
            loss = F.cross_entropy(logits.reshape(-1, logits.shape[-1]), batch.reshape(-1))
            opt.zero_grad()
            loss.backward()
            opt.step()
    return model


def naive_vae_fit(p: Any, x: Any, generator: Any, levels: float) -> Any:
    """Research-style training of ONE seed's MLP VAE on images x (n, 64) with pixel values 0..16."""
    import torch
    import torch.nn.functional as F
    from torch import nn

    class VAE(nn.Module):
        def __init__(self, dim: int, width: int, latent: int) -> None:
            super().__init__()
            self.enc = nn.Sequential(nn.Linear(dim, width), nn.Tanh())
            self.mu = nn.Linear(width, latent)
            self.logvar = nn.Linear(width, latent)
            self.dec = nn.Sequential(nn.Linear(latent, width), nn.Tanh(), nn.Linear(width, dim))

        def forward(self, u: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
            h = self.enc(u)
            mu, logvar = self.mu(h), self.logvar(h).clamp(-12.0, 8.0)
            z = mu + torch.exp(0.5 * logvar) * torch.randn(mu.shape, generator=generator, device=mu.device)
            return self.dec(z), mu, logvar

    model = VAE(x.shape[1], p.width, p.latent).to(x.device)
    opt = torch.optim.Adam(model.parameters(), lr=p.lr)
    model.train()
    n = x.shape[0]
    for _ in range(p.epochs):
        perm = torch.randperm(n, generator=generator, device=x.device)
        for start in range(0, n, p.batch_size):
            batch = x[perm[start : start + p.batch_size]]
            logits, mu, logvar = model(batch / levels)
            rec = (batch * logits - levels * F.softplus(logits)).sum(-1)  # log Binomial(16, sigmoid)
            kl = 0.5 * (mu**2 + logvar.exp() - 1.0 - logvar).sum(-1)
            loss = (kl - rec).mean()
            opt.zero_grad()
            loss.backward()
            opt.step()
    return model


NAIVE: dict[str, Callable[..., Any]] = {"lm": naive_lm_fit, "vae": naive_vae_fit}


def fit_work(name: str, p: Any, seeds: int) -> int:
    """The work estimate the family's ``fit`` hands to ``cpu_threads`` (mirrors lm.py / vae.py),
    so every side of the comparison runs with the thread count of the batched fit."""
    if name == "lm":
        return seeds * p.batch_size * p.seq_len * p.width
    return seeds * p.batch_size * p.width


# ----------------------------------------------------------------------------- timing


def bench(name: str, seeds: int, device: str, params: dict, repeats: int) -> dict[str, float]:
    """Median times of the three sides (see the module docstring) and the median ratios."""
    import torch

    from simulators import registry
    from simulators.engine import make_rng
    from simulators.neural import batched

    cls = registry.get(name)
    p = cls.Params(**params)
    rng = make_rng(list(range(seeds)), "torch", device)
    batched_family = cls(p, seeds, rng, device)
    data = batched_family.real(p.n, rng)
    single_family = cls(p, 1, rng, device)
    naive_gen = torch.Generator(device=device)
    naive_gen.manual_seed(0)
    extra = {"vocab": batched_family.vocab} if name == "lm" else {"levels": batched_family.levels}

    def sync() -> None:
        if device.startswith("cuda"):
            torch.cuda.synchronize()

    def run_batched() -> None:
        batched_family.fit(data, None, rng)

    def run_loop() -> None:
        for s in range(seeds):
            single_family.fit({k: v[s : s + 1] for k, v in data.items()}, None, rng)

    def run_naive() -> None:
        with batched.cpu_threads(device, fit_work(name, p, seeds)):
            for s in range(seeds):
                NAIVE[name](p, data["x"][s], naive_gen, **extra)

    def timed(f: Callable[[], None]) -> float:
        sync()
        start = time.perf_counter()
        f()
        sync()
        return time.perf_counter() - start

    with batched.cpu_threads(device, fit_work(name, p, seeds)):
        threads = torch.get_num_threads()
    # warm-up (first-call allocations, kernel selection, lazy imports): one fit of each kind
    run_batched()
    single_family.fit({k: v[:1] for k, v in data.items()}, None, rng)
    with batched.cpu_threads(device, fit_work(name, p, seeds)):
        naive_model = NAIVE[name](p, data["x"][0], naive_gen, **extra)
    trained = batched_family.fit(data, None, rng)
    counts = (batched.parameter_count(trained), sum(t.numel() for t in naive_model.parameters()))
    if counts[0] != counts[1]:  # the naive model must be the same architecture
        raise AssertionError(f"{name}: parameters per seed: batched {counts[0]}, naive {counts[1]}")
    times: dict[str, list[float]] = {"batched": [], "loop": [], "naive": []}
    for _ in range(repeats):  # interleaved, so load drift hits all sides alike
        times["batched"].append(timed(run_batched))
        times["loop"].append(timed(run_loop))
        times["naive"].append(timed(run_naive))
    out = {k: statistics.median(v) for k, v in times.items()}
    out["loop_ratio"] = statistics.median(l / b for l, b in zip(times["loop"], times["batched"]))
    out["naive_ratio"] = statistics.median(n / b for n, b in zip(times["naive"], times["batched"]))
    out["threads"] = threads
    out["parameters"] = counts[0]
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=16)
    parser.add_argument("--family", choices=("lm", "vae", "both"), default="both")
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--repeats", type=int, default=3, help="timings per side (median printed)")
    args = parser.parse_args()
    names = list(CASES) if args.family == "both" else [args.family]
    for name in names:
        r = bench(name, args.seeds, args.device, CASES[name], args.repeats)
        print(
            f"{name}: S={args.seeds} {CASES[name]} threads={r['threads']:.0f} "
            f"params/seed={r['parameters']:.0f}  "
            f"batched {r['batched']:.2f} s | "
            f"same-code loop {r['loop']:.2f} s, {r['loop_ratio']:.1f}x | "
            f"naive research-style loop {r['naive']:.2f} s, {r['naive_ratio']:.1f}x"
        )


if __name__ == "__main__":
    main()
