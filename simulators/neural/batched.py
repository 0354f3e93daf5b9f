"""Stacked-parameter neural networks with a leading seed axis, and the shared training loop.

Every parameter tensor has shape (S, ...): S independent models, one per seed, stored as one
batched model. Forward passes use batched matrix products (``torch.bmm`` / ``baddbmm``) over the
seed axis, so S seeds cost one set of kernel launches instead of S. Seeds never interact: the
training loss is the *sum* over seeds of each seed's mean loss, so each seed's gradient is its own,
and Adam is elementwise, so Adam on the stacked tensors is exactly S independent Adams (no global
gradient clipping, which would couple them).

Determinism: embeddings are one-hot matrix products (no scatter-add in the backward pass), and
all randomness (initialisation, minibatch order, reparameterisation noise, sampling) comes from
the ``torch.Generator`` passed in. On CPU the same generator state gives the same result.

Models are plain dicts ``{name: tensor}``:

``transformer``  a pre-LayerNorm decoder-only transformer: token embedding (vocab + 1 inputs,
                 the extra one is the BOS token that starts every sequence), learned positions,
                 ``layers`` blocks of causal multi-head attention and a 4x GELU MLP, final
                 LayerNorm and an untied output layer over ``vocab`` tokens.
``vae``          an MLP VAE: encoder 64 -> width -> (mu, log-variance) of a diagonal Gaussian in
                 ``latent`` dimensions, decoder latent -> width -> 64 logits of Binomial(16, p)
                 pixels (see ``simulators.families.vae``).
"""

from __future__ import annotations

import contextlib
import functools
import math
import os
from pathlib import Path
from typing import Any, Callable, Iterator

import torch
import torch.nn.functional as F

from ..errors import UserError

Params = dict[str, torch.Tensor]


# ----------------------------------------------------------------------------- helpers

#: environment variable: intra-op threads for the neural families' CPU work (default 1)
THREADS_ENV = "MCATLAS_CPU_THREADS"


def cpu_thread_count() -> int:
    """The intra-op thread count of the neural families' CPU work: ``MCATLAS_CPU_THREADS``, else 1."""
    raw = os.environ.get(THREADS_ENV, "").strip() or "1"
    try:
        count = int(raw)
    except ValueError:
        count = 0
    if count < 1:
        raise UserError(f"{THREADS_ENV}={raw!r}: expected a whole number of threads, at least 1")
    return count


@functools.cache
def _mkl_static_threads() -> bool:
    """Switch off MKL's dynamic threading for this process (``MKL_Set_Dynamic(0)``, exported by
    torch's ``libtorch_cpu``); False where torch has no MKL to switch. The setting lasts for the
    process, so this runs once (cached), not at every fit, sample and measurement."""
    import ctypes
    import sys

    if not torch.backends.mkl.is_available():
        return False
    names = {"linux": "libtorch_cpu.so", "darwin": "libtorch_cpu.dylib", "win32": "torch_cpu.dll"}
    path = Path(torch.__file__).parent / "lib" / names.get(sys.platform, "libtorch_cpu.so")
    try:
        set_dynamic = ctypes.CDLL(str(path)).MKL_Set_Dynamic  # the loaded library, not a copy
    except (OSError, AttributeError):
        return False
    set_dynamic.argtypes, set_dynamic.restype = [ctypes.c_int], None
    set_dynamic(0)
    return True


@contextlib.contextmanager
def cpu_threads(device: Any) -> Iterator[None]:
    """Run CPU work on :func:`cpu_thread_count` intra-op threads (one unless
    ``MCATLAS_CPU_THREADS`` says otherwise), restoring torch's setting afterwards; GPUs untouched.

    Why one thread by default:

    * Reproducibility. With two threads and MKL's default *dynamic* threading (MKL may use fewer
      threads than asked when it judges the machine busy, presumably splitting a matrix
      product's sums differently), a 16-seed ``vae`` fit at CI size gave a different result in
      about 1 process in 12 (on one thread 32 of 32 agreed). With dynamic threading
      off, 82 of 82 two-thread fits agreed (52 with ``MKL_DYNAMIC=FALSE``, 30 through this
      function), bit-identical to the one-thread fit. So asking for more than one thread
      switches MKL's dynamic threading off for the rest of the process
      (:func:`_mkl_static_threads`), and is refused where torch has no MKL to switch.
    * Robustness. On an idle 2-core machine two threads trained 16 ``lm`` seeds 1.7x faster, but
      under a load of about 3 from other jobs they were 2-4x slower for ``lm`` and up to 100x
      slower for ``vae`` (OpenMP threads waiting for each other); tiny kernels gain nothing.

    So set ``MCATLAS_CPU_THREADS`` on a machine you have to yourself, for large batched work.
    Otherwise parallelism comes from running configurations side by side: ``mcatlas sweep
    --executor processes``.
    """
    if str(device).startswith("cuda"):
        yield
        return
    count = cpu_thread_count()
    if count > 1 and not _mkl_static_threads():
        raise UserError(f"{THREADS_ENV}={count}: more than one CPU thread needs torch built with MKL "
                        "(to switch off its dynamic threading, which made results vary); unset it")
    before = torch.get_num_threads()
    torch.set_num_threads(count)
    try:
        yield
    finally:
        torch.set_num_threads(before)


def _normal(shape: tuple[int, ...], std: float, generator: Any, device: Any) -> torch.Tensor:
    return torch.randn(shape, generator=generator, device=device) * std


def _linear(S: int, fan_in: int, fan_out: int, generator: Any, device: Any, std: float | None = None) -> torch.Tensor:
    return _normal((S, fan_in, fan_out), std if std is not None else 1.0 / math.sqrt(fan_in), generator, device)


def _layer_norm(h: torch.Tensor, gain: torch.Tensor, bias: torch.Tensor) -> torch.Tensor:
    """LayerNorm over the last axis with per-seed gain and bias (S, d); h is (S, N, d)."""
    return torch.addcmul(bias[:, None, :], F.layer_norm(h, h.shape[-1:]), gain[:, None, :])


def _affine(x: torch.Tensor, weight: torch.Tensor, bias: torch.Tensor) -> torch.Tensor:
    """x (S, N, a) @ weight (S, a, b) + bias (S, b)."""
    return torch.baddbmm(bias[:, None, :], x, weight)


def clone(params: Params) -> Params:
    """A detached copy (for warm starts and for freezing a fitted model)."""
    return {k: v.detach().clone() for k, v in params.items()}


def parameter_count(params: Params) -> int:
    """Parameters of ONE seed's model."""
    return sum(int(v[0].numel()) for v in params.values())


# ----------------------------------------------------------------------------- transformer


def transformer_init(
    S: int, vocab: int, seq_len: int, width: int, layers: int, generator: Any, device: Any
) -> Params:
    """Fresh parameters of S transformers (GPT-2-style scales: 0.02 for embeddings, residual
    projections scaled by 1/sqrt(2 layers))."""
    d = width
    p: Params = {
        "tok": _normal((S, vocab + 1, d), 0.02, generator, device),
        "pos": _normal((S, seq_len, d), 0.02, generator, device),
    }
    resid = 1.0 / math.sqrt(d) / math.sqrt(2 * layers)
    for i in range(layers):
        p[f"l{i}.ln1.g"] = torch.ones(S, d, device=device)
        p[f"l{i}.ln1.b"] = torch.zeros(S, d, device=device)
        p[f"l{i}.qkv.w"] = _linear(S, d, 3 * d, generator, device)
        p[f"l{i}.qkv.b"] = torch.zeros(S, 3 * d, device=device)
        p[f"l{i}.o.w"] = _linear(S, d, d, generator, device, resid)
        p[f"l{i}.o.b"] = torch.zeros(S, d, device=device)
        p[f"l{i}.ln2.g"] = torch.ones(S, d, device=device)
        p[f"l{i}.ln2.b"] = torch.zeros(S, d, device=device)
        p[f"l{i}.fc.w"] = _linear(S, d, 4 * d, generator, device)
        p[f"l{i}.fc.b"] = torch.zeros(S, 4 * d, device=device)
        p[f"l{i}.proj.w"] = _linear(S, 4 * d, d, generator, device, resid / 2.0)
        p[f"l{i}.proj.b"] = torch.zeros(S, d, device=device)
    p["lnf.g"] = torch.ones(S, d, device=device)
    p["lnf.b"] = torch.zeros(S, d, device=device)
    p["out.w"] = _linear(S, d, vocab, generator, device)
    p["out.b"] = torch.zeros(S, vocab, device=device)
    return p


def transformer_logits(p: Params, tokens: torch.Tensor, heads: int) -> torch.Tensor:
    """Next-token logits (S, B, L, vocab) for inputs ``tokens`` (S, B, L) int64 (BOS = vocab)."""
    S, B, L = tokens.shape
    vin, d = p["tok"].shape[1], p["tok"].shape[2]
    onehot = F.one_hot(tokens.reshape(S, B * L), vin).to(p["tok"].dtype)
    h = torch.bmm(onehot, p["tok"]).view(S, B, L, d) + p["pos"][:, None, :L, :]
    h = h.reshape(S, B * L, d)
    layers = sum(1 for k in p if k.endswith(".ln1.g"))
    dh = d // heads
    for i in range(layers):
        a = _layer_norm(h, p[f"l{i}.ln1.g"], p[f"l{i}.ln1.b"])
        qkv = _affine(a, p[f"l{i}.qkv.w"], p[f"l{i}.qkv.b"]).view(S * B, L, 3, heads, dh)
        q, k, v = qkv.permute(2, 0, 3, 1, 4).unbind(0)  # each (S*B, heads, L, dh)
        o = F.scaled_dot_product_attention(q, k, v, is_causal=True)
        o = o.transpose(1, 2).reshape(S, B * L, d)
        h = h + _affine(o, p[f"l{i}.o.w"], p[f"l{i}.o.b"])
        a = _layer_norm(h, p[f"l{i}.ln2.g"], p[f"l{i}.ln2.b"])
        h = h + _affine(F.gelu(_affine(a, p[f"l{i}.fc.w"], p[f"l{i}.fc.b"])), p[f"l{i}.proj.w"], p[f"l{i}.proj.b"])
    h = _layer_norm(h, p["lnf.g"], p["lnf.b"])
    return _affine(h, p["out.w"], p["out.b"]).view(S, B, L, -1)


def with_bos(x: torch.Tensor, bos: int) -> torch.Tensor:
    """Model inputs for sequences x (S, B, L): BOS followed by x[..., :-1]."""
    start = torch.full((*x.shape[:-1], 1), bos, dtype=x.dtype, device=x.device)
    return torch.cat([start, x[..., :-1]], dim=-1)


def lm_loss(p: Params, x: torch.Tensor, heads: int) -> torch.Tensor:
    """Sum over seeds of each seed's mean next-token cross-entropy on sequences x (S, B, L)."""
    vocab = p["out.w"].shape[-1]
    logits = transformer_logits(p, with_bos(x, vocab), heads)
    ce = F.cross_entropy(logits.reshape(-1, vocab), x.reshape(-1), reduction="none")
    return ce.view(x.shape[0], -1).mean(dim=1).sum()


def _transformer_step(p: Params, tokens: torch.Tensor, pos: int, cache: list, heads: int) -> torch.Tensor:
    """Logits (S, B, vocab) of the next token after ``tokens`` (S, B) at position ``pos``, with the
    keys and values of earlier positions in ``cache`` (one (k, v) pair per layer, appended to):
    incremental decoding, the same arithmetic as :func:`transformer_logits` on the full prefix."""
    S, B = tokens.shape
    vin, d = p["tok"].shape[1], p["tok"].shape[2]
    onehot = F.one_hot(tokens, vin).to(p["tok"].dtype)
    h = torch.bmm(onehot, p["tok"]) + p["pos"][:, pos : pos + 1, :]
    dh = d // heads
    for i, entry in enumerate(cache):
        a = _layer_norm(h, p[f"l{i}.ln1.g"], p[f"l{i}.ln1.b"])
        qkv = _affine(a, p[f"l{i}.qkv.w"], p[f"l{i}.qkv.b"]).view(S * B, 1, 3, heads, dh)
        q, k, v = qkv.permute(2, 0, 3, 1, 4).unbind(0)  # each (S*B, heads, 1, dh)
        if entry:
            k = torch.cat([entry[0], k], dim=2)
            v = torch.cat([entry[1], v], dim=2)
        cache[i] = (k, v)
        o = F.scaled_dot_product_attention(q, k, v).transpose(1, 2).reshape(S, B, d)
        h = h + _affine(o, p[f"l{i}.o.w"], p[f"l{i}.o.b"])
        a = _layer_norm(h, p[f"l{i}.ln2.g"], p[f"l{i}.ln2.b"])
        h = h + _affine(F.gelu(_affine(a, p[f"l{i}.fc.w"], p[f"l{i}.fc.b"])), p[f"l{i}.proj.w"], p[f"l{i}.proj.b"])
    h = _layer_norm(h, p["lnf.g"], p["lnf.b"])
    return _affine(h, p["out.w"], p["out.b"])


@torch.no_grad()
def lm_sample(p: Params, n: int, seq_len: int, heads: int, temperature: float, generator: Any) -> torch.Tensor:
    """n sequences per seed (S, n, seq_len) int64, sampled autoregressively at ``temperature``
    (incremental decoding with a key/value cache)."""
    S, vocab = p["out.w"].shape[0], p["out.w"].shape[-1]
    device = p["out.w"].device
    layers = sum(1 for k in p if k.endswith(".ln1.g"))
    cache: list = [()] * layers
    out = torch.empty((S, n, seq_len), dtype=torch.long, device=device)
    tok = torch.full((S, n), vocab, dtype=torch.long, device=device)  # BOS
    for t in range(seq_len):
        logits = _transformer_step(p, tok, t, cache, heads) / temperature
        probs = torch.softmax(logits.float(), dim=-1).reshape(S * n, vocab)
        tok = torch.multinomial(probs, 1, generator=generator).view(S, n)
        out[:, :, t] = tok
    return out


@torch.no_grad()
def lm_log_probs(p: Params, x: torch.Tensor, heads: int) -> torch.Tensor:
    """log q(. | x_<t) at every position: x (S or 1, E, L) -> (S, E, L, vocab) float32."""
    S, vocab = p["out.w"].shape[0], p["out.w"].shape[-1]
    x = x.expand(S, *x.shape[1:])
    return torch.log_softmax(transformer_logits(p, with_bos(x, vocab), heads).float(), dim=-1)


# ----------------------------------------------------------------------------- VAE


def vae_init(S: int, dim: int, latent: int, width: int, generator: Any, device: Any) -> Params:
    """Fresh parameters of S MLP VAEs."""
    return {
        "enc.w": _linear(S, dim, width, generator, device),
        "enc.b": torch.zeros(S, width, device=device),
        "mu.w": _linear(S, width, latent, generator, device),
        "mu.b": torch.zeros(S, latent, device=device),
        "lv.w": _linear(S, width, latent, generator, device, 0.01),
        "lv.b": torch.zeros(S, latent, device=device),
        "dec.w": _linear(S, latent, width, generator, device),
        "dec.b": torch.zeros(S, width, device=device),
        "out.w": _linear(S, width, dim, generator, device),
        "out.b": torch.zeros(S, dim, device=device),
    }


def vae_encode(p: Params, u: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Posterior mean and log-variance (S, N, latent) of inputs u (S, N, dim) in [0, 1]."""
    h = torch.tanh(_affine(u, p["enc.w"], p["enc.b"]))
    return _affine(h, p["mu.w"], p["mu.b"]), _affine(h, p["lv.w"], p["lv.b"]).clamp(-12.0, 8.0)


def vae_decode(p: Params, z: torch.Tensor) -> torch.Tensor:
    """Decoder logits (S, N, dim) of latents z (S, N, latent)."""
    return _affine(torch.tanh(_affine(z, p["dec.w"], p["dec.b"])), p["out.w"], p["out.b"])


# ----------------------------------------------------------------------------- training


def fit(params: Params, data: torch.Tensor, loss: Callable[[Params, torch.Tensor], torch.Tensor],
        settings: Any, generator: Any, device: str) -> Params:
    """A family's fit: :func:`adam_train` with the family's ``epochs``, ``batch_size`` and ``lr``
    (fields of ``settings``, its parameters), on the CPU threads of :func:`cpu_threads`."""
    with cpu_threads(device):
        return adam_train(params, data, loss, epochs=settings.epochs, batch_size=settings.batch_size,
                          lr=settings.lr, generator=generator)


def adam_train(
    params: Params,
    data: torch.Tensor,
    loss: Callable[[Params, torch.Tensor], torch.Tensor],
    *,
    epochs: int,
    batch_size: int,
    lr: float,
    generator: Any,
) -> Params:
    """Train ``params`` in place by minibatch Adam for ``epochs`` passes over ``data`` (S, m, ...):
    each epoch visits every sample once in an order shuffled independently per seed. ``loss``
    returns the sum over seeds of each seed's mean loss on a minibatch (S, b, ...)."""
    S, m = data.shape[0], data.shape[1]
    leaves = [v.requires_grad_(True) for v in params.values()]
    try:  # the fused kernel: one pass over all tensors per step (elementwise, still per seed)
        opt = torch.optim.Adam(leaves, lr=lr, fused=True)
    except (RuntimeError, TypeError):
        opt = torch.optim.Adam(leaves, lr=lr)
    rows = torch.arange(S, device=data.device)[:, None]
    for _ in range(epochs):
        order = torch.argsort(torch.rand((S, m), generator=generator, device=data.device), dim=1)
        for start in range(0, m, batch_size):
            batch = data[rows, order[:, start : start + batch_size]]
            opt.zero_grad(set_to_none=True)
            loss(params, batch).backward()
            opt.step()
    for v in params.values():
        v.requires_grad_(False)
    return params
