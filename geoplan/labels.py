"""Every word geoplan shows a reader, in English and Chinese: the one label catalogue.

Why one file: maps, reports, workbooks and the command line speak to the same planners,
and a committee page must be all in one language. Labels kept beside the code that draws
them drift apart (the same column called 覆盖人口 on a map and "covered" in a workbook)
and English leaks into Chinese pages. Here each label is one entry ``key: (en, zh)``;
pages ask for a key and a language and never spell a label themselves. A test renders
every page and table in Chinese and fails on any English word geoplan wrote into it
(``tests/test_labels.py``).

Keys are grouped by a prefix that says where they are read:

``map.``     layer names, legends and popups of maps (:mod:`geoplan.maps.canvas`)
``report.``  report sections and notes (:mod:`geoplan.maps.report`)
``col.``     table column headers (report pages, workbooks, terminal tables)
``sheet.``   workbook sheet names
``status.``  values of status columns: plan status, site status
``mode.``    travel modes; ``kind.`` scenario model kinds
``solver.``  phrases of a plan's solver text (the English is the phrase itself)
``site.``    names geoplan gives to sites it creates
``centre.``  function-centre types (values of ``centre`` columns; others shown as written)
``sitetype.`` common candidate site categories (others shown as written)
``road.``     OSM road classes (values of ``highway`` columns)
``rule.``     rules of a tiered plan that cannot hold (values of ``rule`` columns)
``fig.``     figures of a plan (:mod:`geoplan.optimize.figures`); ``unit.`` their units
``cli.``     command-line output

Labels are :meth:`str.format` templates: ``text("map.covered", "zh", m=15)`` gives
``15分钟覆盖范围``. Proper names (OpenStreetMap, geoplan, HiGHS) stay as they are.
"""

from __future__ import annotations

import re
from typing import Any

from geoplan._errors import GeoplanInputError

__all__ = ["LANGS", "check_lang", "figure", "has", "header", "keys", "kind", "mode",
           "solver", "templates", "text", "value"]

#: Languages every label exists in.
LANGS: tuple[str, ...] = ("en", "zh")

_CATALOGUE: dict[str, tuple[str, str]] = {
    # ---------------------------------------------------------------- map layers, legends
    "map.population": ("Population (people per km²)", "人口（人/平方公里）"),
    "map.facilities": ("Facilities: {label} ({n})", "设施：{label}（{n}）"),
    "map.covered": ("Covered within {m} min", "{m}分钟覆盖范围"),
    "map.covered_before": ("Before: covered within {m} min", "规划前：{m}分钟覆盖范围"),
    "map.covered_after": ("After: covered within {m} min", "规划后：{m}分钟覆盖范围"),
    "map.isochrone": ("Isochrones {m} min", "{m}分钟等时圈"),
    "map.gaps": ("Gaps (uncovered people)", "覆盖缺口（未覆盖人口）"),
    "map.gaps_before": ("Before: gaps (people outside the standard)",
                        "规划前：覆盖缺口（未达标人口）"),
    "map.gaps_after": ("After: gaps (people still outside the standard)",
                       "规划后：覆盖缺口（仍未达标人口）"),
    "map.standard_before": ("Before: within the standard ({std})", "规划前：达到时间标准（{std}）"),
    "map.standard_after": ("After: within the standard ({std})", "规划后：达到时间标准（{std}）"),
    "map.standard_min": ("{m} min", "{m}分钟"),
    "map.worst_after": ("After: the farthest residents (≥ {m} min)",
                        "规划后：出行时间最长的居民（≥{m}分钟）"),
    "map.share": ("Coverage share by unit", "各单元覆盖率"),
    "map.share_before": ("Before: coverage share by unit", "规划前：各单元覆盖率"),
    "map.share_after": ("After: coverage share by unit", "规划后：各单元覆盖率"),
    "map.share_t": ("Share within {m} min by unit", "各单元{m}分钟覆盖率"),
    "map.beds_layer": ("Beds per 1,000 (target {t:g})", "每千人床位数（目标{t:g}张）"),
    "map.beds_layer_after": ("After: beds per 1,000 (target {t:g})",
                             "规划后：每千人床位数（目标{t:g}张）"),
    "map.boundaries": ("Admin boundaries", "行政边界"),
    "map.zones": ("Planning zones", "规划片区"),
    "map.tier": ("{name} ({n})", "{name}（{n}处）"),
    "map.referral": ("Referral links", "转诊关系"),
    "map.referral_to": ("refers to {name}, {m:.0f} min", "转诊至{name}，{m:.0f}分钟"),
    "map.referral_target": ("{name}, {m:.0f} min", "{name}（{m:.0f}分钟）"),
    "map.zone_share": ("covered {before:.1%} -> {after:.1%}", "覆盖 {before:.1%} → {after:.1%}"),
    "map.zone_new": ("{n} new sites", "新增 {n} 处"),
    "map.candidates": ("Candidate sites ({n})", "候选站点（{n}）"),
    "map.new_sites": ("Plan: new sites ({n})", "规划：新增站点（{n}）"),
    "map.upgraded": ("Plan: upgraded facilities, +beds ({n})", "规划：扩建设施，新增床位（{n}）"),
    "map.basemap_osm": ("OpenStreetMap", "OpenStreetMap"),
    "map.basemap_gaode": ("Gaode (AutoNavi)", "高德地图"),
    "map.basemap_none": ("No basemap", "无底图"),
    "map.basemap_roads": ("Roads (offline)", "路网底图（离线）"),
    "map.tiles_unavailable_roads": (
        "Map tiles could not be loaded (offline?): showing the region's own roads.",
        "在线底图无法加载（可能未联网），已改用本地路网底图。"),
    "map.tiles_unavailable": (
        "Map tiles could not be loaded (offline?): no background shown.",
        "在线底图无法加载（可能未联网），当前无底图。"),
    "map.before": ("Before", "规划前"),
    "map.after": ("After plan", "规划后"),
    "map.name": ("Name", "名称"),
    "map.type": ("Type", "类型"),
    "map.beds": ("Beds", "床位"),
    "map.beds_added": ("Beds added", "新增床位"),
    "map.capacity": ("Capacity (people)", "服务能力（人）"),
    "map.served": ("People served", "服务人数"),
    "map.use": ("Capacity used", "能力利用率"),
    "map.loads": ("Plan: people served by existing sites ({n})", "规划：现有站点服务人数（{n}处）"),
    "map.catchment": ("Catchment population", "服务人口"),
    "map.travel_time": ("Mean travel time", "平均出行时间"),
    "map.unit": ("Admin unit", "行政单元"),
    "map.people": ("people", "人"),
    "map.min": ("min", "分钟"),
    "map.share_col": ("Covered share", "覆盖率"),
    "map.beds_1000": ("Beds per 1,000", "每千人床位"),
    "map.cost": ("Cost (10k yuan)", "费用（万元）"),
    "map.gap": ("Gap", "缺口"),
    "map.cells": ("Cells", "网格数"),
    "map.units": ("Units", "所在单元"),
    "map.uncovered_people": ("Uncovered people", "未覆盖人口"),
    "map.area_km2": ("Area (km²)", "面积（平方公里）"),
    "map.near_place": ("Near", "最近地名"),
    "map.place_km": ("{name} ({km} km from its centre)", "{name}（距缺口中心 {km} 公里）"),
    "map.closing_sites": ("Sites that would close it", "可填补缺口的候选点"),
    "map.site_adds": ("{name} (+{people} people)", "{name}（+{people} 人）"),
    "map.closed_share": ("Share these sites would cover", "这些候选点可覆盖比例"),
    "map.no_closing_site": ("No candidate site reaches it", "无候选点可达"),
    "map.population_col": ("Population", "人口"),
    "map.status": ("Status", "状态"),
    "map.new": ("new site", "新建"),
    "map.upgraded_status": ("upgraded", "扩建"),
    "map.covered_people": ("People covered", "覆盖人口"),
    "map.legend_gaps": ("Uncovered people (largest {n} areas; #rank)",
                        "未覆盖人口（最大的{n}个区域，#为排名）"),
    "map.of_target": ("of target", "目标"),
    "map.no_data": ("no data", "无数据"),
    "map.title": ("{scenario}: {name}", "{scenario}：{name}"),
    "map.coverage_title": ("{name}: {mins}-minute coverage", "{name}：{mins}分钟覆盖"),
    # ---------------------------------------------------------------- report sections
    "report.inputs": ("Inputs", "输入数据"),
    "report.summary": ("Summary", "摘要"),
    "report.appendix": ("Appendix: how each plan was solved", "附录：各方案求解信息"),
    "report.appendix_note": (
        "Objective, proven bound and optimality gap as the solver reported them; a plan "
        "marked optimal is proven optimal for the problem as posed.",
        "目标值、已证明的界与最优性差距均为求解器的报告；标为“最优”的方案已就所给问题证明为最优。"),
    "report.equity_gini": ("{name}: Gini of travel time (beyond {mins} counted at {mins})",
                           "{name}：出行时间基尼系数（超过{mins}按{mins}计）"),
    "report.curve_title": ("Concentration of travel time", "出行时间集中曲线"),
    "report.curve_x": ("Share of residents, nearest first", "居民累计比例（由近及远）"),
    "report.curve_y": ("Share of all travel time", "出行时间累计比例"),
    "report.curve_equal": ("Everyone the same time", "出行时间完全均等"),
    "report.curve_before": ("Before the plan", "规划前"),
    "report.curve_after": ("After the plan", "规划后"),
    "report.equity_worst": ("{name}: lowest share within {mins}", "{name}：{mins}内覆盖比例最低的单元"),
    "report.summary_coverage": ("{name}: share of residents within {mins}",
                                "{name}：{mins}内可达的居民比例"),
    "report.summary_status": ("Status", "求解状态"),
    "report.chart_before": ("Before / today", "规划前（现状）"),
    "report.chart_after": ("After the plan", "规划后"),
    "report.reduction": ("demand {a:,} -> {b:,}, candidates {c:,} -> {d:,}",
                         "需求行 {a:,} → {b:,}，候选点 {c:,} → {d:,}"),
    # ---------------------------------------------------------------- figures of a plan
    "fig.new_sites": ("New sites", "新增站点"),
    "fig.upgraded_sites": ("Facilities given beds", "扩建床位的设施"),
    "fig.upgraded_tier_sites": ("Facilities raised or designated to a tier",
                                "升级或认定为某一层级的机构"),
    "fig.beds_added": ("Beds added", "新增床位"),
    "fig.cost": ("Cost", "费用"),
    "fig.covered_before": ("Residents within the standard, before", "规划前达标人口"),
    "fig.covered_after": ("Residents within the standard, after", "规划后达标人口"),
    "fig.share": ("Share within the standard, before -> after", "达标比例（规划前 -> 规划后）"),
    "fig.share_before": ("Share within the standard, before", "规划前达标比例"),
    "fig.share_after": ("Share within the standard, after", "规划后达标比例"),
    "fig.uncovered_after": ("Residents still outside the standard", "规划后仍未达标人口"),
    "fig.standard_minutes": ("Time standard", "时间标准"),
    "fig.mean_minutes": ("Mean travel time to the nearest site", "到最近站点的平均出行时间"),
    "fig.worst_minutes": ("Longest travel time to the nearest site",
                          "到最近站点的最长出行时间"),
    "fig.beyond_cutoff": ("Residents beyond the search limit", "超出搜索上限的人口"),
    "fig.cutoff_minutes": ("Search limit", "搜索上限"),
    "fig.gini_before": ("Gini of travel time before the plan", "规划前出行时间基尼系数"),
    "fig.gini_after": ("Gini of travel time after the plan", "规划后出行时间基尼系数"),
    "fig.worst_unit_share": ("Lowest unit share after the plan", "规划后覆盖比例最低单元的比例"),
    "fig.balance_minutes": ("Mean trip added by the zone balance", "片区均衡增加的平均出行时间"),
    "fig.worst_zone_share": ("Worst zone's covered share", "覆盖比例最低片区的覆盖比例"),
    "fig.price_of_balance": ("People covered fewer than without balance",
                             "均衡布局比不均衡布局少覆盖的人口"),
    "fig.unassigned": ("Residents no site in reach had room for",
                       "可达范围内无剩余服务能力的人口"),
    "fig.units_met": ("Units meeting the target", "达标单元数"),
    "fig.units": ("Units", "单元总数"),
    "unit.sites": ("{v} sites", "{v} 个"),
    "unit.beds": ("{v} beds", "{v} 张"),
    "unit.wan_yuan": ("{v} × 10,000 yuan", "{v} 万元"),
    "unit.people": ("{v} people", "{v} 人"),
    "unit.share": ("{v}", "{v}"),
    "unit.minutes": ("{v} min", "{v} 分钟"),
    "unit.units": ("{v} units", "{v} 个"),
    "unit.index": ("{v}", "{v}"),
    "report.coverage": ("Coverage by admin unit", "各行政单元覆盖情况"),
    "report.gaps": ("Largest gaps and the sites that would close them",
                    "主要覆盖缺口及可填补的候选点"),
    "report.gaps_note": (
        "Uncovered people grouped into contiguous areas within one admin unit, largest first "
        "(the {n} largest of each); each is named by the nearest place to its people, with "
        "up to three candidate sites that would cover most of its people (chosen one after "
        "another, a suggestion per gap: the plans above choose sites for all gaps at once).",
        "未覆盖人口按行政单元内连片区域归并，按人口从多到少排列（每项列出最大的 {n} 个）；"
        "以距缺口人口中心最近的地名命名，并列出最多三个可覆盖其大部分人口的候选点"
        "（逐个选取，仅为单个缺口的建议；统筹所有缺口的选址见上文规划方案）。"),
    "report.gaps_after": ("{name}: still outside the standard after the plan",
                          "{name}：规划后仍未达标"),
    "report.site_adds": ("{name} (+{people})", "{name}（+{people}人）"),
    "report.no_gaps": ("No one is left outside the standard.", "无未达标人口。"),
    "report.plans": ("Plans", "规划方案"),
    "report.plan": ("Plan", "方案"),
    "report.sites": ("Sites", "选址"),
    "report.tradeoff": ("Trade-off curve", "权衡曲线"),
    "report.maps": ("Maps", "地图"),
    "report.facilities": ("Facilities by type", "各类设施"),
    "report.notes": ("Notes", "说明"),
    "report.region": ("Region", "区域"),
    "report.population": ("Population", "人口"),
    "report.cells": ("Population cells", "人口网格数"),
    "report.units": ("Admin units", "行政单元数"),
    "report.n_facilities": ("Facilities", "设施数"),
    "report.beds": ("Beds", "床位数"),
    "report.candidates": ("Candidate sites", "候选站点数"),
    "report.roads": ("Road network", "路网"),
    "report.edges": ("{n:,} road segments", "{n:,} 条路段"),
    "report.explanation": ("Why the target cannot be met", "目标无法实现的原因"),
    "report.no_sites": ("No new sites or beds.", "无新增站点或床位。"),
    "report.zones": ("Coverage by zone", "各片区覆盖情况"),
    "report.tiers": ("Tiers", "各层级"),
    "report.everyone": ("all residents", "全体居民"),
    "report.demand_of": ("Demand: {name} (the figures count them)", "需求人口：{name}（以下数字均指该人群）"),
    "report.open_map": ("open map", "打开地图"),
    "report.generated": ("Generated by geoplan {v}", "由 geoplan {v} 生成"),
    "report.x_sites": ("New sites", "新增站点数"),
    "report.x_budget": ("Budget", "预算"),
    "report.y_share": ("Population covered (%)", "覆盖人口比例（%）"),
    "report.y_covered": ("Population covered", "覆盖人口"),
    "report.optimal": ("optimal", "最优"),
    "report.not_optimal": ("not proven", "未证明最优"),
    "report.total": ("Total", "合计"),
    "report.more_rows": ("… {n:,} more rows in the CSV file.", "……另有 {n:,} 行，见 CSV 文件。"),
    "report.scenario_file": ("Scenario file", "情景文件"),
    "report.mode": ("Travel mode", "出行方式"),
    "report.minutes": ("Target time (min)", "目标时间（分钟）"),
    "report.types": ("Facility types", "设施类型"),
    "report.coverage_question": ("{modes}: {mins}-minute coverage", "{modes} {mins}分钟覆盖"),
    "report.list_sep": (", ", "、"),
    "report.coverage_map": ("Coverage: {name}", "覆盖：{name}"),
    "report.plan_map": ("Plan: {name}", "方案：{name}"),
    # ---------------------------------------------------------------- workbook sheets
    "sheet.inputs": ("Inputs", "输入数据"),
    "sheet.facilities_by_type": ("Facilities by type", "各类设施"),
    "sheet.coverage_by_unit": ("Coverage by unit", "各单元覆盖情况"),
    "sheet.plans": ("Plans", "规划方案"),
    "sheet.plan_sites": ("Plan {i} sites", "方案{i}选址"),
    "sheet.plan_zones": ("Plan {i} zones", "方案{i}片区"),
    "sheet.plan_tiers": ("Plan {i} tiers", "方案{i}层级"),
    "sheet.tradeoff": ("Trade-off", "权衡曲线"),
    "sheet.solver": ("Solver details", "求解信息"),
    "sheet.gaps": ("Gaps {i}", "覆盖缺口{i}"),
    # ---------------------------------------------------------------- column headers
    "col.key": ("Item", "项目"),
    "col.value": ("Value", "数值"),
    "col.admin_code": ("Code", "代码"),
    "col.admin_name": ("Admin unit", "行政单元"),
    "col.district_code": ("Code", "代码"),
    "col.district_name": ("District", "区县"),
    "col.town_code": ("Code", "代码"),
    "col.town_name": ("Town", "乡镇街道"),
    "col.code": ("Code", "单元代码"),
    "col.population": ("Population", "人口"),
    "col.cells": ("Cells", "网格数"),
    "col.covered": ("Covered", "覆盖人口"),
    "col.share": ("Share", "覆盖率"),
    "col.covered_before": ("Covered before", "规划前覆盖人口"),
    "col.covered_after": ("Covered after", "规划后覆盖人口"),
    "col.share_before": ("Share before", "规划前覆盖率"),
    "col.share_after": ("Share after", "规划后覆盖率"),
    "col.change": ("Change", "变化"),
    "col.reduction": ("Reduction", "减少"),
    "col.gain": ("Gain", "增加"),
    "col.beds": ("Beds", "床位"),
    "col.beds_before": ("Beds before", "规划前床位"),
    "col.beds_after": ("Beds after", "规划后床位"),
    "col.beds_per_1000": ("Beds per 1,000", "每千人床位"),
    "col.per_1000_before": ("Beds per 1,000 before", "规划前每千人床位"),
    "col.per_1000_after": ("Beds per 1,000 after", "规划后每千人床位"),
    "col.target": ("Target", "目标"),
    "col.met": ("Met", "达标"),
    "col.beds_short": ("Beds short", "床位缺口"),
    "col.id": ("ID", "编号"),
    "col.site_id": ("Site ID", "站点编号"),
    "col.name": ("Name", "名称"),
    "col.type": ("Type", "类型"),
    "col.label": ("Type", "类型"),
    "col.site_type": ("Site type", "站点类型"),
    "col.status": ("Status", "状态"),
    "col.beds_added": ("Beds added", "新增床位"),
    "col.cost": ("Cost (10k yuan)", "费用（万元）"),
    "col.capacity": ("Capacity (people)", "服务能力（人）"),
    "col.zone": ("Zone", "片区"),
    "col.tier": ("Tier", "层级"),
    "col.tier_name": ("Tier", "层级"),
    "col.facilities": ("Facilities", "机构数"),
    "col.kept": ("Kept", "保留"),
    "col.upgraded": ("Raised or designated", "升级或认定"),
    "col.new": ("Built", "新建"),
    "col.target_share": ("Target share", "目标比例"),
    "col.referral_name": ("Refers to", "转诊至"),
    "col.referral_minutes": ("Referral time (min)", "转诊时间（分钟）"),
    "col.rural_minutes": ("Rural standard (min)", "农村时间标准（分钟）"),
    "col.rule": ("Rule that cannot hold", "无法满足的条件"),
    "col.needed": ("Needed", "要求"),
    "col.possible": ("At most possible", "最多可达"),
    "col.sites_existing": ("Existing sites", "现有站点"),
    "col.sites_new": ("New sites", "新增站点"),
    "col.served": ("People served", "服务人口"),
    "col.use": ("Capacity used", "能力利用率"),
    "col.unassigned": ("Residents no site in reach had room for",
                       "可达范围内无剩余服务能力的人口"),
    "col.fixed_cost": ("Fixed cost (10k yuan)", "固定费用（万元）"),
    "col.facilities": ("Facilities", "设施数"),
    "col.outside_area": ("Outside area", "区外"),
    "col.plan": ("Plan", "方案"),
    "col.model": ("Model", "模型"),
    "col.objective": ("Objective", "目标函数值"),
    "col.bound": ("Best bound", "最优界"),
    "col.gap": ("Optimality gap", "最优性间隙"),
    "col.solver": ("Solver", "求解器"),
    "col.build_s": ("Build (s)", "建模（秒）"),
    "col.solve_s": ("Solve (s)", "求解（秒）"),
    "col.new_sites": ("New sites", "新增站点"),
    "col.upgraded_sites": ("Facilities given beds", "扩建床位设施"),
    "col.upgraded_tier_sites": ("Raised or designated", "升级或认定机构"),
    "col.uncovered_after": ("Still outside the standard", "仍未达标人口"),
    "col.standard_minutes": ("Standard (min)", "时间标准（分钟）"),
    "col.mean_minutes": ("Mean time (min)", "平均时间（分钟）"),
    "col.mean_before": ("Mean time before (min)", "规划前平均时间（分钟）"),
    "col.mean_after": ("Mean time after (min)", "规划后平均时间（分钟）"),
    "col.gini_before": ("Gini before", "规划前基尼系数"),
    "col.gini_after": ("Gini after", "规划后基尼系数"),
    "col.worst_unit_share": ("Lowest unit share", "最低单元覆盖比例"),
    "col.worst_zone_share": ("Worst zone's share", "最低片区覆盖比例"),
    "col.price_of_balance": ("Price of balance (people)", "均衡代价（人）"),
    "col.balance_minutes": ("Price of balance (min per person)", "均衡代价（人均分钟）"),
    "col.worst_minutes": ("Longest time (min)", "最长时间（分钟）"),
    "col.beyond_cutoff": ("Beyond the search limit", "超出搜索上限人口"),
    "col.cutoff_minutes": ("Search limit (min)", "搜索上限（分钟）"),
    "col.units_met": ("Units meeting the target", "达标单元数"),
    "col.units": ("Units", "单元总数"),
    "col.existing_sites": ("Existing sites", "现有站点"),
    "col.total_demand": ("Demand", "总需求"),
    "col.total_cost": ("Total cost (10k yuan)", "总费用（万元）"),
    "col.covered_share": ("Covered share", "覆盖率"),
    "col.n_sites": ("Sites", "站点数"),
    "col.sites": ("Sites chosen", "所选站点"),
    "col.p": ("Sites", "站点数"),
    "col.budget": ("Budget (10k yuan)", "预算（万元）"),
    "col.mode": ("Travel mode", "出行方式"),
    "col.minutes": ("Minutes", "分钟"),
    "col.lon": ("Longitude", "经度"),
    "col.lat": ("Latitude", "纬度"),
    "col.area_km2": ("Area (km²)", "面积（平方公里）"),
    "col.gap_id": ("Gap", "缺口"),
    "col.centre": ("Centre", "功能中心"),
    "col.population_share": ("Share of the population", "人口占比"),
    "col.density_km2": ("People per km²", "人口密度（人/平方公里）"),
    "col.highway": ("Road class", "道路等级"),
    "col.edges": ("Edges", "路段数"),
    "col.km": ("km", "公里"),
    "col.oneway_share": ("One-way share", "单行比例"),
    "col.count": ("Count", "数量"),
    "col.district_name_en": ("District (English)", "区县（英文）"),
    "col.name_en": ("Name (English)", "名称（英文）"),
    "col.level": ("Level", "级别"),
    # OSM road classes (values of highway columns; others shown as written)
    "road.motorway": ("motorway", "高速公路"),
    "road.motorway_link": ("motorway link", "高速公路匝道"),
    "road.trunk": ("trunk road", "干线公路"),
    "road.trunk_link": ("trunk link", "干线公路匝道"),
    "road.primary": ("primary road", "一级公路/主干路"),
    "road.primary_link": ("primary link", "主干路匝道"),
    "road.secondary": ("secondary road", "二级公路/次干路"),
    "road.secondary_link": ("secondary link", "次干路匝道"),
    "road.tertiary": ("tertiary road", "三级公路/支路"),
    "road.tertiary_link": ("tertiary link", "支路匝道"),
    "road.unclassified": ("minor road", "乡村道路"),
    "road.residential": ("residential street", "居住区道路"),
    "road.living_street": ("living street", "生活街道"),
    "road.service": ("service road", "服务性道路"),
    "road.track": ("track", "机耕路"),
    "road.road": ("road (unknown class)", "道路（等级不明）"),
    "road.pedestrian": ("pedestrian street", "步行街"),
    "road.footway": ("footway", "人行道"),
    "road.path": ("path", "小路"),
    "road.cycleway": ("cycleway", "自行车道"),
    "road.steps": ("steps", "台阶"),
    # common categories of candidate sites (a file's own site types show as written)
    "sitetype.village_committee": ("Village committee", "村委会"),
    "sitetype.township_land": ("Township land", "乡镇储备用地"),
    "sitetype.community_building": ("Community building", "社区用房"),
    "sitetype.vacant_land": ("Vacant land", "空地"),
    "sitetype.school": ("School", "学校"),
    "sitetype.pharmacy": ("Pharmacy", "药店"),
    # function centres the plans name (a scenario's own centre_types show as written)
    "centre.endoscopy": ("Endoscopy centre", "内镜中心"),
    "centre.rehabilitation_pain": ("Rehabilitation and pain centre", "康复疼痛中心"),
    "centre.dialysis": ("Dialysis centre", "血液透析中心"),
    "centre.chest_pain": ("Chest pain centre", "胸痛中心"),
    "centre.stroke": ("Stroke centre", "卒中中心"),
    "centre.trauma": ("Trauma centre", "创伤中心"),
    "centre.maternal_critical_care": ("Critical maternal care centre", "危重孕产妇救治中心"),
    "centre.neonatal_critical_care": ("Critical neonatal care centre", "危重新生儿救治中心"),
    "col.near_place": ("Nearest place", "最近地名"),
    "col.closing": ("Sites that would close it (people each adds)",
                    "可填补缺口的候选点（各增覆盖人口）"),
    "col.closed_share": ("Share of the gap they would cover", "可覆盖缺口人口比例"),
    "col.admin_units": ("Unit codes", "单元代码"),
    "col.admin_names": ("Admin units", "行政单元"),
    "col.near_place_en": ("Nearest place (English)", "最近地名（英文）"),
    "col.near_place_km": ("Distance to the nearest place (km)", "距最近地名（公里）"),
    "col.closing_sites": ("Closing sites (ids)", "可填补候选点编号"),
    "col.closing_names": ("Closing sites (names)", "可填补候选点名称"),
    "col.closing_people": ("People each site adds", "各候选点新增覆盖人口"),
    "col.closed_people": ("People they would cover", "可覆盖人口"),
    "col.index": ("No.", "序号"),
    "col.covered_t": ("Covered ≤ {t} min", "{t}分钟覆盖人口"),
    "col.share_t": ("Share ≤ {t} min", "{t}分钟覆盖率"),
    "col.within_t": ("<= {t} min", "{t}分钟内人口"),
    "col.share_within_t": ("share {t} min", "{t}分钟覆盖率"),
    # ---------------------------------------------------------------- status values
    "status.new": ("new", "新建"),
    "status.upgraded": ("upgraded", "扩建"),
    "status.upgraded_tier": ("raised to this tier", "升级为本层级"),
    "status.existing": ("existing", "现有"),
    "status.optimal": ("optimal", "最优"),
    "status.feasible": ("feasible, not proven optimal", "可行，未证明最优"),
    "status.time_limit": ("time limit reached", "达到时限"),
    "status.infeasible": ("infeasible", "不可行"),
    "status.unbounded": ("unbounded", "无界"),
    "status.not_solved": ("not solved", "未求解"),
    "status.none": ("none", "无"),
    "rule.count": ("facilities at the tier (sites that may take it, referral counted)",
                   "该层级机构数（可承担该层级且满足转诊要求的站点）"),
    "rule.existing": ("existing facilities kept at this tier or above",
                      "保留在该层级及以上的现有机构数"),
    "rule.target": ("covered share at the tier (every eligible site open)",
                    "该层级覆盖比例（所有可选站点均启用）"),
    # ---------------------------------------------------------------- travel modes
    "mode.walk": ("walk", "步行"),
    "mode.ebike": ("e-bike", "电动自行车"),
    "mode.drive": ("drive", "驾车"),
    # ---------------------------------------------------------------- model kinds
    "kind.set_covering": ("Fewest sites to a coverage target", "达到覆盖目标的最少站点"),
    "kind.max_covering": ("Best p sites for coverage", "覆盖人口最多的选址"),
    "kind.p_median": ("Shortest mean travel time", "平均出行时间最短的选址"),
    "kind.p_center": ("Shortest worst travel time", "最远出行时间最短的选址"),
    "kind.tradeoff": ("Coverage against number of sites", "覆盖率与站点数的权衡"),
    "kind.beds_to_ratio": ("Beds to a ratio per 1,000", "每千人床位达标"),
    "kind.function_centres": ("Function centres", "功能中心选址"),
    "kind.capacitated_set_covering": ("Fewest sites to a coverage target, within capacity",
                                      "考虑服务能力的达标最少站点"),
    "kind.capacitated_max_covering": ("Best p sites for people served within capacity",
                                      "考虑服务能力的覆盖人口最多选址"),
    "kind.capacitated_p_median": ("Shortest mean travel time within capacity",
                                  "考虑服务能力的平均出行时间最短选址"),
    "kind.balanced_covering": ("Coverage balanced across zones", "片区均衡的覆盖选址"),
    "kind.tiered": ("Tiered facilities with referral", "分级设施布局（含转诊）"),
    "kind.tiered_plan": ("Tiered facilities with referral", "分级设施布局（含转诊）"),
    "kind.station_standards": ("Stations to urban/rural standards", "城乡急救站标准"),
    "kind.standards_cover": ("Fewest sites to urban/rural time standards",
                             "达到城乡时间标准的最少站点"),
    # ---------------------------------------------------------------- site names
    "site.new_hospital": ("new hospital", "新建医院"),
    # ---------------------------------------------------------------- why a target fails
    "explain.cover": (
        "target out of reach: {people:,.0f} people cannot reach any existing or candidate "
        "site within the standard; opening every candidate covers at most {best:.1%} "
        "(target {target:.0%}).",
        "目标无法实现：{people:,.0f} 人在时间标准内无法到达任何现有或候选站点；"
        "全部候选点建成后最高覆盖率为 {best:.1%}（目标 {target:.0%}）。"),
    "explain.cover_units": (
        " Units that cannot reach {unit_target:.0%} (best achievable): {units}.",
        " 达不到单元目标 {unit_target:.0%} 的单元：{units}。"),
    "explain.beds": (
        "target out of reach: even at every expansion limit these units lack beds "
        "(beds short){note}: {units}; raise the expansion limits or add new sites{relax}",
        "目标无法实现：以下单元即使扩建到上限仍缺床位（缺口）{note}：{units}。"
        "放宽扩建上限或增加新院址{relax}"),
    "explain.beds_rules_note": (
        " (with the closed sites, hospitals not to expand and caps on new hospitals per "
        "unit)", "（已计入禁用院址、不扩建医院和各单元新院数上限）"),
    "explain.beds_relax_rules": (", or relax the site rules.", "，或放宽选址规则。"),
    "explain.end": (".", "。"),
    # ---------------------------------------------------------------- command line
    "cli.all_facilities": ("all facilities", "全部设施"),
    # geoplan inspect: section titles, their keys, and phrases of their values
    "cli.region": ("region {name}", "区域 {name}"),
    "cli.population_by_unit": ("population by admin unit", "各行政单元人口"),
    "cli.facilities_by_type": ("facilities by type", "各类设施"),
    "cli.candidate_sites": ("candidate sites", "候选点"),
    "cli.road_network": ("road network", "路网"),
    "cli.by_unit": ("by admin unit:", "按行政单元："),
    "cli.file_network": ("{path}: road network", "{path}：路网"),
    "cli.file_population": ("{path}: population", "{path}：人口"),
    "cli.file_boundaries": ("{path}: admin units", "{path}：行政单元"),
    "cli.file_facilities": ("{path}: facilities", "{path}：设施"),
    "cli.file_candidates": ("{path}: candidate sites", "{path}：候选点"),
    "cli.k.manifest": ("manifest", "清单文件"),
    "cli.k.crs": ("crs", "坐标系"),
    "cli.k.area": ("area", "面积"),
    "cli.k.units": ("units", "行政单元数"),
    "cli.demand_layer": ("demand layer {layer}", "需求人口图层 {layer}"),
    "cli.v.people_share": ("{people} people ({share} of the population)",
                           "{people} 人（占总人口 {share}）"),
    "cli.k.total": ("total", "合计"),
    "cli.k.name": ("name", "名称"),
    "cli.k.population": ("population", "人口"),
    "cli.k.cost": ("cost", "费用"),
    "cli.k.features": ("features", "要素数"),
    "cli.k.extent": ("extent", "范围（米）"),
    "cli.k.extent_lonlat": ("extent_lonlat", "经纬度范围"),
    "cli.k.size": ("size", "大小"),
    "cli.k.nodes": ("nodes", "节点数"),
    "cli.k.edges": ("edges", "路段数"),
    "cli.k.length": ("length", "总长度"),
    "cli.k.components": ("components", "连通分量"),
    "cli.v.people_in_cells": ("{people} people in {cells} populated cells",
                              "{people} 人，分布于 {cells} 个有人口的网格"),
    "cli.v.directed": ("{km} km (directed)", "{km} 公里（按单向路段计）"),
    "cli.v.components": ("{n} (largest holds {share} of nodes)",
                         "{n} 个（最大分量含 {share} 的节点）"),
    "cli.v.extent": ("x {x0}..{x1}, y {y0}..{y1} m", "横坐标 {x0}..{x1}，纵坐标 {y0}..{y1}（米）"),
    "cli.v.size": ("{w} km x {h} km", "{w} 公里 × {h} 公里"),
    "cli.v.lonlat": ("lon {lon0}..{lon1}, lat {lat0}..{lat1}",
                     "经度 {lon0}..{lon1}，纬度 {lat0}..{lat1}"),
    "cli.v.area_km2": ("{v} km²", "{v} 平方公里"),
    "cli.v.cost": ("{total} in all ({n} sites with a cost)", "合计 {total}（{n} 个点有费用）"),
    "cli.v.none": ("(none)", "（无）"),
    "cli.v.outside_units": ("(outside all units)", "（不在任何单元内）"),
    "cli.coverage_head": ("== {mode}: people within {span} min of {types}",
                          "== {mode}：{span} 分钟内可达人口（{types}）"),
    "cli.written": ("written:", "结果已写入："),
}

#: Phrases of a plan's ``solver`` text (which engine and method proved the answer), in
#: Chinese; the English is the phrase itself.
_SOLVER_PHRASES: dict[str, str] = {
    "(not run: target proven unreachable)": "（未求解：已证明目标无法实现）",
    "(not run: nothing left to decide after reduction)": "（未求解：化简后已无待定站点）",
    "(not run: no further gain possible)": "（未求解：覆盖已无法再增加）",
    "sites forced open)": "个站点已指定建设）",
    "(not run: ": "（未求解：",
    "stopped at the time limit": "达到时限后停止",
    "reduced-cost fixing": "既约费用固定",
    "local search": "局部搜索",
    "time limit": "时限",
    "LP bound": "线性规划界",
    "LP fixing": "线性规划变量固定",
    "Benders LP": "Benders 线性规划",
    "enumeration": "穷举",
    "CBC crashed": "CBC 异常退出",
}
_CATALOGUE.update({f"solver.{en}": (en, zh) for en, zh in _SOLVER_PHRASES.items()})

_FMT = re.compile(r"\{(\w+)")


def check_lang(lang: str) -> str:
    """Return ``"zh"`` or ``"en"`` for a language name (``"zh-CN"``, ``"EN"`` ...).

    Raises
    ------
    GeoplanInputError
        For any other language.
    """
    key = str(lang).lower()[:2]
    if key not in LANGS:
        raise GeoplanInputError(f"unknown language '{lang}'", field="lang",
                                hint="use 'zh' (Chinese) or 'en' (English)")
    return key


def figure(key: str, value: float, unit: str, lang: str = "en") -> tuple[str, str]:
    """A plan figure as a reader sees it: its label and its value with the unit.

    Shares are percentages with one decimal, minutes one decimal, indices (Gini) three,
    counts of people,
    beds, sites and 万元 are whole numbers with thousands separators.

    Parameters
    ----------
    key
        The figure (``fig.<key>`` in the catalogue; see :mod:`geoplan.optimize.figures`).
    value
        Its value.
    unit
        Its unit (``unit.<unit>``).
    lang
        ``"zh"`` or ``"en"``.

    Returns
    -------
    tuple of str
        The label and the formatted value.
    """
    if unit == "share":
        v = f"{value:.1%}"
    elif unit == "minutes":
        v = f"{value:,.1f}"
    elif unit == "index":
        v = f"{value:.3f}"
    else:
        v = f"{value:,.0f}"
    return text(f"fig.{key}", lang), text(f"unit.{unit}", lang, v=v)


def has(key: str) -> bool:
    """Whether the catalogue has ``key``."""
    return key in _CATALOGUE


def keys(prefix: str = "") -> list[str]:
    """The catalogue's keys starting with ``prefix`` (all keys by default)."""
    return [k for k in _CATALOGUE if k.startswith(prefix)]


def templates(prefix: str, lang: str = "en") -> dict[str, str]:
    """The labels under ``prefix`` in ``lang``, unformatted, keyed without the prefix
    (``templates("report.", "zh")["edges"]`` is ``"{n:,} 条路段"``)."""
    i = LANGS.index(check_lang(lang))
    return {k[len(prefix):]: v[i] for k, v in _CATALOGUE.items() if k.startswith(prefix)}


def text(key: str, lang: str = "en", **kw: Any) -> str:
    """Return the label ``key`` in ``lang``, its placeholders filled from ``kw``.

    Parameters
    ----------
    key
        A catalogue key such as ``"map.covered"`` (see the module docstring).
    lang
        ``"zh"`` or ``"en"``.
    **kw
        Values of the label's placeholders (``{m}``, ``{n}`` ...).

    Returns
    -------
    str

    Raises
    ------
    KeyError
        If ``key`` is not in the catalogue (a programming error: add the label).
    """
    return _CATALOGUE[key][LANGS.index(check_lang(lang))].format(**kw)


def _minutes(t: str) -> str:
    return t[:-2] if t.endswith(".0") else t


_TIMED = re.compile(r"(covered|share)_([0-9.]+)min")


def header(col: str, lang: str = "en") -> str:
    """Return the column header of table column ``col`` in ``lang``.

    Known columns come from the ``col.`` entries; ``covered_<T>min``/``share_<T>min``
    (coverage tables) read as "Covered ≤ T min"/"T分钟覆盖人口". Any other column is
    returned unchanged (and the language test fails on it until it is catalogued).
    """
    if f"col.{col}" in _CATALOGUE:
        return text(f"col.{col}", lang)
    m = _TIMED.fullmatch(col)
    if m:
        return text(f"col.{m.group(1)}_t", lang, t=_minutes(m.group(2)))
    return col


def mode(name: str, lang: str = "en") -> str:
    """Return the travel mode ``name`` (``walk``, ``ebike``, ``drive``) in ``lang``;
    an unknown mode (a custom profile) is returned as named."""
    return text(f"mode.{name}", lang) if f"mode.{name}" in _CATALOGUE else str(name)


def kind(name: str, lang: str = "en") -> str:
    """Return the scenario model kind ``name`` (``set_covering`` ...) in ``lang``."""
    return text(f"kind.{name}", lang) if f"kind.{name}" in _CATALOGUE else str(name)


def solver(name: str, lang: str = "en") -> str:
    """Return a plan's ``solver`` text (e.g. "LP bound (HiGHS) + local search") in
    ``lang``: the method phrases translated, engine names (HiGHS, CBC) and versions kept."""
    s = str(name)
    if check_lang(lang) == "en":
        return s
    if s == "none":
        return text("status.none", lang)
    for key in sorted(keys("solver."), key=len, reverse=True):
        s = s.replace(key[len("solver."):], text(key, lang))
    return s


def value(col: str, v: Any, lang: str = "en") -> str:
    """Return a table value for reading: statuses, modes and model kinds in ``lang``.

    Parameters
    ----------
    col
        The column the value is in (``status``, ``mode``, ``model``/``kind``,
        ``solver``, ``centre``: function-centre types of the catalogue).
    v
        The value; other columns' values are returned as ``str(v)``.
    lang
        ``"zh"`` or ``"en"``.
    """
    s = str(v)
    if col == "status" and f"status.{s}" in _CATALOGUE:
        return text(f"status.{s}", lang)
    if col == "mode":
        return mode(s, lang)
    if col in ("model", "kind"):
        return kind(s, lang)
    if col == "solver":
        return solver(s, lang)
    if col == "centre" and f"centre.{s}" in _CATALOGUE:
        return text(f"centre.{s}", lang)
    if col == "rule" and f"rule.{s}" in _CATALOGUE:
        return text(f"rule.{s}", lang)
    if col == "highway" and f"road.{s}" in _CATALOGUE:
        return text(f"road.{s}", lang)
    return s


def _check_catalogue() -> None:
    """Both languages of every entry take the same placeholders (run by the tests)."""
    for key, (en, zh) in _CATALOGUE.items():
        if set(_FMT.findall(en)) != set(_FMT.findall(zh)):
            raise AssertionError(f"label {key}: placeholders differ between en and zh")
