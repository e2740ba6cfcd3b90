"""The notebooks run offline on the demo data, top to bottom, without errors, and show
plots and (01) the map inline."""

from __future__ import annotations

import pytest
from conftest import ROOT

nbformat = pytest.importorskip("nbformat")
nbclient = pytest.importorskip("nbclient")


@pytest.mark.parametrize("name", ["01_catchment_gaps.ipynb", "02_scenarios.ipynb"])
def test_notebook_runs(name, tmp_path):
    nb = nbformat.read(ROOT / "notebooks" / name, as_version=4)
    # allow_errors: every cell runs and the check below names the failing ones (without
    # it, execute() raises at the first error and the assertion could never fail)
    client = nbclient.NotebookClient(nb, timeout=300, kernel_name="python3",
                                     allow_errors=True,
                                     resources={"metadata": {"path": str(ROOT)}})
    client.execute()
    errors = [(i, o.get("ename"), o.get("evalue")) for i, c in enumerate(nb.cells)
              if c.cell_type == "code" for o in c.get("outputs", [])
              if o.get("output_type") == "error"]
    assert not errors, f"cells that raised: {errors}"
    outputs = [o for c in nb.cells if c.cell_type == "code" for o in c.get("outputs", [])]
    kinds = {k for o in outputs for k in o.get("data", {})}
    # at least one plot (a matplotlib PNG or an SVG chart) in every notebook
    assert kinds & {"image/png", "image/svg+xml"}, f"{name}: no plot shown ({kinds})"
    # a notebook reads as a report: no assert lines in its cells
    assert not [c.source for c in nb.cells if c.cell_type == "code"
                and any(line.lstrip().startswith("assert ") for line in c.source.splitlines())]
    if name == "01_catchment_gaps.ipynb":        # the map shown inline, offline
        html = [o["data"]["text/html"] for o in outputs if "text/html" in o.get("data", {})]
        assert any("<iframe srcdoc=" in h and "Leaflet" in h for h in html)
