"""Stage 2 - travel: how long it takes to get there.

Travel profiles (:mod:`~geoplan.travel.profiles`: walk, e-bike, drive speeds and rules),
road networks compiled into sparse graphs (:mod:`~geoplan.travel.network`), and travel
times between points - snapping, access legs, matrices and nearest-facility times
(:mod:`~geoplan.travel.times`). Reads only :mod:`geoplan.inputs`-level data (no coverage,
models or maps).
"""

from geoplan.travel.network import CompiledNetwork, compile_network, compile_network_cached
from geoplan.travel.profiles import Profile, get_profile, load_profiles
from geoplan.travel.times import Snapped, nearest_facility_time, snap_points, travel_time_matrix

__all__ = ["CompiledNetwork", "Profile", "Snapped", "compile_network", "compile_network_cached",
           "get_profile", "load_profiles", "nearest_facility_time", "snap_points",
           "travel_time_matrix"]
