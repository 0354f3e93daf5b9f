"""The contract between the model-fitting loop (``simulators.engine``) and a model family.

A *family* (``discrete``, ``gaussian``, ``lm``, ...) knows its truth, how to fit, how to sample
and how to measure. The *engine* owns the loop and the data policies. Every array carries a
leading seed axis of length S: one call handles all seeds, with no Python loop over seeds.

Batches
    A batch is a dict ``{name: array}`` whose arrays all have shape ``(S, m, ...)``: S seeds,
    m samples. The engine only ever slices (``[:, a:b]``), concatenates (along axis 1) and
    gathers (per-seed indices along axis 1) batches, so a family may carry anything per sample
    (regression carries its design rows ``x`` beside the labels ``y``). Arrays are numpy arrays
    for ``backend = "numpy"`` families and torch tensors for ``backend = "torch"`` ones.

Summaries
    ``summarize(batch)`` turns a batch into what ``fit`` consumes. For families with exact
    sufficient statistics (``additive = True``: Gaussian moments, discrete counts, regression
    normal equations) the summary is a dict of arrays with a leading seed axis, and summaries of
    disjoint batches *add* (``combine`` sums them), so ``accumulate`` keeps a running summary and
    its cost per iteration does not grow with the pool. Families without them (KDE, neural
    models) have ``additive = False``: the summary is the batch itself and the engine keeps the
    accumulated pool in preallocated arrays.

Iteration t (1-based) fits model t on the training set of iteration t; iteration 1 always fits on
n real samples (``n`` is a parameter of every family, declared here).

Measuring
    ``measure(model, metrics)`` returns exactly the requested metrics, each an array of shape
    (S,) of floats, and computes only what they need (families group metrics that share work).
    ``inf`` and ``nan`` are values, not errors: degenerate states are results. Where a family
    reads a metric off regions of the truth, the regions are the same for all: the truth's
    *tail* is its outermost :data:`TAIL_MASS` of probability (outside its central 99%), and the
    region where real data have (near) zero density, whose mass is *hallucinated*, is outside
    its central 1 - :data:`HALLUCINATION_MASS`.

Memory
    A family states what its arrays take, so that a run that cannot fit is refused before it
    allocates (:mod:`simulators.memory`): :meth:`Family.sample_bytes` (one sample of one seed
    in a batch), :meth:`Family.model_bytes` (one fitted model) and :meth:`Family.memory_bytes`
    (an upper bound on everything else the family holds at once: truth, held-out data, two
    models, summaries and the largest temporaries of summarize, fit, sample and measure). The
    data policy's batches and pool are the policy's (:meth:`simulators.policies.Policy.
    memory_bytes`). A family with ``pure_sample`` lets ``accumulate-subsample`` regenerate old
    samples from their model instead of keeping them (:mod:`simulators.policies`).

Randomness
    The engine creates one generator per run (``numpy.random.Generator`` or
    ``torch.Generator``) from the run's seeds and passes it to every call that draws. Same
    arguments and seeds give identical output.

    Measurement noise (Monte Carlo draws behind a metric: model samples for a region mass,
    importance samples for a bound) comes from one scheme: :meth:`Family.measurement_rng`, a
    generator seeded by :attr:`Family.measurement_seed`, which the base class draws from the
    run's generator when the family is built. It is re-created at every measurement, so the
    draws are the same at every iteration (common random numbers: a trajectory moves only when
    the model does), and families draw them per seed, so measurement error is independent
    across seeds and shows in the intervals across seeds instead of being shared by all.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from typing import Any, ClassVar, Mapping

from pydantic import BaseModel, ConfigDict, Field

Batch = dict[str, Any]
Summary = dict[str, Any]

# The regions of a truth that metrics read, for every family in one place.
#: the tail of a fine-grained truth (a density, a categorical distribution): its rarest 1% of
#: probability (outside its central 99%; at least one outcome)
TAIL_MASS = 0.01
#: outside its central 1 - HALLUCINATION_MASS region a truth has (near) no mass
HALLUCINATION_MASS = 1e-6
#: the tail of a language over a small vocabulary (lm): its least frequent tokens holding at most
#: 5% of the token frequency, since 1% would be a fraction of one token
RARE_TOKEN_MASS = 0.05
#: the tail of the digits (vae): its 3 classes of smallest weight, a tenth of the class count
#: rather than a mass, since one class already holds more than 1%
TAIL_CLASSES = 3
#: a generated digit whose top classifier probability is below this fits no class: hallucinated
UNPLACEABLE = 0.5


class FamilyParams(BaseModel):
    """Base class of every family's typed parameter model: unknown fields are errors.

    ``n`` is every family's sample size; a family redeclares it to change its default."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    n: int = Field(100, ge=1, description="samples per iteration")


class Family(ABC):
    """One model family. Subclasses set the class attributes and implement the methods."""

    #: registry name, also the ``simulator`` of a setup and ``mcatlas run NAME``
    name: ClassVar[str]
    #: typed parameters with defaults (validated, printed, hashed, changed one field at a time)
    Params: ClassVar[type[FamilyParams]]
    #: the metrics (ids of ``simulators.vocabulary.METRICS``) this family reports
    metrics: ClassVar[tuple[str, ...]]
    #: ``"numpy"`` (CPU only) or ``"torch"`` (``device`` may be ``"cuda"``)
    backend: ClassVar[str] = "numpy"
    #: whether summaries are exact additive sufficient statistics
    additive: ClassVar[bool] = False
    #: one line for ``mcatlas simulators``
    summary_line: ClassVar[str] = ""
    #: rough cost of one sample-iteration relative to the classical families (1.0); schedulers
    #: multiply it by seeds x iterations x n to run cheap work first (neural families are
    #: thousands of times dearer per sample because every fit trains a network)
    relative_cost: ClassVar[float] = 1.0
    #: whether ``sample`` is a function of the model, the count and the generator's state alone
    #: (no other state is read or changed) and fitted models are never modified: then a draw can
    #: be repeated exactly from the generator's state before it
    pure_sample: ClassVar[bool] = False
    #: parameters besides ``n`` that scale the family's own arrays (named when a run is refused
    #: for memory)
    memory_params: ClassVar[tuple[str, ...]] = ()

    def __init__(self, params: FamilyParams, seeds: int, rng: Any, device: str = "cpu") -> None:
        """Draw :attr:`measurement_seed` from the run's generator, then :meth:`build`."""
        self.params = params
        self.seeds = seeds
        self.device = device
        self.measurement_seed = _draw_seed(rng)
        self.build(rng)

    @abstractmethod
    def build(self, rng: Any) -> None:
        """Build the truth (per seed where it is random), held-out data and fixed designs."""

    def measurement_rng(self) -> Any:
        """A fresh generator for measurement noise (see "Randomness" above): numpy for numpy
        families, a torch generator on the run's device for torch ones."""
        if self.backend == "torch":
            import torch

            gen = torch.Generator(device=self.device)
            gen.manual_seed(self.measurement_seed)
            return gen
        import numpy as np

        return np.random.default_rng(self.measurement_seed)

    @classmethod
    def metrics_for(cls, params: FamilyParams) -> tuple[str, ...]:
        """The metrics a run with ``params`` can report (default: all of :attr:`metrics`).

        A family overrides it when some parameters rule metrics out (the ``lm`` family on a
        real-text corpus has no exact source, so no KL or tail mass)."""
        return cls.metrics

    def trivial_risk(self) -> Any | None:
        """The population risk of a model that ignores the data, per seed (shape (S,)), or None
        when the family has no natural one. The ``catastrophic-risk`` rule tests whether the
        risk reaches it (e.g. log K for K outcomes: the uniform model; ||w*||^2 for regression:
        the zero predictor)."""
        return None

    @property
    def n(self) -> int:
        """Samples per iteration."""
        return int(self.params.n)

    @classmethod
    def sample_bytes(cls, params: FamilyParams) -> int | None:
        """Bytes of one sample of one seed in a batch (all its arrays), or None when the family
        does not state its memory (its runs are then not checked)."""
        return None

    @classmethod
    def model_bytes(cls, params: FamilyParams, seeds: int, pool: int) -> int:
        """Bytes of one fitted model of ``seeds`` seeds, fitted on ``pool`` samples per seed."""
        return 0

    @classmethod
    def memory_bytes(cls, params: FamilyParams, seeds: int, pool: int) -> int:
        """An upper bound on the bytes the family's own arrays take at once in a run of
        ``seeds`` seeds whose largest training set has ``pool`` samples per seed (draws have at
        most n): truth, held-out data and fixed designs, two models (the last and the one being
        fitted), summaries, and the largest of the temporaries of summarize, fit, sample and
        measure. The batches the data policy holds are not included."""
        return 0

    @abstractmethod
    def real(self, n: int, rng: Any) -> Batch:
        """Draw n fresh real samples per seed from the truth."""

    def summarize(self, batch: Batch) -> Summary:
        """What ``fit`` consumes; the batch itself unless the family is additive."""
        return batch

    def combine(self, a: Summary, b: Summary) -> Summary:
        """Summary of the union of two disjoint batches (only called when ``additive``)."""
        return {k: a[k] + b[k] for k in a}

    @abstractmethod
    def fit(self, summary: Summary, previous: Any | None, rng: Any) -> Any:
        """Fit a model per seed; ``previous`` is the last model (for warm starts) or None."""

    @abstractmethod
    def sample(self, model: Any, n: int, rng: Any) -> Batch:
        """Draw n synthetic samples per seed from the fitted model."""

    @abstractmethod
    def measure(self, model: Any, metrics: tuple[str, ...]) -> Mapping[str, Any]:
        """Exactly the requested metrics, each an array of shape (S,) (numpy or torch)."""


def _draw_seed(rng: Any) -> int:
    """A 63-bit seed drawn from the run's generator (numpy or torch)."""
    if hasattr(rng, "integers"):
        return int(rng.integers(0, 2**63 - 1))
    import torch

    return int(torch.randint(0, 2**62, (1,), generator=rng, device=rng.device).item())
