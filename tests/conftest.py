"""Shared fixtures: demo data paths, the optional shared reference data, file makers."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pytest
from hypothesis import settings

# Property tests are derandomised by default (the same examples on every run and in CI,
# so main stays green and a failure reproduces); HYPOTHESIS_PROFILE=soak searches wider
# and at random, for local soaks.
settings.register_profile("ci", derandomize=True, deadline=None, print_blob=True)
settings.register_profile("soak", derandomize=False, deadline=None, max_examples=2000,
                          print_blob=True)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))

ROOT = Path(__file__).resolve().parents[1]
DEMO = ROOT / "data" / "demo"
SHARED = ROOT.parent / "shared" / "data"


@pytest.fixture
def demo_dir() -> Path:
    """The embedded demo region."""
    return DEMO


#: OSM's access hierarchy per mode, written out here from the OSM wiki (general to specific;
#: the values that bar the mode) so reference shortest paths do not reuse geoplan's profiles.
OSM_ACCESS = {"walk": (("access", "foot"), {"no", "private"}),
              "ebike": (("access", "vehicle", "bicycle"), {"no", "private", "use_sidepath"}),
              "drive": (("access", "vehicle", "motor_vehicle", "motorcar"), {"no", "private"})}


def osm_barred(tags, mode: str) -> bool:
    """Whether OSM tags bar ``mode``: the most specific access key present decides."""
    keys, bar = OSM_ACCESS[mode]
    for key in reversed(keys):
        value = tags.get(key)
        if value is None or (isinstance(value, float) and value != value):
            continue
        parts = value if isinstance(value, (list, tuple)) else [value]
        return any(w.strip().lower() in bar for part in parts for w in str(part).split(";"))
    return False


def shared_path(*parts: str) -> Path:
    """Path inside ../shared/data, skipping the test when it is absent."""
    p = SHARED.joinpath(*parts)
    if not p.exists():
        pytest.skip(f"reference data not available: {p}")
    return p


@pytest.fixture
def write(tmp_path: Path):
    """Write text (or bytes) to a file in tmp_path and return its path."""

    def _write(name: str, content: str | bytes, encoding: str = "utf-8") -> Path:
        p = tmp_path / name
        if isinstance(content, bytes):
            p.write_bytes(content)
        else:
            p.write_text(content, encoding=encoding)
        return p

    return _write


def write_raster(path: Path, data: np.ndarray, *, crs: str | None = "EPSG:32650",
                 origin: tuple[float, float] = (500_000.0, 3_300_000.0), res: float = 100.0,
                 nodata: float | None = -99999.0, tags: dict | None = None) -> Path:
    """Write a single-band float32 GeoTIFF with north-up cells of ``res`` units."""
    import rasterio
    from rasterio.transform import from_origin

    profile = {"driver": "GTiff", "height": data.shape[0], "width": data.shape[1], "count": 1,
               "dtype": "float32", "transform": from_origin(origin[0], origin[1], res, res)}
    if crs is not None:
        profile["crs"] = crs
    if nodata is not None:
        profile["nodata"] = nodata
    with rasterio.open(path, "w", **profile) as dst:
        dst.write(data.astype("float32"), 1)
        if tags:
            dst.update_tags(**tags)
    return path


def load_sf() -> tuple[np.ndarray, np.ndarray, list[str]]:
    """spopt's San Francisco instance: tract x store distances (m), POP2000, store names.

    Pivoted as spopt's own tests do (rows sorted by tract NAME, stores in numeric order);
    skips when ../shared/data/spopt_sf is absent.
    """
    import pandas as pd
    folder = shared_path("spopt_sf")
    d = pd.read_csv(folder / "SF_network_distance_candidateStore_16_censusTract_205_new.csv",
                    dtype={"DestinationName": str})
    dist = d.pivot_table(index="DestinationName", columns="name", values="distance")
    demand = pd.read_csv(folder / "SF_demand_205_centroid_uniform_weight.csv",
                         dtype={"NAME": str}).sort_values("NAME")
    dist = dist.loc[demand["NAME"]]
    stores = sorted(dist.columns, key=lambda s: int(s.split("_")[1]))
    return dist[stores].to_numpy(), demand["POP2000"].to_numpy(float), stores


@pytest.fixture(scope="session")
def zh_run(tmp_path_factory):
    """A Chinese scenario run with every model kind (``tests/zh_pages.py``): the run
    result and its output folder, made once for the label tests and the browser tests."""
    from zh_pages import run_zh_pages

    return run_zh_pages(tmp_path_factory.mktemp("zh_pages"))


@pytest.fixture(scope="session")
def browser():
    """One headless Chromium per test worker, offline (``tests/browser_pages.py``); the
    test is skipped, saying why, where none is installed."""
    from browser_pages import start_browser

    yield from start_browser()


@pytest.fixture(scope="session")
def shipped_runs(tmp_path_factory):
    """Every shipped demo scenario run once per worker, maps and report included (the
    README's main job): ``(file, spec, RunResult, output folder)`` each."""
    import tomllib

    from geoplan.scenario.run import run_scenario

    out = tmp_path_factory.mktemp("shipped")
    cache: dict = {}
    runs = []
    for f in sorted((DEMO / "scenarios").glob("*.toml")):
        spec = tomllib.loads(f.read_text(encoding="utf-8"))
        res = run_scenario(f, output=out / f.stem, region_cache=cache)
        runs.append((f, spec, res, out / f.stem))
    return runs
