"""Tiny OSM XML road files for reader tests (written, not downloaded)."""

from __future__ import annotations

from pathlib import Path


def grid_osm(n: int = 4, lon0: float = 114.30, lat0: float = 30.05, step: float = 0.001,
             oneway_first_row: bool = True, with_ways: bool = True) -> str:
    """An n x n street grid; the first row is a one-way primary road, the rest residential."""
    nodes, ways = [], []
    nid = lambda r, c: 1 + r * n + c  # noqa: E731
    for r in range(n):
        for c in range(n):
            nodes.append(f'  <node id="{nid(r, c)}" version="1" timestamp="2024-01-01T00:00:00Z" '
                         f'lat="{lat0 + r * step:.7f}" lon="{lon0 + c * step:.7f}"/>')
    wid = 1000
    if with_ways:
        for r in range(n):
            refs = "".join(f'<nd ref="{nid(r, c)}"/>' for c in range(n))
            hw = "primary" if r == 0 else "residential"
            one = '<tag k="oneway" v="yes"/>' if (r == 0 and oneway_first_row) else ""
            ways.append(f'  <way id="{wid}" version="1" timestamp="2024-01-01T00:00:00Z">{refs}'
                        f'<tag k="highway" v="{hw}"/><tag k="name" v="路{r}"/>{one}</way>')
            wid += 1
        for c in range(n):
            refs = "".join(f'<nd ref="{nid(r, c)}"/>' for r in range(n))
            ways.append(f'  <way id="{wid}" version="1" timestamp="2024-01-01T00:00:00Z">{refs}'
                        f'<tag k="highway" v="residential"/></way>')
            wid += 1
    ways.append('  <way id="9999" version="1" timestamp="2024-01-01T00:00:00Z">'
                f'<nd ref="{nid(0, 0)}"/><nd ref="{nid(1, 1)}"/><tag k="building" v="yes"/></way>'
                if False else "")
    return ('<?xml version="1.0" encoding="UTF-8"?>\n<osm version="0.6" generator="test">\n'
            + "\n".join(nodes + ways) + "\n</osm>\n")


def write_osm(path: Path, **kwargs) -> Path:
    """Write :func:`grid_osm` to ``path`` (bz2-compressed if the name ends in .bz2)."""
    text = grid_osm(**kwargs)
    if path.name.endswith(".bz2"):
        import bz2

        path.write_bytes(bz2.compress(text.encode("utf-8")))
    else:
        path.write_text(text, "utf-8")
    return path
