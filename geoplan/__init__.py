"""geoplan: plan where health services go.

Load facilities, population, admin boundaries and roads (:mod:`geoplan.inputs.readers`), compute
travel-time coverage and gaps, solve exact location models, and render maps and reports.
Data flows one way: inputs -> study area -> travel times -> coverage -> optimisation ->
maps/reports.
"""

import importlib as _importlib
import sys as _sys
import types as _types
import warnings as _warnings
from importlib import abc as _abc
from importlib import util as _util

from geoplan._errors import GeoplanError, GeoplanInputError, GeoplanWarning
from geoplan.access.coverage import (
    TravelContext,
    accessibility_index,
    beds_per_1000,
    catchments,
    closing_sites,
    coverage_by_cell,
    coverage_by_unit,
    coverage_with_capacity,
    gaps,
    nearest_by_type,
    travel_context,
)
from geoplan.access.equity import concentration_curve, gini, time_equity
from geoplan.access.gaps import name_gaps
from geoplan.access.isochrones import isochrones
from geoplan.inputs.facility_types import (
    FacilityType,
    Vocabulary,
    default_vocabulary,
    load_vocabulary,
)
from geoplan.inputs.readers import (
    read_boundaries,
    read_candidates,
    read_facilities,
    read_network,
    read_population,
    tag_admin_units,
)
from geoplan.inputs.region import Region, load_region
from geoplan.inputs.studyarea import StudyArea
from geoplan.travel.network import CompiledNetwork, compile_network, compile_network_cached
from geoplan.travel.profiles import Profile, get_profile, load_profiles
from geoplan.travel.times import Snapped, nearest_facility_time, snap_points, travel_time_matrix

__version__ = "0.1.0"

# Old module paths (before the stage packages): importable for one release, with a
# DeprecationWarning naming the new path. ``geoplan.gaps`` and ``geoplan.isochrones`` are
# functions of this package, not aliases; the private modules have none.
_MOVED = {
    "geoplan.io": "geoplan.inputs.readers",
    "geoplan.chinacrs": "geoplan.inputs.chinacrs",
    "geoplan.facility_types": "geoplan.inputs.facility_types",
    "geoplan.studyarea": "geoplan.inputs.studyarea",
    "geoplan.region": "geoplan.inputs.region",
    "geoplan.summary": "geoplan.inputs.summary",
    "geoplan.profiles": "geoplan.travel.profiles",
    "geoplan.network": "geoplan.travel.network",
    "geoplan.coverage": "geoplan.access.coverage",
    "geoplan.accessibility": "geoplan.access.accessibility",
    "geoplan.report": "geoplan.maps.report",
    "geoplan.scenario_file": "geoplan.scenario.spec",
    "geoplan.scenario_models": "geoplan.scenario.models",
    "geoplan.scenario_outputs": "geoplan.scenario.outputs",
    "geoplan.compare": "geoplan.scenario.compare",
    "geoplan.maps_cli": "geoplan.cli.maps",
}


class _MovedModules(_abc.MetaPathFinder, _abc.Loader):
    """Import an old module path as a view of its new module (deprecated)."""

    def find_spec(self, fullname: str, path: object, target: object = None) -> object:
        if fullname not in _MOVED:
            return None
        return _util.spec_from_loader(fullname, self)

    def create_module(self, spec: object) -> None:
        return None

    def exec_module(self, module: _types.ModuleType) -> None:
        new = _importlib.import_module(_MOVED[module.__name__])
        _warnings.warn(f"{module.__name__} moved to {new.__name__}; the old path will be "
                       "removed in the next release", DeprecationWarning, stacklevel=2)
        module.__dict__.update({k: v for k, v in vars(new).items()
                                if not (k.startswith("__") and k.endswith("__"))})
        module.__doc__ = new.__doc__
        module.__getattr__ = lambda name: getattr(new, name)  # type: ignore[method-assign]


_sys.meta_path.append(_MovedModules())

__all__ = [
    "TravelContext",
    "accessibility_index",
    "beds_per_1000",
    "catchments",
    "closing_sites",
    "concentration_curve",
    "coverage_by_cell",
    "coverage_by_unit",
    "coverage_with_capacity",
    "gaps",
    "gini",
    "isochrones",
    "name_gaps",
    "nearest_by_type",
    "time_equity",
    "travel_context",
    "CompiledNetwork",
    "Profile",
    "Snapped",
    "compile_network",
    "compile_network_cached",
    "get_profile",
    "load_profiles",
    "nearest_facility_time",
    "snap_points",
    "travel_time_matrix",
    "FacilityType",
    "GeoplanError",
    "GeoplanInputError",
    "GeoplanWarning",
    "Region",
    "StudyArea",
    "Vocabulary",
    "__version__",
    "default_vocabulary",
    "load_region",
    "load_vocabulary",
    "read_boundaries",
    "read_candidates",
    "read_facilities",
    "read_network",
    "read_population",
    "tag_admin_units",
]
