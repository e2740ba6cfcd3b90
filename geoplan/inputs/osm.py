"""OpenStreetMap files (XML, ``.osm.bz2``, PBF) into an osmnx street graph, as planners have them.

Two things real extracts need that ``osmnx.graph_from_xml`` does not do by itself:

* **Clipped extracts.** An extract cut at a boundary polygon (Geofabrik, ``osmium extract``,
  a government download) keeps the ways that cross the cut but not their nodes outside it.
  osmnx then stops with "Some edges missing nodes". Here every highway way is cut where
  its node references leave the file: each maximal run of two or more nodes present in the
  file becomes a way of its own (the first keeps the way's id, the others get new negative
  ids, OSM's convention for new objects); references outside the file and pieces of a
  single node are dropped. One warning counts them.
* **Travel times per way segment.** osmnx's default simplification merges consecutive
  edges of different ways into one edge whose tags become lists, so a speed rule later
  sees ``maxspeed = ["30", "20"]`` for the whole edge, or the slowest class of a mix, or a
  ``maxspeed`` that only part of it carries. The graph is built unsimplified and then
  simplified with ``edge_attrs_differ=SEGMENT_TAGS``: a node where any of these tags
  changes stays an endpoint, so every merged edge carries one value of each (the tags a
  travel profile reads) and its time is exactly the sum of its segments' times.

Both steps go through pyosmium (the libosmium bindings osmnx's ecosystem uses for PBF),
which reads OSM XML, bzip2/gzip XML and PBF alike; osmnx builds the graph from the
cleaned XML it writes.
"""

from __future__ import annotations

import tempfile
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import geopandas as gpd
import networkx as nx
import pandas as pd

from geoplan._errors import GeoplanInputError, GeoplanWarning

__all__ = ["PLACE_KINDS", "SEGMENT_TAGS", "ClipReport", "graph_from_osm_file", "places_of"]

#: Edge tags a travel profile reads (``geoplan/travel/profiles.py``: class, posted speed,
#: the ``no_snap_tags`` and ``access_tags`` of the shipped profiles) plus direction: each is
#: kept on the graph's edges, and a merged edge never spans two values of any of them.
#: ``tests/inputs/test_osm_extracts.py`` checks the shipped profiles read no other.
SEGMENT_TAGS: tuple[str, ...] = ("highway", "maxspeed", "oneway", "bridge", "tunnel",
                                  "access", "foot", "vehicle", "bicycle", "motor_vehicle",
                                  "motorcar")


#: OSM ``place=*`` values kept as named places (settlements and parts of them), which name
#: gap areas on maps and in reports ("near 李家岭村"); ``locality`` and the like are not
#: settlements and are left out.
PLACE_KINDS: tuple[str, ...] = ("city", "town", "village", "hamlet", "suburb", "quarter",
                                "neighbourhood", "isolated_dwelling")


@dataclass(frozen=True)
class ClipReport:
    """What reading an OSM file left out or cut.

    Attributes
    ----------
    ways
        Highway ways in the file.
    other_ways
        Ways without a ``highway`` tag (buildings, land use, rivers): not roads.
    missing_refs
        Node references of highway ways to nodes not in the file.
    cut_ways
        Highway ways with at least one such reference.
    pieces
        Ways written after cutting (each run of two or more nodes in the file).
    dropped_ways
        Highway ways with fewer than two of their nodes in the file.
    """

    ways: int
    other_ways: int
    missing_refs: int
    cut_ways: int
    pieces: int
    dropped_ways: int


def _runs(refs: list[int], present: set[int]) -> list[list[int]]:
    """Maximal runs of consecutive references present in the file, of two or more nodes."""
    out: list[list[int]] = []
    cur: list[int] = []
    for r in refs:
        if r in present:
            cur.append(r)
        else:
            if len(cur) >= 2:
                out.append(cur)
            cur = []
    if len(cur) >= 2:
        out.append(cur)
    return out


def _clean_xml(src: Path, out: Path,
               places: list[dict[str, Any]] | None = None) -> ClipReport:
    """Write the highway ways of ``src`` and their nodes to ``out`` (OSM XML), cut at the
    extract's edge; append the file's named place nodes to ``places``."""
    import osmium

    ways: list[tuple[int, list[int], dict[str, str]]] = []
    wanted: set[int] = set()
    other = 0
    for w in osmium.FileProcessor(str(src), osmium.osm.WAY):
        if "highway" not in w.tags:
            other += 1
            continue
        refs = [n.ref for n in w.nodes]
        ways.append((w.id, refs, {t.k: t.v for t in w.tags}))
        wanted.update(refs)
    present: set[int] = set()
    missing = cut = pieces = dropped = 0
    next_id = -1
    with osmium.SimpleWriter(str(out), overwrite=True) as writer:
        for n in osmium.FileProcessor(str(src), osmium.osm.NODE):
            if n.id in wanted:
                present.add(n.id)
                writer.add_node(n)
            if places is not None and n.tags.get("place") in PLACE_KINDS:
                name = n.tags.get("name:zh") or n.tags.get("name")
                if name and n.location.valid():
                    places.append({"name": name, "name_en": n.tags.get("name:en", ""),
                                   "place": n.tags["place"], "lon": n.location.lon,
                                   "lat": n.location.lat})
        for wid, refs, tags in ways:
            absent = sum(1 for r in refs if r not in present)
            if absent:
                missing += absent
                cut += 1
            runs = _runs(refs, present) if absent else ([refs] if len(refs) >= 2 else [])
            if not runs:
                dropped += 1
            for i, run in enumerate(runs):
                if i == 0:
                    rid = wid
                else:
                    rid, next_id = next_id, next_id - 1
                writer.add_way(osmium.osm.mutable.Way(id=rid, nodes=run, tags=tags))
                pieces += 1
    return ClipReport(ways=len(ways), other_ways=other, missing_refs=missing, cut_ways=cut,
                      pieces=pieces, dropped_ways=dropped)


def _report(p: Path, rep: ClipReport) -> None:
    if rep.ways == 0:
        raise GeoplanInputError("the road network has no edges (no highway ways found)",
                                path=p, hint="check that the extract contains roads "
                                "(ways tagged highway=*)")
    if rep.other_ways:
        warnings.warn(GeoplanWarning(
            f"{p}: {rep.other_ways:,} ways without a highway tag are not roads and were left "
            "out"), stacklevel=4)
    if rep.cut_ways:
        warnings.warn(GeoplanWarning(
            f"{p}: the extract is clipped: {rep.missing_refs:,} node references in "
            f"{rep.cut_ways:,} highway ways lie outside the file; those ways were cut at the "
            f"extract's edge ({rep.dropped_ways:,} with fewer than two nodes inside left out). "
            "Roads beyond the edge are unknown: clip the extract with a margin around the "
            "study area so no one's nearest route leaves it"), stacklevel=4)


def graph_from_osm_file(p: Path) -> tuple[nx.MultiDiGraph, ClipReport]:
    """Read an OSM XML / ``.osm.bz2`` / PBF file into an osmnx graph (WGS-84, metres).

    Parameters
    ----------
    p
        The file. Highway ways are kept; clipped ways are cut at the extract's edge.

    Returns
    -------
    networkx.MultiDiGraph
        osmnx graph, simplified so that no edge spans two values of any of
        :data:`SEGMENT_TAGS`; edge ``length`` in metres (great-circle, summed per
        segment).
    ClipReport
        What was left out or cut (also reported in warnings).

    Raises
    ------
    GeoplanInputError
        An unreadable file, or one with no highway way.
    """
    import osmnx as ox

    places: list[dict[str, Any]] = []
    with tempfile.TemporaryDirectory(prefix="geoplan-") as tmp:
        xml = Path(tmp) / "roads.osm"
        try:
            rep = _clean_xml(p, xml, places)
        except RuntimeError as exc:
            msg = str(exc).splitlines()[0][:200] if str(exc) else type(exc).__name__
            raise GeoplanInputError(f"cannot read the OSM file ({msg})", path=p,
                                    hint="check the file is complete OSM XML / PBF (re-download "
                                         "or re-export it)") from None
        _report(p, rep)
        if rep.pieces == 0:
            raise GeoplanInputError("the road network has no edges (no highway way has two "
                                    "of its nodes in the file)", path=p,
                                    hint="check that the extract contains roads with their "
                                         "nodes")
        kept = list(ox.settings.useful_tags_way)
        ox.settings.useful_tags_way = kept + [t for t in SEGMENT_TAGS if t not in kept]
        try:
            G = ox.graph_from_xml(xml, simplify=False, retain_all=True)
        finally:
            ox.settings.useful_tags_way = kept
    G = ox.simplify_graph(G, edge_attrs_differ=list(SEGMENT_TAGS))
    G.graph["places"] = places
    return G, rep


def places_of(G: nx.MultiDiGraph) -> gpd.GeoDataFrame:
    """The named places (OSM ``place=*`` nodes of :data:`PLACE_KINDS`) read with a network.

    :func:`graph_from_osm_file` keeps them in ``G.graph["places"]`` (they are in no way,
    so not in the graph itself); a network from elsewhere (GraphML, a download) has none.

    Parameters
    ----------
    G
        A graph from :func:`geoplan.inputs.readers.read_network`.

    Returns
    -------
    geopandas.GeoDataFrame
        ``name`` (``name:zh`` where tagged, else ``name``), ``name_en``, ``place`` and
        point geometry in WGS-84; empty when the file had no named places.
    """
    rows = G.graph.get("places") or []
    frame = pd.DataFrame(rows, columns=["name", "name_en", "place", "lon", "lat"])
    return gpd.GeoDataFrame(frame[["name", "name_en", "place"]],
                            geometry=gpd.points_from_xy(frame["lon"], frame["lat"]),
                            crs=4326)
