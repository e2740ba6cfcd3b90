"""One label catalogue, and Chinese pages with no English word geoplan wrote into them.

The catalogue (:mod:`geoplan.labels`) holds every label in both languages with the same
placeholders. A scenario with every model kind is run in Chinese (``tests/zh_pages.py``);
its report page and workbook must then read in Chinese throughout: the only Latin words
left are proper names and the values of the user's own files. Maps are checked the same
way in the browser (``tests/maps/test_browser.py``).
"""

from __future__ import annotations

import re

import pytest
from conftest import DEMO
from zh_pages import data_values, english_words, page_text

from geoplan import labels
from geoplan.inputs.region import load_region

CJK = re.compile(r"[\u4e00-\u9fff]")


@pytest.fixture(scope="module")
def allowed():
    return [*data_values(load_region(DEMO)), "zh_pages.toml"]


def test_every_label_exists_in_both_languages_with_the_same_placeholders():
    labels._check_catalogue()
    for key in labels.keys():
        en, zh = labels.templates("", "en")[key], labels.templates("", "zh")[key]
        assert en and zh, key
        plain = english_words(re.sub(r"\{[^}]*\}", " ", zh))
        assert not plain, f"{key}: English in the Chinese label: {plain}"


def test_english_detector_sees_english_and_lets_proper_names_and_data_pass():
    assert english_words("规划后：15分钟覆盖范围") == []
    assert english_words("方案 beds_before 未证明最优") == ["beds_before"]
    assert english_words("求解器 HiGHS 1.7.2，底图 OpenStreetMap") == []
    assert english_words("候选点 village committee", ["village committee"]) == []
    assert english_words("状态 time_limit") == ["time_limit"]


def test_headers_statuses_modes_and_kinds_read_in_chinese():
    assert labels.header("share_15min", "zh") == "15分钟覆盖率"
    assert labels.header("covered_12.5min", "en") == "Covered ≤ 12.5 min"
    assert labels.value("status", "time_limit", "zh") == "达到时限"
    assert labels.mode("ebike", "zh") == "电动自行车"
    assert labels.kind("set_covering", "zh") == "达到覆盖目标的最少站点"
    with pytest.raises(KeyError):
        labels.text("map.no_such_label", "zh")
    with pytest.raises(labels.GeoplanInputError if hasattr(labels, "GeoplanInputError")
                       else Exception):
        labels.text("map.gaps", "fr")


def test_chinese_report_page_has_no_english(zh_run, allowed):
    res, out = zh_run
    html = (out / "report" / "report.html").read_text(encoding="utf-8")
    leaks = {}
    for part in page_text(html):
        words = english_words(part, allowed)
        if words:
            leaks[part[:80]] = words
    assert not leaks, f"English in the Chinese report: {leaks}"
    # every plan of the run is on the page, under its Chinese name
    assert "新增3个服务点" in html and "达到覆盖目标的最少站点" in html
    assert "演示数据上的全部模型" in html        # description_zh is the subtitle


def test_chinese_workbook_has_no_english(zh_run, allowed):
    import openpyxl

    _, out = zh_run
    book = openpyxl.load_workbook(out / "report" / "report.xlsx", read_only=True)
    leaks = []
    for sheet in book.worksheets:
        if english_words(sheet.title):
            leaks.append(("sheet", sheet.title))
        for r, row in enumerate(sheet.iter_rows(values_only=True)):
            for v in row:
                if isinstance(v, str) and english_words(v, allowed):
                    leaks.append((sheet.title, r, v))
    assert not leaks, f"English in the Chinese workbook: {leaks[:20]}"


def test_chinese_map_titles_and_captions(zh_run):
    res, out = zh_run
    maps = sorted(p.name for p in out.glob("map_*.html"))
    assert {"map_insurance_walk.html", "map_insurance_ebike.html",
            "map_points_3.html"} <= set(maps)
    html = (out / "map_points_3.html").read_text(encoding="utf-8")
    assert "中文页面：新增3个服务点" in html and "points_3" not in html.split("<script")[0]


def test_every_figure_has_a_label_and_a_column_header():
    """A plan's figures appear as labelled rows (fig.) and as columns of the plans table
    (col.): a figure added without both shows its key on a Chinese page."""
    from geoplan import labels
    from geoplan.optimize.figures import UNITS
    missing = [k for k in UNITS if not (labels.has(f"fig.{k}") and labels.has(f"col.{k}"))]
    assert not missing, missing
