"""Random-effects pooling (:func:`metaanalysis.analysis.pooling.pool`) against R's metafor, and its
edge cases. The reference values are ``tests/data/metafor_reference.json``, written by
``tests/data/metafor_reference.R`` (metafor and R versions recorded in the file).

The prediction interval is checked against metafor's ``pi.type="riley"`` (t with k - 2 degrees
of freedom, Higgins, Thompson & Spiegelhalter 2009), the interval this module reports; metafor's
default reuses the confidence interval's critical value (see the module docstring).

Tolerances (relative unless said otherwise), and why:

* FORMULA_RTOL = 1e-9: everything that follows in closed form from tau2 (estimate, se, both
  intervals, Q, I2, H2, weights), and the DL estimator itself. Both sides compute the same
  formulas in double precision; the biggest difference seen is 7e-11, in Q for extreme17
  (variance ratio 5e7). There metafor's route through the k x k matrix P loses digits: against a
  50-digit mpmath evaluation, Python's Q is exact to 1e-16 and metafor's is 7.3e-11 off.
* P_RTOL = 1e-7 for the Q-test p-value: a relative error e in Q moves the chi-square tail
  probability by about (Q / 2) e relative, i.e. 111 / 2 * 7e-11 = 4e-9 for extreme17.
* REML against metafor's "tight" run (threshold 1e-10, as here): the same Fisher-scoring steps
  from the same start, with the same stopping rule, so they agree up to rounding (seen: 3e-13).
  If rounding ever let one side take one extra step, that step would be smaller than the
  threshold, so tau2 is checked to atol = 1e-10 (+ FORMULA_RTOL). The derived quantities are
  checked end to end at ITER_RTOL = 1e-6. A 1e-10 shift of tau2 = 0.0024 (extreme17) moves the
  weights by at most 1e-10 / 0.0024 = 4e-8 relative, so 1e-6 leaves 25x margin. The same
  quantities are also checked at FORMULA_RTOL after plugging in metafor's own tau2.
* PM against metafor's "tight" run (uniroot tol 1e-12; brentq here to machine precision): tau2 to
  atol 1e-11 (+ FORMULA_RTOL), derived quantities at ITER_RTOL.
* metafor's defaults (REML threshold 1e-5; PM uniroot tol 2^-13 = 1.2e-4):
  - REML: pool(threshold=1e-5, maxiter=100) takes metafor's exact path, so it is checked at
    FORMULA_RTOL (seen: 1e-13). That includes extreme17, where metafor stops 2.6% away from the
    REML maximum (see test_metafor_default_reml_stops_early_on_extreme17).
  - PM: R's uniroot stops once the root is bracketed to within about tol, so tau2 is checked to
    atol 2^-13. The derived quantities are checked at metafor's tau2.

This is much tighter than a blanket 1e-5: except for metafor's default PM (limited by uniroot's
tolerance), the implementations agree to about 1e-10.
"""

from __future__ import annotations

import dataclasses
import json
import math
from pathlib import Path

import numpy as np
import pytest
from scipy import stats

from metaanalysis.analysis import pooling
from metaanalysis.analysis.pooling import Pooled, pool

HERE = Path(__file__).resolve().parent
REF = json.loads((HERE / "data" / "metafor_reference.json").read_text())
SETS = REF["datasets"]

FORMULA_RTOL = 1e-9
P_RTOL = 1e-7
ITER_RTOL = 1e-6
TAU2_ATOL = {("tight", "REML"): 1e-10, ("tight", "PM"): 1e-11, ("tight", "DL"): 0.0,
             ("default", "REML"): 0.0, ("default", "PM"): 2.0 ** -13, ("default", "DL"): 0.0}
CI = {"z": "z", "knha": "hksj"}


def _fits():
    for name, d in SETS.items():
        for i, f in enumerate(d["fits"]):
            yield pytest.param(name, f, id=f"{name}-{f['control']}-{f['method']}-{f['test']}-{f['level']}-{i}")


def _fields(p) -> dict:
    """Pooled (or a _summarise dict) -> metafor's names and units."""
    g = p if isinstance(p, dict) else dataclasses.asdict(p)
    return {"estimate": g["estimate"], "se": g["se"], "ci_lb": g["ci_low"], "ci_ub": g["ci_high"],
            "QE": g["q"], "QEp": g["q_p"], "I2": 100 * g["i2"], "H2": g["h2"],
            "pi_lb": g["pi_low"], "pi_ub": g["pi_high"]}


def _check(ours: dict, ref: dict, rtol: float, atol: float = 1e-14, skip=()):
    ref = {**ref, "pi_lb": ref["pi_riley_lb"], "pi_ub": ref["pi_riley_ub"]}
    for key, value in ours.items():
        if key in skip:
            continue
        if ref[key] is None:  # metafor gives no Riley interval for k < 3: neither do we
            assert key not in ("pi_lb", "pi_ub") or math.isnan(value), key
            continue
        tol = P_RTOL if key == "QEp" else rtol
        assert value == pytest.approx(ref[key], rel=tol, abs=atol), key


# ---------------------------------------------------------------------------------------------
# against metafor
# ---------------------------------------------------------------------------------------------

@pytest.mark.parametrize("name, f", list(_fits()))
def test_formulas_at_metafors_tau2(name, f):
    """Given metafor's tau2, every other number must agree to rounding (all fits, both controls)."""
    d = SETS[name]
    y, v = np.array(d["yi"]), np.array(d["vi"])
    got = pooling._summarise(y, v, f["tau2"], CI[f["test"]], f["level"], True)
    assert got["ci_method"] == {"z": "z", "knha": "hksj"}[f["test_used"]]
    assert got["k"] == f["k"]
    ours = _fields(got)
    _check(ours, f, FORMULA_RTOL)
    assert [100 * w for w in got["weights"]] == pytest.approx(f["weights_percent"], rel=FORMULA_RTOL)


@pytest.mark.parametrize("name, f", list(_fits()))
def test_tau2_estimators_against_metafor(name, f):
    d = SETS[name]
    method, control = f["method"], f["control"]
    kw = dict(threshold=1e-5, maxiter=100) if control == "default" else {}
    p = pool(d["yi"], d["vi"], method=method, ci=CI[f["test"]], level=f["level"], **kw)
    assert p.tau2 == pytest.approx(f["tau2"], rel=FORMULA_RTOL, abs=TAU2_ATOL[(control, method)] + 1e-15)


@pytest.mark.parametrize("name, f", [pytest.param(*x.values, id=x.id) for x in _fits()
                                     if x.values[1]["control"] == "tight"])
def test_pool_end_to_end_against_metafor_tight(name, f):
    d = SETS[name]
    p = pool(d["yi"], d["vi"], method=f["method"], ci=CI[f["test"]], level=f["level"])
    assert p.k == f["k"] and p.excluded == 0 and p.method == f["method"]
    assert p.ci_method == {"z": "z", "knha": "hksj"}[f["test_used"]]
    rtol = FORMULA_RTOL if f["method"] == "DL" or p.tau2 == 0.0 else ITER_RTOL
    _check(_fields(p), f, rtol)
    assert [100 * w for w in p.weights] == pytest.approx(f["weights_percent"], rel=rtol)
    assert sum(p.weights) == pytest.approx(1.0, rel=1e-14)


@pytest.mark.parametrize("name, f", [pytest.param(*x.values, id=x.id) for x in _fits()
                                     if x.values[1]["control"] == "default" and x.values[1]["method"] != "PM"])
def test_pool_reproduces_metafor_defaults(name, f):
    """With metafor's threshold and maxiter, REML follows metafor's path exactly."""
    d = SETS[name]
    p = pool(d["yi"], d["vi"], method=f["method"], ci=CI[f["test"]], threshold=1e-5, maxiter=100)
    _check(_fields(p), f, FORMULA_RTOL)


@pytest.mark.parametrize("name", [n for n in SETS if SETS[n]["tau2_ci_qprofile"]])
def test_tau2_qprofile_interval_against_metafor(name):
    d = SETS[name]
    ref = d["tau2_ci_qprofile"]
    lo, hi = pool(d["yi"], d["vi"]).tau2_ci
    # metafor's confint ran with uniroot tol 1e-12 (absolute)
    assert lo == pytest.approx(ref["tau2_lb"], rel=FORMULA_RTOL, abs=1e-11)
    if ref["ub_sign"] == ">":  # metafor stopped at its search cap max(100, 10 tau2); we do not cap
        assert hi > ref["tau2_ub"]
    else:
        assert hi == pytest.approx(ref["tau2_ub"], rel=FORMULA_RTOL, abs=1e-11)


def test_tau2_qprofile_uncapped_upper_end_k2():
    # k = 2: Q_gen(t) = (y1 - y2)^2 / (v1 + v2 + 2 t), so the upper end solves that = chi2_1(0.025)
    d = SETS["k2"]
    (y1, y2), (v1, v2) = d["yi"], d["vi"]
    c = stats.chi2.ppf(0.025, 1)
    assert pool(d["yi"], d["vi"]).tau2_ci[1] == pytest.approx(((y1 - y2) ** 2 / c - v1 - v2) / 2, rel=1e-12)


def test_bcg_reml_matches_metafor_documentation():
    # metafor's documentation of dat.bcg: REML estimate -0.7145, tau^2 0.3132; I^2 and CI below
    # are metafor 3.8-1's printout of the same fit (z test), the PI its pi.type="riley" one
    d = SETS["bcg"]
    p = pool(d["yi"], d["vi"], method="REML", ci="z")
    assert round(p.estimate, 4) == -0.7145 and round(p.tau2, 4) == 0.3132
    assert round(100 * p.i2, 2) == 92.22
    assert (round(p.ci_low, 4), round(p.ci_high, 4)) == (-1.0669, -0.3622)
    # t with 11 df: wider than metafor's default z interval (-1.8667, 0.4376)
    assert p.pi_low < -1.8667 and p.pi_high > 0.4376
    assert p.message == ""


def test_reference_records_versions():
    assert REF["metafor_version"].count(".") == 2 and REF["R_version"].startswith("R version")


# ---------------------------------------------------------------------------------------------
# independent checks of the estimators (no metafor)
# ---------------------------------------------------------------------------------------------

@pytest.mark.parametrize("name", [n for n in SETS if len(SETS[n]["yi"]) >= 2])
def test_reml_is_the_restricted_likelihood_maximum(name):
    y, v = np.array(SETS[name]["yi"]), np.array(SETS[name]["vi"])
    t = pool(y, v, method="REML").tau2
    ll = pooling._reml_loglik(y, v, t)
    grid = np.concatenate([[0.0], np.geomspace(1e-8, 1e3, 400)])
    assert ll >= max(pooling._reml_loglik(y, v, g) for g in grid) - 1e-9
    if t > 0:  # interior: the score y'PPy - tr P vanishes (relative to its parts)
        ypppy, tr_p, _ = pooling._reml_score_parts(y, v, t)
        assert abs(ypppy - tr_p) <= 1e-7 * tr_p


@pytest.mark.parametrize("name", [n for n in SETS if len(SETS[n]["yi"]) >= 2])
def test_pm_solves_the_generalised_q_equation(name):
    y, v = np.array(SETS[name]["yi"]), np.array(SETS[name]["vi"])
    t = pool(y, v, method="PM").tau2
    k = len(y)
    if t > 0:
        assert pooling._q_gen(y, v, t) == pytest.approx(k - 1, rel=1e-12)
    else:
        assert pooling._q_gen(y, v, 0.0) < k - 1


def test_dl_hand_worked_example():
    # the worked example of tests/test_atlas_synthesis.py
    p = pool([0.1, 0.5, 0.9], [0.01, 0.04, 0.09], method="DL", ci="z")
    assert p.q == pytest.approx(416 / 49, rel=1e-14)
    assert p.tau2 == pytest.approx(318 / 2800, rel=1e-14)
    assert p.i2 == pytest.approx((416 / 49 - 2) / (416 / 49), rel=1e-13)  # = tau2 / (tau2 + s2) for DL
    assert p.h2 == pytest.approx((416 / 49) / 2, rel=1e-13)
    assert p.estimate == pytest.approx(0.43482, abs=1e-5) and p.se == pytest.approx(0.22636, abs=1e-5)


def test_metafor_default_reml_stops_early_on_extreme17():
    """On extreme17 Fisher scoring creeps (about 0.87 of the error left after each step), so
    metafor's default stop (|change| <= 1e-5) is 2.6% away from the REML maximum, and with
    threshold 1e-10 it needs 128 steps, more than metafor's maxiter of 100."""
    d = SETS["extreme17"]
    default = next(f for f in d["fits"] if f["control"] == "default" and f["method"] == "REML")
    tight = next(f for f in d["fits"] if f["control"] == "tight" and f["method"] == "REML")
    assert default["tau2"] / tight["tau2"] - 1 == pytest.approx(0.026, abs=0.001)
    y, v = np.array(d["yi"]), np.array(d["vi"])
    assert pooling._reml_loglik(y, v, tight["tau2"]) > pooling._reml_loglik(y, v, default["tau2"])
    tau2, iters, converged = pooling._tau2_reml(y, v, 1e-10, 1000)
    assert converged and 100 < iters < 200
    short = pool(y, v, threshold=1e-10, maxiter=100)
    assert math.isnan(short.estimate) and "did not converge" in short.message and short.k == 17


def test_dl_collapses_on_extreme17():
    # most precise studies have the smallest effects: DL's tau2 is 1e-4, REML's 2e-3, PM's 6.8,
    # and only PM lies inside the Q-profile interval (0.93, 38.3)
    d = SETS["extreme17"]
    dl, reml, pm = (pool(d["yi"], d["vi"], method=m) for m in ("DL", "REML", "PM"))
    lo, hi = pm.tau2_ci
    assert dl.tau2 < 1e-3 * pm.tau2 and reml.tau2 < 1e-2 * pm.tau2
    assert dl.tau2 < lo and reml.tau2 < lo and lo < pm.tau2 < hi


# ---------------------------------------------------------------------------------------------
# edge cases and API
# ---------------------------------------------------------------------------------------------

def test_k0_all_unusable():
    p = pool([math.nan, 1.0, 2.0], [1.0, math.inf, 0.0], method="REML")
    assert p.k == 0 and p.excluded == 3 and p.weights == ()
    assert all(math.isnan(x) for x in (p.estimate, p.se, p.ci_low, p.ci_high, p.tau2, p.q, p.i2,
                                       p.pi_low, p.pi_high, *p.tau2_ci))
    assert "k = 0" in p.message
    empty = pool([], [])
    assert empty.k == 0 and empty.excluded == 0 and math.isnan(empty.estimate)


@pytest.mark.parametrize("method", pooling.METHODS)
def test_k1(method):
    p = pool([0.3, math.nan], [0.04, 0.1], method=method, ci="hksj")
    assert p.k == 1 and p.excluded == 1
    assert p.estimate == 0.3 and p.se == pytest.approx(0.2, rel=1e-15) and p.tau2 == 0.0
    z = stats.norm.isf(0.025)
    assert (p.ci_low, p.ci_high) == pytest.approx((0.3 - z * 0.2, 0.3 + z * 0.2), rel=1e-14)
    assert p.ci_method == "z" and "HKSJ needs k >= 2" in p.message and "k < 2" in p.message
    assert math.isnan(p.pi_low) and math.isnan(p.pi_high)
    assert (p.q, p.q_df, p.q_p, p.i2, p.h2) == (0.0, 0, 1.0, 0.0, 1.0)  # metafor's k = 1 values
    assert p.weights == (1.0,) and all(math.isnan(x) for x in p.tau2_ci)
    assert pool([0.3], [0.04], ci="z").message == "k < 2: no heterogeneity estimate (tau2 = 0)"


@pytest.mark.parametrize("method", pooling.METHODS)
def test_k2_hksj_uses_t_with_one_df(method):
    d = SETS["k2"]
    p = pool(d["yi"], d["vi"], method=method, ci="hksj")
    assert p.ci_method == "hksj" and p.q_df == 1
    t1 = stats.t.isf(0.025, 1)  # 12.706
    assert p.ci_high - p.estimate == pytest.approx(t1 * p.se, rel=1e-13)
    assert math.isnan(p.pi_high)  # t with k - 2 = 0 df: no prediction interval from two runs
    assert p.tau2 == pytest.approx(0.18, rel=1e-12)  # k = 2: DL, REML and PM coincide


def test_hksj_factor_is_not_truncated():
    d = SETS["homogeneous3"]
    z, h = pool(d["yi"], d["vi"], ci="z"), pool(d["yi"], d["vi"], ci="hksj")
    assert h.tau2 == 0.0 and h.se < 0.2 * z.se  # q* < 1 shrinks the interval, as in metafor


def test_hksj_identical_effects_gives_zero_se_like_metafor():
    p = pool([0.4, 0.4, 0.4], [0.01, 0.02, 0.03], ci="hksj")
    assert p.se == 0.0 and p.ci_low == p.ci_high == p.estimate == pytest.approx(0.4)
    assert "residual variance is 0" in p.message


def test_exclusion_equals_pooling_the_clean_subset():
    y = [0.1, math.inf, 0.5, 0.2, 0.9, 0.3, math.nan]
    v = [0.01, 0.02, 0.04, -1.0, 0.09, 0.0, 0.05]
    p = pool(y, v, method="PM")
    q = pool([0.1, 0.5, 0.9], [0.01, 0.04, 0.09], method="PM")
    assert p.excluded == 4 and p.k == 3
    assert dataclasses.replace(p, excluded=0) == q


@pytest.mark.parametrize("method", pooling.METHODS)
def test_invariances(method):
    d = SETS["bcg"]
    y, v = np.array(d["yi"]), np.array(d["vi"])
    base = pool(y, v, method=method)
    perm = np.random.default_rng(0).permutation(len(y))
    shuffled = pool(y[perm], v[perm], method=method)
    assert shuffled.estimate == pytest.approx(base.estimate, rel=1e-9)
    assert shuffled.tau2 == pytest.approx(base.tau2, rel=1e-8)
    assert np.array(shuffled.weights) == pytest.approx(np.array(base.weights)[perm], rel=1e-8)
    shifted = pool(y + 3.0, v, method=method)
    assert shifted.estimate == pytest.approx(base.estimate + 3.0, rel=1e-9)
    assert shifted.tau2 == pytest.approx(base.tau2, rel=1e-8)
    scaled = pool(2.0 * y, 4.0 * v, method=method, threshold=1e-12)  # REML threshold is absolute
    base_t = pool(y, v, method=method, threshold=1e-12)
    assert scaled.tau2 == pytest.approx(4.0 * base_t.tau2, rel=1e-8)
    assert scaled.i2 == pytest.approx(base_t.i2, rel=1e-8)
    assert scaled.ci_high == pytest.approx(2.0 * base_t.ci_high, rel=1e-8)


def test_pi_switch_and_level():
    d = SETS["bcg"]
    assert math.isnan(pool(d["yi"], d["vi"], pi=False).pi_low)
    wide, narrow = pool(d["yi"], d["vi"], level=0.99), pool(d["yi"], d["vi"], level=0.90)
    assert wide.ci_low < narrow.ci_low and wide.pi_high > narrow.pi_high
    assert wide.tau2_ci[0] < narrow.tau2_ci[0] and wide.tau2_ci[1] > narrow.tau2_ci[1]


def test_default_arguments_and_result_type():
    d = SETS["bcg"]
    p = pool(d["yi"], d["vi"])
    assert isinstance(p, Pooled) and p.method == "REML" and p.ci_method == "hksj"
    with pytest.raises(dataclasses.FrozenInstanceError):
        p.estimate = 0.0  # type: ignore[misc]
    assert pool(d["yi"], d["vi"], method="reml", ci="HKSJ") == p


@pytest.mark.parametrize("kwargs", [dict(method="ML"), dict(ci="t"), dict(level=95), dict(level=0.0)])
def test_bad_arguments(kwargs):
    with pytest.raises(ValueError):
        pool([0.1, 0.2], [0.01, 0.02], **kwargs)


def test_mismatched_lengths():
    with pytest.raises(ValueError):
        pool([0.1, 0.2], [0.01])
