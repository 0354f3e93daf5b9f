"""The atlas's static assets: the script that draws every chart from its inline Vega-Lite spec
and makes tables sortable and filterable, the style sheet (its verdict colours from
:mod:`metaanalysis.present.style`, the one palette), and the Vega bundle
(``vl_convert.javascript_bundle()``), written once per site.

The script is plain JavaScript with no library (charts excepted): it works from ``file://``
with no network. Tables with class ``sortable`` get a sort button in every header cell
(``aria-sort`` says the order); an ``<input data-filter="TABLE_ID">`` hides the rows of that
table that do not contain every word typed, and an element ``data-count-for="TABLE_ID"`` says
how many rows are shown.
"""

from __future__ import annotations

from pathlib import Path

from metaanalysis.present.style import VERDICT_TEXT_COLOURS

ATLAS_JS = """// The atlas: charts from inline Vega-Lite specs, sortable and filterable tables (no network).
(function () {
  function render() {
    if (typeof vegaEmbed === "undefined") { return; }
    document.querySelectorAll("[data-spec]").forEach(function (node) {
      var script = document.getElementById(node.getAttribute("data-spec"));
      if (!script) { return; }
      var spec = JSON.parse(script.textContent);
      vegaEmbed(node, spec, {renderer: "svg", actions: false}).then(function () {
        node.setAttribute("data-rendered", "yes");
      }).catch(function (err) {
        node.setAttribute("data-rendered", "error");
        node.textContent = "This chart could not be drawn: " + err;
      });
    });
  }

  function cellValue(row, index) {
    var cell = row.cells[index];
    if (!cell) { return ""; }
    var key = cell.getAttribute("data-sort");
    return key !== null ? key : cell.textContent.trim();
  }

  function compare(a, b) {
    var x = parseFloat(a), y = parseFloat(b);
    var xn = a !== "" && !isNaN(x) && isFinite(a), yn = b !== "" && !isNaN(y) && isFinite(b);
    if (xn && yn) { return x - y; }
    if (xn !== yn) { return xn ? -1 : 1; }
    return a.localeCompare(b, undefined, {sensitivity: "base"});
  }

  function sortable(table) {
    var heads = table.tHead ? table.tHead.rows[0].cells : [];
    Array.prototype.forEach.call(heads, function (th, index) {
      var button = th.querySelector("button.sort");
      if (!button) { return; }
      button.addEventListener("click", function () {
        var ascending = th.getAttribute("aria-sort") !== "ascending";
        Array.prototype.forEach.call(heads, function (h) { h.removeAttribute("aria-sort"); });
        th.setAttribute("aria-sort", ascending ? "ascending" : "descending");
        var body = table.tBodies[0];
        var rows = Array.prototype.slice.call(body.rows);
        rows.sort(function (r, s) {
          var c = compare(cellValue(r, index), cellValue(s, index));
          return ascending ? c : -c;
        });
        rows.forEach(function (r) { body.appendChild(r); });
      });
    });
  }

  function filterable(input) {
    var table = document.getElementById(input.getAttribute("data-filter"));
    if (!table) { return; }
    var counter = document.querySelector("[data-count-for='" + table.id + "']");
    function apply() {
      var words = input.value.toLowerCase().split(/\\s+/).filter(Boolean);
      var shown = 0, rows = table.tBodies[0].rows;
      Array.prototype.forEach.call(rows, function (row) {
        var text = row.textContent.toLowerCase();
        var keep = words.every(function (w) { return text.indexOf(w) >= 0; });
        row.hidden = !keep;
        if (keep) { shown += 1; }
      });
      if (counter) { counter.textContent = "Showing " + shown + " of " + rows.length + "."; }
    }
    input.addEventListener("input", apply);
    apply();
  }

  function start() {
    document.querySelectorAll("table.sortable").forEach(sortable);
    document.querySelectorAll("input[data-filter]").forEach(filterable);
    render();
  }
  if (document.readyState === "loading") { document.addEventListener("DOMContentLoaded", start); }
  else { start(); }
})();
"""


def _verdict_css() -> str:
    v = VERDICT_TEXT_COLOURS
    return (
        f".v-collapse {{ color: {v['collapse']}; font-weight: 600; }} "
        f".v-no-collapse {{ color: {v['no-collapse']}; font-weight: 600; }}\n"
        f".v-mixed {{ color: {v['mixed']}; font-weight: 600; }} .v-not-measured {{ color: {v['not-measured']}; }}\n"
        f".v-inconclusive {{ color: {v['inconclusive']}; font-weight: 600; }}\n"
    )


STYLE = """
* { box-sizing: border-box; }
body { font-family: system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; margin: 0; color: #1a1a1a;
       line-height: 1.5; overflow-wrap: break-word; }
header { background: #0b3d5c; color: white; padding: 0.5em 1.5em; }
header nav { display: flex; flex-wrap: wrap; gap: 0.3em 1.2em; }
header a { color: white; text-decoration: none; font-weight: 600; }
header a:focus, header a:hover { text-decoration: underline; }
main { padding: 1em 1.5em 3em; max-width: 1500px; }
h1 { font-size: 1.6em; margin-bottom: 0.2em; } h2 { font-size: 1.25em; margin-top: 1.8em; border-bottom: 1px solid #ccc; }
.lead { font-size: 1.1em; max-width: 60em; margin-top: 0.2em; }
p, li { max-width: 75em; }
a { color: #005a8c; }
.table-wrap { overflow-x: auto; max-width: 100%; margin: 0.6em 0; }
table { border-collapse: collapse; font-size: 0.9em; }
caption { text-align: left; font-weight: 600; padding: 0.3em 0; caption-side: top; }
th, td { border: 1px solid #ccc; padding: 0.25em 0.5em; text-align: left; vertical-align: top; }
th { background: #f2f2f2; }
td.num, th.num { text-align: right; font-variant-numeric: tabular-nums; }
th button.sort { font: inherit; font-weight: 600; background: none; border: none; padding: 0; cursor: pointer;
                 color: inherit; text-align: inherit; }
th button.sort::after { content: " \\2195"; color: #595959; }
th[aria-sort="ascending"] button.sort::after { content: " \\2191"; }
th[aria-sort="descending"] button.sort::after { content: " \\2193"; }
.filter { margin: 0.5em 0; display: flex; flex-wrap: wrap; gap: 0.5em; align-items: center; }
.filter input { font: inherit; padding: 0.3em 0.5em; min-width: min(24em, 100%); border: 1px solid #767676; }
.chart-figure { margin: 1em 0 2em; max-width: 100%; }
.chart-figure figcaption { max-width: 75em; margin-bottom: 0.5em; }
.chart-title { display: block; font-size: 1.05em; }
.chart-caption { color: #333; font-size: 0.92em; }
.chart { overflow-x: auto; max-width: 100%; }
details.chart-data summary, details summary { cursor: pointer; color: #005a8c; }
.note { color: #444; font-size: 0.92em; }
.findings li { margin: 0.4em 0; }
.findings strong { font-variant-numeric: tabular-nums; }
.reproduced, .survives, .supported, .holds { color: #005a8c; font-weight: 600; }
.not-reproduced, .does-not-survive, .contradicted, .does-not-hold, .partly-contradicted { font-weight: 700; }
.partly-supported, .inconclusive, .open { font-style: italic; }
.untested, .not-applicable, .not-measured { color: #595959; }
pre { background: #f6f6f6; padding: 0.6em; overflow-x: auto; font-size: 0.85em; white-space: pre-wrap; }
ul.cols { columns: 3; }
.swatch { display: inline-block; width: 1.2em; height: 1.2em; vertical-align: middle; margin-right: 0.4em;
          border: 1px solid #999; }
.cite pre { max-width: 60em; }
@media (max-width: 700px) {
  main { padding: 0.8em 0.8em 2em; }
  header { padding: 0.5em 0.8em; }
  ul.cols { columns: 1; }
  h1 { font-size: 1.35em; }
  table { font-size: 0.85em; }
  table.wide { min-width: calc(var(--columns) * 6.5em); }
  table.wide td { min-width: 7em; }
}
"""


def style_sheet() -> str:
    """The style sheet, with the verdict colours of the palette."""
    return STYLE + _verdict_css()


def write_assets(out_dir: Path) -> None:
    """``assets/vega.js`` (once: kept when present and non-empty), ``atlas.js``, ``style.css``."""
    import vl_convert as vlc

    assets = Path(out_dir) / "assets"
    assets.mkdir(parents=True, exist_ok=True)
    vega = assets / "vega.js"
    stamp = assets / "vega.version"
    version = f"{vlc.__version__} {vlc.get_vega_version()} {vlc.get_vega_embed_version()}"
    if not vega.exists() or vega.stat().st_size == 0 or not stamp.exists() or stamp.read_text() != version:
        vega.write_text(vlc.javascript_bundle(), encoding="utf-8")
        stamp.write_text(version)
    (assets / "atlas.js").write_text(ATLAS_JS, encoding="utf-8")
    (assets / "style.css").write_text(style_sheet(), encoding="utf-8")


__all__ = ["ATLAS_JS", "STYLE", "style_sheet", "write_assets"]
