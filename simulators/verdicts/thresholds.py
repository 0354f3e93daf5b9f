"""The named parameters of the verdict rules: error rates, margins and minimum effects.

Every number a verdict depends on is a field of :class:`Thresholds`, validated, printed by
``mcatlas profile`` and shown on the atlas's methodology page. The docstring of each field says
why its default is what it is, from the closed forms the simulators are tested against:

* Gaussian refitted by maximum likelihood under ``replace`` (Shumailov et al., arXiv 2305.17493):
  the log variance is a random walk whose drift per iteration is
  E log(chi2_{n-1} / n) = digamma((n-1)/2) + log(2/n), about -2/n
  (``tests/test_sim_theory.py``).
* Iterated least squares (Gerstgrasser et al., arXiv 2404.01413): with E1 the excess risk of the
  first fit, the risk at iteration t is t E1 under ``replace`` and E1 sum_{k<=t} 1/k^2 under
  ``accumulate`` (at most pi^2/6 E1: +25% at t = 2, +64% in the limit).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from simulators.errors import UserError


class Thresholds(BaseModel):
    """The parameters of the verdict rules (see :mod:`simulators.verdicts`)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    # -- error rates ---------------------------------------------------------------------------
    ci_level: float = Field(
        0.95, gt=0, lt=1,
        description="family-wise confidence of a profile: with the Bonferroni correction every "
        "rule's interval has level 1 - (1 - ci_level) / m, m the number of rules the run can test",
    )
    multiplicity: Literal["bonferroni", "none"] = Field(
        "bonferroni",
        description="how the rules of one profile share the error rate: 'bonferroni' (the "
        "family-wise rate over all definitions is at most 1 - ci_level) or 'none' (each rule "
        "at ci_level)",
    )
    min_stability: float = Field(
        0.8, ge=0.5, lt=1,
        description="a conclusive verdict must be reached by at least this share of bootstrap "
        "replicates of the seed set (its estimated reproducibility); otherwise it is inconclusive "
        "(fragile). 0.8 asks the deciding bound to clear its boundary by 0.84 bootstrap standard "
        "errors, the conventional 80% power of a replicate run",
    )
    resamples: int = Field(
        4000, ge=200, le=100_000,
        description="seed-bootstrap resamples (with 7 rules at a family-wise 95% each tail "
        "holds 0.36% of them: 14 at the default)",
    )
    bootstrap_seed: int = Field(0, ge=0, description="seed of the bootstrap's random generator")

    # -- trends --------------------------------------------------------------------------------
    horizon: int = Field(
        1000, ge=1,
        description="iterations over which the late trend of a run is extrapolated to judge "
        "whether it is of practical size: a decline or growth that would not reach the rule's "
        "effect within this many further iterations is not collapse of practical size. For the "
        "Gaussian under replace (log-variance drift about -2/n per iteration) the variance "
        "margin log(1/variance_floor)/horizon = 0.0023 per iteration is the drift at n of about "
        "870",
    )
    trend_min_iterations: int = Field(
        8, ge=8,
        description="trend tests need at least this many iterations (windows of a quarter of "
        "the run need two points); shorter runs can show collapse by level but never "
        "no-collapse, since a level reached quickly says nothing of where a trend goes",
    )
    trend_decay_exponent: float = Field(
        1.0, gt=0,
        description="a trend levels off when its growth over the last doubling of the run is "
        "significantly below what increments decaying like t^-p give (p = 1: logarithmic "
        "growth, the boundary between divergence and a plateau)",
    )
    max_checkpoints: int = Field(
        200, ge=2,
        description="at most this many run prefixes are tested for the iteration a verdict was "
        "reached (a fixed-sequence procedure from T backwards: no further correction)",
    )

    # -- population risk -----------------------------------------------------------------------
    risk_increase_min: float = Field(
        0.1, gt=0,
        description="any-risk-increase: the smallest increase of the excess risk, relative to "
        "the first fit's, that counts (collapse needs it; no-collapse needs the interval below "
        "it). 0.1 is below the +25% that one accumulated synthetic round adds to least squares, "
        "so accumulate is called collapse under this weakest definition once measured well",
    )
    divergence_min: float = Field(
        1.0, gt=0,
        description="diverging-risk: the late growth must be able to add at least this many "
        "times the first fit's excess risk within the horizon. Replace least squares adds E1 "
        "per iteration (1000 E1 over the horizon); accumulate's late increments E1/t^2 add "
        "less than E1 over 1000 iterations once t > 32",
    )
    catastrophic_gap: float = Field(
        0.9, gt=0, le=1,
        description="catastrophic-risk collapse: the interval of the share of the gap from the "
        "first fit's risk to the trivial baseline closed at T lies above this",
    )
    catastrophic_margin: float = Field(
        0.5, gt=0, lt=1,
        description="catastrophic-risk no-collapse: the interval of the gap closed lies below "
        "this (nearer the first fit than the useless model) and the late trend does not head "
        "for catastrophic_gap within the horizon",
    )
    catastrophic_inf_min: float = Field(
        0.1, gt=0, le=1,
        description="catastrophic-risk by infinite risk: at least this share of seeds whose "
        "risk became infinite after iteration 1 (significantly above zero)",
    )

    # -- distribution --------------------------------------------------------------------------
    variance_floor: float = Field(
        0.1, gt=0, lt=1,
        description="collapsing-variance: a median variance ratio whose interval lies below "
        "this has collapsed (90% of the spread lost); no-collapse needs the interval above it",
    )
    tail_loss_min: float = Field(
        0.5, gt=0, lt=1,
        description="tail-disappearance: the smallest share of the first fit's tail mass whose "
        "loss counts. For a one-dimensional Gaussian, half of the mass beyond the truth's "
        "central 99% goes when the variance falls by about 18%",
    )
    hallucination_increase_min: float = Field(
        0.01, gt=0, lt=1,
        description="hallucinated-data: the smallest rise of the median hallucinated mass that "
        "counts: 1% of the model's samples newly where real data have (near) zero density, ten "
        "and twenty times the resolution of the kde (1000 draws) and gmm (2000 draws) estimates",
    )
    overlap_increase_min: float = Field(
        0.05, gt=0, lt=1,
        description="mode-entanglement: the smallest rise of the median mode overlap that "
        "counts (5 points; real digits are ambiguous to the vae family's classifier about 3% "
        "of the time)",
    )
    scaling_exponent_tolerance: float = Field(
        0.1, gt=0,
        description="scaling-law-change: an exponent difference of practical size: collapse "
        "needs the point estimate beyond it (and the interval away from 0), no-collapse the "
        "whole interval inside (-tol, tol). A change of 0.1 changes the risk at 100 times the "
        "data by a factor 10^0.2 = 1.6",
    )

    @model_validator(mode="after")
    def _resolution(self) -> Thresholds:
        # A condition far past its threshold sits at the bootstrap's last normal score,
        # Phi^-1(1 - 0.5/R); it must still count as stable with all 8 rules tested.
        from scipy.stats import norm

        need = norm.ppf(0.5 + self.level(8) / 2) + norm.ppf(self.min_stability)
        if norm.ppf(1 - 0.5 / self.resamples) < need:
            least = math.ceil(0.5 / norm.sf(need))
            raise ValueError(f"resamples {self.resamples} cannot resolve a stable verdict at "
                             f"this ci_level and min_stability; use at least {least}")
        return self

    def level(self, tests: int) -> float:
        """The two-sided level of each rule's interval when a profile runs ``tests`` rules."""
        if self.multiplicity == "none" or tests <= 1:
            return self.ci_level
        return 1.0 - (1.0 - self.ci_level) / tests

    @property
    def variance_effect(self) -> float:
        """log(1/variance_floor): the fall of the log variance ratio that is collapse."""
        return -math.log(self.variance_floor)

    @property
    def tail_effect(self) -> float:
        """-log(1 - tail_loss_min): the fall of the log tail-mass ratio that counts."""
        return -math.log(1.0 - self.tail_loss_min)


def thresholds_from(value: Thresholds | Mapping[str, Any] | None) -> Thresholds:
    """A :class:`Thresholds` from itself, a mapping of overrides, or None (the defaults)."""
    if value is None:
        return Thresholds()
    if isinstance(value, Thresholds):
        return value
    try:
        return Thresholds(**dict(value))
    except ValidationError as exc:
        err = exc.errors()[0]
        where = ".".join(str(p) for p in err["loc"]) or "thresholds"
        raise UserError(f"threshold {where}: {err['msg']}") from None


__all__ = ["Thresholds", "thresholds_from"]
