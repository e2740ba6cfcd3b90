"""geoplan: plan where health services go.

Load facilities, population, admin boundaries and roads (:mod:`geoplan.io`), compute
travel-time coverage and gaps, solve exact location models, and render maps and reports.
Data flows one way: inputs -> study area -> travel times -> coverage -> optimisation ->
maps/reports.
"""

from ._errors import GeoplanError, GeoplanInputError, GeoplanWarning
from .coverage import (
    TravelContext,
    accessibility_index,
    beds_per_1000,
    catchments,
    coverage_by_cell,
    coverage_by_unit,
    coverage_with_capacity,
    gaps,
    nearest_by_type,
    travel_context,
)
from .facility_types import FacilityType, Vocabulary, default_vocabulary, load_vocabulary
from .io import (
    read_boundaries,
    read_candidates,
    read_facilities,
    read_network,
    read_population,
    tag_admin_units,
)
from .network import CompiledNetwork, compile_network, compile_network_cached
from .profiles import Profile, get_profile, load_profiles
from .region import Region, load_region
from .isochrones import isochrones
from .studyarea import StudyArea
from .travel import Snapped, nearest_facility_time, snap_points, travel_time_matrix

__version__ = "0.1.0"

__all__ = [
    "TravelContext",
    "accessibility_index",
    "beds_per_1000",
    "catchments",
    "coverage_by_cell",
    "coverage_by_unit",
    "coverage_with_capacity",
    "gaps",
    "isochrones",
    "nearest_by_type",
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
