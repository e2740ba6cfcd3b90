"""Folium maps of coverage, gaps and plans that open on an office PC with no internet.

Why: coverage maps are what planners put in front of a committee. Each result becomes a
Leaflet map with layers a reader can switch on and off (population, facilities by type,
area covered within each target time, gaps, admin units shaded by target attainment,
a plan's new and upgraded sites with a before/after switch), a legend, a scale bar, a
title, labels in Chinese or English, and one of three basemaps. Pages are self-contained
by default (Leaflet inlined from the package, no CDN, no icon fonts), and stay light on
big grids: population and covered areas are drawn from a display raster (an image for
population, dissolved polygons for covered areas), never one polygon per cell.

Basemaps and GCJ-02
-------------------
``"osm"`` (OpenStreetMap), ``"gaode"`` (Gaode/AutoNavi, what Chinese users read) and
``"none"`` (no tiles; for offline use). Gaode tiles are drawn in GCJ-02, so on a Gaode
map *every* overlay is moved to GCJ-02 (:func:`geoplan.inputs.chinacrs.wgs84_to_gcj02`) before
it is drawn; on the other basemaps overlays stay in WGS-84. Each map also offers the
blank basemap in its layer control, so it stays readable when tiles cannot load.

Inputs (plain tables; every GeoDataFrame in any CRS with a CRS set)
-------------------------------------------------------------------
population cells
    ``population`` and point geometry (cell centres) as from
    :func:`geoplan.inputs.readers.read_population`; ``cell_area_m2`` if known. For covered areas a
    time column (default ``minutes``, as :func:`geoplan.access.coverage.coverage_by_cell` writes
    it: minutes to the nearest facility, ``inf``/NaN if none can be reached) and, for
    plans, the time after the plan (default ``minutes_after``).
facilities
    As from :func:`geoplan.inputs.readers.read_facilities` (``id``, ``name``, ``type``, ``beds``);
    optional ``catchment_population`` (people whose nearest facility it is) and
    ``travel_time_min`` (their population-weighted mean travel time) appear in popups.
candidates
    As from :func:`geoplan.inputs.readers.read_candidates` (``id``, ``name``, ``cost``).
boundaries
    As from :func:`geoplan.inputs.readers.read_boundaries` (``admin_code``, ``admin_name``).
unit table
    One row per admin unit: ``admin_code`` and any of ``population``, ``share``
    (covered share 0-1) or ``share_before``/``share_after``, ``covered``/
    ``covered_before``/``covered_after``, ``beds``, ``beds_per_1000`` and, for plans,
    ``beds_after``/``beds_per_1000_after``. :attr:`geoplan.optimize.plan.Plan.by_unit`
    has this shape.
gaps
    As from :func:`geoplan.access.gaps.group_gaps` (``gap_id``, ``population``, ``cells``,
    ``area_km2``, ``admin_units``, polygons).
isochrones
    Optional ready-made polygons with a ``minutes`` column.
plan
    A :class:`geoplan.optimize.plan.Plan`; its sites come from ``plan.sites`` or from
    ``candidates`` rows ``plan.selected`` (see :func:`plan_sites`).

Typical use::

    canvas = build_map(MapInputs(population=cells, facilities=fac, boundaries=units,
                                 units=table, gaps=gaps, minutes=(15,)),
                       title="15-minute circle", lang="zh", basemap="gaode")
    save_map(canvas)                    # maps/15-minute-circle.html, self-contained

or build layer by layer with :func:`new_map` and the ``add_*`` functions.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import folium
import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from branca.element import Element
from folium.map import Layer
from numpy.typing import NDArray

from geoplan import labels
from geoplan._atomic import atomic_path
from geoplan._errors import GeoplanInputError
from geoplan.inputs.chinacrs import wgs84_to_gcj02
from geoplan.inputs.facility_types import Vocabulary, default_vocabulary
from geoplan.labels import check_lang
from geoplan.maps._grid import (
    Grid,
    cell_size,
    display_grid,
    grid_polygons,
    palette_png,
    population_breaks,
    projected_cells,
    time_minutes,
)
from geoplan.maps._html import data_uri, esc, inline_assets, js_json
from geoplan.maps._style import (
    AFTER_COLOURS,
    COVER_COLOURS,
    DEFAULT_STYLE,
    FACILITY_STYLE,
    GAP_COLOUR,
    HEAD,
    NEW_SITE,
    POP_COLOURS,
    SHARE_CLASSES,
    UPGRADED_RING,
    ZONE_COLOUR,
    WORST_COLOUR,
    BlankBase,
    GeoLayer,
    ImageLayer,
    RoadsBase,
    Script,
    TileFallback,
    feature,
    num,
    pct,
    popup,
    svg_marker,
    swatch,
)
from geoplan.maps.basemap import encode_places, encode_roads

__all__ = [
    "BASEMAPS",
    "BEDS_TARGET",
    "MapCanvas",
    "MapInputs",
    "add_boundaries",
    "add_candidates",
    "add_coverage",
    "add_facilities",
    "add_gaps",
    "add_isochrones",
    "add_plan",
    "add_population",
    "add_standard",
    "add_units",
    "add_worst",
    "build_map",
    "default_map_path",
    "new_map",
    "plan_sites",
    "render_map",
    "save_map",
    "standard_text",
    "unit_frame",
]

#: Beds per 1,000 residents every district must reach (national planning target).
BEDS_TARGET = 7.0

#: Basemap names accepted (with aliases) and what they mean.
BASEMAPS = {
    "osm": "osm", "openstreetmap": "osm",
    "gaode": "gaode", "amap": "gaode", "autonavi": "gaode", "高德": "gaode",
    "roads": "roads", "offline": "roads", "路网": "roads",
    "none": "none", "blank": "none",
}

_GAODE_URL = ("https://webrd0{s}.is.autonavi.com/appmaptile?lang=zh_cn&size=1&scale=1"
              "&style=8&x={x}&y={y}&z={z}")
_OSM_URL = "https://tile.openstreetmap.org/{z}/{x}/{y}.png"


@dataclass
class MapCanvas:
    """A map being built: the folium map plus what geoplan adds when it is finished.

    Attributes
    ----------
    fmap
        The :class:`folium.Map`; add your own folium elements freely.
    lang
        ``"zh"`` or ``"en"``.
    basemap
        ``"osm"``, ``"gaode"`` or ``"none"``.
    title, subtitle
        Shown at the top of the map and as the page title.
    layers
        Names of the overlay layers added so far, in order.
    legends
        ``(layer, html)`` legend sections, each shown while its layer is on.
    toggle
        Layers under the before/after switch, ``{"before": {key: layer}, "after": {key:
        layer}}``; layers with the same key are a pair (switching shows one for the other,
        if the reader had it on), keys on one side only are shown on that side only.
    """

    fmap: folium.Map
    lang: str
    basemap: str
    title: str = ""
    subtitle: str = ""
    layers: list[str] = field(default_factory=list)
    legends: list[tuple[Layer, str]] = field(default_factory=list)
    toggle: dict[str, dict[str, Layer]] = field(
        default_factory=lambda: {"before": {}, "after": {}})
    _grids: dict[tuple[int, int], Grid] = field(default_factory=dict, repr=False)
    _finished: bool = field(default=False, repr=False)
    _home: list[list[float]] | None = field(default=None, repr=False)

    @property
    def gcj02(self) -> bool:
        """Whether overlays are drawn in GCJ-02 (Gaode basemap)."""
        return self.basemap == "gaode"

    def t(self, key: str, **kw: Any) -> str:
        """Label ``map.<key>`` of the catalogue in the map's language."""
        return labels.text(f"map.{key}", self.lang, **kw)

    def _repr_html_(self) -> str:
        """The map inline in a notebook: its offline page in an ``<iframe srcdoc>`` (the
        same page :func:`save_map` writes; no network needed, layers and switch work)."""
        return (f'<iframe srcdoc="{esc(render_map(self, offline=True))}" '
                f'style="width:100%;height:560px;border:1px solid #bbb" '
                f'title="{esc(self.title or "map")}"></iframe>')


def _basemap(name: str) -> str:
    key = BASEMAPS.get(str(name).strip().lower())
    if key is None:
        raise GeoplanInputError(f"unknown basemap '{name}'", field="basemap",
                                hint="use 'osm' (OpenStreetMap), 'gaode' (Gaode/AutoNavi, "
                                     "GCJ-02), 'roads' (the region's own roads, offline) "
                                     "or 'none' (no background)")
    return key


def _lonlat_bounds(gdf: gpd.GeoDataFrame) -> tuple[float, float, float, float]:
    if gdf.crs is None:
        raise GeoplanInputError("the layer has no CRS", field="geometry",
                                hint="set one (GeoDataFrame.set_crs) before mapping")
    return tuple(float(v) for v in gdf.to_crs(4326).total_bounds)  # type: ignore[return-value]


def new_map(extent: gpd.GeoDataFrame | Sequence[float], *, title: str = "",
            subtitle: str = "", lang: str = "en", basemap: str = "osm",
            roads: gpd.GeoDataFrame | None = None,
            places: gpd.GeoDataFrame | None = None) -> MapCanvas:
    """Start a map covering ``extent`` with a basemap, scale bar and title.

    With ``roads`` the map also carries the offline roads basemap
    (:mod:`geoplan.maps.basemap`): shown when ``basemap="roads"``, offered in the layer
    list otherwise, and switched to by itself (with a notice on the page) when the tiles
    of ``"osm"``/``"gaode"`` cannot be loaded. Without it a failing tiled basemap falls
    back to the blank background, also with the notice.

    Parameters
    ----------
    extent
        A layer whose bounds frame the map, or ``(west, south, east, north)`` in WGS-84
        degrees.
    title, subtitle
        Shown at the top of the map and as the page title.
    lang
        Label language, ``"zh"`` or ``"en"``.
    basemap
        ``"osm"``, ``"gaode"`` (overlays shifted to GCJ-02), ``"roads"`` (needs
        ``roads``) or ``"none"``.
    roads
        Road lines by class, :func:`geoplan.maps.basemap.road_lines` of the region's
        network.
    places
        Named places for the roads basemap's labels
        (:func:`geoplan.inputs.osm.places_of`).

    Returns
    -------
    MapCanvas

    Raises
    ------
    GeoplanInputError
        Unknown language or basemap, ``"roads"`` without roads, or a layer without CRS.
    """
    lang = check_lang(lang)
    base = _basemap(basemap)
    if base == "roads" and roads is None:
        raise GeoplanInputError("the roads basemap needs the region's road network",
                                field="basemap",
                                hint="pass roads=geoplan.maps.basemap.road_lines(network) "
                                     "(MapInputs.roads), or use basemap 'none'")
    if isinstance(extent, gpd.GeoDataFrame | gpd.GeoSeries):
        w, s, e, n = _lonlat_bounds(extent)  # type: ignore[arg-type]
    else:
        w, s, e, n = (float(v) for v in extent)
    if base == "gaode":
        (w, e), (s, n) = wgs84_to_gcj02([w, e], [s, n])
        w, e, s, n = float(w), float(e), float(s), float(n)
    # quarter zoom steps: the study area fills the room the controls leave (a whole step
    # halves it), and the +/- buttons still move a full step
    fmap = folium.Map(location=[(s + n) / 2, (w + e) / 2], zoom_start=11, tiles=None,
                      control_scale=False, max_zoom=19, prefer_canvas=False, zoom_snap=0.25,
                      zoom_delta=1)
    fmap.default_js = [("leaflet", "https://cdn.jsdelivr.net/npm/leaflet/dist/leaflet.js")]
    fmap.default_css = [("leaflet_css", "https://cdn.jsdelivr.net/npm/leaflet/dist/leaflet.css")]
    # room beside the study area for the legend (bottom left), the layer list (top
    # right) and the title (top, with the notice when tiles fail), so they stay clear of
    # it on screen and in print (checked on every shipped map by the browser test)
    fmap.fit_bounds([[s, w], [n, e]], padding_top_left=(200, 100),
                    padding_bottom_right=(140, 10))
    root = fmap.get_root()
    root.title = title or "geoplan"
    root.header.add_child(Element(HEAD), name="geoplan_head")
    canvas = MapCanvas(fmap=fmap, lang=lang, basemap=base, title=title, subtitle=subtitle,
                       _home=[[s, w], [n, e]])
    fmap.add_child(Script(
        f"{fmap.get_name()}.createPane('gpBase').style.zIndex = 360;\n"
        f"{fmap.get_name()}.createPane('gpBaseLabels').style.zIndex = 390;\n"
        f"{fmap.get_name()}.getPane('gpBaseLabels').style.pointerEvents = 'none';"),
        name="gp_base_panes")
    tiles = None
    if base == "osm":
        tiles = folium.TileLayer(
            _OSM_URL, name=canvas.t("basemap_osm"), max_zoom=19,
            attr='&copy; <a href="https://www.openstreetmap.org/copyright">'
                 "OpenStreetMap</a> contributors").add_to(fmap)
    elif base == "gaode":
        tiles = folium.TileLayer(_GAODE_URL, name=canvas.t("basemap_gaode"), subdomains="1234",
                                 max_zoom=18, attr="&copy; 高德地图 AutoNavi (GCJ-02)").add_to(fmap)
    road_base = None
    if roads is not None:
        road_base = RoadsBase(canvas.t("basemap_roads"),
                              encode_roads(roads, gcj02=canvas.gcj02),
                              encode_places(places, lang, gcj02=canvas.gcj02),
                              show=base == "roads")
        road_base.add_to(fmap)
    blank = BlankBase(canvas.t("basemap_none"), show=base == "none")
    blank.add_to(fmap)
    if tiles is not None:
        fallback = road_base if road_base is not None else blank
        fmap.add_child(TileFallback(
            tiles.get_name(), fmap.get_name(), fallback.get_name(),
            canvas.t("tiles_unavailable_roads" if road_base is not None
                     else "tiles_unavailable")), name="gp_tile_fallback")
    fmap.add_child(Script(
        f"{fmap.get_name()}.createPane('gpPopulation').style.zIndex = 350;\n"
        f"{fmap.get_name()}.createPane('gpUnits').style.zIndex = 380;\n"
        # metric only: planners measure in km, and "mi"/"ft" would leak into zh pages
        f"L.control.scale({{imperial: false}}).addTo({fmap.get_name()});"), name="gp_panes")
    return canvas


# --------------------------------------------------------------------------- geometry
def _display_geoms(canvas: MapCanvas, gdf: gpd.GeoDataFrame | gpd.GeoSeries,
                   tolerance_m: float = 0.0) -> NDArray[Any]:
    """Geometries in display lon/lat (GCJ-02 on a Gaode map), rounded to ~0.1 m.

    ``tolerance_m`` > 0 simplifies lines and polygons first (in metres, topology kept):
    unions of grid cells carry hundreds of thousands of vertices no one can see.
    """
    if gdf.crs is None:
        raise GeoplanInputError("the layer has no CRS", field="geometry",
                                hint="set one (GeoDataFrame.set_crs) before mapping")
    series = gdf.geometry if isinstance(gdf, gpd.GeoDataFrame) else gdf
    if tolerance_m > 0 and len(series):
        metric = series if series.crs.is_projected else series.to_crs(series.estimate_utm_crs())
        series = gpd.GeoSeries(shapely.simplify(metric.values, tolerance_m,
                                                preserve_topology=True), crs=metric.crs)
    geoms = series.to_crs(4326).values

    def move(xy: NDArray[np.float64]) -> NDArray[np.float64]:
        if canvas.gcj02 and len(xy):
            lon, lat = wgs84_to_gcj02(xy[:, 0], xy[:, 1])
            xy = np.column_stack([lon, lat])
        return np.round(xy, 6)

    return shapely.transform(np.asarray(geoms), move)


def _add_layer(canvas: MapCanvas, layer: Layer, legend: str | None = None,
               toggle: str | None = None, key: str | None = None) -> Layer:
    layer.add_to(canvas.fmap)
    canvas.layers.append(layer.layer_name)
    if legend:
        canvas.legends.append((layer, legend))
    if toggle is not None:
        if toggle not in canvas.toggle:
            raise GeoplanInputError(f"unknown toggle group '{toggle}'", field="toggle",
                                    hint="use 'before' or 'after'")
        canvas.toggle[toggle][key or layer.get_name()] = layer
    return layer


def _grid(canvas: MapCanvas, cells: gpd.GeoDataFrame) -> Grid:
    """Return the display raster of ``cells`` on this map (computed once per cell table)."""
    key = (id(cells), len(cells))
    if key not in canvas._grids:
        canvas._grids[key] = display_grid(cells, gcj02=canvas.gcj02)
    return canvas._grids[key]


def _cells_area(canvas: MapCanvas, cells: gpd.GeoDataFrame, mask: np.ndarray) -> Any:
    """The outline of the cells where ``mask`` holds, drawn on the map's display grid."""
    grid = _grid(canvas, cells)
    inside = grid.index >= 0
    return grid_polygons(grid, np.where(inside, mask[np.clip(grid.index, 0, None)], False))


def add_population(canvas: MapCanvas, cells: gpd.GeoDataFrame, *,
                   breaks: Sequence[float] | None = None, show: bool = True) -> str:
    """Draw population density as an image overlay with a class legend.

    Why: a county has hundreds of thousands of cells; one polygon each makes a 100 MB
    page that never opens. A palette PNG of the cells on the display grid is small
    (tens of kB) and lines up with the basemap exactly (see ``_grid``).

    Parameters
    ----------
    canvas
        The map.
    cells
        Population cells (``population``, point geometry, ``cell_area_m2`` if known).
    breaks
        Class limits in people per km² (default: rounded quantiles of the data).
    show
        Whether the layer is on when the map opens.

    Returns
    -------
    str
        The layer name.
    """
    cells = projected_cells(cells)
    grid = _grid(canvas, cells)
    dx, dy = cell_size(cells, shapely.get_coordinates(cells.geometry.values))
    area_km2 = dx * dy / 1e6
    if "cell_area_m2" in cells.columns:
        area_km2 = cells["cell_area_m2"].fillna(area_km2 * 1e6).to_numpy(float) / 1e6
    density = cells["population"].to_numpy(float) / area_km2
    limits = list(breaks) if breaks is not None else population_breaks(density)
    cls = np.searchsorted(np.asarray(limits, float), density, side="right") + 1
    cls[~(density > 0)] = 0
    ncls = len(limits) + 1
    colours = [POP_COLOURS[round(i * (len(POP_COLOURS) - 1) / max(ncls - 1, 1))]
               for i in range(ncls)]
    pix = np.where(grid.index >= 0, cls[np.clip(grid.index, 0, None)], 0).astype(np.uint8)
    url = data_uri(palette_png(pix, colours), "image/png")
    name = canvas.t("population")
    labels = ([f"< {limits[0]:,g}"]
              + [f"{a:,g} – {b:,g}" for a, b in zip(limits[:-1], limits[1:], strict=True)]
              + [f"≥ {limits[-1]:,g}"])
    legend = f"<h4>{esc(name)}</h4>" + "".join(
        swatch(c, lab, 0.8) for c, lab in zip(colours, labels, strict=True))
    _add_layer(canvas, ImageLayer(name, url, grid.bounds, opacity=0.8, show=show), legend)
    return name


# --------------------------------------------------------------------------- coverage


def add_coverage(canvas: MapCanvas, cells: gpd.GeoDataFrame, minutes: Sequence[float], *,
                 time_col: str = "minutes", toggle: str | None = None,
                 show: bool = True) -> list[str]:
    """Draw the area whose residents reach a facility within each target time.

    One layer per target time: the dissolved footprint of the cells with
    ``time_col <= minutes`` (nested: the 30-minute area contains the 15-minute one),
    with the population covered in its popup.

    Parameters
    ----------
    canvas
        The map.
    cells
        Population cells with a time column in minutes.
    minutes
        Target times, e.g. ``(15,)`` or ``(10, 15, 30)``.
    time_col
        Column of minutes to the nearest facility (``inf``/NaN: unreachable).
    toggle
        ``"before"`` or ``"after"`` to put the layers under the before/after switch
        (also names them "Before: ..."/"After: ...").
    show
        Whether the layers are on when the map opens.

    Returns
    -------
    list of str
        The layer names.
    """
    cells = projected_cells(cells)
    t = time_minutes(cells, time_col)
    pop = cells["population"].to_numpy(float)
    key = {"before": "covered_before", "after": "covered_after"}.get(toggle or "", "covered")
    palette = AFTER_COLOURS if toggle == "after" else COVER_COLOURS
    names = []
    total = float(pop.sum())
    for k, m in enumerate(sorted({float(x) for x in minutes})):
        geom = _cells_area(canvas, cells, t <= m)
        covered = float(pop[t <= m].sum())
        name = canvas.t(key, m=f"{m:g}")
        colour = palette[min(k, len(palette) - 1)]
        html = popup(name, [(canvas.t("covered_people"), f"{covered:,.0f}"),
                            (canvas.t("share_col"), pct(covered / total if total else np.nan))])
        style = {"color": colour, "weight": 1, "fillColor": colour, "fillOpacity": 0.3}
        feats = [feature(geom, {"_p": html})] if not geom.is_empty else []
        legend = (f"<h4>{esc(name)}</h4>"
                  + swatch(colour, f"{covered:,.0f} {canvas.t('people')} "
                                    f"({pct(covered / total if total else np.nan)})", 0.5))
        _add_layer(canvas, GeoLayer(name, feats, style=style, show=show and toggle != "before"),
                   legend, toggle, key=f"covered:{m:g}")
        names.append(name)
    return names


def standard_text(cells: gpd.GeoDataFrame, lang: str) -> str:
    """The time standards of a plan's cells as a reader sees them (``12/20 分钟``)."""
    std = pd.to_numeric(cells["standard_min"], errors="coerce").to_numpy(float)
    values = sorted({float(v) for v in std[np.isfinite(std)]})
    return labels.text("map.standard_min", lang, m="/".join(f"{v:g}" for v in values))


def add_standard(canvas: MapCanvas, cells: gpd.GeoDataFrame, when: str, *,
                 show: bool = True) -> str:
    """Draw the area whose residents are within the standard the model held them to.

    Why: a plan with per-cell standards (urban 12 / rural 20 minutes) is judged cell by
    cell; drawing one time would show the search cut-off or one of the two standards as
    if it were the target. ``cells`` is a plan's cell table
    (:func:`geoplan.scenario.models.plan_cells`: ``standard_min``, ``meets_before``,
    ``meets_after``); the layer goes under the before/after switch.

    Parameters
    ----------
    canvas
        The map.
    cells
        A plan's cells with ``standard_min`` and ``meets_<when>``.
    when
        ``"before"`` or ``"after"``.
    show
        Whether the layer is on when the map opens (the before layer never is).

    Returns
    -------
    str
        The layer name.
    """
    if f"meets_{when}" not in cells.columns or "standard_min" not in cells.columns:
        raise GeoplanInputError(f"plan cells need 'standard_min' and 'meets_{when}'",
                                field=f"meets_{when}",
                                hint="use geoplan.scenario.models.plan_cells")
    cells = projected_cells(cells)
    meets = cells[f"meets_{when}"].to_numpy(bool)
    demand = np.isfinite(pd.to_numeric(cells["standard_min"], errors="coerce").to_numpy(float))
    pop = cells["population"].to_numpy(float)
    geom = _cells_area(canvas, cells, meets)
    name = canvas.t(f"standard_{when}", std=standard_text(cells, canvas.lang))
    covered, total = float(pop[meets].sum()), float(pop[demand].sum())
    colour = (AFTER_COLOURS if when == "after" else COVER_COLOURS)[0]
    html = popup(name, [(canvas.t("covered_people"), f"{covered:,.0f}"),
                        (canvas.t("share_col"), pct(covered / total if total else np.nan))])
    style = {"color": colour, "weight": 1, "fillColor": colour, "fillOpacity": 0.3}
    feats = [feature(geom, {"_p": html})] if not geom.is_empty else []
    legend = (f"<h4>{esc(name)}</h4>" + swatch(colour, f"{covered:,.0f} {canvas.t('people')} "
                                                       f"({pct(covered / total if total else np.nan)})",
                                               0.5))
    _add_layer(canvas, GeoLayer(name, feats, style=style, show=show and when != "before"),
               legend, when, key="standard")
    return name


def add_worst(canvas: MapCanvas, cells: gpd.GeoDataFrame, worst_minutes: float, *,
              share: float = 0.9, time_col: str = "minutes_after") -> str:
    """Draw the residents farthest from any site after a plan (p-center maps): the cells
    within ``share`` of the worst time ``worst_minutes`` the model reached.

    Parameters
    ----------
    canvas
        The map.
    cells
        A plan's cells with ``time_col``.
    worst_minutes
        The plan's worst time (its figure ``worst_minutes``).
    share
        Cells with a time of at least ``share`` x the worst are drawn.
    time_col
        Minutes after the plan.

    Returns
    -------
    str
        The layer name.
    """
    cells = projected_cells(cells)
    t = time_minutes(cells, time_col)
    threshold = share * float(worst_minutes)
    far = np.isfinite(t) & (t >= threshold)
    geom = _cells_area(canvas, cells, far)
    name = canvas.t("worst_after", m=f"{threshold:.1f}")
    people = float(cells["population"].to_numpy(float)[far].sum())
    html = popup(name, [(canvas.t("covered_people"), f"{people:,.0f}")])
    style = {"color": WORST_COLOUR, "weight": 2, "fillColor": WORST_COLOUR, "fillOpacity": 0.5}
    feats = [feature(geom, {"_p": html})] if not geom.is_empty else []
    legend = f"<h4>{esc(name)}</h4>" + swatch(WORST_COLOUR, f"{people:,.0f} "
                                                            f"{canvas.t('people')}", 0.5)
    _add_layer(canvas, GeoLayer(name, feats, style=style, show=True), legend, "after",
               key="worst")
    return name


def add_isochrones(canvas: MapCanvas, isochrones: gpd.GeoDataFrame, *,
                   show: bool = False) -> list[str]:
    """Draw ready-made isochrone polygons, one layer per ``minutes`` value.

    Parameters
    ----------
    canvas
        The map.
    isochrones
        Polygons with a ``minutes`` column (and optionally ``facility_id``/``name``).
    show
        Whether the layers are on when the map opens.

    Returns
    -------
    list of str
        The layer names.
    """
    if "minutes" not in isochrones.columns:
        raise GeoplanInputError("isochrones need a 'minutes' column", field="minutes")
    geoms = _display_geoms(canvas, isochrones, tolerance_m=5.0)
    names = []
    values = isochrones["minutes"].to_numpy(float)
    label = isochrones.get("name", isochrones.get("facility_id"))
    for k, m in enumerate(sorted(set(values.tolist()))):
        rows = np.flatnonzero(values == m)
        name = canvas.t("isochrone", m=f"{m:g}")
        colour = COVER_COLOURS[min(k, len(COVER_COLOURS) - 1)]
        feats = [feature(geoms[i], {"_t": "" if label is None else str(label.iloc[i])})
                 for i in rows if not shapely.is_empty(geoms[i])]
        style = {"color": colour, "weight": 1, "fillColor": colour, "fillOpacity": 0.15}
        legend = f"<h4>{esc(name)}</h4>" + swatch(colour, name, 0.4)
        _add_layer(canvas, GeoLayer(name, feats, style=style, show=show), legend)
        names.append(name)
    return names


# --------------------------------------------------------------------------- facilities
def _icon_table(keys: set[str], upgraded: bool = False) -> dict[str, tuple[str, int]]:
    table = {"default": (svg_marker(*DEFAULT_STYLE), DEFAULT_STYLE[2])}
    for k in keys:
        shape, colour, size = FACILITY_STYLE.get(k, DEFAULT_STYLE)
        if upgraded:
            size += 8
        table[k] = (svg_marker(shape, colour, size, ring=UPGRADED_RING if upgraded else None), size)
    return table


def type_label(code: str, lang: str, vocab: Vocabulary | None = None) -> str:
    """A site's type for reading: a facility type's label (``vocab``), a site geoplan
    creates (a beds plan's new hospital) in ``lang``, a common candidate site category
    (``sitetype.`` labels: village committee, township land, ...) in ``lang``, any other
    candidate site type from the user's file as written."""
    if code == "new hospital":
        return labels.text("site.new_hospital", lang)
    vocab = vocab or default_vocabulary()
    if code in vocab.types:
        return vocab.label(code, lang)
    key = "sitetype." + code.strip().lower().replace(" ", "_")
    return labels.text(key, lang) if labels.has(key) else code


def _facility_popup(canvas: MapCanvas, row: pd.Series, vocab: Vocabulary,
                    extra: Sequence[tuple[str, str]] = ()) -> str:
    rows = [(canvas.t("type"), type_label(str(row.get("type", "")), canvas.lang, vocab))]
    beds = row.get("beds")
    if beds is not None and np.isfinite(float(beds)) and float(beds) > 0:
        rows.append((canvas.t("beds"), num(beds)))
    if "catchment_population" in row.index:
        rows.append((canvas.t("catchment"), num(row["catchment_population"])))
    if "travel_time_min" in row.index:
        rows.append((canvas.t("travel_time"), f"{num(row['travel_time_min'], 1)} "
                                              f"{canvas.t('min')}"))
    if row.get("admin_name") is not None and str(row.get("admin_name")) not in ("", "nan", "None"):
        rows.append((canvas.t("unit"), str(row["admin_name"])))
    return popup(str(row.get("name", row.get("id", ""))), [*rows, *extra])


def add_facilities(canvas: MapCanvas, facilities: gpd.GeoDataFrame, *,
                   vocabulary: Vocabulary | None = None, show: bool = True) -> list[str]:
    """Draw facilities, one layer per type, each type with its own SVG marker.

    Popups give name, type, beds, and where the columns exist the catchment population
    (``catchment_population``) and mean travel time (``travel_time_min``).

    Parameters
    ----------
    canvas
        The map.
    facilities
        As from :func:`geoplan.inputs.readers.read_facilities`.
    vocabulary
        For type labels (default vocabulary).
    show
        Whether the layers are on when the map opens.

    Returns
    -------
    list of str
        The layer names.
    """
    vocab = vocabulary or default_vocabulary()
    if "type" not in facilities.columns:
        raise GeoplanInputError("facilities need a 'type' column", field="type",
                                hint="use geoplan.inputs.readers.read_facilities")
    geoms = _display_geoms(canvas, facilities)
    types = facilities["type"].astype(str).to_numpy()
    order = [t for t in vocab.types if t in set(types)] + sorted(set(types) - set(vocab.types))
    names = []
    for code in order:
        rows = np.flatnonzero(types == code)
        label = vocab.label(code, canvas.lang)
        feats = [feature(geoms[i], {"_i": code, "_p": _facility_popup(
            canvas, facilities.iloc[i], vocab), "_t": str(facilities.iloc[i].get("name", ""))})
            for i in rows]
        icons = _icon_table({code})
        name = canvas.t("facilities", label=label, n=len(rows))
        legend = f"<div>{icons[code][0]}{esc(label)} ({len(rows)})</div>"
        _add_layer(canvas, GeoLayer(name, feats, icons=icons, show=show), legend)
        names.append(name)
    return names


def add_candidates(canvas: MapCanvas, candidates: gpd.GeoDataFrame, *,
                   show: bool = False) -> str:
    """Draw candidate sites as small grey circles (off by default).

    Parameters
    ----------
    canvas
        The map.
    candidates
        As from :func:`geoplan.inputs.readers.read_candidates`.
    show
        Whether the layer is on when the map opens.

    Returns
    -------
    str
        The layer name.
    """
    geoms = _display_geoms(canvas, candidates)
    circle = {"radius": 4, "color": "#555", "weight": 1, "fillColor": "#bbb",
              "fillOpacity": 0.9}
    feats = []
    for i in range(len(candidates)):
        row = candidates.iloc[i]
        rows = [("ID", str(row.get("id", i)))]
        if "cost" in row.index and pd.notna(row["cost"]):
            rows.append((canvas.t("cost"), num(row["cost"], 1)))
        feats.append(feature(geoms[i], {"_c": circle, "_p": popup(
            str(row.get("name", row.get("id", ""))), rows)}))
    name = canvas.t("candidates", n=len(candidates))
    legend = (f'<div><svg width="10" height="10"><circle cx="5" cy="5" r="4" fill="#bbb" '
              f'stroke="#555"/></svg>{esc(name)}</div>')
    _add_layer(canvas, GeoLayer(name, feats, show=show), legend)
    return name


# --------------------------------------------------------------------------- gaps, units
def add_gaps(canvas: MapCanvas, gaps: gpd.GeoDataFrame, *, top: int = 10,
             max_areas: int = 300, show: bool = True, toggle: str | None = None) -> str:
    """Draw gap areas (uncovered population), ranked, the largest labelled ``#rank``.

    Parameters
    ----------
    canvas
        The map.
    gaps
        As from :func:`geoplan.access.gaps.group_gaps` (sorted largest first).
    top
        How many of the largest areas get a rank label.
    max_areas
        Draw at most this many areas (the largest); the legend says so.
    show
        Whether the layer is on when the map opens.
    toggle
        ``"before"`` or ``"after"`` to put the layer under the before/after switch (a
        plan's gaps, named "Before: gaps ..." / "After: gaps ...").

    Returns
    -------
    str
        The layer name.
    """
    if "population" not in gaps.columns:
        raise GeoplanInputError("gap areas need a 'population' column", field="population",
                                hint="use geoplan.access.gaps.group_gaps")
    ordered = gaps.sort_values("population", ascending=False).head(max_areas)
    ordered = ordered.reset_index(drop=True)
    side = 100.0
    if {"area_km2", "cells"} <= set(ordered.columns) and len(ordered):
        side = float(np.sqrt(np.median(ordered["area_km2"] * 1e6 / ordered["cells"])))
    metric = ordered.geometry
    if not metric.crs.is_projected:
        metric = metric.to_crs(metric.estimate_utm_crs())
    # close the hairline seams left where cell squares do not tile the grid exactly
    # (e.g. lon/lat raster cells), then draw with few vertices
    shapes = shapely.simplify(metric.values, 0.2 * side, preserve_topology=True)
    shapes = shapely.buffer(shapely.buffer(shapes, 0.15 * side, join_style="mitre"),
                            -0.15 * side, join_style="mitre")
    geoms = _display_geoms(canvas, gpd.GeoSeries(shapes, crs=metric.crs))
    labels = _display_geoms(canvas, ordered.geometry.representative_point())
    style = {"color": GAP_COLOUR, "weight": 1, "fillColor": GAP_COLOUR, "fillOpacity": 0.55}
    feats = []
    for i in range(len(ordered)):
        row = ordered.iloc[i]
        rank = int(row["gap_id"]) if "gap_id" in row.index else i + 1
        rows = [(canvas.t("uncovered_people"), num(row["population"]))]
        if "area_km2" in row.index:
            rows.append((canvas.t("area_km2"), num(row["area_km2"], 2)))
        if "cells" in row.index:
            rows.append((canvas.t("cells"), num(row["cells"])))
        if "admin_names" in row.index and row["admin_names"]:        # names, not codes
            rows.append((canvas.t("units"), str(row["admin_names"])))
        elif "admin_units" in row.index and row["admin_units"]:
            rows.append((canvas.t("units"), str(row["admin_units"])))
        place = _gap_place(row, canvas.lang)
        if place:
            rows.append((canvas.t("near_place"),
                         canvas.t("place_km", name=place, km=num(row["near_place_km"], 1))))
        rows += _closing_rows(canvas, row)
        title = f"{canvas.t('gap')} #{rank}"
        where = str(row.get("admin_names") or "")
        where = f" {where}" if where and "," not in where else ""
        where += f" · {place}" if place else ""
        feats.append(feature(geoms[i], {"_p": popup(title, rows),
                                         "_t": f"#{rank}{where}: {num(row['population'])}"}))
        if i < top:
            feats.append(feature(labels[i], {"_l": esc(f"#{rank} {num(row['population'])}"),
                                             "_lp": rank}))
    name = canvas.t(f"gaps_{toggle}" if toggle else "gaps")
    legend = f"<h4>{esc(name)}</h4>" + swatch(
        GAP_COLOUR, canvas.t("legend_gaps", n=f"{len(ordered):,}"), 0.6)
    if len(gaps) > len(ordered):
        legend += f"<div>({len(ordered):,} / {len(gaps):,})</div>"
    _add_layer(canvas, GeoLayer(name, feats, style=style, show=show and toggle != "before"),
               legend, toggle, key="gaps")
    return name


def _gap_place(row: pd.Series, lang: str) -> str:
    """The gap's nearest place in the page's language ('' if the gaps were not named)."""
    name = str(row.get("near_place") or "")
    if lang == "en" and str(row.get("near_place_en") or ""):
        name = str(row["near_place_en"])
    return name


def _closing_rows(canvas: MapCanvas, row: pd.Series) -> list[tuple[str, str]]:
    """Popup rows naming the candidate sites that would close a gap (if listed)."""
    if "closing_sites" not in row.index:
        return []
    ids = [s for s in str(row["closing_sites"] or "").split(",") if s]
    if not ids:
        return [(canvas.t("closing_sites"), canvas.t("no_closing_site"))]
    names = str(row.get("closing_names") or "").split("|")
    people = str(row.get("closing_people") or "").split(",")
    items = []
    for k, sid in enumerate(ids):
        name = names[k] if k < len(names) and names[k] else sid
        add = num(float(people[k])) if k < len(people) and people[k] else "–"
        items.append(canvas.t("site_adds", name=f"{name} [{sid}]", people=add))
    return [(canvas.t("closing_sites"), "; ".join(items)),
            (canvas.t("closed_share"), pct(float(row.get("closed_share", 0.0))))]


def add_boundaries(canvas: MapCanvas, boundaries: gpd.GeoDataFrame, *,
                   show: bool = True) -> str:
    """Draw admin unit outlines with their names as tooltips.

    Parameters
    ----------
    canvas
        The map.
    boundaries
        As from :func:`geoplan.inputs.readers.read_boundaries`.
    show
        Whether the layer is on when the map opens.

    Returns
    -------
    str
        The layer name.
    """
    geoms = _display_geoms(canvas, boundaries, tolerance_m=5.0)
    names = _unit_names(boundaries, canvas.lang)
    feats = [feature(geoms[i], {"_t": names[i]}) for i in range(len(boundaries))]
    style = {"color": "#333", "weight": 1.5, "fill": False, "dashArray": "4 3"}
    name = canvas.t("boundaries")
    _add_layer(canvas, GeoLayer(name, feats, style=style, show=show))
    return name


def add_zones(canvas: MapCanvas, zones: gpd.GeoDataFrame,
              table: pd.DataFrame | None = None) -> str:
    """Draw planning zones (outlines, named) with a balanced plan's figures per zone.

    Parameters
    ----------
    canvas
        The map.
    zones
        ``zone``, ``name_zh``, ``name_en`` and polygons (:mod:`geoplan.inputs.zones`).
    table
        The plan's zone table (``plan.details["zones"]``): shares before/after and new
        sites per zone, shown in each zone's tooltip; None: names only.

    Returns
    -------
    str
        The layer name.
    """
    geoms = _display_geoms(canvas, zones, tolerance_m=10.0)
    col = "name_zh" if canvas.lang == "zh" else "name_en"
    names = (zones[col] if col in zones.columns else zones["zone"]).astype(str).tolist()
    stats = table.set_index("zone") if table is not None else None
    feats = []
    for i, key in enumerate(zones["zone"].astype(str)):
        tip = names[i]
        if stats is not None and key in stats.index:
            r = stats.loc[key]
            share = canvas.t("zone_share", before=float(r["share_before"]),
                             after=float(r["share_after"]))
            tip = f"{names[i]}: {share}, {canvas.t('zone_new', n=int(r['sites_new']))}"
        feats.append(feature(geoms[i], {"_t": tip}))
        label_at = zones.geometry.iloc[i].representative_point()
        pt = _display_geoms(canvas, gpd.GeoDataFrame(geometry=[label_at], crs=zones.crs))[0]
        feats.append(feature(pt, {"_l": esc(names[i]), "_lc": "gp-label gp-plan", "_lp": 1}))
    style = {"color": ZONE_COLOUR, "weight": 3, "fill": False, "dashArray": "10 6"}
    name = canvas.t("zones")
    legend = (f"<div><span style='display:inline-block;width:18px;border-top:3px dashed "
              f"{ZONE_COLOUR};margin-right:6px'></span>{esc(name)}</div>")
    _add_layer(canvas, GeoLayer(name, feats, style=style), legend, key="zones")
    return name


def _unit_names(boundaries: pd.DataFrame, lang: str, level: str = "admin_code") -> list[str]:
    stem = "admin" if level == "admin_code" else level.removesuffix("_code")
    choices = [f"{stem}_name"]
    if lang == "en":
        choices = ["name_en" if stem == "admin" else f"{stem}_name_en", *choices]
    col = next((c for c in choices if c in boundaries.columns), level)
    return boundaries[col].astype(str).tolist()


def _share_colour(share: float) -> str:
    if not np.isfinite(share):
        return "#cccccc"
    return next(c for limit, c in SHARE_CLASSES if share < limit)


def _beds_colour(ratio: float, target: float) -> str:
    if not np.isfinite(ratio):
        return "#cccccc"
    if ratio >= target:
        return "#1a9641"
    return "#fdae61" if ratio >= 0.75 * target else "#d7191c"


def _unit_level(boundaries: pd.DataFrame, stats: pd.DataFrame) -> str:
    if "admin_code" in stats.columns:
        return "admin_code"
    for col in stats.columns:
        if str(col).endswith("_code") and col in boundaries.columns:
            return str(col)
    raise GeoplanInputError("the unit table needs an 'admin_code' column (or another "
                            "'*_code' column of the boundaries, e.g. district_code)",
                            field="admin_code", hint="one row per admin unit")


def _unit_frame(boundaries: gpd.GeoDataFrame, stats: pd.DataFrame,
                level: str) -> gpd.GeoDataFrame:
    s = stats.copy()
    s[level] = s[level].astype(str)
    s = s.loc[~s[level].isin(["total", "(none)"])]
    b = boundaries.copy()
    b[level] = b[level].astype(str)
    if level != "admin_code":
        stem = level.removesuffix("_code")
        keep = [c for c in (f"{stem}_name", f"{stem}_name_en") if c in b.columns]
        b = b[[level, *keep, b.geometry.name]].dissolve(by=level, as_index=False)
    s = s.drop(columns=[c for c in s.columns if c != level and c in b.columns])
    out = b.merge(s, on=level, how="left")
    for when in ("", "_after"):
        ratio = f"beds_per_1000{when}"
        beds = f"beds{when}"
        if ratio not in out.columns and beds in out.columns and "population" in out.columns:
            pop = out["population"].to_numpy(float)
            with np.errstate(divide="ignore", invalid="ignore"):
                out[ratio] = np.where(pop > 0, out[beds].to_numpy(float) / pop * 1000, np.nan)
    return out


def _share_layers(canvas: MapCanvas, columns: Sequence[str]) -> list[tuple[str, ...]]:
    """(column, layer name, toggle side, pair key, covered column) per share column."""
    out: list[tuple[str, ...]] = []
    for col in columns:
        m = re.fullmatch(r"share_([0-9.]+)min", str(col))
        if col == "share":
            out.append((col, canvas.t("share"), "", "share", "covered"))
        elif m:
            out.append((col, canvas.t("share_t", m=m.group(1)), "", f"share:{m.group(1)}",
                        f"covered_{m.group(1)}min"))
        elif col in ("share_before", "share_after"):
            side = col.removeprefix("share_")
            out.append((col, canvas.t(col), side, "share", f"covered_{side}"))
    return out


def _share_features(canvas: MapCanvas, units: pd.DataFrame, geoms: NDArray[Any],
                    names: list[str], col: str, covered: str) -> list[str]:
    feats = []
    for i in range(len(units)):
        row = units.iloc[i]
        share = float(row[col]) if pd.notna(row[col]) else np.nan
        rows = [(canvas.t("share_col"), pct(share))]
        if "population" in row.index:
            rows.insert(0, (canvas.t("population_col"), num(row["population"])))
        if covered in row.index:
            rows.append((canvas.t("covered_people"), num(row[covered])))
        c = _share_colour(share)
        feats.append(feature(geoms[i], {
            "_s": {"color": "#444", "weight": 1, "fillColor": c, "fillOpacity": 0.6},
            "_p": popup(names[i], rows), "_t": f"{names[i]}: {pct(share)}"}))
    return feats


def _beds_features(canvas: MapCanvas, units: pd.DataFrame, geoms: NDArray[Any],
                   names: list[str], col: str, target: float) -> list[str]:
    feats = []
    beds_col = "beds_after" if col.endswith("_after") else "beds"
    for i in range(len(units)):
        row = units.iloc[i]
        ratio = float(row[col]) if pd.notna(row[col]) else np.nan
        rows = [(canvas.t("beds_1000"), num(ratio, 2)), (canvas.t("of_target"), f"{target:g}")]
        if beds_col in row.index:
            rows.insert(0, (canvas.t("beds"), num(row[beds_col])))
        if "population" in row.index:
            rows.insert(0, (canvas.t("population_col"), num(row["population"])))
        c = _beds_colour(ratio, target)
        feats.append(feature(geoms[i], {
            "_s": {"color": "#444", "weight": 1, "fillColor": c, "fillOpacity": 0.6},
            "_p": popup(names[i], rows), "_t": f"{names[i]}: {num(ratio, 2)}"}))
    return feats


def add_units(canvas: MapCanvas, boundaries: gpd.GeoDataFrame, stats: pd.DataFrame, *,
              beds_target: float = BEDS_TARGET, show: bool = False) -> list[str]:
    """Shade admin units by target attainment: covered share, and beds per 1,000 vs target.

    Draws whichever the table has: ``share`` or ``share_<T>min`` (as from
    :func:`geoplan.access.coverage.coverage_by_unit`; one layer each), ``share_before`` and
    ``share_after`` (a pair under the before/after switch), ``beds_per_1000`` (or
    ``beds`` with ``population``; as from :func:`geoplan.access.coverage.beds_per_1000`) and
    ``beds_per_1000_after``. Units are matched on ``admin_code``, or on another
    ``*_code`` column both tables have (e.g. ``district_code``: boundaries are then
    dissolved to districts). ``total`` and ``(none)`` rows are ignored.

    Parameters
    ----------
    canvas
        The map.
    boundaries
        As from :func:`geoplan.inputs.readers.read_boundaries`.
    stats
        One row per unit (see the module docstring).
    beds_target
        Beds per 1,000 residents to reach (default 7).
    show
        Whether the layers are on when the map opens.

    Returns
    -------
    list of str
        The layer names.

    Raises
    ------
    GeoplanInputError
        If the table has no unit code column the boundaries share.
    """
    level = _unit_level(boundaries, stats)
    units = _unit_frame(boundaries, stats, level)
    geoms = _display_geoms(canvas, units, tolerance_m=5.0)
    names = _unit_names(units, canvas.lang, level)
    made = []
    lows = [0.0] + [limit for limit, _ in SHARE_CLASSES[:-1]]
    share_legend = "".join(
        swatch(c, f"≥ {lo:.0%}" if hi == math.inf else f"{lo:.0%} – {hi:.0%}", 0.7)
        for lo, (hi, c) in zip(lows, SHARE_CLASSES, strict=True))
    for col, name, side, key, covered in _share_layers(canvas, list(units.columns)):
        feats = _share_features(canvas, units, geoms, names, col, covered)
        layer = GeoLayer(name, feats, pane="gpUnits", show=show and side != "before")
        _add_layer(canvas, layer, f"<h4>{esc(name)}</h4>{share_legend}", side or None, key)
        made.append(name)
    has_after = "beds_per_1000_after" in units.columns
    for col, key, side in (("beds_per_1000", "beds_layer", "before" if has_after else None),
                           ("beds_per_1000_after", "beds_layer_after", "after")):
        if col not in units.columns:
            continue
        name = canvas.t(key, t=beds_target)
        legend = (f"<h4>{esc(name)}</h4>"
                  + swatch("#1a9641", f"≥ {beds_target:g}", 0.7)
                  + swatch("#fdae61", f"{0.75 * beds_target:g} – {beds_target:g}", 0.7)
                  + swatch("#d7191c", f"< {0.75 * beds_target:g}", 0.7)
                  + swatch("#cccccc", canvas.t("no_data"), 0.7))
        feats = _beds_features(canvas, units, geoms, names, col, beds_target)
        layer = GeoLayer(name, feats, pane="gpUnits", show=show and side != "before")
        _add_layer(canvas, layer, legend, side, key="beds")
        made.append(name)
    return made


# --------------------------------------------------------------------------- plans
def _lookup(frame: pd.DataFrame | None, ids: pd.Series, col: str) -> pd.Series:
    if frame is None or col not in frame.columns or "id" not in frame.columns:
        return pd.Series([None] * len(ids), index=ids.index, dtype=object)
    table = frame.drop_duplicates("id").set_index(frame["id"].astype(str).drop_duplicates())
    return ids.astype(str).map(table[col])


def _sites_from_indices(plan: Any, candidates: gpd.GeoDataFrame | None,
                        facilities: gpd.GeoDataFrame | None) -> gpd.GeoDataFrame:
    """Return new sites ``candidates.iloc[plan.selected]`` plus facilities given beds."""
    if candidates is None:
        raise GeoplanInputError("the plan has no site geometries", field="candidates",
                                hint="pass the candidates the model was solved with")
    sel = np.asarray(plan.selected, dtype=np.intp)
    s = candidates.iloc[sel].copy()
    s["status"] = "new"
    s["beds_added"] = 0.0
    beds = getattr(plan, "beds_added", None)
    if beds is None or not len(beds):
        return s
    ids = s["id"].astype(str)
    if pd.api.types.is_integer_dtype(beds.index):  # positions into the candidates
        s["beds_added"] = pd.Series(sel).map(beds.astype(float)).fillna(0.0).to_numpy()
        return s
    by_id = pd.Series(beds.to_numpy(float), index=beds.index.astype(str))
    s["beds_added"] = ids.map(by_id).fillna(0.0).to_numpy()
    if facilities is not None:
        fac = facilities.loc[facilities["id"].astype(str).isin(by_id.index)
                             & ~facilities["id"].astype(str).isin(ids)].copy()
        fac["status"] = "upgraded"
        fac["beds_added"] = fac["id"].astype(str).map(by_id).to_numpy(float)
        fac = fac.loc[fac["beds_added"] > 0]
        if len(fac):
            s = pd.concat([s, fac.to_crs(s.crs)], ignore_index=True)
    return gpd.GeoDataFrame(s, geometry=candidates.geometry.name, crs=candidates.crs)


def plan_sites(plan: Any, candidates: gpd.GeoDataFrame | None = None,
               facilities: gpd.GeoDataFrame | None = None) -> gpd.GeoDataFrame:
    """Return the sites a plan opens or upgrades, as one GeoDataFrame for maps and reports.

    Why: models return indices (``plan.selected``) and, from their GIS front door,
    ``plan.sites``; maps and reports want names, types, costs and beds added.

    Sites come from ``plan.sites`` when present (rows with ``status`` ``"new"``, and
    ``"existing"`` rows with ``beds_added > 0`` as upgrades), else from
    ``candidates.iloc[plan.selected]``; ``plan.beds_added`` indexed by facility ids adds
    upgraded facilities, by candidate ids or positions beds at new sites.

    Parameters
    ----------
    plan
        A :class:`geoplan.optimize.plan.Plan`.
    candidates, facilities
        The model's inputs, to look up names, types and costs.

    Returns
    -------
    geopandas.GeoDataFrame
        ``id``, ``name``, ``type``, ``status`` (``"new"`` or ``"upgraded"``; capacitated
        plans also list their ``"existing"`` sites), ``beds_added``, ``cost``, (capacitated
        plans: ``capacity``, ``served``, ``use``), ``admin_name``, point geometry.

    Raises
    ------
    GeoplanInputError
        If the plan has no site geometries and no candidates are given.
    """
    cols = ["id", "name", "type", "status", "beds_added", "cost", "admin_name", "geometry"]
    if getattr(plan, "sites", None) is not None and "tier" in plan.sites.columns:
        return _tiered_plan_sites(plan)
    if getattr(plan, "sites", None) is not None:
        s = gpd.GeoDataFrame(plan.sites).copy()
        if "id" not in s.columns:
            s["id"] = s["site_id"] if "site_id" in s.columns else np.arange(len(s)).astype(str)
        status = s.get("status", pd.Series("new", index=s.index)).astype(str)
        added = pd.to_numeric(s.get("beds_added", pd.Series(0.0, index=s.index)),
                              errors="coerce").fillna(0.0)
        # capacitated plans: every open site, with what it serves against its capacity
        loads = "served" in s.columns
        keep = (status == "new") | ((status == "existing") & ((added > 0) | loads))
        s = s.loc[keep].copy()
        s["status"] = np.where(status[keep] == "new", "new",
                               np.where(added[keep] > 0, "upgraded", "existing"))
        if loads:
            cols = cols[:-2] + ["capacity", "served", "use"] + cols[-2:]
        s["beds_added"] = added[keep].to_numpy()
    else:
        s = _sites_from_indices(plan, candidates, facilities)
    s = gpd.GeoDataFrame(s, geometry=s.geometry.name, crs=s.crs)
    ids = s["id"].astype(str)
    for col in ("name", "type", "cost", "admin_name"):
        if col not in s.columns:
            s[col] = None
        fill_new = _lookup(candidates, ids, col)
        fill_old = _lookup(facilities, ids, col)
        fill = fill_new.where(s["status"] == "new", fill_old)
        text = s[col].astype(str).str.strip()
        # blank, or a name that is only the id (readers default names to ids)
        blank = s[col].isna() | text.isin(["", "nan", "None"]) | ((col == "name") & (text == ids))
        s[col] = s[col].where(~(blank & fill.notna()), fill)
    s["name"] = s["name"].where(s["name"].notna(), ids)
    s = s.rename_geometry("geometry") if s.geometry.name != "geometry" else s
    return gpd.GeoDataFrame(s[cols].reset_index(drop=True), geometry="geometry", crs=s.crs)


def _tiered_plan_sites(plan: Any) -> gpd.GeoDataFrame:
    """A tiered plan's facilities, tier by tier, each with the facility it refers to."""
    s = gpd.GeoDataFrame(plan.sites).copy()
    s["id"] = s["site_id"].astype(str)
    names = dict(zip(s["id"], s["name"].astype(str), strict=True))
    s["referral_name"] = s["referral_id"].map(lambda i: names.get(str(i)) if i else None)
    s["beds_added"] = 0.0
    cols = ["id", "name", "type", "tier", "tier_name", "status", "cost", "referral_name",
            "referral_minutes", "admin_name", "referral_id", "geometry"]
    return gpd.GeoDataFrame(s[cols].reset_index(drop=True), geometry="geometry", crs=s.crs)


#: Ring of an existing site whose load a capacitated plan shows.
LOAD_RING = "#6a3d9a"

#: Colour and marker size of each tier of a tiered plan (top first; more tiers: the last).
TIER_STYLE = (("#67001f", 26), ("#d6604d", 20), ("#4393c3", 15), ("#1b7837", 10),
              ("#542788", 8))


def add_tiers(canvas: MapCanvas, plan: Any, *,
              vocabulary: Vocabulary | None = None) -> list[str]:
    """Draw a tiered plan: one layer per tier (larger, darker markers for higher tiers;
    built sites as stars) and the referral links from each facility to the facility of a
    higher tier it refers to, with the minutes the model measured.

    Parameters
    ----------
    canvas
        The map.
    plan
        A tiered :class:`~geoplan.optimize.plan.Plan` (:mod:`geoplan.optimize.tiered`).
    vocabulary
        For type labels.

    Returns
    -------
    list of str
        The layer names (all on the "after" side of the before/after switch).
    """
    vocab = vocabulary or default_vocabulary()
    sites = _tiered_plan_sites(plan)
    if not len(sites):
        return []
    names = plan.details.get("tier_names_zh" if canvas.lang == "zh" else "tier_names") \
        or plan.details.get("tier_names") or []
    geoms = _display_geoms(canvas, sites)
    where = dict(zip(sites["id"], range(len(sites)), strict=True))
    made = []
    links = []
    for k in sorted(sites["tier"].unique()):
        colour, size = TIER_STYLE[min(int(k), len(TIER_STYLE)) - 1]
        name = names[int(k) - 1] if int(k) - 1 < len(names) else str(k)
        at = np.flatnonzero(sites["tier"].to_numpy() == k)
        icons = {"kept": svg_marker("circle", colour, size),
                 "new": svg_marker("star", colour, size + 6)}
        icons_ = {key: (svg, size + (6 if key == "new" else 0)) for key, svg in icons.items()}
        feats = []
        for i in at:
            row = sites.iloc[i]
            extra = [(labels.header("tier", canvas.lang), name),
                     (canvas.t("status"), labels.value("status", row["status"], canvas.lang))]
            if pd.notna(row["cost"]) and float(row["cost"]) > 0:
                extra.append((canvas.t("cost"), num(row["cost"], 1)))
            refers = pd.notna(row["referral_name"]) and bool(row["referral_name"])
            if refers:
                extra.append((labels.header("referral_name", canvas.lang),
                              canvas.t("referral_target", name=row["referral_name"],
                                       m=float(row["referral_minutes"]))))
            key = "new" if row["status"] == "new" else "kept"
            feats.append(feature(geoms[i], {"_i": key,
                                            "_p": _facility_popup(canvas, row, vocab, extra),
                                            "_t": f"{name}: {row['name']}"}))
            j = where.get(str(row["referral_id"])) if refers else None
            if j is not None:
                line = shapely.LineString([geoms[i], geoms[j]])
                links.append(feature(line, {"_s": {"color": colour, "weight": 2,
                                                   "opacity": 0.8, "dashArray": "4 4"},
                                            "_t": canvas.t("referral_to",
                                                           name=row["referral_name"],
                                                           m=float(row["referral_minutes"]))}))
        layer = canvas.t("tier", name=name, n=len(at))
        legend = f"<div>{icons['kept']}{esc(layer)}</div>"
        _add_layer(canvas, GeoLayer(layer, feats, icons=icons_), legend, "after",
                   key=f"plan:tier{int(k)}")
        made.append(layer)
    if links:
        name = canvas.t("referral")
        legend = (f"<div><span style='display:inline-block;width:18px;border-top:2px dashed "
                  f"#444;margin-right:6px'></span>{esc(name)}</div>")
        _add_layer(canvas, GeoLayer(name, links), legend, "after", key="plan:referral")
        made.append(name)
    return made


def add_plan(canvas: MapCanvas, plan: Any, *, candidates: gpd.GeoDataFrame | None = None,
             facilities: gpd.GeoDataFrame | None = None,
             vocabulary: Vocabulary | None = None) -> list[str]:
    """Draw a plan's new sites (magenta stars) and upgraded facilities (+beds, orange ring);
    for a capacitated plan each site's capacity, people served and share used in its popup,
    and its existing sites' loads as a layer of their own.

    Both layers join the "after" side of the before/after switch.

    Parameters
    ----------
    canvas
        The map.
    plan
        A :class:`geoplan.optimize.plan.Plan` (or anything :func:`plan_sites` reads).
    candidates, facilities
        The model's inputs (names, types, costs; sites when the plan has no geometries).
    vocabulary
        For type labels.

    Returns
    -------
    list of str
        The layer names.
    """
    vocab = vocabulary or default_vocabulary()
    sites = plan_sites(plan, candidates, facilities)
    geoms = _display_geoms(canvas, sites) if len(sites) else np.array([])
    made = []
    new = np.flatnonzero(sites["status"].to_numpy() == "new")
    up = np.flatnonzero(sites["status"].to_numpy() == "upgraded")
    star = svg_marker(*NEW_SITE)
    feats = []
    for i in new:
        row = sites.iloc[i]
        extra = [(canvas.t("status"), canvas.t("new"))]
        if pd.notna(row["cost"]):
            extra.append((canvas.t("cost"), num(row["cost"], 1)))
        if float(row["beds_added"] or 0) > 0:
            extra.append((canvas.t("beds_added"), num(row["beds_added"])))
        extra += _load_rows(canvas, row)
        html = _facility_popup(canvas, row.drop(labels=["beds"], errors="ignore"), vocab, extra)
        feats.append(feature(geoms[i], {"_i": "new", "_p": html, "_t": str(row["name"])}))
    name = canvas.t("new_sites", n=len(new))
    legend = f"<div>{star}{esc(name)}</div>"
    _add_layer(canvas, GeoLayer(name, feats, icons={"new": (star, NEW_SITE[2]),
                                                     "default": (star, NEW_SITE[2])}),
               legend, "after", key="plan:new")
    made.append(name)
    if len(up):
        types = sites["type"].astype(str).to_numpy()
        icons = _icon_table({types[i] for i in up}, upgraded=True)
        feats = []
        for i in up:
            row = sites.iloc[i]
            extra = [(canvas.t("status"), canvas.t("upgraded_status")),
                     (canvas.t("beds_added"), num(row["beds_added"]))]
            feats.append(feature(geoms[i], {
                "_i": types[i], "_p": _facility_popup(canvas, row, vocab, extra),
                "_t": f"{row['name']} +{num(row['beds_added'])}"}))
            feats.append(feature(geoms[i], {"_l": esc(f"+{num(row['beds_added'])}"),
                                             "_lc": "gp-label gp-plan", "_lp": 0}))
        name = canvas.t("upgraded", n=len(up))
        ring = svg_marker("circle", "#ffffff", 16, ring=UPGRADED_RING)
        legend = f"<div>{ring}{esc(name)}</div>"
        _add_layer(canvas, GeoLayer(name, feats, icons=icons), legend, "after",
                   key="plan:upgraded")
        made.append(name)
    kept = np.flatnonzero(sites["status"].to_numpy() == "existing")
    if len(kept) and "served" in sites.columns:
        # a capacitated plan: who each existing site serves, against its capacity
        feats = []
        for i in kept:
            row = sites.iloc[i]
            html = _facility_popup(canvas, row, vocab, _load_rows(canvas, row))
            use = float(row["use"]) if pd.notna(row["use"]) else math.nan
            feats.append(feature(geoms[i], {
                "_c": {"radius": 11, "color": LOAD_RING, "weight": 3, "fill": False},
                "_p": html, "_t": f"{row['name']}: {num(row['served'])} / "
                                  f"{num(row['capacity'])}"
                                  + (f" ({use:.0%})" if math.isfinite(use) else "")}))
        name = canvas.t("loads", n=len(kept))
        legend = (f"<div><span style='display:inline-block;width:12px;height:12px;"
                  f"border:3px solid {LOAD_RING};border-radius:50%;margin-right:6px'></span>"
                  f"{esc(name)}</div>")
        _add_layer(canvas, GeoLayer(name, feats), legend, "after", key="plan:loads")
        made.append(name)
    return made


def _load_rows(canvas: MapCanvas, row: pd.Series) -> list[tuple[str, str]]:
    """A capacitated plan's site: its capacity, the people it serves and the share used,
    as the model assigned them (none for other plans)."""
    if "served" not in row.index or pd.isna(row.get("served")):
        return []
    out = [(canvas.t("served"), num(row["served"]))]
    if pd.notna(row.get("capacity")):
        out.insert(0, (canvas.t("capacity"), num(row["capacity"])))
    if pd.notna(row.get("use")):
        out.append((canvas.t("use"), f"{float(row['use']):.0%}"))
    return out


# --------------------------------------------------------------------------- finishing
def _finish(canvas: MapCanvas) -> None:
    """Add the layer control, legend, title and before/after switch (once)."""
    if canvas._finished:
        return
    canvas._finished = True
    fmap = canvas.fmap
    m = fmap.get_name()
    folium.LayerControl(collapsed=False, position="topright").add_to(fmap)
    entries = ",".join(f"[{layer.get_name()},{js_json(html)}]" for layer, html in canvas.legends)
    code = f"""
(function () {{
  var map = {m};
  var entries = [{entries}];
  var legend = L.control({{position: "bottomleft"}});
  legend.onAdd = function () {{
    var d = L.DomUtil.create("div", "gp-legend");
    L.DomEvent.disableClickPropagation(d); L.DomEvent.disableScrollPropagation(d);
    return d;
  }};
  legend.addTo(map);
  function update() {{
    var h = "";
    entries.forEach(function (e) {{ if (map.hasLayer(e[0])) {{ h += e[1]; }} }});
    legend.getContainer().innerHTML = h;
    legend.getContainer().style.display = h ? "" : "none";
  }}
  map.on("overlayadd overlayremove gp-toggle", update);
  update();
"""
    if canvas.title or canvas.subtitle:
        head = f"<b>{esc(canvas.title)}</b>" + (f"<div>{esc(canvas.subtitle)}</div>"
                                               if canvas.subtitle else "")
        code += f"""  var t = L.DomUtil.create("div", "gp-title", map.getContainer());
  t.innerHTML = {js_json(head)};
"""
    if canvas.toggle["before"] or canvas.toggle["after"]:
        keys = list(dict.fromkeys([*canvas.toggle["before"], *canvas.toggle["after"]]))
        pairs = ",".join(
            "[" + ",".join(canvas.toggle[side][k].get_name() if k in canvas.toggle[side]
                           else "null" for side in ("before", "after")) + "]" for k in keys)
        code += f"""  var pairs = [{pairs}];
  var sw = L.control({{position: "topleft"}});
  sw.onAdd = function () {{
    var d = L.DomUtil.create("div", "gp-toggle");
    d.innerHTML = '<label><input type="radio" name="gp-when" value="before"> '
      + {js_json(esc(canvas.t("before")))} + '</label>'
      + '<label><input type="radio" name="gp-when" value="after" checked> '
      + {js_json(esc(canvas.t("after")))} + '</label>';
    L.DomEvent.disableClickPropagation(d);
    d.addEventListener("change", function (ev) {{ window.geoplanShow(ev.target.value); }});
    return d;
  }};
  sw.addTo(map);
  var when = "after";
  var memo = {{}};  // one-sided layers: were they on when their side was left?
  window.geoplanShow = function (target) {{
    if (target === when) {{ return; }}
    var from = target === "before" ? 1 : 0, to = 1 - from;
    pairs.forEach(function (p, i) {{
      var a = p[from], b = p[to];
      var on = a ? map.hasLayer(a) : (i in memo ? memo[i] : true);
      if (a) {{ map.removeLayer(a); }}
      if (b) {{ if (on) {{ map.addLayer(b); }} }} else {{ memo[i] = on; }}
    }});
    when = target;
    sw.getContainer().querySelector('input[value="' + target + '"]').checked = true;
    map.fire("gp-toggle");
  }};
"""
    if canvas._home is not None:
        code += f"""  // the study area fills the room the legend, layer list and title leave (measured,
  // whatever their size); again when the tiles notice grows the title or the page is
  // resized or printed, as long as the reader has not moved the map
  var home = L.latLngBounds({js_json(canvas._home)}), touched = false;
  ["mousedown", "wheel", "touchstart", "keydown"].forEach(function (ev) {{
    map.getContainer().addEventListener(ev, function () {{ touched = true; }},
                                        {{passive: true}});
  }});
  function box(sel) {{
    var el = map.getContainer().querySelector(sel);
    if (!el || el.offsetParent === null) {{ return null; }}
    return el.getBoundingClientRect();
  }}
  // on a narrow map (a report's A4-wide figure, a notebook cell) the layer list folds to
  // its button and opens on hover or tap, leaving the room to the area and the legend
  var list = map.getContainer().querySelector(".leaflet-control-layers");
  function narrow() {{ return map.getContainer().clientWidth < 900; }}
  function fold() {{
    if (!list) {{ return; }}
    if (narrow()) {{ L.DomUtil.removeClass(list, "leaflet-control-layers-expanded"); }}
    else {{ L.DomUtil.addClass(list, "leaflet-control-layers-expanded"); }}
  }}
  if (list) {{
    L.DomEvent.on(list, "mouseenter click", function () {{
      L.DomUtil.addClass(list, "leaflet-control-layers-expanded"); }});
    L.DomEvent.on(list, "mouseleave", function () {{ if (narrow()) {{ fold(); }} }});
  }}
  function fit() {{
    fold();
    var c = map.getContainer().getBoundingClientRect();
    if (!c.width || !c.height) {{ return; }}
    var lg = box(".gp-legend"), lc = box(".leaflet-control-layers"), tt = box(".gp-title");
    var left = lg ? lg.right - c.left + 12 : 12, right = lc ? c.right - lc.left + 12 : 12;
    var top = tt ? tt.bottom - c.top + 12 : 12;
    if (left + right > 0.6 * c.width) {{
      var k = 0.6 * c.width / (left + right); left *= k; right *= k;
    }}
    top = Math.min(top, 0.35 * c.height);
    map.fitBounds(home, {{paddingTopLeft: [left, top], paddingBottomRight: [right, 12],
                          animate: false}});
    declutter();
  }}
  function untouched() {{ return !touched; }}
  window.geoplanFit = fit;
  window.geoplanRefit = function () {{ if (untouched()) {{ fit(); }} }};
  fit();
  // the legend's width is only final once the page and its fonts have loaded
  window.addEventListener("load", function () {{ if (untouched()) {{ fit(); }} }});
  if (document.fonts && document.fonts.ready) {{
    document.fonts.ready.then(function () {{ if (untouched()) {{ fit(); }} }});
  }}
  map.on("gp-tiles-unavailable resize", function () {{ if (untouched()) {{ fit(); }} }});
  // printed, the layer list is hidden: the area takes its room, and back on screen after
  var printing = window.matchMedia("print");
  (printing.addEventListener ? printing.addEventListener.bind(printing, "change")
                             : printing.addListener.bind(printing))(function () {{
    if (untouched()) {{ fit(); }}
  }});
"""
    code += """  var pending = null;
  function declutter() {
    if (pending) { return; }
    pending = setTimeout(function () { pending = null; geoplanDeclutter(map); }, 0);
  }
  map.on("zoomend moveend viewreset resize overlayadd overlayremove baselayerchange "
         + "gp-toggle gp-tiles-unavailable", declutter);
  declutter();
  window.geoplanMap = map;
})();"""
    fmap.add_child(Script(code), name="gp_finish")


def render_map(canvas: MapCanvas, *, offline: bool = True,
               meta: Mapping[str, str] | None = None) -> str:
    """Return the map as one HTML page.

    Parameters
    ----------
    canvas
        The map.
    offline
        Inline Leaflet (default) so the page works with no network; False links
        Leaflet from its CDN (smaller file, needs internet).
    meta
        Extra ``<meta name content>`` tags for the page head (e.g. ``geoplan-command``,
        the command that made the page, which ``geoplan map`` compares before replacing
        a file).

    Returns
    -------
    str
    """
    _finish(canvas)
    page = inline_assets(canvas.fmap.get_root().render(), offline=offline)
    if meta:
        tags = "".join(f'<meta name="{esc(k)}" content="{esc(v)}">' for k, v in meta.items())
        page = page.replace("<head>", "<head>" + tags, 1)
    return page


def default_map_path(name: str, folder: str | Path = "maps") -> Path:
    """Where a map called ``name`` is saved by default: ``maps/<slug>.html``.

    Parameters
    ----------
    name
        Map title or name (Chinese characters are kept).
    folder
        Output folder.

    Returns
    -------
    pathlib.Path
    """
    slug = re.sub(r"[^\w]+", "-", name.strip().lower()).strip("-") or "map"
    return Path(folder) / f"{slug[:80]}.html"


def save_map(canvas: MapCanvas, path: str | Path | None = None, *,
             offline: bool = True, meta: Mapping[str, str] | None = None) -> Path:
    """Write the map as a self-contained HTML file, atomically.

    Parameters
    ----------
    canvas
        The map.
    path
        Target file; default :func:`default_map_path` of the title (under ``maps/``).
    offline
        Inline Leaflet (default); see :func:`render_map`.
    meta
        Extra ``<meta>`` tags (see :func:`render_map`).

    Returns
    -------
    pathlib.Path
        The written file.

    Raises
    ------
    GeoplanInputError
        If the folder cannot be written or the file cannot be replaced.
    """
    target = Path(path) if path is not None else default_map_path(canvas.title or "map")
    page = render_map(canvas, offline=offline, meta=meta)
    with atomic_path(target) as tmp:
        tmp.write_text(page, encoding="utf-8")
    return target


# --------------------------------------------------------------------------- one call
@dataclass
class MapInputs:
    """What a map shows; every field optional (see the module docstring for columns).

    Attributes
    ----------
    boundaries, population, facilities, candidates
        Input layers (population cells may carry time columns, e.g. the output of
        :func:`geoplan.access.coverage.coverage_by_cell`).
    units
        Per-unit table(s) (covered shares, beds), e.g. from
        :func:`geoplan.access.coverage.coverage_by_unit` and
        :func:`geoplan.access.coverage.beds_per_1000`;
        defaults to ``plan.by_unit``.
    catchments
        Per facility ``id``, ``population`` and ``mean_minutes`` (as
        ``geoplan.access.coverage.catchments(...).facilities``), shown in facility popups.
    gaps, isochrones
        Gap areas and ready-made isochrone polygons.
    plan
        A :class:`geoplan.optimize.plan.Plan` to draw.
    minutes
        Target times for the covered-area layers.
    time_col, time_after_col
        Population columns of minutes to the nearest facility before and after the plan
        (``minutes`` is what :func:`geoplan.access.coverage.coverage_by_cell` writes).
    beds_target
        Beds per 1,000 residents to reach.
    standard
        Draw the plan's covered area as the cells within the standard each was held to
        (``population`` is a plan's cell table with ``standard_min``, ``meets_before``,
        ``meets_after``: per-cell standards drawn as such) instead of ``minutes``.
    gaps_after
        A plan's gaps after it (people still outside the standard), under the switch;
        ``gaps`` are then the gaps before it (never shown in the after view).
    worst_minutes
        A p-center plan's worst time: its farthest residents are drawn after the plan.
    roads, places
        The offline roads basemap (:func:`geoplan.maps.basemap.road_lines` of the
        network, :func:`geoplan.inputs.osm.places_of`): see :func:`new_map`.
    zones
        A balanced plan's zones (:mod:`geoplan.inputs.zones`), drawn with the plan's
        per-zone figures (``plan.details["zones"]``).
    """

    boundaries: gpd.GeoDataFrame | None = None
    population: gpd.GeoDataFrame | None = None
    facilities: gpd.GeoDataFrame | None = None
    candidates: gpd.GeoDataFrame | None = None
    units: pd.DataFrame | Sequence[pd.DataFrame] | None = None
    catchments: pd.DataFrame | None = None
    gaps: gpd.GeoDataFrame | None = None
    isochrones: gpd.GeoDataFrame | None = None
    plan: Any = None
    minutes: Sequence[float] = (15.0,)
    time_col: str = "minutes"
    time_after_col: str = "minutes_after"
    beds_target: float = BEDS_TARGET
    standard: bool = False
    gaps_after: gpd.GeoDataFrame | None = None
    worst_minutes: float | None = None
    roads: gpd.GeoDataFrame | None = None
    places: gpd.GeoDataFrame | None = None
    zones: gpd.GeoDataFrame | None = None


def _extent(data: MapInputs) -> gpd.GeoDataFrame:
    for layer in (data.boundaries, data.population, data.facilities, data.candidates):
        if layer is not None and len(layer):
            return layer
    raise GeoplanInputError("nothing to map", hint="give boundaries, population or facilities")


def _with_catchments(facilities: gpd.GeoDataFrame,
                     catchments: pd.DataFrame | None) -> gpd.GeoDataFrame:
    if catchments is None or not {"id", "population"} <= set(catchments.columns):
        return facilities
    table = catchments.drop_duplicates("id").set_index(catchments["id"].astype(str)
                                                       .drop_duplicates())
    ids = facilities["id"].astype(str)
    out = facilities.copy()
    out["catchment_population"] = ids.map(table["population"]).to_numpy()
    if "mean_minutes" in table.columns:
        out["travel_time_min"] = ids.map(table["mean_minutes"]).to_numpy()
    return out


def unit_frame(by_unit: pd.DataFrame) -> pd.DataFrame:
    """A plan's per-unit table with its unit codes as a column: a named or non-range index
    (the codes) becomes one; a plain row-number index is dropped, never turned into an
    ``index`` column the pages would show.

    Parameters
    ----------
    by_unit
        ``plan.by_unit``.

    Returns
    -------
    pandas.DataFrame
        A new frame with a row-number index.
    """
    named = by_unit.index.name is not None or not isinstance(by_unit.index, pd.RangeIndex)
    keep = named and "admin_code" not in by_unit.columns
    return by_unit.reset_index(drop=not keep)


def _unit_tables(data: MapInputs) -> list[pd.DataFrame]:
    units = data.units
    plan = data.plan
    if units is None and plan is not None and getattr(plan, "by_unit", None) is not None:
        units = unit_frame(plan.by_unit)
    if units is None:
        return []
    return [units] if isinstance(units, pd.DataFrame) else list(units)


def build_map(data: MapInputs, *, title: str = "", subtitle: str = "", lang: str = "en",
              basemap: str = "osm", vocabulary: Vocabulary | None = None) -> MapCanvas:
    """Build a map with a layer for every input given.

    Layers, bottom to top: population density image, admin units shaded by covered
    share and beds per 1,000, covered area per target time (before/after for plans),
    ready-made isochrones, gaps ranked by population, admin boundaries, candidate
    sites, facilities by type, and the plan's new and upgraded sites. A before/after
    switch appears when a plan is drawn.

    Parameters
    ----------
    data
        The inputs.
    title, subtitle
        Shown on the map and as page title.
    lang
        ``"zh"`` or ``"en"``.
    basemap
        ``"osm"``, ``"gaode"``, ``"roads"`` (needs ``data.roads``) or ``"none"``.
    vocabulary
        Facility types for labels.

    Returns
    -------
    MapCanvas
        Write it with :func:`save_map` or :func:`render_map`.

    Raises
    ------
    GeoplanInputError
        Nothing to map, unknown language or basemap, missing columns.
    """
    canvas = new_map(_extent(data), title=title, subtitle=subtitle, lang=lang, basemap=basemap,
                     roads=data.roads, places=data.places)
    cells = data.population
    plan = data.plan
    if cells is not None and len(cells):
        add_population(canvas, cells, show=True)
    if data.boundaries is not None:
        for table in _unit_tables(data):
            add_units(canvas, data.boundaries, table, beds_target=data.beds_target, show=False)
    if cells is not None and data.standard and plan is not None:
        for when in ("before", "after"):
            add_standard(canvas, cells, when)
    elif cells is not None and data.time_col in cells.columns:
        after = plan is not None and data.time_after_col in cells.columns
        add_coverage(canvas, cells, data.minutes, time_col=data.time_col,
                     toggle="before" if after else None)
        if after:
            add_coverage(canvas, cells, data.minutes, time_col=data.time_after_col,
                         toggle="after")
    if cells is not None and plan is not None and data.worst_minutes is not None:
        add_worst(canvas, cells, data.worst_minutes, time_col=data.time_after_col)
    if data.isochrones is not None and len(data.isochrones):
        add_isochrones(canvas, data.isochrones)
    after_gaps = plan is not None and data.gaps_after is not None
    if data.gaps is not None and len(data.gaps):   # with a plan's gaps: the before side
        add_gaps(canvas, data.gaps, toggle="before" if after_gaps else None)
    if after_gaps and len(data.gaps_after):
        add_gaps(canvas, data.gaps_after, toggle="after")
    if data.boundaries is not None:
        add_boundaries(canvas, data.boundaries)
    if data.zones is not None and len(data.zones):
        add_zones(canvas, data.zones, getattr(plan, "details", {}).get("zones"))
    if data.candidates is not None and len(data.candidates):
        add_candidates(canvas, data.candidates, show=False)
    if data.facilities is not None and len(data.facilities):
        add_facilities(canvas, _with_catchments(data.facilities, data.catchments),
                       vocabulary=vocabulary)
    if plan is not None and "tier_names" in getattr(plan, "details", {}):
        add_tiers(canvas, plan, vocabulary=vocabulary)
    elif plan is not None:
        add_plan(canvas, plan, candidates=data.candidates, facilities=data.facilities,
                 vocabulary=vocabulary)
    return canvas
