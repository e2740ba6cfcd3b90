"""geoplan: plan where health services go.

Load facilities, population, admin boundaries and roads (:mod:`geoplan.io`), compute
travel-time coverage and gaps, solve exact location models, and render maps and reports.
Data flows one way: inputs -> study area -> travel times -> coverage -> optimisation ->
maps/reports.
"""

from ._errors import GeoplanError, GeoplanInputError, GeoplanWarning
from .facility_types import FacilityType, Vocabulary, default_vocabulary, load_vocabulary
from .io import (
    read_boundaries,
    read_candidates,
    read_facilities,
    read_network,
    read_population,
    tag_admin_units,
)
from .region import Region, load_region
from .studyarea import StudyArea

__version__ = "0.1.0"

__all__ = [
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
