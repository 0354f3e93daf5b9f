"""The synthetic language of the ``lm`` family: a topic-switching Markov chain with exact probabilities.

Structure (all fixed by ``vocab``, ``topics`` and a constant seed, so the language is the same for
every run and seed: it is the truth, not a random draw of the experiment)

- Tokens ``0 .. K-1`` are topic *markers*; emitting marker j switches the current topic to j.
  Every sequence starts with a marker drawn uniformly (position 0), so the topic is always known
  from the prefix: the state of the chain is (current topic, previous token), observed.
- The content tokens ``K .. V-1`` are ordered by a Zipf base frequency (rank r has weight
  r^-ZIPF_EXPONENT, token K + r - 1 has rank r) and dealt round-robin into K+1 groups: one
  *shared* vocabulary (function words) and K *exclusive* vocabularies, one per topic, each
  spanning frequent and rare ranks.
- Under topic k, the next token after token a has probability P_k[a, b] proportional to
  base(b) * g_{k,a,b} (g ~ Exponential(1)) over the shared and k-exclusive tokens, except that each
  such transition is forbidden (probability exactly 0) with probability ``SPARSITY`` (at least two
  content tokens stay allowed per row); marker j != k has probability ``SWITCH / (K-1)``; the
  current topic's own marker and the other topics' exclusive tokens have probability exactly 0.

Exact quantities
    ``conditionals(x)`` gives the source's next-token distribution p(. | x_<t) at every position of
    every sequence, so per-context expectations over the next token are exact and only the contexts
    are sampled. ``token_marginals()`` propagates the state distribution through ``seq_len``
    positions (exact), which defines the *rare* tokens: the least frequent content tokens whose
    total frequency (averaged over positions) is at most ``simulators.base.RARE_TOKEN_MASS``
    (at least one token).

Metrics (:func:`add_chunk` over chunks of contexts, then :func:`finish`): for a model q and the source p at the same contexts c (the
positions of a large fixed source sample), with means over contexts:

``population_risk``   mean_c sum_v p(v|c) (-log q(v|c)): the cross-entropy per token (nats), with
                      the expectation over the next token taken exactly (Rao-Blackwellised).
``kl_to_truth``       mean_c KL(p(.|c) || q(.|c)) = population_risk - H, H = mean_c H(p(.|c)) the
                      source's entropy rate estimated on the same contexts; computed directly as
                      sum p (log p - log q), so it is >= 0 per context and exactly 0 for q = p.
``tail_mass_ratio``   mean_c q(R|c) / mean_c p(R|c), R the rare tokens.
``hallucinated_mass`` mean_c q({v : p(v|c) = 0} | c): mass on transitions the source never makes.
``mode_overlap``      mean over contexts at positions >= 1 of q(E_other(c) | c), E_other(c) the
                      union of the exclusive vocabularies of the topics other than c's current
                      topic: topics bleeding into each other (0 for the source). It is the part of
                      ``hallucinated_mass`` that crosses topics.
``entropy``           mean_c H(q(.|c)): the model's per-token entropy at the source's contexts.
``variance_ratio``    mean_c (1 - sum_v q(v|c)^2) / mean_c (1 - sum_v p(v|c)^2): the trace of the
                      covariance of the one-hot next token under q relative to p (the
                      Gini-Simpson diversity, as the ``discrete`` family's); 0 when the model
                      has collapsed onto one continuation per context.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import torch

from ..base import RARE_TOKEN_MASS
from . import min_vocab

ZIPF_EXPONENT = 1.1  #: base frequency of content rank r is r^-ZIPF_EXPONENT
SPARSITY = 0.3  #: chance that an otherwise allowed content transition is forbidden (p = 0)
SWITCH = 0.05  #: probability of switching topic at each step (split over the other markers)
SOURCE_SEED = 20240521  #: fixes the language (the truth), independent of the run's seeds


@dataclass
class Contexts:
    """A fixed source sample and the source's exact quantities at each of its positions."""

    x: torch.Tensor  #: (E, L) int64 source sequences
    p: torch.Tensor  #: (E, L, V) source next-token probabilities
    logp: torch.Tensor  #: (E, L, V) log p, 0 where p = 0 (never used there)
    other: torch.Tensor  #: (E, L, V) bool: other topics' exclusive tokens (False at position 0)
    entropy: float  #: mean_c H(p(.|c)): the source's entropy rate on these contexts


class TopicMarkovSource:
    """The language (see the module docstring). Tensors live on ``device``."""

    def __init__(self, vocab: int, topics: int, seq_len: int, device: str = "cpu") -> None:
        if vocab < min_vocab(topics):
            raise ValueError(f"vocab must be at least {min_vocab(topics)} for {topics} topics")
        self.V, self.K, self.L, self.device = vocab, topics, seq_len, device
        rng = np.random.default_rng([SOURCE_SEED, vocab, topics])
        V, K = vocab, topics
        C = V - K
        ranks = np.arange(1, C + 1, dtype=np.float64)
        base = np.zeros(V)
        base[K:] = ranks ** (-ZIPF_EXPONENT)
        group = np.full(V, -2)  # -2 marker, -1 shared, k exclusive to topic k
        group[K:] = (np.arange(C) % (K + 1)) - 1  # rank 1 -> shared, rank 2 -> topic 0, ...
        self.group = group
        P = np.zeros((K, V, V))
        for k in range(K):
            allowed = (group == -1) | (group == k)
            for a in range(V):
                keep = allowed & (rng.random(V) >= SPARSITY)
                if keep.sum() < 2:  # keep the two most frequent allowed tokens
                    keep[np.flatnonzero(allowed)[:2]] = True
                w = base * rng.exponential(1.0, V) * keep
                P[k, a] = (1.0 - SWITCH) * w / w.sum()
                others = [j for j in range(K) if j != k]
                P[k, a, others] = SWITCH / len(others)
        self.P64 = P
        self.init64 = np.zeros(V)
        self.init64[:K] = 1.0 / K
        self.P = torch.as_tensor(P, dtype=torch.float32, device=device)
        self.init = torch.as_tensor(self.init64, dtype=torch.float32, device=device)
        exclusive = np.zeros((K, V), dtype=bool)  # exclusive[k]: tokens exclusive to topics != k
        for k in range(K):
            exclusive[k] = (group >= 0) & (group != k)
        self.other_exclusive = torch.as_tensor(exclusive, device=device)
        self.rare = torch.as_tensor(self._rare_tokens(), device=device)

    # ------------------------------------------------------------------ exact structure

    def token_marginals(self) -> np.ndarray:
        """Token frequencies averaged over positions 0..L-1 (exact state propagation)."""
        K, V = self.K, self.V
        state = np.zeros((K, V))  # state[k, a]: P(topic k, token a) at the current position
        state[np.arange(K), np.arange(K)] = 1.0 / K
        total = state.sum(axis=0)
        for _ in range(1, self.L):
            nxt = np.einsum("ka,kab->kb", state, self.P64)  # topic kept ...
            moved = np.zeros_like(nxt)
            moved[:, K:] = nxt[:, K:]
            moved[np.arange(K), np.arange(K)] += nxt[:, :K].sum(axis=0)  # ... unless a marker
            state = moved
            total += state.sum(axis=0)
        return total / self.L

    def _rare_tokens(self) -> np.ndarray:
        freq = self.token_marginals()
        content = np.arange(self.K, self.V)
        order = content[np.argsort(freq[content], kind="stable")]
        cum = np.cumsum(freq[order])
        count = max(1, int(np.searchsorted(cum, RARE_TOKEN_MASS, side="right")))
        mask = np.zeros(self.V, dtype=bool)
        mask[order[:count]] = True
        return mask

    # ------------------------------------------------------------------ sampling and scoring

    def sample(self, shape: tuple[int, ...], generator: Any) -> torch.Tensor:
        """Sequences of shape (*shape, L), int64, drawn from the source."""
        N = int(np.prod(shape))
        out = torch.empty((N, self.L), dtype=torch.long, device=self.device)
        tok = torch.multinomial(self.init.expand(N, -1), 1, generator=generator).squeeze(1)
        topic = tok.clone()
        out[:, 0] = tok
        for t in range(1, self.L):
            tok = torch.multinomial(self.P[topic, tok], 1, generator=generator).squeeze(1)
            topic = torch.where(tok < self.K, tok, topic)
            out[:, t] = tok
        return out.reshape(*shape, self.L)

    def topics_of(self, x: torch.Tensor) -> torch.Tensor:
        """Current topic at each position t (the last marker among x[..., :t]); -1 at t = 0."""
        topic = torch.full(x.shape, -1, dtype=torch.long, device=x.device)
        current = x[..., 0]
        for t in range(1, x.shape[-1]):
            topic[..., t] = current
            current = torch.where(x[..., t] < self.K, x[..., t], current)
        return topic

    def conditionals(self, x: torch.Tensor) -> torch.Tensor:
        """p(. | x_<t) at every position: shape (*x.shape, V), float32."""
        topic = self.topics_of(x)
        p = torch.empty((*x.shape, self.V), dtype=torch.float32, device=x.device)
        p[..., 0, :] = self.init
        p[..., 1:, :] = self.P[topic[..., 1:], x[..., :-1]]
        return p

    def log_prob(self, x: torch.Tensor) -> torch.Tensor:
        """Exact log-probability of each sequence (float64), shape x.shape[:-1]."""
        p = self.conditionals(x).double()
        return torch.log(p.gather(-1, x.unsqueeze(-1)).squeeze(-1)).sum(-1)

    def contexts(self, count: int, generator: Any) -> Contexts:
        """A fixed sample of ``count`` source sequences and the exact quantities at its positions."""
        x = self.sample((count,), generator)
        p = self.conditionals(x)
        logp = torch.where(p > 0, torch.log(p.clamp_min(1e-30)), torch.zeros_like(p))
        topic = self.topics_of(x)
        other = self.other_exclusive[topic.clamp_min(0)] & (topic >= 0).unsqueeze(-1)
        entropy = float(-(p.double() * logp.double()).sum(-1).mean())
        return Contexts(x=x, p=p, logp=logp, other=other, entropy=entropy)


class MetricSums:
    """Running sums over chunks of contexts (float64, per seed)."""

    def __init__(self) -> None:
        self.sums: dict[str, torch.Tensor] = {}
        self.count = 0  # contexts
        self.count_after_first = 0  # contexts at positions >= 1

    def add(self, key: str, value: torch.Tensor) -> None:
        self.sums[key] = self.sums[key] + value if key in self.sums else value


def add_chunk(acc: MetricSums, logq: torch.Tensor, ctx: Contexts, rows: slice, rare: torch.Tensor) -> None:
    """Accumulate the metric sums of model log-probabilities ``logq`` (S, e, L, V) at the contexts
    ``ctx`` restricted to sequences ``rows``. Elementwise work is float32, every reduction beyond
    the vocabulary axis float64."""
    p, logp, other = ctx.p[rows], ctx.logp[rows], ctx.other[rows]
    impossible = p == 0
    q = logq.exp()
    lq = logq.masked_fill(impossible, 0.0)  # p log q is 0 where p = 0, even if q = 0 there

    def total(x: torch.Tensor) -> torch.Tensor:  # (S, e, L) -> (S,) in float64
        return x.double().sum((1, 2))

    acc.add("ce", total(-(p * lq).sum(-1)))
    acc.add("kl", total((p * (logp - lq)).sum(-1)))
    acc.add("entropy", total(-torch.special.xlogy(q, q).sum(-1)))
    acc.add("tail_q", total(q[..., rare].sum(-1)))
    acc.add("tail_p", p[..., rare].sum(-1).double().sum())
    acc.add("hallucinated", total(q.masked_fill(~impossible, 0.0).sum(-1)))
    acc.add("overlap", total(q.masked_fill(~other, 0.0).sum(-1)))
    acc.add("gini_q", total(1.0 - (q * q).sum(-1)))
    acc.add("gini_p", (1.0 - (p * p).sum(-1)).double().sum())
    e, L = p.shape[0], p.shape[1]
    acc.count += e * L
    acc.count_after_first += e * (L - 1)


def finish(acc: MetricSums) -> dict[str, torch.Tensor]:
    """Per-seed metric values (float64, shape (S,)) from the accumulated sums."""
    s, n = acc.sums, acc.count
    return {
        "population_risk": s["ce"] / n,
        "kl_to_truth": s["kl"] / n,
        "entropy": s["entropy"] / n,
        "tail_mass_ratio": s["tail_q"] / s["tail_p"],
        "hallucinated_mass": s["hallucinated"] / n,
        "mode_overlap": s["overlap"] / max(acc.count_after_first, 1),
        "variance_ratio": s["gini_q"] / s["gini_p"],
    }


