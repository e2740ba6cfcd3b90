"""The notebooks run offline on the demo data, top to bottom, without errors."""

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
    assert any(c.get("outputs") for c in nb.cells if c.cell_type == "code")
