"""The GIS front door of the location models: from layers to a demand x site time matrix.

Why: every model works on the same plain numbers - travel times from population cells
to existing and candidate sites within a cut-off, population weights, admin units. This
module builds them once with the travel engine (:mod:`geoplan.travel.times`) so models stay
pure numbers and a scenario with several targets on one network reuses the snapping.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
from numpy.typing import ArrayLike, NDArray
from scipy import sparse

from geoplan._errors import GeoplanInputError
from geoplan.travel.profiles import Profile

__all__ = ["SiteProblem", "between_sites", "build_problem", "coverage_by_unit", "plan_sites"]


@dataclass
class SiteProblem:
    """Travel times from demand cells to sites, with everything a model's answer needs.

    Attributes
    ----------
    times
        ``(cells, sites)`` CSR matrix of seconds for pairs within ``cutoff_s`` (explicit
        entries; zero times stored as 1e-6).
    demand
        Population per cell (row).
    unit
        Admin code per cell (object array), None without admin units.
    cells
        The population rows used, in row order.
    sites
        Existing facilities first, then candidates: ``site_id``, ``name``, ``kind``
        (``"existing"``/``"candidate"``), ``type``, ``cost``, ``beds``, ``capacity``
        (people the site can serve, where the layer gives it), geometry.
    existing
        Indices of the existing sites (``0 .. n_existing-1``).
    mode
        Travel mode.
    cutoff_s
        Largest time kept in ``times``.
    unit_names
        Admin code -> name, for tables.
    """

    times: sparse.csr_matrix
    demand: NDArray[np.float64]
    unit: NDArray[np.object_] | None
    cells: gpd.GeoDataFrame
    sites: gpd.GeoDataFrame
    existing: NDArray[np.intp]
    mode: str
    cutoff_s: float
    unit_names: dict[Any, str] | None = None

    @property
    def n_cells(self) -> int:
        """Number of demand rows."""
        return int(self.times.shape[0])

    @property
    def n_sites(self) -> int:
        """Number of site columns (existing + candidates)."""
        return int(self.times.shape[1])

    def coverage(self, minutes: float | ArrayLike) -> sparse.csr_matrix:
        """Boolean ``(cells, sites)`` matrix: site reachable within ``minutes``.

        Parameters
        ----------
        minutes
            One time standard, or one per cell (e.g. urban 12 / rural 20 minutes).
            Must not exceed the cut-off the problem was built with.

        Returns
        -------
        scipy.sparse.csr_matrix of bool
        """
        lim = np.asarray(minutes, dtype=float) * 60.0
        if np.any(lim > self.cutoff_s + 1e-9):
            raise GeoplanInputError(
                f"time standard {lim.max() / 60:g} min exceeds the {self.cutoff_s / 60:g} min "
                "the problem was built with", field="minutes",
                hint="build the problem with the largest time standard you need")
        t = self.times
        if lim.ndim == 0:
            keep = t.data <= lim
        else:
            if lim.shape != (self.n_cells,):
                raise GeoplanInputError("per-cell minutes need one value per cell",
                                        field="minutes")
            rows = np.repeat(np.arange(self.n_cells), np.diff(t.indptr))
            keep = t.data <= lim[rows]
        out = sparse.csr_matrix((keep, t.indices.copy(), t.indptr.copy()), shape=t.shape)
        out.eliminate_zeros()
        return out


def _site_frame(gdf: gpd.GeoDataFrame, kind: str, cost_column: str | None,
                crs: Any) -> gpd.GeoDataFrame:
    g = gdf.to_crs(crs) if gdf.crs is not None and crs is not None and gdf.crs != crs else gdf
    n = len(g)

    def col(name: str, default: Any) -> NDArray[Any]:
        return g[name].to_numpy() if name in g.columns else np.full(n, default, dtype=object)
    cost = (pd.to_numeric(g[cost_column], errors="coerce").to_numpy(float)
            if cost_column and cost_column in g.columns else np.full(n, np.nan))
    beds = (pd.to_numeric(g["beds"], errors="coerce").to_numpy(float)
            if "beds" in g.columns else np.full(n, np.nan))
    capacity = (pd.to_numeric(g["capacity"], errors="coerce").to_numpy(float)
                if "capacity" in g.columns else np.full(n, np.nan))
    return gpd.GeoDataFrame({
        "site_id": col("id", None).astype(str), "name": col("name", None),
        "kind": np.full(n, kind, dtype=object), "type": col("type", None),
        "cost": cost, "beds": beds,
        "admin_code": col("admin_code", None), "admin_name": col("admin_name", None),
        "capacity": capacity,
    }, geometry=g.geometry.values, crs=g.crs)


def build_problem(
    population: gpd.GeoDataFrame,
    candidates: gpd.GeoDataFrame | None,
    network: Any,
    mode: str | Profile,
    minutes: float,
    *,
    existing: gpd.GeoDataFrame | None = None,
    boundaries: gpd.GeoDataFrame | None = None,
    cost_column: str | None = "cost",
    max_snap_m: float = 1000.0,
) -> SiteProblem:
    """Travel times from population cells to existing and candidate sites within T.

    Parameters
    ----------
    population
        Population cells (:func:`geoplan.inputs.readers.read_population`).
    candidates
        Candidate sites (:func:`geoplan.inputs.readers.read_candidates`), or None.
    network
        An osmnx graph (compiled with :func:`~geoplan.travel.network.compile_network_cached`) or
        a :class:`~geoplan.travel.network.CompiledNetwork`.
    mode
        ``"walk"``, ``"ebike"``, ``"drive"`` or a :class:`~geoplan.travel.profiles.Profile`
        (a scenario's own speeds).
    minutes
        The largest time standard any model on this problem will use.
    existing
        Existing facilities that count as open (fixed), or None.
    boundaries
        Admin units, for unit names in tables.
    cost_column
        Column of the candidates with the fixed cost of opening a site.
    max_snap_m
        Maximum distance from a point to its road.

    Returns
    -------
    SiteProblem

    Raises
    ------
    GeoplanInputError
        With no sites at all, a non-positive time, or missing population.
    """
    from geoplan.access.coverage import snap_cached, travel_context
    from geoplan.travel.times import travel_time_matrix
    if not (np.isfinite(minutes) and minutes > 0):
        raise GeoplanInputError(f"minutes must be positive, got {minutes!r}", field="minutes")
    if population is None or len(population) == 0:
        raise GeoplanInputError("no population cells to plan for", field="population")
    ctx = travel_context(network, mode, population, max_snap_m=max_snap_m)
    net = ctx.net
    parts = []
    if existing is not None and len(existing):
        parts.append(_site_frame(existing, "existing", None, net.crs))
    if candidates is not None and len(candidates):
        parts.append(_site_frame(candidates, "candidate", cost_column, net.crs))
    if not parts:
        raise GeoplanInputError("no existing facilities and no candidate sites",
                                field="candidates", hint="give candidates or existing sites")
    sites = gpd.GeoDataFrame(pd.concat(parts, ignore_index=True), geometry="geometry",
                             crs=parts[0].crs)
    n_existing = len(parts[0]) if parts[0]["kind"].iloc[0] == "existing" else 0
    xy = np.column_stack([sites.geometry.x.to_numpy(), sites.geometry.y.to_numpy()])
    snapped = snap_cached(net, xy, max_snap_m=max_snap_m)
    cutoff_s = float(minutes) * 60.0
    m = travel_time_matrix(net, snapped, ctx.cells, cutoff_s, direction="to_source")
    times = m.T.tocsr()
    times.sort_indices()
    cells = ctx.population if ctx.population is not None else population
    unit = (cells["admin_code"].astype(object).to_numpy()
            if "admin_code" in cells.columns else None)
    names = None
    if boundaries is not None and {"admin_code", "admin_name"} <= set(boundaries.columns):
        names = dict(zip(boundaries["admin_code"], boundaries["admin_name"], strict=False))
    elif unit is not None and "admin_name" in cells.columns:
        names = dict(zip(cells["admin_code"], cells["admin_name"], strict=False))
    return SiteProblem(times=times, demand=cells["population"].to_numpy(float), unit=unit,
                       cells=cells, sites=sites, existing=np.arange(n_existing),
                       mode=ctx.mode, cutoff_s=cutoff_s, unit_names=names)


def coverage_by_unit(problem: SiteProblem, covered_before: ArrayLike,
                     covered_after: ArrayLike) -> pd.DataFrame:
    """Population-weighted coverage per admin unit before and after a plan.

    Parameters
    ----------
    problem
        The problem the plan was solved on.
    covered_before, covered_after
        Per cell: covered or not (boolean), or the share of its people served (0-1,
        capacitated models).

    Returns
    -------
    pandas.DataFrame
        ``admin_code, admin_name, population, covered_before, covered_after,
        share_before, share_after``; a final ``total`` row.
    """
    b = np.asarray(covered_before, float)
    a = np.asarray(covered_after, float)
    w = problem.demand
    unit = problem.unit if problem.unit is not None else np.full(w.size, "all", object)
    frame = pd.DataFrame({"admin_code": pd.Series(unit, dtype=object).fillna("(none)"),
                          "population": w, "covered_before": w * b, "covered_after": w * a})
    out = frame.groupby("admin_code", sort=True).sum().reset_index()
    names = problem.unit_names or {}
    out.insert(1, "admin_name", out["admin_code"].map(lambda c: names.get(c, "")))
    total = pd.DataFrame([{"admin_code": "total", "admin_name": "",
                           "population": w.sum(), "covered_before": (w * b).sum(),
                           "covered_after": (w * a).sum()}])
    out = pd.concat([out, total], ignore_index=True)
    pop = out["population"].where(out["population"] > 0)
    out["share_before"] = out["covered_before"] / pop
    out["share_after"] = out["covered_after"] / pop
    return out


def plan_sites(problem: SiteProblem, plan: Any) -> gpd.GeoDataFrame:
    """Existing and newly selected sites of a plan, with ``status`` and ``beds_added``.

    Parameters
    ----------
    problem
        The problem the plan was solved on.
    plan
        A :class:`~geoplan.optimize.plan.Plan` whose indices are columns of ``problem``.

    Returns
    -------
    geopandas.GeoDataFrame
    """
    idx = np.r_[np.asarray(plan.existing, np.intp), np.asarray(plan.selected, np.intp)]
    s = problem.sites.iloc[idx].copy()
    s["status"] = ["existing"] * len(plan.existing) + ["new"] * len(plan.selected)
    s["id"] = s["site_id"]
    if "capacity" in s.columns:        # after the columns site files have always had
        s = s[[c for c in s.columns if c != "capacity"] + ["capacity"]]
    if plan.beds_added is not None:
        s["beds_added"] = s["site_id"].map(plan.beds_added).fillna(0.0).to_numpy()
    return s.reset_index(drop=True)


def between_sites(sites: gpd.GeoDataFrame, network: Any, mode: str | Profile,
                  minutes: float, *, max_snap_m: float = 1000.0) -> sparse.csr_matrix:
    """Travel times between sites within ``minutes``: ``[j, j']`` from site j to site j'.

    For referral between tiers (a basic centre within 30 minutes' drive of a hospital):
    the same engine, snapping and access legs as the cell-to-site times.

    Parameters
    ----------
    sites
        Site points (e.g. :attr:`SiteProblem.sites`).
    network
        An osmnx graph or a compiled network (as :func:`build_problem`).
    mode
        The travel mode of the referral trip (usually ``"drive"``).
    minutes
        The longest referral time needed.
    max_snap_m
        Maximum distance from a site to its road.

    Returns
    -------
    scipy.sparse.csr_matrix
        ``(sites, sites)`` seconds of the pairs within ``minutes`` (a site reaches
        itself in :data:`~geoplan.travel.times.ZERO_TIME_S`).
    """
    from geoplan.access.coverage import snap_cached, travel_context
    from geoplan.travel.times import travel_time_matrix
    if not (np.isfinite(minutes) and minutes > 0):
        raise GeoplanInputError(f"minutes must be positive, got {minutes!r}", field="minutes")
    net = travel_context(network, mode, None, max_snap_m=max_snap_m).net
    pts = sites.to_crs(net.crs) if sites.crs is not None and sites.crs != net.crs else sites
    xy = np.column_stack([pts.geometry.x.to_numpy(), pts.geometry.y.to_numpy()])
    snapped = snap_cached(net, xy, max_snap_m=max_snap_m)
    out = travel_time_matrix(net, snapped, snapped, float(minutes) * 60.0,
                             direction="from_source").tocsr()
    out.sort_indices()
    return out
