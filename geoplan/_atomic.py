"""Atomic file writing: a result file is either complete or absent, never half-written.

A planner opening ``coverage_units.csv`` in Excel while a run is writing it, or a run
interrupted by Ctrl-C or a full disk, must not leave a truncated table that looks like a
result. Every writer here writes to a temporary file in the *same folder* (so the final
step is a rename within one file system) and then replaces the target with
:func:`os.replace`, which is atomic on POSIX and Windows. On any error the temporary
file is removed and the previous target, if any, is left untouched.

CSV files are written as UTF-8 **with a byte-order mark** (``utf-8-sig``): Excel on a
Chinese Windows otherwise reads UTF-8 as GBK and garbles every Chinese name.
"""

from __future__ import annotations

import contextlib
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path

import geopandas as gpd
import pandas as pd
import pyogrio

from geoplan._errors import GeoplanInputError

__all__ = ["TABLE_SUFFIXES", "atomic_path", "write_table"]

#: File types :func:`write_table` can write.
TABLE_SUFFIXES = (".csv", ".gpkg")


def _prepare_folder(target: Path) -> None:
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise GeoplanInputError(f"cannot create the output folder: {exc.strerror or exc}",
                                path=target.parent,
                                hint="choose a folder you can write to (--out)") from None
    if target.is_dir():
        raise GeoplanInputError("the output path is a folder", path=target,
                                hint="give a file name")


@contextlib.contextmanager
def atomic_path(path: str | os.PathLike[str]) -> Iterator[Path]:
    """Yield a temporary path beside ``path``; on success move it onto ``path`` atomically.

    Why: a reader must never see a half-written result (interrupted run, full disk,
    failing writer); the previous file stays in place until the new one is complete.

    The temporary file has the same suffix as ``path`` (drivers that pick the format
    from the suffix still work) and a name starting with ``.`` and ending before the
    suffix in ``.tmp``. Missing parent folders are created.

    Parameters
    ----------
    path
        The file to (re)place.

    Yields
    ------
    pathlib.Path
        Where to write. It does not exist when yielded (some writers, e.g. GeoPackage,
        refuse to write into an existing empty file).

    Raises
    ------
    GeoplanInputError
        If the folder cannot be created or written to, or if the final rename fails
        (e.g. the target is open in another program on Windows).
    """
    target = Path(path)
    _prepare_folder(target)
    try:
        fd, name = tempfile.mkstemp(prefix=f".{target.stem}.", suffix=f".tmp{target.suffix}",
                                    dir=target.parent)
    except OSError as exc:
        raise GeoplanInputError(f"cannot write in the output folder: {exc.strerror or exc}",
                                path=target.parent,
                                hint="choose a folder you can write to (--out)") from None
    os.close(fd)
    tmp = Path(name)
    tmp.unlink()
    try:
        yield tmp
        try:
            os.replace(tmp, target)
        except OSError as exc:
            raise GeoplanInputError(
                f"cannot replace the file: {exc.strerror or exc}", path=target,
                hint="close it in other programs (Excel, QGIS) and run again") from None
    finally:
        for leftover in (tmp, tmp.with_name(tmp.name + "-journal")):
            with contextlib.suppress(FileNotFoundError):
                leftover.unlink()


def write_table(df: pd.DataFrame, path: str | os.PathLike[str], *,
                layer: str | None = None) -> Path:
    """Write a table atomically as CSV (UTF-8 with BOM) or as a GeoPackage layer.

    Why: result tables are opened by planners in Excel (CSV, Chinese names must
    survive) and in QGIS (GeoPackage); both must appear complete or not at all.

    Parameters
    ----------
    df
        The table. For ``.csv`` a GeoDataFrame's geometry is written as WKT in a
        ``geometry`` column; for ``.gpkg`` a GeoDataFrame becomes a spatial layer and a
        plain DataFrame an attribute-only table.
    path
        Target file; its suffix (``.csv`` or ``.gpkg``) picks the format. Missing parent
        folders are created.
    layer
        GeoPackage layer name (default: the file's stem). The file is written anew with
        this one layer.

    Returns
    -------
    pathlib.Path
        The written path.

    Raises
    ------
    GeoplanInputError
        Unknown suffix, a folder that cannot be written, or a file that cannot be
        replaced.
    """
    target = Path(path)
    suffix = target.suffix.lower()
    if suffix not in TABLE_SUFFIXES:
        raise GeoplanInputError(f"cannot write tables as '{suffix or target.name}'",
                                path=target, hint="use a .csv or .gpkg file name")
    with atomic_path(target) as tmp:
        if suffix == ".csv":
            out = df
            if isinstance(df, gpd.GeoDataFrame):
                out = pd.DataFrame(df.drop(columns=df.geometry.name))
                out["geometry"] = df.geometry.to_wkt().to_numpy()
            out.to_csv(tmp, index=False, encoding="utf-8-sig")
        else:
            pyogrio.write_dataframe(df, tmp, layer=layer or target.stem, driver="GPKG")
    return target
