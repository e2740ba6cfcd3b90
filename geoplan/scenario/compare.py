"""Put the summaries of several scenario runs side by side (``geoplan compare``).

Why: planners decide between scenarios ("5 new points or 8?", "walk or e-bike
standard?"); the deciding figures - population, coverage before and after, sites and beds
added, cost, optimality - come from each run's ``summary.json`` and belong in one table
and one chart.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pandas as pd

from geoplan._atomic import atomic_path, write_table
from geoplan._errors import GeoplanInputError

__all__ = ["compare_runs", "load_summary", "write_comparison"]


def load_summary(path: str | Path) -> dict[str, Any]:
    """Read a run's ``summary.json`` (give the file or the run's output folder).

    Raises
    ------
    GeoplanInputError
        If the file is missing or not a geoplan summary.
    """
    p = Path(path)
    if p.is_dir():
        p = p / "summary.json"
    elif p.is_file() and p.suffix.lower() != ".json":
        raise GeoplanInputError("is a file, not a run folder", path=p,
                                hint="give the output folder of a 'geoplan run' (it holds "
                                     "summary.json)")
    if not p.is_file():
        raise GeoplanInputError("no summary.json here", path=p,
                                hint="give the output folder of a 'geoplan run'")
    try:
        data = json.loads(p.read_text(encoding="utf-8"))
    except UnicodeDecodeError:
        raise GeoplanInputError("not a valid summary.json: the file is not UTF-8 text", path=p,
                                hint="give the output folder of a 'geoplan run' (run it "
                                     "again if the file was damaged)") from None
    except ValueError as exc:
        raise GeoplanInputError(f"not a valid summary.json: {exc}", path=p,
                                hint="give the output folder of a 'geoplan run' (run it "
                                     "again if the file was damaged)") from None
    if not isinstance(data, dict) or "scenario" not in data:
        raise GeoplanInputError("not a geoplan summary (no 'scenario' key)", path=p,
                                hint="give the output folder of a 'geoplan run'")
    _check_summary(data, p)
    data["_path"] = str(p.parent)
    return data


def _check_summary(data: dict[str, Any], p: Path) -> None:
    """The parts of a summary a comparison reads have the shape a run writes."""
    def bad(where: str, what: str) -> GeoplanInputError:
        return GeoplanInputError(f"not a geoplan summary: '{where}' {what}", path=p,
                                 field=where, hint="give the output folder of a 'geoplan "
                                                   "run' (its summary.json is not edited)")

    if not isinstance(data["scenario"], str):
        raise bad("scenario", "must be a text (the scenario's name)")
    for key in ("coverage", "models"):
        items = data.get(key, [])
        if not isinstance(items, list):
            raise bad(key, "must be a list")
        for i, item in enumerate(items):
            where = f"{key}[{i}]"
            if not isinstance(item, dict):
                raise bad(where, "must be a table")
            if not isinstance(item.get("name"), str):
                raise bad(f"{where}.name", "must be a text")
            if key == "coverage":
                modes = item.get("modes", {})
                if not isinstance(modes, dict) or not all(
                        isinstance(f, dict) for f in modes.values()):
                    raise bad(f"{where}.modes", "must be a table of tables of figures")
                for mode, figs in modes.items():
                    for k, v in figs.items():
                        if k.startswith("share_") and not (
                                v is None or isinstance(v, int | float)):
                            raise bad(f"{where}.modes.{mode}.{k}", "must be a number")
            else:
                for k in ("share_before", "share_after", "objective", "gap", "new_sites"):
                    v = item.get(k)
                    if not (v is None or isinstance(v, int | float)):
                        raise bad(f"{where}.{k}", "must be a number")


def compare_runs(paths: Sequence[str | Path]) -> pd.DataFrame:
    """One row per coverage figure and per model of each run.

    Parameters
    ----------
    paths
        Output folders (or ``summary.json`` files) of runs.

    Returns
    -------
    pandas.DataFrame
        Columns ``run``, ``scenario``, ``item`` (coverage question / model),
        ``kind``, ``mode``, ``share_before``, ``share_after``, ``new_sites``,
        ``beds_added``, ``objective``, ``gap``, ``status``.
    """
    if not paths:
        raise GeoplanInputError("give at least one run folder to compare")
    rows: list[dict[str, Any]] = []
    for path in paths:
        s = load_summary(path)
        run = Path(s["_path"]).name
        for cov in s.get("coverage", []):
            for mode, figs in cov.get("modes", {}).items():
                shares = {k: v for k, v in figs.items() if k.startswith("share_")}
                for k, v in shares.items():
                    rows.append({"run": run, "scenario": s["scenario"],
                                 "item": f"{cov['name']} ({k[6:]})", "kind": "coverage",
                                 "mode": mode, "share_before": v})
        for m in s.get("models", []):
            rows.append({"run": run, "scenario": s["scenario"], "item": m["name"],
                         "kind": m.get("kind", m.get("model")), "mode": None,
                         "share_before": m.get("share_before"),
                         "share_after": m.get("share_after"),
                         "new_sites": m.get("new_sites"), "beds_added": m.get("beds_added"),
                         "objective": m.get("objective"), "gap": m.get("gap"),
                         "status": m.get("status")})
    cols = ["run", "scenario", "item", "kind", "mode", "share_before", "share_after",
            "new_sites", "beds_added", "objective", "gap", "status"]
    if not rows:
        raise GeoplanInputError("the runs hold no coverage or model figures to compare",
                                path=Path(paths[0]), hint="give folders of runs that "
                                "finished (their summary.json lists coverage or models)")
    return pd.DataFrame(rows).reindex(columns=cols)


def write_comparison(table: pd.DataFrame, out: str | Path, *,
                     lang: str = "en") -> dict[str, Path]:
    """Write the comparison as CSV and a bar chart (SVG) of covered shares.

    The chart's words come from the label catalogue in ``lang``; its text stays text in
    the SVG and names an installed CJK font first (:mod:`geoplan.maps.charts`), so
    Chinese scenario names show as characters, not empty boxes.

    Parameters
    ----------
    table
        From :func:`compare_runs`.
    out
        Output folder.
    lang
        ``"zh"`` or ``"en"``.

    Returns
    -------
    dict
        ``{"csv": path, "chart": path}``.
    """
    import matplotlib
    matplotlib.use("Agg")
    from matplotlib.figure import Figure

    from geoplan import labels as catalogue
    from geoplan.maps.charts import chart_context

    lang = catalogue.check_lang(lang)
    out = Path(out)
    if out.exists() and not out.is_dir():
        raise GeoplanInputError("the output is not a folder (a file of that name exists)",
                                path=out, field="out", hint="give a folder with --out")
    csv = out / "comparison.csv"
    write_table(table, csv)
    shares = table.dropna(subset=["share_before"]).copy()
    modes = shares["mode"].map(lambda m: f" [{catalogue.mode(m, lang)}]"
                               if isinstance(m, str) and m else "")
    labels = (shares["run"] + ": " + shares["item"].astype(str) + modes).tolist()
    with chart_context():
        fig = Figure(figsize=(9, 0.4 * max(len(labels), 3) + 1.2))
        ax = fig.add_subplot()
        y = range(len(labels))
        ax.barh([i + 0.2 for i in y], shares["share_before"] * 100, height=0.4,
                label=catalogue.text("report.chart_before", lang), color="#9ecae1")
        after = pd.to_numeric(shares["share_after"], errors="coerce") * 100
        ax.barh([i - 0.2 for i in y], after.fillna(0), height=0.4,
                label=catalogue.text("report.chart_after", lang), color="#08519c")
        ax.set_yticks(list(y), labels, fontsize=8)
        ax.invert_yaxis()
        ax.set_xlabel(catalogue.text("report.y_share", lang))
        ax.set_xlim(0, 100)
        ax.legend(loc="lower right", fontsize=8)
        fig.tight_layout()
        chart = out / "comparison.svg"
        with atomic_path(chart) as tmp:
            fig.savefig(tmp, format="svg", metadata={"Date": None, "Creator": None,
                                                     "Format": None, "Type": None})
    return {"csv": csv, "chart": chart}
