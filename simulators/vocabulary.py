"""The shared vocabulary of mcatlas: definition ids, families, data policies, metrics, verdicts.

One name for one thing: these strings are the ids used in the YAML database, in code, in CLI
flags, in database columns and in chart labels. They live here, in the lowest layer
(``simulators`` never imports ``metaanalysis``), and ``metaanalysis`` re-uses them. The
human-readable descriptions of the definitions live in ``annotations/definitions.yaml``; a test
checks that file against the ids below.

Importing this module is cheap (no numpy, no torch).
"""

from __future__ import annotations

# The 8 definitions of model collapse (Schaeffer, Kazdan, Arulandu & Koyejo, arXiv 2503.03150,
# Figure 1), in the order of DESIGN.md, with the family each belongs to.
DEFINITION_FAMILIES: dict[str, str] = {
    "catastrophic-risk": "population risk",
    "any-risk-increase": "population risk",
    "diverging-risk": "population risk",
    "scaling-law-change": "scaling",
    "collapsing-variance": "distribution",
    "mode-entanglement": "distribution",
    "tail-disappearance": "distribution",
    "hallucinated-data": "distribution",
}
DEFINITIONS: tuple[str, ...] = tuple(DEFINITION_FAMILIES)
FAMILIES: tuple[str, ...] = ("population risk", "scaling", "distribution")

# How a paper uses a definition.
USAGES: tuple[str, ...] = ("explicit", "implicit")

# Whether a paper states an explicit definition of model collapse (Figure 2's top row).
EXPLICIT_DEFINITION: tuple[str, ...] = ("yes", "no", "n/a")

# Data policies: what the training set of iteration t+1 is (see DESIGN.md).
POLICIES: tuple[str, ...] = ("replace", "accumulate", "accumulate-subsample", "mix", "fresh")
# Policies that take a ``real_fraction`` parameter.
POLICIES_WITH_REAL_FRACTION: tuple[str, ...] = ("mix", "fresh")

# Per-iteration, per-seed metrics (tidy column ``metric``).
METRICS: tuple[str, ...] = (
    "population_risk",
    "kl_to_truth",
    "variance_ratio",
    "entropy",
    "support_size",
    "tail_mass_ratio",
    "hallucinated_mass",
    "mode_overlap",
    "mean_sq_error",
)

# Verdicts of a collapse profile, and the outcomes a paper can claim. ``collapse`` and
# ``no-collapse`` are conclusions, each needing evidence; ``inconclusive`` is a run that cannot
# tell them apart (too short, too few seeds, a fragile estimate); ``not-measured`` is a family that
# does not measure the quantity at all.
VERDICTS: tuple[str, ...] = ("collapse", "no-collapse", "inconclusive", "not-measured")
#: the conclusive verdicts
CONCLUSIVE: tuple[str, ...] = ("collapse", "no-collapse")
CLAIM_OUTCOMES: tuple[str, ...] = ("collapse", "no-collapse", "mixed")

# The variants of a setup's rerun: as the paper ran it; under realistic conditions (the policy
# and horizon of annotations/realism.yaml's realistic defaults, refined by the setup's
# ``realistic`` block); and the control, the published policy at the realistic horizon, which
# tells whether a claim that does not survive lost it to the realistic policy or to the shorter
# horizon (metaanalysis.evidence.planning).
VARIANTS: tuple[str, ...] = ("published", "realistic", "control")

# Laws a claim can state (a claim's optional ``law``): such a claim is judged by the test of the
# law on its setups' runs (metaanalysis.analysis.laws), not by counting collapse verdicts.
LAWS: dict[str, str] = {
    "absorption-time-n-h0": (
        "the expected number of iterations before a discrete model refitted to its own samples "
        "keeps one outcome grows in proportion to n x H0 (samples times initial entropy)"
    ),
}

# Model classes a paper's claim can be about. Simulator names (``gaussian``, ``discrete``, ...)
# are model classes too; the others name what papers study that a simulator may only stand in
# for.
MODEL_FAMILIES: tuple[str, ...] = (
    "discrete",
    "gaussian",
    "gmm",
    "kde",
    "linear-regression",
    "kernel-regression",
    "language-model",
    "vae",
    "diffusion",
    "gan",
    "normalizing-flow",
    "classifier",
    "other",
)

# How faithfully a setup stands for a paper's experiment.
FIDELITIES: tuple[str, ...] = ("same-model", "toy-stand-in")
