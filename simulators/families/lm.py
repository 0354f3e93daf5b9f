"""``lm``: a small transformer language model trained on a language whose probabilities are known.

Truth (default): the topic-switching Markov chain of :mod:`simulators.neural.source` over a
Zipf-distributed vocabulary of ``vocab`` tokens with ``topics`` topics (modes), rare tokens and
transitions of probability exactly zero. A sample is a sequence of ``seq_len`` tokens; ``n``
sequences per iteration. With ``corpus`` set, the truth is real text instead (see below).

Model: a decoder-only transformer (``layers`` blocks, ``width`` channels, ``heads`` heads; about
27k parameters at the defaults, which are sized for CI) per seed, with a seed axis on every weight: S seeds train as one
batched model (:mod:`simulators.neural.batched`), by minibatch Adam (``lr``, ``batch_size``) for
``epochs`` passes over the iteration's training set (so under ``accumulate`` an iteration costs
more as the pool grows, as in Gerstgrasser et al., arXiv 2404.01413). ``init``: ``scratch``
re-initialises every iteration (Kazdan et al., arXiv 2410.16713; Gerstgrasser et al.);
``continue`` starts from the previous iteration's weights (fresh Adam state), like Shumailov et
al.'s fine-tuning (arXiv 2305.17493). Synthetic sequences are sampled at ``temperature``.
Metrics describe the fitted network itself (temperature 1); ``temperature`` only shapes the
synthetic data that the next iteration trains on.

Metrics on the synthetic language (exact next-token expectations at the contexts of a fixed
sample of ``eval_sequences`` source sequences, the same for every seed, iteration and run, so
trajectories and policies are compared on common contexts; definitions in
:mod:`simulators.neural.source`): ``population_risk`` (cross-entropy per token, nats),
``kl_to_truth`` (= population_risk - the source's entropy rate on those contexts),
``entropy`` (the model's per-token entropy), ``tail_mass_ratio`` (mass on the source's rare
tokens relative to the source's), ``hallucinated_mass`` (mass on transitions the source never
makes), ``mode_overlap`` (mass on other topics' exclusive vocabularies) and ``variance_ratio``
(next-token Gini-Simpson diversity relative to the source's: output diversity, the quantity
Briesch et al. and Guo et al. track).

Real text (``corpus`` = ``builtin`` or a file path; :mod:`simulators.neural.corpus`): byte-level
tokens, ``vocab`` and ``topics`` are ignored, and real samples are random windows of the
training split. Only ``population_risk`` (cross-entropy per byte on held-out windows) and
``entropy`` (the model's per-byte entropy at those contexts) are defined; the metrics that need
the exact source (``CORPUS_MISSING``) are not reported for corpus runs: :meth:`LM.metrics_for`
says so, and the engine neither asks for them nor accepts them in ``metrics``.

Backend: torch (``device`` cpu or cuda). Randomness: initialisation, minibatch order and sampling
draw from the run's generator; the evaluation contexts come from the family's measurement
generator (:meth:`~simulators.base.Family.measurement_rng`).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Literal, Mapping

from pydantic import Field, model_validator

from ..base import Batch, Family, FamilyParams, Summary
from ..neural import min_vocab
from ..registry import register

#: metrics that need the exact source, absent from corpus runs
CORPUS_MISSING = ("kl_to_truth", "tail_mass_ratio", "hallucinated_mass", "mode_overlap", "variance_ratio")
#: upper bound on S * sequences * seq_len * vocab per evaluation chunk (memory of measure)
EVAL_CHUNK_ELEMENTS = 1 << 22
#: seed of the evaluation sample's generator (fixed: the same contexts for every run)


class LMParams(FamilyParams):
    vocab: int = Field(32, ge=8, le=4096, description="tokens of the synthetic language (ignored with corpus)")
    topics: int = Field(3, ge=2, le=64, description="topics (modes) of the synthetic language")
    seq_len: int = Field(16, ge=2, le=1024, description="tokens per sequence")
    n: int = Field(128, ge=1, description="sequences per iteration")
    epochs: int = Field(8, ge=1, description="passes over the training set per iteration")
    width: int = Field(32, ge=4, le=4096, description="transformer width")
    layers: int = Field(2, ge=1, le=48, description="transformer blocks")
    heads: int = Field(2, ge=1, description="attention heads (divides width)")
    temperature: float = Field(1.0, gt=0, description="sampling temperature of the synthetic data")
    init: Literal["scratch", "continue"] = Field("scratch", description="re-initialise or fine-tune each iteration")
    corpus: str | None = Field(None, description="None (synthetic language) | builtin | path of a text file")
    lr: float = Field(1e-2, gt=0, description="Adam learning rate")
    batch_size: int = Field(16, ge=1, description="sequences per Adam step")
    eval_sequences: int = Field(256, ge=1, description="source (or held-out) sequences the metrics use")

    @model_validator(mode="after")
    def _check(self) -> "LMParams":
        if self.width % self.heads:
            raise ValueError(f"width ({self.width}) must be a multiple of heads ({self.heads})")
        if self.corpus is None and self.vocab < min_vocab(self.topics):
            raise ValueError(f"vocab must be at least {min_vocab(self.topics)} for {self.topics} topics")
        if self.corpus not in (None, "builtin") and not Path(self.corpus).expanduser().is_file():
            raise ValueError(f"corpus file not found: {self.corpus}")
        return self


@register
class LM(Family):
    """A batched small transformer on a synthetic language with exact probabilities (or on text)."""

    name = "lm"
    #: per-sample cost relative to the classical families (measured: about 5e-3 s per sample-iteration on one CPU core, thousands of times the classical families)
    relative_cost = 3000.0
    Params = LMParams
    metrics = ("population_risk", "kl_to_truth", "entropy", "variance_ratio", "tail_mass_ratio",
               "hallucinated_mass", "mode_overlap")
    backend = "torch"
    additive = False
    pure_sample = True
    summary_line = "small transformer LM on a topic Markov language with exact probabilities (or real text)"

    @classmethod
    def metrics_for(cls, params: LMParams) -> tuple[str, ...]:
        """The metrics a run with ``params`` reports (corpus runs lack the exact-source ones)."""
        if params.corpus is None:
            return cls.metrics
        return tuple(m for m in cls.metrics if m not in CORPUS_MISSING)

    def build(self, rng: Any) -> None:
        params, device = self.params, self.device
        import torch

        self.available = self.metrics_for(params)
        eval_gen = self.measurement_rng()
        if params.corpus is None:
            from ..neural.source import TopicMarkovSource

            self.source = TopicMarkovSource(params.vocab, params.topics, params.seq_len, device)
            self.vocab = params.vocab
            from ..neural.batched import cpu_threads

            with cpu_threads(device):
                self.contexts = self.source.contexts(params.eval_sequences, eval_gen)
            self.eval_x = self.contexts.x
        else:
            from ..errors import UserError
            from ..neural.corpus import load

            try:
                text = load(params.corpus, params.seq_len)
            except (OSError, ValueError) as exc:
                raise UserError(f"lm: corpus: {exc}") from None
            self.source = None
            self.vocab = len(text.alphabet)
            self.train_text = torch.as_tensor(text.train, device=device)
            windows = len(text.held_out) // params.seq_len
            count = min(windows, params.eval_sequences)
            starts = (torch.arange(count, device=device) * (windows // count)) * params.seq_len
            held = torch.as_tensor(text.held_out, device=device)
            self.eval_x = held[starts[:, None] + torch.arange(params.seq_len, device=device)]

    # ------------------------------------------------------------------ the contract

    def real(self, n: int, rng: Any) -> Batch:
        import torch

        from ..neural import batched

        L = self.params.seq_len
        if self.source is not None:
            with batched.cpu_threads(self.device):
                return {"x": self.source.sample((self.seeds, n), rng)}
        high = len(self.train_text) - L + 1
        starts = torch.randint(0, high, (self.seeds, n), generator=rng, device=self.device)
        return {"x": self.train_text[starts[..., None] + torch.arange(L, device=self.device)]}

    def fit(self, summary: Summary, previous: Any, rng: Any) -> Any:
        from ..neural import batched

        p = self.params
        if p.init == "continue" and previous is not None:
            params = batched.clone(previous)
        else:
            params = batched.transformer_init(self.seeds, self.vocab, p.seq_len, p.width, p.layers, rng, self.device)
        heads = p.heads
        return batched.fit(params, summary["x"], lambda q, x: batched.lm_loss(q, x, heads), p, rng, self.device)

    def sample(self, model: Any, n: int, rng: Any) -> Batch:
        from ..neural import batched

        p = self.params
        with batched.cpu_threads(self.device):
            return {"x": batched.lm_sample(model, n, p.seq_len, p.heads, p.temperature, rng)}

    def measure(self, model: Any, metrics: tuple[str, ...]) -> Mapping[str, Any]:
        from ..neural import batched

        with batched.cpu_threads(self.device):
            return self.measure_log_probs(self._log_prob_chunks(model), metrics)

    # ------------------------------------------------------------------ metrics

    def _log_prob_chunks(self, model: Any):
        """Yield (rows, log q) over chunks of the evaluation sequences; log q is (S, e, L, V)."""
        from ..neural import batched

        E, L = self.eval_x.shape
        step = max(1, EVAL_CHUNK_ELEMENTS // (self.seeds * L * self.vocab))
        for start in range(0, E, step):
            rows = slice(start, min(E, start + step))
            yield rows, batched.lm_log_probs(model, self.eval_x[rows].unsqueeze(0), self.params.heads)

    def measure_log_probs(self, chunks: Any, metrics: tuple[str, ...]) -> dict[str, Any]:
        """Metrics of a model given by its log-probabilities at the evaluation contexts, as
        (rows, log q) chunks (split from ``measure`` so tests can plug in known models)."""
        import torch

        if self.source is not None:
            from ..neural.source import MetricSums, add_chunk, finish

            acc = MetricSums()
            for rows, logq in chunks:
                add_chunk(acc, logq, self.contexts, rows, self.source.rare)
            out = finish(acc)
        else:
            ce = ent = None
            count = 0
            for rows, logq in chunks:
                target = self.eval_x[rows].expand(logq.shape[0], -1, -1).unsqueeze(-1)
                c = -logq.gather(-1, target).squeeze(-1).double().sum((1, 2))
                q = logq.exp()
                h = -torch.where(q > 0, q * logq, torch.zeros_like(q)).double().sum((1, 2, 3))
                ce, ent = (c, h) if ce is None else (ce + c, ent + h)
                count += logq.shape[1] * logq.shape[2]
            out = {"population_risk": ce / count, "entropy": ent / count}
        return {m: out[m] for m in metrics}
