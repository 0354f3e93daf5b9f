"""The look shared by every chart: the palette (Okabe & Ito's colour-blind-safe colours,
https://jfly.uni-koeln.de/color/) and the helpers that give charts titles, colour scales and
JSON-safe inline data. altair is imported inside the functions.
"""

from __future__ import annotations

import math
import textwrap
from typing import Any, Sequence

#: Okabe-Ito colours
OKABE_ITO = {
    "black": "#000000", "orange": "#E69F00", "sky blue": "#56B4E9", "bluish green": "#009E73",
    "yellow": "#F0E442", "blue": "#0072B2", "vermillion": "#D55E00", "reddish purple": "#CC79A7",
}


VERDICT_COLOURS = {"collapse": "#D55E00", "no-collapse": "#009E73", "mixed": "#CC79A7", "inconclusive": "#8C8C8C",
                   "not-measured": "#D9D9D9"}


VERDICT_LETTERS = {"collapse": "C", "no-collapse": "N", "mixed": "M", "inconclusive": "?", "not-measured": "·"}


VARIANT_COLOURS = {"published": "#0072B2", "realistic": "#E69F00", "control": "#56B4E9"}


FAMILY_COLOURS = {"population risk": "#0072B2", "scaling": "#CC79A7", "distribution": "#009E73"}


POLICY_COLOURS = {"replace": "#D55E00", "accumulate": "#009E73", "accumulate-subsample": "#56B4E9",
                  "mix": "#E69F00", "fresh": "#CC79A7"}


OUTCOME_COLOURS = {"collapse": "#D55E00", "no-collapse": "#009E73", "mixed": "#CC79A7"}


SUPPORT_COLOURS = {"unweighted": "#000000", "realism-weighted": "#E69F00"}


def chart_title(text: str, caption: str, width: int = 100) -> Any:
    import altair as alt

    return alt.TitleParams(text, subtitle=textwrap.wrap(caption, width), anchor="start", subtitleColor="#333333")


def colour_scale(colours: dict[str, str], domain: Sequence[str] | None = None) -> Any:
    import altair as alt

    keys = list(domain) if domain is not None else list(colours)
    return alt.Scale(domain=keys, range=[colours[k] for k in keys])


def inline_data(frame: Any) -> Any:
    """Inline data for a chart: records with non-finite floats as None (JSON-safe)."""
    import altair as alt

    rows = []
    for r in frame.to_dict(orient="records"):
        clean = {}
        for k, v in r.items():
            if hasattr(v, "item") and not isinstance(v, (str, bytes)):
                try:
                    v = v.item()
                except (ValueError, AttributeError):
                    pass
            if isinstance(v, float) and not math.isfinite(v):
                v = None
            elif v is not None and not isinstance(v, (str, int, float, bool)):
                v = None if is_missing(v) else str(v)
            clean[str(k)] = v
        rows.append(clean)
    return alt.Data(values=rows)


def is_missing(v: Any) -> bool:
    try:
        import pandas as pd

        return bool(pd.isna(v))
    except (TypeError, ValueError):
        return False


def empty_chart(title: str, message: str) -> Any:
    """A chart that says there is nothing to show (instead of failing)."""
    import altair as alt

    return alt.Chart(alt.Data(values=[{"message": message}])).mark_text(fontSize=13, align="left").encode(
        text="message:N").properties(width=420, height=40, title=chart_title(title, message))


__all__ = ["FAMILY_COLOURS", "OKABE_ITO", "OUTCOME_COLOURS", "POLICY_COLOURS", "SUPPORT_COLOURS",
           "VARIANT_COLOURS", "VERDICT_COLOURS", "VERDICT_LETTERS", "chart_title", "colour_scale",
           "empty_chart", "inline_data", "is_missing"]
