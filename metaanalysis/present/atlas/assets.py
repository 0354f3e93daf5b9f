"""The atlas's static assets: the script that draws every chart from its inline Vega-Lite spec, the
style sheet, and the Vega bundle (``vl_convert.javascript_bundle()``), written once per site.
"""

from __future__ import annotations

from pathlib import Path

ATLAS_JS = """// Render every chart of the page from its inline Vega-Lite spec (no network).
(function () {
  function render() {
    var nodes = document.querySelectorAll("[data-spec]");
    nodes.forEach(function (node) {
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
  if (document.readyState === "loading") { document.addEventListener("DOMContentLoaded", render); }
  else { render(); }
})();
"""


STYLE = """
body { font-family: system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; margin: 0; color: #222; line-height: 1.45; }
header { background: #0b3d5c; color: white; padding: 0.6em 1.5em; }
header a { color: white; margin-right: 1.2em; text-decoration: none; font-weight: 600; }
main { padding: 1em 1.5em 3em; max-width: 1500px; }
h1 { font-size: 1.5em; } h2 { font-size: 1.2em; margin-top: 1.8em; border-bottom: 1px solid #ccc; }
table { border-collapse: collapse; margin: 0.6em 0; font-size: 0.9em; }
th, td { border: 1px solid #ccc; padding: 0.25em 0.5em; text-align: left; vertical-align: top; }
th { background: #f2f2f2; }
td.num { text-align: right; font-variant-numeric: tabular-nums; }
.chart { margin: 1em 0; overflow-x: auto; }
.note { color: #555; font-size: 0.9em; }
.v-collapse { color: #B34700; font-weight: 600; } .v-no-collapse { color: #00795A; font-weight: 600; }
.v-mixed { color: #A0528A; font-weight: 600; } .v-not-measured { color: #777; }
.v-inconclusive { color: #8a6d00; font-weight: 600; }
.supported, .reproduced, .survives { color: #00795A; font-weight: 600; }
.contradicted, .not-reproduced, .does-not-survive { color: #B34700; font-weight: 600; }
.partly-supported, .partly-contradicted, .inconclusive, .open { color: #8a6d00; font-weight: 600; }
.untested, .not-applicable, .not-measured { color: #777; }
.holds { color: #00795A; font-weight: 600; } .does-not-hold { color: #B34700; font-weight: 600; }
pre { background: #f6f6f6; padding: 0.6em; overflow-x: auto; font-size: 0.85em; white-space: pre-wrap; }
ul.cols { columns: 3; }
"""


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
    (assets / "style.css").write_text(STYLE, encoding="utf-8")


__all__ = ["ATLAS_JS", "STYLE", "write_assets"]
