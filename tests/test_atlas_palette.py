"""One palette for every chart (metaanalysis/present/style.py): verdict colours mean verdicts
only, stay apart for a reader with deuteranopia, and every mark reaches WCAG's 3:1 contrast
against the page; chart text is at least 11 px. Checked on the colour values and on the
specifications of every chart, built from fixture records and real runs of every variant."""

from __future__ import annotations

import itertools
import re
from pathlib import Path
from typing import Any, Iterator

import pytest

from metaanalysis.annotations.validation import load_database
from metaanalysis.present.charts import CHART_NAMES, all_charts, chart_spec, unvalidated
from metaanalysis.present.charts_matrix import EMPTY_FILL, FILLS
from metaanalysis.present.style import (
    CATEGORY_COLOURS,
    MIN_FONT,
    SUPPORT_COLOURS,
    USAGE_BAR_COLOURS,
    VARIANT_COLOURS,
    VERDICT_COLOURS,
    VERDICT_TEXT_COLOURS,
    colour_distance,
    contrast_ratio,
    simulate_deuteranopia,
    text_colour_on,
)

GOOD = Path(__file__).resolve().parent / "fixtures" / "annotations" / "good"
HEX = re.compile(r"^#[0-9A-Fa-f]{6}$")
#: fields whose scales may use verdict colours: verdicts, and the outcomes papers claim
VERDICT_FIELDS = {"verdict", "published_fill", "realistic_fill", "fill", "corner", "outcome"}
WHITE = "#FFFFFF"


def test_contrast_and_distance_arithmetic():
    assert contrast_ratio("#000000", WHITE) == pytest.approx(21.0)
    assert contrast_ratio("#777777", WHITE) == pytest.approx(4.48, abs=0.01)  # WCAG's classic grey
    assert colour_distance("#D55E00", "#D55E00", deuteranopia=True) == 0
    # a deuteranope cannot tell pure red from a yellow-olive of the same lightness (Machado 2009)
    assert colour_distance("#FF0000", "#00FF00") > 150 and colour_distance("#FF0000", "#00FF00", True) < 60
    # blue survives the simulation
    assert simulate_deuteranopia("#0000FF")[2] > 0.9


def test_verdict_colours_stand_out_on_the_page_and_for_deuteranopes():
    for verdict, colour in VERDICT_COLOURS.items():
        assert contrast_ratio(colour) >= 3.0, verdict  # a mark against the white page
        ink = text_colour_on(colour)
        assert contrast_ratio(colour, ink) >= 4.5, verdict  # its letter (C, N, E, I) in the cell
    for a, b in itertools.combinations(VERDICT_COLOURS, 2):
        assert colour_distance(VERDICT_COLOURS[a], VERDICT_COLOURS[b]) >= 30, (a, b)
        assert colour_distance(VERDICT_COLOURS[a], VERDICT_COLOURS[b], deuteranopia=True) >= 20, (a, b)
    for verdict, colour in VERDICT_TEXT_COLOURS.items():
        assert contrast_ratio(colour) >= 4.5, verdict  # body text on white


def test_other_categories_never_look_like_a_verdict():
    others = {**CATEGORY_COLOURS, **{f"variant {k}": v for k, v in VARIANT_COLOURS.items()},
              **{f"support {k}": v for k, v in SUPPORT_COLOURS.items()},
              **{f"usage {k}": v for k, v in USAGE_BAR_COLOURS.items()}}
    for name, colour in others.items():
        assert contrast_ratio(colour) >= 3.0, name
        for verdict, v in VERDICT_COLOURS.items():
            assert colour_distance(colour, v) >= 15, (name, verdict)
    for a, b in itertools.combinations(VARIANT_COLOURS, 2):  # reruns differ by colour too
        assert colour_distance(VARIANT_COLOURS[a], VARIANT_COLOURS[b]) >= 20, (a, b)


@pytest.fixture(scope="module")
def specs() -> dict[str, dict[str, Any]]:
    import simulators

    from metaanalysis.analysis.frames import RunEvidence, evidence_from_runs

    db = load_database(GOOD)
    runs = []
    for variant, policy, iterations in (("published", "replace", 10), ("realistic", "accumulate", 8),
                                        ("control", "replace", 8)):
        frame = simulators.run("gaussian", policy=policy, seeds=5, iterations=iterations, n=20, dim=1)
        runs.append(RunEvidence("shumailov2023curse", "gaussian-replace", variant, policy, frame,
                                simulators.profile(frame), run_id=f"run-{variant}", simulator="gaussian"))
    with unvalidated():
        charts = all_charts(db.papers, db.realism, evidence_from_runs(runs), href_root="papers/")
        return {name: chart_spec(chart) for name, chart in charts.items()}


def _nodes(node: Any, parent_key: str = "") -> Iterator[tuple[str, dict[str, Any]]]:
    if isinstance(node, dict):
        yield parent_key, node
        for k, v in node.items():
            if k not in ("data", "datasets", "values"):
                yield from _nodes(v, k)
    elif isinstance(node, list):
        for x in node:
            yield from _nodes(x, parent_key)


def test_every_chart_is_built(specs):
    assert set(specs) == set(CHART_NAMES)


def test_verdict_colours_colour_verdicts_only(specs):
    verdict_hex = {c.upper() for c in VERDICT_COLOURS.values()}
    verdict_scales = 0
    for name, spec in specs.items():
        for key, node in _nodes(spec):
            scale = node.get("scale") if isinstance(node.get("scale"), dict) else None
            colours = [c for c in (scale or {}).get("range", []) if isinstance(c, str) and HEX.match(c)]
            if colours and {c.upper() for c in colours} & verdict_hex:
                assert node.get("field") in VERDICT_FIELDS, (name, key, node.get("field"))
                verdict_scales += 1
            mark = node.get("mark") if isinstance(node.get("mark"), dict) else {}
            for prop in ("color", "fill", "stroke"):
                value = mark.get(prop)
                if isinstance(value, str) and HEX.match(value):
                    assert value.upper() not in verdict_hex, (name, prop, value)
    assert verdict_scales >= 3  # the matrix's fill and corner, the profiles


def test_every_coloured_mark_reaches_3_to_1_against_the_page(specs):
    seen = 0
    for name, spec in specs.items():
        for _, node in _nodes(spec):
            scale = node.get("scale") if isinstance(node.get("scale"), dict) else None
            for c in (scale or {}).get("range", []):
                if isinstance(c, str) and HEX.match(c) and c.upper() not in (EMPTY_FILL, WHITE):
                    assert contrast_ratio(c) >= 3.0, (name, c)
                    seen += 1
            mark = node.get("mark") if isinstance(node.get("mark"), dict) else {}
            for prop in ("color", "fill"):
                c = mark.get(prop)
                if isinstance(c, str) and HEX.match(c) and c.upper() not in (EMPTY_FILL, WHITE):
                    assert contrast_ratio(c) >= 3.0, (name, prop, c)
                    seen += 1
    assert seen > 20
    # the one light fill is the grid's own background: a cell with no verdict
    assert FILLS["none"] == EMPTY_FILL and contrast_ratio(EMPTY_FILL) < 1.2


def test_chart_text_is_at_least_11_px(specs):
    for name, spec in specs.items():
        config = spec.get("config", {})
        for part in ("axis", "legend", "header"):
            assert config.get(part, {}).get("labelFontSize", 0) >= MIN_FONT, (name, part)
        assert config.get("text", {}).get("fontSize", 0) >= MIN_FONT, name
        for _, node in _nodes(spec):
            for key, value in node.items():
                if key.lower().endswith("fontsize") and isinstance(value, (int, float)):
                    assert value >= MIN_FONT, (name, key, value)
