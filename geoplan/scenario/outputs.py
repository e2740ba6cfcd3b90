"""Maps, the report and the site files of a scenario run.

The last step of :func:`geoplan.scenario.run.run_scenario`, and the site files of
``geoplan optimize``.

Why separate: the runner decides *what* was computed; this module only turns results
into pages - one coverage map per coverage question, one plan map (before/after) per
site model, and one self-contained report with every table, plan and map. Every figure
drawn comes from the run's result (``RunResult.tables``, ``.plans`` and ``.cells``):
nothing here builds a travel context or computes coverage.

Site files: :func:`site_table` gives a plan's sites their coordinates in WGS-84
(``lon_wgs84``, ``lat_wgs84``) and, when the facilities or candidates were read in
GCJ-02 or BD-09 (their ``attrs["source_crs"]``), in that system too (``lon_gcj02``,
``lat_gcj02`` / ``lon_bd09``, ``lat_bd09``: the forward transform of the WGS-84 point,
to paste back into Gaode or Baidu); :func:`write_site_files` writes the new sites as
GeoJSON (RFC 7946) and KML (Google Earth), both WGS-84.
"""

from __future__ import annotations

import json
import math
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd

from geoplan import labels
from geoplan._atomic import atomic_path
from geoplan.inputs.chinacrs import wgs84_to_bd09, wgs84_to_gcj02
from geoplan.inputs.region import Region
from geoplan.optimize.figures import COVERING_MODELS, plan_figures
from geoplan.scenario.models import site_types, tier_institutions
from geoplan.scenario.spec import Scenario, SiteModelSpec

__all__ = ["site_systems", "site_table", "write_maps_and_report", "write_site_files"]

#: Chinese map systems a site's input can be in, and the transform from WGS-84 to each.
_FORWARD = {"gcj02": wgs84_to_gcj02, "bd09": wgs84_to_bd09}

#: Decimals of the degrees written (1e-7 degrees is about 1 cm).
_DECIMALS = 7

KML_NS = "http://www.opengis.net/kml/2.2"


def site_systems(region: Region) -> list[str]:
    """The Chinese systems (``gcj02``, ``bd09``) the region's sites were read in.

    Parameters
    ----------
    region
        The loaded region; its facilities' and candidates' ``attrs["source_crs"]`` (set
        by :func:`geoplan.inputs.readers.read_facilities` / ``read_candidates``) say.

    Returns
    -------
    list of str
        In the order ``gcj02``, ``bd09``; empty when every site layer was WGS-84 or
        another EPSG system.
    """
    found = {layer.attrs.get("source_crs") for layer in (region.facilities, region.candidates)
             if layer is not None}
    return [s for s in _FORWARD if s in found]


def site_table(sites: gpd.GeoDataFrame, region: Region) -> gpd.GeoDataFrame:
    """A plan's sites with their coordinates in WGS-84 and in the inputs' own system.

    Parameters
    ----------
    sites
        ``Plan.sites`` (points, in the region's metric CRS).
    region
        The region the plan was made on (see :func:`site_systems`).

    Returns
    -------
    geopandas.GeoDataFrame
        A copy with ``lon_wgs84``, ``lat_wgs84`` and, per system of
        :func:`site_systems`, ``lon_<system>``, ``lat_<system>`` (degrees, 7 decimals);
        the existing columns are kept as they are.
    """
    out = sites.copy()
    ll = out.geometry.to_crs(4326) if len(out) else out.geometry
    lon = ll.x.to_numpy(dtype=float) if len(out) else np.array([], dtype=float)
    lat = ll.y.to_numpy(dtype=float) if len(out) else np.array([], dtype=float)
    out["lon_wgs84"] = np.round(lon, _DECIMALS)
    out["lat_wgs84"] = np.round(lat, _DECIMALS)
    for system in site_systems(region):
        x, y = _FORWARD[system](lon, lat)
        out[f"lon_{system}"] = np.round(x, _DECIMALS)
        out[f"lat_{system}"] = np.round(y, _DECIMALS)
    return out


def _plain(value: Any) -> Any:
    """A JSON/KML-ready scalar: numpy to Python, NaN/NA to None."""
    if isinstance(value, np.generic):
        value = value.item()
    if value is None or (isinstance(value, float) and not math.isfinite(value)):
        return None
    try:
        if pd.isna(value):
            return None
    except (TypeError, ValueError):
        pass
    return value


def _new_sites(sites: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    return sites[sites["status"] == "new"] if "status" in sites.columns else sites


def _records(sites: gpd.GeoDataFrame) -> list[tuple[dict[str, Any], float, float]]:
    cols = [c for c in sites.columns if c != sites.geometry.name]
    return [({c: _plain(row[c]) for c in cols}, float(row["lon_wgs84"]),
             float(row["lat_wgs84"])) for _, row in sites.iterrows()]


def _geojson(records: list[tuple[dict[str, Any], float, float]]) -> str:
    """A FeatureCollection of points in WGS-84 lon/lat (RFC 7946: no ``crs`` member)."""
    feats = [{"type": "Feature", "properties": props,
              "geometry": {"type": "Point", "coordinates": [lon, lat]}}
             for props, lon, lat in records]
    return json.dumps({"type": "FeatureCollection", "features": feats}, ensure_ascii=False,
                      indent=1) + "\n"


def _kml(records: list[tuple[dict[str, Any], float, float]], title: str) -> bytes:
    """A KML 2.2 document, one Placemark per site: named by the site id (and name), its
    type in the description, every field as ExtendedData, a WGS-84 point."""
    ET.register_namespace("", KML_NS)

    def sub(parent: ET.Element, tag: str, text: str | None = None) -> ET.Element:
        el = ET.SubElement(parent, f"{{{KML_NS}}}{tag}")
        if text is not None:
            el.text = text
        return el

    root = ET.Element(f"{{{KML_NS}}}kml")
    doc = sub(root, "Document")
    sub(doc, "name", title)
    for props, lon, lat in records:
        pm = sub(doc, "Placemark")
        sid = str(props.get("site_id") or props.get("id") or "")
        name = props.get("name")
        sub(pm, "name", sid if not name or str(name) == sid else f"{sid} {name}")
        kind = props.get("type")
        sub(pm, "description", f"{sid}: {kind}" if kind else sid)
        data = sub(pm, "ExtendedData")
        for key, value in props.items():
            d = sub(data, "Data")
            d.set("name", str(key))
            sub(d, "value", "" if value is None else str(value))
        sub(sub(pm, "Point"), "coordinates", f"{lon:.{_DECIMALS}f},{lat:.{_DECIMALS}f}")
    return ET.tostring(root, encoding="utf-8", xml_declaration=True)


def write_site_files(sites: gpd.GeoDataFrame, folder: Path, stem: str,
                     title: str) -> list[str]:
    """Write a plan's new sites as ``<stem>.geojson`` and ``<stem>.kml`` (WGS-84).

    Parameters
    ----------
    sites
        Output of :func:`site_table` (rows of ``status`` "new" are written; all rows
        when there is no ``status``).
    folder
        Where to write (each file through :func:`geoplan._atomic.atomic_path`).
    stem
        File name without suffix, e.g. ``plan_points_new_sites``.
    title
        The KML document's name (shown in Google Earth's sidebar).

    Returns
    -------
    list of str
        The names of the files written.
    """
    records = _records(_new_sites(sites))
    names = [f"{stem}.geojson", f"{stem}.kml"]
    with atomic_path(folder / names[0]) as tmp:
        tmp.write_text(_geojson(records), encoding="utf-8")
    with atomic_path(folder / names[1]) as tmp:
        tmp.write_bytes(_kml(records, title))
    return names


def _unique(label: str, taken: dict[str, Any]) -> str:
    """``label``, numbered "label (2)" when a page already shows it (two unnamed models of
    one kind)."""
    n, out = 1, label
    while out in taken:
        n += 1
        out = f"{label} ({n})"
    return out


def _map_title(sc: Any, name: str, lang: str) -> str:
    """A map's title: the scenario and the question or plan (once when they are the same)."""
    scenario = sc.label()
    return scenario if name == scenario else labels.text("map.title", lang, scenario=scenario,
                                                          name=name)


def report_equity(res: Any) -> dict[str, Any]:
    """The equity figures of the report's coverage question (the first), by mode, as the
    run computed them (``summary.json``)."""
    cov = res.summary.get("coverage") or []
    if not cov:
        return {}
    return {mode: v["equity"] for mode, v in cov[0]["modes"].items() if "equity" in v}


def report_gaps(sc: Any, res: Any, lang: str) -> dict[str, Any]:
    """The run's gap tables a report lists, by caption: each coverage question per mode,
    then what each covering plan leaves (``gaps_plan_<model>_after``)."""
    out: dict[str, Any] = {}
    for q in sc.coverage:
        for mode in q.modes:
            g = res.tables.get(f"gaps_{q.name}_{mode}")
            if g is not None:
                within = labels.text("unit.minutes", lang, v=f"{max(q.minutes):g}")
                out[_unique(f"{q.label(lang)} · {labels.mode(mode, lang)} · {within}",
                            out)] = g
    for m in sc.models:
        g = res.tables.get(f"gaps_plan_{m.name}_after")
        if g is not None:
            out[_unique(labels.text("report.gaps_after", lang, name=m.label(lang)), out)] = g
    return out


def _plan_layers(res: Any, m: Any, plan: Any, cells: Any,
                 figs: dict[str, Any]) -> dict[str, Any]:
    """What a plan's map draws, by what the model decided on (its figures).

    Covering models: the cells within the standard each was held to, before and after
    (per-cell standards as such), and the gaps left after the plan (tiered plans: of
    their lowest tier's standard). p-center: its worst
    time and the residents nearest to it. p-median: travel-time bands up to the search
    limit (a limit, not a standard). Beds plans: the beds layers of the units.
    """
    tiered = plan.model == "tiered_plan"
    if cells is None or not (isinstance(m, SiteModelSpec) or tiered):
        return {"minutes": (15.0,)}
    if (plan.model in COVERING_MODELS or tiered) and "meets_after" in cells.columns:
        return {"standard": True, "gaps_after": res.plan_gaps(m.name, "after")}
    limit = float(m.minutes)
    bands = tuple(limit * k / 4 for k in (1, 2, 3, 4))
    if plan.model == "p_center" and "worst_minutes" in figs:
        return {"minutes": bands, "worst_minutes": figs["worst_minutes"].value}
    return {"minutes": bands}


def _plan_subtitle(m: Any, plan: Any, figs: dict[str, Any], lang: str) -> str:
    """The model kind and the plan's headline figure (mean or worst time, share after)."""
    # the problem solved (a p-center with a target share is a standards cover)
    kind = plan.model if labels.has(f"kind.{plan.model}") else m.kind
    parts = [labels.kind(kind, lang)]
    for key in ("share_after", "mean_minutes", "worst_minutes", "beds_added"):
        if key in figs:
            label, shown = labels.figure(key, figs[key].value, figs[key].unit, lang)
            parts.append(f"{label} {shown}")
            break
    return " · ".join(parts)


def write_maps_and_report(sc: Scenario, region: Region, res: Any, out: Path) -> dict[str, Any]:
    """Write the maps and the report of a run into ``out``.

    Parameters
    ----------
    sc
        The scenario.
    region
        Its loaded region.
    res
        The :class:`~geoplan.scenario.run.RunResult` so far (tables and plans).
    out
        The (staging) output folder.

    Returns
    -------
    dict
        Names of the files written (relative to ``out``).
    """
    from geoplan.inputs.osm import places_of
    from geoplan.maps.basemap import road_lines
    from geoplan.maps.canvas import MapInputs, build_map, save_map
    from geoplan.maps.report import ReportInputs, write_report
    lang = sc.language
    # the offline basemap every page carries (drawn, or switched to without tiles)
    base = {"roads": road_lines(region.network), "places": places_of(region.network)} \
        if region.network is not None else {}
    maps: dict[str, Any] = {}
    written: dict[str, Any] = {"maps": []}
    for q in sc.coverage:                       # one map per (question, mode)
        fac = region.facilities
        if q.types:
            fac = fac[fac["type"].isin(q.types)]
        for mode in q.modes:
            cells = res.cells[f"coverage_{q.name}_{mode}"]
            units = res.tables[f"coverage_{q.name}"]
            units = units[units["mode"] == mode].drop(columns="mode")
            title = _map_title(sc, q.label(lang), lang)
            canvas = build_map(MapInputs(
                boundaries=region.boundaries, population=cells, facilities=fac,
                units=units, gaps=res.tables.get(f"gaps_{q.name}_{mode}"),
                minutes=q.minutes, **base), title=title, subtitle=labels.mode(mode, lang),
                lang=lang, basemap=sc.basemap, vocabulary=region.vocabulary)
            if sc.maps:
                name = f"map_{q.name}_{mode}.html"
                save_map(canvas, out / name)
                written["maps"].append(name)
            caption = labels.text("report.coverage_map", lang, name=q.label(lang))
            maps[_unique(f"{caption} · {labels.mode(mode, lang)}", maps)] = canvas
    tradeoff = None
    for m in sc.models:
        plan = res.plans.get(m.name)
        if plan is None:
            continue
        if m.kind == "tradeoff":
            tradeoff = res.tables.get(f"plan_{m.name}_curve")
            continue
        if plan.sites is None or not plan.feasible:
            continue
        cells = res.cells.get(f"plan_{m.name}")
        figs = {f.key: f for f in plan_figures(plan)}                 # once per plan
        facilities = (site_types(region, m) if getattr(m, "existing_types", None)
                      else tier_institutions(region, m) if m.kind == "tiered"
                      else region.facilities)
        canvas = build_map(MapInputs(
            boundaries=region.boundaries, population=cells if cells is not None
            else region.population, facilities=facilities, plan=plan,
            zones=plan.details.get("zone_shapes"),
            **_plan_layers(res, m, plan, cells, figs), **base),
            title=_map_title(sc, m.label(lang), lang),
            subtitle=_plan_subtitle(m, plan, figs, lang), lang=lang, basemap=sc.basemap,
            vocabulary=region.vocabulary)
        if sc.maps:
            name = f"map_{m.name}.html"
            save_map(canvas, out / name)
            written["maps"].append(name)
        maps[_unique(labels.text("report.plan_map", lang, name=m.label(lang)), maps)] = canvas
    if sc.report:
        units = None
        first_cov = next(iter(sc.coverage), None)
        if first_cov is not None:
            units = res.tables[f"coverage_{first_cov.name}"]
        specs = {mm.name: mm for mm in sc.models}
        plans: dict[str, Any] = {}
        for k, p in res.plans.items():
            if specs[k].kind != "tradeoff":
                plans[_unique(specs[k].label(lang), plans)] = p
        data = ReportInputs(
            title=sc.label(), subtitle=sc.describe(), region=region,
            inputs={labels.text("report.scenario_file", lang): sc.path.name},
            units=units, plans=plans, tradeoff=tradeoff, maps=maps,
            gaps=report_gaps(sc, res, lang), equity=report_equity(res))
        files = write_report(data, out / "report", lang=lang, embed_maps=True)
        written["report"] = files.html.relative_to(out).as_posix()
        if sc.pdf:
            from geoplan.maps.export import html_to_pdf
            pdf = html_to_pdf(files.html, files.html.with_suffix(".pdf"))
            written["report_pdf"] = pdf.relative_to(out).as_posix()
    return written
