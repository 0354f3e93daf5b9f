"""The ``vae`` family: data, the IWAE risk on a hand-computable model, classifier metrics, the loop."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from helpers import assert_seeded

import simulators
from simulators.engine import make_rng
from simulators.families.vae import VAE, VAEParams, class_weights, tail_classes
from simulators.neural import batched, digits

TINY = dict(n=64, epochs=1, latent=2, width=8, iw_samples=4, eval_samples=50)


@pytest.fixture(scope="module")
def family() -> VAE:
    return VAE(VAEParams(latent=3, width=8, iw_samples=8, eval_samples=4000), 1, make_rng([0], "torch"))


def test_split_and_tail_classes():
    d = digits.load()
    assert len(d.y_held) == digits.HELD_OUT and len(d.y_train) + len(d.y_held) == 1797
    assert d.x_train.max() == 16 and d.x_train.min() == 0
    assert tail_classes(class_weights(1.0)) == [7, 8, 9]
    assert tail_classes(class_weights(0.0)) == [7, 8, 9]  # ties go to the higher digits
    assert sum(class_weights(2.0)) == pytest.approx(1.0)


def test_real_samples_follow_the_class_weights(family):
    d = digits.load()
    lookup = {row.tobytes(): y for row, y in zip(d.x_train, d.y_train)}
    x = family.real(6000, torch.Generator().manual_seed(0))["x"][0].numpy()
    labels = np.array([lookup[row.tobytes()] for row in x])
    freq = np.bincount(labels, minlength=10) / len(labels)
    w = np.array(class_weights(1.0))
    assert np.all(np.abs(freq - w) < 5 * np.sqrt(w * (1 - w) / len(labels)))  # 5 standard errors


def _constant_model(family: VAE, logit: float):
    """A VAE whose decoder ignores z (every pixel Binomial(16, sigmoid(logit))) and whose
    encoder returns the prior: importance weights are exactly p(x), so the IWAE bound is exact."""
    p = batched.vae_init(1, 64, family.params.latent, family.params.width, torch.Generator().manual_seed(0), "cpu")
    for k in p:
        p[k].zero_()
    p["out.b"].fill_(logit)
    return p


def test_iwae_risk_is_exact_for_a_model_that_ignores_z(family):
    from scipy.stats import binom

    logit = -0.7
    model = _constant_model(family, logit)
    risk = float(family.measure(model, ("population_risk",))["population_risk"][0])
    d = digits.load()
    prob = 1.0 / (1.0 + np.exp(-logit))
    nll = -binom.logpmf(d.x_held, 16, prob).sum(axis=1)
    w = np.array(class_weights(1.0))
    counts = np.bincount(d.y_held, minlength=10)
    expected = float(np.sum(nll * (w / counts)[d.y_held]))
    assert risk == pytest.approx(expected, rel=1e-5)


def test_variance_ratio_of_a_model_that_ignores_z(family):
    logit = 0.3
    model = _constant_model(family, logit)
    prob = 1.0 / (1.0 + np.exp(-logit))
    expected = 64 * 16 * prob * (1 - prob) / family.real_variance
    got = float(family.measure(model, ("variance_ratio",))["variance_ratio"][0])
    # 4000 draws: the sample variance of each binomial pixel has relative sd about sqrt(2/4000)
    assert got == pytest.approx(expected, rel=0.03)


def test_classifier_metrics_of_a_blank_image(family):
    # a blank image (all pixels 0) is one input: every sample lands on the same class, so the
    # shares are 0 or 1 and the tail ratio is that class's tail probability / the real one
    blank = family.measure(_constant_model(family, -30.0), ("hallucinated_mass", "mode_overlap", "tail_mass_ratio"))
    probs = family._classify(torch.zeros(1, 1, 64))[0, 0]
    top = probs.topk(2).values
    assert float(blank["hallucinated_mass"][0]) == float(top[0] < 0.5)
    assert float(blank["mode_overlap"][0]) == float(top[0] - top[1] < 0.2)
    # argmax share: every sample is the same image, so the share is 1 (placed in a tail class)
    # or 0 (placed elsewhere, or unplaceable)
    placed_in_tail = bool(top[0] >= 0.5) and int(probs.argmax()) in family.tail
    expected = float(placed_in_tail) / family.real_tail
    assert float(blank["tail_mass_ratio"][0]) == pytest.approx(expected, rel=1e-5)


def test_tail_ratio_counts_argmax_not_soft_mass(family):
    """Blurred generations flatten the classifier's probabilities towards uniform: the soft
    probability on the 3 tail classes rises towards 3/10 although no more tail digits are made.
    The metric (argmax share among placeable images) must not rise.

    'Generated' images: 20000 held-out digits drawn with the real class weights (so the true
    ratio is 1), their probabilities mixed with uniform, p' = 0.8 p + 0.02 (argmax unchanged; the
    few images whose top probability drops below 0.5 leave the denominator). Tolerance: the
    tail share p ~ 0.12 of ~19000 placeable images has relative standard error
    sqrt((1 - p) / (p N)) ~ 0.02; 0.1 is 5 standard errors. The soft ratio is about 1.22 here."""
    d = digits.load()
    probs = family._classify(torch.as_tensor(d.x_held)[None]).double()
    idx = torch.multinomial(family.held_weights, 20000, replacement=True, generator=torch.Generator().manual_seed(0))
    blurred = 0.8 * probs[:, idx] + 0.02
    ratio = float(family._tail_mass_ratio(blurred)[0])
    assert abs(ratio - 1.0) < 0.1
    soft_real = float((family.held_weights * probs[0][:, family.tail].sum(-1)).sum())
    soft = float(blurred[..., family.tail].sum(-1).mean()) / soft_real
    assert soft > 1.15  # the soft version would have failed the assertion above
    # and fully flattened probabilities (nothing placeable) give 0, not a rising ratio
    assert float(family._tail_mass_ratio(torch.full((1, 10, 10), 0.1, dtype=torch.float64))[0]) == 0.0


def test_real_digits_are_placed_by_the_classifier(family):
    d = digits.load()
    probs = family._classify(torch.as_tensor(d.x_held)[None])[0]
    assert (probs.argmax(-1).numpy() == d.y_held).mean() > 0.95
    top = probs.topk(2, dim=-1).values
    assert float((top[:, 0] < 0.5).float().mean()) < 0.05


def test_same_seeds_same_frame_and_other_seeds_differ():
    frame = assert_seeded("vae", [3, 4], **TINY)
    assert set(frame["metric"]) == set(VAE.metrics)


def test_ci_size_run_and_fresh_policy():
    """3 seeds x 5 iterations at the CI defaults finish well under a minute; the first fit
    learns (its IWAE risk is far below the best per-pixel model that ignores z, about 250 nats)."""
    frame = simulators.run("vae", policy="replace", seeds=3, iterations=5)
    assert frame.attrs["wall_time"] < 60
    assert np.isfinite(frame["value"]).all()
    first = frame[(frame.metric == "population_risk") & (frame.iteration == 1)]["value"]
    assert (first < 170).all()
    fresh = simulators.run("vae", policy="fresh", real_fraction=0.5, seeds=2, iterations=2, **TINY)
    assert np.isfinite(fresh["value"]).all()


@pytest.mark.skipif(not torch.cuda.is_available(), reason="no CUDA GPU")
def test_cuda_runs_the_same_code():
    frame = simulators.run("vae", seeds=2, iterations=2, device="cuda", **TINY)
    assert np.isfinite(frame["value"]).all()
