"""Plain-table summaries of input layers (what ``geoplan inspect`` prints).

Each function takes a layer as returned by :mod:`geoplan.inputs.readers` and returns a DataFrame, so
notebooks and reports can use the same figures the command line shows.
"""

from __future__ import annotations

import geopandas as gpd
import networkx as nx
import numpy as np
import pandas as pd

from geoplan import labels
from geoplan.inputs.facility_types import Vocabulary, default_vocabulary

__all__ = [
    "extent_summary",
    "facility_summary",
    "network_summary",
    "population_by_unit",
]


def extent_summary(gdf: gpd.GeoDataFrame, lang: str = "en") -> dict[str, str]:
    """CRS, feature count and extent (metres and lon/lat) of a layer.

    Parameters
    ----------
    gdf
        Any layer with a CRS.
    lang
        Language of the values' words (``"en"`` or ``"zh"``).

    Returns
    -------
    dict
        ``features``, ``crs``, ``extent`` (projected), ``extent_lonlat``, ``size``.
    """
    minx, miny, maxx, maxy = gdf.total_bounds
    lon0, lat0, lon1, lat1 = gdf.to_crs(4326).total_bounds
    return {
        "features": f"{len(gdf):,}",
        "crs": f"{gdf.crs.name} ({gdf.crs.to_string()})",
        "extent": labels.text("cli.v.extent", lang, x0=f"{minx:,.0f}", x1=f"{maxx:,.0f}",
                              y0=f"{miny:,.0f}", y1=f"{maxy:,.0f}"),
        "extent_lonlat": labels.text("cli.v.lonlat", lang, lon0=f"{lon0:.5f}",
                                     lon1=f"{lon1:.5f}", lat0=f"{lat0:.5f}",
                                     lat1=f"{lat1:.5f}"),
        "size": labels.text("cli.v.size", lang, w=f"{(maxx - minx) / 1000:,.1f}",
                            h=f"{(maxy - miny) / 1000:,.1f}"),
    }


def facility_summary(facilities: gpd.GeoDataFrame, vocabulary: Vocabulary | None = None,
                     lang: str = "en") -> pd.DataFrame:
    """Facilities and beds by type (with the label in ``lang``), and a total row.

    Parameters
    ----------
    facilities
        Output of :func:`geoplan.inputs.readers.read_facilities`.
    vocabulary
        For labels; default vocabulary if omitted.
    lang
        ``"en"`` or ``"zh"``.

    Returns
    -------
    pandas.DataFrame
        Columns ``type``, ``label``, ``facilities``, ``beds``, ``outside_area``.
    """
    vocab = vocabulary or default_vocabulary()
    order = {code: i for i, code in enumerate(vocab.types)}
    g = facilities.groupby("type", sort=False).agg(
        facilities=("id", "size"), beds=("beds", "sum"),
        outside_area=("in_area", lambda s: int((~s.astype(bool)).sum())))
    g = g.reset_index()
    g.insert(1, "label", g["type"].map(lambda c: vocab.label(c, lang)))
    g = g.sort_values("type", key=lambda s: s.map(lambda c: order.get(c, 999))).reset_index(
        drop=True)
    total = pd.DataFrame([{"type": "total", "label": labels.text("report.total", lang),
                           "facilities": int(g["facilities"].sum()), "beds": g["beds"].sum(),
                           "outside_area": int(g["outside_area"].sum())}])
    return pd.concat([g, total], ignore_index=True)


def population_by_unit(population: gpd.GeoDataFrame,
                       boundaries: gpd.GeoDataFrame | None = None) -> pd.DataFrame:
    """Population and populated cells per admin unit (population-weighted), with a total.

    Parameters
    ----------
    population
        Output of :func:`geoplan.inputs.readers.read_population` (tagged with ``admin_code``).
    boundaries
        Units, to list units with no population too and to add their names and area.

    Returns
    -------
    pandas.DataFrame
        ``admin_code``, ``admin_name``, ``population``, ``cells``, ``population_share``
        (of the whole population), (``area_km2``, ``density_km2`` with boundaries).
    """
    codes = population["admin_code"].astype(object).where(population["admin_code"].notna(),
                                                          "(none)")
    g = population.assign(admin_code=codes).groupby("admin_code").agg(
        population=("population", "sum"), cells=("population", "size"))
    if boundaries is not None:
        units = boundaries.set_index("admin_code")
        g = g.reindex(units.index.append(g.index.difference(units.index)), fill_value=0)
        g["admin_name"] = units["admin_name"].reindex(g.index).fillna("(outside all units)")
        g["area_km2"] = (units.area / 1e6).reindex(g.index)
        g["density_km2"] = g["population"] / g["area_km2"]
    else:
        g["admin_name"] = population.groupby(codes)["admin_name"].first().reindex(g.index)
    total = g["population"].sum()
    g["population_share"] = g["population"] / total if total > 0 else np.nan
    g = g.reset_index()
    front = ["admin_code", "admin_name", "population", "cells", "population_share"]
    g = g[front + [c for c in g.columns if c not in front]]
    row = {"admin_code": "total", "admin_name": "", "population": total,
           "cells": int(g["cells"].sum()), "population_share": 1.0}
    if "area_km2" in g:
        row["area_km2"] = g["area_km2"].sum()
        row["density_km2"] = total / row["area_km2"] if row["area_km2"] else np.nan
    return pd.concat([g, pd.DataFrame([row])], ignore_index=True)


def network_summary(graph: nx.MultiDiGraph,
                    lang: str = "en") -> tuple[dict[str, str], pd.DataFrame]:
    """Size, connectivity and length by highway class of a road graph.

    Parameters
    ----------
    graph
        Output of :func:`geoplan.inputs.readers.read_network`.
    lang
        Language of the headline values' words (``"en"`` or ``"zh"``).

    Returns
    -------
    tuple
        A dict of headline figures and a DataFrame of edge km by ``highway`` class
        (two-way streets count once per direction, as routed).
    """
    rows = []
    for _, _, d in graph.edges(data=True):
        hw = d.get("highway", "unknown")
        hw = hw[0] if isinstance(hw, list) else hw
        rows.append((hw, float(d.get("length", 0.0)), bool(d.get("oneway", False))))
    edges = pd.DataFrame(rows, columns=["highway", "length_m", "oneway"])
    by_class = edges.groupby("highway").agg(edges=("length_m", "size"),
                                             km=("length_m", lambda s: s.sum() / 1000),
                                             oneway_share=("oneway", "mean"))
    by_class = by_class.sort_values("km", ascending=False).reset_index()
    comps = list(nx.weakly_connected_components(graph))
    largest = max((len(c) for c in comps), default=0)
    head = {
        "nodes": f"{graph.number_of_nodes():,}",
        "edges": f"{graph.number_of_edges():,}",
        "length": labels.text("cli.v.directed", lang,
                              km=f"{edges['length_m'].sum() / 1000:,.1f}"),
        "components": labels.text("cli.v.components", lang, n=len(comps),
                                  share=f"{largest / max(graph.number_of_nodes(), 1):.1%}"),
        "crs": str(graph.graph.get("crs")),
    }
    return head, by_class
