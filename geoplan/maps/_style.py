"""Look of geoplan maps: colours, SVG markers, page CSS/JS, folium parts.

Private helpers of :mod:`geoplan.maps.canvas`. Nothing here needs jQuery, Bootstrap or an icon
font: markers are inline SVG, popups are plain HTML bound by Leaflet itself, so a page
works offline once Leaflet is inlined (:mod:`geoplan.maps._html`).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np
import shapely
from branca.element import MacroElement
from folium.map import Layer
from jinja2 import Template

from geoplan.maps._html import esc, js_json


def num(value: Any, digits: int = 0) -> str:
    try:
        v = float(value)
    except (TypeError, ValueError):
        return "–"
    if not math.isfinite(v):
        return "–"
    return f"{v:,.{digits}f}"


def pct(value: Any) -> str:
    try:
        v = float(value)
    except (TypeError, ValueError):
        return "–"
    return f"{v:.1%}" if math.isfinite(v) else "–"


# --------------------------------------------------------------------------- styles
#: Marker shape, colour and size (px) per facility type; other types get a grey circle.
FACILITY_STYLE: dict[str, tuple[str, str, int]] = {
    "tertiary_hospital": ("cross", "#b2182b", 22),
    "secondary_hospital": ("cross", "#d6604d", 18),
    "primary_hospital": ("cross", "#f4a582", 15),
    "tcm_hospital": ("cross", "#8c510a", 16),
    "rural_regional_centre": ("hexagon", "#1b7837", 18),
    "township_health_centre": ("circle", "#5aae61", 13),
    "community_health_centre": ("circle", "#2166ac", 13),
    "community_health_station": ("circle", "#67a9cf", 10),
    "village_clinic": ("circle", "#35978f", 8),
    "insurance_service_point": ("diamond", "#762a83", 13),
    "emergency_station": ("triangle", "#e7298a", 14),
    "function_centre": ("diamond", "#01665e", 14),
}
DEFAULT_STYLE = ("circle", "#636363", 10)
NEW_SITE = ("star", "#ff00cc", 24)
UPGRADED_RING = "#ff7f00"
#: Outline of planning zones (balanced plans).
ZONE_COLOUR = "#08306b"
POP_COLOURS = ("#ffffcc", "#ffeda0", "#fed976", "#feb24c", "#fd8d3c", "#f03b20", "#bd0026")
COVER_COLOURS = ("#08519c", "#3182bd", "#6baed6", "#9ecae1", "#c6dbef")
AFTER_COLOURS = ("#006d2c", "#31a354", "#74c476", "#a1d99b", "#c7e9c0")
SHARE_CLASSES = ((0.50, "#d7191c"), (0.70, "#fdae61"), (0.85, "#ffffbf"), (0.95, "#a6d96a"),
                  (math.inf, "#1a9641"))
#: Gaps in violet: apart from the yellow-red population palette and the red share classes
GAP_COLOUR = "#6a1b9a"
#: The residents farthest from any site (p-center maps)
WORST_COLOUR = "#000000"


def svg_marker(shape: str, colour: str, size: int, ring: str | None = None) -> str:
    """Inline SVG marker (no icon font, works offline)."""
    s = size
    h = s / 2
    stroke = 'stroke="#222" stroke-width="1"'
    if shape == "cross":
        body = (f'<rect x="1" y="1" width="{s - 2}" height="{s - 2}" rx="2" fill="{colour}" '
                f'{stroke}/><path d="M{h} {s * .22}V{s * .78}M{s * .22} {h}H{s * .78}" '
                f'stroke="#fff" stroke-width="{max(2, s // 6)}"/>')
    elif shape == "diamond":
        body = f'<path d="M{h} 1L{s - 1} {h}L{h} {s - 1}L1 {h}Z" fill="{colour}" {stroke}/>'
    elif shape == "triangle":
        body = f'<path d="M{h} 1L{s - 1} {s - 1}H1Z" fill="{colour}" {stroke}/>'
    elif shape == "hexagon":
        pts = " ".join(f"{h + (h - 1) * math.cos(a):.1f},{h + (h - 1) * math.sin(a):.1f}"
                       for a in np.arange(6) * math.pi / 3)
        body = f'<polygon points="{pts}" fill="{colour}" {stroke}/>'
    elif shape == "star":
        ang = np.arange(10) * math.pi / 5 - math.pi / 2
        rad = np.where(np.arange(10) % 2 == 0, h - 1, (h - 1) * 0.45)
        pts = " ".join(f"{h + r * math.cos(a):.1f},{h + r * math.sin(a):.1f}"
                       for a, r in zip(ang, rad, strict=True))
        body = f'<polygon points="{pts}" fill="{colour}" stroke="#000" stroke-width="1.5"/>'
    else:
        body = f'<circle cx="{h}" cy="{h}" r="{h - 1}" fill="{colour}" {stroke}/>'
    if ring:
        body = (f'<circle cx="{h}" cy="{h}" r="{h - 1.5}" fill="none" stroke="{ring}" '
                f'stroke-width="3"/>') + body.replace(f"{h - 1}", f"{h - 4}", 1)
    return (f'<svg xmlns="http://www.w3.org/2000/svg" width="{s}" height="{s}" '
            f'viewBox="0 0 {s} {s}">{body}</svg>')


# --------------------------------------------------------------------------- folium parts
class GeoLayer(Layer):
    """A GeoJSON layer with per-feature style, SVG icons, popups and tooltips.

    Feature properties used: ``_s`` (path style), ``_i`` (icon key into ``icons``),
    ``_c`` (circle-marker style), ``_l`` (text label), ``_p`` (popup HTML), ``_t``
    (tooltip text). Nothing here needs jQuery or an icon font.
    """

    _template = Template("""
        {% macro script(this, kwargs) %}
        var {{ this.get_name() }} = L.geoJson({{ this.data }}, {
            pane: {{ this.pane }},
            style: function (f) { return f.properties._s || {{ this.style }}; },
            pointToLayer: function (f, ll) {
                return geoplanPoint(f, ll, {{ this.icons }}, {{ this.pane }});
            },
            onEachFeature: function (f, l) {
                if (f.properties._p) { l.bindPopup(f.properties._p, {maxWidth: 340}); }
                if (f.properties._t) { l.bindTooltip(f.properties._t, {sticky: true}); }
            }
        });
        {% endmacro %}
    """)

    def __init__(self, name: str, features: list[str], *, icons: dict[str, Any] | None = None,
                 style: dict[str, Any] | None = None, pane: str = "overlayPane",
                 show: bool = True) -> None:
        super().__init__(name=name, overlay=True, control=True, show=show)
        self._name = "GeoplanLayer"
        self.data = '{"type":"FeatureCollection","features":[' + ",".join(features) + "]}"
        self.icons = js_json(icons or {})
        self.style = js_json(style or {})
        self.pane = js_json(pane)
        self.count = len(features)


class ImageLayer(Layer):
    """An image overlay in its own pane below the vector layers."""

    _template = Template("""
        {% macro script(this, kwargs) %}
        var {{ this.get_name() }} = L.imageOverlay({{ this.url }}, {{ this.bounds }}, {
            pane: "gpPopulation", opacity: {{ this.opacity }},
            className: "gp-pixelated", interactive: false
        });
        {% endmacro %}
    """)

    def __init__(self, name: str, url: str, bounds: list[list[float]], *, opacity: float,
                 show: bool) -> None:
        super().__init__(name=name, overlay=True, control=True, show=show)
        self._name = "GeoplanImage"
        self.url = js_json(url)
        self.bounds = js_json(bounds)
        self.opacity = opacity


class BlankBase(Layer):
    """A base layer without tiles (the 'no basemap' choice)."""

    _template = Template("""
        {% macro script(this, kwargs) %}
        var {{ this.get_name() }} = L.layerGroup();
        {% endmacro %}
    """)

    def __init__(self, name: str, show: bool) -> None:
        super().__init__(name=name, overlay=False, control=True, show=show)
        self._name = "GeoplanBlank"


class RoadsBase(Layer):
    """A base layer drawn from the region's own roads and place names (offline basemap).

    ``roads`` is ``[[style, [line, ...]], ...]`` with each line a flat list of integer
    coordinates in 1e-5 degrees, the first pair absolute and the others deltas (a third
    of the size of GeoJSON). ``places`` is ``[[name, lon, lat, minor], ...]``: minor
    places (villages) are labelled from zoom 13, the others always.
    """

    _template = Template("""
        {% macro script(this, kwargs) %}
        var {{ this.get_name() }} = (function () {
            var group = L.layerGroup(), minor = L.layerGroup(), map = null;
            {{ this.roads }}.forEach(function (c) {
                var lines = c[1].map(function (f) {
                    var x = 0, y = 0, out = [];
                    for (var i = 0; i < f.length; i += 2) {
                        x += f[i]; y += f[i + 1]; out.push([y / 1e5, x / 1e5]);
                    }
                    return out;
                });
                var st = c[0]; st.pane = "gpBase"; st.interactive = false;
                group.addLayer(L.polyline(lines, st));
            });
            {{ this.places }}.forEach(function (p) {
                var m = L.marker([p[2], p[1]], {pane: "gpBaseLabels", interactive: false,
                    keyboard: false, icon: L.divIcon({className: p[3] ? "gp-place gp-minor"
                        : "gp-place", html: '<span data-p="' + (p[3] ? 200 : 100) + '">'
                        + p[0] + "</span>", iconSize: null})});
                (p[3] ? minor : group).addLayer(m);
            });
            function zoom() {
                if (map && map.hasLayer(group) && map.getZoom() >= 13) { map.addLayer(minor); }
                else if (map) { map.removeLayer(minor); }
            }
            group.on("add", function (e) { map = e.target._map || map; zoom();
                                           map.on("zoomend", zoom); });
            group.on("remove", function () { if (map) { map.off("zoomend", zoom);
                                             map.removeLayer(minor); } });
            return group;
        })();
        {% endmacro %}
    """)

    def __init__(self, name: str, roads: str, places: str, show: bool) -> None:
        super().__init__(name=name, overlay=False, control=True, show=show)
        self._name = "GeoplanRoads"
        self.roads = roads
        self.places = places


class TileFallback(MacroElement):
    """Switch from a tiled basemap to ``fallback`` when its tiles cannot be loaded.

    After three tile errors with no tile loaded, the tile layer is removed, ``fallback``
    (the roads basemap, or the blank one) added, and a notice says so on the page.
    """

    _template = Template("""
        {% macro script(this, kwargs) %}
        (function () {
            var t = {{ this.tiles }}, map = {{ this.map }}, ok = 0, bad = 0, done = false;
            t.on("tileload", function () { ok += 1; });
            t.on("tileerror", function () {
                bad += 1;
                if (done || ok > 0 || bad < 3) { return; }
                done = true;
                map.removeLayer(t);
                map.addLayer({{ this.fallback }});
                // under the title (room is kept for it above the study area)
                var n = L.DomUtil.create("div", "gp-notice",
                    map.getContainer().querySelector(".gp-title") || map.getContainer());
                n.textContent = {{ this.notice }};
                map.fire("gp-tiles-unavailable");
            });
        })();
        {% endmacro %}
    """)

    def __init__(self, tiles: str, fmap: str, fallback: str, notice: str) -> None:
        super().__init__()
        self._name = "GeoplanTileFallback"
        self.tiles = tiles
        self.map = fmap
        self.fallback = fallback
        self.notice = js_json(notice)


class Script(MacroElement):
    """Raw JavaScript added after the layers (legend, toggle, title)."""

    _template = Template("""
        {% macro script(this, kwargs) %}
        {{ this.code }}
        {% endmacro %}
    """)

    def __init__(self, code: str) -> None:
        super().__init__()
        self._name = "GeoplanScript"
        self.code = code


HEAD = """
<style>
.leaflet-container { background: #f2f1ed; font-family: "Microsoft YaHei", "PingFang SC",
  "Noto Sans CJK SC", "Helvetica Neue", Arial, sans-serif; }
.gp-pixelated { image-rendering: pixelated; image-rendering: crisp-edges; }
.gp-icon { background: none; border: none; }
.gp-label { background: none; border: none; }
.gp-label span { display: inline-block; transform: translate(-50%, -50%); white-space: nowrap;
  font: bold 12px/1.2 sans-serif; color: #4a148c; background: rgba(255,255,255,.85);
  border: 1px solid #6a1b9a; border-radius: 3px; padding: 1px 4px; }
.gp-label.gp-plan span { color: #7a0177; border-color: #ff00cc;
  transform: translate(-50%, -190%); }
.gp-title { position: absolute; top: 10px; left: 50%; transform: translateX(-50%);
  z-index: 1000; background: rgba(255,255,255,.92); padding: 6px 14px; border-radius: 4px;
  box-shadow: 0 1px 5px rgba(0,0,0,.4); text-align: center; pointer-events: none;
  max-width: 60%; }
.gp-title b { font-size: 17px; } .gp-title div { font-size: 12px; color: #444; }
.gp-legend { background: rgba(255,255,255,.94); padding: 6px 10px; border-radius: 4px;
  box-shadow: 0 1px 5px rgba(0,0,0,.4); font-size: 12px; line-height: 1.35;
  max-height: 55vh; overflow-y: auto; max-width: 280px; }
.gp-legend h4 { margin: 6px 0 3px; font-size: 12px; }
.gp-legend i { display: inline-block; width: 14px; height: 12px; margin-right: 6px;
  vertical-align: -2px; border: 1px solid #777; }
.gp-legend svg { vertical-align: -3px; margin-right: 6px; }
.gp-toggle { background: #fff; padding: 5px 8px; border-radius: 4px;
  box-shadow: 0 1px 5px rgba(0,0,0,.4); font-size: 13px; }
.gp-toggle label { margin-right: 8px; cursor: pointer; }
.gp-popup td { padding: 1px 6px 1px 0; vertical-align: top; }
.gp-place { background: none; border: none; pointer-events: none; }
.gp-place span { display: inline-block; transform: translate(-50%, -50%); white-space: nowrap;
  font: 13px/1.2 "Microsoft YaHei", "PingFang SC", "Noto Sans CJK SC", sans-serif;
  color: #4d4a44; text-shadow: 0 0 2px #fff, 0 0 3px #fff, 0 0 4px #fff; }
.gp-place.gp-minor span { font-size: 11px; color: #6d6a63; }
.gp-notice { position: absolute; top: 10px; left: 50%; transform: translateX(-50%);
  z-index: 1000; background: #fff8e1; border: 1px solid #c9a45c; border-radius: 4px;
  padding: 2px 8px; font-size: 12px; color: #5d4300; pointer-events: none; }
.gp-title .gp-notice { position: static; transform: none; margin-top: 3px; }
.leaflet-control-layers { font-size: 12px; line-height: 1.25; }
.leaflet-control-layers-expanded { max-height: 62vh; overflow-y: auto; padding: 4px 8px; }
.leaflet-control-layers label { margin: 1px 0; }
@media print {
  /* a printed map is a figure: no zoom buttons, layer list or before/after switch */
  .leaflet-control-zoom, .leaflet-control-layers, .gp-toggle { display: none !important; }
  .gp-legend { max-height: none; overflow: visible; box-shadow: none;
    border: 1px solid #999; }
  .gp-title { box-shadow: none; border: 1px solid #999; }
}
</style>
<script>
function geoplanPoint(f, ll, icons, pane) {
  var p = f.properties;
  if (p._c) { p._c.pane = pane; return L.circleMarker(ll, p._c); }
  if (p._l) {
    return L.marker(ll, {interactive: false, keyboard: false, pane: "markerPane",
      icon: L.divIcon({html: '<span data-p="' + (p._lp === undefined ? 50 : p._lp) + '">'
                       + p._l + "</span>", className: p._lc || "gp-label", iconSize: null})});
  }
  var ic = icons[p._i] || icons["default"];
  return L.marker(ll, {title: p._t || "", icon: L.divIcon({html: ic[0], className: "gp-icon",
    iconSize: [ic[1], ic[1]], iconAnchor: [ic[1] / 2, ic[1] / 2], popupAnchor: [0, -ic[1] / 2]})});
}
// Labels never overlap: the most important first (data-p: plan figures 0, gap ranks 1..,
// major places 100, villages 200), each next one hidden where it would touch one shown.
function geoplanDeclutter(map) {
  var spans = map.getContainer().querySelectorAll(".gp-label span, .gp-place span");
  var items = Array.prototype.map.call(spans, function (s, i) {
    s.style.visibility = "";
    return [Number(s.getAttribute("data-p") || 50), i, s];
  });
  items.sort(function (a, b) { return a[0] - b[0] || a[1] - b[1]; });
  var shown = [];
  items.forEach(function (it) {
    var r = it[2].getBoundingClientRect();
    if (!r.width) { return; }
    var hit = shown.some(function (q) {
      return r.left < q.right + 2 && q.left < r.right + 2 && r.top < q.bottom + 1
        && q.top < r.bottom + 1;
    });
    if (hit) { it[2].style.visibility = "hidden"; } else { shown.push(r); }
  });
}
</script>
"""


def feature(geom: Any, props: dict[str, Any]) -> str:
    return ('{"type":"Feature","geometry":' + shapely.to_geojson(geom) + ',"properties":'
            + js_json(props) + "}")


def popup(title: str, rows: Sequence[tuple[str, str]]) -> str:
    body = "".join(f"<tr><td>{esc(k)}</td><td><b>{esc(v)}</b></td></tr>" for k, v in rows)
    return f'<div class="gp-popup"><b>{esc(title)}</b><table>{body}</table></div>'


def swatch(colour: str, label: str, opacity: float = 1.0) -> str:
    return f'<div><i style="background:{colour};opacity:{opacity}"></i>{esc(label)}</div>'
