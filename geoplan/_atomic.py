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
import errno
import os
import re
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

import geopandas as gpd
import pandas as pd
import pyogrio

from geoplan._errors import GeoplanInputError

__all__ = ["TABLE_SUFFIXES", "atomic_path", "staged_files", "staged_folder", "write_table"]

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
        with _output_errors(target.parent):
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


#: errno values that mean "this folder cannot take the output" rather than a bug.
_FULL_OR_DENIED = {errno.ENOSPC, errno.EDQUOT, errno.EACCES, errno.EPERM, errno.EROFS}


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:          # someone else's live process
        return True
    return True


def _remove_stale(target: Path) -> None:
    """Remove staging folders of ``target`` left by runs that were killed (their process
    is gone): ``.<name>.partial-<pid>`` and ``.<name>.old-<pid>``."""
    pattern = re.compile(rf"^\.{re.escape(target.name)}\.(partial|old)-(\d+)$")
    with contextlib.suppress(OSError):
        for p in target.parent.iterdir():
            m = pattern.match(p.name)
            if m and int(m.group(2)) != os.getpid() and not _alive(int(m.group(2))):
                shutil.rmtree(p, ignore_errors=True)


def _output_error(exc: OSError, folder: Path) -> GeoplanInputError:
    full = exc.errno in (errno.ENOSPC, errno.EDQUOT)
    return GeoplanInputError(
        f"cannot write the output: {exc.strerror or exc}", path=folder,
        hint="free disk space (or choose another folder with --out) and run again"
        if full else "choose a folder you can write to (--out)")


@contextlib.contextmanager
def _output_errors(folder: Path) -> Iterator[None]:
    """Turn a full disk or a denied folder met while writing into a message naming it."""
    try:
        yield
    except OSError as exc:
        if exc.errno in _FULL_OR_DENIED:
            raise _output_error(exc, folder) from None
        raise


def _new_stage(target: Path, create: Path) -> Path:
    """The empty staging folder ``.<name>.partial-<pid>`` beside ``target``, after
    refusing a file as ``target``, creating ``create`` and removing stale staging."""
    if target.exists() and not target.is_dir():
        raise GeoplanInputError("the output path is an existing file, not a folder",
                                path=target, hint="give a folder name for the output (--out)")
    try:
        create.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise GeoplanInputError(f"cannot create the output folder: {exc.strerror or exc}",
                                path=create, hint="choose another output folder") from None
    _remove_stale(target)
    stage = target.parent / f".{target.name}.partial-{os.getpid()}"
    shutil.rmtree(stage, ignore_errors=True)
    try:
        stage.mkdir()
    except OSError as exc:
        raise _output_error(exc, target.parent) from None
    return stage


@contextlib.contextmanager
def staged_folder(target: str | os.PathLike[str]) -> Iterator[Path]:
    """Yield an empty staging folder; move it onto ``target`` only if the block succeeds.

    Why: an interrupted run (Ctrl-C, SIGTERM, solver crash, full disk) must leave the
    previous results intact and no half-written files. The staging folder is a hidden
    sibling of ``target`` (same file system, so the final moves are renames); on any
    exception, including KeyboardInterrupt, it is removed. Staging folders of earlier
    runs that were killed outright (SIGKILL, power loss) are removed on the next run.

    Parameters
    ----------
    target
        The output folder to create or replace.

    Raises
    ------
    GeoplanInputError
        ``target`` is an existing file; the folder cannot be created; the disk is full
        or the folder not writable while writing (the previous results stay).
    """
    target = Path(target)
    stage = _new_stage(target, target.parent)
    old = target.parent / f".{target.name}.old-{os.getpid()}"
    try:
        with _output_errors(target):
            yield stage
    except BaseException:
        shutil.rmtree(stage, ignore_errors=True)
        raise
    try:
        if target.exists():
            os.replace(target, old)
        os.replace(stage, target)
    except OSError as exc:
        if old.exists() and not target.exists():
            with contextlib.suppress(OSError):
                os.replace(old, target)      # the previous results back in place
        shutil.rmtree(stage, ignore_errors=True)
        raise GeoplanInputError(f"cannot put the output in place: {exc.strerror or exc}",
                                path=target, hint="close files of it open in other "
                                                  "programs and run again") from None
    shutil.rmtree(old, ignore_errors=True)


@contextlib.contextmanager
def staged_files(folder: str | os.PathLike[str]) -> Iterator[Path]:
    """Yield a staging folder; on success move every file written in it into ``folder``.

    Why: a command that writes several files into a folder the user already keeps other
    things in (``coverage --out``, ``optimize --out``) must write all of them or none;
    replacing the whole folder (:func:`staged_folder`) would delete the user's files.
    Each file is moved with :func:`os.replace` once all are written; on any error,
    including Ctrl-C and a full disk, nothing reaches ``folder``.

    Raises
    ------
    GeoplanInputError
        ``folder`` is an existing file; it cannot be created; the disk is full or the
        folder not writable.
    """
    target = Path(folder).absolute()
    stage = _new_stage(target, target)
    try:
        with _output_errors(target):
            yield stage
            for p in sorted(stage.rglob("*")):
                if p.is_file():
                    dest = target / p.relative_to(stage)
                    dest.parent.mkdir(parents=True, exist_ok=True)
                    os.replace(p, dest)
    finally:
        shutil.rmtree(stage, ignore_errors=True)


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
        try:
            if suffix == ".csv":
                out = df
                if isinstance(df, gpd.GeoDataFrame):
                    out = pd.DataFrame(df.drop(columns=df.geometry.name))
                    out["geometry"] = df.geometry.to_wkt().to_numpy()
                out.to_csv(tmp, index=False, encoding="utf-8-sig")
            else:
                pyogrio.write_dataframe(df, tmp, layer=layer or target.stem, driver="GPKG")
        except OSError as exc:
            raise _output_error(exc, target.parent) from None
        except (pyogrio.errors.DataSourceError, pyogrio.errors.DataLayerError,
                pyogrio.errors.FeatureError) as exc:   # GDAL words for a full disk
            raise GeoplanInputError(f"cannot write the file: {exc}", path=target,
                                    hint="free disk space or choose a folder you can "
                                         "write to (--out), and run again") from None
    return target
