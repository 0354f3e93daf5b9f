"""HTML building blocks of the atlas: escaping, numbers, tables, links and the page frame. No
template engine: pages are plain string building, and every piece of text that comes from the
records or the evidence goes through :func:`esc`.
"""

from __future__ import annotations

import html
import json
import math
from typing import Any, Iterable, Sequence


def esc(value: Any) -> str:
    """Text for HTML (None -> empty)."""
    return "" if value is None else html.escape(str(value), quote=True)


def number(x: Any, fmt: str = ".3g") -> str:
    try:
        f = float(x)
    except (TypeError, ValueError):
        return ""
    if math.isnan(f):
        return ""
    if math.isinf(f):
        return "inf" if f > 0 else "-inf"
    return format(f, fmt)


def verdict_span(v: Any) -> str:
    if not v:
        return ""
    return f'<span class="v-{esc(v)}">{esc(v)}</span>'


class Page:
    """One page: a title, a body, its charts (id -> spec) and the path prefix to the site root."""

    def __init__(self, title: str, root: str):
        self.title = title
        self.root = root
        self.parts: list[str] = []
        self.specs: list[tuple[str, dict[str, Any]]] = []

    def add(self, text: str) -> None:
        self.parts.append(text)

    def chart(self, chart: Any, scale: float = 1.0) -> None:
        from metaanalysis.present.charts import chart_spec, scale_spec

        n = len(self.specs)
        cid = f"chart-{n}"
        spec = chart_spec(chart)
        self.specs.append((cid, scale_spec(spec, scale) if scale != 1.0 else spec))
        self.parts.append(f'<div class="chart" id="{cid}" data-spec="{cid}-spec"></div>')

    def html(self) -> str:
        nav = (f'<header><a href="{self.root}index.html">Model Collapse Atlas</a>'
               f'<a href="{self.root}index.html#papers">Papers</a>'
               f'<a href="{self.root}index.html#definitions">Definitions</a>'
               f'<a href="{self.root}methodology.html">Methodology</a></header>')
        scripts = "".join(
            f'<script type="application/json" id="{cid}-spec">{_json_for_script(spec)}</script>\n'
            for cid, spec in self.specs
        )
        js = (f'<script src="{self.root}assets/vega.js"></script>\n<script src="{self.root}assets/atlas.js"></script>\n'
              if self.specs else "")
        return (
            "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
            f"<title>{esc(self.title)} · Model Collapse Atlas</title>"
            f'<link rel="stylesheet" href="{self.root}assets/style.css"></head><body>{nav}<main>'
            f"<h1>{esc(self.title)}</h1>\n" + "\n".join(self.parts) + f"</main>\n{scripts}{js}</body></html>\n"
        )


def _json_for_script(spec: dict[str, Any]) -> str:
    """JSON that is safe inside a <script> element (no "</" can close it)."""
    return json.dumps(spec, allow_nan=False).replace("</", "<\\/")


def html_table(columns: Sequence[str], rows: Iterable[Sequence[str]], numeric: Sequence[int] = ()) -> str:
    """An HTML table; cells are already-escaped HTML."""
    head = "".join(f"<th>{esc(c)}</th>" for c in columns)
    body = []
    for r in rows:
        body.append("<tr>" + "".join(
            f'<td class="num">{c}</td>' if i in numeric else f"<td>{c}</td>" for i, c in enumerate(r)) + "</tr>")
    return f"<table><thead><tr>{head}</tr></thead><tbody>{''.join(body)}</tbody></table>"


def paper_link(key: str, label: str, root: str) -> str:
    return f'<a href="{root}papers/{esc(key)}.html">{esc(label)}</a>'


def definition_link(d: str, root: str, text: str | None = None) -> str:
    return f'<a href="{root}definitions/{esc(d)}.html">{esc(text or d)}</a>'


def status_span(status: str) -> str:
    return f'<span class="{esc(status.replace(" ", "-"))}">{esc(status)}</span>'


def ci_text(low: Any, high: Any) -> str:
    """``[low, high]``, or a dash when the interval is not defined (e.g. not measured)."""
    lo, hi = number(low), number(high)
    return f"[{lo}, {hi}]" if lo and hi else "—"


def is_missing(x: Any) -> bool:
    try:
        import pandas as pd

        return bool(pd.isna(x))
    except (TypeError, ValueError):
        return False


__all__ = ["Page", "ci_text", "definition_link", "esc", "html_table", "is_missing", "number", "paper_link",
           "status_span", "verdict_span"]
