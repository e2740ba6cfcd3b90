"""The package is layered as its data flows: no stage imports a stage above it.

inputs -> travel -> access -> optimize -> maps -> scenario -> cli (see ARCHITECTURE.md).
Every ``import`` in every module of ``geoplan/`` - at module level or inside a function -
is read with :mod:`ast`, resolved to a module path and checked against the order.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PKG = Path(__file__).resolve().parents[1] / "geoplan"

#: Stage order; modules outside a stage (``_errors``, ``_atomic``, the label catalogue)
#: are shared by all and import no stage.
STAGES = ["inputs", "travel", "access", "optimize", "maps", "scenario", "cli"]
SHARED = {"geoplan._errors", "geoplan._atomic", "geoplan.labels"}
#: The top level may hold only these modules.
TOP_LEVEL = {"__init__.py", "__main__.py", "_errors.py", "_atomic.py", "labels.py"}


def _module_name(path: Path) -> str:
    parts = path.relative_to(PKG.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _imports(path: Path, mod: str) -> list[tuple[int, str, list[str]]]:
    """(line, imported module, names) of every import statement of module ``mod``."""
    package = mod if path.name == "__init__.py" else mod.rpartition(".")[0]
    out = []
    for node in ast.walk(ast.parse(path.read_text("utf-8"))):
        if isinstance(node, ast.Import):
            out += [(node.lineno, a.name, []) for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")
                base = base[: len(base) - node.level + 1]
                target = ".".join(base + ([node.module] if node.module else []))
            else:
                target = node.module or ""
            out.append((node.lineno, target, [a.name for a in node.names]))
    return out


def _stage(module: str) -> int | None:
    """Index of the stage of a geoplan module; None for shared modules and the root."""
    parts = module.split(".")
    if parts[0] != "geoplan" or module in SHARED or len(parts) == 1:
        return None
    return STAGES.index(parts[1]) if parts[1] in STAGES else -1


def _modules() -> list[Path]:
    return sorted(p for p in PKG.rglob("*.py") if "__pycache__" not in p.parts)


def test_top_level_holds_only_the_shared_modules():
    top = {p.name for p in PKG.glob("*.py")}
    assert top <= TOP_LEVEL, f"modules outside a stage package: {sorted(top - TOP_LEVEL)}"
    dirs = {p.name for p in PKG.iterdir() if p.is_dir() and (p / "__init__.py").exists()}
    assert dirs == set(STAGES)


def _violations(path: Path, mod: str) -> list[str]:
    """Every import of ``mod`` (source ``path``) that breaks the layer order."""
    own = _stage(mod)
    bad = []
    for line, target, names in _imports(path, mod):
        if not target.startswith("geoplan"):
            continue
        if target == "geoplan":
            # the root package: its version string and the shared modules, nothing that
            # pulls in a stage
            if set(names) - {"__version__"} - {m.rpartition(".")[2] for m in SHARED}:
                bad.append(f"line {line}: from geoplan import {', '.join(names)}")
            continue
        theirs = _stage(target)
        if theirs == -1:
            bad.append(f"line {line}: imports {target}, outside every stage")
        elif own is None and theirs is not None:
            bad.append(f"line {line}: shared module imports stage {STAGES[theirs]} ({target})")
        elif own is not None and theirs is not None and theirs > own:
            bad.append(f"line {line}: {STAGES[own]} imports {STAGES[theirs]} ({target})")
    return bad


@pytest.mark.parametrize("path", _modules(), ids=lambda p: str(p.relative_to(PKG)))
def test_no_stage_imports_a_stage_above_it(path):
    mod = _module_name(path)
    if mod in ("geoplan", "geoplan.__main__"):
        return                                  # the public API and the entry point
    bad = _violations(path, mod)
    assert not bad, f"{mod}:\n" + "\n".join(bad)


def test_the_layer_check_sees_violations(tmp_path):
    """The checker itself finds upward imports, at module level, inside functions and
    relative ones (so the test above can fail)."""
    src = tmp_path / "fake.py"
    src.write_text("from geoplan.travel.times import snap_points\n"
                   "def f():\n    from geoplan.maps.canvas import coverage_map\n"
                   "from ..optimize import plan\n"
                   "from geoplan import read_facilities\n"
                   "from geoplan.io import read_facilities\n")
    bad = _violations(src, "geoplan.inputs.fake")
    lines = sorted(int(b.split(":")[0].split()[1]) for b in bad)
    assert lines == [1, 3, 4, 5, 6]
    lines = sorted(int(b.split(":")[0].split()[1]) for b in _violations(src, "geoplan.cli.x"))
    assert lines == [5, 6]                  # the top stage may import every stage below
    assert _violations(src, "geoplan._errors")          # shared modules import no stage


def test_pages_compute_nothing():
    """Maps and the scenario pages render the run's results: no travel context, no
    coverage computed there (they would disagree with the models' figures)."""
    offenders = []
    for p in [*sorted((PKG / "maps").rglob("*.py")), PKG / "scenario" / "outputs.py"]:
        for line, target, names in _imports(p, _module_name(p)):
            hit = {"travel_context", "coverage_by_cell", "coverage_by_unit"} & set(names)
            if hit or target.startswith(("geoplan.travel", "geoplan.access.coverage")):
                offenders.append(f"{p.relative_to(PKG)} line {line}: {target} {sorted(hit)}")
        if "travel_context(" in p.read_text("utf-8"):
            offenders.append(f"{p.relative_to(PKG)} calls travel_context(")
    assert not offenders, "\n".join(offenders)


def test_old_module_paths_still_import_with_a_deprecation_warning():
    import importlib
    import sys
    import warnings

    import geoplan
    for old, new in geoplan._MOVED.items():
        sys.modules.pop(old, None)
        with warnings.catch_warnings(record=True) as seen:
            warnings.simplefilter("always")
            mod = importlib.import_module(old)
        assert any(issubclass(w.category, DeprecationWarning) and new in str(w.message)
                   for w in seen), old
        real = importlib.import_module(new)
        public = [k for k in vars(real) if not k.startswith("_")]
        assert all(getattr(mod, k) is getattr(real, k) for k in public), old
    assert callable(geoplan.gaps) and callable(geoplan.isochrones)
