"""What a profile returns: one :class:`Verdict` per definition, gathered in a :class:`Profile`.

Both serialise to strict JSON (``inf`` as the strings ``"inf"``/``"-inf"``, NaN as null) and
back, so a profile can be stored and read without loss.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from typing import Any

import pandas as pd

from simulators.vocabulary import VERDICTS

from .thresholds import Thresholds

COLLAPSE, NO_COLLAPSE, INCONCLUSIVE, NOT_MEASURED = VERDICTS

#: the columns of :meth:`Profile.to_frame`
PROFILE_COLUMNS: tuple[str, ...] = (
    "definition",
    "verdict",
    "statistic",
    "ci_low",
    "ci_high",
    "level",
    "iteration",
    "stability",
    "seeds_needed",
    "iterations_needed",
    "reason",
)


def encode(x: float | None) -> float | str | None:
    """A float for JSON: finite as is, NaN/None as null, +-inf as the strings "inf"/"-inf"."""
    if x is None or (isinstance(x, float) and math.isnan(x)):
        return None
    if math.isinf(x):
        return "inf" if x > 0 else "-inf"
    return float(x)


def decode(x: Any) -> float:
    """Inverse of :func:`encode` (null -> NaN)."""
    if x is None:
        return math.nan
    return float(x)


def _optional_int(x: Any) -> int | None:
    return None if x is None or (isinstance(x, float) and math.isnan(x)) else int(x)


@dataclass(frozen=True)
class Verdict:
    """The answer of one definition for one run.

    ``statistic`` with its interval (``ci_low``, ``ci_high`` at two-sided ``level``) is what the
    rule decided on; ``iteration`` the first iteration from which a ``collapse`` held through T;
    ``stability`` the share of bootstrap replicates that reach the same conclusion (NaN for
    ``not-measured``); for an ``inconclusive`` verdict, ``seeds_needed`` and
    ``iterations_needed`` estimate what would settle it (None where no estimate applies), and
    ``reason`` says why, always about iterations 1..T of the run.
    """

    definition: str
    verdict: str
    statistic: float = math.nan
    ci_low: float = math.nan
    ci_high: float = math.nan
    iteration: int | None = None
    reason: str = ""
    #: what ``statistic`` is (e.g. "relative increase of mean excess risk, T vs 1")
    statistic_name: str = ""
    level: float = math.nan
    stability: float = math.nan
    seeds_needed: int | None = None
    iterations_needed: int | None = None

    @property
    def conclusive(self) -> bool:
        return self.verdict in (COLLAPSE, NO_COLLAPSE)

    def to_dict(self) -> dict[str, Any]:
        """JSON-safe dict (non-finite floats encoded as in :func:`encode`)."""
        out: dict[str, Any] = {}
        for f in fields(self):
            value = getattr(self, f.name)
            out[f.name] = encode(value) if isinstance(value, float) else value
        return out

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> Verdict:
        """Inverse of :meth:`to_dict` (missing optional keys take their defaults)."""
        return cls(
            definition=d["definition"],
            verdict=d["verdict"],
            statistic=decode(d.get("statistic")),
            ci_low=decode(d.get("ci_low")),
            ci_high=decode(d.get("ci_high")),
            iteration=_optional_int(d.get("iteration")),
            reason=d.get("reason", "") or "",
            statistic_name=d.get("statistic_name", "") or "",
            level=decode(d.get("level")),
            stability=decode(d.get("stability")),
            seeds_needed=_optional_int(d.get("seeds_needed")),
            iterations_needed=_optional_int(d.get("iterations_needed")),
        )


@dataclass(frozen=True)
class Profile:
    """The collapse profile of one run: one :class:`Verdict` per definition, in DEFINITIONS order.

    ``tests``: the number of rules the run could test (the Bonferroni divisor); ``level``: the
    two-sided level of each rule's interval."""

    verdicts: tuple[Verdict, ...]
    thresholds: Thresholds = field(default_factory=Thresholds)
    seeds: int = 0
    iterations: int = 0
    tests: int = 0

    @property
    def level(self) -> float:
        return self.thresholds.level(self.tests)

    def __getitem__(self, definition: str) -> Verdict:
        for v in self.verdicts:
            if v.definition == definition:
                return v
        raise KeyError(definition)

    def verdict(self, definition: str) -> str:
        """The verdict string of one definition."""
        return self[definition].verdict

    def to_frame(self) -> pd.DataFrame:
        """Tidy: one row per definition, columns :data:`PROFILE_COLUMNS`."""
        rows = [{c: getattr(v, c) for c in PROFILE_COLUMNS} for v in self.verdicts]
        frame = pd.DataFrame(rows, columns=list(PROFILE_COLUMNS))
        for c in ("iteration", "seeds_needed", "iterations_needed"):
            frame[c] = frame[c].astype("Int64")
        return frame

    def to_dict(self) -> dict[str, Any]:
        """JSON-safe dict for output and storage (see :meth:`from_dict`)."""
        return {
            "seeds": self.seeds,
            "iterations": self.iterations,
            "tests": self.tests,
            "level": self.level,
            "thresholds": self.thresholds.model_dump(),
            "verdicts": [v.to_dict() for v in self.verdicts],
        }

    def to_json(self, **kwargs: Any) -> str:
        """:meth:`to_dict` as strict JSON."""
        return json.dumps(self.to_dict(), allow_nan=False, **kwargs)

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> Profile:
        """Inverse of :meth:`to_dict`."""
        return cls(
            verdicts=tuple(Verdict.from_dict(v) for v in d["verdicts"]),
            thresholds=Thresholds(**d.get("thresholds", {})),
            seeds=int(d.get("seeds", 0)),
            iterations=int(d.get("iterations", 0)),
            tests=int(d.get("tests", 0)),
        )


# -- text of reasons --------------------------------------------------------------------------


def fmt(x: float | None) -> str:
    """A number in a reason: three significant digits, nan and +-inf spelled out."""
    if x is None or (isinstance(x, float) and math.isnan(x)):
        return "nan"
    if math.isinf(x):
        return "inf" if x > 0 else "-inf"
    return f"{x:.3g}"


def pct(x: float) -> str:
    """A share as a percentage in a reason."""
    return "nan" if math.isnan(x) else f"{100 * x:.3g}%"


def ci_text(low: float, high: float, level: float) -> str:
    """``99.3% CI a to b`` (the level with as many decimals as it needs)."""
    text = f"{100 * level:.1f}".rstrip("0").rstrip(".")
    return f"{text}% CI {fmt(low)} to {fmt(high)}"


__all__ = [
    "COLLAPSE", "INCONCLUSIVE", "NOT_MEASURED", "NO_COLLAPSE", "PROFILE_COLUMNS", "Profile",
    "Verdict", "ci_text", "decode", "encode", "fmt", "pct",
]
