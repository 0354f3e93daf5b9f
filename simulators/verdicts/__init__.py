"""Verdict rules: the *collapse profile* of a run, and the scaling-law verdict over a sweep in n.

A run is a tidy frame with columns ``iteration, seed, metric, value`` (what
:func:`simulators.run` returns): one setup, one data policy, S seeds, T iterations. For each of
the 8 definitions of model collapse (``simulators.vocabulary.DEFINITIONS``; Schaeffer et al.,
arXiv 2503.03150) :func:`profile` gives one of four verdicts:

``collapse``      the data show collapse of practical size over iterations 1..T: the interval
                  of the rule's statistic excludes no change, and the effect reaches the rule's
                  minimum effect of interest;
``no-collapse``   the data exclude collapse of practical size: the interval lies below the rule's
                  equivalence margin, and the late trend of the run is not heading there (it
                  levels off, or is too slow to get there within a horizon of iterations);
``inconclusive``  neither (a run too short, too few seeds, an estimate between the margins, or a
                  verdict that too few bootstrap replicates of the seeds reproduce), with an
                  estimate of the seeds or iterations that would settle it;
``not-measured``  the family does not measure the quantity.

A verdict speaks about iterations 1..T of its run, and its reason line says so. Its horizon
(``Thresholds.horizon``, 1000 iterations by default) is the question it answers about where the
run is going: no-collapse needs the late trend not to reach the rule's effect within that many
further iterations. The default asks about the long run, so a short run of a process that
collapses slowly (a Gaussian refitted to n = 1000 of its own samples) is never no-collapse;
:func:`profiles` answers several horizons at once (the evidence layer also asks about a run's
own length, the question of a realistic rerun: what happens within that many generations).

Error rates. Every interval is a percentile bootstrap over seeds (:mod:`.bootstrap`). The rules
of one profile share a family-wise level ``Thresholds.ci_level`` [0.95] by Bonferroni: each of
the m rules the run can test uses 1 - 0.05/m. The iteration at which a collapse was reached is
found by testing from T backwards and stopping at the first failure (a fixed-sequence procedure
that needs no further correction). A conclusive verdict must also be *stable*: reached by at
least ``Thresholds.min_stability`` [0.8] of the bootstrap replicates of the seed set
(:mod:`.decision`); a fragile one is inconclusive.

Modules: :mod:`.thresholds` (every number a verdict depends on, with its justification),
:mod:`.bootstrap` (the seed bootstrap and trend contrasts), :mod:`.decision` (paths, stability,
what would settle it), :mod:`.rules` (the rules, documented there one by one), :mod:`.scaling`
(the sweep over n), :mod:`.results` (:class:`Verdict`, :class:`Profile`).
"""

from simulators.runfiles import BASELINE_METRIC

from .bootstrap import weighted_means, weighted_medians
from .results import PROFILE_COLUMNS, Profile, Verdict
from .rules import RULE_METRICS, profile, profiles
from .scaling import ScalingProfile, scaling_profile
from .thresholds import Thresholds, thresholds_from

__all__ = [
    "BASELINE_METRIC",
    "PROFILE_COLUMNS",
    "Profile",
    "RULE_METRICS",
    "ScalingProfile",
    "Thresholds",
    "Verdict",
    "profile",
    "profiles",
    "scaling_profile",
    "thresholds_from",
    "weighted_means",
    "weighted_medians",
]
