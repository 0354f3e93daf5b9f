"""The look shared by every chart and page: one palette, the helpers that give charts titles,
colour scales and JSON-safe inline data, and the colour arithmetic the palette is checked with.
altair is imported inside the functions.

The palette
    * **Verdict colours mean verdicts only, everywhere** (:data:`VERDICT_COLOURS`): collapse
      vermillion, no-collapse bluish green (both from Okabe & Ito's colour-blind-safe set,
      https://jfly.uni-koeln.de/color/), mixed a muted purple and inconclusive a dark grey. The
      purple and the grey are not Okabe & Ito's: their reddish purple and mid grey cannot be
      told from the green under deuteranopia (colour distance below 10 after Machado et al.'s
      2009 simulation); these two keep every pair of verdict colours at least 20 apart
      (CIE76 Delta E in L*a*b*) for a deuteranope, and every verdict colour at 3:1 contrast or
      more against a white page (WCAG 2.1, non-text contrast). Not measured has no colour: it is
      drawn as an empty cell.
    * **Everything else is blue, black or ochre** (:data:`CATEGORY_COLOURS`): the variants of a
      rerun (published, realistic, control), the two counts of the support chart, the usage of
      a definition, and single-series bars. Charts whose categories are already spelled on an
      axis (data policies, definition families) use one colour and facets instead of a colour
      per category.
    * Sequential quantities (realism scores) use a single-hue blue scheme.
    * Text in a verdict colour (the tables of the pages) uses :data:`VERDICT_TEXT_COLOURS`, the
      same hues darkened to 4.5:1 against white (WCAG's contrast for body text).

Every colour in the chart palettes is checked by ``tests/test_atlas_palette.py`` with
:func:`contrast_ratio` and :func:`deuteranopia_distance`.
"""

from __future__ import annotations

import math
import textwrap
from typing import Any, Sequence

#: Okabe-Ito colours (the source of most hues below)
OKABE_ITO = {
    "black": "#000000", "orange": "#E69F00", "sky blue": "#56B4E9", "bluish green": "#009E73",
    "yellow": "#F0E442", "blue": "#0072B2", "vermillion": "#D55E00", "reddish purple": "#CC79A7",
}

#: fills of the verdicts that can be drawn (``not-measured`` is drawn as an empty cell)
VERDICT_COLOURS = {"collapse": "#D55E00", "no-collapse": "#009E73", "mixed": "#AA77BB", "inconclusive": "#4D4D4D"}

#: the same hues as text on white, at 4.5:1 or more
VERDICT_TEXT_COLOURS = {"collapse": "#B34700", "no-collapse": "#00795A", "mixed": "#85508F",
                        "inconclusive": "#4D4D4D", "not-measured": "#595959"}

#: how each verdict is written in legends (the ids stay the vocabulary's)
VERDICT_NAMES = {"collapse": "collapse", "no-collapse": "no collapse", "mixed": "setups disagree (mixed)",
                 "inconclusive": "inconclusive", "not-measured": "not measured"}

#: one-letter verdicts, for cells too small for a word and for readers without colour
VERDICT_LETTERS = {"collapse": "C", "no-collapse": "N", "mixed": "M", "inconclusive": "?", "not-measured": ""}

#: the non-verdict hues
BLUE, INK, OCHRE, NAVY = "#0072B2", "#1A1A1A", "#8C6D1F", "#1B2A80"
CATEGORY_COLOURS = {"blue": BLUE, "ink": INK, "ochre": OCHRE, "navy": NAVY}

#: reruns of a setup: colour, line dash and point shape differ, so each can be told apart alone
VARIANT_COLOURS = {"published": BLUE, "realistic": OCHRE, "control": INK}
VARIANT_DASHES = {"published": [1, 0], "realistic": [6, 3], "control": [2, 2]}
VARIANT_SHAPES = {"published": "circle", "realistic": "square", "control": "triangle-up"}

#: explicit / implicit use of a definition (bars of the usage chart)
USAGE_BAR_COLOURS = {"explicit": NAVY, "implicit": BLUE}

#: unweighted / realism-weighted counts of the support chart
SUPPORT_COLOURS = {"unweighted": INK, "realism-weighted": BLUE}

#: claimed outcomes are verdicts a paper claims: the verdict colours
OUTCOME_COLOURS = {k: VERDICT_COLOURS[k] for k in ("collapse", "no-collapse", "mixed")}

#: sequential scheme of quantities between 0 and 1 (Vega's scheme name)
SEQUENTIAL_SCHEME = "blues"

#: the smallest font size (px) of any chart text
MIN_FONT = 11

#: the configuration added to every chart: fonts of at least :data:`MIN_FONT` px
CHART_CONFIG: dict[str, Any] = {
    "axis": {"labelFontSize": MIN_FONT, "titleFontSize": 12},
    "legend": {"labelFontSize": MIN_FONT, "titleFontSize": 12, "symbolSize": 120},
    "header": {"labelFontSize": 12, "titleFontSize": 12},
    "title": {"fontSize": 15, "subtitleFontSize": 12},
    "text": {"fontSize": MIN_FONT},
    "view": {"stroke": None},
}


def chart_title(text: str, caption: str, width: int = 100) -> Any:
    import altair as alt

    return alt.TitleParams(text, subtitle=textwrap.wrap(caption, width), anchor="start", subtitleColor="#333333")


def colour_scale(colours: dict[str, str], domain: Sequence[str] | None = None) -> Any:
    import altair as alt

    keys = list(domain) if domain is not None else list(colours)
    return alt.Scale(domain=keys, range=[colours[k] for k in keys])


def clean_records(frame: Any) -> list[dict[str, Any]]:
    """A frame's rows as JSON-safe records: numpy scalars as Python ones, non-finite floats and
    missing values as None."""
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
    return rows


def inline_data(frame: Any) -> Any:
    """Inline data for a chart: records with non-finite floats as None (JSON-safe)."""
    import altair as alt

    return alt.Data(values=clean_records(frame))


class SpecChart:
    """A chart given as its Vega-Lite specification, for charts assembled as dicts (altair copies
    every sub-chart each time charts are combined, which for a hundred panels costs seconds).
    It answers ``to_dict`` like an altair chart; ``validate=True`` (altair's default) checks the
    specification against Vega-Lite's schema with altair, as the tests do."""

    def __init__(self, spec: dict[str, Any]):
        self.spec = spec

    def to_dict(self, validate: bool = True, **_: Any) -> dict[str, Any]:
        import copy

        if validate:
            import altair as alt

            alt.TopLevelVConcatSpec.from_dict({k: v for k, v in self.spec.items() if k != "$schema"}, validate=True)
        return copy.deepcopy(self.spec)


class Datasets:
    """The data of a chart made of many panels, kept by name and attached once to the top-level
    chart (``datasets``). altair copies every sub-chart, inline data included, each time charts
    are combined; a panel that names its data is copied without it (the trajectories of every
    paper page went from about 40 s to a few)."""

    def __init__(self, prefix: str):
        self.prefix = prefix
        self.values: dict[str, list[dict[str, Any]]] = {}

    def add(self, frame: Any) -> Any:
        import altair as alt

        name = f"{self.prefix}-{len(self.values)}"
        self.values[name] = clean_records(frame)
        return alt.Data(name=name)

    def attach(self, chart: Any) -> Any:
        chart.datasets = self.values
        return chart


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


# -- colour arithmetic (checks of the palette) ---------------------------------------------------

#: Machado, Oliveira & Fernandes (2009), deuteranopia at severity 1, on linear RGB
DEUTERANOPIA = ((0.367322, 0.860646, -0.227968), (0.280085, 0.672501, 0.047413), (-0.011820, 0.042940, 0.968881))


def _linear(colour: str) -> tuple[float, float, float]:
    c = colour.lstrip("#")
    channels = [int(c[i:i + 2], 16) / 255 for i in (0, 2, 4)]
    return tuple(x / 12.92 if x <= 0.04045 else ((x + 0.055) / 1.055) ** 2.4 for x in channels)  # type: ignore[return-value]


def luminance(colour: str) -> float:
    """WCAG 2.1 relative luminance of ``#RRGGBB``."""
    r, g, b = _linear(colour)
    return 0.2126 * r + 0.7152 * g + 0.0722 * b


def contrast_ratio(a: str, b: str = "#FFFFFF") -> float:
    """WCAG 2.1 contrast ratio of two colours (1 to 21)."""
    la, lb = sorted((luminance(a), luminance(b)))
    return (lb + 0.05) / (la + 0.05)


def _lab(rgb: Sequence[float]) -> tuple[float, float, float]:
    r, g, b = rgb
    x = (0.4124 * r + 0.3576 * g + 0.1805 * b) / 0.95047
    y = 0.2126 * r + 0.7152 * g + 0.0722 * b
    z = (0.0193 * r + 0.1192 * g + 0.9505 * b) / 1.08883

    def f(t: float) -> float:
        return t ** (1 / 3) if t > 0.008856 else 7.787 * t + 16 / 116

    return 116 * f(y) - 16, 500 * (f(x) - f(y)), 200 * (f(y) - f(z))


def simulate_deuteranopia(colour: str) -> tuple[float, float, float]:
    """The linear RGB a deuteranope sees for ``colour`` (Machado et al. 2009, severity 1)."""
    lin = _linear(colour)
    return tuple(min(1.0, max(0.0, sum(m * c for m, c in zip(row, lin)))) for row in DEUTERANOPIA)  # type: ignore[return-value]


def colour_distance(a: str, b: str, deuteranopia: bool = False) -> float:
    """CIE76 Delta E between two colours in L*a*b*, as seen with normal vision or, with
    ``deuteranopia``, after :func:`simulate_deuteranopia` (about 2.3 is a just noticeable
    difference; the palette asks for 20)."""
    pa = simulate_deuteranopia(a) if deuteranopia else _linear(a)
    pb = simulate_deuteranopia(b) if deuteranopia else _linear(b)
    return math.dist(_lab(pa), _lab(pb))


def text_colour_on(fill: str) -> str:
    """Black or white, whichever contrasts more with ``fill`` (letters in coloured cells)."""
    return "#000000" if contrast_ratio(fill, "#000000") >= contrast_ratio(fill, "#FFFFFF") else "#FFFFFF"


__all__ = ["BLUE", "CATEGORY_COLOURS", "CHART_CONFIG", "INK", "MIN_FONT", "NAVY", "OCHRE", "OKABE_ITO",
           "OUTCOME_COLOURS", "SEQUENTIAL_SCHEME", "SUPPORT_COLOURS", "USAGE_BAR_COLOURS", "VARIANT_COLOURS",
           "VARIANT_DASHES", "VARIANT_SHAPES", "VERDICT_COLOURS", "VERDICT_LETTERS", "VERDICT_NAMES",
           "VERDICT_TEXT_COLOURS", "Datasets", "SpecChart", "chart_title", "clean_records", "colour_distance", "colour_scale", "contrast_ratio",
           "empty_chart", "inline_data", "is_missing", "luminance", "simulate_deuteranopia", "text_colour_on"]
