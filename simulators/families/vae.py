"""``vae``: a variational autoencoder trained on real 8x8 digits, then on its own samples.

Truth: scikit-learn's bundled digits (:mod:`simulators.neural.digits`: integer pixels 0..16,
fixed train / held-out split), reweighted so that the classes have Zipf frequencies: class c has
probability proportional to (c + 1)^-``class_skew`` (``class_skew`` = 0: the data's own, nearly
uniform, class balance), which gives the real distribution genuinely rare classes whose loss can
be observed. A real sample draws training-pool images i.i.d. with these class weights (uniform
within a class). The *tail classes* are the ``TAIL_CLASSES`` classes of smallest weight (ties go
to the higher digits, so with ``class_skew`` = 0 they are 7, 8, 9).

Model: per seed an MLP VAE (64 -> ``width`` -> Gaussian posterior in ``latent`` dimensions ->
``width`` -> 64), with a seed axis on every weight (S seeds train as one batched model), trained by
minibatch Adam (``lr``, ``batch_size``) on the negative ELBO for ``epochs`` passes over the
training set, re-initialised every iteration (as Alemohammad et al., arXiv 2307.01850, retrain
each generation). Likelihood: each pixel value v in 0..16 is Binomial(16, p) with p = sigmoid of
the decoder's output, a proper distribution on the data's own integer values, so the NLL is in
nats per image and synthetic images (decode z ~ N(0, I), draw each pixel from its binomial) live
in exactly the space of the real ones.

Metrics (generated quantities use ``eval_samples`` images per seed and importance samples drawn
from the family's measurement generator, re-created at every measurement: common random numbers,
so trajectories move only when the models do):

``population_risk``   the importance-weighted bound (IWAE, Burda et al., arXiv 1509.00519) with
                      ``iw_samples`` samples on the NLL of the held-out digits, averaged under the
                      real class weights (nats per image; an upper bound on the true NLL that
                      tightens as ``iw_samples`` grows).
``variance_ratio``    sum over pixels of the generated images' variance / the same for the real
                      distribution (the training pool under the class weights).
``tail_mass_ratio``   share of generated images whose classifier *argmax* is a tail class, among
                      the generated images the classifier can place (top probability >=
                      ``UNPLACEABLE``), / the same share on held-out real images weighted by the
                      real class weights (the classifier's own bias cancels; 1 = tail classes as
                      common as in the real data). 0 when no generated image can be placed (no
                      recognisable tail digit). Decision: hard argmax, not the mean *soft*
                      probability of the tail classes: as generated digits blur, soft
                      probabilities flatten towards uniform and the soft mass on the tail
                      classes rises towards 3/10 even though no more tail digits are made
                      (measured: about 0.3 above the argmax version), overstating tail coverage.
``mode_overlap``      share of generated images whose top-2 classifier probabilities are within
                      ``AMBIGUOUS_MARGIN`` of each other (between two classes).
``hallucinated_mass`` share of generated images whose top classifier probability is below
                      ``UNPLACEABLE``: images the classifier cannot place in any class.

The classifier is a logistic regression fitted once per process on the real training pool
(held-out accuracy about 0.98). For reference, on held-out real digits about 3% are ambiguous and
about 2% unplaceable by these rules.

Backend: torch (``device`` cpu or cuda).
"""

from __future__ import annotations

import math
from typing import Any, Mapping

from pydantic import Field

from ..base import TAIL_CLASSES, UNPLACEABLE, Batch, Family, FamilyParams, Summary
from ..registry import register

AMBIGUOUS_MARGIN = 0.2  #: top-2 classifier probabilities closer than this: between two classes
EVAL_CHUNK = 64  #: held-out images per IWAE chunk (memory of measure)


class VAEParams(FamilyParams):
    n: int = Field(500, ge=1, description="images per iteration")
    epochs: int = Field(20, ge=1, description="passes over the training set per iteration")
    latent: int = Field(8, ge=1, le=256, description="latent dimensions")
    width: int = Field(64, ge=2, le=4096, description="hidden units of encoder and decoder")
    lr: float = Field(3e-3, gt=0, description="Adam learning rate")
    batch_size: int = Field(64, ge=1, description="images per Adam step")
    class_skew: float = Field(1.0, ge=0, description="class c has real weight (c+1)^-class_skew")
    iw_samples: int = Field(64, ge=1, description="importance samples of the IWAE bound")
    eval_samples: int = Field(1000, ge=2, description="generated images per seed for the metrics")


def class_weights(skew: float) -> list[float]:
    """Real class probabilities (c + 1)^-skew, normalised."""
    from ..neural.digits import CLASSES

    w = [(c + 1) ** (-skew) for c in range(CLASSES)]
    return [v / sum(w) for v in w]


def tail_classes(weights: list[float]) -> list[int]:
    """The TAIL_CLASSES classes of smallest weight (ties: higher digit first)."""
    return sorted(sorted(range(len(weights)), key=lambda c: (weights[c], -c))[:TAIL_CLASSES])


@register
class VAE(Family):
    """Batched MLP VAEs with a binomial pixel likelihood, on the bundled 8x8 digits."""

    name = "vae"
    #: per-sample cost relative to the classical families (measured: about 4e-4 s per sample-iteration on one CPU core, ~300x the classical families)
    relative_cost = 300.0
    Params = VAEParams
    metrics = ("population_risk", "variance_ratio", "tail_mass_ratio", "hallucinated_mass", "mode_overlap")
    backend = "torch"
    additive = False
    pure_sample = True
    summary_line = "MLP VAE on scikit-learn's 8x8 digits (binomial pixels), IWAE risk, classifier coverage"

    def build(self, rng: Any) -> None:
        params, device = self.params, self.device
        import torch

        from ..neural import digits

        data = digits.load()
        weights = class_weights(params.class_skew)
        self.tail = tail_classes(weights)
        w = torch.tensor(weights, dtype=torch.float64)

        def example_weights(y: Any) -> Any:
            y = torch.as_tensor(y)
            counts = torch.bincount(y, minlength=digits.CLASSES).double()
            return (w / counts)[y]  # sums to 1: class weight split evenly within the class

        self.x_train = torch.as_tensor(data.x_train, device=device)
        self.train_weights = example_weights(data.y_train).float().to(device)
        self.x_held = torch.as_tensor(data.x_held, device=device)
        self.held_weights = example_weights(data.y_held).to(device)  # float64
        coef, bias = digits.classifier()
        self.clf_w = torch.as_tensor(coef, device=device)
        self.clf_b = torch.as_tensor(bias, device=device)
        self.levels = float(digits.LEVELS)
        # log binomial coefficients of the held-out images (constant part of the likelihood)
        lv = torch.tensor(self.levels + 1.0, dtype=torch.float64)
        xh = self.x_held.double()
        self.held_logcomb = (torch.lgamma(lv) - torch.lgamma(xh + 1) - torch.lgamma(lv - xh)).sum(-1).to(device)
        # real references: pixel variance (weighted, centred) and tail probability
        wt = self.train_weights.double()[:, None]
        xt = self.x_train.double()
        mean = (wt * xt).sum(0)
        self.real_variance = float((wt * (xt - mean) ** 2).sum())
        probs = self._classify(self.x_held[None]).double()
        self.real_tail = float(self._tail_share(probs, self.held_weights[None])[0])

    # ------------------------------------------------------------------ helpers

    def _classify(self, x: Any) -> Any:
        import torch

        return torch.softmax(x / self.levels @ self.clf_w + self.clf_b, dim=-1)

    def _tail_share(self, probs: Any, weights: Any | None = None) -> Any:
        """Weighted share of placeable images (top probability >= UNPLACEABLE) whose argmax is a
        tail class, per seed: probs (S, N, classes), weights (S, N) or None (equal); 0 when no
        image is placeable."""
        import torch

        top, label = probs.max(dim=-1)
        placeable = (top >= UNPLACEABLE).double()
        in_tail = torch.isin(label, torch.as_tensor(self.tail, device=label.device)).double()
        w = placeable if weights is None else placeable * weights
        total = w.sum(-1)
        return torch.where(total > 0, (w * in_tail).sum(-1) / total.clamp_min(1e-300), torch.zeros_like(total))

    def _tail_mass_ratio(self, probs: Any) -> Any:
        """``tail_mass_ratio`` of generated images' classifier probabilities (S, N, classes)."""
        return self._tail_share(probs) / self.real_tail

    def _log_likelihood(self, logits: Any, x: Any) -> Any:
        """log Binomial(x; 16, sigmoid(logits)) summed over pixels, without the binomial
        coefficient (a constant of the data)."""
        import torch.nn.functional as F

        # x log s(l) + (16 - x) log s(-l) = x l - 16 softplus(l): one transcendental per pixel
        return (x * logits - self.levels * F.softplus(logits)).sum(-1)

    def _loss(self, p: Any, x: Any, generator: Any) -> Any:
        import torch

        from ..neural import batched

        mu, logvar = batched.vae_encode(p, x / self.levels)
        eps = torch.randn(mu.shape, generator=generator, device=mu.device)
        z = mu + torch.exp(0.5 * logvar) * eps
        rec = self._log_likelihood(batched.vae_decode(p, z), x)
        kl = 0.5 * (mu**2 + logvar.exp() - 1.0 - logvar).sum(-1)
        return (kl - rec).mean(dim=1).sum()

    # ------------------------------------------------------------------ the contract

    def real(self, n: int, rng: Any) -> Batch:
        import torch

        idx = torch.multinomial(self.train_weights.expand(self.seeds, -1), n, replacement=True, generator=rng)
        return {"x": self.x_train[idx]}

    def fit(self, summary: Summary, previous: Any, rng: Any) -> Any:
        from ..neural import batched

        p = self.params
        params = batched.vae_init(self.seeds, self.x_train.shape[1], p.latent, p.width, rng, self.device)
        return batched.fit(params, summary["x"], lambda q, x: self._loss(q, x, rng), p, rng, self.device)

    def _generate(self, model: Any, n: int, generator: Any) -> Any:
        import torch

        from ..neural import batched

        z = torch.randn((self.seeds, n, self.params.latent), generator=generator, device=self.device)
        probs = torch.sigmoid(batched.vae_decode(model, z))
        return torch.binomial(torch.full_like(probs, self.levels), probs, generator=generator)

    def sample(self, model: Any, n: int, rng: Any) -> Batch:
        import torch

        from ..neural import batched

        with torch.no_grad(), batched.cpu_threads(self.device):
            return {"x": self._generate(model, n, rng)}

    def measure(self, model: Any, metrics: tuple[str, ...]) -> Mapping[str, Any]:
        import torch

        from ..neural import batched

        p = self.params
        gen = self.measurement_rng()
        out: dict[str, Any] = {}
        with torch.no_grad(), batched.cpu_threads(self.device):
            if "population_risk" in metrics:
                out["population_risk"] = self._iwae_nll(model, gen)
            x = self._generate(model, p.eval_samples, gen)
            probs = self._classify(x)
            top = probs.topk(2, dim=-1).values
            out["variance_ratio"] = x.double().var(dim=1, unbiased=False).sum(-1) / self.real_variance
            out["tail_mass_ratio"] = self._tail_mass_ratio(probs)
            out["mode_overlap"] = ((top[..., 0] - top[..., 1]) < AMBIGUOUS_MARGIN).double().mean(1)
            out["hallucinated_mass"] = (top[..., 0] < UNPLACEABLE).double().mean(1)
        return {m: out[m] for m in metrics}

    def _iwae_nll(self, model: Any, gen: Any) -> Any:
        """-log (1/K sum_k p(x, z_k) / q(z_k | x)) per held-out image, weighted by class, (S,)."""
        import torch

        from ..neural import batched

        K, S, d = self.params.iw_samples, self.seeds, self.params.latent
        total = torch.zeros(S, dtype=torch.float64, device=self.device)
        log2pi = math.log(2 * math.pi)
        for start in range(0, len(self.x_held), EVAL_CHUNK):
            x = self.x_held[start : start + EVAL_CHUNK]
            m = x.shape[0]
            mu, logvar = batched.vae_encode(model, (x / self.levels).expand(S, -1, -1))
            eps = torch.randn((S, m, K, d), generator=gen, device=self.device)
            z = mu[:, :, None] + torch.exp(0.5 * logvar)[:, :, None] * eps
            logits = batched.vae_decode(model, z.reshape(S, m * K, d)).view(S, m, K, -1)
            log_px = self._log_likelihood(logits, x[None, :, None, :])
            log_pz = -0.5 * (z**2 + log2pi).sum(-1)
            log_qz = -0.5 * (eps**2 + log2pi + logvar[:, :, None]).sum(-1)
            bound = torch.logsumexp((log_px + log_pz - log_qz).double(), dim=2) - math.log(K)
            bound = bound + self.held_logcomb[start : start + m]
            total -= (bound * self.held_weights[start : start + m]).sum(1)
        return total
