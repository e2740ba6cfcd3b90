"""The study area: one metric CRS and one outline that every layer is brought into.

geoplan computes distances and areas in metres, so every reader returns data in a single
projected CRS chosen for the study area. Unless the user names one, it is the UTM zone of
the area's centre (``EPSG:326xx`` north / ``327xx`` south), which keeps scale error below
0.1 % within a county-sized region.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import geopandas as gpd
import numpy as np
from pyproj import CRS
from pyproj.exceptions import CRSError
from shapely import Geometry

from geoplan._errors import GeoplanInputError
from geoplan.inputs.chinacrs import CHINA_CRS_NAMES

__all__ = ["StudyArea", "parse_crs", "utm_crs_for_lonlat"]


def parse_crs(value: Any, *, field: str = "crs") -> CRS | str:
    """Interpret a CRS given by a user.

    Parameters
    ----------
    value
        ``"gcj02"`` / ``"bd09"`` (and aliases such as ``"gaode"``, ``"baidu"``), or
        anything :class:`pyproj.CRS` accepts (``"EPSG:4326"``, ``4326``, WKT, a CRS).
    field
        Name of the parameter, for the error message.

    Returns
    -------
    pyproj.CRS or str
        A pyproj CRS, or the canonical name ``"gcj02"`` / ``"bd09"``.

    Raises
    ------
    GeoplanInputError
        If the value is not a CRS.
    """
    if isinstance(value, str) and value.strip().lower() in CHINA_CRS_NAMES:
        return CHINA_CRS_NAMES[value.strip().lower()]
    try:
        return CRS.from_user_input(value)
    except CRSError:
        raise GeoplanInputError(
            f"'{value}' is not a coordinate reference system", field=field,
            hint="use an EPSG code such as 'EPSG:4326', or 'gcj02' (Gaode/Tencent) "
                 "or 'bd09' (Baidu) for coordinates copied from Chinese map services",
        ) from None


def utm_crs_for_lonlat(lon: float, lat: float) -> CRS:
    """Return the WGS-84 UTM CRS of the zone containing (lon, lat).

    Parameters
    ----------
    lon, lat
        A point in degrees.

    Returns
    -------
    pyproj.CRS
    """
    zone = int(np.floor((lon + 180.0) / 6.0)) % 60 + 1
    return CRS.from_epsg((32600 if lat >= 0 else 32700) + zone)


@dataclass(frozen=True)
class StudyArea:
    """A study area: its metric CRS and outline (in that CRS).

    Attributes
    ----------
    crs
        Projected CRS in metres used by every layer.
    outline
        Union of the admin units (or another polygon), in ``crs``; ``None`` if unknown.
    """

    crs: CRS
    outline: Geometry | None = None

    @classmethod
    def from_geodataframe(cls, gdf: gpd.GeoDataFrame, crs: Any = None) -> StudyArea:
        """Build the study area from boundary polygons (or any layer's extent).

        Parameters
        ----------
        gdf
            Boundaries (or any geometries) with a CRS.
        crs
            Projected CRS to use; default: UTM zone of the layer's centre.

        Returns
        -------
        StudyArea
        """
        target = CRS.from_user_input(crs) if crs is not None else cls.estimate_crs(gdf)
        outline = gdf.to_crs(target).geometry.union_all()
        if outline.geom_type not in ("Polygon", "MultiPolygon"):
            outline = outline.convex_hull
        return cls(crs=target, outline=outline)

    @staticmethod
    def estimate_crs(gdf: gpd.GeoDataFrame) -> CRS:
        """UTM CRS of the centre of ``gdf``'s bounds (computed in WGS-84)."""
        minx, miny, maxx, maxy = gdf.to_crs(4326).total_bounds
        return utm_crs_for_lonlat((minx + maxx) / 2.0, (miny + maxy) / 2.0)

    @property
    def area_km2(self) -> float:
        """Area of the outline in km² (0 if there is none)."""
        return 0.0 if self.outline is None else float(self.outline.area) / 1e6
