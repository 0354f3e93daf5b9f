"""Run files: the tidy per-seed frame of a run (``iteration, seed, metric, value``) on disk.

``write_run`` and ``read_run`` are the one place that knows the formats: ``.csv`` and
``.parquet`` keep infinities as they are; JSON has no infinity, so ``.json`` (a list of row
objects) writes ``inf``/``-inf`` as the strings ``"inf"``/``"-inf"`` and NaN as null, and
reads them back. An infinite risk is a result (a lost outcome), so it must survive the trip.
"""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

import pandas as pd

from .errors import UserError

RUN_COLUMNS: tuple[str, ...] = ("iteration", "seed", "metric", "value")
#: rows of this metric carry a run's catastrophic-risk baseline (the risk of a model that
#: ignores the data), one per seed; the engine puts it in ``frame.attrs`` under the same name
BASELINE_METRIC = "trivial_risk"
RUN_FILE_SUFFIXES: tuple[str, ...] = (".csv", ".parquet", ".json")


def _json_value(value: float) -> float | str | None:
    if math.isnan(value):
        return None
    if math.isinf(value):
        return "inf" if value > 0 else "-inf"
    return value


def run_to_json(frame: pd.DataFrame, indent: int | None = None) -> str:
    """The frame as a JSON list of row objects, infinities as strings, NaN as null."""
    rows = [
        {"iteration": int(i), "seed": int(s), "metric": str(m), "value": _json_value(float(v))}
        for i, s, m, v in zip(frame["iteration"], frame["seed"], frame["metric"], frame["value"])
    ]
    return json.dumps(rows, indent=indent)


def check_writable(path: Path | str, suffixes: tuple[str, ...] = RUN_FILE_SUFFIXES) -> Path:
    """Fail early, with one line, if ``path`` has a wrong extension or cannot be created (so a
    long run is not thrown away at the end)."""
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix not in suffixes:
        raise UserError(f"{path}: unknown file extension {suffix or '(none)'!r}; valid "
                        f"choices: {', '.join(suffixes)}")
    parent = path.parent if str(path.parent) else Path(".")
    if not parent.is_dir():
        raise UserError(f"{path}: directory {parent} does not exist")
    if path.is_dir():
        raise UserError(f"{path}: is a directory")
    return path


def with_baseline_rows(frame: pd.DataFrame) -> pd.DataFrame:
    """The tidy columns, plus rows ``metric = trivial_risk`` (one per seed, at iteration 1) when
    the run has a catastrophic-risk baseline in ``frame.attrs`` — so a saved run profiles like
    the run itself."""
    tidy = frame.loc[:, list(RUN_COLUMNS)]
    baseline = frame.attrs.get(BASELINE_METRIC)
    if not isinstance(baseline, dict) or (tidy["metric"] == BASELINE_METRIC).any():
        return tidy
    rows = pd.DataFrame({
        "iteration": 1, "seed": list(baseline), "metric": BASELINE_METRIC,
        "value": [float(v) for v in baseline.values()],
    })
    return pd.concat([tidy, rows.astype(tidy.dtypes.to_dict())], ignore_index=True)


def write_run(frame: pd.DataFrame, path: Path | str) -> None:
    """Save the tidy per-seed frame (with its baseline rows); the format follows the extension
    (see the module doc). Errors, including an unwritable path, are one-line UserErrors."""
    path = check_writable(path)
    frame = with_baseline_rows(frame)
    try:
        if path.suffix.lower() == ".csv":
            frame.to_csv(path, index=False)
        elif path.suffix.lower() == ".parquet":
            frame.to_parquet(path, index=False)
        else:
            path.write_text(run_to_json(frame, indent=1) + "\n", encoding="utf-8")
    except OSError as exc:
        raise UserError(f"{path}: cannot write: {exc.strerror or exc}") from None


def read_run(path: Any) -> pd.DataFrame:
    """Read a saved run (the tidy frame) from .csv, .parquet or .json.

    JSON may be a list of row objects (``DataFrame.to_json(orient="records")``, what ``mcatlas
    run --out x.json`` writes), pandas' ``split`` form (``columns`` + ``data``), or an object
    holding such a list under ``rows``/``records``/``frame``. Values may be numbers, null (NaN)
    or the strings ``"inf"``/``"-inf"``/``"nan"`` (JSON has no infinity; note that pandas'
    ``to_json`` writes inf as null, which reads back as NaN; :func:`write_run` writes the
    strings). Errors are one-line UserErrors.
    """
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix not in RUN_FILE_SUFFIXES:
        raise UserError(f"{path}: unknown run file extension {suffix or '(none)'!r}; valid "
                        f"choices: {', '.join(RUN_FILE_SUFFIXES)}")
    if not path.is_file():
        raise UserError(f"{path}: no such file")
    try:
        if suffix == ".csv":
            frame = pd.read_csv(path)
        elif suffix == ".parquet":
            frame = pd.read_parquet(path)
        else:
            data = json.loads(path.read_text(encoding="utf-8"))
            if isinstance(data, dict):
                if "columns" in data and "data" in data:
                    frame = pd.DataFrame(data["data"], columns=data["columns"])
                else:
                    rows = next((data[k] for k in ("rows", "records", "frame") if k in data), None)
                    if not isinstance(rows, list):
                        raise UserError(f"{path}: expected a list of rows (iteration, seed, "
                                        "metric, value)")
                    frame = pd.DataFrame(rows)
            elif isinstance(data, list):
                frame = pd.DataFrame(data)
            else:
                raise UserError(f"{path}: expected a list of rows (iteration, seed, metric, value)")
    except UserError:
        raise
    except (ValueError, OSError, ImportError) as exc:
        first = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise UserError(f"{path}: cannot read run file: {first}") from None
    missing = [c for c in RUN_COLUMNS if c not in frame.columns]
    if missing:
        raise UserError(f"{path}: missing column(s) {', '.join(missing)} (expected "
                        f"{', '.join(RUN_COLUMNS)})")
    if frame["value"].dtype == object:
        def _num(v: Any) -> float:
            if v is None:
                return math.nan
            try:
                return float(v)
            except (TypeError, ValueError):
                raise UserError(f"{path}: value: not a number: {v!r}") from None
        frame["value"] = frame["value"].map(_num).astype(float)
    return frame
