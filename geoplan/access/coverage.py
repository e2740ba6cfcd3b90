"""Coverage analytics: who reaches which facilities within T minutes, per cell and per unit.

Planners ask "how many people reach a medical-insurance service point within 15 minutes
on foot, in each town?", "who is left out, and where?", "which hospital serves whom?",
"are the beds where the people are?". Every answer here is a plain (Geo)DataFrame built
on the two travel primitives of :mod:`geoplan.travel.times`, so it can be printed, mapped,
written to Excel or GeoPackage, and checked by hand.

Start with a :func:`travel_context`: the network compiled for one mode (cached per graph
and mode by :func:`~geoplan.travel.network.compile_network_cached`) and the population cells
snapped onto it. Snapping a county's 200,000 cells takes about a second; it is done once
per network, mode and point set (snapped points are cached by their coordinates), so a
scenario that asks many questions, or tries many facility sets, does not redo it::

    ctx = travel_context(region.network, "walk", region.population)
    coverage_by_unit(ctx, region.facilities, [15, 30], types="insurance_service_point",
                     boundaries=region.boundaries)

Every figure is **population-weighted** - a share of people, never a share of points or
cells - and every per-unit table ends with a ``total`` row. Cells that cannot be snapped
(more than ``max_snap_m`` from any road the mode may use) reach nothing and count as not
covered; a :class:`~geoplan._errors.GeoplanWarning` says how many people that is.

Travel direction is resident -> facility by default (``direction="to_facility"``; it
matters on one-way streets); ``"from_facility"`` models ambulances and home visits.

Functions
---------
- :func:`coverage_by_cell`, :func:`coverage_by_unit`: nearest time and coverage for
  several cut-offs at once;
- :func:`nearest_by_type`: time to, and id of, the nearest facility of each type;
- :func:`catchments`: cells assigned to their nearest facility;
- :func:`gaps`: uncovered people grouped into contiguous gap areas;
- :func:`coverage_with_capacity`: coverage when facilities can serve only so many;
- :func:`accessibility_index`: 2SFCA, e.g. beds per 1,000 people within reach;
- :func:`beds_per_1000`: the >= 7 beds per 1,000 residents table (no travel times);
- isochrone polygons for maps are in :mod:`geoplan.access.isochrones`.
"""

from __future__ import annotations

import hashlib
import warnings
from collections import OrderedDict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any, Literal, NamedTuple

import geopandas as gpd
import networkx as nx
import numpy as np
import pandas as pd
import shapely
from numpy.typing import ArrayLike, NDArray
from pyproj import CRS
from pyproj.exceptions import CRSError
from scipy import sparse

from geoplan._errors import GeoplanInputError, GeoplanWarning
from geoplan.access.accessibility import Decay, capacity_coverage, two_step_fca
from geoplan.access.gaps import gap_centres, gap_members, group_gaps, name_gaps
from geoplan.inputs.facility_types import default_vocabulary
from geoplan.inputs.readers import tag_admin_units
from geoplan.travel.network import CompiledNetwork, compile_network_cached
from geoplan.travel.profiles import Profile
from geoplan.travel.times import (
    DEFAULT_ACCESS_SPEED_KMH,
    DEFAULT_MAX_SNAP_M,
    Snapped,
    nearest_facility_time,
    snap_points,
    travel_time_matrix,
)

__all__ = [
    "NO_UNIT",
    "SNAP_CACHE_POINTS",
    "AccessibilityIndex",
    "CapacityReport",
    "Catchments",
    "TravelContext",
    "accessibility_index",
    "beds_per_1000",
    "catchments",
    "clear_snap_cache",
    "closing_sites",
    "coverage_by_cell",
    "coverage_by_unit",
    "coverage_with_capacity",
    "gaps",
    "minutes_label",
    "nearest_by_type",
    "snap_cached",
    "travel_context",
]

#: Unit code of cells and facilities that lie in no admin unit.
NO_UNIT = "(none)"
#: Facility id of the catchment row of people who reach no facility.
UNREACHED = "(unreachable)"
_SNAP_CACHE: OrderedDict[tuple[Any, ...], Snapped] = OrderedDict()
#: The snapping cache keeps the most recent point sets up to this many points in all
#: (about 90 bytes each) - a county's cells for three modes plus isochrone grids.
SNAP_CACHE_POINTS = 1_500_000
_CELL_COLUMNS = ("cell_id", "admin_code", "admin_name", "population")


# --------------------------------------------------------------------------- context


@dataclass(frozen=True, eq=False)
class TravelContext:
    """A network compiled for one mode, with the population cells snapped onto it.

    Build it with :func:`travel_context`; every analytic function takes it first.

    Attributes
    ----------
    net
        The compiled network.
    population
        The population cells (in the network's CRS), or None when only facility-side
        results (isochrones) are wanted.
    cells
        The cells snapped onto ``net`` (None without population).
    direction
        ``"to_facility"`` (residents travel) or ``"from_facility"`` (the service travels).
    max_snap_m, access_speed_kmh
        Snapping settings used for cells and facilities alike.
    """

    net: CompiledNetwork
    population: gpd.GeoDataFrame | None
    cells: Snapped | None
    direction: Literal["to_facility", "from_facility"]
    max_snap_m: float
    access_speed_kmh: float

    @property
    def mode(self) -> str:
        """Name of the travel profile (``walk``, ``ebike``, ``drive``, ...)."""
        return self.net.profile.name

    def __repr__(self) -> str:
        cells = "no population" if self.cells is None else f"{len(self.cells):,} cells"
        return f"TravelContext(mode={self.mode!r}, {cells}, direction={self.direction!r})"


def clear_snap_cache() -> None:
    """Forget every cached snapping (see :func:`snap_cached`).

    Why: the cache holds the most recent snapped point sets, up to
    :data:`SNAP_CACHE_POINTS` points (about 20 MB per 200,000 points); call this to
    release the memory in a long session.
    """
    _SNAP_CACHE.clear()


def _points_xy(gdf: gpd.GeoDataFrame, net: CompiledNetwork, what: str) -> NDArray[np.float64]:
    """Point coordinates of a layer in the network's CRS (centroids of other shapes)."""
    if not isinstance(gdf, gpd.GeoDataFrame):
        raise GeoplanInputError(f"{what} must be a GeoDataFrame, got {type(gdf).__name__}",
                                field=what, hint="read it with geoplan.inputs.readers")
    geom = gdf.geometry
    if net.crs is not None and gdf.crs is not None:
        try:
            same = CRS.from_user_input(net.crs) == gdf.crs
        except CRSError:  # an unreadable network CRS: trust the caller
            same = True
        if not same:
            geom = geom.to_crs(net.crs)
    values = geom.values
    bad = shapely.is_missing(values) | shapely.is_empty(values)
    if bad.any():
        k = int(np.flatnonzero(bad)[0])
        raise GeoplanInputError(f"{int(bad.sum())} of the {what} have no geometry", field=what,
                                row=f"row {k + 1}", hint="drop or locate those rows")
    if not (shapely.get_type_id(values) == 0).all():
        values = shapely.point_on_surface(values)
    return shapely.get_coordinates(values)


def snap_cached(net: CompiledNetwork, xy: ArrayLike, *, max_snap_m: float = DEFAULT_MAX_SNAP_M,
                access_speed_kmh: float = DEFAULT_ACCESS_SPEED_KMH,
                what: str = "points", weights: ArrayLike | None = None) -> Snapped:
    """Snap points to a network, reusing an earlier result for the same coordinates.

    Why: snapping 200,000 population cells takes about a second; scenarios ask many
    questions of the same cells and facilities. Results are cached by network identity,
    a hash of the coordinates and the settings (most recent point sets first, up to
    :data:`SNAP_CACHE_POINTS` points in all), so a changed point set is never served a
    stale result.

    Warnings are issued on the first snapping only, and name ``what`` and (if
    ``weights`` are given, e.g. population) how many people are affected.

    Parameters
    ----------
    net
        The compiled network.
    xy
        ``(k, 2)`` coordinates in the network's CRS.
    max_snap_m, access_speed_kmh
        As for :func:`geoplan.travel.times.snap_points`.
    what
        Name of the points in warnings (``"population cells"``).
    weights
        Optional people per point, to report in warnings.

    Returns
    -------
    Snapped

    Raises
    ------
    GeoplanInputError
        As :func:`geoplan.travel.times.snap_points`.
    """
    try:
        arr = np.ascontiguousarray(xy, dtype=float)
    except (TypeError, ValueError):
        raise GeoplanInputError(f"{what} must be an array of (x, y) rows", field=what,
                                hint="pass coordinates in the network's CRS") from None
    digest = hashlib.blake2b(arr.tobytes(), digest_size=16).hexdigest()
    key = (net.token, digest, arr.shape, float(max_snap_m), float(access_speed_kmh))
    hit = _SNAP_CACHE.get(key)
    if hit is not None:
        _SNAP_CACHE.move_to_end(key)
        return hit
    snapped = snap_points(net, arr, max_snap_m=max_snap_m, access_speed_kmh=access_speed_kmh,
                          warn=False)
    _warn_snapping(net, snapped, what, weights)
    _SNAP_CACHE[key] = snapped
    while len(_SNAP_CACHE) > 1 and (sum(len(s) for s in _SNAP_CACHE.values())
                                    > SNAP_CACHE_POINTS or len(_SNAP_CACHE) > 256):
        _SNAP_CACHE.popitem(last=False)
    return snapped


def _warn_snapping(net: CompiledNetwork, s: Snapped, what: str,
                   weights: ArrayLike | None) -> None:
    k = len(s)
    w = None if weights is None else np.asarray(weights, dtype=float)

    def people(mask: NDArray[np.bool_]) -> str:
        return "" if w is None else f" ({w[mask].sum():,.0f} people)"

    lost = ~s.reachable
    if lost.any():
        warnings.warn(
            f"{net.profile.name}: {int(lost.sum()):,} of {k:,} {what}{people(lost)} are more "
            f"than {s.max_snap_m:g} m from any road usable by '{net.profile.name}'; they "
            "reach nothing and count as not covered", GeoplanWarning, stacklevel=4)
    if s.on_fragment.any():
        frag = s.on_fragment
        warnings.warn(
            f"{net.profile.name}: {int(frag.sum()):,} of {k:,} {what}{people(frag)} were "
            "snapped to small road fragments cut off from the main network; they reach only "
            "what lies on their fragment", GeoplanWarning, stacklevel=4)


def travel_context(
    network: nx.MultiDiGraph | CompiledNetwork,
    mode: str | Profile | None = None,
    population: gpd.GeoDataFrame | None = None,
    *,
    direction: Literal["to_facility", "from_facility"] = "to_facility",
    max_snap_m: float = DEFAULT_MAX_SNAP_M,
    access_speed_kmh: float = DEFAULT_ACCESS_SPEED_KMH,
    urban_area: Any = None,
) -> TravelContext:
    """Compile the network for a mode and snap the population cells onto it, with caching.

    Why: every coverage question for one mode shares the compiled network and the
    snapped cells; computing them once (and reusing them across calls through the
    caches of :func:`~geoplan.travel.network.compile_network_cached` and :func:`snap_cached`)
    makes a scenario with many facility sets cost one network search per set.

    Parameters
    ----------
    network
        A projected osmnx graph (:func:`geoplan.inputs.readers.read_network`), compiled here with
        :func:`~geoplan.travel.network.compile_network_cached`; or an already
        :class:`~geoplan.travel.network.CompiledNetwork`.
    mode
        ``"walk"``, ``"ebike"``, ``"drive"`` or a :class:`~geoplan.travel.profiles.Profile`;
        required for a graph, optional (and checked) for a compiled network.
    population
        Population cells (:func:`geoplan.inputs.readers.read_population`: ``population``, optional
        ``cell_id``, ``admin_code``, ``admin_name``, points). Reprojected to the
        network's CRS if needed. None for facility-only results (isochrones).
    direction
        ``"to_facility"`` (default: residents travel to the facility) or
        ``"from_facility"`` (the facility travels to residents: ambulances).
    max_snap_m
        Cells and facilities farther than this from every road the mode may use are
        unreachable (default 1,000 m).
    access_speed_kmh
        Walking speed of the access leg between a point and its road (default 5 km/h).
    urban_area
        Optional polygon where the profile's congestion applies (see
        :func:`~geoplan.travel.network.compile_network`); graphs only.

    Returns
    -------
    TravelContext

    Raises
    ------
    GeoplanInputError
        Unknown mode or direction, a mode that does not match a compiled network,
        population without a ``population`` column or with negative/missing counts, or
        errors from compiling and snapping.
    """
    if direction not in ("to_facility", "from_facility"):
        raise GeoplanInputError(f"unknown direction '{direction}'", field="direction",
                                hint="use 'to_facility' or 'from_facility'")
    if isinstance(network, CompiledNetwork):
        net = network
        name = mode.name if isinstance(mode, Profile) else mode
        if name is not None and name != net.profile.name:
            raise GeoplanInputError(
                f"the network was compiled for '{net.profile.name}', not '{name}'",
                field="mode", hint="pass mode=None or compile the network for this mode")
    else:
        if mode is None:
            raise GeoplanInputError("a travel mode is needed to compile the network",
                                    field="mode", hint="e.g. 'walk', 'ebike' or 'drive'")
        net = compile_network_cached(network, mode, urban_area=urban_area)
    cells = None
    if population is not None:
        pop = _check_population(population)
        xy = _points_xy(population, net, "population cells")
        cells = snap_cached(net, xy, max_snap_m=max_snap_m, access_speed_kmh=access_speed_kmh,
                            what="population cells", weights=pop)
    return TravelContext(net=net, population=population, cells=cells, direction=direction,
                         max_snap_m=float(max_snap_m), access_speed_kmh=float(access_speed_kmh))


def _check_population(population: gpd.GeoDataFrame) -> NDArray[np.float64]:
    if not isinstance(population, gpd.GeoDataFrame) or "population" not in population:
        raise GeoplanInputError("population cells need a 'population' column",
                                field="population",
                                hint="read them with geoplan.inputs.readers.read_population")
    pop = pd.to_numeric(population["population"], errors="coerce").to_numpy(dtype=float)
    bad = ~np.isfinite(pop) | (pop < 0)
    if bad.any():
        k = int(np.flatnonzero(bad)[0])
        raise GeoplanInputError(f"{int(bad.sum())} cell(s) have a missing or negative "
                                "population", field="population", row=f"row {k + 1}",
                                hint="fix the population layer")
    return pop


def _population(ctx: TravelContext) -> NDArray[np.float64]:
    if ctx.population is None or ctx.cells is None:
        raise GeoplanInputError("this travel context has no population cells",
                                field="population",
                                hint="build it with travel_context(network, mode, population)")
    if len(ctx.population) != len(ctx.cells):
        raise GeoplanInputError("the population changed after the travel context was built",
                                field="population", hint="build a new travel_context")
    return _check_population(ctx.population)


# --------------------------------------------------------------------------- inputs


def _select(facilities: gpd.GeoDataFrame, types: str | Iterable[str] | None
            ) -> gpd.GeoDataFrame:
    """Facilities of the given types (codes, or labels/aliases of the default vocabulary)."""
    if not isinstance(facilities, gpd.GeoDataFrame):
        raise GeoplanInputError(
            f"facilities must be a GeoDataFrame, got {type(facilities).__name__}",
            field="facilities", hint="read them with geoplan.inputs.readers.read_facilities")
    missing = [c for c in ("id", "type") if c not in facilities.columns]
    if missing:
        raise GeoplanInputError(f"facilities lack column(s) {', '.join(missing)}",
                                field=missing[0], hint="read them with read_facilities")
    present = facilities["type"].astype(str)
    codes: list[str] = []
    if types is None:
        sel = facilities
    else:
        wanted = [types] if isinstance(types, str) else list(types)
        vocab = default_vocabulary()
        for t in wanted:
            code = str(t) if str(t) in set(present) else (vocab.code_of(str(t)) or str(t))
            if code not in set(present) and code not in vocab.types:
                raise GeoplanInputError(
                    f"unknown facility type '{t}'", field="types",
                    hint="types in the data: " + ", ".join(sorted(set(present))))
            codes.append(code)
        sel = facilities[present.isin(codes).to_numpy()]
    if sel.empty:
        what = "facilities" if types is None else f"facilities of type {', '.join(codes)}"
        raise GeoplanInputError(f"no {what}", field="types",
                                hint="types in the data: " + ", ".join(sorted(set(present)))
                                if len(present) else "give a non-empty facility layer")
    return sel


def _minutes(minutes: float | Iterable[float]) -> tuple[float, ...]:
    try:
        values = [float(minutes)] if np.ndim(minutes) == 0 else [float(m) for m in minutes]
    except (TypeError, ValueError):
        values = [np.nan]
    if not values or not all(np.isfinite(v) and v > 0 for v in values):
        raise GeoplanInputError(f"minutes must be positive numbers, got {minutes!r}",
                                field="minutes", hint="e.g. [15, 30]")
    return tuple(sorted(set(values)))


def _single_minutes(minutes: float) -> float:
    try:
        value = float(minutes)
    except (TypeError, ValueError):
        value = np.nan
    if not (np.isfinite(value) and value > 0):
        raise GeoplanInputError(f"minutes must be a positive number, got {minutes!r}",
                                field="minutes", hint="e.g. 30")
    return value


def minutes_label(minutes: float) -> str:
    """Column suffix for a cut-off: ``15`` -> ``"15min"``, ``7.5`` -> ``"7.5min"``.

    Parameters
    ----------
    minutes
        The cut-off.

    Returns
    -------
    str
    """
    return f"{minutes:g}min"


def _snap_facilities(ctx: TravelContext, sel: gpd.GeoDataFrame) -> Snapped:
    return snap_cached(ctx.net, _points_xy(sel, ctx.net, "facilities"),
                       max_snap_m=ctx.max_snap_m, access_speed_kmh=ctx.access_speed_kmh,
                       what="facilities")


def _nearest(ctx: TravelContext, sel: gpd.GeoDataFrame, cutoff_s: float | None = None
             ) -> tuple[NDArray[np.float64], NDArray[np.intp]]:
    assert ctx.cells is not None
    fac = _snap_facilities(ctx, sel)
    return nearest_facility_time(ctx.net, ctx.cells, fac, direction=ctx.direction,
                                 cutoff_s=cutoff_s)


def _matrix(ctx: TravelContext, sel: gpd.GeoDataFrame, cutoff_s: float) -> sparse.csr_matrix:
    """Facilities x cells seconds within the cut-off, in the context's direction."""
    assert ctx.cells is not None
    fac = _snap_facilities(ctx, sel)
    direction = "to_source" if ctx.direction == "to_facility" else "from_source"
    return travel_time_matrix(ctx.net, fac, ctx.cells, cutoff_s, direction=direction)


#: Columns and attrs of raster cells kept on per-cell tables: gap areas and map layers
#: trace them on the raster itself (milliseconds) instead of unioning cell squares
#: (seconds per county-wide gap).
_RASTER_COLUMNS = ("row", "col", "cell_area_m2")
_RASTER_ATTRS = ("raster_crs", "raster_transform", "raster_shape")


def _cell_frame(ctx: TravelContext) -> gpd.GeoDataFrame:
    """Return the identifying columns of the cells (a new frame, population's CRS, with
    the raster's ``attrs`` for raster cells)."""
    pop = ctx.population
    assert pop is not None
    out = gpd.GeoDataFrame(
        {c: (pop[c].to_numpy() if c in pop else
             (np.arange(len(pop)) if c == "cell_id" else np.full(len(pop), None, object)))
         for c in _CELL_COLUMNS}, geometry=pop.geometry.values, crs=pop.crs)
    out["population"] = out["population"].astype(float)
    out.attrs.update({k: pop.attrs[k] for k in _RASTER_ATTRS if k in pop.attrs})
    return out


def _minutes_of(seconds: NDArray[np.float64]) -> NDArray[np.float64]:
    return np.where(np.isfinite(seconds), seconds / 60.0, np.nan)


def _ids_of(sel: gpd.GeoDataFrame, idx: NDArray[np.intp]) -> NDArray[np.object_]:
    ids = sel["id"].astype(str).to_numpy(dtype=object)
    out = np.full(idx.size, None, dtype=object)
    out[idx >= 0] = ids[idx[idx >= 0]]
    return out


# --------------------------------------------------------------------------- units


def _name_column(level: str) -> str:
    return level[:-5] + "_name" if level.endswith("_code") else level + "_name"


def _as_codes(values: pd.Series) -> NDArray[np.object_]:
    s = values.astype("string").str.strip()
    return s.where(s.notna() & (s != ""), NO_UNIT).to_numpy(dtype=object)


def _units_of(frame: pd.DataFrame, boundaries: gpd.GeoDataFrame | None, level: str,
              what: str) -> tuple[NDArray[np.object_], pd.DataFrame]:
    """Return the unit code (at ``level``) of every row of ``frame`` and the unit table.

    The unit table has columns ``level`` and its name column, lists every unit of the
    boundaries (also those without rows) and ends with :data:`NO_UNIT` if some rows lie
    in no unit.
    """
    name_col = _name_column(level)
    if boundaries is not None:
        for col in ("admin_code", level):
            if col not in boundaries.columns:
                raise GeoplanInputError(
                    f"the boundaries have no column '{col}'", field="level",
                    hint="levels available: " + ", ".join(
                        c for c in boundaries.columns if str(c).endswith("_code")))
        b = pd.DataFrame(boundaries.drop(columns=boundaries.geometry.name))
        b_level = _as_codes(b[level])
        lookup = pd.Series(b_level, index=_as_codes(b["admin_code"]))
        lookup = lookup[~lookup.index.duplicated()]
        untagged = "admin_code" not in frame.columns or frame["admin_code"].isna().all()
        if untagged and isinstance(frame, gpd.GeoDataFrame) and level not in frame.columns:
            frame = tag_admin_units(frame, boundaries)   # read without boundaries=
        if "admin_code" in frame.columns:
            codes = lookup.reindex(_as_codes(frame["admin_code"])).fillna(NO_UNIT)
            codes = codes.to_numpy(dtype=object)
        elif level in frame.columns:
            codes = _as_codes(frame[level])
        else:
            raise GeoplanInputError(f"the {what} are not tagged with admin units",
                                    field="admin_code",
                                    hint="read them with boundaries= (geoplan.inputs.readers)")
        names = (b[name_col].astype(str).to_numpy(dtype=object) if name_col in b
                 else b_level)
        units = pd.DataFrame({level: b_level, name_col: names}).drop_duplicates(level)
    else:
        if level not in frame.columns:
            raise GeoplanInputError(
                f"the {what} have no column '{level}'", field="level",
                hint="pass boundaries= with that column, or use level='admin_code'")
        codes = _as_codes(frame[level])
        names = (frame[name_col].astype("string").fillna("").to_numpy(dtype=object)
                 if name_col in frame.columns else codes)
        units = pd.DataFrame({level: codes, name_col: names}).drop_duplicates(level)
        units = units.sort_values(level)
    units = units[units[level] != NO_UNIT].reset_index(drop=True)
    if (codes == NO_UNIT).any():
        units = pd.concat([units, pd.DataFrame({level: [NO_UNIT],
                                                name_col: ["(outside all units)"]})],
                          ignore_index=True)
    return codes, units


def _sum_by_unit(codes: NDArray[np.object_], units: pd.DataFrame, level: str,
                 values: dict[str, NDArray[np.float64]]) -> pd.DataFrame:
    """Per-unit sums of ``values`` in the order of ``units``, plus a ``total`` row."""
    frame = pd.DataFrame(values)
    frame["_unit"] = codes
    sums = frame.groupby("_unit", sort=False).sum().reindex(units[level]).fillna(0.0)
    out = pd.concat([units.reset_index(drop=True), sums.reset_index(drop=True)], axis=1)
    total = {level: "total", _name_column(level): ""} | {k: float(v.sum())
                                                        for k, v in values.items()}
    return pd.concat([out, pd.DataFrame([total])], ignore_index=True)


def _ratio(num: pd.Series, den: pd.Series) -> pd.Series:
    num, den = num.astype(float), den.astype(float)
    return (num / den.where(den > 0)).astype(float)


# --------------------------------------------------------------------------- coverage


def coverage_by_cell(
    ctx: TravelContext,
    facilities: gpd.GeoDataFrame,
    minutes: float | Sequence[float] = (15, 30),
    *,
    types: str | Iterable[str] | None = None,
) -> gpd.GeoDataFrame:
    """Travel time from every cell to its nearest facility, and coverage at each cut-off.

    Why: the per-cell table behind every coverage figure, for maps and for checking a
    figure cell by cell. One multi-source network search gives all cells their nearest
    facility (:func:`geoplan.travel.times.nearest_facility_time`).

    Parameters
    ----------
    ctx
        Travel context with population (:func:`travel_context`).
    facilities
        Facilities (:func:`geoplan.inputs.readers.read_facilities`: ``id``, ``type``, points).
    minutes
        One or several cut-offs T in minutes.
    types
        Facility type codes to count (or their Chinese/English labels); default all.

    Returns
    -------
    geopandas.GeoDataFrame
        One row per cell: ``cell_id``, ``admin_code``, ``admin_name``, ``population``,
        ``minutes`` (to the nearest facility; NaN if none can be reached),
        ``facility_id`` (None if none), ``covered_<T>min`` (bool, time <= T) per T;
        for raster cells ``row``, ``col``, ``cell_area_m2`` (and the raster's ``attrs``);
        the cells' point geometry.

    Raises
    ------
    GeoplanInputError
        No population in ``ctx``, bad ``minutes``, unknown types, no facility selected.
    """
    _population(ctx)
    ts = _minutes(minutes)
    sel = _select(facilities, types)
    secs, idx = _nearest(ctx, sel)
    out = _cell_frame(ctx)
    out["minutes"] = _minutes_of(secs)
    out["facility_id"] = _ids_of(sel, idx)
    for t in ts:
        out[f"covered_{minutes_label(t)}"] = secs <= t * 60.0
    raster = [c for c in _RASTER_COLUMNS if c in ctx.population.columns]
    for c in raster:
        out[c] = ctx.population[c].to_numpy()
    return out[[*_CELL_COLUMNS, "minutes", "facility_id",
                *[f"covered_{minutes_label(t)}" for t in ts], *raster, "geometry"]]


def coverage_by_unit(
    ctx: TravelContext,
    facilities: gpd.GeoDataFrame,
    minutes: float | Sequence[float] = (15, 30),
    *,
    types: str | Iterable[str] | None = None,
    boundaries: gpd.GeoDataFrame | None = None,
    level: str = "admin_code",
) -> pd.DataFrame:
    """Count the people within T minutes of a facility, per admin unit and overall.

    Why: "what share of each town's residents reach a medical-insurance service point
    within 15 minutes?" is the headline figure of a 15-minute service circle (15分钟医保
    服务圈). Shares are of **people**: with P_i the population of cell i, t_i its time to
    the nearest selected facility and U a unit::

        covered_T(U) = Σ_{i in U, t_i <= T} P_i          share_T(U) = covered_T(U) / Σ_{i in U} P_i

    Parameters
    ----------
    ctx
        Travel context with population (:func:`travel_context`).
    facilities
        Facilities (:func:`geoplan.inputs.readers.read_facilities`).
    minutes
        One or several cut-offs T in minutes (one column pair each).
    types
        Facility types to count (codes or labels); default all.
    boundaries
        Admin units (:func:`geoplan.inputs.readers.read_boundaries`); lists units without
        people too,
        and is needed for levels other than ``admin_code`` (e.g. ``district_code``).
    level
        Column of the boundaries to group by (default ``admin_code``; the demo also has
        ``district_code``). Cells are matched to units by their ``admin_code`` (tagged
        here by location if the cells were read without boundaries).

    Returns
    -------
    pandas.DataFrame
        One row per unit and a final ``total`` row: ``<level>``, ``<level name>`` (e.g.
        ``admin_name``), ``population``, then ``covered_<T>min`` (people) and
        ``share_<T>min`` (0-1, NaN for a unit without people) for each T.
        Cells in no unit form a ``(none)`` row.

    Raises
    ------
    GeoplanInputError
        As :func:`coverage_by_cell`, and for a level the boundaries lack.
    """
    pop = _population(ctx)
    ts = _minutes(minutes)
    sel = _select(facilities, types)
    secs, _ = _nearest(ctx, sel, cutoff_s=max(ts) * 60.0)
    codes, units = _units_of(ctx.population, boundaries, level, "population cells")
    values = {"population": pop}
    for t in ts:
        values[f"covered_{minutes_label(t)}"] = np.where(secs <= t * 60.0, pop, 0.0)
    out = _sum_by_unit(codes, units, level, values)
    for t in ts:
        lab = minutes_label(t)
        out[f"share_{lab}"] = _ratio(out[f"covered_{lab}"], out["population"])
    cols = [level, _name_column(level), "population"]
    for t in ts:
        cols += [f"covered_{minutes_label(t)}", f"share_{minutes_label(t)}"]
    return out[cols]


def nearest_by_type(
    ctx: TravelContext,
    facilities: gpd.GeoDataFrame,
    types: str | Iterable[str] | None = None,
) -> gpd.GeoDataFrame:
    """Time to, and id of, the nearest facility of each type, for every cell.

    Why: a planner compares services side by side (the nearest village clinic, township
    health centre, hospital); one multi-source search per type gives every cell all of
    them.

    Parameters
    ----------
    ctx
        Travel context with population.
    facilities
        Facilities (:func:`geoplan.inputs.readers.read_facilities`).
    types
        Types to report (codes or labels); default every type present, in the order
        of the default vocabulary.

    Returns
    -------
    geopandas.GeoDataFrame
        ``cell_id``, ``admin_code``, ``admin_name``, ``population``, then for each type
        ``<type>_min`` (minutes, NaN if unreachable) and ``<type>_id``; cell points.

    Raises
    ------
    GeoplanInputError
        No population in ``ctx``, unknown types, no facility selected.
    """
    _population(ctx)
    sel = _select(facilities, types)
    order = {code: i for i, code in enumerate(default_vocabulary().types)}
    kinds = sorted(set(sel["type"].astype(str)), key=lambda c: (order.get(c, len(order)), c))
    out = _cell_frame(ctx)
    for kind in kinds:
        sub = sel[sel["type"].astype(str).to_numpy() == kind]
        secs, idx = _nearest(ctx, sub)
        out[f"{kind}_min"] = _minutes_of(secs)
        out[f"{kind}_id"] = _ids_of(sub, idx)
    return out[[c for c in out.columns if c != "geometry"] + ["geometry"]]


class Catchments(NamedTuple):
    """Result of :func:`catchments`.

    Attributes
    ----------
    cells
        Per cell: ``cell_id``, ``admin_code``, ``admin_name``, ``population``,
        ``facility_id`` (None if unreachable), ``minutes``; points.
    facilities
        Per facility (in input order): ``id``, ``name``, ``type``, ``population``,
        ``cells``, ``mean_minutes`` (population-weighted), then one ``(unreachable)``
        row with the people who reach no facility; the ``population`` column sums to the
        total population.
    """

    cells: gpd.GeoDataFrame
    facilities: pd.DataFrame


def catchments(
    ctx: TravelContext,
    facilities: gpd.GeoDataFrame,
    *,
    types: str | Iterable[str] | None = None,
    max_minutes: float | None = None,
) -> Catchments:
    """Assign every cell to its nearest facility; catchment population per facility.

    Why: "whom does each township health centre serve?" - the catchment (服务范围) of a
    facility is the set of cells for which it is the nearest, so every person belongs
    to exactly one catchment or to nobody's.

    Parameters
    ----------
    ctx
        Travel context with population.
    facilities
        Facilities (:func:`geoplan.inputs.readers.read_facilities`).
    types
        Facility types to consider; default all.
    max_minutes
        Cells farther than this from every facility are left unassigned (counted in the
        ``(unreachable)`` row); default no limit.

    Returns
    -------
    Catchments
        ``cells`` and ``facilities`` tables.

    Raises
    ------
    GeoplanInputError
        No population in ``ctx``, unknown types, no facility selected, bad
        ``max_minutes``.
    """
    pop = _population(ctx)
    sel = _select(facilities, types)
    cutoff = None if max_minutes is None else _single_minutes(max_minutes) * 60.0
    secs, idx = _nearest(ctx, sel, cutoff_s=cutoff)
    cells = _cell_frame(ctx)
    cells["facility_id"] = _ids_of(sel, idx)
    cells["minutes"] = _minutes_of(secs)
    cells = cells[[*_CELL_COLUMNS, "facility_id", "minutes", "geometry"]]
    n = len(sel)
    ok = idx >= 0
    people = np.bincount(idx[ok], weights=pop[ok], minlength=n)
    weighted = np.bincount(idx[ok], weights=pop[ok] * secs[ok] / 60.0, minlength=n)
    per = pd.DataFrame({
        "id": sel["id"].astype(str).to_numpy(),
        "name": (sel["name"] if "name" in sel else sel["id"]).astype(str).to_numpy(),
        "type": sel["type"].astype(str).to_numpy(),
        "population": people,
        "cells": np.bincount(idx[ok], minlength=n),
        "mean_minutes": np.divide(weighted, people, out=np.full(n, np.nan), where=people > 0),
    })
    rest = pd.DataFrame([{"id": UNREACHED, "name": "", "type": "",
                          "population": float(pop[~ok].sum()), "cells": int((~ok).sum()),
                          "mean_minutes": np.nan}])
    return Catchments(cells=cells, facilities=pd.concat([per, rest], ignore_index=True))


def gaps(
    ctx: TravelContext,
    facilities: gpd.GeoDataFrame,
    minutes: float = 15.0,
    *,
    types: str | Iterable[str] | None = None,
    min_population: float = 0.0,
    by_unit: bool = True,
    min_area_km2: float = 0.0,
    candidates: gpd.GeoDataFrame | None = None,
    places: gpd.GeoDataFrame | None = None,
    top_sites: int = 3,
) -> gpd.GeoDataFrame:
    """Uncovered people grouped into contiguous gap areas, largest first.

    Why: the planner's follow-up to a coverage share is "where are the people left
    out?"; neighbouring uncovered cells form one gap area (one new facility may close
    it). Cells beyond T of every selected facility - or with no road within
    ``max_snap_m`` - are uncovered; grouping is :func:`geoplan.access.gaps.group_gaps`
    (8-neighbourhood on raster grids).

    Parameters
    ----------
    ctx
        Travel context with population.
    facilities
        Facilities (:func:`geoplan.inputs.readers.read_facilities`).
    minutes
        The cut-off T.
    types
        Facility types that count as coverage; default all.
    min_population
        Drop gap areas with fewer people.
    by_unit
        Split areas at admin unit borders (default): each gap is one unit's to act on,
        named by it; False groups across borders.
    min_area_km2
        Drop gap areas smaller than this.
    candidates
        Candidate sites: with them, each gap lists the sites that would close it
        (:func:`closing_sites`, within the same T).
    places
        Named places (:func:`geoplan.inputs.osm.places_of`): with them, each gap is named
        by the nearest (:func:`geoplan.access.gaps.name_gaps`).
    top_sites
        At most this many closing sites per gap.

    Returns
    -------
    geopandas.GeoDataFrame
        ``gap_id`` (1 = most people), ``population``, ``cells``, ``area_km2``,
        ``admin_units``, ``admin_names``, polygon geometry (union of the cell squares);
        with ``places`` also ``near_place``, ``near_place_en``, ``near_place_km``; with
        ``candidates`` also ``closing_sites``, ``closing_names``, ``closing_people``,
        ``closed_people``, ``closed_share``.

    Raises
    ------
    GeoplanInputError
        No population in ``ctx``, bad ``minutes``, unknown types, no facility selected.
    """
    _population(ctx)
    t = _single_minutes(minutes)
    sel = _select(facilities, types)
    secs, _ = _nearest(ctx, sel, cutoff_s=t * 60.0)
    assert ctx.population is not None
    out = group_gaps(ctx.population, ~(secs <= t * 60.0), min_population=min_population,
                     by_unit=by_unit, min_area_km2=min_area_km2)
    if places is None and candidates is None:
        return out
    members = gap_members(out, ctx.population)          # once for naming and sites
    if places is not None:
        out = name_gaps(out, ctx.population, places, members)
    if candidates is not None:
        out = closing_sites(ctx, out, candidates, t, top=top_sites, members=members)
    return out


def closing_sites(
    ctx: TravelContext,
    gaps: gpd.GeoDataFrame,
    candidates: gpd.GeoDataFrame | None,
    minutes: float | ArrayLike,
    *,
    top: int = 3,
    members: tuple[NDArray[np.intp], NDArray[np.intp]] | None = None,
) -> gpd.GeoDataFrame:
    """The candidate sites that would close each gap area, best first.

    Why: a gap is only actionable with a place to build. For each gap area, sites are
    picked greedily: the candidate whose catchment (cells within the standard of it)
    holds most of the gap's still-uncovered people, ties to the one nearest the gap's
    population-weighted centre, then the next on the people left, up to ``top`` sites
    or until the gap is closed; a site that would add less than one person, or less
    than 1 % of the gap's people, is no suggestion and ends the list. Greedy is a suggestion per gap, not an optimum over
    gaps: the site models (``geoplan.optimize``) answer "which sites, all gaps at once".

    Parameters
    ----------
    ctx
        The travel context the gaps were measured in (population cells, mode, direction).
    gaps
        Gap areas of ``ctx.population`` (:func:`gaps`, :func:`geoplan.access.gaps.group_gaps`).
    candidates
        Candidate sites (``id``, optional ``name``, points); None or empty: columns empty.
    minutes
        The standard: one cut-off, or one per population cell (NaN: never covered).
    top
        At most this many sites per gap.
    members
        :func:`geoplan.access.gaps.gap_members` of ``gaps`` and ``ctx.population``, if
        already known.

    Returns
    -------
    geopandas.GeoDataFrame
        ``gaps`` with ``closing_sites`` (ids, comma-separated, in order of choice),
        ``closing_names`` (``|``-separated), ``closing_people`` (people each adds,
        comma-separated),
        ``closed_people`` and ``closed_share`` (of the gap's people, all listed sites
        together) added.
    """
    out = gaps.copy()
    n = len(out)
    out["closing_sites"] = ""
    out["closing_names"] = ""
    out["closing_people"] = ""
    out["closed_people"] = 0.0
    out["closed_share"] = 0.0
    if int(top) != top or top < 1:
        raise GeoplanInputError(f"top must be a positive integer, got {top!r}", field="top")
    pop = _population(ctx)
    std = np.broadcast_to(np.asarray(minutes, dtype=float), (len(pop),))
    if candidates is None or candidates.empty or n == 0 or not np.isfinite(std).any():
        return out
    if members is None:
        members = gap_members(gaps, ctx.population)
    cell_pos, gap_pos = members
    if not len(cell_pos):
        return out
    secs = _matrix(ctx, candidates, float(np.nanmax(std)) * 60.0)[:, cell_pos].tocsc()
    ok = secs.data <= np.repeat(std[cell_pos], np.diff(secs.indptr)) * 60.0
    reach = sparse.csc_matrix((ok.astype(np.float64), secs.indices, secs.indptr),
                              shape=secs.shape)
    reach.eliminate_zeros()
    w_all = pop[cell_pos].astype(float)
    starts = np.searchsorted(gap_pos, np.arange(n + 1))
    metric = (ctx.population.crs if ctx.population.crs.is_projected
              else ctx.population.estimate_utm_crs())
    cxy = shapely.get_coordinates(gap_centres(gaps, ctx.population, members)
                                  .to_crs(metric).values)
    sxy = shapely.get_coordinates(candidates.geometry.to_crs(metric).values)
    ids = candidates["id"].astype(str).to_numpy()
    names = (candidates["name"].fillna("").astype(str).to_numpy() if "name" in candidates
             else np.full(len(ids), "", dtype=object))
    cols = {k: out[k].to_numpy(dtype=object) for k in
            ("closing_sites", "closing_names", "closing_people")}
    closed = np.zeros(n)
    for g in range(n):
        a, b = starts[g], starts[g + 1]
        if a == b:
            continue
        sub = reach[:, a:b].tocsr()
        w = w_all[a:b].copy()
        dist = np.hypot(sxy[:, 0] - cxy[g, 0], sxy[:, 1] - cxy[g, 1])
        chosen: list[tuple[int, float]] = []
        for _ in range(int(top)):
            gain = sub @ w
            best = np.lexsort((dist, -gain))[0]
            if gain[best] < max(1.0, 0.01 * w_all[a:b].sum()):
                break
            chosen.append((int(best), float(gain[best])))
            w[sub.indices[sub.indptr[best]:sub.indptr[best + 1]]] = 0.0
            if not w.any():
                break
        cols["closing_sites"][g] = ",".join(ids[k] for k, _ in chosen)
        cols["closing_names"][g] = "|".join(names[k].replace("|", "/") for k, _ in chosen)
        cols["closing_people"][g] = ",".join(f"{v:.0f}" for _, v in chosen)
        closed[g] = sum(v for _, v in chosen)
    for k, v in cols.items():
        out[k] = v
    out["closed_people"] = closed
    people = out["population"].to_numpy(float)
    out["closed_share"] = np.divide(closed, people, out=np.zeros(n), where=people > 0)
    return out


# --------------------------------------------------------------------------- capacity


def _capacity(sel: gpd.GeoDataFrame, persons_per_bed: float) -> NDArray[np.float64]:
    """Capacity column where given, else beds x persons_per_bed."""
    if not (np.isfinite(persons_per_bed) and persons_per_bed > 0):
        raise GeoplanInputError(f"persons_per_bed must be positive, got {persons_per_bed!r}",
                                field="persons_per_bed", hint="e.g. 1000 / 7 (the 7-bed norm)")
    n = len(sel)
    cap = (pd.to_numeric(sel["capacity"], errors="coerce").to_numpy(dtype=float)
           if "capacity" in sel else np.full(n, np.nan))
    beds = (pd.to_numeric(sel["beds"], errors="coerce").fillna(0).to_numpy(dtype=float)
            if "beds" in sel else np.zeros(n))
    cap = np.where(np.isnan(cap) & (beds > 0), beds * persons_per_bed, cap)
    bad = ~np.isfinite(cap) | (cap < 0)
    if bad.any():
        k = int(np.flatnonzero(bad)[0])
        raise GeoplanInputError(
            f"{int(bad.sum())} facilit{'y has' if bad.sum() == 1 else 'ies have'} neither a "
            "capacity nor beds", field="capacity", row=f"facility {sel['id'].iloc[k]}",
            hint="add a capacity (服务能力) column, or select types with beds")
    return cap


class CapacityReport(NamedTuple):
    """Result of :func:`coverage_with_capacity`.

    Attributes
    ----------
    facilities
        Per facility: ``id``, ``name``, ``type``, ``capacity``, ``demand_in_reach``
        (people within T, counted for every facility they reach), ``served``,
        ``utilisation`` (served / capacity), ``full``.
    units
        Per unit and ``total``: ``population``, ``served``, ``over_capacity`` (within T
        of a facility, but all were full), ``out_of_reach``, ``share_served``.
    cells
        Per cell: ``cell_id``, ``admin_code``, ``admin_name``, ``population``,
        ``served``, ``over_capacity``, ``out_of_reach``, ``facility_id`` (that served
        most of the cell); points.
    """

    facilities: pd.DataFrame
    units: pd.DataFrame
    cells: gpd.GeoDataFrame


def coverage_with_capacity(
    ctx: TravelContext,
    facilities: gpd.GeoDataFrame,
    minutes: float = 30.0,
    *,
    types: str | Iterable[str] | None = None,
    persons_per_bed: float = 1000.0 / 7.0,
    boundaries: gpd.GeoDataFrame | None = None,
    level: str = "admin_code",
) -> CapacityReport:
    """Coverage when each facility can serve only so many people (AccessMod style).

    Why: a hospital 10 minutes away does not cover 300,000 people with 200 beds.
    Facilities, largest capacity first, absorb the still-unserved people within T in
    order of travel time until their capacity is used
    (:func:`geoplan.access.accessibility.capacity_coverage`). Every person ends up exactly one
    of *served*, *over capacity* (within reach, but every facility in reach was full)
    or *out of reach*.

    Capacity of facility j: its ``capacity`` column where given, else
    ``beds_j × persons_per_bed``. The default, 1,000 / 7 ≈ 143 people per bed, is the
    norm of 7 beds per 1,000 residents.

    Parameters
    ----------
    ctx
        Travel context with population.
    facilities
        Facilities (:func:`geoplan.inputs.readers.read_facilities`).
    minutes
        The cut-off T.
    types
        Facility types to consider (e.g. hospitals); default all.
    persons_per_bed
        People one bed serves, for facilities without a capacity.
    boundaries, level
        Grouping of the per-unit table, as in :func:`coverage_by_unit`.

    Returns
    -------
    CapacityReport
        ``facilities``, ``units`` and ``cells`` tables.

    Raises
    ------
    GeoplanInputError
        As :func:`coverage_by_unit`, and for facilities with neither capacity nor beds.
    """
    pop = _population(ctx)
    t = _single_minutes(minutes)
    sel = _select(facilities, types)
    cap = _capacity(sel, persons_per_bed)
    res = capacity_coverage(_matrix(ctx, sel, t * 60.0), pop, cap, t * 60.0)
    per = pd.DataFrame({
        "id": sel["id"].astype(str).to_numpy(),
        "name": (sel["name"] if "name" in sel else sel["id"]).astype(str).to_numpy(),
        "type": sel["type"].astype(str).to_numpy(),
        "capacity": cap,
        "demand_in_reach": res.demand_in_reach,
        "served": res.absorbed,
    })
    per["utilisation"] = _ratio(per["served"], per["capacity"])
    per["full"] = res.absorbed >= cap * (1 - 1e-9)
    codes, units = _units_of(ctx.population, boundaries, level, "population cells")
    table = _sum_by_unit(codes, units, level, {
        "population": pop, "served": res.served, "over_capacity": res.over_capacity,
        "out_of_reach": res.out_of_reach})
    table["share_served"] = _ratio(table["served"], table["population"])
    cells = _cell_frame(ctx)
    cells["served"] = res.served
    cells["over_capacity"] = res.over_capacity
    cells["out_of_reach"] = res.out_of_reach
    cells["facility_id"] = _ids_of(sel, res.assigned_to)
    cells = cells[[c for c in cells.columns if c != "geometry"] + ["geometry"]]
    return CapacityReport(facilities=per, units=table, cells=cells)


class AccessibilityIndex(NamedTuple):
    """Result of :func:`accessibility_index`.

    Attributes
    ----------
    cells
        Per cell: ``cell_id``, ``admin_code``, ``admin_name``, ``population``,
        ``access_per_1000`` (supply per 1,000 people reachable within T); points.
    units
        Per unit and ``total``: ``population`` and the population-weighted mean
        ``access_per_1000``.
    facilities
        Per facility: ``id``, ``name``, ``type``, ``supply``, ``demand_in_reach``
        (distance-weighted people within T) and ``supply_per_1000`` (R_j × 1,000).
    """

    cells: gpd.GeoDataFrame
    units: pd.DataFrame
    facilities: pd.DataFrame


def _supply(sel: gpd.GeoDataFrame, supply: str | ArrayLike) -> NDArray[np.float64]:
    if isinstance(supply, str):
        if supply not in sel.columns:
            raise GeoplanInputError(f"facilities have no column '{supply}'", field="supply",
                                    hint="e.g. supply='beds' or 'capacity'")
        values = pd.to_numeric(sel[supply], errors="coerce").to_numpy(dtype=float)
    else:
        values = np.asarray(supply, dtype=float).ravel()
        if values.size != len(sel):
            raise GeoplanInputError(f"supply has {values.size} values for {len(sel)} "
                                    "selected facilities", field="supply")
    bad = ~np.isfinite(values) | (values < 0)
    if bad.any():
        k = int(np.flatnonzero(bad)[0])
        raise GeoplanInputError("supply must be a non-negative number for every facility",
                                field="supply", row=f"facility {sel['id'].iloc[k]}",
                                hint="fill in the missing values or select other types")
    return values


def accessibility_index(
    ctx: TravelContext,
    facilities: gpd.GeoDataFrame,
    minutes: float = 30.0,
    *,
    types: str | Iterable[str] | None = None,
    supply: str | ArrayLike = "beds",
    decay: Decay = None,
    boundaries: gpd.GeoDataFrame | None = None,
    level: str = "admin_code",
) -> AccessibilityIndex:
    """Two-step floating catchment (2SFCA) accessibility, per cell and per unit.

    Why: "beds per 1,000 residents" per district ignores that people cross district
    borders to the nearest hospital; 2SFCA counts the beds each resident can reach
    within T, shared among everyone else who can reach them. With supply S_j (beds),
    population P_i, times t_ij, weights W (``decay``)::

        R_j = S_j / Σ_{i: t_ij <= T} P_i W(t_ij)        A_i = 1000 · Σ_{j: t_ij <= T} R_j W(t_ij)

    (:func:`geoplan.access.accessibility.two_step_fca`). A unit's figure is the
    population-weighted mean Σ P_i A_i / Σ P_i over its cells.

    Parameters
    ----------
    ctx
        Travel context with population.
    facilities
        Facilities (:func:`geoplan.inputs.readers.read_facilities`).
    minutes
        The catchment size T.
    types
        Facility types to consider (e.g. hospitals); default all.
    supply
        Column of the facilities (default ``beds``) or one value per selected facility.
    decay
        Distance decay: None (binary, classic 2SFCA), ``"linear"``, ``"gaussian"`` or a
        function (:func:`geoplan.access.accessibility.decay_weights`).
    boundaries, level
        Grouping of the per-unit table, as in :func:`coverage_by_unit`.

    Returns
    -------
    AccessibilityIndex
        ``cells``, ``units`` and ``facilities`` tables.

    Raises
    ------
    GeoplanInputError
        As :func:`coverage_by_unit`, and for a missing or negative supply.
    """
    pop = _population(ctx)
    t = _single_minutes(minutes)
    sel = _select(facilities, types)
    sup = _supply(sel, supply)
    times = _matrix(ctx, sel, t * 60.0)
    access, ratio = two_step_fca(times, pop, sup, t * 60.0, decay=decay, per=1000.0)
    demand = np.divide(sup * 1000.0, ratio, out=np.zeros_like(sup), where=ratio > 0)
    per = pd.DataFrame({
        "id": sel["id"].astype(str).to_numpy(),
        "name": (sel["name"] if "name" in sel else sel["id"]).astype(str).to_numpy(),
        "type": sel["type"].astype(str).to_numpy(),
        "supply": sup, "demand_in_reach": demand, "supply_per_1000": ratio,
    })
    cells = _cell_frame(ctx)
    cells["access_per_1000"] = access
    cells = cells[[c for c in cells.columns if c != "geometry"] + ["geometry"]]
    codes, units = _units_of(ctx.population, boundaries, level, "population cells")
    table = _sum_by_unit(codes, units, level, {"population": pop, "_weighted": pop * access})
    table["access_per_1000"] = _ratio(table["_weighted"], table["population"])
    return AccessibilityIndex(cells=cells, units=table.drop(columns="_weighted"),
                              facilities=per)


# --------------------------------------------------------------------------- beds


def beds_per_1000(
    population: gpd.GeoDataFrame,
    facilities: gpd.GeoDataFrame,
    boundaries: gpd.GeoDataFrame | None = None,
    *,
    level: str = "district_code",
    target: float = 7.0,
    types: str | Iterable[str] | None = None,
) -> pd.DataFrame:
    """Hospital beds per 1,000 residents per admin unit, against a target.

    Why: Chinese planning norms set at least 7 beds per 1,000 residents (每千人口床位数)
    per district; this is the plain table a health commission reports, without travel
    times (see :func:`accessibility_index` for the travel-aware version). For unit U
    with population P_U and beds B_U (facilities located in U)::

        beds_per_1000 = 1000 · B_U / P_U
        beds_short    = max(0, ceil(target · P_U / 1000 - B_U))

    The ``total`` row gives the overall ratio and the **sum** of the units' shortfalls
    (beds in one district do not make up for another's shortage).

    Parameters
    ----------
    population
        Population cells tagged with ``admin_code`` (read with ``boundaries=``).
    facilities
        Facilities with ``beds`` and ``admin_code`` (read with ``boundaries=``; tagged
        here by location if that is missing and boundaries are given).
    boundaries
        Admin units; needed for levels other than ``admin_code`` (``district_code``).
    level
        Grouping column (default ``district_code``).
    target
        Beds per 1,000 residents to meet (default 7).
    types
        Facility types whose beds count; default all.

    Returns
    -------
    pandas.DataFrame
        ``<level>``, ``<level name>``, ``population``, ``beds``, ``beds_per_1000`` (NaN
        without residents), ``target``, ``met``, ``beds_short``; a ``total`` row last.

    Raises
    ------
    GeoplanInputError
        Missing ``beds`` column, bad population, a level the boundaries lack, a
        negative target, unknown types.
    """
    if not (np.isfinite(target) and target >= 0):
        raise GeoplanInputError(f"target must be a number >= 0, got {target!r}", field="target",
                                hint="e.g. 7 beds per 1,000 residents")
    pop = _check_population(population)
    sel = _select(facilities, types)
    if "beds" not in sel.columns:
        raise GeoplanInputError("facilities have no 'beds' column", field="beds",
                                hint="read them with read_facilities (床位数 column)")
    beds = pd.to_numeric(sel["beds"], errors="coerce").fillna(0).to_numpy(dtype=float)
    p_codes, units = _units_of(population, boundaries, level, "population cells")
    f_codes, f_units = _units_of(sel, boundaries, level, "facilities")
    extra = f_units[~f_units[level].isin(units[level])]
    units = pd.concat([units, extra], ignore_index=True)
    none_last = units[level] == NO_UNIT
    units = pd.concat([units[~none_last], units[none_last]], ignore_index=True)
    people = _sum_by_unit(p_codes, units, level, {"population": pop})
    bed_sums = _sum_by_unit(f_codes, units, level, {"beds": beds})
    out = people.assign(beds=bed_sums["beds"].to_numpy())
    out["beds_per_1000"] = 1000.0 * _ratio(out["beds"], out["population"])
    out["target"] = float(target)
    short = np.maximum(0.0, np.ceil(target * out["population"] / 1000.0 - out["beds"] - 1e-9))
    short.iloc[-1] = short.iloc[:-1].sum()
    out["beds_short"] = short.astype(int)
    out["met"] = out["beds"] >= target * out["population"] / 1000.0 - 1e-9
    return out[[level, _name_column(level), "population", "beds", "beds_per_1000", "target",
                "met", "beds_short"]]
