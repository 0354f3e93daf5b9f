"""HTML building blocks of the atlas: escaping, numbers, tables, figures, links and the page
frame. No template engine: pages are plain string building, and every piece of text that comes
from the records or the evidence goes through :func:`esc`.

Accessibility and small screens, built in here so that no page can forget them:

* every page has a ``viewport`` meta and a navigation that wraps;
* every table has a caption, ``scope`` on its header cells and sits in a box that scrolls
  sideways on its own (``div.table-wrap``), so a wide table never widens the page;
* every chart is a ``<figure>``: its title and caption are HTML text (a ``<figcaption>``, which
  wraps at any width, instead of lines drawn in the SVG), the drawing has ``role="img"`` and an
  ``aria-label``, and its data are a table in a ``<details>`` element below it, so what the
  tooltips say is reachable without a mouse.
"""

from __future__ import annotations

import html
import json
import math
from typing import Any, Iterable, Sequence

#: the site's name (the index page's title, and every other page's title suffix)
SITE = "Model Collapse Atlas"
#: at most this many rows in a chart's data table (the downloads have all of them)
MAX_DATA_ROWS = 400


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
    """One page: a title, a body, its charts (id -> spec) and the path prefix to the site root.
    ``lead``: one sentence under the title saying what the page is about."""

    def __init__(self, title: str, root: str, lead: str = ""):
        self.title = title
        self.root = root
        self.lead = lead
        self.parts: list[str] = []
        self.specs: list[tuple[str, dict[str, Any]]] = []

    def add(self, text: str) -> None:
        self.parts.append(text)

    def chart(self, chart: Any, scale: float = 1.0, table: bool = True) -> None:
        """A chart as a figure: the drawing (``role="img"``, ``aria-label`` = its title and
        caption), the title and caption as HTML, and (``table``) its data in a ``<details>``."""
        from metaanalysis.present.charts import chart_spec, scale_spec

        n = len(self.specs)
        cid = f"chart-{n}"
        spec = chart_spec(chart)
        title, caption = spec_title(spec)
        spec.pop("title", None)
        spec["description"] = title  # Vega's aria-label of the drawing itself
        self.specs.append((cid, scale_spec(spec, scale) if scale != 1.0 else spec))
        label = title + (". " + caption if caption else "")
        parts = [f'<figure class="chart-figure" id="{cid}-figure">',
                 f'<figcaption><strong class="chart-title">{esc(title)}</strong>'
                 + (f' <span class="chart-caption">{esc(caption)}</span>' if caption else "") + "</figcaption>",
                 f'<div class="chart" role="img" aria-label="{esc(label)}">'
                 f'<div id="{cid}" data-spec="{cid}-spec"></div></div>']
        if table:
            parts.append(data_table(spec, f"Data of the chart “{title}”"))
        parts.append("</figure>")
        self.parts.append("\n".join(parts))

    def html(self) -> str:
        nav = (f'<header><nav aria-label="Site"><a class="home" href="{self.root}index.html">{SITE}</a>'
               f'<a href="{self.root}index.html#papers">Papers</a>'
               f'<a href="{self.root}index.html#definitions">Definitions</a>'
               f'<a href="{self.root}methodology.html">Methodology</a>'
               f'<a href="{self.root}index.html#downloads">Downloads</a></nav></header>')
        scripts = "".join(
            f'<script type="application/json" id="{cid}-spec">{_json_for_script(spec)}</script>\n'
            for cid, spec in self.specs
        )
        js = (f'<script src="{self.root}assets/vega.js"></script>\n' if self.specs else "")
        js += f'<script src="{self.root}assets/atlas.js"></script>\n'
        title = self.title if self.title == SITE else f"{self.title} · {SITE}"
        lead = f'<p class="lead">{self.lead}</p>\n' if self.lead else ""
        return (
            "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
            '<meta name="viewport" content="width=device-width, initial-scale=1">'
            f"<title>{esc(title)}</title>"
            f'<link rel="stylesheet" href="{self.root}assets/style.css"></head><body>{nav}<main>'
            f"<h1>{esc(self.title)}</h1>\n{lead}" + "\n".join(self.parts) + f"</main>\n{scripts}{js}</body></html>\n"
        )


def spec_title(spec: dict[str, Any]) -> tuple[str, str]:
    """(title, caption) of a Vega-Lite spec's top-level title (its text and subtitle lines)."""
    t = spec.get("title")
    if isinstance(t, str):
        return t, ""
    if not isinstance(t, dict):
        return "", ""
    text = t.get("text", "")
    text = " ".join(text) if isinstance(text, list) else str(text)
    sub = t.get("subtitle", "")
    sub = " ".join(sub) if isinstance(sub, list) else str(sub or "")
    return text, sub


def _json_for_script(spec: dict[str, Any]) -> str:
    """JSON that is safe inside a <script> element (no "</" can close it)."""
    return json.dumps(spec, allow_nan=False).replace("</", "<\\/")


def _tooltips(node: Any, data: Any, out: list[tuple[list[dict], list[tuple[str, str]]]],
              datasets: dict[str, list[dict]]) -> None:
    """Collect (rows, tooltip fields) pairs from a spec, each layer with the data it draws
    (inline, or named in the spec's ``datasets``)."""
    if isinstance(node, list):
        for x in node:
            _tooltips(x, data, out, datasets)
        return
    if not isinstance(node, dict):
        return
    own = node.get("data")
    if isinstance(own, dict) and isinstance(own.get("values"), list):
        data = own["values"]
    elif isinstance(own, dict) and own.get("name") in datasets:
        data = datasets[own["name"]]
    tips = (node.get("encoding") or {}).get("tooltip")
    if data and tips:
        fields = [(t["field"], t.get("title") or t["field"]) for t in (tips if isinstance(tips, list) else [tips])
                  if isinstance(t, dict) and t.get("field") and not t.get("aggregate") and not t.get("timeUnit")]
        if fields:
            out.append((data, fields))
    for key in ("layer", "hconcat", "vconcat", "concat", "spec"):
        if key in node:
            _tooltips(node[key], data, out, datasets)


def data_table(spec: dict[str, Any], caption: str) -> str:
    """The rows behind a chart's tooltips as a table in a ``<details>`` element (one table per
    distinct set of fields; at most :data:`MAX_DATA_ROWS` rows each)."""
    found: list[tuple[list[dict], list[tuple[str, str]]]] = []
    _tooltips(spec, None, found, spec.get("datasets") or {})
    groups: dict[tuple[tuple[str, str], ...], list[dict]] = {}
    seen: set[tuple[int, tuple]] = set()
    for rows, fields in found:
        key = tuple(fields)
        if (id(rows), key) in seen:
            continue
        seen.add((id(rows), key))
        groups.setdefault(key, []).extend(rows)
    if not groups:
        return ""
    tables = []
    for fields, rows in groups.items():
        unique = list(dict.fromkeys(tuple(_cell(r.get(f)) for f, _ in fields) for r in rows))
        shown = unique[:MAX_DATA_ROWS]
        note = (f" (the first {len(shown)} of {len(unique)} rows; the downloads have all of them)"
                if len(unique) > len(shown) else "")
        tables.append(html_table([t for _, t in fields], [[esc(c) for c in r] for r in shown], caption=caption + note))
    n = sum(len(rows) for rows in groups.values())
    return (f'<details class="chart-data"><summary>The data of this chart, as a table</summary>'
            f'{"".join(tables)}</details>' if n else "")


def _cell(v: Any) -> str:
    if isinstance(v, float):
        return number(v, ".4g")
    return "" if v is None else str(v)


def html_table(columns: Sequence[str], rows: Iterable[Sequence[str]], numeric: Sequence[int] = (),
               caption: str = "", table_id: str = "", sortable: bool = False,
               sort_keys: Sequence[Sequence[Any]] | None = None) -> str:
    """An HTML table in a box that scrolls sideways; cells are already-escaped HTML, headers
    plain text. ``caption`` (plain text) is shown above it; ``sortable`` gives every header a
    button that sorts by that column (``assets/atlas.js``), ``sort_keys`` per row and column
    the values to sort by (else the cell's text). A table of more than four columns is
    ``wide``: on a phone it keeps a readable width and scrolls in its box instead of squeezing
    its columns to a word each."""
    head = "".join(
        '<th scope="col"' + (' class="num"' if i in numeric else "") + ">"
        + (f'<button type="button" class="sort">{esc(c)}</button>' if sortable else esc(c)) + "</th>"
        for i, c in enumerate(columns))
    body = []
    for n, r in enumerate(rows):
        keys = sort_keys[n] if sort_keys is not None else None
        cells = []
        for i, c in enumerate(r):
            attrs = ' class="num"' if i in numeric else ""
            if keys is not None and keys[i] is not None:
                attrs += f' data-sort="{esc(keys[i])}"'
            cells.append(f"<td{attrs}>{c}</td>")
        body.append("<tr>" + "".join(cells) + "</tr>")
    ident = f' id="{esc(table_id)}"' if table_id else ""
    classes = (["sortable"] if sortable else []) + (["wide"] if len(columns) > 4 else [])
    cls = f' class="{" ".join(classes)}"' if classes else ""
    if len(columns) > 4:
        cls += f' style="--columns: {len(columns)}"'
    cap = f"<caption>{esc(caption)}</caption>" if caption else ""
    return (f'<div class="table-wrap"><table{ident}{cls}>{cap}<thead><tr>{head}</tr></thead>'
            f"<tbody>{''.join(body)}</tbody></table></div>")


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


__all__ = ["MAX_DATA_ROWS", "Page", "SITE", "ci_text", "data_table", "definition_link", "esc", "html_table",
           "is_missing", "number", "paper_link", "spec_title", "status_span", "verdict_span"]
