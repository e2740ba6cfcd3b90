"""Atomic table writing: complete files or none, Excel-readable CSV, GeoPackage layers."""

from __future__ import annotations

import errno
import os
import subprocess
import sys

import geopandas as gpd
import numpy as np
import pandas as pd
import pyogrio
import pytest
import shapely

from geoplan import GeoplanInputError
from geoplan._atomic import atomic_path, staged_files, staged_folder, write_table


def table():
    return pd.DataFrame({"admin_code": ["990101001", "total"], "admin_name": ["城北街道", ""],
                         "population": [180734.4, 1021972.0], "covered": [True, False]})


def test_csv_has_bom_and_round_trips(tmp_path):
    p = write_table(table(), tmp_path / "units.csv")
    raw = p.read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf")
    assert "城北街道".encode() in raw
    back = pd.read_csv(p, encoding="utf-8-sig", dtype={"admin_code": str})
    assert back["admin_code"].tolist() == ["990101001", "total"]
    assert back["admin_name"].iloc[0] == "城北街道"
    assert list(tmp_path.iterdir()) == [p]


def test_geopackage_layers_with_and_without_geometry(tmp_path):
    gdf = gpd.GeoDataFrame(table(), geometry=[shapely.box(0, 0, 1, 1), None], crs=32650)
    p = write_table(gdf, tmp_path / "out" / "units.gpkg")
    assert pyogrio.list_layers(p)[:, 0].tolist() == ["units"]
    back = gpd.read_file(p)
    assert back.crs.to_epsg() == 32650
    assert back["admin_name"].tolist() == ["城北街道", ""]
    assert back.geometry.iloc[0].equals(shapely.box(0, 0, 1, 1))
    # rewriting replaces the file (no "layer exists" error), attribute-only works too
    write_table(table(), p, layer="plain")
    assert pyogrio.list_layers(p)[:, 0].tolist() == ["plain"]
    plain = pyogrio.read_dataframe(p)
    assert plain["population"].tolist() == [180734.4, 1021972.0]
    assert sorted(x.name for x in p.parent.iterdir()) == ["units.gpkg"]


def test_csv_of_geodataframe_writes_wkt(tmp_path):
    gdf = gpd.GeoDataFrame({"id": [1]}, geometry=[shapely.Point(1, 2)], crs=32650)
    p = write_table(gdf, tmp_path / "pts.csv")
    back = pd.read_csv(p, encoding="utf-8-sig")
    assert back["geometry"].tolist() == ["POINT (1 2)"]


def test_failure_keeps_the_old_file_and_leaves_no_temp(tmp_path):
    p = tmp_path / "units.csv"
    p.write_text("old", encoding="utf-8")
    with pytest.raises(RuntimeError), atomic_path(p) as tmp:
        tmp.write_text("half", encoding="utf-8")
        raise RuntimeError("disk full")
    assert p.read_text(encoding="utf-8") == "old"
    assert list(tmp_path.iterdir()) == [p]

    class Broken(pd.DataFrame):
        def to_csv(self, path, **kwargs):
            with open(path, "w") as fh:
                fh.write("partial")
            raise OSError("no space left on device")

    with pytest.raises(GeoplanInputError, match="no space") as e:   # named, not a traceback
        write_table(Broken(table()), p)
    assert str(tmp_path) in str(e.value)
    assert p.read_text(encoding="utf-8") == "old"
    assert list(tmp_path.iterdir()) == [p]


def test_temp_file_is_beside_the_target_with_its_suffix(tmp_path):
    with atomic_path(tmp_path / "a.gpkg") as tmp:
        assert tmp.parent == tmp_path and tmp.suffix == ".gpkg" and not tmp.exists()
        tmp.write_bytes(b"x")
    assert (tmp_path / "a.gpkg").read_bytes() == b"x"


def test_bad_targets(tmp_path):
    with pytest.raises(GeoplanInputError, match=r"cannot write tables as '\.xlsx'"):
        write_table(table(), tmp_path / "units.xlsx")
    (tmp_path / "dir.csv").mkdir()
    with pytest.raises(GeoplanInputError, match="is a folder"):
        write_table(table(), tmp_path / "dir.csv")
    blocker = tmp_path / "file"
    blocker.write_text("x")
    with pytest.raises(GeoplanInputError, match="cannot create the output folder"):
        write_table(table(), blocker / "sub" / "units.csv")
    assert not np.any([p.name.startswith(".") for p in tmp_path.iterdir()])


def _full(*_args, **_kwargs):
    raise OSError(errno.ENOSPC, "No space left on device")


def test_a_full_disk_in_a_staged_folder_keeps_the_old_results_and_says_so(tmp_path):
    out = tmp_path / "run"
    out.mkdir()
    (out / "summary.json").write_text("old", encoding="utf-8")
    with pytest.raises(GeoplanInputError, match="free disk space") as e, \
            staged_folder(out) as stage:
        (stage / "a.csv").write_text("new", encoding="utf-8")
        _full()
    assert str(out) in str(e.value)
    assert (out / "summary.json").read_text(encoding="utf-8") == "old"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["run"]      # no staging left


def test_staged_files_write_all_or_nothing_and_keep_the_users_other_files(tmp_path):
    out = tmp_path / "out"
    out.mkdir()
    (out / "mine.txt").write_text("keep", encoding="utf-8")
    with pytest.raises(GeoplanInputError, match="disk"), staged_files(out) as stage:
        write_table(table(), stage / "a.csv")
        write_table(table(), stage / "b.csv")
        _full()
    assert sorted(p.name for p in out.iterdir()) == ["mine.txt"]       # none of a, b
    with staged_files(out) as stage:
        write_table(table(), stage / "a.csv")
        write_table(table(), stage / "b.csv")
    assert sorted(p.name for p in out.iterdir()) == ["a.csv", "b.csv", "mine.txt"]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out"]


def test_an_existing_file_is_not_replaced_by_an_output_folder(tmp_path):
    f = tmp_path / "some_file"
    f.write_text("precious", encoding="utf-8")
    for stage in (staged_folder, staged_files):
        with pytest.raises(GeoplanInputError, match="existing file"), stage(f):
            pass
    assert f.read_text(encoding="utf-8") == "precious"


def test_staging_left_by_a_killed_run_is_removed_by_the_next(tmp_path):
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"],
                          capture_output=True, text=True, check=True)
    pid = int(dead.stdout)                      # a process that has ended
    stale = tmp_path / f".run.partial-{pid}"
    stale.mkdir()
    (stale / "half.csv").write_text("x", encoding="utf-8")
    live = tmp_path / f".run.partial-{os.getppid()}"   # a live process's: kept
    live.mkdir()
    with staged_folder(tmp_path / "run") as stage:
        (stage / "a.csv").write_text("new", encoding="utf-8")
    assert not stale.exists() and live.exists()
    assert (tmp_path / "run" / "a.csv").exists()
