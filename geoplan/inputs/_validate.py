"""Validation of input tables and layers; every failure is a GeoplanInputError.

Private helpers shared by the readers in :mod:`geoplan.inputs.readers`. Each check names the file,
the row (CSV: the line number in the file, header = line 1; vector files: the 1-based
feature number), the field, and what to do.
"""

from __future__ import annotations

import csv
import io
import re
import unicodedata
import warnings
from collections.abc import Iterable, Sequence
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd

from geoplan._errors import GeoplanInputError, GeoplanWarning

#: Encodings tried, in order, when a text file's encoding is not given. ``utf-8-sig``
#: reads UTF-8 with or without a byte-order mark; GB18030 is the superset of GBK/GB2312
#: that Chinese Excel and government systems write.
TEXT_ENCODINGS = ("utf-8-sig", "gb18030")

VECTOR_SUFFIXES = {".geojson", ".json", ".gpkg", ".shp", ".fgb", ".gml", ".kml"}
TABLE_SUFFIXES = {".csv", ".txt", ".tsv"}
RASTER_SUFFIXES = {".tif", ".tiff", ".geotiff", ".vrt", ".img"}
NETWORK_SUFFIXES = (".osm", ".osm.bz2", ".osm.pbf", ".pbf", ".graphml", ".osm.xml", ".xml")


def check_file(path: str | Path) -> Path:
    """Ensure ``path`` is an existing, non-empty file; return it as a Path."""
    p = Path(path)
    if not p.exists():
        raise GeoplanInputError("file not found", path=p,
                                hint="check the path (relative paths are from the current "
                                     "folder or the scenario/manifest file)")
    if p.is_dir():
        raise GeoplanInputError("is a folder, not a file", path=p, hint="give a file inside it")
    if p.stat().st_size == 0:
        raise GeoplanInputError("file is empty (0 bytes)", path=p,
                                hint="re-export the data; the file has no content")
    return p


def suffix_of(path: Path) -> str:
    """Lower-case suffix, keeping double suffixes such as ``.osm.pbf`` and ``.osm.bz2``."""
    name = path.name.lower()
    for double in (".osm.pbf", ".osm.bz2", ".osm.xml"):
        if name.endswith(double):
            return double
    return path.suffix.lower()


def unknown_format(path: Path, what: str, allowed: Iterable[str]) -> GeoplanInputError:
    """Build the error for a file whose format a reader does not support."""
    return GeoplanInputError(
        f"unknown format '{suffix_of(path) or '(no extension)'}' for {what}",
        path=path, hint=f"use one of: {', '.join(sorted(set(allowed)))}",
    )


def decode_text(path: Path, encoding: str | None = None) -> str:
    """Read a text file, trying UTF-8 (with or without BOM) then GB18030/GBK.

    Raises a GeoplanInputError naming the line and byte of the first undecodable byte
    when no encoding fits. A given ``encoding`` that decodes the bytes but does not fit
    them (UTF-8 or GBK text read as latin-1, cp1252, UTF-16, ...) is refused too, naming
    the file and both encodings, instead of reading mojibake.
    """
    raw = path.read_bytes()
    tried = (encoding,) if encoding else TEXT_ENCODINGS
    first_error: UnicodeDecodeError | None = None
    bom = raw.startswith(b"\xef\xbb\xbf")
    for enc in tried:
        # a UTF-8 byte-order mark in front of GBK text (an editor that added one to a
        # GBK export) is not part of the text: decoded as GBK it would become "锘" and
        # rename the first column
        data = raw[3:] if bom and enc.replace("-", "").lower() not in ("utf8", "utf8sig") \
            else raw
        try:
            text = data.decode(enc)
            if data is not raw:
                warnings.warn(GeoplanWarning(
                    f"{path}: the file starts with a UTF-8 byte-order mark but is {enc} "
                    "text; read as {enc} without the mark".replace("{enc}", enc)),
                    stacklevel=3)
            if encoding:
                _check_fits(path, raw, text, enc)
            return text
        except LookupError:
            raise GeoplanInputError(f"unknown text encoding '{enc}'", path=path,
                                    field="encoding",
                                    hint="use e.g. 'utf-8', 'gbk' or 'gb18030'") from None
        except UnicodeDecodeError as exc:
            first_error = first_error or exc
    assert first_error is not None
    line = raw.count(b"\n", 0, first_error.start) + 1
    raise GeoplanInputError(
        f"cannot decode the text as {' or '.join(tried)} (byte 0x{raw[first_error.start]:02x} "
        f"at offset {first_error.start})", path=path, row=f"line {line}",
        hint="save the file as UTF-8 (or GBK), or pass the right encoding",
    )


def _fits_as(raw: bytes, enc: str) -> str | None:
    """The text ``raw`` strictly decodes to as ``enc`` (None if it does not)."""
    try:
        return raw.decode(enc)
    except UnicodeDecodeError:
        return None


def _check_fits(path: Path, raw: bytes, text: str, enc: str) -> None:
    """Refuse an explicit encoding when the bytes are plainly UTF-8 or GBK text that
    ``enc`` turns into other characters (mojibake)."""
    import codecs

    name = codecs.lookup(enc).name
    if name.startswith("utf-8") or name in ("gbk", "gb18030", "gb2312"):
        return
    body = raw[3:] if raw.startswith(b"\xef\xbb\xbf") else raw
    utf8 = _fits_as(body, "utf-8")
    if utf8 is not None and utf8 != text.lstrip("\ufeff"):
        found = "UTF-8"
    elif len(text.lstrip("\ufeff")) != len(body):
        return      # a multi-byte encoding (Big5, Shift-JIS, UTF-16): its own reading
    else:
        gbk = _fits_as(body, "gbk")
        wide = [c for c in (gbk or "") if ord(c) > 127]
        cjk = sum("\u4e00" <= c <= "\u9fff" for c in wide)
        if gbk is None or gbk == text or cjk < 2 or cjk < len(wide):
            return
        found = "GBK"
    raise GeoplanInputError(
        f"the encoding '{enc}' does not fit the file: its bytes are {found} text, which "
        f"'{enc}' would read as other characters", path=path, field="encoding",
        hint=f"leave the encoding out (UTF-8 and GBK are detected), or give '{found.lower()}'")


def read_text_table(path: Path, encoding: str | None = None) -> pd.DataFrame:
    """Read a delimited text table as strings (no NA guessing); delimiter is sniffed."""
    text = decode_text(path, encoding)
    if not text.strip():
        raise GeoplanInputError("file has no content (only blanks)", path=path,
                                hint="re-export the data")
    header = text.lstrip("\ufeff").splitlines()[0]
    delimiter = max((",", "\t", ";", "|"), key=header.count)
    names = [c.strip() for c in next(csv.reader([header], delimiter=delimiter))]
    lower = [n.lower() for n in names]
    twice = sorted({n for n, low in zip(names, lower, strict=True)
                    if n and lower.count(low) > 1})
    if twice:
        raise GeoplanInputError(
            f"the header names a column more than once: {', '.join(twice)} (case ignored); "
            "only one of them could be read", path=path, row="line 1",
            hint="rename or remove the repeated column")
    try:
        df = pd.read_csv(io.StringIO(text), sep=delimiter, dtype=str, keep_default_na=False,
                         skipinitialspace=True, quoting=csv.QUOTE_MINIMAL)
    except (pd.errors.ParserError, csv.Error) as exc:
        raise GeoplanInputError(f"not a readable table ({str(exc).strip()})", path=path,
                                hint="check quoting and that every line has the same "
                                     "number of columns") from None
    df.columns = [str(c).strip().lstrip("\ufeff") for c in df.columns]
    if df.empty:
        raise GeoplanInputError("table has a header but no data rows", path=path,
                                hint="add at least one row")
    return df


def row_label(df: pd.DataFrame, pos: int, id_col: str | None = None) -> str:
    """Human label of the record at position ``pos`` (uses df.attrs['row_kind'])."""
    kind = df.attrs.get("row_kind", "line")
    number = pos + 2 if kind == "line" else pos + 1
    label = f"{kind} {number}"
    if id_col and id_col in df.columns:
        value = df[id_col].iloc[pos]
        if value is not None and str(value).strip():
            label += f" (id '{value}')"
    return label


_SEPARATORS = re.compile(r"[\s_\-]+")
_TRAILING_UNIT = re.compile(r"^(.+?)[(\[【]([^()\[\]【】]*)[)\]】]$")


def header_parts(name: object) -> tuple[str, str]:
    """A header as recognised names are matched: its key and the unit in brackets after it.

    The key is the header in NFKC form (full-width letters and brackets as ASCII), lower
    case, without whitespace, ``_`` and ``-``; a trailing bracketed unit is split off:
    ``"床位数（张）"`` -> ``("床位数", "张")``,
    ``"Fixed cost (万元)"`` -> ``("fixedcost", "万元")``.

    Parameters
    ----------
    name
        A column header.

    Returns
    -------
    tuple of str
        The key and the unit (``""`` when there is none).
    """
    text = _SEPARATORS.sub("", unicodedata.normalize("NFKC", str(name)).lower())
    m = _TRAILING_UNIT.match(text)
    return (m.group(1), m.group(2)) if m else (text, "")


def header_key(name: object) -> str:
    """The key of a header (see :func:`header_parts`): case, width, spaces, ``_``, ``-``
    and a bracketed unit do not count."""
    return header_parts(name)[0]


def find_column(df: pd.DataFrame, wanted: str | None, synonyms: Sequence[str]) -> str | None:
    """Return the column named ``wanted`` (exact) or the first synonym present.

    Synonyms match headers by :func:`header_key` (any case, full- or half-width, with or
    without spaces, ``_``, ``-`` or a unit in brackets); among headers that match one
    synonym, the first in the file wins (the others are reported as not used).
    """
    if wanted is not None:
        return wanted if wanted in df.columns else None
    keys: dict[str, str] = {}
    for c in df.columns:
        keys.setdefault(header_key(c), c)
    for name in synonyms:
        col = keys.get(header_key(name))
        if col is not None:
            return col
    return None


def warn_unused_columns(path: Path, unused: Sequence[str], section: str, keys: Sequence[str],
                        example_key: str, note: str = "", option: str | None = None,
                        column: str | None = None) -> None:
    """One warning naming the columns of a file that no field read (nothing is silent).

    Parameters
    ----------
    path
        The file.
    unused
        The headers of the columns not used, in file order.
    section
        The region.toml table of the layer (``facilities``, ``candidates``, ``population``).
    keys
        The column keys that table takes.
    example_key
        The key shown in the example (a field the file did not give, or ``KEY``).
    note
        What happens to the columns (default: they are left out).
    option
        The ``geoplan inspect`` option of ``example_key`` (default ``--example-key``).
    column
        The column shown in the example (default the first unused).
    """
    if not unused:
        return
    names = ", ".join(str(c) for c in unused)
    option = option or "--" + example_key.replace("_", "-")
    which = "KEY one of" if example_key == "KEY" else "keys"
    warnings.warn(GeoplanWarning(
        f"{path}: columns not used: {names}{note or ' (left out)'} -> to read one as a "
        f"field, name it under [{section}] in region.toml, e.g. {example_key} = "
        f"\"{column or unused[0]}\" ({which}: {', '.join(keys)}), or with {option} COLUMN on "
        "geoplan inspect; a column geoplan has no use for can stay"), stacklevel=3)


def require_column(df: pd.DataFrame, path: Path, field: str, wanted: str | None,
                   synonyms: Sequence[str], option: str, key: str | None = None) -> str:
    """Like :func:`find_column` but raise a clear error when the column is missing.

    ``option`` is the ``geoplan inspect`` option naming the column (``--beds``) and
    ``key`` its region.toml key (default: the option without ``--``, ``-`` as ``_``).
    """
    col = find_column(df, wanted, synonyms)
    if col is None:
        key = key or option.removeprefix("--").replace("-", "_")
        looked = f"'{wanted}'" if wanted else ", ".join(f"'{s}'" for s in synonyms[:6])
        raise GeoplanInputError(
            f"missing required column for {field} (looked for {looked}); "
            f"columns present: {', '.join(map(str, df.columns))}",
            path=path, field=field,
            hint=f"rename the column, or name it: {option.replace('_', '-')} COLUMN on the "
                 f"command line (geoplan inspect), or {key} = \"COLUMN\" under the layer's "
                 "table in region.toml",
        )
    return col


def parse_numbers(df: pd.DataFrame, col: str, path: Path, *, field: str,
                  id_col: str | None = None, required: np.ndarray | bool = True,
                  allow_negative: bool = False, what: str = "a number") -> np.ndarray:
    """Parse a column to floats, raising on text, NaN/inf, negatives and missing values.

    Parameters
    ----------
    required
        Boolean mask (or scalar) of rows where an empty value is an error; empty values
        elsewhere become NaN.
    """
    raw = df[col]
    as_text = raw.astype(str).str.strip()
    # Only blank cells count as missing; 'NaN', 'null' and other text are errors, so a
    # placeholder never silently becomes a missing (or zero) value.
    empty = raw.isna().to_numpy() | (as_text == "").to_numpy()
    values = pd.to_numeric(raw.where(~empty), errors="coerce").to_numpy(dtype=float)
    required_mask = np.broadcast_to(np.asarray(required, dtype=bool), values.shape)
    bad_text = ~empty & np.isnan(values)
    for mask, problem, hint in (
        (bad_text, "is not {what}: '{v}'", "write a plain number such as 120"),
        (~empty & np.isinf(values), "is infinite: '{v}'", "write a finite number"),
        (empty & required_mask, "is empty", "fill it in"),
        ((not allow_negative) & (values < 0), "is negative: '{v}'", "counts cannot be negative"),
    ):
        if mask.any():
            pos = int(np.flatnonzero(mask)[0])
            count = int(mask.sum())
            more = f" ({count - 1} more row(s) with the same problem)" if count > 1 else ""
            raise GeoplanInputError(
                f"value {problem.format(what=what, v=raw.iloc[pos])}{more}",
                path=path, row=row_label(df, pos, id_col), field=col, hint=hint)
    return values


def check_duplicate_ids(ids: pd.Series, df: pd.DataFrame, path: Path, col: str,
                        what: str = "facility") -> None:
    """Raise if an id occurs twice, naming both rows (``what`` has the id, for the hint)."""
    dup = ids.duplicated(keep=False).to_numpy()
    if dup.any():
        positions = np.flatnonzero(dup)
        first_value = ids.iloc[positions[0]]
        same = positions[(ids.iloc[positions] == first_value).to_numpy()]
        rows = " and ".join(row_label(df, int(p)) for p in same[:3])
        raise GeoplanInputError(
            f"duplicate id '{first_value}' ({rows}); {int(ids.duplicated().sum())} duplicate(s) "
            "in all", path=path, row=row_label(df, int(same[1])), field=col,
            hint=f"every {what} needs a unique id; renumber the duplicates")


def check_lonlat(lon: np.ndarray, lat: np.ndarray, df: pd.DataFrame, path: Path,
                 cols: tuple[str, str], id_col: str | None, china: bool) -> None:
    """Check longitude/latitude ranges; detect swapped columns; for Chinese systems, China."""
    lon_col, lat_col = cols
    bad_lat = np.abs(lat) > 90
    bad_lon = np.abs(lon) > 180
    swapped_hint = (f"the values look swapped: '{lat_col}' holds longitudes; exchange the "
                    f"'{lon_col}' and '{lat_col}' columns (or name them with --lon/--lat)")
    if bad_lat.any() or bad_lon.any():
        pos = int(np.flatnonzero(bad_lat | bad_lon)[0])
        looks_swapped = bool((np.abs(lat) <= 180).all() and (np.abs(lon) <= 90).all())
        field = lat_col if bad_lat[pos] else lon_col
        raise GeoplanInputError(
            f"latitude/longitude out of range (lon {lon[pos]}, lat {lat[pos]})",
            path=path, row=row_label(df, pos, id_col), field=field,
            hint=swapped_hint if looks_swapped else
            "latitudes lie in [-90, 90] and longitudes in [-180, 180]; if these are projected "
            "x/y metres, give the file's EPSG code as crs")
    if china:
        from geoplan.inputs.chinacrs import in_china

        outside = ~in_china(lon, lat)
        if outside.any():
            pos = int(np.flatnonzero(outside)[0])
            swapped_inside = bool(in_china(lat, lon)[outside].all())
            raise GeoplanInputError(
                f"{int(outside.sum())} point(s) lie outside China (lon {lon[pos]}, lat "
                f"{lat[pos]}), but GCJ-02/BD-09 coordinates only exist for China",
                path=path, row=row_label(df, pos, id_col), field=lon_col,
                hint=swapped_hint if swapped_inside else
                "check the coordinate columns and the crs (gcj02/bd09 are for China only)")


def warn_outside(inside: np.ndarray, path: Path, what: str, action: str,
                 population: np.ndarray | None = None) -> None:
    """Warn, with counts, about records outside the study area."""
    n_out = int((~inside).sum())
    if n_out == 0:
        return
    extra = ""
    if population is not None:
        extra = f", {population[~inside].sum():,.0f} people"
    warnings.warn(
        f"{path}: {n_out} of {inside.size} {what} lie outside the study area{extra}; {action}",
        GeoplanWarning, stacklevel=3)


def require_crs(gdf: gpd.GeoDataFrame, path: Path, given: object) -> None:
    """Raise if a vector layer has no CRS and none was given."""
    if gdf.crs is None and given is None:
        raise GeoplanInputError(
            "the layer has no coordinate reference system (for a shapefile: the .prj file is "
            "missing)", path=path, field="crs",
            hint="add the .prj file, or pass crs= (e.g. 'EPSG:4326', or 'gcj02' for Gaode)")
