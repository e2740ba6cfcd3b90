"""Check a scenario's names against its region at load: types, levels, candidate sets, ids.

Why: a scenario that names a facility type the region does not have, a boundary level
that does not exist or a candidate set that is empty used to pass validation and fail
10-28 s later, after the population and the road network were read, naming no file or
line. Everything a scenario refers to in its region is known from the cheap layers
(the manifest, the type vocabulary, boundaries, facilities and candidates: well under a
second on a county), so it is checked here, with the scenario file's line, before any
expensive layer is read.

Facility types are *resolved* as well as checked: a scenario may name a type by its code,
its Chinese or English label or an alias (``医保服务站``, ``insurance service point``);
the specs handed on carry codes.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from geoplan._errors import GeoplanInputError

__all__ = ["resolve_against_region", "resolve_model"]

#: Spec fields naming facility types (resolved to codes), per spec attribute.
FACILITY_TYPE_FIELDS = ("types", "existing_types", "upgrade_types", "hospital_types",
                        "host_types")
#: Spec fields naming candidate site types (values of the candidates' ``site_type``).
CANDIDATE_TYPE_FIELDS = ("candidate_types", "new_site_types")
#: Spec fields naming values of the boundaries' ``level`` column.
LEVEL_VALUE_FIELDS = ("demand_levels", "urban_levels")


def _layers(sc: Any) -> Any:
    """The region's cheap layers (boundaries, facilities, candidates) and vocabulary,
    with the scenario's own ``[inputs]`` files in their place."""
    from geoplan.inputs import readers
    from geoplan.inputs.region import load_region

    region = load_region(sc.region, layers=("facilities", "candidates"))
    inputs = sc.inputs
    if "boundaries" in inputs:
        region.boundaries = readers.read_boundaries(inputs["boundaries"])
    if "facilities" in inputs:
        region.facilities = readers.read_facilities(
            inputs["facilities"], crs=inputs.get("facilities_crs"),
            vocabulary=region.vocabulary)
    if "candidates" in inputs:
        region.candidates = readers.read_candidates(inputs["candidates"],
                                                    crs=inputs.get("candidates_crs"))
    return region


def _fail(sc: Any, where: Callable[[str], Any], key: str, message: str, hint: str) -> None:
    raise GeoplanInputError(message, path=sc.path, row=where(key), field=key, hint=hint)


def _listing(values: Sequence[Any], n: int = 12) -> str:
    vals = [str(v) for v in values]
    return ", ".join(vals[:n]) + (f", … ({len(vals)} in all)" if len(vals) > n else "")


def _resolve_types(sc: Any, spec: Any, key: str, region: Any, where: Callable) -> Any:
    names = getattr(spec, key, None)
    if not names:
        return None
    vocab = region.vocabulary
    codes = []
    for name in names:
        code = vocab.code_of(str(name))
        if code is None:
            near = vocab.explain_unknown(str(name))
            _fail(sc, where, key, f"unknown facility type '{name}' in '{key}'",
                  (near + "; " if near else "")
                  + "use a type code, label or alias of the region's vocabulary: "
                  + _listing(list(vocab.types)))
        codes.append(code)
    fac = region.facilities
    if fac is not None and not fac["type"].isin(codes).any():
        present = sorted(fac["type"].unique())
        _fail(sc, where, key, f"the region has no facilities of type(s) {list(names)} "
              f"('{key}')", f"types present in the facilities file: {_listing(present)}")
    return tuple(dict.fromkeys(codes))


def _site_type_column(cand: Any) -> str:
    """The candidates' column of site types (``site_type`` as read, else ``type``)."""
    return "site_type" if "site_type" in cand.columns else "type"


def _check_candidate_types(sc: Any, spec: Any, key: str, region: Any, where: Callable) -> None:
    names = getattr(spec, key, None)
    if not names:
        return
    cand = region.candidates
    if cand is None:
        _fail(sc, where, key, f"'{key}' names candidate site types but the region has no "
              "candidates layer", "add [candidates] to region.toml or [inputs] candidates")
    col = _site_type_column(cand)
    present = sorted(str(v) for v in cand[col].dropna().unique())
    missing = [n for n in names if str(n) not in present]
    if missing:
        _fail(sc, where, key, f"no candidate sites of type(s) {missing} ('{key}')",
              f"site types in the candidates file: {_listing(present)}")


def _check_level_column(sc: Any, spec: Any, region: Any, where: Callable) -> None:
    level = getattr(spec, "level", None)
    b = region.boundaries
    if level is None or b is None:
        return
    if level not in b.columns:
        codes = [c for c in b.columns if c.endswith("_code")]
        _fail(sc, where, "level", f"level '{level}' is not a boundary column",
              f"use one of {', '.join(codes)}")


def _check_level_values(sc: Any, spec: Any, key: str, region: Any, where: Callable) -> None:
    values = getattr(spec, key, None)
    if not values:
        return
    b = region.boundaries
    if key == "urban_levels" and getattr(spec, "urban_minutes", None) is None:
        return                               # a default, not used without urban_minutes
    if b is None or "level" not in b.columns:
        _fail(sc, where, key, f"'{key}' needs boundaries with a 'level' column",
              "add a level column (e.g. subdistrict / town) to the boundaries file")
    present = sorted(str(v) for v in b["level"].dropna().unique())
    missing = [v for v in values if str(v) not in present]
    if missing:
        _fail(sc, where, key, f"unknown level(s) {missing} in '{key}'",
              f"levels in the boundaries file: {', '.join(present)}")


def _check_demand(sc: Any, spec: Any, region: Any, where: Callable) -> None:
    """``demand`` names ``total`` or ``[demand_layers.<key>]`` of the region (or weighs
    several of them)."""
    given = getattr(spec, "demand", None)
    if given is None or given == "total":
        return
    names = [given] if isinstance(given, str) else list(given)
    from geoplan.inputs.region import read_manifest
    layers: dict[str, Any] = {}
    if getattr(region, "manifest", None) is not None:
        layers = read_manifest(region.manifest)[0].get("demand_layers") or {}
    groups = [n for n in names if n != "total"]
    if groups and "population" in getattr(sc, "inputs", {}):
        _fail(sc, where, "demand", f"demand '{groups[0]}' is a layer of the region's "
              "population grid, and this scenario replaces the population in [inputs]",
              "remove [inputs] population, or demand")
    for name in groups:
        if name not in layers:
            _fail(sc, where, "demand", f"unknown demand layer '{name}'",
                  "the region's layers: " + (", ".join(["total", *layers]) if layers else
                                              "total (add [demand_layers.<name>] to "
                                              "region.toml)"))


def _check_ids(sc: Any, spec: Any, region: Any, where: Callable) -> None:
    ids: set[str] = set()
    for layer in (region.facilities, region.candidates):
        if layer is not None and "id" in layer.columns:
            ids |= set(layer["id"].astype(str))
    for key in ("force_open", "force_closed"):
        unknown = [i for i in (getattr(spec, key, None) or ()) if str(i) not in ids]
        if unknown:
            _fail(sc, where, key, f"no facility or candidate site has id(s) "
                  f"{_listing(unknown, 5)} ('{key}')",
                  "list ids from the facilities or candidates file")


def _check_has_sites(sc: Any, spec: Any, where: Callable) -> None:
    """A site model needs sites to choose from: ``candidate_types`` and/or ``upgrade_types``
    (function centres choose among their ``host_types``, checked with the types)."""
    if not hasattr(spec, "candidate_types") or getattr(spec, "kind", "") == "function_centres":
        return
    if not spec.candidate_types and not spec.upgrade_types:
        _fail(sc, where, "kind", f"model '{spec.name}' has no sites to choose from",
              "give candidate_types (site types of the candidates file) and/or "
              "upgrade_types (facility types that may be upgraded)")


def _check_p(sc: Any, spec: Any, region: Any, where: Callable) -> None:
    """``p`` new sites cannot exceed the sites there are to choose from (the candidates of
    ``candidate_types`` plus the facilities of ``upgrade_types``, as the model takes them)."""
    p = getattr(spec, "p", None)
    if p is None or not hasattr(spec, "candidate_types"):
        return
    cand, names = region.candidates, spec.candidate_types
    if not names and not spec.upgrade_types:
        return          # no sites at all: refused by _check_has_sites
    n = 0
    if cand is not None and names:
        n += int(cand[_site_type_column(cand)].astype(str).isin([str(x) for x in names]).sum())
    fac = region.facilities
    if spec.upgrade_types and fac is not None:
        n += int(fac["type"].isin(spec.upgrade_types).sum())
    if p > n:
        _fail(sc, where, "p", f"p = {p} new sites asked for, but there are only {n} candidate "
              "site(s) to choose from (candidate_types / upgrade_types)",
              f"lower p to at most {n}, or add candidate types")


def _resolve_tiers(sc: Any, spec: Any, region: Any, where_of: Callable[..., Any],
                   i: int) -> list[dict[str, Any]] | None:
    """A tiered plan's tiers: facility types resolved to codes, candidate types checked
    (errors name the tier's line); the tiers as dicts when a type changed, else None."""
    out, changed = [], False
    for t, tier in enumerate(spec.tiers):
        def where(key: str, _t: int = t) -> Any:
            return where_of("model.tiers", (i, _t), key)
        new = tier.to_dict()
        for key in ("existing_types", "upgrade_types"):
            codes = _resolve_types(sc, tier, key, region, where)
            if codes is not None and codes != tuple(getattr(tier, key)):
                new[key], changed = list(codes), True
        _check_candidate_types(sc, tier, "candidate_types", region, where)
        out.append(new)
    return out if changed else None


def resolve_against_region(sc: Any, where_of: Callable[[str, int, str], Any]) -> Any:
    """Check every name a scenario uses against its region; return it with types resolved.

    Parameters
    ----------
    sc
        The :class:`~geoplan.scenario.spec.Scenario` as checked on its own.
    where_of
        ``where_of(table, index, key)`` gives the scenario file's line of a key.

    Returns
    -------
    Scenario
        The same scenario, facility types as codes.

    Raises
    ------
    GeoplanInputError
        Naming the scenario file, the line and the key, and what to do: an unknown
        facility type, candidate site type, boundary level or level value, a site id no
        layer has, or a type with no facilities; errors of the region's manifest and cheap
        layers name those files.
    """
    region = _layers(sc)
    for table, specs in (("coverage", sc.coverage), ("model", sc.models)):
        out = []
        for i, spec in enumerate(specs):
            def where(key: str, _t: str = table, _i: int = i) -> Any:
                return where_of(_t, _i, key)
            changes = {}
            for key in FACILITY_TYPE_FIELDS:
                codes = _resolve_types(sc, spec, key, region, where)
                if codes is not None and codes != tuple(getattr(spec, key)):
                    changes[key] = list(codes)
            for key in CANDIDATE_TYPE_FIELDS:
                _check_candidate_types(sc, spec, key, region, where)
            _check_level_column(sc, spec, region, where)
            for key in LEVEL_VALUE_FIELDS:
                _check_level_values(sc, spec, key, region, where)
            _check_ids(sc, spec, region, where)
            _check_demand(sc, spec, region, where)
            _check_has_sites(sc, spec, where)
            if getattr(spec, "kind", "") == "tiered":
                tiers = _resolve_tiers(sc, spec, region, where_of, i)
                if tiers is not None:
                    changes["tiers"] = tiers
            out.append(spec.updated(**changes) if changes else spec)
            _check_p(sc, out[-1], region, where)
        specs[:] = out
    return sc



def resolve_model(region: Any, m: Any) -> Any:
    """:func:`resolve_against_region` for one model given on the command line
    (``geoplan optimize``): messages name the option (``--existing-types``)."""
    from types import SimpleNamespace

    sc = SimpleNamespace(region=region, inputs={}, path="(command line)", coverage=[],
                         models=[m])
    resolve_against_region(sc, lambda _table, _i, key: f"option --{key.replace('_', '-')}")
    return sc.models[0]
