"""Demand layers: further population grids of a region (e.g. residents aged 65+)."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
from conftest import write_raster

from geoplan import GeoplanInputError, GeoplanWarning
from geoplan.inputs.region import load_region

TOTAL = np.array([[10.0, 20.0, 0.0], [5.0, 40.0, 8.0]])


def _region(tmp_path, layer: np.ndarray | None = None, extra: str = "",
            origin=(500_000.0, 3_300_000.0)) -> str:
    write_raster(tmp_path / "pop.tif", TOTAL)
    text = '[population]\npath = "pop.tif"\n'
    if layer is not None:
        write_raster(tmp_path / "old.tif", layer, origin=origin)
        text += ('[demand_layers.age65]\npath = "old.tif"\nname = "aged 65+"\n'
                 'name_zh = "65岁及以上"\n')
    (tmp_path / "region.toml").write_text(text + extra, encoding="utf-8")
    return str(tmp_path)


def test_a_demand_layer_is_a_column_on_the_same_cells(tmp_path):
    old = TOTAL * 0.2
    r = load_region(_region(tmp_path, old), layers=["population"])
    assert r.demand_layers == {"age65": {"name": "aged 65+", "name_zh": "65岁及以上"}}
    p = r.population
    assert p["demand_age65"].sum() == pytest.approx(old.sum(), rel=1e-6)
    assert np.allclose(p["demand_age65"], 0.2 * p["population"], rtol=1e-6)


def test_a_layer_on_another_grid_is_refused(tmp_path):
    with pytest.raises(GeoplanInputError, match="does not have") as e:
        load_region(_region(tmp_path, TOTAL * 0.2, origin=(500_050.0, 3_300_000.0)),
                    layers=["population"])
    assert "same grid" in e.value.hint


def test_a_group_larger_than_everyone_is_named(tmp_path):
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", GeoplanWarning)
        load_region(_region(tmp_path, TOTAL * 1.5), layers=["population"])
    assert any("more people than the total" in str(c.message) for c in caught)


@pytest.mark.parametrize("extra, match", [
    ('[demand_layers.Age]\npath = "pop.tif"\n', "lower-case"),
    ('[demand_layers.total]\npath = "pop.tif"\n', "not 'total'"),
    ("[demand_layers.kids]\nname = \"x\"\n", "needs a path"),
    ('[demand_layers.kids]\npath = "pop.tif"\nunit = "x"\n', "unknown key 'unit'"),
])
def test_bad_demand_tables_are_named(tmp_path, extra, match):
    with pytest.raises(GeoplanInputError, match=match):
        load_region(_region(tmp_path, None, extra), layers=["population"])
