"""Benchmark: S seeds trained as one batched model vs S sequential single-seed trainings.

The neural families (``lm``, ``vae``) train S seeds as one batched model; this measures what that
gains over training them one after another (the aim is 5x or more at S = 16 on CPU). Every
timing below is one *training* (the family's ``fit``: initialisation plus minibatch Adam), on the
same data, with the same model size, number of epochs / Adam steps, batch size and learning rate.
Sampling and metrics are not timed. Three sides:

``batched``         ``Family.fit`` with a seed axis of length S (:mod:`simulators.neural.batched`:
                    stacked weights, batched matrix products, one fused Adam over all seeds), on
                    one intra-op thread like every CPU fit of the families by default
                    (:func:`simulators.neural.batched.cpu_threads`), and on CPU also with
                    ``MCATLAS_CPU_THREADS`` set to torch's default count (all cores).
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
                    It is timed at one intra-op thread and at torch's default (all cores), and
                    the faster counts, so the baseline is never handicapped by a thread setting.

Ratios are ``loop time / batched time``; each timing is repeated ``--repeats`` times, interleaved,
and the medians are printed (the machine is shared, so single timings are noisy).

    python benchmarks/bench_neural.py [--seeds 16] [--family lm|vae|both] [--device cpu] [--repeats 3]

Measured on 2 CPU cores of an otherwise idle virtual machine (single timings still vary
by up to 50%; S = 16; runs of this script, each the median of 5 repeats; lm: n=128, epochs=2,
16 Adam steps; vae: n=500, epochs=4, 32 Adam steps):

    family  batched       same-code loop: ratio   naive research-style loop: ratio
    lm      0.40-0.53 s   1.8-2.3x                2.5-3.1x   (5 runs)
    vae     0.09-0.13 s   5.3-6.1x                6.9-8.6x   (5 runs)
    with MCATLAS_CPU_THREADS=2 (opt-in, both cores):
    lm      0.28-0.34 s                           4.3-4.8x   (2 runs; 4.3-5.7x, median 5.2x, over
                                                             9 earlier runs with MKL's dynamic
                                                             threading still on)
    vae     0.07-0.08 s                           9.0-9.2x   (2 runs)

So at S = 16 on CPU batching gains more than 5x for ``vae`` and less for ``lm``: about 3x by
default, about 5x on both cores. The batched ``lm`` step is bound by arithmetic and memory
traffic, which batching does not reduce: batched matrix products and their backward (~30%), CPU
flash attention on 512 tiny (16 x 16) heads per step (~17%), exact-erf GELU and its backward
(~12%), copies from the head permutes (~7%), LayerNorm (~7%); Adam and Python overhead are a few
percent (torch.profiler). Variants tried and not kept, because A/B timings in one
process did not separate them from noise (all within +-10%): math attention instead of flash
attention, ReLU or tanh-GELU instead of erf-GELU, a gather instead of the one-hot embedding
product, ``bmm`` plus an in-place bias add instead of ``baddbmm``, flushing denormals, and glibc
malloc settings that keep freed memory. Why one thread is the default (reproducibility with MKL's
dynamic threading, and slowdowns under load): :func:`simulators.neural.batched.cpu_threads`.
Both naive models train to a comparable loss (checked by hand: lm held-out cross-entropy 1.88
naive vs 2.03 batched nats at 8 epochs, uniform 3.47).
"""

from __future__ import annotations

import argparse
import contextlib
import statistics
import time
from collections.abc import Callable, Iterator
from typing import Any

#: benchmark sizes: CI-size models, a few epochs (the families' defaults train longer; the ratio
#: does not depend on the number of steps, only the absolute times do)
CASES: dict[str, dict[str, Any]] = {
    "lm": {"n": 128, "epochs": 2},  # about 27k parameters per seed, 16 Adam steps
    "vae": {"n": 500, "epochs": 4},  # 32 Adam steps
}


# ----------------------------------------------------------------------------- naive baselines


def naive_train(model: Any, loss: Callable[[Any], Any], p: Any, x: Any, generator: Any) -> Any:
    """The research-style training loop both baselines share: ``p.epochs`` shuffled passes over
    x in minibatches of ``p.batch_size``, one ``torch.optim.Adam`` step on ``loss(batch)`` each."""
    import torch

    opt = torch.optim.Adam(model.parameters(), lr=p.lr)
    model.train()
    n = x.shape[0]
    for _ in range(p.epochs):
        perm = torch.randperm(n, generator=generator, device=x.device)
        for start in range(0, n, p.batch_size):
            batch_loss = loss(x[perm[start : start + p.batch_size]])
            opt.zero_grad()
            batch_loss.backward()
            opt.step()
    return model


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

    def loss(batch: torch.Tensor) -> torch.Tensor:
        inp = torch.cat([torch.full_like(batch[:, :1], model.bos), batch[:, :-1]], dim=1)
        logits = model(inp)
        return F.cross_entropy(logits.reshape(-1, logits.shape[-1]), batch.reshape(-1))

    return naive_train(model, loss, p, x, generator)


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

    def loss(batch: torch.Tensor) -> torch.Tensor:
        logits, mu, logvar = model(batch / levels)
        rec = (batch * logits - levels * F.softplus(logits)).sum(-1)  # log Binomial(16, sigmoid)
        kl = 0.5 * (mu**2 + logvar.exp() - 1.0 - logvar).sum(-1)
        return (kl - rec).mean()

    return naive_train(model, loss, p, x, generator)


NAIVE: dict[str, Callable[..., Any]] = {"lm": naive_lm_fit, "vae": naive_vae_fit}


# ----------------------------------------------------------------------------- timing


@contextlib.contextmanager
def threads(count: int | None) -> Iterator[None]:
    """Run at ``count`` intra-op threads (``None``: as the code under test decides): torch's
    setting for the naive loop, and ``MCATLAS_CPU_THREADS`` for the families
    (:func:`simulators.neural.batched.cpu_threads`)."""
    import os

    import torch

    from simulators.neural.batched import THREADS_ENV

    if count is None:
        yield
        return
    before, env = torch.get_num_threads(), os.environ.get(THREADS_ENV)
    torch.set_num_threads(count)
    os.environ[THREADS_ENV] = str(count)
    try:
        yield
    finally:
        torch.set_num_threads(before)
        if env is None:
            del os.environ[THREADS_ENV]
        else:
            os.environ[THREADS_ENV] = env


def bench(name: str, seeds: int, device: str, params: dict, repeats: int) -> dict[str, Any]:
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
    counts = [1] if device.startswith("cuda") else sorted({1, torch.get_num_threads()})

    def sync() -> None:
        if device.startswith("cuda"):
            torch.cuda.synchronize()

    def run_batched() -> None:
        batched_family.fit(data, None, rng)

    def run_loop() -> None:
        for s in range(seeds):
            single_family.fit({k: v[s : s + 1] for k, v in data.items()}, None, rng)

    def run_naive() -> None:
        for s in range(seeds):
            NAIVE[name](p, data["x"][s], naive_gen, **extra)

    def timed(f: Callable[[], None], count: int | None) -> float:
        with threads(count):
            sync()
            start = time.perf_counter()
            f()
            sync()
            return time.perf_counter() - start

    # warm-up (first-call allocations, kernel selection, lazy imports): one fit of each kind
    trained = batched_family.fit(data, None, rng)
    single_family.fit({k: v[:1] for k, v in data.items()}, None, rng)
    for count in counts:
        with threads(count):
            naive_model = NAIVE[name](p, data["x"][0], naive_gen, **extra)
    sizes = (batched.parameter_count(trained), sum(t.numel() for t in naive_model.parameters()))
    if sizes[0] != sizes[1]:  # the naive model must be the same architecture
        raise AssertionError(f"{name}: parameters per seed: batched {sizes[0]}, naive {sizes[1]}")
    times: dict[tuple[str, int | None], list[float]] = {}
    sides = [("batched", None, run_batched), ("loop", None, run_loop)]
    sides += [("batched", count, run_batched) for count in counts if count > 1]  # opt-in threads
    sides += [("naive", count, run_naive) for count in counts]
    for _ in range(repeats):  # interleaved, so load drift hits all sides alike
        for side, count, f in sides:
            times.setdefault((side, count), []).append(timed(f, count))
    med = {key: statistics.median(v) for key, v in times.items()}
    best = min(counts, key=lambda c: med[("naive", c)])  # the naive loop at its faster thread count
    many = max(counts)
    threaded = {}
    if many > 1:
        threaded = {
            "threaded": med[("batched", many)],
            "threaded_threads": many,
            "threaded_ratio": statistics.median(
                t / b for t, b in zip(times[("naive", best)], times[("batched", many)])
            ),
        }
    return {
        **threaded,
        "parameters": sizes[0],
        "batched": med[("batched", None)],
        "loop": med[("loop", None)],
        "loop_ratio": statistics.median(t / b for t, b in zip(times[("loop", None)], times[("batched", None)])),
        "naive": med[("naive", best)],
        "naive_threads": best,
        "naive_all": {c: med[("naive", c)] for c in counts},
        "naive_ratio": statistics.median(t / b for t, b in zip(times[("naive", best)], times[("batched", None)])),
    }


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
            f"{name}: S={args.seeds} {CASES[name]} params/seed={r['parameters']}  "
            f"batched {r['batched']:.2f} s | "
            f"same-code loop {r['loop']:.2f} s, {r['loop_ratio']:.1f}x | "
            f"naive research-style loop {r['naive']:.2f} s ({r['naive_threads']} thr), {r['naive_ratio']:.1f}x"
        )
        print("    naive loop by thread count: " + ", ".join(f"{c}: {t:.2f} s" for c, t in r["naive_all"].items()))
        if "threaded" in r:
            print(f"    batched with MCATLAS_CPU_THREADS={r['threaded_threads']}: {r['threaded']:.2f} s, "
                  f"{r['threaded_ratio']:.1f}x against the naive loop")


if __name__ == "__main__":
    main()
