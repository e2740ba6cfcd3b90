"""Every figure a report shows, recomputed from what the run wrote - not from the page.

Used by ``tests/scenario/test_scenario_run.py`` on every shipped scenario, in the
scenario's language (the run's own page) and in the other (the same plans rendered
again). A report's summary cells carry the figure's key and exact value
(``data-fig``, ``data-value``); each is recomputed here from the run's files
(``summary.json``, ``plan_<name>_sites.csv``, ``plan_<name>_units.csv``) and the
scenario file, and its text must be that value in the page's language with its unit.
"""

from __future__ import annotations

import json
import re
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

#: The unit word each figure must show, by language (the committee reads the unit).
UNIT_WORDS = {"zh": {"sites": "个", "beds": "张", "wan_yuan": "万元", "people": "人",
                     "minutes": "分钟", "units": "个", "share": "%", "index": ""},
              "en": {"sites": "sites", "beds": "beds", "wan_yuan": "10,000 yuan",
                     "people": "people", "minutes": "min", "units": "units", "share": "%",
                     "index": ""}}


class _Cells(HTMLParser):
    """The summary's figure cells, grouped by the plan heading above them."""

    def __init__(self) -> None:
        super().__init__()
        self.plans: list[dict[str, tuple[float, str]]] = []
        self.coverage: list[tuple[str, str, float, str]] = []
        self._open: dict[str, str] | None = None
        self._text = ""
        self._in_summary = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {k: v or "" for k, v in attrs}
        if tag == "section":
            self._in_summary = a.get("id") == "summary"
        if self._in_summary and tag == "h3":
            self.plans.append({})
        if self._in_summary and tag == "td" and "data-fig" in a:
            self._open, self._text = a, ""

    def handle_data(self, data: str) -> None:
        if self._open is not None:
            self._text += data

    def handle_endtag(self, tag: str) -> None:
        if tag == "td" and self._open is not None:
            a, self._open = self._open, None
            value = float(a["data-value"])
            if "data-mode" in a:
                self.coverage.append((a["data-mode"], a["data-fig"], value, self._text))
            else:
                self.plans[-1][a["data-fig"]] = (value, self._text)


def page_figures(html: str) -> _Cells:
    """The figure cells of a report page."""
    p = _Cells()
    p.feed(html)
    return p


def _expected(out: Path, m: dict[str, Any], summary: dict[str, Any],
              cells: Any = None) -> dict[str, float]:
    """A plan's figures recomputed from the run's files and its scenario table (and the
    plan's cells, ``RunResult.cells``, for its equity figures)."""
    fig = next(x for x in summary["models"] if x["name"] == m["name"])
    want: dict[str, float] = {}
    if cells is not None and f"plan_{m['name']}" in cells:
        from geoplan.access.equity import gini
        c = cells[f"plan_{m['name']}"]
        demand = np.isfinite(c["standard_min"].to_numpy(float))
        w = c["population"].to_numpy(float)[demand]
        cap = float(m["minutes"]) if "minutes" in m else max(   # tiered: its lowest tier's
            float(m["tiers"][-1].get(k, 0)) for k in ("minutes", "rural_minutes"))
        for when, col in (("before", "minutes"), ("after", "minutes_after")):
            t = np.nan_to_num(c[col].to_numpy(float)[demand], nan=cap)
            if (np.minimum(t, cap) * w).sum() > 0:
                want[f"gini_{when}"] = gini(np.minimum(t, cap), w)
    sites_csv = out / f"plan_{m['name']}_sites.csv"
    if sites_csv.is_file():
        sites = pd.read_csv(sites_csv, encoding="utf-8-sig")
        want["new_sites"] = int((sites["status"] == "new").sum())
        added = sites["beds_added"].fillna(0) if "beds_added" in sites else 0 * sites.index
        upgraded = (sites["status"] == "existing") & (added > 0)
        if upgraded.any():
            want["upgraded_sites"] = int(upgraded.sum())
        raised = sites["status"] == "upgraded_tier"         # tiered plans
        if raised.any():
            want["upgraded_tier_sites"] = int(raised.sum())
        if "beds_added" in sites:
            want["beds_added"] = float(round(added.sum()))
        paid = (sites["status"] == "new") | upgraded | raised
        if "cost" in sites and sites.loc[paid, "cost"].notna().any():
            want["cost"] = float(sites.loc[paid, "cost"].sum())
        if m["kind"] == "tiered":                  # the cost from the scenario's own prices
            _check_tier_costs(sites, m, want)
    if m["kind"] == "beds_to_ratio":             # the cost from the scenario's own prices
        assert want["cost"] == pytest.approx(
            want["beds_added"] * m["cost_per_bed"]
            + want["new_sites"] * m.get("new_site_fixed_cost", 0.0), rel=1e-9)
        assert want["cost"] == pytest.approx(fig["objective"], rel=1e-5)
        units = pd.read_csv(out / f"plan_{m['name']}_units.csv", encoding="utf-8-sig")
        units = units[units.iloc[:, 0].astype(str) != "total"]
        want["units_met"], want["units"] = int(units["met"].sum()), len(units)
    covering = fig["model"] in ("set_covering", "max_covering", "tradeoff", "standards_cover",
                                "capacitated_set_covering", "capacitated_max_covering",
                                "capacitated_p_median", "balanced_covering", "tiered_plan")
    if covering:
        for k in ("covered_before", "covered_after"):
            want[k] = fig[k]
        want["share_before"] = fig["covered_before"] / fig["total_demand"]
        want["share_after"] = fig["covered_after"] / fig["total_demand"]
        want["uncovered_after"] = fig["total_demand"] - fig["covered_after"]
        if "urban_minutes" not in m and "minutes" in m:
            want["standard_minutes"] = float(m["minutes"])
        units_csv = out / f"plan_{m['name']}_units.csv"     # the plan's own unit table
        if units_csv.is_file():
            units = pd.read_csv(units_csv, encoding="utf-8-sig", dtype={"admin_code": str})
            if {"admin_code", "covered_after", "population"} <= set(units.columns):
                units = units[(units["admin_code"] != "total") & (units["population"] > 0)]
                if len(units):
                    want["worst_unit_share"] = float(
                        (units["covered_after"] / units["population"]).min())
    if fig["model"] == "tiered_plan":             # the lowest tier's row of the tier table
        tiers = pd.read_csv(out / f"plan_{m['name']}_tiers.csv", encoding="utf-8-sig")
        assert len(tiers) == len(m["tiers"])
        assert tiers["covered_after"].iloc[-1] == pytest.approx(fig["covered_after"], rel=1e-5)
        assert tiers["cost"].sum() == pytest.approx(want.get("cost", 0.0), rel=1e-9)
        for t, row in zip(m["tiers"], tiers.itertuples(), strict=True):
            n = row.facilities
            assert n == t["count"] if "count" in t else \
                t.get("count_min", 0) <= n <= t.get("count_max", 10**9), (t["name"], n)
            if "min_share" in t:
                assert row.share_after >= t["min_share"] - 1e-9, (t["name"], row)
    if fig["model"] == "balanced_covering":       # from the plan's zone table
        zones = pd.read_csv(out / f"plan_{m['name']}_zones.csv", encoding="utf-8-sig")
        zones = zones[zones["population"] > 0]
        want["worst_zone_share"] = float((zones["covered_after"] / zones["population"]).min())
        assert zones["covered_after"].sum() <= fig["covered_after"] * (1 + 1e-5)  # 6 digits
        if "price_of_balance" in fig.get("figures", {}):
            want["price_of_balance"] = fig["figures"]["price_of_balance"]
    if fig["model"] == "capacitated_p_median":    # unassigned = people not served
        want["mean_minutes"] = fig["objective"] / fig["total_demand"]
        flows = pd.read_csv(out / f"plan_{m['name']}_sites.csv", encoding="utf-8-sig")
        want["unassigned"] = fig["total_demand"] - float(flows["served"].sum())
    if fig["model"] == "p_median":                # person-minutes / people
        want["mean_minutes"] = fig["objective"] / fig["total_demand"]
    if fig["model"] == "p_center":
        want["worst_minutes"] = fig["objective"]
    if fig["model"] == "function_centres":
        want["share_before"], want["share_after"] = fig["share_before"], fig["share_after"]
    return want


def _check_tier_costs(sites: pd.DataFrame, m: dict[str, Any], want: dict[str, float]) -> None:
    """Each facility of a tiered plan costs what its tier's prices say: nothing kept, the
    tier's upgrade_cost raised or designated, new_site_cost (or its own cost) built."""
    own = None
    for row in sites.itertuples():
        t = m["tiers"][int(row.tier) - 1]
        if row.status == "existing":
            price = 0.0
        elif row.status == "upgraded_tier":
            price = float(t.get("upgrade_cost", 0.0))
        else:
            if "new_site_cost" in t:
                price = float(t["new_site_cost"])
            else:
                if own is None:
                    from conftest import DEMO
                    cand = pd.read_csv(DEMO / "candidates.csv", encoding="utf-8-sig")
                    own = dict(zip(cand["id"].astype(str), cand["fixed_cost_wan"],
                                   strict=True))
                price = float(own[str(row.site_id)])
        assert row.cost == pytest.approx(price), (m["name"], row.site_id, row.status)
    assert sites["cost"].sum() == pytest.approx(want.get("cost", 0.0))


def _check_curves(summary: dict[str, Any], html: str, cells: Any,
                  spec: dict[str, Any]) -> int:
    """The concentration curves: each the run's cells recomputed person by person
    (:func:`concentration_points` of the times capped at the question's longest), and one
    chart on the page for the coverage question and one per plan that has curves."""
    from geoplan.access.equity import concentration_points
    charts = html.count("<div class='chart curve'>")
    want = 0
    cov = summary["coverage"][:1]
    if cov and any("curve" in f.get("equity", {}) for f in cov[0]["modes"].values()):
        want += 1
        q = cov[0]
        for mode, figs in q["modes"].items():
            eq = figs["equity"]
            if cells is None or "curve" not in eq:
                continue
            c = cells[f"coverage_{q['name']}_{mode}"]
            cap = eq["cap_minutes"]
            t = np.minimum(np.nan_to_num(c["minutes"].to_numpy(float), nan=cap), cap)
            again = concentration_points(t, c["population"].to_numpy(float))
            assert np.allclose(eq["curve"], again, atol=1e-5), (q["name"], mode)
    if cells is not None:
        want += sum(1 for m in spec.get("model", []) if f"plan_{m['name']}" in cells
                    and m["kind"] != "tradeoff")
        assert charts == want, (charts, want)
    return 1 if want else 0


def check_report(out: Path, spec: dict[str, Any], html: str, lang: str,
                 cells: Any = None) -> int:
    """Check every figure of a report page against the run in ``out``; return how many.

    The page's plans are the scenario's models but trade-off curves, in file order.
    """
    summary = json.loads((out / "summary.json").read_text(encoding="utf-8"))
    page = page_figures(html)
    models = [m for m in spec.get("model", []) if m["kind"] != "tradeoff"]
    assert len(page.plans) == len(models), (len(page.plans), [m["name"] for m in models])
    n = 0
    for m, shown in zip(models, page.plans, strict=True):
        want = _expected(out, m, summary, cells)
        if cells is None:                         # equity needs the plan's cells
            for key in ("gini_before", "gini_after"):
                want.pop(key, None)
                shown.pop(key, None)
        for key in ("beyond_cutoff", "cutoff_minutes"):   # counted by the model only
            want.pop(key, None)
            shown.pop(key, None)
        assert set(shown) == set(want), (m["name"], sorted(shown), sorted(want))
        for key, (value, text) in shown.items():
            # summary.json keeps 6 significant digits (byte-identical reruns)
            assert value == pytest.approx(want[key], rel=1e-5, abs=1e-9), (m["name"], key)
            unit = _unit_of(key)
            assert UNIT_WORDS[lang][unit] in text, (m["name"], key, text)
            digits = re.sub(r"[^\d.]", "", text.replace(UNIT_WORDS[lang][unit], ""))
            shown_value = float(digits) / (100 if unit == "share" else 1)
            tol = (0.0005 if unit in ("share", "index") else
                   (0.05 if unit == "minutes" else 0.5))
            assert abs(shown_value - value) <= tol, (m["name"], key, text, value)
            n += 1
    n += _check_curves(summary, html, cells, spec)
    for cov in summary["coverage"][:1]:          # equity of the report's question
        for mode, figs in cov["modes"].items():
            eq = figs.get("equity", {})
            for key in ("gini", "worst_unit_share"):
                if eq.get(key) is None:
                    continue
                hits = [c for c in page.coverage if c[0] == mode and c[1] == key]
                assert len(hits) == 1, (mode, key)
                _, _, v, text = hits[0]
                assert v == pytest.approx(eq[key], rel=1e-5, abs=1e-9), (mode, key)
                if key == "gini":
                    assert text == f"{v:.3f}"
                else:
                    assert text == f"{eq['worst_unit_name']} {v:.1%}"
                n += 1
    for cov in summary["coverage"]:
        for mode, shares in cov["modes"].items():
            for key, value in shares.items():
                if not key.startswith("share_"):
                    continue
                hits = [c for c in page.coverage if c[0] == mode and c[1] == key]
                if spec.get("coverage") and cov is summary["coverage"][0]:
                    assert hits, (mode, key)
                for _, _, v, text in hits:
                    assert v == pytest.approx(value, rel=1e-5)
                    assert text == f"{v:.1%}"
                    n += 1
    return n + check_gap_tables(out, spec, html, lang)


class _GapTables(HTMLParser):
    """The rows of the tables in the report's gaps section."""

    def __init__(self) -> None:
        super().__init__()
        self.tables: list[list[list[str]]] = []
        self._in = False
        self._cell: str | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "section":
            self._in = dict(attrs).get("id") == "gaps"
        if self._in and tag == "table":
            self.tables.append([])
        if self._in and tag == "tr":
            self.tables[-1].append([])
        if self._in and tag == "td":
            self._cell = ""

    def handle_data(self, data: str) -> None:
        if self._cell is not None:
            self._cell += data

    def handle_endtag(self, tag: str) -> None:
        if tag == "td" and self._cell is not None:
            self.tables[-1][-1].append(self._cell)
            self._cell = None
        if tag == "section":
            self._in = False


def _gap_files(out: Path, spec: dict[str, Any]) -> list[Path]:
    """The run's gap files in the order the report lists them: coverage questions and
    their modes in file order, then the covering plans' after-plan gaps."""
    files = [out / f"gaps_{q['name']}_{mode}.gpkg" for q in spec.get("coverage", [])
             if q.get("gaps", True) for mode in q["modes"]]
    files += [out / f"plan_{m['name']}_gaps_after.gpkg" for m in spec.get("model", [])]
    return [f for f in files if f.is_file()]


def check_gap_tables(out: Path, spec: dict[str, Any], html: str, lang: str) -> int:
    """Each gap row on the page is the gap file's row: rank, people, the closing sites
    with the people each adds, the share they close; the 10 largest, largest first."""
    import geopandas as gpd

    parser = _GapTables()
    parser.feed(html)
    files = _gap_files(out, spec)
    body = [t[1:] for t in parser.tables]                   # drop the header row
    assert len(body) == len(files), (len(body), [f.name for f in files])
    person = "人" if lang == "zh" else ""
    n = 0
    for f, rows in zip(files, body, strict=True):
        g = gpd.read_file(f).sort_values("population", ascending=False).head(10)
        assert len(rows) == len(g), f.name
        for row, want in zip(rows, g.itertuples(), strict=True):
            text = " | ".join(row)
            assert row[0] == f"{want.gap_id:,}", (f.name, text)
            assert f"{want.population:,.0f}" in row, (f.name, text)
            names = [x for x in str(want.closing_names or "").split("|") if x]
            adds = [float(x) for x in str(want.closing_people or "").split(",") if x]
            for name, add in zip(names, adds, strict=True):
                assert f"{name}（+{add:,.0f}{person}）" in text or \
                    f"{name} (+{add:,.0f})" in text, (f.name, name, text)
            assert row[-1] == f"{want.closed_share:.1%}", (f.name, text)
            n += 1
    return n


def _unit_of(key: str) -> str:
    from geoplan.optimize.figures import UNITS
    return UNITS[key]
