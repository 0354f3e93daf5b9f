"""The position paper's Figure 4 claim, tested on stored runs: time to collapse onto one outcome.

Schaeffer, Kazdan, Arulandu & Koyejo (arXiv 2503.03150, Figure 4) state that for a discrete
(categorical) model refitted to its own samples under ``replace``, the expected number of
iterations before it collapses onto a single outcome grows with the number of samples n times
the initial entropy H0. This module measures that time on runs of the ``discrete`` simulator and
lets the evidence say where the statement holds.

Per configuration (:func:`absorption_table`): the absorption time of a seed is the first
iteration at which ``support_size`` is 1. A seed still above 1 at the last iteration T is
*censored*. Reported: seeds, absorbed, censored, ``mean_absorbed`` (over absorbed seeds only;
biased low when some are censored), ``restricted_mean`` (censored seeds counted as T: a lower
bound of the true mean, equal to it when nothing is censored), its standard error, H0 (entropy of
the truth, nats), n*H0, the ratio restricted_mean / (n H0), and ``theory``: the diffusion
approximation of the neutral Wright-Fisher model for a uniform truth over K outcomes, the
expected time until one outcome remains, 2 n (K-1) ln(K/(K-1)) (Littler 1975, "Loss of
variability at one locus in a finite population", Math. Biosci.; K = 2 gives Kimura's 2 n ln 2
= 2 n H0). Note the theory: it grows linearly in n but saturates at 2 n as K grows, while H0 =
ln K grows without bound — so the statement is expected to hold in n and fail as a
proportionality in H0.

The test (:func:`figure4_test`), on the uncensored configurations:

* ``grows_with_n``: for every K with two or more n, the restricted mean increases with n, each
  step by more than 2 standard errors of the difference ("holds"); any significant decrease
  gives "does not hold"; otherwise "inconclusive".
* ``grows_with_entropy``: the same along H0 at fixed n.
* ``proportional``: a weighted least-squares fit of log T = c + a log n + b log H0 (weights from
  the delta-method variance (se/mean)^2 of each configuration's log mean). Proportional to
  n x H0 means a = b = 1: "holds" when both 95% intervals contain 1, "does not hold" when either
  excludes it. The exponents and their intervals are reported.

Caveat on the comparisons: they are unpaired (the SE of a difference is the two SEs combined),
which is conservative here. Runs with the same seed ids share the engine's random stream, and
the discrete family samples by inverse CDF on integer counts, so with uniform truths a K = 10
chain is exactly the K = 100 chain with its outcomes lumped in groups of ten: per seed, the
K = 100 absorption time is at least the K = 10 one, and often equal (observed on the position
paper's setups at n = 30: identical times in all 30 seeds). A step reported ``flat`` along H0
then means the extra categories added no measurable time for those seeds, not noise.

Inputs are (label, configuration, frame) triples, from the store
(:func:`stored_absorption` reads the current runs of a paper's discrete setups) or from anywhere else.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any, Iterable, Mapping

if TYPE_CHECKING:
    import pandas as pd

POSITION_PAPER = "schaeffer2025position"
ABSORPTION_COLUMNS: tuple[str, ...] = (
    "label", "categories", "init", "n", "iterations", "seeds", "absorbed", "censored",
    "mean_absorbed", "restricted_mean", "se", "h0", "n_h0", "ratio", "theory",
)


def absorption_times(frame: "pd.DataFrame", metric: str = "support_size", level: float = 1.0) -> tuple[Any, int]:
    """Per seed (sorted by seed id) the first iteration with ``metric <= level`` (NaN if never),
    and the last iteration T of the run."""
    import numpy as np

    sub = frame[frame["metric"] == metric]
    if sub.empty:
        raise ValueError(f"the run has no {metric!r} rows")
    wide = sub.pivot(index="seed", columns="iteration", values="value").sort_index(axis=1)
    values = wide.to_numpy(dtype=np.float64)
    hit = values <= level
    its = wide.columns.to_numpy()
    first = np.where(hit.any(axis=1), its[hit.argmax(axis=1)], np.nan).astype(np.float64)
    return first, int(its.max())


def _entropy(params: Mapping[str, Any]) -> float:
    import numpy as np

    from simulators.families.discrete import DiscreteParams, truth_probabilities

    p = truth_probabilities(DiscreteParams(**dict(params)))
    return float(-np.sum(p * np.log(p)))


def absorption_table(items: Iterable[tuple[str, Mapping[str, Any], "pd.DataFrame"]]) -> "pd.DataFrame":
    """One row per configuration (columns :data:`ABSORPTION_COLUMNS`), sorted by n*H0."""
    import numpy as np
    import pandas as pd

    rows = []
    for label, config, frame in items:
        params = dict(config.get("params") or {})
        first, T = absorption_times(frame)
        absorbed = ~np.isnan(first)
        restricted = np.where(absorbed, first, T)
        S = first.size
        h0 = _entropy(params)
        k = int(params.get("categories", 10))
        n = int(params.get("n", 100))
        mean = float(restricted.mean())
        se = float(restricted.std(ddof=1) / math.sqrt(S)) if S > 1 else math.nan
        theory = 2 * n * (k - 1) * math.log(k / (k - 1)) if params.get("init", "uniform") == "uniform" else math.nan
        rows.append({
            "label": label, "categories": k, "init": params.get("init", "uniform"), "n": n,
            "iterations": T, "seeds": S, "absorbed": int(absorbed.sum()), "censored": int(S - absorbed.sum()),
            "mean_absorbed": float(first[absorbed].mean()) if absorbed.any() else math.nan,
            "restricted_mean": mean, "se": se, "h0": h0, "n_h0": n * h0,
            "ratio": mean / (n * h0), "theory": theory,
        })
    table = pd.DataFrame(rows, columns=list(ABSORPTION_COLUMNS))
    return table.sort_values(["n_h0", "categories", "n"], kind="stable").reset_index(drop=True)


def _steps(table: "pd.DataFrame", group: str, along: str) -> dict[str, Any]:
    """Monotonicity of restricted_mean along ``along`` within each ``group`` value."""
    steps = []
    for g, sub in table.groupby(group, sort=True):
        sub = sub.sort_values(along)
        for (_, a), (_, b) in zip(sub.iloc[:-1].iterrows(), sub.iloc[1:].iterrows()):
            diff = b.restricted_mean - a.restricted_mean
            se = math.hypot(a.se, b.se)
            sig = "up" if diff > 2 * se else ("down" if diff < -2 * se else "flat")
            steps.append({group: int(g), f"{along}_from": float(a[along]), f"{along}_to": float(b[along]),
                          "from": a.restricted_mean, "to": b.restricted_mean, "difference": diff,
                          "se": se, "step": sig})
    if not steps:
        answer = "not-tested"
    elif any(s["step"] == "down" for s in steps):
        answer = "does not hold"
    elif all(s["step"] == "up" for s in steps):
        answer = "holds"
    else:
        answer = "inconclusive"
    return {"answer": answer, "steps": steps}


def figure4_test(table: "pd.DataFrame") -> dict[str, Any]:
    """The three tests of the module docstring, on the uncensored rows of ``table``."""
    import numpy as np

    used = table[(table["censored"] == 0) & (table["seeds"] > 1)]
    censored = table.loc[table["censored"] > 0, "label"].tolist()
    result: dict[str, Any] = {
        "configurations": int(len(table)),
        "used": int(len(used)),
        "censored_configurations": censored,
        "grows_with_n": _steps(used, "categories", "n"),
        "grows_with_entropy": _steps(used, "n", "h0"),
    }
    prop: dict[str, Any] = {"answer": "not-tested"}
    if len(used) >= 4 and used["n"].nunique() >= 2 and used["h0"].nunique() >= 2:
        y = np.log(used["restricted_mean"].to_numpy())
        X = np.column_stack([np.ones(len(used)), np.log(used["n"].to_numpy()), np.log(used["h0"].to_numpy())])
        var = (used["se"].to_numpy() / used["restricted_mean"].to_numpy()) ** 2
        w = 1.0 / np.maximum(var, 1e-12)
        XtW = X.T * w
        cov = np.linalg.inv(XtW @ X)
        beta = cov @ XtW @ y
        resid = y - X @ beta
        dof = len(y) - 3
        # inflate by the residual dispersion when the model fits worse than the seed noise says
        dispersion = max(1.0, float(np.sum(w * resid**2) / dof)) if dof > 0 else 1.0
        se = np.sqrt(np.diag(cov) * dispersion)
        ci = {name: (float(beta[i] - 1.96 * se[i]), float(beta[i] + 1.96 * se[i]))
              for i, name in ((1, "n"), (2, "h0"))}
        contains = all(lo <= 1.0 <= hi for lo, hi in ci.values())
        prop = {
            "answer": "holds" if contains else "does not hold",
            "exponent_n": float(beta[1]), "exponent_n_ci": ci["n"],
            "exponent_h0": float(beta[2]), "exponent_h0_ci": ci["h0"],
            "ratio_range": (float(used["ratio"].min()), float(used["ratio"].max())),
        }
    result["proportional"] = prop
    result["summary"] = (
        f"grows with n: {result['grows_with_n']['answer']}; grows with initial entropy: "
        f"{result['grows_with_entropy']['answer']}; proportional to n x H0: {prop['answer']}"
        + (f" (T ~ n^{prop['exponent_n']:.2f} H0^{prop['exponent_h0']:.2f})" if "exponent_n" in prop else "")
        + (f"; censored (excluded): {', '.join(censored)}" if censored else "")
    )
    return result


def stored_absorption(
    eng: Any, paper: str = POSITION_PAPER, variant: str = "published", setups: Iterable[str] | None = None,
) -> tuple["pd.DataFrame", dict[str, Any]]:
    """:func:`absorption_table` and :func:`figure4_test` of a paper's current stored runs of
    ``discrete`` setups of one variant (by default the position paper's, as published; all its
    discrete setups under ``replace``, or the named ``setups`` whatever their policy)."""
    from metaanalysis.evidence import read as ev

    runs = ev.runs_frame(eng, paper=paper)
    runs = runs[(runs["variant"] == variant) & (runs["simulator"] == "discrete")]
    if setups is None:
        runs = runs[runs["policy"] == "replace"]
    else:
        runs = runs[runs["setup"].isin(list(setups))]
    items = []
    for r in runs.itertuples(index=False):
        frame = ev.load_frame(eng, r.config_hash)
        prov = ev.run_provenance(eng, r.config_hash) or {}
        if frame is None:
            continue
        items.append((r.setup, prov.get("config", {}), frame))
    table = absorption_table(items)
    return table, figure4_test(table)


__all__ = ["ABSORPTION_COLUMNS", "absorption_table", "absorption_times", "figure4_test",
           "stored_absorption"]
