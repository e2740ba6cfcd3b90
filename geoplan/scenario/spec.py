"""Scenario files: a documented TOML format, validated before anything runs.

Why: a planning scenario ("fewest new insurance points to reach 95 %") is a list of
inputs, travel modes, time standards and model targets. Writing it down as a file makes
the run reproducible and reviewable; validating the whole file first means a typo in the
last model is reported in a second, naming the key and its line, not after ten minutes
of computing.

Format (paths are relative to the scenario file)::

    name = "15-minute medical-insurance service circle"
    name_zh = "15分钟医保服务圈"
    description = "Coverage today and fewest new service points to reach 95 %."
    region = "../"                  # a region folder or region.toml (see geoplan.inputs.region)
    output = "outputs/insurance"    # default: outputs/<file stem> under the working dir
    language = "zh"                 # "zh" or "en" for maps and the report
    maps = true                     # render maps (default true)
    report = true                   # write the HTML report (default true)
    pdf = false                     # also print it to report.pdf (needs Chromium/Chrome)
    basemap = "osm"                 # osm, gaode, roads (the region's own, offline) or none

    [inputs]                        # optional: replace region layers by other files
    facilities = "facilities_2030.csv"
    facilities_crs = "gcj02"

    [[coverage]]                    # coverage questions (any number)
    name = "insurance_today"
    types = ["insurance_service_point"]   # facility types counted (default: all)
    modes = ["walk", "ebike"]
    minutes = [15]
    level = "admin_code"            # or "district_code"

    [[model]]                       # optimisation models (any number)
    name = "insurance_95"
    kind = "set_covering"           # see MODEL_KINDS
    existing_types = ["insurance_service_point"]
    candidate_types = ["community committee", "village committee"]
    mode = "ebike"
    minutes = 15
    target_share = 0.95
    unit_min_share = 0.85
    force_open = ["S0012"]          # site rules (every kind), see below
    force_closed = ["S0040", "S0041"]
    max_new_per_unit = 2            # or a table: { "420102001" = 1, "420102002" = 3 }
    verbose = true                  # show the solver's log (default false)

Each ``kind`` accepts the keys listed in :data:`MODEL_KEYS`.

Site rules (every kind; see :mod:`geoplan.optimize.site_rules`): ``force_open`` lists ids
of candidate sites that must be part of the plan (they count towards ``p``, the budget
and the caps), ``force_closed`` ids that must stay out, and ``max_new_per_unit`` is the
most new sites in any admin unit (a whole number) or per unit (a table of unit code =
whole number; units left out are not capped). Ids are the ``id`` column of the
candidates file (or of the facilities, for ``upgrade_types``); whole numbers are read as
text. Per kind:

* site models (``set_covering``, ``max_covering``, ``tradeoff``, ``p_median``,
  ``p_center``): candidate sites; units are the candidates' ``admin_code``;
* ``beds_to_ratio``: ``force_open`` = new hospital sites (``new_site_types``) that must
  open; ``force_closed`` = new hospital sites that must not open, or hospitals that must
  not be expanded; caps count new hospitals per unit of the model's ``level``;
* ``function_centres``: ``force_open`` = hosts that must receive a new centre,
  ``force_closed`` = hosts that get none; caps count new centres per ``admin_code``.
"""

from __future__ import annotations

import math
import re
import tomllib
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from types import MappingProxyType
from typing import Any

from geoplan import labels
from geoplan._errors import GeoplanInputError

__all__ = ["MODEL_KEYS", "MODEL_KINDS", "MODEL_SPECS", "BedsToRatioSpec", "CapacitySiteSpec", "ZonedSiteSpec",
           "CoverageSpec",
           "FunctionCentresSpec", "MaxCoveringSpec", "ModelSpec", "PCenterSpec", "PMedianSpec",
           "Scenario", "SetCoveringSpec", "SiteModelSpec", "TierSpec", "TieredSpec",
           "TradeoffSpec", "check_model",
           "read_scenario"]

MODES = ("walk", "ebike", "drive")


@dataclass(frozen=True)
class _Key:
    """One allowed key: expected type, whether required, and an extra check."""

    kind: str                     # "str", "bool", "int", "number", "str_list", "number_list",
    #                               "path", "id_list", "cap", "table", "table_list"
    required: bool = False
    choices: tuple[Any, ...] | None = None
    check: Callable[[Any], str | None] | None = None
    default: Any = None


def _positive(v: Any) -> str | None:
    vals = v if isinstance(v, list) else [v]
    if not all(math.isfinite(x) for x in vals):
        return "must be a finite number (inf and nan mean nothing here)"
    return None if all(x > 0 for x in vals) else "must be positive"


def _share(v: Any) -> str | None:
    return None if 0 < v <= 1 else "must be a share between 0 and 1 (e.g. 0.95)"


def _nonneg(v: Any) -> str | None:
    if not math.isfinite(v):
        return "must be a finite number (inf and nan mean nothing here)"
    return None if v >= 0 else "must not be negative"


def _caps(v: Any) -> str | None:
    if isinstance(v, dict):
        bad = [k for k, x in v.items() if x < 0]
        return f"must not be negative (unit {bad[0]})" if bad else None
    return None if v >= 0 else "must not be negative"


def _names(v: Any) -> str | None:
    """A list of names that must each mean one thing: not empty, no blanks, no repeats."""
    if not v:
        return "must not be empty (name at least one kind)"
    if any(not x.strip() for x in v):
        return "holds a blank name"
    twice = sorted({x for x in v if v.count(x) > 1})
    return f"names {', '.join(twice)} more than once" if twice else None


def _demand_weights(v: Any) -> str | None:
    """A weighted sum of demand layers: weights finite, not negative, not all zero."""
    if isinstance(v, str):
        return None
    bad = [k for k, x in v.items() if not math.isfinite(x) or x < 0]
    if bad:
        return f"gives layer '{bad[0]}' a weight that is not a number >= 0"
    return None if any(x > 0 for x in v.values()) else "gives every layer weight 0"


def _modes(v: Any) -> str | None:
    bad = [m for m in v if m not in MODES]
    return f"unknown mode(s) {bad}; use {list(MODES)}" if bad else None


TOP_KEYS: dict[str, _Key] = {
    "name": _Key("str", required=True),
    "name_zh": _Key("str"),
    "description": _Key("str"),
    "description_zh": _Key("str"),
    "region": _Key("path", required=True),
    "output": _Key("str"),
    "language": _Key("str", choices=("zh", "en"), default="en"),
    "maps": _Key("bool", default=True),
    "report": _Key("bool", default=True),
    "pdf": _Key("bool", default=False),
    "basemap": _Key("str", choices=("osm", "gaode", "roads", "none"), default="osm"),
    "inputs": _Key("table"),
    "travel": _Key("table"),
    "coverage": _Key("table_list"),
    "model": _Key("table_list"),
}

INPUT_KEYS: dict[str, _Key] = {
    **{layer: _Key("path") for layer in
       ("facilities", "candidates", "population", "boundaries", "network")},
    "facilities_crs": _Key("str"),
    "candidates_crs": _Key("str"),
}

TRAVEL_KEYS: dict[str, _Key] = {
    "max_snap_m": _Key("number", check=_positive, default=1000.0),
    "profiles": _Key("path"),
}

COVERAGE_KEYS: dict[str, _Key] = {
    "name": _Key("str", required=True),
    "name_zh": _Key("str"),
    "types": _Key("str_list"),
    "modes": _Key("str_list", required=True, check=_modes),
    "minutes": _Key("number_list", required=True, check=_positive),
    "level": _Key("str", default="admin_code"),
    "gaps": _Key("bool", default=True),
}

_COMMON_MODEL = {
    "name": _Key("str", required=True),
    "name_zh": _Key("str"),
    "kind": _Key("str", required=True),
    "description": _Key("str"),
    "solver": _Key("str", choices=("cbc", "highs")),
    "time_limit": _Key("number", check=_positive),
    "gap": _Key("number", check=_nonneg),
    "level": _Key("str", default="admin_code"),
    "verbose": _Key("bool"),
    # site rules (geoplan.optimize.site_rules): ids of sites, most new sites per unit
    "force_open": _Key("id_list"),
    "force_closed": _Key("id_list"),
    "max_new_per_unit": _Key("cap", check=_caps),
}
_SITES = {
    "existing_types": _Key("str_list"),
    "candidate_types": _Key("str_list"),
    "upgrade_types": _Key("str_list"),      # existing facilities that may be upgraded
    "mode": _Key("str", required=True, choices=MODES),
    "minutes": _Key("number", required=True, check=_positive),
    "demand_levels": _Key("str_list"),      # only cells in units of these boundary levels
    # "total", a [demand_layers.<key>] (e.g. age65), or a weighted sum { total = 1, age65 = 1 }
    "demand": _Key("demand", check=lambda v: _demand_weights(v)),
}

#: Keys that live elsewhere, and where (the hint of their "unknown key" error).
_MOVED = {
    "cost_column": "a site's cost is the candidates layer's cost column: name it in the "
                   "region manifest, [candidates] cost = \"<column>\" (a model cannot "
                   "pick another column)",
}

#: Keys of the kinds with a capacitated variant (geoplan.optimize.capacity): people are
#: assigned to sites within each site's capacity.
_CAPACITY = {
    "capacity": _Key("bool"),                                   # assign within capacities
    "persons_per_bed": _Key("number", check=_positive),          # sites' capacity from beds
    "new_site_capacity": _Key("number", check=_positive),        # people a new site serves
    "single_source": _Key("bool"),                               # every cell to one site
}
_CAPACITY_ONLY = ("persons_per_bed", "new_site_capacity", "single_source")

#: Keys of balanced plans (geoplan.optimize.balanced): zones and their rules, fairness.
_ZONES = {
    "zones": _Key("str"),                 # "sectors", "units", or a polygon file
    "zone_centre": _Key("number_list"),   # [lon, lat] WGS-84 of the sectors' centre
    "zone_radius_km": _Key("number", check=_positive),
    "zone_sectors": _Key("int", check=_positive),
    "zone_min_sites": _Key("cap", check=_caps),
    "zone_max_sites": _Key("cap", check=_caps),
}
#: A covered share per zone: covering models only (a p-median has no standard).
_ZONE_SHARE = {"zone_min_share": _Key("number", check=_share)}
_FAIRNESS = {"fairness": _Key("str", choices=("max_min",))}  # the worst zone's share first
_ZONE_RULES = ("zone_min_sites", "zone_max_sites", "zone_min_share", "fairness")

#: Keys of one ``[[model.tiers]]`` table of a tiered plan (:mod:`geoplan.optimize.tiered`).
TIER_KEYS: dict[str, _Key] = {
    "name": _Key("str", required=True),
    "name_zh": _Key("str"),
    "count": _Key("int", check=_nonneg),           # facilities at this tier, existing included
    "count_min": _Key("int", check=_nonneg),
    "count_max": _Key("int", check=_nonneg),
    "mode": _Key("str", required=True, choices=MODES),
    "minutes": _Key("number", check=_positive),   # or urban_minutes and rural_minutes
    "urban_minutes": _Key("number", check=_positive),
    "rural_minutes": _Key("number", check=_positive),
    "existing_types": _Key("str_list"),          # facilities at this tier today
    "upgrade_types": _Key("str_list"),           # facilities that may be designated/upgraded
    "candidate_types": _Key("str_list"),         # candidate sites that may be built at it
    "upgrade_cost": _Key("number", check=_nonneg),
    "new_site_cost": _Key("number", check=_nonneg),
    "referral_minutes": _Key("number", check=_positive),   # to a facility of a higher tier
    "weight": _Key("number", check=_nonneg, default=1.0),
    "min_share": _Key("number", check=_share),
}

MODEL_KEYS: dict[str, dict[str, _Key]] = {
    "set_covering": {**_COMMON_MODEL, **_SITES, **_CAPACITY, **_ZONES, **_ZONE_SHARE,
                     "target_share": _Key("number", check=_share, default=1.0),
                     "unit_min_share": _Key("number", check=_share)},
    "max_covering": {**_COMMON_MODEL, **_SITES, **_CAPACITY, **_ZONES, **_ZONE_SHARE,
                     **_FAIRNESS,
                     "p": _Key("int", check=_positive),
                     "budget": _Key("number", check=_positive)},
    "tradeoff": {**_COMMON_MODEL, **_SITES, "p_max": _Key("int", required=True, check=_positive)},
    "p_median": {**_COMMON_MODEL, **_SITES, **_CAPACITY, **_ZONES,
                 "p": _Key("int", required=True, check=_positive)},
    "p_center": {**_COMMON_MODEL, **_SITES, "p": _Key("int", check=_positive),
                 "urban_minutes": _Key("number", check=_positive),
                 "rural_minutes": _Key("number", check=_positive),
                 "urban_levels": _Key("str_list", default=["subdistrict"]),
                 "target_share": _Key("number", check=_share, default=1.0)},
    "beds_to_ratio": {**_COMMON_MODEL,
                      "ratio": _Key("number", check=_positive, default=7.0),
                      "hospital_types": _Key("str_list"),
                      "cost_per_bed": _Key("number", check=_nonneg, default=1.0),
                      "max_add_share": _Key("number", check=_nonneg),
                      "max_add": _Key("int", check=_nonneg),
                      "new_site_types": _Key("str_list"),
                      "new_site_fixed_cost": _Key("number", check=_nonneg),
                      "new_site_min_beds": _Key("int", check=_nonneg),
                      "new_site_max_beds": _Key("int", check=_positive)},
    # the hosts are the existing facilities of host_types: no existing / candidate sites
    "function_centres": {**_COMMON_MODEL,
                         **{k: v for k, v in _SITES.items()
                            if k not in ("existing_types", "candidate_types", "upgrade_types")},
                         "centre_types": _Key("str_list", required=True, check=_names),
                         "host_types": _Key("str_list", required=True),
                         "total": _Key("int", check=_positive),
                         "per_type": _Key("int", check=_positive),
                         "max_types_per_host": _Key("int", check=_positive, default=1),
                         "min_share": _Key("number", check=_share)},
    # a hierarchy of facilities with referral: the sites are the tiers' own
    "tiered": {**{k: v for k, v in _COMMON_MODEL.items() if k != "max_new_per_unit"},
               "tiers": _Key("table_list", required=True),
               "objective": _Key("str", choices=("coverage", "cost"), default="coverage"),
               "budget": _Key("number", check=_positive),
               "referral_mode": _Key("str", choices=MODES, default="drive"),
               "urban_levels": _Key("str_list"),        # default: subdistrict (TieredSpec)
               "demand_levels": _Key("str_list"),
               "demand": _Key("demand", check=lambda v: _demand_weights(v))},
}
MODEL_KINDS = tuple(MODEL_KEYS)
#: Fields of a kind's spec that no table sets: the model derives them (function centres'
#: hosts are the facilities of ``host_types``, so it has no existing or candidate sites).
DERIVED_FIELDS: dict[str, tuple[str, ...]] = {
    "function_centres": ("existing_types", "candidate_types", "upgrade_types"),
    # a tiered plan caps each tier's facilities (counts), not new sites per unit
    "tiered": ("max_new_per_unit",)}


# --------------------------------------------------------------------------- typed specs


def _frozen(v: Any) -> Any:
    """An immutable copy of a checked value (lists as tuples, tables as read-only maps)."""
    if isinstance(v, list):
        return tuple(_frozen(x) for x in v)
    if isinstance(v, dict):
        return MappingProxyType({k: _frozen(x) for k, x in v.items()})
    return v


def _plain(v: Any) -> Any:
    """The value as TOML wrote it (tuples as lists, maps as dicts, tables as dicts)."""
    if isinstance(v, _Spec):
        return v.to_dict()
    if isinstance(v, tuple):
        return [_plain(x) for x in v]
    if isinstance(v, Mapping):
        return {k: _plain(x) for k, x in v.items()}
    return v


@dataclass(frozen=True, kw_only=True)
class _Spec:
    """A checked table: one attribute per key; keys not given are None (or the default)."""

    #: The keys the table holds after checking (given ones in file order, then defaults).
    keys: tuple[str, ...] = field(default=(), repr=False, compare=False)

    def to_dict(self) -> dict[str, Any]:
        """The checked table as a dict (for ``run_log.json``), as it was read."""
        return {k: _plain(getattr(self, k)) for k in self.keys}

    def updated(self, **changes: Any) -> _Spec:
        """A copy with ``changes`` applied (new keys are added after the others)."""
        keys = self.keys + tuple(k for k in changes if k not in self.keys)
        return replace(self, keys=keys, **{k: _frozen(v) for k, v in changes.items()})

    @classmethod
    def from_checked(cls, table: dict[str, Any]) -> _Spec:
        """Build from a table checked by :func:`_check_table`."""
        return cls(keys=tuple(table), **{k: _frozen(v) for k, v in table.items()})


class _Named:
    """A table with a ``name`` and an optional Chinese ``name_zh`` for pages."""

    name: str
    name_zh: str | None

    def label(self, lang: str) -> str:
        """The name pages show in ``lang``: ``name`` in English; in Chinese ``name_zh``,
        or without one a description in Chinese (:meth:`default_label`), never the
        table's identifier."""
        if lang != "zh":
            return self.name
        return self.name_zh or self.default_label(lang)

    def default_label(self, lang: str) -> str:  # pragma: no cover - overridden
        return self.name


@dataclass(frozen=True, kw_only=True)
class CoverageSpec(_Spec, _Named):
    """A ``[[coverage]]`` question (keys: :data:`COVERAGE_KEYS`)."""

    name: str
    modes: tuple[str, ...]
    minutes: tuple[float, ...]
    name_zh: str | None = None
    types: tuple[str, ...] | None = None
    level: str = "admin_code"
    gaps: bool = True

    def default_label(self, lang: str) -> str:
        """E.g. "步行、电动自行车 15分钟覆盖"."""
        modes = labels.text("report.list_sep", lang).join(labels.mode(m, lang)
                                                           for m in self.modes)
        mins = "/".join(f"{t:g}" for t in self.minutes)
        return labels.text("report.coverage_question", lang, modes=modes, mins=mins)


@dataclass(frozen=True, kw_only=True)
class ModelSpec(_Spec, _Named):
    """Keys every ``[[model]]`` kind takes (solver options and site rules)."""

    name: str
    kind: str
    name_zh: str | None = None
    description: str | None = None
    solver: str | None = None
    time_limit: float | None = None
    gap: float | None = None
    level: str = "admin_code"
    verbose: bool | None = None
    force_open: tuple[str, ...] | None = None
    force_closed: tuple[str, ...] | None = None
    max_new_per_unit: int | Mapping[str, int] | None = None

    def default_label(self, lang: str) -> str:
        """The model kind in ``lang`` (e.g. "达到覆盖目标的最少站点")."""
        return labels.kind(self.kind, lang)

    def updated(self, **changes: Any) -> ModelSpec:
        """A copy with ``changes`` applied and checked again (as :func:`check_model`).

        Raises
        ------
        GeoplanInputError
            For a change the model kind does not accept.
        """
        return check_model({**self.to_dict(), **{k: _plain(v) for k, v in changes.items()}})


@dataclass(frozen=True, kw_only=True)
class SiteModelSpec(ModelSpec):
    """A model that chooses sites within a travel-time standard."""

    mode: str
    minutes: float
    existing_types: tuple[str, ...] | None = None
    candidate_types: tuple[str, ...] | None = None
    upgrade_types: tuple[str, ...] | None = None
    demand_levels: tuple[str, ...] | None = None
    demand: str | Mapping[str, float] | None = None


@dataclass(frozen=True, kw_only=True)
class CapacitySiteSpec(SiteModelSpec):
    """A site model that can assign people within each site's capacity
    (:mod:`geoplan.optimize.capacity`): ``capacity = true``."""

    capacity: bool | None = None
    persons_per_bed: float | None = None
    new_site_capacity: float | None = None
    single_source: bool | None = None


@dataclass(frozen=True, kw_only=True)
class ZonedSiteSpec(CapacitySiteSpec):
    """A site model that can be balanced over zones (:mod:`geoplan.optimize.balanced`,
    :mod:`geoplan.optimize.balanced_median`): ``zones`` with zone rules (covering models
    also ``zone_min_share`` or ``fairness = "max_min"``)."""

    zones: str | None = None
    zone_centre: tuple[float, ...] | None = None
    zone_radius_km: float | None = None
    zone_sectors: int | None = None
    zone_min_sites: int | Mapping[str, int] | None = None
    zone_max_sites: int | Mapping[str, int] | None = None

    @property
    def balanced(self) -> bool:
        """Whether the model is a balanced plan (zone rules or fairness)."""
        return any(getattr(self, k, None) is not None for k in _ZONE_RULES)


@dataclass(frozen=True, kw_only=True)
class SetCoveringSpec(ZonedSiteSpec):
    """``kind = "set_covering"``: fewest (cheapest) sites for a covered share."""

    target_share: float = 1.0
    unit_min_share: float | None = None
    zone_min_share: float | None = None


@dataclass(frozen=True, kw_only=True)
class MaxCoveringSpec(ZonedSiteSpec):
    """``kind = "max_covering"``: most people covered by p sites or a budget."""

    fairness: str | None = None
    zone_min_share: float | None = None
    p: int | None = None
    budget: float | None = None


@dataclass(frozen=True, kw_only=True)
class TradeoffSpec(SiteModelSpec):
    """``kind = "tradeoff"``: coverage bought by 0..p_max new sites."""

    p_max: int


@dataclass(frozen=True, kw_only=True)
class PMedianSpec(ZonedSiteSpec):
    """``kind = "p_median"``: p sites minimising population-weighted travel time."""

    p: int


@dataclass(frozen=True, kw_only=True)
class PCenterSpec(SiteModelSpec):
    """``kind = "p_center"``: the worst trip made as short as possible, or standards met."""

    p: int | None = None
    urban_minutes: float | None = None
    rural_minutes: float | None = None
    urban_levels: tuple[str, ...] = ("subdistrict",)
    target_share: float = 1.0


@dataclass(frozen=True, kw_only=True)
class FunctionCentresSpec(SiteModelSpec):
    """``kind = "function_centres"``: centres of several kinds placed at host institutions."""

    centre_types: tuple[str, ...]
    host_types: tuple[str, ...]
    total: int | None = None
    per_type: int | None = None
    max_types_per_host: int = 1
    min_share: float | None = None


@dataclass(frozen=True, kw_only=True)
class BedsToRatioSpec(ModelSpec):
    """``kind = "beds_to_ratio"``: least-cost beds so every unit reaches the ratio."""

    ratio: float = 7.0
    hospital_types: tuple[str, ...] | None = None
    cost_per_bed: float = 1.0
    max_add_share: float | None = None
    max_add: int | None = None
    new_site_types: tuple[str, ...] | None = None
    new_site_fixed_cost: float = 0.0      # (required with new_site_types, checked at load)
    new_site_min_beds: int = 0
    new_site_max_beds: int = 0


@dataclass(frozen=True, kw_only=True)
class TierSpec(_Spec, _Named):
    """One ``[[model.tiers]]`` table of a tiered plan (keys: :data:`TIER_KEYS`)."""

    name: str
    mode: str
    minutes: float | None = None
    name_zh: str | None = None
    count: int | None = None
    count_min: int | None = None
    count_max: int | None = None
    urban_minutes: float | None = None
    rural_minutes: float | None = None
    existing_types: tuple[str, ...] | None = None
    upgrade_types: tuple[str, ...] | None = None
    candidate_types: tuple[str, ...] | None = None
    upgrade_cost: float | None = None
    new_site_cost: float | None = None
    referral_minutes: float | None = None
    weight: float = 1.0
    min_share: float | None = None

    @property
    def counts(self) -> int | tuple[int, int]:
        """Facilities at this tier: exactly ``count``, or ``(count_min, count_max)``."""
        if self.count is not None:
            return self.count
        return (self.count_min or 0, self.count_max if self.count_max is not None
                else 10**9)

    @property
    def longest_minutes(self) -> float:
        """The longest standard of the tier (its rural one where that is longer)."""
        return max(float(v) for v in (self.minutes, self.urban_minutes, self.rural_minutes)
                   if v is not None)


@dataclass(frozen=True, kw_only=True)
class TieredSpec(ModelSpec):
    """``kind = "tiered"``: facilities of several tiers with referral between them
    (:mod:`geoplan.optimize.tiered`); ``tiers`` top first."""

    tiers: tuple[TierSpec, ...]
    objective: str = "coverage"
    budget: float | None = None
    referral_mode: str = "drive"
    urban_levels: tuple[str, ...] = ("subdistrict",)
    demand_levels: tuple[str, ...] | None = None
    demand: str | Mapping[str, float] | None = None


#: The spec class of every model kind (its fields are the keys of :data:`MODEL_KEYS`).
MODEL_SPECS: dict[str, type[ModelSpec]] = {
    "set_covering": SetCoveringSpec, "max_covering": MaxCoveringSpec,
    "tradeoff": TradeoffSpec, "p_median": PMedianSpec, "p_center": PCenterSpec,
    "beds_to_ratio": BedsToRatioSpec, "function_centres": FunctionCentresSpec,
    "tiered": TieredSpec,
}


@dataclass
class Scenario:
    """A validated scenario file.

    Attributes
    ----------
    path
        The scenario file.
    name, name_zh, description, description_zh
        Labels (pages show the ``_zh`` ones in a Chinese scenario).
    region
        Region folder or manifest (absolute).
    output
        Output folder (absolute).
    language
        ``"zh"`` or ``"en"``.
    maps, report
        Whether to render maps and the report.
    pdf
        Whether to print the report to ``report/report.pdf`` as well (A4, with headless
        Chromium: :func:`geoplan.maps.export.html_to_pdf`).
    basemap
        The maps' background: ``"osm"``/``"gaode"`` tiles (switching to the region's
        own roads when the tiles cannot be loaded), ``"roads"`` (always the region's
        own roads, offline) or ``"none"``.
    inputs
        Layer overrides (absolute paths) and their options.
    travel
        Travel settings (``max_snap_m``, ``profiles``: the path of a profiles file).
    profiles
        The travel profiles of ``[travel] profiles`` (defaults merged with the file,
        :func:`geoplan.travel.profiles.load_profiles`), read at load; None for the
        defaults. Every travel time of the run uses them (:meth:`profile`).
    coverage
        Coverage questions, checked (:class:`CoverageSpec`).
    models
        Models, checked, one spec class per kind (:data:`MODEL_SPECS`).
    raw
        The parsed TOML as written.
    """

    path: Path
    name: str
    region: Path
    output: Path
    language: str = "en"
    name_zh: str | None = None
    description: str | None = None
    description_zh: str | None = None
    maps: bool = True
    report: bool = True
    pdf: bool = False
    basemap: str = "osm"
    inputs: dict[str, Any] = field(default_factory=dict)
    travel: dict[str, Any] = field(default_factory=dict)
    profiles: Mapping[str, Any] | None = None
    coverage: list[CoverageSpec] = field(default_factory=list)
    models: list[ModelSpec] = field(default_factory=list)
    raw: dict[str, Any] = field(default_factory=dict)

    def label(self) -> str:
        """Name in the scenario's language."""
        return (self.name_zh or self.name) if self.language == "zh" else self.name

    def profile(self, mode: str) -> Any:
        """The travel profile of ``mode`` for this scenario: the scenario's own
        (``[travel] profiles``) or the mode name (geoplan's defaults)."""
        return self.profiles[mode] if self.profiles is not None else mode

    def describe(self) -> str:
        """Description in the scenario's language ("" when none is given)."""
        zh = self.description_zh if self.language == "zh" else None
        return zh or self.description or ""


# --------------------------------------------------------------------------- locating keys


def _line_of(text: str, table: str | None, index: int | None, key: str | None) -> int | None:
    """Line number (1-based) of ``key`` in ``[table]`` / the ``index``-th ``[[table]]``."""
    lines = text.splitlines()
    current: str | None = None
    counts: dict[str, int] = {}
    header_line: int | None = None
    for no, raw in enumerate(lines, start=1):
        line = raw.strip()
        m = re.match(r"^\[\[\s*([^\]]+?)\s*\]\]", line) or re.match(r"^\[\s*([^\]]+?)\s*\]", line)
        if m:
            current = m.group(1)
            if line.startswith("[["):
                counts[current] = counts.get(current, -1) + 1
            if current == table and (index is None or counts.get(current) == index):
                header_line = no
                if key is None:
                    return no
            continue
        in_place = (current == table if table else current is None) and (
            index is None or counts.get(current or "", -1) == index)
        if in_place and key is not None and re.match(
                rf"^(\"?){re.escape(key)}\1\s*=", line):
            return no
    return header_line


def _where(text: str, table: str | None, index: int | None, key: str | None) -> str:
    line = _line_of(text, table, index, key)
    place = key or ""
    if table:
        sect = f"[[{table}]] #{index + 1}" if index is not None else f"[{table}]"
        place = f"{sect} {key}" if key else sect
    return f"line {line} ({place})" if line else place


# --------------------------------------------------------------------------- checking values


def _type_ok(spec: _Key, v: Any) -> bool:
    num = (int, float)
    if spec.kind in ("str", "path"):
        return isinstance(v, str) and v.strip() != ""
    if spec.kind == "bool":
        return isinstance(v, bool)
    if spec.kind == "int":
        return isinstance(v, int) and not isinstance(v, bool)
    if spec.kind == "number":
        return isinstance(v, num) and not isinstance(v, bool) and math.isfinite(v)
    if spec.kind == "str_list":
        return isinstance(v, list) and all(isinstance(x, str) for x in v)
    if spec.kind == "number_list":
        if isinstance(v, num) and not isinstance(v, bool):
            return True
        return (isinstance(v, list) and len(v) > 0 and all(
            isinstance(x, num) and not isinstance(x, bool) for x in v))
    if spec.kind == "id_list":
        return isinstance(v, list) and all(
            (isinstance(x, str) and x.strip() != "") or (isinstance(x, int)
                                                         and not isinstance(x, bool))
            for x in v)
    if spec.kind == "cap":
        def whole(x: Any) -> bool:
            return isinstance(x, int) and not isinstance(x, bool)
        return whole(v) or (isinstance(v, dict) and len(v) > 0
                            and all(whole(x) for x in v.values()))
    if spec.kind == "demand":
        num = (int, float)
        return (isinstance(v, str) and v.strip() != "") or (
            isinstance(v, dict) and len(v) > 0
            and all(isinstance(x, num) and not isinstance(x, bool) for x in v.values()))
    if spec.kind == "table":
        return isinstance(v, dict)
    if spec.kind == "table_list":
        return isinstance(v, list) and all(isinstance(x, dict) for x in v)
    return True


_TYPE_WORDS = {"str": "a text in quotes", "path": "a file or folder path in quotes",
               "bool": "true or false", "int": "a whole number", "number": "a number",
               "str_list": 'a list of texts, e.g. ["a", "b"]',
               "number_list": "a number or a list of numbers, e.g. [15, 30]",
               "id_list": 'a list of site ids, e.g. ["S0012", "S0040"]',
               "cap": 'a whole number, or a table of unit code = whole number, e.g. '
                      '{ "320402" = 1 }',
               "table": "a [table]", "table_list": "a list of [[tables]]",
               "demand": 'a layer name in quotes, or a table of layer = weight, e.g. '
                         '{ total = 1, age65 = 1 }'}


#: A correct value of each kind, for hints.
_EXAMPLES = {"str": '"text"', "path": '"data/file.csv"', "bool": "true", "int": "10",
             "number": "15", "str_list": '["a", "b"]', "number_list": "[15, 30]",
             "id_list": '["S0012"]', "cap": "2", "demand": '"age65"'}


def _value_example(key: str, spec: _Key) -> str:
    if spec.check is _share:
        return "0.95"
    if spec.default is not None:
        return repr(spec.default) if not isinstance(spec.default, str) else \
            f'"{spec.default}"'
    return _EXAMPLES.get(spec.kind, "…")


def _normalise(spec: _Key, v: Any) -> Any:
    """One number as a one-item list; ids as text."""
    if spec.kind == "number_list" and not isinstance(v, list):
        return [v]
    if spec.kind == "id_list":
        return [str(x) for x in v]
    return v


def _check_table(data: dict[str, Any], keys: dict[str, _Key], *, path: Path, text: str,
                 table: str | None, index: int | None,
                 where: Callable[[str | None], str] | None = None) -> dict[str, Any]:
    def here(key: str | None) -> str:
        return where(key) if where is not None else _where(text, table, index, key)
    out: dict[str, Any] = {}
    for k, v in data.items():
        if k not in keys:
            close = [c for c in keys if c.startswith(k[:3])] or sorted(keys)
            raise GeoplanInputError(
                f"unknown key '{k}'", path=path, row=here(k), field=k,
                hint=_MOVED.get(k) or (f"allowed here: {', '.join(sorted(keys))}"
                                       if len(close) > 3
                                       else f"did you mean {' or '.join(close)}?"))
        spec = keys[k]
        if not _type_ok(spec, v):
            what = _TYPE_WORDS[spec.kind]
            if isinstance(v, float) and not math.isfinite(v):
                what = "a finite number (inf and nan mean nothing here)"
            raise GeoplanInputError(
                f"'{k}' must be {what}, got {v!r}", path=path,
                row=here(k), field=k,
                hint=f"write {k} = {_EXAMPLES.get(spec.kind, '…')}")
        v = _normalise(spec, v)  # noqa: PLW2901 - the checked value replaces the raw one
        if spec.choices is not None and v not in spec.choices:
            raise GeoplanInputError(
                f"'{k}' = {v!r} is not one of {list(spec.choices)}", path=path,
                row=here(k), field=k,
                hint=f"write {k} = \"{spec.choices[0]}\" (or one of the others listed)")
        if spec.check is not None and spec.kind not in ("table", "table_list"):
            problem = spec.check(v)
            if problem:
                raise GeoplanInputError(f"'{k}' = {v!r} {problem}", path=path,
                                        row=here(k), field=k,
                                        hint=f"change {k} to a value that fits, e.g. "
                                             f"{k} = {_value_example(k, spec)}")
        out[k] = v
    for k, spec in keys.items():
        if k not in out:
            if spec.required:
                raise GeoplanInputError(
                    f"missing required key '{k}'", path=path,
                    row=here(None) or "top level", field=k,
                    hint=f"add  {k} = …")
            if spec.default is not None:
                out[k] = spec.default
    return out


def _resolve(base: Path, value: str, *, path: Path, text: str, table: str | None,
             index: int | None, key: str) -> Path:
    p = Path(value)
    p = p if p.is_absolute() else (base / p)
    if not p.exists():
        raise GeoplanInputError(f"'{key}' points to {p}, which does not exist", path=path,
                                row=_where(text, table, index, key), field=key,
                                hint="paths are relative to the scenario file")
    return p.resolve()


def _check_model(m: dict[str, Any], i: int, *, path: Path, text: str) -> ModelSpec:
    kind = m.get("kind")
    if kind is not None and not isinstance(kind, str):
        raise GeoplanInputError(
            f"'kind' must be one model kind (text), got {type(kind).__name__} {kind!r}",
            path=path, row=_where(text, "model", i, "kind"), field="kind",
            hint=f"e.g. kind = \"p_median\"; one of {', '.join(MODEL_KINDS)}")
    if kind not in MODEL_KEYS:
        raise GeoplanInputError(
            f"unknown model kind {kind!r}" if kind else "missing required key 'kind'",
            path=path, row=_where(text, "model", i, "kind" if kind else None), field="kind",
            hint=f"use one of {', '.join(MODEL_KINDS)}")
    out = _check_table(m, MODEL_KEYS[kind], path=path, text=text, table="model", index=i)
    if kind == "p_center" and "p" not in out and not (
            "urban_minutes" in out and "rural_minutes" in out):
        raise GeoplanInputError(
            "a p_center model needs 'p', or 'urban_minutes' and 'rural_minutes' (fewest "
            "sites so that every cell meets its own standard)", path=path,
            row=_where(text, "model", i, None), field="p",
            hint="add p = 10, or both urban_minutes = 12 and rural_minutes = 20")
    if kind == "p_center" and "p" in m and "target_share" in m:
        raise GeoplanInputError(
            "'target_share' applies to a p_center model without 'p' (fewest sites so that "
            "that share meets its standard); with 'p' every cell is served", path=path,
            row=_where(text, "model", i, "target_share"), field="target_share",
            hint="remove target_share, or remove p to ask for the fewest sites")
    if kind == "max_covering" and "p" not in out and "budget" not in out:
        raise GeoplanInputError("a max_covering model needs 'p' or 'budget'", path=path,
                                row=_where(text, "model", i, None), field="p",
                                hint="add p = 10 (new sites) or budget = 500 (total cost)")
    if kind == "function_centres" and "total" not in out and "per_type" not in out:
        raise GeoplanInputError("a function_centres model needs 'total' or 'per_type'",
                                path=path, row=_where(text, "model", i, None), field="total",
                                hint="add total = 9 (new centres in all) or per_type = 3")
    if not out.get("capacity"):
        stray = [k for k in _CAPACITY_ONLY if k in out]
        if stray:
            raise GeoplanInputError(
                f"'{stray[0]}' applies to a capacitated model; this model has no "
                "'capacity = true'", path=path, row=_where(text, "model", i, stray[0]),
                field=stray[0], hint="add capacity = true, or remove the key")
    elif "unit_min_share" in out:
        raise GeoplanInputError(
            "'unit_min_share' is not available with 'capacity = true' (the capacitated "
            "set covering takes one overall target_share)", path=path,
            row=_where(text, "model", i, "unit_min_share"), field="unit_min_share",
            hint="remove unit_min_share, or capacity = true")
    _check_zones(out, i, path=path, text=text)
    if kind == "tiered":
        out["tiers"] = _check_tiers(out, i, path=path, text=text)
    both = sorted(set(out.get("force_open", [])) & set(out.get("force_closed", [])))
    if both:
        raise GeoplanInputError(f"site(s) {', '.join(both[:5])} are both in force_open and "
                                "force_closed", path=path,
                                row=_where(text, "model", i, "force_closed"),
                                field="force_closed", hint="list each site in one of them")
    if kind == "beds_to_ratio" and "new_site_types" in out and (
            "new_site_fixed_cost" not in out):
        raise GeoplanInputError("new hospital sites need 'new_site_fixed_cost'", path=path,
                                row=_where(text, "model", i, "new_site_types"),
                                field="new_site_fixed_cost",
                                hint="add new_site_fixed_cost = 8000 (cost of opening one)")
    lo, hi = out.get("new_site_min_beds"), out.get("new_site_max_beds")
    if lo is not None and hi is not None and lo > hi:
        raise GeoplanInputError(
            f"'new_site_min_beds' = {lo} is more than 'new_site_max_beds' = {hi}", path=path,
            row=_where(text, "model", i, "new_site_min_beds"), field="new_site_min_beds",
            hint="the smallest new hospital cannot be larger than the largest: swap them")
    return MODEL_SPECS[kind].from_checked(out)


def _tier_where(text: str, i: int, t: int) -> Callable[[str | None], str]:
    """Where key of tier ``t`` of model ``i`` is: its line, and "[[model]] #i tier t key"."""
    def where(key: str | None) -> str:
        line = None
        models = tiers = -1
        for no, raw in enumerate(text.splitlines(), start=1):
            head = re.match(r"^\s*\[\[\s*([^\]]+?)\s*\]\]", raw)
            if head and head.group(1) == "model":
                models, tiers = models + 1, -1
            elif head and head.group(1) == "model.tiers" and models == i:
                tiers += 1
                if tiers == t and line is None:
                    line = no
            elif re.match(r"^\s*\[", raw) and models == i and tiers == t:
                tiers = 10**9                       # another table: the tier has ended
            elif (key is not None and models == i and tiers == t
                  and re.match(rf"^\s*(\"?){re.escape(key)}\1\s*=", raw)):
                line = no
        place = f"[[model]] #{i + 1} [[model.tiers]] #{t + 1}" + (f" {key}" if key else "")
        return f"line {line} ({place})" if line else place
    return where


def _check_tiers(out: dict[str, Any], i: int, *, path: Path, text: str) -> list[TierSpec]:
    """The tiers of a tiered plan, each checked (keys, counts, standards, referral)."""
    raw = out["tiers"]
    if not raw:
        raise GeoplanInputError("a tiered model needs at least one [[model.tiers]] table",
                                path=path, row=_where(text, "model", i, "tiers"),
                                field="tiers", hint="add [[model.tiers]] with name, count, "
                                "mode, minutes and the types that may take it")
    tiers: list[TierSpec] = []
    seen_types: dict[str, str] = {}
    for t, table in enumerate(raw):
        where = _tier_where(text, i, t)

        def err(msg: str, key: str | None, hint: str, _w: Any = where) -> GeoplanInputError:
            return GeoplanInputError(msg, path=path, row=_w(key), field=key or "tiers",
                                     hint=hint)
        c = _check_table(table, TIER_KEYS, path=path, text=text, table="model.tiers",
                         index=t, where=where)
        name = c["name"]
        counts = [k for k in ("count", "count_min", "count_max") if k in c]
        if not counts:
            raise err(f"tier '{name}' needs count (exactly) or count_min / count_max", None,
                      "add count = 5")
        if "count" in c and len(counts) > 1:
            raise err(f"tier '{name}': count and {counts[1]} together", counts[1],
                      "give count, or count_min and count_max")
        if c.get("count_min", 0) > c.get("count_max", 10**9):
            raise err(f"tier '{name}': count_min is more than count_max", "count_min",
                      "swap them")
        if ("urban_minutes" in c) != ("rural_minutes" in c):
            key = "urban_minutes" if "urban_minutes" in c else "rural_minutes"
            raise err(f"tier '{name}': urban_minutes and rural_minutes go together", key,
                      "give both (e.g. urban_minutes = 15, rural_minutes = 30), or neither")
        if ("minutes" in c) == ("urban_minutes" in c):
            raise err(f"tier '{name}' needs one standard: minutes, or urban_minutes and "
                      "rural_minutes" + (" (not both)" if "minutes" in c else ""),
                      "minutes" if "minutes" in c else None,
                      "e.g. minutes = 15, or urban_minutes = 15 and rural_minutes = 25")
        if t == 0 and "referral_minutes" in c:
            raise err(f"the top tier '{name}' refers to no one: referral_minutes applies to "
                      "the tiers below it", "referral_minutes", "remove it from the top tier")
        if not any(c.get(k) for k in ("existing_types", "upgrade_types", "candidate_types")):
            raise err(f"tier '{name}' has no sites: give existing_types, upgrade_types or "
                      "candidate_types", None, 'e.g. upgrade_types = ["township_health_centre"]')
        for typ in c.get("existing_types", []):
            if typ in seen_types:
                raise err(f"facility type '{typ}' is at two tiers today ('{seen_types[typ]}' "
                          f"and '{name}')", "existing_types",
                          "list each type in the existing_types of one tier")
            seen_types[typ] = name
        if any(x.name == name for x in tiers):
            raise err(f"two tiers are named '{name}'", "name", "give each tier its own name")
        tiers.append(TierSpec.from_checked(c))
    if "urban_levels" in out and not any(x.urban_minutes is not None for x in tiers):
        raise GeoplanInputError(
            "urban_levels says which units are urban for tiers with urban_minutes and "
            "rural_minutes; no tier has them", path=path,
            row=_where(text, "model", i, "urban_levels"), field="urban_levels",
            hint="give a tier urban_minutes and rural_minutes, or remove urban_levels")
    if out.get("objective") == "cost":
        if not any(x.min_share is not None for x in tiers):
            raise GeoplanInputError(
                "objective = \"cost\" reaches coverage targets: give min_share to a tier",
                path=path, row=_where(text, "model", i, "objective"), field="min_share",
                hint="e.g. min_share = 0.9 in the lowest tier")
        if "budget" in out:
            raise GeoplanInputError("a budget applies to objective = \"coverage\"",
                                    path=path, row=_where(text, "model", i, "budget"),
                                    field="budget", hint="remove budget, or the cost objective")
    return tiers


def _check_zones(out: dict[str, Any], i: int, *, path: Path, text: str) -> None:
    """Zone keys: each applied, or refused here naming its line."""
    def err(msg: str, key: str, hint: str) -> GeoplanInputError:
        return GeoplanInputError(msg, path=path, row=_where(text, "model", i, key), field=key,
                                 hint=hint)
    zones = out.get("zones")
    rules = [k for k in _ZONE_RULES if k in out]
    geometry = [k for k in ("zone_centre", "zone_radius_km", "zone_sectors") if k in out]
    if zones is None:
        if geometry:
            raise err(f"'{geometry[0]}' shapes sector zones; this model has no "
                      "zones = \"sectors\"", geometry[0], 'add zones = "sectors"')
        bad = [k for k in rules if k != "fairness"]
        if bad:
            raise err(f"'{bad[0]}' needs zones", bad[0],
                      'add zones = "sectors" (with zone_centre), "units", or a polygon file')
        if "fairness" in out:
            out["zones"] = "units"         # fairness between the model's admin units
        return
    if not rules:
        raise err("zones are given but no zone rule uses them", "zones",
                  "add zone_min_sites, zone_max_sites, zone_min_share or "
                  'fairness = "max_min", or remove zones')
    if out.get("capacity"):
        raise err("zones and capacity = true cannot be combined yet", "zones",
                  "remove one of them")
    if zones == "sectors":
        c = out.get("zone_centre")
        if c is None or len(c) != 2:
            raise err("sector zones need zone_centre = [lon, lat] (WGS-84)",
                      "zone_centre" if c is not None else "zones",
                      "e.g. zone_centre = [114.305, 30.062]")
        if not (-180 <= c[0] <= 180 and -90 <= c[1] <= 90):
            raise err(f"zone_centre {list(c)} is not [lon, lat] in degrees", "zone_centre",
                      "give [lon, lat] in WGS-84")
        return
    if geometry:
        raise err(f"'{geometry[0]}' applies to zones = \"sectors\"", geometry[0],
                  "remove it, or use sector zones")
    if zones == "units":
        bad = [k for k in ("zone_min_sites", "zone_max_sites") if k in out]
        if bad:
            raise err(f"'{bad[0]}' counts sites per zone; admin units as zones take "
                      "zone_min_share or fairness", bad[0],
                      'use zones = "sectors" or a polygon file for site counts')
        return
    if path.name != "(command line)":
        out["zones"] = str(_resolve(path.parent.resolve(), zones, path=path, text=text,
                                    table="model", index=i, key="zones"))


def check_model(m: dict[str, Any]) -> ModelSpec:
    """Validate one model table given as a dict (e.g. from the command line).

    Raises
    ------
    GeoplanInputError
        Naming the key at fault.
    """
    return _check_model(dict(m), 0, path=Path("(command line)"), text="")


def read_scenario(path: str | Path, *, output: str | Path | None = None) -> Scenario:
    """Read and validate a scenario file.

    Parameters
    ----------
    path
        The ``.toml`` scenario file.
    output
        Override the output folder.

    Returns
    -------
    Scenario

    Raises
    ------
    GeoplanInputError
        Naming the file, the line and the key: syntax errors, unknown keys, wrong types,
        values out of range, missing files, duplicate names, unknown model kinds.
    """
    p = Path(path)
    if not p.is_file():
        raise GeoplanInputError("scenario file not found", path=p,
                                hint="give the path of a .toml scenario file")
    try:
        text = p.read_text(encoding="utf-8-sig")
    except UnicodeDecodeError:
        raise GeoplanInputError("scenario file is not UTF-8 text", path=p,
                                hint="save it as UTF-8") from None
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise GeoplanInputError(f"not valid TOML: {exc}", path=p,
                                hint="check quotes, brackets and '=' on that line") from None
    top = _check_table(data, TOP_KEYS, path=p, text=text, table=None, index=None)
    base = p.parent.resolve()
    region = _resolve(base, top["region"], path=p, text=text, table=None, index=None,
                      key="region")
    inputs = _check_table(top.get("inputs", {}), INPUT_KEYS, path=p, text=text,
                          table="inputs", index=None)
    for k, spec in INPUT_KEYS.items():
        if k in inputs and spec.kind == "path":
            inputs[k] = _resolve(base, inputs[k], path=p, text=text, table="inputs",
                                 index=None, key=k)
    travel = _check_table(top.get("travel", {}), TRAVEL_KEYS, path=p, text=text,
                          table="travel", index=None)
    profiles = None
    if "profiles" in travel:
        travel["profiles"] = _resolve(base, travel["profiles"], path=p, text=text,
                                      table="travel", index=None, key="profiles")
        from geoplan.travel.profiles import load_profiles
        profiles = load_profiles(travel["profiles"])   # a bad file fails here, at load
    coverage = [CoverageSpec.from_checked(
        _check_table(c, COVERAGE_KEYS, path=p, text=text, table="coverage", index=i))
        for i, c in enumerate(top.get("coverage", []))]
    models = [_check_model(m, i, path=p, text=text) for i, m in enumerate(top.get("model", []))]
    for what, items, table in (("coverage", coverage, "coverage"), ("model", models, "model")):
        seen: set[str] = set()
        for i, item in enumerate(items):
            if item.name in seen:
                raise GeoplanInputError(f"two {what} entries are named '{item.name}'",
                                        path=p, row=_where(text, table, i, "name"),
                                        field="name", hint="give each a distinct name")
            seen.add(item.name)
    if not coverage and not models:
        raise GeoplanInputError("the scenario asks nothing: add a [[coverage]] or [[model]]",
                                path=p)
    if top["pdf"]:
        if not top["report"]:
            raise GeoplanInputError("pdf = true prints the report, but report = false",
                                    path=p, row=_where(text, None, None, "pdf"), field="pdf",
                                    hint="set report = true, or leave pdf out")
        from geoplan.maps.export import find_chromium
        try:
            find_chromium()              # a missing browser is said at load, not at the end
        except GeoplanInputError as exc:
            raise GeoplanInputError(exc.reason, path=p,
                                    row=_where(text, None, None, "pdf"), field="pdf",
                                    hint="install Chromium (apt-get install chromium) or set "
                                         "GEOPLAN_CHROMIUM, or leave pdf out") from None
    out = Path(output) if output is not None else (
        Path(top["output"]) if "output" in top else Path("outputs") / p.stem)
    if "output" in top and output is None and not out.is_absolute():
        out = base / out
    sc = Scenario(path=p.resolve(), name=top["name"], name_zh=top.get("name_zh"),
                  description=top.get("description"),
                  description_zh=top.get("description_zh"), region=region,
                  output=out.resolve(), language=top["language"], maps=top["maps"],
                  report=top["report"], pdf=top["pdf"], basemap=top["basemap"],
                  inputs=inputs, travel=travel,
                  profiles=profiles,
                  coverage=coverage, models=models, raw=data)
    # every name the scenario uses in its region (types, levels, candidate sets, ids)
    from geoplan.scenario.resolve import resolve_against_region
    def where_of(table: str, i: Any, key: str) -> str:
        if table == "model.tiers":                  # i = (model, tier)
            return _tier_where(text, *i)(key)
        return _where(text, table, i, key)
    return resolve_against_region(sc, where_of)
