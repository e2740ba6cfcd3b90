"""Readers on real third-party data (Porto Alegre); skipped when ../shared/data is absent."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from conftest import shared_path

from geoplan.inputs.readers import read_network, read_population


@pytest.fixture(scope="module")
def poa_graph():
    return read_network(shared_path("porto_alegre", "poa_osm.pbf"))


def test_porto_alegre_pbf_loads(poa_graph):
    g = poa_graph
    assert "32722" in str(g.graph["crs"])  # UTM 22S
    assert g.number_of_nodes() > 10_000 and g.number_of_edges() > 20_000
    highways = {d["highway"] if isinstance(d["highway"], str) else d["highway"][0]
                for _, _, d in g.edges(data=True)}
    assert {"primary", "secondary", "residential"} <= highways
    oneway = np.mean([bool(d.get("oneway")) for _, _, d in g.edges(data=True)])
    assert 0.05 < oneway < 0.6


def test_porto_alegre_population_grid():
    path = shared_path("porto_alegre", "poa_hexgrid.csv")
    pop = read_population(path)
    raw = pd.read_csv(path)
    assert pop["population"].sum() == pytest.approx(812_935)
    assert len(pop) == int((raw["population"] > 0).sum())
    assert "32722" in str(pop.crs)


def test_porto_alegre_network_reaches_population(poa_graph):
    from geoplan import StudyArea

    pop = read_population(shared_path("porto_alegre", "poa_hexgrid.csv"))
    area = StudyArea(crs=pop.crs, outline=pop.union_all().convex_hull)
    xy = np.array([(d["x"], d["y"]) for _, d in poa_graph.nodes(data=True)])
    from scipy.spatial import cKDTree

    dist, _ = cKDTree(xy).query(np.column_stack([pop.geometry.x, pop.geometry.y]))
    # hexagon centres (res 9, ~175 m edge) all lie within a few hundred metres of a road node
    assert np.percentile(dist, 95) < 300
    assert area.area_km2 > 100
