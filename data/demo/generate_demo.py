"""Generate the synthetic demo region 青山市 "Qingshan (synthetic)" shipped with geoplan.

EVERYTHING THIS SCRIPT WRITES IS INVENTED. Qingshan is not a real place; the roads,
people, boundaries and facilities only imitate the *formats* and the rough *shape* of
real Chinese county-level data so that geoplan's demos, notebooks and tests can run
offline on something that behaves like the real thing.

Run from the repository root::

    python data/demo/generate_demo.py

Design
------
* **One metric frame.** All geometry is built in a local transverse Mercator frame in
  metres centred on (114.30 E, 30.05 N) -- x east, y north, origin at the city centre.
  Coordinates are converted to WGS-84 (and, for the CSV files, on to GCJ-02 with
  :func:`geoplan.inputs.chinacrs.wgs84_to_gcj02`) only when files are written.
* **Determinism.** All randomness comes from ``numpy.random.default_rng(20261123)``; one
  child generator per layer is spawned in a fixed order, so re-tuning one layer does not
  reshuffle the others. No clocks, no hash-ordered sets, bz2 rather than gzip (no
  timestamp in the header). Two runs give byte-identical files.
* **Layers, in build order** (one function each):

  1. base geography (:func:`make_geography`): irregular outline scaled to 1,500 km², a
     meandering west-east river through the urban core, the core itself (radius ~5.6 km),
     a hilly south-west corner, ten towns 11-16 km out and ~150 villages (rejection
     sampling: away from the core, the towns, the river and each other, rare in the hills);
  2. admin units (:func:`make_units`): four districts are wavy angular sectors; each
     district = one urban subdistrict (core ∩ sector) + 2-3 towns (Voronoi cells of the
     town centres inside the sector's countryside). The units are then snapped to a
     1e-6 degree grid *together* (node the union of all boundaries, polygonise, give each
     face to the unit it overlaps most) so that they tile the outline exactly after
     rounding;
  3. road network (:func:`build_roads`): urban grid (primary 1 km / secondary 500 m /
     residential ~167 m), riverside roads, radial national/provincial roads, a secondary
     ring through the towns, the G50 expressway (dual carriageway, diamond interchanges),
     town grids, tertiary chains town -> villages, unclassified village connectors,
     village loops and tracks. Every road passes through :meth:`RoadNet.add`, which clips
     it to the region and either turns its river crossing into a ``bridge=yes`` way or
     cuts it at the bank. :meth:`RoadNet.finalize` then nodes the network (crossings and
     T-junctions share node ids; the expressway only connects through its ramps), merges
     vertices closer than 0.5 m and jitters every node by ~2 m;
  4. population (:func:`build_population`): WorldPop-like 3 arc-second grid of people per
     cell = exponential urban fall-off + Gaussian town and village blobs + thin rural
     scatter, times log-normal cell noise, times the land fraction (the river is empty);
     each component is normalised to its target head count;
  5. facilities and candidate sites (:func:`build_facilities`, :func:`build_candidates`):
     placed at target spots, then moved onto the nearest suitable road node (+ a 8-30 m
     offset) inside the intended unit;
  6. files, summary and self-checks (:func:`main`): the script asserts its invariants
     (population range, exact tiling, facilities inside their units and near a road node,
     osmnx loads the network and its largest weakly connected component holds > 98 % of
     the nodes, file sizes) and prints the summary that also goes into README.md.
"""

from __future__ import annotations

import bz2
import csv
import hashlib
import io
import json
import math
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from xml.sax.saxutils import escape

import networkx as nx
import numpy as np
import osmium
import osmnx as ox
import rasterio
import shapely
from pyproj import Transformer
from rasterio.features import rasterize
from rasterio.transform import Affine
from scipy.interpolate import CubicSpline
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import connected_components
from scipy.spatial import cKDTree
from shapely.geometry import LineString, MultiPoint, Point, Polygon
from shapely.ops import substring

OUT = Path(__file__).resolve().parent
REPO = OUT.parents[1]
sys.path.insert(0, str(REPO))
from geoplan.inputs.chinacrs import wgs84_to_gcj02  # noqa: E402

# --------------------------------------------------------------------------- constants
SEED = 20261123
LON0, LAT0 = 114.30, 30.05
LOCAL_CRS = (f"+proj=tmerc +lat_0={LAT0} +lon_0={LON0} +k=1 +x_0=0 +y_0=0 "
             "+ellps=WGS84 +units=m +no_defs")
AREA_CRS = f"+proj=laea +lat_0={LAT0} +lon_0={LON0} +ellps=WGS84 +units=m +no_defs"
TO_LL = Transformer.from_crs(LOCAL_CRS, "EPSG:4326", always_xy=True)
TO_XY = Transformer.from_crs("EPSG:4326", LOCAL_CRS, always_xy=True)
TO_AREA = Transformer.from_crs("EPSG:4326", AREA_CRS, always_xy=True)

REGION_AREA_M2 = 1500e6
CORE_RADIUS = 5600.0         # mean radius of the urban core (m)
CORE_POP = 600_000
SCATTER_POP = 30_000         # dispersed rural population outside villages and towns
N_VILLAGES = 150
RIVER_HW = 110.0             # river half-width (m): 220 m wide
CORE_STEP = 1000.0 / 6.0     # spacing of the urban grid lines (m)
BANK = RIVER_HW + 30.0       # bridges span this buffer
CUT = RIVER_HW + 60.0        # other roads stop here; the riverside roads run along it
RES = 1.0 / 1200.0           # 3 arc-seconds
NODATA = -99999.0
GRID = 1e-6                  # precision grid of the boundaries (degrees)
TIMESTAMP = "2026-01-01T00:00:00Z"
MAX_TOTAL_BYTES = 15 * 1024 * 1024

MAJOR = ("motorway", "trunk", "primary", "secondary")
LAYERS = ("outline", "river", "admin", "villages", "roads", "jitter", "population",
          "facilities", "candidates")


def polar(angle_deg: float, r: float) -> np.ndarray:
    """Point at ``angle_deg`` (counter-clockwise from east) and distance ``r`` (m)."""
    a = math.radians(angle_deg)
    return np.array([r * math.cos(a), r * math.sin(a)])


def to_lonlat(xy: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Local metres -> WGS-84 lon, lat."""
    xy = np.atleast_2d(np.asarray(xy, dtype=float))
    return TO_LL.transform(xy[:, 0], xy[:, 1])


def geom_to_lonlat(geom):
    """Transform a shapely geometry from local metres to WGS-84."""
    return shapely.transform(geom, lambda c: np.column_stack(TO_LL.transform(c[:, 0], c[:, 1])))


def pinyin_join(a: str, b: str) -> str:
    """Join two pinyin syllable groups, with the apostrophe before a/o/e."""
    return a + ("'" if b[:1] in "aoe" else "") + b


# =========================================================================== names
DISTRICTS = [  # code, zh, en, subdistrict zh, subdistrict en, sector start angle
    ("990101", "青山区", "Qingshan District", "城北街道", "Chengbei Subdistrict", 42.0),
    ("990102", "白沙区", "Baisha District", "城西街道", "Chengxi Subdistrict", 142.0),
    ("990103", "南岭区", "Nanling District", "城南街道", "Chengnan Subdistrict", 215.0),
    ("990104", "东港区", "Donggang District", "城东街道", "Chengdong Subdistrict", 305.0),
]

# zh, pinyin, angle (deg), distance (km), population, district index,
# radial road: (highway, name, ref, maxspeed, continues to the edge)
TOWNS = [
    ("石桥", "Shiqiao", 25, 12.0, 45000, 3, ("primary", "S101省道", "S101", "80", True)),
    ("柳林", "Liulin", 60, 12.0, 28000, 0, ("primary", "S215省道", "S215", "60", False)),
    ("龙泉", "Longquan", 95, 14.0, 22000, 0, ("trunk", "G107国道", "G107", "80", True)),
    ("花园", "Huayuan", 125, 12.5, 18000, 0, ("primary", "S217省道", "S217", None, False)),
    ("金牛", "Jinniu", 155, 13.0, 32000, 1, ("trunk", "G318国道", "G318", "80", True)),
    ("杨店", "Yangdian", 203, 11.0, 20000, 1, ("primary", "S203省道", "S203", "60", True)),
    ("松岭", "Songling", 255, 13.0, 15000, 2, ("primary", "S228省道", "S228", None, False)),
    ("黄坡", "Huangpo", 282, 12.0, 38000, 2, ("trunk", "G107国道", "G107", "80", True)),
    ("三河", "Sanhe", 322, 16.0, 25000, 3, ("trunk", "G318国道", "G318", "80", True)),
    ("马集", "Maji", 343, 11.5, 16000, 3, ("primary", "S306省道", "S306", None, False)),
]
REGIONAL_CENTRE_TOWNS = ("松岭", "三河")       # 农村区域性医疗卫生中心 instead of 乡镇卫生院
SECONDARY_HOSPITAL_TOWNS = ("石桥", "黄坡")    # the two largest towns

VILLAGE_PREFIXES = [
    ("王家", "Wangjia"), ("李家", "Lijia"), ("张家", "Zhangjia"), ("刘家", "Liujia"),
    ("陈家", "Chenjia"), ("杨家", "Yangjia"), ("黄家", "Huangjia"), ("赵家", "Zhaojia"),
    ("周家", "Zhoujia"), ("吴家", "Wujia"), ("徐家", "Xujia"), ("孙家", "Sunjia"),
    ("胡家", "Hujia"), ("朱家", "Zhujia"), ("高家", "Gaojia"), ("何家", "Hejia"),
    ("郭家", "Guojia"), ("罗家", "Luojia"), ("梁家", "Liangjia"), ("宋家", "Songjia"),
    ("郑家", "Zhengjia"), ("谢家", "Xiejia"), ("韩家", "Hanjia"), ("唐家", "Tangjia"),
    ("冯家", "Fengjia"), ("曹家", "Caojia"), ("彭家", "Pengjia"), ("曾家", "Zengjia"),
    ("肖家", "Xiaojia"), ("田家", "Tianjia"), ("董家", "Dongjia"), ("潘家", "Panjia"),
    ("袁家", "Yuanjia"), ("蔡家", "Caijia"), ("蒋家", "Jiangjia"), ("余家", "Yujia"),
    ("杜家", "Dujia"), ("叶家", "Yejia"), ("程家", "Chengjia"), ("夏家", "Xiajia"),
    ("大", "Da"), ("小", "Xiao"), ("上", "Shang"), ("下", "Xia"), ("新", "Xin"),
    ("老", "Lao"), ("东", "Dong"), ("西", "Xi"), ("前", "Qian"), ("后", "Hou"),
    ("杨柳", "Yangliu"), ("桃花", "Taohua"), ("枫树", "Fengshu"), ("竹林", "Zhulin"),
    ("石门", "Shimen"), ("青龙", "Qinglong"), ("白马", "Baima"), ("黄土", "Huangtu"),
    ("红星", "Hongxing"), ("金鸡", "Jinji"), ("双井", "Shuangjing"), ("三岔", "Sancha"),
    ("五里", "Wuli"), ("七里", "Qili"), ("十里", "Shili"), ("莲花", "Lianhua"),
]
VILLAGE_SUFFIXES = [
    ("湾", "wan"), ("岗", "gang"), ("冲", "chong"), ("畈", "fan"), ("岭", "ling"),
    ("坳", "ao"), ("桥", "qiao"), ("铺", "pu"), ("店", "dian"), ("庙", "miao"),
    ("垸", "yuan"), ("台", "tai"), ("嘴", "zui"), ("墩", "dun"), ("坪", "ping"),
    ("寨", "zhai"), ("塘", "tang"), ("堰", "yan"), ("山", "shan"), ("河", "he"),
]
COMMUNITIES = [
    ("和平", "Heping"), ("幸福", "Xingfu"), ("朝阳", "Chaoyang"), ("建设", "Jianshe"),
    ("团结", "Tuanjie"), ("民主", "Minzhu"), ("新华", "Xinhua"), ("光明", "Guangming"),
    ("胜利", "Shengli"), ("友谊", "Youyi"), ("红旗", "Hongqi"), ("东风", "Dongfeng"),
    ("向阳", "Xiangyang"), ("育才", "Yucai"), ("文化", "Wenhua"), ("青年", "Qingnian"),
    ("滨江", "Binjiang"), ("花园", "Huayuan"), ("长青", "Changqing"), ("金桥", "Jinqiao"),
    ("锦绣", "Jinxiu"), ("翠湖", "Cuihu"), ("南湖", "Nanhu"), ("北苑", "Beiyuan"),
    ("东城", "Dongcheng"), ("西城", "Xicheng"), ("体育", "Tiyu"), ("公园", "Gongyuan"),
    ("书院", "Shuyuan"), ("桂花", "Guihua"), ("丹桂", "Dangui"), ("梅园", "Meiyuan"),
    ("荷塘", "Hetang"), ("柳岸", "Liu'an"), ("工农", "Gongnong"), ("铁路", "Tielu"),
    ("车站", "Chezhan"), ("电厂", "Dianchang"), ("纺织", "Fangzhi"), ("机械", "Jixie"),
    ("水厂", "Shuichang"), ("粮库", "Liangku"), ("玉兰", "Yulan"), ("紫荆", "Zijing"),
    ("银杏", "Yinxing"), ("振华", "Zhenhua"), ("中兴", "Zhongxing"), ("永安", "Yong'an"),
]
CORE_PRIMARY_NAMES = {  # grid index k (multiples of 6) -> name, per axis
    0: ["西环路", "工业路", "光明路", "建设路", "中山路", "解放大道", "人民路", "胜利路",
        "和平路", "青年路", "新华路", "东风路", "东环路"],
    1: ["南环路", "南湖路", "学府路", "江南大道", "红旗路", "青山大道", "北京路", "上海路",
        "文化路", "体育路", "北湖路", "迎宾大道", "北环路"],
}
STREET_WORDS = [
    "幸福", "育才", "民主", "友谊", "团结", "向阳", "红星", "朝阳", "长青", "桂花", "丹桂",
    "梅园", "荷塘", "柳岸", "书院", "公园", "车站", "铁路", "纺织", "机械", "工农", "新村",
    "锦绣", "翠湖", "金桥", "银杏", "玉兰", "紫荆", "樱花", "石榴", "枫林", "竹园", "松林",
    "晨光", "曙光", "春晖", "秋实", "永安", "太平", "兴隆", "福星", "同心", "和谐", "振华",
    "东升", "西园", "南苑", "北苑", "中兴", "前进", "建国", "复兴", "大庆", "花园",
]
TOWN_STREET_NAMES = ["正街", "新街", "老街", "建设路", "兴业路", "商贸路", "文化街",
                     "学堂路", "车站路", "工业路", "人民路", "河街"]
CORE_BRIDGES = {-18: "青山一桥", -6: "青山二桥", 6: "青山三桥", 18: "青山四桥"}
ONEWAY_LINES = {0: (-8, -7, 7, 8, -25, -26), 1: (14, 16, -16, -17)}

# Hospitals in the core: name, English name, type, bed range, district index, angle (deg),
# distance from the centre (m). Both tertiary hospitals are in 青山区 so that the beds per
# 1,000 residents differ strongly between districts.
HOSPITALS = [
    ("青山市人民医院", "Qingshan People's Hospital", "三级医院", (1200, 1600), 0, 95, 1600),
    ("青山市中心医院", "Qingshan Central Hospital", "三级医院", (1200, 1600), 0, 62, 3000),
    ("青山市第二人民医院", "Qingshan No. 2 People's Hospital", "二级医院", (400, 600),
     3, 340, 2500),
    ("青山市第三人民医院", "Qingshan No. 3 People's Hospital", "二级医院", (300, 450),
     1, 162, 2800),
    ("青山市妇幼保健院", "Qingshan Maternal and Child Health Hospital", "二级医院", (250, 300),
     0, 122, 2200),
    ("青山市中医医院", "Qingshan Hospital of Traditional Chinese Medicine", "中医医院",
     (300, 400), 1, 197, 2000),
    ("青山市中西医结合医院", "Qingshan Hospital of Integrated Chinese and Western Medicine",
     "中医医院", (200, 260), 3, 15, 3500),
]
INSURANCE_CORE = [(88, 900), (30, 1800), (150, 2100), (250, 1300), (300, 3000), (5, 1100)]
EMERGENCY_CORE = [(95, 1600), (340, 2500), (200, 3000), (280, 3500)]
EMERGENCY_TOWNS = ("金牛", "三河")

# Facility type labels (exact strings expected by geoplan's vocabulary)
T_TERTIARY, T_SECONDARY, T_TCM = "三级医院", "二级医院", "中医医院"
T_CHSC, T_CHS = "社区卫生服务中心", "社区卫生服务站"
T_THC, T_RC, T_VC = "乡镇卫生院", "农村区域性医疗卫生中心", "村卫生室"
T_INS, T_EMS = "医保服务站", "院前急救站"


# =========================================================================== geography
@dataclass
class Town:
    """A town (镇): a compact cluster of people around its centre."""

    zh: str
    py: str
    xy: np.ndarray
    pop: int
    district: int
    radial: tuple
    radius: float
    unit: int = -1


@dataclass
class Village:
    """A village (村)."""

    zh: str
    py: str
    xy: np.ndarray
    pop: int
    hill: bool
    unit: int = -1


@dataclass
class Geography:
    """The invented base geography, in local metres."""

    outline: Polygon
    core: Polygon
    core_r: callable
    river_x: np.ndarray
    river_y: np.ndarray
    river_slope: np.ndarray
    river_line: LineString
    river_bank: Polygon
    river_cut: Polygon
    hills_centre: np.ndarray
    hills_radius: float
    towns: list[Town]
    villages: list[Village] = field(default_factory=list)
    rays: list[np.ndarray] = field(default_factory=list)

    def river_dist(self, x, y):
        """Approximate distance (m) from points to the river centre line."""
        x = np.asarray(x, float)
        y = np.asarray(y, float)
        yc = np.interp(x, self.river_x, self.river_y)
        s = np.interp(x, self.river_x, self.river_slope)
        return np.abs(y - yc) / np.sqrt(1.0 + s * s)

    def river_side(self, xy) -> int:
        """+1 north of the river, -1 south."""
        return 1 if xy[1] > np.interp(xy[0], self.river_x, self.river_y) else -1

    def hilliness(self, x, y):
        """0 on the plain, rising smoothly to 1 in the middle of the hilly corner."""
        d = np.hypot(np.asarray(x) - self.hills_centre[0], np.asarray(y) - self.hills_centre[1])
        t = np.clip(1.0 - d / self.hills_radius, 0.0, 1.0)
        return t * t * (3 - 2 * t)


def harmonic_radius(theta: np.ndarray, rng, terms) -> np.ndarray:
    """1 + sum of sine harmonics with random phases (for irregular blobs)."""
    r = np.ones_like(theta)
    for k, amp in terms:
        r += amp * np.sin(k * theta + rng.uniform(0, 2 * np.pi))
    return r


def make_outline(rng) -> Polygon:
    """Irregular region outline, scaled to exactly REGION_AREA_M2."""
    theta = np.linspace(0, 2 * np.pi, 240, endpoint=False)
    r = harmonic_radius(theta, rng, [(2, 0.06), (3, 0.05), (4, 0.035), (5, 0.03),
                                     (7, 0.02), (11, 0.012), (17, 0.008), (23, 0.005)])
    poly = Polygon(np.column_stack([1.12 * r * np.cos(theta), r * np.sin(theta)]))
    return shapely.affinity.scale(poly, *(2 * [math.sqrt(REGION_AREA_M2 / poly.area)]),
                                  origin=(0, 0))


def make_river(rng):
    """Meandering west->east river passing ~350 m south of the centre.

    The meanders are damped inside the core so the urban grid keeps a simple layout.
    """
    x = np.arange(-34000.0, 34001.0, 100.0)
    ph = rng.uniform(0, 2 * np.pi, 3)
    damp = 0.3 + 0.7 * np.clip((np.abs(x) - 3000) / 9000, 0, 1)
    y = (-0.03 * x + damp * (1100 * np.sin(2 * np.pi * x / 17000 + ph[0])
                             + 450 * np.sin(2 * np.pi * x / 6800 + ph[1]))
         + 60 * np.sin(2 * np.pi * x / 2100 + ph[2]))
    y += -350.0 - np.interp(0.0, x, y)
    return x, y, np.gradient(y, x)


def make_geography(rngs) -> Geography:
    """Outline, river, core, hills and towns (villages are added by make_villages)."""
    outline = make_outline(rngs["outline"])
    rx, ry, rs = make_river(rngs["river"])
    river_line = LineString(np.column_stack([rx, ry]))
    rng = rngs["admin"]
    core_terms = [(k, a, rng.uniform(0, 2 * np.pi)) for k, a in ((2, 0.06), (3, 0.05), (5, 0.03))]

    def core_r(theta):
        r = np.ones_like(np.asarray(theta, float))
        for k, a, p in core_terms:
            r = r + a * np.sin(k * np.asarray(theta) + p)
        return CORE_RADIUS * r

    th = np.linspace(0, 2 * np.pi, 180, endpoint=False)
    core = Polygon(np.column_stack([core_r(th) * np.cos(th), core_r(th) * np.sin(th)]))
    # the hilly corner: south-west, centred 5 km inside the outline
    hill_dir = polar(232.0, 1.0)
    edge = outline.exterior.intersection(LineString([(0, 0), tuple(hill_dir * 60000)]))
    r_edge = min(math.hypot(*c) for c in shapely.get_coordinates(edge))
    towns = []
    for zh, py, ang, dkm, pop, dist_idx, radial in TOWNS:
        xy = polar(ang + rng.uniform(-2, 2), dkm * 1000 + rng.uniform(-300, 300))
        towns.append(Town(zh, py, xy, pop, dist_idx, radial,
                          radius=900.0 * math.sqrt(pop / 30000)))
    geo = Geography(outline=outline, core=core, core_r=core_r, river_x=rx, river_y=ry,
                    river_slope=rs, river_line=river_line,
                    river_bank=river_line.buffer(BANK, quad_segs=2),
                    river_cut=river_line.buffer(CUT, quad_segs=2),
                    hills_centre=hill_dir * (r_edge - 5000), hills_radius=8500.0, towns=towns)
    for t in towns:  # layout sanity: towns well inside, off the river, off the core
        assert outline.buffer(-2000).contains(Point(t.xy).buffer(t.radius)), t.zh
        assert geo.river_dist(*t.xy) > t.radius + 1500, t.zh
        assert core.distance(Point(t.xy)) > t.radius + 3000, t.zh
    return geo


def make_villages(geo: Geography, rng) -> None:
    """~150 villages by rejection sampling; few (and small) in the hills."""
    inner = geo.outline.buffer(-700)
    shapely.prepare(inner)
    minx, miny, maxx, maxy = geo.outline.bounds
    pts: list[np.ndarray] = []
    hills: list[bool] = []
    tries = 0
    while len(pts) < N_VILLAGES and tries < 50000:
        tries += 1
        p = np.array([rng.uniform(minx, maxx), rng.uniform(miny, maxy)])
        if not inner.contains(Point(p)) or geo.core.distance(Point(p)) < 1500:
            continue
        if any(np.hypot(*(p - t.xy)) < t.radius + 1300 for t in geo.towns):
            continue
        if geo.river_dist(*p) < 450:
            continue
        h = float(geo.hilliness(*p))
        if h > 0.15 and rng.random() > 0.3:
            continue
        if pts and np.min(np.hypot(*(np.array(pts) - p).T)) < 1300:
            continue
        pts.append(p)
        hills.append(h > 0.15)
    assert len(pts) == N_VILLAGES, len(pts)
    combos = [(a, b) for a in range(len(VILLAGE_PREFIXES)) for b in range(len(VILLAGE_SUFFIXES))]
    order = rng.permutation(len(combos))
    town_names = {t.zh for t in geo.towns}
    names = []
    for i in order:
        a, b = combos[i]
        zh = VILLAGE_PREFIXES[a][0] + VILLAGE_SUFFIXES[b][0]
        if zh in town_names:
            continue
        names.append((zh, pinyin_join(VILLAGE_PREFIXES[a][1], VILLAGE_SUFFIXES[b][1])))
        if len(names) == N_VILLAGES:
            break
    for p, hill, (zh, py) in zip(pts, hills, names, strict=True):
        if hill:
            pop = int(rng.integers(300, 601))
        else:
            pop = int(np.clip(round(rng.lognormal(math.log(800), 0.55)), 300, 2500))
        geo.villages.append(Village(zh, py, p, pop, hill))


# =========================================================================== admin units
@dataclass
class Unit:
    """A township-level unit (街道 or 镇)."""

    code: str
    zh: str
    en: str
    level: str
    district: int
    poly_xy: object = None
    poly_ll: object = None
    town: Town | None = None


def wavy_ray(angle: float, rng, length: float = 45000.0) -> np.ndarray:
    """Draw a district boundary: a ray from the centre with a smooth lateral wiggle."""
    r = np.linspace(0, length, 91)
    ph = rng.uniform(0, 2 * np.pi, 2)
    lateral = (np.clip(r / 4000, 0, 1) * (500 * np.sin(2 * np.pi * r / 9000 + ph[0])
                                          + 250 * np.sin(2 * np.pi * r / 3700 + ph[1])))
    d = polar(angle, 1.0)
    n = np.array([-d[1], d[0]])
    return r[:, None] * d + lateral[:, None] * n


def make_units(geo: Geography, rng) -> list[Unit]:
    """4 subdistricts + 10 towns, tiling the outline exactly on the 1e-6 degree grid."""
    angles = [d[5] for d in DISTRICTS]
    geo.rays = [wavy_ray(a, rng) for a in angles]
    units: list[Unit] = []
    for i, (dcode, _dzh, _den, szh, sen, _a) in enumerate(DISTRICTS):
        a0, a1 = angles[i], angles[(i + 1) % 4]
        a1 = a1 + 360 if a1 < a0 else a1
        arc = np.array([polar(a, 60000) for a in np.linspace(a0, a1, 40)])
        ring = np.vstack([geo.rays[i], arc[1:-1], geo.rays[(i + 1) % 4][::-1]])
        sector = shapely.make_valid(Polygon(ring))
        region = sector.intersection(geo.outline)
        units.append(Unit(f"{dcode}001", szh, sen, "subdistrict", i,
                          poly_xy=region.intersection(geo.core)))
        countryside = region.difference(geo.core)
        towns = [t for t in geo.towns if t.district == i]
        cells = shapely.get_parts(shapely.voronoi_polygons(
            MultiPoint([tuple(t.xy) for t in towns]), extend_to=geo.outline.buffer(20000)))
        for n, t in enumerate(towns):
            cell = next(c for c in cells if c.contains(Point(t.xy)))
            units.append(Unit(f"{dcode}{100 + n}", f"{t.zh}镇", f"{t.py} Town", "town", i,
                              poly_xy=countryside.intersection(cell), town=t))
    # snap all units to the 1e-6 degree grid together, so shared edges stay shared
    ll = [geom_to_lonlat(u.poly_xy) for u in units]
    lines = shapely.union_all([u.boundary for u in ll], grid_size=GRID)
    faces = shapely.get_parts(shapely.polygonize(shapely.get_parts(lines)))
    owner = np.array([int(np.argmax([f.intersection(u).area for u in ll])) for f in faces])
    for k, u in enumerate(units):
        poly = shapely.union_all(faces[owner == k], grid_size=GRID)
        assert poly.geom_type == "Polygon" and poly.is_valid, (u.zh, poly.geom_type)
        u.poly_ll = shapely.geometry.polygon.orient(poly, 1.0)
        u.poly_xy = shapely.transform(
            u.poly_ll, lambda c: np.column_stack(TO_XY.transform(c[:, 0], c[:, 1])))
        if u.town is not None:
            u.town.unit = k
            assert u.poly_xy.contains(Point(u.town.xy).buffer(u.town.radius + 500)), u.zh
    for v in geo.villages:
        v.unit = next(k for k, u in enumerate(units) if u.poly_xy.contains(Point(v.xy)))
    return units


# =========================================================================== roads
@dataclass
class Road:
    """One OSM way under construction: metric coordinates + tags."""

    coords: np.ndarray
    tags: dict
    grade_separated: bool = False   # expressway and its ramps: connect only at ramp ends


def smooth_noise(s: np.ndarray, wavelength: float, rng) -> np.ndarray:
    """Smooth pseudo-random signal of s (about -1..1): three sines with random phases."""
    out = np.zeros_like(s)
    tot = 0.0
    for i, amp in enumerate((1.0, 0.5, 0.25)):
        out += amp * np.sin(2 * np.pi * s / (wavelength / 1.9 ** i) + rng.uniform(0, 2 * np.pi))
        tot += amp
    return out / tot


def shape_line(ctrl, rng, spacing=200.0, amp=0.0, wavelength=2000.0, jitter=0.0,
               taper=400.0) -> np.ndarray:
    """Resample a control polyline every ~``spacing`` m and bend it gently sideways.

    The lateral offset is a smooth random signal (amplitude ``amp``) plus white jitter,
    tapered to zero at both ends so that the end points stay exactly where they were
    asked to be (they are junctions shared with other roads).
    """
    ctrl = np.asarray(ctrl, dtype=float)
    base = LineString(ctrl)
    length = base.length
    n = max(1, int(round(length / spacing)))
    s = np.linspace(0.0, length, n + 1)
    if n > 1:
        s[1:-1] += rng.uniform(-0.3, 0.3, n - 1) * (length / n)
    pts = shapely.get_coordinates(shapely.line_interpolate_point(base, s))
    a = shapely.get_coordinates(shapely.line_interpolate_point(base, np.clip(s - 1, 0, length)))
    b = shapely.get_coordinates(shapely.line_interpolate_point(base, np.clip(s + 1, 0, length)))
    t = b - a
    t /= np.linalg.norm(t, axis=1)[:, None]
    normal = np.column_stack([-t[:, 1], t[:, 0]])
    off = amp * smooth_noise(s, wavelength, rng) + jitter * rng.standard_normal(len(s))
    if taper > 0:
        off *= np.clip(np.minimum(s, length - s) / taper, 0, 1)
    pts = pts + normal * off[:, None]
    pts[0], pts[-1] = ctrl[0], ctrl[-1]
    return pts


def _oriented(part, ref: LineString) -> np.ndarray:
    """Coordinates of ``part`` in the direction of ``ref`` (keeps oneway ways right)."""
    c = shapely.get_coordinates(part)
    if ref.project(Point(c[0])) > ref.project(Point(c[-1])):
        c = c[::-1]
    return c


class RoadNet:
    """Collects roads, handles river crossings and the region edge, nodes the network."""

    def __init__(self, geo: Geography):
        self.geo = geo
        self.roads: list[Road] = []
        self.clip_zone = geo.outline.buffer(300)
        shapely.prepare(self.clip_zone)
        self.unplanned_cuts: list[str] = []

    def add(self, coords, tags: dict, *, bridge: bool = False, grade_separated: bool = False,
            river_ok: bool = False, cut_ok: bool = False, bridge_name: str | None = None,
            min_len: float = 25.0) -> list[int]:
        """Add a road; returns the indices of the ways it became.

        ``bridge=True``: the river crossing becomes its own ``bridge=yes`` way. Otherwise the
        road is cut ``CUT`` m from the river centre line (where the riverside roads run in
        the core); ``cut_ok`` says that this is expected (urban streets), otherwise cutting a
        major road is recorded as a layout error. ``river_ok`` skips the river test (the
        riverside roads themselves).
        """
        line = LineString(coords)
        if not self.clip_zone.contains(line):
            line = line.intersection(self.clip_zone)
        parts = []
        for piece in shapely.get_parts(line):
            if piece.geom_type != "LineString":
                continue
            if river_ok or not piece.intersects(self.geo.river_cut):
                parts.append((piece, False))
            elif bridge:
                bank = self.geo.river_bank
                parts += [(p, False) for p in shapely.get_parts(piece.difference(bank))]
                parts += [(p, True) for p in shapely.get_parts(piece.intersection(bank))]
            else:
                if not cut_ok and tags.get("highway") in MAJOR:
                    self.unplanned_cuts.append(tags.get("name", tags["highway"]))
                cut = self.geo.river_cut
                parts += [(p, False) for p in shapely.get_parts(piece.difference(cut))]
        ref = LineString(coords)
        parts = [(g, br) for g, br in parts if not g.is_empty and g.geom_type == "LineString"]
        parts.sort(key=lambda pb: ref.project(Point(shapely.get_coordinates(pb[0])[0])))
        out = []
        for geom, is_bridge in parts:
            if geom.geom_type != "LineString" or geom.length < min_len:
                continue
            t = dict(tags)
            if is_bridge:
                t.update({"bridge": "yes", "layer": "1"})
                if bridge_name:
                    t["bridge:name"] = bridge_name
            self.roads.append(Road(_oriented(geom, ref), t, grade_separated))
            out.append(len(self.roads) - 1)
        return out

    def lines(self, classes, *, no_bridges: bool = True) -> tuple[list[int], np.ndarray]:
        """Return indices and LineStrings of the roads of the given highway classes."""
        idx = [i for i, r in enumerate(self.roads) if r.tags["highway"] in classes
               and not (no_bridges and "bridge" in r.tags)]
        return idx, np.array([LineString(self.roads[i].coords) for i in idx], dtype=object)

    # ------------------------------------------------------------------ noding
    def finalize(self, rng):
        """Node the network and return (node_xy, ways) with 1-based OSM ids.

        * crossings between ordinary roads become shared nodes;
        * a road end within 0.5 m of another road becomes a node of that road (T-junction);
        * the expressway and its ramps never get crossing nodes (they pass over or under);
        * vertices closer than 0.5 m are merged; every node is jittered by ~2 m.
        """
        lines = np.array([LineString(r.coords) for r in self.roads], dtype=object)
        tree = shapely.STRtree(lines)
        normal = np.array([not r.grade_separated for r in self.roads])
        i, j = tree.query(lines, predicate="intersects")
        keep = (i < j) & normal[i] & normal[j]
        i, j = i[keep], j[keep]
        inserts: dict[int, list] = {}
        for a, b, g in zip(i, j, shapely.intersection(lines[i], lines[j]), strict=True):
            for p in shapely.get_coordinates(g):
                inserts.setdefault(int(a), []).append(p)
                inserts.setdefault(int(b), []).append(p)
        ends = np.array([r.coords[k] for r in self.roads for k in (0, -1)])
        end_owner = np.repeat(np.arange(len(self.roads)), 2)
        pi, lj = tree.query(shapely.points(ends), predicate="dwithin", distance=0.5)
        for p, line_idx in zip(pi, lj, strict=True):
            if end_owner[p] != line_idx:
                inserts.setdefault(int(line_idx), []).append(ends[p])
        for k in sorted(inserts):
            road = self.roads[k]
            pts = np.array(inserts[k])
            seg = np.hypot(*np.diff(road.coords, axis=0).T)
            d_orig = np.concatenate([[0.0], np.cumsum(seg)])
            d_new = shapely.line_locate_point(lines[k], shapely.points(pts))
            allc = np.vstack([road.coords, pts])
            order = np.argsort(np.concatenate([d_orig, d_new]), kind="stable")
            road.coords = allc[order]
        # merge coincident vertices
        allc = np.vstack([r.coords for r in self.roads])
        pairs = cKDTree(allc).query_pairs(0.5, output_type="ndarray")
        n = len(allc)
        graph = coo_matrix((np.ones(len(pairs)), (pairs[:, 0], pairs[:, 1])), shape=(n, n))
        _, comp = connected_components(graph, directed=False)
        first = np.full(comp.max() + 1, -1)
        node_of_comp = np.full(comp.max() + 1, -1)
        node_xy = []
        ways = []
        pos = 0
        for r in self.roads:
            ids = []
            for _c in r.coords:
                cp = comp[pos]
                if first[cp] < 0:
                    first[cp] = pos
                    node_of_comp[cp] = len(node_xy) + 1
                    node_xy.append(allc[pos])
                nid = int(node_of_comp[cp])
                if not ids or ids[-1] != nid:
                    ids.append(nid)
                pos += 1
            if len(ids) >= 2:
                ways.append((ids, r.tags))
        node_xy = np.array(node_xy) + rng.normal(0.0, 2.0, size=(len(node_xy), 2))
        return node_xy, ways


def core_frame(rng):
    """Rotation of the urban grid: returns functions local(a, b) -> world xy."""
    rot = math.radians(rng.uniform(5, 9))
    ca, sa = math.cos(rot), math.sin(rot)
    return lambda a, b: np.column_stack([a * ca - b * sa, a * sa + b * ca])


def _core_lines(geo: Geography, rng) -> dict[int, dict[int, list[LineString]]]:
    """Straight grid lines (rotated a few degrees) clipped to the core, by axis and index.

    Line k of axis 0 runs north-south at offset k * 1000/6 m; axis 1 runs west-east.
    Minor lines get a small random offset and tilt so the blocks are not all equal.
    """
    world = core_frame(rng)
    t = np.array([-9000.0, 9000.0])
    lines: dict[int, dict[int, list[LineString]]] = {0: {}, 1: {}}
    for axis in (0, 1):
        for k in range(-38, 39):
            off = k * CORE_STEP + (rng.normal(0, 10) if k % 3 else 0.0)
            tilt = rng.normal(0, 0.004) if k % 3 else 0.0
            a, b = ((off + tilt * t, t) if axis == 0 else (t, off + tilt * t))
            geom = LineString(world(a, b)).intersection(geo.core)
            pieces = [p for p in shapely.get_parts(geom) if p.geom_type == "LineString"]
            if pieces:
                lines[axis][k] = pieces
    return lines


def _core_tags(axis: int, k: int, names, rng) -> dict:
    """Tags of grid line k: primary every 6th line, secondary every 3rd, else residential."""
    if k % 6 == 0:
        return {"highway": "primary", "name": CORE_PRIMARY_NAMES[axis][k // 6 + 6],
                "maxspeed": "60", "lanes": "4"}
    if k % 3 == 0:
        tags = {"highway": "secondary", "name": next(names)}
        if k % 2:
            tags["maxspeed"] = "50"
        return tags
    tags = {"highway": "residential"}
    if rng.random() < 0.7:
        tags["name"] = next(names)
    return tags


def _add_residential(net: RoadNet, piece: LineString, tags: dict, axis: int, k: int,
                     major_other, rng) -> None:
    """Add one residential street as blocks between major crossings, ~12 % dropped.

    Streets listed in ONEWAY_LINES become one-way between their first and last major
    crossing instead (so no one-way street ends in a dead end).
    """
    cross = shapely.get_coordinates(piece.intersection(major_other))
    at = shapely.line_locate_point(piece, shapely.points(cross)) if len(cross) else []
    cuts = np.unique(np.concatenate([[0.0, piece.length], at]))
    if k in ONEWAY_LINES[axis] and len(cuts) > 3:
        c = shapely.get_coordinates(substring(piece, cuts[1], cuts[-2]))
        net.add(c if k % 2 else c[::-1], {**tags, "oneway": "yes"}, cut_ok=True)
        return
    for d0, d1 in zip(cuts[:-1], cuts[1:], strict=True):
        if d1 - d0 >= 20 and rng.random() >= 0.12:
            net.add(shapely.get_coordinates(substring(piece, d0, d1)), tags)


def build_core_grid(net: RoadNet, geo: Geography, rng) -> list[int]:
    """Urban grid: primary every 1 km, secondary every 500 m, residential every ~167 m.

    Residential streets are split into blocks at the major streets and ~12 % of the blocks
    are dropped so the grid looks less mechanical. Four primary streets bridge the river;
    a few residential couplets are one-way. Returns the indices of the primary ways.
    """
    lines = _core_lines(geo, rng)
    pool = [w + s for s in ("路", "街", "巷") for w in STREET_WORDS]
    names = iter([pool[i] for i in rng.permutation(len(pool))])
    primary_idx: list[int] = []
    for axis in (0, 1):
        major_other = shapely.union_all([p for k, ps in lines[axis ^ 1].items() if k % 3 == 0
                                         for p in ps])
        for k, pieces in lines[axis].items():
            tags = _core_tags(axis, k, names, rng)
            for piece in pieces:
                if tags["highway"] == "residential":
                    _add_residential(net, piece, tags, axis, k, major_other, rng)
                    continue
                bridge = axis == 0 and k in CORE_BRIDGES
                added = net.add(shapely.get_coordinates(piece), tags, bridge=bridge,
                                cut_ok=True, bridge_name=CORE_BRIDGES.get(k) if bridge else None)
                if tags["highway"] == "primary":
                    primary_idx += added
    return primary_idx


def build_riverside(net: RoadNet, geo: Geography) -> None:
    """滨江北路 / 滨江南路 along both banks inside the core (where cut streets end)."""
    geom = geo.river_cut.exterior.intersection(geo.core)
    for piece in shapely.get_parts(geom):
        if piece.geom_type != "LineString" or piece.length < 200:
            continue
        c = shapely.get_coordinates(piece)
        north = geo.river_side(c[len(c) // 2]) > 0
        net.add(c, {"highway": "secondary", "name": "滨江北路" if north else "滨江南路"},
                river_ok=True)


def edge_point(geo: Geography, start: np.ndarray, direction: np.ndarray) -> np.ndarray:
    """Where the ray start + t*direction leaves the outline, plus 200 m."""
    d = direction / np.linalg.norm(direction)
    hit = geo.outline.exterior.intersection(LineString([tuple(start), tuple(start + d * 60000)]))
    pts = shapely.get_coordinates(hit)
    p = pts[np.argmin(np.hypot(*(pts - start).T))]
    return p + d * 200


def build_radials(net: RoadNet, geo: Geography, primary_idx: list[int], rng) -> list[int]:
    """National (trunk) and provincial (primary) roads from the core to every town.

    Each starts on a core primary street ~1.3 km inside the core edge (same river bank as
    its town) and some continue beyond their town to the region's edge.
    """
    core_primary = [(i, LineString(net.roads[i].coords)) for i in primary_idx]
    out = []
    for t in geo.towns:
        hw, name, ref, maxspeed, cont = t.radial
        ang = math.atan2(t.xy[1], t.xy[0])
        target = polar(math.degrees(ang), float(geo.core_r(ang)) - 1300)
        side = geo.river_side(t.xy)
        cands = [ln for _i, ln in core_primary
                 if geo.river_side(shapely.get_coordinates(ln)[0]) == side
                 and geo.river_side(shapely.get_coordinates(ln)[-1]) == side]
        best = min(cands, key=lambda ln: ln.distance(Point(target)))
        start = shapely.get_coordinates(best.interpolate(best.project(Point(target))))[0]
        tags = {"highway": hw, "name": name, "ref": ref}
        if maxspeed:
            tags["maxspeed"] = maxspeed
        out += net.add(shape_line([start, t.xy], rng, spacing=200, amp=150, wavelength=3500,
                                  taper=1500), tags)
        if cont:
            end = edge_point(geo, t.xy, t.xy - start)
            out += net.add(shape_line([t.xy, end], rng, spacing=200, amp=200, wavelength=4000,
                                      taper=800), tags)
    return out


def build_ring(net: RoadNet, geo: Geography, rng) -> None:
    """County roads (secondary) linking neighbouring towns in a ring; bridges where needed."""
    towns = sorted(geo.towns, key=lambda t: math.atan2(t.xy[1], t.xy[0]) % (2 * np.pi))
    for n, (a, b) in enumerate(zip(towns, towns[1:] + towns[:1], strict=True)):
        ref = f"X{101 + n}"
        net.add(shape_line([a.xy, b.xy], rng, spacing=200, amp=300, wavelength=5000, taper=800),
                {"highway": "secondary", "name": f"{ref}县道", "ref": ref},
                bridge=True, bridge_name=f"{a.zh}{b.zh}大桥")


def bezier(p0, p1, p2, p3, n=10) -> np.ndarray:
    """Cubic Bezier curve sampled at n points."""
    t = np.linspace(0, 1, n)[:, None]
    return ((1 - t) ** 3 * p0 + 3 * (1 - t) ** 2 * t * p1 + 3 * (1 - t) * t ** 2 * p2
            + t ** 3 * p3)


def build_motorway(net: RoadNet, geo: Geography, radial_idx: list[int], rng) -> int:
    """G50 expressway west->east north of the core; dual carriageway, diamond interchanges.

    Returns the number of interchanges.
    """
    cx = np.array([-34000, -22000, -12000, -4000, 4000, 12000, 22000, 34000], float)
    cy = np.array([9800, 9300, 8300, 7500, 7300, 8000, 8600, 8800], float)
    cy += rng.normal(0, 150, len(cy))
    xs = np.arange(-34000.0, 34001.0, 250.0)
    centre = LineString(np.column_stack([xs, CubicSpline(cx, cy)(xs)]))
    tags = {"highway": "motorway", "name": "沪渝高速", "ref": "G50", "oneway": "yes",
            "maxspeed": "120", "lanes": "2"}
    carriage = {}
    for sign in (-1, 1):  # -1: eastbound (right of the centre line), +1: westbound
        c = shapely.get_coordinates(centre.offset_curve(15.0 * sign))
        if np.hypot(*(c[0] - centre.coords[0])) > np.hypot(*(c[-1] - centre.coords[0])):
            c = c[::-1]
        if sign > 0:
            c = c[::-1]
        idx = net.add(c, tags, bridge=True, grade_separated=True)
        carriage[sign] = [(i, LineString(net.roads[i].coords)) for i in idx]
    # interchanges where radial roads cross the expressway: west-most, middle, east-most
    crossings = []
    for i in radial_idx:
        ln = LineString(net.roads[i].coords)
        x = ln.intersection(centre)
        if x.geom_type == "Point" and geo.outline.buffer(-2000).contains(x):
            crossings.append((x.x, i, x))
    crossings.sort(key=lambda c: c[0])
    if len(crossings) > 3:
        crossings = [crossings[0], crossings[len(crossings) // 2], crossings[-1]]
    link = {"highway": "motorway_link", "oneway": "yes"}
    for _x, ridx, X in crossings:
        road = LineString(net.roads[ridx].coords)
        s0 = centre.project(X)
        d = (np.array(centre.interpolate(s0 + 5).coords[0])
             - np.array(centre.interpolate(s0 - 5).coords[0]))
        d /= np.linalg.norm(d)
        left = np.array([-d[1], d[0]])
        t0 = road.project(X)
        q = [np.array(road.interpolate(t0 + dt).coords[0]) for dt in (-260, 260)]
        xq = np.array(X.coords[0])
        q_left = next(p for p in q if np.dot(p - xq, left) > 0)
        q_right = next(p for p in q if np.dot(p - xq, left) < 0)
        for sign, travel, qq in ((-1, d, q_right), (1, -d, q_left)):
            _i, cw = min(carriage[sign], key=lambda c: c[1].distance(X))
            out = left * sign
            sc = cw.project(X)
            div = np.array(cw.interpolate(sc - 450).coords[0])
            mrg = np.array(cw.interpolate(sc + 450).coords[0])
            net.add(bezier(div, div + travel * 200 + out * 20, qq - travel * 150, qq), link,
                    grade_separated=True)
            net.add(bezier(qq, qq + travel * 150, mrg - travel * 200 + out * 20, mrg), link,
                    grade_separated=True)
    return len(crossings)


def _town_street_tags(t: Town, main: bool, second: bool, k: int, names: list, rng) -> dict:
    """Return the tags of a town street: main and second streets tertiary, others residential."""
    if main or second:
        tags = {"highway": "tertiary"}
        if main and k == 0:
            tags["name"] = f"{t.zh}大街"
        elif names:
            tags["name"] = names.pop()
        return tags
    tags = {"highway": "residential"}
    if rng.random() < 0.5 and names:
        tags["name"] = names.pop()
    return tags


def build_town_grids(net: RoadNet, geo: Geography, rng) -> None:
    """Each town: a small rotated grid, tertiary main streets and residential lanes.

    Lanes that would touch no street of the other direction are left out (no islands).
    """
    for t in geo.towns:
        rot = rng.uniform(0, np.pi / 2)
        ca, sa = math.cos(rot), math.sin(rot)
        radius = t.radius * 1.15
        step = 150.0
        kmax = int(radius // step) + 1
        names = [TOWN_STREET_NAMES[i] for i in rng.permutation(len(TOWN_STREET_NAMES))]
        streets: dict[int, list] = {0: [], 1: []}
        for axis in (0, 1):
            for k in range(-kmax, kmax):
                off = (k + 0.5) * step
                if abs(off) >= radius:
                    continue
                half = math.sqrt(radius ** 2 - off ** 2) * rng.uniform(0.75, 1.0)
                main = k in (-1, 0) if axis == 0 else k == 0
                second = k in (-4, 3)
                if not (main or second) and rng.random() < 0.15:
                    continue
                a, b = ((np.array([off, off]), np.array([-half, half])) if axis == 0
                        else (np.array([-half, half]), np.array([off, off])))
                ends = np.column_stack([a * ca - b * sa, a * sa + b * ca]) + t.xy
                tags = _town_street_tags(t, main, second, k, names, rng)
                coords = shape_line(ends, rng, spacing=250, amp=8, wavelength=800, jitter=2,
                                    taper=100)
                streets[axis].append((coords, tags))
        for axis in (0, 1):
            others = shapely.union_all([LineString(c) for c, _ in streets[axis ^ 1]])
            for coords, tags in streets[axis]:
                if LineString(coords).intersects(others):
                    net.add(coords, tags)


def _nearest_reachable(xy: np.ndarray, lines, geo: Geography) -> np.ndarray:
    """Nearest point on the nearest line that a straight link reaches without the river."""
    p = Point(xy)
    lines = np.asarray(lines, dtype=object)
    for k in np.argsort(shapely.distance(lines, p), kind="stable"):
        q = np.array(lines[k].interpolate(lines[k].project(p)).coords[0])
        if not LineString([tuple(xy), tuple(q)]).intersects(geo.river_cut):
            return q
    raise RuntimeError(f"no road reachable from {xy}")


def _tertiary_chains(net: RoadNet, geo: Geography, plain: list[Village], rng) -> set[int]:
    """Township roads: per town, 3-4 angular sectors, a chain through up to 2 villages each.

    Villages belong to the nearest town on their bank. Returns the ids of the villages
    on a chain.
    """
    owner = {}
    for v in plain:
        side = geo.river_side(v.xy)
        towns = [t for t in geo.towns if geo.river_side(t.xy) == side]
        owner[id(v)] = min(towns, key=lambda t: np.hypot(*(t.xy - v.xy)))
    on_chain: set[int] = set()
    for n, t in enumerate(geo.towns):
        mine = [v for v in plain if owner[id(v)] is t]
        nsec = int(rng.integers(3, 5))
        rot = rng.uniform(0, 2 * np.pi)
        for s in range(nsec):
            lo = rot + 2 * np.pi * s / nsec
            sec = [v for v in mine
                   if (math.atan2(*(v.xy - t.xy)[::-1]) - lo) % (2 * np.pi) < 2 * np.pi / nsec]
            prev = t.xy
            for _ in range(2):
                if not sec:
                    break
                nxt = min(sec, key=lambda v, prev=prev: np.hypot(*(v.xy - prev)))
                seg = LineString([tuple(prev), tuple(nxt.xy)])
                if seg.intersects(geo.river_cut) or seg.intersects(geo.core) or seg.length > 6000:
                    break
                sec.remove(nxt)
                net.add(shape_line([prev, nxt.xy], rng, spacing=150, amp=90, wavelength=2000,
                                   taper=300),
                        {"highway": "tertiary", "ref": f"Y{n + 1:02d}{s + 1}"})
                on_chain.add(id(nxt))
                prev = nxt.xy
    return on_chain


def _village_connectors(net: RoadNet, geo: Geography, villages: list[Village], rng) -> float:
    """Unclassified roads to the nearest tertiary-or-better road, or to an earlier connector.

    Villages nearest to the main roads go first, so remote ones hang off their neighbours'
    connectors (small trees, as in reality). Returns the longest connector (m).
    """
    _, major = net.lines(("trunk", "primary", "secondary", "tertiary"))
    villages = sorted(villages, key=lambda v: float(shapely.distance(major, Point(v.xy)).min()))
    lines = list(major)
    longest = 0.0
    for v in villages:
        q = _nearest_reachable(v.xy, lines, geo)
        length = float(np.hypot(*(q - v.xy)))
        longest = max(longest, length)
        for i in net.add(shape_line([v.xy, q], rng, spacing=130, amp=min(60.0, length / 10),
                                    wavelength=1500, taper=150), {"highway": "unclassified"}):
            lines.append(LineString(net.roads[i].coords))
    return longest


def _village_loops(net: RoadNet, plain: list[Village], rng) -> None:
    """Add a short residential loop (closed way) in every village of 1,000+ people."""
    for v in plain:
        if v.pop < 1000:
            continue
        th = np.linspace(0, 2 * np.pi, 11)[:-1] + rng.uniform(0, 1)
        r = rng.uniform(120, 180) * (1 + 0.15 * rng.standard_normal(10))
        c = v.xy + rng.normal(0, 30, 2) + np.column_stack([r * np.cos(th), r * np.sin(th)])
        net.add(np.vstack([c, c[:1]]), {"highway": "residential"})


def _field_tracks(net: RoadNet, geo: Geography, plain: list[Village], rng) -> None:
    """Tracks into the fields from each village, and between neighbouring villages."""
    for v in plain:
        for _ in range(int(rng.integers(2, 5))):
            end = v.xy + polar(rng.uniform(0, 360), rng.uniform(500, 1400))
            seg = LineString([tuple(v.xy), tuple(end)])
            if (seg.intersects(geo.river_cut) or seg.intersects(geo.core)
                    or not geo.outline.contains(seg)):
                continue
            net.add(shape_line([v.xy, end], rng, spacing=100, amp=40, wavelength=900,
                               taper=100), {"highway": "track", "tracktype": "grade2"})
    done = set()
    for i, v in enumerate(plain):
        dist = [np.hypot(*(w.xy - v.xy)) if w is not v else np.inf for w in plain]
        j = int(np.argmin(dist))
        if dist[j] > 2800 or (min(i, j), max(i, j)) in done:
            continue
        done.add((min(i, j), max(i, j)))
        seg = LineString([tuple(v.xy), tuple(plain[j].xy)])
        if seg.intersects(geo.river_cut) or seg.intersects(geo.core.buffer(500)):
            continue
        net.add(shape_line([v.xy, plain[j].xy], rng, spacing=110, amp=80, wavelength=1200,
                           taper=150), {"highway": "track", "tracktype": "grade3"})


def _hill_tracks(net: RoadNet, geo: Geography, rng) -> None:
    """Connect the hilly corner: villages reached by winding tracks only, plus spurs.

    Outermost villages go first, so inner ones can hang off the tracks of outer ones.
    """
    hill = sorted([v for v in geo.villages if v.hill],
                  key=lambda v: -np.hypot(*(v.xy - geo.hills_centre)))
    for v in hill:
        _, lines = net.lines(("trunk", "primary", "secondary", "tertiary", "unclassified",
                              "track"))
        q = _nearest_reachable(v.xy, lines, geo)
        net.add(shape_line([v.xy, q], rng, spacing=110, amp=180, wavelength=1500, taper=200),
                {"highway": "track", "tracktype": "grade4"})
        for _ in range(2):
            end = v.xy + polar(rng.uniform(0, 360), rng.uniform(700, 1600))
            if geo.outline.contains(Point(end)):
                net.add(shape_line([v.xy, end], rng, spacing=110, amp=120, wavelength=1000,
                                   taper=150), {"highway": "track", "tracktype": "grade5"})


def build_village_roads(net: RoadNet, geo: Geography, rng) -> dict:
    """Tertiary chains town -> villages, unclassified connectors, loops and tracks."""
    plain = [v for v in geo.villages if not v.hill]
    on_chain = _tertiary_chains(net, geo, plain, rng)
    longest = _village_connectors(net, geo, [v for v in plain if id(v) not in on_chain], rng)
    _village_loops(net, plain, rng)
    _field_tracks(net, geo, plain, rng)
    _hill_tracks(net, geo, rng)
    return {"chain_villages": len(on_chain), "connector_max_m": longest}


def build_roads(geo: Geography, rng) -> tuple[RoadNet, dict]:
    """Assemble the whole network (see the module docstring for the hierarchy)."""
    net = RoadNet(geo)
    primary_idx = build_core_grid(net, geo, rng)
    build_riverside(net, geo)
    radial_idx = build_radials(net, geo, primary_idx, rng)
    build_ring(net, geo, rng)
    n_interchanges = build_motorway(net, geo, radial_idx, rng)
    build_town_grids(net, geo, rng)
    stats = build_village_roads(net, geo, rng)
    stats["interchanges"] = n_interchanges
    assert not net.unplanned_cuts, f"major roads cut by the river: {net.unplanned_cuts}"
    return net, stats


def place_nodes(geo: Geography) -> list[tuple[np.ndarray, dict]]:
    """Named ``place=*`` nodes, as real extracts carry them: the city, towns, villages.

    Not part of any way (routing ignores them); they name gap areas on maps and in
    reports ("near 李家岭村").
    """
    out = [(np.zeros(2), {"place": "city", "name": "青山市", "name:en": "Qingshan"})]
    out += [(t.xy, {"place": "town", "name": f"{t.zh}镇", "name:en": t.py,
                    "population": str(t.pop)}) for t in geo.towns]
    out += [(v.xy, {"place": "village", "name": f"{v.zh}村", "name:en": v.py,
                    "population": str(v.pop)}) for v in geo.villages]
    return out


def osm_xml(node_xy: np.ndarray, ways, places=()) -> bytes:
    """Serialise nodes, ways and place nodes as OSM XML 0.6 (WGS-84, 7 decimals)."""
    lon, lat = to_lonlat(node_xy)
    out = io.StringIO()
    out.write('<?xml version="1.0" encoding="UTF-8"?>\n')
    out.write('<osm version="0.6" generator="geoplan demo">\n')
    out.write(f'  <bounds minlat="{lat.min():.7f}" minlon="{lon.min():.7f}" '
              f'maxlat="{lat.max():.7f}" maxlon="{lon.max():.7f}"/>\n')
    common = f'version="1" timestamp="{TIMESTAMP}"'
    for k in range(len(node_xy)):
        out.write(f'  <node id="{k + 1}" {common} lat="{lat[k]:.7f}" lon="{lon[k]:.7f}"/>\n')
    if places:
        plon, plat = to_lonlat(np.array([xy for xy, _ in places], dtype=float))
        for k, (_, tags) in enumerate(places):
            out.write(f'  <node id="{len(node_xy) + k + 1}" {common} lat="{plat[k]:.7f}" '
                      f'lon="{plon[k]:.7f}">\n')
            for key, val in tags.items():
                out.write(f'    <tag k="{escape(key)}" v="{escape(str(val))}"/>\n')
            out.write("  </node>\n")
    for w, (ids, tags) in enumerate(ways, start=1):
        out.write(f'  <way id="{w}" {common}>\n')
        for nid in ids:
            out.write(f'    <nd ref="{nid}"/>\n')
        for key, val in tags.items():
            out.write(f'    <tag k="{escape(key)}" v="{escape(str(val), {chr(34): "&quot;"})}"/>\n')
        out.write("  </way>\n")
    out.write("</osm>\n")
    return out.getvalue().encode("utf-8")


def road_stats(node_xy: np.ndarray, ways) -> dict:
    """Ways, nodes and km per highway class (from the file's own geometry)."""
    stats: dict[str, dict] = {}
    for ids, tags in ways:
        s = stats.setdefault(tags["highway"], {"ways": 0, "nodes": set(), "km": 0.0,
                                               "bridges": 0, "oneway": 0})
        s["ways"] += 1
        s["nodes"].update(ids)
        xy = node_xy[np.array(ids) - 1]
        s["km"] += float(np.hypot(*np.diff(xy, axis=0).T).sum()) / 1000
        s["bridges"] += tags.get("bridge") == "yes"
        s["oneway"] += tags.get("oneway") == "yes"
    order = ["motorway", "motorway_link", "trunk", "primary", "secondary", "tertiary",
             "unclassified", "residential", "track"]
    return {k: {**stats[k], "nodes": len(stats[k]["nodes"])} for k in order if k in stats}


# =========================================================================== population
def build_population(geo: Geography, units: list[Unit], rng):
    """WorldPop-like grid: people per 3" cell, float32, nodata outside the outline."""
    outline_ll = shapely.union_all([u.poly_ll for u in units], grid_size=GRID)
    minx, miny, maxx, maxy = outline_ll.bounds
    margin = 0.01
    left = math.floor((minx - margin) / RES) * RES
    top = math.ceil((maxy + margin) / RES) * RES
    width = int(math.ceil((maxx + margin - left) / RES))
    height = int(math.ceil((top - (miny - margin)) / RES))
    transform = Affine(RES, 0.0, left, 0.0, -RES, top)
    labels = rasterize([(u.poly_ll, k + 1) for k, u in enumerate(units)],
                       out_shape=(height, width), transform=transform, fill=0, dtype="int16")
    inside = labels > 0
    lon = left + (np.arange(width) + 0.5) * RES
    lat = top - (np.arange(height) + 0.5) * RES
    lon2, lat2 = np.meshgrid(lon, lat)
    x, y = TO_XY.transform(lon2, lat2)
    # land fraction: 4x4 sub-samples per cell against the river
    cdx = RES * math.pi / 180 * 6378137 * math.cos(math.radians(LAT0))
    cdy = RES * math.pi / 180 * 6356752
    wet = np.zeros_like(x)
    for i in range(4):
        for j in range(4):
            wet += geo.river_dist(x + ((i + 0.5) / 4 - 0.5) * cdx,
                                  y + ((j + 0.5) / 4 - 0.5) * cdy) < RIVER_HW
    land = (1 - wet / 16) * inside
    noise = rng.lognormal(0.0, 0.35, size=x.shape)
    base = land * noise
    pop = np.zeros_like(x)

    def put(weight: np.ndarray, total: float) -> None:
        w = weight * base
        pop[...] += w * (total / w.sum())

    d = np.hypot(x, y)
    theta = np.arctan2(y, x)
    core_soft = 1.0 / (1.0 + np.exp((d - geo.core_r(theta)) / 250.0))
    field_ = np.zeros_like(x)
    for _ in range(4):
        lam = rng.uniform(2000, 5000)
        a = rng.uniform(0, np.pi)
        field_ += np.sin(2 * np.pi * (x * np.cos(a) + y * np.sin(a)) / lam
                         + rng.uniform(0, 2 * np.pi)) / 4
    put(np.exp(-d / 2200.0) * core_soft * np.exp(0.35 * field_), CORE_POP)
    for t in geo.towns:
        sigma = t.radius / 1.5
        r2 = ((x - t.xy[0]) ** 2 + (y - t.xy[1]) ** 2) / sigma ** 2
        put(np.where(r2 < 9, np.exp(-0.5 * r2), 0.0), t.pop)
    for v in geo.villages:
        sigma = 60 + 0.05 * v.pop
        r2 = ((x - v.xy[0]) ** 2 + (y - v.xy[1]) ** 2) / sigma ** 2
        put(np.where(r2 < 9, np.exp(-0.5 * r2), 0.0), v.pop)
    rural = (1 - core_soft) * (1 - 0.9 * geo.hilliness(x, y)) * (1 + 0.5 * field_)
    put(np.clip(rural, 0, None), SCATTER_POP)
    pop = pop.astype(np.float32)
    pop[~inside] = NODATA
    per_unit = np.bincount(labels[inside], weights=pop[inside].astype(float),
                           minlength=len(units) + 1)[1:]
    wet_cells = (wet == 16) & inside
    return {"pop": pop, "transform": transform, "labels": labels, "per_unit": per_unit,
            "xy": (x, y), "river_cell_people": float(pop[wet_cells].sum()),
            "river_cells": int(wet_cells.sum()), "outline_ll": outline_ll}


def write_population(path: Path, popr: dict) -> None:
    """Write the population GeoTIFF (DEFLATE, EPSG:4326)."""
    pop = popr["pop"]
    profile = {"driver": "GTiff", "dtype": "float32", "width": pop.shape[1],
               "height": pop.shape[0], "count": 1, "crs": "EPSG:4326",
               "transform": popr["transform"], "nodata": NODATA, "compress": "deflate",
               "predictor": 3, "zlevel": 9, "tiled": True, "blockxsize": 256,
               "blockysize": 256}
    with rasterio.open(path, "w", **profile) as dst:
        dst.write(pop, 1)
        dst.update_tags(UNITS="people per cell",
                        DESCRIPTION="synthetic population counts, geoplan demo")
        dst.set_band_description(1, "population")


def build_age65(popr: dict) -> np.ndarray:
    """Residents aged 65 and over per cell, consistent with the total: a share rising
    from 11 % in the city to 22 % at the county's edge (rural ageing) with a gentle
    east-west wave - a deterministic function of the cell's place (no random draws, so
    every other layer is unchanged); never more than the cell's people."""
    x, y = popr["xy"]
    share = (0.11 + 0.11 * np.clip(np.hypot(x, y) / 20000.0, 0.0, 1.0)
             + 0.015 * np.sin(x / 4000.0))
    pop = popr["pop"]
    return np.where(pop > 0, pop * share, pop).astype(np.float32)


def write_age65(path: Path, popr: dict) -> None:
    """Write the 65+ GeoTIFF on the population grid (same profile)."""
    write_population(path, {**popr, "pop": build_age65(popr)})
    with rasterio.open(path, "r+") as dst:
        dst.update_tags(UNITS="people per cell",
                        DESCRIPTION="synthetic residents aged 65 and over, geoplan demo")
        dst.set_band_description(1, "population_65plus")


# =========================================================================== facilities
class NodeIndex:
    """Road nodes where a facility or site may stand, with their street names.

    Nodes of the expressway, its ramps and bridges never qualify; track nodes only when
    asked for (the hill villages have nothing else).
    """

    def __init__(self, node_xy: np.ndarray, ways, units: list[Unit], geo: Geography):
        n = len(node_xy) + 1
        road, track, bad = np.zeros(n, bool), np.zeros(n, bool), np.zeros(n, bool)
        self.name = [""] * n
        good = {"trunk", "primary", "secondary", "tertiary", "unclassified", "residential"}
        for ids, tags in ways:
            if "bridge" in tags or tags["highway"] in ("motorway", "motorway_link"):
                bad[ids] = True
            elif tags["highway"] == "track":
                track[ids] = True
            elif tags["highway"] in good:
                road[ids] = True
                for i in ids:
                    if not self.name[i] and tags.get("name"):
                        self.name[i] = tags["name"]
        self.ids = {False: np.nonzero(road & ~bad)[0], True: np.nonzero((road | track) & ~bad)[0]}
        self.trees = {k: cKDTree(node_xy[v - 1]) for k, v in self.ids.items()}
        self.all_xy = node_xy
        self.all_tree = cKDTree(node_xy)
        self.named = np.array([i for i in range(1, n) if self.name[i]])
        self.named_tree = cKDTree(node_xy[self.named - 1])
        self.geo = geo
        self.inner = [u.poly_xy.buffer(-5) for u in units]
        for p in self.inner:
            shapely.prepare(p)

    def street(self, node: int) -> str:
        """Return the name of a street through ``node``, else of the nearest named street."""
        if self.name[node]:
            return self.name[node]
        _, k = self.named_tree.query(self.all_xy[node - 1])
        return self.name[int(self.named[k])]

    def place(self, target, unit: int, rng, *, tracks: bool = False) -> tuple[np.ndarray, int]:
        """Return a spot 8-30 m from a road node near ``target`` inside ``unit``, and the node."""
        ids = self.ids[tracks]
        _, near = self.trees[tracks].query(np.asarray(target, float), k=min(400, len(ids)))
        for k in near:
            nxy = self.all_xy[ids[k] - 1]
            if not self.inner[unit].contains(Point(nxy)):
                continue
            for _ in range(8):
                p = nxy + polar(rng.uniform(0, 360), rng.uniform(8.0, 30.0))
                if (self.inner[unit].contains(Point(p))
                        and self.geo.river_dist(*p) > RIVER_HW + 40):
                    return p, int(ids[k])
        raise RuntimeError(f"no road node for a site near {target} in unit {unit}")


def farthest_points(cands: np.ndarray, n: int, start: np.ndarray) -> np.ndarray:
    """Greedy farthest-point sampling (spreads n points over the candidate cloud)."""
    chosen = [int(np.argmin(np.hypot(*(cands - start).T)))]
    dmin = np.hypot(*(cands - cands[chosen[0]]).T)
    while len(chosen) < n:
        k = int(np.argmax(dmin))
        chosen.append(k)
        dmin = np.minimum(dmin, np.hypot(*(cands - cands[k]).T))
    return cands[chosen]


def unit_at(units: list[Unit], xy) -> int:
    """Index of the unit containing a metric point."""
    return next(k for k, u in enumerate(units) if u.poly_xy.contains(Point(xy)))


class Placer:
    """Collects facilities: snaps each onto the road network and writes its address."""

    def __init__(self, units: list[Unit], nodes: NodeIndex, rng):
        self.units, self.nodes, self.rng = units, nodes, rng
        self.facs: list[dict] = []

    def beds(self, lo: int, hi: int) -> int:
        """Return a random bed count in [lo, hi], a multiple of 10."""
        return int(self.rng.integers(lo // 10, hi // 10 + 1)) * 10

    def add(self, prefix, name, name_en, typ, beds, target, unit, village: str = "") -> None:
        """Place one facility near ``target`` in ``unit``."""
        xy, node = self.nodes.place(target, unit, self.rng, tracks=bool(village))
        u = self.units[unit]
        where = f"青山市{DISTRICTS[u.district][1]}{u.zh}"
        address = (f"{where}{village}" if village else
                   f"{where}{self.nodes.street(node)}{int(self.rng.integers(1, 400))}号")
        self.facs.append({"prefix": prefix, "name": name, "name_en": name_en, "type": typ,
                          "beds": beds, "xy": xy, "unit": unit, "district": u.district,
                          "address": address})


def _hospitals(pl: Placer, geo: Geography) -> None:
    """Hospitals: HOSPITALS in the core, plus secondary hospitals in the two largest towns."""
    sub = {u.district: k for k, u in enumerate(pl.units) if u.level == "subdistrict"}
    for name, en, typ, (lo, hi), dist, ang, r in HOSPITALS:
        pl.add("H", name, en, typ, pl.beds(lo, hi), polar(ang, r), sub[dist])
    for t in geo.towns:
        if t.zh in SECONDARY_HOSPITAL_TOWNS:
            pl.add("H", f"青山市{t.zh}医院", f"Qingshan {t.py} Hospital", T_SECONDARY,
                   pl.beds(250, 450), t.xy + polar(pl.rng.uniform(0, 360), 500), t.unit)


def _community(pl: Placer, geo: Geography, popr: dict) -> None:
    """12 community health service centres spread over the core, 30 stations near people."""
    rng = pl.rng
    cloud = []
    inner_core = geo.core.buffer(-400)
    while len(cloud) < 3000:
        p = rng.uniform(-6500, 6500, 2)
        if inner_core.contains(Point(p)) and geo.river_dist(*p) > 400:
            cloud.append(p)
    centres = farthest_points(np.array(cloud), 12, np.zeros(2))
    comm = [COMMUNITIES[i] for i in rng.permutation(len(COMMUNITIES))]
    for p in centres:
        zh, py = comm.pop()
        pl.add("C", f"{zh}社区卫生服务中心", f"{py} Community Health Service Centre", T_CHSC,
               None, p, unit_at(pl.units, p))
    x, y = (a.ravel() for a in popr["xy"])
    pop = np.where(popr["pop"] > 0, popr["pop"], 0).astype(float).ravel()
    cells = np.nonzero(np.hypot(x, y) < CORE_RADIUS - 600)[0]
    prob = pop[cells] / pop[cells].sum()
    stations: list[np.ndarray] = []
    inner = geo.core.buffer(-200)
    while len(stations) < 30:
        c = cells[rng.choice(len(cells), p=prob)]
        p = np.array([x[c], y[c]])
        if not inner.contains(Point(p)) or geo.river_dist(*p) < 300:
            continue
        if min(np.hypot(*(p - q)) for q in [*centres, *stations]) < 550:
            continue
        stations.append(p)
    for p in stations:
        zh, py = comm.pop()
        pl.add("C", f"{zh}社区卫生服务站", f"{py} Community Health Station", T_CHS, None, p,
               unit_at(pl.units, p))


def _rural(pl: Placer, geo: Geography) -> None:
    """One township health centre (or regional centre) per town; most villages a clinic."""
    rng = pl.rng
    for t in geo.towns:
        spot = t.xy + polar(rng.uniform(0, 360), 150)
        if t.zh in REGIONAL_CENTRE_TOWNS:
            pl.add("T", f"{t.zh}镇中心卫生院", f"{t.py} Central Health Centre (regional)", T_RC,
                   pl.beds(150, 250), spot, t.unit)
        else:
            pl.add("T", f"{t.zh}镇卫生院", f"{t.py} Township Health Centre", T_THC,
                   pl.beds(30, 120), spot, t.unit)
    for v in geo.villages:
        if rng.random() < (0.5 if v.hill else 0.07):
            continue
        pl.add("V", f"{v.zh}村卫生室", f"{v.py} Village Clinic", T_VC, None, v.xy, v.unit,
               village=f"{v.zh}村")


def _services(pl: Placer, geo: Geography) -> None:
    """Insurance service points (mostly central, gaps on purpose) and emergency stations."""
    rng = pl.rng
    per_unit: dict[int, int] = {}
    for ang, r in INSURANCE_CORE:
        p = polar(ang, r)
        u = unit_at(pl.units, p)
        n = per_unit[u] = per_unit.get(u, 0) + 1
        pl.add("I", f"{pl.units[u].zh}第{'一二三四五六'[n - 1]}医保服务站",
               f"{pl.units[u].en} Medical Insurance Service Point {n}", T_INS, None, p, u)
    for t in geo.towns:
        if t.zh in SECONDARY_HOSPITAL_TOWNS:
            pl.add("I", f"{t.zh}镇医保服务站", f"{t.py} Town Medical Insurance Service Point",
                   T_INS, None, t.xy + polar(rng.uniform(0, 360), 250), t.unit)
    for n, (ang, r) in enumerate(EMERGENCY_CORE):
        p = polar(ang, r)
        pl.add("E", f"青山市急救中心第{n + 1}分站", f"Qingshan Emergency Station {n + 1}", T_EMS,
               None, p, unit_at(pl.units, p))
    for t in geo.towns:
        if t.zh in EMERGENCY_TOWNS:
            pl.add("E", f"青山市急救中心{t.zh}分站", f"Qingshan Emergency Station {t.py}", T_EMS,
                   None, t.xy + polar(rng.uniform(0, 360), 300), t.unit)


def build_facilities(geo: Geography, units: list[Unit], nodes: NodeIndex, popr: dict,
                     rng) -> list[dict]:
    """Build the facility list (true positions in local metres; converted on writing)."""
    pl = Placer(units, nodes, rng)
    _hospitals(pl, geo)
    _community(pl, geo, popr)
    _rural(pl, geo)
    _services(pl, geo)
    counters: dict[str, int] = {}
    for f in pl.facs:
        counters[f["prefix"]] = counters.get(f["prefix"], 0) + 1
        f["id"] = f"{f['prefix']}{counters[f['prefix']]:03d}"
    return pl.facs


def build_candidates(geo: Geography, units: list[Unit], nodes: NodeIndex, rng) -> list[dict]:
    """~400 candidate sites: village committees, township land, community buildings."""
    sites = []
    for v in geo.villages:
        xy, _ = nodes.place(v.xy, v.unit, rng, tracks=True)
        sites.append((f"{v.zh}村委会", "village committee", int(rng.integers(30, 61)), xy,
                      v.unit))
    dirs = [("东", 0), ("北", 90), ("西", 180), ("南", 270)]
    for t in geo.towns:
        xy, _ = nodes.place(t.xy + polar(rng.uniform(0, 360), 100), t.unit, rng)
        sites.append((f"{t.zh}镇区中心地块", "township land", int(rng.integers(120, 151)), xy,
                      t.unit))
        for dz, ang in dirs:
            xy, _ = nodes.place(t.xy + polar(ang, t.radius * 1.1), t.unit, rng)
            sites.append((f"{t.zh}镇{dz}侧地块", "township land", int(rng.integers(80, 121)), xy,
                          t.unit))
    count: dict[int, int] = {}
    inner = geo.core.buffer(-250)
    g = np.arange(-7040, 7041, 640.0)  # a 640 m lattice with ~90 m jitter
    a, b = np.meshgrid(g, g)
    lattice = np.column_stack([a.ravel(), b.ravel()]) + rng.normal(0, 90, (a.size, 2))
    for p in lattice:
        if not inner.contains(Point(p)) or geo.river_dist(*p) < 300:
            continue
        u = unit_at(units, p)
        xy, _ = nodes.place(p, u, rng)
        count[u] = count.get(u, 0) + 1
        cost = int(np.clip(100 + 200 * math.exp(-np.hypot(*p) / 3000) + rng.normal(0, 20),
                           100, 300))
        sites.append((f"{units[u].zh}社区用房{count[u]:02d}", "community building", cost, xy, u))
    return [{"id": f"S{n + 1:04d}", "name": s[0], "site_type": s[1], "fixed_cost_wan": s[2],
             "xy": s[3], "unit": s[4]} for n, s in enumerate(sites)]


# =========================================================================== writers
def gcj(xy: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Return true WGS-84 lon/lat and their GCJ-02 counterparts for metric points."""
    lon, lat = to_lonlat(np.asarray(xy))
    glon, glat = wgs84_to_gcj02(lon, lat)
    return lon, lat, glon, glat


def write_csv(path: Path, header, rows, bom: bool = True) -> None:
    """CSV as Excel writes it (UTF-8 with BOM, CRLF) unless bom=False (plain, LF)."""
    with open(path, "w", encoding="utf-8-sig" if bom else "utf-8", newline="") as f:
        w = csv.writer(f, lineterminator="\r\n" if bom else "\n")
        w.writerow(header)
        w.writerows(rows)


def write_boundaries(path: Path, units: list[Unit]) -> None:
    """GeoJSON FeatureCollection, one feature per line, 6-decimal coordinates."""
    def ring(r):
        return [[round(x, 6), round(y, 6)] for x, y in r.coords]

    lines = ['{"type": "FeatureCollection", "name": "qingshan_synthetic_townships", '
             '"features": [']
    feats = []
    for u in sorted(units, key=lambda u: u.code):
        d = DISTRICTS[u.district]
        geom = {"type": "Polygon",
                "coordinates": [ring(u.poly_ll.exterior)] + [ring(i) for i in u.poly_ll.interiors]}
        props = {"code": u.code, "name": u.zh, "name_en": u.en, "level": u.level,
                 "district_code": d[0], "district_name": d[1], "district_name_en": d[2]}
        feats.append(json.dumps({"type": "Feature", "properties": props, "geometry": geom},
                                ensure_ascii=False))
    lines.append(",\n".join(feats))
    lines.append("]}")
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")


REGION_TOML = """name = "Qingshan (synthetic demo city)"
name_zh = "青山市（虚构示例）"
[boundaries]
path = "boundaries.geojson"
code = "code"
name = "name"
[population]
path = "population.tif"
[facilities]
path = "facilities.csv"
crs = "gcj02"
[candidates]
path = "candidates.csv"
crs = "gcj02"
id = "id"
[network]
path = "roads.osm.bz2"
[demand_layers.age65]
path = "population_65plus.tif"
name = "residents aged 65 and over"
name_zh = "65岁及以上居民"
"""


# =========================================================================== checks
class _OsmCounter(osmium.SimpleHandler):
    """Count nodes and ways with pyosmium (a second, independent reader)."""

    def __init__(self):
        super().__init__()
        self.nodes = self.ways = 0

    def node(self, _n):
        """Count a node."""
        self.nodes += 1

    def way(self, _w):
        """Count a way."""
        self.ways += 1


def check_network(path: Path) -> dict:
    """Load the file with osmnx and pyosmium; measure connectivity and edges per class."""
    g = ox.graph_from_xml(path, simplify=True, retain_all=True)
    g.remove_nodes_from(list(nx.isolates(g)))      # place nodes: in no way, not roads
    comps = sorted((len(c) for c in nx.weakly_connected_components(g)), reverse=True)
    edges: dict[str, int] = {}
    for _u, _v, hw in g.edges(data="highway"):
        key = hw if isinstance(hw, str) else "+".join(sorted(set(hw)))
        edges[key] = edges.get(key, 0) + 1
    counter = _OsmCounter()
    counter.apply_file(str(path))
    return {"nodes": g.number_of_nodes(), "edges": g.number_of_edges(),
            "components": len(comps), "largest_share": comps[0] / g.number_of_nodes(),
            "edges_by_class": edges, "osmium": (counter.nodes, counter.ways)}


def check_units(units: list[Unit], outline_ll) -> None:
    """Assert that the units are valid polygons tiling the outline: no gaps, no overlaps."""
    total = sum(u.poly_ll.area for u in units)
    assert abs(total - outline_ll.area) < 1e-10, (total, outline_ll.area)  # < ~1 m²
    assert outline_ll.geom_type == "Polygon" and not outline_ll.interiors
    polys = [u.poly_ll for u in units]
    for a, b in zip(*shapely.STRtree(polys).query(polys, predicate="intersects"), strict=True):
        if a < b:
            inter = polys[a].intersection(polys[b], grid_size=GRID)
            assert inter.area == 0.0, (units[a].zh, units[b].zh, inter.area)


def check_sites(rows: list[dict], lonlat: np.ndarray, units: list[Unit], nodes: NodeIndex,
                what: str) -> None:
    """Assert that every site lies inside its unit and within 50 m of a road node."""
    for (x, y), r in zip(lonlat, rows, strict=True):
        assert units[r["unit"]].poly_ll.contains(Point(x, y)), (what, r["name"])
    d, _ = nodes.all_tree.query(np.array([r["xy"] for r in rows]))
    assert d.max() <= 50.0, (what, d.max())


def area_km2(geom_ll) -> float:
    """Return the area of a WGS-84 geometry in km² (Lambert azimuthal equal-area)."""
    return shapely.transform(geom_ll, lambda c: np.column_stack(
        TO_AREA.transform(c[:, 0], c[:, 1]))).area / 1e6


# =========================================================================== main
def write_sites(facs: list[dict], cands: list[dict]) -> dict:
    """Write the facility, truth and candidate CSVs; return the WGS-84 positions."""
    lon, lat, glon, glat = gcj(np.array([f["xy"] for f in facs]))
    write_csv(OUT / "facilities.csv",
              ["id", "name", "name_en", "type", "beds", "lon", "lat", "address"],
              [[f["id"], f["name"], f["name_en"], f["type"],
                "" if f["beds"] is None else f["beds"], f"{glon[k]:.6f}", f"{glat[k]:.6f}",
                f["address"]] for k, f in enumerate(facs)])
    write_csv(OUT / "facilities_wgs84_truth.csv", ["id", "lon", "lat"],
              [[f["id"], f"{lon[k]:.8f}", f"{lat[k]:.8f}"] for k, f in enumerate(facs)],
              bom=False)
    clon, clat, cglon, cglat = gcj(np.array([c["xy"] for c in cands]))
    write_csv(OUT / "candidates.csv",
              ["id", "name", "site_type", "fixed_cost_wan", "lon", "lat"],
              [[c["id"], c["name"], c["site_type"], c["fixed_cost_wan"], f"{cglon[k]:.6f}",
                f"{cglat[k]:.6f}"] for k, c in enumerate(cands)])
    return {"facilities": np.column_stack([lon, lat]), "candidates": np.column_stack([clon, clat])}


def main(argv: list[str] | None = None) -> None:
    """Build every layer, write the files, check invariants, print the summary."""
    import argparse
    global OUT
    ap = argparse.ArgumentParser(description="Rebuild the synthetic demo region.")
    ap.add_argument("--out", type=Path, default=OUT, help="output folder (default: beside this script)")
    OUT = ap.parse_args(argv).out
    OUT.mkdir(parents=True, exist_ok=True)
    t0 = time.perf_counter()
    root = np.random.default_rng(SEED)
    rngs = dict(zip(LAYERS, root.spawn(len(LAYERS)), strict=True))

    geo = make_geography(rngs)
    make_villages(geo, rngs["villages"])
    units = make_units(geo, rngs["admin"])

    net, net_stats = build_roads(geo, rngs["roads"])
    node_xy, ways = net.finalize(rngs["jitter"])
    roads_path = OUT / "roads.osm.bz2"
    places = place_nodes(geo)
    roads_path.write_bytes(bz2.compress(osm_xml(node_xy, ways, places), 9))

    popr = build_population(geo, units, rngs["population"])
    write_population(OUT / "population.tif", popr)
    write_age65(OUT / "population_65plus.tif", popr)
    write_boundaries(OUT / "boundaries.geojson", units)

    nodes = NodeIndex(node_xy, ways, units, geo)
    facs = build_facilities(geo, units, nodes, popr, rngs["facilities"])
    cands = build_candidates(geo, units, nodes, rngs["candidates"])
    lonlat = write_sites(facs, cands)
    (OUT / "region.toml").write_text(REGION_TOML, encoding="utf-8")

    # self-checks
    total_pop = float(popr["per_unit"].sum())
    assert 0.8e6 <= total_pop <= 1.2e6, total_pop
    assert 15000 <= len(node_xy) <= 35000, len(node_xy)
    check_units(units, popr["outline_ll"])
    check_sites(facs, lonlat["facilities"], units, nodes, "facility")
    check_sites(cands, lonlat["candidates"], units, nodes, "candidate")
    net_check = check_network(roads_path)
    assert net_check["largest_share"] > 0.98, net_check["largest_share"]
    assert net_check["osmium"] == (len(node_xy) + len(places), len(ways)), net_check["osmium"]

    summary = summarise({"geo": geo, "units": units, "popr": popr, "net_stats": net_stats,
                         "net_check": net_check, "facs": facs, "cands": cands,
                         "node_xy": node_xy, "ways": ways})
    write_readme(OUT / "README.md", summary)
    sizes = {f: (OUT / f).stat().st_size for f in OUTPUT_FILES}
    assert sum(sizes.values()) <= MAX_TOTAL_BYTES, sizes
    print(summary["text"])
    print("\nFiles:")
    for f in OUTPUT_FILES:
        digest = hashlib.sha256((OUT / f).read_bytes()).hexdigest()
        print(f"  {f:28s} {sizes[f] / 1024:8.1f} KiB  sha256 {digest}")
    print(f"  total {sum(sizes.values()) / 1024 / 1024:.2f} MiB; "
          f"built in {time.perf_counter() - t0:.1f} s")


def _unit_table(ctx: dict) -> tuple[list[str], np.ndarray]:
    """Markdown rows: area and population per unit; also returns population per district."""
    units, per_unit = ctx["units"], ctx["popr"]["per_unit"]
    out = ["| code | unit | level | district | area km² | population |",
           "|---|---|---|---|---:|---:|"]
    dist_pop = np.zeros(len(DISTRICTS))
    for k, u in sorted(enumerate(units), key=lambda ku: ku[1].code):
        dist_pop[u.district] += per_unit[k]
        out.append(f"| {u.code} | {u.zh} {u.en} | {u.level} | {DISTRICTS[u.district][1]} | "
                   f"{area_km2(u.poly_ll):,.1f} | {per_unit[k]:,.0f} |")
    return out, dist_pop


def _road_table(ctx: dict) -> list[str]:
    """Markdown rows: ways, nodes, km, bridges, one-ways and osmnx edges per highway class."""
    rstats, net_check = road_stats(ctx["node_xy"], ctx["ways"]), ctx["net_check"]
    out = ["| highway | ways | nodes | km | bridge ways | oneway ways | osmnx edges |",
           "|---|---:|---:|---:|---:|---:|---:|"]
    for hw, s in rstats.items():
        out.append(f"| {hw} | {s['ways']} | {s['nodes']} | {s['km']:.1f} | {s['bridges']} | "
                   f"{s['oneway']} | {net_check['edges_by_class'].get(hw, 0)} |")
    mixed = {k: v for k, v in net_check["edges_by_class"].items() if k not in rstats}
    out += ["", f"osmnx {ox.__version__} `graph_from_xml(simplify=True, retain_all=True)`: "
            f"{net_check['nodes']:,} nodes, {net_check['edges']:,} directed edges, "
            f"{net_check['components']} weakly connected component(s), the largest holds "
            f"{100 * net_check['largest_share']:.2f} % of the nodes"
            + (f"; edges merged across classes: {mixed}" if mixed else "")]
    return out


def _facility_tables(ctx: dict, dist_pop: np.ndarray) -> list[str]:
    """Markdown rows: facilities and beds by type, beds per 1,000 residents by district."""
    facs = ctx["facs"]
    out = ["| type | count | beds |", "|---|---:|---:|"]
    for typ in (T_TERTIARY, T_SECONDARY, T_TCM, T_CHSC, T_CHS, T_THC, T_RC, T_VC, T_INS, T_EMS):
        rows = [f for f in facs if f["type"] == typ]
        b = sum(f["beds"] or 0 for f in rows)
        out.append(f"| {typ} | {len(rows)} | {b or ''} |")
    out += [f"| **total** | {len(facs)} | {sum(f['beds'] or 0 for f in facs)} |", "",
            "| district | population | beds | beds per 1,000 |", "|---|---:|---:|---:|"]
    ratios = []
    for i, d in enumerate(DISTRICTS):
        b = sum(f["beds"] or 0 for f in facs if f["district"] == i)
        ratios.append(1000 * b / dist_pop[i])
        out.append(f"| {d[0]} {d[1]} {d[2]} | {dist_pop[i]:,.0f} | {b} | {ratios[-1]:.2f} |")
    assert min(ratios) < 7 < max(ratios), ratios
    return out


def summarise(ctx: dict) -> dict:
    """Compute the summary figures and format them as Markdown."""
    geo, popr, node_xy, ways = ctx["geo"], ctx["popr"], ctx["node_xy"], ctx["ways"]
    outline_ll = popr["outline_ll"]
    b = outline_ll.bounds
    n_hill = sum(v.hill for v in geo.villages)
    out = [f"Region area: {area_km2(outline_ll):,.0f} km² (bounds {b[0]:.3f}–{b[2]:.3f} E, "
           f"{b[1]:.3f}–{b[3]:.3f} N)", "",
           f"Population total: {popr['per_unit'].sum():,.0f} = urban core {CORE_POP:,} + "
           f"towns {sum(t.pop for t in geo.towns):,} + {len(geo.villages)} villages "
           f"{sum(v.pop for v in geo.villages):,} ({n_hill} of them in the hills) + "
           f"dispersed {SCATTER_POP:,}. People in all-water river cells: "
           f"{popr['river_cell_people']:.0f} ({popr['river_cells']} cells).", ""]
    rows, dist_pop = _unit_table(ctx)
    out += rows
    ns = ctx["net_stats"]
    out += ["", f"Road network: {len(node_xy):,} OSM nodes, {len(ways):,} ways; "
            f"{ns['interchanges']} expressway interchanges; {ns['chain_villages']} villages "
            f"on tertiary roads, the others on unclassified roads (longest "
            f"{ns['connector_max_m'] / 1000:.1f} km) or, in the hills, tracks.", ""]
    out += _road_table(ctx)
    out += [""] + _facility_tables(ctx, dist_pop) + [""]
    types: dict[str, int] = {}
    for c in ctx["cands"]:
        types[c["site_type"]] = types.get(c["site_type"], 0) + 1
    out.append(f"Candidate sites: {len(ctx['cands'])} ("
               + ", ".join(f"{k}: {v}" for k, v in types.items()) + ")")
    bridges = [(tags, node_xy[np.array(ids) - 1]) for ids, tags in ways
               if tags.get("bridge") == "yes" and not tags["highway"].startswith("motorway")]
    in_core = sum(any(geo.core.contains(Point(p)) for p in xy) for _t, xy in bridges)
    return {"text": "\n".join(out), "bridges_core": in_core,
            "bridges_country": len(bridges) - in_core}


OUTPUT_FILES = ["roads.osm.bz2", "population.tif", "population_65plus.tif",
                "boundaries.geojson", "facilities.csv",
                "facilities_wgs84_truth.csv", "candidates.csv", "README.md", "region.toml"]

README_FILES = [
    ("roads.osm.bz2",
     "OSM XML 0.6 road network (`generator=\"geoplan demo\"`; every node and way has "
     f"`version=\"1\"` and `timestamp=\"{TIMESTAMP}\"`): G50 expressway (dual carriageway, "
     "`motorway_link` ramps), national/provincial roads (`trunk`/`primary`), county ring "
     "(`secondary`), township roads (`tertiary`), urban grid, town grids, village roads "
     "(`unclassified`, `residential` loops, `track`). River crossings are separate ways "
     "tagged `bridge=yes` + `layer=1`; some core streets are `oneway=yes`. Named "
     "`place=city/town/village` nodes (with `name:en` and `population`), in no way, name "
     "gap areas and label the offline roads basemap.",
     "WGS-84, 7 decimals"),
    ("population_65plus.tif",
     "Residents aged 65 and over on the same grid (a `[demand_layers.age65]` of the "
     "manifest): the share rises from 11 % in the city to 22 % at the county's edge; "
     "never more than the cell's total.", "WGS-84"),
    ("population.tif",
     "WorldPop-like population grid: float32 **people per cell**, 3 arc-second cells "
     "(1/1200°), EPSG:4326, DEFLATE; nodata −99999 outside the region, 0 on empty land "
     "inside; tags `UNITS`, `DESCRIPTION`.", "WGS-84"),
    ("boundaries.geojson",
     "14 township-level units (4 街道 subdistricts + 10 镇 towns) in 4 districts (区); they "
     "tile the region exactly (all snapped together to a 1e-6° grid). Properties `code` "
     "(9 digits, fake province prefix 99), `name`, `name_en`, `level`, `district_code`, "
     "`district_name`, `district_name_en`.", "WGS-84, 6 decimals"),
    ("facilities.csv",
     "Health facilities, UTF-8 with BOM and CRLF (as Excel writes): "
     "`id,name,name_en,type,beds,lon,lat,address`; `type` is the Chinese label; `beds` only "
     "for hospitals and township/regional centres.", "**GCJ-02**, 6 decimals"),
    ("facilities_wgs84_truth.csv",
     "`id,lon,lat`: the true positions the GCJ-02 coordinates were computed from (for "
     "tests of the conversion on read).", "WGS-84, 8 decimals"),
    ("candidates.csv",
     "Candidate sites for new facilities, UTF-8 with BOM: "
     "`id,name,site_type,fixed_cost_wan,lon,lat` (`fixed_cost_wan` in 万元).",
     "**GCJ-02**, 6 decimals"),
    ("region.toml", "Manifest read by `geoplan inspect data/demo`.", ""),
    ("generate_demo.py", "The generator (this folder's only source of truth).", ""),
]


def write_readme(path: Path, summary: dict) -> None:
    """Write README.md: the synthetic warning, the files, how they were made, the figures."""
    files = "\n".join(f"| `{f}` | {what} | {crs} |" for f, what, crs in README_FILES)
    text = f"""# Demo data: 青山市 Qingshan (synthetic) — NOT A REAL PLACE

> **Everything in this folder is synthetic.** Qingshan (青山市), its districts, towns,
> villages, roads, river, population and health facilities are invented by
> `generate_demo.py`. The region is placed near 114.30 E, 30.05 N only so that the data
> behave like data from central China (in particular the GCJ-02 offset); it does not
> describe anything that exists there. Do not use it for any real decision.

The files imitate the formats of real inputs so that geoplan's demos, notebooks and tests
run offline: `geoplan inspect data/demo` reads them through `region.toml`.

## Files

| file | what | coordinates |
|---|---|---|
{files}

Coordinate systems: the CSV files are in **GCJ-02** (as exported from Gaode/AutoNavi or
Tencent maps); the GeoJSON, the OSM file and the GeoTIFF are in **WGS-84** (EPSG:4326).

## How it was made

`python data/demo/generate_demo.py` (from the repository root) rebuilds every file in
well under a minute. It is deterministic: all randomness comes from
`numpy.random.default_rng({SEED})` (one spawned child generator per layer), so two runs
give byte-identical files. Geometry is built in a local transverse Mercator frame in
metres and converted to WGS-84 on writing; the CSV coordinates are then shifted to GCJ-02
with `geoplan.inputs.chinacrs.wgs84_to_gcj02`. The module docstring of the script explains the
design of each layer. The script checks its own invariants (population between 0.8 and
1.2 million, units tile the outline, facilities and candidates inside their unit and within
50 m of a road node, osmnx loads the network with > 98 % of the nodes in the largest weakly
connected component, total size ≤ 15 MB) and prints the figures below.

Layout: an urban core (radius ≈ 5.6 km, 600,000 people, density falling off from the
centre) split by a 220 m wide river flowing west→east ({summary['bridges_core']} bridges in
the core, {summary['bridges_country']} in the countryside on the county ring road); ten towns
11–16 km out; 150 villages; a hilly, sparsely populated south-western corner reached only
by tracks, where some people are far from any service. The four districts (区) are angular
sectors, each made of one urban subdistrict (街道) and two or three towns (镇). Both
tertiary hospitals are in 青山区, so beds per 1,000 residents differ strongly between
districts; the medical-insurance service points cluster in the
centre, so the 15-minute circle is visibly incomplete.

## Summary figures

{summary['text']}
"""
    path.write_text(text, encoding="utf-8")


if __name__ == "__main__":
    main()
