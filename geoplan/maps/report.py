"""One self-contained HTML report per run, with its tables as CSV and XLSX.

Why: a health commission takes a run's results to a committee as one file that opens on
an office PC with no internet: a summary first (coverage today, and each plan's figures
with their units: sites, beds, cost in 万元, people and shares within the standard, mean or
worst travel time - :func:`geoplan.optimize.figures.plan_figures`, the figures the model
computed, never recomputed here), what went in, coverage by admin unit before and after,
the plans and their sites, the trade-off curve, the maps, and an appendix with how each
plan was solved (objective, bound, optimality gap, solver, times). The same tables are written as CSV
(UTF-8 with BOM, so Excel on Chinese Windows reads the names; machine column names and raw
values, for scripts) and as one XLSX workbook for people (headers, sheet names and status
values in the report's language, from :mod:`geoplan.labels`).

Maps are embedded as ``<iframe srcdoc>`` of their self-contained pages (Leaflet inlined,
see :mod:`geoplan.maps.canvas`), so the report is one file; ``embed_maps=False`` links them
instead. The chart is inline SVG (matplotlib, text kept as text so Chinese labels use
the browser's fonts).

Typical use::

    files = write_report(ReportInputs(title="15-minute circle", region=region,
                                      units=coverage_table, plans={"max covering": plan},
                                      tradeoff=curve, maps={"Plan": canvas}),
                         "out/report", lang="zh")
"""

from __future__ import annotations

import io
import math
import re
import warnings
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd

from geoplan import labels
from geoplan._atomic import atomic_path, write_table
from geoplan._errors import GeoplanInputError
from geoplan.labels import check_lang
from geoplan.maps.charts import chart_context
from geoplan.maps._html import esc
from geoplan.maps.canvas import MapCanvas, plan_sites, render_map, type_label, unit_frame
from geoplan.optimize.figures import plan_figures

__all__ = [
    "Report",
    "ReportFiles",
    "ReportInputs",
    "build_report",
    "concentration_svg",
    "tradeoff_svg",
    "write_report",
]

_SHARE_COLS = re.compile(r"^(share.*|gap|change|.*_share)$")
_PEOPLE_COLS = re.compile(r"^(population|people|covered.*|uncovered.*|.*_people)$")
#: Gap areas listed per gap table in a report (the CSV/XLSX keep them all).
REPORT_GAPS = 10


# --------------------------------------------------------------------------- inputs
@dataclass
class ReportInputs:
    """What a report shows; every field optional.

    Attributes
    ----------
    title, subtitle
        Report heading.
    region
        A :class:`geoplan.inputs.region.Region`; its layers give the inputs summary and the
        facilities/candidates for plan site names.
    inputs
        Further input facts to list (mode, minutes, files, ...), shown as given.
    units
        Coverage by admin unit, e.g. :func:`geoplan.access.coverage.coverage_by_unit` (one or
        several ``share_<T>min``) or a table with ``share_before``/``share_after``;
        default: the first plan's ``by_unit``.
    plans
        Plans (:class:`geoplan.optimize.plan.Plan`), as ``{name: plan}`` or a list.
    candidates, facilities
        Inputs of the plans (default: the region's), for site names, types and costs.
    tradeoff
        Trade-off table: one row per point with a count or budget column (``n_sites``,
        ``p``, ``new_sites``, ``budget`` or ``cost``) and ``share``/``covered``
        (``status`` optional: points not proven optimal are drawn hollow).
    maps
        ``{caption: MapCanvas | path of a saved map | HTML text}``.
    gaps
        ``{caption: gap table}`` (:func:`geoplan.access.coverage.gaps`, a plan's gaps
        after): the largest of each, named, with the sites that would close them.
    notes
        Paragraphs of text at the end.
    """

    title: str = ""
    subtitle: str = ""
    region: Any = None
    inputs: Mapping[str, Any] = field(default_factory=dict)
    units: pd.DataFrame | None = None
    plans: Mapping[str, Any] | Sequence[Any] = ()
    candidates: gpd.GeoDataFrame | None = None
    facilities: gpd.GeoDataFrame | None = None
    tradeoff: pd.DataFrame | None = None
    maps: Mapping[str, Any] = field(default_factory=dict)
    gaps: Mapping[str, pd.DataFrame] = field(default_factory=dict)
    notes: Sequence[str] = ()
    equity: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)


@dataclass
class Report:
    """A built report: the page and its tables.

    Attributes
    ----------
    html
        The self-contained page.
    tables
        ``{name: table}`` as written to CSV/XLSX (machine column names, raw values).
    """

    html: str
    tables: dict[str, pd.DataFrame]


@dataclass
class ReportFiles:
    """Files written by :func:`write_report`."""

    html: Path
    csv: list[Path]
    xlsx: Path | None


# --------------------------------------------------------------------------- formatting
def _fmt_float(col: str, v: float) -> str:
    if not math.isfinite(v):
        return "–"
    if _SHARE_COLS.match(col):
        return f"{v:+.1%}" if col == "change" else f"{v:.1%}"
    if col in ("lon", "lat"):
        return f"{v:.5f}"
    if col.endswith("_minutes"):
        return f"{v:,.1f}"
    if col.endswith("_s"):
        return f"{v:,.2f}"
    if abs(v) >= 100 or v == int(v) or _PEOPLE_COLS.match(col):
        return f"{v:,.0f}"       # people are whole: no one reads 45.32 residents
    return f"{v:,.2f}"


def _fmt(col: str, value: Any, lang: str = "en", vocab: Any = None) -> str:
    """Format one table value for reading (the CSV keeps the raw value)."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "–"
    if isinstance(value, bool | np.bool_):
        return "✓" if value else "✗"
    if isinstance(value, int | np.integer):
        return f"{int(value):,}"
    if isinstance(value, float | np.floating):
        return _fmt_float(col, float(value))
    if col == "type":
        return type_label(str(value), lang, vocab)
    return labels.value(col, value, lang)


def _table(df: pd.DataFrame, lang: str, *, max_rows: int = 500, vocab: Any = None) -> str:
    """Return a formatted HTML table (numbers right-aligned, shares as %, total bold)."""
    head = "".join(f"<th>{esc(labels.header(str(c), lang))}</th>" for c in df.columns)
    body = []
    for _, row in df.head(max_rows).iterrows():
        total = any(isinstance(v, str) and v == "total" for v in row.to_numpy())
        cells = []
        for c in df.columns:
            v = row[c]
            text = (labels.text("report.total", lang) if total and str(v) == "total"
                    else _fmt(str(c), v, lang, vocab))
            num = isinstance(v, int | float | np.integer | np.floating) and not isinstance(
                v, bool | np.bool_)
            cells.append(f'<td class="{"num" if num else ""}">{esc(text)}</td>')
        body.append(f'<tr class="{"total" if total else ""}">{"".join(cells)}</tr>')
    more = labels.text("report.more_rows", lang, n=len(df) - max_rows)
    more = f"<p class='more'>{esc(more)}</p>" if len(df) > max_rows else ""
    return f"<table><thead><tr>{head}</tr></thead><tbody>{''.join(body)}</tbody></table>{more}"


# --------------------------------------------------------------------------- sections
def _vocab(data: ReportInputs) -> Any:
    return getattr(data.region, "vocabulary", None)


def _inputs_table(data: ReportInputs, lang: str) -> pd.DataFrame:
    t = labels.templates("report.", lang)
    rows: list[tuple[str, Any]] = []
    r = data.region
    if r is not None:
        name_zh = getattr(r, "name_zh", None)
        name = (name_zh or r.name) if lang == "zh" else r.name
        rows.append((t["region"], name))
        if r.population is not None:
            rows.append((t["population"], f"{r.population['population'].sum():,.0f}"))
            rows.append((t["cells"], f"{len(r.population):,}"))
        if r.boundaries is not None:
            rows.append((t["units"], f"{len(r.boundaries):,}"))
        if r.facilities is not None:
            rows.append((t["n_facilities"], f"{len(r.facilities):,}"))
            rows.append((t["beds"], f"{r.facilities['beds'].sum():,.0f}"))
        if r.candidates is not None:
            rows.append((t["candidates"], f"{len(r.candidates):,}"))
        if r.network is not None:
            rows.append((t["roads"], t["edges"].format(n=r.network.number_of_edges())))
    rows += [(str(k), v if isinstance(v, str) else _fmt(str(k), v))
             for k, v in data.inputs.items()]
    return pd.DataFrame(rows, columns=["key", "value"])


def _plans(data: ReportInputs) -> list[tuple[str, Any]]:
    if isinstance(data.plans, Mapping):
        return [(str(k), v) for k, v in data.plans.items()]
    return [(f"{p.model} {i + 1}" if len(data.plans) > 1 else p.model, p)
            for i, p in enumerate(data.plans)]


def _units_table(data: ReportInputs, plans: list[tuple[str, Any]]) -> pd.DataFrame | None:
    if data.units is not None:
        units = data.units.copy()
    else:
        by_unit = next((p.by_unit for _, p in plans if getattr(p, "by_unit", None) is not None),
                       None)
        if by_unit is None:
            return None
        units = unit_frame(by_unit)
    if {"share_before", "share_after"} <= set(units.columns) and "change" not in units.columns:
        units["change"] = units["share_after"] - units["share_before"]
    if (data.region is not None and data.region.boundaries is not None
            and "admin_code" in units.columns and "admin_name" not in units.columns):
        names = data.region.boundaries.set_index(
            data.region.boundaries["admin_code"].astype(str))["admin_name"]
        units.insert(1, "admin_name", units["admin_code"].astype(str).map(names))
    return units


def _plan_sites(data: ReportInputs, plan: Any, lang: str = "en") -> pd.DataFrame | None:
    cand = data.candidates
    fac = data.facilities
    if data.region is not None:
        cand = cand if cand is not None else data.region.candidates
        fac = fac if fac is not None else data.region.facilities
    if getattr(plan, "sites", None) is None and cand is None:
        return None
    sites = plan_sites(plan, cand, fac)
    lonlat = sites.geometry.to_crs(4326)
    # a tiered plan: its tiers named in the page's language, the facility each refers to
    # named (the tier numbers and ids stay in the sites file)
    out = pd.DataFrame(sites.drop(columns=["geometry", "referral_id"], errors="ignore"))
    if "tier" in out.columns:
        d = plan.details
        names = d.get("tier_names_zh" if lang == "zh" else "tier_names") or d.get("tier_names")
        if names:
            out["tier_name"] = [names[int(k) - 1] for k in out["tier"]]
        out = out.drop(columns="tier")
    out["lon"] = np.round(lonlat.x.to_numpy(), 6)
    out["lat"] = np.round(lonlat.y.to_numpy(), 6)
    return out


def _plan_summary(plans: list[tuple[str, Any]],
                  figures: Mapping[str, list[Any]]) -> pd.DataFrame:
    """One row per plan: its status and its figures (:func:`plan_figures`), as the model
    computed them; solver details go to :func:`_solver_table`."""
    rows = []
    for name, plan in plans:
        row: dict[str, Any] = {"plan": name, "status": plan.status}
        row.update({f.key: f.value for f in figures[name]})
        rows.append(row)
    return pd.DataFrame(rows)


def _solver_table(plans: list[tuple[str, Any]], lang: str) -> pd.DataFrame:
    """How each plan was solved (the report's appendix); the exact reduction in words."""
    rows = []
    for name, plan in plans:
        fig = plan.summary()
        r = getattr(plan, "reduction", None)
        rows.append({"plan": name, "model": plan.model, "status": plan.status,
                     **{k: fig[k] for k in ("objective", "bound", "gap", "solver", "build_s",
                                            "solve_s")},
                     "reduction": None if r is None else labels.text(
                         "report.reduction", lang, a=r.demand_in, b=r.demand_out,
                         c=r.candidates_in, d=r.candidates_out)})
    return pd.DataFrame(rows)


def _figures_html(plan: Any, figures: list[Any], lang: str) -> str:
    """A plan's figures as label / value rows; each value cell carries the figure's key and
    exact value (``data-fig``, ``data-value``) so tests can check the page against the
    plan."""
    rows = [f"<tr><th>{esc(labels.text('report.summary_status', lang))}</th>"
            f"<td>{esc(labels.value('status', plan.status, lang))}</td></tr>"]
    for f in figures:
        label, shown = labels.figure(f.key, f.value, f.unit, lang)
        rows.append(f"<tr><th>{esc(label)}</th><td class='num' data-fig='{f.key}' "
                    f"data-value='{f.value!r}'>{esc(shown)}</td></tr>")
    return f"<table class='figures'>{''.join(rows)}</table>"


def _equity_rows(equity: Mapping[str, Mapping[str, Any]], lang: str) -> list[str]:
    """Per mode: the Gini of travel time and the unit with the lowest covered share, as
    the run computed them (``summary.json`` coverage ``equity``)."""
    rows = []
    for mode, eq in equity.items():
        name = labels.mode(str(mode), lang)
        mins = labels.text("unit.minutes", lang, v=f"{eq['cap_minutes']:g}")
        g = eq.get("gini")
        if g is not None and np.isfinite(g):
            label = labels.text("report.equity_gini", lang, name=name, mins=mins)
            rows.append(f"<tr><th>{esc(label)}</th><td class='num' data-fig='gini' "
                        f"data-mode='{esc(str(mode))}' data-value='{float(g)!r}'>"
                        f"{float(g):.3f}</td></tr>")
        if eq.get("worst_unit_share") is not None:
            label = labels.text("report.equity_worst", lang, name=name, mins=mins)
            v = float(eq["worst_unit_share"])
            rows.append(f"<tr><th>{esc(label)}</th><td class='num' data-fig='worst_unit_share' "
                        f"data-mode='{esc(str(mode))}' data-value='{v!r}'>"
                        f"{esc(str(eq.get('worst_unit_name', '')))} {v:.1%}</td></tr>")
    return rows


def _coverage_summary(units: pd.DataFrame | None, lang: str,
                      equity: Mapping[str, Mapping[str, Any]] | None = None) -> str:
    """Each total row of a coverage table: the share within each time, by mode; and each
    mode's equity figures."""
    if units is None or "admin_code" not in units.columns:
        return ""
    totals = units[units["admin_code"].astype(str) == "total"]
    shares = {str(c): m.group(1) for c in units.columns
              if (m := re.fullmatch(r"share_(\d+(?:\.\d+)?)min", str(c)))}
    if totals.empty or not shares:
        return ""
    rows = []
    for _, row in totals.iterrows():
        mode = labels.mode(str(row["mode"]), lang) if "mode" in units.columns else ""
        for c, m in shares.items():
            label = labels.text("report.summary_coverage", lang, name=mode,
                                mins=labels.text("unit.minutes", lang, v=m))
            rows.append(f"<tr><th>{esc(label)}</th><td class='num' data-fig='{c}' "
                        f"data-mode='{esc(str(row.get('mode', '')))}' "
                        f"data-value='{float(row[c])!r}'>{float(row[c]):.1%}</td></tr>")
    rows += _equity_rows(equity or {}, lang)
    curves = {labels.mode(str(mode), lang): eq["curve"] for mode, eq in (equity or {}).items()
              if eq.get("curve")}
    chart = (f"<div class='chart curve'>{concentration_svg(curves, lang=lang)}</div>"
             if curves else "")
    return f"<div class='pair'><table class='figures'>{''.join(rows)}</table>{chart}</div>"


def _summary_html(units: pd.DataFrame | None, plans: list[tuple[str, Any]],
                  figures: Mapping[str, list[Any]], lang: str,
                  equity: Mapping[str, Mapping[str, Any]] | None = None) -> str:
    t = labels.templates("report.", lang)
    parts = [_coverage_summary(units, lang, equity)]
    for i, (name, plan) in enumerate(plans, start=1):
        parts.append(f"<h3>{esc(t['plan'])} {i}: {esc(name)}</h3>")
        demand = getattr(plan, "details", {}).get("demand")
        if demand:                  # the figures count this group, not everyone
            who = demand.get("name_zh" if lang == "zh" else "name") or demand.get("key")
            parts.append(f"<p class='demand'>{esc(labels.text('report.demand_of', lang, name=who))}</p>")
        eq = getattr(plan, "details", {}).get("equity") or {}
        curves = {t[f"curve_{when}"]: eq[f"curve_{when}"] for when in ("before", "after")
                  if eq.get(f"curve_{when}")}
        chart = (f"<div class='chart curve'>{concentration_svg(curves, lang=lang)}</div>"
                 if curves else "")
        parts.append(f"<div class='pair'>{_figures_html(plan, figures[name], lang)}{chart}"
                     "</div>")
        if getattr(plan, "explanation", None) is not None and not isinstance(
                plan.explanation, pd.DataFrame):
            parts.append(f"<p class='explain'>{esc(plan.explanation)}</p>")
    return "".join(parts)


def _draw_curve(xs: np.ndarray, ys: np.ndarray, optimal: np.ndarray, t: dict[str, str], *,
                budget: bool, share: bool) -> io.StringIO:
    from matplotlib.figure import Figure  # noqa: PLC0415 - heavy, only for the chart

    buf = io.StringIO()
    with chart_context():                  # CJK labels as text, fonts found on the system
        fig = Figure(figsize=(6.4, 3.4), dpi=100)
        ax = fig.add_subplot()
        ax.plot(xs, ys, "-", color="#2166ac", lw=1.8, zorder=1)
        ax.scatter(xs[optimal], ys[optimal], color="#2166ac", s=28, zorder=2,
                   label=t["optimal"])
        if (~optimal).any():
            ax.scatter(xs[~optimal], ys[~optimal], facecolor="white", edgecolor="#2166ac",
                       s=28, zorder=3, label=t["not_optimal"])
            ax.legend(loc="lower right", frameon=False)
        ax.set_xlabel(t["x_budget"] if budget else t["x_sites"])
        ax.set_ylabel(t["y_share"] if share else t["y_covered"])
        ax.grid(alpha=0.3)
        for side in ("top", "right"):
            ax.spines[side].set_visible(False)
        fig.tight_layout()
        # no RDF metadata block (creator, format): the page shows what the chart says
        fig.savefig(buf, format="svg", metadata={"Date": None, "Creator": None,
                                                 "Format": None, "Type": None})
    return buf


def concentration_svg(curves: Mapping[str, Sequence[float]], *, lang: str = "en") -> str:
    """Draw concentration curves of travel time (as the run computed them) as inline SVG.

    Parameters
    ----------
    curves
        Per label (a travel mode, before / after a plan), the cumulative share of travel
        time at evenly spaced population shares from 0 to 1
        (:func:`geoplan.access.equity.concentration_points`).
    lang
        ``"zh"`` or ``"en"`` axis labels.

    Returns
    -------
    str
        An ``<svg>`` element: the curves, the diagonal of equal times; the farther a
        curve bows below it, the less evenly travel time falls (twice that area is the
        Gini coefficient).
    """
    from matplotlib.figure import Figure  # noqa: PLC0415 - heavy, only for the chart
    lang = check_lang(lang)
    t = labels.templates("report.", lang)
    buf = io.StringIO()
    colours = ("#2166ac", "#b2182b", "#1b7837", "#762a83")
    with warnings.catch_warnings(), chart_context():
        warnings.simplefilter("ignore")  # missing CJK glyphs: the browser draws the text
        fig = Figure(figsize=(4.6, 3.4), dpi=100)
        ax = fig.add_subplot()
        ax.plot([0, 100], [0, 100], ":", color="#888888", lw=1, label=t["curve_equal"])
        for k, (name, ys) in enumerate(curves.items()):
            y = np.asarray(ys, float) * 100
            ax.plot(np.linspace(0, 100, y.size), y, "-", color=colours[k % len(colours)],
                    lw=1.8, label=name)
        ax.set_xlabel(t["curve_x"] + " (%)")
        ax.set_ylabel(t["curve_y"] + " (%)")
        ax.set_title(t["curve_title"], fontsize=10)
        ax.set_xlim(0, 100)
        ax.set_ylim(0, 100)
        ax.grid(alpha=0.3)
        ax.legend(loc="upper left", frameon=False, fontsize=8)
        for side in ("top", "right"):
            ax.spines[side].set_visible(False)
        fig.tight_layout()
        fig.savefig(buf, format="svg", metadata={"Date": None, "Creator": None,
                                                 "Format": None, "Type": None})
    svg = buf.getvalue()
    return svg[svg.index("<svg"):]


def tradeoff_svg(table: pd.DataFrame, *, x: str | None = None, y: str | None = None,
                 lang: str = "en") -> str:
    """Draw a trade-off curve (coverage against sites or budget) as inline SVG.

    Parameters
    ----------
    table
        One row per point (see :class:`ReportInputs`).
    x, y
        Columns to plot; default the first of ``n_sites``/``p``/``new_sites``/``budget``/
        ``cost`` and of ``share``/``share_after``/``covered``/``covered_after``.
    lang
        ``"zh"`` or ``"en"`` axis labels.

    Returns
    -------
    str
        An ``<svg>`` element.

    Raises
    ------
    GeoplanInputError
        If the columns are missing.
    """
    lang = check_lang(lang)
    t = labels.templates("report.", lang)
    x = x or next((c for c in ("n_sites", "p", "new_sites", "budget", "cost")
                   if c in table.columns), None)
    y = y or next((c for c in ("share", "share_after", "covered", "covered_after")
                   if c in table.columns), None)
    if x is None or y is None or x not in table.columns or y not in table.columns:
        raise GeoplanInputError("the trade-off table needs a count/budget column and a "
                                "share/covered column", field="tradeoff",
                                hint="e.g. columns n_sites and share")
    xs = pd.to_numeric(table[x], errors="coerce").to_numpy(float)
    ys = pd.to_numeric(table[y], errors="coerce").to_numpy(float)
    share = y.startswith("share")
    if share:
        ys = ys * 100
    optimal = (table["status"].astype(str).to_numpy() == "optimal") if "status" in table \
        else np.ones(len(xs), bool)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # missing CJK glyphs: the browser draws the text
        buf = _draw_curve(xs, ys, optimal, t, budget=x in ("budget", "cost"), share=share)
    svg = buf.getvalue()
    return svg[svg.index("<svg"):]


def _map_page(value: Any) -> str:
    if isinstance(value, MapCanvas):
        return render_map(value, offline=True)
    if isinstance(value, Path) or (isinstance(value, str)
                                   and not value.lstrip().startswith("<")):
        p = Path(value)
        if not p.is_file():
            raise GeoplanInputError("map file not found", path=p, field="maps",
                                    hint="save the map first (geoplan.maps.canvas.save_map)")
        return p.read_text(encoding="utf-8")
    return str(value)


_CSS = """
body { font-family: "Microsoft YaHei", "PingFang SC", "Noto Sans CJK SC", "Helvetica Neue",
  Arial, sans-serif; margin: 0 auto; max-width: 1180px; padding: 16px 28px 48px;
  color: #222; line-height: 1.45; }
h1 { font-size: 26px; margin: 12px 0 2px; } h2 { font-size: 20px; margin: 28px 0 8px;
  border-bottom: 2px solid #2166ac; padding-bottom: 3px; }
h3 { font-size: 16px; margin: 18px 0 6px; }
.sub { color: #555; margin: 0 0 12px; }
table { border-collapse: collapse; margin: 6px 0 12px; font-size: 13px; }
th, td { border: 1px solid #ccc; padding: 3px 8px; }
th { background: #eef3f8; text-align: left; } td.num { text-align: right; }
tr.total td { font-weight: bold; background: #f6f6f6; }
table.figures th { background: none; font-weight: normal; color: #444; }
table.figures td { font-weight: bold; }
.more { color: #666; font-size: 12px; }
.explain { background: #fff4e5; border-left: 4px solid #f0a030; padding: 6px 12px; }
.map { width: 100%; max-width: 190mm; height: 640px; border: 1px solid #bbb; }
.chart svg { max-width: 100%; height: auto; }
.pair { display: flex; flex-wrap: wrap; gap: 8px 28px; align-items: flex-start; }
.chart.curve svg { width: 330px; }
nav a { margin-right: 14px; }
footer { margin-top: 36px; color: #777; font-size: 12px; }
@page { size: A4; margin: 12mm 10mm; }
@media print {
  body { max-width: none; padding: 0; font-size: 12px; }
  nav { display: none; }
  h2 { page-break-after: avoid; } h3 { page-break-after: avoid; }
  table { page-break-inside: auto; } tr { page-break-inside: avoid; }
  .map { height: 640px; page-break-inside: avoid; }
  .pair { break-inside: avoid; page-break-inside: avoid; }
  /* the footer never makes a page of its own */
  footer { margin-top: 4px; break-before: avoid; page-break-before: avoid; }
  section:last-of-type { break-after: avoid; page-break-after: avoid; }
}
"""


#: Once the page (and every embedded map) has loaded, each map fits its area again into
#: the room its legend leaves (off-screen frames lay out late); and before printing.
_REFIT = """<script>
(function () {
  function refit() {
    document.querySelectorAll("iframe.map").forEach(function (f) {
      try { if (f.contentWindow.geoplanRefit) { f.contentWindow.geoplanRefit(); } }
      catch (e) { /* a linked, not embedded, map */ }
    });
  }
  window.addEventListener("load", refit);
  window.addEventListener("beforeprint", refit);
})();
</script>"""


def gap_rows(gaps: pd.DataFrame, lang: str, top: int = REPORT_GAPS) -> pd.DataFrame:
    """The report's view of a gap table: the ``top`` largest areas, one row each, with
    their unit, nearest place, people, area and the sites that would close them."""
    g = gaps.sort_values("population", ascending=False).head(top)
    out = pd.DataFrame({"gap_id": g["gap_id"].astype(int).to_numpy()})
    if "admin_names" in g.columns:
        out["admin_name"] = g["admin_names"].astype(str).to_numpy()
    if "near_place" in g.columns:
        place = g["near_place"].fillna("").astype(str)
        if lang == "en" and "near_place_en" in g.columns:
            en = g["near_place_en"].fillna("").astype(str)
            place = en.where(en != "", place)
        out["near_place"] = place.to_numpy()
    out["population"] = g["population"].astype(float).to_numpy()
    if "area_km2" in g.columns:
        out["area_km2"] = g["area_km2"].astype(float).to_numpy()
    if "closing_sites" in g.columns:
        text = []
        for ids, names, people in zip(g["closing_sites"], g["closing_names"],
                                      g["closing_people"], strict=True):
            ids_l = [i for i in str(ids or "").split(",") if i]
            names_l = str(names or "").split("|")
            people_l = str(people or "").split(",")
            text.append("; ".join(labels.text(
                "report.site_adds", lang,
                name=(names_l[k] or i) if k < len(names_l) else i,
                people=f"{float(people_l[k]):,.0f}") for k, i in enumerate(ids_l)) or "–")
        out["closing"] = text
        out["closed_share"] = g["closed_share"].astype(float).to_numpy()
    return out


def _gaps_html(data: ReportInputs, lang: str, tables: dict[str, pd.DataFrame]) -> str:
    t = labels.templates("report.", lang)
    parts = [f"<p class='sub'>{esc(t['gaps_note'].format(n=REPORT_GAPS))}</p>"]
    for i, (caption, g) in enumerate(data.gaps.items(), start=1):
        if g is None:
            continue
        tables[f"gaps{i}"] = pd.DataFrame(g.drop(columns="geometry", errors="ignore"))
        parts.append(f"<h3>{esc(caption)}</h3>")
        parts.append(_table(gap_rows(g, lang), lang) if len(g)
                     else f"<p>{esc(t['no_gaps'])}</p>")
    return "".join(parts)


def _section(anchor: str, title: str, body: str) -> str:
    return f'<section id="{anchor}"><h2>{esc(title)}</h2>{body}</section>'


def _plans_html(data: ReportInputs, plans: list[tuple[str, Any]], lang: str,
                tables: dict[str, pd.DataFrame], figures: Mapping[str, list[Any]]) -> str:
    t = labels.templates("report.", lang)
    sites = {name: _plan_sites(data, plan, lang) for name, plan in plans}
    summary = _plan_summary(plans, figures)
    tables["plans"] = summary
    parts = [_table(summary, lang)]
    for i, (name, plan) in enumerate(plans, start=1):
        parts.append(f"<h3>{esc(t['plan'])} {i}: {esc(name)}</h3>")
        if getattr(plan, "explanation", None) is not None:
            expl = plan.explanation
            expl_html = _table(expl, lang) if isinstance(expl, pd.DataFrame) else esc(expl)
            parts.append(f"<div class='explain'><b>{esc(t['explanation'])}</b><br>"
                         f"{expl_html}</div>")
        s = sites[name]
        if s is not None and len(s):
            tables[f"plan{i}_sites"] = s
            parts.append(_table(s, lang, vocab=_vocab(data)))
        elif s is not None:
            parts.append(f"<p>{esc(t['no_sites'])}</p>")
        zones = _zone_rows(plan, lang)
        if zones is not None:
            tables[f"plan{i}_zones"] = zones
            parts.append(f"<h4>{esc(t['zones'])}</h4>" + _table(zones, lang))
        tiers = _tier_rows(plan, lang)
        if tiers is not None:
            tables[f"plan{i}_tiers"] = tiers
            parts.append(f"<h4>{esc(t['tiers'])}</h4>" + _table(tiers, lang))
    return "".join(parts)


def _tier_rows(plan: Any, lang: str) -> pd.DataFrame | None:
    """A tiered plan's tier table as the model computed it, tiers named in ``lang``."""
    d = getattr(plan, "details", {})
    table = d.get("tiers")
    if not isinstance(table, pd.DataFrame) or table.empty:
        return None
    out = table.copy()
    names = d.get("tier_names_zh" if lang == "zh" else "tier_names") or d.get("tier_names")
    if names:
        out["tier_name"] = list(names)
    out = out.rename(columns={"minutes": "standard_minutes"})
    keep = ["tier_name", "mode", "standard_minutes", "rural_minutes", "referral_minutes",
            "facilities", "kept", "upgraded", "new", "covered_before", "covered_after",
            "share_before", "share_after", "target_share", "cost"]
    out = out[[c for c in keep if c in out.columns]]
    return out.dropna(axis=1, how="all")


def _zone_rows(plan: Any, lang: str) -> pd.DataFrame | None:
    """A balanced plan's zone table as the model computed it, zones named in ``lang``."""
    z = getattr(plan, "details", {}).get("zones")
    if not isinstance(z, pd.DataFrame) or z.empty:
        return None
    out = z.copy()
    name = f"name_{'zh' if lang == 'zh' else 'en'}"
    if name in out.columns:
        out["zone"] = out[name].where(out[name].notna(), out["zone"])
    keep = ["zone", "population", "covered_before", "covered_after", "share_before",
            "share_after", "mean_before", "mean_after", "sites_existing", "sites_new"]
    return out[[c for c in keep if c in out.columns]]


def build_report(data: ReportInputs, *, lang: str = "en", embed_maps: bool = True,
                 map_links: Mapping[str, str] | None = None) -> Report:
    """Build the report page and its tables.

    Parameters
    ----------
    data
        What to show.
    lang
        ``"zh"`` or ``"en"``.
    embed_maps
        Embed each map's self-contained page in an ``<iframe srcdoc>`` (default; one
        file works offline); False links ``map_links[caption]`` instead.
    map_links
        Relative links of the maps when not embedded.

    Returns
    -------
    Report

    Raises
    ------
    GeoplanInputError
        Unknown language, a missing map file, a malformed trade-off table.
    """
    from geoplan import __version__  # noqa: PLC0415 - avoid an import cycle at module load

    lang = check_lang(lang)
    t = labels.templates("report.", lang)
    tables: dict[str, pd.DataFrame] = {}
    sections = []
    plans = _plans(data)
    units = _units_table(data, plans)
    figures = {name: plan_figures(plan) for name, plan in plans}    # once per plan
    summary = _summary_html(units, plans, figures, lang, data.equity)
    if summary:
        sections.append(("summary", t["summary"], summary))
    inputs = _inputs_table(data, lang)
    tables["inputs"] = inputs
    body = _table(inputs, lang)
    if data.region is not None and data.region.facilities is not None:
        from geoplan.inputs.summary import facility_summary  # noqa: PLC0415

        fac = facility_summary(data.region.facilities, data.region.vocabulary, lang)
        tables["facilities_by_type"] = fac
        body += f"<h3>{esc(t['facilities'])}</h3>" + _table(
            fac.drop(columns=["type"]).rename(columns={"label": "type"}), lang)
    sections.append(("inputs", t["inputs"], body))
    if units is not None:
        tables["coverage_by_unit"] = units
        sections.append(("coverage", t["coverage"], _table(units, lang)))
    if plans:
        sections.append(("plans", t["plans"], _plans_html(data, plans, lang, tables,
                                                             figures)))
    if data.gaps:
        sections.append(("gaps", t["gaps"], _gaps_html(data, lang, tables)))
    if data.tradeoff is not None and len(data.tradeoff):
        tables["tradeoff"] = data.tradeoff
        chart = f"<div class='chart'>{tradeoff_svg(data.tradeoff, lang=lang)}</div>"
        sections.append(("tradeoff", t["tradeoff"], chart + _table(data.tradeoff, lang)))
    if data.maps:
        parts = []
        for caption, value in data.maps.items():
            parts.append(f"<h3>{esc(caption)}</h3>")
            if embed_maps:
                parts.append(f'<iframe class="map" title="{esc(caption)}" '
                             f'srcdoc="{esc(_map_page(value))}"></iframe>')
            else:
                link = (map_links or {}).get(caption, str(value))
                parts.append(f'<p><a href="{esc(link)}">{esc(t["open_map"])}: '
                             f"{esc(caption)}</a></p>")
        sections.append(("maps", t["maps"], "".join(parts)))
    if data.notes:
        sections.append(("notes", t["notes"], "".join(f"<p>{esc(n)}</p>" for n in data.notes)))
    if plans:
        solver = _solver_table(plans, lang)
        tables["solver"] = solver
        sections.append(("appendix", t["appendix"],
                         f"<p class='sub'>{esc(t['appendix_note'])}</p>" + _table(solver, lang)))
    nav = "".join(f'<a href="#{a}">{esc(title)}</a>' for a, title, _ in sections)
    title = data.title or "geoplan"
    page = (f'<!DOCTYPE html>\n<html lang="{"zh-CN" if lang == "zh" else "en"}"><head>'
            f'<meta charset="utf-8"><meta name="viewport" content="width=device-width">'
            f"<title>{esc(title)}</title><style>{_CSS}</style></head><body>"
            f"<h1>{esc(title)}</h1>"
            + (f"<p class='sub'>{esc(data.subtitle)}</p>" if data.subtitle else "")
            + f"<nav>{nav}</nav>"
            + "".join(_section(a, s, b) for a, s, b in sections)
            + f"<footer>{esc(t['generated'].format(v=__version__))}</footer>"
            + _REFIT + "</body></html>")
    return Report(html=page, tables=tables)


def _sheet_name(name: str, lang: str) -> str:
    """The workbook sheet of report table ``name`` in ``lang`` (Excel allows 31 characters)."""
    sites, gaps = re.fullmatch(r"plan(\d+)_sites", name), re.fullmatch(r"gaps(\d+)", name)
    per_plan = re.fullmatch(r"plan(\d+)_(zones|tiers)", name)
    if sites:
        label = labels.text("sheet.plan_sites", lang, i=sites.group(1))
    elif per_plan:
        label = labels.text(f"sheet.plan_{per_plan.group(2)}", lang, i=per_plan.group(1))
    elif gaps:
        label = labels.text("sheet.gaps", lang, i=gaps.group(1))
    else:
        label = labels.text(f"sheet.{name}", lang)
    return label[:31]


def _readable(df: pd.DataFrame, lang: str, vocab: Any = None) -> pd.DataFrame:
    """A table for people: headers and status/mode/model values in ``lang`` (the CSV files
    keep machine names and raw values for scripts)."""
    out = df.drop(columns=["type"]) if {"type", "label"} <= set(df.columns) else df.copy()
    if lang != "en":          # English spellings of names (near_place_en, ...) are for en
        out = out.drop(columns=[c for c in out.columns if str(c).endswith("_en")])
    for col in out.columns:
        if col in ("status", "mode", "model", "kind", "solver", "type", "centre"):
            out[col] = [v if v is None or v != v else _fmt(col, str(v), lang, vocab)
                        for v in out[col]]
        elif not pd.api.types.is_numeric_dtype(out[col]):  # the total row of a unit table
            out[col] = out[col].mask(out[col].astype(str) == "total",
                                     labels.text("report.total", lang))
    out.columns = [labels.header(str(c), lang) for c in out.columns]
    return out


def write_report(data: ReportInputs, out_dir: str | Path = "out/report", *,
                 lang: str = "en", embed_maps: bool = True, xlsx: bool = True) -> ReportFiles:
    """Write ``report.html``, ``tables/<name>.csv`` and ``report.xlsx`` into ``out_dir``.

    Every file is written atomically (complete or absent). CSV files are UTF-8 with BOM.

    Parameters
    ----------
    data
        What to show.
    out_dir
        Output folder (created if missing).
    lang
        ``"zh"`` or ``"en"``.
    embed_maps
        Embed maps in the page (default); False saves them beside it under ``maps/``
        and links them.
    xlsx
        Also write the tables as one workbook (needs openpyxl; skipped if missing).

    Returns
    -------
    ReportFiles

    Raises
    ------
    GeoplanInputError
        As :func:`build_report`, or if the folder cannot be written.
    """
    out = Path(out_dir)
    links: dict[str, str] = {}
    if not embed_maps:
        for i, (caption, value) in enumerate(data.maps.items(), start=1):
            target = out / "maps" / f"map{i}.html"
            with atomic_path(target) as tmp:
                tmp.write_text(_map_page(value), encoding="utf-8")
            links[caption] = f"maps/{target.name}"
    report = build_report(data, lang=lang, embed_maps=embed_maps, map_links=links)
    csv = [write_table(df, out / "tables" / f"{name}.csv") for name, df in report.tables.items()]
    book = None
    if xlsx:
        try:
            import openpyxl  # noqa: F401, PLC0415
        except ImportError:  # pragma: no cover - openpyxl is a dependency
            book = None
        else:
            book = out / "report.xlsx"
            with atomic_path(book) as tmp, pd.ExcelWriter(tmp, engine="openpyxl") as xl:
                for name, df in report.tables.items():
                    sheet = _sheet_name(name, lang)
                    _readable(df, lang, _vocab(data)).to_excel(xl, sheet_name=sheet, index=False)
    html = out / "report.html"
    with atomic_path(html) as tmp:
        tmp.write_text(report.html, encoding="utf-8")
    return ReportFiles(html=html, csv=csv, xlsx=book)
