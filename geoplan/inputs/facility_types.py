"""The vocabulary of facility types (Chinese and English labels), extensible by users.

The default vocabulary lives in ``facility_types.toml`` beside this module: one table per
type code with Chinese (``zh``) and English (``en``) labels, whether a bed count is
required, and aliases met in real facility lists (``三甲医院``, ``卫生院``, ...). Input
values are matched against codes, labels and aliases case-insensitively with white space
removed, so a list that says ``乡镇卫生院`` or ``Township health centre`` gets the code
``township_health_centre``.

Users add types (or aliases) by passing ``extra`` to :func:`load_vocabulary`, either as a
mapping or as a path to a TOML file of the same shape.
"""

from __future__ import annotations

import difflib
import tomllib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from functools import lru_cache
from importlib import resources
from os import PathLike
from pathlib import Path
from typing import Any

from geoplan._errors import GeoplanInputError

__all__ = ["FacilityType", "PoiTable", "Vocabulary", "default_vocabulary", "load_vocabulary",
           "poi_table"]

HOSPITAL_TYPES = ("tertiary_hospital", "secondary_hospital", "primary_hospital", "tcm_hospital")


@dataclass(frozen=True)
class FacilityType:
    """One kind of facility.

    Attributes
    ----------
    code
        Stable machine name (``township_health_centre``).
    zh, en
        Chinese and English labels.
    requires_beds
        Whether every facility of this type must state its bed count.
    aliases
        Other names accepted in input files.
    """

    code: str
    zh: str
    en: str
    requires_beds: bool = False
    aliases: tuple[str, ...] = ()

    def label(self, lang: str = "en") -> str:
        """Return the label in ``lang`` (``"zh"`` or ``"en"``)."""
        return self.zh if lang.lower().startswith("zh") else self.en


def _norm(text: str) -> str:
    return "".join(str(text).split()).lower().replace("-", "_")


@dataclass(frozen=True)
class Vocabulary:
    """A set of facility types with lookup by code, label or alias."""

    types: Mapping[str, FacilityType]
    _lookup: Mapping[str, str] = field(repr=False, default_factory=dict)

    @classmethod
    def from_mapping(cls, table: Mapping[str, Mapping[str, Any]], source: str) -> Vocabulary:
        """Build a vocabulary from ``{code: {zh, en, requires_beds, aliases}}``.

        Parameters
        ----------
        table
            Type definitions keyed by code.
        source
            Where ``table`` came from, for error messages.

        Returns
        -------
        Vocabulary
        """
        types: dict[str, FacilityType] = {}
        for code, spec in table.items():
            if not isinstance(spec, Mapping) or "zh" not in spec or "en" not in spec:
                raise GeoplanInputError(
                    "each facility type needs a 'zh' and an 'en' label",
                    path=source, row=f"type '{code}'",
                    hint="write e.g. [my_type]\\nzh = \"...\"\\nen = \"...\"",
                )
            types[code] = FacilityType(
                code=code, zh=str(spec["zh"]), en=str(spec["en"]),
                requires_beds=bool(spec.get("requires_beds", False)),
                aliases=tuple(str(a) for a in spec.get("aliases", ())),
            )
        return cls._with_lookup(types)

    @classmethod
    def _with_lookup(cls, types: Mapping[str, FacilityType]) -> Vocabulary:
        lookup: dict[str, str] = {}
        for t in types.values():
            for name in (t.code, t.zh, t.en, *t.aliases):
                lookup.setdefault(_norm(name), t.code)
        # codes and labels always win over aliases of other types
        for t in types.values():
            for name in (t.code, t.zh, t.en):
                lookup[_norm(name)] = t.code
        return cls(types=dict(types), _lookup=lookup)

    def merged(self, other: Vocabulary) -> Vocabulary:
        """Return a vocabulary with ``other``'s types added (its definitions win).

        Parameters
        ----------
        other
            Additional or overriding types.

        Returns
        -------
        Vocabulary
        """
        types = dict(self.types)
        for code, t in other.types.items():
            if code in types:
                old = types[code]
                t = FacilityType(code, t.zh, t.en, t.requires_beds,
                                 tuple(dict.fromkeys(old.aliases + t.aliases)))
            types[code] = t
        return Vocabulary._with_lookup(types)

    def code_of(self, value: str) -> str | None:
        """Return the type code for an input value, or None if unknown.

        A code, a label or an alias; or a POI category as planners export it from the map
        services (:func:`poi_table`): a Gaode six-digit typecode (``090101``), or a Gaode
        ``大类;中类;小类`` / Baidu ``一级;二级`` type string, several joined by ``|``
        (e.g. ``医疗保健服务;综合医院;三级甲等医院``). A type string resolves to its most
        specific known part, trying the types in order and each from the small class up:
        a part is known when it is a label or alias of this vocabulary (a user's alias
        wins) or a planning category of the POI table; a part the table lists as no
        planning type (``综合医院``, ``药房``) ends that type's search.
        """
        code = self._lookup.get(_norm(value))
        if code is not None or not isinstance(value, str):
            return code
        return self._poi_code(value)[0]

    def _poi_code(self, value: str) -> tuple[str | None, str | None]:
        """The code of a POI typecode or type string, or None and why (when known)."""
        poi = poi_table()
        why: str | None = None
        for alt in value.split("|"):
            alt = alt.strip()
            if alt.isdigit():
                code = poi.typecodes.get(alt) or self._lookup.get(alt)
                if code in self.types:
                    return code, None
                why = why or (f"Gaode typecode {alt} is no planning type (the planning "
                              f"typecodes are {', '.join(poi.typecodes)})")
                continue
            for part in reversed(alt.split(";")):
                key = _norm(part)
                if not key:
                    continue
                code = self._lookup.get(key) or poi.categories.get(key)
                if code in self.types:
                    return code, None
                if key in poi.not_planning:
                    why = why or f"'{part.strip()}': {poi.not_planning[key]}"
                    break
        return None, why

    def explain_unknown(self, value: str) -> str:
        """Why ``value`` is no type, and what to write: for the hint of an error.

        A POI category the table lists as no planning type gives its reason; otherwise
        the closest codes, labels and aliases (by :func:`difflib.get_close_matches`) are
        listed with their codes.

        Parameters
        ----------
        value
            A value :meth:`code_of` does not know.

        Returns
        -------
        str
            One sentence (empty when there is nothing close).
        """
        why = self._poi_code(str(value))[1] if isinstance(value, str) else None
        if why:
            return why
        names = {}
        for t in self.types.values():
            for name in (t.code, t.zh, t.en, *t.aliases):
                names.setdefault(_norm(name), (name, t.code))
        close = difflib.get_close_matches(_norm(str(value)), list(names), n=4, cutoff=0.5)
        if not close:
            return ""
        shown = [names[k][0] if names[k][0] == names[k][1] else f"{names[k][0]} ({names[k][1]})"
                 for k in close]
        return "closest: " + ", ".join(shown)

    def require_codes(self, values: Iterable[Any], field: str) -> list[str]:
        """The codes of ``values`` (see :meth:`code_of`); an unknown one is an error.

        Raises
        ------
        GeoplanInputError
            Naming the first unknown value and ``field`` (e.g. ``--types``), with the
            closest known names.
        """
        out = []
        for t in values:
            code = self.code_of(str(t))
            if code is None:
                near = self.explain_unknown(str(t))
                raise GeoplanInputError(f"unknown facility type '{t}'", field=field,
                                        hint=(near + "; " if near else "")
                                        + "use a type code, label or alias: "
                                        + ", ".join(list(self.types)[:12]))
            out.append(code)
        return out

    def label(self, code: str, lang: str = "en") -> str:
        """Return the label of ``code`` in ``lang``; unknown codes are returned as is."""
        t = self.types.get(code)
        return t.label(lang) if t else code

    def describe(self) -> str:
        """List the codes with both labels, one per line (used in error hints)."""
        return "\n".join(f"  {t.code}: {t.zh} / {t.en}" for t in self.types.values())


@dataclass(frozen=True)
class PoiTable:
    """The map services' medical POI categories (``poi_types.toml`` beside this module).

    Attributes
    ----------
    typecodes
        Gaode six-digit typecodes that are one planning type: ``{"090101": code}``.
    categories
        Category names (a part of a POI type string, normalised) that are one type.
    not_planning
        Category names that are no planning type, with the reason shown in errors.
    """

    typecodes: Mapping[str, str]
    categories: Mapping[str, str]
    not_planning: Mapping[str, str]


@lru_cache(maxsize=1)
def poi_table() -> PoiTable:
    """Return the shipped table of Gaode/Baidu medical POI categories.

    Returns
    -------
    PoiTable
    """
    text = resources.files("geoplan.inputs").joinpath("poi_types.toml").read_text("utf-8")
    t = tomllib.loads(text)
    return PoiTable(typecodes=dict(t["gaode_typecodes"]),
                    categories={_norm(k): v for k, v in t["categories"].items()},
                    not_planning={_norm(k): v for k, v in t["not_planning"].items()})


def default_vocabulary() -> Vocabulary:
    """Return geoplan's built-in vocabulary of Chinese facility types.

    Returns
    -------
    Vocabulary
    """
    text = resources.files("geoplan.inputs").joinpath("facility_types.toml").read_text("utf-8")
    return Vocabulary.from_mapping(tomllib.loads(text), source="geoplan/inputs/facility_types.toml")


def load_vocabulary(
    extra: Mapping[str, Mapping[str, Any]] | str | PathLike[str] | None = None,
) -> Vocabulary:
    """Return the default vocabulary, extended with user-defined types.

    Parameters
    ----------
    extra
        Additional types as ``{code: {"zh": ..., "en": ..., "requires_beds": ...,
        "aliases": [...]}}`` or the path of a TOML file with one table per type.

    Returns
    -------
    Vocabulary

    Raises
    ------
    GeoplanInputError
        If the extra file is missing, not TOML, or a type lacks its labels.
    """
    vocab = default_vocabulary()
    if extra is None:
        return vocab
    if isinstance(extra, (str, PathLike)):
        path = Path(extra)
        if not path.is_file():
            raise GeoplanInputError("file not found", path=path,
                                    hint="give the path of a TOML file of facility types")
        try:
            table = tomllib.loads(path.read_text("utf-8"))
        except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
            raise GeoplanInputError(f"not a valid TOML file ({exc})", path=path,
                                    hint="fix the syntax; see geoplan/inputs/facility_types.toml"
                                    ) from None
        return vocab.merged(Vocabulary.from_mapping(table, source=str(path)))
    return vocab.merged(Vocabulary.from_mapping(extra, source="extra facility types"))
