"""Per-iteration summaries of a run across its seeds: what ``mcatlas run`` prints, what the
evidence store keeps and what the atlas draws — one function, so the three agree.

:func:`summarize` gives, per iteration and metric: ``n`` (seeds with a value, i.e. not NaN:
NaN means "not measured for this seed" and is left out everywhere), ``n_inf`` (seeds whose
value is +-inf), ``mean`` (+inf if any seed is +inf, -inf if any is -inf, NaN if both),
``median`` (over the seeds with a value; inf sorts as a number), and ``ci_low``/``ci_high``, a
95% normal-approximation interval of the mean, mean +- 1.96 sd / sqrt(n) (NaN when n < 2 or any
value is infinite: an interval around an infinite mean means nothing).
"""

from __future__ import annotations

from typing import Any

SUMMARY_COLUMNS: tuple[str, ...] = ("iteration", "metric", "n", "n_inf", "mean", "median", "ci_low", "ci_high")
#: z of the two-sided 95% normal interval
Z95 = 1.959963984540054


def summarize(frame: Any) -> Any:
    """Columns :data:`SUMMARY_COLUMNS`, one row per (iteration, metric), sorted; vectorised over
    groups."""
    import numpy as np
    import pandas as pd

    v = frame["value"].to_numpy(dtype=np.float64)
    ok = ~np.isnan(v)
    tmp = pd.DataFrame({
        "iteration": frame["iteration"].to_numpy(), "metric": frame["metric"].to_numpy(),
        "ok": ok, "pinf": np.isposinf(v), "ninf": np.isneginf(v),
        "fin": np.where(np.isfinite(v), v, np.nan), "val": np.where(ok, v, np.nan),
    })
    g = tmp.groupby(["iteration", "metric"], sort=True)
    n = g["ok"].sum().to_numpy()
    n_pinf, n_ninf = g["pinf"].sum().to_numpy(), g["ninf"].sum().to_numpy()
    mean = g["fin"].mean().to_numpy().copy()
    sd = g["fin"].std(ddof=1).to_numpy()
    mean = np.where(n_pinf > 0, np.inf, mean)
    mean = np.where(n_ninf > 0, -np.inf, mean)
    mean = np.where((n_pinf > 0) & (n_ninf > 0), np.nan, mean)
    half = Z95 * sd / np.sqrt(np.maximum(n, 1))
    valid = (n >= 2) & (n_pinf + n_ninf == 0)
    out = g["val"].median().rename("median").reset_index()
    out["n"] = n.astype(int)
    out["n_inf"] = (n_pinf + n_ninf).astype(int)
    out["mean"] = mean
    out["ci_low"] = np.where(valid, mean - half, np.nan)
    out["ci_high"] = np.where(valid, mean + half, np.nan)
    return out[list(SUMMARY_COLUMNS)]


__all__ = ["SUMMARY_COLUMNS", "Z95", "summarize"]
