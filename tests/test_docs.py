"""The documentation site: built with ``mkdocs build --strict``, and true to the code.

The build test is how CI builds the docs: any MkDocs, mkdocstrings or griffe warning (a
broken link, an unknown cross-reference, a docstring griffe cannot parse) fails it, and
it runs with every proxy pointing at a closed port, so a plugin that fetches anything
from the internet fails too. The other tests read the Markdown pages and compare them
with what the code accepts, so a key added to the region manifest, to a scenario kind or
to the travel profiles without its line in the docs fails the suite:

* ``docs/region.md``: one table per manifest table; its keys must be exactly the keys
  :func:`geoplan.inputs.region.read_manifest` accepts (``region._ALLOWED``, the parser's
  own key sets);
* ``docs/scenario.md``: one table per scenario table and per model kind; the keys must be
  the fields of the spec dataclasses (``CoverageSpec``, ``ModelSpec``, ``SiteModelSpec``
  and each class of ``MODEL_SPECS``) and the keys the parser accepts (``TOP_KEYS``,
  ``INPUT_KEYS``, ``TRAVEL_KEYS``, ``COVERAGE_KEYS``, ``MODEL_KEYS``), with their types
  and defaults;
* ``docs/travel.md``: the class table must list every OSM class ``profiles.toml`` names,
  and every speed and factor in it must be the profiles' own;
* ``docs/api.md``: one ``:::`` block per name of ``geoplan.__all__``.
"""

from __future__ import annotations

import dataclasses
import importlib.util
import os
import re
import subprocess
import sys
import time
import tomllib
from pathlib import Path

import pytest

import geoplan
from geoplan.inputs import readers, region
from geoplan.scenario import spec
from geoplan.travel import profiles as profiles_mod
from geoplan.travel.profiles import default_profiles

ROOT = Path(__file__).resolve().parents[1]
DOCS = ROOT / "docs"

#: The pages of the site (every one must be in mkdocs.yml's nav).
PAGES = ("index.md", "tutorial-your-city.md", "region.md", "scenario.md", "travel.md",
         "models.md", "api.md")


# --------------------------------------------------------------------------- helpers


def _page(name: str) -> str:
    return (DOCS / name).read_text("utf-8")


def _sections(text: str) -> dict[str, str]:
    """Level-2 sections of a page: heading text -> body (code blocks removed)."""
    text = re.sub(r"^```.*?^```", "", text, flags=re.M | re.S)
    parts = re.split(r"^## (.+)$", text, flags=re.M)
    return {parts[i].strip(): parts[i + 1] for i in range(1, len(parts), 2)}


def _rows(body: str) -> dict[str, list[str]]:
    """Table rows whose first cell is a backticked key: key -> the other cells."""
    out: dict[str, list[str]] = {}
    for line in body.splitlines():
        m = re.match(r"^\|\s*`([A-Za-z_][A-Za-z0-9_]*)`\s*\|(.*)\|\s*$", line)
        if m:
            key = m.group(1)
            assert key not in out, f"key `{key}` is documented twice in one table"
            out[key] = [c.strip() for c in m.group(2).split("|")]
    return out


def _section(sections: dict[str, str], pattern: str) -> str:
    found = [body for head, body in sections.items() if re.fullmatch(pattern, head)]
    assert len(found) == 1, f"expected one section matching {pattern!r}, found {len(found)}"
    return found[0]


def _plain(value: object) -> object:
    """Tuples as lists, for comparing dataclass defaults with TOML values."""
    return [_plain(v) for v in value] if isinstance(value, (tuple, list)) else value


# --------------------------------------------------------------------------- the build


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Build the site once with ``mkdocs build --strict`` from the repository root."""
    for module in ("mkdocs", "material", "mkdocstrings", "mkdocstrings_handlers.python"):
        assert importlib.util.find_spec(module) is not None, (
            f"{module} is not installed: the docs are built by the test extra "
            "(pip install '.[test]')")
    out = tmp_path_factory.mktemp("site")
    env = {**os.environ, "NO_MKDOCS_2_WARNING": "1"}
    # nothing may be fetched while building: every proxy points at a closed port
    for var in ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "http_proxy", "https_proxy",
                "all_proxy"):
        env[var] = "http://127.0.0.1:9"
    env.pop("NO_PROXY", None)
    env.pop("no_proxy", None)
    t0 = time.perf_counter()
    res = subprocess.run([sys.executable, "-m", "mkdocs", "build", "--strict", "--site-dir",
                          str(out)], cwd=ROOT, env=env, capture_output=True, text=True,
                         timeout=600, check=False)
    seconds = time.perf_counter() - t0
    assert res.returncode == 0, (f"mkdocs build --strict failed (exit {res.returncode}):\n"
                                 f"{res.stdout}\n{res.stderr}")
    print(f"mkdocs build --strict: {seconds:.1f} s")
    return out


def _html(site: Path, page: str) -> str:
    return (site / page.replace(".md", ".html")).read_text("utf-8")


def test_the_site_builds_strictly_and_has_every_page(site: Path) -> None:
    """Every page of the nav is built, with its search index."""
    for page in PAGES:
        assert (site / page.replace(".md", ".html")).is_file(), page
    assert (site / "search" / "search_index.js").is_file() or \
        (site / "search" / "search_index.json").is_file()


def test_the_site_loads_nothing_from_the_internet(site: Path) -> None:
    """Offline: no script, style sheet or font from another host on any page."""
    for page in site.rglob("*.html"):
        text = page.read_text("utf-8")
        remote = re.findall(r"<(?:script|link)[^>]+(?:src|href)=\"(?:https?:)?//[^\"]+\"",
                            text)
        assert not remote, f"{page.name} loads {remote[:3]}"
        assert "fonts.googleapis" not in text and "mathjax" not in text.lower(), page.name


def test_api_page_lists_the_public_api(site: Path) -> None:
    """Every name of ``geoplan.__all__`` is rendered (an anchor) on api.html."""
    html = _html(site, "api.md")
    for name in geoplan.__all__:
        assert f'id="geoplan.{name}"' in html, f"geoplan.{name} is not rendered on api.html"
    # a reader's docstring: its parameters table and the column synonyms it names
    assert "read_facilities" in html and "GCJ-02" in html


def test_models_page_renders_the_maths(site: Path) -> None:
    """Each model's front doors are rendered, with their formulas as TeX blocks."""
    html = _html(site, "models.md")
    for door in ("covering.set_covering", "covering.max_covering", "tradeoff.tradeoff_curve",
                 "median.p_median", "center.p_center", "beds.beds_to_ratio",
                 "function_centres.function_centres"):
        assert f'id="geoplan.optimize.{door}"' in html, door
        assert f'id="geoplan.optimize.{door}_from_' in html, f"GIS front door of {door}"
    # max_covering's objective and constraints, as arithmatex blocks (TeX, no script)
    start = html.index('id="geoplan.optimize.covering.max_covering"')
    block = html[start:html.index('id="geoplan.optimize.covering.max_covering_from_problem"')]
    assert '<div class="arithmatex">' in block
    assert r"\max \sum_{i \in F} w_i + \sum_{i \notin F} w_i y_i" in block
    assert r"\sum_{j \in J} x_j \le p" in block
    # the reST roles of the docstrings became Markdown: no role or directive is left
    for page in PAGES:
        text = _html(site, page)
        assert ":math:`" not in text and ".. math::" not in text, page
        assert not re.search(r":(func|class|mod|data|meth|attr):`", text), page


def test_nav_lists_every_page() -> None:
    """mkdocs.yml's nav and docs/*.md are the same pages."""
    config = (ROOT / "mkdocs.yml").read_text("utf-8")
    nav = re.findall(r"^\s+- [^:]+: (\S+\.md)\s*$", config, flags=re.M)
    assert sorted(nav) == sorted(PAGES)
    assert sorted(p.name for p in DOCS.glob("*.md")) == sorted(PAGES)


# --------------------------------------------------------------------------- region.toml


def test_region_page_documents_every_manifest_key() -> None:
    """Each manifest table's keys on the page = the keys ``read_manifest`` accepts."""
    allowed = region._ALLOWED   # the parser's key sets: "" = top level, else a table
    sections = _sections(_page("region.md"))
    for table, keys in allowed.items():
        head = "Top level" if table == "" else rf"\[{table}\]"
        documented = set(_rows(_section(sections, head)))
        assert documented == set(keys), (
            f"docs/region.md [{table or 'top level'}]: not documented "
            f"{sorted(set(keys) - documented)}, documented but not accepted "
            f"{sorted(documented - set(keys))}")
    assert set(allowed) == {"", *region.LAYERS}
    body = _section(sections, r"\[demand_layers\.&lt;name&gt;\]")
    for key in region._DEMAND_KEYS:
        assert f"`{key}`" in body, ("demand_layers", key)


def test_region_page_matches_the_reader_field_lists() -> None:
    """The column keys of [facilities] / [candidates] are the readers' fields."""
    sections = _sections(_page("region.md"))
    for table, fields in (("facilities", readers.FACILITY_FIELDS),
                          ("candidates", readers.CANDIDATE_FIELDS)):
        documented = set(_rows(_section(sections, rf"\[{table}\]")))
        assert set(fields) <= documented, (table, sorted(set(fields) - documented))


# --------------------------------------------------------------------------- scenario files

#: The word the page's type column uses for each kind of scenario key.
_TYPE_WORDS = {"str": "text", "path": "path", "bool": "true/false", "int": "whole number",
               "number": "number", "str_list": "list of texts",
               "number_list": "number or list of numbers", "id_list": "list of site ids",
               "cap": "whole number or table", "table": "table",
               "table_list": "array of tables", "demand": "text or table"}


def _check_rows(where: str, rows: dict[str, list[str]], keys: dict, fields: dict) -> None:
    """Type and default cells of documented keys against the parser and the dataclass.

    ``keys``: key -> ``_Key`` (the parser's); ``fields``: key -> dataclass field, or {}.
    """
    for key, cells in rows.items():
        spec = keys[key]
        kind, default = cells[0], cells[1]
        assert kind == _TYPE_WORDS[spec.kind], f"{where} `{key}`: type {kind!r}"
        field = fields.get(key)
        if field is not None:
            if field.default is not dataclasses.MISSING:
                value = field.default
            elif field.default_factory is not dataclasses.MISSING:
                value = field.default_factory()
            else:
                value = dataclasses.MISSING
        else:
            value = dataclasses.MISSING if spec.required else spec.default
        if spec.required:
            assert default == "required", f"{where} `{key}` is required, page: {default!r}"
        elif value is None or value is dataclasses.MISSING:
            assert default.startswith("—"), f"{where} `{key}` has no default, page: {default!r}"
        else:
            m = re.match(r"^`([^`]+)`", default)
            assert m, f"{where} `{key}`: default {value!r} not on the page ({default!r})"
            page_value = tomllib.loads(f"v = {m.group(1)}")["v"]
            assert _plain(page_value) == _plain(value), (where, key, page_value, value)


def _fields(cls: type) -> dict[str, dataclasses.Field]:
    return {f.name: f for f in dataclasses.fields(cls) if f.name != "keys"}


def test_scenario_page_documents_the_top_level_and_tables() -> None:
    """Top level, [inputs], [travel], [[coverage]]: keys, types, defaults."""
    sections = _sections(_page("scenario.md"))
    for head, keys, cls in (("Top level", spec.TOP_KEYS, None),
                            (r"\[inputs\]", spec.INPUT_KEYS, None),
                            (r"\[travel\]", spec.TRAVEL_KEYS, None),
                            (r"\[\[coverage\]\]", spec.COVERAGE_KEYS, spec.CoverageSpec),
                            (r"\[\[model\.tiers\]\]: .*", spec.TIER_KEYS, spec.TierSpec)):
        rows = _rows(_section(sections, head))
        assert set(rows) == set(keys), (head, sorted(set(keys) ^ set(rows)))
        fields = _fields(cls) if cls is not None else {}
        if cls is not None:
            assert set(fields) == set(keys), (head, sorted(set(fields) ^ set(keys)))
        _check_rows(f"scenario.md {head}", rows, keys, fields)


def test_scenario_page_documents_every_kind_and_key() -> None:
    """Every model kind has a section; every spec field of every kind is on the page."""
    sections = _sections(_page("scenario.md"))
    common = _rows(_section(sections, r"\[\[model\]\]: keys of every kind"))
    site = _rows(_section(sections, "Keys of the site models"))
    base, site_cls = _fields(spec.ModelSpec), spec.SiteModelSpec
    assert set(common) == set(base), sorted(set(common) ^ set(base))
    site_own = set(_fields(site_cls)) - set(base)
    assert set(site) == site_own, sorted(set(site) ^ site_own)
    kinds = {re.fullmatch(r'kind = "(\w+)"', h).group(1): body for h, body in sections.items()
             if re.fullmatch(r'kind = "(\w+)"', h)}
    assert set(kinds) == set(spec.MODEL_SPECS), sorted(set(kinds) ^ set(spec.MODEL_SPECS))
    # keys shared by several kinds have their own sections: capacity, and zones
    shared = {spec.CapacitySiteSpec: _rows(_section(sections, r"Capacity: .*")),
              spec.ZonedSiteSpec: _rows(_section(sections, r"Balanced plans: .*"))}
    for sub, rows in shared.items():
        base_cls = sub.__mro__[1]
        sub_own = set(_fields(sub)) - set(_fields(base_cls))
        assert set(rows) == sub_own, (sub.__name__, sorted(set(rows) ^ sub_own))
    for kind, cls in spec.MODEL_SPECS.items():
        own = _rows(kinds[kind])
        within = [c for c in shared if issubclass(cls, c)]
        parent = _fields(max(within, key=lambda c: len(c.__mro__)) if within else
                         site_cls if issubclass(cls, site_cls) else spec.ModelSpec)
        for sub, rows in shared.items():
            if issubclass(cls, sub):
                _check_rows(f'kind = "{kind}" ({sub.__name__})', rows, spec.MODEL_KEYS[kind],
                            _fields(cls))
        fields = _fields(cls)
        assert set(own) == set(fields) - set(parent), (
            f'scenario.md kind = "{kind}": not documented '
            f"{sorted(set(fields) - set(parent) - set(own))}, not a field "
            f"{sorted(set(own) - set(fields))}")
        derived = set(spec.DERIVED_FIELDS.get(kind, ()))
        documented = (set(common) - derived) | set(own) | (
            set(site) - derived if issubclass(cls, site_cls) else set()) | {
            k for sub, rows in shared.items() if issubclass(cls, sub) for k in rows}
        accepted = set(spec.MODEL_KEYS[kind])
        assert documented == accepted, (kind, sorted(documented ^ accepted))
        assert documented == set(fields) - derived, (kind, sorted(documented ^ set(fields)))
        keys = spec.MODEL_KEYS[kind]
        _check_rows(f'kind = "{kind}"', own, keys, fields)
        _check_rows(f'kind = "{kind}" (common)',
                    {k: v for k, v in common.items() if k not in derived}, keys, fields)
        if issubclass(cls, site_cls):
            _check_rows(f'kind = "{kind}" (site)',
                        {k: v for k, v in site.items() if k not in derived}, keys, fields)


# --------------------------------------------------------------------------- travel


def _class_table() -> dict[str, list[str]]:
    body = _section(_sections(_page("travel.md")), "Which roads each mode uses, and how fast")
    return _rows(body)


def test_travel_page_lists_every_class_of_the_profiles() -> None:
    """A class named anywhere in profiles.toml must be a row of the page's table."""
    text = (ROOT / "geoplan" / "travel" / "profiles.toml").read_text("utf-8")
    tables = tomllib.loads(text)
    named: set[str] = set()
    for prof in tables.values():
        named |= set(prof.get("speeds_kmh", {})) | set(prof.get("congestion", {}))
        named |= set(prof.get("excluded_highways", [])) | set(prof.get("no_snap_highways", []))
    rows = _class_table()
    assert named <= set(rows), f"docs/travel.md lacks the classes {sorted(named - set(rows))}"


def test_travel_page_speeds_are_the_profiles() -> None:
    """Every speed and daytime factor of the class table, and the profile fields."""
    profiles = default_profiles()
    for cls, cells in _class_table().items():
        for mode, cell in zip(("walk", "ebike", "drive"), cells[1:4], strict=True):
            speed = profiles[mode].class_speed_kmh(cls)
            want = "no" if speed <= 0 else f"{speed:g}"
            assert cell == want, f"travel.md `{cls}` {mode}: page {cell!r}, profile {want!r}"
        factor = profiles["drive"].congestion.get(cls)
        want = "—" if factor is None else f"{factor:g}"
        assert cells[4] == want, f"travel.md `{cls}` drive factor: {cells[4]!r} vs {want!r}"
    fields = _rows(_section(_sections(_page("travel.md")), "Changing the rules"))
    assert set(fields) == set(profiles_mod._FIELD_TYPES) | {"base"}, sorted(
        set(fields) ^ (set(profiles_mod._FIELD_TYPES) | {"base"}))


# --------------------------------------------------------------------------- API page


def test_api_page_has_a_block_per_public_name() -> None:
    """One ``::: geoplan.NAME`` block per name of ``geoplan.__all__``."""
    blocks = re.findall(r"^::: geoplan\.(\S+)\s*$", _page("api.md"), flags=re.M)
    assert sorted(blocks) == sorted(geoplan.__all__), sorted(
        set(blocks) ^ set(geoplan.__all__))


def test_rst_docstrings_become_markdown() -> None:
    """The griffe extension of mkdocs.yml: math, cross-references, literal blocks."""
    spec = importlib.util.spec_from_file_location(
        "rst_docstrings", DOCS / "_ext" / "rst_docstrings.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    text = ("Solved by :func:`~geoplan.optimize.solver.solve` on :math:`x_j \\in \\{0,1\\}`"
            "::\n\n    code\n\n.. math::\n\n    a = b\n\n    c = d\n\nafter")
    md = mod.rst_to_markdown(text, "geoplan.optimize.covering")
    assert ('<autoref identifier="geoplan.optimize.solver.solve" optional>`solve`</autoref>'
            in md)
    assert "$x_j \\in \\{0,1\\}$:" in md
    assert "$$\na = b\n$$\n\n$$\nc = d\n$$\n\nafter" in md
    assert mod.rst_to_markdown(":func:`_cover_floor`", "geoplan.optimize.covering") == (
        '<autoref identifier="geoplan.optimize.covering._cover_floor" optional>'
        "`_cover_floor`</autoref>")
