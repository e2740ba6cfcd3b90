"""Travel profiles (walk, e-bike, drive) as data: speeds per OSM highway class.

A profile says, for one mode of travel, which OSM ``highway`` classes may be used, how
fast, whether one-way streets bind, how the OSM ``maxspeed`` tag is used, how much
typical traffic slows each class down, and which edges a point may be snapped to. The
defaults live in ``profiles.toml`` beside this module, where every value is documented;
they are starting points for Chinese cities and counties, not measurements, so every
field can be overridden with :func:`load_profiles` or :func:`get_profile`.

The speed of one edge (:func:`edge_speed_kmh`) is::

    class_speed = min over the edge's classes of speeds_kmh.get(class, default_speed_kmh)
    if use_maxspeed and the edge has a parseable maxspeed:
        speed = min(maxspeed * maxspeed_factor, class_speed * maxspeed_cap)
    else:
        speed = class_speed
    if use_congestion:
        speed *= min over the edge's classes of congestion.get(class, 1.0)

A class with speed 0 (or listed in ``excluded_highways``) makes the edge unusable.
"""

from __future__ import annotations

import hashlib
import json
import math
import re
import tomllib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, fields
from importlib import resources
from os import PathLike
from pathlib import Path
from types import MappingProxyType
from typing import Any

from geoplan._errors import GeoplanInputError

__all__ = [
    "Profile",
    "default_profiles",
    "edge_speed_kmh",
    "get_profile",
    "load_profiles",
    "parse_maxspeed",
]

_MPH_TO_KMH = 1.609344
_KNOT_TO_KMH = 1.852
_SPEED_RE = re.compile(
    r"^\s*([0-9]+(?:[.,][0-9]+)?)\s*(km/h|kmh|kph|km/hr|mph|knots|kn)?\s*$", re.IGNORECASE
)


@dataclass(frozen=True)
class Profile:
    """One mode of travel; see ``profiles.toml`` for the meaning of every field.

    Attributes
    ----------
    name
        Mode name (``"walk"``, ``"ebike"``, ``"drive"`` or a user-defined one).
    description
        Free text for reports.
    speeds_kmh
        Speed in km/h per OSM ``highway`` class.
    default_speed_kmh
        Speed on classes not in ``speeds_kmh``; 0 means such classes are unusable.
    excluded_highways
        Classes the mode may not use.
    respect_oneway
        Whether one-way streets bind (else every edge is usable both ways).
    use_maxspeed
        Whether the OSM ``maxspeed`` tag is used.
    maxspeed_factor
        Multiplier turning a posted limit into a travel speed.
    maxspeed_cap
        A tagged speed never exceeds the class speed times this.
    congestion
        Multiplier per class for typical traffic (missing classes: 1.0).
    use_congestion
        Whether the congestion multipliers are applied (False: free-flow speeds).
    no_snap_highways
        Classes points may not be snapped to (no roadside access).
    no_snap_tags
        Edge attributes (``bridge``, ``tunnel``) that stop points from snapping to an edge.
    access_tags
        OSM access keys for this mode, general to specific (e.g. ``access``, ``vehicle``,
        ``motor_vehicle``); on each edge the most specific key present decides.
    no_access
        Values of that key that bar the mode (``no``, ``private``): the edge is dropped.
    """

    name: str
    description: str
    speeds_kmh: Mapping[str, float]
    default_speed_kmh: float
    excluded_highways: frozenset[str]
    respect_oneway: bool
    use_maxspeed: bool
    maxspeed_factor: float
    maxspeed_cap: float
    congestion: Mapping[str, float]
    use_congestion: bool
    no_snap_highways: frozenset[str]
    no_snap_tags: tuple[str, ...]
    access_tags: tuple[str, ...] = ("access",)
    no_access: frozenset[str] = frozenset({"no", "private"})

    def barred(self, tags: Mapping[str, Any]) -> bool:
        """Whether an edge's access tags bar this mode.

        The most specific of :attr:`access_tags` present on the edge decides (OSM's access
        hierarchy: ``access=no`` + ``foot=yes`` is walkable); a value listing several
        (``"no;private"``, or a list from merged ways) bars if any part does.

        Parameters
        ----------
        tags
            The edge's attributes.

        Returns
        -------
        bool
            True when the mode may not use the edge.
        """
        for key in reversed(self.access_tags):
            value = tags.get(key)
            if value is None or (isinstance(value, float) and math.isnan(value)):
                continue
            parts = value if isinstance(value, (list, tuple)) else [value]
            words = {w.strip().lower() for part in parts for w in str(part).split(";")}
            return bool(words & self.no_access)
        return False

    def to_dict(self) -> dict[str, Any]:
        """Return the profile as plain TOML-like data (lists and dicts).

        Returns
        -------
        dict
            Field name to value; sets become sorted lists, mappings become dicts.
        """
        out: dict[str, Any] = {}
        for f in fields(self):
            value = getattr(self, f.name)
            if isinstance(value, Mapping):
                value = dict(sorted(value.items()))
            elif isinstance(value, frozenset):
                value = sorted(value)
            elif isinstance(value, tuple):
                value = list(value)
            out[f.name] = value
        return out

    @property
    def fingerprint(self) -> str:
        """A short stable hash of every field, used as a cache key."""
        text = json.dumps(self.to_dict(), sort_keys=True, ensure_ascii=True)
        return hashlib.sha1(text.encode("utf-8")).hexdigest()[:16]

    def __hash__(self) -> int:
        return hash(self.fingerprint)

    def class_speed_kmh(self, highway: str) -> float:
        """Return the speed on one ``highway`` class, 0.0 when the mode may not use it.

        Parameters
        ----------
        highway
            An OSM ``highway`` value such as ``"residential"``.

        Returns
        -------
        float
            Speed in km/h before ``maxspeed`` and congestion; 0.0 means unusable.
        """
        if highway in self.excluded_highways:
            return 0.0
        return float(self.speeds_kmh.get(highway, self.default_speed_kmh))


_FIELD_TYPES: dict[str, str] = {
    "description": "text",
    "speeds_kmh": "speed table",
    "default_speed_kmh": "speed",
    "excluded_highways": "class list",
    "respect_oneway": "bool",
    "use_maxspeed": "bool",
    "maxspeed_factor": "positive",
    "maxspeed_cap": "positive",
    "congestion": "factor table",
    "use_congestion": "bool",
    "no_snap_highways": "class list",
    "no_snap_tags": "class list",
    "access_tags": "class list",
    "no_access": "class list",
}
#: Fields a profile table may leave out (the dataclass default applies).
_OPTIONAL_FIELDS = frozenset({"access_tags", "no_access"})


def _check_number(value: Any, where: str, field: str, *, allow_zero: bool) -> float:
    ok = isinstance(value, (int, float)) and not isinstance(value, bool)
    if ok:
        value = float(value)
        ok = math.isfinite(value) and (value > 0 or (allow_zero and value == 0))
    if not ok:
        need = "a number >= 0" if allow_zero else "a number > 0"
        raise GeoplanInputError(f"{field} must be {need}, got {value!r}", path=where,
                                field=field, hint="write e.g. 30.0")
    return float(value)


def _build(name: str, spec: Mapping[str, Any], where: str) -> Profile:
    """Validate one merged profile table and turn it into a :class:`Profile`."""
    unknown = sorted(set(spec) - set(_FIELD_TYPES) - {"base"})
    if unknown:
        raise GeoplanInputError(
            f"unknown profile field(s) {', '.join(unknown)} in mode '{name}'", path=where,
            field=unknown[0], hint="valid fields: " + ", ".join(sorted(_FIELD_TYPES)),
        )
    missing = sorted(set(_FIELD_TYPES) - set(spec) - _OPTIONAL_FIELDS)
    if missing:
        raise GeoplanInputError(
            f"mode '{name}' lacks field(s) {', '.join(missing)}", path=where, field=missing[0],
            hint="give every field, or start from an existing mode with base = \"drive\"",
        )
    values: dict[str, Any] = {}
    for key, kind in _FIELD_TYPES.items():
        if key not in spec:            # an optional field: the dataclass default
            continue
        value = spec[key]
        fname = f"{name}.{key}"
        if kind == "text":
            values[key] = str(value)
        elif kind == "bool":
            if not isinstance(value, bool):
                raise GeoplanInputError(f"{fname} must be true or false, got {value!r}",
                                        path=where, field=fname)
            values[key] = value
        elif kind in ("speed", "positive"):
            values[key] = _check_number(value, where, fname, allow_zero=kind == "speed")
        elif kind in ("speed table", "factor table"):
            if not isinstance(value, Mapping):
                raise GeoplanInputError(f"{fname} must be a table of class = number",
                                        path=where, field=fname,
                                        hint="write e.g. {primary = 50.0}")
            values[key] = MappingProxyType({
                str(k): _check_number(v, where, f"{fname}.{k}", allow_zero=kind == "speed table")
                for k, v in value.items()
            })
        else:  # class list
            if isinstance(value, str) or not isinstance(value, Iterable):
                raise GeoplanInputError(f"{fname} must be a list of names", path=where,
                                        field=fname, hint='write e.g. ["motorway"]')
            items = [str(v) for v in value]
            values[key] = (tuple(items) if key in ("no_snap_tags", "access_tags")
                           else frozenset(v.lower() for v in items) if key == "no_access"
                           else frozenset(items))
    return Profile(name=name, **values)


def _merge(base: Mapping[str, Any], over: Mapping[str, Any]) -> dict[str, Any]:
    out = dict(base)
    for key, value in over.items():
        if key in ("speeds_kmh", "congestion") and isinstance(value, Mapping) \
                and isinstance(out.get(key), Mapping):
            out[key] = {**out[key], **value}
        else:
            out[key] = value
    return out


def _read_toml(path: Path) -> dict[str, Any]:
    if not path.is_file():
        raise GeoplanInputError("file not found", path=path,
                                hint="give the path of a TOML file of travel profiles")
    try:
        return tomllib.loads(path.read_text("utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise GeoplanInputError(f"not a valid TOML file ({exc})", path=path,
                                hint="fix the syntax; see geoplan/travel/profiles.toml") from None


def _default_tables() -> dict[str, Any]:
    text = resources.files("geoplan.travel").joinpath("profiles.toml").read_text("utf-8")
    return tomllib.loads(text)


def default_profiles() -> dict[str, Profile]:
    """Return geoplan's built-in profiles (``walk``, ``ebike``, ``drive``).

    Why: one place to read the defaults every analysis starts from (see
    ``profiles.toml`` for the reasoning behind each value).

    Returns
    -------
    dict of str to Profile
    """
    return load_profiles(None)


def load_profiles(
    path_or_mapping: Mapping[str, Mapping[str, Any]] | str | PathLike[str] | None = None,
) -> dict[str, Profile]:
    """Return the built-in profiles with user overrides merged in.

    Why: the defaults are typical Chinese values, not measurements; a county with
    surveyed speeds, or a scenario ("what if e-bikes ignore one-way streets"), changes a
    few numbers without copying the whole table.

    Overrides are given per mode and field; ``speeds_kmh`` and ``congestion`` tables merge
    key by key (so ``{"drive": {"speeds_kmh": {"primary": 60}}}`` changes only primary
    roads). A mode that does not exist yet is created; it must either give every field or
    name an existing mode to start from with ``base = "drive"``.

    Parameters
    ----------
    path_or_mapping
        ``{mode: {field: value}}`` or the path of a TOML file of that shape; None for
        the defaults.

    Returns
    -------
    dict of str to Profile
        Profiles keyed by lower-case mode name.

    Raises
    ------
    GeoplanInputError
        If the file is missing or not TOML, a field is unknown, or a value is invalid.
    """
    where = "geoplan/travel/profiles.toml"
    tables = {k.lower(): v for k, v in _default_tables().items()}
    if path_or_mapping is not None:
        if isinstance(path_or_mapping, (str, PathLike)):
            where = str(path_or_mapping)
            extra = _read_toml(Path(path_or_mapping))
        elif isinstance(path_or_mapping, Mapping):
            where = "profile overrides"
            extra = dict(path_or_mapping)
        else:
            raise GeoplanInputError(
                f"profile overrides must be a mapping or a TOML path, got "
                f"{type(path_or_mapping).__name__}", hint='pass e.g. {"drive": {...}}')
        for mode, spec in extra.items():
            if not isinstance(spec, Mapping):
                raise GeoplanInputError(f"mode '{mode}' must be a table of fields",
                                        path=where, row=f"mode '{mode}'")
            key = str(mode).lower()
            base_name = spec.get("base", key if key in tables else None)
            if base_name is None:
                start: Mapping[str, Any] = {}
            elif str(base_name).lower() in tables:
                start = tables[str(base_name).lower()]
            else:
                raise GeoplanInputError(
                    f"mode '{mode}' names unknown base '{base_name}'", path=where,
                    field="base", hint="known modes: " + ", ".join(sorted(tables)))
            tables[key] = _merge(start, {k: v for k, v in spec.items() if k != "base"})
    return {name: _build(name, spec, where) for name, spec in tables.items()}


def get_profile(
    name: str | Profile,
    overrides: Mapping[str, Any] | None = None,
    *,
    profiles: Mapping[str, Profile] | None = None,
) -> Profile:
    """Return one profile by mode name, optionally with some fields changed.

    Why: functions that take a ``mode`` accept a name or a profile; this resolves
    either, with a clear error for a misspelt mode.

    Parameters
    ----------
    name
        Mode name (case-insensitive), or a :class:`Profile` which is returned (with
        ``overrides`` applied).
    overrides
        Field values to change, e.g. ``{"respect_oneway": False}`` or
        ``{"speeds_kmh": {"primary": 60}}`` (tables merge key by key).
    profiles
        Profiles to choose from; default :func:`default_profiles`.

    Returns
    -------
    Profile

    Raises
    ------
    GeoplanInputError
        If the mode is unknown (the message lists the known modes) or an override is
        invalid.
    """
    if isinstance(name, Profile):
        base = name
    else:
        table = dict(profiles) if profiles is not None else default_profiles()
        key = str(name).strip().lower()
        if key not in table:
            raise GeoplanInputError(
                f"unknown travel mode '{name}'", field="mode",
                hint="known modes: " + ", ".join(sorted(table)))
        base = table[key]
    if not overrides:
        return base
    spec = _merge(base.to_dict(), dict(overrides))
    spec.pop("name", None)
    return _build(base.name, spec, "profile overrides")


def parse_maxspeed(value: Any) -> float | None:
    """Parse an OSM ``maxspeed`` value into km/h.

    Why: the tag is free text in OSM (units, several values, zone codes) and osmnx
    turns it into lists when merging ways; a wrong parse silently changes drive times.

    Accepts ``"50"``, ``"50 km/h"``, ``"50 mph"``, ``"20 knots"``, several values
    ``"30;50"`` / ``"30|50"`` and lists of such values (osmnx merges ways when
    simplifying); several values give their mean, as osmnx does. ``"none"`` (no limit),
    zone codes (``"CN:urban"``), ``"signals"``, ``"walk"``, missing values and numbers
    <= 0 give None, meaning "use the class speed".

    Parameters
    ----------
    value
        The tag value: str, number, list of those, or None/NaN.

    Returns
    -------
    float or None
        Speed in km/h, or None when the value carries no usable number.
    """
    if value is None:
        return None
    if isinstance(value, (list, tuple)):
        parsed = [p for p in (parse_maxspeed(v) for v in value) if p is not None]
        return sum(parsed) / len(parsed) if parsed else None
    if isinstance(value, bool):
        return None
    if isinstance(value, (int, float)):
        v = float(value)
        return v if math.isfinite(v) and v > 0 else None
    parts = [p for p in re.split(r"[;|]", str(value)) if p.strip()]
    speeds = []
    for part in parts:
        m = _SPEED_RE.match(part)
        if not m:
            continue
        v = float(m.group(1).replace(",", "."))
        unit = (m.group(2) or "").lower()
        if unit == "mph":
            v *= _MPH_TO_KMH
        elif unit in ("knots", "kn"):
            v *= _KNOT_TO_KMH
        if v > 0:
            speeds.append(v)
    return sum(speeds) / len(speeds) if speeds else None


def _classes(highway: Any) -> tuple[str, ...]:
    if isinstance(highway, (list, tuple, set, frozenset)):
        return tuple(str(h) for h in highway) or ("",)
    if highway is None or (isinstance(highway, float) and math.isnan(highway)):
        return ("",)
    return (str(highway),)


def edge_speed_kmh(profile: Profile, highway: Any, maxspeed: Any = None, *,
                   congested: bool = True) -> float:
    """Return the travel speed of one edge for a profile, 0.0 if the mode may not use it.

    Why: the single rule (class speed, ``maxspeed``, congestion; see the module
    docstring) that :func:`geoplan.travel.network.compile_network` applies to every edge, exposed
    so that users and tests can check it edge by edge.

    Parameters
    ----------
    profile
        The travel profile.
    highway
        The edge's OSM ``highway`` value: a class name or a list of them.
    maxspeed
        The edge's ``maxspeed`` value (see :func:`parse_maxspeed`), or None.
    congested
        Whether to apply the profile's congestion multipliers (only if the profile's
        ``use_congestion`` is true).

    Returns
    -------
    float
        Speed in km/h; 0.0 means the edge is unusable for this mode.
    """
    classes = _classes(highway)
    class_speed = min(profile.class_speed_kmh(c) for c in classes)
    if class_speed <= 0:
        return 0.0
    speed = class_speed
    if profile.use_maxspeed:
        posted = parse_maxspeed(maxspeed)
        if posted is not None:
            speed = min(posted * profile.maxspeed_factor, class_speed * profile.maxspeed_cap)
    if congested and profile.use_congestion:
        speed *= min(profile.congestion.get(c, 1.0) for c in classes)
    return float(speed)
